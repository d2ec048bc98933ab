// Parallelism scaling: generator -> plugin -> null with parallelism 1 and 2,
// the plugin's instances on the main thread (cpu mode fuel, the default) or on
// worker threads of their own (cpu mode fuel, "thread": "worker"), fuel metered
// in both. Runs are interleaved (every configuration once per round), so a
// machine whose speed drifts slows them alike; each figure is the median of
// the rounds, and the ratios compare parallelism 2 with 1 on the same thread
// choice. Instance start-up (a worker thread, the plugin compiled there) is
// left out: timed from the start of the flow, as bench/limits.js does.
// Beside records/s, each configuration reports how busy the main thread was
// (event-loop utilization: near 100% with workers means the main thread is
// the bottleneck) and the CPU time per record of all threads (what the
// worker path costs in total) and of the main thread alone: CPU times are
// figures a loaded machine distorts less. On an idle machine with C cores,
// parallelism P on worker threads can reach about
// min(P, C, total / main) / total records per nanosecond.
//
// node bench/parallel.js [--rounds 5] [--seconds 1.5] [--plugins hash-as,upper-as]
import { PassThrough, Readable } from 'node:stream';
import { loadavg, availableParallelism, tmpdir } from 'node:os';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { compilePipeline } from '../dist/config/compile.js';
import { builtinConnectors } from '../dist/connectors/builtin.js';
import { PipelineRun } from '../dist/topology/pipeline-run.js';
import { buildPlugin } from '../dist/build/plugin-build.js';
import { Engine } from '../dist/engine/engine.js';

/** The configurations each round runs, in this order. */
export const CONFIGS = [
  { id: 'main-p1', thread: 'main', parallelism: 1 },
  { id: 'worker-p1', thread: 'worker', parallelism: 1 },
  { id: 'main-p2', thread: 'main', parallelism: 2 },
  { id: 'worker-p2', thread: 'worker', parallelism: 2 },
];

async function throughput(module, { thread, parallelism }, count) {
  const connectors = builtinConnectors();
  const compiled = compilePipeline({
    name: 'parallel',
    nodes: [
      { id: 'gen', kind: 'source', connector: 'generator', config: { count, valueSize: 100, keyCardinality: 16 }, batch: { maxRecords: 1024 } },
      { id: 'transform', kind: 'processor', plugin: 'bench.wasm', inputs: ['gen'], parallelism, limits: { cpu: { mode: 'fuel', thread } } },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['transform'] },
    ],
  }, { file: '/bench/pipeline.json', connectors });
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.problems));
  const run = await PipelineRun.start(compiled.config, {
    modules: new Map([['transform', module]]), connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough(),
  });
  const started = performance.now();
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const mainCpu = process.threadCpuUsage();
  const summary = await run.done;
  const seconds = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  const main = process.threadCpuUsage(mainCpu);
  if (summary.status !== 'completed' || summary.totals.written !== count) throw new Error(`pipeline ${summary.status}: ${JSON.stringify(summary.error ?? summary.totals)}`);
  // How busy the main thread was, and the CPU time of every thread of the process per record.
  return {
    recordsPerSec: count / seconds,
    mainBusy: performance.eventLoopUtilization(elu).utilization,
    cpuNsPerRecord: ((user + system) * 1000) / count,
    mainCpuNsPerRecord: ((main.user + main.system) * 1000) / count,
  };
}

const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1) };
};

/**
 * Returns, per plugin, records/s of every configuration (median, min, max
 * over `rounds` interleaved rounds) and the ratios parallelism 2 / 1 per
 * round (median, min, max), with the load average before and after.
 */
