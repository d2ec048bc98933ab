/**
 * A checkpoint barrier: a marker a source puts into its outputs between two
 * polls. It travels in order with the record batches, so everything a node
 * saw before barrier n is the part of the stream that checkpoint n covers.
 */
import type { Batch } from '../records/batch.js';

/** The marker of checkpoint `epoch` in a stream. */
export interface Barrier {
  readonly kind: 'barrier';
  readonly epoch: number;
}

/** What a channel or batch former hands out: a batch of records, or a barrier. */
export type ChannelItem = Batch | Barrier;

/** The barrier of checkpoint `epoch`. */
export function barrier(epoch: number): Barrier {
  return { kind: 'barrier', epoch };
}

/** Whether `item` is a barrier (rather than a batch or the end of input). */
export function isBarrier(item: ChannelItem | undefined): item is Barrier {
  return item !== undefined && (item as Partial<Barrier>).kind === 'barrier';
}
