/**
 * A source node: the source it reads with (a built-in connector or a plugin
 * source), where it got to, and its task: poll until done or stopped, emit
 * what each poll returned.
 *
 * A source that fails stops the run as a stop does (every source stops,
 * what was read drains to the sinks), and then the run fails with that
 * source's error. A rewire while the source waits for input pauses it and
 * keeps the waiting poll for the next wiring; a stop gives the waiting poll
 * a bounded time to return what it read (see {@link SourceOperator}).
 *
 * Checkpoints: between polls, and while a poll waits for input, a source
 * that sees a new epoch requested reports its position (after every record
 * it has emitted; a waiting poll has returned nothing yet) and pushes the
 * barrier into its outputs. Its position is acknowledged (plugin sources:
 * `ack`) only once a checkpoint holding it is durable; a plugin source that
 * finished stays open until then, so the last acknowledgement reaches it.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { NodeConfig } from '../../config/pipeline-config.js';
import type { CheckpointPart } from '../../checkpoint/checkpoint-store.js';
import type { Source, SourcePoll } from '../../connectors/connector.js';
import type { PluginModule } from '../../engine/engine.js';
import type { SourceInstance } from '../../contract/plugin.js';
import { messageOf } from '../../errors/errors.js';
import type { CheckpointCoordinator, NodeContribution } from '../checkpoint-coordinator.js';
import type { NodeOutputs } from '../node-outputs.js';
import { RAISED, TIMED_OUT, within } from '../one-shot.js';
import { pluginSource } from '../plugin-adapters.js';
import type { Wiring } from '../wiring.js';
import type { NodeOperator, OperatorContext } from './operator-context.js';

/** How long a stopping or removed source's poll may take to return on its own before a connector source is closed (ms). */
export const SETTLE_MS = 200;

/** How long a closed source's last poll may then take to return its records (ms). */
export const LAST_POLL_MS = 2000;

/** A source node: what it reads with, and where it got to. */
export class SourceOperator implements NodeOperator {
  readonly kind = 'source';
  readonly #ctx: OperatorContext;
  #source: Source;
  /** The plugin version it runs (compared with the node's to reload). */
  #version: number;
  /** The last position a plugin source reported (a reloaded one resumes after it). */
  #position: Uint8Array | undefined = undefined;
  /** Finished, stopped or removed: it feeds nothing any more. */
  #finished = false;
  /** Closed (for good). */
  #closed = false;
  /** The last checkpoint epoch whose barrier this source injected. */
  #epoch = 0;
  /** A poll still waiting (stdin, say) when the source paused for a rewire; the next wiring takes its records first. */
  #pending: Promise<SourcePoll> | undefined;

  private constructor(id: string, source: Source, ctx: OperatorContext) {
    this.#source = source;
    this.#ctx = ctx;
    this.#version = ctx.version(id);
  }

  /** Opens the node's source: its plugin (`module`) or its built-in connector, resuming at its restored position if any. */
  static async create(node: NodeConfig, module: PluginModule | undefined, ctx: OperatorContext): Promise<SourceOperator> {
    const connectorName = node.implementation.type === 'connector' ? node.implementation.name : '';
    const restored = ctx.restored(node.id);
    const resumeFrom = restored.parts.find((p) => p.part === 'source')?.data;
    if (restored.state.length > 0) ctx.instances.state(node).restore(restored.state);
    const source = module
      ? await openPluginSource(node, module, resumeFrom, ctx)
      : ctx.connectors.source(connectorName)!.create({ ...node.config }, { ...ctx.connectorContext(node), ...(resumeFrom ? { resumeFrom } : {}) });
    const operator = new SourceOperator(node.id, source, ctx);
    operator.#position = resumeFrom;
    return operator;
  }

  /** Whether the source still produces (it is not finished, stopped or removed). */
  get producing(): boolean {
    return !this.#finished;
  }

  /** What a checkpoint stores of this source: its position after every record it emitted, and its plugin's keyed-state changes. */
  #snapshot(id: string): NodeContribution {
    const position = this.#source.position?.() ?? this.#position;
    return { parts: position ? [{ node: id, lane: 0, part: 'source', data: position }] : [], state: this.#ctx.instances.takeStateChanges(id) };
  }

