/**
 * The `file` source: the lines of a file, with a position a checkpoint can
 * resume from.
 *
 * Position: `{"v":1,"offset":N,"line":L,"head":H,"tail":T}`: `offset` is the
 * byte offset just after the last line a poll returned (its newline, a `\r`
 * before it, a byte order mark all counted; what was read ahead into buffers is
 * not), `line` the lines up to there, and the file's identity: `head` the
 * sha256 (hex) of its first min(offset, 4096) bytes, `tail` of the up to 4096
 * bytes just before `offset`.
 *
 * Resuming (`resumeFrom`) checks the identity before reading anything: the
 * file must be at least `offset` bytes long and both hashes must match (a file
 * appended to since is fine). Otherwise the source refuses with
 * `WEIR_CHECKPOINT_SOURCE_CHANGED`. It then reads from `offset` on, through
 * the descriptor it checked.
 *
 * The hashed bytes are kept as they were read (the first 4096, and the chunks
 * from 4096 bytes before the position on), so a position never reads the file
 * again and describes exactly the bytes the records came from.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { WeirError, messageOf } from '../errors/errors.js';
import type { Source, SourcePoll, SourcePosition } from './connector.js';
import type { LineFormat } from './jsonl.js';
import { LineSource } from './line-streams.js';
import { decodePosition, encodePosition } from './positions.js';

/** Bytes hashed at the start of the file and before the position. */
export const IDENTITY_BYTES = 4096;

const READ_CHUNK_BYTES = 1 << 16;

/** Settings of a {@link FileSource}. */
export interface FileSourceOptions {
  /** Absolute path of the file. */
  path: string;
  format: LineFormat;
  maxLineBytes?: number;
  /** The node, for messages. */
  node?: string;
  /** A position this source reported before: read on from there (after checking the file is the same). */
  resumeFrom?: Uint8Array;
}

/** A position of the file source, decoded. */
export interface FilePosition {
  offset: number;
  line: number;
  head: string;
  tail: string;
}

/** Reads a file line by line; see the module comment. */
export class FileSource implements Source {
  readonly #lines: LineSource;
  /** Offset in the file of the stream's first byte. */
  readonly #start: number;
  /** The file's first bytes as read, up to {@link IDENTITY_BYTES}; shorter only while nothing past them was read. */
  #head: Buffer;
  readonly #recent: RecentBytes;
  #cached: { offset: number; position: SourcePosition } | undefined;

  /** @throws WeirError `WEIR_CHECKPOINT_SOURCE_CHANGED` when resuming on a different file, `WEIR_CHECKPOINT_MISMATCH` on a position it cannot read, `WEIR_CONNECTOR_IO` when the file cannot be opened to resume. */
  constructor(options: FileSourceOptions) {
    const { path, format, maxLineBytes, node, resumeFrom } = options;
    let stream;
    let linesBefore = 0;
    if (resumeFrom) {
      const what = `file source${node ? ` "${node}"` : ''}`;
      const position: FilePosition = decodePosition(resumeFrom, { offset: 'count', line: 'count', head: 'string', tail: 'string' }, what, node);
      const { fd, head, tail } = openChecked(path, position, what, node);
      this.#start = position.offset;
      this.#head = head;
      this.#recent = new RecentBytes(position.offset - tail.length);
      this.#recent.append(tail);
      linesBefore = position.line;
      stream = createReadStream(path, { fd, start: position.offset, highWaterMark: READ_CHUNK_BYTES });
    } else {
      this.#start = 0;
      this.#head = Buffer.alloc(0);
      this.#recent = new RecentBytes(0);
      stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
    }
    this.#lines = new LineSource(stream, { format, name: path, maxLineBytes, linesBefore, onChunk: (chunk) => this.#read(chunk) });
  }

  /** The byte offset just after the last line returned. */
  get offset(): number {
    return this.#start + this.#lines.bytes;
  }

  async poll(max: number): Promise<SourcePoll> {
    try {
      return await this.#lines.poll(max);
    } finally {
      this.#recent.dropBefore(this.offset - IDENTITY_BYTES);
    }
  }

