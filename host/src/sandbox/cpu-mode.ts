/**
 * The CPU modes as strategies: one object per `limits.cpu.mode` that says
 * which node kinds it can limit, which settings it reads, what the compiled
 * code needs (a fuel budget or none), and how an instance is created. The
 * validator (config/compile.ts) and the engine both go through
 * {@link cpuModeOf}, so a node kind is either limited by its mode or refused
 * while validating: nothing falls between the two.
 *
 * | mode     | kinds                                   | limit                                                   |
 * |----------|-----------------------------------------|---------------------------------------------------------|
 * | `fuel`   | all                                     | instrumented fuel per call (start functions included)   |
 * | `worker` | all                                     | `timeoutMs` of wall time per call and for instantiation |
 * | `none`   | all                                     | no CPU limit (memory and output caps still apply)       |
 *
 * In mode `worker` a processor runs in a worker asynchronously
 * ({@link WorkerProcessor}); the other kinds have synchronous interfaces, so
 * their worker is called synchronously ({@link BlockingWorkerInstance}): the
 * calling thread waits, serving the guest's host calls, for at most
 * `timeoutMs`.
 */
import type { CpuMode, InstanceLimits } from '../contract/limits.js';
import type { PluginInstance, PluginKind } from '../contract/plugin.js';
import { WeirError } from '../errors/errors.js';
import type { PluginWorkerOptions } from '../instance/worker/plugin-worker.js';

/** Every node kind (plugin world). */
export const PLUGIN_KINDS: readonly PluginKind[] = ['source', 'processor', 'aggregator', 'sink', 'service'];

/** A limit setting that only some modes read. */
export type CpuSetting = 'fuel' | 'timeoutMs';

/** A setting of a node's limits that cannot take effect in its mode. */
export interface CpuModeProblem {
  /** The field under `limits` (`cpu/mode`, `fuel`, `timeoutMs`). */
  field: string;
  message: string;
  hint?: string;
}

/** What creating an instance needs, whatever the mode: what a worker needs, and how to create it in-thread. */
export interface InstantiateRequest extends PluginWorkerOptions {
  /** Creates the instance on this thread, compiled for `limits` (the engine's loaders). */
  inThread(limits: InstanceLimits): Promise<PluginInstance>;
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
  /** Creates an instance under this mode's limit. */
  instantiate(request: InstantiateRequest): Promise<PluginInstance>;
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

function strategy(mode: CpuMode, settings: readonly CpuSetting[], fuelOf: CpuModeStrategy['fuelOf'], instantiate: CpuModeStrategy['instantiate']): CpuModeStrategy {
  const kinds = PLUGIN_KINDS;
  return {
    mode,
    kinds,
    settings,
    fuelOf,
    instantiate: (request) => {
      if (!kinds.includes(request.kind)) {
        throw new WeirError('WEIR_CONFIG_INVALID', `cpu mode "${mode}" cannot limit a ${request.kind} node (${request.host.node})`, { node: request.host.node, plugin: request.host.plugin, mode });
      }
      return instantiate(request);
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
  fuel: strategy('fuel', ['fuel'], (limits) => limits.fuel, (request) => request.inThread(request.limits)),
  worker: strategy('worker', ['timeoutMs'], () => undefined, async (request) => {
    // Loaded on first use: a pipeline without worker nodes never starts the worker machinery.
    if (request.kind === 'processor') {
      const { WorkerProcessor } = await import('../instance/worker/worker-processor.js');
      return WorkerProcessor.start(request);
    }
    const { BlockingWorkerInstance } = await import('../instance/worker/blocking-worker.js');
    return BlockingWorkerInstance.start(request);
  }),
  none: strategy('none', [], () => undefined, (request) => request.inThread(request.limits)),
};

/** The strategy of `mode`. */
export function cpuModeOf(mode: CpuMode): CpuModeStrategy {
  return CPU_MODES[mode];
}
