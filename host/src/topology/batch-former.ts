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
 * {@link BatchFormer.next} also hands out checkpoint barriers and never
 * coalesces across one: the records before a barrier come out first (as one
 * or more batches, without waiting out `lingerMs`), then the barrier.
 */
import type { StreamRecord } from '../records/record.js';
import { batchBytes, recordBytes } from '../records/record.js';
import type { BatchConfig } from '../config/pipeline-config.js';
import type { BatchChannel } from './batch-channel.js';
import { isBarrier } from './barrier.js';
import type { Barrier, ChannelItem } from './barrier.js';

/** Pulls formed batches from one channel. */
export class BatchFormer {
  readonly #channel: BatchChannel;
  readonly #config: BatchConfig;
  #pending: StreamRecord[] = [];
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
    if (this.#pending.length === 0) {
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
    }
    const deadline = idle ? 0 : performance.now() + lingerMs;
    let bytes = this.#pending.length < maxRecords ? batchBytes(this.#pending) : 0;
    while (!this.#ended && !this.#barrier && this.#pending.length < maxRecords && bytes < maxBytes) {
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
      this.#pending = this.#pending.concat(more);
      bytes += batchBytes(more);
    }
    return this.#take(maxRecords, maxBytes);
  }

  /** Takes the head of the pending records within the limits (at least one record). */
  #take(maxRecords: number, maxBytes: number): StreamRecord[] {
    let count = Math.min(this.#pending.length, maxRecords);
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      bytes += recordBytes(this.#pending[i]!);
      if (bytes > maxBytes && i > 0) {
        count = i;
        break;
      }
    }
    if (count === this.#pending.length) {
      const batch = this.#pending;
      this.#pending = [];
      return batch;
    }
    const batch = this.#pending.slice(0, count);
    this.#pending = this.#pending.slice(count);
    return batch;
  }
}
