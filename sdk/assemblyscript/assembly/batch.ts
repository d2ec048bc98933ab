// Records without per-record objects: `Batch` is a cursor over the packed
// input of the call (see ../ABI.md, "Packed batch"), `Output` writes packed
// records straight into the call's output buffer.
import { Header, Record } from "./record";

const FLAG_KEY: u32 = 1;
const FLAG_EVENT_TIME: u32 = 2;

function notInCall(what: string): void {
  abort(what + " used outside the call it belongs to: a Batch/Output is valid only inside processBatch; copy what you keep");
}

/**
 * The records of the current call, read in place: `next()` moves to the next
 * record and the accessors read the record the cursor is on. Key, value and
 * header values are views into the call's input buffer (valid until the call
 * returns; see the SDK README, "Lifetimes").
 */
export class Batch {
  private count: i32 = 0;
  private buffer: ArrayBuffer = changetype<ArrayBuffer>(0);
  private base: usize = 0;
  private end: usize = 0;
  private at: usize = 0;
  private index: i32 = -1;
  private open: bool = false;
  // The current record: where it starts and where its parts are.
  private start: usize = 0;
  private keyAt: usize = 0;
  private valueAt: usize = 0;
  private headersAt: usize = 0;
  private stop: usize = 0;

  /** Opens the packed batch at `offset` in `buffer` (of `size` bytes). */
  begin(buffer: ArrayBuffer, offset: usize, size: usize): void {
    this.buffer = buffer;
    this.base = changetype<usize>(buffer);
    this.end = this.base + size;
    this.count = load<u32>(this.base + offset);
    this.at = this.base + offset + 4;
    this.index = -1;
    this.open = true;
    this.stop = 0;
  }

  /** Closes the batch: its accessors abort from now on. */
  close(): void {
    this.open = false;
    this.buffer = changetype<ArrayBuffer>(0);
  }

  /** Moves to the next record; false when there is none. */
  next(): bool {
    if (!this.open) notInCall("Batch");
    if (this.index + 1 >= this.count) return false;
    this.index++;
    let at = this.at;
    this.start = at;
    this.keyAt = at + 12;
    at = this.keyAt + 4 + load<u32>(this.keyAt);
    this.valueAt = at;
    at += 4 + load<u32>(at);
    this.headersAt = at;
    const headerCount = load<u32>(at);
    at += 4;
    for (let h: u32 = 0; h < headerCount; h++) {
      at += 4 + load<u32>(at);
      at += 4 + load<u32>(at);
    }
    // The host wrote the input; a batch that claims more than it holds is refused, not read past.
    if (at > this.end) abort("packed batch overruns its buffer");
    this.stop = at;
    this.at = at;
    return true;
  }

  @inline private current(): usize {
    if (!this.open) notInCall("Batch");
    if (this.stop == 0) abort("no current record: call batch.next() first");
    return this.start;
  }

  /** How many records the batch holds. */
  get length(): i32 {
    return this.count;
  }

  /** Index of the current record in the batch. */
  get position(): i32 {
    return this.index;
  }

  /** Whether the current record has a key. */
  get hasKey(): bool {
    return (load<u32>(this.current()) & FLAG_KEY) != 0;
  }

  /** The key (a view), or null. */
  get key(): Uint8Array | null {
    if (!this.hasKey) return null;
    return this.view(this.keyAt);
  }

  /** The key as UTF-8 text, or null. */
  keyText(): string | null {
    if (!this.hasKey) return null;
    return String.UTF8.decodeUnsafe(this.keyAt + 4, load<u32>(this.keyAt));
  }

  /** The value (a view into the input: writing it changes the record in place). */
  get value(): Uint8Array {
    this.current();
    return this.view(this.valueAt);
  }

  /** Where the value's bytes start in linear memory (no object at all; valid during the call). */
  get valuePtr(): usize {
    this.current();
    return this.valueAt + 4;
  }

  /** The value's length in bytes. */
  get valueLength(): i32 {
    this.current();
    return load<u32>(this.valueAt);
  }

  /** The value as UTF-8 text (a new string). */
  valueText(): string {
    this.current();
    return String.UTF8.decodeUnsafe(this.valueAt + 4, load<u32>(this.valueAt));
  }

  /** Whether the current record has an event time. */
  get hasEventTime(): bool {
    return (load<u32>(this.current()) & FLAG_EVENT_TIME) != 0;
  }

  /** Event time in ms since the epoch (0 when absent). */
  get eventTime(): i64 {
    return load<i64>(this.current() + 4);
  }

  /** How many headers the current record has. */
  get headerCount(): i32 {
    this.current();
    return load<u32>(this.headersAt);
  }

