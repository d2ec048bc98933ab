/**
 * The run lifecycle beyond the happy path: record-by-record isolation with
 * huge outputs, `onError` on sinks, a removed source whose poll was still
 * waiting, records that reach no sink, and a drain that runs out of time.
 * Test connectors (registered on a copy of the built-in registry) and a
 * stand-in plugin module make each case exact; nothing waits on a clock.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { pino } from 'pino';
import { instantiate } from '../../src/instance/instantiate.js';
import type { Instantiate } from '../../src/instance/instantiate.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { ConnectorRegistry, Sink, Source } from '../../src/connectors/connector.js';
import { Partitioner } from '../../src/topology/partitioner.js';
import type { StreamRecord } from '../../src/records/record.js';
import type { ProcessorInstance } from '../../src/contract/plugin.js';
import { WeirError } from '../../src/errors/errors.js';
import { InvalidPipeline, pipelinesClosedAfterEach, prepareTestPipeline } from '../fixtures/test-pipeline.js';

const plugins = join(import.meta.dirname, '../../../plugins');
const encoder = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const record = (value: string): StreamRecord => ({ key: undefined, value: encoder.encode(value), headers: [], eventTime: undefined });

/** Waits (turn by turn of the event loop) until `ready()` holds. */
async function until(ready: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200_000 && !ready(); i++) await nextTurn();
  if (!ready()) throw new Error(`gave up waiting until ${what}`);
}

/** A source that emits `values` (at most `max` a poll), then is done. */
function listSource(values: string[]): Source {
  const left = [...values];
  return {
    poll: async (max) => {
      const records = left.splice(0, max).map(record);
      return { records, position: undefined, done: left.length === 0 };
    },
    close: async () => {},
  };
}

interface TestConnectors {
  registry: ConnectorRegistry;
  /** Records each `collect` sink received, by its `config.name`. */
  collected: Map<string, string[]>;
}

/**
 * The built-in connectors plus `list` (a source of `config.values`) and
 * `collect` (a sink that keeps what it is given; `config.failWhen` makes a
 * write fail while a batch holds that value, `config.failFirst` makes the
 * first N writes fail).
 */
function testConnectors(extra: (registry: ConnectorRegistry) => void = () => {}): TestConnectors {
  const collected = new Map<string, string[]>();
  const registry = builtinConnectors()
    .register({ kind: 'source', name: 'list', description: 'test', configSchema: { type: 'object' }, create: (config) => listSource(config.values as string[]) })
    .register({
      kind: 'sink', name: 'collect', description: 'test', configSchema: { type: 'object' },
      create: (config): Sink => {
        const into = collected.get(config.name as string) ?? [];
        collected.set(config.name as string, into);
        let failFirst = (config.failFirst as number | undefined) ?? 0;
        return {
          write: async (batch) => {
            if (failFirst > 0) {
              failFirst--;
              throw new WeirError('WEIR_CONNECTOR_IO', 'sink unavailable', { kind: 'transient' });
            }
            if (config.failWhen !== undefined && batch.some((r) => text(r.value) === config.failWhen)) throw new WeirError('WEIR_CONNECTOR_IO', `cannot write ${String(config.failWhen)}`);
            for (const r of batch) into.push(text(r.value));
          },
          flush: async () => {},
          close: async () => {},
        };
      },
    });
  extra(registry);
  return { registry, collected };
}

const startPipeline = pipelinesClosedAfterEach();

/** Prepares `nodes` (plugins from the repository's plugins/) and starts them; `processors` stands in for the instances of processor nodes, by node id. */
async function start(connectors: ConnectorRegistry, nodes: object[], options: { processors?: Record<string, (batch: StreamRecord[]) => StreamRecord[]>; logger?: pino.Logger } = {}) {
  const standIns = options.processors ?? {};
  const instances: Instantiate = async (module, kind, host, limits) => {
    const process = standIns[host.node];
    return process ? processorInstance(process) : instantiate(module, kind, host, limits);
  };
  const { run, prepared } = await startPipeline({
    pipeline: { name: 'lifecycle', nodes }, plugins, connectors, ...(options.logger ? { logger: options.logger } : {}),
    instantiate: () => instances,
  });
  return { run, prepare: (edited: object[]) => prepared.prepare({ name: 'lifecycle', nodes: edited }) };
}

