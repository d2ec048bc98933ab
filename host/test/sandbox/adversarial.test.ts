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
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import type { NodeStats } from '../../src/topology/run-summary.js';
import { WeirError, hasCode } from '../../src/errors/errors.js';
import type { ErrorCode } from '../../src/errors/errors.js';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { CPU_MODES } from '../../src/sandbox/cpu-mode.js';
import type { CpuMode } from '../../src/contract/limits.js';
import type { AggregatorInstance, PluginInstance, ProcessorInstance, ServiceInstance, SinkInstance, SourceInstance } from '../../src/contract/plugin.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { InvalidPipeline, pipelinesClosedAfterEach } from '../fixtures/test-pipeline.js';

const LANGS = ['js', 'as'] as const;
const RECORDS = 60;
const BAD = new Set([9, 30, 51]);
/** Small limits, so that the bombs go off fast. */
const LIMITS = { memoryMb: 32, fuel: 200_000_000, maxOutputBytes: 1 << 20 };
/**
 * The wall-time budget a loop must exhaust in cpu mode "worker", short so that
 * it does so fast: a healthy call here (a batch of 8 small records, a
 * configure) takes milliseconds, so a second is far out of its reach even
 * beside CPU hogs. (Fuel needs no such care: 200M units run out in tens of
 * milliseconds, and fuel counts instructions, so load cannot change it. One
 * budget for every case: the instrumented module is compiled once per budget.)
 */
const LOOP_TIMEOUT_MS = 1_000;

let fixtures: string;
let cacheDir: string;
/** The engine of every pipeline here: each plugin compiled once for the file (as once per `host run`), not once per case. */
let pipelineEngine: Engine;

beforeAll(async () => {
  fixtures = await buildFixtures(
    'misbehave-js', 'misbehave-as', 'unknown-import-js', 'unknown-import-as', 'wasi-fs-js', 'wasi-fs-as',
    'misbehave-source-js', 'misbehave-sink-js', 'misbehave-service-js', 'misbehave-aggregator-js',
  );
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
  pipelineEngine = new Engine({ cacheDir });
}, 900_000); // ten componentize builds on a shared, loaded machine

const input = Array.from({ length: RECORDS }, (_, i) => JSON.stringify({ key: `k${i % 5}`, value: BAD.has(i) ? `x-${i}` : `ok-${i}` })).join('\n');

type Line = { value: string; headers?: Record<string, string> };
const lines = async (file: string): Promise<Line[]> => {
  const text = (await readFile(file, 'utf8')).trim();
  return text === '' ? [] : text.split('\n').map((l) => JSON.parse(l) as Line);
};

const startPipeline = pipelinesClosedAfterEach();

/** Runs `pipeline` over in.jsonl (the 60 records) to its end. */
async function runPipeline(pipeline: Record<string, unknown>) {
  const { run, dir } = await startPipeline({ pipeline, plugins: fixtures, files: { 'in.jsonl': input }, engine: pipelineEngine });
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
    const refused = await instantiate(module, 'processor', quietHost(), DEFAULTS).catch((error: unknown) => error);
    expect(hasCode(refused, 'WEIR_CAPABILITY_DENIED')).toBe(true);
  });
});

describe.each(LANGS)('cpu mode "worker" (%s)', (lang) => {
  // Budgets a loaded machine cannot overrun by accident: the loop must run out, the rest must not.
  const WORKER = { cpu: { mode: 'worker' }, timeoutMs: LOOP_TIMEOUT_MS, fuel: undefined };
  const GENEROUS = { ...WORKER, timeoutMs: 60_000 };

  it('a watchdog terminates an infinite loop after timeoutMs: WEIR_LIMIT_CPU, a fresh worker takes over', async () => {
    const r = await misbehave(lang, 'loop', WORKER);
    expect(r.summary.status).toBe('completed');
    expect(codesOf(r.dead)).toEqual(['WEIR_LIMIT_CPU']);
    expect(r.dead[0]!.headers!['weir-error-message']).toContain(`longer than ${LOOP_TIMEOUT_MS} ms`);
    expect(r.bad).toMatchObject({ deadLettered: 3 * 8, out: RECORDS - 3 * 8, restarts: 3 });
    expect(r.bad.resources).toMatchObject({ cpuMode: 'worker', instances: 4, limitBreaches: { cpu: 3 } });
    expect(r.good).toHaveLength(RECORDS);
    expect(r.accounted).toBe(true);
  });

  it('keeps the memory cap and the record-by-record isolation inside the worker', async () => {
    const bomb = await misbehave(lang, 'bomb', GENEROUS);
    expect(codesOf(bomb.dead)).toEqual(['WEIR_LIMIT_MEMORY']);
    expect(bomb.accounted).toBe(true);
    const error = await misbehave(lang, 'error', GENEROUS);
    expect(error.dead.map((d) => d.value)).toEqual(['x-9', 'x-30', 'x-51']);
    expect(error.passed).toHaveLength(RECORDS - 3);
  });
});

