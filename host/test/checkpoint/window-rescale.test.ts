/**
 * A windowed node (and the keyed count before it) with parallelism 2,
 * stopped (the final checkpoint is a savepoint: windows stay open) and
 * restored in-process with parallelism 3: the windows are redistributed
 * by key, continue, and the output equals an uninterrupted run's.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inputLines, workloadWindow } from '../../../scripts/checkpoint-workload.js';
import { until } from '../fixtures/until.js';
import { RecordingStore, checkpointedRunsClosedAfterEach, examplePlugins, positionOf } from './checkpointed-run.js';

const start = checkpointedRunsClosedAfterEach();

const RECORDS = 20_000;
const OUTPUTS = ['counts.jsonl', 'windows.jsonl'];

function pipeline(parallelism: number) {
  // A lateness far beyond the lanes' skew: no record is late whatever the lanes' interleaving.
  const window = { ...workloadWindow(), allowedLatenessMs: 10 * workloadWindow().sizeMs };
  const lanes = { parallelism, partition: 'key' };
  return {
    name: 'window-rescale',
    nodes: [
      { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 200 } },
      { id: 'count', kind: 'processor', plugin: 'count-by-key-as.wasm', inputs: ['in'], ...lanes },
      { id: 'counts', kind: 'sink', connector: 'file', inputs: ['count'], config: { path: 'counts.jsonl' } },
      { id: 'avg', kind: 'processor', plugin: 'click-sessions-as.wasm', inputs: ['count'], window, ...lanes },
      { id: 'windows', kind: 'sink', connector: 'file', inputs: ['avg'], config: { path: 'windows.jsonl' } },
    ],
  };
}

const sortedLines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).sort();

describe('a windowed node restored with another parallelism', () => {
  it('parallelism 2, stopped midway, restored with 3: windows continue, the output equals an uninterrupted run', async () => {
    const input = inputLines(0, RECORDS);
    const baseline = await start({ pipeline: pipeline(2), plugins: examplePlugins, files: { 'in.jsonl': input }, noCheckpoints: true });
    expect((await baseline.run.done).status).toBe('completed');

    const store = new RecordingStore();
    const first = await start({ pipeline: pipeline(2), plugins: examplePlugins, files: { 'in.jsonl': input }, store, intervalMs: 20 });
    // Stop once some windows were written and a checkpoint holds part of the input.
    await until(() => first.run.stats().find((s) => s.id === 'windows')!.out > 0 && store.stored.some((c) => (positionOf(c, 'in')?.line ?? 0) > 0));
    first.run.stop();
    const stopped = await first.run.done;
    expect(stopped.status).toBe('stopped');
    const savepoint = (await store.latest())!;
    const read = positionOf(savepoint, 'in')!.line!;
    expect(read, 'stopped midway').toBeLessThan(RECORDS);
    expect(savepoint.parts.filter((p) => p.node === 'avg' && p.part === 'windows').map((p) => p.lane)).toEqual([0, 1]);

    const second = await start({ pipeline: pipeline(3), dir: first.dir, plugins: examplePlugins, store, intervalMs: 20, restored: savepoint });
    const resumed = await second.run.done;
    expect(resumed.status).toBe('completed');
    expect(resumed.nodes.find((n) => n.id === 'in')!.out, 'the second run reads the rest').toBe(RECORDS - read);
    const last = (await store.latest())!;
    expect(last.parts.filter((p) => p.node === 'avg' && p.part === 'windows').map((p) => p.lane)).toEqual([0, 1, 2]);
    for (const file of OUTPUTS) {
      const written = sortedLines(join(first.dir, file));
      const expected = sortedLines(join(baseline.dir, file));
      expect(written.length, `${file}: lines`).toBe(expected.length);
      expect(written, file).toEqual(expected);
    }
  });
});
