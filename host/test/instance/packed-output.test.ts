/**
 * checkedPackedOutput: what a packed export returned is checked before the
 * host hands it on, and a view of guest memory is copied out.
 */
import { describe, expect, it } from 'vitest';
import { checkedPackedOutput } from '../../src/instance/packed-output.js';
import { encodeBatch } from '../../src/records/batch-codec.js';
import { textRecord } from '../../src/records/record.js';
import { failure } from '../fixtures/failure.js';

const packed = encodeBatch([textRecord('a', { key: 'k' }), textRecord('b')]);
const notGuest = () => false;

describe('checkedPackedOutput', () => {
  it('returns a well-formed batch as it is when it is not a view of guest memory (jco copied it out)', () => {
    expect(checkedPackedOutput(packed, 1 << 20, notGuest)).toBe(packed);
  });

  it('copies a view of guest memory, so that the guest cannot change it afterwards', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const view = new Uint8Array(memory.buffer, 16, packed.byteLength);
    view.set(packed);
    const out = checkedPackedOutput(view, 1 << 20, (buffer) => buffer === memory.buffer);
    expect(out.buffer).not.toBe(memory.buffer);
    view.fill(0);
    expect(out).toEqual(packed);
  });

  it('refuses what is not bytes, and malformed batches: WEIR_PLUGIN_BAD_OUTPUT', () => {
    expect(failure(() => checkedPackedOutput([1, 0, 0, 0], 1 << 20, notGuest)).code).toBe('WEIR_PLUGIN_BAD_OUTPUT');
    expect(failure(() => checkedPackedOutput(packed.subarray(0, packed.byteLength - 1), 1 << 20, notGuest)).code).toBe('WEIR_PLUGIN_BAD_OUTPUT');
  });

  it('refuses a header name that is not UTF-8 (so the caller\'s guard poisons the instance, as for any bad output)', () => {
    const named = encodeBatch([textRecord('a', { headers: [['x', '']] })]);
    named[named.indexOf(0x78)] = 0xff;
    const error = failure(() => checkedPackedOutput(named, 1 << 20, notGuest));
    expect(error.code).toBe('WEIR_PLUGIN_BAD_OUTPUT');
    expect(error.message).toContain('not valid UTF-8');
  });

  it('refuses more bytes than maxOutputBytes, and more than it decodes into: WEIR_LIMIT_OUTPUT', () => {
    expect(failure(() => checkedPackedOutput(packed, packed.byteLength - 1, notGuest)).details).toMatchObject({ limit: 'output', bytes: packed.byteLength });
    // Two records decode into hundreds of bytes each (DECODED_RECORD_OVERHEAD), far more than their packed size.
    expect(failure(() => checkedPackedOutput(packed, packed.byteLength + 1, notGuest)).details).toMatchObject({ limit: 'output', records: 2 });
  });
});
