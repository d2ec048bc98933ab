/**
 * How records map onto text lines, for the file and stdio connectors.
 *
 * `lines`: one line is one record's value: its bytes as they are, without
 * the newline (nothing is decoded, so bytes that are not UTF-8 pass through
 * unchanged); no key, headers or event time. Written back as the value's bytes.
 *
 * `jsonl`: one line is one JSON object, in UTF-8 (a line that is not valid
 * UTF-8 is an error naming it, never silently replaced with U+FFFD):
 * ```
 * {"key": "k1", "value": "text", "headers": {"h": "v"}, "eventTime": 1700000000000}
 * ```
 * - `value` (required unless `valueBase64` is given): a string is taken as
 *   UTF-8 text; any other JSON value is stored as its JSON text.
 * - `valueBase64`: the value as base64, for binary payloads.
 * - `key` (optional): a string (UTF-8), or null/absent for no key.
 * - `headers` (optional): an object of string values, or an array of
 *   `[name, value]` pairs when names repeat.
 * - `eventTime` (optional): milliseconds since the epoch, or an ISO-8601 string.
 *
 * Written back the same way: `value` as text when it is valid UTF-8, else
 * `valueBase64`; `headers` as an object unless a name repeats; `key` and
 * `eventTime` only when present.
 *
 * Both directions work on bytes, a batch at a time: a line is checked as
 * UTF-8 and its fields are written straight into the batch's packed buffer
 * ({@link LineParser}, no per-field encode, no record objects): a line in
 * the compact shape `JSON.stringify` writes, without escapes, is read from
 * its bytes; any other line is decoded and parsed with `JSON.parse`; a packed batch is formatted into one output buffer in
 * one pass over its bytes ({@link LineFormatter}: text fields are copied,
 * escaped only where JSON needs it). {@link formatLine} builds the line from
 * a record object with `JSON.stringify`: the definition the byte formatter
 * must match (the tests compare the two), and its path for the rare header
 * names JSON orders first (array indexes: "0", "17").
 */
import { isUtf8 } from 'node:buffer';
import type { Header, StreamRecord } from '../records/record.js';
import { PackedBatch, PackedBatchWriter } from '../records/packed-batch.js';
import { WeirError } from '../errors/errors.js';

/** Line formats of the file and stdio connectors. */
export type LineFormat = 'jsonl' | 'lines';

/** Decodes record content (value, key, header) to write it: a leading EF BB BF stays U+FEFF. */
const contentDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Appends the records of lines to packed batches: in `lines` format each
 * line's bytes themselves, in `jsonl` the line checked as strict UTF-8 (a
 * byte order mark at its start is not JSON and is dropped) and read, plain
 * lines straight from their bytes (see {@link writePlainLine}), the others
 * with `JSON.parse`. A line that fails leaves nothing in the writer. A
 * parser keeps scratch space for one line at a time: one per source.
 */
export class LineParser {
  readonly #format: LineFormat;
  readonly #plain: PlainLine = { key: [0, 0], value: [0, 0], headers: new Int32Array(PLAIN_MAX_HEADERS * 4), headerCount: 0, eventTime: 0 };

  constructor(format: LineFormat) {
    this.#format = format;
  }

