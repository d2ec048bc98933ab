// The workload of the checkpoint acceptance tests (host/test/checkpoint), the
// kill loop (scripts/checkpoint-kill-loop.js) and the checkpoint bench
// (bench/checkpoint.js): a deterministic input file, the pipelines that read
// it, and a way to run `host run` as a child process and kill it when a
// condition holds. Plain JavaScript so the scripts run it without a build; the
// types are in checkpoint-workload.d.ts.
//
// The input: `records` JSONL lines, line i =
//   {"key":"k<n>","value":"<reading>","headers":{"seq":"<i>"},"eventTime":<ms>}
// Keys come in rounds: every `keys` consecutive records hold each key once, in
// an order that changes every round. Event times grow by `stepMs` per record,
// plus a jitter of up to 3 steps (a little disorder, far inside the window's
// allowed lateness), from a start that is a multiple of the window size, so a
// window holds `roundsPerWindow` whole rounds. Every key has a record early in
// every window, so the window operator never forgets a key between windows and
// its output order (end, start, first-seen key) cannot depend on where batches
// happen to be cut: two uninterrupted runs write the same bytes.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, openSync, closeSync, fstatSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The repository root. */
export const root = join(import.meta.dirname, '..');
/** The `host` command. */
export const hostBin = join(root, 'host/bin/host.js');

/** A small, seeded pseudo-random generator (mulberry32): the same seed, the same numbers. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DEFAULTS = { keys: 101, stepMs: 10, roundsPerWindow: 5, seed: 16 };

/** The window every workload pipeline uses, for these input settings. */
export function workloadWindow(options = {}) {
  const { keys, stepMs, roundsPerWindow } = { ...DEFAULTS, ...options };
  return { type: 'tumbling', sizeMs: keys * stepMs * roundsPerWindow, allowedLatenessMs: 2 * keys * stepMs };
}

/** The key of record `i`: each round of `keys` records is a permutation of the keys (keys is prime by default). */
function keyIndex(i, keys) {
  const round = Math.floor(i / keys);
  const multiplier = (round % (keys - 1)) + 1;
  return (multiplier * (i % keys) + round * 7) % keys;
}

/** The text of records `from` to `to` (exclusive) of the workload input. */
export function inputLines(from, to, options = {}) {
  const { keys, stepMs, seed, shuffle = true } = { ...DEFAULTS, ...options };
  const size = workloadWindow(options).sizeMs;
  const start = Math.ceil(1_700_000_000_000 / size) * size;
  let text = '';
  for (let i = from; i < to; i++) {
    // One generator per record (seeded by seed and i): any slice of the input is the same bytes as in the whole.
    const random = seededRandom(seed * 1_000_003 + i);
    const reading = (random() * 100).toFixed(2);
    const eventTime = start + i * stepMs + Math.floor(random() * 3 * stepMs);
    const key = `k${shuffle ? keyIndex(i, keys) : i % keys}`;
    text += `{"key":"${key}","value":"${reading}","headers":{"seq":"${i}"},"eventTime":${eventTime}}\n`;
  }
  return text;
}

