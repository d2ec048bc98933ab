/**
 * Parallel instances with partitioning, and backpressure: the dataflow
 * guarantees the engine makes, checked on real pipelines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { ConnectorRegistry } from '../../src/connectors/connector.js';
import type { StreamRecord } from '../../src/records/record.js';
import { keyLane } from '../../src/topology/partitioner.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { pipelinesClosedAfterEach } from '../fixtures/test-pipeline.js';
import { observeInstances, type ObservedInstances } from '../fixtures/observed-instances.js';

let fixtures: string;
let cacheDir: string;

beforeAll(async () => {
  fixtures = await buildFixtures('probe-js', 'probe-as');
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

const startPipeline = pipelinesClosedAfterEach();

/** Starts `pipeline`; with `observe`, the instances of that node record the batches they get. */
async function start(pipeline: Record<string, unknown>, files: Record<string, string> = {}, connectors: ConnectorRegistry = builtinConnectors(), observe?: string) {
  let observed: ObservedInstances | undefined;
  const { run, dir } = await startPipeline({
    pipeline, files, plugins: fixtures, cacheDir, connectors,
    instantiate: (loaded) => (observe ? (observed = observeInstances(loaded, observe)).instantiate : undefined),
  });
  return { run, dir, batches: observed?.batches ?? [] };
}

const recordsOf = (batches: StreamRecord[][]) => batches.reduce((n, b) => n + b.length, 0);
const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : '');

/** A seeded random stream of keyed records: values "<key>/<sequence>". */
function randomInput(seed: number, count: number, keys: number): string {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, (_, i) => {
    const key = `k${Math.floor(random() * keys)}`;
    return JSON.stringify({ key, value: `${key}/${i}` });
  }).join('\n');
}

const lines = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { key: string; value: string });

describe('parallel instances', () => {
  it.each([
    { plugin: 'probe-js.wasm', cpu: 'fuel', thread: 'main', seed: 7 },
    { plugin: 'probe-as.wasm', cpu: 'fuel', thread: 'main', seed: 11 },
    { plugin: 'probe-js.wasm', cpu: 'worker', thread: 'worker', seed: 13 },
    // Fuel on worker threads: the lanes' instances in workers of their own, keyed state answered on the main thread.
    { plugin: 'probe-as.wasm', cpu: 'fuel', thread: 'worker', seed: 17 },
  ])('keep per-key order with parallelism 4 and key partitioning ($plugin, cpu $cpu, thread $thread, seed $seed)', async ({ plugin, cpu, thread, seed }) => {
    const count = 3000;
    const { run, dir, batches } = await start(
      {
        name: 'keyed',
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 37 } },
          { id: 'count', kind: 'processor', plugin, inputs: ['in'], parallelism: 4, partition: 'key', batch: { maxRecords: 64, lingerMs: 1 }, limits: { cpu: { mode: cpu, thread } } },
          { id: 'out', kind: 'sink', connector: 'file', inputs: ['count'], config: { path: 'out.jsonl' } },
        ],
      },
      { 'in.jsonl': randomInput(seed, count, 23) },
      undefined,
      'count',
    );
    const summary = await run.done;
    expect(summary.status, JSON.stringify(summary.error)).toBe('completed');
    expect(summary.totals).toMatchObject({ read: count, written: count, errors: 0 });
    expect(summary.nodes.find((n) => n.id === 'count')!.resources).toMatchObject({ instances: 4 });
    const perKey = new Map<string, number[]>();
    for (const r of await lines(join(dir, 'out.jsonl'))) {
      // probe plugins turn "<key>/<seq>" into "<key>/<seq>#<count of the key so far>".
      const [body, countSoFar] = r.value.split('#') as [string, string];
      const seen = perKey.get(r.key) ?? [];
      seen.push(Number(body.split('/')[1]));
      perKey.set(r.key, seen);
      expect(Number(countSoFar), `${r.key} counted in order`).toBe(seen.length);
    }
    for (const [key, seqs] of perKey) expect(seqs, `order of ${key}`).toEqual([...seqs].sort((x, y) => x - y));
    expect([...perKey.values()].reduce((n, s) => n + s.length, 0)).toBe(count);
    // Every instance worked, and each key went to its own instance only: the one its hash names.
    expect(batches).toHaveLength(4);
    for (const [lane, seen] of batches.entries()) {
      expect(recordsOf(seen), `records of instance ${lane}`).toBeGreaterThan(0);
      for (const record of seen.flat()) expect(keyLane(record.key!, 4), `instance of key ${text(record.key)}`).toBe(lane);
    }
    expect(batches.map(recordsOf).reduce((a, b) => a + b)).toBe(count);
  });

  it('gives every instance every record under broadcast, and spreads batches under round-robin', async () => {
    const input = Array.from({ length: 40 }, (_, i) => JSON.stringify({ key: `k${i % 3}`, value: `v${i}` })).join('\n');
    const broadcast = await start({
      name: 'broadcast',
      nodes: [
        { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 5 } },
        { id: 'copy', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['in'], parallelism: 3, partition: 'broadcast' },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['copy'] },
      ],
    }, { 'in.jsonl': input }, undefined, 'copy');
    const b = await broadcast.run.done;
    expect(b.nodes.find((n) => n.id === 'copy')).toMatchObject({ in: 120, out: 120 });
    expect(b.totals).toMatchObject({ read: 40, written: 120 });
    // Each of the three instances saw all 40 records, in order.
    expect(broadcast.batches).toHaveLength(3);
    for (const seen of broadcast.batches) expect(seen.flat().map((r) => text(r.value))).toEqual(Array.from({ length: 40 }, (_, i) => `v${i}`));

    const roundRobin = await start({
      name: 'round-robin',
      nodes: [
        { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 5 } },
        { id: 'spread', kind: 'processor', plugin: 'probe-as.wasm', inputs: ['in'], parallelism: 2, partition: 'round-robin', batch: { maxRecords: 5 } },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['spread'] },
      ],
    }, { 'in.jsonl': input }, undefined, 'spread');
    const r = await roundRobin.run.done;
    expect(r.totals).toMatchObject({ read: 40, written: 40 });
    expect(r.nodes.find((n) => n.id === 'spread')).toMatchObject({ in: 40, out: 40, resources: { instances: 2 } });
    // Source batches dealt in turn: each instance gets every other batch (counts differ by at most one), 40 records in all.
    const [first, second] = roundRobin.batches.map((seen) => seen.length) as [number, number];
    expect(first).toBeGreaterThanOrEqual(4);
    expect(Math.abs(first - second)).toBeLessThanOrEqual(1);
    expect(roundRobin.batches.map(recordsOf).reduce((a, b) => a + b)).toBe(40);
  });
});

