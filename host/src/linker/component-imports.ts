/**
 * Adapts a {@link HostContext} to the import object jco's `instantiate`
 * expects: one entry per WIT interface of `weir:plugin`, keyed the way jco
 * names them (package and interface, without the version).
 */
import type { HostContext, PluginLogLevel } from './host-context.js';
import { hasCode, messageOf } from '../errors/errors.js';
import { wasiComponentImports } from './capabilities.js';

/** The interfaces the host offers to components, as jco names them. */
export const HOST_INTERFACES = [
  'weir:plugin/log',
  'weir:plugin/config',
  'weir:plugin/state',
  'weir:plugin/metrics',
  'weir:plugin/services',
  'weir:plugin/clock',
  'weir:plugin/types',
] as const;

/** Builds the jco import object for one component instance. */
export function componentImports(host: HostContext): Record<string, Record<string, unknown>> {
  return {
    'weir:plugin/log': { log: (level: PluginLogLevel, message: string) => host.log(level, message) },
    'weir:plugin/config': { get: (key: string) => host.configValue(key) },
    'weir:plugin/state': {
      get: (key: Uint8Array) => host.state.get(key),
      set: (key: Uint8Array, value: Uint8Array) => host.state.set(key, value),
      delete: (key: Uint8Array) => host.state.delete(key),
    },
    'weir:plugin/metrics': {
      counterAdd: (name: string, delta: bigint) => host.counterAdd(name, delta),
      gaugeSet: (name: string, value: number) => host.gaugeSet(name, value),
    },
    'weir:plugin/services': {
      callService: (service: string, method: string, payload: Uint8Array) => {
        try {
          return host.callService(service, method, payload);
        } catch (error) {
          // jco lowers a thrown value carrying `payload` into the `err` case.
          const tag = hasCode(error, 'WEIR_SERVICE_NOT_FOUND') ? 'invalid-input' : errorKindOf(error);
          throw { payload: { tag, val: messageOf(error) } };
        }
      },
    },
    'weir:plugin/clock': { now: () => host.now() },
    'weir:plugin/types': {},
    ...wasiComponentImports(host.capabilities),
  };
}

function errorKindOf(error: unknown): 'transient' | 'invalid-input' | 'fatal' {
  const kind = (error as { details?: { kind?: unknown } })?.details?.kind;
  return kind === 'transient' || kind === 'invalid-input' ? kind : 'fatal';
}
