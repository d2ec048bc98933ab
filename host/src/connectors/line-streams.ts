/**
 * Records from and to text lines over Node streams; the file source and the
 * stdio connectors are thin wrappers around these two classes (the file sink
 * writes its own file: file-sink.ts).
 */
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { StreamRecord } from '../records/record.js';
import type { Sink, Source, SourcePoll, SourcePosition } from './connector.js';
import { encodePosition } from './positions.js';
import { LineFormatter, LineParser } from './jsonl.js';
import { PackedBatch, PackedBatchWriter } from '../records/packed-batch.js';
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from './line-splitter.js';
import type { LineFormat } from './jsonl.js';
import { WeirError, messageOf } from '../errors/errors.js';

/** The `format` setting of the file and stdio connectors. */
export const formatSchema = {
  enum: ['jsonl', 'lines'],
  default: 'jsonl',
  description: 'jsonl: one JSON record per line (UTF-8); lines: each line is a value (its bytes, unchanged)',
};

/** The `maxLineBytes` setting of the file and stdin sources. */
export const maxLineBytesSchema = {
  type: 'integer',
  minimum: 1,
  maximum: 256 * 1024 * 1024,
  default: DEFAULT_MAX_LINE_BYTES,
  description: 'longest input line in bytes; a longer line stops the source with WEIR_LIMIT_LINE_LENGTH',
};

/** Settings of a {@link LineSource}. */
export interface LineSourceOptions {
  format: LineFormat;
  /** The file (or `stdin`) for error messages: `name:line`. */
  name: string;
  /** The longest line accepted, in bytes; default {@link DEFAULT_MAX_LINE_BYTES}. */
  maxLineBytes?: number;
  /** Lines of the input before the stream's first byte (a file read from an offset): numbers lines after them, no byte order mark looked for. */
  linesBefore?: number;
  /** Lines to read and drop before the first record (stdin resumed from a checkpoint). */
  skipLines?: number;
  /** Sees every chunk read, before it is split (the file source keeps the bytes its position hashes). */
  onChunk?: (chunk: Buffer) => void;
  /** Warns when the input ends before `skipLines` lines were dropped. */
  logger?: Logger;
  /** The node, for that warning. */
  node?: string;
}

/**
 * Reads a stream line by line; the position ({@link LineSource.position}) is
 * the number of lines taken, `{"v":1,"lines":N}`, and a source created with
 * `skipLines: N` drops that many lines first.
 *
 * Lines are split on bytes and decoded one whole line at a time (see
 * {@link LineSplitter}), so no character is cut at a chunk boundary. A
 * failure (a line that breaks the format or the length limit, a read error)
 * never discards the good records read before it: the poll that meets it
 * returns those records, and the next poll throws. Each poll returns one
 * packed batch, its records written straight into it (see jsonl.ts).
 */
export class LineSource implements Source {
  readonly #chunks: AsyncIterator<Buffer | string>;
  readonly #format: LineFormat;
  readonly #name: string;
  readonly #stream: Readable;
  readonly #splitter: LineSplitter;
  readonly #options: LineSourceOptions;
  #ended = false;
  /** Lines of the input taken: returned as records, skipped blank, or dropped by `skipLines`. */
  #lineNo = 0;
  /** Bytes of this stream those lines took (for a file: the offset after them, less where the stream started). */
  #bytes = 0;
  #toSkip: number;
  /** Raised by the next poll, after the good records before it were returned. */
  #failure: unknown;
  /** Builds each poll's batch; its buffer is reused from poll to poll. */
  readonly #writer = new PackedBatchWriter();
  readonly #parser: LineParser;

  constructor(stream: Readable, options: LineSourceOptions) {
    this.#stream = stream;
    this.#chunks = stream[Symbol.asyncIterator]();
    this.#format = options.format;
    this.#parser = new LineParser(options.format);
    this.#name = options.name;
    this.#options = options;
    this.#lineNo = options.linesBefore ?? 0;
    this.#toSkip = options.skipLines ?? 0;
    this.#splitter = new LineSplitter(options.name, options.maxLineBytes, this.#lineNo);
  }

  /** Lines of the input taken so far (from its very start, `linesBefore` and skipped lines included). */
  get lines(): number {
    return this.#lineNo;
  }

  /** Bytes of the stream taken with those lines: the offset, in the stream, just after the last one. */
  get bytes(): number {
    return this.#bytes;
  }