  /** The name of header `i`. */
  headerName(i: i32): string {
    const at = this.headerAt(i);
    return String.UTF8.decodeUnsafe(at + 4, load<u32>(at));
  }

  /** The value of header `i` (a view). */
  headerValue(i: i32): Uint8Array {
    const at = this.headerAt(i);
    return this.view(at + 4 + load<u32>(at));
  }

  /** The value of the first header called `name` (a view), or null. */
  header(name: string): Uint8Array | null {
    const n = this.headerCount;
    const wanted = String.UTF8.byteLength(name);
    let at = this.headersAt + 4;
    for (let i = 0; i < n; i++) {
      const nameLen = load<u32>(at);
      const valueAt = at + 4 + nameLen;
      if (nameLen == <u32>wanted && sameText(name, at + 4, nameLen)) return this.view(valueAt);
      at = valueAt + 4 + load<u32>(valueAt);
    }
    return null;
  }

  /** The current record as a `Record` object (its byte fields are views into the input). */
  record(): Record {
    const r = new Record();
    r.key = this.key;
    r.value = this.value;
    r.eventTime = this.eventTime;
    r.hasEventTime = this.hasEventTime;
    const n = this.headerCount;
    const headers = new Array<Header>(n);
    for (let i = 0; i < n; i++) headers[i] = new Header(this.headerName(i), this.headerValue(i));
    r.headers = headers;
    return r;
  }

  private headerAt(i: i32): usize {
    if (<u32>i >= <u32>this.headerCount) abort("header index out of range");
    let at = this.headersAt + 4;
    for (let h = 0; h < i; h++) {
      at += 4 + load<u32>(at);
      at += 4 + load<u32>(at);
    }
    return at;
  }

  private view(lengthAt: usize): Uint8Array {
    return Uint8Array.wrap(this.buffer, <i32>(lengthAt + 4 - this.base), load<u32>(lengthAt));
  }

  /** Internal: the current record's bytes, for `Output`. */
  @inline recordStart(): usize { return this.current(); }
  @inline recordEnd(): usize { return this.stop; }
  @inline keyStart(): usize { return this.keyAt; }
  @inline valueStart(): usize { return this.valueAt; }
  @inline headersStart(): usize { return this.headersAt; }
}

function sameText(text: string, at: usize, len: u32): bool {
  // ASCII fast path; anything else compares the decoded text.
  if (<u32>text.length == len) {
    let ascii = true;
    for (let i: u32 = 0; i < len; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) { ascii = false; break; }
      if (<u32>c != <u32>load<u8>(at + i)) return false;
    }
    if (ascii) return true;
  }
  return String.UTF8.decodeUnsafe(at, len) == text;
}

/**
 * The records the call passes downstream, written in packed form straight
 * into one output buffer. `pass` copies the batch's current record (with any
 * change made to its value in place); `write` starts a new record;
 * `addHeader` adds a header to the record written last.
 */
export class Output {
  private start: usize = 0;
  private at: usize = 0;
  private cap: usize = 0;
  private count: u32 = 0;
  private lastHeaderCountAt: usize = 0;
  private open: bool = false;
  // The buffer the records are written into; reused by the next call while big enough.
  private buffer: ArrayBuffer = new ArrayBuffer(0);

  /** Opens an empty output with room for about `hint` bytes. */
  begin(hint: i32): void {
    const size = <usize>max(hint, 64);
    if (this.cap < size) this.use(new ArrayBuffer(<i32>size), 0);
    this.at = this.start + 4;
    this.count = 0;
    this.lastHeaderCountAt = 0;
    this.open = true;
  }

  private use(buffer: ArrayBuffer, used: usize): void {
    const start = changetype<usize>(buffer);
    if (used > 0) memory.copy(start, this.start, used);
    if (this.lastHeaderCountAt != 0) this.lastHeaderCountAt = this.lastHeaderCountAt - this.start + start;
    this.buffer = buffer;
    this.start = start;
    this.at = start + used;
    this.cap = <usize>buffer.byteLength;
  }

  /** Closes the output; returns its packed length (the bytes start at `bufferStart()`). */
  finish(): i32 {
    store<u32>(this.start, this.count);
    this.open = false;
    return <i32>(this.at - this.start);
  }

  /** The buffer holding the output (its bytes start at `bufferStart()`). */
  bufferOwner(): ArrayBuffer {
    return this.buffer;
  }

  bufferStart(): usize {
    return this.start;
  }

  /** How many records were written so far in this call. */
  get length(): i32 {
    return <i32>this.count;
  }

  private room(n: usize): void {
    if (!this.open) notInCall("Output");
    const used = this.at - this.start;
    if (used + n <= this.cap) return;
    let size = this.cap << 1;
    while (size < used + n) size <<= 1;
    this.use(new ArrayBuffer(<i32>size), used);
  }

