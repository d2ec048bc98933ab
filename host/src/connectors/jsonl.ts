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
 */
import type { Header, StreamRecord } from '../records/record.js';
import { WeirError } from '../errors/errors.js';

/** Line formats of the file and stdio connectors. */
export type LineFormat = 'jsonl' | 'lines';

const encoder = new TextEncoder();
/** Decodes a whole jsonl line (a BOM at its start is not JSON and is dropped). */
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
/** Decodes record content (value, key, header) to write it: a leading EF BB BF stays U+FEFF. */
const contentDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const NEWLINE = new Uint8Array([0x0a]);

/**
 * Makes a record of one line's bytes: in `lines` format the bytes themselves
 * (copied, so the record does not hold the chunk it came from), in `jsonl` the
 * line decoded as strict UTF-8 and parsed.
 *
 * @param where - `file:line` for error messages.
 * @throws WeirError `WEIR_CONNECTOR_IO` for a line that breaks the format or is not UTF-8 (jsonl).
 */
export function recordOfLine(line: Uint8Array, format: LineFormat, where: string): StreamRecord {
  if (format === 'lines') return { key: undefined, value: line.slice(), headers: [], eventTime: undefined };
  let text: string;
  try {
    text = strictDecoder.decode(line);
  } catch {
    throw bad(where, `is not valid UTF-8 (first bad byte at offset ${firstInvalidUtf8(line)}); JSON text must be UTF-8: carry binary values in "valueBase64", or read the file with "format": "lines"`);
  }
  return parseLine(text, format, where);
}

/**
 * Formats records as lines, each followed by `\n`, in one buffer. `lines`
 * writes each value's bytes unchanged.
 */
export function formatBatch(records: readonly StreamRecord[], format: LineFormat): Buffer {
  if (format === 'lines') {
    const parts: Uint8Array[] = [];
    for (const record of records) parts.push(record.value, NEWLINE);
    return Buffer.concat(parts);
  }
  let text = '';
  for (const record of records) text += formatLine(record, format) + '\n';
  return Buffer.from(text, 'utf8');
}

/**
 * Parses one line into a record.
 *
 * @param where - `file:line` for error messages.
 * @throws WeirError `WEIR_CONNECTOR_IO` for a line that breaks the format.
 */
export function parseLine(line: string, format: LineFormat, where: string): StreamRecord {
  if (format === 'lines') return { key: undefined, value: encoder.encode(line), headers: [], eventTime: undefined };
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    throw bad(where, `is not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad(where, 'must be a JSON object like {"value": "..."}');
  const o = json as Record<string, unknown>;
  for (const field of Object.keys(o)) {
    if (!['key', 'value', 'valueBase64', 'headers', 'eventTime'].includes(field)) {
      throw bad(where, `has unknown field "${field}" (allowed: key, value, valueBase64, headers, eventTime)`);
    }
  }
  return { key: parseKey(o.key, where), value: parseValue(o, where), headers: parseHeaders(o.headers, where), eventTime: parseEventTime(o.eventTime, where) };
}

/** Formats one record as a line (without the newline). */
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

function parseKey(key: unknown, where: string): Uint8Array | undefined {
  if (key === undefined || key === null) return undefined;
  if (typeof key !== 'string') throw bad(where, '"key" must be a string or null');
  return encoder.encode(key);
}

function parseValue(o: Record<string, unknown>, where: string): Uint8Array {
  if (o.valueBase64 !== undefined) {
    if (o.value !== undefined) throw bad(where, 'has both "value" and "valueBase64"; give one');
    if (typeof o.valueBase64 !== 'string') throw bad(where, '"valueBase64" must be a base64 string');
    return new Uint8Array(Buffer.from(o.valueBase64, 'base64'));
  }
  if (o.value === undefined) throw bad(where, 'has no "value" (or "valueBase64")');
  return encoder.encode(typeof o.value === 'string' ? o.value : JSON.stringify(o.value));
}

function parseHeaders(headers: unknown, where: string): Header[] {
  if (headers === undefined || headers === null) return [];
  const pairs: unknown[] = Array.isArray(headers) ? headers : Object.entries(headers as object);
  if (typeof headers !== 'object') throw bad(where, '"headers" must be an object or an array of [name, value] pairs');
  return pairs.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw bad(where, '"headers" values must be strings (an object of strings, or [name, value] string pairs)');
    }
    return { name: pair[0], value: encoder.encode(pair[1]) };
  });
}

function parseEventTime(eventTime: unknown, where: string): bigint | undefined {
  if (eventTime === undefined || eventTime === null) return undefined;
  if (typeof eventTime === 'number' && Number.isInteger(eventTime)) return BigInt(eventTime);
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
