/**
 * A batch of records that stays in the packed format (records/batch-codec.ts)
 * as it moves through a pipeline: one immutable buffer, its record count and
 * payload size known without reading it, records materialized (as views into
 * the buffer) only for code that needs objects.
 *
 * How it is used:
 * - built-in sources write records straight into a {@link PackedBatchWriter}
 *   (no record objects), and get a batch of exactly the bytes written;
 * - plugin output is checked once by {@link PackedBatch.fromPluginOutput}
 *   (every length in bounds, header names UTF-8, the decoded size under the
 *   node's output cap) before anything downstream reads it;
 * - channels and round-robin or broadcast partitioning pass the batch whole;
 *   the batch former concatenates small batches ({@link PackedBatch.concat})
 *   and cuts large ones ({@link PackedBatch.slice}); key partitioning hashes
 *   keys in place and copies record ranges ({@link PackedBatch.select});
 * - packed-aware consumers (core-module processors, the file and stdout
 *   sinks) take {@link PackedBatch.bytes}; the rest call {@link PackedBatch.records}.
 *
 * A batch never changes after it is built, so it can be shared by every
 * reader of a broadcast and sliced without copying.
 */
import { isUtf8 } from 'node:buffer';
import { WeirError } from '../errors/errors.js';
import { DECODED_HEADER_OVERHEAD, DECODED_RECORD_OVERHEAD, checkedShape, encodeBatch, viewBatch } from './batch-codec.js';
import type { StreamRecord } from './record.js';

/** Bytes of a record's fixed fields: flags, event time, key, value and header-count lengths. */
const RECORD_FIXED = 24;
/** Bytes of a header's two length fields. */
const HEADER_FIXED = 8;
const FLAG_KEY = 1;
const FLAG_EVENT_TIME = 2;
/** `weir-output` (the header naming a record's output, topology/node-outputs.ts) as bytes. */
const OUTPUT_HEADER_BYTES = Buffer.from('weir-output', 'utf8');

/** Where each record of a batch starts, read once when something needs to find records. */
interface RecordIndex {
  /** `offsets[i]` is where record i starts, `offsets[count]` the end of the batch. */
  readonly offsets: Uint32Array;
  readonly outputHeader: boolean;
}

/** A batch in the packed format; see the module comment. */
export class PackedBatch {
  /** The packed bytes (`u32 count, record{count}`). Never written to: shared by every reader. */
  readonly bytes: Uint8Array;
  /** Records in the batch. */
  readonly length: number;
  /** Headers over all records. */
  readonly headerCount: number;
  #index: RecordIndex | undefined;
  #outputHeader: boolean | undefined;

  private constructor(bytes: Uint8Array, length: number, headerCount: number, outputHeader: boolean | undefined, index?: RecordIndex) {
    this.bytes = bytes;
    this.length = length;
    this.headerCount = headerCount;
    this.#outputHeader = outputHeader;
    this.#index = index;
  }

  /** An empty batch. */
  static empty(): PackedBatch {
    return new PackedBatch(EMPTY_BATCH, 0, 0, false);
  }

  /** Packs records (one buffer, one copy of their bytes). */
  static fromRecords(records: readonly StreamRecord[]): PackedBatch {
    let headers = 0;
    let output = false;
    for (const r of records) {
      headers += r.headers.length;
      if (!output) for (const h of r.headers) if (h.name === 'weir-output') output = true;
    }
    return new PackedBatch(encodeBatch(records), records.length, headers, output);
  }

