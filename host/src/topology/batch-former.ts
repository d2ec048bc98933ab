/**
 * Forms the batches a node's plugin is called with, from the batches that
 * arrive on its input channel (`batch` in pipeline.json): whatever is already
 * queued is coalesced up to `maxRecords` and `maxBytes` at no cost; a batch
 * still short of them waits up to `lingerMs` for more, so under heavy traffic
 * plugins get full batches and under light traffic a record waits at most
 * `lingerMs`. Arriving batches larger than the limits are split.
 */
import type { StreamRecord } from '../records/record.js';
import { batchBytes, recordBytes } from '../records/record.js';
import type { BatchConfig } from '../config/pipeline-config.js';
import type { BatchChannel } from './batch-channel.js';

/** Pulls formed batches from one channel. */
export class BatchFormer {
  readonly #channel: BatchChannel;
  readonly #config: BatchConfig;
  #pending: StreamRecord[] = [];
  #ended = false;

  constructor(channel: BatchChannel, config: BatchConfig) {
    this.#channel = channel;
    this.#config = config;
  }

  /** The next batch for the plugin, or `undefined` once the input has ended and everything was handed out. */
  async next(): Promise<StreamRecord[] | undefined> {
    const { maxRecords, maxBytes, lingerMs } = this.#config;
    if (this.#pending.length === 0 && !this.#ended) {
      const first = await this.#channel.pull();
      if (first) this.#pending = first;
      else this.#ended = true;
    }
    if (this.#pending.length === 0) return undefined;
    const deadline = performance.now() + lingerMs;
    let bytes = this.#pending.length < maxRecords ? batchBytes(this.#pending) : 0;
    while (!this.#ended && this.#pending.length < maxRecords && bytes < maxBytes) {
      let more: StreamRecord[] | 'timeout' | undefined = this.#channel.tryPull();
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
