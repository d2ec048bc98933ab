/**
 * What a checkpoint holds and the store that keeps the latest one. A
 * checkpoint is written whole or not at all: {@link CheckpointStore.write}
 * replaces every part, applies the keyed-state changes since the previous
 * checkpoint and moves the epoch, as one transaction. Only the latest
 * checkpoint is kept.
 */
import { dirname, join } from 'node:path';
import type { PluginKind } from '../contract/plugin.js';

/** One node of the pipeline as it ran, to check on restore that the pipeline is still the same. */
export interface NodeSignature {
  id: string;
  kind: PluginKind;
  /** `plugin` or `connector:<name>`. */
  implementation: string;
  /** JSON of the node's `WindowConfig`, when it has a window. */
  window?: string;
}

/** What a node keeps in a checkpoint besides keyed state. */
export type PartKind = 'source' | 'sink' | 'windows';

/** One opaque blob of one node and lane: a source position or sink token (lane 0), a lane's window snapshot. */
export interface CheckpointPart {
  node: string;
  lane: number;
  part: PartKind;
  data: Uint8Array;
}

/** A state row: a key and its value. */
export type StateEntry = [key: Uint8Array, value: Uint8Array];

/** A checkpoint as the coordinator hands it to {@link CheckpointStore.write}. */
export interface CheckpointWrite {
  epoch: number;
  /** ISO time the checkpoint was taken. */
  takenAt: string;
  /** The pipeline as it ran (for the match check on restore). */
  graph: NodeSignature[];
  /**
   * Opaque per-node, per-lane blobs, REPLACED as a whole each checkpoint:
   * source positions (lane 0), sink commit tokens (lane 0), window snapshots
   * (lane i). A node missing here keeps nothing.
   */
  parts: CheckpointPart[];
  /** Keyed-state changes since the previous checkpoint (incremental), by binary key; value null = deleted. */
  state: Array<{ node: string; changes: ReadonlyMap<BinaryKey, Uint8Array | null> }>;
}

/**
 * A key as a binary string: one char (0-255) per byte, the form keyed state
 * holds its keys in, so a checkpoint takes them without a copy per key.
 */
export type BinaryKey = string;

/** State changes by binary key, from keys as bytes (`null`: deleted). */
export function stateChanges(entries: Iterable<readonly [Uint8Array, Uint8Array | null]>): Map<BinaryKey, Uint8Array | null> {
  const changes = new Map<BinaryKey, Uint8Array | null>();
  for (const [key, value] of entries) changes.set(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'), value);
  return changes;
}

/** The latest checkpoint as read back: parts as written, keyed state in full. */
export interface StoredCheckpoint {
  epoch: number;
  takenAt: string;
  graph: NodeSignature[];
  parts: CheckpointPart[];
  /** The full keyed state of each node that has any. */
  state: Map<string, StateEntry[]>;
}

/** What `host checkpoints` lists. */
export interface CheckpointSummary {
  epoch: number;
  takenAt: string;
  /** Bytes on disk (the database and its write-ahead log); for a memory store, the bytes held. */
  bytes: number;
  /** Every node with state or parts, sorted by id. */
  nodes: Array<{ node: string; keys: number; parts: number }>;
}

/** Keeps the latest checkpoint of one pipeline. */
export interface CheckpointStore {
  /** The last completed checkpoint, or undefined. */
  latest(): Promise<StoredCheckpoint | undefined>;
  /** Resolves once the checkpoint is durable (committed, synchronous=FULL). One transaction. */
  write(checkpoint: CheckpointWrite): Promise<void>;
  /** Epoch, time, size and per-node counts of the last checkpoint, or undefined. */
  summary(): Promise<CheckpointSummary | undefined>;
  /** Deletes everything stored for this pipeline (the file(s)). The store stays usable and starts empty. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The checkpoint database of a pipeline: `<dir>/<name>/checkpoint.db`.
 * Characters of the name that are not safe in a file name (anything but
 * letters, digits, `.`, `_`, `-`), and a name made of dots only, are
 * percent-encoded, so every name gets a folder of its own inside `dir`.
 *
 * @example
 * checkpointFile('/srv/p/.weir', 'clicks') // '/srv/p/.weir/clicks/checkpoint.db'
 */
export function checkpointFile(dir: string, pipelineName: string): string {
  let folder = pipelineName.replace(/[^A-Za-z0-9._-]/gu, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
  if (/^\.*$/u.test(folder)) folder = folder.replace(/\./gu, '%2E');
  return join(dir, folder, 'checkpoint.db');
}

/** The file beside a checkpoint database whose exclusive lock says that one process owns the database. */
export function ownerLockFile(databaseFile: string): string {
  return join(dirname(databaseFile), 'owner.lock');
}
