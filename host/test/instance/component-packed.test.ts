/**
 * The packed path of components (world `packed-processor`): a processor that
 * exports `process-packed` gets `processPacked(batch)` on its instance, which
 * runs under the same guard as `process` (fuel, memory cap, output cap) and
 * hands back a checked copy. Components without the export (JS, built for
 * `processor`) load and run through `process` alone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { buildPlugin } from '../../src/build/plugin-build.js';
import { Engine } from '../../src/engine/engine.js';
import type { PluginModule } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { LimitsSettings } from '../../src/contract/limits.js';
import type { InThreadProcessorInstance } from '../../src/contract/plugin.js';
import { decodeBatch, encodeBatch } from '../../src/records/batch-codec.js';
import { textRecord } from '../../src/records/record.js';
import { failure } from '../fixtures/failure.js';

let packedRust: PluginModule;
let probeJs: PluginModule;

beforeAll(async () => {
  const fixtures = await buildFixtures('packed-rust', 'probe-js');
  const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
  packedRust = await engine.load(join(fixtures, 'packed-rust.wasm'));
  probeJs = await engine.load(join(fixtures, 'probe-js.wasm'));
}, 300_000);

/** Small limits, so that the bombs go off fast. */
const SMALL: Partial<LimitsSettings> = { memoryMb: 32, fuel: 200_000_000, maxOutputBytes: 1 << 20 };

async function processor(module: PluginModule, mode: string, limits: Partial<LimitsSettings> = SMALL, config: Record<string, unknown> = { mode }): Promise<InThreadProcessorInstance> {
  const host = createHostContext({
    node: 'packed', plugin: 'packed.wasm', config, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
    metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
  });
  const instance = (await instantiate(module, 'processor', host, instanceLimits({ ...DEFAULT_LIMITS, ...limits }))) as InThreadProcessorInstance;
  instance.configure(JSON.stringify(config));
  return instance;
}

const batch = [
  textRecord('hello', { key: 'k1', headers: [['h', 'v']], eventTime: 17n }),
  textRecord('wörld'),
  textRecord(''),
];


