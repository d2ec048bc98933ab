/**
 * The hot-reload load test: a generator through a keyed, parallel processor
 * while its .wasm is replaced 200 times (atomic renames, alternating two
 * builds that tag each record with their version), with a truncated file and
 * a plugin of the wrong world dropped in halfway. Nothing may be lost or
 * duplicated, per-key order and keyed state must hold across versions, every
 * record is tagged by exactly one version, and the bad files must leave the
 * running version serving.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { preparePipeline } from '../../src/cli/prepare-pipeline.js';
import { Engine } from '../../src/engine/engine.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import { PipelineRun } from '../../src/topology/pipeline-run.js';
import type { ReloadOutcome } from '../../src/topology/pipeline-run.js';
import { HotReload } from '../../src/reload/hot-reload.js';
import { sampleSelfTest } from '../../src/testing/sample-check.js';
import type { StreamRecord } from '../../src/records/record.js';
import type { PluginModule } from '../../src/engine/engine.js';
import type { PipelineConfig } from '../../src/config/pipeline-config.js';
import type { ConnectorRegistry } from '../../src/connectors/connector.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { until } from '../fixtures/until.js';

let fixtures: string;

beforeAll(async () => {
  fixtures = await buildFixtures('tag-v1-as', 'tag-v2-as', 'echo-service-js');
});

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Starts a prepared pipeline with silent logs and no stdio. */
async function startQuiet(prepared: { config: PipelineConfig; modules: Map<string, PluginModule> }, connectors: ConnectorRegistry): Promise<PipelineRun> {
  return PipelineRun.start(prepared.config, { modules: prepared.modules, connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough() });
}
const header = (r: StreamRecord, name: string) => r.headers.filter((h) => h.name === name).map((h) => text(h.value));

