/**
 * Runs a compiled pipeline: one async task per node, joined by bounded
 * {@link BatchChannel}s (fan-out pushes each batch to every reader; fan-in
 * merges producers into one channel).
 *
 * Lifecycle: `start()` creates every instance first (services, then the
 * rest) and fails before any record moves if one cannot be created. Then
 * sources poll until they are done or `stop()` is called; each node ends
 * when its input ends, so a stop drains: every record read is written or
 * counted. A node whose `onError` policy is `fail` (the default) aborts the
 * run: channels are cancelled, sinks are flushed and closed, and `done`
 * resolves with status `failed` and the error.
 */
import type { Logger } from 'pino';
import type { Readable, Writable } from 'node:stream';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import type { NodeConfig, PipelineConfig } from '../config/pipeline-config.js';
import type { ConnectorRegistry, Sink, Source } from '../connectors/connector.js';
import type { PluginModule } from '../engine/engine.js';
import { createHostContext } from '../linker/host-context.js';
import type { HostContext, PluginMetrics } from '../linker/host-context.js';
import { MemoryKeyedState, StagedKeyedState } from '../state/keyed-state.js';
import type { KeyedState } from '../state/keyed-state.js';
import type { AggregatorInstance, PluginInstance, ProcessorInstance, ServiceInstance, SinkInstance, SourceInstance } from '../sandbox/plugin.js';
import { WindowOperator } from './window-operator.js';
import type { StreamRecord } from '../records/record.js';
import { BatchChannel } from './batch-channel.js';
import { BatchFormer } from './batch-former.js';
import { Partitioner } from './partitioner.js';
import { downstreamOf, parseInput } from '../graph/dag.js';
import { diffPipelines } from '../config/diff.js';
import type { Route } from '../graph/dag.js';
import { NodeOutputs } from './node-outputs.js';
import { pluginSink, pluginSource } from './plugin-adapters.js';
import { totalsOf } from './run-summary.js';
import type { NodeStats, RunStatus, RunSummary } from './run-summary.js';
import { WeirError, hasCode, messageOf } from '../errors/errors.js';
import { instanceLimits } from '../sandbox/limits.js';
import { POISONING_CODES } from '../sandbox/call-guard.js';
import { NodeResources } from './node-resources.js';

/** What {@link PipelineRun.reload} did for one node. */
export type ReloadOutcome =
  | { node: string; ok: true; sha256: string }
  | { node: string; ok: false; sha256: string; error: WeirError };

/** What {@link PipelineRun.apply} did with an edited pipeline. */
export interface ApplyOutcome {
  ok: boolean;
  /** Nodes switched (when ok). */
  changed: string[];
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
}

/** The lifecycle of a run. */
export type RunState = 'starting' | 'running' | 'draining' | RunStatus;

/** Batches a channel holds before its producers wait. */
const CHANNEL_CAPACITY = 16;

/** One running pipeline. */
export class PipelineRun {
  #state: RunState = 'starting';
  #failure: WeirError | undefined;
  readonly #config: PipelineConfig;
  readonly #deps: RunDependencies;
  readonly #stats = new Map<string, NodeStats>();
  readonly #channels = new Map<string, BatchChannel>();
  /** The inputs of each instance of parallel processors (cancelled with the rest on failure). */
  readonly #laneChannels: BatchChannel[] = [];
  readonly #readers: Map<string, Route[]>;
  readonly #services = new Map<string, ServiceInstance>();
  readonly #restarting = new Map<string, Promise<void>>();
  /** The plugin module each node runs now (hot reload replaces entries). */
  readonly #modules: Map<string, PluginModule>;
  /** Bumped when a node's plugin is replaced; lanes compare it before each batch. */
  readonly #versions = new Map<string, number>();
  /** Each node's config as it runs now (an applied pipeline.json edit replaces entries). */
  readonly #nodes: Map<string, NodeConfig>;
  /** The pipeline as it runs now. */
  #running: PipelineConfig;
  readonly #states = new Map<string, KeyedState>();
  readonly #metrics = new Map<string, PluginMetrics>();
  readonly #resources = new Map<string, NodeResources>();
  readonly #started = performance.now();
  readonly #tasks: Array<() => Promise<void>> = [];
  readonly #cleanups: Array<() => Promise<void> | void> = [];
  #done: Promise<RunSummary> | undefined;

