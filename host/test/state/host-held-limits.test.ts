/**
 * What a plugin can make the host hold outside its linear memory: keyed state
 * (bytes and keys, staged writes included) and metric names. Each cap is
 * checked on the store itself (counting what the host holds) and through a
 * real plugin, where the breach keeps its code and poisons the instance.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import type { PluginModule } from '../../src/engine/engine.js';
import { createHostContext } from '../../src/linker/host-context.js';
import type { PluginMetrics } from '../../src/linker/host-context.js';
import { MemoryKeyedState, StagedKeyedState } from '../../src/state/keyed-state.js';
import type { KeyedState } from '../../src/state/keyed-state.js';
import type { InThreadProcessorInstance } from '../../src/contract/plugin.js';
import { DEFAULT_LIMITS, instanceLimits, stateLimits } from '../../src/contract/limits.js';
import { textRecord } from '../../src/records/record.js';
import { WeirError } from '../../src/errors/errors.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { pipelinesClosedAfterEach } from '../fixtures/test-pipeline.js';
import { compilePipeline } from '../../src/config/compile.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';

const MiB = 1 << 20;
const key = (s: string) => new TextEncoder().encode(s);

function thrown(fn: () => unknown): WeirError {
  try {
    fn();
  } catch (error) {
    return error as WeirError;
  }
  throw new Error('expected a throw');
}

describe('keyed state caps', () => {
  it('stops one call staging 1,200 x 1 MiB at maxStateBytes, before the host holds the bytes', () => {
    const store = new MemoryKeyedState({ maxBytes: 64 * MiB, maxKeys: 1_000_000 }, 'counter');
    const staged = new StagedKeyedState(store);
    const value = new Uint8Array(MiB);
    let written = 0;
    const error = thrown(() => {
      for (; written < 1200; written++) staged.set(key(`k${written}`), value);
    });
    expect(error.code).toBe('WEIR_LIMIT_STATE');
    expect(error.details).toMatchObject({ node: 'counter', limit: 'state', maxBytes: 64 * MiB });
    expect(error.message).toContain('node "counter"');
    expect(error.message).toContain('limits.maxStateBytes');
    // Refused at the write that crosses the cap: at most 64 values were ever staged.
    expect(written).toBeLessThan(64);
    staged.rollback();
    expect(store.bytes).toBe(0);
    // The rollback gave the room back.
    staged.set(key('again'), value);
    staged.commit();
    expect(store.bytes).toBe(MiB + 5);
  });

  it('caps keys, counting staged new keys and not overwrites or deletes', () => {
    const store = new MemoryKeyedState({ maxBytes: MiB, maxKeys: 3 }, 'n');
    const staged = new StagedKeyedState(store);
    for (const k of ['a', 'b', 'c']) staged.set(key(k), key('1'));
    staged.set(key('a'), key('2'));
    expect(thrown(() => staged.set(key('d'), key('1'))).code).toBe('WEIR_LIMIT_STATE');
    staged.delete(key('c'));
    staged.set(key('d'), key('1'));
    staged.commit();
    expect(store.size).toBe(3);
    expect(new TextDecoder().decode(store.get(key('a')))).toBe('2');
    expect(store.get(key('c'))).toBeUndefined();
  });

  it('shares one budget between the staged views of a node (parallel instances)', () => {
    const store = new MemoryKeyedState({ maxBytes: 100, maxKeys: 100 });
    const one = new StagedKeyedState(store);
    const two = new StagedKeyedState(store);
    one.set(key('a'), new Uint8Array(59));
    expect(thrown(() => two.set(key('b'), new Uint8Array(59))).code).toBe('WEIR_LIMIT_STATE');
    one.commit();
    expect(thrown(() => two.set(key('b'), new Uint8Array(59))).code).toBe('WEIR_LIMIT_STATE');
    // Shrinking a committed entry frees room once it commits, not before (another view may shrink it too).
    two.set(key('a'), new Uint8Array(9));
    expect(thrown(() => two.set(key('b'), new Uint8Array(49))).code).toBe('WEIR_LIMIT_STATE');
    two.commit();
    const three = new StagedKeyedState(store);
    three.set(key('b'), new Uint8Array(49));
    three.commit();
    expect(store.bytes).toBe(1 + 9 + 1 + 49);
  });

  it('does not count a staged delete as room before it commits: two views deleting one key cannot both use its bytes', () => {
    const store = new MemoryKeyedState({ maxBytes: 1000, maxKeys: 100 }, 'n');
    const seed = new StagedKeyedState(store);
    seed.set(key('x'), new Uint8Array(499));
    seed.commit();
    const one = new StagedKeyedState(store);
    const two = new StagedKeyedState(store);
    one.delete(key('x'));
    two.delete(key('x'));
    one.set(key('a'), new Uint8Array(399));
    expect(thrown(() => two.set(key('b'), new Uint8Array(399))).code).toBe('WEIR_LIMIT_STATE');
    one.commit();
    two.commit();
    expect(store.bytes).toBeLessThanOrEqual(1000);
    // Round after round the same pattern stays within the cap.
    for (let round = 0; round < 5; round++) {
      const first = new StagedKeyedState(store);
      const second = new StagedKeyedState(store);
      first.delete(key('a'));
      second.delete(key('a'));
      first.set(key('a'), new Uint8Array(399));
      try {
        second.set(key(`b${round}`), new Uint8Array(399));
      } catch {
        // refused: the cap holds
      }
      first.commit();
      second.commit();
      expect(store.bytes).toBeLessThanOrEqual(1000);
    }
  });

  it('caps direct writes too (nodes without staging: sources, sinks, services)', () => {
    const store = new MemoryKeyedState({ maxBytes: 10, maxKeys: 10 });
    store.set(key('a'), new Uint8Array(9));
    expect(thrown(() => store.set(key('b'), new Uint8Array(1))).code).toBe('WEIR_LIMIT_STATE');
    store.set(key('a'), new Uint8Array(5));
    store.set(key('b'), new Uint8Array(3));
    expect(store.bytes).toBe(10);
  });

  it('has defaults in the limits every node gets, set per node or in defaults.limits', () => {
    expect(stateLimits(DEFAULT_LIMITS)).toEqual({ maxBytes: 64 * MiB, maxKeys: 1_000_000 });
    expect(DEFAULT_LIMITS.maxMetricNames).toBe(1000);
    const result = compilePipeline({
      name: 'caps',
      defaults: { limits: { maxStateKeys: 10 } },
      nodes: [
        { id: 'in', kind: 'source', connector: 'generator', config: { count: 1 } },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['in'], limits: { maxStateBytes: 1024, maxMetricNames: 5 } },
      ],
    }, { file: '/p.json', connectors: builtinConnectors() });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.config.nodes.find((n) => n.id === 'out')!.limits).toMatchObject({ maxStateBytes: 1024, maxStateKeys: 10, maxMetricNames: 5 });
    expect(result.config.nodes.find((n) => n.id === 'in')!.limits).toMatchObject({ maxStateBytes: 64 * MiB, maxStateKeys: 10, maxMetricNames: 1000 });
  });
});

describe('metric name caps', () => {
  const context = (metrics: PluginMetrics, maxMetricNames: number) => createHostContext({
    node: 'm', plugin: 'p.wasm', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(), metrics, maxMetricNames,
    callService: () => new Uint8Array(),
  });

  it('refuses a new distinct name past maxMetricNames, and keeps updating known ones', () => {
    const metrics: PluginMetrics = { counters: new Map(), gauges: new Map() };
    const host = context(metrics, 100);
    let error: WeirError | undefined;
    for (let i = 0; i < 100_000 && !error; i++) {
      try {
        if (i % 2) host.counterAdd(`c${i}`, 1n);
        else host.gaugeSet(`g${i}`, i);
      } catch (e) {
        error = e as WeirError;
      }
    }
    expect(error?.code).toBe('WEIR_LIMIT_METRICS');
    expect(error?.message).toContain('limits.maxMetricNames (100)');
    expect(metrics.counters.size + metrics.gauges.size).toBe(100);
    host.counterAdd('c1', 5n);
    expect(metrics.counters.get('c1')).toBe(6n);
  });

  it('refuses an over-long name', () => {
    const metrics: PluginMetrics = { counters: new Map(), gauges: new Map() };
    const host = context(metrics, 100);
    expect(thrown(() => host.counterAdd('x'.repeat(1 << 20), 1n)).code).toBe('WEIR_LIMIT_METRICS');
    expect(metrics.counters.size).toBe(0);
  });
});

describe('through a plugin', () => {
  let probe: PluginModule;
  let fixtures: string;
  beforeAll(async () => {
    fixtures = await buildFixtures('probe-as');
    probe = await new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) }).load(join(fixtures, 'probe-as.wasm'));
  });

  async function probeWith(state: KeyedState, maxMetricNames?: number) {
    const host = createHostContext({
      node: 'n1', plugin: 'probe-as.wasm', config: {}, logger: pino({ level: 'silent' }), state,
      metrics: { counters: new Map(), gauges: new Map() }, maxMetricNames,
      callService: () => new Uint8Array(),
    });
    const plugin = (await instantiate(probe, 'processor', host, instanceLimits(DEFAULT_LIMITS))) as InThreadProcessorInstance;
    plugin.configure('{}');
    return plugin;
  }

  it('fails the call with WEIR_LIMIT_STATE, keeps none of its writes, and poisons the instance', async () => {
    const store = new MemoryKeyedState({ maxBytes: MiB, maxKeys: 2 }, 'n1');
    const staged = new StagedKeyedState(store);
    const plugin = await probeWith(staged);
    const error = thrown(() => plugin.process(['a', 'b', 'c'].map((k) => textRecord('v', { key: k }))));
    expect(error.code).toBe('WEIR_LIMIT_STATE');
    expect(error.details).toMatchObject({ node: 'n1', plugin: 'probe-as.wasm', function: 'weir_process' });
    staged.rollback();
    expect(store.size).toBe(0);
    expect(thrown(() => plugin.process([textRecord('v', { key: 'a' })])).message).toContain('poisoned');
  });

  it('fails the call with WEIR_LIMIT_METRICS when the plugin uses more metric names than allowed', async () => {
    const plugin = await probeWith(new MemoryKeyedState(), 1);
    expect(thrown(() => plugin.process([textRecord('v', { key: 'a' })])).code).toBe('WEIR_LIMIT_METRICS');
  });

  const startPipeline = pipelinesClosedAfterEach();

  it('applies a node\'s limits.maxStateKeys in a pipeline run: the records past the cap are dead-lettered with WEIR_LIMIT_STATE', async () => {
    const { run, dir } = await startPipeline({
      pipeline: {
        name: 'state-caps',
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 1 } },
          { id: 'count', kind: 'processor', plugin: 'probe-as.wasm', inputs: ['in'], batch: { maxRecords: 1 }, limits: { maxStateKeys: 2 }, onError: { policy: 'dead-letter', deadLetter: 'dlq' } },
          { id: 'out', kind: 'sink', connector: 'file', inputs: ['count'], config: { path: 'out.jsonl' } },
          { id: 'dlq', kind: 'sink', connector: 'file', config: { path: 'dlq.jsonl' } },
        ],
      },
      files: { 'in.jsonl': ['a', 'b', 'c', 'd', 'a'].map((key) => JSON.stringify({ key, value: 'v' })).join('\n') },
      plugins: fixtures,
    });
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    const out = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { value: string });
    expect(out.map((r) => r.value)).toEqual(['v#1', 'v#1', 'v#2']);
    const dead = (await readFile(join(dir, 'dlq.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { key: string; headers: Record<string, string> });
    expect(dead.map((r) => [r.key, r.headers['weir-error-code']])).toEqual([['c', 'WEIR_LIMIT_STATE'], ['d', 'WEIR_LIMIT_STATE']]);
    // The summary counts the breaches by limit, as it does memory, CPU and output.
    expect(summary.nodes.find((n) => n.id === 'count')!.resources!.limitBreaches).toEqual({ memory: 0, cpu: 0, output: 0, state: 2, metrics: 0 });
  });

  it('counts a node\'s WEIR_LIMIT_METRICS breaches in the run summary', async () => {
    const { run } = await startPipeline({
      pipeline: {
        name: 'metric-caps',
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 1 } },
          // probe-as reports two metric names per record: every call breaches a cap of one.
          { id: 'count', kind: 'processor', plugin: 'probe-as.wasm', inputs: ['in'], batch: { maxRecords: 1 }, limits: { maxMetricNames: 1 }, onError: { policy: 'skip' } },
          { id: 'out', kind: 'sink', connector: 'null', inputs: ['count'] },
        ],
      },
      files: { 'in.jsonl': ['a', 'b', 'c'].map((key) => JSON.stringify({ key, value: 'v' })).join('\n') },
      plugins: fixtures,
    });
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    const count = summary.nodes.find((n) => n.id === 'count')!;
    expect(count).toMatchObject({ in: 3, out: 0, skipped: 3 });
    expect(count.resources!.limitBreaches).toEqual({ memory: 0, cpu: 0, output: 0, state: 0, metrics: 3 });
  });
});
