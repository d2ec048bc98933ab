/**
 * A bounded queue of batches between nodes: the backpressure of the
 * pipeline. `push` waits while the queue is full, so a slow consumer slows
 * its producers and memory stays bounded. Several producers may feed one
 * channel (fan-in); it ends once every producer has called `closeProducer`.
 *
 * Checkpoint barriers travel in the same queue, in order with the batches.
 * With several producers a barrier is aligned: a producer that pushes
 * barrier n waits until every other producer has pushed barrier n too (or
 * closed), and only then is the barrier queued, once. So the consumer sees
 * every record each producer sent before its barrier, then the barrier, then
 * what came after, the cut Flink's aligned checkpoints make. A barrier does
 * not count against `capacity` (it is one small object per epoch, and a
 * producer never waits for room to push one: room is made by the consumer,
 * which may itself be waiting for this barrier downstream).
 */
import type { Batch } from '../records/batch.js';
import { barrier, isBarrier } from './barrier.js';
import type { ChannelItem } from './barrier.js';

/** The epoch a channel is aligning: how many producers reached it, and their wake-ups. */
interface Alignment {
  readonly epoch: number;
  arrived: number;
  readonly waiters: Array<(accepted: boolean) => void>;
}

/** One batch queue in front of a node. */
export class BatchChannel {
  readonly capacity: number;
  #queue: ChannelItem[] = [];
  /** Batches (not barriers) in the queue. */
  #batches = 0;
  #openProducers: number;
  #cancelled = false;
  #highWater = 0;
  #wakeConsumer: (() => void) | undefined;
  #wakeProducers: Array<() => void> = [];
  #aligning: Alignment | undefined;
  /** The highest epoch any producer has pushed a barrier for. */
  #highestEpoch = Number.NEGATIVE_INFINITY;

  constructor(capacity: number, producers: number) {
    this.capacity = capacity;
    this.#openProducers = producers;
  }

  /** Batches waiting now (barriers not counted). */
  get depth(): number {
    return this.#batches;
  }

  /** The most batches ever waiting at once. */
  get highWater(): number {
    return this.#highWater;
  }

  /** Adds a producer (for example a dead-letter route). */
  addProducer(): void {
    this.#openProducers++;
  }

  /** Queues a batch, waiting while the channel is full. Returns false once cancelled. */
  async push(batch: Batch): Promise<boolean> {
    while (this.#batches >= this.capacity && !this.#cancelled) {
      await new Promise<void>((resolve) => this.#wakeProducers.push(resolve));
    }
    if (this.#cancelled) return false;
    this.#enqueue(batch);
    return true;
  }

  /**
   * One producer's barrier of checkpoint `epoch`. Resolves once every open
   * producer has pushed it (or closed) and the barrier is queued for the
   * consumer; until then this producer should send nothing more here.
   *
   * A barrier of an epoch below the highest seen (an aborted checkpoint's
   * straggler), or of an epoch already queued, is dropped and resolves at
   * once. A higher epoch supersedes the one aligning: the lower is
   * abandoned and its waiting producers are released without it being
   * queued. Returns false once the channel is cancelled (waiters included).
   */
  async pushBarrier(epoch: number): Promise<boolean> {
    if (this.#cancelled) return false;
    if (epoch < this.#highestEpoch || (epoch === this.#highestEpoch && !this.#aligning)) return true;
    if (epoch > this.#highestEpoch) {
      this.#release(true);
      this.#highestEpoch = epoch;
      this.#aligning = { epoch, arrived: 0, waiters: [] };
    }
    const aligning = this.#aligning!;
    aligning.arrived++;
    if (this.#completeAlignment()) return true;
    return new Promise<boolean>((resolve) => aligning.waiters.push(resolve));
  }

  /** The next batch or barrier, or `undefined` once every producer closed and the queue is empty (or on cancel). */
  async pull(): Promise<ChannelItem | undefined> {
    for (;;) {
      const item = this.tryPull();
      if (item || this.#cancelled || this.#openProducers === 0) return item;
      await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
    }
  }

  /** The next batch or barrier if one is queued now, without waiting; `undefined` otherwise. */
  tryPull(): ChannelItem | undefined {
    if (this.#cancelled) return undefined;
    const item = this.#queue.shift();
    if (item && !isBarrier(item)) {
      this.#batches--;
      this.#wakeProducers.shift()?.();
    }
    return item;
  }

  /**
   * The next batch or barrier, waiting at most `ms`: `'timeout'` when none
   * came in time, `undefined` when the channel has ended.
   */
  async pullWithin(ms: number): Promise<ChannelItem | 'timeout' | undefined> {
    const queued = this.tryPull();
    if (queued || this.#cancelled || this.#openProducers === 0) return queued;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => {
        if (this.#wakeConsumer === wake) this.#wakeConsumer = undefined;
        resolve('timeout');
      }, ms);
    });
    let wake: (() => void) | undefined;
    const woken = new Promise<void>((resolve) => (wake = this.#wakeConsumer = resolve));
    const outcome = await Promise.race([woken, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') return 'timeout';
    return this.tryPull() ?? (this.#openProducers === 0 || this.#cancelled ? undefined : 'timeout');
  }

  /** One producer is done; it counts as arrived at any barrier being aligned. */
  closeProducer(): void {
    this.#openProducers--;
    this.#completeAlignment();
    this.#signalConsumer();
  }

  /** Drops everything queued and releases every waiter (barrier waiters get false); used when the pipeline fails. */
  cancel(): number {
    let dropped = 0;
    for (const item of this.#queue) if (!isBarrier(item)) dropped += item.length;
    this.#cancelled = true;
    this.#queue = [];
    this.#batches = 0;
    this.#release(false);
    this.#signalConsumer();
    for (const wake of this.#wakeProducers.splice(0)) wake();
    return dropped;
  }

  #enqueue(item: ChannelItem): void {
    this.#queue.push(item);
    if (!isBarrier(item)) {
      this.#batches++;
      if (this.#batches > this.#highWater) this.#highWater = this.#batches;
    }
    this.#signalConsumer();
  }

  /** Queues the barrier being aligned once every open producer has reached it; true when it did. */
  #completeAlignment(): boolean {
    const aligning = this.#aligning;
    if (!aligning || aligning.arrived < this.#openProducers) return false;
    this.#aligning = undefined;
    this.#enqueue(barrier(aligning.epoch));
    for (const wake of aligning.waiters) wake(true);
    return true;
  }

  /** Abandons the alignment in progress, if any, releasing its producers with `accepted`. */
  #release(accepted: boolean): void {
    const aligning = this.#aligning;
    this.#aligning = undefined;
    if (aligning) for (const wake of aligning.waiters) wake(accepted);
  }

  #signalConsumer(): void {
    const wake = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    wake?.();
  }
}
