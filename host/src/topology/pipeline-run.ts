/**
 * Runs a compiled pipeline: one operator per node (operators/: sources,
 * processor lanes, sinks, services), one async task per node instance,
 * joined by the bounded channels of a {@link Wiring} (fan-out pushes each
 * batch to every reader; fan-in merges producers into one channel).
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
 * What a node holds lives in its operator as long as the node, not as long
 * as a wiring: a structural pipeline.json edit ({@link PipelineRun.apply},
 * see pipeline-edit.ts) drains one wiring and starts the next.
 *
 * Checkpoints (`deps.checkpoints`): a {@link CheckpointCoordinator} starts
 * barrier epochs while the run runs (never while a rewire drains), and once
 * the last wiring drained after a stop or the end of the input, writes a
 * final checkpoint of the quiescent pipeline; a run that failed or whose
 * drain timed out writes none (the last completed one stays). Without
 * checkpoints, a pipeline with plugin sources still runs barriers in memory,
 * so its sources are acknowledged only for what the sinks have taken.
 */
import type { NodeConfig, PipelineConfig } from '../config/pipeline-config.js';
import type { CheckpointPart } from '../checkpoint/checkpoint-store.js';
import { graphSignature } from '../checkpoint/graph-signature.js';
import { CheckpointCoordinator } from './checkpoint-coordinator.js';
import type { PluginModule } from '../engine/engine.js';
import type { PluginMetrics } from '../linker/host-context.js';
import type { Batch } from '../records/batch.js';
import { Wiring } from './wiring.js';
import type { NodeOutputs } from './node-outputs.js';
import type { RunDependencies } from './run-dependencies.js';
import { runSummary } from './run-summary.js';
import type { NodeStats, RunStatus, RunSummary } from './run-summary.js';
import { WeirError, messageOf } from '../errors/errors.js';
import { OneShot, RAISED, TIMED_OUT, within } from './one-shot.js';
import { DrainDeadline } from './drain-deadline.js';
import { PluginInstances } from './plugin-instances.js';
import { RunFailure } from './run-failure.js';
import { RunNodes } from './run-nodes.js';
import { PluginReplacement } from './plugin-replacement.js';
import type { ReloadOutcome } from './plugin-replacement.js';
import { PipelineEditor, servicesFirst } from './pipeline-edit.js';
import type { ApplyOutcome, EditableRun } from './pipeline-edit.js';
import type { NodeOperator, OperatorContext, RestoredNode } from './operators/operator-context.js';
import { SourceOperator } from './operators/source-operator.js';
import { ProcessorOperator, createLane } from './operators/processor-operator.js';
import { SinkOperator } from './operators/sink-operator.js';
import { ServiceOperator, ServiceSupervisor } from './operators/service-supervisor.js';

export type { ApplyOutcome } from './pipeline-edit.js';
export { refusedEdit } from './pipeline-edit.js';
export type { BeforeSwitchCheck, RunDependencies } from './run-dependencies.js';
export type { ReloadOutcome } from './plugin-replacement.js';

/** The lifecycle of a run. */
export type RunState = 'starting' | 'running' | 'draining' | RunStatus;

/** One running pipeline. */
export class PipelineRun {
  #state: RunState = 'starting';
  readonly #failure: RunFailure;
  /** Set by the first `stop()` (a second changes nothing). */
  #stopRequested = false;
  readonly #deps: RunDependencies;
  /** The pipeline as it runs now (an applied pipeline.json edit replaces it). */
  #running: PipelineConfig;
  /** Each node's config, plugin, plugin version and counters as it runs now. */
  readonly #nodes: RunNodes;
  /** What each node holds, and its task. */
  readonly #operators = new Map<string, NodeOperator>();
  readonly #services = new ServiceSupervisor(() => this.#context);
  readonly #instances: PluginInstances;
  readonly #context: OperatorContext;
  readonly #editor: PipelineEditor;
  readonly #plugins: PluginReplacement;
  #wiring: Wiring | undefined;
  /** Raised when a rewire is requested during the current wiring, or the run stops: a waiting source stops waiting. */
  #interrupt = new OneShot();
  /** Ends a drain that takes longer than the deadline given to `stop()`: nodes get {@link STUCK_GRACE_MS} more, then the run ends without them. */
  readonly #drain = new DrainDeadline();
  /** Set once the last wiring has drained: no structural edit can start. */
  #finishing = false;
  readonly #started = performance.now();
  #done: Promise<RunSummary> | undefined;
  /** The run's checkpoints (undefined: it takes none). */
  readonly #checkpoints: CheckpointCoordinator | undefined;
  /** What the checkpoint the run resumes from holds, by node. */
  readonly #restored = new Map<string, RestoredNode>();

