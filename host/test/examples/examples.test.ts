/**
 * Golden tests for examples/: every folder with a pipeline.json and an
 * expected.jsonl runs (in a temporary copy) and must write exactly the
 * expected output. Then the conformance test: each example plugin exists in
 * JavaScript, AssemblyScript and Rust, and the three must produce the same
 * output, byte for byte, in the same pipeline. Last, each example plugin's
 * own sample (what a hot reload checks a new build against) passes.
 */
import { describe, expect, it } from 'vitest';
import { cp, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { sampleSelfTest } from '../../src/testing/sample-check.js';
import { DEFAULT_LIMITS } from '../../src/contract/limits.js';
import { NO_GRANTS } from '../../src/contract/grants.js';
import { findRustc } from '../../src/build/rust-build.js';
import type { NodeConfig } from '../../src/config/pipeline-config.js';
import { pipelinesClosedAfterEach } from '../fixtures/test-pipeline.js';

const root = join(import.meta.dirname, '../../..');
const examples = join(root, 'examples');
const plugins = join(root, 'plugins');
const cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));

interface PipelineFile {
  plugins?: { dir?: string };
  nodes: Array<{ id: string; plugin?: string }>;
}

const startPipeline = pipelinesClosedAfterEach();

/** Runs examples/<name> in a temporary copy, with `edit` applied to its pipeline; returns the output file's text. */
async function runExample(name: string, edit: (pipeline: PipelineFile) => void = () => {}) {
  const dir = await mkdtemp(join(tmpdir(), `weir-example-${name}-`));
  await cp(join(examples, name), dir, { recursive: true, filter: (source) => !source.includes('/out') });
  const pipeline = JSON.parse(await readFile(join(dir, 'pipeline.json'), 'utf8')) as PipelineFile;
  pipeline.plugins = { dir: plugins };
  edit(pipeline);
  const { run } = await startPipeline({ dir, pipeline, cacheDir });
  const summary = await run.done;
  expect(summary.status).toBe('completed');
  return { output: await readFile(join(dir, 'out/output.jsonl'), 'utf8'), run, summary };
}

/** The lines of each key, in their order. */
function byKey(jsonl: string): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  for (const line of jsonl.trim().split('\n')) (groups[(JSON.parse(line) as { key?: string }).key ?? ''] ??= []).push(line);
  return groups;
}

const golden = (await readdir(examples)).filter((name) => existsSync(join(examples, name, 'expected.jsonl'))).sort();

describe('examples (golden)', () => {
  it('has the examples the docs promise', () => {
    expect(golden).toEqual(['count-by-key', 'fan-out', 'field-filter', 'file-lookup', 'lookup', 'named-outputs', 'parallel-enrich', 'plugin-connectors', 'quickstart', 'sessions', 'tumbling-average', 'uppercase']);
  });

  it.each(golden)('%s writes exactly its expected.jsonl', async (name) => {
    const { output } = await runExample(name);
    const expected = await readFile(join(examples, name, 'expected.jsonl'), 'utf8');
    const pipeline = JSON.parse(await readFile(join(examples, name, 'pipeline.json'), 'utf8')) as { nodes: Array<{ parallelism?: number }> };
    // Parallel instances interleave their outputs; what they promise is the order of each key.
    if (pipeline.nodes.some((n) => (n.parallelism ?? 1) > 1)) expect(byKey(output)).toEqual(byKey(expected));
    else expect(output).toBe(expected);
  });

  it('named-outputs: records the plugin sends to "invalid" reach the reader of validate.invalid, without the routing header', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-named-'));
    const { summary } = await runExample('named-outputs', (pipeline) => {
      (pipeline.nodes.find((n) => n.id === 'rejects') as { config?: Record<string, unknown> }).config = { path: join(dir, 'rejects.jsonl') };
    });
    expect(await readFile(join(dir, 'rejects.jsonl'), 'utf8')).toBe(await readFile(join(examples, 'named-outputs', 'expected-rejects.jsonl'), 'utf8'));
    expect(summary.nodes.find((n) => n.id === 'validate')).toMatchObject({ in: 8, out: 8, dropped: 0 });
  });

  it('tumbling-average: readings that arrive after their window closed go to avg.late', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-late-'));
    await runExample('tumbling-average', (pipeline) => {
      (pipeline.nodes.find((n) => n.id === 'late') as { config?: Record<string, unknown> }).config = { path: join(dir, 'late.jsonl') };
    });
    expect(await readFile(join(dir, 'late.jsonl'), 'utf8')).toBe(await readFile(join(examples, 'tumbling-average', 'expected-late.jsonl'), 'utf8'));
  });

  it('fan-out: one source feeds two branches, each to its own sink', async () => {
    const { summary } = await runExample('fan-out');
    expect(summary.totals).toMatchObject({ read: 7, written: 9, filtered: 5, dropped: 0 });
    expect(summary.nodes.find((n) => n.id === 'alerts')).toMatchObject({ in: 2 });
  });

  it('plugin-connectors: the source and the sink are plugins, and the sink saw every record', async () => {
    const { run, summary } = await runExample('plugin-connectors');
    expect(summary.totals).toMatchObject({ read: 7, written: 14 });
    expect(run.pluginMetrics('log')?.counters.get('written')).toBe(7n);
  });
});