  /**
   * A plugin's packed output, checked before anything trusts it: every
   * length inside the buffer, no trailing bytes, header names valid UTF-8,
   * and the batch's decoded size (the bytes plus the objects decoding would
   * make, see batch-codec.ts) at most `maxDecodedBytes`. `bytes` must be
   * the caller's own copy (never a view of guest memory): the batch keeps it.
   *
   * @throws WeirError `WEIR_PLUGIN_BAD_OUTPUT` for a malformed batch, `WEIR_LIMIT_OUTPUT` above the cap.
   */
  static fromPluginOutput(bytes: Uint8Array, maxDecodedBytes: number): PackedBatch {
    // One walk that checks as it indexes; on any doubt the codec's own check says what is wrong.
    const walked = checkedIndexOf(bytes);
    if (!walked || bytes.byteLength + walked.count * DECODED_RECORD_OVERHEAD + walked.headers * DECODED_HEADER_OVERHEAD > maxDecodedBytes) {
      checkedShape(bytes, maxDecodedBytes);
      throw new WeirError('WEIR_PLUGIN_BAD_OUTPUT', 'malformed packed batch: a header name is not valid UTF-8 (header names must be UTF-8 text: fix the plugin\'s encoder; the format is in sdk/assemblyscript/ABI.md)');
    }
    return new PackedBatch(bytes, walked.count, walked.headers, walked.index.outputHeader, walked.index);
  }

  /** A batch written by a trusted writer (see {@link PackedBatchWriter}). */
  static trusted(bytes: Uint8Array, length: number, headerCount: number, outputHeader: boolean): PackedBatch {
    return new PackedBatch(bytes, length, headerCount, outputHeader);
  }

  /** The batches one after another, in one buffer (the first, unchanged, when it is the only one). */
  static concat(batches: readonly PackedBatch[]): PackedBatch {
    if (batches.length === 1) return batches[0]!;
    let size = 4;
    let count = 0;
    let headers = 0;
    let output: boolean | undefined = false;
    for (const b of batches) {
      size += b.bytes.byteLength - 4;
      count += b.length;
      headers += b.headerCount;
      output = output === undefined || b.#outputHeader === undefined ? undefined : output || b.#outputHeader;
    }
    const bytes = new Uint8Array(size);
    new DataView(bytes.buffer).setUint32(0, count, true);
    let at = 4;
    for (const b of batches) {
      bytes.set(b.bytes.subarray(4), at);
      at += b.bytes.byteLength - 4;
    }
    return new PackedBatch(bytes, count, headers, output);
  }

  /**
   * Key, value, header name and header value bytes over all records (what
   * `batch.maxBytes` counts), from the buffer's size alone.
   */
  get payloadBytes(): number {
    return this.bytes.byteLength - 4 - this.length * RECORD_FIXED - this.headerCount * HEADER_FIXED;
  }

  /** Whether a record carries the `weir-output` header (then its output is chosen by it). */
  get hasOutputHeader(): boolean {
    this.#outputHeader ??= this.#indexed().outputHeader;
    return this.#outputHeader;
  }

  /** The records, decoded: their byte fields are views into {@link bytes} (do not write to them). */
  records(): StreamRecord[] {
    return this.length === 0 ? [] : viewBatch(this.bytes);
  }

  /** Payload bytes of records `[start, end)` (see {@link payloadBytes}). */
  payloadBytesOf(start: number, end: number): number {
    const { offsets } = this.#indexed();
    const view = viewOf(this.bytes);
    let headers = 0;
    for (let i = start; i < end; i++) headers += headerCountAt(view, offsets[i]!);
    return offsets[end]! - offsets[start]! - (end - start) * RECORD_FIXED - headers * HEADER_FIXED;
  }

  /** How many records from `start` fit in `maxRecords` and `maxBytes` of payload (at least one, when any is left). */
  countFitting(start: number, maxRecords: number, maxBytes: number): number {
    const end = Math.min(this.length, start + maxRecords);
    if (start === 0 && end === this.length && this.payloadBytes <= maxBytes) return end;
    const { offsets } = this.#indexed();
    const view = viewOf(this.bytes);
    let bytes = 0;
    for (let i = start; i < end; i++) {
      bytes += offsets[i + 1]! - offsets[i]! - RECORD_FIXED - headerCountAt(view, offsets[i]!) * HEADER_FIXED;
      if (bytes > maxBytes && i > start) return i - start;
    }
    return end - start;
  }