  private bytes(ptr: usize, len: i32): void {
    store<u32>(this.at, len);
    memory.copy(this.at + 4, ptr, len);
    this.at += 4 + len;
  }

  private text(text: string): void {
    const len = String.UTF8.byteLength(text);
    this.room(4 + len);
    store<u32>(this.at, len);
    String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, this.at + 4);
    this.at += 4 + len;
  }

  /** Passes the batch's current record on as it is now (value changes made in place included). */
  pass(batch: Batch): void {
    const from = batch.recordStart();
    const len = batch.recordEnd() - from;
    this.room(len);
    memory.copy(this.at, from, len);
    this.lastHeaderCountAt = this.at + (batch.headersStart() - from);
    this.at += len;
    this.count++;
  }

  /** Passes the batch's current record on with `value` instead of its value (key, event time and headers kept). */
  passWithValue(batch: Batch, value: Uint8Array): void {
    this.passWithValueAt(batch, value.dataStart, value.length);
  }

  /** As `passWithValue`, with UTF-8 text. */
  passWithText(batch: Batch, text: string): void {
    const from = batch.recordStart();
    const head = batch.valueStart() - from;
    const tail = batch.recordEnd() - batch.headersStart();
    this.room(head + tail);
    memory.copy(this.at, from, head);
    this.at += head;
    this.text(text);
    this.room(tail);
    this.lastHeaderCountAt = this.at;
    memory.copy(this.at, batch.headersStart(), tail);
    this.at += tail;
    this.count++;
  }

  private passWithValueAt(batch: Batch, ptr: usize, len: i32): void {
    const from = batch.recordStart();
    const head = batch.valueStart() - from;
    const tail = batch.recordEnd() - batch.headersStart();
    this.room(head + 4 + len + tail);
    memory.copy(this.at, from, head);
    this.at += head;
    this.bytes(ptr, len);
    this.lastHeaderCountAt = this.at;
    memory.copy(this.at, batch.headersStart(), tail);
    this.at += tail;
    this.count++;
  }

  /** Writes a new record (no headers yet: add them with `addHeader`). */
  write(key: Uint8Array | null, value: Uint8Array, eventTime: i64 = 0, hasEventTime: bool = false): void {
    const keyLen = key === null ? 0 : key.length;
    this.head(key !== null, eventTime, hasEventTime, keyLen + 4 + value.length + 4);
    if (key === null) this.bytes(0, 0);
    else this.bytes(key.dataStart, keyLen);
    this.bytes(value.dataStart, value.length);
    this.endRecord();
  }

  /** As `write`, with the value as UTF-8 text. */
  writeText(key: Uint8Array | null, text: string, eventTime: i64 = 0, hasEventTime: bool = false): void {
    const keyLen = key === null ? 0 : key.length;
    this.head(key !== null, eventTime, hasEventTime, keyLen);
    if (key === null) this.bytes(0, 0);
    else this.bytes(key.dataStart, keyLen);
    this.text(text);
    this.room(4);
    this.endRecord();
  }

  /** Writes a `Record` object with its headers. */
  writeRecord(r: Record): void {
    this.write(r.key, r.value, r.eventTime, r.hasEventTime);
    for (let h = 0; h < r.headers.length; h++) this.addHeader(r.headers[h].name, r.headers[h].value);
  }

  /** Adds a header to the record written last. */
  addHeader(name: string, value: Uint8Array): void {
    this.headerName(name, 4 + value.length);
    this.bytes(value.dataStart, value.length);
  }

  /** Adds a header with a UTF-8 text value to the record written last. */
  addHeaderText(name: string, value: string): void {
    this.headerName(name, 0);
    this.text(value);
  }

  private headerName(name: string, more: i32): void {
    if (!this.open) notInCall("Output");
    if (this.lastHeaderCountAt == 0) abort("addHeader before any record was written in this call");
    this.text(name);
    this.room(more);
    store<u32>(this.lastHeaderCountAt, load<u32>(this.lastHeaderCountAt) + 1);
  }

  private head(hasKey: bool, eventTime: i64, hasEventTime: bool, more: i32): void {
    this.room(12 + 4 + more);
    store<u32>(this.at, (hasKey ? FLAG_KEY : 0) | (hasEventTime ? FLAG_EVENT_TIME : 0));
    store<i64>(this.at + 4, hasEventTime ? eventTime : 0);
    this.at += 12;
  }

  private endRecord(): void {
    this.lastHeaderCountAt = this.at;
    store<u32>(this.at, 0);
    this.at += 4;
    this.count++;
  }
}