describe('hot reload', () => {
  it('replaces a running plugin 200 times under load: nothing lost or duplicated, order and state intact, bad files refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-reload-'));
    const plugin = join(dir, 'tagger.wasm');
    await copyFile(join(fixtures, 'tag-v1-as.wasm'), plugin);
    const seen: Array<{ key: string; seq: number; version: string[]; n: string[] }> = [];
    const connectors = builtinConnectors().register({
      kind: 'sink',
      name: 'collect',
      description: 'keeps what the test checks',
      configSchema: { type: 'object' },
      create: () => ({
        write: async (batch) => {
          for (const r of batch) seen.push({ key: text(r.key!), seq: Number(r.eventTime!), version: header(r, 'version'), n: header(r, 'n') });
        },
        flush: async () => {},
        close: async () => {},
      }),
    });
    await writeFile(join(dir, 'pipeline.json'), JSON.stringify({
      name: 'reload',
      plugins: { dir },
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 50000, keyCardinality: 16, startTime: 0 }, batch: { maxRecords: 64 } },
        { id: 'tag', kind: 'processor', plugin: 'tagger.wasm', inputs: ['gen'], parallelism: 2, partition: 'key' },
        { id: 'out', kind: 'sink', connector: 'collect', inputs: ['tag'] },
      ],
    }));
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const prepared = await preparePipeline(join(dir, 'pipeline.json'), engine, connectors);
    if (!prepared.ok) throw new Error(JSON.stringify(prepared.problems));
    const run = await startQuiet(prepared, connectors);
    const outcomes: ReloadOutcome[] = [];
    const reload = await HotReload.start({
      run, engine, running: new Map([[plugin, prepared.modules.get('tag')!.sha256]]), logger: pino({ level: 'silent' }), onOutcome: (o) => outcomes.push(o), stableForMs: 20,
    });

    /** Drops `source` into place by rename, as a deploy would, and waits for the reload's outcome. */
    const dropIn = async (source: string | Uint8Array, expected: number) => {
      const staging = join(dir, `.incoming-${outcomes.length}`);
      if (typeof source === 'string') await copyFile(source, staging);
      else await writeFile(staging, source);
      await rename(staging, plugin);
      await until(() => outcomes.length >= expected);
      expect(outcomes.length, 'one outcome per build').toBe(expected);
    };
    /** Waits until a record tagged by `version` arrives after the first `after` records: that version serves. */
    const served = (version: string, after: number) => until(() => seen.slice(after).some((s) => s.version[0] === version));

    let expected = 0;
    for (let swap = 1; swap <= 200; swap++) {
      // Each build leaves its outcome per node (one node here).
      const before = seen.length;
      await dropIn(join(fixtures, swap % 2 === 1 ? 'tag-v2-as.wasm' : 'tag-v1-as.wasm'), ++expected);
      expect(outcomes.at(-1)).toMatchObject({ node: 'tag', ok: true });
      // Each build serves before the next arrives: the work per swap is records, not milliseconds.
      await served(swap % 2 === 1 ? '2' : '1', before);
      if (swap === 100) {
        const good = await readFile(join(fixtures, 'tag-v1-as.wasm'));
        await dropIn(good.subarray(0, Math.floor(good.length / 2)), ++expected);
        expect(outcomes.at(-1)).toMatchObject({ ok: false, error: { code: 'WEIR_PLUGIN_INVALID_BINARY' } });
        await dropIn(join(fixtures, 'echo-service-js.wasm'), ++expected);
        expect(outcomes.at(-1)).toMatchObject({ node: 'tag', ok: false, error: { code: 'WEIR_PLUGIN_WORLD_MISMATCH' } });
        // Put the version that was serving back, so the alternation goes on.
        await dropIn(join(fixtures, 'tag-v1-as.wasm'), expected);
      }
    }
    run.stop();
    const summary = await run.done;
    await reload.close();

    expect(summary.status).toBe('stopped');
    const tag = summary.nodes.find((n) => n.id === 'tag')!;
    expect(tag).toMatchObject({ reloads: 200, reloadsRejected: 1 });
    expect(summary.totals.read).toBeGreaterThan(1000);
    // Nothing lost, nothing duplicated.
    expect(seen).toHaveLength(summary.totals.read);
    expect(new Set(seen.map((s) => s.seq)).size).toBe(seen.length);
    // Every record tagged by exactly one version, and both versions served.
    expect(seen.every((s) => s.version.length === 1 && (s.version[0] === '1' || s.version[0] === '2'))).toBe(true);
    expect(new Set(seen.map((s) => s.version[0])).size).toBe(2);
    // Per key: order kept, and the count in keyed state went on across versions (1, 2, 3, ...).
    const perKey = new Map<string, number[]>();
    for (const s of seen) {
      const seqs = perKey.get(s.key) ?? [];
      seqs.push(s.seq);
      perKey.set(s.key, seqs);
      expect(s.n).toEqual([String(seqs.length)]);
    }
    for (const seqs of perKey.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // A guard against a hang, not a speed budget: beside two CPU hogs the 200 swaps take minutes.
  }, 900_000);
});

