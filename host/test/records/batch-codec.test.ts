import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, encodedBatchSize } from '../../src/records/batch-codec.js';
import { textRecord } from '../../src/records/record.js';
import type { StreamRecord } from '../../src/records/record.js';
import { hasCode } from '../../src/errors/errors.js';

const records: StreamRecord[] = [
  textRecord('plain'),
  textRecord('with key', { key: 'k' }),
  textRecord('', { key: '', eventTime: 0n }),
  textRecord('headers', { headers: [['ünïcødé', 'v'], ['dup', '1'], ['dup', '2']], eventTime: -1700000000000n }),
  { key: new Uint8Array([0, 255]), value: new Uint8Array([1, 2, 3]), headers: [], eventTime: 9007199254740993n },
];

describe('packed batch codec', () => {
  it('round-trips every field, telling an empty key from no key', () => {
    const encoded = encodeBatch(records);
    expect(encoded.byteLength).toBe(encodedBatchSize(records));
    expect(decodeBatch(encoded)).toEqual(records);
  });

  it('round-trips an empty batch as four bytes', () => {
    expect(encodeBatch([])).toEqual(new Uint8Array(4));
    expect(decodeBatch(new Uint8Array(4))).toEqual([]);
  });

  it('copies out of the source buffer', () => {
    const encoded = encodeBatch([textRecord('abc')]);
    const [decoded] = decodeBatch(encoded);
    encoded.fill(0);
    expect(new TextDecoder().decode(decoded!.value)).toBe('abc');
  });

  it.each([
    ['truncated', (b: Uint8Array) => b.subarray(0, b.byteLength - 1)],
    ['trailing bytes', (b: Uint8Array) => new Uint8Array([...b, 0])],
    ['absurd count', (b: Uint8Array) => { const c = b.slice(); new DataView(c.buffer).setUint32(0, 0xffffffff, true); return c; }],
    ['length past the end', (b: Uint8Array) => { const c = b.slice(); new DataView(c.buffer).setUint32(16, 1 << 30, true); return c; }],
  ])('rejects a %s buffer with WEIR_PLUGIN_BAD_OUTPUT', (_name, corrupt) => {
    expect(() => decodeBatch(corrupt(encodeBatch(records)))).toThrow(expect.objectContaining({ code: 'WEIR_PLUGIN_BAD_OUTPUT' }));
    expect(hasCode(new Error('x'), 'WEIR_PLUGIN_BAD_OUTPUT')).toBe(false);
  });
});
