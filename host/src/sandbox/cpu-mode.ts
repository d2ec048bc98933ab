/**
 * The CPU modes as strategies: one object per `limits.cpu.mode` that says
 * which node kinds it can limit, which settings it reads, what the compiled
 * code needs (a fuel budget or none), and which runner creates an instance
 * (on the calling thread, or in a worker). The validator (config/compile.ts),
 * the engine (fuel) and instantiation (instance/instantiate.ts, which admits
 * the kind and maps the runner) all go through {@link cpuModeOf}, so a node
 * kind is either limited by its mode or refused while validating: nothing
 * falls between the two.
 *
 * | mode     | kinds                                   | limit                                                   |
 * |----------|-----------------------------------------|---------------------------------------------------------|
 * | `fuel`   | all                                     | instrumented fuel per call (start functions included)   |
 * | `worker` | all                                     | `timeoutMs` of wall time per call and for instantiation |
 * | `none`   | all                                     | no CPU limit (memory and output caps still apply)       |
 *
 * In mode `worker` a processor runs in a worker asynchronously
 * (instance/worker/worker-processor.ts); the other kinds have synchronous
 * interfaces, so their worker is called synchronously
 * (instance/worker/blocking-worker.ts): the calling thread waits, serving
 * the guest's host calls, for at most `timeoutMs`.
 */
import type { CpuMode, InstanceLimits } from '../contract/limits.js';
import { PLUGIN_KINDS } from '../contract/plugin.js';
import type { PluginKind } from '../contract/plugin.js';
import { WeirError } from '../errors/errors.js';

/** A limit setting that only some modes read. */
export type CpuSetting = 'fuel' | 'timeoutMs';

/** A setting of a node's limits that cannot take effect in its mode. */
export interface CpuModeProblem {
  /** The field under `limits` (`cpu/mode`, `fuel`, `timeoutMs`). */
  field: string;
  message: string;
  hint?: string;
}

/** Where a mode runs an instance: on the calling thread, or in a worker thread of its own. */
export type CpuRunner = 'in-thread' | 'worker';

/** The node and plugin an instantiation is for, as errors name them. */
export interface InstanceSite {
  readonly node: string;
  readonly plugin: string;
}

/** One CPU mode. */
export interface CpuModeStrategy {
  readonly mode: CpuMode;
  /** The node kinds this mode can run under its limit. */
  readonly kinds: readonly PluginKind[];
  /** The settings this mode reads; the others have no effect in it. */
  readonly settings: readonly CpuSetting[];
  /** The fuel budget to instrument compiled code with, or `undefined` for none. */
  fuelOf(limits: InstanceLimits): bigint | undefined;
  /**
   * Problems with a node of `kind` whose limits set `written` in this mode
   * (an unsupported kind, a setting this mode does not read).
   */
  problems(kind: PluginKind, written: ReadonlySet<string>): CpuModeProblem[];
  /** Where an instance of this mode runs (instance/instantiate.ts maps it to the code that runs it). */
  readonly runner: CpuRunner;
  /**
   * Refuses a `kind` this mode cannot limit, before anything is created
   * (validation reports the same through {@link problems}).
   *
   * @throws WeirError `WEIR_CONFIG_INVALID`
   */
  admit(kind: PluginKind, site: InstanceSite): void;
}

/** How to fix a setting a mode does not read, by mode and setting. */
const SETTING_HINTS: Readonly<Record<CpuMode, Partial<Record<CpuSetting, string>>>> = {
  fuel: { timeoutMs: 'add "cpu": {"mode": "worker"}, or budget the call with "fuel"' },
  worker: { fuel: 'budget the call with "timeoutMs"' },
  none: { fuel: 'remove "fuel", or use cpu mode "fuel"', timeoutMs: 'remove "timeoutMs", or use cpu mode "worker"' },
};

const SETTING_MESSAGES: Readonly<Record<CpuSetting, string>> = {
  fuel: 'fuel is metered in cpu mode "fuel" only',
  timeoutMs: 'timeoutMs is enforced in cpu mode "worker" only',
};

function strategy(mode: CpuMode, settings: readonly CpuSetting[], fuelOf: CpuModeStrategy['fuelOf'], runner: CpuRunner): CpuModeStrategy {
  const kinds = PLUGIN_KINDS;
  return {
    mode,
    kinds,
    settings,
    fuelOf,
    runner,
    admit: (kind, site) => {
      if (!kinds.includes(kind)) {
        throw new WeirError('WEIR_CONFIG_INVALID', `cpu mode "${mode}" cannot limit a ${kind} node (${site.node})`, { node: site.node, plugin: site.plugin, mode });
      }
    },
    problems(kind, written) {
      const problems: CpuModeProblem[] = [];
      if (!kinds.includes(kind)) {
        problems.push({ field: 'cpu/mode', message: `cpu mode "${mode}" cannot limit a ${kind} node`, hint: `use one of ${Object.values(CPU_MODES).filter((s) => s.kinds.includes(kind)).map((s) => `"${s.mode}"`).join(', ')}` });
      }
      for (const setting of ['fuel', 'timeoutMs'] as const) {
        if (written.has(setting) && !settings.includes(setting)) {
          problems.push({ field: setting, message: `${SETTING_MESSAGES[setting]}; this node runs in mode "${mode}"`, hint: SETTING_HINTS[mode][setting] });
        }
      }
      return problems;
    },
  };
}

/** The strategies, by mode. */
export const CPU_MODES: Readonly<Record<CpuMode, CpuModeStrategy>> = {
  fuel: strategy('fuel', ['fuel'], (limits) => limits.fuel, 'in-thread'),
  worker: strategy('worker', ['timeoutMs'], () => undefined, 'worker'),
  none: strategy('none', [], () => undefined, 'in-thread'),
};

/** The strategy of `mode`. */
export function cpuModeOf(mode: CpuMode): CpuModeStrategy {
  return CPU_MODES[mode];
}
