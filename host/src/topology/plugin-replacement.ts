/**
 * Replacing a node's plugin while the run goes on (hot reload, and the
 * plugin changes of a pipeline edit): the new plugin is checked first (world
 * and grants, a trial instance under the node's limits accepting its config,
 * then `checkBeforeSwitch`), then the node's plugin version is bumped so each
 * instance switches before its next batch (a batch in flight finishes on the
 * old version); a service switches at once, between calls.
 */
import type { NodeConfig } from '../config/pipeline-config.js';
import type { PluginModule } from '../engine/engine.js';
import { WeirError, messageOf } from '../errors/errors.js';
import type { ServiceSupervisor } from './operators/service-supervisor.js';
import type { PluginInstances } from './plugin-instances.js';
import type { BeforeSwitchCheck } from './run-dependencies.js';
import type { RunNodes } from './run-nodes.js';

/** What {@link PluginReplacement.reload} did for one node. */
export type ReloadOutcome =
  /** `selfTested`: records `checkBeforeSwitch` checked (the sample self-test of `host run`), 0 when none. */
  | { node: string; ok: true; sha256: string; selfTested: number }
  | { node: string; ok: false; sha256: string; error: WeirError };

/** What {@link PluginReplacement} works on. */
export interface ReplacementTarget {
  nodes: RunNodes;
  instances: PluginInstances;
  services: ServiceSupervisor;
  /** Whether node `id` runs as a service now. */
  isService(id: string): boolean;
  /** Whether the run still takes replacements (it is running or draining). */
  accepting(): boolean;
  checkBeforeSwitch: BeforeSwitchCheck | undefined;
}

/** Checks and switches the plugins of one run's nodes. */
export class PluginReplacement {
  readonly #target: ReplacementTarget;

  constructor(target: ReplacementTarget) {
    this.#target = target;
  }

  /** Switches every node that runs `module.file` to `module`, after checking it; a plugin that fails a check changes nothing. */
  async reload(module: PluginModule): Promise<ReloadOutcome[]> {
    const outcomes: ReloadOutcome[] = [];
    for (const node of this.#target.nodes.configs()) {
      if (node.implementation.type !== 'plugin' || node.implementation.path !== module.file) continue;
      try {
        this.#refuseWhenFinished(node.id);
        const selfTested = await this.check(node, module);
        this.#refuseWhenFinished(node.id);
        await this.switch(node, module);
        outcomes.push({ node: node.id, ok: true, sha256: module.sha256, selfTested });
      } catch (error) {
        const stats = this.#target.nodes.stats(node.id);
        stats.reloadsRejected = (stats.reloadsRejected ?? 0) + 1;
        outcomes.push({ node: node.id, ok: false, sha256: module.sha256, error: error instanceof WeirError ? error : new WeirError('WEIR_PLUGIN_LOAD_FAILED', messageOf(error), { node: node.id }) });
      }
    }
    return outcomes;
  }

  /**
   * Checks `module` as the node's next plugin: world and grants, a trial
   * instance under the node's limits accepting the node's config, then
   * `checkBeforeSwitch` if given. Returns what that checked (records).
   */
  async check(node: NodeConfig, module: PluginModule): Promise<number> {
    const { instances, services, checkBeforeSwitch } = this.#target;
    await instances.trial(node, module);
    return checkBeforeSwitch ? checkBeforeSwitch(module, node, services.caller(node)) : 0;
  }

  /** Makes `module` the node's plugin: its instances switch before their next batch (services at once). */
  async switch(node: NodeConfig, module: PluginModule): Promise<void> {
    const { nodes, services, isService } = this.#target;
    nodes.usePlugin(node, module);
    if (node.kind === 'service' && isService(node.id)) await services.replace(node);
    nodes.countReload(node.id, module);
  }

  #refuseWhenFinished(node: string): void {
    if (!this.#target.accepting()) throw new WeirError('WEIR_RELOAD_REFUSED', 'the run has finished', { node });
  }
}
