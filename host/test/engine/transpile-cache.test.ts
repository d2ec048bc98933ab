/**
 * The transpile cache: a bound with least-recently-used eviction, and writes
 * that fail (or race another process) handled and reported instead of being
 * taken for "another process won".
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TranspileCache, defaultCacheMaxBytes } from '../../src/engine/transpile-cache.js';
import type { CacheWarning } from '../../src/engine/transpile-cache.js';
import { PACKED_EXPORT_TYPE } from '../../src/engine/export-types.js';

const plugins = join(import.meta.dirname, '../../../plugins');
let component: Uint8Array;

beforeAll(async () => {
  // A small component (Rust, ~25 KB) transpiles quickly; the cache treats every component alike.
  component = await readFile(join(plugins, 'count-by-key-rust.wasm'));
});

/** The component with a custom section appended: other bytes, another entry, the same code. */
function variant(n: number): { bytes: Uint8Array; sha256: string } {
  const name = new TextEncoder().encode(`v${n}`);
  const bytes = new Uint8Array([...component, 0x00, name.length + 1, name.length, ...name]);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const item of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (item.isFile()) total += (await stat(join(item.parentPath, item.name))).size;
  }
  return total;
}

function collectWarnings(): { warn: CacheWarning; seen: Array<{ path: string; cause: string; message: string }> } {
  const seen: Array<{ path: string; cause: string; message: string }> = [];
  return { seen, warn: (details, message) => seen.push({ ...details, message }) };
}

describe('transpile cache bound', () => {
  it('stays under its bound after many distinct entries, evicting the least recently used', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-cache-bound-'));
    const probe = new TranspileCache(join(dir, 'probe'));
    const first = await probe.get(variant(0).bytes, variant(0).sha256, 'v0.wasm');
    const entryBytes = await folderBytes(first.dir!);
    expect(entryBytes).toBeGreaterThan(1000);

    const maxBytes = Math.floor(entryBytes * 3.5);
    const { warn, seen } = collectWarnings();
    const cache = new TranspileCache(join(dir, 'bounded'), { maxBytes, warn });
    const entries: string[] = [];
    for (let n = 1; n <= 10; n++) {
      const { bytes, sha256 } = variant(n);
      const got = await cache.get(bytes, sha256, `v${n}.wasm`);
      entries.push(got.dir!);
      expect(existsSync(got.jsFile), `v${n} is usable`).toBe(true);
      expect(await folderBytes(cache.dir), `after v${n}`).toBeLessThanOrEqual(maxBytes);
      if (n === 4) {
        // v2 is used again: it becomes the most recently used and outlives v3.
        const hit = await cache.get(variant(2).bytes, variant(2).sha256, 'v2.wasm');
        expect(hit.cacheHit).toBe(true);
      }
      if (n === 5) {
        expect(existsSync(entries[1]!), 'v2, used recently, stays').toBe(true);
        expect(existsSync(entries[2]!), 'v3, the least recently used, went').toBe(false);
      }
    }
    expect((await readdir(cache.dir)).length).toBeLessThanOrEqual(3);
    expect(existsSync(entries.at(-1)!)).toBe(true);
    expect(seen).toEqual([]);
  });

  it('defaults to 256 MiB, or WEIR_CACHE_MAX_MB', () => {
    expect(defaultCacheMaxBytes({})).toBe(256 * 1024 * 1024);
    expect(defaultCacheMaxBytes({ WEIR_CACHE_MAX_MB: '64' })).toBe(64 * 1024 * 1024);
    expect(defaultCacheMaxBytes({ WEIR_CACHE_MAX_MB: 'lots' })).toBe(256 * 1024 * 1024);
  });
});

/**
 * Event-loop turns taken while `work` runs, on a loop kept busy as a running
 * pipeline keeps it (each turn does about 1 ms of work): every fs call the
 * work makes one after another waits for a turn of its own.
 */
async function busyTurnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let done = false;
  const turn = (): void => {
    if (done) return;
    turns++;
    const until = performance.now() + 1;
    while (performance.now() < until);
    setImmediate(turn);
  };
  setImmediate(turn);
  try {
    await work();
  } finally {
    done = true;
  }
  return turns;
}

describe('transpile cache under a busy event loop', () => {
  it('takes as many turns of the loop for a miss with 20 entries in the cache as with one (a reload while a pipeline runs)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-cache-turns-'));
    const few = new TranspileCache(join(dir, 'few'));
    const many = new TranspileCache(join(dir, 'many'));
    await few.get(variant(100).bytes, variant(100).sha256, 'v100.wasm');
    for (let n = 100; n < 120; n++) await many.get(variant(n).bytes, variant(n).sha256, `v${n}.wasm`);
    // Warm-up: jco and wasm-tools loaded, the first transpile's one-off costs paid.
    await few.get(variant(121).bytes, variant(121).sha256, 'v121.wasm');

    const withFew = await busyTurnsDuring(() => few.get(variant(122).bytes, variant(122).sha256, 'v122.wasm'));
    const withMany = await busyTurnsDuring(() => many.get(variant(122).bytes, variant(122).sha256, 'v122.wasm'));
    // Measuring the cache (evict) one file after another took a turn per file: over 100 more turns here (165 against 41 measured).
    expect(withMany).toBeLessThan(withFew + 15);
    await rm(dir, { recursive: true, force: true });
  });
});

