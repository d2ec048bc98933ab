/**
 * The decoded form of a packed output counts against `limits.maxOutputBytes`:
 * a few bytes per empty header or record on the wire become hundreds of bytes
 * of JS objects, so 56 MB of headers would decode into about a gigabyte.
 * The decoder counts records and headers from the length fields first and
 * refuses before it allocates.
 */
import { describe, expect, it } from 'vitest';
import { decodeBatch, decodedShape, encodeBatch } from '../../src/records/batch-codec.js';
import { textRecord } from '../../src/records/record.js';
import type { WeirError } from '../../src/errors/errors.js';
import { distModule, runWithSmallHeap } from './small-heap-child.js';

const MiB = 1 << 20;

/** A packed batch of `records` empty records, the first carrying `headers` empty headers. */
function packed(records: number, headers: number): Uint8Array {
  const bytes = new Uint8Array(4 + records * 24 + headers * 8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, records, true);
  let at = 4;
  for (let i = 0; i < records; i++) {
    at += 20;
    view.setUint32(at, i === 0 ? headers : 0, true);
    at += 4 + (i === 0 ? headers * 8 : 0);
  }
  return bytes;
}

function decodeError(bytes: Uint8Array, max: number): WeirError {
  try {
    decodeBatch(bytes, max);
  } catch (error) {
    return error as WeirError;
  }
  throw new Error('expected decodeBatch to throw');
}

describe('decoded output limit', () => {
  it('refuses a million empty headers (8 MB packed) under a 16 MiB limit', () => {
    const error = decodeError(packed(1, 1_000_000), 16 * MiB);
    expect(error.code).toBe('WEIR_LIMIT_OUTPUT');
    expect(error.details).toMatchObject({ limit: 'output', records: 1, headers: 1_000_000 });
    expect(error.message).toContain('limits.maxOutputBytes');
  });

  it('refuses 300,000 empty records (7 MB packed) under a 16 MiB limit', () => {
    const error = decodeError(packed(300_000, 0), 16 * MiB);
    expect(error.code).toBe('WEIR_LIMIT_OUTPUT');
    expect(error.details).toMatchObject({ records: 300_000, headers: 0 });
  });

  it('decodes ordinary batches under the default limit, and counts their shape', () => {
    const batch = Array.from({ length: 1000 }, (_, i) => textRecord(`v${i}`, { key: `k${i}`, headers: [['h', 'x']] }));
    const bytes = encodeBatch(batch);
    expect(decodedShape(bytes)).toMatchObject({ records: 1000, headers: 1000 });
    expect(decodeBatch(bytes, 64 * MiB)).toEqual(batch);
  });

  it('reports a header count that cannot fit as malformed, without allocating for it', () => {
    const bytes = packed(1, 0);
    new DataView(bytes.buffer).setUint32(24, 0xffffffff, true);
    expect(decodeError(bytes, 64 * MiB).code).toBe('WEIR_PLUGIN_BAD_OUTPUT');
  });

  it('refuses 7 million empty headers (56 MB) in a host with a 96 MiB heap, instead of dying', async () => {
    // Before the bound, decoding these headers built ~1 GB of objects: the child died "heap out of memory".
    const result = await runWithSmallHeap(`
      const { decodeBatch } = await import(${JSON.stringify(distModule('records/batch-codec.js'))});
      const headers = 7_000_000;
      const bytes = new Uint8Array(4 + 24 + headers * 8);
      const view = new DataView(bytes.buffer);
      view.setUint32(0, 1, true);
      view.setUint32(24, headers, true);
      try {
        decodeBatch(bytes, 64 * 1024 * 1024);
        console.log('decoded');
      } catch (error) {
        console.log(error.code);
      }
    `, 96);
    expect(result.stderr).not.toContain('heap out of memory');
    expect(result.stdout.trim()).toBe('WEIR_LIMIT_OUTPUT');
    expect(result.code).toBe(0);
  });
});
