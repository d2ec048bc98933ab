// Child process of the memory benchmark: loads one plugin, creates N instances,
// prints the growth of the resident set per instance as JSON. Run with --expose-gc.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../dist/engine/engine.js';
import { instantiate } from '../dist/instance/instantiate.js';
import { BENCH_LIMITS, benchHost } from './implementations.js';

const [file, countText, cacheDir] = process.argv.slice(2);
const count = Number(countText);
const module = await new Engine({ cacheDir: cacheDir ?? (await mkdtemp(join(tmpdir(), 'weir-mem-'))) }).load(file);
const warmup = await instantiate(module, 'processor', benchHost('warmup'), BENCH_LIMITS);
warmup.configure('{}');
globalThis.gc();
const before = process.memoryUsage().rss;
const instances = [];
for (let i = 0; i < count; i++) {
  const instance = await instantiate(module, 'processor', benchHost(`i${i}`), BENCH_LIMITS);
  instance.configure('{}');
  instances.push(instance);
}
globalThis.gc();
const after = process.memoryUsage().rss;
process.stdout.write(JSON.stringify({ instances: instances.length, kibPerInstance: (after - before) / 1024 / count }) + '\n');
