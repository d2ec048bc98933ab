/**
 * The adversarial suite: plugins that misbehave on purpose (fixtures under
 * fixtures/plugins/misbehave-*, unknown-import-*, wasi-fs-*), as components
 * (JS through componentize-qjs) and as AssemblyScript core modules.
 *
 * Each runtime case runs a pipeline where one branch carries the bad plugin
 * (dead-lettering what fails) and a parallel branch a healthy one, over the
 * same 60 records of which 3 set the misbehaviour off. It asserts the error
 * code, that the run completes (the host survives), that the healthy branch
 * receives every record, and that the bad node's accounting adds up.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { preparePipeline } from '../../src/cli/prepare-pipeline.js';
import { Engine } from '../../src/engine/engine.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import { PipelineRun } from '../../src/topology/pipeline-run.js';
import type { NodeStats } from '../../src/topology/run-summary.js';
import { hasCode } from '../../src/errors/errors.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/sandbox/limits.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';

const LANGS = ['js', 'as'] as const;
const RECORDS = 60;
const BAD = new Set([9, 30, 51]);
/** Small limits, so that the bombs go off fast. */
const LIMITS = { memoryMb: 32, fuel: 200_000_000, maxOutputBytes: 1 << 20 };

let fixtures: string;
let cacheDir: string;

beforeAll(async () => {
  fixtures = await buildFixtures('misbehave-js', 'misbehave-as', 'unknown-import-js', 'unknown-import-as', 'wasi-fs-js', 'wasi-fs-as');
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

const input = Array.from({ length: RECORDS }, (_, i) => JSON.stringify({ key: `k${i % 5}`, value: BAD.has(i) ? `x-${i}` : `ok-${i}` })).join('\n');

type Line = { value: string; headers?: Record<string, string> };
const lines = async (file: string): Promise<Line[]> => {
  const text = (await readFile(file, 'utf8')).trim();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as Line);
};

class InvalidPipeline extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

async function runPipeline(pipeline: Record<string, unknown>) {
  const dir = await mkdtemp(join(tmpdir(), 'weir-adversarial-'));
  await writeFile(join(dir, 'in.jsonl'), input);
  const file = join(dir, 'pipeline.json');
  await writeFile(file, JSON.stringify({ plugins: { dir: fixtures }, ...pipeline }));
  const connectors = builtinConnectors();
  const prepared = await preparePipeline(file, new Engine({ cacheDir }), connectors);
  if (!prepared.ok) throw new InvalidPipeline(prepared.problems.map((p) => `${p.pointer} ${p.message}`));
  const run = await PipelineRun.start(prepared.config, {
    modules: prepared.modules,
    connectors,
    logger: pino({ level: 'silent' }),
    stdin: Readable.from([]),
    stdout: new PassThrough(),
  });
  return { summary: await run.done, dir };
}

/** Runs `mode` in a bad branch beside a healthy one. */
async function misbehave(lang: string, mode: string, limits: Record<string, unknown> = {}) {
  const { summary, dir } = await runPipeline({
    name: `misbehave-${mode}`,
    nodes: [
      { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 8 } },
      // Batches of 8 at the plugin too (nodes coalesce queued batches up to batch.maxRecords).
      { id: 'bad', kind: 'processor', plugin: `misbehave-${lang}.wasm`, inputs: ['in'], config: { mode, trigger: 'x' }, batch: { maxRecords: 8 }, limits: { ...LIMITS, ...limits }, onError: { policy: 'dead-letter', deadLetter: 'dlq' } },
      { id: 'good', kind: 'processor', plugin: `misbehave-${lang}.wasm`, inputs: ['in'], config: { mode: 'none' }, limits: LIMITS },
      { id: 'badOut', kind: 'sink', connector: 'file', inputs: ['bad'], config: { path: 'bad-out.jsonl' } },
      { id: 'goodOut', kind: 'sink', connector: 'file', inputs: ['good'], config: { path: 'good-out.jsonl' } },
      { id: 'dlq', kind: 'sink', connector: 'file', config: { path: 'dlq.jsonl' } },
    ],
  });
  const node = (id: string): NodeStats => summary.nodes.find((n) => n.id === id)!;
  const bad = node('bad');
  return {
    summary,
    bad,
    good: await lines(join(dir, 'good-out.jsonl')),
    passed: await lines(join(dir, 'bad-out.jsonl')),
    dead: await lines(join(dir, 'dlq.jsonl')),
    /** in = out + filtered + skipped + dead-lettered, and the sinks received exactly that. */
    accounted: bad.in === bad.out + bad.filtered + bad.dropped + bad.skipped + bad.deadLettered && node('badOut').in === bad.out && node('dlq').in === bad.deadLettered,
  };
}

const DEFAULTS = instanceLimits(DEFAULT_LIMITS);

