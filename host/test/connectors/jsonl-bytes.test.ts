/**
 * The byte-level JSONL path (jsonl.ts): lines written straight into packed
 * batches, packed batches formatted in one pass. The formatter must write
 * exactly what `formatLine` (JSON.stringify of the record object) writes, on
 * every edge the object path handled, and on seeded random records.
 */
import { describe, expect, it } from 'vitest';
import { LineFormatter, LineParser, formatLine, parseLine } from '../../src/connectors/jsonl.js';
import { PackedBatch, PackedBatchWriter } from '../../src/records/packed-batch.js';
import type { StreamRecord } from '../../src/records/record.js';
import { textRecord } from '../../src/records/record.js';
import { hasCode } from '../../src/errors/errors.js';

const bytes = (...b: number[]) => new Uint8Array(b);
const utf8 = (s: string) => new TextEncoder().encode(s);
const BOM = [0xef, 0xbb, 0xbf];

/** What the record path wrote for these records: formatLine per record, each line followed by \n. */
const reference = (records: StreamRecord[]) => Buffer.from(records.map((r) => formatLine(r, 'jsonl') + '\n').join(''), 'utf8');
const formatted = (records: StreamRecord[], format: 'jsonl' | 'lines' = 'jsonl') => Buffer.from(new LineFormatter(format, 64).format(PackedBatch.fromRecords(records)));

const edges: Array<[string, StreamRecord]> = [
  ['plain text', textRecord('hello')],
  ['an empty value', textRecord('')],
  ['an empty key', textRecord('v', { key: '' })],
  ['a value that is not UTF-8 (valueBase64)', { key: undefined, value: bytes(0xff, 0x00, 0x80), headers: [], eventTime: undefined }],
  ['a truncated multi-byte character', { key: undefined, value: bytes(0x61, 0xe2, 0x82), headers: [], eventTime: undefined }],
  ['an encoded surrogate (not UTF-8)', { key: undefined, value: bytes(0xed, 0xa0, 0x80), headers: [], eventTime: undefined }],
  ['an overlong encoding (not UTF-8)', { key: undefined, value: bytes(0xc0, 0xaf), headers: [], eventTime: undefined }],
  ['a key that is not UTF-8 (base64 in "key")', { key: bytes(0xfe), value: utf8('v'), headers: [], eventTime: undefined }],
  ['a header value that is not UTF-8', { key: undefined, value: utf8('v'), headers: [{ name: 'h', value: bytes(0xff) }], eventTime: undefined }],
  ['a leading U+FEFF in value, key and header', { key: bytes(...BOM, 0x6b), value: bytes(...BOM, 0x76), headers: [{ name: 'h', value: bytes(...BOM) }], eventTime: undefined }],
  ['quotes, backslashes and every control character', textRecord(`"\\/${Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('')}\u007f`, { key: '"k\n', headers: [['"n\t', '\\v\r']] })],
  ['multi-byte text, U+2028 and astral characters', textRecord('ünïcødé \u2028\u2029 😀 ✓', { key: 'ключ', headers: [['名前', '値']] })],
  ['repeated header names (pairs)', textRecord('v', { headers: [['h', '1'], ['h', '2'], ['g', '3']] })],
  ['distinct header names (object)', textRecord('v', { headers: [['b', '1'], ['a', '2']] })],
  ['header names JSON orders first (array indexes)', textRecord('v', { headers: [['b', '1'], ['10', '2'], ['2', '3'], ['01', '4']] })],
  ['a __proto__ header name', textRecord('v', { headers: [['__proto__', 'x'], ['a', 'y']] })],
  ['an empty header name and value', textRecord('v', { headers: [['', '']] })],
  ['event times: zero, negative, beyond 2^53', { ...textRecord('v', { eventTime: 0n }) }],
  ['a negative event time', textRecord('v', { eventTime: -1700000000000n })],
  ['an event time beyond 2^53', textRecord('v', { eventTime: 9007199254740993n })],
  ['everything at once', textRecord('v', { key: 'k', headers: [['a', '1']], eventTime: 1700000000000n })],
];

