/**
 * Instantiates core-module plugins (AssemblyScript, or any language following
 * `sdk/assemblyscript/ABI.md`) with `@assemblyscript/loader` and adapts them
 * to the {@link InThreadProcessorInstance} shape; their imports come from
 * linker/core-imports.ts.
 *
 * A call copies the input batch once, straight into the guest's input buffer
 * (`weir_alloc`), and decodes the output once from the guest's output buffer:
 * one packed buffer in, one out. `processPacked` skips the record objects on
 * both sides: the packed batch is copied in as it is, and the output, once
 * checked, is copied out as it is.
 */
import { instantiateSync } from '@assemblyscript/loader';
import { coreImports } from '../linker/core-imports.js';
import type { DirectoryUsages } from '../linker/directory-quota.js';
import type { HostContext } from '../linker/host-context.js';
import type { AggregatorInstance, InThreadProcessorInstance } from '../contract/plugin.js';
import { CallGuard } from '../sandbox/call-guard.js';
import { InstanceMeter } from '../sandbox/meter.js';
import type { InstanceLimits } from '../contract/limits.js';
import type { PluginErrorKind } from '../sandbox/call-guard.js';
import { decodeBatch, encodeBatchInto, encodedBatchSize } from '../records/batch-codec.js';
import { checkedPackedOutput } from './packed-output.js';
import { WeirError } from '../errors/errors.js';
import { boundedUtf8 } from '../errors/bounded-text.js';
import { GuestFaultSlot } from '../errors/guest-fault.js';
import { instantiationError } from '../errors/instantiation-error.js';
import { chargedCoreImports } from '../linker/host-call-fuel.js';
import { isOutOfFuelTrap } from '../sandbox/instrument/instrument.js';

/** The ABI version the host speaks. */
export const CORE_ABI_VERSION = 1;

const STATUS_KINDS: Readonly<Record<number, PluginErrorKind>> = { 1: 'transient', 2: 'invalid-input', 3: 'fatal' };

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

/** Instantiates a core-module processor or aggregator bound to `host`; `module` is already instrumented for `limits`; granted folders' quotas count in `directories` (the thread's). */
export async function instantiateCorePlugin(module: WebAssembly.Module, kind: 'processor', host: HostContext, limits: InstanceLimits, directories: DirectoryUsages): Promise<InThreadProcessorInstance>;
export async function instantiateCorePlugin(module: WebAssembly.Module, kind: 'processor' | 'aggregator', host: HostContext, limits: InstanceLimits, directories: DirectoryUsages): Promise<InThreadProcessorInstance | AggregatorInstance>;
export async function instantiateCorePlugin(module: WebAssembly.Module, kind: 'processor' | 'aggregator', host: HostContext, limits: InstanceLimits, directories: DirectoryUsages): Promise<InThreadProcessorInstance | AggregatorInstance> {
  const encoder = new TextEncoder();
  let memory: WebAssembly.Memory | undefined;
  /**
   * The instance's memory. A start function runs before the instance exports
   * it, so a host call that passes bytes cannot come from there (without
   * this, it failed as "cannot read properties of undefined").
   */
  const live = (): WebAssembly.Memory => {
    if (memory) return memory;
    throw new WeirError('WEIR_PLUGIN_LOAD_FAILED', `${host.plugin} called a host function that passes bytes (log, config, state, metrics, services, HTTP, WASI) from its start function (top-level code), before its memory exists for the host; make that call in configure or later`, { node: host.node, plugin: host.plugin });
  };
  const faults = new GuestFaultSlot();
  const linked = coreImports(module, host, directories, faults, live);

  const meter = new InstanceMeter(limits);
  let exports: CoreExports;
  try {
    // The module is compiled already. Not the loader's async `instantiate`: it asks whether the module is a fetch
    // `Response`, and reading the global `Response` loads Node's fetch (undici), ~30 ms at a run's start.
    const loaded = instantiateSync<Record<string, unknown>>(module, { ...chargedCoreImports(linked.imports, meter, () => memory), ...meter.imports() });
    meter.attach(loaded.instance);
    exports = loaded.instance.exports as unknown as CoreExports;
  } catch (error) {
    linked.close();
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
    linked.close();
    throw instantiationError(error, host, faults);
  }
  if (version !== CORE_ABI_VERSION) {
    guard.close();
    linked.close();
    throw new WeirError('WEIR_PLUGIN_WORLD_MISMATCH', `${host.plugin} follows core-module ABI version ${version}; the host speaks version ${CORE_ABI_VERSION}`, { node: host.node, plugin: host.plugin });
  }

  // A closed instance lets go of its exports and memory (see component-instance.ts): closed instances stay counted, not alive.
  const close = () => {
    guard.close();
    linked.close();
    exports = RELEASED;
    memory = undefined;
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
    // One copy in, one copy out, checked whole inside the guard (see packed-output.ts).
    processPacked: (batch) =>
      guard.run('weir_process', () => checkedPackedOutput(call('weir_process', batch.byteLength, (target) => target.set(batch)), limits.maxOutputBytes, () => true)),
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