  /**
   * Appends the record of one line's bytes to `writer`.
   *
   * @param where - `file:line` for error messages.
   * @throws WeirError `WEIR_CONNECTOR_IO` for a line that breaks the format or is not UTF-8 (jsonl).
   */
  write(writer: PackedBatchWriter, line: Uint8Array, where: string): void {
    if (this.#format === 'lines') {
      writer.begin();
      writer.noKey();
      writer.valueBytes(line);
      writer.end(undefined);
      return;
    }
    if (!isUtf8(line)) {
      throw bad(where, `is not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(line)}); JSON text must be UTF-8: carry binary values in "valueBase64", or read the file with "format": "lines"`);
    }
    const bom = line.length >= 3 && line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf ? 3 : 0;
    if (writePlainLine(writer, line, bom, this.#plain)) return;
    writeJson(writer, Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8', bom), where);
  }
}

/**
 * Makes a record of one line's bytes (see {@link LineParser}); its fields do
 * not hold the chunk the line came from.
 *
 * @param where - `file:line` for error messages.
 * @throws WeirError `WEIR_CONNECTOR_IO` for a line that breaks the format or is not UTF-8 (jsonl).
 */
export function recordOfLine(line: Uint8Array, format: LineFormat, where: string): StreamRecord {
  const writer = new PackedBatchWriter(256);
  new LineParser(format).write(writer, line, where);
  return writer.take().records()[0]!;
}

/**
 * Parses one line (as text) into a record, with `JSON.parse` (jsonl).
 *
 * @param where - `file:line` for error messages.
 * @throws WeirError `WEIR_CONNECTOR_IO` for a line that breaks the format.
 */
export function parseLine(line: string, format: LineFormat, where: string): StreamRecord {
  const writer = new PackedBatchWriter(256);
  if (format === 'lines') {
    writer.begin();
    writer.noKey();
    writer.valueText(line);
    writer.end(undefined);
  } else {
    writeJson(writer, line, where);
  }
  return writer.take().records()[0]!;
}

/**
 * Formats records as lines, each followed by `\n`, in one buffer. `lines`
 * writes each value's bytes unchanged.
 */
export function formatBatch(records: readonly StreamRecord[], format: LineFormat): Buffer {
  return Buffer.from(new LineFormatter(format).format(PackedBatch.fromRecords(records)));
}

/** Most headers a line may have to take the plain path. */
const PLAIN_MAX_HEADERS = 32;
const FIELD_KEY = 1;
const FIELD_VALUE = 2;
const FIELD_HEADERS = 4;
const FIELD_EVENT_TIME = 8;

/** Where the fields of a plain line lie (a {@link LineParser}'s scratch space, reused line after line). */
interface PlainLine {
  key: [number, number];
  value: [number, number];
  /** Name from, name to, value from, value to, per header. */
  headers: Int32Array;
  headerCount: number;
  eventTime: number;
}

/**
 * Writes the record of a jsonl line straight from its bytes when the line is
 * plain: the compact shape `JSON.stringify` writes, with string fields free
 * of escapes and control characters, `headers` an object whose names are
 * distinct and do not start with a digit (JSON orders those first), and an
 * integer `eventTime` of at most 15 digits. The record is then exactly what
 * `JSON.parse` would give, without decoding the line. Anything else
 * (whitespace, escapes, null, a non-string value, `valueBase64`, a repeated
 * field, an error to report) returns false, writing nothing, and the line
 * goes the `JSON.parse` way. `line` is valid UTF-8.
 */
function writePlainLine(writer: PackedBatchWriter, line: Uint8Array, from: number, plain: PlainLine): boolean {
  const end = line.length;
  if (end - from < 2 || line[from] !== 0x7b || line[end - 1] !== 0x7d) return false;
  let at = from + 1;
  let seen = 0;
  plain.headerCount = 0;
  for (;;) {
    // A field name, then its value.
    if (line[at] !== 0x22) return false;
    const nameFrom = at + 1;
    const nameTo = plainStringEnd(line, nameFrom, end);
    if (nameTo < 0 || line[nameTo + 1] !== 0x3a) return false;
    const field = fieldOf(line, nameFrom, nameTo);
    if (field === 0 || seen & field) return false;
    seen |= field;
    at = nameTo + 2;
    if (field === FIELD_EVENT_TIME) {
      at = plainInteger(line, at, end, plain);
      if (at < 0) return false;
    } else if (field === FIELD_HEADERS) {
      at = plainHeaders(line, at, end, plain);
      if (at < 0) return false;
    } else {
      if (line[at] !== 0x22) return false;
      const to = plainStringEnd(line, at + 1, end);
      if (to < 0) return false;
      const range = field === FIELD_KEY ? plain.key : plain.value;
      range[0] = at + 1;
      range[1] = to;
      at = to + 1;
    }
    if (line[at] === 0x2c) at++;
    else if (at === end - 1) break;
    else return false;
  }
  if (!(seen & FIELD_VALUE)) return false;
  writer.begin();
  if (seen & FIELD_KEY) writer.keyRange(line, plain.key[0]!, plain.key[1]!);
  else writer.noKey();
  writer.valueRange(line, plain.value[0]!, plain.value[1]!);
  if (seen & FIELD_HEADERS) {
    writer.headers();
    const h = plain.headers;
    for (let i = 0; i < plain.headerCount * 4; i += 4) writer.headerRange(line, h[i]!, h[i + 1]!, h[i + 2]!, h[i + 3]!);
  }
  writer.end(seen & FIELD_EVENT_TIME ? plain.eventTime : undefined);
  return true;
}

/** Where a string starting at `at` (after its quote) ends (its closing quote), or -1 when it holds a backslash or a control character. */
function plainStringEnd(line: Uint8Array, at: number, end: number): number {
  for (; at < end; at++) {
    const c = line[at]!;
    if (c === 0x22) return at;
    if (c === 0x5c || c < 0x20) return -1;
  }
  return -1;
}

/** The field a name is (key, value, headers, eventTime), 0 for any other (valueBase64 included: the JSON.parse way). */
function fieldOf(line: Uint8Array, from: number, to: number): number {
  const length = to - from;
  const c = line[from];
  if (length === 3 && c === 0x6b && line[from + 1] === 0x65 && line[from + 2] === 0x79) return FIELD_KEY;
  if (length === 5 && c === 0x76 && equalsAscii(line, from, 'value')) return FIELD_VALUE;
  if (length === 7 && c === 0x68 && equalsAscii(line, from, 'headers')) return FIELD_HEADERS;
  if (length === 9 && c === 0x65 && equalsAscii(line, from, 'eventTime')) return FIELD_EVENT_TIME;
  return 0;
}

function equalsAscii(line: Uint8Array, from: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (line[from + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Reads an integer of 1 to 15 digits (JSON: no leading zero) at `at` into `plain.eventTime`; where it ends, or -1. */
function plainInteger(line: Uint8Array, at: number, end: number, plain: PlainLine): number {
  const negative = line[at] === 0x2d;
  if (negative) at++;
  const first = at;
  let value = 0;
  for (; at < end; at++) {
    const d = line[at]! - 0x30;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
  }
  const digits = at - first;
  // At most 15 digits: exact in a double however they are summed (a fraction or exponent after them fails the caller's check for `,` or `}`).
  if (digits === 0 || digits > 15 || (line[first] === 0x30 && digits > 1)) return -1;
  plain.eventTime = negative ? -value : value;
  return at;
}

/** Reads a headers object of plain strings at `at` into `plain.headers`; where it ends, or -1. */
function plainHeaders(line: Uint8Array, at: number, end: number, plain: PlainLine): number {
  if (line[at] !== 0x7b) return -1;
  at++;
  if (line[at] === 0x7d) return at + 1;
  const h = plain.headers;
  for (let n = 0; ; n++) {
    if (n === PLAIN_MAX_HEADERS || line[at] !== 0x22) return -1;
    const nameFrom = at + 1;
    const nameTo = plainStringEnd(line, nameFrom, end);
    if (nameTo < 0 || line[nameTo + 1] !== 0x3a || line[nameTo + 2] !== 0x22) return -1;
    const first = line[nameFrom]!;
    if (nameTo > nameFrom && first >= 0x30 && first <= 0x39) return -1;
    const valueFrom = nameTo + 3;
    const valueTo = plainStringEnd(line, valueFrom, end);
    if (valueTo < 0) return -1;
    for (let i = 0; i < n * 4; i += 4) if (sameBytes(line, h[i]!, h[i + 1]!, nameFrom, nameTo)) return -1;
    h[n * 4] = nameFrom;
    h[n * 4 + 1] = nameTo;
    h[n * 4 + 2] = valueFrom;
    h[n * 4 + 3] = valueTo;
    plain.headerCount = n + 1;
    at = valueTo + 1;
    if (line[at] === 0x7d) return at + 1;
    if (line[at] !== 0x2c) return -1;
    at++;
  }
}

function sameBytes(line: Uint8Array, aFrom: number, aTo: number, bFrom: number, bTo: number): boolean {
  if (aTo - aFrom !== bTo - bFrom) return false;
  for (let i = 0; i < aTo - aFrom; i++) if (line[aFrom + i] !== line[bFrom + i]) return false;
  return true;
}

/**
 * Formats one record as a line (without the newline) from the record
 * object, with `JSON.stringify`: the reference {@link LineFormatter} matches.
 */
export function formatLine(record: StreamRecord, format: LineFormat): string {
  if (format === 'lines') return Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength).toString('utf8');
  const out: Record<string, unknown> = {};
  if (record.key !== undefined) out.key = textOrUndefined(record.key) ?? Buffer.from(record.key).toString('base64');
  const text = textOrUndefined(record.value);
  if (text === undefined) out.valueBase64 = Buffer.from(record.value).toString('base64');
  else out.value = text;
  if (record.headers.length > 0) out.headers = formatHeaders(record.headers);
  if (record.eventTime !== undefined) out.eventTime = Number(record.eventTime);
  return JSON.stringify(out);
}

/**
 * Formats packed batches as lines into one buffer it reuses: the bytes
 * {@link format} returns are valid until its next call (copy them to keep them).
 */
export class LineFormatter {
  readonly #format: LineFormat;
  #out: Buffer;
  #at = 0;

  constructor(format: LineFormat, initialBytes = 64 * 1024) {
    this.#format = format;
    this.#out = Buffer.allocUnsafeSlow(Math.max(64, initialBytes));
  }

  /** The batch's lines, each followed by `\n`: a view of this formatter's buffer. */
  format(batch: PackedBatch): Buffer {
    const src = batch.bytes;
    const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
    this.#at = 0;
    let at = 4;
    for (let i = 0; i < batch.length; i++) {
      const flags = view.getUint32(at, true);
      const timeAt = at + 4;
      const keyLen = view.getUint32(at + 12, true);
      const keyAt = at + 16;
      const valueLen = view.getUint32(keyAt + keyLen, true);
      const valueAt = keyAt + keyLen + 4;
      const headerCount = view.getUint32(valueAt + valueLen, true);
      const headersAt = valueAt + valueLen + 4;
      let end = headersAt;
      for (let h = 0; h < headerCount; h++) {
        end += 4 + view.getUint32(end, true);
        end += 4 + view.getUint32(end, true);
      }
      if (this.#format === 'lines') {
        this.#raw(src, valueAt, valueAt + valueLen);
      } else if (headerCount > 0 && jsonOrdersFirst(src, view, headersAt, headerCount)) {
        this.#ascii(formatLine(recordAt(src, view, at), 'jsonl'));
      } else {
        this.#byte(0x7b);
        if (flags & FLAG_KEY) {
          this.#put(KEY_FIELD);
          this.#textOrBase64(src, keyAt, keyAt + keyLen);
          this.#byte(0x2c);
        }
        this.#put(VALUE_FIELD);
        if (!this.#text(src, valueAt, valueAt + valueLen)) {
          this.#at -= VALUE_FIELD.byteLength;
          this.#put(VALUE_BASE64_FIELD);
          this.#base64(src, valueAt, valueAt + valueLen);
        }
        if (headerCount > 0) {
          this.#put(HEADERS_FIELD);
          this.#headers(src, view, headersAt, headerCount);
        }
        if (flags & FLAG_EVENT_TIME) {
          this.#put(EVENT_TIME_FIELD);
          this.#ascii(String(Number(view.getBigInt64(timeAt, true))));
        }
        this.#byte(0x7d);
      }
      this.#byte(0x0a);
      at = end;
    }
    return this.#out.subarray(0, this.#at);
  }

  /** Headers as an object, or as `[name, value]` pairs when a name repeats. */
  #headers(src: Uint8Array, view: DataView, at: number, count: number): void {
    const pairs = repeatsName(src, view, at, count);
    this.#byte(pairs ? 0x5b : 0x7b);
    for (let h = 0; h < count; h++) {
      const nameLen = view.getUint32(at, true);
      const nameAt = at + 4;
      const valueLen = view.getUint32(nameAt + nameLen, true);
      const valueAt = nameAt + nameLen + 4;
      if (h > 0) this.#byte(0x2c);
      if (pairs) this.#byte(0x5b);
      this.#textOrBase64(src, nameAt, nameAt + nameLen);
      this.#byte(pairs ? 0x2c : 0x3a);
      this.#textOrBase64(src, valueAt, valueAt + valueLen);
      if (pairs) this.#byte(0x5d);
      at = valueAt + valueLen;
    }
    this.#byte(pairs ? 0x5d : 0x7d);
  }

  #textOrBase64(src: Uint8Array, from: number, to: number): void {
    if (!this.#text(src, from, to)) this.#base64(src, from, to);
  }

  /** Writes `src[from, to)` as a JSON string; false (nothing written) when it is not valid UTF-8. */
  #text(src: Uint8Array, from: number, to: number): boolean {
    this.#reserve(to - from + 2);
    const out = this.#out;
    const start = this.#at;
    let at = start;
    out[at++] = 0x22;
    let escapes = false;
    let multiByte = false;
    for (let i = from; i < to; i++) {
      const c = src[i]!;
      out[at++] = c;
      if (c < 0x20 || c === 0x22 || c === 0x5c) escapes = true;
      else if (c >= 0x80) multiByte = true;
    }
    if (multiByte && !isUtf8(src.subarray(from, to))) return false;
    if (escapes) {
      // JSON.stringify's escapes: short forms for \b \t \n \f \r " \, \u00xx for the other controls.
      this.#reserve((to - from) * 6 + 2);
      // Growing copied only what was committed: the opening quote is written again.
      const escaped = this.#out;
      escaped[start] = 0x22;
      at = start + 1;
      for (let i = from; i < to; i++) {
        const c = src[i]!;
        const short = c < 0x60 ? SHORT_ESCAPES[c]! : 0;
        if (short !== 0) {
          escaped[at++] = 0x5c;
          escaped[at++] = short;
        } else if (c < 0x20) {
          escaped[at++] = 0x5c;
          escaped[at++] = 0x75;
          escaped[at++] = 0x30;
          escaped[at++] = 0x30;
          escaped[at++] = HEX[c >> 4]!;
          escaped[at++] = HEX[c & 15]!;
        } else {
          escaped[at++] = c;
        }
      }
    }
    this.#out[at++] = 0x22;
    this.#at = at;
    return true;
  }

  #base64(src: Uint8Array, from: number, to: number): void {
    this.#ascii(`"${Buffer.from(src.buffer, src.byteOffset + from, to - from).toString('base64')}"`);
  }

  #raw(src: Uint8Array, from: number, to: number): void {
    this.#reserve(to - from);
    this.#out.set(src.subarray(from, to), this.#at);
    this.#at += to - from;
  }

  #byte(byte: number): void {
    this.#reserve(1);
    this.#out[this.#at++] = byte;
  }

