/**
 * The `file` sink: one line per record, written straight to a file descriptor.
 *
 * How it works, and why not a Node write stream:
 * - `write(batch)` resolves only once the batch's bytes are in the file (the
 *   write system calls returned), so a sink node's "written" count is what
 *   the file holds, not what a stream buffer accepted.
 * - A write that fails part-way (a full disk) leaves no partial line: the
 *   file is truncated back to where the batch began, so it ends with the last
 *   whole record counted; the error says how many records and bytes it holds.
 *   After a failure the sink refuses further writes.
 * - The file is open in append mode, so a file cut by someone else
 *   (logrotate's `copytruncate`) gets the next lines at its new end.
 * - Before each batch the sink checks that its path still names the file it
 *   has open (device and inode). When the file was deleted, renamed (log
 *   rotation) or replaced, the sink opens the path again in append mode
 *   (creating it) and logs a warning with the records the old file received.
 * - Checkpoints: `preCommit()` syncs the file (fdatasync) and returns its
 *   length and path as the token, `{"v":1,"length":N,"path":"..."}`. A sink
 *   created with that token (`resumeFrom`) keeps the file and appends to it;
 *   with delivery `exactly-once` it first cuts the file back to that length
 *   (dropping what was written after the checkpoint, which the run writes
 *   again), with `at-least-once` it keeps it but cuts off a partial last line
 *   (the process was killed in the middle of a write). A token of another path is
 *   refused (`WEIR_CHECKPOINT_MISMATCH`), so an unrelated file is never cut. A file shorter than the token (cut
 *   or replaced by someone else) is kept, with a warning.
 */
import { closeSync, constants, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, statSync, write as fsWrite } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { StreamRecord } from '../records/record.js';
import { WeirError, messageOf } from '../errors/errors.js';
import type { Sink } from './connector.js';
import type { Delivery } from '../config/pipeline-config.js';
import { decodeVersioned, describeBytes, encodePosition } from './positions.js';
import { LineFormatter } from './jsonl.js';
import { PackedBatch } from '../records/packed-batch.js';
import type { LineFormat } from './jsonl.js';

/** Which file a path or descriptor names. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/** An open output file, as the sink uses it; tests inject one that fails. */
export interface OutputFile {
  /** Appends `bytes`; resolves with how many bytes were written (may be fewer). */
  write(bytes: Uint8Array): Promise<number>;
  /** Cuts the file to `length` bytes. */
  truncate(length: number): void;
  /** Up to `length` bytes of the file from `position`. */
  read(position: number, length: number): Uint8Array;
  /** Makes what was written durable (fdatasync). */
  sync(): void;
  /** The file's current size and identity. */
  stat(): FileIdentity & { size: number };
  close(): void;
}

/** How the sink reaches the filesystem: the real one by default. */
export interface OutputFiles {
  /** Opens `path`: `replace` empties it (creating it), `append` keeps what it holds. */
  open(path: string, mode: 'replace' | 'append'): OutputFile;
  /** What `path` names now, or undefined when nothing is there. */
  identityOf(path: string): FileIdentity | undefined;
}

/** What a {@link FileSink} needs. */
export interface FileSinkDeps {
  /** Absolute path of the output file. */
  path: string;
  format: LineFormat;
  /** The node id for messages, when known. */
  node: string | undefined;
  logger: Logger;
  /** Default: {@link realOutputFiles}. */
  files?: OutputFiles;
  /** A token from {@link FileSink.preCommit}: continue the file from the checkpoint instead of replacing it. */
  resumeFrom?: Uint8Array;
  /** With `resumeFrom`: `exactly-once` (the default) cuts the file back to the token's length first. */
  delivery?: Delivery;
}

/** Writes one line per record to a file it replaces (or continues, resuming); see the module comment. */
export class FileSink implements Sink {
  readonly #deps: FileSinkDeps;
  readonly #files: OutputFiles;
  #file: OutputFile;
  #identity: FileIdentity;
  /** Records in the open file, and in every file before it. */
  #records = 0;
  #recordsInFile = 0;
  #state: 'open' | 'failed' | 'closed' = 'open';
  #failure: WeirError | undefined;
  /** Formats each batch into a buffer it reuses: a write ends before the next begins. */
  readonly #formatter: LineFormatter;

