// Packed batches for JS processors: the records of a call read in place and
// the records passed downstream written straight into one output buffer, with
// no object per record.
//
// A processor that exports `processBatch(batch, out)` gets a `Batch` (a
// cursor over the packed input: `next()` moves to the next record, the
// accessors read the record the cursor is on) and an `Output` (packed records
// written into one growing buffer, reused from call to call). `host build`
// exports it as the component's `process-packed` (wit/plugin.wit, world
// `packed-processor`), which the host calls instead of `process`: the batch
// crosses as one `list<u8>` each way, where `process` costs the canonical
// ABI's lifting of every key, value and header into JavaScript objects and
// back (the larger part of a JS processor's time per record).
//
// The format (little-endian; wit/plugin.wit, sdk/assemblyscript/ABI.md):
//   batch  := u32 count, record{count}
//   record := u32 flags (bit 0: key present, bit 1: event time present),
//             i64 event-time, u32 key-len, key, u32 value-len, value,
//             u32 header-count, header{header-count}
//   header := u32 name-len, name (UTF-8), u32 value-len, value
//
// Costs in QuickJS (why the API looks like this): reading a length is a
// DataView call; a view (`subarray`) or an object costs about as much as ten
// of them, so the cursor records where the parts are and makes views only
// when asked. Text goes through the native helpers of utf8.js; `valueLatin1`
// slices one binary string of the whole batch, made on first use.
import { bytesToLatin1, decodeUtf8, decodeUtf8Latin1, encodeUtf8, encodeUtf8Latin1, latin1ToBytes } from './utf8.js';

const FLAG_KEY = 1;
const FLAG_EVENT_TIME = 2;
const TWO_32 = 4294967296;
const NATIVE_BASE64 = typeof Uint8Array.prototype.setFromBase64 === 'function' && typeof btoa === 'function';

/**
 * The records of one call, read in place. Key, value and header values are
 * views into the call's input (valid while the call runs; copy what you keep
 * beyond it with `slice()`).
 */
/**
 * Why `batch` is not a record a `Batch` cursor stands on (the cold path of
 * the check in `out.pass(batch)` and its kin, which take the cursor given to
 * `processBatch`, after a `next()` that returned true).
 */
function cursorError(batch, method) {
  if (!(batch instanceof Batch)) return new TypeError(`out.${method}(batch, ...): batch must be the Batch given to processBatch (got ${batch === null ? 'null' : typeof batch}), e.g. while (batch.next()) out.${method}(batch${method === 'pass' ? '' : ', ...'})`);
  return new RangeError(`out.${method}(batch, ...): the batch is ${batch.index < 0 ? 'before its first record: call batch.next() first' : 'past its last record (batch.next() returned false)'}`);
}

export class Batch {
  /** @param {Uint8Array} bytes a packed batch */
  constructor(bytes) {
    /** @type {Uint8Array} */
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    /** Records in the batch. */
    this.length = bytes.byteLength >= 4 ? this.view.getUint32(0, true) : 0;
    /** Index of the current record (-1 before the first `next()`, `length` once `next()` returned false). */
    this.index = -1;
    this.at = 4;
    // The current record: where it starts, where its value and headers are, and where it ends
    // (the fewest fields `next()` can find it with: the rest is read when asked for).
    this.start = 0;
    this.valueStart = 0;
    this.valueEnd = 0;
    this.headersAt = 0;
    this.end = 0;
    this.latin1 = undefined;
  }

  /** Moves to the next record; false when there is none. */
  next() {
    if (this.index + 1 >= this.length) {
      // Past the end (index = length): passing "the current record" now is a mistake, refused by Output.
      this.index = this.length;
      return false;
    }
    this.index++;
    const view = this.view;
    const start = (this.start = this.at);
    const valueAt = start + 16 + view.getUint32(start + 12, true);
    this.valueStart = valueAt + 4;
    let at = (this.headersAt = this.valueEnd = valueAt + 4 + view.getUint32(valueAt, true));
    const count = view.getUint32(at, true);
    at += 4;
    for (let h = 0; h < count; h++) {
      at += 4 + view.getUint32(at, true);
      at += 4 + view.getUint32(at, true);
    }
    this.at = this.end = at;
    return true;
  }

  /** True when the record has a key. */
  get hasKey() {
    return (this.view.getUint32(this.start, true) & FLAG_KEY) !== 0;
  }

  /** The key (a view), or undefined. */
  get key() {
    return this.hasKey ? this.bytes.subarray(this.start + 16, this.valueStart - 4) : undefined;
  }