  /** Writes a few constant bytes. */
  #put(bytes: Uint8Array): void {
    this.#reserve(bytes.byteLength);
    const out = this.#out;
    let at = this.#at;
    for (let i = 0; i < bytes.byteLength; i++) out[at++] = bytes[i]!;
    this.#at = at;
  }

  /** Writes text that is ASCII (or whose UTF-8 is wanted: the fallback line). */
  #ascii(text: string): void {
    this.#reserve(text.length * 3);
    this.#at += this.#out.write(text, this.#at, 'utf8');
  }

  #reserve(bytes: number): void {
    const needed = this.#at + bytes;
    if (needed <= this.#out.byteLength) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(needed, this.#out.byteLength * 2));
    this.#out.copy(grown, 0, 0, this.#at);
    this.#out = grown;
  }
}

const FLAG_KEY = 1;
const FLAG_EVENT_TIME = 2;
const KEY_FIELD = Buffer.from('"key":', 'latin1');
const VALUE_FIELD = Buffer.from('"value":', 'latin1');
const VALUE_BASE64_FIELD = Buffer.from('"valueBase64":', 'latin1');
const HEADERS_FIELD = Buffer.from(',"headers":', 'latin1');
const EVENT_TIME_FIELD = Buffer.from(',"eventTime":', 'latin1');
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** The letter of a two-character escape, by byte (0: none). */
const SHORT_ESCAPES = (() => {
  const table = new Uint8Array(0x60);
  table[0x08] = 0x62; // \b
  table[0x09] = 0x74; // \t
  table[0x0a] = 0x6e; // \n
  table[0x0c] = 0x66; // \f
  table[0x0d] = 0x72; // \r
  table[0x22] = 0x22; // \"
  table[0x5c] = 0x5c; // \\
  return table;
})();

