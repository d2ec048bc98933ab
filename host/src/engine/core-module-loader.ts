/**
 * Loads core-module plugins (AssemblyScript, or any language following
 * `sdk/assemblyscript/ABI.md`) with `@assemblyscript/loader` and adapts them
 * to the {@link InThreadProcessorInstance} shape.
 *
 * A call copies the input batch once, straight into the guest's input buffer
 * (`weir_alloc`), and decodes the output once from the guest's output buffer:
 * one packed buffer in, one out. Host functions that return bytes park them
 * as "pending" and return their length; the guest copies them with `take`.
 */
import { instantiate } from '@assemblyscript/loader';
import { errorKindOf } from '../linker/host-context.js';
import type { HostContext, PluginLogLevel } from '../linker/host-context.js';
import { coreImportCapability, denials, NO_GRANTS, wasiCoreImports } from '../linker/capabilities.js';
import { quotaReporter } from '../linker/directory-quota.js';
import type { CapabilityGrants } from '../linker/capabilities.js';
import type { AggregatorInstance, InThreadProcessorInstance, PluginKind } from '../sandbox/plugin.js';
import { CallGuard } from '../sandbox/call-guard.js';
import { InstanceMeter } from '../sandbox/meter.js';
import type { InstanceLimits } from '../sandbox/limits.js';
import type { PluginErrorKind } from '../sandbox/call-guard.js';
import { decodeBatch, encodeBatchInto, encodedBatchSize } from '../records/batch-codec.js';
import { WeirError, messageOf } from '../errors/errors.js';
import { boundedUtf8 } from '../errors/bounded-text.js';
import { GuestFaultSlot, guestFaultOf } from '../errors/guest-fault.js';
import { instantiationError } from '../errors/instantiation-error.js';
import { decodeHttpRequest, encodeHttpResponse } from '../linker/http/packed-http.js';
import { chargedCoreImports } from '../linker/host-call-fuel.js';
import { isOutOfFuelTrap } from '../sandbox/instrument/instrument.js';

/** The ABI version the host speaks. */
export const CORE_ABI_VERSION = 1;

const AGGREGATOR_EXPORTS = ['weir_accumulate', 'weir_merge', 'weir_emit'];
const REQUIRED_EXPORTS = ['memory', 'weir_abi_version', 'weir_alloc', 'weir_configure', 'weir_process', 'weir_output_ptr', 'weir_output_len'];
const HOST_IMPORTS = new Set([
  'weir.log', 'weir.now', 'weir.config_get', 'weir.state_get', 'weir.state_set', 'weir.state_delete',
  'weir.counter_add', 'weir.gauge_set', 'weir.call_service', 'weir.service_error_kind', 'weir.http_send', 'weir.take',
  'env.abort', 'env.trace', 'env.seed',
]);
const LEVELS: readonly PluginLogLevel[] = ['trace', 'debug', 'info', 'warn', 'error'];
const STATUS_KINDS: Readonly<Record<number, PluginErrorKind>> = { 1: 'transient', 2: 'invalid-input', 3: 'fatal' };
const KIND_STATUS: Readonly<Record<PluginErrorKind, number>> = { transient: 1, 'invalid-input': 2, fatal: 3 };

interface CoreExports {
  memory: WebAssembly.Memory;
  weir_abi_version(): number;
  weir_alloc(size: number): number;
  weir_configure(ptr: number, len: number): number;
  weir_process(ptr: number, len: number): number;
  weir_accumulate(ptr: number, len: number): number;
  weir_merge(ptr: number, len: number): number;
  weir_emit(ptr: number, len: number): number;
  weir_output_ptr(): number;
  weir_output_len(): number;
}

/** Problems that keep a core module from filling a node of `kind`; empty when it fits. */
export function checkCoreModuleWorld(module: WebAssembly.Module, kind: PluginKind, grants: CapabilityGrants = NO_GRANTS): string[] {
  if (kind !== 'processor' && kind !== 'aggregator') return ['core modules can fill processor nodes only (plain or windowed); build the plugin as a component (JavaScript or Rust) for a source, sink or service'];
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const required = kind === 'aggregator' ? [...REQUIRED_EXPORTS.filter((e) => e !== 'weir_process'), ...AGGREGATOR_EXPORTS] : REQUIRED_EXPORTS;
  const missing = required.filter((name) => !exported.has(name)).map((name) => `"${name}"`);
  const problems = missing.length === 0 ? [] : [
    `missing export${missing.length > 1 ? 's' : ''} ${missing.join(', ')} required by the core-module ABI for ${kind === 'aggregator' ? 'aggregators' : 'processors'} (sdk/assemblyscript/ABI.md)`,
  ];
  for (const { module: from, name } of WebAssembly.Module.imports(module)) {
    if (!coreImportCapability(from, name) && !HOST_IMPORTS.has(`${from}.${name}`)) {
      problems.push(`imports "${from}"."${name}", which the host does not offer (it offers ${[...HOST_IMPORTS].join(', ')})`);
    }
  }
  return [...problems, ...coreCapabilityProblems(module, grants)];
}