describe('pipeline.json edits while running', () => {
  it('applies a diff only when every changed node passes its checks, structural changes included; plugin files an edit brings in are watched', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-apply-'));
    for (const name of ['tag-v1-as', 'tag-v2-as', 'echo-service-js']) await copyFile(join(fixtures, `${name}.wasm`), join(dir, `${name}.wasm`));
    const versions: string[][] = [];
    const connectors = builtinConnectors().register({
      kind: 'sink', name: 'collect', description: 'test', configSchema: { type: 'object' },
      create: () => ({ write: async (batch) => void versions.push(...batch.map((r) => header(r, 'version'))), flush: async () => {}, close: async () => {} }),
    });
    const file = join(dir, 'pipeline.json');
    const pipeline = (a: string, b: string, extra: object[] = []) => JSON.stringify({
      name: 'apply',
      plugins: { dir },
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 20000 }, batch: { maxRecords: 20 } },
        { id: 'a', kind: 'processor', plugin: a, inputs: ['gen'] },
        { id: 'b', kind: 'processor', plugin: b, inputs: ['a'] },
        { id: 'out', kind: 'sink', connector: 'collect', inputs: ['b'] },
        ...extra,
      ],
    });
    await writeFile(file, pipeline('tag-v1-as.wasm', 'tag-v1-as.wasm'));
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const prepare = () => preparePipeline(file, engine, connectors);
    const prepared = await prepare();
    if (!prepared.ok) throw new Error(JSON.stringify(prepared.problems));
    const run = await startQuiet(prepared, connectors);
    const applied: Array<{ ok: boolean; changed: string[]; reasons: string[] }> = [];
    const reload = await HotReload.start({ run, engine, running: new Map(), logger: pino({ level: 'silent' }), pipeline: { file, prepare }, onApply: (o) => applied.push(o), stableForMs: 20 });
    const edit = async (text: string) => {
      const before = applied.length;
      await writeFile(`${file}.tmp`, text);
      await rename(`${file}.tmp`, file);
      await until(() => applied.length > before);
      return applied.at(-1)!;
    };
    const lastVersions = () => versions.at(-1)!;
    /** Waits until records show `expected` versions. */
    const untilVersions = (expected: string[]) => until(() => JSON.stringify(lastVersions()) === JSON.stringify(expected));
    /** Waits until more records than now have arrived. */
    const moreRecords = async () => {
      const now = versions.length;
      await until(() => versions.length > now);
    };

    await moreRecords();
    // b's new plugin is of the wrong world: nothing switches, a included.
    const refused = await edit(pipeline('tag-v2-as.wasm', 'echo-service-js.wasm'));
    expect(refused.ok).toBe(false);
    expect(refused.reasons.join(' ')).toContain('echo-service-js.wasm');
    // Records go on flowing after the refusal, through the versions that were running.
    const afterRefusal = versions.length;
    await moreRecords();
    expect(versions.slice(afterRefusal).every((v) => JSON.stringify(v) === '["1","1"]')).toBe(true);
    // A structural change and a plugin change in one edit: a sink is added on a, a switches to v2.
    const structural = await edit(pipeline('tag-v2-as.wasm', 'tag-v1-as.wasm', [{ id: 'extra', kind: 'sink', connector: 'null', inputs: ['a'] }]));
    expect(structural).toMatchObject({ ok: true, changed: ['a'], added: ['extra'], removed: [], rewired: [] });
    await untilVersions(['2', '1']);
    // b moves to a plugin file the pipeline did not use before; the edit makes it watched.
    await copyFile(join(dir, 'tag-v1-as.wasm'), join(dir, 'tag-b.wasm'));
    expect(await edit(pipeline('tag-v2-as.wasm', 'tag-b.wasm'))).toMatchObject({ ok: true, changed: ['b'], removed: ['extra'] });
    await copyFile(join(dir, 'tag-v2-as.wasm'), join(dir, 'tag-b.wasm.tmp'));
    await rename(join(dir, 'tag-b.wasm.tmp'), join(dir, 'tag-b.wasm'));
    await untilVersions(['2', '2']);

    run.stop();
    const summary = await run.done;
    await reload.close();
    expect(summary.nodes.find((n) => n.id === 'out')!.out).toBe(summary.totals.read);
    expect(versions).toHaveLength(summary.totals.read);
    expect(summary.nodes.find((n) => n.id === 'a')).toMatchObject({ reloads: 1 });
    expect(summary.nodes.find((n) => n.id === 'b')).toMatchObject({ reloads: 2 });
    expect(summary.nodes.find((n) => n.id === 'extra')).toMatchObject({ removed: true });
  }, 300_000);
});

