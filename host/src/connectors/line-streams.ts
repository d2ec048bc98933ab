/**
 * Records from and to text lines over Node streams; the file and stdio
 * connectors are thin wrappers around these two classes.
 */
import type { Readable, Writable } from 'node:stream';
import type { StreamRecord } from '../records/record.js';
import type { PollResult } from '../sandbox/plugin.js';
import type { Sink, Source } from './connector.js';
import { formatLine, parseLine } from './jsonl.js';
import type { LineFormat } from './jsonl.js';
import { WeirError, messageOf } from '../errors/errors.js';

/** Reads a stream line by line; the position is the number of lines read. */
export class LineSource implements Source {
  readonly #chunks: AsyncIterator<Buffer | string>;
  readonly #format: LineFormat;
  readonly #name: string;
  readonly #stream: Readable;
  #pending: string[] = [];
  #rest = '';
  #ended = false;
  #lineNo = 0;

  constructor(stream: Readable, format: LineFormat, name: string) {
    this.#stream = stream;
    this.#chunks = stream[Symbol.asyncIterator]();
    this.#format = format;
    this.#name = name;
  }

  async poll(max: number): Promise<PollResult> {
    while (this.#pending.length === 0 && !this.#ended) await this.#readChunk();
    const lines = this.#pending.splice(0, max);
    const records: StreamRecord[] = [];
    for (const line of lines) {
      this.#lineNo++;
      if (line.trim() === '' && this.#format === 'jsonl') continue;
      records.push(parseLine(line, this.#format, `${this.#name}:${this.#lineNo}`));
    }
    const position = new Uint8Array(8);
    new DataView(position.buffer).setBigUint64(0, BigInt(this.#lineNo), true);
    return { records, position, done: this.#ended && this.#pending.length === 0 };
  }

  async close(): Promise<void> {
    this.#ended = true;
    await this.#chunks.return?.();
    this.#stream.destroy();
  }

  async #readChunk(): Promise<void> {
    let next: IteratorResult<Buffer | string>;
    try {
      next = await this.#chunks.next();
    } catch (error) {
      throw new WeirError('WEIR_CONNECTOR_IO', `cannot read ${this.#name}: ${messageOf(error)}`, { where: this.#name }, { cause: error });
    }
    if (next.done) {
      this.#ended = true;
      if (this.#rest !== '') this.#pending.push(stripCr(this.#rest));
      this.#rest = '';
      return;
    }
    const text = this.#rest + (typeof next.value === 'string' ? next.value : next.value.toString('utf8'));
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    for (const line of lines) this.#pending.push(stripCr(line));
  }
}

/** Writes one line per record to a stream. */
export class LineSink implements Sink {
  readonly #stream: Writable;
  readonly #format: LineFormat;
  readonly #name: string;
  readonly #ownsStream: boolean;
  #failure: Error | undefined;

  constructor(stream: Writable, format: LineFormat, name: string, ownsStream: boolean) {
    this.#stream = stream;
    this.#format = format;
    this.#name = name;
    this.#ownsStream = ownsStream;
    stream.on('error', (error) => (this.#failure = error));
  }

  async write(batch: StreamRecord[]): Promise<void> {
    this.#throwIfFailed();
    if (batch.length === 0) return;
    let text = '';
    for (const record of batch) text += formatLine(record, this.#format) + '\n';
    if (!this.#stream.write(text)) await waitForDrain(this.#stream);
    this.#throwIfFailed();
  }

  async flush(): Promise<void> {
    this.#throwIfFailed();
    await new Promise<void>((resolve) => this.#stream.write('', () => resolve()));
    this.#throwIfFailed();
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

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
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
