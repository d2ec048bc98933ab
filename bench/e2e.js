// End to end, file to file, each path a whole process: N JSONL records (~150 bytes),
// upper-case the value, write them to a file. A plain Node script, an Extism host script
// and `host run` (dist/, the real CLI) with each uppercase plugin; interleaved runs; wall
// time from spawn to exit and the process's peak resident set (bench/e2e/peak-rss.js).
// Every run's output must equal the plain script's, or the path is refused.
// Also: peak RSS of the same AssemblyScript pipeline at N and 10 N records (flat memory).
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureInput } from './e2e/input.js';
import { runMeasured } from './e2e/measured-process.js';
import { outputProblem } from './e2e/compare.js';

const root = join(import.meta.dirname, '..');
export const hostBin = join(root, 'host/bin/host.js');
const pluginsDir = join(root, 'plugins');

/** A pipeline of `host run` that reads `input`, upper-cases with `plugin`, writes `output`. */
function filePipeline({ plugin, parallelism, input, output }) {
  return {
    name: 'e2e',
    plugins: { dir: pluginsDir },
    nodes: [
      { id: 'in', kind: 'source', connector: 'file', config: { path: input } },
      { id: 'upper', kind: 'processor', plugin, inputs: ['in'], ...(parallelism ? { parallelism, limits: { cpu: { mode: 'fuel', thread: 'worker' } } } : {}) },
      { id: 'out', kind: 'sink', connector: 'file', inputs: ['upper'], config: { path: output } },
    ],
  };
}

/** `host run` of `pipeline` (an object), written to `dir`: the arguments for {@link runMeasured}. */
export function hostRunArgs(dir, pipeline, extra = []) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'pipeline.json');
  writeFileSync(file, JSON.stringify(pipeline, null, 2));
  return [hostBin, 'run', file, '--log-level', 'warn', ...extra];
}

/**
 * The paths the table compares. Each has `args(input, output, dir)`: the node arguments of
 * one run; `anyOrder`: its output may come in another order (a parallel node).
 */
export function fileToFilePaths({ extismWasm }) {
  const weir = (plugin, parallelism) => (input, output, dir) => hostRunArgs(dir, filePipeline({ plugin, parallelism, input, output }));
  return [
    { id: 'plain', label: 'plain Node readline script', args: (input, output) => [join(import.meta.dirname, 'e2e/plain.js'), input, output] },
    { id: 'extism', label: 'Extism JS host script (@extism/extism)', args: (input, output) => [join(import.meta.dirname, 'e2e/extism.js'), extismWasm, input, output] },
    { id: 'weir-as', label: '`host run`, uppercase-as', args: weir('uppercase-as.wasm') },
    { id: 'weir-rust', label: '`host run`, uppercase-rust', args: weir('uppercase-rust.wasm') },
    { id: 'weir-js', label: '`host run`, uppercase-js (QuickJS)', args: weir('uppercase-js.wasm') },
    { id: 'weir-as-p2', label: '`host run`, uppercase-as, `parallelism: 2` on worker threads (`cpu.thread: "worker"`)', args: weir('uppercase-as.wasm', 2), anyOrder: true },
  ];
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2, min: s[0], max: s.at(-1) };
};

/**
 * Runs every path `runs` times, interleaved (a round runs each path once), on `records`
 * records; the first path is the reference every output is checked against. Returns rows
 * `{ id, label, records, runs, wallMs, peakRssMiB: {median, min, max}, recordsPerSec, vsPlain }`,
 * or `{ id, label, error }` for a path that failed or wrote other output (it is not run again).
 * `warmUp` first runs each path once on 1,000 records (fills the transpile cache).
 */
