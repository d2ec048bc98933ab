/**
 * Reads and refills the limit counters of one plugin instance. The meter
 * makes the instance's one fuel global ({@link InstanceMeter.fuel}), which
 * the loaders hand to every core module they instantiate
 * ({@link InstanceMeter.imports}; the instrumenter, {@link instrumentModule},
 * makes metered modules import it), so all core modules of a component spend
 * one budget. It also collects each core instance's "grow denied" globals
 * and memories, refills fuel before each call, and afterwards tells what was
 * used and whether a limit was hit.
 *
 * Host calls are charged too ({@link InstanceMeter.charge}): the units are
 * taken from the same global, so host work and guest instructions share one
 * budget per call (and at instantiation, start functions included).
 *
 * A host-side limit a host function enforces by throwing
 * (`WEIR_LIMIT_STATE`, `WEIR_LIMIT_METRICS`) is recorded
 * ({@link InstanceMeter.hostFailed}): with wasm exception handling the guest
 * could catch the exception and carry on, so the call still ends in that
 * error ({@link InstanceMeter.breach}), and every later host call of the
 * call throws it again ({@link InstanceMeter.refuseAfterBreach}).
 */
import { fuelImports, GROW_DENIED_EXPORT, TABLE_GROW_DENIED_EXPORT } from './instrument/instrument.js';
import { WeirError } from '../errors/errors.js';
import type { ErrorCode } from '../errors/errors.js';
import { PAGE_BYTES } from '../contract/limits.js';
import type { InstanceLimits } from '../contract/limits.js';
import type { ResourceUsage } from '../contract/plugin.js';

/** A limit the last call ran into. */
export type LimitBreach =
  | { kind: 'memory'; requestedPages: number; pages: number }
  | { kind: 'table'; requestedElements: number }
  | { kind: 'fuel' }
  | { kind: 'host'; error: WeirError };

/**
 * Host-side limits a host import enforces by throwing: the throw unwinds the
 * guest mid-call (its own state may be half updated), so the instance is
 * poisoned, and the error keeps its code.
 */
export const HOST_LIMIT_CODES: readonly ErrorCode[] = ['WEIR_LIMIT_STATE', 'WEIR_LIMIT_METRICS'];

/** Meters one plugin instance. */
export class InstanceMeter {
  readonly limits: InstanceLimits;
  /** The fuel left in this call: one mutable i64 shared by every core module of the instance. */
  readonly fuel: WebAssembly.Global<'i64'>;
  #growDenied: WebAssembly.Global[] = [];
  #tableGrowDenied: WebAssembly.Global[] = [];
  #memories = new Set<WebAssembly.Memory>();
  #usage: ResourceUsage = { calls: 0, fuelUsed: 0n, callMs: 0, memoryPagesHighWater: 0 };
  #callStarted = 0;
  /** The host-limit error a host function threw in this call (or during instantiation), if any. */
  #hostBreach: WeirError | undefined;

  constructor(limits: InstanceLimits) {
    this.limits = limits;
    this.fuel = new WebAssembly.Global({ value: 'i64', mutable: true }, limits.fuel);
  }

  /** What every core module of the instance must be given besides its own imports: the fuel global. */
  imports(): Record<string, Record<string, WebAssembly.Global>> {
    return fuelImports(this.fuel);
  }

  /** Picks up the counters and memories a core instance exports. */
  attach(instance: WebAssembly.Instance): void {
    const exports = instance.exports;
    if (exports[GROW_DENIED_EXPORT] instanceof WebAssembly.Global) this.#growDenied.push(exports[GROW_DENIED_EXPORT]);
    if (exports[TABLE_GROW_DENIED_EXPORT] instanceof WebAssembly.Global) this.#tableGrowDenied.push(exports[TABLE_GROW_DENIED_EXPORT]);
    for (const value of Object.values(exports)) if (value instanceof WebAssembly.Memory) this.#memories.add(value);
    this.#recordMemory();
  }