/** A stand-in processor instance that runs `process`. */
function processorInstance(process: (batch: StreamRecord[]) => StreamRecord[]): ProcessorInstance {
  return {
    kind: 'processor',
    configure: () => {},
    process,
    close: () => {},
    usage: () => ({ calls: 0, fuelUsed: 0n, callMs: 0, memoryPagesHighWater: 0 }),
  };
}

describe('record-by-record isolation and partitioning with huge batches', () => {
  it('a record that yields 200,000 records under skip isolation does not overflow the stack', async () => {
    const fanned = 200_000;
    // Fails any batch of more than one record (so the batch is isolated), and turns each good record into `fanned` records.
    const fan = (batch: StreamRecord[]): StreamRecord[] => {
      if (batch.length > 1) throw new WeirError('WEIR_PLUGIN_ERROR', 'one bad record in the batch', { kind: 'invalid-input' });
      if (text(batch[0]!.value) === 'bad') throw new WeirError('WEIR_PLUGIN_ERROR', 'bad record', { kind: 'invalid-input' });
      return Array.from({ length: fanned }, () => batch[0]!);
    };
    const { registry } = testConnectors();
    let written = 0;
    registry.register({ kind: 'sink', name: 'count', description: 'test', configSchema: { type: 'object' }, create: () => ({ write: async (b) => void (written += b.length), flush: async () => {}, close: async () => {} }) });
    const { run } = await start(registry, [
      { id: 'in', kind: 'source', connector: 'list', config: { values: ['a', 'bad', 'b'] } },
      { id: 'fan', kind: 'processor', plugin: 'uppercase-as.wasm', inputs: ['in'], onError: { policy: 'skip' }, batch: { maxRecords: 3, lingerMs: 0 } },
      { id: 'out', kind: 'sink', connector: 'count', inputs: ['fan'] },
    ], { processors: { fan } });
    const summary = await run.done;
    expect(summary.error).toBeUndefined();
    expect(summary.status).toBe('completed');
    expect(summary.nodes.find((n) => n.id === 'fan')).toMatchObject({ in: 3, out: 2 * fanned, skipped: 1, errors: 1 });
    expect(written).toBe(2 * fanned);
  });

  it('round-robin hands a batch of 500,000 records to one instance whole', () => {
    const batch = Array.from({ length: 500_000 }, () => record('x'));
    const parts = new Partitioner('round-robin', 2).split(batch);
    expect(parts.map((p) => p.length)).toEqual([500_000, 0]);
  });
});

