/**
 * What a plugin says is bounded: log lines and error messages are cut to
 * MAX_MESSAGE_CHARS with a marker, log lines pass a per-node token bucket
 * (dropped lines are counted and reported), and worker-mode log forwarding is
 * bounded in the worker. Metrics are bounded too: in cpu mode "worker" a
 * plugin's names pass the node's caps in the call, as in-thread, and its
 * updates cross to the main thread summed per name.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { LogLimiter } from '../../src/linker/log-limiter.js';
import type { LogLimits } from '../../src/linker/log-limiter.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { ProcessorInstance } from '../../src/contract/plugin.js';
import type { StreamRecord } from '../../src/records/record.js';
import { boundedText, boundedUtf8, MAX_MESSAGE_CHARS } from '../../src/errors/bounded-text.js';
import { hasCode } from '../../src/errors/errors.js';
import type { WeirError } from '../../src/errors/errors.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { runValues } from '../fixtures/run-values.js';

const record = (value: string): StreamRecord => ({ key: undefined, value: new TextEncoder().encode(value), headers: [], eventTime: undefined });

/** A clock the test moves by hand. */
function manualClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

describe('bounded text', () => {
  it('cuts a long message and says how much was cut', () => {
    const cut = boundedText('a'.repeat(1 << 20));
    expect(cut.length).toBeLessThan(MAX_MESSAGE_CHARS + 64);
    expect(cut).toMatch(new RegExp(`… \\[${(1 << 20) - MAX_MESSAGE_CHARS} more characters cut\\]$`));
    expect(boundedText('short')).toBe('short');
  });

  it('never splits a surrogate pair', () => {
    const cut = boundedText(`${'a'.repeat(4)}😀😀`, 5);
    expect(cut.startsWith('aaaa…')).toBe(true);
  });

  it('decodes only the head of a huge UTF-8 buffer', () => {
    const bytes = new Uint8Array(64 << 20).fill(0x61);
    const text = boundedUtf8(bytes);
    expect(text.length).toBeLessThan(MAX_MESSAGE_CHARS + 64);
    expect(text).toMatch(/more bytes cut\]$/);
  });
});

describe('the log limiter', () => {
  const limits: LogLimits = { maxMessageChars: 16, linesPerSecond: 10, burst: 3 };

  it('passes a burst, drops what is over the rate and counts it, then reports the count with the next line', () => {
    const clock = manualClock();
    const limiter = new LogLimiter(limits, clock.now);
    const decisions = Array.from({ length: 10 }, () => limiter.admit('line'));
    expect(decisions.filter((d) => d.pass)).toHaveLength(3);
    expect(limiter.dropped).toBe(7);
    clock.advance(100);
    expect(limiter.admit('again')).toEqual({ pass: true, message: 'again', droppedBefore: 7 });
    expect(limiter.admit('more')).toEqual({ pass: false });
    expect(limiter.dropped).toBe(8);
  });

  it('cuts long lines', () => {
    const limiter = new LogLimiter(limits, manualClock().now);
    const admitted = limiter.admit('x'.repeat(100));
    expect(admitted.pass && admitted.message).toBe(`${'x'.repeat(16)}… [84 more characters cut]`);
  });
});

