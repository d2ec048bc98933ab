import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import type { PluginModule } from '../../src/engine/engine.js';
import { createHostContext } from '../../src/linker/host-context.js';
import type { PluginMetrics, ServiceCaller } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import type { InThreadProcessorInstance } from '../../src/contract/plugin.js';
import { textRecord } from '../../src/records/record.js';
import { WeirError } from '../../src/errors/errors.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';

let probe: PluginModule;
const DEFAULTS = instanceLimits(DEFAULT_LIMITS);

const text = (b: Uint8Array) => new TextDecoder().decode(b);

beforeAll(async () => {
  const dir = await buildFixtures('probe-as');
  probe = await new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) }).load(join(dir, 'probe-as.wasm'));
});

async function instance(options: { config?: Record<string, unknown>; callService?: ServiceCaller; lines?: string[] } = {}) {
  const metrics: PluginMetrics = { counters: new Map(), gauges: new Map() };
  const state = new MemoryKeyedState();
  const sink = new Writable({ write: (chunk, _enc, done) => (options.lines?.push(String(chunk)), done()) });
  const config = options.config ?? {};
  const ctx = createHostContext({
    node: 'n1',
    plugin: 'probe-as.wasm',
    config,
    logger: pino({ level: 'debug' }, sink),
    state,
    metrics,
    callService: options.callService ?? ((name) => { throw new WeirError('WEIR_SERVICE_NOT_FOUND', `no service ${name}`); }),
  });
  const plugin = (await instantiate(probe, 'processor', ctx, DEFAULTS)) as InThreadProcessorInstance;
  plugin.configure(JSON.stringify(config));
  return { plugin, metrics, state };
}

describe('core-module (AssemblyScript) plugins', () => {
  it('is a core module that fits processors only', () => {
    expect(probe.binary).toBe('module');
    expect(probe.check('processor')).toEqual([]);
    expect(probe.check('sink')[0]).toContain('core modules can fill processor nodes only');
  });

  it('round-trips records through the packed ABI and reaches every host import', async () => {
    const lines: string[] = [];
    const { plugin, metrics } = await instance({ config: { tag: 't1' }, lines });
    const out = plugin.process([
      textRecord('a', { key: 'x', headers: [['h', 'v'], ['h', 'w']], eventTime: -5n }),
      textRecord('b ✓', { key: 'x' }),
      textRecord('c'),
    ]);
    expect(out.map((r) => text(r.value))).toEqual(['a#1', 'b ✓#2', 'c#1']);
    expect(text(out[0]!.key!)).toBe('x');
    expect(out[2]!.key).toBeUndefined();
    expect(out[0]!.eventTime).toBe(-5n);
    expect(out[1]!.eventTime).toBeUndefined();
    expect(out[0]!.headers.map((h) => [h.name, text(h.value)])).toEqual([['h', 'v'], ['h', 'w'], ['probe', 't1']]);
    expect(metrics.counters.get('probed')).toBe(3n);
    expect(metrics.gauges.get('clock-positive')).toBe(1);
    expect(lines.map((l) => JSON.parse(l))).toContainEqual(expect.objectContaining({ msg: 'probe-as configured', node: 'n1', plugin: 'probe-as.wasm' }));
  });

  it('handles empty batches and batches larger than earlier ones', async () => {
    const { plugin } = await instance();
    expect(plugin.process([])).toEqual([]);
    const big = Array.from({ length: 2000 }, (_, i) => textRecord(`v${i}`.padEnd(300, '.'), { key: `k${i % 7}` }));
    expect(plugin.process(big)).toHaveLength(2000);
    expect(plugin.process([textRecord('small', { key: 'z' })]).map((r) => text(r.value))).toEqual(['small#1']);
  });

  it('reports error statuses as WEIR_PLUGIN_ERROR with their kind and stays usable', async () => {
    const { plugin } = await instance();
    expect(() => plugin.process([textRecord('bad input')])).toThrow(expect.objectContaining({ code: 'WEIR_PLUGIN_ERROR', message: expect.stringContaining('cannot handle bad input'), details: expect.objectContaining({ kind: 'invalid-input' }) }));
    expect(() => plugin.process([textRecord('flaky')])).toThrow(expect.objectContaining({ details: expect.objectContaining({ kind: 'transient' }) }));
    expect(plugin.process([textRecord('fine')])).toHaveLength(1);
  });

  it.each(['trap', 'abort'])('turns %s into WEIR_PLUGIN_TRAP and poisons the instance', async (value) => {
    const { plugin } = await instance();
    expect(() => plugin.process([textRecord(value)])).toThrow(expect.objectContaining({ code: 'WEIR_PLUGIN_TRAP', details: expect.objectContaining({ function: 'weir_process', node: 'n1' }) }));
    expect(() => plugin.process([textRecord('fine')])).toThrow(/poisoned/);
  });

  it('calls services and receives their errors', async () => {
    const { plugin } = await instance({
      callService: (name, method, payload) => {
        if (name !== 'echo') throw new WeirError('WEIR_SERVICE_NOT_FOUND', `no service ${name}`);
        return new TextEncoder().encode(`${method}:${text(payload).toUpperCase()}`);
      },
    });
    expect(plugin.process([textRecord('call:echo'), textRecord('call:nope')]).map((r) => text(r.value))).toEqual(['upper:CALL:ECHO', 'error:no service nope']);
  });
});

describe("the engine's compiled modules", () => {
  it('keeps at most keepCompiled, least recently used out, and compiles an evicted one again when needed', async () => {
    const dir = await buildFixtures('probe-as');
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')), keepCompiled: 2 });
    const module = await engine.load(join(dir, 'probe-as.wasm'));
    const host = () => createHostContext({
      node: 'n1', plugin: 'probe-as.wasm', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
      metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
    });
    // Each memory cap is another sandboxed variant of the module.
    for (const memoryMb of [16, 32, 64, 16]) {
      const plugin = (await instantiate(module, 'processor', host(), instanceLimits({ ...DEFAULT_LIMITS, memoryMb }))) as InThreadProcessorInstance;
      plugin.configure('{}');
      const output = await plugin.process([textRecord('hello')]);
      expect(output.map((r) => text(r.value).split('#')[0])).toEqual(['hello']);
      plugin.close();
      expect(engine.compiledModules).toBeLessThanOrEqual(2);
    }
    expect(engine.compiledModules).toBe(2);
  });
});
