/**
 * Runs in the worker thread of a {@link SqliteCheckpointStore}: holds the
 * thread's own connection to the checkpoint database and answers one request
 * at a time (messages are handled in order, so writes never interleave).
 */
import { parentPort } from 'node:worker_threads';
import { toWireError } from '../errors/wire.js';
import { CheckpointDatabase } from './checkpoint-db.js';
import { packEntries, unpackEntries } from './entry-codec.js';
import type { PackedCheckpoint, StoreReply, StoreRequest } from './sqlite-protocol.js';

let db: CheckpointDatabase | undefined;
let file = '';

parentPort!.on('message', (request: StoreRequest) => {
  let reply: StoreReply;
  let transfer: ArrayBuffer[] = [];
  try {
    const value = handle(request);
    if (request.op === 'latest' && value) transfer = (value as PackedCheckpoint).state.map((s) => s.entries.buffer as ArrayBuffer);
    reply = { id: request.id, ok: true, value };
  } catch (error) {
    reply = { id: request.id, ok: false, error: toWireError(error, { code: 'WEIR_CHECKPOINT_STORE', details: { file } }) };
  }
  parentPort!.postMessage(reply, transfer);
});

function handle(request: StoreRequest): unknown {
  switch (request.op) {
    case 'open':
      file = request.file;
      db = CheckpointDatabase.open(request.file);
      return undefined;
    case 'write': {
      const { state, ...rest } = request.checkpoint;
      return opened().write({ ...rest, state: state.map(({ node, changes }) => ({ node, changes: unpackEntries(changes) })) });
    }
    case 'latest': {
      const stored = opened().latest();
      if (!stored) return undefined;
      const packed: PackedCheckpoint = { ...stored, state: [...stored.state].map(([node, entries]) => ({ node, entries: packEntries(entries) })) };
      return packed;
    }
    case 'counts':
      return opened().counts();
    case 'close':
      db?.close();
      db = undefined;
      return undefined;
  }
}

function opened(): CheckpointDatabase {
  if (!db) throw new Error('the database is not open');
  return db;
}
