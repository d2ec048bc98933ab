/**
 * Packed batches for JS processors (sdk/js/src/batch.js): a plugin that
 * exports `processBatch` is built with the export `process-packed`, whose
 * output is byte for byte what its typed `process` gives; the host holds it to
 * the same limits as every other path (fuel, memory cap, output cap, output
 * check). The SDK's cursor and writer read and write the host's format, also
 * in Node (where every text conversion takes the JavaScript loops).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { buildFixtures } from '../fixtures/build-fixtures.js';
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
import type { StreamRecord } from '../../src/records/record.js';
import { entryExports, exportsProcessBatch, missingProcessorExports } from '../../src/build/js-entry.js';
import { buildPlugin } from '../../src/build/plugin-build.js';
import { failure } from '../fixtures/failure.js';
// @ts-expect-error the SDK is plain JavaScript without declarations
import { Batch, Output, packedExport } from '../../../sdk/js/src/batch.js';
// @ts-expect-error the SDK is plain JavaScript without declarations
import { bytesToLatin1, decodeUtf8Latin1, encodeUtf8Latin1 } from '../../../sdk/js/src/utf8.js';

let packedJs: PluginModule;
let packedOnlyJs: PluginModule;

beforeAll(async () => {
  const fixtures = await buildFixtures('packed-js', 'packed-only-js');
  const engine = new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) });
  packedJs = await engine.load(join(fixtures, 'packed-js.wasm'));
  packedOnlyJs = await engine.load(join(fixtures, 'packed-only-js.wasm'));
}, 300_000);

/** Small limits, so that the bombs go off fast. */
const SMALL: Partial<LimitsSettings> = { memoryMb: 32, fuel: 200_000_000, maxOutputBytes: 1 << 20 };

async function processor(module: PluginModule, mode: string, cpu: 'fuel' | 'none' = 'fuel'): Promise<InThreadProcessorInstance> {
  const config = { mode };
  const host = createHostContext({
    node: 'packed', plugin: 'packed.wasm', config, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
    metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
  });
  const instance = (await instantiate(module, 'processor', host, instanceLimits({ ...DEFAULT_LIMITS, ...SMALL, cpu: { mode: cpu } }))) as InThreadProcessorInstance;
  instance.configure(JSON.stringify(config));
  return instance;
}

/** Seeded records: ASCII and non-ASCII values (malformed UTF-8 too), keys or none, headers, event times of every range or none. */
function records(n: number): StreamRecord[] {
  let seed = 7;
  const random = (k: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % k;
  };
  const values = ['hello', 'wörld', '', '{"a":"xyz","n":[1,2]}', 'ÿ µ ß à', 'MiXeD cAsE 123'];
  const out: StreamRecord[] = [];
  for (let i = 0; i < n; i++) {
    const record = textRecord(values[random(values.length)]!, {
      key: random(3) === 0 ? undefined : `k${random(20)}`,
      headers: Array.from({ length: random(3) }, (_, h) => [`h${h}-é`, `v${i}`] as [string, string]),
      eventTime: random(4) === 0 ? undefined : BigInt(random(2) === 0 ? random(1 << 30) : -random(1 << 30)) * 4096n,
    });
    if (random(10) === 0) record.value = new Uint8Array([0xff, 0x61, 0xc3, random(256)]);
    out.push(record);
  }
  return out;
}

