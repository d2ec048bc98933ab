import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { createHostContext } from '../../src/linker/host-context.js';
import type { PluginMetrics, ServiceCaller } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import type { InThreadProcessorInstance, ProcessorInstance, ServiceInstance, SinkInstance, SourceInstance } from '../../src/contract/plugin.js';
import { textRecord } from '../../src/records/record.js';
import { WeirError, hasCode } from '../../src/errors/errors.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';

let fixtures: string;
let sharedCacheDir: string;
const DEFAULTS = instanceLimits(DEFAULT_LIMITS);

const text = (b: Uint8Array) => new TextDecoder().decode(b);

beforeAll(async () => {
  fixtures = await buildFixtures('probe-js', 'echo-service-js', 'count-source-js', 'tally-sink-js');
  sharedCacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

function host(options: { config?: Record<string, unknown>; callService?: ServiceCaller; lines?: string[] } = {}) {
  const metrics: PluginMetrics = { counters: new Map(), gauges: new Map() };
  const state = new MemoryKeyedState();
  const sink = new Writable({ write: (chunk, _enc, done) => (options.lines?.push(String(chunk)), done()) });
  const ctx = createHostContext({
    node: 'n1',
    plugin: 'fixture.wasm',
    config: options.config ?? {},
    logger: pino({ level: 'debug' }, sink),
    state,
    metrics,
    callService: options.callService ?? (() => { throw new WeirError('WEIR_SERVICE_NOT_FOUND', 'none'); }),
  });
  return { ctx, metrics, state };
}

/** A fresh engine over a cache shared by this file's tests, so each fixture is transpiled once. */
async function engine(): Promise<Engine> {
  return new Engine({ cacheDir: sharedCacheDir });
}

describe('component plugins', () => {
  it('transpiles once, then loads from the cache keyed by content hash', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
    const first = await new Engine({ cacheDir }).load(join(fixtures, 'probe-js.wasm'));
    const second = await new Engine({ cacheDir }).load(join(fixtures, 'probe-js.wasm'));
    expect(first.binary).toBe('component');
    expect(first.cacheHit).toBe(false);
    expect(first.transpileMs).toBeGreaterThan(0);
    expect(second.cacheHit).toBe(true);
    expect(second.transpileMs).toBe(0);
    expect(second.sha256).toBe(first.sha256);
  });

  it('reports a sandboxed module it cannot keep on disk, with the path and cause, and runs anyway', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
    const warnings: Array<{ path: string; cause: string; message: string }> = [];
    const module = await new Engine({ cacheDir, warn: (details, message) => warnings.push({ ...details, message }) }).load(join(fixtures, 'probe-js.wasm'));
    // A file where the folder of sandboxed modules would go: every write there fails.
    const blocked = join(cacheDir, 'components', module.sha256, 'sandboxed');
    await writeFile(blocked, 'in the way');
    const instance = (await instantiate(module, 'processor', host().ctx, DEFAULTS)) as InThreadProcessorInstance;
    instance.configure('{}');
    expect(instance.process([textRecord('a', { key: 'k' })]).map((r) => text(r.value))).toEqual(['a#1']);
    instance.close();
    expect(warnings.length).toBeGreaterThan(0);
    for (const warning of warnings) {
      expect(warning.path.startsWith(`${blocked}/`)).toBe(true);
      expect(warning.cause).toMatch(/EEXIST|ENOTDIR/);
    }
  });

  it('reports a worker thread\'s cache write failures through the engine\'s warn (the run\'s logger), not as process warnings', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
    const warnings: Array<{ path: string; cause: string; message: string }> = [];
    const module = await new Engine({ cacheDir, warn: (details, message) => warnings.push({ ...details, message }) }).load(join(fixtures, 'probe-js.wasm'));
    // The worker's own engine compiles the core modules; their sandboxed copies cannot be kept.
    const blocked = join(cacheDir, 'components', module.sha256, 'sandboxed');
    await writeFile(blocked, 'in the way');
    const instance = (await instantiate(module, 'processor', host().ctx, { ...DEFAULTS, cpuMode: 'worker' })) as ProcessorInstance;
    try {
      await instance.configure('{}');
      expect((await instance.process([textRecord('a', { key: 'k' })])).map((r) => text(r.value))).toEqual(['a#1']);
    } finally {
      instance.close();
    }
    expect(warnings.length).toBeGreaterThan(0);
    for (const warning of warnings) {
      expect(warning.path.startsWith(`${blocked}/`)).toBe(true);
      expect(warning.cause).toMatch(/EEXIST|ENOTDIR/);
    }
  });

  it('creates its cache entry again when it was evicted before an instance under new limits reads it', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
    const module = await new Engine({ cacheDir }).load(join(fixtures, 'probe-js.wasm'));
    const first = (await instantiate(module, 'processor', host().ctx, DEFAULTS)) as InThreadProcessorInstance;
    first.close();
    // Another run sharing the cache evicts the entry (its bound demands it).
    const entry = join(cacheDir, 'components', module.sha256);
    await rm(entry, { recursive: true });
    // New limits: the core modules are not in memory for them, so they are read from the entry again.
    const limits = { ...DEFAULTS, memoryPages: DEFAULTS.memoryPages - 16 };
    const instance = (await instantiate(module, 'processor', host().ctx, limits)) as InThreadProcessorInstance;
    instance.configure('{}');
    expect(instance.process([textRecord('a', { key: 'k' })]).map((r) => text(r.value))).toEqual(['a#1']);
    instance.close();
    expect(existsSync(join(entry, 'entry.json')), 'the entry is back').toBe(true);
  });

  it('runs a processor with every host import: config, state, metrics, log, clock', async () => {
    const lines: string[] = [];
    const { ctx, metrics } = host({ config: { suffix: '/' }, lines });
    const module = await (await engine()).load(join(fixtures, 'probe-js.wasm'));
    expect(module.check('processor')).toEqual([]);
    const instance = (await instantiate(module, 'processor', ctx, DEFAULTS)) as InThreadProcessorInstance;
    instance.configure(JSON.stringify({ suffix: '/' }));
    const out = instance.process([textRecord('a', { key: 'x', headers: [['h', 'v']], eventTime: 9n }), textRecord('b', { key: 'x' }), textRecord('c', { key: 'y' })]);
    expect(out.map((r) => text(r.value))).toEqual(['a/1', 'b/2', 'c/1']);
    expect(text(out[0]!.key!)).toBe('x');
    expect(out[0]!.headers.map((h) => [h.name, text(h.value)])).toEqual([['h', 'v']]);
    expect(out[0]!.eventTime).toBe(9n);
    expect(out[1]!.eventTime).toBeUndefined();
    expect(metrics.counters.get('probed')).toBe(3n);
    expect(metrics.gauges.get('last-now-positive')).toBe(1);
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; node: string; plugin: string });
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'probe configured', node: 'n1', plugin: 'fixture.wasm' }));
  });

  it('turns error results into WEIR_PLUGIN_ERROR with their kind, and keeps the instance usable', async () => {
    const { ctx } = host();
    const instance = (await instantiate(await (await engine()).load(join(fixtures, 'probe-js.wasm')), 'processor', ctx, DEFAULTS)) as InThreadProcessorInstance;
    instance.configure('{}');
    expect(() => instance.process([textRecord('bad one')])).toThrow(expect.objectContaining({ code: 'WEIR_PLUGIN_ERROR', details: expect.objectContaining({ kind: 'invalid-input' }) }));
    expect(() => instance.process([textRecord('flaky')])).toThrow(expect.objectContaining({ details: expect.objectContaining({ kind: 'transient' }) }));
    expect(text(instance.process([textRecord('ok')])[0]!.value)).toBe('ok#1');
  });

  it('turns a trap into WEIR_PLUGIN_TRAP and poisons the instance', async () => {
    const { ctx } = host();
    const instance = (await instantiate(await (await engine()).load(join(fixtures, 'probe-js.wasm')), 'processor', ctx, DEFAULTS)) as InThreadProcessorInstance;
    instance.configure('{}');
    expect(() => instance.process([textRecord('trap')])).toThrow(expect.objectContaining({ code: 'WEIR_PLUGIN_TRAP' }));
    expect(() => instance.process([textRecord('ok')])).toThrow(/poisoned/);
  });

  it('calls services through call-service and maps service errors', async () => {
    const eng = await engine();
    const service = (await instantiate(await eng.load(join(fixtures, 'echo-service-js.wasm')), 'service', host().ctx, DEFAULTS)) as ServiceInstance;
    service.configure('{}');
    const { ctx } = host({
      callService: (name, method, payload) => {
        if (name !== 'echo') throw new WeirError('WEIR_SERVICE_NOT_FOUND', `no service ${name}`);
        return service.call(method, payload);
      },
    });
    const instance = (await instantiate(await eng.load(join(fixtures, 'probe-js.wasm')), 'processor', ctx, DEFAULTS)) as InThreadProcessorInstance;
    instance.configure('{}');
    expect(text(instance.process([textRecord('call:echo')])[0]!.value)).toBe('CALL:ECHO');
    // A failing call arrives in the guest as a thrown error variant; the probe does not catch it, so
    // it becomes the process call's own error result, keeping the kind the host gave it.
    expect(() => instance.process([textRecord('call:missing')])).toThrow(
      expect.objectContaining({ code: 'WEIR_PLUGIN_ERROR', message: expect.stringContaining('no service missing'), details: expect.objectContaining({ kind: 'invalid-input' }) }),
    );
  });

  it('runs source and sink plugins', async () => {
    const eng = await engine();
    const source = (await instantiate(await eng.load(join(fixtures, 'count-source-js.wasm')), 'source', host().ctx, DEFAULTS)) as SourceInstance;
    source.open(JSON.stringify({ count: 5 }), undefined);
    const first = source.poll(3);
    const second = source.poll(3);
    expect(first.records.map((r) => text(r.value))).toEqual(['n0', 'n1', 'n2']);
    expect(first.done).toBe(false);
    expect(second.records.map((r) => text(r.value))).toEqual(['n3', 'n4']);
    expect(second.done).toBe(true);
    expect([...second.position!]).toEqual([5]);

    const { ctx, metrics, state } = host();
    const sink = (await instantiate(await eng.load(join(fixtures, 'tally-sink-js.wasm')), 'sink', ctx, DEFAULTS)) as SinkInstance;
    sink.open('{}');
    sink.write([...first.records, ...second.records]);
    sink.flush();
    expect(metrics.counters.get('written')).toBe(5n);
    expect(text(state.get(new TextEncoder().encode('last'))!)).toBe('n4');
  });

  it('names the missing exports when a plugin does not fit its node kind', async () => {
    const module = await (await engine()).load(join(fixtures, 'echo-service-js.wasm'));
    expect(module.check('service')).toEqual([]);
    const problems = module.check('processor');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('missing export "process"');
  });

  it('rejects files that are not WebAssembly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-bad-'));
    await writeFile(join(dir, 'text.wasm'), 'hello, not wasm');
    const truncated = (await readFile(join(fixtures, 'probe-js.wasm'))).subarray(0, 4);
    await writeFile(join(dir, 'short.wasm'), truncated);
    const eng = await engine();
    await expect(eng.load(join(dir, 'text.wasm'))).rejects.toSatisfy((e: Error) => hasCode(e, 'WEIR_PLUGIN_INVALID_BINARY'));
    await expect(eng.load(join(dir, 'short.wasm'))).rejects.toSatisfy((e: Error) => hasCode(e, 'WEIR_PLUGIN_INVALID_BINARY'));
    await expect(eng.load(join(dir, 'missing.wasm'))).rejects.toSatisfy((e: Error) => hasCode(e, 'WEIR_PLUGIN_NOT_FOUND'));
  });
});
