/**
 * The checkpoint store of `host run`: one SQLite file per pipeline
 * (node:sqlite, WAL, `synchronous=FULL`), written by a worker thread with its
 * own connection. The thread that runs the pipeline only posts the
 * checkpoint (a structured clone) and awaits the answer, so writing 100k
 * keys does not stall its event loop. The SQL is in checkpoint-db.ts.
 */
import { existsSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WeirError } from '../errors/errors.js';
import { fromWireError } from '../errors/wire.js';
import type { CheckpointCounts } from './checkpoint-db.js';
import { ownerLockFile } from './checkpoint-store.js';
import type { CheckpointStore, CheckpointSummary, CheckpointWrite, StoredCheckpoint } from './checkpoint-store.js';
import { packEntries, unpackEntries } from './entry-codec.js';
import type { StateEntry } from './checkpoint-store.js';
import type { PackedCheckpoint, StoreReply, StoreRequest } from './sqlite-protocol.js';

type Request = StoreRequest extends infer R ? (R extends StoreRequest ? Omit<R, 'id'> : never) : never;

/** The worker thread and its pending requests. */
interface Connection {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>;
  /** Set once the worker is gone (error or exit): every later request fails with it. */
  broken?: WeirError;
}

/** A {@link CheckpointStore} in a SQLite file. Call {@link SqliteCheckpointStore.open}; end with `close()`. */
export class SqliteCheckpointStore implements CheckpointStore {
  readonly file: string;
  #state: 'open' | 'closed' = 'open';
  #connection: Connection | undefined;
  #opened: Promise<Connection> | undefined;
  #nextId = 0;

  private constructor(file: string) {
    this.file = file;
  }

  /**
   * Opens the database at `file`, creating it (and its folder) when it does not exist.
   *
   * @throws WeirError `WEIR_CHECKPOINT_STORE` when it cannot be opened (the message names the file and the cause).
   * @example
   * const store = await SqliteCheckpointStore.open(checkpointFile(config.checkpoint.dir, config.name));
   */
  static async open(file: string): Promise<SqliteCheckpointStore> {
    const store = new SqliteCheckpointStore(file);
    try {
      await store.#ready();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** The stored checkpoint; keys and values are views into one buffer per node. */
  async latest(): Promise<StoredCheckpoint | undefined> {
    const packed = (await this.#call({ op: 'latest' })) as PackedCheckpoint | undefined;
    if (!packed) return undefined;
    const state = new Map(packed.state.map(({ node, entries }) => [node, unpackEntries(entries) as StateEntry[]]));
    return { epoch: packed.epoch, takenAt: packed.takenAt, graph: packed.graph, parts: packed.parts, state };
  }

  /** Packs the state changes (one pass over them on this thread) and hands the checkpoint to the writer thread. */
  async write(checkpoint: CheckpointWrite): Promise<void> {
    const state = checkpoint.state.map(({ node, changes }) => ({ node, changes: packEntries(changes) }));
    // Copies of the parts, so a part that is a view of a large buffer does not drag all of it across.
    const parts = checkpoint.parts.map((p) => ({ node: p.node, lane: p.lane, part: p.part, data: p.data.slice() }));
    await this.#call({ op: 'write', checkpoint: { epoch: checkpoint.epoch, takenAt: checkpoint.takenAt, graph: checkpoint.graph, parts, state } }, state.map((s) => s.changes.buffer as ArrayBuffer));
  }

  async summary(): Promise<CheckpointSummary | undefined> {
    const counts = (await this.#call({ op: 'counts' })) as CheckpointCounts | undefined;
    if (!counts) return undefined;
    const size = (path: string) => statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    return { ...counts, bytes: size(this.file) + size(`${this.file}-wal`) };
  }

  async clear(): Promise<void> {
    this.#assertOpen();
    await this.#disconnect();
    try {
      for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${this.file}${suffix}`, { force: true });
      rmSync(ownerLockFile(this.file), { force: true });
      // The pipeline's folder goes too when nothing else is in it.
      if (existsSync(dirname(this.file))) rmdirSync(dirname(this.file));
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOTEMPTY') {
        throw new WeirError('WEIR_CHECKPOINT_STORE', `cannot delete the checkpoint database ${this.file}: ${(error as Error).message}`, { file: this.file }, { cause: error });
      }
    }
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    await this.#disconnect();
  }

  #assertOpen(): void {
    if (this.#state === 'closed') throw new WeirError('WEIR_CHECKPOINT_STORE', `the checkpoint store of ${this.file} is closed`, { file: this.file });
  }

  /** The worker, started and holding an open connection (again after `clear()` or a crash of the worker). */
  #ready(): Promise<Connection> {
    if (!this.#opened) {
      const connection = this.#start();
      this.#connection = connection;
      this.#opened = this.#send(connection, { op: 'open', file: this.file }).then(() => connection);
    }
    return this.#opened;
  }

  async #call(request: Request, transfer: ArrayBuffer[] = []): Promise<unknown> {
    this.#assertOpen();
    return this.#send(await this.#ready(), request, transfer);
  }

  #start(): Connection {
    const worker = new Worker(writerEntry());
    const connection: Connection = { worker, pending: new Map() };
    worker.unref();
    const fail = (error: WeirError) => {
      connection.broken ??= error;
      for (const { reject } of connection.pending.values()) reject(connection.broken);
      connection.pending.clear();
      // The next request starts a new worker (what is on disk is the last committed checkpoint).
      if (this.#connection === connection) {
        this.#connection = undefined;
        this.#opened = undefined;
      }
    };
    worker.on('message', (reply: StoreReply) => {
      const waiter = connection.pending.get(reply.id);
      if (!waiter) return;
      connection.pending.delete(reply.id);
      if (connection.pending.size === 0) worker.unref();
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(fromWireError(reply.error));
    });
    worker.on('error', (error) => fail(new WeirError('WEIR_CHECKPOINT_STORE', `the checkpoint writer of ${this.file} failed: ${error.message}`, { file: this.file }, { cause: error })));
    worker.on('exit', (code) => fail(new WeirError('WEIR_CHECKPOINT_STORE', `the checkpoint writer of ${this.file} exited (code ${code})`, { file: this.file, exitCode: code })));
    return connection;
  }

  #send(connection: Connection, request: Request, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (connection.broken) return Promise.reject(connection.broken);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      // A request in flight keeps the process alive until it is answered.
      if (connection.pending.size === 0) connection.worker.ref();
      connection.pending.set(id, { resolve, reject });
      connection.worker.postMessage({ ...request, id } as StoreRequest, transfer);
    });
  }

  /** Closes the connection and ends the worker, after the requests already sent. */
  async #disconnect(): Promise<void> {
    const connection = this.#connection;
    const opened = this.#opened;
    this.#connection = undefined;
    this.#opened = undefined;
    if (!connection) return;
    try {
      await opened;
      await this.#send(connection, { op: 'close' });
    } catch {
      // nothing more to close: the connection never opened, or the worker is gone
    } finally {
      await connection.worker.terminate();
    }
  }
}

/** The worker's module: compiled (dist/), also when the host runs from TypeScript sources (vitest). */
function writerEntry(): URL {
  const here = new URL('./sqlite-writer.js', import.meta.url);
  if (existsSync(fileURLToPath(here))) return here;
  return new URL('../../../dist/checkpoint/sqlite-writer.js', import.meta.url);
}