describe('processPacked of a packed-processor component (Rust SDK)', () => {
  it('exports process-packed, and gives the same records as process, in a buffer of its own', async () => {
    expect(packedRust.exports).toEqual(expect.arrayContaining(['configure', 'process', 'processPacked']));
    expect(packedRust.check('processor')).toEqual([]);
    const instance = await processor(packedRust, 'upper');
    const packed = instance.processPacked!(encodeBatch(batch));
    expect(packed).toBeInstanceOf(Uint8Array);
    const typed = instance.process(batch);
    expect(decodeBatch(packed)).toEqual(typed);
    expect(typed.map((r) => new TextDecoder().decode(r.value))).toEqual(['HELLO', 'WöRLD', '']);
    expect(typed[0]).toMatchObject({ key: new TextEncoder().encode('k1'), eventTime: 17n, headers: [{ name: 'h', value: new TextEncoder().encode('v') }] });
    // Calls alternate freely and the instance keeps working: an empty batch, then a typed call again.
    expect(decodeBatch(instance.processPacked!(encodeBatch([])))).toEqual([]);
    expect(instance.process(batch)).toEqual(typed);
    expect(instance.usage().calls).toBe(5);
    instance.close();
  });

  it("the SDK's default process-packed (decode, process, encode) gives what process gives (plugins/uppercase-rust)", async () => {
    const built = await buildPlugin(join(import.meta.dirname, '../../../plugins/uppercase-rust'), await mkdtemp(join(tmpdir(), 'weir-uppercase-')));
    const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
    const instance = await processor(await engine.load(built.outFile), '', SMALL, { tag: 'packed' });
    const many = Array.from({ length: 300 }, (_, i) => textRecord(`value ${i}`, { key: i % 2 ? `k${i}` : undefined, headers: i % 3 ? [] : [['n', `${i}`]], eventTime: i % 5 ? BigInt(i) : undefined }));
    expect(decodeBatch(instance.processPacked!(encodeBatch(many)))).toEqual(instance.process(many));
    instance.close();
  }, 300_000);

  it('a runaway loop in process-packed runs out of fuel: WEIR_LIMIT_CPU, and the instance is poisoned', async () => {
    const instance = await processor(packedRust, 'loop');
    expect(instance.process(batch)).toHaveLength(3);
    const error = failure(() => instance.processPacked!(encodeBatch(batch)));
    expect(error.code).toBe('WEIR_LIMIT_CPU');
    expect(error.details).toMatchObject({ function: 'process-packed', limit: 'fuel' });
    expect(failure(() => instance.process(batch)).message).toContain('poisoned');
  });

  it('an allocation past the memory cap in process-packed fails WEIR_LIMIT_MEMORY', async () => {
    const instance = await processor(packedRust, 'grow');
    const error = failure(() => instance.processPacked!(encodeBatch(batch)));
    expect(error.code).toBe('WEIR_LIMIT_MEMORY');
    expect(error.details).toMatchObject({ function: 'process-packed', limit: 'memory' });
  });

  it('a malformed packed output is refused: WEIR_PLUGIN_BAD_OUTPUT, poisoned', async () => {
    const instance = await processor(packedRust, 'malformed');
    const error = failure(() => instance.processPacked!(encodeBatch(batch)));
    expect(error.code).toBe('WEIR_PLUGIN_BAD_OUTPUT');
    expect(error.message).toContain('malformed packed batch');
    expect(error.details).toMatchObject({ node: 'packed', function: 'process-packed' });
    expect(failure(() => instance.process(batch)).message).toContain('poisoned');
  });

  it('a header name that is not UTF-8 is refused inside the call: WEIR_PLUGIN_BAD_OUTPUT, poisoned', async () => {
    const instance = await processor(packedRust, 'bad-header-name');
    const error = failure(() => instance.processPacked!(encodeBatch(batch)));
    expect(error.code).toBe('WEIR_PLUGIN_BAD_OUTPUT');
    expect(error.message).toContain('not valid UTF-8');
    expect(error.details).toMatchObject({ node: 'packed', function: 'process-packed' });
    expect(failure(() => instance.process(batch)).message).toContain('poisoned');
  });

  it('an output over maxOutputBytes is refused: WEIR_LIMIT_OUTPUT, and the instance goes on', async () => {
    const instance = await processor(packedRust, 'oversized');
    const error = failure(() => instance.processPacked!(encodeBatch(batch)));
    expect(error.code).toBe('WEIR_LIMIT_OUTPUT');
    expect(error.details).toMatchObject({ node: 'packed', function: 'process-packed', limit: 'output' });
    expect(error.details.bytes).toBeGreaterThan(2 << 20);
    expect(instance.process(batch)).toHaveLength(3);
  });

  it('an output that would decode past maxOutputBytes is refused before it is decoded: WEIR_LIMIT_OUTPUT', async () => {
    // 1.6 MB packed is within 2 MiB, but 200,000 headers decode into about 30 MB.
    const instance = await processor(packedRust, 'many-headers', { ...SMALL, maxOutputBytes: 2 << 20 });
    const error = failure(() => instance.processPacked!(encodeBatch(batch)));
    expect(error.code).toBe('WEIR_LIMIT_OUTPUT');
    expect(error.details).toMatchObject({ function: 'process-packed', headers: 200_000, records: 1 });
    expect(error.details.decodedBytes).toBeGreaterThan(2 << 20);
    const roomy = await processor(packedRust, 'many-headers', { ...SMALL, maxOutputBytes: 64 << 20 });
    expect(decodeBatch(roomy.processPacked!(encodeBatch(batch)))[0]!.headers).toHaveLength(200_000);
  });

  it('an error result is WEIR_PLUGIN_ERROR with its kind, and the instance goes on', async () => {
    const instance = await processor(packedRust, 'error');
    const error = failure(() => instance.processPacked!(encodeBatch(batch)));
    expect(error.code).toBe('WEIR_PLUGIN_ERROR');
    expect(error.details).toMatchObject({ function: 'process-packed', kind: 'invalid-input' });
    expect(instance.process(batch)).toHaveLength(3);
  });
});

describe('the transpile cache', () => {
  it('keeps process-packed in its entry: a cache hit gives an instance with processPacked', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
    const first = await new Engine({ cacheDir }).load(packedRust.file);
    const hit = await new Engine({ cacheDir }).load(packedRust.file);
    expect([first.cacheHit, hit.cacheHit]).toEqual([false, true]);
    expect(hit.exports).toEqual(first.exports);
    const instance = await processor(hit, 'upper');
    expect(decodeBatch(instance.processPacked!(encodeBatch(batch)))).toEqual(instance.process(batch));
    instance.close();
  });
});

describe('components without process-packed', () => {
  it('load, fit a processor node and run through process; the instance has no processPacked', async () => {
    expect(probeJs.exports).not.toContain('processPacked');
    expect(probeJs.check('processor')).toEqual([]);
    const instance = await processor(probeJs, '');
    expect(instance.processPacked).toBeUndefined();
    expect(instance.process([textRecord('a', { key: 'k' })]).map((r) => new TextDecoder().decode(r.value))).toEqual(['a#1']);
    instance.close();
  });
});