describe('onError on sink nodes', () => {
  it('retry: a write that fails twice is tried again with backoff and succeeds on the third attempt', async () => {
    const { registry, collected } = testConnectors();
    const { run } = await start(registry, [
      { id: 'in', kind: 'source', connector: 'list', config: { values: ['a', 'b', 'c'] } },
      { id: 'out', kind: 'sink', connector: 'collect', inputs: ['in'], config: { name: 'out', failFirst: 2 }, onError: { policy: 'retry', maxAttempts: 3, backoffMs: 1 } },
    ]);
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    expect(collected.get('out')).toEqual(['a', 'b', 'c']);
    expect(summary.nodes.find((n) => n.id === 'out')).toMatchObject({ in: 3, out: 3, errors: 0 });
  });

  it('retry: when the attempts run out the run fails, after exactly maxAttempts writes', async () => {
    let attempts = 0;
    const { registry } = testConnectors((r) => r.register({
      kind: 'sink', name: 'down', description: 'test', configSchema: { type: 'object' },
      create: () => ({ write: async () => {
        attempts++;
        throw new WeirError('WEIR_CONNECTOR_IO', 'down', { kind: 'transient' });
      }, flush: async () => {}, close: async () => {} }),
    }));
    const { run } = await start(registry, [
      { id: 'in', kind: 'source', connector: 'list', config: { values: ['a'] } },
      { id: 'out', kind: 'sink', connector: 'down', inputs: ['in'], onError: { policy: 'retry', maxAttempts: 4, backoffMs: 1 } },
    ]);
    const summary = await run.done;
    expect(summary.status).toBe('failed');
    expect(attempts).toBe(4);
    expect(summary.nodes.find((n) => n.id === 'out')).toMatchObject({ in: 1, out: 0, errors: 1 });
  });

  it('skip: a failed write drops its batch, counted as skipped; the run goes on', async () => {
    const { registry, collected } = testConnectors();
    const { run } = await start(registry, [
      { id: 'in', kind: 'source', connector: 'list', config: { values: ['a', 'bad', 'c'] }, batch: { maxRecords: 1 } },
      { id: 'out', kind: 'sink', connector: 'collect', inputs: ['in'], config: { name: 'out', failWhen: 'bad' }, onError: { policy: 'skip' } },
    ]);
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    expect(collected.get('out')).toEqual(['a', 'c']);
    expect(summary.totals).toMatchObject({ read: 3, written: 2, errors: 1, skipped: 1 });
  });

  it('dead-letter: a failed batch goes to the dead-letter sink, and both sinks finish', async () => {
    const { registry, collected } = testConnectors();
    const { run } = await start(registry, [
      { id: 'in', kind: 'source', connector: 'list', config: { values: ['a', 'bad', 'c'] }, batch: { maxRecords: 1 } },
      { id: 'out', kind: 'sink', connector: 'collect', inputs: ['in'], config: { name: 'out', failWhen: 'bad' }, onError: { policy: 'dead-letter', deadLetter: 'dlq' } },
      { id: 'dlq', kind: 'sink', connector: 'file', config: { path: 'dlq.jsonl' } },
    ]);
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    expect(collected.get('out')).toEqual(['a', 'c']);
    expect(summary.nodes.find((n) => n.id === 'out')).toMatchObject({ in: 3, out: 2, errors: 1, deadLettered: 1 });
    expect(summary.nodes.find((n) => n.id === 'dlq')).toMatchObject({ in: 1, out: 1 });
  });

  it('validation refuses sinks whose dead letters go round in a loop', async () => {
    const { registry } = testConnectors();
    const refused = await prepareTestPipeline({ pipeline: { name: 'loop', nodes: [
      { id: 'in', kind: 'source', connector: 'list', config: { values: ['a'] } },
      { id: 'a', kind: 'sink', connector: 'collect', inputs: ['in'], config: { name: 'a' }, onError: { policy: 'dead-letter', deadLetter: 'b' } },
      { id: 'b', kind: 'sink', connector: 'collect', config: { name: 'b' }, onError: { policy: 'dead-letter', deadLetter: 'a' } },
    ] }, connectors: registry }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InvalidPipeline);
    expect((refused as InvalidPipeline).problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^\/nodes\/1\/onError\/deadLetter .*a -> b -> a/),
      expect.stringMatching(/^\/nodes\/2\/onError\/deadLetter .*b -> a -> b/),
    ]));
  });
});

