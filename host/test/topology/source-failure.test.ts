/**
 * A source that fails after good records (a bad input line): the run stops
 * every source as a signal would, lets what was read drain to the sinks, and
 * only then fails with the source's error; a stop during that drain sets its
 * deadline. And a built-in connector that cannot start names its node.
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { ConnectorRegistry, Sink, Source } from '../../src/connectors/connector.js';
import type { PipelineRun } from '../../src/topology/pipeline-run.js';
import type { ApplyOutcome } from '../../src/topology/pipeline-run.js';
import type { StreamRecord } from '../../src/records/record.js';
import { WeirError } from '../../src/errors/errors.js';
import { until } from '../fixtures/until.js';
import { GateSource } from '../fixtures/gate-source.js';
import { pipelinesClosedAfterEach } from '../fixtures/test-pipeline.js';

const plugins = join(import.meta.dirname, '../../../plugins');
const encoder = new TextEncoder();
const record = (value: string): StreamRecord => ({ key: undefined, value: encoder.encode(value), headers: [], eventTime: undefined });

const startPipeline = pipelinesClosedAfterEach();

/** Writes `nodes` as `<dir>/pipeline.json`, prepares it and starts it. */
async function start(dir: string, nodes: object[], connectors: ConnectorRegistry = builtinConnectors()): Promise<PipelineRun> {
  return (await startPipeline({ dir, pipeline: { name: 'source-failure', nodes }, plugins, connectors })).run;
}

/**
 * Test connectors: `failing` returns one record, then throws once the sink has
 * started a write (so records are queued when it fails); `gated` is a sink
 * whose writes wait until `open(failed)` holds.
 */
function testConnectors(open: (failed: boolean) => boolean) {
  const written: string[] = [];
  let writesStarted = 0;
  let failed = false;
  const failing = (): Source => {
    let polls = 0;
    return {
      poll: async () => {
        if (polls++ === 0) return { records: [record('a')], position: undefined, done: false };
        await until(() => writesStarted > 0);
        failed = true;
        throw new WeirError('WEIR_CONNECTOR_IO', 'broken input at line 2');
      },
      close: async () => {},
    };
  };
  const gated = (): Sink => ({
    write: async (batch) => {
      writesStarted++;
      await until(() => open(failed));
      for (const r of batch) written.push(new TextDecoder().decode(r.value));
    },
    flush: async () => {},
    close: async () => {},
  });
  const registry = builtinConnectors()
    .register({ kind: 'source', name: 'failing', description: 'test', configSchema: { type: 'object' }, create: failing })
    .register({ kind: 'sink', name: 'gated', description: 'test', configSchema: { type: 'object' }, create: gated });
  return { registry, written, failed: () => failed };
}

describe('a source that fails after good records', () => {
  it('writes every record read before the bad line (behind a processor), then fails with the source error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-source-failure-'));
    const good = 50_000;
    await writeFile(join(dir, 'in.jsonl'), Array.from({ length: good }, (_, i) => `{"value":"v${i}"}\n`).join('') + 'not json\n{"value":"after"}\n');
    const run = await start(dir, [
      { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
      { id: 'up', kind: 'processor', plugin: 'uppercase-js.wasm', inputs: ['in'], config: { tag: 'x' } },
      { id: 'out', kind: 'sink', connector: 'file', inputs: ['up'], config: { path: 'out.jsonl' } },
    ]);
    const summary = await run.done;
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatchObject({ code: 'WEIR_PIPELINE_FAILED', details: { node: 'in', cause: 'WEIR_CONNECTOR_IO' } });
    expect(summary.error!.message).toContain(`in.jsonl:${good + 1}`);
    expect(summary.nodes.find((n) => n.id === 'in')).toMatchObject({ out: good });
    expect(summary.nodes.find((n) => n.id === 'out')).toMatchObject({ in: good, out: good, errors: 0 });
    const lines = (await readFile(join(dir, 'out.jsonl'), 'utf8')).split('\n').filter(Boolean);
    expect(lines).toHaveLength(good);
    expect(lines.at(-1)).toContain(`V${good - 1}`);
  }, 60_000);

  it('stops the other sources too and writes everything they read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-source-failure-'));
    // The sink holds its first write until the source has failed, so records are queued at that moment.
    const connectors = testConnectors((failed) => failed);
    const run = await start(dir, [
      { id: 'bad', kind: 'source', connector: 'failing' },
      { id: 'endless', kind: 'source', connector: 'generator', config: { count: 0 }, batch: { maxRecords: 10 } },
      { id: 'out', kind: 'sink', connector: 'gated', inputs: ['bad', 'endless'] },
    ], connectors.registry);
    const summary = await run.done;
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatchObject({ code: 'WEIR_PIPELINE_FAILED', details: { node: 'bad', cause: 'WEIR_CONNECTOR_IO' } });
    const read = summary.nodes.filter((n) => n.kind === 'source').reduce((sum, n) => sum + n.out, 0);
    expect(summary.nodes.find((n) => n.id === 'endless')!.out).toBeGreaterThan(0);
    expect(summary.nodes.find((n) => n.id === 'out')).toMatchObject({ in: read, out: read });
    expect(connectors.written).toHaveLength(read);
    expect(connectors.written).toContain('a');
  }, 60_000);

  it('a stop during that drain sets its deadline: the run ends failed, saying what was not written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-source-failure-'));
    let released = false;
    // The sink's writes never return (until the test ends): only the drain deadline ends the run.
    const connectors = testConnectors(() => released);
    const run = await start(dir, [
      { id: 'bad', kind: 'source', connector: 'failing' },
      { id: 'endless', kind: 'source', connector: 'generator', config: { count: 0 }, batch: { maxRecords: 10 } },
      { id: 'out', kind: 'sink', connector: 'gated', inputs: ['bad', 'endless'] },
    ], connectors.registry);
    try {
      await until(() => connectors.failed() && run.state === 'draining');
      run.stop({ drainTimeoutMs: 10 });
      const summary = await run.done;
      expect(summary.status).toBe('failed');
      expect(summary.error).toMatchObject({ details: { node: 'bad', cause: 'WEIR_CONNECTOR_IO' } });
      expect(summary.drain).toMatchObject({ timedOut: true, timeoutMs: 10 });
      expect(summary.drain!.notWritten.out).toBeGreaterThan(0);
    } finally {
      released = true;
    }
  }, 60_000);
});