/**
 * Every node kind in every cpu mode: a plugin of each kind whose hot call
 * (process, accumulate, poll, write, call) loops, bombs or traps must come
 * back with the limit's code, never hang. Processors and aggregators are
 * also core modules written here as WAT; the other kinds are JS components
 * (fixtures misbehave-{source,sink,service,aggregator}-js).
 */
type Kind = 'processor' | 'aggregator' | 'source' | 'sink' | 'service';
type Misbehaviour = 'loop' | 'bomb' | 'trap';

const KIND_LIMITS = { memoryMb: 32, fuel: 200_000_000, maxOutputBytes: 1 << 20 };
/** A loop must run out of time (or fuel); a bomb or trap must not, however loaded the machine. */
const TIMEOUT_MS: Readonly<Record<Misbehaviour, number>> = { loop: LOOP_TIMEOUT_MS, bomb: 60_000, trap: 60_000 };
const EXPECTED: Readonly<Record<Misbehaviour, ErrorCode>> = { loop: 'WEIR_LIMIT_CPU', bomb: 'WEIR_LIMIT_MEMORY', trap: 'WEIR_PLUGIN_TRAP' };
const MODES_OF: Readonly<Record<Misbehaviour, readonly CpuMode[]>> = { loop: ['fuel', 'worker'], bomb: ['fuel', 'worker', 'none'], trap: ['fuel', 'worker', 'none'] };

const WAT_BODIES: Readonly<Record<Misbehaviour, string>> = {
  loop: '(loop $spin (br $spin))',
  bomb: '(block $full (loop $grow (br_if $full (i32.eq (memory.grow (i32.const 16)) (i32.const -1))) (br $grow))) unreachable',
  trap: 'unreachable',
};

/** A core module following the ABI (sdk/assemblyscript/ABI.md) whose `hot` export runs `body`; `start` runs at instantiation. */
function coreWat(kind: 'processor' | 'aggregator', hot: string, body: string, start = 'nop'): string {
  const exports = kind === 'processor' ? ['weir_process'] : ['weir_accumulate', 'weir_merge', 'weir_emit'];
  return `(module
    (memory (export "memory") 1)
    (func (export "weir_abi_version") (result i32) i32.const 1)
    (func (export "weir_alloc") (param i32) (result i32) i32.const 1024)
    (func (export "weir_output_ptr") (result i32) i32.const 0)
    (func (export "weir_output_len") (result i32) i32.const 0)
    (func (export "weir_configure") (param i32 i32) (result i32) i32.const 0)
    ${exports.map((name) => `(func (export "${name}") (param i32 i32) (result i32) ${name === hot ? body : ''} i32.const 0)`).join('\n    ')}
    (func $start ${start})
    (start $start))`;
}

async function writeWat(dir: string, name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, await parse(text));
  return file;
}

/** A plugin of `kind` and its hot call; `configure` passes the misbehaviour as the config's mode. */
interface KindCase {
  kind: Kind;
  plugin: (misbehaviour: Misbehaviour) => Promise<string>;
  hot: (instance: PluginInstance, misbehaviour: Misbehaviour) => unknown;
}

const record = () => ({ key: undefined, value: new TextEncoder().encode('x'), headers: [], eventTime: 1n });
const config = (misbehaviour: Misbehaviour) => JSON.stringify({ mode: misbehaviour });
let watDir: string;

