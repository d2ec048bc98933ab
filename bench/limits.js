// Limits overhead: the same plugins with no CPU limit, with fuel metering
// (instrumented wasm, in-thread) and in a worker thread under a watchdog.
// Two figures per mode: pipeline throughput (batches of 1024) and the
// latency of one call carrying one record. The memory cap is on in every
// mode (its only run-time cost is a hook on memory.grow). Instance start-up is
// left out of the throughput (timed from the first record on).
import { PassThrough, Readable } from 'node:stream';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { pino } from 'pino';
import { compilePipeline } from '../dist/config/compile.js';
import { builtinConnectors } from '../dist/connectors/builtin.js';
import { PipelineRun } from '../dist/topology/pipeline-run.js';
import { buildPlugin } from '../dist/build/plugin-build.js';
import { DEFAULT_LIMITS, instanceLimits } from '../dist/contract/limits.js';
import { benchHost } from './implementations.js';
import { sampleBatch } from './workload.js';
import { instantiate } from '../dist/instance/instantiate.js';

export const MODES = ['none', 'fuel', 'worker'];

/** Records/s of generator (`count` records) -> `module` in cpu `mode` -> null, through the real topology. */
export async function throughput(module, mode, count) {
  const connectors = builtinConnectors();
  const compiled = compilePipeline({
    name: 'limits',
    nodes: [
      { id: 'gen', kind: 'source', connector: 'generator', config: { count, valueSize: 100, keyCardinality: 16 }, batch: { maxRecords: 1024 } },
      { id: 'transform', kind: 'processor', plugin: 'bench.wasm', inputs: ['gen'], limits: { cpu: { mode } } },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['transform'] },
    ],
  }, { file: '/bench/pipeline.json', connectors });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  const run = await PipelineRun.start(compiled.config, {
    modules: new Map([['transform', module]]), connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough(),
  });
  // Timed from the start of the flow: a worker's start-up (a thread, the plugin loaded again) is not throughput.
  const started = performance.now();
  const summary = await run.done;
  const seconds = (performance.now() - started) / 1000;
  if (summary.status !== 'completed' || summary.totals.written !== count) throw new Error(`pipeline ${summary.status}: ${JSON.stringify(summary.error ?? summary.totals)}`);
  return count / seconds;
}

async function callLatencyNs(module, mode, { timeMs, warmupMs, iterations, warmupIterations }) {
  const instance = await instantiate(module, 'processor', benchHost(`limits-${mode}`), instanceLimits({ ...DEFAULT_LIMITS, cpu: { mode } }));
  await instance.configure('{}');
  const batch = await sampleBatch(1);
  const bench = new Bench({ time: timeMs, warmupTime: warmupMs, iterations, warmupIterations, throws: true });
  bench.add('call', async () => {
    await instance.process(batch);
  });
  await bench.run();
  instance.close();
  return bench.tasks[0].result.latency.p50 * 1e6;
}

/**
 * Returns rows `{ id, label, mode, recordsPerSec: {median, min, max}, records, callNs }` for the
 * engine-loaded implementations plus a compute-heavy AssemblyScript plugin (64 rounds of FNV-1a).
 */
export async function runLimits(impls, { workDir, engine, count: maxCount, seconds, runs, timeMs, warmupMs, iterations, warmupIterations, log }) {
  const hash = await buildPlugin(join(import.meta.dirname, 'plugins/hash-as'), workDir);
  const subjects = [
    ...impls.filter((i) => i.available && ['assemblyscript', 'rust', 'js-qjs'].includes(i.id)),
    { id: 'hash-as', label: 'AssemblyScript, compute-heavy (64 x FNV-1a)', module: await engine.load(hash.outFile) },
  ];
  const rows = [];
  for (const subject of subjects) {
    // Size the runs from a probe without limits, so every mode pushes the same records.
    await throughput(subject.module, 'none', 4096);
    const probe = await throughput(subject.module, 'none', 20_480);
    const count = Math.max(20_480, Math.min(maxCount, Math.round((probe * seconds) / 1024) * 1024));
    for (const mode of MODES) {
      await throughput(subject.module, mode, 4096);
      const results = [];
      for (let r = 0; r < runs; r++) results.push(await throughput(subject.module, mode, count));
      results.sort((a, b) => a - b);
      const callNs = await callLatencyNs(subject.module, mode, { timeMs, warmupMs, iterations, warmupIterations });
      const row = { id: subject.id, label: subject.label, mode, records: count, recordsPerSec: { median: results[Math.floor(results.length / 2)], min: results[0], max: results.at(-1) }, callNs };
      rows.push(row);
      log(`limits ${subject.id.padEnd(14)} ${mode.padEnd(6)}: ${Math.round(row.recordsPerSec.median).toLocaleString('en')} records/s, ${(callNs / 1000).toFixed(1)} µs per 1-record call`);
    }
  }
  return rows;
}