describe('LineFormatter', () => {
  it.each(edges)('writes what formatLine writes for %s', (_, record) => {
    expect(formatted([record]).toString('latin1')).toBe(reference([record]).toString('latin1'));
  });

  it('writes what formatLine writes for seeded random records, many per batch, reusing its buffer', () => {
    let seed = 17;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const pieces = [bytes(0x61), bytes(0x22), bytes(0x5c), bytes(0x0a), bytes(0x01), bytes(0xc3, 0xa9), bytes(0xe2, 0x9c, 0x93), bytes(0xf0, 0x9f, 0x98, 0x80), bytes(0xff), bytes(0xe2, 0x9c), bytes(...BOM), bytes(0x30), bytes(0x7f)];
    const field = () => {
      const parts = Array.from({ length: Math.floor(random() * 6) }, () => pick(pieces));
      return new Uint8Array(parts.flatMap((p) => [...p]));
    };
    const name = () => new TextDecoder().decode(field()).replace(/\uFFFD/g, 'x');
    const formatter = new LineFormatter('jsonl', 16);
    for (let round = 0; round < 30; round++) {
      const records: StreamRecord[] = Array.from({ length: 1 + Math.floor(random() * 40) }, () => ({
        key: random() < 0.5 ? undefined : field(),
        value: field(),
        headers: Array.from({ length: Math.floor(random() * 4) }, () => ({ name: random() < 0.3 ? 'dup' : name(), value: field() })),
        eventTime: random() < 0.5 ? undefined : BigInt(Math.floor((random() - 0.5) * 2 ** 50)),
      }));
      expect(Buffer.from(formatter.format(PackedBatch.fromRecords(records))).toString('latin1'), `round ${round}`).toBe(reference(records).toString('latin1'));
    }
  });

  it('writes lines values as their bytes, one per line', () => {
    const records = [{ key: undefined, value: bytes(0x63, 0xe9, 0xff), headers: [], eventTime: undefined }, textRecord('')];
    expect([...formatted(records, 'lines')]).toEqual([0x63, 0xe9, 0xff, 0x0a, 0x0a]);
  });
});

/** The records writeLine makes of these lines (each must be good). */
const parsed = (lines: Array<string | Uint8Array>, format: 'jsonl' | 'lines' = 'jsonl') => {
  const writer = new PackedBatchWriter(16);
  const parser = new LineParser(format);
  lines.forEach((line, i) => parser.write(writer, typeof line === 'string' ? utf8(line) : line, `f:${i + 1}`));
  return writer.take().records();
};