describe('building a JS processor', () => {
  it('exports process-packed when the plugin exports processBatch (one without has none: component-packed.test.ts)', () => {
    expect(packedJs.exports).toEqual(expect.arrayContaining(['configure', 'process', 'processPacked']));
    expect(packedOnlyJs.exports).toEqual(expect.arrayContaining(['configure', 'process', 'processPacked']));
    expect(packedJs.check('processor')).toEqual([]);
  });

  it('builds the packed world with the optional imports a plugin asks for', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-packed-http-'));
    await writeFile(join(dir, 'plugin.json'), JSON.stringify({ name: 'packed-http', kind: 'processor', lang: 'js', entry: 'index.js', imports: ['http'] }));
    await writeFile(join(dir, 'index.js'), "import { send } from 'weir:plugin/http@0.1.0';\nexport const sender = send;\nexport function configure() {}\nexport function processBatch(batch, out) { while (batch.next()) out.pass(batch); }\n");
    const built = await buildPlugin(dir, dir);
    const module = await new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) }).load(built.outFile);
    expect(module.exports).toEqual(expect.arrayContaining(['configure', 'process', 'processPacked']));
    expect(module.imports.some((name) => name.includes('http'))).toBe(true);
  }, 120_000);

  it('sees processBatch exported in each way a module can say it', () => {
    for (const source of [
      'export function processBatch(batch, out) {}',
      'export const processBatch = (batch, out) => {};',
      'function run() {}\nfunction configure() {}\nexport { configure, run as processBatch };',
      'function processBatch() {}\nfunction configure() {}\nexport { processBatch, configure };',
      "export { configure, processBatch } from './impl.js';",
      "export { configure, run as processBatch } from './impl.js';",
    ]) expect(exportsProcessBatch(entryExports(source)), source).toBe(true);
    // A name only re-exported (export * from) is not seen: such a plugin takes the typed path.
    // Nor are comments and strings that look like an export.
    for (const source of [
      "export * from './impl.js';",
      'export function process(batch) {}',
      'export function processBatches() {}',
      'const processBatch = 1;',
      'export { processBatchLater }',
      '// export function processBatch(batch, out) {}\nexport function process(batch) { return batch; }',
      'export function process(batch) { return batch; }\nconst doc = "export function processBatch(b, o) {}";',
    ]) {
      expect(exportsProcessBatch(entryExports(source)), source).toBe(false);
    }
  });

  it('names the exports a processor lacks (a typo builds no plugin that traps at run time)', () => {
    expect(missingProcessorExports(entryExports('export function configure(c) {}\nexport function processBatch(b, o) {}'))).toEqual([]);
    expect(missingProcessorExports(entryExports('export function configure(c) {}\nexport const process = (b) => b;'))).toEqual([]);
    expect(missingProcessorExports(entryExports('export function configure(c) {}\nexport function procesBatch(b, o) {}'))).toEqual(['process (or processBatch)']);
    expect(missingProcessorExports(entryExports('// export function configure(c) {}\nexport function process(b) { return b; }'))).toEqual(['configure']);
    expect(missingProcessorExports(entryExports("export * from './impl.js';"))).toEqual([]);
    expect(missingProcessorExports(entryExports("export { configure, processBatch } from './impl.js';"))).toEqual([]);
    expect(missingProcessorExports(entryExports('export const { configure, process } = make();'))).toEqual([]);
    // SpiderMonkey builds get no packed export: processBatch alone would not do.
    expect(missingProcessorExports(entryExports('export function configure(c) {}\nexport function processBatch(b, o) {}'), { packedPossible: false })).toEqual(['process (processBatch needs a QuickJS build)']);
  });

  it('refuses an async or generator processBatch at build, saying why: what it writes after an await would be lost', () => {
    for (const source of [
      'export async function processBatch(b, o) {}',
      'export function* processBatch(b, o) {}',
      'export const processBatch = async (b, o) => {};',
      'async function run(b, o) {}\nexport { run as processBatch };',
    ]) {
      const error = failure(() => exportsProcessBatch(entryExports(source), 'index.js'));
      expect(error.code, source).toBe('WEIR_PLUGIN_BUILD_FAILED');
      expect(error.message).toMatch(/^index\.js: processBatch is (async|a generator).*plain function/);
    }
  });
});

