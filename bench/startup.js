// Start-up: process start to first record written, through the real CLI, with a
// cold cache folder (emptied before each run: no transpiled components, and no
// compile cache of the host's own JavaScript, cli/compile-cache.ts) and a warm one.
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

const hostBin = join(import.meta.dirname, '../host/bin/host.js');

function timeToFirstRecord(pipeline, cacheDir) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [hostBin, 'run', pipeline, '--log-level', 'warn'], { env: { ...process.env, WEIR_CACHE_DIR: cacheDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let first;
    let stderr = '';
    child.stdout.once('data', () => (first = performance.now() - started));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && first !== undefined ? resolve(first) : reject(new Error(`host run exited ${code}: ${stderr}`))));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Returns rows `{ id, label, coldMs, warmMs }` (medians over `runs`). With
 * `warmUp: false` (quick mode) the warm runs use the cache the last cold run
 * filled, instead of a cache filled by a run of its own.
 */
export async function runStartup(impls, { runs, warmUp = true, log }) {
  const rows = [];
  for (const impl of impls.filter((i) => i.available && i.module.file.endsWith('.wasm'))) {
    const dir = await mkdtemp(join(tmpdir(), 'weir-startup-'));
    const pipeline = join(dir, 'pipeline.json');
    await writeFile(pipeline, JSON.stringify({
      name: 'startup',
      plugins: { dir: dirname(impl.module.file) },
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count: 1 } },
        { id: 'transform', kind: 'processor', plugin: basename(impl.module.file), inputs: ['gen'] },
        { id: 'out', kind: 'sink', connector: 'stdout', inputs: ['transform'] },
      ],
    }));
    const cold = [];
    let coldCache;
    for (let r = 0; r < runs; r++) cold.push(await timeToFirstRecord(pipeline, (coldCache = await mkdtemp(join(tmpdir(), 'weir-cold-')))));
    let warmCache = coldCache;
    if (warmUp) {
      warmCache = await mkdtemp(join(tmpdir(), 'weir-warm-'));
      await timeToFirstRecord(pipeline, warmCache);
    }
    const warm = [];
    for (let r = 0; r < runs; r++) warm.push(await timeToFirstRecord(pipeline, warmCache));
    const row = { id: impl.id, label: impl.label, coldMs: median(cold), warmMs: median(warm), runs };
    rows.push(row);
    log(`startup ${impl.id.padEnd(14)}: cold ${row.coldMs.toFixed(0)} ms, warm ${row.warmMs.toFixed(0)} ms`);
  }
  return rows;
}
