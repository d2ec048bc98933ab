// The checkpoint stores: what a write replaces, what it changes, what latest() and summary() read back,
// and clear(). Both stores run the same cases (the sqlite store writes in its worker, from dist/).
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SqliteCheckpointStore } from '../../src/checkpoint/sqlite-store.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import { checkpointFile, stateChanges } from '../../src/checkpoint/checkpoint-store.js';
import type { CheckpointStore, CheckpointWrite, NodeSignature } from '../../src/checkpoint/checkpoint-store.js';

const b = (text: string) => new Uint8Array(Buffer.from(text));
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
const graph: NodeSignature[] = [
  { id: 'in', kind: 'source', implementation: 'connector:file' },
  { id: 'count', kind: 'processor', implementation: 'plugin', window: '{"type":"tumbling"}' },
  { id: 'out', kind: 'sink', implementation: 'connector:file' },
  { id: 'other', kind: 'processor', implementation: 'plugin' },
  { id: 'n', kind: 'processor', implementation: 'plugin' },
];

function checkpoint(epoch: number, rest: Partial<CheckpointWrite>): CheckpointWrite {
  return { epoch, takenAt: `2026-12-01T00:00:0${epoch}.000Z`, graph, parts: [], state: [], ...rest };
}

/** The stored state as {node: {key: value}} text. */
function stateText(state: Map<string, Array<[Uint8Array, Uint8Array]>>): Record<string, Record<string, string>> {
  return Object.fromEntries([...state].map(([node, entries]) => [node, Object.fromEntries(entries.map(([k, v]) => [text(k), text(v)]))]));
}

const opened: CheckpointStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

const stores: Array<[string, () => Promise<{ store: CheckpointStore; file?: string }>]> = [
  ['sqlite', async () => {
    const file = checkpointFile(mkdtempSync(join(tmpdir(), 'weir-ckpt-')), 'clicks');
    const store = await SqliteCheckpointStore.open(file);
    opened.push(store);
    return { store, file };
  }],
  ['memory', async () => {
    const store = new MemoryCheckpointStore();
    opened.push(store);
    return { store };
  }],
];

