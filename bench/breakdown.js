// Where a pipeline's time per record goes, outside the plugins: producing records,
// the packed-batch codec, and the topology itself (a pipeline with no processor).
import { Bench } from 'tinybench';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { GeneratorSource } from '../dist/connectors/generator.js';
import { decodeBatch, encodeBatch } from '../dist/records/batch-codec.js';
import { compilePipeline } from '../dist/config/compile.js';
import { builtinConnectors } from '../dist/connectors/builtin.js';
import { PipelineRun } from '../dist/topology/pipeline-run.js';
import { sampleBatch } from './workload.js';

const BATCH = 1024;

async function nsPerRecord(name, fn, { timeMs, iterations, warmupIterations }) {
  const bench = new Bench({ time: timeMs, warmupTime: Math.min(200, timeMs), iterations, warmupIterations });
  bench.add(name, fn);
  await bench.run();
  return (bench.tasks[0].result.latency.p50 * 1e6) / BATCH;
}

async function emptyPipelineRate(count) {
  const connectors = builtinConnectors();
  const compiled = compilePipeline({
    name: 'ceiling',
    nodes: [
      { id: 'gen', kind: 'source', connector: 'generator', config: { count, valueSize: 100, keyCardinality: 16 }, batch: { maxRecords: BATCH } },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['gen'] },
    ],
  }, { file: '/bench/ceiling.json', connectors });
  const run = await PipelineRun.start(compiled.config, { modules: new Map(), connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough() });
  const summary = await run.done;
  return count / (summary.wallMs / 1000);
}

/** Returns `{ generateNs, encodeNs, decodeNs, ceilingRecordsPerSec }` per record at batch 1024. */
export async function runBreakdown({ timeMs, iterations, warmupIterations, count, log }) {
  const sampling = { timeMs, iterations, warmupIterations };
  const generator = new GeneratorSource({ count: 0, ratePerSec: 0, valueSize: 100, keyCardinality: 16, seed: 1, startTime: 0, eventIntervalMs: 1 });
  const batch = await sampleBatch(BATCH);
  const packed = encodeBatch(batch);
  const result = {
    generateNs: await nsPerRecord('generate', () => generator.poll(BATCH), sampling),
    encodeNs: await nsPerRecord('encode', () => encodeBatch(batch), sampling),
    decodeNs: await nsPerRecord('decode', () => decodeBatch(packed), sampling),
    ceilingRecordsPerSec: await emptyPipelineRate(count),
  };
  log(`breakdown: generate ${result.generateNs.toFixed(0)} ns, encode ${result.encodeNs.toFixed(0)} ns, decode ${result.decodeNs.toFixed(0)} ns per record; generator -> null ${Math.round(result.ceilingRecordsPerSec).toLocaleString('en')} records/s`);
  return result;
}
