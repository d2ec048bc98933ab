/**
 * Structural pipeline.json edits applied to a running pipeline: nodes added
 * and removed, inputs rewired, parallelism changed, and a windowed node kept
 * across a rewire and a plugin reload. A test source emits records only up
 * to a limit the test raises step by step, so each edit lands at a known
 * record and the outputs can be checked exactly: nothing lost, nothing
 * repeated, keyed state and open windows carried over, a refused or failing
 * edit leaves the pipeline as it was.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { preparePipeline } from '../../src/cli/prepare-pipeline.js';
import { Engine } from '../../src/engine/engine.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { ConnectorRegistry, Source } from '../../src/connectors/connector.js';
import { PipelineRun } from '../../src/topology/pipeline-run.js';
import type { ApplyOutcome } from '../../src/topology/pipeline-run.js';
import type { StreamRecord } from '../../src/records/record.js';
import { until } from '../fixtures/until.js';
import { GateSource } from '../fixtures/gate-source.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';

const plugins = join(import.meta.dirname, '../../../plugins');
let fixtures: string;

beforeAll(async () => {
  fixtures = await buildFixtures('tag-v1-as', 'misbehave-as');
});

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const header = (r: StreamRecord, name: string) => r.headers.filter((h) => h.name === name).map((h) => text(h.value));

/** Record `seq` has key `k<seq % keys>`, value `<seq>` and event time `seq` ms. */
class PacedSource {
  /** Records the source may emit so far; the test raises it. */
  allowed = 0;
  #seq = 0;
  readonly #count: number;
  readonly #keys: number;

  constructor(count: number, keys: number) {
    this.#count = count;
    this.#keys = keys;
  }