  /** `{"v":1,"lines":N}`: the lines taken so far, counting those `skipLines` still has to drop (a resumed source stands there before its first poll). */
  position(): SourcePosition {
    return encodePosition({ lines: this.#lineNo + this.#toSkip });
  }

  async poll(max: number): Promise<SourcePoll> {
    if (this.#failure === undefined) {
      try {
        for (;;) {
          this.#skipLines();
          if (this.#splitter.size > 0 || this.#ended || this.#splitter.failure) break;
          await this.#readChunk();
        }
      } catch (error) {
        this.#failure = error;
      }
    }
    const writer = this.#writer;
    for (let line = this.#nextLine(max); line !== undefined; line = this.#nextLine(max - writer.count)) {
      const lineNo = this.#lineNo + 1;
      if (this.#format === 'jsonl' && isBlank(line)) {
        this.#take(lineNo);
        continue;
      }
      try {
        this.#parser.write(writer, line, `${this.#name}:${lineNo}`);
      } catch (error) {
        this.#failure = error;
        break;
      }
      this.#take(lineNo);
    }
    if (this.#splitter.size === 0 && this.#splitter.failure) this.#failure ??= this.#splitter.failure;
    const records = writer.take();
    if (this.#failure !== undefined && records.length === 0) throw this.#failure;
    const position = new Uint8Array(8);
    new DataView(position.buffer).setBigUint64(0, BigInt(this.#lineNo), true);
    return { records, position, done: this.#failure === undefined && this.#ended && this.#splitter.size === 0 };
  }

  async close(): Promise<void> {
    this.#ended = true;
    await this.#chunks.return?.();
    this.#stream.destroy();
  }

  #take(lineNo: number): void {
    this.#lineNo = lineNo;
    this.#bytes = this.#splitter.takenBytes;
  }

  /** Drops the lines `skipLines` still asks for, as far as they are read; warns if the input ended first. */
  #skipLines(): void {
    if (this.#toSkip === 0) return;
    while (this.#toSkip > 0 && this.#splitter.shift() !== undefined) {
      this.#toSkip--;
      this.#take(this.#lineNo + 1);
    }
    if (this.#toSkip > 0 && this.#ended) {
      const { logger, node, skipLines } = this.#options;
      logger?.warn(
        { node, source: this.#name, linesExpected: skipLines, lines: this.#lineNo },
        `${this.#name} ended after ${this.#lineNo} lines, but the checkpoint had read ${skipLines ?? 0}: the input is not the one the checkpoint read, so nothing of it was read again (pipe the same input again to resume, or run with --fresh)`,
      );
      this.#toSkip = 0;
    }
  }

  /** The next line, unless `room` records are already taken or a failure waits. */
  #nextLine(room: number): Uint8Array | undefined {
    return room > 0 && this.#failure === undefined ? this.#splitter.shift() : undefined;
  }

  async #readChunk(): Promise<void> {
    let next: IteratorResult<Buffer | string>;
    try {
      next = await this.#chunks.next();
    } catch (error) {
      throw new WeirError('WEIR_CONNECTOR_IO', `cannot read ${this.#name} after line ${this.#lineNo + this.#splitter.size}: ${messageOf(error)}`, { where: this.#name }, { cause: error });
    }
    if (next.done) {
      this.#ended = true;
      this.#splitter.finish();
      return;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : next.value;
    this.#options.onChunk?.(chunk);
    this.#splitter.push(chunk);
  }
}

/** Writes one line per record to a stream. */
export class LineSink implements Sink {
  readonly #stream: Writable;
  readonly #name: string;
  readonly #ownsStream: boolean;
  readonly #formatter: LineFormatter;
  #failure: Error | undefined;

  constructor(stream: Writable, format: LineFormat, name: string, ownsStream: boolean) {
    this.#stream = stream;
    this.#name = name;
    this.#ownsStream = ownsStream;
    this.#formatter = new LineFormatter(format);
    stream.on('error', (error) => (this.#failure = error));
  }

  async write(batch: StreamRecord[]): Promise<void> {
    await this.writePacked(PackedBatch.fromRecords(batch));
  }

  async writePacked(batch: PackedBatch): Promise<void> {
    this.#throwIfFailed();
    if (batch.length === 0) return;
    // The stream keeps what it is given until it is flushed: a copy, the formatter reuses its buffer.
    if (!this.#stream.write(Buffer.from(this.#formatter.format(batch)))) await waitForDrain(this.#stream);
    this.#throwIfFailed();
  }

  async flush(): Promise<void> {
    this.#throwIfFailed();
    await new Promise<void>((resolve) => this.#stream.write('', () => resolve()));
    this.#throwIfFailed();
  }

  /** Flushes; a stream cannot be taken back, so the token is empty. */
  async preCommit(): Promise<Uint8Array> {
    await this.flush();
    return new Uint8Array(0);
  }

  async close(): Promise<void> {
    if (!this.#ownsStream) return this.flush();
    await new Promise<void>((resolve) => this.#stream.end(() => resolve()));
    this.#throwIfFailed();
  }

  #throwIfFailed(): void {
    if (this.#failure) throw new WeirError('WEIR_CONNECTOR_IO', `cannot write ${this.#name}: ${this.#failure.message}`, { where: this.#name }, { cause: this.#failure });
  }
}

/** Only spaces, tabs and CRs (a blank jsonl line, skipped). */
function isBlank(line: Uint8Array): boolean {
  for (const byte of line) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  return true;
}

function waitForDrain(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('error', done);
    stream.once('close', done);
  });
}
