/**
 * The JS SDK's text helpers (sdk/js/src/utf8.js, json.js, text-codec.js) give
 * the answers of the Encoding Standard, as Node's TextDecoder and TextEncoder
 * do: inside QuickJS (a built plugin, where valid text takes the native
 * built-ins and the rest the JavaScript loops) and in Node (which lacks the
 * base64 built-ins, so every input takes the loops).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { StreamRecord } from '../../src/records/record.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import type { ProcessorInstance } from '../../src/contract/plugin.js';
import { pino } from 'pino';
// @ts-expect-error the SDK is plain JavaScript without declarations
import { bytesToLatin1, decodeUtf8, decodeUtf8Strict, encodeUtf8, latin1ToBytes } from '../../../sdk/js/src/utf8.js';
// @ts-expect-error the SDK is plain JavaScript without declarations
import { WeirTextDecoder, WeirTextEncoder } from '../../../sdk/js/src/text-codec.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Seeded inputs: ASCII, valid text of every length class, a byte order mark, and malformed sequences of each kind. */
function inputs(): Uint8Array[] {
  let seed = 17;
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const fixed = [
    '', 'hello world', '{"seq":1,"level":"info","msg":"xxxx"}', 'héllo € 𝄞 日本', '\ufeffwith a BOM', '%41 %zz', '{"a":[1,2.5,"é"]}', '{"broken":',
  ].map(utf8);
  const malformed = [
    [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x9f, 0x98], [0xff, 0x41],
    [0xe2, 0x82], [0x41, 0xf0, 0x9f, 0x41], [0x80, 0x80, 0xbf], [0xef, 0xbb, 0xbf, 0x22, 0x61, 0x22],
  ].map((bytes) => new Uint8Array(bytes));
  const randomBytes = Array.from({ length: 40 }, () => new Uint8Array(Array.from({ length: random(24) }, () => random(256))));
  const pieces = ['a', 'Z', '~', 'é', 'ÿ', '€', '日', '𝄞', '\u0000', '"', '\\', '\n'];
  const randomText = Array.from({ length: 40 }, () => utf8(Array.from({ length: random(30) }, () => pieces[random(pieces.length)]).join('')));
  return [...fixed, ...malformed, ...randomBytes, ...randomText];
}

/** What each header of the fixture must hold, by Node's TextDecoder, TextEncoder and JSON. */
function expected(bytes: Uint8Array): Record<string, string> {
  const text = new TextDecoder().decode(bytes);
  const attempt = (fn: () => string): string => {
    try {
      return fn();
    } catch (error) {
      return (error as Error).name;
    }
  };
  const strict = (): string => new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  const into = new Uint8Array(7);
  const written = new TextEncoder().encodeInto(text, into);
  return {
    decoded: JSON.stringify(text),
    'decoded-keeping-bom': JSON.stringify(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)),
    fatal: attempt(strict),
    encoded: [...utf8(`${text}\ud800é`)].join(','),
    latin1: [...bytes].join(','),
    into: JSON.stringify({ ...written, bytes: [...into.subarray(0, written.written)] }),
    parsed: attempt(() => JSON.stringify(JSON.parse(strict()))),
    globals: 'function function',
  };
}

describe('in a QuickJS plugin (native built-ins, loops for malformed input)', () => {
  let fixtures: string;
  beforeAll(async () => {
    fixtures = await buildFixtures('text-codec-js');
  }, 120_000);

  it('decode, encode, encodeInto, latin1 and JSON answer as Node does, for valid and malformed input', async () => {
    const module = await new Engine({ cacheDir: await mkdtemp(join(tmpdir(), 'weir-cache-')) }).load(join(fixtures, 'text-codec-js.wasm'));
    const host = createHostContext({
      node: 'text-codec', plugin: 'text-codec-js.wasm', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
      metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
    });
    const plugin = (await instantiate(module, 'processor', host, instanceLimits(DEFAULT_LIMITS))) as ProcessorInstance;
    await plugin.configure('{}');
    const batch: StreamRecord[] = inputs().map((value) => ({ key: undefined, value, headers: [], eventTime: undefined }));
    const output = await plugin.process(batch);
    plugin.close();
    expect(output).toHaveLength(batch.length);
    for (const [i, record] of output.entries()) {
      const got = Object.fromEntries(record.headers.map((h) => [h.name, ['encoded', 'latin1'].includes(h.name) ? [...h.value].join(',') : new TextDecoder().decode(h.value)]));
      expect({ input: [...batch[i]!.value], ...got }).toEqual({ input: [...batch[i]!.value], ...expected(batch[i]!.value) });
    }
  }, 60_000);
});

describe('in Node (the JavaScript loops)', () => {
  it('decodes and encodes as TextDecoder and TextEncoder do', () => {
    for (const bytes of inputs()) {
      const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);
      expect(decodeUtf8(bytes)).toBe(text);
      expect(encodeUtf8(`${text}\udc00x\ud83d`)).toEqual(utf8(`${text}\udc00x\ud83d`));
      expect(latin1ToBytes(bytesToLatin1(bytes))).toEqual(bytes);
      let strict: string;
      try {
        strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
      } catch {
        expect(() => decodeUtf8Strict(bytes)).toThrow(TypeError);
        continue;
      }
      expect(decodeUtf8Strict(bytes)).toBe(strict);
    }
  });

  it('TextDecoder drops a leading BOM unless ignoreBOM, refuses other encodings and streaming; latin1ToBytes refuses chars above U+00FF', () => {
    const bom = utf8('\ufeffx');
    expect(new WeirTextDecoder().decode(bom)).toBe('x');
    expect(new WeirTextDecoder('UTF8', { ignoreBOM: true }).decode(bom)).toBe('\ufeffx');
    expect(new WeirTextDecoder().decode(new Uint16Array([0x6968]))).toBe('hi');
    expect(() => new WeirTextDecoder('latin1')).toThrow(RangeError);
    expect(() => new WeirTextDecoder().decode(bom, { stream: true })).toThrow(TypeError);
    expect(new WeirTextEncoder().encodeInto('a€b', new Uint8Array(3))).toEqual({ read: 1, written: 1 });
    expect(() => latin1ToBytes('ā')).toThrow(RangeError);
  });
});