describe.each(stores)('%s checkpoint store', (_name, open) => {
  it('holds nothing at first', async () => {
    const { store } = await open();
    expect(await store.latest()).toBeUndefined();
    expect(await store.summary()).toBeUndefined();
  });

  it('replaces the parts, applies state changes incrementally, and latest() returns the full state', async () => {
    const { store } = await open();
    await store.write(checkpoint(1, {
      parts: [
        { node: 'in', lane: 0, part: 'source', data: b('offset=10') },
        { node: 'count', lane: 0, part: 'windows', data: b('w0') },
        { node: 'count', lane: 1, part: 'windows', data: b('w1') },
        { node: 'out', lane: 0, part: 'sink', data: b('len=5') },
      ],
      state: [
        { node: 'count', changes: stateChanges([[b('a'), b('1')], [b('b'), b('2')], [b('c'), b('3')]]) },
        { node: 'other', changes: stateChanges([[b('x'), b('9')]]) },
      ],
    }));
    await store.write(checkpoint(2, {
      parts: [
        { node: 'in', lane: 0, part: 'source', data: b('offset=20') },
        { node: 'count', lane: 0, part: 'windows', data: b('w0-2') },
      ],
      // a deleted, b changed, d added; c and other's x untouched, so still there.
      state: [{ node: 'count', changes: stateChanges([[b('a'), null], [b('b'), b('22')], [b('d'), b('4')]]) }],
    }));

    const latest = (await store.latest())!;
    expect(latest.epoch).toBe(2);
    expect(latest.takenAt).toBe('2026-12-01T00:00:02.000Z');
    expect(latest.graph).toEqual(graph);
    expect(latest.parts.map((p) => [p.node, p.part, p.lane, text(p.data)])).toEqual([
      ['count', 'windows', 0, 'w0-2'],
      ['in', 'source', 0, 'offset=20'],
    ]);
    expect(stateText(latest.state)).toEqual({ count: { b: '22', c: '3', d: '4' }, other: { x: '9' } });
  });

  it('deletes the keyed state of a node no longer in the graph', async () => {
    const { store } = await open();
    await store.write(checkpoint(1, { state: [{ node: 'count', changes: stateChanges([[b('a'), b('1')]]) }, { node: 'n', changes: stateChanges([[b('k'), b('v')]]) }] }));
    await store.write({ ...checkpoint(2, {}), graph: graph.filter((n) => n.id !== 'n') });
    expect(stateText((await store.latest())!.state)).toEqual({ count: { a: '1' } });
  });

  it('keeps binary keys and values byte for byte', async () => {
    const { store } = await open();
    const key = new Uint8Array([0, 255, 128, 0]);
    const value = new Uint8Array(70_000).map((_, i) => i % 251);
    await store.write(checkpoint(1, { state: [{ node: 'n', changes: stateChanges([[key, value], [new Uint8Array(0), new Uint8Array(0)]]) }] }));
    const entries = (await store.latest())!.state.get('n')!;
    expect(entries.map(([k, v]) => [[...k], v.byteLength])).toEqual([[[], 0], [[0, 255, 128, 0], 70_000]]);
    expect(entries[1]![1]).toEqual(value);
  });

  it('summarizes the last checkpoint per node, and clear() deletes it', async () => {
    const { store, file } = await open();
    await store.write(checkpoint(3, {
      parts: [{ node: 'in', lane: 0, part: 'source', data: b('p') }, { node: 'count', lane: 0, part: 'windows', data: b('w') }, { node: 'count', lane: 1, part: 'windows', data: b('w') }],
      state: [{ node: 'count', changes: stateChanges([[b('a'), b('1')], [b('b'), b('2')]]) }],
    }));
    const summary = (await store.summary())!;
    expect(summary).toMatchObject({ epoch: 3, takenAt: '2026-12-01T00:00:03.000Z', nodes: [{ node: 'count', keys: 2, parts: 2 }, { node: 'in', keys: 0, parts: 1 }] });
    expect(summary.bytes).toBeGreaterThan(0);

    await store.clear();
    if (file) expect(existsSync(dirname(file))).toBe(false);
    expect(await store.latest()).toBeUndefined();
    expect(await store.summary()).toBeUndefined();
    // Still usable: the next checkpoint starts from nothing.
    await store.write(checkpoint(4, { state: [{ node: 'count', changes: stateChanges([[b('z'), b('26')]]) }] }));
    expect(stateText((await store.latest())!.state)).toEqual({ count: { z: '26' } });
  });

  it('refuses a checkpoint that names a part twice, and keeps the previous one', async () => {
    const { store } = await open();
    await store.write(checkpoint(1, { state: [{ node: 'n', changes: stateChanges([[b('k'), b('v')]]) }] }));
    const twice = { node: 'in', lane: 0, part: 'source' as const, data: b('p') };
    await expect(store.write(checkpoint(2, { parts: [twice, twice], state: [{ node: 'n', changes: stateChanges([[b('k'), null]]) }] }))).rejects.toMatchObject({ code: 'WEIR_CHECKPOINT_STORE' });
    const latest = (await store.latest())!;
    expect(latest.epoch).toBe(1);
    expect(stateText(latest.state)).toEqual({ n: { k: 'v' } });
  });

  it('is closed after close()', async () => {
    const { store } = await open();
    await store.close();
    await expect(store.latest()).rejects.toMatchObject({ code: 'WEIR_CHECKPOINT_STORE' });
  });
});

describe('checkpointFile', () => {
  it('puts each pipeline in a folder of its own under dir', () => {
    expect(checkpointFile('/srv/.weir', 'clicks')).toBe('/srv/.weir/clicks/checkpoint.db');
    expect(checkpointFile('/srv/.weir', 'a/b c')).toBe('/srv/.weir/a%2Fb%20c/checkpoint.db');
    expect(checkpointFile('/srv/.weir', '..')).toBe('/srv/.weir/%2E%2E/checkpoint.db');
  });
});

describe('SqliteCheckpointStore.open', () => {
  it('fails with WEIR_CHECKPOINT_STORE naming the file and the way out when the file is not a checkpoint database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-ckpt-'));
    const file = join(dir, 'not-a-db');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, 'this is not sqlite, just text that is long enough to have a header'.repeat(10)));
    const error = await SqliteCheckpointStore.open(file).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'WEIR_CHECKPOINT_STORE', details: { file } });
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain('--delete');
  });
});