/** The WASI imports of a core module that `grants` does not cover. */
export function coreCapabilityProblems(module: WebAssembly.Module, grants: CapabilityGrants): string[] {
  return denials(WebAssembly.Module.imports(module).map(({ module: from, name }) => [`"${from}"."${name}"`, coreImportCapability(from, name)] as const), grants);
}

/** Instantiates a core-module processor or aggregator bound to `host`; `module` is already instrumented for `limits`. */
export async function instantiateCorePlugin(module: WebAssembly.Module, kind: 'processor', host: HostContext, limits: InstanceLimits): Promise<InThreadProcessorInstance>;
export async function instantiateCorePlugin(module: WebAssembly.Module, kind: 'processor' | 'aggregator', host: HostContext, limits: InstanceLimits): Promise<InThreadProcessorInstance | AggregatorInstance>;
export async function instantiateCorePlugin(module: WebAssembly.Module, kind: 'processor' | 'aggregator', host: HostContext, limits: InstanceLimits): Promise<InThreadProcessorInstance | AggregatorInstance> {
  const text = new TextDecoder();
  const encoder = new TextEncoder();
  let memory: WebAssembly.Memory | undefined;
  const wasi = wasiCoreImports(host.capabilities, () => live(), quotaReporter(host));
  let pending: Uint8Array | undefined;
  /**
   * The instance's memory. A start function runs before the instance exports
   * it, so a host call that passes bytes cannot come from there (without
   * this, it failed as "cannot read properties of undefined").
   */
  const live = (): WebAssembly.Memory => {
    if (memory) return memory;
    throw new WeirError('WEIR_PLUGIN_LOAD_FAILED', `${host.plugin} called a host function that passes bytes (log, config, state, metrics, services, HTTP, WASI) from its start function (top-level code), before its memory exists for the host; make that call in configure or later`, { node: host.node, plugin: host.plugin });
  };
  const bytes = (ptr: number, len: number): Uint8Array => new Uint8Array(live().buffer, ptr, len).slice();
  const string = (ptr: number, len: number): string => text.decode(new Uint8Array(live().buffer, ptr, len));
  /** Guest text the host only passes on (log lines, error messages): never decoded whole, cut with a marker. */
  const message = (ptr: number, len: number): string => boundedUtf8(new Uint8Array(live().buffer, ptr, len));
  const faults = new GuestFaultSlot();
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
        if (pending) new Uint8Array(live().buffer, ptr, pending.byteLength).set(pending);
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

  const meter = new InstanceMeter(limits);
  let exports: CoreExports;
  try {
    const loaded = await instantiate<Record<string, unknown>>(module, { ...chargedCoreImports(imports, meter, () => memory), ...meter.imports() });
    meter.attach(loaded.instance);
    exports = loaded.instance.exports as unknown as CoreExports;
  } catch (error) {
    wasi.close();
    if (isOutOfFuelTrap(error) || (error instanceof WeirError && error.code === 'WEIR_LIMIT_CPU')) {
      throw instantiationError(new WeirError('WEIR_LIMIT_CPU', `${host.plugin} used up its CPU budget while instantiating (start function): all ${limits.fuel} fuel consumed (raise limits.fuel if the work is legitimate)`, { node: host.node, plugin: host.plugin, limit: 'fuel', fuel: String(limits.fuel) }, { cause: error }), host, faults);
    }
    throw instantiationError(error, host, faults);
  }
  memory = exports.memory;
  const guard = new CallGuard(host.node, host.plugin, meter, faults);
  // The guest's first export call, under the same guard (fuel, traps) as every other.
  let version: number;
  try {
    version = guard.run('weir_abi_version', () => exports.weir_abi_version());
  } catch (error) {
    guard.close();
    wasi.close();
    throw instantiationError(error, host, faults);
  }
  if (version !== CORE_ABI_VERSION) {
    guard.close();
    wasi.close();
    throw new WeirError('WEIR_PLUGIN_WORLD_MISMATCH', `${host.plugin} follows core-module ABI version ${version}; the host speaks version ${CORE_ABI_VERSION}`, { node: host.node, plugin: host.plugin });
  }

  // A closed instance lets go of its exports and memory (see component-loader.ts): closed instances stay counted, not alive.
  const close = () => {
    guard.close();
    wasi.close();
    exports = RELEASED;
    memory = undefined;
    pending = undefined;
  };
  /** Copies `input` into the guest, calls `fn`, and returns the guest's output bytes (a view: read before the next call). */
  const call = (fn: 'weir_configure' | 'weir_process' | 'weir_accumulate' | 'weir_merge' | 'weir_emit', size: number, write: (target: Uint8Array) => void): Uint8Array => {
    const ptr = exports.weir_alloc(size);
    write(new Uint8Array(memory!.buffer, ptr, size));
    const status = exports[fn](ptr, size);
    const length = exports.weir_output_len();
    if (length > limits.maxOutputBytes) {
      throw new WeirError('WEIR_LIMIT_OUTPUT', `${host.plugin} returned ${length} bytes from ${fn}, above limits.maxOutputBytes (${limits.maxOutputBytes})`, { node: host.node, plugin: host.plugin, function: fn, limit: 'output', bytes: length });
    }
    const output = new Uint8Array(memory!.buffer, exports.weir_output_ptr(), length);
    if (status !== 0) {
      const kind = STATUS_KINDS[status];
      if (!kind) throw new WeirError('WEIR_PLUGIN_BAD_OUTPUT', `returned unknown status ${status}`);
      throw { tag: kind, val: boundedUtf8(output) };
    }
    return output;
  };

  const configure = (config: string) =>
    guard.run('weir_configure', () => {
      const json = encoder.encode(config);
      call('weir_configure', json.byteLength, (target) => target.set(json));
    });
  if (kind === 'aggregator') return coreAggregator(call, guard, meter, configure, close, limits.maxOutputBytes);

  return {
    kind: 'processor',
    configure,
    process: (batch) =>
      guard.run('weir_process', () => decodeBatch(call('weir_process', encodedBatchSize(batch), (target) => encodeBatchInto(batch, target)), limits.maxOutputBytes)),
    usage: () => meter.usage(),
    close,
  };
}