/**
 * A source that returns one record, then a poll that fails when the test says:
 * `fail(then)` rejects the waiting poll and runs `then` after the run has seen
 * the rejection but before the run reacts to it (a handler on the same
 * promise, registered after the run's), so the failure lands exactly as an
 * edit is requested.
 */
class FailingOnCue implements Source {
  polls = 0;
  #reject: (error: Error) => void = () => {};
  #waiting: Promise<never> | undefined;

  poll(): Promise<{ records: StreamRecord[]; position: undefined; done: boolean }> {
    if (this.polls++ === 0) return Promise.resolve({ records: [record('x')], position: undefined, done: false });
    this.#waiting = new Promise<never>((_resolve, reject) => (this.#reject = reject));
    return this.#waiting;
  }

  fail(then: () => void): void {
    this.#reject(new WeirError('WEIR_CONNECTOR_IO', 'broken input at line 2'));
    this.#waiting!.catch(then);
  }

  async close(): Promise<void> {}
}

describe('a source that fails while a structural edit waits for its drain', () => {
  it('refuses the edit (the pipeline runs on as it was), drains what the paused sources read, then fails with the source error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-source-failure-edit-'));
    const gate = new GateSource();
    const failing = new FailingOnCue();
    const collected = new Map<string, string[]>();
    const connectors = builtinConnectors()
      .register({ kind: 'source', name: 'gate', description: 'test', configSchema: { type: 'object' }, create: () => gate })
      .register({ kind: 'source', name: 'failing', description: 'test', configSchema: { type: 'object' }, create: () => failing })
      .register({
        kind: 'sink', name: 'collect', description: 'test', configSchema: { type: 'object' },
        create: (config) => {
          const into = collected.get(config.name as string) ?? [];
          collected.set(config.name as string, into);
          return { write: async (batch) => void into.push(...batch.map((r) => new TextDecoder().decode(r.value))), flush: async () => {}, close: async () => {} };
        },
      });
    const nodes = [
      { id: 'in', kind: 'source', connector: 'gate' },
      { id: 'bad', kind: 'source', connector: 'failing' },
      { id: 'out', kind: 'sink', connector: 'collect', inputs: ['in', 'bad'], config: { name: 'out' } },
      { id: 'audit', kind: 'sink', connector: 'collect', inputs: ['in'], config: { name: 'audit' } },
    ];
    const { run, prepared } = await startPipeline({ dir, pipeline: { name: 'source-failure-edit', nodes }, connectors });
    gate.give(['a', 'b']);
    await until(() => (collected.get('out')?.length ?? 0) >= 3 && failing.polls >= 2);

    // The edit removes the audit sink: nothing to build, so it pauses the sources at once.
    const edited = await prepared.prepare({ name: 'source-failure-edit', nodes: nodes.filter((n) => n.id !== 'audit') });
    let applying: Promise<ApplyOutcome> | undefined;
    failing.fail(() => (applying = run.apply(edited.config, edited.modules)));
    await until(() => applying !== undefined);
    const outcome = await applying!;
    expect(outcome).toMatchObject({ ok: false, reasons: ['a source failed while the pipeline was being rewired'] });
    // The source paused for the edit still waits for input: what it reads now is drained to the sinks.
    gate.give(['c']);
    const summary = await run.done;

    expect(summary.status).toBe('failed');
    expect(summary.error).toMatchObject({ code: 'WEIR_PIPELINE_FAILED', details: { node: 'bad', cause: 'WEIR_CONNECTOR_IO' } });
    expect([...collected.get('out')!].sort()).toEqual(['a', 'b', 'c', 'x']);
    // The pipeline ran on as it was: the sink the refused edit removed got its records too.
    expect(collected.get('audit')).toEqual(['a', 'b', 'c']);
    expect(summary.nodes.find((n) => n.id === 'audit')).toMatchObject({ in: 3, out: 3 });
    expect(summary.nodes.find((n) => n.id === 'audit')!.removed).toBeUndefined();
  }, 60_000);
});

describe('built-in connectors know their node', () => {
  it('a file sink whose folder runs through a file names the node', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-sink-folder-'));
    await writeFile(join(dir, 'in.jsonl'), '{"value":"1"}\n');
    await writeFile(join(dir, 'blocker'), 'a file');
    const error = await start(dir, [
      { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
      { id: 'my-output', kind: 'sink', connector: 'file', inputs: ['in'], config: { path: 'blocker/sub/out.jsonl' } },
    ]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WEIR_CONNECTOR_IO', details: { node: 'my-output', path: join(dir, 'blocker/sub/out.jsonl') } });
    expect((error as Error).message).toContain('file sink "my-output"');
    expect((error as Error).message).toContain('blocker is a file');
  });
});
