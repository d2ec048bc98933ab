/**
 * Builds of unchanged source give the same bytes, so a rebuild is the same
 * plugin to the host (same sha256: no reload, no new transpile-cache entry).
 * AssemblyScript here; Rust is checked by the committed-build test in
 * examples.test.ts. QuickJS (componentize-qjs) builds are not reproducible
 * yet: its Wizer snapshot captures randomness from the build machine (see
 * sdk/js/README.md).
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlugin } from '../../src/build/plugin-build.js';

const plugins = join(import.meta.dirname, '../../../plugins');

describe('reproducible builds', () => {
  it('two builds of the same AssemblyScript source give identical bytes', async () => {
    const first = await buildPlugin(join(plugins, 'uppercase-as'), await mkdtemp(join(tmpdir(), 'weir-build-a-')));
    const second = await buildPlugin(join(plugins, 'uppercase-as'), await mkdtemp(join(tmpdir(), 'weir-build-b-')));
    const [a, b] = await Promise.all([readFile(first.outFile), readFile(second.outFile)]);
    expect(a.length).toBeGreaterThan(1000);
    expect(Buffer.compare(a, b)).toBe(0);
  }, 300_000);
});
