/**
 * Runs a compiled pipeline: one async task per node instance, joined by the
 * bounded channels of a {@link Wiring} (fan-out pushes each batch to every
 * reader; fan-in merges producers into one channel).
 *
 * Lifecycle: `start()` creates every instance first (services, then the
 * rest) and fails before any record moves if one cannot be created. Then
 * sources poll until they are done or `stop()` is called; each node ends
 * when its input ends, so a stop drains: every record read is written or
 * counted. A processor or sink whose `onError` policy is `fail` (the
 * default) aborts the run: channels are cancelled, sinks are flushed and
 * closed, and `done` resolves with status `failed` and the error. A source
 * that fails stops the run as a stop does (every source stops, what was read
 * drains to the sinks), and then the run fails with that source's error.
 *
 * What a node holds (plugin instances, open windows, an open sink, a source
 * and its position, keyed state) lives as long as the node, not as long as
 * a wiring: a structural pipeline.json edit ({@link PipelineRun.apply})
 * pauses the sources, lets the wiring drain as at a stop (but kept nodes
 * neither close windows nor sinks), rewires, and resumes.
 */
import type { Logger } from 'pino';
import type { Readable, Writable } from 'node:stream';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { NodeConfig, PipelineConfig } from '../config/pipeline-config.js';
import type { ConnectorContext, ConnectorRegistry, Sink, Source } from '../connectors/connector.js';
import type { PluginModule } from '../engine/engine.js';
import { instantiate } from '../instance/instantiate.js';
import type { Instantiate } from '../instance/instantiate.js';
import { createHostContext } from '../linker/host-context.js';
import { LogLimiter } from '../linker/log-limiter.js';
import { BlockingHttpClient } from '../linker/http/blocking-client.js';
import type { HostContext, PluginMetrics, ServiceCaller } from '../linker/host-context.js';
import { MemoryKeyedState, StagedKeyedState } from '../state/keyed-state.js';
import type { KeyedState } from '../state/keyed-state.js';
import type { AggregatorInstance, PluginInstance, PluginKind, PollResult, ProcessorInstance, ServiceInstance, SinkInstance, SourceInstance } from '../contract/plugin.js';
import { WindowOperator } from './window-operator.js';
import type { StreamRecord } from '../records/record.js';
import type { BatchChannel } from './batch-channel.js';
import { BatchFormer } from './batch-former.js';
import { Partitioner } from './partitioner.js';
import { Wiring, instancesOf } from './wiring.js';
import { diffPipelines, isStructural } from '../config/diff.js';
import type { PipelineDiff } from '../config/diff.js';
import type { NodeOutputs } from './node-outputs.js';
import { pluginSink, pluginSource } from './plugin-adapters.js';
import { totalsOf } from './run-summary.js';
import type { NodeStats, RunStatus, RunSummary } from './run-summary.js';
import { WeirError, hasCode, messageOf } from '../errors/errors.js';
import { instanceLimits, stateLimits } from '../contract/limits.js';
import { POISONING_CODES } from '../sandbox/call-guard.js';
import { NodeResources } from './node-resources.js';
import { OneShot, RAISED, TIMED_OUT, within } from './one-shot.js';

/** What {@link PipelineRun.reload} did for one node. */
export type ReloadOutcome =
  /** `selfTested`: records `checkBeforeSwitch` checked (the sample self-test of `host run`), 0 when none. */
  | { node: string; ok: true; sha256: string; selfTested: number }
  | { node: string; ok: false; sha256: string; error: WeirError };

/** What {@link PipelineRun.apply} did with an edited pipeline. */
export interface ApplyOutcome {
  ok: boolean;
  /** Plugin nodes switched to a new plugin, config, limits or grants (when ok). */
  changed: string[];
  /** Nodes added, removed, and rewired (inputs, parallelism, partition, batch, onError) (when ok). */
  added: string[];
  removed: string[];
  rewired: string[];
  /** Why nothing was applied (when not ok). */
  reasons: string[];
}

/** What a run needs besides its config. */
export interface RunDependencies {
  /** Loaded and checked plugin modules by node id (see `checkPlugins`). */
  modules: ReadonlyMap<string, PluginModule>;
  connectors: ConnectorRegistry;
  logger: Logger;
  stdin: Readable;
  stdout: Writable;
  /** A further check before a node switches to a new plugin (hot reload, pipeline edits); `host run` passes the sample self-test. */
  checkBeforeSwitch?: BeforeSwitchCheck;
  /** Creates every plugin instance of the run (default: instance/instantiate.ts); tests pass one that observes or stands in. */
  instantiate?: Instantiate;
}

/**
 * Checks `module` as `node`'s next plugin after the built-in checks; throws
 * to refuse it, returns the number of records it checked. `callService`
 * reaches the pipeline's services as the node does.
 */
export type BeforeSwitchCheck = (module: PluginModule, node: NodeConfig, callService: ServiceCaller) => Promise<number>;

/** The lifecycle of a run. */
export type RunState = 'starting' | 'running' | 'draining' | RunStatus;

/** A source node: what it reads with, and where it got to. */
interface SourceRuntime {
  source: Source;
  /** The plugin version it runs (compared with the node's to reload). */
  version: number;
  /** The last position a plugin source reported (a reloaded one resumes after it). */
  position: Uint8Array | undefined;
  /** Closed: finished, stopped or removed; it feeds nothing any more. */
  closed: boolean;
  /** A poll still waiting (stdin, say) when the source paused for a rewire; the next wiring takes its records first. */
  pending?: Promise<PollResult>;
}

/** One instance of a processor node; its keyed state writes are staged per call. */
interface ProcessorLane {
  instance: ProcessorInstance;
  state: StagedKeyedState;
  version: number;
}

/** One instance of a windowed processor and its open windows. */
interface AggregatorLane {
  instance: AggregatorInstance;
  operator: WindowOperator;
  version: number;
}

type Lane = ProcessorLane | AggregatorLane;

interface SinkRuntime {
  sink: Sink;
  version: number;
}

/** What one node holds while it is part of the run. */
type NodeRuntime =
  | { kind: 'source'; source: SourceRuntime }
  | { kind: 'processor'; lanes: Lane[] }
  | { kind: 'sink'; sink: SinkRuntime }
  | { kind: 'service'; instance: ServiceInstance };

/** A structural edit waiting for the current wiring to drain. */
interface PendingRewire {
  /** Nodes that go on after the rewire: they keep their windows open and their sinks and sources open. */
  kept: ReadonlySet<string>;
  /** Switches to the edited pipeline (the wiring has drained). */
  commit(): Promise<void>;
  /** Closes what was built for the edit; the run is ending. */
  abandon(reason: string): Promise<void>;
}