  /** Records `[start, end)` as a batch (a copy of their byte range). */
  slice(start: number, end: number): PackedBatch {
    if (start === 0 && end >= this.length) return this;
    const { offsets } = this.#indexed();
    const from = offsets[start]!;
    const to = offsets[end]!;
    const bytes = new Uint8Array(4 + to - from);
    new DataView(bytes.buffer).setUint32(0, end - start, true);
    bytes.set(this.bytes.subarray(from, to), 4);
    const view = viewOf(this.bytes);
    let headers = 0;
    for (let i = start; i < end; i++) headers += headerCountAt(view, offsets[i]!);
    return new PackedBatch(bytes, end - start, headers, this.#outputHeader === false ? false : undefined);
  }

  /**
   * Splits the batch into `parts` batches by `partOf(keyBytes or undefined, record index)`,
   * each in input order, copying record ranges (nothing is decoded). The key
   * passed is a view into {@link bytes}, valid only during the call.
   */
  select(parts: number, partOf: (key: Uint8Array | undefined, record: number) => number): PackedBatch[] {
    const { offsets } = this.#indexed();
    const view = viewOf(this.bytes);
    const lanes = new Uint32Array(this.length);
    const sizes = new Array<number>(parts).fill(4);
    const counts = new Array<number>(parts).fill(0);
    const headers = new Array<number>(parts).fill(0);
    for (let i = 0; i < this.length; i++) {
      const at = offsets[i]!;
      const flags = view.getUint32(at, true);
      const keyLen = view.getUint32(at + 12, true);
      const key = flags & FLAG_KEY ? this.bytes.subarray(at + 16, at + 16 + keyLen) : undefined;
      const lane = partOf(key, i);
      lanes[i] = lane;
      sizes[lane]! += offsets[i + 1]! - at;
      counts[lane]!++;
      headers[lane]! += headerCountAt(view, at);
    }
    const out = sizes.map((size, lane) => {
      const bytes = new Uint8Array(size);
      new DataView(bytes.buffer).setUint32(0, counts[lane]!, true);
      return { bytes, at: 4 };
    });
    for (let i = 0; i < this.length; i++) {
      const target = out[lanes[i]!]!;
      const from = offsets[i]!;
      const to = offsets[i + 1]!;
      target.bytes.set(this.bytes.subarray(from, to), target.at);
      target.at += to - from;
    }
    return out.map(({ bytes }, lane) => new PackedBatch(bytes, counts[lane]!, headers[lane]!, this.#outputHeader === false ? false : undefined));
  }

  #indexed(): RecordIndex {
    this.#index ??= indexOf(this.bytes, this.length);
    return this.#index;
  }
}

/**
 * Writes records into one growing buffer, field by field (strings with
 * `Buffer.write`, no per-field encode), and hands out each batch as a
 * {@link PackedBatch} of exactly the bytes written. The buffer is reused
 * for the next batch, so a source allocates one exact copy per batch.
 *
 * A record is written as `begin()`, `key`/`noKey`, the value, `headerCount`
 * slots filled by `header()`, then `end(eventTime)`; `abort()` drops a
 * record that is half written (a line that turned out bad).
 *
 * The buffer grows to fit the largest batch, and shrinks back when a batch
 * uses less than a quarter of it: one huge record does not keep its memory
 * for the rest of the run.
 */
export class PackedBatchWriter {
  readonly #initialBytes: number;
  #buf: Buffer;
  #view: DataView;
  #at = 4;
  #count = 0;
  #headers = 0;
  #outputHeader = false;
  /** Where the record being written starts, and where its header count goes. */
  #recordStart = -1;
  #headerCountAt = -1;
  #recordHeaders = 0;
  #recordOutputHeader = false;
  #hasKey = false;

  constructor(initialBytes = 64 * 1024) {
    this.#initialBytes = Math.max(64, initialBytes);
    this.#buf = Buffer.allocUnsafeSlow(this.#initialBytes);
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
  }

  /** Records written since the last {@link take}. */
  get count(): number {
    return this.#count;
  }

  /** Bytes the writer holds now (its buffer's size). */
  get capacity(): number {
    return this.#buf.byteLength;
  }

  /** Starts a record. */
  begin(): void {
    this.#reserve(RECORD_FIXED);
    this.#recordStart = this.#at;
    this.#at += 12;
    this.#hasKey = false;
    this.#recordHeaders = 0;
    this.#recordOutputHeader = false;
    this.#headerCountAt = -1;
  }

  /** The record's key, as UTF-8. */
  keyText(key: string): void {
    this.#hasKey = true;
    this.#text(key);
  }

  /** The record has no key. */
  noKey(): void {
    this.#u32(0);
  }

  /** The record's key bytes. */
  keyBytes(key: Uint8Array): void {
    this.#hasKey = true;
    this.#bytes(key);
  }

  /** The record's value, as UTF-8. */
  valueText(value: string): void {
    this.#text(value);
  }

  /** The record's value bytes. */
  valueBytes(value: Uint8Array): void {
    this.#bytes(value);
  }

  /** Opens the header list (call once, before {@link header}; none: not called). */
  headers(): void {
    this.#reserve(4);
    this.#headerCountAt = this.#at;
    this.#at += 4;
  }

  /** One header, name and value as UTF-8. */
  header(name: string, value: string): void {
    if (name === 'weir-output') this.#recordOutputHeader = true;
    this.#text(name);
    this.#text(value);
    this.#recordHeaders++;
  }

  /** The record's key: bytes `[from, to)` of `src`. */
  keyRange(src: Uint8Array, from: number, to: number): void {
    this.#hasKey = true;
    this.#range(src, from, to);
  }

  /** The record's value: bytes `[from, to)` of `src`. */
  valueRange(src: Uint8Array, from: number, to: number): void {
    this.#range(src, from, to);
  }

  /** One header: its name (UTF-8) and value are byte ranges of `src`. */
  headerRange(src: Uint8Array, nameFrom: number, nameTo: number, valueFrom: number, valueTo: number): void {
    if (nameTo - nameFrom === OUTPUT_HEADER_BYTES.byteLength && OUTPUT_HEADER_BYTES.equals(src.subarray(nameFrom, nameTo))) this.#recordOutputHeader = true;
    this.#range(src, nameFrom, nameTo);
    this.#range(src, valueFrom, valueTo);
    this.#recordHeaders++;
  }

  /** Ends the record, with its event time in ms (or none). */
  end(eventTime: number | bigint | undefined): void {
    if (this.#headerCountAt < 0) this.#u32(0);
    else this.#view.setUint32(this.#headerCountAt, this.#recordHeaders, true);
    const start = this.#recordStart;
    this.#view.setUint32(start, (this.#hasKey ? FLAG_KEY : 0) | (eventTime === undefined ? 0 : FLAG_EVENT_TIME), true);
    this.#view.setBigInt64(start + 4, eventTime === undefined ? 0n : BigInt(eventTime), true);
    this.#headers += this.#recordHeaders;
    if (this.#recordOutputHeader) this.#outputHeader = true;
    this.#count++;
    this.#recordStart = -1;
  }

  /** Drops the record being written. */
  abort(): void {
    if (this.#recordStart < 0) return;
    this.#at = this.#recordStart;
    this.#recordStart = -1;
  }

  /** The records written since the last take, as a batch of their own; the writer starts over. */
  take(): PackedBatch {
    this.abort();
    if (this.#count === 0) return PackedBatch.empty();
    this.#view.setUint32(0, this.#count, true);
    const batch = PackedBatch.trusted(new Uint8Array(this.#buf.subarray(0, this.#at)), this.#count, this.#headers, this.#outputHeader);
    if (this.#buf.byteLength > this.#initialBytes && this.#at < this.#buf.byteLength / 4) this.#shrinkTo(Math.max(this.#initialBytes, this.#at * 2));
    this.#at = 4;
    this.#count = 0;
    this.#headers = 0;
    this.#outputHeader = false;
    return batch;
  }

  #u32(value: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#at, value, true);
    this.#at += 4;
  }

  #bytes(bytes: Uint8Array): void {
    this.#reserve(4 + bytes.byteLength);
    this.#view.setUint32(this.#at, bytes.byteLength, true);
    this.#buf.set(bytes, this.#at + 4);
    this.#at += 4 + bytes.byteLength;
  }

  #range(src: Uint8Array, from: number, to: number): void {
    const length = to - from;
    this.#reserve(4 + length);
    this.#view.setUint32(this.#at, length, true);
    const buf = this.#buf;
    let at = this.#at + 4;
    // Short fields copy faster by hand than through a native call.
    if (length <= 32) for (let i = from; i < to; i++) buf[at++] = src[i]!;
    else {
      buf.set(src.subarray(from, to), at);
      at += length;
    }
    this.#at = at;
  }

  #text(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 for 2).
    this.#reserve(4 + text.length * 3);
    const written = text.length === 0 ? 0 : this.#buf.write(text, this.#at + 4, 'utf8');
    this.#view.setUint32(this.#at, written, true);
    this.#at += 4 + written;
  }

  #shrinkTo(bytes: number): void {
    this.#buf = Buffer.allocUnsafeSlow(bytes);
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
  }

  #reserve(bytes: number): void {
    const needed = this.#at + bytes;
    if (needed <= this.#buf.byteLength) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(needed, this.#buf.byteLength * 2));
    this.#buf.copy(grown, 0, 0, this.#at);
    this.#buf = grown;
    this.#view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }
}

const EMPTY_BATCH = new Uint8Array(4);

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The header count of the record at `at`. */
function headerCountAt(view: DataView, at: number): number {
  const keyLen = view.getUint32(at + 12, true);
  const valueLen = view.getUint32(at + 16 + keyLen, true);
  return view.getUint32(at + 20 + keyLen + valueLen, true);
}

/**
 * Indexes a batch nothing vouches for, checking as it goes that every length
 * stays inside the buffer, nothing trails the last record and header names
 * are UTF-8. Undefined when anything is off (the codec's check then names it).
 */
function checkedIndexOf(bytes: Uint8Array): { index: RecordIndex; count: number; headers: number } | undefined {
  const size = bytes.byteLength;
  if (size < 4) return undefined;
  const view = viewOf(bytes);
  const count = view.getUint32(0, true);
  if (count > (size - 4) / RECORD_FIXED) return undefined;
  const offsets = new Uint32Array(count + 1);
  let outputHeader = false;
  let headers = 0;
  let at = 4;
  for (let i = 0; i < count; i++) {
    offsets[i] = at;
    if (at + 16 > size) return undefined;
    at += 16 + view.getUint32(at + 12, true);
    if (at + 4 > size) return undefined;
    at += 4 + view.getUint32(at, true);
    if (at + 4 > size) return undefined;
    const headerCount = view.getUint32(at, true);
    at += 4;
    // An early exit only: each header's own checks would stop the loop too.
    if (headerCount > (size - at) / HEADER_FIXED) return undefined;
    headers += headerCount;
    for (let h = 0; h < headerCount; h++) {
      if (at + 4 > size) return undefined;
      const nameLen = view.getUint32(at, true);
      if (at + 4 + nameLen + 4 > size) return undefined;
      const name = bytes.subarray(at + 4, at + 4 + nameLen);
      if (!isUtf8(name)) return undefined;
      if (nameLen === OUTPUT_HEADER_BYTES.byteLength && OUTPUT_HEADER_BYTES.equals(name)) outputHeader = true;
      at += 4 + nameLen;
      at += 4 + view.getUint32(at, true);
    }
  }
  // Past the end mid-way, the next record's check stops the walk; at the end, this one.
  if (at !== size) return undefined;
  offsets[count] = at;
  return { index: { offsets, outputHeader }, count, headers };
}

/**
 * Finds where each record starts, and whether any header is `weir-output`,
 * in a batch the host built or checked.
 */
function indexOf(bytes: Uint8Array, count: number): RecordIndex {
  const view = viewOf(bytes);
  const offsets = new Uint32Array(count + 1);
  let outputHeader = false;
  let at = 4;
  for (let i = 0; i < count; i++) {
    offsets[i] = at;
    at += 12;
    at += 4 + view.getUint32(at, true);
    at += 4 + view.getUint32(at, true);
    const headers = view.getUint32(at, true);
    at += 4;
    for (let h = 0; h < headers; h++) {
      const nameLen = view.getUint32(at, true);
      const name = bytes.subarray(at + 4, at + 4 + nameLen);
      if (nameLen === OUTPUT_HEADER_BYTES.byteLength && OUTPUT_HEADER_BYTES.equals(name)) outputHeader = true;
      at += 4 + nameLen;
      at += 4 + view.getUint32(at, true);
    }
  }
  offsets[count] = at;
  return { offsets, outputHeader };
}