  /** A checkpoint holding this source's position is durable: the source may let go of what came before it. */
  durable(parts: readonly CheckpointPart[]): void {
    const position = parts.find((p) => p.part === 'source')?.data;
    if (position && !this.#closed) this.#source.ack?.(position);
  }

  /** Injects the barrier of a requested epoch it has not injected yet: reports its position, then pushes the barrier downstream. */
  async #injectBarrier(id: string, outputs: NodeOutputs, checkpoints: CheckpointCoordinator): Promise<void> {
    const epoch = checkpoints.requestedEpoch;
    if (epoch === undefined || epoch <= this.#epoch) return;
    this.#epoch = epoch;
    checkpoints.report(id, epoch, this.#snapshot(id));
    await outputs.emitBarrier(epoch);
  }

  /** Polls until the source is done, the run stops or fails, or a rewire pauses it. */
  async run(node: NodeConfig, wiring: Wiring): Promise<void> {
    const ctx = this.#ctx;
    const checkpoints = ctx.checkpoints();
    if (this.#finished) {
      checkpoints?.ended(node.id, this.#snapshot(node.id));
      return;
    }
    const outputs = wiring.outputs(node.id);
    const stats = ctx.stats(node.id);
    let finished = false;
    try {
      // A poll left waiting by a rewire is taken first, even when stopping: its records may have been read.
      while (ctx.polling() || (this.#pending && !ctx.failed())) {
        if (!this.#pending && node.implementation.type === 'plugin' && this.#version !== ctx.version(node.id)) {
          // A reloaded source: the old instance acknowledges what it emitted, the new one resumes after it.
          this.#version = ctx.version(node.id);
          await this.#source.close();
          this.#source = await openPluginSource(ctx.node(node.id), ctx.module(node.id), this.#position, ctx);
        }
        if (checkpoints) await this.#injectBarrier(node.id, outputs, checkpoints);
        const poll = this.#pending ?? this.#source.poll(node.batch.maxRecords);
        this.#pending = undefined;
        // Raced per poll and detached when the poll settles: a pending signal must not retain every batch polled.
        const polled = await ctx.interrupt().race(checkpoints ? untilBarrier(checkpoints, poll) : poll);
        if (polled === BARRIER_DUE) {
          // A checkpoint while the poll waits for input: inject the barrier (at the top), then wait on.
          this.#pending = poll;
          poll.catch(() => {});
          continue;
        }
        if (polled === RAISED && ctx.keeps(node.id)) {
          // A rewire while the source waits for input: pause now, keep the poll for the next wiring.
          this.#pending = poll;
          poll.catch(() => {});
          break;
        }
        if (polled === RAISED) {
          // Stopping, or removed by an edit: what the poll still returns goes out in this wiring.
          const last = await this.#lastPoll(node, poll);
          if (last?.position) this.#position = last.position;
          if (last) await ctx.emit(outputs, last.records, stats);
          break;
        }
        if (polled.position) this.#position = polled.position;
        await ctx.emit(outputs, polled.records, stats);
        if (polled.done) {
          finished = true;
          break;
        }
        // Plugin calls are synchronous and channels resolve as microtasks, so a busy
        // pipeline would never reach the event loop: give timers and signals a turn.
        await yieldToEventLoop();
      }
    } catch (error) {
      ctx.sourceFailed(error, node);
      finished = true;
    } finally {
      if (finished || !ctx.keeps(node.id)) {
        this.#finished = true;
        // A poll still waiting (the run failed while it waited for input) is not taken: closing ends its wait, within a bound.
        const waiting = this.#pending;
        this.#pending = undefined;
        waiting?.catch(() => {});
        // A plugin source waits for the acknowledgement of the run's last checkpoint; the run closes it.
        if (!checkpoints || node.implementation.type !== 'plugin') {
          const closing = this.close().catch((error: unknown) => ctx.logger.warn({ node: node.id, err: messageOf(error) }, 'closing source failed'));
          await (waiting ? within(closing, LAST_POLL_MS) : closing);
        }
      }
      checkpoints?.ended(node.id, this.#snapshot(node.id));
      outputs.close();
    }
  }

  /** Closes the source (once). */
  async close(): Promise<void> {
    this.#finished = true;
    if (this.#closed) return;
    this.#closed = true;
    await this.#source.close();
  }

  /**
   * The outcome of a poll still waiting when its source stops or is removed.
   * A connector's poll gets {@link SETTLE_MS} to return on its own (a read
   * in progress); then the connector is closed, so a wait for input ends,
   * and the poll gets up to {@link LAST_POLL_MS} more. A plugin source's
   * poll gets {@link LAST_POLL_MS} (its calls are bounded by its limits);
   * it is closed after.
   */
  async #lastPoll(node: NodeConfig, poll: Promise<SourcePoll>): Promise<SourcePoll | undefined> {
    const log = this.#ctx.logger;
    const failed = (error: unknown): undefined => {
      log.warn({ node: node.id, err: messageOf(error) }, 'the last poll of a stopping source failed');
      return undefined;
    };
    const connector = node.implementation.type === 'connector';
    let last = await within(poll, connector ? SETTLE_MS : LAST_POLL_MS).catch(failed);
    if (last === TIMED_OUT && connector) {
      const closing = this.close().catch((error: unknown) => log.warn({ node: node.id, err: messageOf(error) }, 'closing source failed'));
      last = await within(poll, LAST_POLL_MS).catch(failed);
      await within(closing, LAST_POLL_MS);
    }
    if (last !== TIMED_OUT) return last;
    poll.catch(() => {});
    log.warn({ node: node.id }, 'a stopping source did not return its last poll in time; what it had not returned is not read');
    return undefined;
  }
}

/** What a poll raced against a checkpoint request resolves with when the request came first. */
const BARRIER_DUE = Symbol('barrier due');

/** `poll`'s outcome, or {@link BARRIER_DUE} when the next checkpoint epoch starts first. */
async function untilBarrier(checkpoints: CheckpointCoordinator, poll: Promise<SourcePoll>): Promise<SourcePoll | typeof BARRIER_DUE> {
  const outcome = await checkpoints.request.race(poll);
  return outcome === RAISED ? BARRIER_DUE : outcome;
}

/** Opens a plugin source that resumes after `position` (none: from its start). */
async function openPluginSource(node: NodeConfig, module: PluginModule, position: Uint8Array | undefined, ctx: OperatorContext): Promise<Source> {
  const instance = (await ctx.instances.create(node, module)) as SourceInstance;
  instance.open(JSON.stringify(node.config), position);
  return pluginSource(instance, position);
}
