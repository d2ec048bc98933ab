/**
 * Instantiates a transpiled component and adapts its exports to the
 * {@link PluginInstance} shape of its node kind.
 *
 * jco's `instantiate(getCoreModule, imports, instantiateCore)` asks the host
 * for every core module and lets it instantiate each one, so the host compiles
 * them instrumented for the node's limits and its {@link InstanceMeter} sees
 * every core instance's counters and memories. Calls are synchronous: a
 * component export runs to completion on the calling thread.
 *
 * A processor of the `packed-processor` world also gets `processPacked`: the
 * packed batch goes in as one `list<u8>` and comes back as one, checked
 * (packed-output.ts) under the same guard, fuel, memory cap and output cap
 * as `process`.
 */
import type { InThreadProcessorInstance, PluginInstance, PluginKind, PollResult } from '../contract/plugin.js';
import type { StreamRecord } from '../records/record.js';
import type { HostContext } from '../linker/host-context.js';
import { componentImports } from '../linker/component-imports.js';
import type { DirectoryUsages } from '../linker/directory-quota.js';
import type { CoreModuleCompiler } from '../engine/engine.js';
import { CallGuard } from '../sandbox/call-guard.js';
import { InstanceMeter } from '../sandbox/meter.js';
import type { InstanceLimits } from '../contract/limits.js';
import { encodedBatchSize } from '../records/batch-codec.js';
import { checkedPackedOutput } from './packed-output.js';
import { WeirError } from '../errors/errors.js';
import { GuestFaultSlot } from '../errors/guest-fault.js';
import { instantiationError } from '../errors/instantiation-error.js';
import { LIFT_GUARD_IMPORT } from '../engine/component-code.js';
import type { JcoInstantiate, LiftGuard } from '../engine/component-code.js';
import { LIFTED_ELEMENT_OVERHEAD } from '../contract/limits.js';
import { chargedComponentImports } from '../linker/host-call-fuel.js';
import { isOutOfFuelTrap } from '../sandbox/instrument/instrument.js';

/**
 * Instantiates a component for a node of `kind`. `instantiate` is the
 * component's generated code, loaded with `loadComponentCode` (which puts a
 * {@link LiftGuard} call before every list the code lifts); granted folders'
 * quotas count in `directories` (the thread's).
 */