/** Example families: the processor node to swap, and the plugin name stem. */
const FAMILIES = [
  { example: 'uppercase', node: 'shout', stem: 'uppercase' },
  { example: 'field-filter', node: 'errors-only', stem: 'field-filter' },
  { example: 'count-by-key', node: 'count', stem: 'count-by-key' },
  { example: 'lookup', node: 'locate', stem: 'lookup' },
  { example: 'file-lookup', node: 'locate', stem: 'region-table' },
  { example: 'sessions', node: 'sessions', stem: 'click-sessions' },
] as const;
const LANGS = ['js', 'as', 'rust'] as const;

describe('conformance: the JavaScript, AssemblyScript and Rust versions of each example agree byte for byte', () => {
  it.each(FAMILIES)('$example', async ({ example, node, stem }) => {
    const expected = await readFile(join(examples, example, 'expected.jsonl'), 'utf8');
    for (const lang of LANGS) {
      const { output } = await runExample(example, (pipeline) => {
        pipeline.nodes.find((n) => n.id === node)!.plugin = `${stem}-${lang}.wasm`;
      });
      expect(output, `${stem}-${lang}`).toBe(expected);
    }
  });

  it('lookup: the service answers the same in JavaScript and Rust', async () => {
    const expected = await readFile(join(examples, 'lookup', 'expected.jsonl'), 'utf8');
    for (const lang of ['js', 'rust']) {
      const { output } = await runExample('lookup', (pipeline) => {
        pipeline.nodes.find((n) => n.id === 'regions')!.plugin = `regions-service-${lang}.wasm`;
        pipeline.nodes.find((n) => n.id === 'locate')!.plugin = 'lookup-as.wasm';
      });
      expect(output, `regions-service-${lang}`).toBe(expected);
    }
  });
});

describe('committed builds of the Rust examples', () => {
  it('match their sources (refresh with node scripts/build-plugins.js --update-prebuilt)', async () => {
    // `npm test` builds plugins/<name>.wasm from source first, so the committed copy beside each
    // Rust source (used where rustc is missing) must equal it. Without rustc, build-plugins.js
    // copies the committed build instead, and comparing it with itself would prove nothing:
    // this test needs rustc (CI installs Debian's /usr/bin/rustc) and fails without it.
    const rustc = await findRustc().catch((error: unknown) => error);
    if (rustc instanceof Error) {
      throw new Error(`this test needs rustc for wasm32 to check the committed Rust builds against their sources (plugins/*-rust.wasm are copies of them here): ${rustc.message}`);
    }
    const rust = (await readdir(plugins)).filter((name) => name.endsWith('-rust') && !name.endsWith('.wasm')).sort();
    expect(rust.length).toBeGreaterThanOrEqual(5);
    for (const name of rust) {
      const built = await readFile(join(plugins, `${name}.wasm`));
      const committed = await readFile(join(plugins, name, `${name}.wasm`));
      expect(Buffer.compare(built, committed), `${name}: plugins/${name}/${name}.wasm is stale`).toBe(0);
    }
  });
});

describe('samples of the example plugins', () => {
  it('each plugin with a sample folder passes it, as a hot reload checks a new build', async () => {
    const engine = new Engine({ cacheDir });
    const withSample = (await readdir(plugins)).filter((name) => existsSync(join(plugins, name, 'sample', 'expected.jsonl'))).sort();
    expect(withSample).toEqual(['count-by-key', 'field-filter', 'uppercase'].flatMap((family) => ['as', 'js', 'rust'].map((lang) => `${family}-${lang}`)).sort());
    const node = { kind: 'processor', limits: DEFAULT_LIMITS, capabilities: NO_GRANTS } as unknown as NodeConfig;
    const failing = (): Uint8Array => {
      throw new Error('the examples call no service');
    };
    for (const name of withSample) {
      const checked = await sampleSelfTest(await engine.load(join(plugins, `${name}.wasm`)), node, failing);
      expect(checked, name).toBeGreaterThanOrEqual(4);
    }
  });
});
