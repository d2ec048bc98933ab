// Nexmark: each query of bench/nexmark/ through the real CLI, `host run`
// (dist/), as nexmark source -> query plugin(s) -> null sink, default limits
// (cpu mode fuel). Events per second per core is the events over the CPU time
// the process used (every thread), less the CPU time of the same pipeline run
// on one event (start-up: loading and compiling the plugins), the measure of
// the Nexmark project's "Throughput/Cores" for Flink (events over cores
// times seconds). Quick mode: one short run per query, start-up included.
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const hostBin = join(root, 'host/bin/host.js');
const cpuProbe = join(import.meta.dirname, 'nexmark/cpu-usage.js');
/** Event-time rate of the source, as in Flink's published run. */
const FLINK_EVENTS_PER_SECOND = 10_000_000;

/**
 * The queries, with Flink 1.13's published events/s per core: the table
 * "Nexmark Benchmark Result" in the README of github.com/nexmark/nexmark
 * (8 task managers of 1 slot, 100 M events generated at 10 M/s, RocksDB,
 * checkpoints every 3 minutes).
 */
export const NEXMARK_QUERIES = [
  { id: 'q0', pipeline: 'q0.json', label: 'q0 pass-through (Rust)', flinkPerCore: 155_020, events: 200_000 },
  { id: 'q1', pipeline: 'q1.json', label: 'q1 currency conversion (Rust)', flinkPerCore: 157_940, events: 200_000 },
  { id: 'q1-js', pipeline: 'q1-js.json', label: 'q1 currency conversion (JS)', flinkPerCore: 157_940, events: 20_000 },
  { id: 'q2', pipeline: 'q2.json', label: 'q2 selection (Rust)', flinkPerCore: 175_210, events: 200_000 },
  { id: 'q2-js', pipeline: 'q2-js.json', label: 'q2 selection (JS)', flinkPerCore: 175_210, events: 20_000 },
  { id: 'q5', pipeline: 'q5.json', label: 'q5 hot items, sliding 10 s every 2 s (Rust)', flinkPerCore: 22_140, events: 100_000 },
  { id: 'q7', pipeline: 'q7.json', label: 'q7 highest bid, tumbling 10 s (Rust)', flinkPerCore: 12_330, events: 200_000 },
];

/** Runs bench/nexmark/<pipeline> with `events` events; returns `{ wallMs, cpuMs, written }`. */
async function hostRun(query, events, workDir) {
  const pipeline = JSON.parse(await readFile(join(import.meta.dirname, 'nexmark', query.pipeline), 'utf8'));
  pipeline.plugins = { dir: join(root, 'plugins') };
  delete pipeline.$schema;
  // Flink's published run: 100 M events at a tps of 10 M, and nexmark-flink's DDL sets the generator's
  // first-event.rate to the tps, so event time advances 10 M events per second there too.
  Object.assign(pipeline.nodes.find((n) => n.connector === 'nexmark').config, { count: events, eventsPerSecond: FLINK_EVENTS_PER_SECOND });
  const file = join(workDir, `${query.id}.json`);
  const summaryFile = join(workDir, `${query.id}.summary.json`);
  const cpuFile = join(workDir, `${query.id}.cpu.json`);
  await writeFile(file, JSON.stringify(pipeline));
  const args = ['--import', cpuProbe, hostBin, 'run', file, '--no-watch', '--log-level', 'warn', '--summary-json', summaryFile, '--cache-dir', join(workDir, 'cache')];
  const stderr = await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, WEIR_BENCH_CPU_FILE: cpuFile }, stdio: ['ignore', 'ignore', 'pipe'] });
    let text = '';
    child.stderr.on('data', (chunk) => (text += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`host run ${query.pipeline} exited with ${code}: ${text.slice(-2000)}`))));
  });
  const summary = JSON.parse(await readFile(summaryFile, 'utf8'));
  const cpu = JSON.parse(await readFile(cpuFile, 'utf8'));
  if (summary.status !== 'completed' || summary.nodes[0].out !== events) throw new Error(`host run ${query.pipeline}: ${summary.status}, ${summary.nodes[0].out} events: ${stderr.slice(-2000)}`);
  return { wallMs: summary.wallMs, cpuMs: (cpu.userUs + cpu.systemUs) / 1000, written: summary.totals.written };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/**
 * Returns rows `{ id, label, events, runs, written, perCore: {median, min, max}, perSecond: {median}, flinkPerCore }`.
 * Full mode: `runs` runs of each query's own event count, the queries interleaved run by run.
 */
