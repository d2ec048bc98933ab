/**
 * The SQL of the checkpoint database, on one synchronous node:sqlite
 * connection. {@link SqliteCheckpointStore} runs it in a worker thread (its
 * own connection), so a large write never stalls the thread that runs the
 * pipeline.
 *
 * Layout: `meta` (one row: epoch, time, graph JSON), `parts` (node, lane,
 * part, data) and `state` (node, key group, key, value). WAL journal with
 * `synchronous=FULL`: a commit is on disk when it returns, and a process
 * killed mid-transaction leaves the previous checkpoint whole (the
 * uncommitted frames of the log are ignored when the file is opened next).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { WeirError, messageOf } from '../errors/errors.js';
import { ownerLockFile } from './checkpoint-store.js';
import type { CheckpointPart, CheckpointWrite, NodeSignature, PartKind, StateEntry, StoredCheckpoint } from './checkpoint-store.js';

/** Key groups a node's keys are spread over (stored with each key, so state can be redistributed later). */
export const KEY_GROUPS = 128;

/**
 * The key group of a key: FNV-1a (32-bit) of its bytes modulo {@link KEY_GROUPS},
 * the hash `keyLane` uses (state/key-groups.ts computes the same; checkpoint/
 * may not import state/).
 */
export function keyGroupOf(key: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key[i]!, 0x01000193);
  return (hash >>> 0) % KEY_GROUPS;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 0), epoch INTEGER NOT NULL, taken_at TEXT NOT NULL, graph TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS parts (node TEXT NOT NULL, lane INTEGER NOT NULL, part TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY (node, lane, part));