  private constructor(config: PipelineConfig, deps: RunDependencies) {
    this.#config = config;
    this.#deps = deps;
    this.#readers = downstreamOf(config.nodes);
    this.#modules = new Map(deps.modules);
    this.#nodes = new Map(config.nodes.map((n) => [n.id, n]));
    this.#running = config;
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
      await run.#build();
    } catch (error) {
      await run.#cleanup();
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

  /** Stops the sources and lets everything in flight drain through to the sinks. */
  stop(): void {
    if (this.#state === 'running') {
      this.#state = 'draining';
      this.#deps.logger.info({ pipeline: this.#config.name }, 'stopping: sources stop, in-flight records drain');
    }
  }

  /**
   * Switches every processor node that runs `module.file` to `module`, after
   * checking it: it must fit the node's world and grants, instantiate under
   * the node's limits and accept the node's config. Each instance switches
   * before its next batch; a batch in flight finishes on the old version.
   * A plugin that fails a check changes nothing.
   */
  async reload(module: PluginModule): Promise<ReloadOutcome[]> {
    const outcomes: ReloadOutcome[] = [];
    for (const node of this.#nodes.values()) {
      if (node.implementation.type !== 'plugin' || node.implementation.path !== module.file) continue;
      const stats = this.#stats.get(node.id)!;
      try {
        this.#refuseWhenFinished(node.id);
        await this.#checkReplacement(node, module);
        this.#refuseWhenFinished(node.id);
        this.#modules.set(node.id, module);
        this.#versions.set(node.id, this.#versions.get(node.id)! + 1);
        if (node.kind === 'service') await this.#replaceService(node);
        stats.pluginSha256 = module.sha256;
        stats.reloads = (stats.reloads ?? 0) + 1;
        outcomes.push({ node: node.id, ok: true, sha256: module.sha256 });
      } catch (error) {
        stats.reloadsRejected = (stats.reloadsRejected ?? 0) + 1;
        outcomes.push({ node: node.id, ok: false, sha256: module.sha256, error: error instanceof WeirError ? error : new WeirError('WEIR_PLUGIN_LOAD_FAILED', messageOf(error), { node: node.id }) });
      }
    }
    return outcomes;
  }

  /**
   * Applies an edited pipeline.json: every changed node's new plugin, config,
   * limits and grants are checked first (as for {@link reload}); only when all
   * pass do they switch, each before its next batch. A change that cannot be
   * applied live, or a check that fails, leaves the pipeline as it was.
   */
  async apply(edited: PipelineConfig, modules: ReadonlyMap<string, PluginModule>): Promise<ApplyOutcome> {
    if (!this.#accepting()) return { ok: false, changed: [], reasons: ['the run has finished'] };
    const diff = diffPipelines(this.#running, edited);
    if (diff.refused.length > 0) return { ok: false, changed: [], reasons: diff.refused };
    const next = new Map(edited.nodes.map((n) => [n.id, n]));
    for (const id of diff.changed) {
      try {
        await this.#checkReplacement(next.get(id)!, modules.get(id)!);
      } catch (error) {
        return { ok: false, changed: [], reasons: [`node "${id}": ${messageOf(error)}`] };
      }
    }
    if (!this.#accepting()) return { ok: false, changed: [], reasons: ['the run has finished'] };
    for (const id of diff.changed) {
      const node = next.get(id)!;
      const module = modules.get(id)!;
      this.#nodes.set(id, node);
      this.#modules.set(id, module);
      this.#versions.set(id, this.#versions.get(id)! + 1);
      if (node.kind === 'service') await this.#replaceService(node);
      const stats = this.#stats.get(id)!;
      stats.pluginSha256 = module.sha256;
      stats.reloads = (stats.reloads ?? 0) + 1;
    }
    this.#running = edited;
    return { ok: true, changed: diff.changed, reasons: [] };
  }

  /** Whether the run still takes replacements (it is running or draining). */
  #accepting(): boolean {
    return this.#state === 'running' || this.#state === 'draining';
  }

  #refuseWhenFinished(node: string): void {
    if (!this.#accepting()) throw new WeirError('WEIR_RELOAD_REFUSED', 'the run has finished', { node });
  }

    async #checkReplacement(node: NodeConfig, module: PluginModule): Promise<void> {
    const where = { node: node.id, plugin: module.file };
    if (node.window) {
      throw new WeirError('WEIR_RELOAD_REFUSED', `node "${node.id}" is a windowed processor; it does not reload live yet (its windows hold the old version's accumulators; restart the pipeline)`, where);
    }
    const problems = module.check(node.kind, node.capabilities);
    if (problems.length > 0) throw new WeirError('WEIR_PLUGIN_WORLD_MISMATCH', `${module.file} does not fit node "${node.id}": ${problems.join('; ')}`, { ...where, problems });
    // A trial instance with the node's limits and config; its state writes are discarded.
    const state = new StagedKeyedState(this.#nodeState(node));
    const trial = await module.instantiate(node.kind, this.#hostContext(node, node.implementation.type === 'plugin' ? node.implementation.file : '', state), instanceLimits(node.limits));
    try {
      if (trial.kind === 'processor' || trial.kind === 'service') await trial.configure(JSON.stringify(node.config));
      else if (trial.kind === 'sink') trial.open(JSON.stringify(node.config));
      else if (trial.kind === 'source') trial.open(JSON.stringify(node.config), undefined);
    } finally {
      state.rollback();
      trial.close();
    }
  }

  /** A snapshot of the per-node counters. */
  stats(): NodeStats[] {
    return [...this.#stats.values()].map((s) => {
      const resources = this.#resources.get(s.id)?.summary();
      return { ...s, queueHighWater: this.#channels.get(s.id)?.highWater ?? 0, ...(resources ? { resources } : {}) };
    });
  }

  /** Plugin-defined metrics of a node. */
  pluginMetrics(nodeId: string): PluginMetrics | undefined {
    return this.#metrics.get(nodeId);
  }

  async #build(): Promise<void> {
    const { nodes } = this.#config;
    for (const node of nodes) {
      const module = this.#modules.get(node.id);
      this.#versions.set(node.id, 0);
      this.#stats.set(node.id, {
        id: node.id,
        kind: node.kind,
        implementation: node.implementation.type === 'plugin' ? `plugin:${node.implementation.file}` : `connector:${node.implementation.name}`,
        ...(module ? { pluginSha256: module.sha256 } : {}),
        in: 0, out: 0, errors: 0, dropped: 0, skipped: 0, deadLettered: 0, restarts: 0, queueHighWater: 0,
      });
      if (module) this.#resources.set(node.id, new NodeResources(node.limits));
    }
    // Every instance of a node is a producer of each channel it feeds.
    const lanes = (id: string): number => {
      const upstream = nodes.find((n) => n.id === id)!;
      return upstream.kind === 'processor' && upstream.implementation.type === 'plugin' ? upstream.parallelism : 1;
    };
    for (const node of nodes) {
      if (node.kind === 'processor' || node.kind === 'sink') {
        this.#channels.set(node.id, new BatchChannel(CHANNEL_CAPACITY, node.inputs.reduce((n, input) => n + lanes(parseInput(input).node), 0)));
      }
    }
    for (const node of nodes) {
      if (node.onError.policy === 'dead-letter' && node.onError.deadLetter) {
        for (let i = 0; i < lanes(node.id); i++) this.#channels.get(node.onError.deadLetter)?.addProducer();
      }
    }
    // Services first: processors may call them as soon as they are configured.
    for (const node of nodes.filter((n) => n.kind === 'service')) await this.#startService(node);
    for (const node of nodes) {
      if (node.kind === 'source') this.#tasks.push(await this.#sourceTask(node));
      if (node.kind === 'processor') this.#tasks.push(await this.#processorTask(node));
      if (node.kind === 'sink') this.#tasks.push(await this.#sinkTask(node));
    }
  }

  async #runAll(): Promise<RunSummary> {
    await Promise.all(this.#tasks.map((task) => task()));
    await this.#cleanup();
    const status: RunStatus = this.#failure ? 'failed' : this.#state === 'draining' ? 'stopped' : 'completed';
    this.#state = status;
    const nodes = this.stats();
    for (const node of nodes) {
      const { id, implementation, in: received, out, errors, dropped, queueHighWater, restarts, resources } = node;
      this.#deps.logger.info({ node: id, implementation, in: received, out, errors, dropped, queueHighWater, restarts, ...(resources ? { resources } : {}) }, 'node summary');
    }
    return {
      pipeline: this.#config.name,
      status,
      wallMs: performance.now() - this.#started,
      totals: totalsOf(nodes),
      nodes,
      ...(this.#failure ? { error: this.#failure.toJSON() } : {}),
    };
  }

  async #cleanup(): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        this.#deps.logger.warn({ err: messageOf(error) }, 'error while closing a node');
      }
    }
  }

  #fail(error: unknown, node: NodeConfig): void {
    if (this.#failure) return;
    this.#failure = error instanceof WeirError
      ? new WeirError('WEIR_PIPELINE_FAILED', `node "${node.id}" failed: ${error.message}`, { ...error.details, node: node.id, cause: error.code }, { cause: error })
      : new WeirError('WEIR_PIPELINE_FAILED', `node "${node.id}" failed: ${messageOf(error)}`, { node: node.id }, { cause: error });
    this.#deps.logger.error({ node: node.id, err: this.#failure.toJSON() }, 'pipeline failed');
    for (const channel of [...this.#channels.values(), ...this.#laneChannels]) channel.cancel();
  }

  /** The node's keyed state (one per node, shared by its instances). */
  #nodeState(node: NodeConfig): KeyedState {
    let state = this.#states.get(node.id);
    if (!state) this.#states.set(node.id, (state = new MemoryKeyedState()));
    return state;
  }

  #hostContext(node: NodeConfig, plugin: string, state: KeyedState = this.#nodeState(node)): HostContext {
    let metrics = this.#metrics.get(node.id);
    if (!metrics) this.#metrics.set(node.id, (metrics = { counters: new Map(), gauges: new Map() }));
    return createHostContext({
      node: node.id,
      plugin,
      config: node.config,
      capabilities: node.capabilities,
      logger: this.#deps.logger,
      state,
      metrics,
      callService: (service, method, payload) => {
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
      },
    });
  }

  /**
   * Swaps a service for a new instance of the node's current plugin. Calls are
   * synchronous and this runs between them, so no call sees half a swap.
   */
  async #replaceService(node: NodeConfig): Promise<void> {
    const old = this.#services.get(node.id);
    await this.#startService(this.#nodes.get(node.id)!);
    old?.close();
  }

  async #startService(node: NodeConfig): Promise<void> {
    const instance = (await this.#instantiate(node)) as ServiceInstance;
    instance.configure(JSON.stringify(node.config));
    this.#services.set(node.id, instance);
    this.#cleanups.push(() => instance.close());
  }

  /**
   * Replaces a poisoned service instance. Calls are synchronous, so the new
   * instance is created in the background; processors wait for it before
   * their next batch, and calls made before then fail (the caller's guest
   * gets an error result).
   */
  #restartService(id: string): void {
    if (this.#restarting.has(id)) return;
    const node = this.#config.nodes.find((n) => n.id === id)!;
    this.#stats.get(id)!.restarts++;
    const restart = this.#startService(node)
      .catch((error: unknown) => this.#fail(error, node))
      .finally(() => this.#restarting.delete(id));
    this.#restarting.set(id, restart);
  }

  async #instantiate(node: NodeConfig, state?: KeyedState): Promise<PluginInstance> {
    if (node.implementation.type !== 'plugin') throw new Error(`node ${node.id} is not a plugin node`);
    const module = this.#modules.get(node.id);
    if (!module) throw new WeirError('WEIR_PLUGIN_NOT_FOUND', `plugin of node "${node.id}" was not loaded`, { node: node.id });
    const world = node.window ? 'aggregator' : node.kind;
    const instance = await module.instantiate(world, this.#hostContext(node, node.implementation.file, state), instanceLimits(node.limits));
    this.#resources.get(node.id)!.track(instance);
    return instance;
  }

  /** The outputs of one instance of `node`. */
  #downstream(node: NodeConfig): NodeOutputs {
    return new NodeOutputs((this.#readers.get(node.id) ?? []).map(({ output, reader }) => ({ output, channel: this.#channels.get(reader)! })));
  }

  /** Emits `batch` and counts it: delivered records as `out`, records for an output nobody reads as `dropped`. */
  async #emit(outputs: NodeOutputs, batch: StreamRecord[], stats: NodeStats): Promise<void> {
    const { delivered, unrouted } = await outputs.emit(batch);
    stats.out += delivered;
    stats.dropped += unrouted;
  }

  async #sourceTask(node: NodeConfig): Promise<() => Promise<void>> {
    const isPlugin = node.implementation.type === 'plugin';
    /** Opens the node's plugin as it is now (a reload may have replaced it), resuming after `position`. */
    const openPlugin = async (position: Uint8Array | undefined): Promise<Source> => {
      const current = this.#nodes.get(node.id)!;
      const instance = (await this.#instantiate(current)) as SourceInstance;
      instance.open(JSON.stringify(current.config), position);
      return pluginSource(instance);
    };
    let source: Source = isPlugin
      ? await openPlugin(undefined)
      : this.#deps.connectors.source((node.implementation as { name: string }).name)!.create({ ...node.config }, this.#connectorContext());
    let version = this.#versions.get(node.id)!;
    let position: Uint8Array | undefined;
    const outputs = this.#downstream(node);
    const stats = this.#stats.get(node.id)!;
    return async () => {
      try {
        while (this.#state === 'running' && !this.#failure) {
          if (isPlugin && version !== this.#versions.get(node.id)) {
            // A reloaded source: the old instance acknowledges what it emitted, the new one resumes after it.
            version = this.#versions.get(node.id)!;
            await source.close();
            source = await openPlugin(position);
          }
          const polled = await source.poll(node.batch.maxRecords);
          const { records, done } = polled;
          if (polled.position) position = polled.position;
          await this.#emit(outputs, records, stats);
          if (done) break;
          // Plugin calls are synchronous and channels resolve as microtasks, so a busy
          // pipeline would never reach the event loop: give timers and signals a turn.
          await yieldToEventLoop();
        }
      } catch (error) {
        this.#fail(error, node);
      } finally {
        await source.close().catch((error: unknown) => this.#deps.logger.warn({ node: node.id, err: messageOf(error) }, 'closing source failed'));
        outputs.close();
      }
    };
  }

  /**
   * A processor node: `parallelism` lanes, each one plugin instance with its
   * own bounded input. With more than one lane, a dispatcher splits each
   * input batch among them (see Partitioner); every lane emits downstream
   * on its own, so per-key order holds under `partition: key`.
   */
  async #processorTask(node: NodeConfig): Promise<() => Promise<void>> {
    const lanes = node.implementation.type === 'plugin' ? node.parallelism : 1;
    const input = this.#channels.get(node.id)!;
    const laneInputs = lanes === 1 ? [input] : Array.from({ length: lanes }, () => new BatchChannel(CHANNEL_CAPACITY, 1));
    if (lanes > 1) this.#laneChannels.push(...laneInputs);
    const laneTasks: Array<() => Promise<void>> = [];
    for (const laneInput of laneInputs) laneTasks.push(await this.#processorLane(node, laneInput));
    if (lanes === 1) return laneTasks[0]!;
    const dispatch = async (): Promise<void> => {
      const partitioner = new Partitioner(node.partition, lanes);
      try {
        for (let batch = await input.pull(); batch; batch = await input.pull()) {
          const parts = partitioner.split(batch);
          for (let i = 0; i < lanes; i++) if (parts[i]!.length > 0) await laneInputs[i]!.push(parts[i]!);
        }
      } finally {
        for (const laneInput of laneInputs) laneInput.closeProducer();
      }
    };
    return async () => {
      await Promise.all([dispatch(), ...laneTasks.map((task) => task())]);
    };
  }

  /** One instance of a windowed aggregation: records go through the WindowOperator. */
  async #aggregatorLane(node: NodeConfig, input: BatchChannel): Promise<() => Promise<void>> {
    const instance = (await this.#instantiate(node)) as AggregatorInstance;
    this.#cleanups.push(() => instance.close());
    instance.configure(JSON.stringify(node.config));
    const operator = new WindowOperator(node.window!, instance);
    const outputs = this.#downstream(node);
    const stats = this.#stats.get(node.id)!;
    return async () => {
      const batches = new BatchFormer(input, node.batch);
      try {
        for (let batch = await batches.next(); batch; batch = await batches.next()) {
          stats.in += batch.length;
          const { emitted, late } = operator.add(batch);
          await this.#emit(outputs, [...emitted, ...late], stats);
        }
        await this.#emit(outputs, operator.flush(), stats);
      } catch (error) {
        this.#fail(error, node);
      } finally {
        outputs.close();
      }
    };
  }

  /** One instance of a processor node, fed by `input`, under the node's `onError` policy. */
  async #processorLane(node: NodeConfig, input: BatchChannel): Promise<() => Promise<void>> {
    if (node.window) return this.#aggregatorLane(node, input);
    // State writes of a call count only if the call succeeds.
    const state = new StagedKeyedState(this.#nodeState(node));
    const create = async (): Promise<ProcessorInstance> => {
      // The node as it runs now: an applied pipeline.json edit may have changed its plugin, config or limits.
      const current = this.#nodes.get(node.id)!;
      const instance = (await this.#instantiate(current, state)) as ProcessorInstance;
      await instance.configure(JSON.stringify(current.config));
      state.commit();
      return instance;
    };
    let instance = await create();
    let version = this.#versions.get(node.id)!;
    this.#cleanups.push(() => instance.close());
    const outputs = this.#downstream(node);
    const deadLetter = node.onError.deadLetter ? this.#channels.get(node.onError.deadLetter) : undefined;
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
      if (version !== this.#versions.get(node.id)) {
        // A reloaded plugin: switch between batches; keyed state lives in the host and carries over.
        version = this.#versions.get(node.id)!;
        instance.close();
        instance = await create();
      }
      for (let attempt = 1; ; attempt++) {
        try {
          const output = await instance.process(batch);
          state.commit();
          stats.dropped += Math.max(0, batch.length - output.length);
          return output;
        } catch (error) {
          state.rollback();
          resources.recordFailure(error);
          if (POISONING_CODES.some((code) => hasCode(error, code)) || (error as WeirError).details?.kind === 'fatal') {
            instance.close();
            instance = await create();
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
            const output: StreamRecord[] = [];
            for (const record of batch) output.push(...(await runBatch([record])));
            return output;
          }
          stats.errors += batch.length;
          if (policy === 'skip') {
            stats.skipped += batch.length;
            log.warn({ node: node.id, records: batch.length, err: messageOf(error) }, 'records failed; skipped');
          } else {
            stats.deadLettered += batch.length;
            log.warn({ node: node.id, records: batch.length, err: messageOf(error) }, 'records failed; dead-lettered');
            await deadLetter!.push(batch.map((r) => withErrorHeaders(r, error, node)));
          }
          return [];
        }
      }
    };

    return async () => {
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
    };
  }

  async #sinkTask(node: NodeConfig): Promise<() => Promise<void>> {
    const isPlugin = node.implementation.type === 'plugin';
    /** Opens the node's plugin as it is now (a reload may have replaced it). */
    const openPlugin = async (): Promise<Sink> => {
      const current = this.#nodes.get(node.id)!;
      const instance = (await this.#instantiate(current)) as SinkInstance;
      instance.open(JSON.stringify(current.config));
      return pluginSink(instance);
    };
    let sink: Sink = isPlugin
      ? await openPlugin()
      : this.#deps.connectors.sink((node.implementation as { name: string }).name)!.create({ ...node.config }, this.#connectorContext());
    let version = this.#versions.get(node.id)!;
    const input = this.#channels.get(node.id)!;
    const stats = this.#stats.get(node.id)!;
    return async () => {
      try {
        for (let batch = await input.pull(); batch; batch = await input.pull()) {
          if (isPlugin && version !== this.#versions.get(node.id)) {
            // A reloaded sink: the old instance flushes and closes, the new one takes the next batch.
            version = this.#versions.get(node.id)!;
            await sink.close();
            sink = await openPlugin();
          }
          stats.in += batch.length;
          await sink.write(batch);
          stats.out += batch.length;
        }
      } catch (error) {
        this.#fail(error, node);
      } finally {
        await sink.close().catch((error: unknown) => this.#fail(error, node));
      }
    };
  }

  #connectorContext() {
    return { baseDir: this.#config.baseDir, logger: this.#deps.logger, stdin: this.#deps.stdin, stdout: this.#deps.stdout };
  }
}

const encoder = new TextEncoder();

/** Failures worth isolating record by record (see `runBatch`). */
const ISOLATED_CODES = ['WEIR_PLUGIN_ERROR', 'WEIR_PLUGIN_TRAP', 'WEIR_PLUGIN_BAD_OUTPUT'] as const;


function withErrorHeaders(record: StreamRecord, error: unknown, node: NodeConfig): StreamRecord {
  const code = (error as { code?: string }).code ?? 'WEIR_PLUGIN_ERROR';
  const plugin = node.implementation.type === 'plugin' ? node.implementation.file : '';
  return {
    ...record,
    headers: [
      ...record.headers,
      { name: 'weir-error-code', value: encoder.encode(code) },
      { name: 'weir-error-message', value: encoder.encode(messageOf(error)) },
      { name: 'weir-error-node', value: encoder.encode(node.id) },
      { name: 'weir-error-plugin', value: encoder.encode(plugin) },
    ],
  };
}
