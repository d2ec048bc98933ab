// `host checkpoints` (list, --delete), `host run --fresh` and the Node.js version check, through the real
// `host` command on dist/ (the checkpoints are written with the store API).
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteCheckpointStore } from '../../src/checkpoint/sqlite-store.js';
import { checkpointFile, stateChanges } from '../../src/checkpoint/checkpoint-store.js';

const root = join(import.meta.dirname, '../../..');
const b = (text: string) => new Uint8Array(Buffer.from(text));

function host(args: string[], cwd: string, nodeArgs: string[] = []) {
  const result = spawnSync(process.execPath, [...nodeArgs, join(root, 'host/bin/host.js'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, WEIR_CACHE_DIR: join(cwd, 'cache') },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A folder with pipeline.json (a generator into a file; `checkpoint` as given, no block when null). */
function pipelineDir(checkpoint: object | null = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-ckpt-cli-'));
  writeFileSync(join(dir, 'pipeline.json'), JSON.stringify({
    name: 'clicks',
    ...(checkpoint ? { checkpoint } : {}),
    nodes: [
      { id: 'gen', kind: 'source', connector: 'generator', config: { count: 3 } },
      { id: 'out', kind: 'sink', connector: 'file', inputs: ['gen'], config: { path: 'out.jsonl' } },
    ],
  }));
  return dir;
}

const stores: SqliteCheckpointStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/** Stores checkpoint 7 of pipeline "clicks" in `dir`'s .weir, as a run would. */
async function storeCheckpoint(dir: string): Promise<string> {
  const file = checkpointFile(join(dir, '.weir'), 'clicks');
  const store = await SqliteCheckpointStore.open(file);
  stores.push(store);
  await store.write({
    epoch: 7,
    takenAt: '2026-12-01T03:00:00.000Z',
    graph: [{ id: 'gen', kind: 'source', implementation: 'connector:generator' }, { id: 'count', kind: 'processor', implementation: 'plugin' }, { id: 'out', kind: 'sink', implementation: 'connector:file' }],
    parts: [{ node: 'gen', lane: 0, part: 'source', data: b('{"produced":2}') }, { node: 'out', lane: 0, part: 'sink', data: b('{"length":40}') }],
    state: [{ node: 'count', changes: stateChanges([[b('a'), b('1')], [b('b'), b('2')], [b('c'), b('3')]]) }],
  });
  await store.close();
  return file;
}

describe('host checkpoints', () => {
  it('says nothing is stored, and creates nothing, for a pipeline that never ran', () => {
    const dir = pipelineDir();
    const { code, stdout, stderr } = host(['checkpoints', 'pipeline.json'], dir);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(`pipeline "clicks": no checkpoint stored (${join('.weir', 'clicks', 'checkpoint.db')})\n`);
    expect(readdirSync(dir)).toEqual(['pipeline.json']);
  });

  it('lists a stored checkpoint: epoch, time, size and per-node keys and parts; --delete deletes it', async () => {
    const dir = pipelineDir({ intervalMs: 500 });
    const file = await storeCheckpoint(dir);
    const listed = host(['checkpoints', 'pipeline.json'], dir);
    expect(listed.stderr).toBe('');
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^pipeline "clicks": checkpoint 7, taken 2026-12-01T03:00:00\.000Z, \d+(\.\d)? (B|KiB|MiB) \(\.weir\/clicks\/checkpoint\.db\)$/);
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/))).toEqual([['node', 'keys', 'parts'], ['count', '3', '0'], ['gen', '0', '1'], ['out', '0', '1']]);

    const deleted = host(['checkpoints', 'pipeline.json', '--delete'], dir);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toContain('deleted checkpoint 7');
    expect(existsSync(file)).toBe(false);
    expect(host(['checkpoints', 'pipeline.json'], dir).stdout).toContain('no checkpoint stored');
  });

  it('looks in the default place when the pipeline has no checkpoint block, and says checkpoints are off', async () => {
    const dir = pipelineDir(null);
    await storeCheckpoint(dir);
    const { code, stdout } = host(['checkpoints', 'pipeline.json'], dir);
    expect(code).toBe(0);
    expect(stdout).toContain('checkpoint 7');
    expect(stdout).toContain('checkpoints are off');
  });

  it('says checkpoints are off when the block says "delivery": "none"', async () => {
    const dir = pipelineDir({ delivery: 'none' });
    await storeCheckpoint(dir);
    const { code, stdout } = host(['checkpoints', 'pipeline.json'], dir);
    expect(code).toBe(0);
    expect(stdout).toContain('checkpoint 7');
    expect(stdout).toContain('checkpoints are off: the pipeline\'s checkpoint block says "delivery": "none", so host run does not use it');
  });

  it('is in host --help, has its own --help, and wants one pipeline file', () => {
    const dir = pipelineDir();
    expect(host(['--help'], dir).stdout).toMatch(/checkpoints PIPELINE\.json +list the checkpoint stored/);
    expect(host(['checkpoints', '--help'], dir).stdout).toContain('--delete');
    const usage = host(['checkpoints'], dir);
    expect(usage.code).toBe(3);
    expect(usage.stderr).toContain('error WEIR_USAGE: host checkpoints takes exactly one pipeline file');
  });

  it('reports an invalid pipeline as host validate does (exit 2)', () => {
    const dir = pipelineDir({ intervalMs: 1 });
    const { code, stderr } = host(['checkpoints', 'pipeline.json'], dir);
    expect(code).toBe(2);
    expect(stderr).toContain('/checkpoint/intervalMs: must be >= 50');
  });
});