CREATE TABLE IF NOT EXISTS state (node TEXT NOT NULL, key_group INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, PRIMARY KEY (node, key)) WITHOUT ROWID;
`;

/** Per-node counts of the stored checkpoint. */
export interface CheckpointCounts {
  epoch: number;
  takenAt: string;
  nodes: Array<{ node: string; keys: number; parts: number }>;
}

/** A {@link CheckpointWrite} as the writer thread has it: each node's changes unpacked, keys as bytes. */
export type UnpackedCheckpointWrite = Omit<CheckpointWrite, 'state'> & { state: Array<{ node: string; changes: Iterable<readonly [Uint8Array, Uint8Array | null]> }> };

/** One open checkpoint database. */
export class CheckpointDatabase {
  readonly #db: DatabaseSync;
  /** Held (exclusively locked) while this database is open: one process at a time writes checkpoints. */
  readonly #owner: DatabaseSync;
  readonly #file: string;
  readonly #upsert: StatementSync;
  readonly #delete: StatementSync;
  readonly #deleteAbsentNodes: StatementSync;
  readonly #insertPart: StatementSync;
  /** The node ids of the last graph this connection wrote (JSON), so unchanged graphs skip the scan for absent nodes. */
  #writtenNodes: string | undefined;

  private constructor(db: DatabaseSync, owner: DatabaseSync, file: string) {
    this.#db = db;
    this.#owner = owner;
    this.#file = file;
    this.#upsert = db.prepare('INSERT INTO state (node, key_group, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (node, key) DO UPDATE SET value = excluded.value');
    this.#delete = db.prepare('DELETE FROM state WHERE node = ? AND key = ?');
    this.#deleteAbsentNodes = db.prepare('DELETE FROM state WHERE node NOT IN (SELECT value FROM json_each(?))');
    this.#insertPart = db.prepare('INSERT INTO parts (node, lane, part, data) VALUES (?, ?, ?, ?)');
  }

  /**
   * Opens (creating it and its folder if needed) the database at `file`.
   *
   * @throws WeirError `WEIR_CHECKPOINT_STORE` naming the file and the cause.
   */
  static open(file: string): CheckpointDatabase {
    let db: DatabaseSync | undefined;
    let owner: DatabaseSync | undefined;
    try {
      mkdirSync(dirname(file), { recursive: true });
      // One process at a time: a small database beside it, locked exclusively for as long as this one is open (the
      // OS drops the lock when the process dies, kill -9 included). The checkpoint database itself stays readable.
      owner = new DatabaseSync(ownerLockFile(file));
      owner.exec('PRAGMA busy_timeout = 1000; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; COMMIT;');
      db = new DatabaseSync(file);
      db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;');
      db.exec(SCHEMA);
      return new CheckpointDatabase(db, owner, file);
    } catch (error) {
      db?.close();
      owner?.close();
      if (/locked|busy/i.test(messageOf(error))) {
        throw new WeirError(
          'WEIR_CHECKPOINT_STORE',
          `the checkpoint database ${file} is in use by another process: is this pipeline already running? A pipeline with checkpoints runs in one \`host run\` at a time, and \`host checkpoints\` can read or delete its checkpoint only while it is not running`,
          { file },
          { cause: error },
        );
      }
      throw storeError(file, 'open', error);
    }
  }

  /**
   * Writes one checkpoint in one transaction (see {@link CheckpointWrite};
   * here each node's changes are the unpacked entries). The state of nodes
   * no longer in the checkpoint's graph is deleted.
   */
  write(checkpoint: UnpackedCheckpointWrite): void {
    const db = this.#db;
    try {
      db.exec('BEGIN IMMEDIATE');
      try {
        db.exec('DELETE FROM parts');
        for (const p of checkpoint.parts) this.#insertPart.run(p.node, p.lane, p.part, p.data);
        const nodes = JSON.stringify(checkpoint.graph.map((n) => n.id).sort());
        // A scan of every key: only when the nodes changed since the last write (the first write of a run included).
        if (nodes !== this.#writtenNodes) this.#deleteAbsentNodes.run(nodes);
        this.#writtenNodes = undefined;
        for (const { node, changes } of checkpoint.state) {
          for (const [key, value] of changes) {
            if (value === null) this.#delete.run(node, key);
            else this.#upsert.run(node, keyGroupOf(key), key, value);
          }
        }
        db.prepare('INSERT INTO meta (id, epoch, taken_at, graph) VALUES (0, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, taken_at = excluded.taken_at, graph = excluded.graph')
          .run(checkpoint.epoch, checkpoint.takenAt, JSON.stringify(checkpoint.graph));
        db.exec('COMMIT');
        this.#writtenNodes = nodes;
      } catch (error) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw error;
      }
    } catch (error) {
      throw storeError(this.#file, `write checkpoint ${checkpoint.epoch} to`, error);
    }
  }

  /** The stored checkpoint, read in one transaction, or undefined. */
  latest(): StoredCheckpoint | undefined {
    return this.#read(() => {
      const meta = this.#meta();
      if (!meta) return undefined;
      const parts = (this.#db.prepare('SELECT node, lane, part, data FROM parts ORDER BY node, part, lane').all() as Array<{ node: string; lane: number; part: PartKind; data: Uint8Array }>)
        .map((row): CheckpointPart => ({ node: row.node, lane: row.lane, part: row.part, data: row.data }));
      const state = new Map<string, StateEntry[]>();
      for (const row of this.#db.prepare('SELECT node, key, value FROM state ORDER BY node, key').iterate() as Iterable<{ node: string; key: Uint8Array; value: Uint8Array }>) {
        let entries = state.get(row.node);
        if (!entries) state.set(row.node, (entries = []));
        entries.push([row.key, row.value]);
      }
      return { epoch: meta.epoch, takenAt: meta.takenAt, graph: meta.graph, parts, state };
    });
  }

  /** Epoch, time and per-node counts, or undefined when nothing is stored. */
  counts(): CheckpointCounts | undefined {
    return this.#read(() => {
      const meta = this.#meta();
      if (!meta) return undefined;
      const nodes = new Map<string, { node: string; keys: number; parts: number }>();
      const entry = (node: string) => nodes.get(node) ?? nodes.set(node, { node, keys: 0, parts: 0 }).get(node)!;
      for (const row of this.#db.prepare('SELECT node, COUNT(*) AS n FROM state GROUP BY node').all() as Array<{ node: string; n: number }>) entry(row.node).keys = row.n;
      for (const row of this.#db.prepare('SELECT node, COUNT(*) AS n FROM parts GROUP BY node').all() as Array<{ node: string; n: number }>) entry(row.node).parts = row.n;
      return { epoch: meta.epoch, takenAt: meta.takenAt, nodes: [...nodes.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)) };
    });
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
    if (this.#owner.isOpen) this.#owner.close();
  }

  #meta(): { epoch: number; takenAt: string; graph: NodeSignature[] } | undefined {
    const row = this.#db.prepare('SELECT epoch, taken_at, graph FROM meta WHERE id = 0').get() as { epoch: number; taken_at: string; graph: string } | undefined;
    return row ? { epoch: row.epoch, takenAt: row.taken_at, graph: JSON.parse(row.graph) as NodeSignature[] } : undefined;
  }

  /** Runs `read` in one read transaction, so a concurrent writer (another process) cannot tear it. */
  #read<T>(read: () => T): T {
    try {
      this.#db.exec('BEGIN');
      try {
        return read();
      } finally {
        this.#db.exec('COMMIT');
      }
    } catch (error) {
      throw storeError(this.#file, 'read', error);
    }
  }
}

/**
 * The graph of the checkpoint stored in `file`, read without taking the
 * database over (another process may own it); undefined when it holds none
 * or cannot be read.
 */
export function storedGraph(file: string): NodeSignature[] | undefined {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file, { readOnly: true });
    const row = db.prepare('SELECT graph FROM meta WHERE id = 0').get() as { graph: string } | undefined;
    return row ? (JSON.parse(row.graph) as NodeSignature[]) : undefined;
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

/** `WEIR_CHECKPOINT_STORE` for a failed `action` on `file`. */
export function storeError(file: string, action: string, cause: unknown): WeirError {
  if (cause instanceof WeirError) return cause;
  return new WeirError(
    'WEIR_CHECKPOINT_STORE',
    `cannot ${action} the checkpoint database ${file}: ${messageOf(cause)} (check that its folder is writable and the disk has room; \`host checkpoints PIPELINE.json --delete\` removes a damaged database, and the next run starts from the beginning)`,
    { file },
    { cause },
  );
}
