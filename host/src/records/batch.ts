/**
 * What moves between the nodes of a pipeline: a batch of records, either as
 * record objects (what plugin sources, aggregators and the typed `process`
 * of a plugin give) or packed ({@link PackedBatch}: built-in sources,
 * packed plugin calls). Each consumer takes the form it works on
 * ({@link recordsOf}, {@link packedOf}), so a batch is converted only where
 * a node needs the other form, and a packed pipeline never makes a record
 * object.
 */
import { PackedBatch } from './packed-batch.js';
import { batchBytes, recordBytes } from './record.js';
import type { StreamRecord } from './record.js';

/** A batch of records, as objects or packed. */
export type Batch = StreamRecord[] | PackedBatch;

/** Whether `batch` is packed. */
export function isPacked(batch: Batch): batch is PackedBatch {
  return batch instanceof PackedBatch;
}

/** The batch's records as objects (a packed batch is decoded: views into its bytes). */
export function recordsOf(batch: Batch): StreamRecord[] {
  return isPacked(batch) ? batch.records() : batch;
}

/** The batch packed (records are encoded into one buffer). */
export function packedOf(batch: Batch): PackedBatch {
  return isPacked(batch) ? batch : PackedBatch.fromRecords(batch);
}

/** Key, value and header bytes over the batch's records (what `batch.maxBytes` counts). */
export function payloadBytesOf(batch: Batch): number {
  return isPacked(batch) ? batch.payloadBytes : batchBytes(batch);
}

/** The batches one after another: arrays stay arrays, any packed part makes the whole packed. */
export function concatBatches(parts: readonly Batch[]): Batch {
  if (parts.length === 1) return parts[0]!;
  if (!parts.some(isPacked)) {
    // A loop, not concat(...parts): a spread of 100,000s of parts overflows the call stack.
    const all: StreamRecord[] = [];
    for (const part of parts as StreamRecord[][]) for (const record of part) all.push(record);
    return all;
  }
  return PackedBatch.concat(parts.map(packedOf));
}

/** Records `[start, end)` of a batch (a packed batch copies their byte range). */
export function sliceBatch(batch: Batch, start: number, end: number): Batch {
  if (start === 0 && end >= batch.length) return batch;
  return isPacked(batch) ? batch.slice(start, end) : batch.slice(start, end);
}

/**
 * How many records from `start` fit in `maxRecords` and `maxBytes` of
 * payload (at least one): the head {@link BatchFormer} cuts.
 */
export function countFitting(batch: Batch, start: number, maxRecords: number, maxBytes: number): number {
  if (isPacked(batch)) return batch.countFitting(start, maxRecords, maxBytes);
  const end = Math.min(batch.length, start + maxRecords);
  let bytes = 0;
  for (let i = start; i < end; i++) {
    bytes += recordBytes(batch[i]!);
    if (bytes > maxBytes && i > start) return i - start;
  }
  return end - start;
}

/** Payload bytes of the batch's records from `start` on. */
export function payloadBytesFrom(batch: Batch, start: number): number {
  if (start === 0) return payloadBytesOf(batch);
  return isPacked(batch) ? batch.payloadBytesOf(start, batch.length) : batchBytes(batch.slice(start));
}