describe('process-packed of a JS processor', () => {
  it.each(['fuel', 'none'] as const)('gives, byte for byte, what its typed process gives (cpu %s)', async (cpu) => {
    const instance = await processor(packedJs, 'mirror', cpu);
    for (const batch of [records(1), records(7), records(500), []]) {
      const packed = instance.processPacked!(encodeBatch(batch));
      const typed = instance.process(batch);
      expect(Buffer.from(packed).equals(Buffer.from(encodeBatch(typed)))).toBe(true);
    }
    // The cases show in the output: upper-cased, replaced, dropped, new records with negative event times.
    const out = decodeBatch(instance.processPacked!(encodeBatch([textRecord('abc'), textRecord('abc'), textRecord('abc'), textRecord('abc'), textRecord('abc', { key: 'k' })])));
    expect(out.map((r) => new TextDecoder().decode(r.value))).toEqual(['ABC', 'abc', '«2» überall', 'k']);
    expect(out[3]).toMatchObject({ key: new TextEncoder().encode('abc'), eventTime: -(4n * 2n ** 33n) - 1n, headers: [] });
    expect(out[0]!.headers).toEqual([{ name: 'gesehen-ü', value: new TextEncoder().encode('0') }]);
    instance.close();
  });

  it('a plugin with processBatch alone gets a typed process through the same code', async () => {
    const instance = await processor(packedOnlyJs, '');
    const batch = records(300);
    const packed = instance.processPacked!(encodeBatch(batch));
    expect(Buffer.from(packed).equals(Buffer.from(encodeBatch(instance.process(batch))))).toBe(true);
    const out = decodeBatch(packed);
    expect(out).toHaveLength(600);
    expect(out[0]).toEqual(batch[0]);
    expect(out[1]).toMatchObject({ value: new TextEncoder().encode(`[${new TextDecoder().decode(batch[0]!.value)}]`), headers: batch[0]!.headers, eventTime: batch[0]!.eventTime });
    instance.close();
  });

  it('a malformed packed output is refused: WEIR_PLUGIN_BAD_OUTPUT, poisoned', async () => {
    const instance = await processor(packedJs, 'malformed');
    const error = failure(() => instance.processPacked!(encodeBatch(records(3))));
    expect(error.code).toBe('WEIR_PLUGIN_BAD_OUTPUT');
    expect(error.message).toContain('malformed packed batch');
    expect(error.details).toMatchObject({ node: 'packed', function: 'process-packed' });
    expect(failure(() => instance.process(records(3))).message).toContain('poisoned');
  });

  it('a runaway loop runs out of fuel: WEIR_LIMIT_CPU', async () => {
    const instance = await processor(packedJs, 'loop');
    const error = failure(() => instance.processPacked!(encodeBatch(records(3))));
    expect(error.code).toBe('WEIR_LIMIT_CPU');
    expect(error.details).toMatchObject({ function: 'process-packed', limit: 'fuel' });
  });

  it('an allocation past the memory cap fails WEIR_LIMIT_MEMORY', async () => {
    const instance = await processor(packedJs, 'grow');
    const error = failure(() => instance.processPacked!(encodeBatch(records(3))));
    expect(error.code).toBe('WEIR_LIMIT_MEMORY');
    expect(error.details).toMatchObject({ function: 'process-packed', limit: 'memory' });
  });

  it('an output over maxOutputBytes is refused: WEIR_LIMIT_OUTPUT, and the instance goes on', async () => {
    const instance = await processor(packedJs, 'oversized');
    const error = failure(() => instance.processPacked!(encodeBatch(records(3))));
    expect(error.code).toBe('WEIR_LIMIT_OUTPUT');
    expect(error.details).toMatchObject({ function: 'process-packed', limit: 'output' });
    expect(instance.process(records(3))).toHaveLength(3);
  });

  it('an error result is WEIR_PLUGIN_ERROR with its kind, and the instance goes on', async () => {
    const instance = await processor(packedJs, 'error');
    const error = failure(() => instance.processPacked!(encodeBatch(records(3))));
    expect(error.code).toBe('WEIR_PLUGIN_ERROR');
    expect(error.details).toMatchObject({ function: 'process-packed', kind: 'invalid-input' });
    expect(instance.process(records(3))).toHaveLength(3);
  });
});

