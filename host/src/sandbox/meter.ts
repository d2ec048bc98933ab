/**
 * Reads and refills the limit counters of one plugin instance. The
 * instrumenter ({@link instrumentModule}) gives each core module an exported
 * fuel global and a "grow denied" global; the meter collects them from every
 * core instance of a plugin (a component has several), refills fuel before
 * each call, and afterwards tells what was used and whether a limit was hit.
 *
 * Host calls are charged too ({@link InstanceMeter.charge}): the units are
 * taken from every core instance's fuel global (each core instance of a
 * component has its own, all refilled per call), so host work and guest
 * instructions share one budget per call, and are also counted apart so a
 * budget spent by host calls alone (or during instantiation, before any
 * global is known) is a breach as well.
 */
import { FUEL_EXPORT, GROW_DENIED_EXPORT, TABLE_GROW_DENIED_EXPORT } from './instrument/instrument.js';
import { WeirError } from '../errors/errors.js';
import { PAGE_BYTES } from '../contract/limits.js';
import type { InstanceLimits } from '../contract/limits.js';
import type { ResourceUsage } from '../contract/plugin.js';

/** A limit the last call ran into. */
export type LimitBreach =
  | { kind: 'memory'; requestedPages: number; pages: number }
  | { kind: 'table'; requestedElements: number }
  | { kind: 'fuel' };

/** Meters one plugin instance. */
export class InstanceMeter {
  readonly limits: InstanceLimits;
  #fuel: WebAssembly.Global[] = [];
  #growDenied: WebAssembly.Global[] = [];
  #tableGrowDenied: WebAssembly.Global[] = [];
  #memories = new Set<WebAssembly.Memory>();
  #usage: ResourceUsage = { calls: 0, fuelUsed: 0n, callMs: 0, memoryPagesHighWater: 0 };
  #callStarted = 0;
  /** Fuel charged by host calls since the last {@link begin} (or since the meter was made: instantiation). */
  #hostCharged = 0n;

  constructor(limits: InstanceLimits) {
    this.limits = limits;
  }

  /** Picks up the counters and memories a core instance exports. */
  attach(instance: WebAssembly.Instance): void {
    const exports = instance.exports;
    if (exports[FUEL_EXPORT] instanceof WebAssembly.Global) this.#fuel.push(exports[FUEL_EXPORT]);
    if (exports[GROW_DENIED_EXPORT] instanceof WebAssembly.Global) this.#growDenied.push(exports[GROW_DENIED_EXPORT]);
    if (exports[TABLE_GROW_DENIED_EXPORT] instanceof WebAssembly.Global) this.#tableGrowDenied.push(exports[TABLE_GROW_DENIED_EXPORT]);
    for (const value of Object.values(exports)) if (value instanceof WebAssembly.Memory) this.#memories.add(value);
    this.#recordMemory();
  }

  /** Call before entering the guest: refills fuel, clears the grow flag. */
  begin(): void {
    for (const global of this.#fuel) global.value = this.limits.fuel;
    for (const global of this.#growDenied) global.value = 0;
    for (const global of this.#tableGrowDenied) global.value = 0;
    this.#hostCharged = 0n;
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
    this.#hostCharged += units;
    let spent = this.#hostCharged > this.limits.fuel;
    for (const global of this.#fuel) {
      const left = (global.value as bigint) - units;
      global.value = left;
      if (left < 0n) spent = true;
    }
    if (spent) {
      throw new WeirError('WEIR_LIMIT_CPU', `all ${this.limits.fuel} fuel of one call consumed (host calls included; raise limits.fuel if the work is legitimate)`, { limit: 'fuel', fuel: String(this.limits.fuel) });
    }
  }

  /** Call after the guest returned or trapped. */
  end(): void {
    this.#usage.calls++;
    this.#usage.callMs += performance.now() - this.#callStarted;
    // Each global also paid the host charges; count those once.
    let used = this.#hostCharged - BigInt(this.#fuel.length) * this.#hostCharged;
    for (const global of this.#fuel) used += this.limits.fuel - (global.value as bigint);
    this.#usage.fuelUsed += used;
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
    for (const global of this.#fuel) if ((global.value as bigint) < 0n) return { kind: 'fuel' };
    if (this.limits.cpuMode === 'fuel' && this.#hostCharged > this.limits.fuel) return { kind: 'fuel' };
    return undefined;
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
    this.#fuel = [];
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
