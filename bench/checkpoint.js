// Checkpoint cost (issue 16, acceptance 6): what checkpoints take from a
// pipeline, on the workload of scripts/checkpoint-workload.js without the
// window: file -> keyed count (count-by-key-as) -> file, 100,000 keys.
//
//   node bench/checkpoint.js [--records 1000000] [--keys 100000] [--runs 3] [--quick] [--write]
//
// (needs dist/ with the checkpoint store: npm run build:host, and
// plugins/count-by-key-as.wasm). Measures:
// - throughput of `host run` with a checkpoint every 1 s (exactly-once) against
//   the same pipeline without the checkpoint block: runs interleaved (off, on,
//   off, on, ...) so load drifts hit both alike; records/s from the run summary
//   (wallMs); medians and their ratio (the target: >= 85%);
// - size of the checkpoint database (with its WAL) at its largest during the run;
// - checkpoint duration for 100k keys: the store's write() of every key (a first
//   checkpoint) and of 1% of them (an incremental one), timed directly on
//   SqliteCheckpointStore, median of 5, plus the checkpoint durations the host logs
//   (if it logs any with a duration field);
// - restore: the store's latest() of 100k keys, median of 5, and `host run` start to
//   "pipeline running" on a pipeline with a savepoint of every key (SIGTERM a fifth of
//   the way) against --fresh.
// Prints a markdown section; --write puts it into bench/RESULTS.md (replacing an
// earlier "## Checkpoint cost" section, else before "## Targets").
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeMachine } from './machine.js';
import { checkpointDb, fileSize, pipelineDir, root, startHost, untilOrExit, workloadPipeline, writeInput, writePipeline } from '../scripts/checkpoint-workload.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string' }, keys: { type: 'string' }, runs: { type: 'string' },
    quick: { type: 'boolean', default: false }, write: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const records = Number(values.records ?? (quick ? 200_000 : 1_000_000));
const keys = Number(values.keys ?? 100_000);
const runs = Number(values.runs ?? (quick ? 1 : 3));
const log = (line) => process.stderr.write(line + '\n');

/** Stops with a message that says what is missing and how to get it. */
function fail(message) {
  process.stderr.write(`bench/checkpoint.js: ${message}\n`);
  process.exit(1);
}