describe('the SDK cursor and writer in Node', () => {
  it('read every record of the host format and write it back the same, field by field and whole', () => {
    const batch = records(400);
    const bytes = encodeBatch(batch);
    const cursor = new Batch(bytes);
    const whole = new Output(16);
    const fields = new Output(16);
    const seen: StreamRecord[] = [];
    while (cursor.next()) {
      const { key, value, headers, eventTime } = cursor.record();
      seen.push({ key, value, headers, eventTime: eventTime === undefined ? undefined : BigInt(eventTime) });
      whole.pass(cursor);
      fields.write(key, value, eventTime);
      for (const header of headers) fields.addHeader(header.name, header.value);
    }
    expect(cursor.length).toBe(400);
    expect(seen).toEqual(decodeBatch(bytes));
    expect(Buffer.from(whole.finish()).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(fields.finish()).equals(Buffer.from(bytes))).toBe(true);
  });

  it('passWithLatin1 and passWithText replace the value only, between records passed whole; addHeader adds to the record written last', () => {
    const cursor = new Batch(encodeBatch([textRecord('abc', { key: 'k', headers: [['h', 'v']], eventTime: -5n })]));
    const out = new Output();
    cursor.next();
    out.passWithLatin1(cursor, 'ABC');
    out.pass(cursor);
    out.passWithLatin1(cursor, 'longer \u00ff');
    out.passWithText(cursor, 'ü');
    out.addHeader('x', new Uint8Array([1]));
    const values = decodeBatch(out.finish().slice()).map((r) => [...r.value]);
    expect(values).toEqual([[65, 66, 67], [97, 98, 99], [...Buffer.from('longer ', 'latin1'), 0xff], [0xc3, 0xbc]]);
    const last = decodeBatch(out.finish().slice())[3]!;
    expect(last).toMatchObject({ key: new TextEncoder().encode('k'), eventTime: -5n });
    expect(last.headers.map((h) => h.name)).toEqual(['h', 'x']);
    const wide = new Output();
    wide.passWithLatin1(cursor, 'Ā');
    expect(() => wide.finish()).toThrow(RangeError);
  });

  it('packedExport refuses a processBatch that returns a promise or an iterator, instead of losing what it writes later', () => {
    const batch = encodeBatch([textRecord('a')]);
    expect(() => packedExport({ processBatch: async () => {} })(batch)).toThrow(/plain \(not async, not generator\) function/);
    expect(() => packedExport({ processBatch: function* () {} })(batch)).toThrow(/returned an iterator/);
    expect(() => packedExport({ processBatch: () => [textRecord('a')] })(batch)).toThrow(/returned an array.*returns nothing/);
    expect(decodeBatch(packedExport({ processBatch: (b: Batch, out: Output) => { while (b.next()) out.pass(b); } })(batch))).toEqual([textRecord('a')]);
  });

  it('out.pass and its kin say how to call them when given no cursor, or a cursor on no record', () => {
    const batch = new Batch(encodeBatch([textRecord('a')]));
    const out = new Output();
    out.reset();
    expect(() => out.pass()).toThrow(/batch must be the Batch given to processBatch \(got undefined\)/);
    expect(() => out.passWithText({}, 'x')).toThrow(/batch must be the Batch given to processBatch/);
    expect(() => out.pass(batch)).toThrow(/before its first record: call batch.next\(\) first/);
    expect(batch.next()).toBe(true);
    out.pass(batch);
    expect(batch.next()).toBe(false);
    expect(() => out.passWithValue(batch, new Uint8Array(1))).toThrow(/past its last record/);
    expect(decodeBatch(out.finish().slice())).toEqual([textRecord('a')]);
  });

  it('an Output made with no room grows (it does not loop)', () => {
    const out = new Output(0);
    out.reset();
    out.writeRecord(textRecord('grown'));
    expect(decodeBatch(out.finish().slice())).toEqual([textRecord('grown')]);
  });

  it('refuses a header before any record, and values that are not bytes', () => {
    const out = new Output();
    expect(() => out.addHeader('h', new Uint8Array(0))).toThrow(TypeError);
    expect(() => out.write(undefined, 'text')).toThrow(TypeError);
    expect(() => out.writeRecord({ key: 'k', value: new Uint8Array(0) })).toThrow(TypeError);
  });
});

describe('UTF-8 in binary strings (utf8.js), which the cursor and writer use for text', () => {
  it('decodeUtf8Latin1 and encodeUtf8Latin1 give what TextDecoder and TextEncoder give', () => {
    const bytes = [[0x68, 0xc3, 0xa9], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xff, 0x41], [0xe2, 0x82, 0xac], [], [0x7f]].map((b) => new Uint8Array(b));
    for (const b of bytes) expect(decodeUtf8Latin1(bytesToLatin1(b)), String([...b])).toBe(new TextDecoder().decode(b));
    for (const text of ['', 'ascii', 'héllo € 𝄞', 'lone \ud800 surrogate', '\udc00']) {
      expect(encodeUtf8Latin1(text), text).toBe(bytesToLatin1(new TextEncoder().encode(text)));
    }
  });
});