/** One running pipeline. */
export class PipelineRun {
  #state: RunState = 'starting';
  #failure: WeirError | undefined;
  /** The first source that failed: the run drains what was read, then fails with this (see `#sourceFailed`). */
  #sourceFailure: WeirError | undefined;
  /** Set by the first `stop()` (a second changes nothing). */
  #stopRequested = false;
  readonly #deps: RunDependencies;
  readonly #stats = new Map<string, NodeStats>();
  /** The pipeline as it runs now (an applied pipeline.json edit replaces it). */
  #running: PipelineConfig;
  /** Each node's config as it runs now. */
  readonly #nodes: Map<string, NodeConfig>;
  /** The plugin module each node runs now (hot reload replaces entries). */
  readonly #modules: Map<string, PluginModule>;
  /** Bumped when a node's plugin is replaced; instances compare it before each batch. */
  readonly #versions = new Map<string, number>();
  readonly #runtimes = new Map<string, NodeRuntime>();
  readonly #services = new Map<string, ServiceInstance>();
  readonly #restarting = new Map<string, Promise<void>>();
  readonly #states = new Map<string, MemoryKeyedState>();
  readonly #metrics = new Map<string, PluginMetrics>();
  /** One plugin-log limit per node, shared by its instances. */
  readonly #logLimiters = new Map<string, LogLimiter>();
  readonly #resources = new Map<string, NodeResources>();
  /** Sends the HTTP requests of in-thread plugins (its worker starts on the first one). */
  readonly #http = new BlockingHttpClient();
  #wiring: Wiring | undefined;
  #rewire: PendingRewire | undefined;
  /** Raised when a rewire is requested during the current wiring, or the run stops: a waiting source stops waiting. */
  #interrupt = new OneShot();
  /** Ends a drain that takes longer than the deadline given to `stop()`. */
  #drainTimer: NodeJS.Timeout | undefined;
  /** Raised when the drain ran out of time: nodes get {@link STUCK_GRACE_MS} more, then the run ends without them. */
  readonly #drainOver = new OneShot();
  /** Set when the drain ran out of time: records still queued, by the node they were queued for. */
  #drainTimedOut: { timeoutMs: number; notWritten: Record<string, number> } | undefined;
  /** Set once the last wiring has drained: no structural edit can start. */
  #finishing = false;
  readonly #started = performance.now();
  #done: Promise<RunSummary> | undefined;

  private constructor(config: PipelineConfig, deps: RunDependencies) {
    this.#deps = deps;
    this.#running = config;
    this.#modules = new Map(deps.modules);
    this.#nodes = new Map(config.nodes.map((n) => [n.id, n]));
  }

  /**
   * Creates every node and starts the flow.
   *
   * @throws WeirError when a node cannot be created (its plugin fails to
   *   instantiate or rejects its config); nothing has run then.
   */
  static async start(config: PipelineConfig, deps: RunDependencies): Promise<PipelineRun> {
    const run = new PipelineRun(config, deps);
    try {
      // Services first: processors may call them as soon as they are configured.
      for (const node of servicesFirst(config.nodes)) {
        run.#versions.set(node.id, 0);
        run.#install(node, await run.#createNode(node, run.#modules.get(node.id)));
      }
    } catch (error) {
      await run.#closeAll(() => {});
      throw error;
    }
    run.#state = 'running';
    run.#done = run.#runAll();
    return run;
  }

  /** The current state. */
  get state(): RunState {
    return this.#state;
  }

  /** Resolves with the summary once every node has finished. */
  get done(): Promise<RunSummary> {
    return this.#done!;
  }

