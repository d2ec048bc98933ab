// Macro benchmark: whole-pipeline throughput, generator -> processor -> null sink,
// through the real topology (PipelineRun), one process, one core.
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { compilePipeline } from '../dist/config/compile.js';
import { builtinConnectors } from '../dist/connectors/builtin.js';
import { PipelineRun } from '../dist/topology/pipeline-run.js';
import { benchInstantiate } from './implementations.js';

function pipelineFor(count) {
  return {
    name: 'bench',
    nodes: [
      { id: 'gen', kind: 'source', connector: 'generator', config: { count, valueSize: 100, keyCardinality: 16 }, batch: { maxRecords: 1024 } },
      { id: 'transform', kind: 'processor', plugin: 'bench.wasm', inputs: ['gen'], limits: { cpu: { mode: 'none' } } },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['transform'] },
    ],
  };
}

/** Runs one pipeline of `count` records through `module`; returns records/s. */
async function throughput(module, count) {
  const connectors = builtinConnectors();
  const compiled = compilePipeline(pipelineFor(count), { file: '/bench/pipeline.json', connectors });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  const run = await PipelineRun.start(compiled.config, {
    modules: new Map([['transform', module]]),
    instantiate: benchInstantiate,
    connectors,
    logger: pino({ level: 'silent' }),
    stdin: Readable.from([]),
    stdout: new PassThrough(),
  });
  const summary = await run.done;
  if (summary.status !== 'completed' || summary.totals.written !== count) throw new Error(`pipeline ${summary.status}: ${JSON.stringify(summary.totals)}`);
  return count / (summary.wallMs / 1000);
}

/**
 * Returns rows `{ id, label, records, recordsPerSec: {median, min, max}, runs }`.
 * Each run pushes `count` records, or fewer for slow implementations: about
 * `seconds` worth at the rate a first short run measured (at least 20,000).
 */
export async function runMacro(impls, { count: maxCount, seconds, runs, log }) {
  const rows = [];
  for (const impl of impls.filter((i) => i.available)) {
    // Two short runs: the first warms the JIT, the second sizes the measured runs.
    await throughput(impl.module, 4096);
    const probe = await throughput(impl.module, 20_480);
    const count = Math.max(20_000, Math.min(maxCount, Math.round((probe * seconds) / 1024) * 1024));
    const results = [];
    for (let r = 0; r < runs; r++) results.push(await throughput(impl.module, count));
    results.sort((a, b) => a - b);
    const row = { id: impl.id, label: impl.label, records: count, recordsPerSec: { median: results[Math.floor(results.length / 2)], min: results[0], max: results.at(-1) }, runs };
    rows.push(row);
    log(`macro ${impl.id.padEnd(14)}: ${Math.round(row.recordsPerSec.median).toLocaleString('en')} records/s`);
  }
  return rows;
}
