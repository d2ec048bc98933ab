/**
 * A bounded queue of batches between nodes: the backpressure of the
 * pipeline. `push` waits while the queue is full, so a slow consumer slows
 * its producers and memory stays bounded. Several producers may feed one
 * channel (fan-in); it ends once every producer has called `closeProducer`.
 */
import type { StreamRecord } from '../records/record.js';

/** One batch queue in front of a node. */
export class BatchChannel {
  readonly capacity: number;
  #queue: StreamRecord[][] = [];
  #openProducers: number;
  #cancelled = false;
  #highWater = 0;
  #wakeConsumer: (() => void) | undefined;
  #wakeProducers: Array<() => void> = [];

  constructor(capacity: number, producers: number) {
    this.capacity = capacity;
    this.#openProducers = producers;
  }

  /** Batches waiting now. */
  get depth(): number {
    return this.#queue.length;
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
  async push(batch: StreamRecord[]): Promise<boolean> {
    while (this.#queue.length >= this.capacity && !this.#cancelled) {
      await new Promise<void>((resolve) => this.#wakeProducers.push(resolve));
    }
    if (this.#cancelled) return false;
    this.#queue.push(batch);
    if (this.#queue.length > this.#highWater) this.#highWater = this.#queue.length;
    this.#signalConsumer();
    return true;
  }

  /** The next batch, or `undefined` once every producer closed and the queue is empty (or on cancel). */
  async pull(): Promise<StreamRecord[] | undefined> {
    for (;;) {
      if (this.#cancelled) return undefined;
      const batch = this.#queue.shift();
      if (batch) {
        this.#wakeProducers.shift()?.();
        return batch;
      }
      if (this.#openProducers === 0) return undefined;
      await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
    }
  }

  /** The next batch if one is queued now, without waiting; `undefined` otherwise. */
  tryPull(): StreamRecord[] | undefined {
    if (this.#cancelled) return undefined;
    const batch = this.#queue.shift();
    if (batch) this.#wakeProducers.shift()?.();
    return batch;
  }

  /**
   * The next batch, waiting at most `ms`: `'timeout'` when none came in time,
   * `undefined` when the channel has ended.
   */
  async pullWithin(ms: number): Promise<StreamRecord[] | 'timeout' | undefined> {
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

  /** One producer is done. */
  closeProducer(): void {
    this.#openProducers--;
    this.#signalConsumer();
  }

  /** Drops everything queued and releases every waiter; used when the pipeline fails. */
  cancel(): number {
    const dropped = this.#queue.reduce((n, b) => n + b.length, 0);
    this.#cancelled = true;
    this.#queue = [];
    this.#signalConsumer();
    for (const wake of this.#wakeProducers.splice(0)) wake();
    return dropped;
  }

  #signalConsumer(): void {
    const wake = this.#wakeConsumer;
    this.#wakeConsumer = undefined;
    wake?.();
  }
}