  /**
   * Stops the sources and lets everything in flight drain through to the
   * sinks. With `drainTimeoutMs`, a drain that takes longer stops there:
   * what is still queued is dropped and counted per node (the summary's
   * `drain.notWritten`); a write in progress finishes first. A stop while
   * the run drains after a source failed sets that drain's deadline.
   */
  stop({ drainTimeoutMs }: { drainTimeoutMs?: number } = {}): void {
    if (this.#stopRequested || (this.#state !== 'running' && this.#state !== 'draining')) return;
    this.#stopRequested = true;
    this.#deps.logger.info({ pipeline: this.#running.name, ...(drainTimeoutMs !== undefined ? { drainTimeoutMs } : {}) }, 'stopping: sources stop, in-flight records drain');
    this.#state = 'draining';
    this.#interrupt.raise();
    if (drainTimeoutMs !== undefined) this.#drainTimer = setTimeout(() => this.#endDrain(drainTimeoutMs), drainTimeoutMs);
  }

  /** The drain ran out of time: drop what is queued, counting it per node. */
  #endDrain(timeoutMs: number): void {
    if (this.#state !== 'draining' || this.#failure) return;
    const notWritten = Object.fromEntries(this.#wiring?.cancel() ?? []);
    this.#drainTimedOut = { timeoutMs, notWritten };
    this.#deps.logger.warn({ drainTimeoutMs: timeoutMs, notWritten }, 'drain timed out: records still queued are not written');
    this.#drainOver.raise();
  }

  /**
   * Switches every node that runs `module.file` to `module`, after checking
   * it: it must fit the node's world and grants, instantiate under the
   * node's limits and accept the node's config. Each instance switches
   * before its next batch; a batch in flight finishes on the old version.
   * A plugin that fails a check changes nothing.
   */
  async reload(module: PluginModule): Promise<ReloadOutcome[]> {
    const outcomes: ReloadOutcome[] = [];
    for (const node of this.#nodes.values()) {
      if (node.implementation.type !== 'plugin' || node.implementation.path !== module.file) continue;
      try {
        this.#refuseWhenFinished(node.id);
        const selfTested = await this.#checkReplacement(node, module);
        this.#refuseWhenFinished(node.id);
        await this.#switchPlugin(node, module);
        outcomes.push({ node: node.id, ok: true, sha256: module.sha256, selfTested });
      } catch (error) {
        const stats = this.#stats.get(node.id)!;
        stats.reloadsRejected = (stats.reloadsRejected ?? 0) + 1;
        outcomes.push({ node: node.id, ok: false, sha256: module.sha256, error: error instanceof WeirError ? error : new WeirError('WEIR_PLUGIN_LOAD_FAILED', messageOf(error), { node: node.id }) });
      }
    }
    return outcomes;
  }

  /**
   * Applies an edited pipeline.json as a diff (see `diffPipelines`). Every
   * new piece is built and checked first: changed plugins get a trial
   * instance, added nodes and extra instances are created and configured.
   * If anything fails, what was built is closed and the pipeline runs on as
   * it was. Plugin changes alone switch between batches; a structural
   * change pauses the sources, lets in-flight records drain, rewires and
   * resumes (sources continue where they were, windows and keyed state
   * carry over), and resolves once the new pipeline runs.
   */
  async apply(edited: PipelineConfig, modules: ReadonlyMap<string, PluginModule>): Promise<ApplyOutcome> {
    if (!this.#accepting()) return refusedEdit(['the run has finished']);
    if (this.#rewire) return refusedEdit([ANOTHER_EDIT]);
    const diff = diffPipelines(this.#running, edited);
    if (diff.refused.length > 0) return refusedEdit(diff.refused);
    const next = new Map(edited.nodes.map((n) => [n.id, n]));
    for (const id of diff.changed) {
      try {
        await this.#checkReplacement(next.get(id)!, modules.get(id)!);
      } catch (error) {
        return refusedEdit([`node "${id}": ${messageOf(error)}`]);
      }
    }
    if (isStructural(diff)) return this.#applyStructural(edited, diff, modules);
    if (!this.#accepting()) return refusedEdit(['the run has finished']);
    if (this.#rewire) return refusedEdit([ANOTHER_EDIT]);
    for (const id of diff.changed) await this.#switchPlugin(next.get(id)!, modules.get(id)!);
    this.#running = edited;
    return applied(diff);
  }

  /** A snapshot of the per-node counters. */
  stats(): NodeStats[] {
    return [...this.#stats.values()].map((s) => {
      const resources = this.#resources.get(s.id)?.summary();
      const logLinesDropped = this.#logLimiters.get(s.id)?.dropped;
      return { ...s, queueHighWater: Math.max(s.queueHighWater, this.#wiring?.highWater(s.id) ?? 0), ...(resources ? { resources } : {}), ...(logLinesDropped ? { logLinesDropped } : {}) };
    });
  }

  /** Plugin-defined metrics of a node. */
  pluginMetrics(nodeId: string): PluginMetrics | undefined {
    return this.#metrics.get(nodeId);
  }

  async #applyStructural(edited: PipelineConfig, diff: PipelineDiff, modules: ReadonlyMap<string, PluginModule>): Promise<ApplyOutcome> {
    const notRunning = 'the pipeline is stopping; nodes can be added, removed or rewired only while it runs';
    if (this.#state !== 'running' || this.#finishing) return refusedEdit([notRunning]);
    if (this.#rewire) return refusedEdit([ANOTHER_EDIT]);
    const next = new Map(edited.nodes.map((n) => [n.id, n]));
    const built = new Map<string, NodeRuntime>();
    const extraLanes = new Map<string, Lane[]>();
    // Rolling back: a close that fails is logged (the edit is refused either way).
    const closeFailed = (id: string) => (error: unknown) => this.#deps.logger.warn({ node: id, err: messageOf(error) }, 'closing a node built for a refused edit failed');
    const closeBuilt = async (): Promise<void> => {
      for (const [id, runtime] of built) {
        await this.#closeRuntime(runtime).catch(closeFailed(id));
        this.#services.delete(id);
        this.#states.delete(id);
        this.#resources.delete(id);
        this.#metrics.delete(id);
        this.#versions.delete(id);
      }
      for (const [id, lanes] of extraLanes) {
        for (const lane of lanes) {
          try {
            lane.instance.close();
          } catch (error) {
            closeFailed(id)(error);
          }
        }
      }
    };
    let building = '';
    try {
      for (const node of servicesFirst(diff.added.map((id) => next.get(id)!))) {
        building = node.id;
        this.#versions.set(node.id, 0);
        const runtime = await this.#createNode(node, modules.get(node.id));
        built.set(node.id, runtime);
        // Added processors may call an added service while they are configured.
        if (runtime.kind === 'service') this.#services.set(node.id, runtime.instance);
      }
      for (const id of diff.rewired) {
        building = id;
        const node = next.get(id)!;
        const runtime = this.#runtimes.get(id)!;
        if (runtime.kind !== 'processor') continue;
        const lanes: Lane[] = [];
        extraLanes.set(id, lanes);
        for (let i = runtime.lanes.length; i < instancesOf(node); i++) lanes.push(await this.#createLane(node, modules.get(id) ?? this.#modules.get(id)!));
      }
    } catch (error) {
      await closeBuilt();
      return refusedEdit([`node "${building}": ${messageOf(error)}`]);
    }
    if (this.#state !== 'running' || this.#finishing || this.#rewire) {
      await closeBuilt();
      return refusedEdit([this.#rewire ? ANOTHER_EDIT : notRunning]);
    }
    const kept = new Set(edited.nodes.map((n) => n.id).filter((id) => this.#nodes.has(id)));
    this.#deps.logger.info({ added: diff.added, removed: diff.removed, rewired: diff.rewired }, 'rewiring the pipeline: sources pause while in-flight records drain');
    return new Promise<ApplyOutcome>((resolve) => {
      this.#interrupt.raise();
      this.#rewire = {
        kept,
        commit: async () => {
          for (const id of diff.removed) await this.#removeNode(id);
          for (const [id, lanes] of extraLanes) {
            const runtime = this.#runtimes.get(id) as { lanes: Lane[] };
            runtime.lanes.push(...lanes);
            for (const lane of runtime.lanes.splice(instancesOf(next.get(id)!))) lane.instance.close();
          }
          this.#nodes.clear();
          for (const node of edited.nodes) this.#nodes.set(node.id, node);
          this.#running = edited;
          for (const [id, runtime] of built) {
            const module = modules.get(id);
            if (module) this.#modules.set(id, module);
            this.#install(next.get(id)!, runtime);
          }
          for (const id of diff.changed) await this.#switchPlugin(next.get(id)!, modules.get(id)!);
          resolve(applied(diff));
        },
        abandon: async (reason) => {
          await closeBuilt();
          resolve(refusedEdit([reason]));
        },
      };
    });
  }

  /** Whether the run still takes replacements (it is running or draining). */
  #accepting(): boolean {
    return this.#state === 'running' || this.#state === 'draining';
  }

  #refuseWhenFinished(node: string): void {
    if (!this.#accepting()) throw new WeirError('WEIR_RELOAD_REFUSED', 'the run has finished', { node });
  }

  /** Whether `id` goes on after the wiring that is draining now (a rewire is pending and keeps it). */
  #keeps(id: string): boolean {
    return !this.#failure && this.#rewire?.kept.has(id) === true;
  }

  /**
   * Checks `module` as the node's next plugin: world and grants, a trial
   * instance under the node's limits accepting the node's config, then
   * `checkBeforeSwitch` if given. Returns what that checked (records).
   */
  async #checkReplacement(node: NodeConfig, module: PluginModule): Promise<number> {
    const where = { node: node.id, plugin: module.file };
    const problems = module.check(worldOf(node), node.capabilities);
    if (problems.length > 0) throw new WeirError('WEIR_PLUGIN_WORLD_MISMATCH', `${module.file} does not fit node "${node.id}": ${problems.join('; ')}`, { ...where, problems });
    // A trial instance with the node's limits and config; its state writes are discarded.
    const state = new StagedKeyedState(this.#nodeState(node));
    const trial = await this.#instantiate(node, module, state, { track: false });
    try {
      if (trial.kind === 'processor' || trial.kind === 'service' || trial.kind === 'aggregator') await trial.configure(JSON.stringify(node.config));
      else if (trial.kind === 'sink') trial.open(JSON.stringify(node.config));
      else if (trial.kind === 'source') trial.open(JSON.stringify(node.config), undefined);
    } finally {
      state.rollback();
      trial.close();
    }
    return this.#deps.checkBeforeSwitch ? this.#deps.checkBeforeSwitch(module, node, this.#serviceCaller(node)) : 0;
  }

  /** Makes `module` the node's plugin: its instances switch before their next batch (services at once). */
  async #switchPlugin(node: NodeConfig, module: PluginModule): Promise<void> {
    this.#nodes.set(node.id, node);
    this.#modules.set(node.id, module);
    this.#versions.set(node.id, this.#versions.get(node.id)! + 1);
    if (node.kind === 'service') await this.#replaceService(node);
    const stats = this.#stats.get(node.id)!;
    stats.pluginSha256 = module.sha256;
    stats.pluginLoadedAt = new Date().toISOString();
    stats.reloads = (stats.reloads ?? 0) + 1;
  }

  /** Runs wiring after wiring (one more per structural edit) until the last one drains, then closes every node. */
  async #runAll(): Promise<RunSummary> {
    for (;;) {
      const wiring = new Wiring(this.#running.nodes, (id) => this.#producing(id));
      this.#wiring = wiring;
      this.#interrupt = new OneShot();
      if (this.#state === 'draining') this.#interrupt.raise();
      const tasks = Promise.all(this.#running.nodes.map((node) => this.#task(node, wiring)));
      if ((await this.#drainOver.race(tasks)) === RAISED && (await within(tasks, STUCK_GRACE_MS)) === TIMED_OUT) {
        // The drain timed out and a node is still stuck (a write that does not return): leave it behind.
        tasks.catch(() => {});
        this.#deps.logger.warn({ waitedMs: STUCK_GRACE_MS }, 'after the drain timed out, a node is still busy (a write that does not return); leaving it');
      }
      for (const stats of this.#stats.values()) stats.queueHighWater = Math.max(stats.queueHighWater, wiring.highWater(stats.id));
      const rewire = this.#rewire;
      if (!rewire) break;
      // Other edits stay refused until this one is done.
      if (this.#failure || this.#drainTimedOut) {
        await rewire.abandon(this.#failure ? 'the pipeline failed while it was being rewired' : 'the drain timed out while the pipeline was being rewired');
        this.#rewire = undefined;
        break;
      }
      if (this.#sourceFailure) {
        // Sources that paused for the edit may hold a poll with records: one more
        // wiring of the pipeline as it is takes them to the sinks (and closes windows).
        await rewire.abandon('a source failed while the pipeline was being rewired');
        this.#rewire = undefined;
        continue;
      }
      await rewire.commit();
      this.#rewire = undefined;
    }
    this.#finishing = true;
    clearTimeout(this.#drainTimer);
    if (this.#sourceFailure) this.#failure ??= this.#sourceFailure;
    await this.#closeAll((error, node) => this.#fail(error, node));
    const status: RunStatus = this.#failure ? 'failed' : this.#state === 'draining' ? 'stopped' : 'completed';
    this.#state = status;
    const nodes = this.stats();
    if (this.#drainTimedOut) {
      // A sink's batch in a write that never returned was received and not written.
      const notWritten = this.#drainTimedOut.notWritten;
      for (const n of nodes) {
        const unwritten = n.kind === 'sink' ? n.in - n.out - n.errors : 0;
        if (unwritten > 0) notWritten[n.id] = (notWritten[n.id] ?? 0) + unwritten;
      }
    }
    for (const node of nodes) {
      const { id, implementation, in: received, out, errors, filtered, dropped, queueHighWater, restarts, resources } = node;
      this.#deps.logger.info({ node: id, implementation, in: received, out, errors, filtered, dropped, queueHighWater, restarts, ...(resources ? { resources } : {}) }, 'node summary');
    }
    return {
      pipeline: this.#running.name,
      status,
      wallMs: performance.now() - this.#started,
      totals: totalsOf(nodes),
      nodes,
      ...(this.#drainTimedOut ? { drain: { timedOut: true, ...this.#drainTimedOut } } : {}),
      ...(this.#failure ? { error: this.#failure.toJSON() } : {}),
    };
  }

  /** Whether source `id` still produces (it is not finished, stopped or removed). */
  #producing(id: string): boolean {
    const runtime = this.#runtimes.get(id);
    return runtime?.kind === 'source' && !runtime.source.closed;
  }

  /** The tasks of one node in one wiring. */
  async #task(node: NodeConfig, wiring: Wiring): Promise<void> {
    const runtime = this.#runtimes.get(node.id)!;
    if (runtime.kind === 'source' && !runtime.source.closed) await this.#sourceTask(node, runtime.source, wiring);
    if (runtime.kind === 'processor') await this.#processorTask(node, runtime.lanes, wiring);
    if (runtime.kind === 'sink') await this.#sinkTask(node, runtime.sink, wiring);
  }

  /** Creates what a node holds: its instances (configured), or its connector. */
  async #createNode(node: NodeConfig, module: PluginModule | undefined): Promise<NodeRuntime> {
    const connectorName = node.implementation.type === 'connector' ? node.implementation.name : '';
    switch (node.kind) {
      case 'service': {
        const instance = (await this.#instantiate(node, module)) as ServiceInstance;
        instance.configure(JSON.stringify(node.config));
        return { kind: 'service', instance };
      }
      case 'source': {
        const source = module ? await this.#openPluginSource(node, module, undefined) : this.#deps.connectors.source(connectorName)!.create({ ...node.config }, this.#connectorContext(node));
        return { kind: 'source', source: { source, version: this.#versions.get(node.id)!, position: undefined, closed: false } };
      }
      case 'sink': {
        const sink = module ? await this.#openPluginSink(node, module) : this.#deps.connectors.sink(connectorName)!.create({ ...node.config }, this.#connectorContext(node));
        return { kind: 'sink', sink: { sink, version: this.#versions.get(node.id)! } };
      }
      default: {
        const lanes: Lane[] = [];
        try {
          for (let i = 0; i < instancesOf(node); i++) lanes.push(await this.#createLane(node, module!));
        } catch (error) {
          for (const lane of lanes) lane.instance.close();
          throw error;
        }
        return { kind: 'processor', lanes };
      }
    }
  }

  /** Makes a created node part of the run. */
  #install(node: NodeConfig, runtime: NodeRuntime): void {
    this.#runtimes.set(node.id, runtime);
    if (runtime.kind === 'service') this.#services.set(node.id, runtime.instance);
    this.#stats.set(node.id, {
      id: node.id,
      kind: node.kind,
      implementation: node.implementation.type === 'plugin' ? `plugin:${node.implementation.file}` : `connector:${node.implementation.name}`,
      ...(this.#modules.has(node.id) ? { pluginSha256: this.#modules.get(node.id)!.sha256, pluginLoadedAt: new Date().toISOString() } : {}),
      in: 0, out: 0, errors: 0, filtered: 0, dropped: 0, skipped: 0, deadLettered: 0, restarts: 0, queueHighWater: 0,
    });
  }

  /** Takes a node out of the run (after the wiring drained); its counters stay in the summary. */
  async #removeNode(id: string): Promise<void> {
    const runtime = this.#runtimes.get(id)!;
    this.#runtimes.delete(id);
    this.#services.delete(id);
    this.#stats.get(id)!.removed = true;
    await this.#closeRuntime(runtime).catch((error: unknown) => this.#fail(error, this.#nodes.get(id)!));
  }

  async #closeRuntime(runtime: NodeRuntime): Promise<void> {
    if (runtime.kind === 'source') await this.#closeSource(runtime.source);
    if (runtime.kind === 'processor') for (const lane of runtime.lanes) lane.instance.close();
    if (runtime.kind === 'sink') await runtime.sink.sink.close();
    if (runtime.kind === 'service') runtime.instance.close();
  }

  /** Closes every node: sinks first (flushing; a failure is reported), services last. */
  async #closeAll(onSinkFailure: (error: unknown, node: NodeConfig) => void): Promise<void> {
    const order = [...this.#runtimes].sort(([, a], [, b]) => CLOSE_ORDER[a.kind] - CLOSE_ORDER[b.kind]);
    for (const [id, runtime] of order) {
      try {
        // After a timed-out drain a sink may never finish closing (its writes do not return): bounded then.
        if (this.#drainTimedOut && (await within(this.#closeRuntime(runtime), STUCK_GRACE_MS)) === TIMED_OUT) {
          this.#deps.logger.warn({ node: id, waitedMs: STUCK_GRACE_MS }, 'closing a node did not finish after the drain timed out');
        }
        if (!this.#drainTimedOut) await this.#closeRuntime(runtime);
      } catch (error) {
        if (runtime.kind === 'sink') onSinkFailure(error, this.#nodes.get(id)!);
        else this.#deps.logger.warn({ node: id, err: messageOf(error) }, 'error while closing a node');
      }
    }
    this.#runtimes.clear();
    this.#http.close();
  }

  async #closeSource(runtime: SourceRuntime): Promise<void> {
    if (runtime.closed) return;
    runtime.closed = true;
    await runtime.source.close();
  }

  /**
   * A processor or sink failed (or a sink could not flush): the run fails at
   * once; queued records are dropped. After a source failure the run's error
   * stays the source's (it came first); this one is logged.
   */
  #fail(error: unknown, node: NodeConfig): void {
    if (this.#failure) return;
    const failure = pipelineFailure(error, node);
    this.#deps.logger.error({ node: node.id, err: failure.toJSON() }, 'pipeline failed');
    this.#failure = this.#sourceFailure ?? failure;
    this.#wiring?.cancel();
  }

  /**
   * A source failed. What it returned before is good input (see `Source.poll`),
   * so the run stops as at `stop()`: every source stops and what was read
   * drains to the sinks; the run then fails with this error. A second source
   * failure is only logged.
   */
  #sourceFailed(error: unknown, node: NodeConfig): void {
    const failure = pipelineFailure(error, node);
    if (this.#sourceFailure || this.#failure) {
      this.#deps.logger.error({ node: node.id, err: failure.toJSON() }, 'another source failed while the pipeline was failing');
      return;
    }
    this.#sourceFailure = failure;
    this.#deps.logger.error({ node: node.id, err: failure.toJSON() }, 'source failed: sources stop, records already read drain to the sinks, then the pipeline fails');
    if (this.#state === 'running') this.#state = 'draining';
    this.#interrupt.raise();
  }

  /** The node's keyed state (one per node, shared by its instances). */
  #nodeState(node: NodeConfig): MemoryKeyedState {
    let state = this.#states.get(node.id);
    if (!state) this.#states.set(node.id, (state = new MemoryKeyedState(stateLimits(node.limits), node.id)));
    return state;
  }

  #hostContext(node: NodeConfig, plugin: string, state: KeyedState = this.#nodeState(node)): HostContext {
    let metrics = this.#metrics.get(node.id);
    if (!metrics) this.#metrics.set(node.id, (metrics = { counters: new Map(), gauges: new Map() }));
    let logLimiter = this.#logLimiters.get(node.id);
    if (!logLimiter) this.#logLimiters.set(node.id, (logLimiter = new LogLimiter()));
    return createHostContext({
      logLimiter,
      node: node.id,
      plugin,
      config: node.config,
      capabilities: node.capabilities,
      logger: this.#deps.logger,
      state,
      metrics,
      maxMetricNames: node.limits.maxMetricNames,
      callService: this.#serviceCaller(node),
      http: this.#http,
    });
  }

  /** How `node`'s plugin reaches the pipeline's services (a poisoned service is restarted). */
  #serviceCaller(node: NodeConfig): ServiceCaller {
    return (service, method, payload) => {
      const instance = this.#services.get(service);
      if (!instance) {
        throw new WeirError('WEIR_SERVICE_NOT_FOUND', `node "${node.id}" called service "${service}", which is not a service node of this pipeline`, { node: node.id, service });
      }
      try {
        return instance.call(method, payload);
      } catch (error) {
        if (POISONING_CODES.some((code) => hasCode(error, code))) this.#restartService(service);
        throw error;
      }
    };
  }

  /**
   * Swaps a service for a new instance of the node's current plugin. Calls are
   * synchronous and this runs between them, so no call sees half a swap.
   */
  async #replaceService(node: NodeConfig): Promise<void> {
    const runtime = this.#runtimes.get(node.id);
    if (runtime?.kind !== 'service') return;
    const old = runtime.instance;
    await this.#startService(node.id);
    old.close();
  }

  /** A new configured instance of service `id` as it runs now, in place of the current one. */
  async #startService(id: string): Promise<void> {
    const node = this.#nodes.get(id)!;
    const instance = (await this.#instantiate(node, this.#modules.get(id))) as ServiceInstance;
    instance.configure(JSON.stringify(node.config));
    this.#runtimes.set(id, { kind: 'service', instance });
    this.#services.set(id, instance);
  }

  /**
   * Replaces a poisoned service instance. Calls are synchronous, so the new
   * instance is created in the background; processors wait for it before
   * their next batch, and calls made before then fail (the caller's guest
   * gets an error result).
   */
  #restartService(id: string): void {
    if (this.#restarting.has(id)) return;
    const node = this.#nodes.get(id)!;
    this.#stats.get(id)!.restarts++;
    const poisoned = this.#services.get(id);
    const restart = this.#startService(id)
      .then(() => poisoned?.close())
      .catch((error: unknown) => this.#fail(error, node))
      .finally(() => this.#restarting.delete(id));
    this.#restarting.set(id, restart);
  }

  async #instantiate(node: NodeConfig, module: PluginModule | undefined, state?: KeyedState, { track = true } = {}): Promise<PluginInstance> {
    if (node.implementation.type !== 'plugin') throw new Error(`node ${node.id} is not a plugin node`);
    if (!module) throw new WeirError('WEIR_PLUGIN_NOT_FOUND', `plugin of node "${node.id}" was not loaded`, { node: node.id });
    const instance = await (this.#deps.instantiate ?? instantiate)(module, worldOf(node), this.#hostContext(node, node.implementation.file, state), instanceLimits(node.limits));
    if (track) {
      let resources = this.#resources.get(node.id);
      if (!resources) this.#resources.set(node.id, (resources = new NodeResources(node.limits)));
      resources.track(instance);
    }
    return instance;
  }

  /** A configured instance of a processor node, as the node and its plugin are now. */
  async #createLane(node: NodeConfig, module: PluginModule): Promise<Lane> {
    const version = this.#versions.get(node.id)!;
    if (node.window) {
      const instance = await this.#configuredAggregator(node, module);
      return { instance, operator: new WindowOperator(node.window, instance), version };
    }
    const state = new StagedKeyedState(this.#nodeState(node));
    return { instance: await this.#configuredProcessor(node, module, state), state, version };
  }

  async #configuredProcessor(node: NodeConfig, module: PluginModule, state: StagedKeyedState): Promise<ProcessorInstance> {
    const instance = (await this.#instantiate(node, module, state)) as ProcessorInstance;
    await instance.configure(JSON.stringify(node.config));
    state.commit();
    return instance;
  }

  async #configuredAggregator(node: NodeConfig, module: PluginModule): Promise<AggregatorInstance> {
    const instance = (await this.#instantiate(node, module)) as AggregatorInstance;
    instance.configure(JSON.stringify(node.config));
    return instance;
  }

  async #openPluginSource(node: NodeConfig, module: PluginModule, position: Uint8Array | undefined): Promise<Source> {
    const instance = (await this.#instantiate(node, module)) as SourceInstance;
    instance.open(JSON.stringify(node.config), position);
    return pluginSource(instance);
  }

  async #openPluginSink(node: NodeConfig, module: PluginModule): Promise<Sink> {
    const instance = (await this.#instantiate(node, module)) as SinkInstance;
    instance.open(JSON.stringify(node.config));
    return pluginSink(instance);
  }

  /** Emits `batch` and counts it: delivered records as `out`, records for an output nobody reads (they reach no sink) as `dropped`. */
  async #emit(outputs: NodeOutputs, batch: StreamRecord[], stats: NodeStats): Promise<void> {
    const { delivered, unrouted, refused } = await outputs.emit(batch);
    stats.out += delivered;
    stats.dropped += unrouted;
    // Emitted after the drain timed out: not passed on, and said so.
    if (refused > 0 && this.#drainTimedOut) this.#drainTimedOut.notWritten[stats.id] = (this.#drainTimedOut.notWritten[stats.id] ?? 0) + refused;
  }

  async #sourceTask(node: NodeConfig, runtime: SourceRuntime, wiring: Wiring): Promise<void> {
    const outputs = wiring.outputs(node.id);
    const stats = this.#stats.get(node.id)!;
    let finished = false;
    try {
      // A poll left waiting by a rewire is taken first, even when stopping: its records may have been read.
      while ((this.#state === 'running' && !this.#failure && !this.#rewire) || (runtime.pending && !this.#failure)) {
        if (!runtime.pending && node.implementation.type === 'plugin' && runtime.version !== this.#versions.get(node.id)) {
          // A reloaded source: the old instance acknowledges what it emitted, the new one resumes after it.
          runtime.version = this.#versions.get(node.id)!;
          await runtime.source.close();
          runtime.source = await this.#openPluginSource(this.#nodes.get(node.id)!, this.#modules.get(node.id)!, runtime.position);
        }
        const poll = runtime.pending ?? runtime.source.poll(node.batch.maxRecords);
        runtime.pending = undefined;
        // Raced per poll and detached when the poll settles: a pending signal must not retain every batch polled.
        const polled = await this.#interrupt.race(poll);
        if (polled === RAISED && this.#keeps(node.id)) {
          // A rewire while the source waits for input: pause now, keep the poll for the next wiring.
          runtime.pending = poll;
          poll.catch(() => {});
          break;
        }
        if (polled === RAISED) {
          // Stopping, or removed by an edit: what the poll still returns goes out in this wiring.
          const last = await this.#lastPoll(node, runtime, poll);
          if (last?.position) runtime.position = last.position;
          if (last) await this.#emit(outputs, last.records, stats);
          break;
        }
        if (polled.position) runtime.position = polled.position;
        await this.#emit(outputs, polled.records, stats);
        if (polled.done) {
          finished = true;
          break;
        }
        // Plugin calls are synchronous and channels resolve as microtasks, so a busy
        // pipeline would never reach the event loop: give timers and signals a turn.
        await yieldToEventLoop();
      }
    } catch (error) {
      this.#sourceFailed(error, node);
      finished = true;
    } finally {
      if (finished || !this.#keeps(node.id)) {
        await this.#closeSource(runtime).catch((error: unknown) => this.#deps.logger.warn({ node: node.id, err: messageOf(error) }, 'closing source failed'));
      }
      outputs.close();
    }
  }

  /**
   * The outcome of a poll still waiting when its source stops or is removed.
   * A connector's poll gets {@link SETTLE_MS} to return on its own (a read
   * in progress); then the connector is closed, so a wait for input ends,
   * and the poll gets up to {@link LAST_POLL_MS} more. A plugin source's
   * poll gets {@link LAST_POLL_MS} (its calls are bounded by its limits);
   * it is closed after.
   */
  async #lastPoll(node: NodeConfig, runtime: SourceRuntime, poll: Promise<PollResult>): Promise<PollResult | undefined> {
    const log = this.#deps.logger;
    const failed = (error: unknown): undefined => {
      log.warn({ node: node.id, err: messageOf(error) }, 'the last poll of a stopping source failed');
      return undefined;
    };
    const connector = node.implementation.type === 'connector';
    let last = await within(poll, connector ? SETTLE_MS : LAST_POLL_MS).catch(failed);
    if (last === TIMED_OUT && connector) {
      const closing = this.#closeSource(runtime).catch((error: unknown) => log.warn({ node: node.id, err: messageOf(error) }, 'closing source failed'));
      last = await within(poll, LAST_POLL_MS).catch(failed);
      await within(closing, LAST_POLL_MS);
    }
    if (last !== TIMED_OUT) return last;
    poll.catch(() => {});
    log.warn({ node: node.id }, 'a stopping source did not return its last poll in time; what it had not returned is not read');
    return undefined;
  }

  /**
   * A processor node: one task per instance (lane), each with its own
   * bounded input. With more than one lane, a dispatcher splits each input
   * batch among them (see Partitioner); every lane emits downstream on its
   * own, so per-key order holds under `partition: key`.
   */
  async #processorTask(node: NodeConfig, lanes: Lane[], wiring: Wiring): Promise<void> {
    const input = wiring.input(node.id);
    const laneTask = (lane: Lane, laneInput: BatchChannel) => ('operator' in lane ? this.#aggregatorLane(node, lane, laneInput, wiring) : this.#processorLane(node, lane, laneInput, wiring));
    if (lanes.length === 1) return laneTask(lanes[0]!, input);
    const laneInputs = wiring.laneInputs(node.id, lanes.length);
    const dispatch = async (): Promise<void> => {
      const partitioner = new Partitioner(node.partition, lanes.length);
      try {
        for (let batch = await input.pull(); batch; batch = await input.pull()) {
          const parts = partitioner.split(batch);
          for (let i = 0; i < lanes.length; i++) if (parts[i]!.length > 0) await laneInputs[i]!.push(parts[i]!);
        }
      } finally {
        for (const laneInput of laneInputs) laneInput.closeProducer();
      }
    };
    await Promise.all([dispatch(), ...lanes.map((lane, i) => laneTask(lane, laneInputs[i]!))]);
  }

  /** One instance of a windowed aggregation: records go through its WindowOperator. */
  async #aggregatorLane(node: NodeConfig, lane: AggregatorLane, input: BatchChannel, wiring: Wiring): Promise<void> {
    const outputs = wiring.outputs(node.id);
    const stats = this.#stats.get(node.id)!;
    const batches = new BatchFormer(input, node.batch);
    try {
      for (let batch = await batches.next(); batch; batch = await batches.next()) {
        if (lane.version !== this.#versions.get(node.id)) {
          // A reloaded plugin: the open windows and their accumulators go to the new instance.
          lane.version = this.#versions.get(node.id)!;
          const replaced = lane.instance;
          lane.instance = await this.#configuredAggregator(this.#nodes.get(node.id)!, this.#modules.get(node.id)!);
          lane.operator.usePlugin(lane.instance);
          replaced.close();
        }
        stats.in += batch.length;
        const { emitted, late } = lane.operator.add(batch);
        await this.#emit(outputs, [...emitted, ...late], stats);
      }
      // A node that goes on after a rewire keeps its windows open.
      if (!this.#keeps(node.id) && !this.#failure) await this.#emit(outputs, lane.operator.flush(), stats);
    } catch (error) {
      this.#resources.get(node.id)?.recordFailure(error);
      this.#fail(error, node);
    } finally {
      outputs.close();
    }
  }

  /** One instance of a processor node, fed by `input`, under the node's `onError` policy. */
  async #processorLane(node: NodeConfig, lane: ProcessorLane, input: BatchChannel, wiring: Wiring): Promise<void> {
    /** A new instance of the node's plugin as it is now (a reload or an edit may have changed plugin, config or limits). */
    const recreate = async (): Promise<void> => {
      lane.instance.close();
      lane.instance = await this.#configuredProcessor(this.#nodes.get(node.id)!, this.#modules.get(node.id)!, lane.state);
    };
    const outputs = wiring.outputs(node.id);
    const deadLetter = wiring.deadLetterOf(node);
    const stats = this.#stats.get(node.id)!;
    const { policy, maxAttempts, backoffMs } = node.onError;
    const resources = this.#resources.get(node.id)!;
    const log = this.#deps.logger;

    /**
     * Runs one batch under the node's `onError` policy and returns what to emit.
     * Under skip and dead-letter, a batch that fails with an error result or a
     * trap is run again record by record, so one bad record costs only itself;
     * a limit breach (memory, CPU, output) fails the whole batch, since
     * repeating it per record would repeat the breach.
     */
    const runBatch = async (batch: StreamRecord[]): Promise<StreamRecord[]> => {
      if (this.#restarting.size > 0) await Promise.all(this.#restarting.values());
      if (lane.version !== this.#versions.get(node.id)) {
        // A reloaded plugin: switch between batches; keyed state lives in the host and carries over.
        lane.version = this.#versions.get(node.id)!;
        await recreate();
      }
      for (let attempt = 1; ; attempt++) {
        try {
          const output = await lane.instance.process(batch);
          lane.state.commit();
          stats.filtered += Math.max(0, batch.length - output.length);
          return output;
        } catch (error) {
          lane.state.rollback();
          resources.recordFailure(error);
          if (POISONING_CODES.some((code) => hasCode(error, code)) || (error as WeirError).details?.kind === 'fatal') {
            await recreate();
            stats.restarts++;
          }
          if (policy === 'retry' && attempt < maxAttempts && (error as WeirError).details?.kind !== 'invalid-input') {
            log.warn({ node: node.id, attempt, err: messageOf(error) }, 'batch failed; retrying');
            await sleep(backoffMs * 2 ** (attempt - 1));
            continue;
          }
          if (policy !== 'skip' && policy !== 'dead-letter') {
            stats.errors += batch.length;
            throw error;
          }
          if (batch.length > 1 && ISOLATED_CODES.some((code) => hasCode(error, code))) {
            // One record may yield many: append in a loop (a spread would pass them all as call arguments).
            const output: StreamRecord[] = [];
            for (const record of batch) for (const out of await runBatch([record])) output.push(out);
            return output;
          }
          await this.#setAside(node, batch, error, deadLetter);
          return [];
        }
      }
    };

    const batches = new BatchFormer(input, node.batch);
    try {
      for (let batch = await batches.next(); batch; batch = await batches.next()) {
        stats.in += batch.length;
        const output = await runBatch(batch);
        await this.#emit(outputs, output, stats);
      }
    } catch (error) {
      this.#fail(error, node);
    } finally {
      outputs.close();
      deadLetter?.closeProducer();
    }
  }

  /**
   * Counts records that failed for good under `skip` or `dead-letter` and
   * sends them to the dead-letter sink (with the error as headers) under the latter.
   */
  async #setAside(node: NodeConfig, batch: StreamRecord[], error: unknown, deadLetter: BatchChannel | undefined): Promise<void> {
    const stats = this.#stats.get(node.id)!;
    stats.errors += batch.length;
    if (node.onError.policy === 'skip') {
      stats.skipped += batch.length;
      this.#deps.logger.warn({ node: node.id, records: batch.length, err: messageOf(error) }, 'records failed; skipped');
    } else {
      stats.deadLettered += batch.length;
      this.#deps.logger.warn({ node: node.id, records: batch.length, err: messageOf(error) }, 'records failed; dead-lettered');
      await deadLetter!.push(batch.map((r) => withErrorHeaders(r, error, node)));
    }
  }

  async #sinkTask(node: NodeConfig, runtime: SinkRuntime, wiring: Wiring): Promise<void> {
    const input = wiring.input(node.id);
    const deadLetter = wiring.deadLetterOf(node);
    const stats = this.#stats.get(node.id)!;
    try {
      for (let batch = await input.pull(); batch; batch = await input.pull()) {
        if (node.implementation.type === 'plugin' && runtime.version !== this.#versions.get(node.id)) {
          // A reloaded sink: the old instance flushes and closes, the new one takes the next batch.
          runtime.version = this.#versions.get(node.id)!;
          await runtime.sink.close();
          runtime.sink = await this.#openPluginSink(this.#nodes.get(node.id)!, this.#modules.get(node.id)!);
        }
        stats.in += batch.length;
        if (await this.#write(node, runtime, batch, deadLetter)) stats.out += batch.length;
      }
    } catch (error) {
      this.#fail(error, node);
    } finally {
      deadLetter?.closeProducer();
    }
  }

  /**
   * Writes one batch under the sink's `onError` policy; false when the batch
   * failed and was skipped or dead-lettered. A sink may have written part of
   * a batch before failing, so a failed batch is retried or set aside whole
   * (no record-by-record isolation: it would write those records twice).
   * A plugin sink that trapped or failed fatally is opened again first.
   */
  async #write(node: NodeConfig, runtime: SinkRuntime, batch: StreamRecord[], deadLetter: BatchChannel | undefined): Promise<boolean> {
    const { policy, maxAttempts, backoffMs } = node.onError;
    const stats = this.#stats.get(node.id)!;
    for (let attempt = 1; ; attempt++) {
      try {
        await runtime.sink.write(batch);
        return true;
      } catch (error) {
        this.#resources.get(node.id)?.recordFailure(error);
        if (node.implementation.type === 'plugin' && (POISONING_CODES.some((code) => hasCode(error, code)) || (error as WeirError).details?.kind === 'fatal')) {
          await runtime.sink.close().catch(() => {});
          runtime.sink = await this.#openPluginSink(this.#nodes.get(node.id)!, this.#modules.get(node.id)!);
          stats.restarts++;
        }
        if (policy === 'retry' && attempt < maxAttempts && (error as WeirError).details?.kind !== 'invalid-input') {
          this.#deps.logger.warn({ node: node.id, attempt, err: messageOf(error) }, 'write failed; retrying');
          await sleep(backoffMs * 2 ** (attempt - 1));
          continue;
        }
        if (policy !== 'skip' && policy !== 'dead-letter') {
          stats.errors += batch.length;
          throw error;
        }
        await this.#setAside(node, batch, error, deadLetter);
        return false;
      }
    }
  }

  /** What a built-in connector of `node` gets: its node id names it in errors and logs. */
  #connectorContext(node: NodeConfig): ConnectorContext {
    return { node: node.id, baseDir: this.#running.baseDir, logger: this.#deps.logger, stdin: this.#deps.stdin, stdout: this.#deps.stdout };
  }
}

const encoder = new TextEncoder();

/** Failures worth isolating record by record (see `runBatch`). */
const ISOLATED_CODES = ['WEIR_PLUGIN_ERROR', 'WEIR_PLUGIN_TRAP', 'WEIR_PLUGIN_BAD_OUTPUT'] as const;

/** Sinks close first (flushing what the run wrote), services last (others may call them while closing). */
const CLOSE_ORDER: Record<NodeRuntime['kind'], number> = { sink: 0, processor: 1, source: 2, service: 3 };

const ANOTHER_EDIT = 'another edit is being applied; apply this one after it';

/** How long a stopping or removed source's poll may take to return on its own before a connector source is closed (ms). */
const SETTLE_MS = 200;

/** How long a closed source's last poll may then take to return its records (ms). */
const LAST_POLL_MS = 2000;

/** How long nodes still busy when a drain timed out may take to finish their call, and each node to close (ms). */
const STUCK_GRACE_MS = 2000;

/** The run's error for a node that failed with `error`. */
function pipelineFailure(error: unknown, node: NodeConfig): WeirError {
  return error instanceof WeirError
    ? new WeirError('WEIR_PIPELINE_FAILED', `node "${node.id}" failed: ${error.message}`, { ...error.details, node: node.id, cause: error.code }, { cause: error })
    : new WeirError('WEIR_PIPELINE_FAILED', `node "${node.id}" failed: ${messageOf(error)}`, { node: node.id }, { cause: error });
}

/** The world a node's plugin fills. */
function worldOf(node: NodeConfig): PluginKind {
  return node.window ? 'aggregator' : node.kind;
}

function servicesFirst(nodes: readonly NodeConfig[]): NodeConfig[] {
  return [...nodes.filter((n) => n.kind === 'service'), ...nodes.filter((n) => n.kind !== 'service')];
}

/** An edit that changed nothing, and why. */
export function refusedEdit(reasons: string[]): ApplyOutcome {
  return { ok: false, changed: [], added: [], removed: [], rewired: [], reasons };
}

function applied(diff: PipelineDiff): ApplyOutcome {
  return { ok: true, changed: diff.changed, added: diff.added, removed: diff.removed, rewired: diff.rewired, reasons: [] };
}

function withErrorHeaders(record: StreamRecord, error: unknown, node: NodeConfig): StreamRecord {
  const code = (error as { code?: string }).code ?? 'WEIR_PLUGIN_ERROR';
  const plugin = node.implementation.type === 'plugin' ? node.implementation.file : '';
  return {
    ...record,
    headers: [
      // What a plugin upstream wrote under these names is not the host's word: only the host's stay.
      ...record.headers.filter((h) => !h.name.startsWith('weir-error-')),
      { name: 'weir-error-code', value: encoder.encode(code) },
      { name: 'weir-error-message', value: encoder.encode(messageOf(error)) },
      { name: 'weir-error-node', value: encoder.encode(node.id) },
      { name: 'weir-error-plugin', value: encoder.encode(plugin) },
    ],
  };
}