if (!existsSync(join(root, 'dist/cli/main.js'))) fail('dist/ is not built: run `npm run build:host` first');
if (!existsSync(join(root, 'plugins/count-by-key-as.wasm'))) fail('plugins/count-by-key-as.wasm is missing: run `npm run build:plugins`');
const storeModule = join(root, 'dist/checkpoint/sqlite-store.js');
if (!existsSync(storeModule)) fail(`${storeModule} is missing: this bench measures the checkpoint store of issue 16; build the branch that has it (npm run build:host)`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const mib = (bytes) => `${fmt(bytes / (1 << 20), 1)} MiB`;
const folders = [];
const cacheDir = mkdtempSync(join(tmpdir(), 'weir-cache-'));
folders.push(cacheDir);

const inputDir = pipelineDir('weir-bench-ckpt-');
folders.push(inputDir);
const input = join(inputDir, 'input.jsonl');
log(`writing ${fmt(records)} records over ${fmt(keys)} keys`);
await writeInput(input, records, { keys, shuffle: false });

const pipelineOf = (name, checkpoint) => workloadPipeline({ name, windowed: false, source: { kind: 'file', path: input }, ...(checkpoint ? { checkpoint: { intervalMs: 1000, dir: '.weir', delivery: 'exactly-once' } } : {}) });

/** One `host run` to completion: records/s from its summary, the largest checkpoint seen, and its log. */
async function timedRun(checkpoint) {
  const dir = pipelineDir('weir-bench-ckpt-run-');
  folders.push(dir);
  const name = checkpoint ? 'bench-on' : 'bench-off';
  const summary = join(dir, 'summary.json');
  const run = startHost(writePipeline(dir, pipelineOf(name, checkpoint)), { cacheDir, args: ['--summary-json', summary], logLevel: 'info' });
  const db = checkpointDb(join(dir, '.weir'), name);
  let largest = 0;
  await untilOrExit(run, () => {
    largest = Math.max(largest, fileSize(db) + fileSize(`${db}-wal`));
    return false;
  }, 50);
  const exit = await run.exited;
  if (exit.code !== 0) fail(`host run ${checkpoint ? 'with' : 'without'} checkpoints exited ${exit.code ?? exit.signal}:\n${run.output().slice(-3000)}`);
  const { wallMs, totals } = JSON.parse(readFileSync(summary, 'utf8'));
  if (totals.read !== records) fail(`host run read ${totals.read} records, not ${records}`);
  if (checkpoint && largest === 0) {
    fail(wallMs < 2000
      ? `no checkpoint database appeared at ${db} during a run of ${fmt(wallMs)} ms, shorter than two checkpoint intervals (1 s): use more --records`
      : `no checkpoint database appeared at ${db} during a ${fmt(wallMs)} ms run with a checkpoint every 1 s: are checkpoints wired into host run?`);
  }
  return { perSecond: records / (wallMs / 1000), wallMs, largest, log: run.output(), dir, name };
}

/** Checkpoint durations the host logged, if it logs a JSON line about a checkpoint with a duration in ms. */
function loggedDurations(text) {
  const ms = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{') || !/checkpoint/i.test(line)) continue;
    try {
      const entry = JSON.parse(line);
      const value = entry.durationMs ?? entry.ms ?? entry.tookMs ?? entry.elapsedMs;
      if (typeof value === 'number') ms.push(value);
    } catch {
      // not a log line
    }
  }
  return ms;
}

log(`throughput: ${runs} interleaved pairs (without, with checkpoints every 1 s)`);
const off = [];
const on = [];
for (let i = 0; i < runs; i++) {
  off.push(await timedRun(false));
  on.push(await timedRun(true));
  log(`  pair ${i + 1}: ${fmt(off.at(-1).perSecond)} vs ${fmt(on.at(-1).perSecond)} records/s`);
}
const ratio = median(on.map((r) => r.perSecond)) / median(off.map((r) => r.perSecond));
const logged = on.flatMap((r) => loggedDurations(r.log));

log(`checkpoint store: write and latest() of ${fmt(keys)} keys`);
const { SqliteCheckpointStore } = await import(storeModule);
const storeDir = mkdtempSync(join(tmpdir(), 'weir-bench-store-'));
folders.push(storeDir);
const key = (i) => `k${i}`; // keys as keyed state holds them: binary strings
const value = (n) => new TextEncoder().encode(String(n));
const graph = [{ id: 'in', kind: 'source', implementation: 'connector:file' }, { id: 'count', kind: 'processor', implementation: 'plugin' }, { id: 'counts', kind: 'sink', implementation: 'connector:file' }];
const write = (epoch, changes) => ({ epoch, takenAt: new Date().toISOString(), graph, parts: [{ node: 'in', lane: 0, part: 'source', data: new Uint8Array(64) }, { node: 'counts', lane: 0, part: 'sink', data: new Uint8Array(16) }], state: [{ node: 'count', changes }] });
const full = new Map(Array.from({ length: keys }, (_, i) => [key(i), value(i)]));
const some = new Map(Array.from({ length: Math.ceil(keys / 100) }, (_, i) => [key(i * 100), value(i + 1)]));
const fullMs = [];
const someMs = [];
const restoreMs = [];
let storeBytes = 0;
for (let i = 0; i < 5; i++) {
  const file = join(storeDir, `run${i}`, 'checkpoint.db');
  const store = await SqliteCheckpointStore.open(file);
  let t = performance.now();
  await store.write(write(1, full));
  fullMs.push(performance.now() - t);
  t = performance.now();
  await store.write(write(2, some));
  someMs.push(performance.now() - t);
  await store.close();
  storeBytes = fileSize(file) + fileSize(`${file}-wal`);
  const reopened = await SqliteCheckpointStore.open(file);
  t = performance.now();
  const latest = await reopened.latest();
  restoreMs.push(performance.now() - t);
  if (latest?.state.get('count')?.length !== keys) fail(`the store gave back ${latest?.state.get('count')?.length} keys, not ${keys}`);
  await reopened.close();
}

log('restore: host run start to "pipeline running", with a stored checkpoint and with --fresh');
// A savepoint holding every key: a run stopped with SIGTERM once a fifth of its output is written (the
// keys repeat every `keys` records, so by then each has a count unless keys > records / 5).
const restoreName = 'bench-restore';
const restoreDir = pipelineDir('weir-bench-ckpt-restore-');
folders.push(restoreDir);
{
  const run = startHost(writePipeline(restoreDir, pipelineOf(restoreName, true)), { cacheDir, logLevel: 'info' });
  const target = fileSize(join(off.at(-1).dir, 'out/counts.jsonl')) / 5;
  const reached = await untilOrExit(run, () => fileSize(join(restoreDir, 'out/counts.jsonl')) > target, 5);
  if (!reached) fail(`the run meant to leave a savepoint ended before a fifth of its output was written:\n${run.output().slice(-3000)}`);
  run.child.kill('SIGTERM');
  const exit = await run.exited;
  if (exit.code !== 0) fail(`SIGTERM: host run exited ${exit.code ?? exit.signal}, not 0:\n${run.output().slice(-3000)}`);
}
async function startToRunning(args) {
  const run = startHost(join(restoreDir, 'pipeline.json'), { cacheDir, args, logLevel: 'info' });
  const started = performance.now();
  const isRunning = () => run.output().includes('pipeline running');
  // A run whose source is already at its end may finish at once: the log line is what counts.
  await untilOrExit(run, isRunning, 1);
  const ms = performance.now() - started;
  run.child.kill('SIGTERM');
  const exit = await run.exited;
  if (!isRunning()) fail(`host run ${args.join(' ')} ended (exit ${exit.code ?? exit.signal}) without logging "pipeline running":\n${run.output().slice(-3000)}`);
  return ms;
}
const withCheckpoint = [];
const fresh = [];
const weir = join(restoreDir, '.weir');
if (!existsSync(checkpointDb(weir, restoreName))) fail(`SIGTERM left no checkpoint at ${checkpointDb(weir, restoreName)}: a stop should drain and take a final checkpoint`);
const savepointBytes = fileSize(checkpointDb(weir, restoreName)) + fileSize(`${checkpointDb(weir, restoreName)}-wal`);
{
  // The savepoint, put back before each start with it (--fresh deletes it, a stop stores another).
  const saved = join(inputDir, 'saved-weir');
  cpSync(weir, saved, { recursive: true });
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    rmSync(weir, { recursive: true, force: true });
    cpSync(saved, weir, { recursive: true });
    withCheckpoint.push(await startToRunning([]));
    fresh.push(await startToRunning(['--fresh']));
  }
}

