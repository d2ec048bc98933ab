/**
 * A checkpoint store whose write fails: the run fails with
 * WEIR_CHECKPOINT_STORE, its details say which epoch (and, from the sqlite
 * store, which file), and it ends: also when its source waits for input that
 * does not come, and when it is the final checkpoint after a stop that fails.
 */
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { WeirError } from '../../src/errors/errors.js';
import { until } from '../fixtures/until.js';
import { RecordingStore, checkpointedRunsClosedAfterEach, examplePlugins, keyedLines } from './checkpointed-run.js';

const start = checkpointedRunsClosedAfterEach();

function pipeline(source: object) {
  return {
    name: 'store-failure',
    nodes: [
      { id: 'in', kind: 'source', ...source },
      { id: 'count', kind: 'processor', plugin: 'count-by-key-js.wasm', inputs: ['in'] },
      { id: 'out', kind: 'sink', connector: 'file', inputs: ['count'], config: { path: 'out.jsonl' } },
    ],
  };
}

/** Fails the writes from epoch `from` on, as the sqlite store does (a WeirError naming its file), or with a plain error. */
function failingStore(from: number, weir: boolean): RecordingStore {
  const store = new RecordingStore();
  store.failWhen = (c) => {
    if (c.epoch < from) return false;
    if (weir) throw new WeirError('WEIR_CHECKPOINT_STORE', 'cannot write /x/checkpoint.db: disk I/O error', { file: '/x/checkpoint.db' });
    return true;
  };
  return store;
}

describe('a checkpoint store that cannot write', () => {
  it.each([{ weir: true }, { weir: false }])('fails the run with WEIR_CHECKPOINT_STORE naming the epoch (store error a WeirError: $weir)', async ({ weir }) => {
    const run = await start({ pipeline: pipeline({ connector: 'generator', config: { count: 0, ratePerSec: 5000, keyCardinality: 5 } }), plugins: examplePlugins, store: failingStore(3, weir), intervalMs: 20 });
    const summary = await run.run.done;
    expect(summary.status).toBe('failed');
    expect(summary.error?.code).toBe('WEIR_CHECKPOINT_STORE');
    expect((summary.error?.details as Record<string, unknown> | undefined)?.epoch).toBe(3);
    if (weir) expect((summary.error?.details as Record<string, unknown> | undefined)?.file).toBe('/x/checkpoint.db');
    expect(run.store.written.map((c) => c.epoch)).toEqual([1, 2]);
  });

  it('ends the run while its stdin source waits for input that does not come', async () => {
    const stdin = new PassThrough();
    const store = failingStore(3, true);
    const run = await start({ pipeline: pipeline({ connector: 'stdin' }), plugins: examplePlugins, store, stdin, intervalMs: 20 });
    stdin.write(keyedLines(10, 3));
    const summary = await run.run.done;
    expect(summary.status).toBe('failed');
    expect(summary.error?.code).toBe('WEIR_CHECKPOINT_STORE');
    expect((summary.error?.details as Record<string, unknown> | undefined)?.epoch).toBe(3);
  });

  it('a final checkpoint that cannot be written fails the stopped run, naming its epoch', async () => {
    const store = new RecordingStore();
    const run = await start({ pipeline: pipeline({ connector: 'generator', config: { count: 0, ratePerSec: 5000, keyCardinality: 5 } }), plugins: examplePlugins, store, intervalMs: 20 });
    await until(() => store.written.length >= 2);
    store.failWhen = () => true;
    run.run.stop();
    const summary = await run.run.done;
    expect(summary.status).toBe('failed');
    expect(summary.error?.code).toBe('WEIR_CHECKPOINT_STORE');
    expect((summary.error?.details as Record<string, number> | undefined)?.epoch).toBeGreaterThan(2);
  });
});