const quietHost = () =>
  createHostContext({
    node: 'n', plugin: 'p', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
    metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
  });

const codesOf = (dead: Line[]) => [...new Set(dead.map((r) => r.headers?.['weir-error-code']))];

describe.each(LANGS)('adversarial plugins (%s)', (lang) => {
  it('an infinite loop is stopped by its fuel budget: WEIR_LIMIT_CPU, the batch dead-lettered, the instance recreated', async () => {
    const r = await misbehave(lang, 'loop');
    expect(r.summary.status).toBe('completed');
    expect(codesOf(r.dead)).toEqual(['WEIR_LIMIT_CPU']);
    expect(r.good).toHaveLength(RECORDS);
    expect(r.accounted).toBe(true);
    // A limit breach fails its whole batch (8 records), one batch per bad record.
    expect(r.bad).toMatchObject({ deadLettered: 3 * 8, out: RECORDS - 3 * 8, restarts: 3 });
    expect(r.bad.resources).toMatchObject({ limitBreaches: { cpu: 3, memory: 0, output: 0 }, instances: 4 });
    expect(r.dead.every((d) => d.headers?.['weir-error-node'] === 'bad' && d.headers['weir-error-plugin'] === `misbehave-${lang}.wasm`)).toBe(true);
  });

  it('a memory bomb hits the memory cap: WEIR_LIMIT_MEMORY, the healthy branch complete', async () => {
    const r = await misbehave(lang, 'bomb');
    expect(r.summary.status).toBe('completed');
    expect(codesOf(r.dead)).toEqual(['WEIR_LIMIT_MEMORY']);
    expect(r.good.map((g) => g.value)).toEqual(input.split('\n').map((l) => (JSON.parse(l) as Line).value));
    expect(r.accounted).toBe(true);
    expect(r.bad.resources!.limitBreaches.memory).toBe(3);
    expect(r.bad.resources!.memoryPagesHighWater).toBeLessThanOrEqual(32 * 16);
    expect(r.bad.resources!.memoryPagesHighWater).toBeGreaterThan(32 * 16 - 64);
  });

  it('deep recursion overflows the stack: a trap, only the bad records dead-lettered', async () => {
    const r = await misbehave(lang, 'recurse');
    expect(r.summary.status).toBe('completed');
    expect(codesOf(r.dead)).toEqual(['WEIR_PLUGIN_TRAP']);
    expect(r.dead.map((d) => d.value)).toEqual(['x-9', 'x-30', 'x-51']);
    expect(r.dead[0]!.headers!['weir-error-message']).toMatch(/call stack/);
    expect(r.good).toHaveLength(RECORDS);
    expect(r.accounted).toBe(true);
  });

  it('a trap mid-batch costs only the bad record: the rest of its batch goes through', async () => {
    const r = await misbehave(lang, 'trap');
    expect(codesOf(r.dead)).toEqual(['WEIR_PLUGIN_TRAP']);
    expect(r.dead.map((d) => d.value)).toEqual(['x-9', 'x-30', 'x-51']);
    // The guest's own message, not only "unreachable" (sdk/js/src/guest-errors.js); the node is named.
    if (lang === 'js') expect(r.dead[0]!.headers!['weir-error-message']).toContain('uncaught Error: misbehave: trapped mid-batch');
    expect(r.dead[0]!.headers!['weir-error-message']).toContain('node "bad"');
    expect(r.passed).toHaveLength(RECORDS - 3);
    expect(r.bad.resources!.traps).toBeGreaterThanOrEqual(3);
    expect(r.accounted).toBe(true);
  });

  it('an error result for one record in a batch dead-letters that record alone', async () => {
    const r = await misbehave(lang, 'error');
    expect(codesOf(r.dead)).toEqual(['WEIR_PLUGIN_ERROR']);
    expect(r.dead.map((d) => d.value)).toEqual(['x-9', 'x-30', 'x-51']);
    expect(r.dead[0]!.headers!['weir-error-message']).toContain('cannot handle x-9');
    expect(r.bad).toMatchObject({ in: RECORDS, out: RECORDS - 3, deadLettered: 3, restarts: 0 });
    expect(r.accounted).toBe(true);
  });

  it('a huge output is refused: WEIR_LIMIT_OUTPUT', async () => {
    // 8 MiB records need more than the 32 MiB the other cases get (AssemblyScript keeps its output buffer).
    const r = await misbehave(lang, 'huge', { memoryMb: 128 });
    expect(codesOf(r.dead)).toEqual(['WEIR_LIMIT_OUTPUT']);
    expect(r.bad.resources!.limitBreaches.output).toBe(3);
    expect(r.good).toHaveLength(RECORDS);
    expect(r.accounted).toBe(true);
  });

  it('malformed return data is caught, the instance recreated', async () => {
    const r = await misbehave(lang, 'malformed');
    // A component's own glue rejects the value (a trap); a core module's output fails to decode.
    expect(codesOf(r.dead)).toEqual([lang === 'js' ? 'WEIR_PLUGIN_TRAP' : 'WEIR_PLUGIN_BAD_OUTPUT']);
    expect(r.dead.map((d) => d.value)).toEqual(['x-9', 'x-30', 'x-51']);
    expect(r.bad.restarts).toBeGreaterThanOrEqual(3);
    expect(r.accounted).toBe(true);
  });

  it('a trap in the setup call (configure) stops the start, naming the node and function', async () => {
    const failure = await runPipeline({
      name: 'trap-in-configure',
      nodes: [
        { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
        { id: 'bad', kind: 'processor', plugin: `misbehave-${lang}.wasm`, inputs: ['in'], config: { mode: 'configure' } },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['bad'] },
      ],
    }).catch((error: unknown) => error);
    expect(hasCode(failure, 'WEIR_PLUGIN_TRAP')).toBe(true);
    expect((failure as { details: Record<string, unknown> }).details).toMatchObject({ node: 'bad', function: lang === 'js' ? 'configure' : 'weir_configure' });
  });

  it('a plugin importing a host function that does not exist is refused at load, naming the import', async () => {
    const module = await new Engine({ cacheDir }).load(join(fixtures, `unknown-import-${lang}.wasm`));
    const problems = module.check('processor');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(lang === 'js' ? '"fixture:unknown-import/door"' : '"weir"."launch_missiles"');
    expect(problems[0]).toContain('does not offer');
  });

  it('a plugin touching the filesystem is refused at load with WEIR_CAPABILITY_DENIED, naming the import', async () => {
    const failure = await runPipeline({
      name: 'filesystem',
      nodes: [
        { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
        { id: 'fs', kind: 'processor', plugin: `wasi-fs-${lang}.wasm`, inputs: ['in'] },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['fs'] },
      ],
    }).catch((error: unknown) => error);
    // `host run` refuses it while validating (every problem with its pointer) ...
    expect(failure).toBeInstanceOf(InvalidPipeline);
    const reason = lang === 'js'
      ? 'imports "wasi:filesystem/preopens", "wasi:filesystem/types" (WASI file access; components reach granted directories through weir:plugin/files), a capability this host cannot grant: rebuild the plugin without it (JS plugins: leave "wasi" off in plugin.json so WASI is stubbed)'
      : 'imports "wasi_snapshot_preview1"."path_open", which needs the "filesystem" capability its node was not granted: grant a directory with "capabilities": {"filesystem": [{"dir": "data", "mode": "ro"}]} on the node ("rw" to write)';
    expect((failure as InvalidPipeline).problems).toContain(`/nodes/1/plugin wasi-fs-${lang}.wasm does not fit a processor node: ${reason}`);
    // ... and the engine refuses to instantiate it anyway, with a stable code.
    const module = await new Engine({ cacheDir }).load(join(fixtures, `wasi-fs-${lang}.wasm`));
    const refused = await module.instantiate('processor', quietHost(), DEFAULTS).catch((error: unknown) => error);
    expect(hasCode(refused, 'WEIR_CAPABILITY_DENIED')).toBe(true);
  });
});