describe('a source removed by an edit while its poll waits', () => {
  it('the records that poll returns are written and counted', async () => {
    // Like stdin: a poll waits for input; closing the source ends the wait and returns what it had read.
    let wake = () => {};
    let closed = false;
    let polls = 0;
    const held = ['x', 'y'];
    const waiting: Source = {
      poll: async () => {
        polls++;
        while (!closed) await new Promise<void>((resolve) => (wake = resolve));
        return { records: held.splice(0).map(record), position: undefined, done: true };
      },
      close: async () => {
        closed = true;
        wake();
      },
    };
    const { registry, collected } = testConnectors((r) => r.register({ kind: 'source', name: 'waiting', description: 'test', configSchema: { type: 'object' }, create: () => waiting }));
    const other = { id: 'other', kind: 'source', connector: 'list', config: { values: ['a'] } };
    const out = (inputs: string[]) => ({ id: 'out', kind: 'sink', connector: 'collect', inputs, config: { name: 'out' } });
    const { run, prepare } = await start(registry, [{ id: 'slow', kind: 'source', connector: 'waiting' }, other, out(['other', 'slow'])]);
    await until(() => polls > 0 && (collected.get('out') ?? []).length === 1, 'the waiting source polls and the other record is written');
    const edited = await prepare([other, out(['other'])]);
    expect(await run.apply(edited.config, edited.modules)).toMatchObject({ ok: true, removed: ['slow'] });
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    expect(collected.get('out')).toEqual(['a', 'x', 'y']);
    expect(summary.nodes.find((n) => n.id === 'slow')).toMatchObject({ out: 2, removed: true });
    expect(summary.totals).toMatchObject({ read: 3, written: 3 });
  });
});

describe('records that reach no sink', () => {
  it('are counted as dropped, apart from records a processor filtered out', async () => {
    const { registry, collected } = testConnectors();
    const values = ['keep 1', 'debug: no', 'keep 2'];
    const { run } = await start(registry, [
      { id: 'in', kind: 'source', connector: 'list', config: { values } },
      { id: 'filter', kind: 'processor', plugin: 'filter-as.wasm', inputs: ['in'], config: { dropIfContains: 'debug:' } },
      { id: 'out', kind: 'sink', connector: 'collect', inputs: ['filter'], config: { name: 'out' } },
      // Nobody reads `dead-end`: its records reach no sink.
      { id: 'dead-end', kind: 'processor', plugin: 'uppercase-as.wasm', inputs: ['in'] },
    ]);
    const summary = await run.done;
    expect(collected.get('out')).toHaveLength(2);
    expect(summary.nodes.find((n) => n.id === 'filter')).toMatchObject({ in: 3, out: 2, filtered: 1, dropped: 0 });
    expect(summary.nodes.find((n) => n.id === 'dead-end')).toMatchObject({ in: 3, out: 0, filtered: 0, dropped: 3 });
    expect(summary.totals).toMatchObject({ read: 3, written: 2, filtered: 1, dropped: 3 });
  });
});

describe('a drain with a deadline', () => {
  it('stops when the deadline passes behind a stuck sink and counts, per node, what was not written', async () => {
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let writes = 0;
    const { registry } = testConnectors((r) => r.register({
      kind: 'sink', name: 'stuck', description: 'test', configSchema: { type: 'object' },
      // The first write returns; the second waits until the test releases it.
      create: () => ({ write: async () => {
        writes++;
        if (writes > 1) await released;
      }, flush: async () => {}, close: async () => {} }),
    }));
    const logs: string[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (chunk: Buffer, _encoding, done) => { logs.push(chunk.toString()); done(); } }));
    const { run } = await start(registry, [
      { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0 }, batch: { maxRecords: 10 } },
      { id: 'out', kind: 'sink', connector: 'stuck', inputs: ['gen'] },
    ], { logger });
    // The sink is stuck in its second write and its queue is full.
    await until(() => writes === 2 && (run.stats().find((n) => n.id === 'gen')?.out ?? 0) >= 10 * 18, 'the sink is stuck behind a full queue');
    run.stop({ drainTimeoutMs: 1 });
    await until(() => logs.some((l) => l.includes('drain timed out')), 'the drain times out');
    release();
    const summary = await run.done;
    expect(summary.status).toBe('stopped');
    expect(summary.drain).toMatchObject({ timedOut: true, timeoutMs: 1 });
    // Every record read was written, or is counted as not written (queued for the sink, or refused on the way).
    const notWritten = Object.values(summary.drain!.notWritten).reduce((n, records) => n + records, 0);
    expect(summary.drain!.notWritten.out).toBeGreaterThan(0);
    expect(summary.totals.written + notWritten).toBe(summary.totals.read);
  });
});