export async function runNexmark({ quick, runs, workDir, log }) {
  const dir = join(workDir, 'nexmark');
  await mkdir(dir, { recursive: true });
  const queries = NEXMARK_QUERIES.map((q) => ({ ...q, events: quick ? 2_000 : q.events }));
  const startupCpuMs = new Map();
  // Twice each: the first run may compile the plugins into the cache, which the measured runs never pay.
  if (!quick) for (const q of queries) startupCpuMs.set(q.id, Math.min((await hostRun(q, 1, dir)).cpuMs, (await hostRun(q, 1, dir)).cpuMs));
  const samples = new Map(queries.map((q) => [q.id, []]));
  for (let r = 0; r < (quick ? 1 : runs); r++) {
    for (const q of queries) samples.get(q.id).push(await hostRun(q, q.events, dir));
  }
  return queries.map((q) => {
    const runsOf = samples.get(q.id);
    const perCore = runsOf.map((s) => q.events / (Math.max(1, s.cpuMs - (startupCpuMs.get(q.id) ?? 0)) / 1000));
    const row = {
      id: q.id,
      label: q.label,
      events: q.events,
      runs: runsOf.length,
      written: runsOf[0].written,
      startupIncluded: quick,
      perCore: { median: median(perCore), min: Math.min(...perCore), max: Math.max(...perCore) },
      perSecond: { median: median(runsOf.map((s) => q.events / (s.wallMs / 1000))) },
      flinkPerCore: q.flinkPerCore,
    };
    log(`nexmark ${q.id.padEnd(6)}: ${Math.round(row.perCore.median).toLocaleString('en')} events/s per core`);
    return row;
  });
}

const thousands = (n) => `${(n / 1000).toLocaleString('en', { maximumFractionDigits: 1, minimumFractionDigits: 1 })} K`;

/** The RESULTS.md section. */
export function renderNexmark(rows) {
  const out = ['## Nexmark', ''];
  out.push(
    'The Nexmark queries of `bench/nexmark/` through `host run` (the CLI in dist/): the built-in `nexmark` source (Beam\'s generator: 1 person, 3 auctions, 46 bids per 50 events; event time advancing 10 M events per second, as in Flink\'s published run) -> the query plugin(s) -> the null sink, default limits (cpu mode fuel), one process. ' +
      'Events/s per core: events over the CPU time of the process (every thread) less that of the same pipeline on one event (start-up)' +
      (rows[0]?.startupIncluded ? ' (quick mode: start-up included)' : '') +
      '; median [min – max] of the runs. Flink: the published "Throughput/Cores" of Flink 1.13 (github.com/nexmark/nexmark, README, "Nexmark Benchmark Result": 8 single-slot task managers, 100 M events, RocksDB, exactly-once checkpoints), on other hardware: the ratio says where Weir stands, not a race on one machine.',
  );
  out.push('');
  out.push('| query | events | output records | events/s per core [min – max] | events/s (wall) | Flink 1.13 events/s per core | Weir / Flink |');
  out.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    out.push(`| ${r.label} | ${r.events.toLocaleString('en')} | ${r.written.toLocaleString('en')} | ${thousands(r.perCore.median)} [${thousands(r.perCore.min)} – ${thousands(r.perCore.max)}] | ${thousands(r.perSecond.median)} | ${thousands(r.flinkPerCore)} | ${(r.perCore.median / r.flinkPerCore).toFixed(2)} |`);
  }
  out.push('');
  out.push(
    'q5 is two windowed nodes: a sliding window (10 s, every 2 s, as Flink\'s q5) counts each auction\'s bids, then a tumbling window of the slide\'s length keeps the auctions with the most bids of each sliding window (ties kept). ' +
      'q7 is two tumbling 10 s windows: each auction\'s highest bids, then the highest overall. A windowed node calls its plugin once per record and window (q5: five windows per bid).',
  );
  return out;
}

// `node bench/nexmark.js [--quick]`: only this benchmark, its section on stdout.
if (process.argv[1] && import.meta.filename === (await import('node:path')).resolve(process.argv[1])) {
  const quick = process.argv.includes('--quick');
  const rows = await runNexmark({ quick, runs: 3, workDir: join(import.meta.dirname, '.work'), log: (l) => process.stderr.write(l + '\n') });
  process.stdout.write(renderNexmark(rows).join('\n') + '\n');
}