describe.each(LANGS)('cpu mode "worker" (%s)', (lang) => {
  const WORKER = { cpu: { mode: 'worker' }, timeoutMs: 300, fuel: undefined };

  it('a watchdog terminates an infinite loop after timeoutMs: WEIR_LIMIT_CPU, a fresh worker takes over', async () => {
    const r = await misbehave(lang, 'loop', WORKER);
    expect(r.summary.status).toBe('completed');
    expect(codesOf(r.dead)).toEqual(['WEIR_LIMIT_CPU']);
    expect(r.dead[0]!.headers!['weir-error-message']).toContain('longer than 300 ms');
    expect(r.bad).toMatchObject({ deadLettered: 3 * 8, out: RECORDS - 3 * 8, restarts: 3 });
    expect(r.bad.resources).toMatchObject({ cpuMode: 'worker', instances: 4, limitBreaches: { cpu: 3 } });
    expect(r.good).toHaveLength(RECORDS);
    expect(r.accounted).toBe(true);
  });

  it('keeps the memory cap and the record-by-record isolation inside the worker', async () => {
    const bomb = await misbehave(lang, 'bomb', WORKER);
    expect(codesOf(bomb.dead)).toEqual(['WEIR_LIMIT_MEMORY']);
    expect(bomb.accounted).toBe(true);
    const error = await misbehave(lang, 'error', WORKER);
    expect(error.dead.map((d) => d.value)).toEqual(['x-9', 'x-30', 'x-51']);
    expect(error.passed).toHaveLength(RECORDS - 3);
  });
});
