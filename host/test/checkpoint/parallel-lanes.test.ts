/**
 * Checkpoints of a parallel node (3 lanes sharing one keyed state) under each
 * partition: the lanes meet at every barrier, so each checkpoint's keyed
 * counts are exactly the records read by its source position (times 3 under
 * broadcast: every lane sees every record), and the state stored after a
 * stop (or the end) holds each key's exact count.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { until } from '../fixtures/until.js';
import { checkpointedRunsClosedAfterEach, countTotal, examplePlugins, keyedLines, linesWithin, positionOf, stateOf } from './checkpointed-run.js';

const start = checkpointedRunsClosedAfterEach();

const LINES = 20_000;
const KEYS = 13;

/** Each key's count among the first `lines` records of {@link keyedLines}. */
function expectedCounts(lines: number, factor: number): Map<string, string> {
  const counts = new Map<string, number>();
  for (let i = 0; i < lines; i++) counts.set(`k${i % KEYS}`, (counts.get(`k${i % KEYS}`) ?? 0) + factor);
  return new Map([...counts].map(([k, n]) => [k, String(n)]));
}

describe('checkpoints of a node with 3 lanes', () => {
  it.each([
    { partition: 'key', factor: 1, stop: false },
    { partition: 'round-robin', factor: 1, stop: false },
    { partition: 'broadcast', factor: 3, stop: false },
    { partition: 'key', factor: 1, stop: true },
    { partition: 'round-robin', factor: 1, stop: true },
    { partition: 'broadcast', factor: 3, stop: true },
    // Lanes in worker threads (their calls run at once under partition: key; they take turns otherwise).
    { partition: 'key', factor: 1, stop: false, mode: 'worker' },
    { partition: 'round-robin', factor: 1, stop: false, mode: 'worker' },
    { partition: 'broadcast', factor: 3, stop: true, mode: 'worker' },
  ])('partition $partition (stopped midway: $stop, cpu mode: $mode): every checkpoint a cut, the stored counts exact', async ({ partition, factor, stop, mode }) => {
    const run = await start({
      pipeline: {
        name: `lanes-${partition}${mode ? `-${mode}` : ''}`,
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 100 } },
          { id: 'count', kind: 'processor', plugin: 'count-by-key-js.wasm', inputs: ['in'], parallelism: 3, partition, ...(mode ? { limits: { cpu: { mode } } } : {}) },
          { id: 'out', kind: 'sink', connector: 'file', inputs: ['count'], config: { path: 'out.jsonl' } },
        ],
      },
      plugins: examplePlugins, files: { 'in.jsonl': keyedLines(LINES, KEYS) }, intervalMs: 20,
    });
    if (stop) {
      await until(() => run.store.written.length >= 3);
      run.run.stop();
    }
    const summary = await run.run.done;
    expect(summary.status).toBe(stop ? 'stopped' : 'completed');
    expect(summary.checkpoints!.completed).toBeGreaterThanOrEqual(2);
    for (const checkpoint of run.store.stored) {
      const read = positionOf(checkpoint, 'in')?.line ?? 0;
      const at = `checkpoint ${checkpoint.epoch} (read ${read})`;
      expect(countTotal(checkpoint, 'count'), `${at}: keyed counts`).toBe(read * factor);
      expect(linesWithin(join(run.dir, 'out.jsonl'), positionOf(checkpoint, 'out')?.length ?? 0), `${at}: lines committed`).toBe(read * factor);
    }
    const last = run.store.stored.at(-1)!;
    const read = positionOf(last, 'in')!.line!;
    if (!stop) expect(read).toBe(LINES);
    expect(stateOf(last, 'count')).toEqual(expectedCounts(read, factor));
  });
});