export async function instantiateComponent(
  instantiate: JcoInstantiate,
  kind: PluginKind,
  host: HostContext,
  limits: InstanceLimits,
  compileCore: CoreModuleCompiler,
  directories: DirectoryUsages,
): Promise<PluginInstance> {
  const meter = new InstanceMeter(limits);
  const lifting = new LiftBudget(host, limits);
  const instantiateCore = async (core: WebAssembly.Module, imports?: WebAssembly.Imports): Promise<WebAssembly.Instance> => {
    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(core, { ...imports, ...meter.imports() });
    } catch (error) {
      if (!isOutOfFuelTrap(error)) throw error;
      throw new WeirError('WEIR_LIMIT_CPU', `${host.plugin} used up its CPU budget while instantiating (start function): all ${limits.fuel} fuel consumed (raise limits.fuel if the work is legitimate)`, { node: host.node, plugin: host.plugin, limit: 'fuel', fuel: String(limits.fuel) }, { cause: error });
    }
    meter.attach(instance);
    return instance;
  };
  const faults = new GuestFaultSlot();
  let exports: Record<string, (...args: never[]) => unknown>;
  try {
    exports = await instantiate(compileCore, { ...chargedComponentImports(componentImports(host, directories, faults), meter), [LIFT_GUARD_IMPORT]: lifting as never }, instantiateCore);
    // A host-limit error a start function caught still fails the instantiation.
    const swallowed = meter.unhandledBreach();
    if (swallowed?.kind === 'host') throw swallowed.error;
  } catch (error) {
    throw instantiationError(error, host, faults);
  }
  const guard = new CallGuard(host.node, host.plugin, meter, faults, () => lifting.reset());
  const limitOutput = (records: StreamRecord[], fn: string): StreamRecord[] => {
    const size = encodedBatchSize(records);
    if (size > limits.maxOutputBytes) {
      throw new WeirError('WEIR_LIMIT_OUTPUT', `${host.plugin} returned ${size} bytes from ${fn}, above limits.maxOutputBytes (${limits.maxOutputBytes})`, { node: host.node, plugin: host.plugin, function: fn, limit: 'output', bytes: size });
    }
    return records;
  };
  const call = <T>(name: string, ...args: unknown[]): T =>
    guard.run(name, () => (exports[name] as (...a: unknown[]) => T)(...args));
  // A closed instance lets go of its exports (and through them its core
  // instances and linear memories) and the meter of its memories: the node
  // keeps closed instances for their usage figures, and an instance recreated
  // after each breach must not keep every old linear memory alive.
  const close = (): void => {
    guard.close();
    exports = {};
  };

  switch (kind) {
    case 'processor': {
      const processor: InThreadProcessorInstance = {
        kind,
        configure: (config) => call<void>('configure', config),
        process: (batch) => guard.run('process', () => limitOutput((exports.process as (b: StreamRecord[]) => StreamRecord[])(batch), 'process')),
        usage: () => meter.usage(),
        close,
      };
      // World `packed-processor`: the batch crosses as one list<u8> (one copy each way, no per-record lifting).
      if (typeof exports.processPacked === 'function') {
        processor.processPacked = (batch) =>
          guard.run('process-packed', () => checkedPackedOutput((exports.processPacked as (b: Uint8Array) => unknown)(batch), limits.maxOutputBytes, (buffer) => meter.holdsBuffer(buffer)));
      }
      return processor;
    }
    case 'source':
      return {
        kind,
        open: (config, resumeFrom) => call<void>('open', config, resumeFrom),
        poll: (max) => guard.run('poll', () => {
          const result = (exports.poll as (m: number) => PollResult)(max);
          limitOutput(result.records, 'poll');
          return result;
        }),
        usage: () => meter.usage(),
        ack: (position) => call<void>('ack', position),
        close: () => {
          try {
            if (guard.state !== 'closed' && guard.state !== 'poisoned') call<void>('close');
          } finally {
            close();
          }
        },
      };
    case 'sink':
      return {
        kind,
        open: (config) => call<void>('open', config),
        write: (batch) => call<void>('write', batch),
        flush: () => call<void>('flush'),
        usage: () => meter.usage(),
        close,
      };
    case 'aggregator':
      return {
        kind,
        configure: (config) => call<void>('configure', config),
        accumulate: (accumulator, record) => call<Uint8Array>('accumulate', accumulator, record),
        merge: (a, b) => call<Uint8Array>('merge', a, b),
        emit: (key, window, accumulator) => guard.run('emit', () => limitOutput((exports.emit as (k: unknown, w: unknown, a: unknown) => StreamRecord[])(key, window, accumulator), 'emit')),
        usage: () => meter.usage(),
        close,
      };
    case 'service':
      return {
        kind,
        configure: (config) => call<void>('configure', config),
        call: (method, payload) => call<Uint8Array>('call', method, payload),
        usage: () => meter.usage(),
        close,
      };
  }
}

/**
 * Bounds the lists a component's code lifts out of guest memory during one
 * call (see component-code.ts): a list must lie inside the memory (else
 * `WEIR_PLUGIN_BAD_OUTPUT`), and the lists of one call, counted at their
 * element size plus {@link LIFTED_ELEMENT_OVERHEAD} per element, must stay
 * within `limits.maxOutputBytes` (else `WEIR_LIMIT_OUTPUT`, with kind
 * `fatal`: jco's call state is left mid-lift, so the instance is recreated).
 */
class LiftBudget implements LiftGuard {
  readonly #host: HostContext;
  readonly #max: number;
  #used = 0;

  constructor(host: HostContext, limits: InstanceLimits) {
    this.#host = host;
    this.#max = limits.maxOutputBytes;
  }

  /** Starts the count of a new call. */
  reset(): void {
    this.#used = 0;
  }

  list(len: number, ptr: number, elemSize: number, memory: WebAssembly.Memory): void {
    const where = { node: this.#host.node, plugin: this.#host.plugin };
    const end = ptr + len * elemSize;
    if (end > memory.buffer.byteLength) {
      throw new WeirError('WEIR_PLUGIN_BAD_OUTPUT', `returned a list of ${len} elements of ${elemSize} bytes at ${ptr}, which runs past the end of its ${memory.buffer.byteLength}-byte memory`, { ...where, length: len, pointer: ptr });
    }
    this.#used += len * (elemSize + LIFTED_ELEMENT_OVERHEAD);
    if (this.#used > this.#max) {
      throw new WeirError('WEIR_LIMIT_OUTPUT', `${this.#host.plugin} returned lists that would take about ${this.#used} bytes of host memory once lifted (the last one: ${len} elements), above limits.maxOutputBytes (${this.#max})`, { ...where, limit: 'output', liftedBytes: this.#used, kind: 'fatal' });
    }
  }
}
