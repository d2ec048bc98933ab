// Parallelism scaling: `host run` generator -> CPU-bound plugin (bench/plugins/hash-as,
// 64 rounds of FNV-1a per record) -> null, at parallelism 1 and 2, in each cpu mode, and in
// mode fuel with its instances on worker threads (`cpu.thread: "worker"`).
// Runs interleaved (1, 2, 1, 2, ...); records/s from the run summary (the pipeline's wall time).
import { readFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { buildPlugin } from '../dist/build/plugin-build.js';
import { hostRunArgs } from './e2e.js';
import { runMeasured } from './e2e/measured-process.js';
import { MODES } from './limits.js';

const root = join(import.meta.dirname, '..');

/** Rows `{ mode, parallelism, records, recordsPerSec: {median, min, max} }`, and `vsOne` on parallelism 2. */
export async function runScaling({ workDir, records, runs, log }) {
  const hash = await buildPlugin(join(import.meta.dirname, 'plugins/hash-as'), workDir);
  const rows = [];
  const configs = [...MODES.map((mode) => ({ mode, cpu: { mode } })), { mode: 'fuel, thread worker', cpu: { mode: 'fuel', thread: 'worker' } }];
  for (const { mode, cpu } of configs) {
    const samples = { 1: [], 2: [] };
    for (let r = 0; r < runs; r++) {
      for (const parallelism of [1, 2]) {
        const dir = join(workDir, 'scaling', `${mode.replace(/\W+/g, '-')}-${parallelism}`);
        const summaryFile = join(dir, 'summary.json');
        const args = hostRunArgs(dir, {
          name: 'scaling',
          plugins: { dir: dirname(hash.outFile) },
          nodes: [
            { id: 'gen', kind: 'source', connector: 'generator', config: { count: records, valueSize: 100, keyCardinality: 16 } },
            { id: 'hash', kind: 'processor', plugin: basename(hash.outFile), inputs: ['gen'], parallelism, limits: { cpu } },
            { id: 'out', kind: 'sink', connector: 'null', inputs: ['hash'] },
          ],
        }, ['--summary-json', summaryFile]);
        await runMeasured(args, { cwd: root, env: { WEIR_CACHE_DIR: join(workDir, 'cache') } });
        const { totals, wallMs } = JSON.parse(readFileSync(summaryFile, 'utf8'));
        if (totals.written !== records) throw new Error(`scaling ${mode} x${parallelism}: host run wrote ${totals.written} of ${records} records`);
        samples[parallelism].push(records / (wallMs / 1000));
      }
    }
    const stats = (xs) => {
      const s = [...xs].sort((a, b) => a - b);
      return { median: s[Math.floor(s.length / 2)], min: s[0], max: s.at(-1) };
    };
    const one = stats(samples[1]);
    const two = stats(samples[2]);
    rows.push({ mode, parallelism: 1, records, recordsPerSec: one }, { mode, parallelism: 2, records, recordsPerSec: two, vsOne: two.median / one.median });
    log(`scaling ${mode.padEnd(6)}: ${Math.round(one.median).toLocaleString('en')} -> ${Math.round(two.median).toLocaleString('en')} records/s (${(two.median / one.median).toFixed(2)}x)`);
  }
  return rows;
}