describe('host run --fresh', () => {
  it('is in host run --help', () => {
    expect(host(['run', '--help'], pipelineDir()).stdout).toMatch(/--fresh +with a "checkpoint" block: delete the stored\s+checkpoint and start from the beginning/);
  });

  it('deletes the stored checkpoint before the run', async () => {
    const dir = pipelineDir();
    const file = await storeCheckpoint(dir);
    const { code, stderr } = host(['run', 'pipeline.json', '--fresh', '--no-watch'], dir);
    expect(code, stderr).toBe(0);
    expect(stderr).toContain('deleted the stored checkpoint (--fresh)');
    // Whatever the run stored since, checkpoint 7 and its state are gone.
    if (existsSync(file)) {
      const store = await SqliteCheckpointStore.open(file);
      stores.push(store);
      const latest = await store.latest();
      expect(latest?.epoch).not.toBe(7);
      expect(latest?.state.get('count')).toBeUndefined();
    }
  });
});

describe('host run of a renamed pipeline', () => {
  it('warns that it starts over while the checkpoint folder holds a checkpoint of the same nodes under another name', () => {
    const dir = pipelineDir({ intervalMs: 500 });
    expect(host(['run', 'pipeline.json', '--no-watch'], dir).code).toBe(0);
    expect(existsSync(checkpointFile(join(dir, '.weir'), 'clicks'))).toBe(true);
    const renamed = join(dir, 'renamed.json');
    writeFileSync(renamed, readFileSync(join(dir, 'pipeline.json'), 'utf8').replace('"name":"clicks"', '"name":"clicks-v2"'));
    const { code, stderr } = host(['run', 'renamed.json', '--no-watch'], dir);
    expect(code).toBe(0);
    expect(stderr).toContain('no checkpoint stored for pipeline \\"clicks-v2\\", so it starts from the beginning');
    expect(stderr).toContain('holds a checkpoint of the same nodes under another pipeline name (clicks)');
    // Its own checkpoint now exists: a third run resumes without the warning.
    expect(host(['run', 'renamed.json', '--no-watch'], dir).stderr).not.toContain('no checkpoint stored');
    // Another pipeline (other nodes) in the same folder is not taken for a renamed one.
    const other = join(dir, 'other.json');
    writeFileSync(other, readFileSync(join(dir, 'pipeline.json'), 'utf8').replace('"name":"clicks"', '"name":"other"').replaceAll('"gen"', '"numbers"'));
    const first = host(['run', 'other.json', '--no-watch'], dir);
    expect(first.code).toBe(0);
    expect(first.stderr).not.toContain('no checkpoint stored');
  });
});

describe('the Node.js version check', () => {
  it.each(['20.19.0', '22.19.0', '23.11.0', '24.11.1'])('refuses Node.js %s (the host and its dependencies need 22.20+ or 24.12+) with a clear message and exit code 3', (version) => {
    const dir = pipelineDir();
    const preload = join(dir, 'old-node.mjs');
    writeFileSync(preload, `Object.defineProperty(process, 'versions', { value: { ...process.versions, node: '${version}' } });\nObject.defineProperty(process, 'version', { value: 'v${version}' });\n`);
    const { code, stdout, stderr } = host(['--version'], dir, ['--import', preload]);
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toBe(`weir needs Node.js 24.12 or newer, or 22.20 or newer on the 22 line (this is v${version}); see the README\n`);
  });
});
