import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { preparePipeline } from '../../src/cli/prepare-pipeline.js';
import { Engine } from '../../src/engine/engine.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import { PipelineRun } from '../../src/topology/pipeline-run.js';
import { MAX_RANDOM_BYTES, componentImportCapability, coreImportCapability, denial, randomBytes, wasiComponentImports } from '../../src/linker/capabilities.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';

let fixtures: string;
let cacheDir: string;

beforeAll(async () => {
  fixtures = await buildFixtures('wasi-grants-as');
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

async function prepare(capabilities: Record<string, unknown> | undefined) {
  const dir = await mkdtemp(join(tmpdir(), 'weir-grants-'));
  await writeFile(join(dir, 'in.jsonl'), '{"value":"a"}\n{"value":"b"}\n');
  const file = join(dir, 'pipeline.json');
  await writeFile(file, JSON.stringify({
    name: 'grants',
    plugins: { dir: fixtures },
    nodes: [
      { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
      { id: 'wasi', kind: 'processor', plugin: 'wasi-grants-as.wasm', inputs: ['in'], ...(capabilities ? { capabilities } : {}) },
      { id: 'out', kind: 'sink', connector: 'file', inputs: ['wasi'], config: { path: 'out.jsonl' } },
    ],
  }));
  const connectors = builtinConnectors();
  return { dir, connectors, prepared: await preparePipeline(file, new Engine({ cacheDir }), connectors) };
}

describe('capabilities', () => {
  it('refuses a plugin whose WASI imports are not granted, naming each import and the grant', async () => {
    const { prepared } = await prepare(undefined);
    expect(prepared.ok).toBe(false);
    const messages = prepared.ok ? [] : prepared.problems.map((p) => `${p.pointer} ${p.message}`);
    // One problem per capability, naming every import that needs it.
    expect(messages).toHaveLength(3);
    expect(messages).toEqual(expect.arrayContaining([
      expect.stringMatching(/^\/nodes\/1\/plugin .*imports "wasi_snapshot_preview1"\."environ_sizes_get", "wasi_snapshot_preview1"\."environ_get", which need the "env" capability .*"capabilities": \{"env": \["NAME", \.\.\.\]\}/),
      expect.stringMatching(/imports "wasi_snapshot_preview1"\."clock_time_get", which needs the "clock" capability .*\{"clock": true\}/),
      expect.stringMatching(/imports "wasi_snapshot_preview1"\."random_get", which needs the "random" capability .*\{"random": true\}/),
    ]));
  });

  it('gives a granted plugin exactly the named environment variables, a clock and random bytes', async () => {
    process.env.WEIR_TEST_GREETING = 'hello';
    process.env.WEIR_TEST_SECRET = 'do-not-leak';
    const { prepared, connectors, dir } = await prepare({ env: ['WEIR_TEST_GREETING', 'WEIR_TEST_UNSET'], clock: true, random: true });
    if (!prepared.ok) throw new Error(JSON.stringify(prepared.problems));
    const run = await PipelineRun.start(prepared.config, {
      modules: prepared.modules, connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough(),
    });
    expect((await run.done).status).toBe('completed');
    const out = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { value: string }).value);
    expect(out).toEqual(['a|env=WEIR_TEST_GREETING=hello|clock=ok|random=ok', 'b|env=WEIR_TEST_GREETING=hello|clock=ok|random=ok']);
  });

  it('maps WASI imports to capabilities, and says plainly which ones cannot be granted', () => {
    expect(componentImportCapability('wasi:cli/environment')).toBe('env');
    expect(componentImportCapability('wasi:clocks/monotonic-clock')).toBe('clock');
    expect(componentImportCapability('wasi:random/insecure-seed')).toBe('random');
    expect(componentImportCapability('wasi:sockets/tcp')).toBe('network');
    expect(componentImportCapability('weir:plugin/log')).toBeUndefined();
    expect(coreImportCapability('wasi_snapshot_preview1', 'fd_write')).toBe('filesystem');
    expect(coreImportCapability('env', 'abort')).toBeUndefined();
    const grants = { env: [], clock: true, random: false, filesystem: [] };
    expect(denial('"wasi:clocks/wall-clock"', 'clock', grants)).toBeUndefined();
    expect(denial('"wasi:http/outgoing-handler"', 'network', grants)).toContain('cannot grant');
  });

  it('offers granted WASI interfaces to components, and only those', () => {
    process.env.WEIR_TEST_GREETING = 'hello';
    const imports = wasiComponentImports({ env: ['WEIR_TEST_GREETING'], clock: true, random: false, filesystem: [] });
    expect(Object.keys(imports).sort()).toEqual(['wasi:cli/environment', 'wasi:clocks/monotonic-clock', 'wasi:clocks/wall-clock']);
    expect((imports['wasi:cli/environment']!.getEnvironment as () => unknown)()).toEqual([['WEIR_TEST_GREETING', 'hello']]);
    const now = (imports['wasi:clocks/wall-clock']!.now as () => { seconds: bigint })();
    expect(Number(now.seconds)).toBeGreaterThan(1_577_836_800);
  });
});

describe('random grants', () => {
  it('refuses to allocate more random bytes in one call than a call may ask for (the host pays before fuel is charged)', () => {
    expect(randomBytes(16).byteLength).toBe(16);
    expect(randomBytes(BigInt(MAX_RANDOM_BYTES)).byteLength).toBe(MAX_RANDOM_BYTES);
    expect(() => randomBytes(2n ** 40n)).toThrow(expect.objectContaining({ code: 'WEIR_PLUGIN_TRAP' }));
  });
});