describe('self-test before switching', () => {
  it('a build that fails the sample beside its source folder is refused; one that passes switches', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-self-test-'));
    await copyFile(join(fixtures, 'tag-v1-as.wasm'), join(dir, 'tag.wasm'));
    // The plugin's source folder carries a sample made with the v1 build (tag/sample/).
    await mkdir(join(dir, 'tag', 'sample'), { recursive: true });
    await writeFile(join(dir, 'tag', 'sample', 'input.jsonl'), '{"key":"a","value":"x"}\n{"key":"a","value":"y"}\n{"key":"b","value":"z"}\n');
    await writeFile(join(dir, 'tag', 'sample', 'expected.jsonl'), [
      '{"key":"a","value":"x","headers":{"version":"1","n":"1"}}',
      '{"key":"a","value":"y","headers":{"version":"1","n":"2"}}',
      '{"key":"b","value":"z","headers":{"version":"1","n":"1"}}',
    ].join('\n') + '\n');
    const connectors = builtinConnectors();
    await writeFile(join(dir, 'pipeline.json'), JSON.stringify({
      name: 'self-test',
      plugins: { dir },
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, keyCardinality: 3, ratePerSec: 20000 } },
        { id: 'tag', kind: 'processor', plugin: 'tag.wasm', inputs: ['gen'] },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['tag'] },
      ],
    }));
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const prepared = await preparePipeline(join(dir, 'pipeline.json'), engine, connectors);
    if (!prepared.ok) throw new Error(JSON.stringify(prepared.problems));
    // As `host run` starts it: with the sample self-test before every switch.
    const run = await PipelineRun.start(prepared.config, { modules: prepared.modules, connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough(), checkBeforeSwitch: sampleSelfTest });
    const build = async (from: string) => {
      await writeFile(join(dir, 'tag.wasm'), await readFile(join(fixtures, from)));
      return engine.load(join(dir, 'tag.wasm'));
    };

    // v2 tags "2": it does not give the sample's expected output.
    const [failed] = await run.reload(await build('tag-v2-as.wasm'));
    expect(failed).toMatchObject({ node: 'tag', ok: false, error: { code: 'WEIR_PLUGIN_SELF_TEST_FAILED' } });
    expect((failed as { error: Error }).error.message).toContain('line 1: expected {"key":"a","value":"x","headers":{"version":"1","n":"1"}}, got {"key":"a","value":"x","headers":{"version":"2","n":"1"}}');
    // Another v1 build (a custom section appended) passes its three sample records and switches.
    await writeFile(join(dir, 'tag.wasm'), new Uint8Array([...(await readFile(join(fixtures, 'tag-v1-as.wasm'))), 0x00, 0x05, 0x04, 0x74, 0x65, 0x73, 0x74]));
    expect(await run.reload(await engine.load(join(dir, 'tag.wasm')))).toEqual([expect.objectContaining({ node: 'tag', ok: true, selfTested: 3 })]);
    // A sample whose config.json is broken fails the check, naming the file.
    await writeFile(join(dir, 'tag', 'sample', 'config.json'), '{not json');
    const [badConfig] = await run.reload(await build('tag-v1-as.wasm'));
    expect(badConfig).toMatchObject({ ok: false, error: { code: 'WEIR_PLUGIN_SELF_TEST_FAILED' } });
    expect((badConfig as { error: Error }).error.message).toContain('config.json is not JSON');

    run.stop();
    const summary = await run.done;
    expect(summary.nodes.find((n) => n.id === 'tag')).toMatchObject({ reloads: 1, reloadsRejected: 2 });
    expect(summary.totals.written).toBe(summary.totals.read);
  }, 300_000);
});

