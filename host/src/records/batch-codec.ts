/**
 * The packed batch format: a whole batch of records in one little-endian buffer.
 *
 * Core-module plugins (AssemblyScript, and any language following
 * `sdk/assemblyscript/ABI.md`) receive and return batches in this format, so a
 * call costs one copy in and one copy out instead of one per field.
 *
 * ```
 * batch  := u32 count, record{count}
 * record := u32 flags            bit 0: key present, bit 1: event time present
 *           i64 eventTime        milliseconds since the epoch (0 when absent)
 *           u32 keyLen,   key bytes
 *           u32 valueLen, value bytes
 *           u32 headerCount, header{headerCount}
 * header := u32 nameLen, name (UTF-8), u32 valueLen, value bytes
 * ```
 */
import type { Header, StreamRecord } from './record.js';
import { WeirError } from '../errors/errors.js';

/**
 * Host memory a decoded record costs beyond its bytes (the record object, its
 * key and value views, its headers array, its event time), and what each
 * header costs, as measured on Node 24 (about 320 and 150 bytes): the decoded
 * form of an output counts against `maxOutputBytes` with these added, so an
 * output of many empty records or headers cannot decode into gigabytes
 * (7 million empty headers fit in 56 MB and decode into about 1 GB).
 */
export const DECODED_RECORD_OVERHEAD = 320;
/** See {@link DECODED_RECORD_OVERHEAD}. */
export const DECODED_HEADER_OVERHEAD = 150;

const FLAG_KEY = 1;
const FLAG_EVENT_TIME = 2;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Exact encoded size of a batch in bytes. */
export function encodedBatchSize(batch: readonly StreamRecord[]): number {
  let size = 4;
  for (const r of batch) {
    size += 4 + 8 + 4 + (r.key?.byteLength ?? 0) + 4 + r.value.byteLength + 4;
    for (const h of r.headers) size += 4 + Buffer.byteLength(h.name, 'utf8') + 4 + h.value.byteLength;
  }
  return size;
}

/**
 * Encodes a batch into `target` (which must be at least {@link encodedBatchSize}
 * bytes) and returns the number of bytes written.
 */
export function encodeBatchInto(batch: readonly StreamRecord[], target: Uint8Array): number {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  let at = 0;
  view.setUint32(at, batch.length, true);
  at += 4;
  for (const r of batch) {
    const flags = (r.key === undefined ? 0 : FLAG_KEY) | (r.eventTime === undefined ? 0 : FLAG_EVENT_TIME);
    view.setUint32(at, flags, true);
    view.setBigInt64(at + 4, r.eventTime ?? 0n, true);
    at += 12;
    at = writeBytes(view, target, at, r.key ?? EMPTY);
    at = writeBytes(view, target, at, r.value);
    view.setUint32(at, r.headers.length, true);
    at += 4;
    for (const h of r.headers) {
      at = writeBytes(view, target, at, utf8Encoder.encode(h.name));
      at = writeBytes(view, target, at, h.value);
    }
  }
  return at;
}

/** Encodes a batch into a new buffer. */
export function encodeBatch(batch: readonly StreamRecord[]): Uint8Array {
  const out = new Uint8Array(encodedBatchSize(batch));
  encodeBatchInto(batch, out);
  return out;
}

/** What decoding a packed batch would produce, read from its length fields alone. */
export interface DecodedShape {
  records: number;
  headers: number;
  /**
   * Host memory the decoded batch is counted at: the bytes copied out of the
   * guest plus {@link DECODED_RECORD_OVERHEAD} per record and
   * {@link DECODED_HEADER_OVERHEAD} per header (the JS objects and views).
   */
  decodedBytes: number;
}

/**
 * Walks the length fields of a packed batch without allocating: counts its
 * records and headers and checks that every length stays inside the buffer.
 *
 * @throws WeirError `WEIR_PLUGIN_BAD_OUTPUT` when the buffer is truncated or malformed.
 */
export function decodedShape(bytes: Uint8Array): DecodedShape {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const reader = { at: 0 };
  const count = readU32(view, reader);
  // Each record takes at least 24 bytes (flags, time, three lengths).
  if (count > (bytes.byteLength - 4) / 24) malformed(`record count ${count} does not fit in ${bytes.byteLength} bytes`);
  let headers = 0;
  for (let i = 0; i < count; i++) {
    need(view, reader, 12);
    reader.at += 12;
    skipBytes(view, reader);
    skipBytes(view, reader);
    const headerCount = readU32(view, reader);
    // Each header takes at least 8 bytes (two lengths).
    if (headerCount > (view.byteLength - reader.at) / 8) malformed(`header count ${headerCount} of record ${i} does not fit in the ${view.byteLength - reader.at} bytes left`);
    for (let h = 0; h < headerCount; h++) {
      skipBytes(view, reader);
      skipBytes(view, reader);
    }
    headers += headerCount;
  }
  if (reader.at !== bytes.byteLength) malformed(`${bytes.byteLength - reader.at} trailing bytes after ${count} records`);
  return { records: count, headers, decodedBytes: bytes.byteLength + count * DECODED_RECORD_OVERHEAD + headers * DECODED_HEADER_OVERHEAD };
}

