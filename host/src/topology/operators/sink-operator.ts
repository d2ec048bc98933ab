/**
 * A sink node: its open sink (a built-in connector or a plugin sink) and its
 * task: write each batch of its input under the node's `onError` policy.
 * A sink may have written part of a batch before failing, so a failed batch
 * is retried or set aside whole (no record-by-record isolation: it would
 * write those records twice). A plugin sink that trapped or failed fatally
 * is opened again first. Sinks are closed (flushed) first when the run ends.
 *
 * Checkpoints: at a barrier, and when its input ends, the sink pre-commits
 * (makes what it wrote durable; the file sink says how long the file is
 * then) and reports that token; once the checkpoint is durable the sink is
 * told to commit. A sink restored from a checkpoint is opened with its token
 * (the file sink cuts the file back to it under exactly-once).
 *
 * A packed batch goes to the sink's `writePacked` when it has one (the file
 * and stdout sinks format it without record objects), else as records.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { NodeConfig } from '../../config/pipeline-config.js';
import type { CheckpointPart } from '../../checkpoint/checkpoint-store.js';
import type { NodeContribution } from '../checkpoint-coordinator.js';
import type { Sink } from '../../connectors/connector.js';
import type { PluginModule } from '../../engine/engine.js';
import type { SinkInstance } from '../../contract/plugin.js';
import { messageOf } from '../../errors/errors.js';
import { isPacked, recordsOf } from '../../records/batch.js';
import type { Batch } from '../../records/batch.js';
import type { BatchChannel } from '../batch-channel.js';
import { isBarrier } from '../barrier.js';
import { decideOnError } from '../on-error.js';
import { pluginSink } from '../plugin-adapters.js';
import type { Wiring } from '../wiring.js';
import type { NodeOperator, OperatorContext } from './operator-context.js';
import { setAside } from './set-aside.js';

/** A sink node: its open sink. */
export class SinkOperator implements NodeOperator {
  readonly kind = 'sink';
  #sink: Sink;
  /** The plugin version it runs (compared with the node's to reload). */
  #version: number;
  readonly #ctx: OperatorContext;

  private constructor(id: string, sink: Sink, ctx: OperatorContext) {
    this.#sink = sink;
    this.#ctx = ctx;
    this.#version = ctx.version(id);
  }

  /** Opens the node's sink: its plugin (`module`) or its built-in connector. */
  static async create(node: NodeConfig, module: PluginModule | undefined, ctx: OperatorContext): Promise<SinkOperator> {
    const connectorName = node.implementation.type === 'connector' ? node.implementation.name : '';
    const restored = ctx.restored(node.id);
    const resumeFrom = restored.parts.find((p) => p.part === 'sink')?.data;
    if (restored.state.length > 0) ctx.instances.state(node).restore(restored.state);
    const sink = module ? await openPluginSink(node, module, ctx) : ctx.connectors.sink(connectorName)!.create({ ...node.config }, { ...ctx.connectorContext(node), ...(resumeFrom ? { resumeFrom } : {}) });
    return new SinkOperator(node.id, sink, ctx);
  }

  /** What a checkpoint stores of this sink: what it has made durable (pre-commit), and its plugin's keyed-state changes. */
  async #snapshot(id: string): Promise<NodeContribution> {
    const token = this.#ctx.storesCheckpoints() ? await this.#sink.preCommit?.() : undefined;
    return { parts: token ? [{ node: id, lane: 0, part: 'sink', data: token }] : [], state: this.#ctx.instances.takeStateChanges(id) };
  }

  /** A checkpoint holding this sink's pre-commit is durable: commit it. */
  durable(parts: readonly CheckpointPart[]): void {
    const token = parts.find((p) => p.part === 'sink')?.data;
    if (token) this.#sink.commit?.(token);
  }

  /** Writes every batch of the node's input until it ends; a failure under `onError: fail` fails the run. */
  async run(node: NodeConfig, wiring: Wiring): Promise<void> {
    const ctx = this.#ctx;
    const input = wiring.input(node.id);
    const deadLetter = wiring.deadLetterOf(node);
    const stats = ctx.stats(node.id);
    const checkpoints = ctx.checkpoints();
    try {
      for (let batch = await input.pull(); batch; batch = await input.pull()) {
        if (isBarrier(batch)) {
          checkpoints?.report(node.id, batch.epoch, await this.#snapshot(node.id));
          await deadLetter?.pushBarrier(batch.epoch);
          continue;
        }
        if (node.implementation.type === 'plugin' && this.#version !== ctx.version(node.id)) {
          // A reloaded sink: the old instance flushes and closes, the new one takes the next batch.
          this.#version = ctx.version(node.id);
          await this.#sink.close();
          this.#sink = await openPluginSink(ctx.node(node.id), ctx.module(node.id), ctx);
        }
        stats.in += batch.length;
        if (await this.#write(node, batch, deadLetter)) stats.out += batch.length;
      }
      if (checkpoints && !ctx.failed()) checkpoints.ended(node.id, await this.#snapshot(node.id));
    } catch (error) {
      ctx.fail(error, node);
    } finally {
      deadLetter?.closeProducer();
    }
  }

  /** Closes (flushes) the sink. */
  async close(): Promise<void> {
    await this.#sink.close();
  }

  /** Writes one batch under the sink's `onError` policy; false when the batch failed and was skipped or dead-lettered. */
  async #write(node: NodeConfig, batch: Batch, deadLetter: BatchChannel | undefined): Promise<boolean> {
    const ctx = this.#ctx;
    const stats = ctx.stats(node.id);
    for (let attempt = 1; ; attempt++) {
      try {
        const sink = this.#sink;
        if (sink.writePacked && isPacked(batch)) await sink.writePacked(batch);
        else await sink.write(recordsOf(batch));
        return true;
      } catch (error) {
        ctx.instances.resources(node.id)?.recordFailure(error);
        const decision = decideOnError(node.onError, error, { attempt, size: batch.length, isolatable: false, recreatable: node.implementation.type === 'plugin' });
        if (decision.recreate) {
          await this.#sink.close().catch(() => {});
          this.#sink = await openPluginSink(ctx.node(node.id), ctx.module(node.id), ctx);
          stats.restarts++;
        }
        switch (decision.action) {
          case 'retry':
            ctx.logger.warn({ node: node.id, attempt, err: messageOf(error) }, 'write failed; retrying');
            await sleep(decision.delayMs);
            continue;
          case 'set-aside':
            await setAside(decision.as, node, recordsOf(batch), error, { stats, logger: ctx.logger, deadLetter });
            return false;
          default:
            stats.errors += batch.length;
            throw error;
        }
      }
    }
  }
}

async function openPluginSink(node: NodeConfig, module: PluginModule, ctx: OperatorContext): Promise<Sink> {
  const instance = (await ctx.instances.create(node, module)) as SinkInstance;
  instance.open(JSON.stringify(node.config));
  return pluginSink(instance);
}
