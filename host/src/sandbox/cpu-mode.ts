/**
 * The CPU modes as strategies: one object per `limits.cpu.mode` that says
 * which node kinds it can limit, which settings it reads, what the compiled
 * code needs (a fuel budget or none), and on which thread an instance runs
 * (`limits.cpu.thread`: the calling thread, or a worker thread of its own).
 * The validator (config/compile.ts), the engine (fuel) and instantiation
 * (instance/instantiate.ts, which admits the kind and thread and maps the
 * runner) all go through {@link cpuModeOf}, so a node kind is either limited
 * by its mode or refused while validating: nothing falls between the two.
 *
 * | mode     | kinds | limit                                                   | threads                                   |
 * |----------|-------|---------------------------------------------------------|-------------------------------------------|
 * | `fuel`   | all   | instrumented fuel per call (start functions included)   | `main` (default); `worker` for processors |
 * | `worker` | all   | `timeoutMs` of wall time per call and for instantiation | `worker` only                             |
 * | `none`   | all   | no CPU limit (memory and output caps still apply)       | `main` (default); `worker` for processors |
 *
 * On a worker thread a processor is called asynchronously
 * (instance/worker/worker-processor.ts): that is what lets the instances of
 * a parallel node use more than one core. In modes `fuel` and `none` the
 * worker instantiates the same compiled module as the main thread would (fuel
 * metered in the worker, same `WEIR_LIMIT_CPU`), with no watchdog. The other
 * kinds have synchronous interfaces, so a worker for them
 * (instance/worker/blocking-worker.ts) makes the calling thread wait, serving
 * the guest's host calls, for at most `timeoutMs`: only mode `worker` runs
 * them there, for the wall-clock limit, never for speed.
 */
import type { CpuMode, CpuThread, InstanceLimits } from '../contract/limits.js';
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

/** The node kinds a mode that runs on the main thread by default can move to a worker thread: asynchronous calls only. */
const WORKER_THREAD_KINDS: readonly PluginKind[] = ['processor'];

/** How errors name a kind. */
const KIND_NAMES: Readonly<Record<PluginKind, string>> = {
  source: 'source',
  processor: 'processor',
  aggregator: 'windowed processor',
  sink: 'sink',
  service: 'service',
};

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
   * (an unsupported kind, a setting this mode does not read), on `thread`
   * (`cpu.thread` as written, own or inherited; undefined: the mode's own).
   */
  problems(kind: PluginKind, written: ReadonlySet<string>, thread?: CpuThread): CpuModeProblem[];
  /** The thread an instance of this mode runs on when `cpu.thread` is not set. */
  readonly thread: CpuThread;
  /** The threads this mode can run an instance on, with the kinds each can run. */
  readonly threads: Readonly<Partial<Record<CpuThread, readonly PluginKind[]>>>;
  /**
   * Where an instance of this mode runs by default (instance/instantiate.ts
   * maps it to the code that runs it); {@link cpuRunnerOf} gives where an
   * instance with given limits runs.
   */
  readonly runner: CpuRunner;
  /**
   * Refuses a `kind` this mode cannot limit, or cannot run on `thread`,
   * before anything is created (validation reports the same through
   * {@link problems}).
   *
   * @throws WeirError `WEIR_CONFIG_INVALID`
   */
  admit(kind: PluginKind, site: InstanceSite, thread?: CpuThread): void;
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

const RUNNERS: Readonly<Record<CpuThread, CpuRunner>> = { main: 'in-thread', worker: 'worker' };

function strategy(mode: CpuMode, settings: readonly CpuSetting[], fuelOf: CpuModeStrategy['fuelOf'], threads: CpuModeStrategy['threads']): CpuModeStrategy {
  const kinds = PLUGIN_KINDS;
  const thread: CpuThread = threads.main ? 'main' : 'worker';
  /** Why `kind` cannot run on `on` in this mode, if it cannot. */
  const threadProblem = (kind: PluginKind, on: CpuThread): CpuModeProblem | undefined => {
    const onThread = threads[on];
    if (onThread?.includes(kind)) return undefined;
    if (!onThread) {
      return { field: 'cpu/thread', message: `cpu mode "${mode}" runs every instance on ${thread === 'worker' ? 'a worker thread' : 'the main thread'}, not "${on}"`, hint: `remove "thread", or use a cpu mode that runs on the ${on} thread` };
    }
    return {
      field: 'cpu/thread',
      message: `cpu.thread "${on}" runs processors only: a ${KIND_NAMES[kind]} is called synchronously, so a worker thread would only make the main thread wait for it`,
      hint: 'remove "thread" (the node runs on the main thread), or use cpu mode "worker" for a wall-clock limit in a thread of its own',
    };
  };
  return {
    mode,
    kinds,
    settings,
    fuelOf,
    thread,
    threads,
    runner: RUNNERS[thread],
    admit: (kind, site, on = thread) => {
      if (!kinds.includes(kind)) {
        throw new WeirError('WEIR_CONFIG_INVALID', `cpu mode "${mode}" cannot limit a ${kind} node (${site.node})`, { node: site.node, plugin: site.plugin, mode });
      }
      const problem = threadProblem(kind, on);
      if (problem) throw new WeirError('WEIR_CONFIG_INVALID', `${problem.message} (${site.node})`, { node: site.node, plugin: site.plugin, mode, thread: on });
    },
    problems(kind, written, on) {
      const problems: CpuModeProblem[] = [];
      if (!kinds.includes(kind)) {
        problems.push({ field: 'cpu/mode', message: `cpu mode "${mode}" cannot limit a ${kind} node`, hint: `use one of ${Object.values(CPU_MODES).filter((s) => s.kinds.includes(kind)).map((s) => `"${s.mode}"`).join(', ')}` });
      }
      const problem = on === undefined ? undefined : threadProblem(kind, on);
      if (problem) problems.push(problem);
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
  fuel: strategy('fuel', ['fuel'], (limits) => limits.fuel, { main: PLUGIN_KINDS, worker: WORKER_THREAD_KINDS }),
  worker: strategy('worker', ['timeoutMs'], () => undefined, { worker: PLUGIN_KINDS }),
  none: strategy('none', [], () => undefined, { main: PLUGIN_KINDS, worker: WORKER_THREAD_KINDS }),
};

/** The strategy of `mode`. */
export function cpuModeOf(mode: CpuMode): CpuModeStrategy {
  return CPU_MODES[mode];
}

/** The thread an instance with `limits` runs on: `cpu.thread` when set, else its mode's own. */
export function cpuThreadOf(limits: Pick<InstanceLimits, 'cpuMode' | 'cpuThread'>): CpuThread {
  return limits.cpuThread ?? CPU_MODES[limits.cpuMode].thread;
}

/** Where an instance with `limits` runs: on the calling thread, or in a worker thread of its own. */
export function cpuRunnerOf(limits: Pick<InstanceLimits, 'cpuMode' | 'cpuThread'>): CpuRunner {
  return RUNNERS[cpuThreadOf(limits)];
}
