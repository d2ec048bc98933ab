/**
 * The nodes of a run as they run now: each node's config, its plugin module
 * (hot reload replaces it), its plugin version (bumped on each replacement;
 * instances compare it before each batch) and its counters (which stay in
 * the summary after the node is removed).
 */
import type { NodeConfig } from '../config/pipeline-config.js';
import type { PluginModule } from '../engine/engine.js';
import type { NodeStats } from './run-summary.js';

/** The nodes of one run. */
export class RunNodes {
  /** Each node's config as it runs now. */
  readonly #configs: Map<string, NodeConfig>;
  /** The plugin module each node runs now. */
  readonly #modules: Map<string, PluginModule>;
  readonly #versions = new Map<string, number>();
  readonly #stats = new Map<string, NodeStats>();

  constructor(nodes: readonly NodeConfig[], modules: ReadonlyMap<string, PluginModule>) {
    this.#configs = new Map(nodes.map((n) => [n.id, n]));
    this.#modules = new Map(modules);
  }

  /** Node `id`'s config as it runs now. */
  config(id: string): NodeConfig {
    return this.#configs.get(id)!;
  }

  /** Whether node `id` is part of the run. */
  has(id: string): boolean {
    return this.#configs.has(id);
  }

  /** Every node's config. */
  configs(): IterableIterator<NodeConfig> {
    return this.#configs.values();
  }

  /** The plugin module node `id` runs now (undefined for connectors). */
  module(id: string): PluginModule | undefined {
    return this.#modules.get(id);
  }

  /** Node `id`'s plugin version. */
  version(id: string): number {
    return this.#versions.get(id)!;
  }

  /** Node `id`'s counters. */
  stats(id: string): NodeStats {
    return this.#stats.get(id)!;
  }

  /** Every node's counters, removed nodes included. */
  allStats(): IterableIterator<NodeStats> {
    return this.#stats.values();
  }

  /** A node is being created: its plugin version starts at 0. */
  creating(id: string): void {
    this.#versions.set(id, 0);
  }

  /** A node built for a refused edit is forgotten. */
  forget(id: string): void {
    this.#versions.delete(id);
  }

  /** A created node joins the run: its counters start. */
  join(node: NodeConfig): void {
    this.#stats.set(node.id, {
      id: node.id,
      kind: node.kind,
      implementation: node.implementation.type === 'plugin' ? `plugin:${node.implementation.file}` : `connector:${node.implementation.name}`,
      ...(this.#modules.has(node.id) ? { pluginSha256: this.#modules.get(node.id)!.sha256, pluginLoadedAt: new Date().toISOString() } : {}),
      in: 0, out: 0, errors: 0, filtered: 0, dropped: 0, skipped: 0, deadLettered: 0, restarts: 0, queueHighWater: 0,
    });
  }

  /** `node` runs `module` from now on: its version is bumped, so its instances switch before their next batch. */
  usePlugin(node: NodeConfig, module: PluginModule): void {
    this.#configs.set(node.id, node);
    this.#modules.set(node.id, module);
    this.#versions.set(node.id, this.#versions.get(node.id)! + 1);
  }

  /** Counts a switch to `module` in the node's stats. */
  countReload(id: string, module: PluginModule): void {
    const stats = this.#stats.get(id)!;
    stats.pluginSha256 = module.sha256;
    stats.pluginLoadedAt = new Date().toISOString();
    stats.reloads = (stats.reloads ?? 0) + 1;
  }

  /** The nodes of an edited pipeline replace the current ones; `modules` are those of added nodes. */
  replace(nodes: readonly NodeConfig[], modules: ReadonlyMap<string, PluginModule>): void {
    this.#configs.clear();
    for (const node of nodes) this.#configs.set(node.id, node);
    for (const [id, module] of modules) this.#modules.set(id, module);
  }
}