  /** The value (a view). */
  get value() {
    return this.bytes.subarray(this.valueStart, this.valueEnd);
  }

  /** The value's length in bytes. */
  get valueLength() {
    return this.valueEnd - this.valueStart;
  }

  /** The value as UTF-8 text (malformed bytes become U+FFFD), decoded from the batch's binary string. */
  valueText() {
    return decodeUtf8Latin1((this.latin1 ?? this.binary()).slice(this.valueStart, this.valueEnd));
  }

  /** The value as a binary string (one char per byte; utf8.js `bytesToLatin1`), sliced from one string of the whole batch. */
  valueLatin1() {
    return (this.latin1 ?? this.binary()).slice(this.valueStart, this.valueEnd);
  }

  /** The whole batch as a binary string, made on first use. */
  binary() {
    if (this.latin1 === undefined) this.latin1 = bytesToLatin1(this.bytes);
    return this.latin1;
  }

  /** The key as UTF-8 text, or undefined. */
  keyText() {
    const key = this.key;
    return key === undefined ? undefined : decodeUtf8(key);
  }

  /** True when the record has an event time. */
  get hasEventTime() {
    return (this.view.getUint32(this.start, true) & FLAG_EVENT_TIME) !== 0;
  }

  /** The event time (ms since the epoch), or undefined. */
  get eventTime() {
    if (!this.hasEventTime) return undefined;
    return this.view.getInt32(this.start + 8, true) * TWO_32 + this.view.getUint32(this.start + 4, true);
  }

  /** How many headers the record has. */
  get headerCount() {
    return this.view.getUint32(this.headersAt, true);
  }

  /** The headers, as `process` sees them: `[{ name, value }]` (values are views). */
  get headers() {
    const headers = new Array(this.headerCount);
    let at = this.headersAt + 4;
    for (let h = 0; h < headers.length; h++) {
      const nameEnd = at + 4 + this.view.getUint32(at, true);
      const name = decodeUtf8(this.bytes.subarray(at + 4, nameEnd));
      const valueEnd = nameEnd + 4 + this.view.getUint32(nameEnd, true);
      headers[h] = { name, value: this.bytes.subarray(nameEnd + 4, valueEnd) };
      at = valueEnd;
    }
    return headers;
  }

  /** The value of the first header named `name`, or undefined. */
  header(name) {
    for (const header of this.headers) if (header.name === name) return header.value;
    return undefined;
  }

  /** The current record as the object `process` gets: `{ key, value, headers, eventTime }`. */
  record() {
    return { key: this.key, value: this.value, headers: this.headers, eventTime: this.eventTime };
  }
}

/** A u32 as the binary string of its little-endian bytes. */
function u32Latin1(n) {
  return String.fromCharCode(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24);
}

/**
 * The records a call passes downstream, written in packed form into one
 * buffer. `pass` copies the batch's current record; `passWithValue` copies it
 * with another value; `write` adds a new record; `addHeader` adds a header to
 * the record written last.
 *
 * Values given as text (`passWithText`, `passWithLatin1`) are not turned
 * into bytes one by one: the output collects binary strings (slices of the
 * batch's binary string and the new values) and converts them at once, when
 * the call ends or a write of bytes comes; in QuickJS that saves about a
 * microsecond per record over converting each value.
 */
export class Output {
  constructor(capacity = 1 << 16) {
    this.buffer = new Uint8Array(capacity);
    this.view = new DataView(this.buffer.buffer);
    this.at = 4;
    /** Records written so far in this call. */
    this.length = 0;
    /** Where the record written last keeps its header count, in the whole output (-1: no record yet). */
    this.headerCountAt = -1;
    /** Binary strings written after `at`, not converted yet, and their total length. */
    this.parts = [];
    this.pending = 0;
    // The last header name and its UTF-8 bytes: plugins add the same few names to record after record.
    this.headerName = '';
    this.headerNameBytes = new Uint8Array(0);
  }

  /** Starts an empty output (the buffer is kept). */
  reset() {
    this.at = 4;
    this.length = 0;
    this.headerCountAt = -1;
    this.parts.length = 0;
    this.pending = 0;
  }

  /** The packed output: a view of the buffer, valid until the next `reset`. */
  finish() {
    this.flush();
    this.view.setUint32(0, this.length, true);
    return this.buffer.subarray(0, this.at);
  }

