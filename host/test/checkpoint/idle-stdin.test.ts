/**
 * A stdin source that stays idle (its input never ends and sends nothing for
 * a while): checkpoints still complete, because the barrier is injected while
 * the poll waits, and a stop ends the run with a final checkpoint holding
 * every line read.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { until } from '../fixtures/until.js';
import { checkpointedRunsClosedAfterEach, countTotal, examplePlugins, keyedLines, linesWithin, positionOf } from './checkpointed-run.js';

const start = checkpointedRunsClosedAfterEach();

describe('checkpoints with an idle stdin source', () => {
  it('complete while stdin sends nothing; a stop ends the run with a final checkpoint', async () => {
    const stdin = new PassThrough();
    const run = await start({
      pipeline: {
        name: 'idle-stdin',
        nodes: [
          { id: 'in', kind: 'source', connector: 'stdin' },
          { id: 'count', kind: 'processor', plugin: 'count-by-key-js.wasm', inputs: ['in'] },
          { id: 'out', kind: 'sink', connector: 'file', inputs: ['count'], config: { path: 'out.jsonl' } },
        ],
      },
      plugins: examplePlugins, stdin, intervalMs: 20,
    });
    stdin.write(keyedLines(100, 3));
    // Every line read is in a checkpoint; then several more complete with nothing arriving.
    await until(() => run.store.stored.some((c) => positionOf(c, 'in')?.lines === 100 && countTotal(c, 'count') === 100));
    const idleFrom = run.store.written.length;
    await until(() => run.store.written.length >= idleFrom + 5);
    stdin.write(keyedLines(50, 3, 'w'));
    await until(() => run.store.stored.some((c) => positionOf(c, 'in')?.lines === 150));
    const before = run.store.written.length;
    run.run.stop();
    const summary = await run.run.done;
    expect(summary.status).toBe('stopped');
    expect(run.store.written.length, 'a final checkpoint after the stop').toBeGreaterThan(before);
    const last = run.store.stored.at(-1)!;
    expect(positionOf(last, 'in')?.lines).toBe(150);
    expect(countTotal(last, 'count')).toBe(150);
    expect(linesWithin(join(run.dir, 'out.jsonl'), positionOf(last, 'out')!.length!)).toBe(150);
  });
});
