/**
 * Builds of unchanged source give the same bytes, so a rebuild is the same
 * plugin to the host (same sha256: no reload, no new transpile-cache entry).
 * AssemblyScript and JavaScript (QuickJS) here; Rust is checked by the
 * committed-build test in examples.test.ts. A QuickJS build is reproducible
 * because its pre-initialization sees fixed clocks and seed (qjs-runtime.ts);
 * a JS build also records a digest of its inputs, and a rebuild of the same
 * inputs keeps the existing file without building (build-inputs.ts).
 */
import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugin } from '../../src/build/plugin-build.js';
import { recordedDigest } from '../../src/build/build-inputs.js';

const plugins = join(import.meta.dirname, '../../../plugins');

describe('reproducible builds', () => {
  it('two builds of the same AssemblyScript source give identical bytes', async () => {
    const first = await buildPlugin(join(plugins, 'uppercase-as'), await mkdtemp(join(tmpdir(), 'weir-build-a-')));
    const second = await buildPlugin(join(plugins, 'uppercase-as'), await mkdtemp(join(tmpdir(), 'weir-build-b-')));
    const [a, b] = await Promise.all([readFile(first.outFile), readFile(second.outFile)]);
    expect(a.length).toBeGreaterThan(1000);
    expect(Buffer.compare(a, b)).toBe(0);
  }, 300_000);

  it('two builds of the same JavaScript source into fresh folders give identical bytes', async () => {
    const work = await mkdtemp(join(tmpdir(), 'weir-build-js-'));
    const plugin = join(work, 'dice');
    await mkdir(plugin);
    await writeFile(join(plugin, 'plugin.json'), JSON.stringify({ name: 'dice', kind: 'processor', lang: 'js', entry: 'index.js' }));
    // Top-level code runs at build time: Math.random's seed, a Date and a Map end up in the snapshot.
    await writeFile(join(plugin, 'index.js'), [
      'const rolled = Math.floor(Math.random() * 6) + 1;',
      'const builtAt = new Date();',
      "const seen = new Map([['rolled', rolled], ['year', builtAt.getUTCFullYear()]]);",
      'export function configure(config) {}',
      "export function process(batch) { seen.set('calls', (seen.get('calls') ?? 0) + 1); return batch; }",
    ].join('\n'));
    const first = await buildPlugin(plugin, await mkdtemp(join(tmpdir(), 'weir-build-a-')));
    const second = await buildPlugin(plugin, await mkdtemp(join(tmpdir(), 'weir-build-b-')));
    const [a, b] = await Promise.all([readFile(first.outFile), readFile(second.outFile)]);
    expect(a.length).toBeGreaterThan(100_000);
    expect(Buffer.compare(a, b), 'fresh builds of the same source').toBe(0);
  }, 600_000);

  it('a rebuild of unchanged JavaScript gives the same bytes; a change in an imported module gives a new build', async () => {
    const work = await mkdtemp(join(tmpdir(), 'weir-build-js-'));
    const plugin = join(work, 'tagger');
    await mkdir(plugin);
    await writeFile(join(plugin, 'plugin.json'), JSON.stringify({ name: 'tagger', kind: 'processor', lang: 'js', entry: 'index.js' }));
    await writeFile(join(plugin, 'index.js'), [
      "import { tag } from './tag.js';",
      'export function configure(config) {}',
      "export function process(batch) { return batch.map((r) => ({ ...r, headers: [...r.headers, { name: 'by', value: tag }] })); }",
    ].join('\n'));
    await writeFile(join(plugin, 'tag.js'), 'export const tag = new Uint8Array([104, 105]);\n');
    const first = await readFile((await buildPlugin(plugin, work)).outFile);
    const digest = recordedDigest(first);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    const again = await readFile((await buildPlugin(plugin, work)).outFile);
    expect(Buffer.compare(first, again), 'unchanged source, same bytes').toBe(0);

    // Only an imported module changes: a real build, with another digest.
    await writeFile(join(plugin, 'tag.js'), 'export const tag = new Uint8Array([104, 111]);\n');
    const changed = await readFile((await buildPlugin(plugin, work)).outFile);
    expect(recordedDigest(changed)).toMatch(/^[0-9a-f]{64}$/);
    expect(recordedDigest(changed)).not.toBe(digest);
    expect(Buffer.compare(first, changed)).not.toBe(0);

    // A module this cannot follow (a dynamic import) has no digest: it is built every time.
    await writeFile(join(plugin, 'index.js'), [
      "import { tag } from './tag.js';",
      "export function configure(config) { if (config === 'never') import('./tag.js'); }",
      'export function process(batch) { return batch; }',
    ].join('\n'));
    expect(recordedDigest(await readFile((await buildPlugin(plugin, work)).outFile))).toBeUndefined();
  }, 600_000);
});