describe('transpile cache writes', () => {
  it('two processes transpiling the same component at once both get the complete entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-cache-race-'));
    const { bytes, sha256 } = variant(100);
    const [a, b] = await Promise.all([new TranspileCache(dir).get(bytes, sha256, 'a.wasm'), new TranspileCache(dir).get(bytes, sha256, 'b.wasm')]);
    expect(a.dir).toBe(join(dir, sha256));
    expect(b.dir).toBe(join(dir, sha256));
    expect(existsSync(a.jsFile)).toBe(true);
    expect((await readdir(dir)).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
  });

  it('replaces an incomplete entry in the way instead of taking it for another process\'s', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-cache-partial-'));
    const { bytes, sha256 } = variant(101);
    await mkdir(join(dir, sha256, 'sandboxed'), { recursive: true });
    await writeFile(join(dir, sha256, 'sandboxed', 'leftover.wasm'), 'x');
    const got = await new TranspileCache(dir).get(bytes, sha256, 'p.wasm');
    expect(got.dir).toBe(join(dir, sha256));
    expect(existsSync(got.jsFile)).toBe(true);
    expect(existsSync(join(dir, sha256, 'entry.json'))).toBe(true);
  });

  it('reports a rename that fails for another reason, with the path and cause, and runs from memory, leaving no folder behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-cache-notdir-'));
    const { bytes, sha256 } = variant(102);
    await writeFile(join(dir, sha256), 'a file where the entry folder should go');
    const { warn, seen } = collectWarnings();
    const { got, tmpLeft } = await inIsolatedTmpdir(() => new TranspileCache(dir, { warn }).get(bytes, sha256, 'n.wasm'));
    expect(got.dir).toBeUndefined();
    expect(await got.readJs()).toContain('export function instantiate');
    expect(await readdir(dir), 'no staging folder is handed out or left').toEqual([sha256]);
    expect(tmpLeft, 'no folder in tmpdir() is made (and left) as a fallback').toEqual([]);
    expect(seen).toEqual([expect.objectContaining({ path: join(dir, sha256), cause: expect.stringMatching(/ENOTDIR|EEXIST|EISDIR/) })]);
  });

  it('reports a cache folder it cannot write, with the path and cause, and still loads, from memory', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'weir-cache-blocked-'));
    const blocked = join(parent, 'cache');
    await writeFile(blocked, 'a file where the cache folder should go');
    const { bytes, sha256 } = variant(103);
    const { warn, seen } = collectWarnings();
    const { got, tmpLeft } = await inIsolatedTmpdir(() => new TranspileCache(blocked, { warn }).get(bytes, sha256, 'b.wasm'));
    expect(got.dir).toBeUndefined();
    expect(await got.readJs()).toContain('export function instantiate');
    expect(tmpLeft, 'no folder in tmpdir() is made (and left) as a fallback').toEqual([]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path.startsWith(blocked)).toBe(true);
    expect(seen[0]!.cause).toMatch(/ENOTDIR|EEXIST/);
  });
});

describe('transpile cache eviction under a live reader', () => {
  it('creates an entry again when a reader finds it evicted, instead of failing with ENOENT', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-cache-evicted-'));
    const { bytes, sha256 } = variant(104);
    const got = await new TranspileCache(dir).get(bytes, sha256, 'e.wasm');
    const core = (await readdir(got.dir!)).find((name) => name.endsWith('.wasm'))!;
    const before = await got.read(core);
    // Another process sharing the cache evicts the entry (as its bound demands).
    await rm(got.dir!, { recursive: true });
    const [again, js] = await Promise.all([got.read(core), got.readJs()]);
    expect([...again]).toEqual([...before]);
    expect(js).toContain('export function instantiate');
    expect(existsSync(join(dir, sha256, 'entry.json')), 'the entry is back').toBe(true);
  });
});

/** Runs `get` with tmpdir() pointing at a fresh folder; returns what it left there (the old fallback left a folder). */
async function inIsolatedTmpdir<T>(get: () => Promise<T>): Promise<{ got: T; tmpLeft: string[] }> {
  const isolated = await mkdtemp(join(tmpdir(), 'weir-tmpdir-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = isolated;
  try {
    const got = await get();
    return { got, tmpLeft: await readdir(isolated) };
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

describe('transpile cache entries of packed processors', () => {
  it('keep the type of process-packed; an entry of an older format, without it, is transpiled again and replaced', async () => {
    const bytes = await readFile(join(plugins, 'uppercase-rust.wasm'));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const dir = await mkdtemp(join(tmpdir(), 'weir-cache-types-'));
    const first = await new TranspileCache(dir).get(bytes, sha256, 'uppercase-rust.wasm');
    expect(first.exports).toContain('processPacked');
    expect(first.exportTypes).toEqual({ 'process-packed': PACKED_EXPORT_TYPE });
    expect((await new TranspileCache(dir).get(bytes, sha256, 'uppercase-rust.wasm')).cacheHit).toBe(true);

    // What a host before exportTypes wrote: the same entry without `format` and `exportTypes`.
    const entryFile = join(dir, sha256, 'entry.json');
    const { format: _format, exportTypes: _types, ...older } = JSON.parse(await readFile(entryFile, 'utf8')) as Record<string, unknown>;
    await writeFile(entryFile, JSON.stringify(older));
    const again = await new TranspileCache(dir).get(bytes, sha256, 'uppercase-rust.wasm');
    expect(again.cacheHit).toBe(false);
    expect(again.exportTypes).toEqual({ 'process-packed': PACKED_EXPORT_TYPE });
    expect(JSON.parse(await readFile(entryFile, 'utf8'))).toMatchObject({ format: 2, exportTypes: { 'process-packed': PACKED_EXPORT_TYPE } });
  });
});