const KIND_CASES: Record<string, KindCase> = {
  'processor (core module)': {
    kind: 'processor',
    plugin: (m) => writeWat(watDir, `processor-${m}.wasm`, coreWat('processor', 'weir_process', WAT_BODIES[m])),
    hot: async (i) => {
      const p = i as ProcessorInstance;
      await p.configure('{}');
      return p.process([record()]);
    },
  },
  'aggregator (core module)': {
    kind: 'aggregator',
    plugin: (m) => writeWat(watDir, `aggregator-${m}.wasm`, coreWat('aggregator', 'weir_accumulate', WAT_BODIES[m])),
    hot: (i) => {
      const a = i as AggregatorInstance;
      a.configure('{}');
      return a.accumulate(undefined, record());
    },
  },
  'aggregator (component)': {
    kind: 'aggregator',
    plugin: async () => join(fixtures, 'misbehave-aggregator-js.wasm'),
    hot: (i, m) => {
      const a = i as AggregatorInstance;
      a.configure(config(m));
      return a.accumulate(undefined, record());
    },
  },
  'source (component)': {
    kind: 'source',
    plugin: async () => join(fixtures, 'misbehave-source-js.wasm'),
    hot: (i, m) => {
      const s = i as SourceInstance;
      s.open(config(m), undefined);
      return s.poll(8);
    },
  },
  'sink (component)': {
    kind: 'sink',
    plugin: async () => join(fixtures, 'misbehave-sink-js.wasm'),
    hot: (i, m) => {
      const s = i as SinkInstance;
      s.open(config(m));
      return s.write([record()]);
    },
  },
  'service (component)': {
    kind: 'service',
    plugin: async () => join(fixtures, 'misbehave-service-js.wasm'),
    hot: (i, m) => {
      const s = i as ServiceInstance;
      s.configure(config(m));
      return s.call('m', new Uint8Array([1]));
    },
  },
};

const TABLE = Object.entries(KIND_CASES).flatMap(([name, kindCase]) =>
  (Object.keys(MODES_OF) as Misbehaviour[]).flatMap((misbehaviour) => MODES_OF[misbehaviour].map((mode) => ({ name, kindCase, misbehaviour, mode }))));

describe('every node kind in every cpu mode', () => {
  let engine: Engine;
  beforeAll(async () => {
    watDir = await mkdtemp(join(tmpdir(), 'weir-wat-'));
    engine = new Engine({ cacheDir });
  });

  it('no cpu mode leaves a node kind out', () => {
    for (const strategy of Object.values(CPU_MODES)) expect([...strategy.kinds].sort()).toEqual(['aggregator', 'processor', 'service', 'sink', 'source']);
  });

  it.each(TABLE)('$name, $misbehaviour in cpu mode "$mode"', async ({ kindCase, misbehaviour, mode }) => {
    const module = await engine.load(await kindCase.plugin(misbehaviour));
    const limits = instanceLimits({ ...DEFAULT_LIMITS, ...KIND_LIMITS, timeoutMs: TIMEOUT_MS[misbehaviour], cpu: { mode } });
    const instance = await instantiate(module, kindCase.kind, quietHost(), limits);
    try {
      const outcome = await Promise.resolve().then(() => kindCase.hot(instance, misbehaviour)).then(() => 'returned', (error: unknown) => error);
      expect(hasCode(outcome, EXPECTED[misbehaviour]), String(outcome)).toBe(true);
      expect((outcome as { details: Record<string, unknown> }).details).toMatchObject({ node: 'n' });
    } finally {
      instance.close();
    }
  });
});

