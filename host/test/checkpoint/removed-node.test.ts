/**
 * A node removed by a live pipeline.json edit leaves nothing in later
 * checkpoints that a node added again under its id would take: a keyed
 * count removed mid-run and added back in the next run starts from zero,
 * not from the counts the removed node had.
 */
import { describe, expect, it } from 'vitest';
import { until } from '../fixtures/until.js';
import { RecordingStore, checkpointedRunsClosedAfterEach, countTotal, examplePlugins, positionOf } from './checkpointed-run.js';

const start = checkpointedRunsClosedAfterEach();

function pipeline(withCount: boolean) {
  return {
    name: 'removed-node',
    nodes: [
      { id: 'in', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 4000, keyCardinality: 7 } },
      ...(withCount ? [{ id: 'count', kind: 'processor', plugin: 'count-by-key-js.wasm', inputs: ['in'] }] : []),
      { id: 'out', kind: 'sink', connector: 'null', inputs: [withCount ? 'count' : 'in'] },
    ],
  };
}

describe('a node removed by an edit', () => {
  it('leaves nothing a node added again under its id would restore', async () => {
    const store = new RecordingStore();
    const first = await start({ pipeline: pipeline(true), plugins: examplePlugins, store, intervalMs: 20 });
    await until(() => store.stored.some((c) => countTotal(c, 'count') > 0));
    const edited = await first.prepared.prepare(pipeline(false));
    expect(await first.run.apply(edited.config, edited.modules)).toMatchObject({ ok: true, removed: ['count'] });
    const afterEdit = store.written.length;
    await until(() => store.written.length >= afterEdit + 2);
    expect((await first.close()).status).toBe('stopped');

    // The next run adds the count back: it starts empty, so its counts are what it counted itself.
    const savepoint = (await store.latest())!;
    expect(savepoint.state.has('count'), 'the removed node\'s keyed state is deleted').toBe(false);
    const from = positionOf(savepoint, 'in')!.seq!;
    const second = await start({ pipeline: pipeline(true), dir: first.dir, plugins: examplePlugins, store, intervalMs: 20, restored: savepoint });
    await until(() => store.written.length >= 2 && (positionOf(store.stored.at(-1)!, 'in')?.seq ?? 0) > from);
    expect((await second.close()).status).toBe('stopped');
    const last = (await store.latest())!;
    expect(countTotal(last, 'count'), 'the count added again counts only what it read').toBe(positionOf(last, 'in')!.seq! - from);
  });

  it('leaves nothing to a node added back under its id by a later edit of the same run', async () => {
    const store = new RecordingStore();
    const run = await start({ pipeline: pipeline(true), plugins: examplePlugins, store, intervalMs: 20 });
    await until(() => store.stored.some((c) => countTotal(c, 'count') > 300));
    const removal = await run.prepared.prepare(pipeline(false));
    expect(await run.run.apply(removal.config, removal.modules)).toMatchObject({ ok: true, removed: ['count'] });
    let written = store.written.length;
    await until(() => store.written.length >= written + 2);
    const from = positionOf(store.stored.at(-1)!, 'in')!.seq!;
    const addition = await run.prepared.prepare(pipeline(true));
    expect(await run.run.apply(addition.config, addition.modules)).toMatchObject({ ok: true, added: ['count'] });
    written = store.written.length;
    await until(() => store.written.length >= written + 3);
    expect((await run.close()).status).toBe('stopped');
    // It counted only records read after it was added back: fewer than were read since the removal.
    const last = (await store.latest())!;
    const total = countTotal(last, 'count');
    expect(total).toBeGreaterThan(0);
    expect(total, 'the count added back starts empty').toBeLessThanOrEqual(positionOf(last, 'in')!.seq! - from);
  });
});
