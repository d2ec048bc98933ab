import { describe, expect, it } from 'vitest';
import { formatLine, parseLine } from '../../src/connectors/jsonl.js';
import { hasCode } from '../../src/errors/errors.js';

const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe('jsonl mapping', () => {
  it('parses the envelope fields', () => {
    const r = parseLine('{"key":"k","value":"v ✓","headers":{"a":"1"},"eventTime":"1970-01-01T00:00:01Z"}', 'jsonl', 'f:1');
    expect(text(r.key)).toBe('k');
    expect(text(r.value)).toBe('v ✓');
    expect(r.headers.map((h) => [h.name, text(h.value)])).toEqual([['a', '1']]);
    expect(r.eventTime).toBe(1000n);
  });

  it('stores non-string values as JSON text and reads base64', () => {
    expect(text(parseLine('{"value":{"n":1}}', 'jsonl', 'f:1').value)).toBe('{"n":1}');
    expect([...parseLine('{"valueBase64":"AAH/"}', 'jsonl', 'f:1').value]).toEqual([0, 1, 255]);
  });

  it('round-trips through formatLine, with repeated header names as pairs', () => {
    const line = '{"key":"k","value":"x","headers":[["h","1"],["h","2"]],"eventTime":5}';
    expect(formatLine(parseLine(line, 'jsonl', 'f:1'), 'jsonl')).toBe(line);
    const binary = formatLine({ key: undefined, value: new Uint8Array([0xff]), headers: [], eventTime: undefined }, 'jsonl');
    expect(binary).toBe('{"valueBase64":"/w=="}');
  });

  it('keeps a leading U+FEFF in a value, key and header when writing them (no BOM stripping)', () => {
    const bom = [0xef, 0xbb, 0xbf];
    const bytes = (s: string) => new Uint8Array([...bom, ...new TextEncoder().encode(s)]);
    const record = { key: bytes('k'), value: bytes('v'), headers: [{ name: 'h', value: bytes('1') }], eventTime: undefined };
    const line = formatLine(record, 'jsonl');
    expect(JSON.parse(line)).toEqual({ key: '\uFEFFk', value: '\uFEFFv', headers: { h: '\uFEFF1' } });
    const back = parseLine(line, 'jsonl', 'f:1');
    expect([...back.value]).toEqual([...record.value]);
    expect([...back.key!]).toEqual([...record.key]);
    expect([...back.headers[0]!.value]).toEqual([...record.headers[0]!.value]);
  });

  it('treats each line as a value in lines format', () => {
    const r = parseLine('{"not":"parsed"}', 'lines', 'f:1');
    expect(text(r.value)).toBe('{"not":"parsed"}');
    expect(formatLine(r, 'lines')).toBe('{"not":"parsed"}');
  });

  it.each([
    ['not json', 'is not valid JSON'],
    ['[1]', 'must be a JSON object'],
    ['{"key":"k"}', 'has no "value"'],
    ['{"value":"v","extra":1}', 'unknown field "extra"'],
    ['{"value":"v","eventTime":"yesterday"}', '"eventTime" must be'],
    ['{"value":"v","headers":{"a":1}}', '"headers" values must be strings'],
  ])('rejects %s with the file and line', (line, message) => {
    try {
      parseLine(line, 'jsonl', 'input.jsonl:7');
      expect.unreachable();
    } catch (error) {
      expect(hasCode(error, 'WEIR_CONNECTOR_IO')).toBe(true);
      expect((error as Error).message).toContain('input.jsonl:7');
      expect((error as Error).message).toContain(message);
    }
  });
});
