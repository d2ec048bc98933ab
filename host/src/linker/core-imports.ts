/**
 * Adapts a {@link HostContext} to the imports of a core-module plugin
 * (`sdk/assemblyscript/ABI.md`), as component-imports.ts does for components:
 * the `weir` host functions, `env`, and the granted WASI preview 1 functions.
 *
 * Host functions that return bytes park them as "pending" and return their
 * length; the guest copies them with `take`.
 */
import { errorKindOf } from './host-context.js';
import type { HostContext, PluginLogLevel } from './host-context.js';
import { wasiCoreImports } from './capabilities.js';
import { quotaReporter } from './directory-quota.js';
import type { DirectoryUsages } from './directory-quota.js';
import { decodeHttpRequest, encodeHttpResponse } from './http/packed-http.js';
import type { PluginErrorKind } from '../sandbox/call-guard.js';
import { messageOf } from '../errors/errors.js';
import { boundedUtf8 } from '../errors/bounded-text.js';
import { guestFaultOf } from '../errors/guest-fault.js';
import type { GuestFaultSlot } from '../errors/guest-fault.js';

/** The host functions a core module may import, as `module.name`. */
export const CORE_HOST_IMPORTS: ReadonlySet<string> = new Set([
  'weir.log', 'weir.now', 'weir.config_get', 'weir.state_get', 'weir.state_set', 'weir.state_delete',
  'weir.counter_add', 'weir.gauge_set', 'weir.call_service', 'weir.service_error_kind', 'weir.http_send', 'weir.take',
  'env.abort', 'env.trace', 'env.seed',
]);

/** The status a failed host call returns to the guest for each error kind (the core-module ABI). */
const KIND_STATUS: Readonly<Record<PluginErrorKind, number>> = { transient: 1, 'invalid-input': 2, fatal: 3 };

const LEVELS: readonly PluginLogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];

/** The imports of one core-module instance, and what they hold. */
export interface CoreImports {
  readonly imports: WebAssembly.Imports;
  /** Closes the granted files and drops parked bytes. */
  close(): void;
}

/**
 * The imports of `module` bound to `host`. `memory` is the instance's memory
 * (read on each call, once it is instantiated); granted folders' quotas
 * count in `directories` (the thread's); guest fault reports go to `faults`.
 */
export function coreImports(module: WebAssembly.Module, host: HostContext, directories: DirectoryUsages, faults: GuestFaultSlot, memory: () => WebAssembly.Memory): CoreImports {
  const text = new TextDecoder();
  const encoder = new TextEncoder();
  const wasi = wasiCoreImports(host.capabilities, memory, directories, quotaReporter(host));
  let pending: Uint8Array | undefined;
  const bytes = (ptr: number, len: number): Uint8Array => new Uint8Array(memory().buffer, ptr, len).slice();
  const string = (ptr: number, len: number): string => text.decode(new Uint8Array(memory().buffer, ptr, len));
  /** Guest text the host only passes on (log lines, error messages): never decoded whole, cut with a marker. */
  const message = (ptr: number, len: number): string => boundedUtf8(new Uint8Array(memory().buffer, ptr, len));
  /** The WIT error case of the last failed `call_service` (0 after a success). */
  let serviceErrorKind = 0;
  const park = (value: Uint8Array | undefined): number => {
    pending = value;
    return value === undefined ? -1 : value.byteLength;
  };

  const imports = {
    weir: {
      log: (level: number, ptr: number, len: number) => {
        const line = message(ptr, len);
        const named = LEVELS[level] ?? 'info';
        const fault = guestFaultOf(named, line);
        if (fault === undefined) host.log(named, line);
        else faults.report(fault);
      },
      now: () => host.now(),
      config_get: (ptr: number, len: number) => {
        const value = host.configValue(string(ptr, len));
        return park(value === undefined ? undefined : encoder.encode(value));
      },
      state_get: (ptr: number, len: number) => park(host.state.get(bytes(ptr, len))),
      state_set: (kp: number, kl: number, vp: number, vl: number) => host.state.set(bytes(kp, kl), bytes(vp, vl)),
      state_delete: (ptr: number, len: number) => host.state.delete(bytes(ptr, len)),
      counter_add: (ptr: number, len: number, delta: bigint) => host.counterAdd(string(ptr, len), delta),
      gauge_set: (ptr: number, len: number, value: number) => host.gaugeSet(string(ptr, len), value),
      call_service: (sp: number, sl: number, mp: number, ml: number, pp: number, pl: number) => {
        try {
          const reply = park(host.callService(string(sp, sl), string(mp, ml), bytes(pp, pl)));
          serviceErrorKind = 0;
          return reply;
        } catch (error) {
          serviceErrorKind = KIND_STATUS[errorKindOf(error)];
          return -1 - park(encoder.encode(messageOf(error)));
        }
      },
      service_error_kind: () => serviceErrorKind,
      http_send: (ptr: number, len: number) => {
        const caller = { node: host.node, plugin: host.plugin };
        try {
          return park(encodeHttpResponse(host.httpSend(decodeHttpRequest(bytes(ptr, len), caller))));
        } catch (error) {
          const message = encoder.encode(messageOf(error));
          const failure = new Uint8Array(1 + message.byteLength);
          failure[0] = KIND_STATUS[errorKindOf(error)];
          failure.set(message, 1);
          return -1 - park(failure);
        }
      },
      take: (ptr: number) => {
        if (pending) new Uint8Array(memory().buffer, ptr, pending.byteLength).set(pending);
        pending = undefined;
      },
    },
    env: {
      trace: (ptr: number) => host.log('debug', `trace at ${ptr}`),
    },
    wasi_snapshot_preview1: wasi.imports,
  };
  // A granted capability's functions this host does not implement answer "nosys" (52) rather than fail to link.
  for (const { module: from, name, kind: importKind } of WebAssembly.Module.imports(module)) {
    if (importKind === 'function' && from === 'wasi_snapshot_preview1' && !(name in wasi.imports)) wasi.imports[name] = () => 52;
  }
  return {
    imports,
    close: () => {
      wasi.close();
      pending = undefined;
    },
  };
}
