/**
 * Key/value lists packed into one buffer for the trip between a thread and
 * the checkpoint writer: one transferable ArrayBuffer instead of a
 * structured clone of 100k small arrays (each of which would carry its whole
 * backing buffer, 8 KiB for a pooled Buffer). Layout per entry: key length
 * (u32 LE), key, value length (u32 LE, 0xFFFFFFFF = null), value.
 */

import type { BinaryKey } from './checkpoint-store.js';

const NULL_VALUE = 0xffffffff;

/**
 * Packs `entries` (a null value = deleted) into one fresh buffer. A key is
 * bytes, or a binary string (one char per byte), written without a copy of
 * its own.
 */
export function packEntries(entries: Iterable<readonly [Uint8Array | BinaryKey, Uint8Array | null]>): Uint8Array {
  let size = 0;
  for (const [key, value] of entries) size += 8 + (typeof key === 'string' ? key.length : key.byteLength) + (value?.byteLength ?? 0);
  const bytes = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const [key, value] of entries) {
    if (typeof key === 'string') {
      bytes.writeUInt32LE(key.length, at);
      bytes.write(key, at + 4, 'latin1');
      at += 4 + key.length;
    } else {
      bytes.writeUInt32LE(key.byteLength, at);
      bytes.set(key, at + 4);
      at += 4 + key.byteLength;
    }
    bytes.writeUInt32LE(value === null ? NULL_VALUE : value.byteLength, at);
    at += 4;
    if (value !== null) {
      bytes.set(value, at);
      at += value.byteLength;
    }
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, size);
}

/** The entries of a buffer {@link packEntries} made, as views into it. */
export function unpackEntries(bytes: Uint8Array): Array<[Uint8Array, Uint8Array | null]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: Array<[Uint8Array, Uint8Array | null]> = [];
  let at = 0;
  while (at < bytes.byteLength) {
    const keyLength = view.getUint32(at, true);
    const key = bytes.subarray(at + 4, at + 4 + keyLength);
    at += 4 + keyLength;
    const valueLength = view.getUint32(at, true);
    at += 4;
    if (valueLength === NULL_VALUE) {
      entries.push([key, null]);
    } else {
      entries.push([key, bytes.subarray(at, at + valueLength)]);
      at += valueLength;
    }
  }
  return entries;
}