export async function runParallel({ workDir, engine, plugins, rounds, seconds, log }) {
  const rows = [];
  for (const name of plugins) {
    const built = await buildPlugin(join(import.meta.dirname, 'plugins', name), workDir);
    const module = await engine.load(built.outFile);
    // Size the runs so that one takes about `seconds` at parallelism 1.
    await throughput(module, CONFIGS[0], 4096);
    const probe = (await throughput(module, CONFIGS[0], 20_480)).recordsPerSec;
    const count = Math.max(20_480, Math.round((probe * seconds) / 1024) * 1024);
    for (const config of CONFIGS) await throughput(module, config, 4096);
    const loadBefore = loadavg();
    const results = Object.fromEntries(CONFIGS.map((c) => [c.id, []]));
    const mainBusy = Object.fromEntries(CONFIGS.map((c) => [c.id, []]));
    const cpuNs = Object.fromEntries(CONFIGS.map((c) => [c.id, []]));
    const mainCpuNs = Object.fromEntries(CONFIGS.map((c) => [c.id, []]));
    for (let round = 0; round < rounds; round++) {
      for (const config of CONFIGS) {
        const r = await throughput(module, config, count);
        results[config.id].push(r.recordsPerSec);
        mainBusy[config.id].push(r.mainBusy);
        cpuNs[config.id].push(r.cpuNsPerRecord);
        mainCpuNs[config.id].push(r.mainCpuNsPerRecord);
      }
    }
    const ratio = (a, b) => stats(results[a].map((x, i) => x / results[b][i]));
    const row = {
      plugin: name,
      records: count,
      recordsPerSec: Object.fromEntries(CONFIGS.map((c) => [c.id, stats(results[c.id])])),
      mainThreadBusy: Object.fromEntries(CONFIGS.map((c) => [c.id, stats(mainBusy[c.id])])),
      cpuNsPerRecord: Object.fromEntries(CONFIGS.map((c) => [c.id, stats(cpuNs[c.id])])),
      mainCpuNsPerRecord: Object.fromEntries(CONFIGS.map((c) => [c.id, stats(mainCpuNs[c.id])])),
      ratios: {
        'main p2/p1': ratio('main-p2', 'main-p1'),
        'worker p2/p1': ratio('worker-p2', 'worker-p1'),
        'worker p1/main p1': ratio('worker-p1', 'main-p1'),
        'worker p2/main p1': ratio('worker-p2', 'main-p1'),
      },
      loadavg: { before: loadBefore.map((l) => Math.round(l * 100) / 100), after: loadavg().map((l) => Math.round(l * 100) / 100) },
    };
    rows.push(row);
    for (const c of CONFIGS) {
      const s = row.recordsPerSec[c.id];
      log(`parallel ${name.padEnd(9)} ${c.id.padEnd(10)}: ${Math.round(s.median).toLocaleString('en')} records/s (min ${Math.round(s.min).toLocaleString('en')}, max ${Math.round(s.max).toLocaleString('en')}); main thread busy ${Math.round(row.mainThreadBusy[c.id].median * 100)}%, CPU ${Math.round(row.cpuNsPerRecord[c.id].median)} ns/record (all threads), ${Math.round(row.mainCpuNsPerRecord[c.id].median)} on the main thread`);
    }
    for (const [label, s] of Object.entries(row.ratios)) log(`parallel ${name.padEnd(9)} ${label.padEnd(18)}: ${s.median.toFixed(2)}x (min ${s.min.toFixed(2)}, max ${s.max.toFixed(2)})`);
    log(`parallel ${name.padEnd(9)} load average ${row.loadavg.before.join(' ')} before, ${row.loadavg.after.join(' ')} after; ${availableParallelism()} cores`);
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' }, seconds: { type: 'string', default: '1.5' }, plugins: { type: 'string', default: 'hash-as,upper-as' } } });
  const workDir = await mkdtemp(join(tmpdir(), 'weir-bench-parallel-'));
  const engine = new Engine({ cacheDir: join(workDir, 'cache') });
  const rows = await runParallel({ workDir, engine, plugins: values.plugins.split(','), rounds: Number(values.rounds), seconds: Number(values.seconds), log: (line) => console.log(line) });
  console.log(JSON.stringify(rows));
}
