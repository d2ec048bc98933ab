/**
 * Splits a batch among the N instances of a node (`partition` in
 * pipeline.json):
 * - `key`: by a hash of the record key, so every record of a key goes to the
 *   same instance, in order; records without a key are spread round-robin.
 * - `round-robin`: whole batches in turn (no order across instances).
 * - `broadcast`: every instance gets every record.
 *
 * A packed batch stays packed: round-robin and broadcast pass it whole (it
 * is immutable, so the instances of a broadcast share it), and `key` hashes
 * each key where it lies in the buffer and copies record ranges, decoding
 * nothing.
 */
import { isPacked } from '../records/batch.js';
import type { Batch } from '../records/batch.js';
import type { StreamRecord } from '../records/record.js';

/** How a node's input is spread over its instances. */
export type PartitionMode = 'round-robin' | 'key' | 'broadcast';

/** The instance index of a key: FNV-1a (32-bit) of its bytes, modulo `lanes`. */
export function keyLane(key: Uint8Array, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key[i]!, 0x01000193);
  return (hash >>> 0) % lanes;
}

/** Splits batches for one node; keeps the round-robin position between calls. */
export class Partitioner {
  readonly #mode: PartitionMode;
  readonly #lanes: number;
  #next = 0;

  constructor(mode: PartitionMode, lanes: number) {
    this.#mode = mode;
    this.#lanes = lanes;
  }

  /** One sub-batch per instance (possibly empty), each in input order. */
  split(batch: StreamRecord[]): StreamRecord[][];
  split(batch: Batch): Batch[];
  split(batch: Batch): Batch[] {
    const lanes = this.#lanes;
    if (this.#mode === 'broadcast') return Array.from({ length: lanes }, () => batch);
    if (this.#mode === 'round-robin') {
      // The whole batch goes to one instance (no copy, and no spread of a huge batch into call arguments).
      const out: Batch[] = Array.from({ length: lanes }, () => []);
      out[this.#next] = batch;
      this.#next = (this.#next + 1) % lanes;
      return out;
    }
    if (isPacked(batch)) return batch.select(lanes, (key) => (key ? keyLane(key, lanes) : (this.#next = (this.#next + 1) % lanes)));
    const out: StreamRecord[][] = Array.from({ length: lanes }, () => []);
    for (const record of batch) {
      const lane = record.key ? keyLane(record.key, lanes) : (this.#next = (this.#next + 1) % lanes);
      out[lane]!.push(record);
    }
    return out;
  }
}