/** Whether two headers from `at` share a name (bytes compared). */
function repeatsName(src: Uint8Array, view: DataView, at: number, count: number): boolean {
  if (count < 2) return false;
  const seen = new Set<string>();
  const bytes = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
  for (let h = 0; h < count; h++) {
    const nameLen = view.getUint32(at, true);
    const name = bytes.toString('latin1', at + 4, at + 4 + nameLen);
    if (seen.has(name)) return true;
    seen.add(name);
    at += 4 + nameLen;
    at += 4 + view.getUint32(at, true);
  }
  return false;
}

/**
 * Whether a header name starts with a digit: a name JSON may order before
 * the others in an object (an array index), so the line is made by
 * {@link formatLine}, which orders as `JSON.stringify` does.
 */
function jsonOrdersFirst(src: Uint8Array, view: DataView, at: number, count: number): boolean {
  for (let h = 0; h < count; h++) {
    const nameLen = view.getUint32(at, true);
    const first = src[at + 4];
    if (nameLen > 0 && first! >= 0x30 && first! <= 0x39) return true;
    at += 4 + nameLen;
    at += 4 + view.getUint32(at, true);
  }
  return false;
}

/** The record at `at` of a packed batch, as an object (views into `src`). */
function recordAt(src: Uint8Array, view: DataView, at: number): StreamRecord {
  const flags = view.getUint32(at, true);
  const eventTime = view.getBigInt64(at + 4, true);
  let p = at + 12;
  const keyLen = view.getUint32(p, true);
  const key = src.subarray(p + 4, p + 4 + keyLen);
  p += 4 + keyLen;
  const valueLen = view.getUint32(p, true);
  const value = src.subarray(p + 4, p + 4 + valueLen);
  p += 4 + valueLen;
  const count = view.getUint32(p, true);
  p += 4;
  const headers: Header[] = [];
  for (let h = 0; h < count; h++) {
    const nameLen = view.getUint32(p, true);
    const name = Buffer.from(src.buffer, src.byteOffset + p + 4, nameLen).toString('utf8');
    p += 4 + nameLen;
    const len = view.getUint32(p, true);
    headers.push({ name, value: src.subarray(p + 4, p + 4 + len) });
    p += 4 + len;
  }
  return { key: flags & FLAG_KEY ? key : undefined, value, headers, eventTime: flags & FLAG_EVENT_TIME ? eventTime : undefined };
}

