/**
 * Byte-level reading and writing of the WebAssembly binary format: LEB128
 * integers, names and vectors. Just enough for the instrumenter, which
 * copies most of a module unchanged and rewrites a few sections.
 */

/** Thrown when the bytes are not a module the instrumenter can read. */
export class MalformedModuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedModuleError';
  }
}

/** A cursor over module bytes. */
export class ByteReader {
  pos: number;
  readonly bytes: Uint8Array;
  readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.byteLength) {
    this.bytes = bytes;
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  byte(): number {
    if (this.pos >= this.end) throw new MalformedModuleError(`unexpected end of module at byte ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  /** An unsigned LEB128 of up to 32 bits, as a number. */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new MalformedModuleError(`LEB128 too long at byte ${this.pos}`);
    }
  }

  /** Skips any LEB128 (signed or unsigned, up to 64 bits). */
  skipLeb(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    throw new MalformedModuleError(`LEB128 too long at byte ${this.pos}`);
  }

  /** A signed LEB128 of up to 33 bits (block types), as a number. */
  s33(): number {
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return b & 0x40 ? result - 2 ** shift : result;
  }

  skip(count: number): void {
    if (this.pos + count > this.end) throw new MalformedModuleError(`unexpected end of module at byte ${this.pos}`);
    this.pos += count;
  }

  name(): string {
    const length = this.u32();
    const start = this.pos;
    this.skip(length);
    return new TextDecoder().decode(this.bytes.subarray(start, this.pos));
  }
}

/** Grows a byte buffer as it is written. */
export class ByteWriter {
  #buffer: Uint8Array;
  #length = 0;

  constructor(capacity = 256) {
    this.#buffer = new Uint8Array(capacity);
  }

  get length(): number {
    return this.#length;
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buffer.byteLength) return;
    const next = new Uint8Array(Math.max(this.#buffer.byteLength * 2, this.#length + extra));
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
  }

  byte(value: number): this {
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
    return this;
  }

  bytes(values: Uint8Array | readonly number[]): this {
    this.#reserve(values.length);
    this.#buffer.set(values, this.#length);
    this.#length += values.length;
    return this;
  }

  u32(value: number): this {
    do {
      let b = value % 128;
      value = Math.floor(value / 128);
      if (value > 0) b |= 0x80;
      this.byte(b);
    } while (value > 0);
    return this;
  }

  /** A signed LEB128 of a bigint (i64.const). */
  s64(value: bigint): this {
    for (;;) {
      const b = Number(value & 0x7fn);
      value >>= 7n;
      const done = (value === 0n && (b & 0x40) === 0) || (value === -1n && (b & 0x40) !== 0);
      this.byte(done ? b : b | 0x80);
      if (done) return this;
    }
  }

  name(text: string): this {
    const encoded = new TextEncoder().encode(text);
    return this.u32(encoded.byteLength).bytes(encoded);
  }

  toBytes(): Uint8Array<ArrayBuffer> {
    return this.#buffer.slice(0, this.#length);
  }
}