export async function runFileToFile(paths, { workDir, records, runs, warmUp = false, log }) {
  const dir = join(workDir, 'e2e');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const cacheEnv = { WEIR_CACHE_DIR: join(workDir, 'cache') };
  const errors = new Map();
  const samples = new Map(paths.map((p) => [p.id, []]));
  const reference = join(dir, 'reference.jsonl');

  const runOnce = async (path, input, referenceFile) => {
    const output = join(dir, `${path.id}.jsonl`);
    rmSync(output, { force: true });
    const measured = await runMeasured(path.args(input, output, join(dir, path.id)), { cwd: root, env: cacheEnv });
    if (referenceFile === undefined) {
      renameSync(output, reference);
      return measured;
    }
    const problem = outputProblem(referenceFile, output, { anyOrder: path.anyOrder });
    rmSync(output, { force: true });
    if (problem) throw new Error(problem);
    return measured;
  };
  const attempt = async (path, input, referenceFile) => {
    if (errors.has(path.id)) return undefined;
    try {
      return await runOnce(path, input, referenceFile);
    } catch (error) {
      errors.set(path.id, String(error.message ?? error));
      log(`e2e ${path.id}: refused: ${errors.get(path.id)}`);
      return undefined;
    }
  };

  if (warmUp) {
    const small = await ensureInput(workDir, 1000);
    await attempt(paths[0], small, undefined);
    for (const path of paths.slice(1)) await attempt(path, small, reference);
  }
  const input = await ensureInput(workDir, records);
  for (let r = 0; r < runs; r++) {
    for (const [i, path] of paths.entries()) {
      const measured = await attempt(path, input, i === 0 && r === 0 ? undefined : reference);
      if (i === 0 && r === 0 && !measured) throw new Error(`the reference path ${path.id} failed: ${errors.get(path.id)}`);
      if (measured) samples.get(path.id).push(measured);
    }
    log(`e2e round ${r + 1}/${runs}: ${paths.map((p) => `${p.id} ${errors.has(p.id) ? 'refused' : `${(samples.get(p.id).at(-1).wallMs / 1000).toFixed(2)} s`}`).join(', ')}`);
  }
  rmSync(dir, { recursive: true, force: true });

  const plain = stats(samples.get(paths[0].id).map((s) => s.wallMs)).median;
  return paths.map((path) => {
    if (errors.has(path.id)) return { id: path.id, label: path.label, records, error: errors.get(path.id) };
    const wallMs = stats(samples.get(path.id).map((s) => s.wallMs));
    return {
      id: path.id,
      label: path.label,
      records,
      runs: samples.get(path.id).length,
      wallMs,
      peakRssMiB: stats(samples.get(path.id).map((s) => s.peakRssKiB / 1024)),
      recordsPerSec: records / (wallMs.median / 1000),
      vsPlain: wallMs.median / plain,
    };
  });
}

/**
 * Flat memory: peak RSS of `host run` stdin -> uppercase-as -> stdout (to /dev/null) at
 * each record count, the records piped in from a generator process (bench/e2e/input.js),
 * so no input file is needed. Checks the summary counts every record written. Returns rows
 * `{ records, peakRssMiB, wallMs }`.
 */
export async function runFlatMemory({ workDir, counts, log }) {
  const dir = join(workDir, 'e2e-flat');
  rmSync(dir, { recursive: true, force: true });
  const rows = [];
  for (const count of counts) {
    const summaryFile = join(dir, 'summary.json');
    const args = hostRunArgs(dir, {
      name: 'e2e-flat',
      plugins: { dir: pluginsDir },
      nodes: [
        { id: 'in', kind: 'source', connector: 'stdin' },
        { id: 'upper', kind: 'processor', plugin: 'uppercase-as.wasm', inputs: ['in'] },
        { id: 'out', kind: 'sink', connector: 'stdout', inputs: ['upper'] },
      ],
    }, ['--summary-json', summaryFile]);
    const generator = spawn(process.execPath, [join(import.meta.dirname, 'e2e/input.js'), String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const generated = new Promise((resolve, reject) => generator.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`the generator exited ${code}`)))));
    const measured = runMeasured(args, { cwd: root, env: { WEIR_CACHE_DIR: join(workDir, 'cache') }, stdin: generator.stdout });
    generator.stdout.destroy(); // the host has its own copy of the pipe
    const [{ wallMs, peakRssKiB }] = await Promise.all([measured, generated]);
    const { totals } = JSON.parse(readFileSync(summaryFile, 'utf8'));
    if (totals.written !== count) throw new Error(`flat memory: host run wrote ${totals.written} of ${count} records`);
    rows.push({ records: count, peakRssMiB: peakRssKiB / 1024, wallMs });
    log(`flat memory ${count.toLocaleString('en')} records: peak RSS ${(peakRssKiB / 1024).toFixed(0)} MiB, ${(wallMs / 1000).toFixed(1)} s`);
  }
  rmSync(dir, { recursive: true, force: true });
  return rows;
}
