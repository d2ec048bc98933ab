/**
 * Forms the batches a node's plugin is called with, from the batches that
 * arrive on its input channel (`batch` in pipeline.json): whatever is already
 * queued is coalesced up to `maxRecords` and `maxBytes` at no cost. Linger
 * adapts to the consumer: a batch that finds the node idle (it was waiting
 * for input) goes at once, with whatever else is queued; a batch that arrived
 * while the node was busy (it was queued when the node asked) waits up to
 * `lingerMs` for more while still short of the limits. So a lone record is
 * not delayed, and under steady traffic plugins get full batches. Arriving
 * batches larger than the limits are split.
 *
 * Batches keep their form: packed batches are concatenated and cut as bytes
 * (records/packed-batch.ts), arrays as arrays; a mix comes out packed. A
 * batch that fits as it arrived goes on untouched, and a large one is cut
 * from a cursor, so each of its records is copied once.
 *
 * {@link BatchFormer.next} also hands out checkpoint barriers and never
 * coalesces across one: the records before a barrier come out first (as one
 * or more batches, without waiting out `lingerMs`), then the barrier.
 */
import { concatBatches, countFitting, payloadBytesFrom, payloadBytesOf, sliceBatch } from '../records/batch.js';
import type { Batch } from '../records/batch.js';
import type { BatchConfig } from '../config/pipeline-config.js';
import type { BatchChannel } from './batch-channel.js';
import { isBarrier } from './barrier.js';
import type { Barrier, ChannelItem } from './barrier.js';

/** Pulls formed batches from one channel. */
export class BatchFormer {
  readonly #channel: BatchChannel;
  readonly #config: BatchConfig;
  /** Records pulled and not handed out yet: those of `#pending` from `#start` on. */
  #pending: Batch | undefined;
  #start = 0;
  #ended = false;
  /** A barrier pulled while filling a batch: handed out once the records before it are. */
  #barrier: Barrier | undefined;

  constructor(channel: BatchChannel, config: BatchConfig) {
    this.#channel = channel;
    this.#config = config;
  }

  /**
   * The next batch or barrier for the node, or `undefined` once the input has
   * ended and everything was handed out.
   */
  async next(): Promise<ChannelItem | undefined> {
    const { maxRecords, maxBytes, lingerMs } = this.#config;
    let idle = false;
    if (this.#pending === undefined) {
      if (this.#barrier) {
        const barrier = this.#barrier;
        this.#barrier = undefined;
        return barrier;
      }
      if (this.#ended) return undefined;
      const queued = this.#channel.tryPull();
      // Nothing was queued: the node is idle, so what arrives first goes without lingering.
      idle = queued === undefined;
      const first = queued ?? (await this.#channel.pull());
      if (isBarrier(first)) return first;
      if (!first) {
        this.#ended = true;
        return undefined;
      }
      this.#pending = first;
      this.#start = 0;
    }
    const pending = this.#pending;
    const start = this.#start;
    /** Batches pulled to join the pending records. */
    const parts: Batch[] = [];
    let count = pending.length - start;
    const deadline = idle ? 0 : performance.now() + lingerMs;
    let bytes = count < maxRecords ? payloadBytesFrom(pending, start) : 0;
    while (!this.#ended && !this.#barrier && count < maxRecords && bytes < maxBytes) {
      let more: ChannelItem | 'timeout' | undefined = this.#channel.tryPull();
      if (!more) {
        const left = deadline - performance.now();
        if (left <= 0) break;
        more = await this.#channel.pullWithin(left);
      }
      if (more === 'timeout') break;
      if (!more) {
        this.#ended = true;
        break;
      }
      if (isBarrier(more)) {
        this.#barrier = more;
        break;
      }
      parts.push(more);
      count += more.length;
      bytes += payloadBytesOf(more);
    }
    if (parts.length > 0) {
      // The pending records were short of the limits: joining them copies little.
      this.#pending = concatBatches([sliceBatch(pending, start, pending.length), ...parts]);
      this.#start = 0;
    }
    return this.#take(maxRecords, maxBytes);
  }

  /** Takes the head of the pending records within the limits (at least one record). */
  #take(maxRecords: number, maxBytes: number): Batch {
    const pending = this.#pending!;
    const start = this.#start;
    const count = countFitting(pending, start, maxRecords, maxBytes);
    const end = start + count;
    const batch = sliceBatch(pending, start, end);
    if (end >= pending.length) this.#pending = undefined;
    else this.#start = end;
    return batch;
  }
}