/**
 * Decodes a packed batch. `source` is copied once, in bulk, and the records'
 * byte fields are views into that copy: one allocation per batch instead of
 * two per record, and `source` may be guest memory that changes afterwards.
 *
 * Before anything is allocated, the batch's decoded size ({@link decodedShape})
 * is checked against `maxDecodedBytes` (a node passes its `maxOutputBytes`):
 * 56 MB of empty headers would otherwise decode into gigabytes of objects.
 *
 * @throws WeirError `WEIR_PLUGIN_BAD_OUTPUT` when the buffer is truncated or malformed.
 * @throws WeirError `WEIR_LIMIT_OUTPUT` when the decoded batch would exceed `maxDecodedBytes`.
 */
export function decodeBatch(guestBytes: Uint8Array, maxDecodedBytes: number = Number.POSITIVE_INFINITY): StreamRecord[] {
  checkedShape(guestBytes, maxDecodedBytes);
  return viewBatch(guestBytes.slice());
}

/**
 * {@link decodedShape}, and the check that the batch's decoded size is at
 * most `maxDecodedBytes` (a node's `maxOutputBytes`): what every packed
 * output of a plugin passes before the host uses it.
 *
 * @throws WeirError `WEIR_PLUGIN_BAD_OUTPUT` when the buffer is truncated or malformed.
 * @throws WeirError `WEIR_LIMIT_OUTPUT` when the decoded batch would exceed `maxDecodedBytes`.
 */
export function checkedShape(bytes: Uint8Array, maxDecodedBytes: number): DecodedShape {
  const shape = decodedShape(bytes);
  if (shape.decodedBytes > maxDecodedBytes) {
    throw new WeirError(
      'WEIR_LIMIT_OUTPUT',
      `output of ${bytes.byteLength} bytes holds ${shape.records} records and ${shape.headers} headers, which would take about ${shape.decodedBytes} bytes of host memory decoded, above limits.maxOutputBytes (${maxDecodedBytes}); emit fewer records or headers per call`,
      { limit: 'output', bytes: bytes.byteLength, records: shape.records, headers: shape.headers, decodedBytes: shape.decodedBytes },
    );
  }
  return shape;
}

/**
 * Decodes a packed batch without copying it: the records' byte fields are
 * views into `source`, which must not change while they are used (a
 * {@link PackedBatch} the host built or checked, say). Lengths are still
 * bounds-checked; the decoded-size cap is the caller's (see {@link decodeBatch}).
 *
 * @throws WeirError `WEIR_PLUGIN_BAD_OUTPUT` when the buffer is truncated or malformed.
 */
export function viewBatch(source: Uint8Array): StreamRecord[] {
  const view = new DataView(source.buffer, source.byteOffset, source.byteLength);
  const reader = { at: 0 };
  const count = readU32(view, reader);
  const records: StreamRecord[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const flags = readU32(view, reader);
    need(view, reader, 8);
    const eventTime = view.getBigInt64(reader.at, true);
    reader.at += 8;
    const key = readBytes(view, source, reader);
    const value = readBytes(view, source, reader);
    const headerCount = readU32(view, reader);
    const headers: Header[] = new Array(headerCount);
    for (let h = 0; h < headerCount; h++) {
      const name = readBytes(view, source, reader);
      let nameText: string;
      try {
        nameText = utf8Decoder.decode(name);
      } catch {
        malformed(`header name of record ${i} is not valid UTF-8`);
      }
      headers[h] = { name: nameText, value: readBytes(view, source, reader) };
    }
    records[i] = {
      key: flags & FLAG_KEY ? key : undefined,
      value,
      headers,
      eventTime: flags & FLAG_EVENT_TIME ? eventTime : undefined,
    };
  }
  if (reader.at !== source.byteLength) malformed(`${source.byteLength - reader.at} trailing bytes after ${count} records`);
  return records;
}

const EMPTY = new Uint8Array(0);

function writeBytes(view: DataView, target: Uint8Array, at: number, bytes: Uint8Array): number {
  view.setUint32(at, bytes.byteLength, true);
  target.set(bytes, at + 4);
  return at + 4 + bytes.byteLength;
}

function need(view: DataView, reader: { at: number }, n: number): void {
  if (reader.at + n > view.byteLength) malformed(`truncated at byte ${reader.at} (needed ${n} more bytes)`);
}

function readU32(view: DataView, reader: { at: number }): number {
  need(view, reader, 4);
  const v = view.getUint32(reader.at, true);
  reader.at += 4;
  return v;
}

function skipBytes(view: DataView, reader: { at: number }): void {
  const len = readU32(view, reader);
  need(view, reader, len);
  reader.at += len;
}

function readBytes(view: DataView, source: Uint8Array, reader: { at: number }): Uint8Array {
  const len = readU32(view, reader);
  need(view, reader, len);
  const bytes = source.subarray(reader.at, reader.at + len);
  reader.at += len;
  return bytes;
}

function malformed(detail: string): never {
  throw new WeirError('WEIR_PLUGIN_BAD_OUTPUT', `malformed packed batch: ${detail}`);
}
