/**
 * Creates the plugin instances of a run's nodes, each with its node's host
 * functions (keyed state, metrics, the plugin-log limit, HTTP, services)
 * and limits, and keeps what a node's instances share for as long as the
 * node lives: one keyed state, one metrics set, one log limit and one
 * {@link NodeResources} per node.
 */
import type { Logger } from 'pino';
import type { NodeConfig } from '../config/pipeline-config.js';
import type { PluginModule } from '../engine/engine.js';
import { instantiate } from '../instance/instantiate.js';
import type { Instantiate } from '../instance/instantiate.js';
import { createHostContext } from '../linker/host-context.js';
import type { HostContext, PluginMetrics, ServiceCaller } from '../linker/host-context.js';
import { LogLimiter } from '../linker/log-limiter.js';
import { BlockingHttpClient } from '../linker/http/blocking-client.js';
import { MemoryKeyedState, StagedKeyedState } from '../state/keyed-state.js';
import type { KeyedState } from '../state/keyed-state.js';
import type { PluginInstance, PluginKind } from '../contract/plugin.js';
import { WeirError } from '../errors/errors.js';
import { instanceLimits, stateLimits } from '../contract/limits.js';
import { NodeResources } from './node-resources.js';

/** What {@link PluginInstances} needs from the run. */
export interface PluginInstancesOptions {
  logger: Logger;
  /** Creates an instance (default: instance/instantiate.ts). */
  instantiate?: Instantiate;
  /** How a node's plugin reaches the pipeline's services. */
  serviceCaller: (node: NodeConfig) => ServiceCaller;
  /** Record which keys each node's keyed state changes, for incremental checkpoints (services' state is not checkpointed). */
  trackStateChanges?: boolean;
}

/** The plugin instances of one run, and what each node's instances share. */
export class PluginInstances {
  readonly #options: PluginInstancesOptions;
  readonly #states = new Map<string, MemoryKeyedState>();
  readonly #metrics = new Map<string, PluginMetrics>();
  /** One plugin-log limit per node, shared by its instances. */
  readonly #logLimiters = new Map<string, LogLimiter>();
  readonly #resources = new Map<string, NodeResources>();
  /** Sends the HTTP requests of in-thread plugins (its worker starts on the first one). */
  readonly #http = new BlockingHttpClient();

  constructor(options: PluginInstancesOptions) {
    this.#options = options;
  }

  /**
   * A new instance of `module` as `node`'s plugin, with `state` as its keyed
   * state (default: the node's). Tracked instances count in the node's
   * resources; a trial instance (`track: false`) does not.
   */
  async create(node: NodeConfig, module: PluginModule | undefined, state?: KeyedState, { track = true } = {}): Promise<PluginInstance> {
    if (node.implementation.type !== 'plugin') throw new Error(`node ${node.id} is not a plugin node`);
    if (!module) throw new WeirError('WEIR_PLUGIN_NOT_FOUND', `plugin of node "${node.id}" was not loaded`, { node: node.id });
    const context = this.#hostContext(node, node.implementation.file, state ?? this.state(node));
    const instance = await (this.#options.instantiate ?? instantiate)(module, worldOf(node), context, instanceLimits(node.limits));
    if (track) {
      let resources = this.#resources.get(node.id);
      if (!resources) this.#resources.set(node.id, (resources = new NodeResources(node.limits)));
      resources.track(instance);
    }
    return instance;
  }

  /**
   * Checks `module` as the node's next plugin: world and grants, then a
   * trial instance under the node's limits accepting the node's config (its
   * state writes are discarded; it is closed after). Throws to refuse it.
   */
  async trial(node: NodeConfig, module: PluginModule): Promise<void> {
    const where = { node: node.id, plugin: module.file };
    const problems = module.check(worldOf(node), node.capabilities);
    if (problems.length > 0) throw new WeirError('WEIR_PLUGIN_WORLD_MISMATCH', `${module.file} does not fit node "${node.id}": ${problems.join('; ')}`, { ...where, problems });
    const state = new StagedKeyedState(this.state(node));
    const trial = await this.create(node, module, state, { track: false });
    try {
      if (trial.kind === 'processor' || trial.kind === 'service' || trial.kind === 'aggregator') await trial.configure(JSON.stringify(node.config));
      else if (trial.kind === 'sink') trial.open(JSON.stringify(node.config));
      else if (trial.kind === 'source') trial.open(JSON.stringify(node.config), undefined);
    } finally {
      state.rollback();
      trial.close();
    }
  }

  /** The node's keyed state (one per node, shared by its instances). */
  state(node: NodeConfig): MemoryKeyedState {
    let state = this.#states.get(node.id);
    if (!state) this.#states.set(node.id, (state = new MemoryKeyedState(stateLimits(node.limits), node.id, { trackChanges: this.#options.trackStateChanges === true && node.kind !== 'service' })));
    return state;
  }

  /** The keys node `id`'s keyed state changed since the last call (empty when it has none, or is not tracked: services). */
  takeStateChanges(id: string): Map<string, Uint8Array | null> {
    return this.#states.get(id)?.takeChanges() ?? new Map();
  }

  /**
   * Drops node `id`'s keyed state (an edit removed the node: one added later
   * under its id starts empty) and returns every internal key a checkpoint
   * may hold for it: the keys it held, and those it changed since its last
   * contribution.
   */
  dropState(id: string): Set<string> {
    const state = this.#states.get(id);
    this.#states.delete(id);
    if (!state) return new Set();
    return new Set([...state.internalKeys(), ...state.takeChanges().keys()]);
  }

  /** Plugin-defined metrics of a node. */
  metrics(id: string): PluginMetrics | undefined {
    return this.#metrics.get(id);
  }

  /** The resources of the node's instances (undefined before its first tracked instance). */
  resources(id: string): NodeResources | undefined {
    return this.#resources.get(id);
  }

  /** Plugin log lines the node's limit dropped. */
  logLinesDropped(id: string): number | undefined {
    return this.#logLimiters.get(id)?.dropped;
  }

  /** Forgets the state, metrics and resources of a node that never ran (built for a refused edit). */
  forget(id: string): void {
    this.#states.delete(id);
    this.#resources.delete(id);
    this.#metrics.delete(id);
  }

  /** Ends the HTTP client (its worker); call once every instance is closed. */
  close(): void {
    this.#http.close();
  }

  #hostContext(node: NodeConfig, plugin: string, state: KeyedState): HostContext {
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
      logger: this.#options.logger,
      state,
      metrics,
      maxMetricNames: node.limits.maxMetricNames,
      callService: this.#options.serviceCaller(node),
      http: this.#http,
    });
  }
}

/** The world a node's plugin fills. */
export function worldOf(node: NodeConfig): PluginKind {
  return node.window ? 'aggregator' : node.kind;
}
