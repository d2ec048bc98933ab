/**
 * The limits one plugin instance runs under, in the units the sandbox
 * enforces them (64 KiB pages, fuel units, bytes). `pipeline.json` writes
 * them as `limits` (memoryMb, fuel, timeoutMs, maxOutputBytes, cpu.mode);
 * the topology converts with {@link instanceLimits}.
 */

/**
 * How a runaway call is stopped:
 * - `fuel`: the wasm is instrumented to count instructions and traps when the
 *   per-call budget is spent; runs on the calling thread.
 * - `worker`: the instance runs in a worker thread; a watchdog terminates it
 *   when a call (or instantiation) takes longer than `timeoutMs`, and a fresh
 *   worker takes over.
 *
 * Each mode covers every node kind; the strategies are in ./cpu-mode.ts.
 * - `none`: no CPU limit (trusted plugins, benchmarks).
 */
export type CpuMode = 'fuel' | 'worker' | 'none';

/** Limits of one instance. */
export interface InstanceLimits {
  /** Cap of each linear memory, in 64 KiB pages. */
  readonly memoryPages: number;
  readonly cpuMode: CpuMode;
  /** Fuel per call (mode `fuel`): roughly, wasm instructions executed. */
  readonly fuel: bigint;
  /** Wall-clock budget per call (mode `worker`). */
  readonly timeoutMs: number;
  /** Largest output of one call, in encoded bytes. */
  readonly maxOutputBytes: number;
}

/** Limits as pipeline.json writes them, with defaults filled in. */
export interface LimitsSettings {
  readonly memoryMb: number;
  readonly fuel: number;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly cpu: { readonly mode: CpuMode };
}

/**
 * Safe defaults: a runaway plugin is stopped. 256 MiB of memory; 5 * 10^9
 * fuel per call (a tight wasm loop runs out in about 5 s, a QuickJS loop in
 * under 1 s, while a 1024-record batch through the QuickJS uppercase example
 * uses about 2 * 10^8); worker timeout 10 s; 64 MiB of output per call.
 */
export const DEFAULT_LIMITS: LimitsSettings = {
  memoryMb: 256,
  fuel: 5_000_000_000,
  timeoutMs: 10_000,
  maxOutputBytes: 64 << 20,
  cpu: { mode: 'fuel' },
};

/** Bytes in one WebAssembly page. */
export const PAGE_BYTES = 65536;

/** Converts settings to what the sandbox enforces. */
export function instanceLimits(settings: LimitsSettings): InstanceLimits {
  return {
    memoryPages: settings.memoryMb * 16,
    cpuMode: settings.cpu.mode,
    fuel: BigInt(settings.fuel),
    timeoutMs: settings.timeoutMs,
    maxOutputBytes: settings.maxOutputBytes,
  };
}

/** Limits that enforce nothing beyond WebAssembly's own maximum (for tools and tests). */
export const UNLIMITED: InstanceLimits = {
  memoryPages: 65536,
  cpuMode: 'none',
  fuel: 0n,
  timeoutMs: 0,
  maxOutputBytes: Number.MAX_SAFE_INTEGER,
};