type CoreCall = (fn: 'weir_accumulate' | 'weir_merge' | 'weir_emit', size: number, write: (target: Uint8Array) => void) => Uint8Array;

const NO_BYTES = 0xffffffff;

/** What a closed core instance's exports are replaced with; its guard refuses calls first. */
const RELEASED = {} as CoreExports;

/**
 * The aggregator exports of the core-module ABI (sdk/assemblyscript/ABI.md):
 * inputs are length-prefixed byte strings (0xFFFFFFFF for none) and, for
 * `accumulate`, a packed batch of one record; outputs are the accumulator or
 * a packed batch.
 */
function coreAggregator(call: CoreCall, guard: CallGuard, meter: InstanceMeter, configure: (config: string) => void, close: () => void, maxOutputBytes: number): AggregatorInstance {
  const withLength = (view: DataView, at: number, bytes: Uint8Array | undefined): number => {
    view.setUint32(at, bytes === undefined ? NO_BYTES : bytes.byteLength, true);
    return at + 4 + (bytes?.byteLength ?? 0);
  };
  return {
    kind: 'aggregator',
    configure,
    accumulate: (accumulator, record) =>
      guard.run('weir_accumulate', () => {
        const size = 4 + (accumulator?.byteLength ?? 0) + encodedBatchSize([record]);
        return call('weir_accumulate', size, (target) => {
          const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
          const at = withLength(view, 0, accumulator);
          if (accumulator) target.set(accumulator, 4);
          encodeBatchInto([record], target.subarray(at));
        }).slice();
      }),
    merge: (a, b) =>
      guard.run('weir_merge', () =>
        call('weir_merge', 8 + a.byteLength + b.byteLength, (target) => {
          const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
          withLength(view, 0, a);
          target.set(a, 4);
          withLength(view, 4 + a.byteLength, b);
          target.set(b, 8 + a.byteLength);
        }).slice(),
      ),
    emit: (key, window, accumulator) =>
      guard.run('weir_emit', () => {
        const size = 4 + (key?.byteLength ?? 0) + 16 + accumulator.byteLength;
        return decodeBatch(call('weir_emit', size, (target) => {
          const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
          let at = withLength(view, 0, key);
          if (key) target.set(key, 4);
          view.setBigInt64(at, window.start, true);
          view.setBigInt64(at + 8, window.end, true);
          at += 16;
          target.set(accumulator, at);
        }), maxOutputBytes);
      }),
    usage: () => meter.usage(),
    close,
  };
}