describe('windowed nodes and start functions in cpu mode "worker"', () => {
  beforeAll(async () => {
    watDir ??= await mkdtemp(join(tmpdir(), 'weir-wat-'));
    await writeWat(fixtures, 'aggregator-loop.wasm', coreWat('aggregator', 'weir_accumulate', WAT_BODIES.loop));
  });

  const windowed = (limits: Record<string, unknown> | undefined, defaults?: Record<string, unknown>) => ({
    name: 'windowed-loop',
    ...(defaults ? { defaults: { limits: defaults } } : {}),
    nodes: [
      { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
      { id: 'agg', kind: 'processor', plugin: 'aggregator-loop.wasm', inputs: ['in'], window: { type: 'tumbling', sizeMs: 1000 }, ...(limits ? { limits } : {}) },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['agg'] },
    ],
  });

  it.each([
    ['set on the node', windowed({ cpu: { mode: 'worker' }, timeoutMs: LOOP_TIMEOUT_MS })],
    ['inherited from defaults', windowed(undefined, { cpu: { mode: 'worker' }, timeoutMs: LOOP_TIMEOUT_MS })],
  ])('a looping aggregator (mode %s) is stopped after timeoutMs: the run fails with WEIR_LIMIT_CPU', async (_how, pipeline) => {
    const { summary } = await runPipeline(pipeline);
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatchObject({ code: 'WEIR_PIPELINE_FAILED', details: expect.objectContaining({ node: 'agg', cause: 'WEIR_LIMIT_CPU', limit: 'timeout' }) });
    expect(summary.nodes.find((n) => n.id === 'agg')!.resources).toMatchObject({ cpuMode: 'worker', limitBreaches: { cpu: 1 } });
  });

  it('a start function that loops is stopped at instantiation: WEIR_LIMIT_CPU after timeoutMs (worker), out of fuel (fuel)', async () => {
    const file = await writeWat(watDir, 'start-loop.wasm', coreWat('processor', '', '', WAT_BODIES.loop));
    const module = await new Engine({ cacheDir }).load(file);
    const inWorker = await instantiate(module, 'processor', quietHost(), instanceLimits({ ...DEFAULT_LIMITS, timeoutMs: LOOP_TIMEOUT_MS, cpu: { mode: 'worker' } })).catch((error: unknown) => error);
    expect(hasCode(inWorker, 'WEIR_LIMIT_CPU'), String(inWorker)).toBe(true);
    expect((inWorker as { details: Record<string, unknown> }).details).toMatchObject({ node: 'n', function: 'instantiate', timeoutMs: LOOP_TIMEOUT_MS });
    // In-thread, the start function runs on the instrumented code with a full call's fuel: it traps rather than hangs.
    const inThread = await instantiate(module, 'processor', quietHost(), instanceLimits({ ...DEFAULT_LIMITS, fuel: 1_000_000, cpu: { mode: 'fuel' } })).catch((error: unknown) => error);
    expect(inThread).toBeInstanceOf(WeirError);
  });

  it('closing a worker instance during a runaway call ends the call at once: no watchdog fires after the close', async () => {
    const file = await writeWat(watDir, 'processor-loop-closed.wasm', coreWat('processor', 'weir_process', WAT_BODIES.loop));
    const module = await new Engine({ cacheDir }).load(file);
    // A budget far longer than the test's own timeout: only the close can end this call in time.
    const instance = (await instantiate(module, 'processor', quietHost(), instanceLimits({ ...DEFAULT_LIMITS, timeoutMs: 10 * 60_000, cpu: { mode: 'worker' } }))) as ProcessorInstance;
    const call = Promise.resolve(instance.process([record()])).catch((error: unknown) => error);
    instance.close();
    const outcome = await call;
    expect(hasCode(outcome, 'WEIR_INSTANCE_CLOSED'), String(outcome)).toBe(true);
  });

  it('a memory breach reported in time stays a memory breach when the main thread is late to read it', async () => {
    const file = await writeWat(watDir, 'processor-bomb-late.wasm', coreWat('processor', 'weir_process', WAT_BODIES.bomb));
    const module = await new Engine({ cacheDir }).load(file);
    const timeoutMs = 1_000;
    const instance = (await instantiate(module, 'processor', quietHost(), instanceLimits({ ...DEFAULT_LIMITS, memoryMb: 32, timeoutMs, cpu: { mode: 'worker' } }))) as ProcessorInstance;
    try {
      // A loaded machine: this thread is busy past the deadline while the worker reports its breach, so the
      // watchdog's timer and the worker's message are both due when the event loop turns; from the check
      // phase (setImmediate) the loop runs timers before it reads messages.
      const call = await new Promise<Promise<unknown>>((resolve) => setImmediate(() => {
        const outcome = Promise.resolve(instance.process([record()])).catch((error: unknown) => error);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, timeoutMs * 3);
        resolve(outcome);
      }));
      expect(hasCode(await call, 'WEIR_LIMIT_MEMORY'), String(await call)).toBe(true);
    } finally {
      instance.close();
    }
  });
});