describe('a chatty plugin', () => {
  let fixtures: string;
  let cacheDir: string;

  beforeAll(async () => {
    fixtures = await buildFixtures('misbehave-js');
    cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
  });

  /** A processor whose log lines land in `lines`, limited by `limiter`. */
  async function chatty(config: Record<string, unknown>, limiter: LogLimiter, cpu: 'fuel' | 'worker' = 'fuel') {
    const lines: { msg: string; droppedLines?: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const host = createHostContext({
      node: 'chatty', plugin: 'misbehave-js.wasm', config: {}, logger, state: new MemoryKeyedState(),
      metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(), logLimiter: limiter,
    });
    const module = await new Engine({ cacheDir }).load(join(fixtures, 'misbehave-js.wasm'));
    const limits = instanceLimits({ ...DEFAULT_LIMITS, cpu: { ...DEFAULT_LIMITS.cpu, mode: cpu }, timeoutMs: 60_000 });
    const plugin = (await instantiate(module, 'processor', host, limits)) as ProcessorInstance;
    await plugin.configure(JSON.stringify({ mode: 'chatty', ...config }));
    return { plugin, lines };
  }

  it('cannot write a huge line or flood the log: lines are cut, the rate holds, drops are counted and reported', async () => {
    const clock = manualClock();
    const limiter = new LogLimiter({ maxMessageChars: MAX_MESSAGE_CHARS, linesPerSecond: 10, burst: 50 }, clock.now);
    const { plugin, lines } = await chatty({ lines: 2000, size: 10, first: 4 << 20 }, limiter);
    await plugin.process([record('go')]);
    expect(lines).toHaveLength(50);
    expect(lines[0]!.msg.length).toBeLessThan(MAX_MESSAGE_CHARS + 64);
    expect(lines[0]!.msg).toMatch(/more characters cut\]$/);
    expect(limiter.dropped).toBe(1950);
    clock.advance(1000);
    await plugin.process([record('go')]);
    const note = lines.find((l) => l.droppedLines !== undefined);
    expect(note).toMatchObject({ droppedLines: 1950 });
    expect(note!.msg).toContain('1950 plugin log lines dropped');
    plugin.close();
  });

  it('in a run: the node\'s dropped lines are in the summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-chatty-'));
    // 20,000 lines at the default 200 lines/s (bursts of 1000) cannot all pass unless the call took 95 s.
    const { problems, summary } = await runValues(dir, ['a', 'b'], {
      name: 'chatty',
      plugins: { dir: fixtures },
      nodes: [
        { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
        { id: 'talk', kind: 'processor', plugin: 'misbehave-js.wasm', inputs: ['in'], config: { mode: 'chatty', lines: 20_000, size: 8 } },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['talk'] },
      ],
    }, cacheDir);
    expect(problems).toEqual([]);
    expect(summary!.nodes.find((n) => n.id === 'talk')!.logLinesDropped).toBeGreaterThan(0);
  });

  it('returning a 1 MiB error message gives an error of bounded size', async () => {
    const module = await new Engine({ cacheDir }).load(join(fixtures, 'misbehave-js.wasm'));
    const host = createHostContext({
      node: 'n', plugin: 'p', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
      metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
    });
    const plugin = (await instantiate(module, 'processor', host, instanceLimits(DEFAULT_LIMITS))) as ProcessorInstance;
    await plugin.configure(JSON.stringify({ mode: 'big-error' }));
    const error = await Promise.resolve().then(() => plugin.process([record('x')])).then(() => undefined, (e: unknown) => e as WeirError);
    expect(error?.code).toBe('WEIR_PLUGIN_ERROR');
    expect(error!.message.length).toBeLessThan(MAX_MESSAGE_CHARS + 200);
    expect(error!.message).toMatch(/more characters cut\]$/);
    plugin.close();
  });

  it('in cpu mode "worker" is bounded in the worker, before its lines queue towards the main thread', async () => {
    // The main thread's own limit lets everything through: what arrives is what the worker forwarded.
    const limiter = new LogLimiter({ maxMessageChars: 1 << 30, linesPerSecond: 1e9, burst: 1e9 });
    const { plugin, lines } = await chatty({ lines: 5000, size: 10_000 }, limiter, 'worker');
    await plugin.process([record('go')]);
    plugin.close();
    // The worker's default bucket holds 1000 lines and refills at 200 a second: 5000 lines would take 20 s.
    expect(lines.length).toBeLessThan(5000);
    expect(lines.every((l) => l.msg.length < MAX_MESSAGE_CHARS + 64)).toBe(true);
    // What the worker dropped counts for the node (the run summary's logLinesDropped).
    expect(limiter.dropped).toBeGreaterThan(0);
    const pluginLines = lines.filter((l) => !/plugin log lines? dropped/.test(l.msg));
    expect(limiter.dropped + pluginLines.length).toBe(5000);
  });
});

describe('a plugin\'s metrics', () => {
  let fixtures: string;
  let cacheDir: string;

  beforeAll(async () => {
    fixtures = await buildFixtures('misbehave-js');
    cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
  });

  /** A processor in `cpu` mode whose metrics land in `metrics`; `updates` counts what reached the node's host context. */
  async function metering(config: Record<string, unknown>, cpu: 'fuel' | 'worker', maxMetricNames = 1000) {
    const metrics = { counters: new Map<string, bigint>(), gauges: new Map<string, number>() };
    const base = createHostContext({
      node: 'meter', plugin: 'misbehave-js.wasm', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
      metrics, maxMetricNames, callService: () => new Uint8Array(),
    });
    let updates = 0;
    const host = { ...base, counterAdd: (name: string, delta: bigint) => { updates++; base.counterAdd(name, delta); } };
    const module = await new Engine({ cacheDir }).load(join(fixtures, 'misbehave-js.wasm'));
    const limits = instanceLimits({ ...DEFAULT_LIMITS, cpu: { ...DEFAULT_LIMITS.cpu, mode: cpu }, timeoutMs: 60_000 });
    const plugin = (await instantiate(module, 'processor', host, limits)) as ProcessorInstance;
    await plugin.configure(JSON.stringify({ mode: 'metrics', ...config }));
    return { plugin, metrics, updates: () => updates };
  }

  it.each(['fuel', 'worker'] as const)('more distinct names than limits.maxMetricNames fail the call with WEIR_LIMIT_METRICS and poison the instance (cpu mode %s)', async (cpu) => {
    const { plugin, metrics } = await metering({ names: 50 }, cpu, 10);
    try {
      const outcome = await Promise.resolve().then(() => plugin.process([record('go')])).then(() => undefined, (error: unknown) => error as WeirError);
      expect(hasCode(outcome, 'WEIR_LIMIT_METRICS'), String(outcome)).toBe(true);
      expect(outcome!.details).toMatchObject({ node: 'meter', function: 'process', limit: 'metrics', maxMetricNames: 10 });
      const next = await Promise.resolve().then(() => plugin.process([record('go')])).then(() => undefined, (error: unknown) => error as WeirError);
      expect(next?.message).toMatch(/poisoned/);
      expect(metrics.counters.size).toBeLessThanOrEqual(10);
    } finally {
      plugin.close();
    }
  });

  it('in cpu mode "worker", ten thousand updates of one counter cross to the main thread as one', async () => {
    const { plugin, metrics, updates } = await metering({ names: 1, updates: 10_000 }, 'worker');
    try {
      await plugin.process([record('go')]);
      expect(metrics.counters.get('m0')).toBe(10_000n);
      expect(updates()).toBe(1);
      await plugin.process([record('go')]);
      expect(metrics.counters.get('m0')).toBe(20_000n);
      expect(updates()).toBe(2);
    } finally {
      plugin.close();
    }
  });
});