  position(): SourcePosition {
    const offset = this.offset;
    if (this.#cached?.offset === offset) return this.#cached.position;
    const tailStart = Math.max(0, offset - IDENTITY_BYTES);
    const position = encodePosition({
      offset,
      line: this.#lines.lines,
      head: sha256(this.#head.subarray(0, Math.min(offset, IDENTITY_BYTES))),
      tail: sha256(this.#recent.slice(tailStart, offset)),
    });
    this.#cached = { offset, position };
    return position;
  }

  close(): Promise<void> {
    return this.#lines.close();
  }

  #read(chunk: Buffer): void {
    if (this.#head.length < IDENTITY_BYTES) this.#head = Buffer.concat([this.#head, chunk.subarray(0, IDENTITY_BYTES - this.#head.length)]);
    this.#recent.append(chunk);
  }
}

/**
 * Opens `path` and checks it is the file `position` was taken on.
 *
 * @returns the open descriptor, the file's first min(offset, 4096) bytes and the up to 4096 before the offset.
 */
function openChecked(path: string, position: FilePosition, what: string, node: string | undefined): { fd: number; head: Buffer; tail: Buffer } {
  const { offset } = position;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    throw new WeirError(
      // A file that is gone is not the file the checkpoint read (refused, as a changed one is); other errors are I/O.
      errno === 'ENOENT' ? 'WEIR_CHECKPOINT_SOURCE_CHANGED' : 'WEIR_CONNECTOR_IO',
      `${what}: cannot open ${path} to resume at byte ${offset}, where the checkpoint stopped: ${messageOf(error)}; put the file back, or start over with \`host run --fresh\``,
      { ...(node ? { node } : {}), path, ...(errno ? { errno } : {}) },
      { cause: error },
    );
  }
  try {
    const changed = (why: string): WeirError =>
      new WeirError(
        'WEIR_CHECKPOINT_SOURCE_CHANGED',
        `${what}: cannot resume ${path} at byte ${offset} (after line ${position.line}), where the checkpoint stopped: ${why}, so it is not the file the checkpoint read and resuming would skip or repeat records; put that file back (appending to it is fine), or start over with \`host run --fresh\``,
        { ...(node ? { node } : {}), path, offset },
      );
    const size = fstatSync(fd).size;
    if (size < offset) throw changed(`the file is ${size} bytes long now`);
    const head = readAt(fd, 0, Math.min(offset, IDENTITY_BYTES));
    if (sha256(head) !== position.head) throw changed(`its first ${head.length} bytes differ`);
    const tailStart = Math.max(0, offset - IDENTITY_BYTES);
    const tail = readAt(fd, tailStart, offset - tailStart);
    if (sha256(tail) !== position.tail) throw changed(`the ${tail.length} bytes before that offset differ`);
    return { fd, head, tail };
  } catch (error) {
    closeSync(fd);
    if (error instanceof WeirError) throw error;
    throw new WeirError('WEIR_CONNECTOR_IO', `${what}: cannot read ${path} to check it before resuming: ${messageOf(error)}`, { ...(node ? { node } : {}), path }, { cause: error });
  }
}

/** Up to `length` bytes at `at` (fewer at the end of the file). */
function readAt(fd: number, at: number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, bytes, done, length - done, at + done);
    if (n === 0) break;
    done += n;
  }
  return bytes.subarray(0, done);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The chunks read from some offset on, to slice any recent range out of. */
class RecentBytes {
  #chunks: Buffer[] = [];
  /** File offset of the first kept chunk's first byte. */
  #start: number;

  constructor(start: number) {
    this.#start = start;
  }

  append(chunk: Buffer): void {
    if (chunk.length > 0) this.#chunks.push(chunk);
  }

  /** Forgets chunks that end at or before `offset`. */
  dropBefore(offset: number): void {
    while (this.#chunks.length > 0 && this.#start + this.#chunks[0]!.length <= offset) this.#start += this.#chunks.shift()!.length;
  }

  /** The bytes from `from` to `to` (file offsets; the range must be kept). */
  slice(from: number, to: number): Buffer {
    if (from < this.#start) throw new Error(`bytes from ${from} are no longer kept (kept from ${this.#start})`);
    const parts: Buffer[] = [];
    let at = this.#start;
    for (const chunk of this.#chunks) {
      const end = at + chunk.length;
      if (end > from && at < to) parts.push(chunk.subarray(Math.max(0, from - at), Math.min(chunk.length, to - at)));
      if (end >= to) break;
      at = end;
    }
    return Buffer.concat(parts);
  }
}
