/**
 * Each hot reload brings a new build of a plugin, with its own digest and so
 * its own transpiled code. The host must let the old build's code go once no
 * instance uses it: Node never unloads an imported ES module, so the
 * generated JS was once imported and kept for the life of the process (each
 * reload of a QuickJS plugin kept ~1.5 MB).
 *
 * The test makes many builds of one component that differ only in a custom
 * section (so they share one transpilation, copied under each digest), loads,
 * instantiates and closes each in a child process, and checks that the heap
 * after a full GC does not grow with the number of builds.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { distModule, runWithSmallHeap } from './small-heap-child.js';

const BUILDS = 150;
const MEASURE_FROM = 20;
const PLUGIN = join(import.meta.dirname, '../../../plugins/field-filter-rust.wasm');

/** `bytes` with a custom section appended: the same component, another digest. */
function withCustomSection(bytes: Uint8Array, tag: string): Buffer {
  const name = Buffer.from('weir-test');
  const payload = Buffer.concat([Buffer.from([name.length]), name, Buffer.from(tag)]);
  return Buffer.concat([bytes, Buffer.from([0, payload.length]), payload]);
}

let files: string[];
let cacheDir: string;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'weir-reload-retention-'));
  cacheDir = join(dir, 'cache');
  const base = await readFile(PLUGIN);
  const transpiled = await new Engine({ cacheDir }).load(PLUGIN);
  files = [];
  for (let i = 0; i < BUILDS; i++) {
    const bytes = withCustomSection(base, `build-${i}`);
    const file = join(dir, `build-${i}.wasm`);
    await writeFile(file, bytes);
    const sha = createHash('sha256').update(bytes).digest('hex');
    await cp(join(cacheDir, 'components', transpiled.sha256), join(cacheDir, 'components', sha), { recursive: true });
    files.push(file);
  }
});

const child = `
  const { Engine } = await import(${JSON.stringify(distModule('engine/engine.js'))});
  const { instantiate } = await import(${JSON.stringify(distModule('instance/instantiate.js'))});
  const { createHostContext } = await import(${JSON.stringify(distModule('linker/host-context.js'))});
  const { MemoryKeyedState } = await import(${JSON.stringify(distModule('state/keyed-state.js'))});
  const { DEFAULT_LIMITS, instanceLimits } = await import(${JSON.stringify(distModule('contract/limits.js'))});
  const { pino } = await import('pino');
  const files = JSON.parse(process.env.FILES);
  const engine = new Engine({ cacheDir: process.env.CACHE, keepCompiled: 4 });
  const limits = instanceLimits(DEFAULT_LIMITS);
  const heap = async () => {
    for (let i = 0; i < 3; i++) {
      globalThis.gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    return process.memoryUsage().heapUsed;
  };
  let from = 0;
  let loaded = 0;
  for (const [i, file] of files.entries()) {
    const module = await engine.load(file);
    const host = createHostContext({
      node: 'n', plugin: 'p', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
      metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
    });
    const instance = await instantiate(module, 'processor', host, limits);
    instance.close();
    loaded++;
    if (i === Number(process.env.MEASURE_FROM)) from = await heap();
  }
  console.log(JSON.stringify({ loaded, growth: (await heap()) - from }));
`;

describe('reloading a component plugin', () => {
  it(`does not keep the code of old builds (${BUILDS} builds, heap flat after a GC)`, async () => {
    const result = await runWithSmallHeap(child, 128, { FILES: JSON.stringify(files), CACHE: cacheDir, MEASURE_FROM: String(MEASURE_FROM) });
    expect(result.stderr).toBe('');
    const { loaded, growth } = JSON.parse(result.stdout) as { loaded: number; growth: number };
    expect(loaded).toBe(BUILDS);
    // An imported module per build kept its generated JS, compiled; now the growth stays small.
    expect(growth).toBeLessThan(4 << 20);
  });
});
