/**
 * Adds up what the plugin instances of one node used (calls, fuel, time in
 * calls, memory high-water mark) and how they failed (traps, limit breaches),
 * over every instance the node has had, restarts included.
 */
import type { MeteredInstance } from '../contract/plugin.js';
import type { LimitsSettings } from '../contract/limits.js';
import type { ErrorCode } from '../errors/errors.js';

/** Resource figures of one node, as the run summary reports them. */
export interface NodeResourceSummary {
  /** Instances created (1 + restarts, for a single-instance node). */
  instances: number;
  calls: number;
  /** Fuel spent (cpu mode `fuel`), as a decimal string: it can pass 2^53. */
  fuelUsed: string;
  /** Milliseconds spent inside plugin calls. */
  callMs: number;
  /** Most linear-memory pages one instance held (64 KiB each). */
  memoryPagesHighWater: number;
  /** The cap in pages (`limits.memoryMb` * 16). */
  memoryCapPages: number;
  cpuMode: LimitsSettings['cpu']['mode'];
  traps: number;
  /** Calls stopped by a limit, by limit (every `WEIR_LIMIT_*` a plugin call can breach). */
  limitBreaches: Record<BreachedLimit, number>;
}

/**
 * The limits a plugin call can breach, by code: every `WEIR_LIMIT_*` but the
 * line length of the file and stdin sources (a connector's, not a plugin's).
 * A new `WEIR_LIMIT_*` code does not compile until it is named here.
 */
const BREACH_CODES = {
  WEIR_LIMIT_MEMORY: 'memory',
  WEIR_LIMIT_CPU: 'cpu',
  WEIR_LIMIT_OUTPUT: 'output',
  WEIR_LIMIT_STATE: 'state',
  WEIR_LIMIT_METRICS: 'metrics',
} as const satisfies Record<Exclude<Extract<ErrorCode, `WEIR_LIMIT_${string}`>, 'WEIR_LIMIT_LINE_LENGTH'>, string>;

/** A limit counted in {@link NodeResourceSummary.limitBreaches}. */
export type BreachedLimit = (typeof BREACH_CODES)[keyof typeof BREACH_CODES];

/** Resource accounting of one node. */
export class NodeResources {
  readonly #limits: LimitsSettings;
  readonly #instances: MeteredInstance[] = [];
  #traps = 0;
  readonly #breaches: Record<BreachedLimit, number> = { memory: 0, cpu: 0, output: 0, state: 0, metrics: 0 };

  constructor(limits: LimitsSettings) {
    this.#limits = limits;
  }

  /** Counts `instance` from now on (its usage stays counted after it closes). */
  track(instance: MeteredInstance): void {
    this.#instances.push(instance);
  }

  /** Records a failed call by its error code. */
  recordFailure(error: unknown): void {
    const code = (error as { code?: string })?.code;
    if (code === 'WEIR_PLUGIN_TRAP') this.#traps++;
    if (code !== undefined && Object.hasOwn(BREACH_CODES, code)) this.#breaches[BREACH_CODES[code as keyof typeof BREACH_CODES]]++;
  }

  summary(): NodeResourceSummary {
    const usages = this.#instances.map((i) => i.usage());
    return {
      instances: this.#instances.length,
      calls: usages.reduce((n, u) => n + u.calls, 0),
      fuelUsed: String(usages.reduce((n, u) => n + u.fuelUsed, 0n)),
      callMs: Math.round(usages.reduce((n, u) => n + u.callMs, 0) * 100) / 100,
      memoryPagesHighWater: usages.reduce((n, u) => Math.max(n, u.memoryPagesHighWater), 0),
      memoryCapPages: this.#limits.memoryMb * 16,
      cpuMode: this.#limits.cpu.mode,
      traps: this.#traps,
      limitBreaches: { ...this.#breaches },
    };
  }
}