describe('reloading sources, sinks and services', () => {
  /** The same plugin with a custom section appended: another build, another hash. */
  const variant = (bytes: Uint8Array) => new Uint8Array([...bytes, 0x00, 0x05, 0x04, 0x74, 0x65, 0x73, 0x74]);

  it('a source resumes after its last position and a sink takes the next batch: nothing lost, nothing twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-reload-io-'));
    const plugins = join(import.meta.dirname, '../../../plugins');
    for (const name of ['counter-source-js', 'log-sink-js']) await copyFile(join(plugins, `${name}.wasm`), join(dir, `${name}.wasm`));
    const count = 100000;
    await writeFile(join(dir, 'pipeline.json'), JSON.stringify({
      name: 'reload-io',
      plugins: { dir },
      nodes: [
        { id: 'events', kind: 'source', plugin: 'counter-source-js.wasm', config: { count }, batch: { maxRecords: 50 } },
        { id: 'log', kind: 'sink', plugin: 'log-sink-js.wasm', inputs: ['events'] },
        { id: 'out', kind: 'sink', connector: 'file', inputs: ['events'], config: { path: 'out.jsonl' } },
      ],
    }));
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const connectors = builtinConnectors();
    const prepared = await preparePipeline(join(dir, 'pipeline.json'), engine, connectors);
    if (!prepared.ok) throw new Error(JSON.stringify(prepared.problems));
    // New builds are written and loaded (transpiled) before the run starts, so each switch is quick.
    const builds = new Map<string, PluginModule>();
    for (const name of ['counter-source-js', 'log-sink-js']) {
      const file = join(dir, `${name}.wasm`);
      await writeFile(file, variant(await readFile(file)));
      builds.set(name, await engine.load(file));
    }
    const run = await startQuiet(prepared, connectors);
    const emitted = () => run.stats().find((s) => s.id === 'events')!.out;
    const replace = async (name: string, after: number) => {
      await until(() => emitted() >= after, 2);
      expect(emitted(), 'the switch happens mid-run').toBeLessThan(count);
      expect(await run.reload(builds.get(name)!)).toEqual([expect.objectContaining({ ok: true })]);
    };
    await replace('counter-source-js', 2000);
    await replace('log-sink-js', 10000);
    const summary = await run.done;

    expect(summary.status).toBe('completed');
    expect(summary.totals.read).toBe(count);
    const byId = new Map(summary.nodes.map((n) => [n.id, n]));
    expect(byId.get('events')).toMatchObject({ reloads: 1, out: count });
    expect(byId.get('log')).toMatchObject({ reloads: 1, in: count });
    expect(run.pluginMetrics('log')?.counters.get('written')).toBe(BigInt(count));
    expect(summary.nodes.find((n) => n.id === 'events')!.resources!.instances).toBe(2);
    const values = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { value: string }).value);
    expect(values).toEqual(Array.from({ length: count }, (_, i) => `event ${i + 1}`));
  }, 300_000);

  it('a service switches between calls, and its callers never see a gap', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-reload-service-'));
    const plugins = join(import.meta.dirname, '../../../plugins');
    for (const name of ['regions-service-js', 'lookup-as']) await copyFile(join(plugins, `${name}.wasm`), join(dir, `${name}.wasm`));
    const count = 40000;
    await writeFile(join(dir, 'pipeline.json'), JSON.stringify({
      name: 'reload-service',
      plugins: { dir },
      nodes: [
        { id: 'regions', kind: 'service', plugin: 'regions-service-js.wasm', config: { table: { k0: 'eu', k1: 'us' } } },
        { id: 'gen', kind: 'source', connector: 'generator', config: { count, keyCardinality: 2, ratePerSec: 20000 }, batch: { maxRecords: 100 } },
        { id: 'locate', kind: 'processor', plugin: 'lookup-as.wasm', inputs: ['gen'], config: { service: 'regions' } },
        { id: 'out', kind: 'sink', connector: 'file', inputs: ['locate'], config: { path: 'out.jsonl' } },
      ],
    }));
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const connectors = builtinConnectors();
    const prepared = await preparePipeline(join(dir, 'pipeline.json'), engine, connectors);
    if (!prepared.ok) throw new Error(JSON.stringify(prepared.problems));
    const file = join(dir, 'regions-service-js.wasm');
    await writeFile(file, variant(await readFile(file)));
    const build = await engine.load(file);
    const run = await startQuiet(prepared, connectors);
    await until(() => run.stats().find((s) => s.id === 'gen')!.out >= 5000, 2);
    expect(run.stats().find((s) => s.id === 'gen')!.out, 'the switch happens mid-run').toBeLessThan(count);
    expect(await run.reload(build)).toEqual([expect.objectContaining({ node: 'regions', ok: true })]);
    const summary = await run.done;
    expect(summary.status).toBe('completed');
    expect(summary.totals).toMatchObject({ read: count, written: count, errors: 0 });
    const regions = summary.nodes.find((n) => n.id === 'regions')!;
    expect(regions).toMatchObject({ reloads: 1, resources: { instances: 2 } });
    // Every call was answered: a call that found no service would have said "unknown".
    const regionsSeen = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { headers: { region: string } }).headers.region);
    expect(regionsSeen).toHaveLength(count);
    expect(new Set(regionsSeen)).toEqual(new Set(['eu', 'us']));
  }, 300_000);
});
