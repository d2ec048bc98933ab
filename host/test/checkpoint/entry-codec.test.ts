// The packed key/value form a checkpoint crosses to its writer thread in, and the key groups stored with each key.
import { describe, expect, it } from 'vitest';
import { packEntries, unpackEntries } from '../../src/checkpoint/entry-codec.js';
import { KEY_GROUPS, keyGroupOf } from '../../src/checkpoint/checkpoint-db.js';
import { keyLane } from '../../src/topology/partitioner.js';

describe('packEntries / unpackEntries', () => {
  it('round-trips keys and values, empty ones, and deletions (null) apart from empty values', () => {
    const entries: Array<[Uint8Array, Uint8Array | null]> = [
      [new Uint8Array([1, 2, 3]), new Uint8Array([9])],
      [new Uint8Array(0), new Uint8Array(0)],
      [new Uint8Array([255]), null],
      [Buffer.from('pooled'), Buffer.from('views of a shared buffer')],
    ];
    const packed = packEntries(entries);
    expect(packed.byteLength).toBe(8 * 4 + 3 + 1 + 1 + 6 + 24);
    expect(unpackEntries(packed).map(([k, v]) => [[...k], v === null ? null : [...v]])).toEqual(entries.map(([k, v]) => [[...k], v === null ? null : [...v]]));
    expect(unpackEntries(packEntries([]))).toEqual([]);
  });
});

describe('keyGroupOf', () => {
  it('is keyLane over KEY_GROUPS lanes', () => {
    expect(KEY_GROUPS).toBe(128);
    for (const key of ['', 'a', 'alice', 'sensor-17', '\u00ff\u0000']) {
      const bytes = Buffer.from(key, 'latin1');
      expect(keyGroupOf(bytes)).toBe(keyLane(bytes, KEY_GROUPS));
    }
  });
});
