/**
 * Splits a byte stream into lines, before any decoding.
 *
 * How it works: each chunk is searched for `\n` (0x0A, which never occurs
 * inside a multi-byte UTF-8 sequence, so a character split across two chunks
 * stays whole). A line that ends inside the chunk it started in is a view of
 * that chunk; a line that spans chunks keeps its pieces in a list and is
 * joined once when its end arrives, so assembling a line costs time and memory
 * linear in its length (appending to a string per chunk was quadratic).
 *
 * A trailing `\r` is dropped, and so is a UTF-8 byte order mark at the start
 * of the first line (of the input, not of a stream resumed part-way). A line
 * longer than `maxLineBytes` stops the splitter with `WEIR_LIMIT_LINE_LENGTH`,
 * raised once the complete lines before it are taken.
 *
 * Each line also counts the input bytes it took (its newline, `\r` and byte
 * order mark included): {@link LineSplitter.takenBytes} is the exact offset
 * just after the last line shifted, whatever was pushed beyond it.
 */
import { WeirError } from '../errors/errors.js';

/** Default longest line, in bytes (without the newline). */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024 * 1024;

const NEWLINE = 0x0a;
const CR = 0x0d;

/** Lines out of byte chunks; see the module comment. */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #name: string;
  /** Pieces of the line not yet ended (each a view of its chunk). */
  #parts: Uint8Array[] = [];
  #partBytes = 0;
  /** Complete lines not yet taken, oldest first; `#head` is the next one. */
  #lines: Uint8Array[] = [];
  /** Input bytes each of `#lines` took, newline included. */
  #spans: number[] = [];
  #head = 0;
  /** Input bytes of every line taken so far. */
  #takenBytes = 0;
  /** Lines produced so far (the number of the last one). */
  #produced = 0;
  #tooLong: WeirError | undefined;

  /**
   * @param name - the file (or `stdin`) for error messages.
   * @param maxLineBytes - the longest line accepted.
   * @param linesBefore - lines of the input before the first byte pushed (a
   *   stream resumed part-way): messages number lines after them, and no byte
   *   order mark is looked for.
   */
  constructor(name: string, maxLineBytes: number = DEFAULT_MAX_LINE_BYTES, linesBefore = 0) {
    this.#name = name;
    this.#maxLineBytes = maxLineBytes;
    this.#produced = linesBefore;
  }

  /** Input bytes taken with the lines shifted so far: the offset just after the last one. */
  get takenBytes(): number {
    return this.#takenBytes;
  }

  /** Complete lines waiting to be taken. */
  get size(): number {
    return this.#lines.length - this.#head;
  }

  /** The error that stopped the splitter (a line over the limit), if any. */
  get failure(): WeirError | undefined {
    return this.#tooLong;
  }

  /** Splits the next chunk of input; ignored once the splitter has failed. */
  push(chunk: Uint8Array): void {
    if (this.#tooLong) return;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let nl = bytes.indexOf(NEWLINE, start); nl !== -1; nl = bytes.indexOf(NEWLINE, start)) {
      this.#end(bytes.subarray(start, nl), true);
      if (this.#tooLong) return;
      start = nl + 1;
    }
    if (start === bytes.length) return;
    const rest = bytes.subarray(start);
    if (this.#partBytes + rest.length > this.#maxLineBytes + 1) return this.#fail(this.#partBytes + rest.length);
    this.#parts.push(rest);
    this.#partBytes += rest.length;
  }

  /** The input ended: an unterminated last line becomes a line. */
  finish(): void {
    if (!this.#tooLong && this.#parts.length > 0) this.#end(new Uint8Array(0), false);
  }

  /** The next complete line, or undefined when none is waiting. */
  shift(): Uint8Array | undefined {
    if (this.#head === this.#lines.length) return undefined;
    this.#takenBytes += this.#spans[this.#head]!;
    const line = this.#lines[this.#head++];
    if (this.#head === this.#lines.length) {
      this.#lines = [];
      this.#spans = [];
      this.#head = 0;
    }
    return line;
  }

  #end(tail: Uint8Array, terminated: boolean): void {
    let line = tail;
    if (this.#parts.length > 0) {
      this.#parts.push(tail);
      line = Buffer.concat(this.#parts, this.#partBytes + tail.length);
      this.#parts = [];
      this.#partBytes = 0;
    }
    const span = line.length + (terminated ? 1 : 0);
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    if (line.length > this.#maxLineBytes) return this.#fail(line.length);
    if (this.#produced === 0 && line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf) line = line.subarray(3);
    this.#produced++;
    this.#lines.push(line);
    this.#spans.push(span);
  }

  #fail(bytes: number): void {
    const line = this.#produced + 1;
    this.#parts = [];
    this.#partBytes = 0;
    this.#tooLong = new WeirError(
      'WEIR_LIMIT_LINE_LENGTH',
      `${this.#name}:${line}: the line is longer than ${this.#maxLineBytes} bytes (at least ${bytes} read); raise the connector's "maxLineBytes" or split the line`,
      { where: `${this.#name}:${line}`, maxLineBytes: this.#maxLineBytes },
    );
  }
}