  source(): Source {
    return {
      poll: async (max) => {
        if (this.#seq >= this.#count) return { records: [], position: undefined, done: true };
        const n = Math.min(max, this.allowed - this.#seq);
        if (n <= 0) {
          await sleep(1);
          return { records: [], position: undefined, done: false };
        }
        const records: StreamRecord[] = [];
        for (let i = 0; i < n; i++, this.#seq++) {
          records.push({ key: new TextEncoder().encode(`k${this.#seq % this.#keys}`), value: new TextEncoder().encode(String(this.#seq)), headers: [], eventTime: BigInt(this.#seq) });
        }
        return { records, position: undefined, done: false };
      },
      close: async () => {},
    };
  }
}

/** A registry with the paced source (`paced`) and a sink that collects by `config.name` (`collect`). */
function testConnectors(source: PacedSource, collected: Map<string, StreamRecord[]>): ConnectorRegistry {
  return builtinConnectors()
    .register({ kind: 'source', name: 'paced', description: 'test', configSchema: { type: 'object' }, create: () => source.source() })
    .register({
      kind: 'sink', name: 'collect', description: 'test', configSchema: { type: 'object' },
      create: (config) => {
        const into = collected.get(config.name as string) ?? [];
        collected.set(config.name as string, into);
        return { write: async (batch) => void into.push(...batch), flush: async () => {}, close: async () => {} };
      },
    });
}

/** A pipeline file in its own folder, with the plugins it names copied in. */
async function pipelineFolder(files: string[]): Promise<{ dir: string; write: (nodes: object[]) => Promise<string> }> {
  const dir = await mkdtemp(join(tmpdir(), 'weir-edits-'));
  for (const file of files) await copyFile(file, join(dir, file.split('/').at(-1)!));
  const write = async (nodes: object[]) => {
    const file = join(dir, 'pipeline.json');
    await writeFile(file, JSON.stringify({ name: 'edits', plugins: { dir }, nodes }));
    return file;
  };
  return { dir, write };
}

describe('structural pipeline.json edits while running', () => {
  it('adds, removes and rewires nodes and changes parallelism: nothing lost or repeated, keyed state carried over', async () => {
    const count = 12000;
    const paced = new PacedSource(count, 7);
    const collected = new Map<string, StreamRecord[]>();
    const connectors = testConnectors(paced, collected);
    const { write } = await pipelineFolder([join(plugins, 'count-by-key-as.wasm'), join(fixtures, 'tag-v1-as.wasm'), join(fixtures, 'misbehave-as.wasm')]);
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const source = { id: 'src', kind: 'source', connector: 'paced', batch: { maxRecords: 64 } };
    const counter = (extra: object) => ({ id: 'count', kind: 'processor', plugin: 'count-by-key-as.wasm', inputs: ['src'], ...extra });
    const sink = (id: string, input: string) => ({ id, kind: 'sink', connector: 'collect', inputs: [input], config: { name: id } });
    const prepare = async (nodes: object[]) => {
      const prepared = await preparePipeline(await write(nodes), engine, connectors);
      if (!prepared.ok) throw new Error(JSON.stringify(prepared.problems));
      return prepared;
    };
    const started = await prepare([source, counter({}), sink('out', 'count')]);
    const run = await PipelineRun.start(started.config, { modules: started.modules, connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough() });
    const edit = async (nodes: object[]): Promise<ApplyOutcome> => {
      const prepared = await prepare(nodes);
      return run.apply(prepared.config, prepared.modules);
    };
    /** Lets the source emit up to `n` records and waits until the sinks have them all. */
    const releaseTo = async (n: number) => {
      paced.allowed = n;
      const written = () => run.stats().find((s) => s.id === 'out')!.out;
      await until(() => written() >= n);
      expect(written()).toBe(n);
    };

    await releaseTo(3000);
    // Parallelism 1 -> 3 under key partitioning, and a second sink on the counter.
    expect(await edit([source, counter({ parallelism: 3, partition: 'key' }), sink('out', 'count'), sink('audit', 'count')]))
      .toMatchObject({ ok: true, added: ['audit'], removed: [], rewired: ['count'] });
    await releaseTo(6000);
    // The audit sink goes; a tagger goes in between the counter and out; parallelism 3 -> 2.
    const tagged = [source, counter({ parallelism: 2, partition: 'key' }), { id: 'tag', kind: 'processor', plugin: 'tag-v1-as.wasm', inputs: ['count'] }, sink('out', 'tag')];
    expect(await edit(tagged)).toMatchObject({ ok: true, added: ['tag'], removed: ['audit'], rewired: ['count', 'out'] });
    await releaseTo(9000);

    // Refused whole: a connector source cannot change (it would start over), a kind cannot change.
    const refusedEdit = await edit([{ ...source, config: { other: true } }, ...tagged.slice(1, 3), { ...sink('out', 'tag'), kind: 'processor', plugin: 'tag-v1-as.wasm', connector: undefined }, sink('out2', 'out')]);
    expect(refusedEdit.ok).toBe(false);
    expect(refusedEdit.reasons).toEqual([
      expect.stringContaining('node "src": connector source changed'),
      expect.stringContaining('node "out": kind changed from sink to processor'),
    ]);
    // Rolled back whole: the second added node fails its configure, so the first (already built) is closed again.
    const failing = await edit([...tagged, sink('extra', 'count'), { id: 'bad', kind: 'processor', plugin: 'misbehave-as.wasm', inputs: ['count'], config: { mode: 'configure' } }, sink('bad-out', 'bad')]);
    expect(failing.ok).toBe(false);
    expect(failing.reasons).toEqual([expect.stringContaining('node "bad"')]);
    expect(run.stats().map((s) => s.id)).toEqual(['src', 'count', 'out', 'audit', 'tag']);
    await releaseTo(count);
    const summary = await run.done;

    expect(summary.status).toBe('completed');
    const out = collected.get('out')!;
    expect(out.map((r) => Number(text(r.value))).sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i));
    // Per key: order kept, the running count went on across every rewire (1, 2, 3, ...).
    const perKey = new Map<string, number[]>();
    for (const record of out) {
      const seqs = perKey.get(text(record.key!)) ?? [];
      seqs.push(Number(text(record.value)));
      perKey.set(text(record.key!), seqs);
      expect(header(record, 'count')).toEqual([String(seqs.length)]);
    }
    for (const seqs of perKey.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // The audit sink saw exactly the records of its lifetime; the tagger exactly those after it came in.
    expect(collected.get('audit')!.map((r) => Number(text(r.value))).sort((a, b) => a - b)).toEqual(Array.from({ length: 3000 }, (_, i) => 3000 + i));
    expect(out.filter((r) => header(r, 'version').length > 0).map((r) => Number(text(r.value))).sort((a, b) => a - b)).toEqual(Array.from({ length: 6000 }, (_, i) => 6000 + i));
    expect(collected.has('extra')).toBe(true); // created while building the failed edit, then closed, and never written to
    expect(collected.get('extra')).toEqual([]);
    const byId = new Map(summary.nodes.map((n) => [n.id, n]));
    expect(byId.get('audit')).toMatchObject({ removed: true, in: 3000, out: 3000 });
    expect(byId.get('count')).toMatchObject({ in: count, out: count });
    // Versions and since when they run: the tagger came in after the counter started.
    expect(byId.get('tag')!.pluginSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(byId.get('tag')!.pluginLoadedAt!)).toBeGreaterThan(Date.parse(byId.get('count')!.pluginLoadedAt!));
    expect(summary.totals).toMatchObject({ read: count, written: count + 3000 });
  }, 300_000);

  it('a source waiting for input does not hold up a rewire, and its next records reach the new wiring', async () => {
    const gate = new GateSource();
    const collected = new Map<string, StreamRecord[]>();
    const connectors = testConnectors(new PacedSource(0, 1), collected).register({ kind: 'source', name: 'gate', description: 'test', configSchema: { type: 'object' }, create: () => gate });
    const { write } = await pipelineFolder([]);
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const nodes = [
      { id: 'in', kind: 'source', connector: 'gate' },
      { id: 'out', kind: 'sink', connector: 'collect', inputs: ['in'], config: { name: 'out' } },
    ];
    const started = await preparePipeline(await write(nodes), engine, connectors);
    if (!started.ok) throw new Error(JSON.stringify(started.problems));
    const run = await PipelineRun.start(started.config, { modules: started.modules, connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough() });
    const values = (name: string) => (collected.get(name) ?? []).map((r) => text(r.value));
    gate.give(['a', 'b', 'c']);
    await until(() => values('out').length >= 3);

    // The source now waits for input; the edit applies anyway.
    const edited = await preparePipeline(await write([...nodes, { id: 'tap', kind: 'sink', connector: 'collect', inputs: ['in'], config: { name: 'tap' } }]), engine, connectors);
    if (!edited.ok) throw new Error(JSON.stringify(edited.problems));
    expect(await run.apply(edited.config, edited.modules)).toMatchObject({ ok: true, added: ['tap'] });
    gate.give(['d', 'e']);
    gate.end();
    const summary = await run.done;

    expect(summary.status).toBe('completed');
    expect(values('out')).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(values('tap')).toEqual(['d', 'e']);
  }, 300_000);

  it('a refused edit closes what it built, and a close that fails there is logged, not lost', async () => {
    const logs: Array<{ msg: string; node?: string; err?: string }> = [];
    const logStream = new Writable({ write: (chunk: Buffer, _enc, done) => { logs.push(JSON.parse(chunk.toString('utf8')) as { msg: string }); done(); } });
    const connectors = builtinConnectors()
      .register({
        kind: 'sink', name: 'leaky', description: 'test: its close fails', configSchema: { type: 'object' },
        create: () => ({ write: async () => {}, flush: async () => {}, close: async () => { throw new Error('close went wrong'); } }),
      })
      .register({
        kind: 'sink', name: 'broken', description: 'test: cannot be created', configSchema: { type: 'object' },
        create: () => { throw new Error('no such device'); },
      });
    const { write } = await pipelineFolder([]);
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const nodes = [
      { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 1000 } },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['gen'] },
    ];
    const started = await preparePipeline(await write(nodes), engine, connectors);
    if (!started.ok) throw new Error(JSON.stringify(started.problems));
    const run = await PipelineRun.start(started.config, { modules: started.modules, connectors, logger: pino({ level: 'warn' }, logStream), stdin: Readable.from([]), stdout: new PassThrough() });
    const edited = await preparePipeline(await write([
      ...nodes,
      { id: 'leaky', kind: 'sink', connector: 'leaky', inputs: ['gen'] },
      { id: 'broken', kind: 'sink', connector: 'broken', inputs: ['gen'] },
    ]), engine, connectors);
    if (!edited.ok) throw new Error(JSON.stringify(edited.problems));
    const outcome = await run.apply(edited.config, edited.modules);
    expect(outcome.ok).toBe(false);
    expect(outcome.reasons.join(' ')).toContain('no such device');
    expect(logs).toContainEqual(expect.objectContaining({ level: 40, node: 'leaky', err: 'close went wrong', msg: 'closing a node built for a refused edit failed' }));
    run.stop();
    expect((await run.done).status).toBe('stopped');
  }, 300_000);

  it('a windowed node keeps its open windows across a rewire and a reload of its plugin', async () => {
    const count = 20000;
    const paced = new PacedSource(count, 3);
    const collected = new Map<string, StreamRecord[]>();
    const connectors = testConnectors(paced, collected);
    const { dir, write } = await pipelineFolder([join(plugins, 'sensor-average-js.wasm')]);
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const nodes = [
      { id: 'src', kind: 'source', connector: 'paced', batch: { maxRecords: 100 } },
      { id: 'avg', kind: 'processor', plugin: 'sensor-average-js.wasm', inputs: ['src'], window: { type: 'tumbling', sizeMs: 1000 } },
      { id: 'out', kind: 'sink', connector: 'collect', inputs: ['avg'], config: { name: 'out' } },
    ];
    const started = await preparePipeline(await write(nodes), engine, connectors);
    if (!started.ok) throw new Error(JSON.stringify(started.problems));
    const run = await PipelineRun.start(started.config, { modules: started.modules, connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough() });
    const releaseTo = async (n: number) => {
      paced.allowed = n;
      const taken = () => run.stats().find((s) => s.id === 'avg')!.in;
      await until(() => taken() >= n);
      expect(taken()).toBe(n);
    };

    // Each pause falls inside a window (2500 in [2000, 3000), 7500 in [7000, 8000)), so an early close would split one.
    await releaseTo(2500);
    const edited = await preparePipeline(await write([...nodes, { id: 'peek', kind: 'sink', connector: 'collect', inputs: ['avg'], config: { name: 'peek' } }]), engine, connectors);
    if (!edited.ok) throw new Error(JSON.stringify(edited.problems));
    expect(await run.apply(edited.config, edited.modules)).toMatchObject({ ok: true, added: ['peek'] });
    await releaseTo(7500);
    // Another build of the same plugin (a custom section appended): the open windows' accumulators go to it.
    const file = join(dir, 'sensor-average-js.wasm');
    await writeFile(file, new Uint8Array([...(await readFile(file)), 0x00, 0x05, 0x04, 0x74, 0x65, 0x73, 0x74]));
    expect(await run.reload(await engine.load(file))).toEqual([expect.objectContaining({ node: 'avg', ok: true })]);
    await releaseTo(count);
    const summary = await run.done;

    expect(summary.status).toBe('completed');
    // Every window closed exactly once, with all of its records: what a run without edits gives.
    const expected: object[] = [];
    for (let start = 0; start < count; start += 1000) {
      for (let k = 0; k < 3; k++) {
        const seqs = Array.from({ length: 1000 }, (_, i) => start + i).filter((s) => s % 3 === k);
        const avg = Math.round((seqs.reduce((a, b) => a + b, 0) / seqs.length) * 100) / 100;
        expected.push({ sensor: `k${k}`, start, end: start + 1000, count: seqs.length, avg });
      }
    }
    const windows = (name: string) => collected.get(name)!.map((r) => JSON.parse(text(r.value)) as { start: number; sensor: string })
      .sort((a, b) => a.start - b.start || a.sensor.localeCompare(b.sensor));
    expect(windows('out')).toEqual(expected);
    // The added sink saw the windows that closed after it came in (from [2000, 3000) on).
    expect(windows('peek')).toEqual(expected.filter((w) => (w as { start: number }).start >= 2000));
    expect(summary.nodes.find((n) => n.id === 'avg')).toMatchObject({ reloads: 1 });
  }, 300_000);
});