  /** Makes room for `n` more bytes. */
  room(n) {
    const need = this.at + n;
    if (need <= this.buffer.length) return;
    let size = Math.max(64, this.buffer.length * 2);
    while (size < need) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.at));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  /** Converts the pending binary strings into the buffer. */
  flush() {
    if (this.pending === 0) return;
    const binary = this.parts.length === 1 ? this.parts[0] : this.parts.join('');
    this.parts.length = 0;
    this.pending = 0;
    this.room(binary.length);
    if (NATIVE_BASE64) {
      let base64;
      try {
        base64 = btoa(binary);
      } catch {
        throw new RangeError('Output: a value given as a binary string (passWithLatin1) has a char above U+00FF');
      }
      this.buffer.subarray(this.at).setFromBase64(base64);
    } else {
      this.buffer.set(latin1ToBytes(binary), this.at);
    }
    this.at += binary.length;
  }

  /** Passes the batch's current record on as it is. */
  pass(batch) {
    if (batch == null || !(batch.index >= 0 && batch.index < batch.length)) throw cursorError(batch, 'pass');
    if (this.pending !== 0) {
      // Text is pending: the record joins it as a slice of the batch's binary string.
      this.headerCountAt = this.at + this.pending + (batch.headersAt - batch.start);
      this.parts.push((batch.latin1 ?? batch.binary()).slice(batch.start, batch.end));
      this.pending += batch.end - batch.start;
      this.length++;
      return;
    }
    const length = batch.end - batch.start;
    this.room(length);
    this.buffer.set(batch.bytes.subarray(batch.start, batch.end), this.at);
    this.headerCountAt = this.at + (batch.headersAt - batch.start);
    this.at += length;
    this.length++;
  }

  /** Passes the batch's current record on with `value` (bytes) instead of its value; key, event time and headers are kept. */
  passWithValue(batch, value) {
    if (batch == null || !(batch.index >= 0 && batch.index < batch.length)) throw cursorError(batch, 'passWithValue');
    if (!(value instanceof Uint8Array)) throw new TypeError('Output.passWithValue: value must be a Uint8Array');
    this.flush();
    const head = batch.valueStart - 4 - batch.start;
    const tail = batch.end - batch.headersAt;
    this.room(head + 4 + value.length + tail);
    const bytes = batch.bytes;
    const buffer = this.buffer;
    buffer.set(bytes.subarray(batch.start, batch.valueStart - 4), this.at);
    this.at += head;
    this.view.setUint32(this.at, value.length, true);
    buffer.set(value, this.at + 4);
    this.at += 4 + value.length;
    this.headerCountAt = this.at;
    buffer.set(bytes.subarray(batch.headersAt, batch.end), this.at);
    this.at += tail;
    this.length++;
  }

  /** As `passWithValue`, with the value as UTF-8 text (a lone surrogate becomes U+FFFD). */
  passWithText(batch, text) {
    if (batch == null || !(batch.index >= 0 && batch.index < batch.length)) throw cursorError(batch, 'passWithText');
    this.passWithLatin1(batch, encodeUtf8Latin1(String(text)));
  }

  /**
   * As `passWithValue`, with the value as a binary string (one char per
   * byte, U+0000 to U+00FF, as `valueLatin1` and utf8.js `bytesToLatin1`
   * give).
   *
   * @throws {RangeError} when a char is above U+00FF (found when the output is converted)
   */
  passWithLatin1(batch, binary) {
    if (batch == null || !(batch.index >= 0 && batch.index < batch.length)) throw cursorError(batch, 'passWithLatin1');
    if (typeof binary !== 'string') throw new TypeError('Output.passWithLatin1: value must be a string');
    const whole = batch.latin1 ?? batch.binary();
    const parts = this.parts;
    const base = this.at + this.pending;
    if (binary.length === batch.valueEnd - batch.valueStart) {
      parts.push(whole.slice(batch.start, batch.valueStart), binary, whole.slice(batch.valueEnd, batch.end));
    } else {
      parts.push(whole.slice(batch.start, batch.valueStart - 4), u32Latin1(binary.length), binary, whole.slice(batch.valueEnd, batch.end));
    }
    const length = batch.end - batch.start + binary.length - (batch.valueEnd - batch.valueStart);
    this.headerCountAt = base + length - (batch.end - batch.headersAt);
    this.pending += length;
    this.length++;
  }

  /**
   * Writes a new record with no headers (add them with `addHeader`).
   *
   * @param {Uint8Array | undefined} key
   * @param {Uint8Array} value
   * @param {number} [eventTime] ms since the epoch
   */
  write(key, value, eventTime) {
    if (!(value instanceof Uint8Array)) throw new TypeError('Output.write: value must be a Uint8Array');
    if (key !== undefined && key !== null && !(key instanceof Uint8Array)) throw new TypeError('Output.write: key must be a Uint8Array or undefined');
    this.flush();
    const keyLength = key ? key.length : 0;
    this.room(24 + keyLength + value.length);
    const view = this.view;
    let at = this.at;
    const hasTime = eventTime !== undefined && eventTime !== null;
    view.setUint32(at, (key ? FLAG_KEY : 0) | (hasTime ? FLAG_EVENT_TIME : 0), true);
    const time = hasTime ? Math.trunc(Number(eventTime)) : 0;
    view.setUint32(at + 4, time >>> 0, true);
    view.setInt32(at + 8, Math.floor(time / TWO_32), true);
    view.setUint32(at + 12, keyLength, true);
    at += 16;
    if (key) this.buffer.set(key, at);
    at += keyLength;
    view.setUint32(at, value.length, true);
    this.buffer.set(value, at + 4);
    at += 4 + value.length;
    this.headerCountAt = at;
    view.setUint32(at, 0, true);
    this.at = at + 4;
    this.length++;
  }

  /** Writes a record object (`{ key, value, headers, eventTime }`, as `process` returns them). */
  writeRecord(record) {
    if (typeof record !== 'object' || record === null) throw new TypeError('a record must be an object { key, value, headers, eventTime }');
    this.write(record.key, record.value, record.eventTime);
    const headers = record.headers;
    if (headers === undefined) return;
    for (let h = 0; h < headers.length; h++) this.addHeader(headers[h].name, headers[h].value);
  }

  /**
   * Adds a header to the record written last.
   *
   * @param {string} name
   * @param {Uint8Array} value
   */
  addHeader(name, value) {
    if (this.headerCountAt < 0) throw new TypeError('Output.addHeader: no record written yet in this call');
    if (typeof name !== 'string') throw new TypeError('Output.addHeader: name must be a string');
    if (!(value instanceof Uint8Array)) throw new TypeError('Output.addHeader: value must be a Uint8Array');
    this.flush();
    if (name !== this.headerName) {
      this.headerNameBytes = encodeUtf8(name);
      this.headerName = name;
    }
    const nameBytes = this.headerNameBytes;
    this.room(8 + nameBytes.length + value.length);
    const view = this.view;
    view.setUint32(this.headerCountAt, view.getUint32(this.headerCountAt, true) + 1, true);
    view.setUint32(this.at, nameBytes.length, true);
    this.buffer.set(nameBytes, this.at + 4);
    this.at += 4 + nameBytes.length;
    view.setUint32(this.at, value.length, true);
    this.buffer.set(value, this.at + 4);
    this.at += 4 + value.length;
  }
}

