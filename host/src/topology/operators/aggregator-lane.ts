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
import { isBarrier } from '../barrier.js';
import { BatchFormer } from '../batch-former.js';
import { recordsOf } from '../../records/batch.js';
import { WindowOperator } from '../window-operator.js';
import { encodeWindowSnapshot } from '../window-snapshot.js';
import type { WindowSnapshot } from '../window-snapshot.js';
import type { Wiring } from '../wiring.js';
import type { LaneBarrier } from './lane-barrier.js';
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

  /** Opens the windows of a checkpoint (before the lane runs). */
  restore(snapshot: WindowSnapshot): void {
    this.#operator.restore(snapshot);
  }

  /** Combines two accumulators of one key with the lane's plugin (windows of one key from two lanes, on restore). */
  merge(a: Uint8Array, b: Uint8Array): Uint8Array {
    return this.#instance.merge(a, b);
  }

  /**
   * Runs the lane, fed by `input`, until the input ends; a failure fails the
   * run. At a checkpoint barrier the lane hands its open windows to the
   * node's snapshot (`barrier`) and forwards the barrier. A stop that keeps
   * windows for the next run (`savepointing`) leaves them open.
   */
  async run(node: NodeConfig, input: BatchChannel, wiring: Wiring, barrier?: LaneBarrier): Promise<void> {
    const ctx = this.#ctx;
    const outputs = wiring.outputs(node.id);
    const stats = ctx.stats(node.id);
    const batches = new BatchFormer(input, node.batch);
    try {
      for (let batch = await batches.next(); batch; batch = await batches.next()) {
        if (isBarrier(batch)) {
          await barrier?.arrive(batch.epoch, this.#windows());
          await outputs.emitBarrier(batch.epoch);
          continue;
        }
        if (this.#version !== ctx.version(node.id)) {
          // A reloaded plugin: the open windows and their accumulators go to the new instance.
          this.#version = ctx.version(node.id);
          const replaced = this.#instance;
          this.#instance = await configuredAggregator(ctx.node(node.id), ctx.module(node.id), ctx);
          this.#operator.usePlugin(this.#instance);
          replaced.close();
        }
        stats.in += batch.length;
        const { emitted, late } = this.#operator.add(recordsOf(batch));
        await ctx.emit(outputs, [...emitted, ...late], stats);
      }
      // A node that goes on after a rewire keeps its windows open, and so does a stop that keeps them for the next run.
      if (!ctx.keeps(node.id) && !ctx.failed() && !ctx.savepointing()) await ctx.emit(outputs, this.#operator.flush(), stats);
    } catch (error) {
      ctx.instances.resources(node.id)?.recordFailure(error);
      ctx.fail(error, node);
    } finally {
      barrier?.leave(ctx.failed() ? undefined : this.#windows());
      outputs.close();
    }
  }

  /** The open windows, encoded for a checkpoint (none when checkpoints are not stored). */
  #windows(): Uint8Array | undefined {
    return this.#ctx.storesCheckpoints() ? encodeWindowSnapshot(this.#operator.snapshot()) : undefined;
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
