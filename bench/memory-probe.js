// Child process of the memory benchmark: loads one plugin, creates N instances,
// prints the growth of the resident set per instance as JSON. Run with --expose-gc.
// With a fourth argument `called`, each instance is also called once with a batch of
// 1,024 generator records after its configure (what a running pipeline's instance holds:
// its memory grown to take a batch, the call paths' code compiled and run).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../dist/engine/engine.js';
import { instantiate } from '../dist/instance/instantiate.js';
import { BENCH_LIMITS, benchHost } from './implementations.js';
import { sampleBatch } from './workload.js';

const [file, countText, cacheDir, mode] = process.argv.slice(2);
const called = mode === 'called';
const batch = called ? await sampleBatch(1024) : [];
const count = Number(countText);
const module = await new Engine({ cacheDir: cacheDir ?? (await mkdtemp(join(tmpdir(), 'weir-mem-'))) }).load(file);
const warmup = await instantiate(module, 'processor', benchHost('warmup'), BENCH_LIMITS);
warmup.configure('{}');
if (called) await warmup.process(batch);
globalThis.gc();
const before = process.memoryUsage().rss;
const instances = [];
for (let i = 0; i < count; i++) {
  const instance = await instantiate(module, 'processor', benchHost(`i${i}`), BENCH_LIMITS);
  instance.configure('{}');
  if (called) {
    const out = await instance.process(batch);
    if (out.length !== batch.length) throw new Error(`${file} returned ${out.length} of ${batch.length} records`);
  }
  instances.push(instance);
}
globalThis.gc();
const after = process.memoryUsage().rss;
process.stdout.write(JSON.stringify({ instances: instances.length, kibPerInstance: (after - before) / 1024 / count }) + '\n');
