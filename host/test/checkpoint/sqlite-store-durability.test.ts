// The sqlite store under stress: a process killed (SIGKILL) in the middle of a large checkpoint leaves the
// previous one whole, and a large write runs off the main thread. Children import the compiled store (dist/).
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SqliteCheckpointStore } from '../../src/checkpoint/sqlite-store.js';
import type { CheckpointWrite } from '../../src/checkpoint/checkpoint-store.js';

const root = join(import.meta.dirname, '../../..');
const b = (text: string) => new Uint8Array(Buffer.from(text));

const stores: SqliteCheckpointStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** `count` keys `k<i>` with 100-byte values filled with `fill`. */
function bigState(count: number, fill: number): CheckpointWrite['state'] {
  const changes = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) changes.set(`k${i}`, new Uint8Array(100).fill(fill));
  return [{ node: 'count', changes }];
}

/** Resolves once `check()` holds, polling on timers (no fixed wait: it returns as soon as it holds). */
async function until(check: () => boolean, what: string, signal: { failed?: string }): Promise<void> {
  while (!check()) {
    if (signal.failed) throw new Error(`${signal.failed} while waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('SqliteCheckpointStore durability', () => {
  it('a process killed with SIGKILL in the middle of a large write leaves the previous checkpoint intact', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-ckpt-kill-'));
    const file = join(dir, 'p', 'checkpoint.db');
    const script = join(dir, 'writer.mjs');
    writeFileSync(script, `
      import { SqliteCheckpointStore } from ${JSON.stringify(pathToFileURL(join(root, 'dist/checkpoint/sqlite-store.js')).href)};
      const store = await SqliteCheckpointStore.open(${JSON.stringify(file)});
      const b = (t) => new Uint8Array(Buffer.from(t));
      const graph = [{ id: 'in', kind: 'source', implementation: 'connector:file' }, { id: 'count', kind: 'processor', implementation: 'plugin' }];
      const first = new Map();
      for (let i = 0; i < 1000; i++) first.set('k' + i, b('first-' + i));
      await store.write({ epoch: 1, takenAt: 'one', graph, parts: [{ node: 'in', lane: 0, part: 'source', data: b('pos-1') }], state: [{ node: 'count', changes: first }] });
      process.stdout.write('written 1\\n');
      const second = new Map();
      for (let i = 0; i < 400000; i++) second.set('k' + i, new Uint8Array(100).fill(7));
      await store.write({ epoch: 2, takenAt: 'two', graph, parts: [{ node: 'in', lane: 0, part: 'source', data: b('pos-2') }], state: [{ node: 'count', changes: second }] });
      process.stdout.write('written 2\\n');
    `);
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const status: { failed?: string } = {};
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (code, signal) => {
      if (signal === null) status.failed = `the writer exited with ${code} (${err})`;
      resolve(signal);
    }));
    await until(() => out.includes('written 1'), 'checkpoint 1', status);
    // The log as checkpoint 1 left it; the second transaction is under way once its first pages spill into
    // the log (uncommitted frames: 40 MB do not fit SQLite's 2 MB page cache).
    const wal = () => {
      const info = statSync(`${file}-wal`, { bigint: true, throwIfNoEntry: false });
      return `${info?.size}/${info?.mtimeNs}`;
    };
    const afterFirst = wal();
    await until(() => wal() !== afterFirst, 'the second write to reach the log', status);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(out).not.toContain('written 2');

    const store = await SqliteCheckpointStore.open(file);
    stores.push(store);
    const latest = (await store.latest())!;
    expect(latest.epoch).toBe(1);
    expect(latest.takenAt).toBe('one');
    expect(latest.parts.map((p) => Buffer.from(p.data).toString())).toEqual(['pos-1']);
    const entries = latest.state.get('count')!;
    expect(entries).toHaveLength(1000);
    const values = new Map(entries.map(([k, v]) => [Buffer.from(k).toString(), Buffer.from(v).toString()]));
    for (let i = 0; i < 1000; i++) expect(values.get(`k${i}`)).toBe(`first-${i}`);
    // And it takes the next checkpoint on top of the one it kept.
    await store.write({ epoch: 2, takenAt: 'two', graph: latest.graph, parts: [], state: [{ node: 'count', changes: new Map([['k0', null]]) }] });
    expect((await store.latest())!.state.get('count')).toHaveLength(999);
  });

  it('writes 100k keys off the main thread: its event loop keeps turning during the write', async () => {
    const store = await SqliteCheckpointStore.open(join(mkdtempSync(join(tmpdir(), 'weir-ckpt-')), 'p', 'checkpoint.db'));
    stores.push(store);
    const checkpoint: CheckpointWrite = { epoch: 1, takenAt: 'now', graph: [{ id: 'count', kind: 'processor', implementation: 'plugin' }], parts: [], state: bigState(100_000, 1) };
    let turns = 0;
    let writing = true;
    const turn = () => {
      turns++;
      if (writing) setImmediate(turn);
    };
    setImmediate(turn);
    const written = store.write(checkpoint);
    await written;
    writing = false;
    expect(turns).toBeGreaterThan(20);
    expect((await store.summary())!.nodes).toEqual([{ node: 'count', keys: 100_000, parts: 0 }]);
  });
});