  /** Opens (replacing, or resuming) the file; parent folders must exist. @throws WeirError `WEIR_CONNECTOR_IO` */
  constructor(deps: FileSinkDeps) {
    this.#deps = deps;
    this.#files = deps.files ?? realOutputFiles;
    this.#formatter = new LineFormatter(deps.format);
    this.#file = deps.resumeFrom ? this.#openResuming(deps.resumeFrom) : this.#openReplacing();
    const { dev, ino } = this.#file.stat();
    this.#identity = { dev, ino };
  }

  /** Records the sink has written and counted (whole lines, in this file or before a reopen). */
  get records(): number {
    return this.#records;
  }

  async write(batch: StreamRecord[]): Promise<void> {
    await this.writePacked(PackedBatch.fromRecords(batch));
  }

  /** Formats the batch in one pass over its bytes and writes it (see {@link write}). */
  async writePacked(batch: PackedBatch): Promise<void> {
    this.#check();
    if (batch.length === 0) return;
    const bytes = this.#formatter.format(batch);
    this.#reopenIfMoved();
    let done = 0;
    try {
      while (done < bytes.length) {
        const n = await this.#file.write(bytes.subarray(done));
        if (n <= 0) throw new Error(`the write made no progress (${n} bytes)`);
        done += n;
      }
    } catch (error) {
      this.#failWrite(error, done);
    }
    this.#records += batch.length;
    this.#recordsInFile += batch.length;
  }

  /** Makes every line written so far durable. */
  async flush(): Promise<void> {
    this.#check();
    try {
      this.#file.sync();
    } catch (error) {
      throw this.#error(`cannot sync ${this.#deps.path}`, error);
    }
  }

