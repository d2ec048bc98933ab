/**
 * Key/value lists packed into one buffer for the trip between a thread and
 * the checkpoint writer: one transferable ArrayBuffer instead of a
 * structured clone of 100k small arrays (each of which would carry its whole
 * backing buffer, 8 KiB for a pooled Buffer). Layout per entry: key length
 * (u32 LE), key, value length (u32 LE, 0xFFFFFFFF = null), value.
 */

const NULL_VALUE = 0xffffffff;

/** Packs `entries` (a null value = deleted) into one fresh buffer. */
export function packEntries(entries: ReadonlyArray<readonly [Uint8Array, Uint8Array | null]>): Uint8Array {
  let size = 0;
  for (const [key, value] of entries) size += 8 + key.byteLength + (value?.byteLength ?? 0);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const [key, value] of entries) {
    view.setUint32(at, key.byteLength, true);
    bytes.set(key, at + 4);
    at += 4 + key.byteLength;
    view.setUint32(at, value === null ? NULL_VALUE : value.byteLength, true);
    at += 4;
    if (value !== null) {
      bytes.set(value, at);
      at += value.byteLength;
    }
  }
  return bytes;
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
