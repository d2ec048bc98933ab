// Records and the packed batch format (see ../ABI.md, "Packed batch").

/** One record header. */
export class Header {
  constructor(public name: string, public value: Uint8Array) {}
}

/** The unit of data flowing through a pipeline. */
export class Record {
  /** Partitioning key, or null. */
  key: Uint8Array | null = null;
  value: Uint8Array = new Uint8Array(0);
  headers: Header[] = [];
  /** Event time in ms since the epoch; meaningful only when `hasEventTime`. */
  eventTime: i64 = 0;
  hasEventTime: bool = false;

  /** The value as UTF-8 text. */
  valueText(): string {
    return String.UTF8.decodeUnsafe(this.value.dataStart, this.value.length);
  }

  /** Replaces the value with UTF-8 text. */
  setValueText(text: string): void {
    this.value = Uint8Array.wrap(String.UTF8.encode(text));
  }

  /** Appends a header with a UTF-8 text value. */
  addHeader(name: string, value: string): void {
    this.headers.push(new Header(name, Uint8Array.wrap(String.UTF8.encode(value))));
  }
}

/** Bytes of a UTF-8 string. */
export function utf8(text: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(text));
}

const FLAG_KEY: u32 = 1;
const FLAG_EVENT_TIME: u32 = 2;

/** A view of `len` bytes at `at` inside `buffer` (no copy). */
function viewBytes(buffer: ArrayBuffer, at: usize): Uint8Array {
  const len = load<u32>(at);
  return Uint8Array.wrap(buffer, <i32>(at + 4 - changetype<usize>(buffer)), len);
}

/**
 * Decodes the packed batch at the start of `buffer` (written by the host;
 * trusted to be well formed). Keys, values and header values are views into
 * `buffer`, valid until the next call: copy them (`slice()`) to keep them longer.
 */
export function decodeBatch(buffer: ArrayBuffer, offset: usize = 0): Record[] {
  const ptr = changetype<usize>(buffer) + offset;
  const count = load<u32>(ptr);
  const records = new Array<Record>(count);
  let at = ptr + 4;
  for (let i: u32 = 0; i < count; i++) {
    const r = new Record();
    const flags = load<u32>(at);
    r.eventTime = load<i64>(at + 4);
    r.hasEventTime = (flags & FLAG_EVENT_TIME) != 0;
    at += 12;
    const key = viewBytes(buffer, at);
    at += 4 + key.length;
    if (flags & FLAG_KEY) r.key = key;
    r.value = viewBytes(buffer, at);
    at += 4 + r.value.length;
    const headerCount = load<u32>(at);
    at += 4;
    const headers = new Array<Header>(headerCount);
    for (let h: u32 = 0; h < headerCount; h++) {
      const nameLen = load<u32>(at);
      const name = String.UTF8.decodeUnsafe(at + 4, nameLen);
      at += 4 + nameLen;
      const value = viewBytes(buffer, at);
      at += 4 + value.length;
      headers[h] = new Header(name, value);
    }
    r.headers = headers;
    records[i] = r;
  }
  return records;
}

/** Exact size of the packed form of `records`. */
export function encodedSize(records: Record[]): i32 {
  let size = 4;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const key = r.key;
    size += 12 + 4 + (key === null ? 0 : key.length) + 4 + r.value.length + 4;
    for (let h = 0; h < r.headers.length; h++) {
      size += 4 + String.UTF8.byteLength(r.headers[h].name) + 4 + r.headers[h].value.length;
    }
  }
  return size;
}

function writeBytes(at: usize, ptr: usize, len: i32): usize {
  store<u32>(at, len);
  memory.copy(at + 4, ptr, len);
  return at + 4 + len;
}

/** Writes the packed form of `records` at `ptr` (which has room for `encodedSize`). */
export function encodeBatch(records: Record[], ptr: usize): void {
  store<u32>(ptr, records.length);
  let at = ptr + 4;
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const key = r.key;
    store<u32>(at, (key === null ? 0 : FLAG_KEY) | (r.hasEventTime ? FLAG_EVENT_TIME : 0));
    store<i64>(at + 4, r.hasEventTime ? r.eventTime : 0);
    at += 12;
    at = key === null ? writeBytes(at, 0, 0) : writeBytes(at, key.dataStart, key.length);
    at = writeBytes(at, r.value.dataStart, r.value.length);
    store<u32>(at, r.headers.length);
    at += 4;
    for (let h = 0; h < r.headers.length; h++) {
      const name = String.UTF8.encode(r.headers[h].name);
      at = writeBytes(at, changetype<usize>(name), name.byteLength);
      at = writeBytes(at, r.headers[h].value.dataStart, r.headers[h].value.length);
    }
  }
}
