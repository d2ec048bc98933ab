/**
 * Adapts a {@link HostContext} to the import object jco's `instantiate`
 * expects: one entry per WIT interface of `weir:plugin`, keyed the way jco
 * names them (package and interface, without the version).
 */
import { errorKindOf } from './host-context.js';
import type { HostContext, PluginLogLevel } from './host-context.js';
import { hasCode, messageOf } from '../errors/errors.js';
import { guestFaultOf } from '../errors/guest-fault.js';
import type { GuestFaultSlot } from '../errors/guest-fault.js';
import { wasiComponentImports } from './capabilities.js';
import type { HttpRequest } from './http/send-request.js';
import { GrantedFiles } from './granted-files.js';
import { quotaReporter } from './directory-quota.js';
import type { DirectoryUsages } from './directory-quota.js';

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

/**
 * Builds the jco import object for one component instance. Granted folders'
 * quotas count in `directories` (the thread's). A log line that reports a
 * guest fault (errors/guest-fault.ts) goes to `faults`, not the log.
 */
export function componentImports(host: HostContext, directories: DirectoryUsages, faults?: GuestFaultSlot): Record<string, Record<string, unknown>> {
  return {
    'weir:plugin/log': {
      log: (level: PluginLogLevel, message: string) => {
        const fault = faults && guestFaultOf(level, message);
        if (fault === undefined) host.log(level, message);
        else faults!.report(fault);
      },
    },
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
    // Refused at load unless the node grants `http`; the grant's hosts are checked per request.
    'weir:plugin/http': {
      send: (request: HttpRequest) => {
        try {
          return host.httpSend(request);
        } catch (error) {
          throw { payload: { tag: errorKindOf(error), val: messageOf(error) } };
        }
      },
    },
    'weir:plugin/types': {},
    ...filesImports(host, directories),
    ...wasiComponentImports(host.capabilities),
  };
}

/** `weir:plugin/files` over the node's directory grants (none granted: refused at load, so absent). */
function filesImports(host: HostContext, directories: DirectoryUsages): Record<string, Record<string, unknown>> {
  if (host.capabilities.filesystem.length === 0) return {};
  const files = new GrantedFiles(host.capabilities.filesystem, quotaReporter(host), directories);
  // jco lowers a thrown value carrying `payload` into the `err` case; a FileError is thrown as that payload.
  const lowered = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A): R => {
    try {
      return fn(...args);
    } catch (error) {
      throw { payload: error };
    }
  };
  return {
    'weir:plugin/files': {
      readFile: lowered((path: string) => files.readFile(path)),
      writeFile: lowered((path: string, data: Uint8Array) => files.writeFile(path, data)),
      appendFile: lowered((path: string, data: Uint8Array) => files.appendFile(path, data)),
      listDir: lowered((path: string) => files.listDir(path)),
      makeDir: lowered((path: string) => files.makeDir(path)),
      removeFile: lowered((path: string) => files.removeFile(path)),
    },
  };
}