describe('backpressure', () => {
  it('a slow sink slows a fast source: queues stay within their bound and nothing is lost', async () => {
    // Sampled at every write of the slow sink (not on a timer, which a loaded machine stretches).
    let sample = () => {};
    const connectors = builtinConnectors().register({
      kind: 'sink',
      name: 'slow',
      description: 'sleeps 2 ms per batch (test only)',
      configSchema: { type: 'object' },
      create: () => ({ write: () => (sample(), sleep(2)), flush: async () => {}, close: async () => {} }),
    });
    const count = 4000;
    const batch = 10;
    const { run } = await start({
      name: 'backpressure',
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count }, batch: { maxRecords: batch } },
        { id: 'work', kind: 'processor', plugin: 'probe-as.wasm', inputs: ['gen'], batch: { maxRecords: batch } },
        { id: 'slow', kind: 'sink', connector: 'slow', inputs: ['work'], batch: { maxRecords: batch } },
      ],
    }, {}, connectors);
    let maxInFlight = 0;
    let samples = 0;
    sample = () => {
      const stats = new Map(run.stats().map((s) => [s.id, s]));
      maxInFlight = Math.max(maxInFlight, stats.get('gen')!.out - stats.get('slow')!.out);
      samples++;
    };
    const summary = await run.done;
    expect(summary.totals).toMatchObject({ read: count, written: count, errors: 0 });
    const byId = new Map(summary.nodes.map((n) => [n.id, n]));
    // Each channel holds at most 16 batches, and the sink's filled up: backpressure engaged.
    expect(byId.get('slow')!.queueHighWater).toBe(16);
    expect(byId.get('work')!.queueHighWater).toBeLessThanOrEqual(16);
    // In flight at any write: at most two full channels of batches, plus one batch per node.
    expect(samples).toBeGreaterThanOrEqual(count / batch);
    expect(maxInFlight).toBeLessThanOrEqual((2 * 16 + 3) * batch);
  });
});
