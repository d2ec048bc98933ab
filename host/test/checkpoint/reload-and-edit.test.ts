/**
 * Hot reload of a processor plugin and a structural pipeline.json edit with
 * checkpoints on: checkpoints continue after each (a barrier and a rewire
 * never interleave: no hang, no error), the keyed state carries over, and
 * every checkpoint before, between and after is a consistent cut.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { StoredCheckpoint } from '../../src/checkpoint/checkpoint-store.js';
import { until } from '../fixtures/until.js';
import { checkpointedRunsClosedAfterEach, countTotal, examplePlugins, linesWithin, positionOf } from './checkpointed-run.js';

const start = checkpointedRunsClosedAfterEach();

function pipeline(parallelism: number, extraSink: boolean) {
  return {
    name: 'reload-edit',
    nodes: [
      { id: 'in', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 4000, keyCardinality: 7 } },
      { id: 'count', kind: 'processor', plugin: 'count-by-key-js.wasm', inputs: ['in'], parallelism, partition: 'key' },
      { id: 'out', kind: 'sink', connector: 'file', inputs: ['count'], config: { path: 'out.jsonl' } },
      ...(extraSink ? [{ id: 'copy', kind: 'sink', connector: 'file', inputs: ['count'], config: { path: 'copy.jsonl' } }] : []),
    ],
  };
}

describe('checkpoints across a hot reload and a pipeline edit', () => {
  it('continue after each; keyed state carries over; every checkpoint a cut', async () => {
    const run = await start({ pipeline: pipeline(2, false), plugins: examplePlugins, intervalMs: 20 });
    const written = () => run.store.written.length;
    await until(() => written() >= 3);

    const reloaded = await run.run.reload(await run.prepared.engine.load(join(examplePlugins, 'count-by-key-js.wasm')));
    expect(reloaded).toEqual([expect.objectContaining({ node: 'count', ok: true })]);
    const afterReload = written();
    await until(() => written() >= afterReload + 3);

    const edited = await run.prepared.prepare(pipeline(3, true));
    const applied = await run.run.apply(edited.config, edited.modules);
    expect(applied).toMatchObject({ ok: true });
    const afterEdit = written();
    await until(() => written() >= afterEdit + 3);

    const summary = await run.close();
    expect(summary.status).toBe('stopped');
    expect(summary.error).toBeUndefined();
    const check = (checkpoint: StoredCheckpoint) => {
      const read = positionOf(checkpoint, 'in')?.seq ?? 0;
      const at = `checkpoint ${checkpoint.epoch} (read ${read})`;
      expect(countTotal(checkpoint, 'count'), `${at}: keyed counts`).toBe(read);
      expect(linesWithin(join(run.dir, 'out.jsonl'), positionOf(checkpoint, 'out')?.length ?? 0), `${at}: lines committed`).toBe(read);
    };
    for (const checkpoint of run.store.stored) check(checkpoint);
    const last = run.store.stored.at(-1)!;
    expect(positionOf(last, 'copy'), 'the added sink takes part').toBeDefined();
    expect(last.graph.map((n) => n.id).sort()).toEqual(['copy', 'count', 'in', 'out']);
  });
});