/** Writes the workload input (`records` lines) to `file`; resolves when it is on disk. */
export async function writeInput(file, records, options = {}) {
  const out = createWriteStream(file);
  const chunk = 10_000;
  for (let i = 0; i < records; i += chunk) {
    if (!out.write(inputLines(i, Math.min(records, i + chunk), options))) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise((resolve, reject) => out.end((error) => (error ? reject(error) : resolve())));
}

/**
 * The acceptance pipeline: a source -> `count` (count-by-key-js: keyed state, adds header `count`)
 * -> file sink `counts` (out/counts.jsonl), and `count` -> `avg` (sensor-average-js, a tumbling
 * event-time window) -> file sink `windows` (out/windows.jsonl).
 */
export function workloadPipeline(options) {
  const { name, source = { kind: 'file', path: 'input.jsonl' }, checkpoint, parallelism, windowed = true, batch } = options;
  const sourceNode =
    source.kind === 'file' ? { id: 'in', kind: 'source', connector: 'file', config: { path: source.path } }
    : source.kind === 'stdin' ? { id: 'in', kind: 'source', connector: 'stdin' }
    : { id: 'in', kind: 'source', plugin: source.plugin, config: source.config ?? {} };
  if (batch !== undefined) sourceNode.batch = batch;
  const lanes = parallelism === undefined ? {} : { parallelism, partition: 'key' };
  const nodes = [
    sourceNode,
    { id: options.countId ?? 'count', kind: 'processor', plugin: options.countPlugin ?? 'count-by-key-as.wasm', inputs: ['in'], ...lanes },
    { id: 'counts', kind: 'sink', connector: 'file', inputs: [options.countId ?? 'count'], config: { path: 'out/counts.jsonl' } },
  ];
  if (windowed) {
    nodes.push(
      { id: 'avg', kind: 'processor', plugin: options.windowPlugin ?? 'click-sessions-as.wasm', inputs: [options.countId ?? 'count'], window: options.window ?? workloadWindow(options.input), ...lanes },
      { id: 'windows', kind: 'sink', connector: 'file', inputs: ['avg'], config: { path: 'out/windows.jsonl' } },
    );
  }
  return { name, plugins: { dir: join(root, 'plugins') }, ...(checkpoint ? { checkpoint } : {}), nodes };
}

/** The output files of the workload pipeline, relative to its folder. */
export const OUTPUTS = ['out/counts.jsonl', 'out/windows.jsonl'];

/** A new folder for one pipeline, with its own transpile cache. */
export function pipelineDir(prefix = 'weir-ckpt-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `pipeline` to `<dir>/pipeline.json` and returns the path. */
export function writePipeline(dir, pipeline) {
  const file = join(dir, 'pipeline.json');
  writeFileSync(file, JSON.stringify(pipeline, null, 2));
  return file;
}

/** The checkpoint database of pipeline `name` with checkpoint dir `dir` (absolute). */
export function checkpointDb(dir, name) {
  return join(dir, name, 'checkpoint.db');
}

/** Size of a file in bytes, 0 when it does not exist. */
/**
 * The bytes of `file` up to the end of its last whole line: a run killed in the middle of a write
 * may leave a partial line, which the next run cuts off (at-least-once) or cuts back past (exactly-once).
 */
export function wholeLinesSize(file) {
  let fd;
  try {
    fd = openSync(file, 'r');
  } catch {
    return 0;
  }
  try {
    const chunk = Buffer.alloc(64 * 1024);
    for (let end = fstatSync(fd).size; end > 0; end -= chunk.length) {
      const start = Math.max(0, end - chunk.length);
      const n = readSync(fd, chunk, 0, end - start, start);
      const newline = chunk.subarray(0, n).lastIndexOf(0x0a);
      if (newline >= 0) return start + newline + 1;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

export function fileSize(file) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Starts `host run <pipeline> [...args]` (no watcher, warnings only) with its standard input
 * from `stdinFile` (or nothing). `exited` resolves with the exit code (null when killed by a
 * signal) once its output has all arrived.
 */
export function startHost(pipelineFile, options = {}) {
  const { args = [], stdinFile, cacheDir, logLevel = 'warn' } = options;
  const stdin = stdinFile === undefined ? 'ignore' : openSync(stdinFile, 'r');
  const child = spawn(process.execPath, [hostBin, 'run', pipelineFile, '--no-watch', '--log-level', logLevel, ...args], {
    env: { ...process.env, WEIR_CACHE_DIR: cacheDir ?? mkdtempSync(join(tmpdir(), 'weir-cache-')) },
    stdio: [stdin, 'pipe', 'pipe'],
  });
  if (typeof stdin === 'number') closeSync(stdin);
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk.toString()));
  child.stderr.on('data', (chunk) => (output += chunk.toString()));
  let done = false;
  const exited = new Promise((resolve) =>
    child.on('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  return { child, exited, output: () => output, done: () => done };
}

/**
 * Waits until `condition()` holds or the process has ended; true when the condition held.
 * No deadline of its own: the caller's timeout guards against a hang.
 */
export async function untilOrExit(run, condition, everyMs = 2) {
  for (;;) {
    if (run.done()) return false;
    if (await condition()) return true;
    await sleep(everyMs);
  }
}

/**
 * Whether a checkpoint has completed: the store holds a commit token for sink `node` (every
 * checkpoint stores one per file sink), so a restart now restores something rather than starting over.
 */
export async function checkpointCompleted(dbFile, node = 'counts') {
  return (await committedSinkBytes(dbFile, node)) !== undefined;
}

/** Whether a checkpoint database exists for this pipeline. */
export function hasCheckpoint(dir, name) {
  return existsSync(checkpointDb(dir, name));
}

/** Sorted random fractions in [low, high): where the kills of a loop happen, as shares of the final output. */
export function killPoints(random, kills, low = 0.1, high = 0.85) {
  return Array.from({ length: kills }, () => low + random() * (high - low)).sort((a, b) => a - b);
}

/**
 * The bytes of sink `node` that the last completed checkpoint in `dbFile` covers (the file sink's
 * commit token), or undefined when there is none or it cannot be read. Reads the store's `parts`
 * table directly (read-only, beside the running writer: WAL lets a reader in); the token is decoded
 * leniently (a JSON number or an object with a numeric length/bytes/offset/size field, or a 4- or
 * 8-byte little-endian integer) since its format belongs to the file sink.
 */
export async function committedSinkBytes(dbFile, node) {
  if (!existsSync(dbFile)) return undefined;
  let db;
  try {
    const { DatabaseSync } = await import('node:sqlite');
    db = new DatabaseSync(dbFile, { readOnly: true });
    const row = db.prepare("SELECT data FROM parts WHERE node = ? AND part = 'sink' ORDER BY lane LIMIT 1").get(node);
    return row === undefined ? undefined : decodeLength(row.data);
  } catch {
    return undefined;
  } finally {
    db?.close();
  }
}

function decodeLength(data) {
  const bytes = Buffer.from(data);
  try {
    const json = JSON.parse(bytes.toString('utf8'));
    if (typeof json === 'number') return json;
    for (const field of ['length', 'bytes', 'offset', 'size']) if (typeof json?.[field] === 'number') return json[field];
  } catch {
    // not JSON
  }
  if (bytes.length === 8) return Number(bytes.readBigUInt64LE(0));
  if (bytes.length === 4) return bytes.readUInt32LE(0);
  return undefined;
}

/**
 * Runs `host run` until it completes, killing it with `signal` at `points.length` points: run k
 * is killed once `watch` has grown past
 * `points[k] * finalBytes` bytes and past its size at the previous kill (so every run makes
 * progress) and `ready()` holds (e.g. a checkpoint has completed), then started again. A run that completes before its point ends the loop.
 * `beforeKill(k)` runs just before each kill. Resolves with what each run did (`read`: the records
 * its source read, from its summary, when it wrote one: a run killed with -9 does not).
 */
export async function killLoop(options) {
  const { pipelineFile, watch, finalBytes, points, signal = 'SIGKILL', ready = () => true, beforeKill, runOptions = {} } = options;
  const runs = [];
  let previous = 0;
  const summaries = mkdtempSync(join(tmpdir(), 'weir-summaries-'));
  for (let k = 0; ; k++) {
    const startBytes = wholeLinesSize(watch);
    const own = typeof runOptions === 'function' ? runOptions(k) : runOptions;
    const summary = join(summaries, `run-${k}.json`);
    const run = startHost(pipelineFile, { ...own, args: [...(own.args ?? []), '--summary-json', summary] });
    if (k < points.length) {
      const target = Math.max(Math.floor(points[k] * finalBytes), previous + 1);
      const held = await untilOrExit(run, async () => fileSize(watch) > target && (await ready()));
      if (held) {
        const info = beforeKill ? await beforeKill(k) : undefined;
        const killedAt = fileSize(watch);
        run.child.kill(signal);
        const exit = await run.exited;
        previous = Math.max(killedAt, fileSize(watch));
        runs.push({ killed: true, startBytes, killedAt, endBytes: wholeLinesSize(watch), exit, info, output: run.output(), read: readCount(summary) });
        continue;
      }
    }
    const exit = await run.exited;
    runs.push({ killed: false, startBytes, endBytes: wholeLinesSize(watch), exit, output: run.output(), read: readCount(summary) });
    return runs;
  }
}

/** `totals.read` of a run summary (--summary-json), or undefined when the run wrote none. */
export function readCount(summaryFile) {
  try {
    return JSON.parse(readFileSync(summaryFile, 'utf8')).totals.read;
  } catch {
    return undefined;
  }
}

/** The records of a JSONL output, each with its line number; throws naming the line when one is not JSON (a torn write). */
export function parseLines(text, file = 'output') {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line, i) => {
    try {
      return JSON.parse(line);
    } catch {
      throw new Error(`${file}:${i + 1} is not a JSON record (a torn or interleaved write?): ${line.slice(0, 200)}`);
    }
  });
}

/**
 * Checks an at-least-once counts output against the input of `records` records: every seq is there,
 * every repeat is the same line (replayed from restored state), and how many repeats each restart
 * made. `killedAt` are the output sizes after each killed run ended (LoopRun.endBytes), in bytes:
 * restart k appends after killedAt[k].
 */
export function duplicatesPerKill(text, killedAt, records) {
  const seen = new Map();
  const problems = [];
  const perKill = killedAt.map(() => 0);
  let offset = 0;
  for (const line of text.split('\n')) {
    if (line === '') {
      offset += 1;
      continue;
    }
    const record = JSON.parse(line);
    const seq = Number(record.headers?.seq);
    const previous = seen.get(seq);
    if (previous === undefined) seen.set(seq, line);
    else {
      if (previous !== line && problems.length < 5) problems.push(`seq ${seq} repeated differently:\n  ${previous}\n  ${line}`);
      // Which restart wrote it: the first kill point at or after which it sits.
      let k = killedAt.length - 1;
      while (k > 0 && offset < killedAt[k]) k--;
      if (offset >= killedAt[0]) perKill[k]++;
    }
    offset += Buffer.byteLength(line) + 1;
  }
  const missing = [];
  for (let i = 0; i < records && missing.length < 10; i++) if (!seen.has(i)) missing.push(i);
  return { perKill, missing, distinct: seen.size, problems };
}

/**
 * How many repeats each restart of an at-least-once loop may make (acceptance 2): the lines the
 * counts sink wrote after the last completed checkpoint before the kill, that is after the commit
 * token read from the store just before the kill (`run.info`; a checkpoint completing after that read
 * only makes the true bound smaller). When the token could not be read: the lines after the point
 * the killed run itself resumed from (a looser bound, never a wrong one).
 */
export function repeatBounds(counts, killed) {
  const text = counts.toString('utf8');
  let resumedFrom = 0;
  return killed.map((run, k) => {
    // endBytes, not killedAt: the run may write a little more between the size read and the kill.
    if (k > 0 && run.endBytes > run.startBytes) resumedFrom = firstOffsetOf(text, seqAt(counts, run.startBytes));
    const from = run.info ?? resumedFrom;
    const bound = counts.subarray(Math.min(from, run.endBytes), run.endBytes).toString('utf8').split('\n').length - 1;
    const how = run.info === undefined ? `token unreadable: lines since the run resumed at byte ${resumedFrom}` : `lines after the committed ${from} bytes`;
    return { bound, how };
  });
}

/** The seq header of the line starting at byte `offset`. */
function seqAt(bytes, offset) {
  const rest = bytes.subarray(offset).toString('utf8');
  return Number(JSON.parse(rest.slice(0, rest.indexOf('\n'))).headers.seq);
}

/** The byte offset of the first line holding seq `seq`. */
function firstOffsetOf(text, seq) {
  const at = text.indexOf(`"seq":"${seq}"`);
  return Buffer.byteLength(text.slice(0, text.lastIndexOf('\n', at) + 1));
}

/**
 * What the seq-source-js fixture logged (info) in one run's output: the position it opened at (0 for
 * the start) and each position it was acknowledged, in order.
 */
export function pluginSourceLog(output, node = 'in') {
  let opened;
  const acked = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry;
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if (entry.source !== 'plugin' || entry.node !== node || typeof entry.msg !== 'string') continue;
    const open = /^opened at (start|\d+)$/.exec(entry.msg);
    if (open) opened = open[1] === 'start' ? 0 : Number(open[1]);
    const ack = /^acked (\d+)$/.exec(entry.msg);
    if (ack) acked.push(Number(ack[1]));
  }
  return { opened, acked };
}

/** Problems with a plugin source's acks over a kill loop: a run after a crash opening before a position acknowledged earlier, acks going back, or none at all. */
export function ackProblems(runs, node = 'in') {
  const problems = [];
  let acked = 0;
  runs.forEach((run, k) => {
    const log = pluginSourceLog(run.output, node);
    if (k > 0 && (log.opened ?? -1) < acked) problems.push(`run ${k + 1} opened at ${log.opened}, but ${acked} was acknowledged before the crash: an ack ran ahead of a durable checkpoint`);
    if (log.acked.some((p, i) => i > 0 && p < log.acked[i - 1])) problems.push(`run ${k + 1}'s acks went back: ${log.acked.join(', ')}`);
    acked = Math.max(acked, ...log.acked);
  });
  if (acked === 0) problems.push('the source was never acknowledged');
  return problems;
}
