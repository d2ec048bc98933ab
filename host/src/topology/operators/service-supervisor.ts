/**
 * The pipeline's services: one configured instance per service node, which
 * other nodes' plugins call synchronously ({@link ServiceSupervisor.caller}).
 * A service that a call poisoned (a trap, a limit breach) is restarted in
 * the background; a reloaded one is replaced between calls. Services are
 * created first and closed last (others may call them while closing).
 */
import type { NodeConfig } from '../../config/pipeline-config.js';
import type { PluginModule } from '../../engine/engine.js';
import type { ServiceInstance } from '../../contract/plugin.js';
import type { ServiceCaller } from '../../linker/host-context.js';
import { WeirError, hasCode } from '../../errors/errors.js';
import { POISONING_CODES } from '../../sandbox/call-guard.js';
import type { NodeOperator, OperatorContext } from './operator-context.js';

/** A service node: its current instance. */
export class ServiceOperator implements NodeOperator {
  readonly kind = 'service';
  /** Replaced on restart and reload (see {@link ServiceSupervisor}). */
  instance: ServiceInstance;

  constructor(instance: ServiceInstance) {
    this.instance = instance;
  }

  /** Creates and configures the node's instance. */
  static async create(node: NodeConfig, module: PluginModule | undefined, ctx: OperatorContext): Promise<ServiceOperator> {
    return new ServiceOperator(await configuredService(node, module, ctx));
  }

  // Checkpoints: a service is not part of them (it holds no records, and its keyed state is not tracked; host validate warns).

  /** A service has no task of its own: it answers calls. */
  async run(): Promise<void> {}

  /** Closes the current instance. */
  async close(): Promise<void> {
    this.instance.close();
  }
}

/** The run's services, by node id: calls, restarts and replacements. */
export class ServiceSupervisor {
  readonly #ctx: () => OperatorContext;
  readonly #services = new Map<string, ServiceOperator>();
  readonly #restarting = new Map<string, Promise<void>>();

  /** `ctx` is read when needed (the run's context refers back to this supervisor). */
  constructor(ctx: () => OperatorContext) {
    this.#ctx = ctx;
  }

  /** Makes `service` callable as node `id`. */
  add(id: string, service: ServiceOperator): void {
    this.#services.set(id, service);
  }

  /** `id` is no service of the run any more (removed, or built for a refused edit). */
  delete(id: string): void {
    this.#services.delete(id);
  }

  /** While a service is being restarted, resolves once none is; undefined otherwise. */
  ready(): Promise<unknown> | undefined {
    return this.#restarting.size > 0 ? Promise.all(this.#restarting.values()) : undefined;
  }

  /** How `node`'s plugin reaches the pipeline's services (a poisoned service is restarted). */
  caller(node: NodeConfig): ServiceCaller {
    return (service, method, payload) => {
      const instance = this.#services.get(service)?.instance;
      if (!instance) {
        throw new WeirError('WEIR_SERVICE_NOT_FOUND', `node "${node.id}" called service "${service}", which is not a service node of this pipeline`, { node: node.id, service });
      }
      try {
        return instance.call(method, payload);
      } catch (error) {
        if (POISONING_CODES.some((code) => hasCode(error, code))) this.#restart(service);
        throw error;
      }
    };
  }

  /**
   * Swaps a service for a new instance of the node's current plugin. Calls are
   * synchronous and this runs between them, so no call sees half a swap.
   */
  async replace(node: NodeConfig): Promise<void> {
    const service = this.#services.get(node.id);
    if (!service) return;
    const old = service.instance;
    await this.#start(node.id, service);
    old.close();
  }

  /** A new configured instance of service `id` as it runs now, in place of the current one. */
  async #start(id: string, service: ServiceOperator): Promise<void> {
    const ctx = this.#ctx();
    service.instance = await configuredService(ctx.node(id), ctx.module(id), ctx);
  }

  /**
   * Replaces a poisoned service instance. Calls are synchronous, so the new
   * instance is created in the background; processors wait for it before
   * their next batch, and calls made before then fail (the caller's guest
   * gets an error result).
   */
  #restart(id: string): void {
    if (this.#restarting.has(id)) return;
    const ctx = this.#ctx();
    const node = ctx.node(id);
    ctx.stats(id).restarts++;
    const service = this.#services.get(id)!;
    const poisoned = service.instance;
    const restart = this.#start(id, service)
      .then(() => poisoned.close())
      .catch((error: unknown) => ctx.fail(error, node))
      .finally(() => this.#restarting.delete(id));
    this.#restarting.set(id, restart);
  }
}

async function configuredService(node: NodeConfig, module: PluginModule | undefined, ctx: OperatorContext): Promise<ServiceInstance> {
  const instance = (await ctx.instances.create(node, module)) as ServiceInstance;
  instance.configure(JSON.stringify(node.config));
  return instance;
}
