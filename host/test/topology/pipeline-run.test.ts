import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { pipelinesClosedAfterEach } from '../fixtures/test-pipeline.js';

let fixtures: string;
let cacheDir: string;

beforeAll(async () => {
  fixtures = await buildFixtures('probe-js', 'echo-service-js', 'count-source-js', 'tally-sink-js');
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

const startPipeline = pipelinesClosedAfterEach();

/** Writes a pipeline into a temp folder (plugins from the fixtures), prepares and starts it. */
async function start(pipeline: Record<string, unknown>, files: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const { run, dir } = await startPipeline({ pipeline, files, plugins: fixtures, cacheDir, stdout });
  return { run, dir, stdout };
}

const lines = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { key?: string; value: string; headers?: Record<string, string> });

describe('PipelineRun', () => {
  it('fans out to two sinks and fans in from two sources, counting every record', async () => {
    const { run, dir } = await start({
      name: 'fan',
      nodes: [
        { id: 'a', kind: 'source', connector: 'generator', config: { count: 300, keyCardinality: 4 }, batch: { maxRecords: 32 } },
        { id: 'b', kind: 'source', plugin: 'count-source-js.wasm', config: { count: 50 } },
        { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['a', 'b'] },
        { id: 'left', kind: 'sink', connector: 'file', inputs: ['probe'], config: { path: 'left.jsonl' } },
        { id: 'right', kind: 'sink', connector: 'file', inputs: ['probe'], config: { path: 'right.jsonl' } },
      ],
    });
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    expect(summary.totals).toMatchObject({ read: 350, written: 700, errors: 0 });
    const byId = Object.fromEntries(summary.nodes.map((n) => [n.id, n]));
    expect(byId.probe).toMatchObject({ in: 350, out: 350 });
    const left = await lines(join(dir, 'left.jsonl'));
    expect(left).toEqual(await lines(join(dir, 'right.jsonl')));
    expect(left).toHaveLength(350);
    // Per-key counts come from keyed state inside the plugin: each key counts 1, 2, 3, ... in order.
    const perKey = new Map<string, number>();
    for (const r of left) {
      const seen = (perKey.get(r.key ?? '') ?? 0) + 1;
      perKey.set(r.key ?? '', seen);
      expect(r.value.endsWith(`#${seen}`)).toBe(true);
    }
  });

  it('skips failed batches under onError skip and accounts for them', async () => {
    const input = ['ok1', 'bad1', 'ok2', 'ok3', 'bad2'].map((v) => JSON.stringify({ value: v })).join('\n');
    const { run, dir } = await start(
      {
        name: 'skip',
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 1 } },
          { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['in'], onError: { policy: 'skip' } },
          { id: 'out', kind: 'sink', connector: 'file', inputs: ['probe'], config: { path: 'out.jsonl' } },
        ],
      },
      { 'in.jsonl': input },
    );
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    expect(summary.totals).toMatchObject({ read: 5, written: 3, skipped: 2 });
    expect((await lines(join(dir, 'out.jsonl'))).map((r) => r.value)).toEqual(['ok1#1', 'ok2#2', 'ok3#3']);
  });

  it('dead-letters failed records with the error attached as headers', async () => {
    const input = ['ok1', 'bad1', 'trap!', 'ok2'].map((v) => JSON.stringify({ value: v })).join('\n');
    const { run, dir } = await start(
      {
        name: 'dlq',
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 1 } },
          { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['in'], onError: { policy: 'dead-letter', deadLetter: 'dlq' } },
          { id: 'out', kind: 'sink', connector: 'file', inputs: ['probe'], config: { path: 'out.jsonl' } },
          { id: 'dlq', kind: 'sink', connector: 'file', inputs: ['probe'], config: { path: 'dlq.jsonl' } },
        ],
      },
      { 'in.jsonl': input },
    );
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    const probe = summary.nodes.find((n) => n.id === 'probe')!;
    expect(probe).toMatchObject({ in: 4, out: 2, deadLettered: 2, restarts: 1 });
    const dead = (await lines(join(dir, 'dlq.jsonl'))).filter((r) => r.headers?.['weir-error-code']);
    expect(dead.map((r) => [r.value, r.headers!['weir-error-code'], r.headers!['weir-error-node']])).toEqual([
      ['bad1', 'WEIR_PLUGIN_ERROR', 'probe'],
      ['trap!', 'WEIR_PLUGIN_TRAP', 'probe'],
    ]);
  });

  it('dead-letters a record that arrives with forged weir-error-* headers with only the host\'s', async () => {
    // What an upstream plugin (or the input) wrote under the host's header names is dropped; other headers stay.
    const forged = { 'weir-error-code': 'WEIR_FORGED', 'weir-error-node': 'elsewhere', 'weir-error-extra': 'x', trace: 't1' };
    const { run, dir } = await start(
      {
        name: 'dlq-forged',
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
          { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['in'], onError: { policy: 'dead-letter', deadLetter: 'dlq' } },
          { id: 'out', kind: 'sink', connector: 'null', inputs: ['probe'] },
          { id: 'dlq', kind: 'sink', connector: 'file', config: { path: 'dlq.jsonl' } },
        ],
      },
      { 'in.jsonl': JSON.stringify({ value: 'bad1', headers: forged }) + '\n' },
    );
    expect((await run.done).status).toBe('completed');
    const dead = await lines(join(dir, 'dlq.jsonl'));
    expect(dead).toHaveLength(1);
    // One header per name (written as an object, not as a list of repeated names), each the host's.
    expect(dead[0]!.headers).toEqual({
      trace: 't1',
      'weir-error-code': 'WEIR_PLUGIN_ERROR',
      'weir-error-message': expect.stringContaining('bad1'),
      'weir-error-node': 'probe',
      'weir-error-plugin': 'probe-js.wasm',
    });
  });

  it('stops the pipeline on the first error under the default policy', async () => {
    const input = ['ok1', 'bad1', 'ok2'].map((v) => JSON.stringify({ value: v })).join('\n');
    const { run } = await start(
      {
        name: 'fail',
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 1 } },
          { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['in'] },
          { id: 'out', kind: 'sink', connector: 'null', inputs: ['probe'] },
        ],
      },
      { 'in.jsonl': input },
    );
    const summary = await run.done;
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatchObject({ code: 'WEIR_PIPELINE_FAILED', details: expect.objectContaining({ node: 'probe', cause: 'WEIR_PLUGIN_ERROR' }) });
  });

  it('retries transient errors with backoff before giving up', async () => {
    const { run } = await start(
      {
        name: 'retry',
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
          { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['in'], onError: { policy: 'retry', maxAttempts: 3, backoffMs: 1 } },
          { id: 'out', kind: 'sink', connector: 'null', inputs: ['probe'] },
        ],
      },
      { 'in.jsonl': JSON.stringify({ value: 'flaky' }) },
    );
    const summary = await run.done;
    expect(summary.status).toBe('failed');
    expect(summary.nodes.find((n) => n.id === 'probe')).toMatchObject({ in: 1, out: 0, errors: 1 });
  });

  it('routes call-service to a service node, and a plugin sink receives every record', async () => {
    const input = ['call:echo', 'plain', 'call:echo'].map((v) => JSON.stringify({ value: v })).join('\n');
    const { run } = await start(
      {
        name: 'service',
        nodes: [
          { id: 'echo', kind: 'service', plugin: 'echo-service-js.wasm' },
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
          { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['in'] },
          { id: 'tally', kind: 'sink', plugin: 'tally-sink-js.wasm', inputs: ['probe'] },
        ],
      },
      { 'in.jsonl': input },
    );
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    expect(summary.totals).toMatchObject({ read: 3, written: 3 });
    expect(run.pluginMetrics('tally')?.counters.get('written')).toBe(3n);
    expect(run.pluginMetrics('probe')?.counters.get('probed')).toBe(1n);
  });

  it('recreates a service that trapped; the caller gets an error result for that record only', async () => {
    const input = ['call:echo', 'call:echo:boom!', 'call:echo', 'call:echo'].map((v) => JSON.stringify({ value: v })).join('\n');
    const { run, dir } = await start(
      {
        name: 'service-restart',
        nodes: [
          { id: 'echo', kind: 'service', plugin: 'echo-service-js.wasm' },
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 1 } },
          { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['in'], batch: { maxRecords: 1 }, onError: { policy: 'dead-letter', deadLetter: 'dlq' } },
          { id: 'out', kind: 'sink', connector: 'file', inputs: ['probe'], config: { path: 'out.jsonl' } },
          { id: 'dlq', kind: 'sink', connector: 'file', config: { path: 'dlq.jsonl' } },
        ],
      },
      { 'in.jsonl': input },
    );
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    expect((await lines(join(dir, 'out.jsonl'))).map((r) => r.value)).toEqual(['CALL:ECHO', 'CALL:ECHO', 'CALL:ECHO']);
    expect((await lines(join(dir, 'dlq.jsonl'))).map((r) => r.value)).toEqual(['call:echo:boom!']);
    expect(summary.nodes.find((n) => n.id === 'echo')).toMatchObject({ restarts: 1 });
  });

  it('runs a processor in a worker thread (cpu mode worker) with the same host functions', async () => {
    const input = [['a', 'one'], ['b', 'two'], ['a', 'three'], ['a', 'call:echo']].map(([key, value]) => JSON.stringify({ key, value })).join('\n');
    const { run, dir } = await start(
      {
        name: 'worker',
        nodes: [
          { id: 'echo', kind: 'service', plugin: 'echo-service-js.wasm' },
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 2 } },
          { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['in'], config: { suffix: '@' }, limits: { cpu: { mode: 'worker' }, timeoutMs: 5000 } },
          { id: 'out', kind: 'sink', connector: 'file', inputs: ['probe'], config: { path: 'out.jsonl' } },
        ],
      },
      { 'in.jsonl': input },
    );
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    // Keyed state lives in the host: the worker reaches it through synchronous host calls.
    expect((await lines(join(dir, 'out.jsonl'))).map((r) => r.value)).toEqual(['one@1', 'two@1', 'three@2', 'CALL:ECHO']);
    expect(run.pluginMetrics('probe')?.counters.get('probed')).toBe(3n);
    expect(summary.nodes.find((n) => n.id === 'probe')!.resources).toMatchObject({ cpuMode: 'worker', instances: 1, traps: 0 });
  });

  it('runs sources, sinks and services in workers too when defaults say cpu mode worker, with the same host functions', async () => {
    const input = ['call:echo', 'plain', 'call:echo'].map((v) => JSON.stringify({ value: v })).join('\n');
    const { run } = await start(
      {
        name: 'all-in-workers',
        defaults: { limits: { cpu: { mode: 'worker' }, timeoutMs: 60_000 } },
        nodes: [
          { id: 'echo', kind: 'service', plugin: 'echo-service-js.wasm' },
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
          { id: 'count', kind: 'source', plugin: 'count-source-js.wasm', config: { count: 4 } },
          { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['in'] },
          { id: 'tally', kind: 'sink', plugin: 'tally-sink-js.wasm', inputs: ['probe', 'count'] },
        ],
      },
      { 'in.jsonl': input },
    );
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    expect(summary.totals).toMatchObject({ read: 7, written: 7 });
    // The sink's metric crosses from its worker during the call (a synchronous worker hands telemetry on before returning).
    expect(run.pluginMetrics('tally')?.counters.get('written')).toBe(7n);
    for (const id of ['echo', 'count', 'probe', 'tally']) expect(summary.nodes.find((n) => n.id === id)!.resources, id).toMatchObject({ cpuMode: 'worker', traps: 0 });
  });

  it('drains on stop: everything read is written', async () => {
    const { run } = await start({
      name: 'drain',
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 20000 }, batch: { maxRecords: 64 } },
        { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['gen'] },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['probe'] },
      ],
    });
    // Stop once records are in flight: read by the source and reaching the sink.
    const count = (id: string, field: 'in' | 'out') => run.stats().find((n) => n.id === id)?.[field] ?? 0;
    while (count('gen', 'out') === 0 || count('out', 'in') === 0) await nextTurn();
    run.stop();
    const summary = await run.done;
    expect(summary.status).toBe('stopped');
    expect(summary.totals.read).toBeGreaterThan(0);
    expect(summary.totals.written).toBe(summary.totals.read);
  });
});
