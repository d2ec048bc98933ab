/**
 * Fuel on a worker thread (`limits.cpu: {"mode": "fuel", "thread": "worker"}`):
 * a processor runs in a worker of its own, metered by the same fuel as on
 * the main thread (no watchdog), and its packed batches cross as buffers.
 *
 * - a runaway loop is stopped by fuel in the worker: `WEIR_LIMIT_CPU` with
 *   `details.limit` "fuel" (not a watchdog's "timeout"), the instance
 *   poisoned; in a pipeline the node's onError (dead-letter) applies and the
 *   instance is recreated; a memory bomb hits the memory cap there too;
 * - `processPacked` round-trips through the worker, leaves the caller's batch
 *   usable, and the main thread refuses the worker's output when it is
 *   malformed (`WEIR_PLUGIN_BAD_OUTPUT`, poisons) or over
 *   `maxOutputBytes` decoded (`WEIR_LIMIT_OUTPUT`): a worker whose outgoing
 *   messages are tampered with (a `data:` module wrapping the real entry)
 *   stands for one that cannot be trusted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { WorkerProcessor } from '../../src/instance/worker/worker-processor.js';
import { workerEntry } from '../../src/instance/worker/plugin-worker.js';
import { hasCode } from '../../src/errors/errors.js';
import type { WeirError } from '../../src/errors/errors.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { ProcessorInstance } from '../../src/contract/plugin.js';
import { decodeBatch, encodeBatch } from '../../src/records/batch-codec.js';
import type { StreamRecord } from '../../src/records/record.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { pipelinesClosedAfterEach } from '../fixtures/test-pipeline.js';

/** Fuel mode on a worker thread; a timeout far beyond the test's own, so that only fuel can stop a loop in time. */
const SETTINGS = { ...DEFAULT_LIMITS, memoryMb: 32, fuel: 200_000_000, timeoutMs: 10 * 60_000, cpu: { mode: 'fuel', thread: 'worker' } } as const;
const LIMITS = instanceLimits(SETTINGS);

let fixtures: string;
let cacheDir: string;

