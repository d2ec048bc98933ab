/** Messages between a {@link SqliteCheckpointStore} and its worker thread. */
import type { WireError } from '../errors/wire.js';
import type { CheckpointPart, NodeSignature } from './checkpoint-store.js';

/** A checkpoint on its way to the worker: each node's state changes packed (entry-codec.ts). */
export interface PackedWrite {
  epoch: number;
  takenAt: string;
  graph: NodeSignature[];
  parts: CheckpointPart[];
  state: Array<{ node: string; changes: Uint8Array }>;
}

/** The stored checkpoint on its way back: each node's full state packed. */
export interface PackedCheckpoint {
  epoch: number;
  takenAt: string;
  graph: NodeSignature[];
  parts: CheckpointPart[];
  state: Array<{ node: string; entries: Uint8Array }>;
}

/** A request to the worker; answered by a {@link StoreReply} with the same id. */
export type StoreRequest = { id: number } & (
  | { op: 'open'; file: string }
  | { op: 'write'; checkpoint: PackedWrite }
  | { op: 'latest' }
  | { op: 'counts' }
  | { op: 'close' }
);

/** The worker's answer: the operation's value, or its error in wire form. */
export type StoreReply = { id: number } & ({ ok: true; value: unknown } | { ok: false; error: WireError });