/**
 * The `process-packed` export of a plugin module that exports
 * `processBatch(batch, out)`: one `Batch` over the input, one `Output`
 * (reused from call to call) for the records to pass on. `host build`
 * exports it for processors that export `processBatch` (js-entry.ts).
 *
 * @param {{ processBatch: (batch: Batch, out: Output) => void }} plugin
 * @returns {(bytes: Uint8Array) => Uint8Array}
 */
export function packedExport(plugin) {
  const processBatch = plugin.processBatch;
  if (typeof processBatch !== 'function') throw new TypeError('packedExport: the plugin exports no processBatch function');
  const out = new Output();
  return (bytes) => {
    out.reset();
    const result = processBatch(new Batch(bytes), out);
    // Records returned (the style of process), or an async or generator processBatch writing later (or never): refused, not lost.
    if (result !== undefined) {
      const what = result !== null && typeof result.then === 'function' ? 'a promise' : result !== null && typeof result.next === 'function' ? 'an iterator' : Array.isArray(result) ? 'an array' : 'a value';
      throw new TypeError(`processBatch returned ${what}: it must be a plain (not async, not generator) function that writes every record to out (out.pass(batch), out.write(...)) and returns nothing`);
    }
    return out.finish();
  };
}

/**
 * The typed `process(records)` export for a plugin module that exports only
 * `processBatch`: the records packed, `processBatch` run over them, and its
 * output read back as records (copies: nothing refers to the reused buffers).
 * The host calls `process-packed` instead; this serves hosts and tools that
 * call `process`.
 *
 * @param {{ processBatch: (batch: Batch, out: Output) => void }} plugin
 * @returns {(records: object[]) => object[]}
 */
export function typedProcess(plugin) {
  const run = packedExport(plugin);
  const input = new Output();
  return (records) => {
    input.reset();
    for (let i = 0; i < records.length; i++) input.writeRecord(records[i]);
    const batch = new Batch(run(input.finish().slice()).slice());
    const out = new Array(batch.length);
    for (let i = 0; batch.next(); i++) out[i] = batch.record();
    return out;
  };
}