beforeAll(async () => {
  fixtures = await buildFixtures('misbehave-as', 'probe-as');
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

const quietHost = (config: Record<string, unknown> = {}) =>
  createHostContext({
    node: 'n', plugin: 'p', config, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
    metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
  });

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : '');
const record = (key: string, value: string): StreamRecord => ({ key: bytes(key), value: bytes(value), headers: [], eventTime: 5n });

async function misbehaving(mode: string, limits = LIMITS): Promise<ProcessorInstance> {
  const module = await new Engine({ cacheDir }).load(join(fixtures, 'misbehave-as.wasm'));
  const config = { mode, trigger: 'x' };
  const instance = (await instantiate(module, 'processor', quietHost(config), limits)) as ProcessorInstance;
  await instance.configure(JSON.stringify(config));
  return instance;
}

const failure = async (call: Promise<unknown>) => (await call.then(() => undefined, (error: unknown) => error)) as WeirError | undefined;

describe('fuel on a worker thread', () => {
  it('runs the processor in a worker, and its fuel stops a runaway loop there: WEIR_LIMIT_CPU (fuel), the instance poisoned', async () => {
    const instance = await misbehaving('loop');
    try {
      expect(instance).toBeInstanceOf(WorkerProcessor);
      // A healthy batch goes through and spends fuel, counted on this side.
      expect((await instance.process([record('k', 'ok')])).map((r) => text(r.value))).toEqual(['ok']);
      expect(instance.usage().fuelUsed).toBeGreaterThan(0n);
      const error = await failure(Promise.resolve().then(() => instance.process([record('k', 'x-loop')])));
      expect(hasCode(error, 'WEIR_LIMIT_CPU'), String(error)).toBe(true);
      expect(error!.details).toMatchObject({ limit: 'fuel', fuel: String(SETTINGS.fuel) });
      // The very error the same loop gets on the main thread.
      const inThread = await misbehaving('loop', { ...LIMITS, cpuThread: 'main' });
      try {
        expect(inThread).not.toBeInstanceOf(WorkerProcessor);
        const expected = await failure(Promise.resolve().then(() => inThread.process([record('k', 'x-loop')])));
        expect({ code: error!.code, message: error!.message, details: error!.details }).toEqual({ code: expected!.code, message: expected!.message, details: expected!.details });
      } finally {
        inThread.close();
      }
      expect(instance.usage().fuelUsed).toBeGreaterThanOrEqual(BigInt(SETTINGS.fuel));
      await expect(instance.process([record('k', 'ok')])).rejects.toThrow(/poisoned/);
    } finally {
      instance.close();
    }
  }, 60_000);

  it('holds the memory cap in the worker: a memory bomb fails with WEIR_LIMIT_MEMORY', async () => {
    const instance = await misbehaving('bomb');
    try {
      const error = await failure(Promise.resolve().then(() => instance.process([record('k', 'x-bomb')])));
      expect(hasCode(error, 'WEIR_LIMIT_MEMORY'), String(error)).toBe(true);
    } finally {
      instance.close();
    }
  }, 60_000);

  const startPipeline = pipelinesClosedAfterEach();

  it('in a pipeline, a loop is stopped by fuel and the node\'s onError applies: the batch dead-lettered, the instance recreated', async () => {
    const input = Array.from({ length: 40 }, (_, i) => JSON.stringify({ key: `k${i % 4}`, value: i === 17 ? `x-${i}` : `ok-${i}` })).join('\n');
    const { run, dir } = await startPipeline({
      pipeline: {
        name: 'fuel-in-worker',
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 8 } },
          { id: 'bad', kind: 'processor', plugin: 'misbehave-as.wasm', inputs: ['in'], parallelism: 2, config: { mode: 'loop', trigger: 'x' }, batch: { maxRecords: 8 }, limits: { memoryMb: 32, fuel: 200_000_000, cpu: { mode: 'fuel', thread: 'worker' } }, onError: { policy: 'dead-letter', deadLetter: 'dlq' } },
          { id: 'out', kind: 'sink', connector: 'file', inputs: ['bad'], config: { path: 'out.jsonl' } },
          { id: 'dlq', kind: 'sink', connector: 'file', config: { path: 'dlq.jsonl' } },
        ],
      },
      plugins: fixtures, files: { 'in.jsonl': input }, cacheDir,
    });
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    const dead = (await readFile(join(dir, 'dlq.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { headers: Record<string, string> });
    expect(dead).toHaveLength(8);
    expect(new Set(dead.map((d) => d.headers['weir-error-code']))).toEqual(new Set(['WEIR_LIMIT_CPU']));
    const bad = summary.nodes.find((n) => n.id === 'bad')!;
    expect(bad).toMatchObject({ out: 32, deadLettered: 8, restarts: 1 });
    expect(bad.resources).toMatchObject({ cpuMode: 'fuel', instances: 3, limitBreaches: { cpu: 1 } });
  }, 120_000);
});

/** The worker entry, wrapped so that `tamper` rewrites the packed output of every call before it is posted. */
function tamperingEntry(tamper: string): URL {
  const source = `import { parentPort } from 'node:worker_threads';
const post = parentPort.postMessage.bind(parentPort);
parentPort.postMessage = (message, transfer) => {
  if (message.type === 'done' && message.output) {
    const output = ((output) => { ${tamper} })(message.output);
    return post({ ...message, output }, [output.buffer]);
  }
  return post(message, transfer);
};
await import(${JSON.stringify(workerEntry().href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

describe('processPacked through the worker', () => {
  const start = async (entry?: URL, maxOutputBytes = LIMITS.maxOutputBytes) => {
    const processor = await WorkerProcessor.start({ file: join(fixtures, 'probe-as.wasm'), cacheDir, host: quietHost({ tag: 't' }), limits: { ...LIMITS, maxOutputBytes }, ...(entry ? { entry } : {}) });
    await processor.configure('{"tag":"t"}');
    return processor;
  };

  it('round-trips a packed batch, as process does, and leaves the caller\'s batch as it was', async () => {
    const processor = await start();
    try {
      const batch = [record('a', 'one'), record('b', 'two'), record('a', 'three')];
      const packed = encodeBatch(batch);
      const before = packed.slice();
      const output = decodeBatch(await processor.processPacked(packed));
      expect(output.map((r) => [text(r.key), text(r.value), r.headers.map((h) => `${h.name}=${text(h.value)}`), r.eventTime])).toEqual([
        ['a', 'one#1', ['probe=t'], 5n],
        ['b', 'two#1', ['probe=t'], 5n],
        ['a', 'three#2', ['probe=t'], 5n],
      ]);
      // Not transferred away: the caller may run it again (onError isolation does).
      expect(packed).toEqual(before);
      expect((await processor.process(batch)).map((r) => text(r.value))).toEqual(['one#3', 'two#2', 'three#4']);
    } finally {
      processor.close();
    }
  }, 60_000);

  it('refuses malformed output from the worker with WEIR_PLUGIN_BAD_OUTPUT and poisons the instance', async () => {
    // The last byte cut off: a length field points past the end.
    const processor = await start(tamperingEntry('return output.slice(0, output.byteLength - 1);'));
    try {
      const error = await failure(processor.processPacked(encodeBatch([record('a', 'one')])));
      expect(hasCode(error, 'WEIR_PLUGIN_BAD_OUTPUT'), String(error)).toBe(true);
      expect(error!.details).toMatchObject({ node: 'n', plugin: 'p', function: 'process' });
      expect(processor.state).toBe('poisoned');
    } finally {
      processor.close();
    }
  }, 60_000);

  it('refuses output over maxOutputBytes once decoded with WEIR_LIMIT_OUTPUT (the instance stays in service)', async () => {
    // 20,000 empty records: 480 KB packed, about 6.9 MB decoded, against a cap of 1 MiB.
    const processor = await start(tamperingEntry('return new Uint8Array(4 + 20000 * 24).fill(0).map((b, i) => (i === 1 ? 0x4e : i === 0 ? 0x20 : 0));'), 1 << 20);
    try {
      const error = await failure(processor.processPacked(encodeBatch([record('a', 'one')])));
      expect(hasCode(error, 'WEIR_LIMIT_OUTPUT'), String(error)).toBe(true);
      expect(error!.details).toMatchObject({ node: 'n', plugin: 'p', limit: 'output' });
      expect(processor.state).toBe('ready');
    } finally {
      processor.close();
    }
  }, 60_000);
});