  private constructor(config: PipelineConfig, deps: RunDependencies) {
    this.#deps = deps;
    this.#running = config;
    this.#nodes = new RunNodes(config.nodes, deps.modules);
    this.#failure = new RunFailure(deps.logger, {
      failed: () => {
        this.#wiring?.cancel();
        // No checkpoint completes any more; a source waiting for input stops waiting.
        this.#checkpoints?.pause();
        this.#interrupt.raise();
      },
      sourceFailed: () => {
        if (this.#state === 'running') this.#state = 'draining';
        this.#interrupt.raise();
      },
    });
    this.#instances = new PluginInstances({ logger: deps.logger, instantiate: deps.instantiate, serviceCaller: (node) => this.#services.caller(node), trackStateChanges: deps.checkpoints !== undefined });
    this.#checkpoints = this.#checkpointCoordinator(config);
    for (const part of deps.checkpoints?.restored?.parts ?? []) this.#restoredNode(part.node).parts.push(part);
    // One node may hold millions of keys: no spread into call arguments.
    for (const [node, entries] of deps.checkpoints?.restored?.state ?? []) this.#restoredNode(node).state = entries;
    this.#context = this.#operatorContext();
    const isService = (id: string) => this.#operators.get(id)?.kind === 'service';
    this.#plugins = new PluginReplacement({ nodes: this.#nodes, instances: this.#instances, services: this.#services, isService, accepting: () => this.#accepting(), checkBeforeSwitch: deps.checkBeforeSwitch });
    this.#editor = new PipelineEditor(this.#editableRun());
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
      for (const node of servicesFirst(config.nodes)) run.#install(node, await run.#createNode(node, run.#nodes.module(node.id)));
    } catch (error) {
      await run.#closeAll(() => {});
      throw error;
    } finally {
      // The checkpoint is for the nodes the run starts with (a node an edit adds later starts empty); its state is theirs now.
      run.#restored.clear();
    }
    run.#state = 'running';
    run.#done = run.#runAll();
    return run;
  }

  /** The run's checkpoints: barriers while it runs, a final one at its end (see the module comment); undefined when it takes none. */
  #checkpointCoordinator(config: PipelineConfig): CheckpointCoordinator | undefined {
    const settings = this.#deps.checkpoints;
    const pluginSources = config.nodes.some((n) => n.kind === 'source' && n.implementation.type === 'plugin');
    if (!settings && !pluginSources) return undefined;
    return new CheckpointCoordinator({
      intervalMs: settings?.intervalMs ?? IN_MEMORY_INTERVAL_MS,
      store: settings?.store,
      graph: () => graphSignature(this.#running.nodes),
      firstEpoch: (settings?.restored?.epoch ?? 0) + 1,
      logger: this.#deps.logger,
      onDurable: (_epoch, parts) => this.#durable(parts),
      onFailure: (error) => this.#failure.failRun(error),
    });
  }

  /** A checkpoint is durable: sources acknowledge their positions, sinks commit. */
  #durable(parts: ReadonlyMap<string, readonly CheckpointPart[]>): void {
    for (const [id, operator] of this.#operators) {
      const own = parts.get(id);
      if (!own || !operator.durable) continue;
      try {
        operator.durable(own);
      } catch (error) {
        this.#failure.fail(error, this.#nodes.config(id));
      }
    }
  }

  #restoredNode(id: string): { parts: CheckpointPart[]; state: ReadonlyArray<readonly [Uint8Array, Uint8Array]> } {
    let node = this.#restored.get(id) as { parts: CheckpointPart[]; state: ReadonlyArray<readonly [Uint8Array, Uint8Array]> } | undefined;
    if (!node) this.#restored.set(id, (node = { parts: [], state: [] }));
    return node;
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
    this.#checkpoints?.pause();
    this.#interrupt.raise();
    // When the drain runs out of time, what is queued is dropped and counted per node.
    const stillDraining = () => this.#state === 'draining' && !this.#failure.error;
    if (drainTimeoutMs !== undefined) this.#drain.start(drainTimeoutMs, stillDraining, () => this.#wiring?.cancel(), this.#deps.logger);
  }

  /**
   * Switches every node that runs `module.file` to `module`, after checking
   * it: it must fit the node's world and grants, instantiate under the
   * node's limits and accept the node's config. Each instance switches
   * before its next batch; a batch in flight finishes on the old version.
   * A plugin that fails a check changes nothing.
   */
  reload(module: PluginModule): Promise<ReloadOutcome[]> {
    return this.#plugins.reload(module);
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
  apply(edited: PipelineConfig, modules: ReadonlyMap<string, PluginModule>): Promise<ApplyOutcome> {
    return this.#editor.apply(edited, modules);
  }

  /** A snapshot of the per-node counters. */
  stats(): NodeStats[] {
    return [...this.#nodes.allStats()].map((s) => {
      const resources = this.#instances.resources(s.id)?.summary();
      const logLinesDropped = this.#instances.logLinesDropped(s.id);
      return { ...s, queueHighWater: Math.max(s.queueHighWater, this.#wiring?.highWater(s.id) ?? 0), ...(resources ? { resources } : {}), ...(logLinesDropped ? { logLinesDropped } : {}) };
    });
  }

  /** Plugin-defined metrics of a node. */
  pluginMetrics(nodeId: string): PluginMetrics | undefined {
    return this.#instances.metrics(nodeId);
  }

  /** Whether the run still takes replacements (it is running or draining). */
  #accepting(): boolean {
    return this.#state === 'running' || this.#state === 'draining';
  }

  /** Whether `id` goes on after the wiring that is draining now (a rewire is pending and keeps it). */
  #keeps(id: string): boolean {
    return !this.#failure.error && this.#editor.pending?.kept.has(id) === true;
  }

  /** Runs wiring after wiring (one more per structural edit) until the last one drains, then closes every node. */
  async #runAll(): Promise<RunSummary> {
    for (;;) {
      const wiring = new Wiring(this.#running.nodes, (id) => this.#producing(id));
      this.#wiring = wiring;
      this.#interrupt = new OneShot();
      if (this.#state === 'draining') this.#interrupt.raise();
      this.#checkpoints?.beginWiring(this.#running.nodes.filter((n) => n.kind !== 'service').map((n) => n.id));
      if (this.#state === 'running') this.#checkpoints?.resume();
      this.#checkpoints?.start();
      const tasks = Promise.all(this.#running.nodes.map((node) => this.#operators.get(node.id)!.run(node, wiring)));
      if ((await this.#drain.over.race(tasks)) === RAISED && (await within(tasks, STUCK_GRACE_MS)) === TIMED_OUT) {
        // The drain timed out and a node is still stuck (a write that does not return): leave it behind.
        tasks.catch(() => {});
        this.#deps.logger.warn({ waitedMs: STUCK_GRACE_MS }, 'after the drain timed out, a node is still busy (a write that does not return); leaving it');
      }
      for (const stats of this.#nodes.allStats()) stats.queueHighWater = Math.max(stats.queueHighWater, wiring.highWater(stats.id));
      const rewire = this.#editor.pending;
      if (!rewire) break;
      // Other edits stay refused until this one is done.
      if (this.#failure.error || this.#drain.timedOut) {
        await rewire.abandon(this.#failure.error ? 'the pipeline failed while it was being rewired' : 'the drain timed out while the pipeline was being rewired');
        this.#editor.settled();
        break;
      }
      if (this.#failure.sourceError) {
        // Sources that paused for the edit may hold a poll with records: one more
        // wiring of the pipeline as it is takes them to the sinks (and closes windows).
        await rewire.abandon('a source failed while the pipeline was being rewired');
        this.#editor.settled();
        continue;
      }
      await rewire.commit();
      this.#editor.settled();
    }
    this.#finishing = true;
    this.#drain.clear();
    this.#failure.settle();
    await this.#finalCheckpoint();
    await this.#closeAll((error, node) => this.#failure.fail(error, node));
    const status: RunStatus = this.#failure.error ? 'failed' : this.#state === 'draining' ? 'stopped' : 'completed';
    this.#state = status;
    const checkpoints = this.#deps.checkpoints && this.#checkpoints ? { ...this.#checkpoints.stats, ...(this.#deps.checkpoints.restored ? { restoredFrom: this.#deps.checkpoints.restored.epoch } : {}) } : undefined;
    return runSummary({ pipeline: this.#running.name, status, nodes: this.stats(), wallMs: performance.now() - this.#started, drainTimedOut: this.#drain.timedOut, failure: this.#failure.error, logger: this.#deps.logger, checkpoints });
  }

  /**
   * After the last wiring drained: writes what every node holds now (a stop
   * or the end of the input), so the next run goes on from here. A run that
   * failed or whose drain timed out writes nothing (its last completed
   * checkpoint stays).
   */
  async #finalCheckpoint(): Promise<void> {
    const checkpoints = this.#checkpoints;
    if (!checkpoints) return;
    if (this.#failure.error || this.#drain.timedOut) return checkpoints.close();
    try {
      await checkpoints.final();
    } catch (error) {
      this.#failure.failRun(error instanceof WeirError ? error : new WeirError('WEIR_CHECKPOINT_STORE', `writing the final checkpoint failed: ${messageOf(error)}`, {}, { cause: error }));
    }
  }

  /** Whether source `id` still produces (it is not finished, stopped or removed). */
  #producing(id: string): boolean {
    const operator = this.#operators.get(id);
    return operator instanceof SourceOperator && operator.producing;
  }

  /** Creates what a node holds: its instances (configured), or its connector. Its plugin version starts at 0. */
  #createNode(node: NodeConfig, module: PluginModule | undefined): Promise<NodeOperator> {
    this.#nodes.creating(node.id);
    const ctx = this.#context;
    switch (node.kind) {
      case 'service':
        return ServiceOperator.create(node, module, ctx);
      case 'source':
        return SourceOperator.create(node, module, ctx);
      case 'sink':
        return SinkOperator.create(node, module, ctx);
      default:
        return ProcessorOperator.create(node, module, ctx);
    }
  }

  /** Makes a created node part of the run. */
  #install(node: NodeConfig, operator: NodeOperator): void {
    this.#operators.set(node.id, operator);
    if (operator instanceof ServiceOperator) this.#services.add(node.id, operator);
    this.#nodes.join(node);
  }

  /** Takes a node out of the run (after the wiring drained); its counters stay in the summary. */
  async #removeNode(id: string): Promise<void> {
    const operator = this.#operators.get(id)!;
    this.#operators.delete(id);
    this.#services.delete(id);
    // Nothing of it stays in checkpoints, nor is restored if a later edit adds a node under its id.
    this.#checkpoints?.removed(id, this.#instances.dropState(id));
    this.#restored.delete(id);
    this.#nodes.stats(id).removed = true;
    await operator.close().catch((error: unknown) => this.#failure.fail(error, this.#nodes.config(id)));
  }

  /** Closes every node: sinks first (flushing; a failure is reported), services last. */
  async #closeAll(onSinkFailure: (error: unknown, node: NodeConfig) => void): Promise<void> {
    const order = [...this.#operators].sort(([, a], [, b]) => CLOSE_ORDER[a.kind] - CLOSE_ORDER[b.kind]);
    for (const [id, operator] of order) {
      try {
        // After a timed-out drain a sink may never finish closing (its writes do not return): bounded then.
        if (this.#drain.timedOut && (await within(operator.close(), STUCK_GRACE_MS)) === TIMED_OUT) {
          this.#deps.logger.warn({ node: id, waitedMs: STUCK_GRACE_MS }, 'closing a node did not finish after the drain timed out');
        }
        if (!this.#drain.timedOut) await operator.close();
      } catch (error) {
        if (operator.kind === 'sink') onSinkFailure(error, this.#nodes.config(id));
        else this.#deps.logger.warn({ node: id, err: messageOf(error) }, 'error while closing a node');
      }
    }
    this.#operators.clear();
    this.#instances.close();
  }

  /** Emits `batch` and counts it: delivered records as `out`, records for an output nobody reads (they reach no sink) as `dropped`. */
  async #emit(outputs: NodeOutputs, batch: Batch, stats: NodeStats): Promise<void> {
    const { delivered, unrouted, refused } = await outputs.emit(batch);
    stats.out += delivered;
    stats.dropped += unrouted;
    // Emitted after the drain timed out: not passed on, and said so.
    this.#drain.refused(stats.id, refused);
  }

  /** The run as its operators see it. */
  #operatorContext(): OperatorContext {
    const deps = this.#deps;
    return {
      logger: deps.logger,
      instances: this.#instances,
      connectors: deps.connectors,
      stats: (id) => this.#nodes.stats(id),
      node: (id) => this.#nodes.config(id),
      module: (id) => this.#nodes.module(id)!,
      version: (id) => this.#nodes.version(id),
      connectorContext: (node) => ({ node: node.id, baseDir: this.#running.baseDir, logger: deps.logger, stdin: deps.stdin, stdout: deps.stdout, ...(deps.checkpoints ? { delivery: deps.checkpoints.delivery } : {}) }),
      emit: (outputs, batch, stats) => this.#emit(outputs, batch, stats),
      fail: (error, node) => this.#failure.fail(error, node),
      sourceFailed: (error, node) => this.#failure.sourceFailed(error, node),
      failed: () => this.#failure.error !== undefined,
      keeps: (id) => this.#keeps(id),
      polling: () => this.#state === 'running' && !this.#failure.error && !this.#editor.pending,
      interrupt: () => this.#interrupt,
      servicesReady: () => this.#services.ready(),
      checkpoints: () => this.#checkpoints,
      storesCheckpoints: () => this.#deps.checkpoints !== undefined,
      restored: (id) => this.#restored.get(id) ?? NOTHING_RESTORED,
      savepointing: () => this.#stopRequested && this.#deps.checkpoints !== undefined,
    };
  }

  /** The run as its {@link PipelineEditor} edits it. */
  #editableRun(): EditableRun {
    return {
      logger: this.#deps.logger,
      running: () => this.#running,
      accepting: () => this.#accepting(),
      rewirable: () => this.#state === 'running' && !this.#finishing,
      hasNode: (id) => this.#nodes.has(id),
      operator: (id) => this.#operators.get(id),
      module: (id) => this.#nodes.module(id),
      checkReplacement: (node, module) => this.#plugins.check(node, module),
      switchPlugin: (node, module) => this.#plugins.switch(node, module),
      createNode: (node, module) => this.#createNode(node, module),
      exposeService: (id, service) => this.#services.add(id, service),
      forgetNode: (id) => {
        this.#services.delete(id);
        this.#instances.forget(id);
        this.#nodes.forget(id);
      },
      createLane: (node, module) => createLane(node, module, this.#context),
      interruptSources: () => {
        // A barrier and a rewire never interleave: the epoch in flight is dropped, the next starts after the rewire.
        this.#checkpoints?.pause();
        this.#interrupt.raise();
      },
      removeNode: (id) => this.#removeNode(id),
      runAs: (edited) => void (this.#running = edited),
      adopt: (edited, built, modules) => {
        const builtModules = new Map([...built.keys()].flatMap((id) => (modules.has(id) ? [[id, modules.get(id)!] as const] : [])));
        this.#nodes.replace(edited.nodes, builtModules);
        this.#running = edited;
        for (const [id, operator] of built) this.#install(this.#nodes.config(id), operator);
      },
    };
  }
}

/** Sinks close first (flushing what the run wrote), services last (others may call them while closing). */
const CLOSE_ORDER: Record<NodeOperator['kind'], number> = { sink: 0, processor: 1, source: 2, service: 3 };

/** How often a run without stored checkpoints passes barriers, so its plugin sources are acknowledged (ms). */
const IN_MEMORY_INTERVAL_MS = 1000;

const NOTHING_RESTORED: RestoredNode = { parts: [], state: [] };

/** How long nodes still busy when a drain timed out may take to finish their call, and each node to close (ms). */
const STUCK_GRACE_MS = 2000;

