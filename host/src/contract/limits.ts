/**
 * The limits one plugin instance runs under, in the units the sandbox
 * enforces them (64 KiB pages, fuel units, bytes). `pipeline.json` writes
 * them as `limits` (memoryMb, fuel, timeoutMs, maxOutputBytes, cpu.mode);
 * the topology converts with {@link instanceLimits}.
 */

/**
 * How a runaway call is stopped:
 * - `fuel`: the wasm is instrumented to count instructions and traps when the
 *   per-call budget is spent; runs on the calling thread, or (a processor
 *   with `cpu.thread` `worker`) on a worker thread of its own.
 * - `worker`: the instance runs in a worker thread; a watchdog terminates it
 *   when a call (or instantiation) takes longer than `timeoutMs`, and a fresh
 *   worker takes over.
 *
 * Each mode covers every node kind; the strategies are in ./cpu-mode.ts.
 * - `none`: no CPU limit (trusted plugins, benchmarks).
 */
export type CpuMode = 'fuel' | 'worker' | 'none';

/**
 * Which thread an instance runs on (`limits.cpu.thread`): `main`, the
 * calling thread, or `worker`, a worker thread of its own. Mode `worker`
 * always runs on a worker thread; modes `fuel` and `none` run on the main
 * thread unless a processor node asks for `worker`, which is how the
 * instances of a node with `parallelism` > 1 use more than one core (fuel
 * is metered in the worker exactly as on the main thread).
 */
export type CpuThread = 'main' | 'worker';

/** Limits of one instance. */
export interface InstanceLimits {
  /** Cap of each linear memory, in 64 KiB pages. */
  readonly memoryPages: number;
  readonly cpuMode: CpuMode;
  /** The thread the instance runs on; when absent, its mode's own (sandbox/cpu-mode.ts: `worker` for mode `worker`, else `main`). */
  readonly cpuThread?: CpuThread;
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
  /** `thread` absent: the mode's own thread (see {@link CpuThread}). */
  readonly cpu: { readonly mode: CpuMode; readonly thread?: CpuThread };
  /** Host-side: key and value bytes of the node's keyed state (see {@link StateLimits}). */
  readonly maxStateBytes: number;
  /** Host-side: keys of the node's keyed state. */
  readonly maxStateKeys: number;
  /** Host-side: distinct plugin metric names (counters and gauges) of the node. */
  readonly maxMetricNames: number;
}

/**
 * Safe defaults: a runaway plugin is stopped. 256 MiB of memory; 5 * 10^9
 * fuel per call (a tight wasm loop runs out in 1-2 s on the bench machine,
 * and no kind of work in `bench/fuel-wall-time.js`, host calls and bulk
 * instructions included, takes more than about 3 times that, while a
 * 1024-record batch through the QuickJS uppercase example uses about
 * 2 * 10^8); worker timeout 10 s; 64 MiB of output per call.
 */
export const DEFAULT_LIMITS: LimitsSettings = {
  memoryMb: 256,
  fuel: 5_000_000_000,
  timeoutMs: 10_000,
  maxOutputBytes: 64 << 20,
  cpu: { mode: 'fuel' },
  // Host-side limits (see below): 64 MiB and a million keys of keyed state, 1000 metric names.
  maxStateBytes: 64 << 20,
  maxStateKeys: 1_000_000,
  maxMetricNames: 1000,
};

// Host-side limits: what a node's plugin can make the host hold outside its
// own linear memory. The sandbox caps the guest; these cap what the host keeps
// on the guest's behalf (keyed state, metric names), so a plugin cannot grow
// the host through its imports.

/**
 * Caps on a node's keyed state, counted over what is committed plus what
 * calls have staged but not committed yet. `maxBytes` counts key and value
 * bytes; each key also costs the host about 150 bytes of bookkeeping, which
 * `maxKeys` bounds.
 */
export interface StateLimits {
  readonly maxBytes: number;
  readonly maxKeys: number;
}

/** The state caps of `settings`. */
export function stateLimits(settings: Pick<LimitsSettings, 'maxStateBytes' | 'maxStateKeys'>): StateLimits {
  return { maxBytes: settings.maxStateBytes, maxKeys: settings.maxStateKeys };
}

/** State caps that enforce nothing (for tools and tests). */
export const UNBOUNDED_STATE: StateLimits = { maxBytes: Number.MAX_SAFE_INTEGER, maxKeys: Number.MAX_SAFE_INTEGER };

/** Longest plugin metric name, in UTF-16 code units (Prometheus names are short). */
export const MAX_METRIC_NAME_LENGTH = 200;

/**
 * Host memory one element of a list a component returns costs once jco has
 * lifted it, beyond its size in guest memory (jco gives every byte field its
 * own ArrayBuffer); lifted lists count against `maxOutputBytes` with it.
 */
export const LIFTED_ELEMENT_OVERHEAD = 400;

/** Bytes in one WebAssembly page. */
export const PAGE_BYTES = 65536;

/**
 * Elements each wasm table may hold, for a memory cap of `memoryPages`:
 * 4096 per MiB of `limits.memoryMb` (at least 65536), so that at the 16
 * bytes or less an element takes in the host a table stays within a
 * sixteenth of the memory cap. 256 MiB gives 1,048,576 elements.
 */
export function maxTableElements(memoryPages: number): number {
  return Math.max(65536, memoryPages * 256);
}

/** Converts settings to what the sandbox enforces. */
export function instanceLimits(settings: LimitsSettings): InstanceLimits {
  return {
    memoryPages: settings.memoryMb * 16,
    cpuMode: settings.cpu.mode,
    ...(settings.cpu.thread === undefined ? {} : { cpuThread: settings.cpu.thread }),
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