const machine = describeMachine();
const section = [
  '## Checkpoint cost',
  '',
  `Measured on ${machine.date}. Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}. Run on its own (\`node bench/checkpoint.js${quick ? ' --quick' : ''}\`), not by \`npm run bench\`.`,
  '',
  `\`host run\` of file -> keyed count (count-by-key-as) -> file, ${fmt(records)} records over ${fmt(keys)} keys, with a checkpoint every 1 s (exactly-once) and without the checkpoint block, ${runs} run${runs === 1 ? '' : 's'} each, interleaved; records/s from the run summary.`,
  '',
  '| | records/s, median [min – max] | checkpoint db at its largest |',
  '| --- | --- | --- |',
  `| without checkpoints | ${fmt(median(off.map((r) => r.perSecond)))} [${fmt(Math.min(...off.map((r) => r.perSecond)))} – ${fmt(Math.max(...off.map((r) => r.perSecond)))}] | - |`,
  `| checkpoint every 1 s | ${fmt(median(on.map((r) => r.perSecond)))} [${fmt(Math.min(...on.map((r) => r.perSecond)))} – ${fmt(Math.max(...on.map((r) => r.perSecond)))}] | ${mib(median(on.map((r) => r.largest)))} |`,
  '',
  `With checkpoints: **${fmt(ratio * 100)}%** of the throughput without (target >= 85%: ${ratio >= 0.85 ? 'met' : '**not met**'}).`,
  '',
  `The checkpoint store (\`SqliteCheckpointStore\`, WAL, synchronous FULL, written in a worker thread), ${fmt(keys)} keys, median of 5:`,
  '',
  '| operation | ms, median [min – max] |',
  '| --- | --- |',
  `| write: every key (a first checkpoint) | ${fmt(median(fullMs), 1)} [${fmt(Math.min(...fullMs), 1)} – ${fmt(Math.max(...fullMs), 1)}] |`,
  `| write: 1% of the keys changed (incremental) | ${fmt(median(someMs), 1)} [${fmt(Math.min(...someMs), 1)} – ${fmt(Math.max(...someMs), 1)}] |`,
  `| latest(): read it all back (restore) | ${fmt(median(restoreMs), 1)} [${fmt(Math.min(...restoreMs), 1)} – ${fmt(Math.max(...restoreMs), 1)}] |`,
  '',
  `Size of that checkpoint on disk: ${mib(storeBytes)}.` + (logged.length > 0 ? ` Checkpoints the host logged during the runs: ${logged.length}, ${fmt(median(logged), 1)} ms median [${fmt(Math.min(...logged), 1)} – ${fmt(Math.max(...logged), 1)}].` : ''),
  '',
  `A savepoint (SIGTERM once a fifth of the input was read, ${keys <= records / 5 ? 'every key counted' : `about ${fmt(records / 5)} of the keys counted`}; ${mib(savepointBytes)} on disk): \`host run\` start to "pipeline running" took ${fmt(median(withCheckpoint))} ms restoring it, ${fmt(median(fresh))} ms with --fresh (median of ${withCheckpoint.length}); the difference, ${fmt(median(withCheckpoint) - median(fresh))} ms, is the restore.`,
];
const text = section.join('\n') + '\n';
process.stdout.write(text);
if (values.write) {
  const results = join(import.meta.dirname, 'RESULTS.md');
  let doc = readFileSync(results, 'utf8');
  const start = doc.indexOf('\n## Checkpoint cost\n');
  if (start >= 0) {
    const end = doc.indexOf('\n## ', start + 1);
    doc = doc.slice(0, start + 1) + text + (end >= 0 ? '\n' + doc.slice(end + 1) : '');
  } else {
    const targets = doc.indexOf('\n## Targets\n');
    doc = targets >= 0 ? doc.slice(0, targets + 1) + text + '\n' + doc.slice(targets + 1) : doc + '\n' + text;
  }
  writeFileSync(results, doc);
  log(`wrote the section into ${results}`);
}
for (const folder of folders) rmSync(folder, { recursive: true, force: true });