  /** Syncs the file (see {@link flush}); the token is its length, `{"v":1,"length":N}`. */
  async preCommit(): Promise<Uint8Array> {
    await this.flush();
    let length: number;
    try {
      length = this.#file.stat().size;
    } catch (error) {
      throw this.#error(`cannot read the length of ${this.#deps.path}`, error);
    }
    return encodePosition({ length, path: this.#deps.path });
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    const failed = this.#state === 'failed';
    this.#state = 'closed';
    try {
      this.#file.close();
    } catch (error) {
      if (!failed) throw this.#error(`cannot close ${this.#deps.path}`, error);
    }
    if (failed) throw this.#failure!;
  }

  #check(): void {
    if (this.#state === 'failed') throw this.#failure!;
    if (this.#state === 'closed') throw this.#error(`${this.#deps.path} is closed`, undefined);
  }

  /** The path no longer names the open file (deleted, rotated, replaced): open it again. */
  #reopenIfMoved(): void {
    let now: FileIdentity | undefined;
    try {
      now = this.#files.identityOf(this.#deps.path);
    } catch (error) {
      // EACCES, ELOOP, EIO... (ENOENT and ENOTDIR mean "gone" and reopen): nothing was written.
      throw this.#error(`cannot check that ${this.#deps.path} is still the file the sink writes (${messageOf(error)}); make the path reachable again`, error);
    }
    if (now && now.dev === this.#identity.dev && now.ino === this.#identity.ino) return;
    const inOldFile = this.#recordsInFile;
    const how = now ? 'replaced' : 'deleted or renamed';
    let file: OutputFile;
    try {
      file = this.#files.open(this.#deps.path, 'append');
    } catch (error) {
      this.#state = 'failed';
      this.#failure = this.#error(
        `the output file ${this.#deps.path} was ${how} while the sink wrote it (${inOldFile} records went to the old file), and it cannot be opened again: ${messageOf(error)}`,
        error,
        { recordsInOldFile: inOldFile },
      );
      throw this.#failure;
    }
    try {
      this.#file.close();
    } catch {
      // The old file is gone from the path; what it failed to close cannot be written anywhere now.
    }
    this.#file = file;
    const { size, dev, ino } = file.stat();
    this.#identity = { dev, ino };
    this.#recordsInFile = 0;
    this.#deps.logger.warn(
      { node: this.#deps.node, path: this.#deps.path, recordsInOldFile: inOldFile, appendingAt: size },
      `the output file ${this.#deps.path} was ${how} while the sink wrote it; ${inOldFile} records went to the old file, the rest go to a file opened again at the path (appending)`,
    );
  }

  /** Opens the file to append, after cutting it back to the checkpoint's length when delivery is exactly-once. */
  #openResuming(token: Uint8Array): OutputFile {
    const decoded = decodeVersioned(token, { length: 'count', path: 'string' });
    const node = this.#deps.node;
    if (!decoded) {
      throw new WeirError(
        'WEIR_CHECKPOINT_MISMATCH',
        `${node ? `file sink "${node}": ` : ''}cannot resume ${this.#deps.path}: the checkpoint holds a token this sink cannot read (${describeBytes(token)}; expected {"v":1,"length":N,"path":"..."}); start over with \`host run --fresh\``,
        { ...(node ? { node } : {}), path: this.#deps.path },
      );
    }
    if (decoded.path !== this.#deps.path) {
      // Cutting another file back to this length would destroy what it holds.
      throw new WeirError(
        'WEIR_CHECKPOINT_MISMATCH',
        `${node ? `file sink "${node}": ` : ''}the checkpoint was taken while this sink wrote ${decoded.path}; it is set to write ${this.#deps.path} now. Set "path" back to resume, or start over with \`host run --fresh\``,
        { ...(node ? { node } : {}), path: this.#deps.path, checkpointed: decoded.path },
      );
    }
    const { length } = decoded;
    const delivery = this.#deps.delivery ?? 'exactly-once';
    const { path, logger } = this.#deps;
    let file: OutputFile;
    try {
      file = this.#files.open(path, 'append');
    } catch (error) {
      throw this.#error(`cannot open ${path} to resume writing it`, error);
    }
    try {
      const size = file.stat().size;
      if (size > length && delivery === 'exactly-once') {
        file.truncate(length);
        logger.info({ node, path, length, cut: size - length }, `resuming ${path} at the checkpoint: cut the ${size - length} bytes written after it (they are written again)`);
      } else if (size > length) {
        const wholeLines = endOfLastLine(file, length, size);
        if (wholeLines < size) {
          file.truncate(wholeLines);
          logger.info({ node, path, length: wholeLines, cut: size - wholeLines }, `resuming ${path}: cut the partial last line (${size - wholeLines} bytes) a stopped write left; its record is written again`);
        }
      } else if (size < length) {
        logger.warn(
          { node, path, length, size },
          `${path} is ${size} bytes long, shorter than the ${length} bytes it held at the checkpoint (it was cut or replaced): the records now missing from it are not written again; appending`,
        );
      }
    } catch (error) {
      try {
        file.close();
      } catch {
        // Already failing: the cut's error is the one to report.
      }
      throw this.#error(`cannot cut ${path} back to its length at the checkpoint`, error);
    }
    return file;
  }

  #openReplacing(): OutputFile {
    try {
      return this.#files.open(this.#deps.path, 'replace');
    } catch (error) {
      throw this.#error(`cannot open ${this.#deps.path} for writing`, error);
    }
  }

  /**
   * A write failed after `written` bytes of a batch: cut them off so the file
   * ends with a whole line. The file's size is read back rather than tracked,
   * so a file truncated by someone else (logrotate's copytruncate) is cut right.
   */
  #failWrite(error: unknown, written: number): never {
    let bytesInFile: number | undefined;
    let cut = '';
    try {
      bytesInFile = this.#file.stat().size - written;
      if (written > 0) {
        this.#file.truncate(bytesInFile);
        cut = `; the ${written} bytes of the failed batch already written were cut off`;
      }
    } catch (cutError) {
      cut = bytesInFile === undefined
        ? `; the file could not be read back (${messageOf(cutError)}): its last ${written} bytes may be a partial line`
        : `; the file could not be cut back (${messageOf(cutError)}): only its first ${bytesInFile} bytes are whole lines`;
    }
    this.#state = 'failed';
    this.#failure = this.#error(
      `cannot write ${this.#deps.path}: ${messageOf(error)}; it holds ${this.#recordsInFile} whole records${bytesInFile === undefined ? '' : ` (${bytesInFile} bytes)`}${cut}`,
      error,
      { recordsInFile: this.#recordsInFile, ...(bytesInFile === undefined ? {} : { bytesInFile }) },
    );
    throw this.#failure;
  }

  #error(message: string, cause: unknown, extra: Record<string, unknown> = {}): WeirError {
    const node = this.#deps.node;
    const errno = (cause as { code?: unknown } | undefined)?.code;
    return new WeirError(
      'WEIR_CONNECTOR_IO',
      `${node ? `file sink "${node}": ` : ''}${message}`,
      { ...(node ? { node } : {}), path: this.#deps.path, ...(typeof errno === 'string' ? { errno } : {}), ...extra },
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * Creates the folders of `path`, naming the node and the path when it cannot
 * (a file where a folder should be gives `EEXIST` or `ENOTDIR`).
 *
 * @throws WeirError `WEIR_CONNECTOR_IO`
 */
export function makeParentFolders(path: string, node: string | undefined): void {
  const folder = dirname(path);
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    const blocker = errno === 'EEXIST' || errno === 'ENOTDIR' ? fileOnTheWay(folder) : undefined;
    const why = blocker ? `${blocker} is a file, not a folder` : messageOf(error);
    throw new WeirError(
      'WEIR_CONNECTOR_IO',
      `${node ? `file sink "${node}": ` : ''}cannot create the folder ${folder} for ${path}: ${why}; choose another path or move the file`,
      { ...(node ? { node } : {}), path, ...(errno ? { errno } : {}) },
      { cause: error },
    );
  }
}

/** The nearest of `folder` and its ancestors that exists and is not a folder. */
function fileOnTheWay(folder: string): string | undefined {
  for (let path = folder; path !== dirname(path); path = dirname(path)) {
    try {
      if (!statSync(path).isDirectory()) return path;
    } catch {
      // Not there (or not reachable): look further up.
    }
  }
  return undefined;
}

/**
 * Where the last whole line of `file` ends: just after its last newline at or
 * past `from` (a line boundary: the checkpoint's length), else `from`.
 * Reads backwards from `size` in chunks, so a long tail is not read at once.
 */
function endOfLastLine(file: OutputFile, from: number, size: number): number {
  const CHUNK = 64 * 1024;
  for (let end = size; end > from; end -= CHUNK) {
    const start = Math.max(from, end - CHUNK);
    const bytes = file.read(start, end - start);
    const newline = bytes.lastIndexOf(0x0a);
    if (newline >= 0) return start + newline + 1;
  }
  return from;
}

/** The real filesystem, through synchronous open/stat/read and asynchronous writes. */
export const realOutputFiles: OutputFiles = {
  open(path, mode) {
    // Append mode in both cases: every write lands at the end even after someone else cut the file.
    const fd = openSync(path, mode === 'replace' ? constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND : 'a+');
    return {
      write: (bytes) => new Promise((resolve, reject) => fsWrite(fd, bytes, 0, bytes.length, null, (error, n) => (error ? reject(error) : resolve(n)))),
      truncate: (length) => ftruncateSync(fd, length),
      read: (position, length) => {
        const bytes = Buffer.alloc(length);
        return bytes.subarray(0, readSync(fd, bytes, 0, length, position));
      },
      sync: () => fdatasyncSync(fd),
      stat: () => {
        const { size, dev, ino } = fstatSync(fd);
        return { size, dev, ino };
      },
      close: () => closeSync(fd),
    };
  },
  identityOf(path) {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats ? { dev: stats.dev, ino: stats.ino } : undefined;
  },
};
