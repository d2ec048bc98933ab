/**
 * Checkpoints beyond a line: two sources into one processor (one fast, one
 * slow and rate-limited), and a node reading both a source and a processor
 * (a diamond). Checkpoints keep completing, the run ends, every record is
 * counted once, and every checkpoint written is a consistent cut: the keyed
 * counts, the source positions and the sink lengths of one checkpoint agree.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { StoredCheckpoint } from '../../src/checkpoint/checkpoint-store.js';
import { until } from '../fixtures/until.js';
import { checkpointedRunsClosedAfterEach, countTotal, examplePlugins, keyedLines, linesWithin, positionOf } from './checkpointed-run.js';

const start = checkpointedRunsClosedAfterEach();

const FAST = 3000;
const SLOW = 300;

function fanIn() {
  return {
    name: 'fan-in',
    nodes: [
      { id: 'fast', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 50 } },
      { id: 'slow', kind: 'source', connector: 'generator', config: { count: SLOW, ratePerSec: 600, keyCardinality: 5 } },
      { id: 'count', kind: 'processor', plugin: 'count-by-key-js.wasm', inputs: ['fast', 'slow'] },
      // The diamond: reads a source and a processor fed by that source.
      { id: 'both', kind: 'processor', plugin: 'count-by-key-js.wasm', inputs: ['fast', 'count'] },
      { id: 'out', kind: 'sink', connector: 'file', inputs: ['count'], config: { path: 'out.jsonl' } },
      { id: 'out2', kind: 'sink', connector: 'file', inputs: ['both'], config: { path: 'out2.jsonl' } },
    ],
  };
}

/** Checks one stored checkpoint is a cut: what the sources had read by it is what the counts and the sinks hold. */
function expectConsistent(checkpoint: StoredCheckpoint, dir: string): void {
  const fast = positionOf(checkpoint, 'fast')?.line ?? 0;
  const slow = positionOf(checkpoint, 'slow')?.seq ?? 0;
  const at = `checkpoint ${checkpoint.epoch} (fast ${fast}, slow ${slow})`;
  expect(countTotal(checkpoint, 'count'), `${at}: count's keyed state`).toBe(fast + slow);
  expect(countTotal(checkpoint, 'both'), `${at}: both's keyed state`).toBe(2 * fast + slow);
  expect(linesWithin(join(dir, 'out.jsonl'), positionOf(checkpoint, 'out')?.length ?? 0), `${at}: out's committed lines`).toBe(fast + slow);
  expect(linesWithin(join(dir, 'out2.jsonl'), positionOf(checkpoint, 'out2')?.length ?? 0), `${at}: out2's committed lines`).toBe(2 * fast + slow);
}

describe('checkpoints with fan-in and a diamond', () => {
  it('keep completing while a fast and a slow source feed one node; every checkpoint is a consistent cut; records are exact', async () => {
    const run = await start({ pipeline: fanIn(), plugins: examplePlugins, files: { 'in.jsonl': keyedLines(FAST, 5) }, intervalMs: 20 });
    const summary = await run.run.done;
    expect(summary.status).toBe('completed');
    expect(summary.checkpoints!.completed, 'checkpoints completed while the slow source ran').toBeGreaterThan(3);
    const byId = new Map(summary.nodes.map((n) => [n.id, n]));
    expect(byId.get('out')!.out).toBe(FAST + SLOW);
    expect(byId.get('out2')!.out).toBe(2 * FAST + SLOW);
    const last = run.store.stored.at(-1)!;
    expect(positionOf(last, 'fast')?.line).toBe(FAST);
    expect(positionOf(last, 'slow')?.seq).toBe(SLOW);
    for (const checkpoint of run.store.stored) expectConsistent(checkpoint, run.dir);
  });

  it('a stop in the middle of a slow endless source: checkpoints completed before, the final one is a consistent cut', async () => {
    const pipeline = fanIn();
    pipeline.nodes[1]!.config = { count: 0, ratePerSec: 2000, keyCardinality: 5 };
    const run = await start({ pipeline, plugins: examplePlugins, files: { 'in.jsonl': keyedLines(FAST, 5) }, intervalMs: 20 });
    await until(() => run.store.written.length >= 5 && (positionOf(run.store.stored.at(-1)!, 'fast')?.line ?? 0) === FAST);
    const summary = await run.close();
    expect(summary.status).toBe('stopped');
    for (const checkpoint of run.store.stored) expectConsistent(checkpoint, run.dir);
  });
});