  /** Call before entering the guest: refills fuel, clears the grow flag. */
  begin(): void {
    this.fuel.value = this.limits.fuel;
    for (const global of this.#growDenied) global.value = 0;
    for (const global of this.#tableGrowDenied) global.value = 0;
    this.#hostBreach = undefined;
    this.#callStarted = performance.now();
  }

  /**
   * Charges `units` of fuel for work the host does for the guest (see
   * linker/host-call-fuel.ts). Does nothing unless the CPU mode is `fuel`.
   *
   * @throws WeirError `WEIR_LIMIT_CPU` when the call's budget is spent; the
   * fuel global stays below zero, so the call guard reports the breach even
   * if the guest catches the exception.
   */
  charge(units: bigint): void {
    if (this.limits.cpuMode !== 'fuel') return;
    const left = this.fuel.value - units;
    this.fuel.value = left;
    if (left < 0n) {
      throw new WeirError('WEIR_LIMIT_CPU', `all ${this.limits.fuel} fuel of one call consumed (host calls included; raise limits.fuel if the work is legitimate)`, { limit: 'fuel', fuel: String(this.limits.fuel) });
    }
  }

  /**
   * Records `error`, thrown by a host function, when it is a host-side limit
   * ({@link HOST_LIMIT_CODES}); the first one of a call is kept.
   */
  hostFailed(error: unknown): void {
    if (this.#hostBreach === undefined && error instanceof WeirError && HOST_LIMIT_CODES.includes(error.code)) this.#hostBreach = error;
  }

  /**
   * Call before a host function runs: once a host-side limit was breached in
   * this call, no host function runs again until the next call.
   *
   * @throws WeirError the recorded host-limit error
   */
  refuseAfterBreach(): void {
    if (this.#hostBreach !== undefined) throw this.#hostBreach;
  }

  /** Call after the guest returned or trapped. */
  end(): void {
    this.#usage.calls++;
    this.#usage.callMs += performance.now() - this.#callStarted;
    if (this.limits.cpuMode === 'fuel') this.#usage.fuelUsed += this.limits.fuel - this.fuel.value;
    this.#recordMemory();
  }

  /** The limit the last call hit, if any. Read after {@link end}. */
  breach(): LimitBreach | undefined {
    for (const global of this.#growDenied) {
      const requestedPages = global.value as number;
      if (requestedPages !== 0) return { kind: 'memory', requestedPages, pages: this.memoryPages() };
    }
    for (const global of this.#tableGrowDenied) {
      const requestedElements = global.value as number;
      if (requestedElements !== 0) return { kind: 'table', requestedElements };
    }
    return this.unhandledBreach();
  }

  /**
   * The breach of the last call that the guest cannot have handled, even if
   * it returned: fuel spent, or a host-side limit a host function threw. (A
   * denied grow answers -1, which the guest may handle.) Read after {@link end}.
   */
  unhandledBreach(): LimitBreach | undefined {
    if (this.limits.cpuMode === 'fuel' && this.fuel.value < 0n) return { kind: 'fuel' };
    if (this.#hostBreach !== undefined) return { kind: 'host', error: this.#hostBreach };
    return undefined;
  }

  /** Whether `buffer` is the buffer of one of the instance's linear memories: a view of it must be copied before it leaves a call. */
  holdsBuffer(buffer: ArrayBufferLike): boolean {
    for (const memory of this.#memories) if (memory.buffer === buffer) return true;
    return false;
  }

  /** Pages of linear memory held now, over all memories of the instance. */
  memoryPages(): number {
    let pages = 0;
    for (const memory of this.#memories) pages += memory.buffer.byteLength / PAGE_BYTES;
    return pages;
  }

  /**
   * Lets go of the instance's globals and memories once it is closed: a
   * closed instance stays counted (its {@link usage} still reads), but must
   * not keep its linear memory alive through the meter.
   */
  release(): void {
    this.#recordMemory();
    this.#growDenied = [];
    this.#tableGrowDenied = [];
    this.#memories = new Set();
  }

  /** A snapshot of what the instance used. */
  usage(): ResourceUsage {
    return { ...this.#usage };
  }

  #recordMemory(): void {
    this.#usage.memoryPagesHighWater = Math.max(this.#usage.memoryPagesHighWater, this.memoryPages());
  }
}
