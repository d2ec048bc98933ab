// `npm run kill-loop [-- options]`: the full-size checkpoint acceptance loops of
// issue 16 (the suite runs them scaled down: host/test/checkpoint/). Each loop runs
// `host run` (dist/) on the workload pipeline (scripts/checkpoint-workload.js: file
// -> keyed count -> file, and -> tumbling event-time window -> file), kills it at
// random points (when a checkpoint has completed and the output has grown past a random
// share of its final size), starts it again after each kill, and compares the end
// result with an uninterrupted run:
//
//   exactly    kill -9 N times, delivery exactly-once: outputs byte-identical (acceptance 1)
//   atleast    kill -9 N times, delivery at-least-once: nothing missing, repeats exact and per
//              restart no more than the lines written after the last completed checkpoint (2)
//   sigterm    SIGTERM N times, stdin source piped again each time: identical, every stop exit 0 (3)
//   plugin     kill -9 N times, a JS plugin source with positions (seq-source-js): every record
//              once, byte-identical, and no run opens before a position acked earlier (5)
//
// Options: --records 1000000  --kills 20  --interval 300 (checkpoint intervalMs)
//          --loops exactly,atleast,plugin (or all; sigterm is opt-in)  --delivery exactly-once|at-least-once
//          (shorthand: runs only that delivery's file loop)  --seed N (kill points)  --keep (keep the folders)
//          --dry (no checkpoint block: every restart starts over and replaces the output; checks the
//          harness itself, not recovery)
// Prints a table; exits 1 when a loop fails. Needs dist/ (npm run build:host) and the
// built plugins (count-by-key-as.wasm and click-sessions-as.wasm in plugins/).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  OUTPUTS, ackProblems, checkpointCompleted, checkpointDb, committedSinkBytes, duplicatesPerKill, killLoop, killPoints, pipelineDir, repeatBounds, root, seededRandom,
  startHost, workloadPipeline, writeInput, writePipeline,
} from './checkpoint-workload.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    kills: { type: 'string', default: '20' },
    interval: { type: 'string', default: '300' },
    loops: { type: 'string' },
    delivery: { type: 'string' },
    seed: { type: 'string' },
    keep: { type: 'boolean', default: false },
    dry: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(readFileSync(import.meta.filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n') + '\n');
  process.exit(0);
}
const records = Number(values.records);
const kills = Number(values.kills);
const intervalMs = Number(values.interval);
const seed = Number(values.seed ?? Date.now() % 1_000_000_007);
const byDelivery = { 'exactly-once': ['exactly'], 'at-least-once': ['atleast'] };
if (values.delivery !== undefined && !(values.delivery in byDelivery)) fail(`--delivery must be exactly-once or at-least-once, not ${values.delivery}`);
const loops = values.delivery !== undefined ? byDelivery[values.delivery]
  : values.loops === undefined ? ['exactly', 'atleast', 'plugin']
  : values.loops === 'all' ? ['exactly', 'atleast', 'sigterm', 'plugin'] : values.loops.split(',');
for (const loop of loops) if (!['exactly', 'atleast', 'sigterm', 'plugin'].includes(loop)) fail(`unknown loop "${loop}" (exactly, atleast, sigterm, plugin)`);
for (const [flag, n] of [['--records', records], ['--kills', kills], ['--interval', intervalMs]]) if (!Number.isInteger(n) || n < 0) fail(`${flag} must be a whole number`);

function fail(message) {
  process.stderr.write(`checkpoint-kill-loop: ${message}\n`);
  process.exit(3);
}
const log = (line) => process.stderr.write(line + '\n');
const folders = [];
const cacheDir = mkdtempSync(join(tmpdir(), 'weir-cache-'));
folders.push(cacheDir);

/** Runs a pipeline to completion (no checkpoints); its outputs. */
async function uninterrupted(options, outputs) {
  const dir = pipelineDir('weir-kill-loop-baseline-');
  folders.push(dir);
  const run = startHost(writePipeline(dir, workloadPipeline({ ...options, name: 'baseline' })), { cacheDir });
  const exit = await run.exited;
  if (exit.code !== 0) throw new Error(`the uninterrupted run failed (exit ${exit.code ?? exit.signal}):\n${run.output()}`);
  return Object.fromEntries(outputs.map((file) => [file, readFileSync(join(dir, file))]));
}

function firstDifference(actual, expected) {
  if (actual.equals(expected)) return undefined;
  const a = actual.toString('utf8').split('\n');
  const e = expected.toString('utf8').split('\n');
  let i = 0;
  while (i < Math.max(a.length, e.length) && a[i] === e[i]) i++;
  return `line ${i + 1}: written ${JSON.stringify((a[i] ?? '(end)').slice(0, 120))}, expected ${JSON.stringify((e[i] ?? '(end)').slice(0, 120))}`;
}

/** One loop: runs it and returns its row for the table. */
async function runLoop(loop, input, plugin) {
  const name = `kill-loop-${loop}`;
  const dir = pipelineDir(`weir-kill-loop-${loop}-`);
  folders.push(dir);
  const windowed = loop !== 'plugin';
  const outputs = windowed ? OUTPUTS : OUTPUTS.slice(0, 1);
  const source = loop === 'plugin' ? { kind: 'plugin', plugin, config: { count: records } } : loop === 'sigterm' ? { kind: 'stdin' } : { kind: 'file', path: input };
  const delivery = loop === 'atleast' ? 'at-least-once' : 'exactly-once';
  log(`${loop}: the uninterrupted run`);
  const expected = await uninterrupted({ source: loop === 'sigterm' ? { kind: 'file', path: input } : source, windowed }, outputs);
  const pipelineFile = writePipeline(dir, workloadPipeline({ name, source, windowed, ...(values.dry ? {} : { checkpoint: { intervalMs, dir: '.weir', delivery } }) }));
  const db = checkpointDb(join(dir, '.weir'), name);
  const counts = join(dir, 'out/counts.jsonl');
  log(`${loop}: ${kills} ${loop === 'sigterm' ? 'SIGTERMs' : 'kills'} (${dir})`);
  const started = Date.now();
  const runs = await killLoop({
    pipelineFile, watch: counts, finalBytes: expected['out/counts.jsonl'].length,
    points: killPoints(seededRandom(seed + loops.indexOf(loop)), kills),
    signal: loop === 'sigterm' ? 'SIGTERM' : 'SIGKILL',
    ready: loop === 'sigterm' || values.dry ? () => true : () => checkpointCompleted(db),
    beforeKill: loop === 'atleast' ? () => committedSinkBytes(db, 'counts') : undefined,
    runOptions: { cacheDir, ...(loop === 'sigterm' ? { stdinFile: input } : {}), ...(loop === 'plugin' ? { logLevel: 'info' } : {}) },
  });
  const seconds = (Date.now() - started) / 1000;
  const killed = runs.filter((r) => r.killed);
  const last = runs.at(-1);
  const problems = [];
  if (last.exit.code !== 0) problems.push(`run ${runs.length} exited ${last.exit.code ?? last.exit.signal}: ${last.output.trim().split('\n').slice(-5).join(' | ')}`);
  else if (killed.length < kills) problems.push(`only ${killed.length} of ${kills} kills happened before the input ended: each waits for a completed checkpoint (did none complete?) and for the output to grow (too few --records?)`);
  if (loop === 'sigterm') for (const r of killed) if (r.exit.code !== 0) problems.push(`a SIGTERM stop exited ${r.exit.code ?? r.exit.signal}, not 0`);
  let repeated = 0;
  let bound = '-';
  if (last.exit.code !== 0) {
    // Nothing to compare.
  } else if (loop === 'atleast') {
    const bytes = readFileSync(counts);
    const result = duplicatesPerKill(bytes.toString('utf8'), killed.map((r) => r.endBytes), records);
    if (result.missing.length > 0) problems.push(`missing records, seq ${result.missing.join(', ')}...`);
    problems.push(...result.problems);
    repeated = result.perKill.reduce((a, b) => a + b, 0);
    const bounds = repeatBounds(bytes, killed);
    bounds.forEach(({ bound: b, how }, k) => {
      if (result.perKill[k] > b) problems.push(`restart ${k + 1} repeated ${result.perKill[k]} records, more than the ${b} ${how}`);
    });
    bound = `${Math.max(0, ...result.perKill)} <= ${Math.max(0, ...bounds.map((b) => b.bound))}${bounds.some((b) => b.how.startsWith('token unreadable')) ? ' (token unreadable)' : ''}`;
    const windows = new Set(readFileSync(join(dir, 'out/windows.jsonl'), 'utf8').split('\n'));
    const expectedWindows = new Set(expected['out/windows.jsonl'].toString('utf8').split('\n'));
    if (windows.size !== expectedWindows.size || [...expectedWindows].some((w) => !windows.has(w))) problems.push('the distinct window lines differ from the uninterrupted run');
  } else {
    if (loop === 'plugin' && !values.dry) problems.push(...ackProblems(runs));
    for (const file of outputs) {
      const difference = firstDifference(readFileSync(join(dir, file)), expected[file]);
      if (difference !== undefined) problems.push(`${file} differs from the uninterrupted run at ${difference}`);
    }
  }
  return { loop, delivery, kills: killed.length, runs: runs.length, seconds, repeated, bound, problems };
}

const row = (cells) => `| ${cells.join(' | ')} |`;
const rows = [];
try {
  const inputDir = pipelineDir('weir-kill-loop-input-');
  folders.push(inputDir);
  const input = join(inputDir, 'input.jsonl');
  log(`writing ${records} records to ${input}`);
  await writeInput(input, records);
  let plugin;
  if (loops.includes('plugin')) {
    const { buildPlugin } = await import('../dist/build/plugin-build.js');
    log('building the seq-source-js fixture');
    plugin = (await buildPlugin(join(root, 'host/test/fixtures/plugins/seq-source-js'), inputDir)).outFile;
  }
  for (const loop of loops) rows.push(await runLoop(loop, input, plugin));
} finally {
  if (!values.keep) for (const folder of folders) rmSync(folder, { recursive: true, force: true });
}

const lines = [
  `checkpoint kill loops${values.dry ? ' (--dry: no checkpoints, each restart starts over)' : ''}: ${records} records, checkpoint every ${intervalMs} ms, seed ${seed} (--seed ${seed} repeats the kill points)`,
  '',
  row(['loop', 'delivery', 'kills', 'runs', 'seconds', 'repeats (max per restart <= bound)', 'result']),
  row(['---', '---', '---', '---', '---', '---', '---']),
  ...rows.map((r) => row([r.loop, r.delivery, String(r.kills), String(r.runs), r.seconds.toFixed(1), r.loop === 'atleast' ? `${r.repeated} (${r.bound})` : '-', r.problems.length === 0 ? 'pass' : '**FAIL**'])),
];
for (const r of rows) for (const p of r.problems) lines.push(`- ${r.loop}: ${p}`);
process.stdout.write(lines.join('\n') + '\n');
process.exit(rows.every((r) => r.problems.length === 0) ? 0 : 1);
