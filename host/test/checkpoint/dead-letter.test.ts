/**
 * Checkpoints through a processor whose failed records go to a dead-letter
 * sink: the barrier reaches the dead-letter sink too (it reports, so
 * checkpoints complete), nothing stalls, and every checkpoint is a cut: what
 * the sources had read by it is in the output or in the dead letters.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { until } from '../fixtures/until.js';
import { checkpointedRunsClosedAfterEach, countTotal, linesWithin, positionOf } from './checkpointed-run.js';

let fixtures: string;

beforeAll(async () => {
  fixtures = await buildFixtures('probe-js');
});

const start = checkpointedRunsClosedAfterEach();

const LINES = 1500;

/** Lines whose value is "bad<i>" every 7th record (the probe rejects those), "v<i>" otherwise. */
function input(): string {
  return Array.from({ length: LINES }, (_, i) => JSON.stringify({ key: `k${i % 5}`, value: i % 7 === 3 ? `bad${i}` : `v${i}` })).join('\n') + '\n';
}

const badWithin = (lines: number) => Array.from({ length: lines }, (_, i) => i).filter((i) => i % 7 === 3).length;

describe('checkpoints with a dead-letter sink', () => {
  it('complete while records fail: barriers reach the dead-letter sink, each checkpoint a cut, nothing stalls', async () => {
    const run = await start({
      pipeline: {
        name: 'dead-letters',
        nodes: [
          { id: 'file', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 20 } },
          { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 500, keyCardinality: 5 } },
          { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['file', 'gen'], onError: { policy: 'dead-letter', deadLetter: 'dead' } },
          { id: 'out', kind: 'sink', connector: 'file', inputs: ['probe'], config: { path: 'out.jsonl' } },
          { id: 'dead', kind: 'sink', connector: 'file', config: { path: 'dead.jsonl' } },
        ],
      },
      plugins: fixtures, files: { 'in.jsonl': input() }, intervalMs: 20,
    });
    // Checkpoints go on after the file was read through (the generator keeps the run going).
    await until(() => (run.store.stored.at(-1) && positionOf(run.store.stored.at(-1)!, 'file')?.line === LINES) === true);
    const after = run.store.written.length;
    await until(() => run.store.written.length >= after + 3);
    const summary = await run.close();
    expect(summary.status).toBe('stopped');
    expect(summary.nodes.find((n) => n.id === 'dead')!.out).toBe(badWithin(LINES));
    for (const checkpoint of run.store.stored) {
      const file = positionOf(checkpoint, 'file')?.line ?? 0;
      const gen = positionOf(checkpoint, 'gen')?.seq ?? 0;
      const at = `checkpoint ${checkpoint.epoch} (file ${file}, gen ${gen})`;
      const dead = linesWithin(join(run.dir, 'dead.jsonl'), positionOf(checkpoint, 'dead')?.length ?? 0);
      const out = linesWithin(join(run.dir, 'out.jsonl'), positionOf(checkpoint, 'out')?.length ?? 0);
      expect(dead, `${at}: dead letters committed`).toBe(badWithin(file));
      expect(out, `${at}: output committed`).toBe(file + gen - badWithin(file));
      expect(countTotal(checkpoint, 'probe'), `${at}: the probe's keyed counts`).toBe(out);
    }
  });
});
