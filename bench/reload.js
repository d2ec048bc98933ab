// Hot reload: how long from a new build landing in place (rename) to the new
// version serving, and how much throughput dips around a swap. A generator at
// full speed feeds the plugin; each swap renames a fresh build (the same
// plugin with a custom section appended, so the hash differs) over the file.
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { compilePipeline } from '../dist/config/compile.js';
import { builtinConnectors } from '../dist/connectors/builtin.js';
import { PipelineRun } from '../dist/topology/pipeline-run.js';
import { HotReload } from '../dist/reload/hot-reload.js';
import { STABLE_FOR_MS } from '../dist/reload/plugin-watcher.js';

/** `bytes` with a custom section appended: a different build of the same plugin. */
function variant(bytes, n) {
  const name = new TextEncoder().encode('weir-bench');
  const payload = new Uint8Array([name.length, ...name, n & 0xff, (n >> 8) & 0xff]);
  return new Uint8Array([...bytes, 0x00, payload.length, ...payload]);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Returns rows `{ id, label, swaps, latencyMs: {median, min, max}, stableForMs, dipPercent }`. */
export async function runReload(impls, { workDir, engine, swaps, log }) {
  const rows = [];
  for (const impl of impls.filter((i) => i.available && ['assemblyscript', 'js-qjs'].includes(i.id))) {
    const dir = join(workDir, `reload-${impl.id}`);
    await mkdir(dir, { recursive: true });
    const original = await readFile(impl.module.file);
    const file = join(dir, 'plugin.wasm');
    await copyFile(impl.module.file, file);
    const connectors = builtinConnectors();
    const compiled = compilePipeline({
      name: 'reload',
      plugins: { dir },
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0 }, batch: { maxRecords: 1024 } },
        { id: 'p', kind: 'processor', plugin: 'plugin.wasm', inputs: ['gen'] },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['p'] },
      ],
    }, { file: join(dir, 'pipeline.json'), connectors });
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
    const module = await engine.load(file);
    const run = await PipelineRun.start(compiled.config, { modules: new Map([['p', module]]), connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough() });
    let waiting;
    const reload = await HotReload.start({ run, engine, running: new Map([[file, module.sha256]]), logger: pino({ level: 'silent' }), onOutcome: (o) => waiting?.(o) });
    // Throughput samples (records/s over 20 ms), tagged with whether a swap was in progress.
    const samples = [];
    let swapping = false;
    let sampling = true;
    const sampler = (async () => {
      let last = run.stats().find((s) => s.id === 'gen').out;
      let lastAt = performance.now();
      while (sampling) {
        await sleep(20);
        const now = performance.now();
        const out = run.stats().find((s) => s.id === 'gen').out;
        samples.push({ rate: ((out - last) * 1000) / (now - lastAt), swapping });
        last = out;
        lastAt = now;
      }
    })();
    await sleep(500);
    const latencies = [];
    for (let i = 1; i <= swaps; i++) {
      await writeFile(join(dir, '.incoming'), variant(original, i));
      const started = performance.now();
      swapping = true;
      const outcome = await new Promise((resolve) => {
        waiting = resolve;
        void rename(join(dir, '.incoming'), file);
      });
      latencies.push(performance.now() - started);
      await sleep(100);
      swapping = false;
      if (!outcome.ok) throw new Error(`reload failed: ${outcome.error?.message}`);
      await sleep(200);
    }
    sampling = false;
    await sampler;
    run.stop();
    await run.done;
    await reload.close();
    const steady = median(samples.filter((s) => !s.swapping).map((s) => s.rate));
    const during = median(samples.filter((s) => s.swapping).map((s) => s.rate));
    const row = {
      id: impl.id,
      label: impl.label,
      swaps,
      stableForMs: STABLE_FOR_MS,
      latencyMs: { median: median(latencies), min: Math.min(...latencies), max: Math.max(...latencies) },
      dipPercent: Math.max(0, 100 - (100 * during) / steady),
    };
    rows.push(row);
    log(`reload ${impl.id.padEnd(14)}: ${row.latencyMs.median.toFixed(0)} ms from rename to serving (median), throughput during a swap ${(100 - row.dipPercent).toFixed(0)}% of steady`);
  }
  return rows;
}

/**
 * Structural pipeline edits: a running pipeline (generator at full speed,
 * the plugin at parallelism 2) is edited `edits` times, alternately adding
 * and removing a sink on the plugin. Each edit is timed from `apply()` to
 * the new wiring running: the added sink is built first, then the sources
 * pause while in-flight records drain, and the graph is rewired.
 *
 * Returns rows `{ id, label, edits, applyMs: {median, min, max} }`.
 */
export async function runRewire(impls, { workDir, engine, edits, log }) {
  const rows = [];
  for (const impl of impls.filter((i) => i.available && i.id === 'assemblyscript')) {
    const dir = join(workDir, `rewire-${impl.id}`);
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'plugin.wasm');
    await copyFile(impl.module.file, file);
    const connectors = builtinConnectors();
    const nodes = [
      { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, keyCardinality: 100 }, batch: { maxRecords: 1024 } },
      { id: 'p', kind: 'processor', plugin: 'plugin.wasm', inputs: ['gen'], parallelism: 2, partition: 'key' },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['p'] },
    ];
    const compile = (withTap) => {
      const compiled = compilePipeline({ name: 'rewire', plugins: { dir }, nodes: withTap ? [...nodes, { id: 'tap', kind: 'sink', connector: 'null', inputs: ['p'] }] : nodes }, { file: join(dir, 'pipeline.json'), connectors });
      if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
      return compiled.config;
    };
    const module = await engine.load(file);
    const modules = new Map([['p', module]]);
    const run = await PipelineRun.start(compile(false), { modules, connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough() });
    await sleep(500);
    const durations = [];
    for (let i = 1; i <= edits; i++) {
      const started = performance.now();
      const outcome = await run.apply(compile(i % 2 === 1), modules);
      durations.push(performance.now() - started);
      if (!outcome.ok) throw new Error(`edit refused: ${outcome.reasons.join('; ')}`);
      await sleep(100);
    }
    run.stop();
    const summary = await run.done;
    if (summary.nodes.find((n) => n.id === 'out').out !== summary.totals.read) throw new Error('records were lost during the edits');
    const row = { id: impl.id, label: impl.label, edits, applyMs: { median: median(durations), min: Math.min(...durations), max: Math.max(...durations) } };
    rows.push(row);
    log(`rewire ${impl.id.padEnd(14)}: a sink added or removed in ${row.applyMs.median.toFixed(1)} ms (median, sources paused meanwhile)`);
  }
  return rows;
}