describe('LineParser', () => {
  it('writes the envelope fields straight into the batch', () => {
    const [r] = parsed(['{"key":"k","value":"v ✓","headers":{"a":"1","b":"2"},"eventTime":"1970-01-01T00:00:01Z"}']);
    expect(r).toEqual(textRecord('v ✓', { key: 'k', headers: [['a', '1'], ['b', '2']], eventTime: 1000n }));
  });

  it('keeps repeated header names given as pairs, empty values, null keys and integer times', () => {
    const [r, s] = parsed(['{"key":null,"value":"","headers":[["h","1"],["h",""]],"eventTime":5}', '{"key":"","value":"x","headers":null,"eventTime":null}']);
    expect(r).toEqual(textRecord('', { headers: [['h', '1'], ['h', '']], eventTime: 5n }));
    expect(s).toEqual(textRecord('x', { key: '' }));
  });

  it('stores non-string values as JSON text and decodes valueBase64', () => {
    const [json, binary] = parsed(['{"value":{"n":[1,"é"]}}', '{"valueBase64":"AAH/"}']);
    expect(new TextDecoder().decode(json!.value)).toBe('{"n":[1,"é"]}');
    expect([...binary!.value]).toEqual([0, 1, 255]);
  });

  it('drops a byte order mark at the start of a line, keeps U+FEFF inside strings, and escapes lone surrogates as U+FFFD', () => {
    const [r] = parsed([new Uint8Array([...BOM, ...utf8('{"value":"\uFEFFv","key":"\\ud800"}')])]);
    expect([...r!.value]).toEqual([...BOM, 0x76]);
    expect([...r!.key!]).toEqual([0xef, 0xbf, 0xbd]);
  });

  it('takes lines bytes as they are in lines format', () => {
    const [r] = parsed([bytes(0xff, 0x00, 0x7b)], 'lines');
    expect(r).toEqual({ key: undefined, value: bytes(0xff, 0x00, 0x7b), headers: [], eventTime: undefined });
  });

  it.each([
    ['not json', 'is not valid JSON'],
    ['[1]', 'must be a JSON object'],
    ['{"key":"k"}', 'has no "value"'],
    ['{"value":"v","extra":1}', 'unknown field "extra"'],
    ['{"value":"v","valueBase64":"AA=="}', 'has both "value" and "valueBase64"'],
    ['{"valueBase64":1}', '"valueBase64" must be a base64 string'],
    ['{"value":"v","key":1}', '"key" must be a string or null'],
    ['{"value":"v","eventTime":"yesterday"}', '"eventTime" must be'],
    ['{"value":"v","eventTime":1.5}', '"eventTime" must be'],
    ['{"value":"v","eventTime":1e19}', '"eventTime" 10000000000000000000 is outside the range of a date'],
    ['{"value":"v","eventTime":-9000000000000000}', 'is outside the range of a date'],
    ['{"value":"v","headers":"h"}', '"headers" must be an object'],
    ['{"value":"v","headers":{"a":1}}', '"headers" values must be strings'],
    ['{"value":"v","headers":[["a"]]}', '"headers" values must be strings'],
  ])('rejects %s naming the line, and leaves the records before it whole', (line, message) => {
    const writer = new PackedBatchWriter(16);
    const parser = new LineParser('jsonl');
    parser.write(writer, utf8('{"key":"good","value":"before"}'), 'input.jsonl:6');
    let caught: unknown;
    try {
      parser.write(writer, utf8(line), 'input.jsonl:7');
    } catch (error) {
      caught = error;
    }
    expect(hasCode(caught, 'WEIR_CONNECTOR_IO')).toBe(true);
    expect((caught as Error).message).toContain('input.jsonl:7');
    expect((caught as Error).message).toContain(message);
    parser.write(writer, utf8('{"value":"after"}'), 'input.jsonl:8');
    expect(writer.take().records()).toEqual([textRecord('before', { key: 'good' }), textRecord('after')]);
  });

  it('reads plain lines from their bytes exactly as JSON.parse reads them, and leaves every other line to it (seeded random lines)', () => {
    let seed = 5;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const strings = ['""', '"a"', '"é✓😀"', '"\\u00e9"', '"a\\"b"', '"\uFEFFx"', '"weir-output"', '"0"', '"10"', '"__proto__"', '"}"', '","', '"x y"'];
    const values = [...strings, '1', '-0', '17', '01', '1.5', '1e3', '123456789012345', '1234567890123456', 'null', '{}', '[1]', 'true', '"2024-01-02T03:04:05Z"'];
    const headers = () => pick([
      () => '{}',
      () => `{${Array.from({ length: 1 + Math.floor(random() * 3) }, () => `${pick(strings)}:${pick(values)}`).join(',')}}`,
      () => `[[${pick(strings)},${pick(strings)}]]`,
      () => 'null',
    ])();
    const plainStrings = ['""', '"a"', '"é✓😀"', '"weir-output"', '"h"', '"0"', '"7x"', '"__proto__"', '"}"', '","'];
    const plainHeaders = () => `{${Array.from({ length: Math.floor(random() * 4) }, () => `${pick(plainStrings)}:${pick(plainStrings)}`).join(',')}}`;
    const plainValue = (f: string) => (f === 'headers' ? plainHeaders() : f === 'eventTime' ? pick(['0', '-0', '5', '-1700000000000', '123456789012345', '0.5', '1e3', '007']) : pick(plainStrings));
    const fields = ['key', 'value', 'valueBase64', 'headers', 'eventTime', 'extra'];
    const parser = new LineParser('jsonl');
    let plainLines = 0;
    for (let i = 0; i < 3000; i++) {
      const chosen = Array.from({ length: Math.floor(random() * 5) }, () => pick(fields));
      // Most lines are plain or nearly so (the byte path's ground), the rest anything.
      const body = random() < 0.7
        ? Array.from({ length: Math.floor(random() * 5) }, () => pick(['key', 'value', 'value', 'headers', 'eventTime'])).map((f) => `"${f}":${plainValue(f)}`)
        : chosen.map((f) => `"${f}":${f === 'headers' ? headers() : f === 'valueBase64' ? pick(['"AAH/"', '"!"', '1']) : pick(values)}`);
      let line = `{${body.join(pick([',', ',', ',', ', ']))}}`;
      if (random() < 0.05) line = ` ${line}`;
      if (random() < 0.05) line = line.slice(0, -1);
      const outcome = (run: () => StreamRecord[]) => {
        try {
          return run();
        } catch (error) {
          return (error as Error).message;
        }
      };
      const viaBytes = outcome(() => {
        const writer = new PackedBatchWriter(16);
        parser.write(writer, utf8(line), 'f:1');
        return writer.take().records();
      });
      const viaParse = outcome(() => [parseLine(line, 'jsonl', 'f:1')]);
      expect(viaBytes, line).toEqual(viaParse);
      if (typeof viaBytes !== 'string' && !/[\s\\]|valueBase64/.test(line)) plainLines++;
    }
    // The plain path was taken often enough to matter.
    expect(plainLines).toBeGreaterThan(500);
  });

  it('rejects a line that is not UTF-8, naming the offset of the first bad byte', () => {
    let caught: unknown;
    try {
      parsed([new Uint8Array([...utf8('{"value":"ab'), 0xc3, 0x28, ...utf8('"}')])]);
    } catch (error) {
      caught = error;
    }
    expect(hasCode(caught, 'WEIR_CONNECTOR_IO')).toBe(true);
    expect((caught as Error).message).toContain('f:1: the line is not valid UTF-8 (first bad byte at offset 12)');
  });
});
