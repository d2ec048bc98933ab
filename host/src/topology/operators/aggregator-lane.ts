/**
 * One instance of a windowed processor (an aggregator lane) and its open
 * windows: records go through its {@link WindowOperator}, closed windows
 * (and late records) go downstream. A node that goes on after a rewire keeps
 * its windows open; otherwise they are flushed when the input ends.
 */
import type { NodeConfig } from '../../config/pipeline-config.js';
import type { PluginModule } from '../../engine/engine.js';
import type { AggregatorInstance } from '../../contract/plugin.js';
import type { BatchChannel } from '../batch-channel.js';
import { BatchFormer } from '../batch-former.js';
import { WindowOperator } from '../window-operator.js';
import type { Wiring } from '../wiring.js';
import type { OperatorContext } from './operator-context.js';

/** One instance of a windowed processor and its open windows. */
export class AggregatorLane {
  #instance: AggregatorInstance;
  readonly #operator: WindowOperator;
  #version: number;
  readonly #ctx: OperatorContext;

  private constructor(instance: AggregatorInstance, window: NonNullable<NodeConfig['window']>, version: number, ctx: OperatorContext) {
    this.#instance = instance;
    this.#operator = new WindowOperator(window, instance);
    this.#version = version;
    this.#ctx = ctx;
  }

  /** A configured instance of windowed `node` running `module`, with no window open. */
  static async create(node: NodeConfig, module: PluginModule, ctx: OperatorContext): Promise<AggregatorLane> {
    const version = ctx.version(node.id);
    return new AggregatorLane(await configuredAggregator(node, module, ctx), node.window!, version, ctx);
  }

  // Checkpoints: snapshot() / restore() of the open windows (WindowOperator) go here.

  /** Runs the lane, fed by `input`, until the input ends; a failure fails the run. */
  async run(node: NodeConfig, input: BatchChannel, wiring: Wiring): Promise<void> {
    const ctx = this.#ctx;
    const outputs = wiring.outputs(node.id);
    const stats = ctx.stats(node.id);
    const batches = new BatchFormer(input, node.batch);
    try {
      for (let batch = await batches.next(); batch; batch = await batches.next()) {
        if (this.#version !== ctx.version(node.id)) {
          // A reloaded plugin: the open windows and their accumulators go to the new instance.
          this.#version = ctx.version(node.id);
          const replaced = this.#instance;
          this.#instance = await configuredAggregator(ctx.node(node.id), ctx.module(node.id), ctx);
          this.#operator.usePlugin(this.#instance);
          replaced.close();
        }
        stats.in += batch.length;
        const { emitted, late } = this.#operator.add(batch);
        await ctx.emit(outputs, [...emitted, ...late], stats);
      }
      // A node that goes on after a rewire keeps its windows open.
      if (!ctx.keeps(node.id) && !ctx.failed()) await ctx.emit(outputs, this.#operator.flush(), stats);
    } catch (error) {
      ctx.instances.resources(node.id)?.recordFailure(error);
      ctx.fail(error, node);
    } finally {
      outputs.close();
    }
  }

  /** Closes the lane's instance. */
  close(): void {
    this.#instance.close();
  }
}

async function configuredAggregator(node: NodeConfig, module: PluginModule, ctx: OperatorContext): Promise<AggregatorInstance> {
  const instance = (await ctx.instances.create(node, module)) as AggregatorInstance;
  instance.configure(JSON.stringify(node.config));
  return instance;
}