/** Parses one jsonl line's text and writes its record. */
function writeJson(writer: PackedBatchWriter, line: string, where: string): void {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    throw bad(where, `is not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad(where, 'must be a JSON object like {"value": "..."}');
  const o = json as Record<string, unknown>;
  for (const field in o) {
    if (field !== 'key' && field !== 'value' && field !== 'valueBase64' && field !== 'headers' && field !== 'eventTime') {
      throw bad(where, `has unknown field "${field}" (allowed: key, value, valueBase64, headers, eventTime)`);
    }
  }
  writer.begin();
  try {
    writeKey(writer, o.key, where);
    writeValue(writer, o, where);
    writeHeaders(writer, o.headers, where);
    writer.end(parseEventTime(o.eventTime, where));
  } catch (error) {
    writer.abort();
    throw error;
  }
}

function writeKey(writer: PackedBatchWriter, key: unknown, where: string): void {
  if (key === undefined || key === null) return writer.noKey();
  if (typeof key !== 'string') throw bad(where, '"key" must be a string or null');
  writer.keyText(key);
}

function writeValue(writer: PackedBatchWriter, o: Record<string, unknown>, where: string): void {
  if (o.valueBase64 !== undefined) {
    if (o.value !== undefined) throw bad(where, 'has both "value" and "valueBase64"; give one');
    if (typeof o.valueBase64 !== 'string') throw bad(where, '"valueBase64" must be a base64 string');
    return writer.valueBytes(Buffer.from(o.valueBase64, 'base64'));
  }
  if (o.value === undefined) throw bad(where, 'has no "value" (or "valueBase64")');
  writer.valueText(typeof o.value === 'string' ? o.value : JSON.stringify(o.value));
}

function writeHeaders(writer: PackedBatchWriter, headers: unknown, where: string): void {
  if (headers === undefined || headers === null) return;
  if (typeof headers !== 'object') throw bad(where, '"headers" must be an object or an array of [name, value] pairs');
  writer.headers();
  if (!Array.isArray(headers)) {
    // An object's own properties in Object.entries order, without an array per entry.
    const object = headers as Record<string, unknown>;
    for (const name in object) {
      const value = object[name];
      if (typeof value !== 'string') throw bad(where, '"headers" values must be strings (an object of strings, or [name, value] string pairs)');
      writer.header(name, value);
    }
    return;
  }
  for (const pair of headers as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw bad(where, '"headers" values must be strings (an object of strings, or [name, value] string pairs)');
    }
    writer.header(pair[0], pair[1]);
  }
}

/** The largest time a JS Date holds: 8.64e15 ms (about 275,000 years) either side of the epoch. */
const MAX_EVENT_TIME_MS = 8.64e15;

function parseEventTime(eventTime: unknown, where: string): bigint | undefined {
  if (eventTime === undefined || eventTime === null) return undefined;
  if (typeof eventTime === 'number' && Number.isInteger(eventTime)) {
    // Beyond a date's range a time is meaningless (and past 2^63 it would not fit the record's i64).
    if (Math.abs(eventTime) <= MAX_EVENT_TIME_MS) return BigInt(eventTime);
    throw bad(where, `"eventTime" ${eventTime} is outside the range of a date (±${MAX_EVENT_TIME_MS} ms since the epoch); give milliseconds since the epoch`);
  }
  if (typeof eventTime === 'string') {
    const ms = Date.parse(eventTime);
    if (!Number.isNaN(ms)) return BigInt(ms);
  }
  throw bad(where, '"eventTime" must be integer milliseconds since the epoch or an ISO-8601 date string');
}

function formatHeaders(headers: Header[]): Record<string, string> | Array<[string, string]> {
  const names = new Set(headers.map((h) => h.name));
  const pairs = headers.map((h): [string, string] => [h.name, textOrUndefined(h.value) ?? Buffer.from(h.value).toString('base64')]);
  return names.size === headers.length ? Object.fromEntries(pairs) : pairs;
}

function textOrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return contentDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Offset of the first byte that starts an invalid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const more = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (more < 0 || i + more >= b.length) return i;
    for (let k = 1; k <= more; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    const c1 = b[i + 1]!;
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f) || (c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return i;
    i += more + 1;
  }
  return i;
}

function bad(where: string, what: string): WeirError {
  return new WeirError('WEIR_CONNECTOR_IO', `${where}: the line ${what}`, { where });
}
