// The file source's position: the byte offset just after the last line a poll
// returned (not what was read ahead), with the file's identity; resuming there
// yields exactly the remaining records, and a changed file is refused.
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { Source } from '../../src/connectors/connector.js';
import { hasCode } from '../../src/errors/errors.js';
import type { WeirError } from '../../src/errors/errors.js';
import { seededRandom } from '../../../scripts/checkpoint-workload.js';
import { recordsOf } from '../../src/records/batch.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

/** The `file` source as a pipeline creates it. */
function fileSource(path: string, config: Record<string, unknown> = {}, resumeFrom?: Uint8Array): Source {
  return builtinConnectors()
    .source('file')!
    .create({ path, ...config }, { baseDir: tmpdir(), node: 'in', logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: process.stdout, resumeFrom });
}

function decoded(position: Uint8Array | undefined): { v: number; offset: number; line: number; head: string; tail: string } {
  return JSON.parse(text(position!)) as { v: number; offset: number; line: number; head: string; tail: string };
}

/** Polls (at most `max` per poll) until `want` records came back or the source is done. */
async function take(source: Source, want: number, max: () => number): Promise<string[]> {
  const values: string[] = [];
  while (values.length < want) {
    const { records, done } = await source.poll(Math.min(max(), want - values.length));
    values.push(...recordsOf(records).map((r) => text(r.value)));
    if (done) break;
  }
  return values;
}

async function readAll(source: Source): Promise<string[]> {
  return take(source, Number.POSITIVE_INFINITY, () => 7);
}

/**
 * A file of `lines` format lines: ASCII, multi-byte UTF-8 (2, 3 and 4 bytes),
 * a few lines longer than a read chunk (64 KiB), CRLF and LF endings mixed, a
 * byte order mark at the start and no newline after the last line.
 */
function mixedFile(random: () => number, count: number): { bytes: Buffer; values: string[]; ends: number[] } {
  const pieces = ['a', 'é', 'ж', '€', '字', '😀', ' ', 'z9'];
  const values: string[] = [];
  const parts: Buffer[] = [Buffer.from([0xef, 0xbb, 0xbf])];
  const ends: number[] = [];
  let size = 3;
  for (let i = 0; i < count; i++) {
    const length = i % 37 === 5 ? 70_000 + Math.floor(random() * 70_000) : Math.floor(random() * 120);
    const chars = [`${i}:`];
    for (let bytes = chars[0]!.length; bytes < length; ) {
      const piece = pieces[Math.floor(random() * pieces.length)]!;
      chars.push(piece);
      bytes += Buffer.byteLength(piece);
    }
    const value = chars.join('');
    values.push(value);
    const ending = i === count - 1 ? '' : random() < 0.3 ? '\r\n' : '\n';
    const line = Buffer.from(value + ending, 'utf8');
    parts.push(line);
    size += line.length;
    ends.push(size);
  }
  return { bytes: Buffer.concat(parts), values, ends };
}

describe('file source position', () => {
  it('is the byte offset after the last line returned, not after what was read ahead', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-fpos-'));
    const path = join(dir, 'in.txt');
    await writeFile(path, 'one\r\ntwo\nthree\n');
    const source = fileSource(path, { format: 'lines' });
    expect(decoded(source.position!()!).offset).toBe(0);
    expect(recordsOf((await source.poll(1)).records).map((r) => text(r.value))).toEqual(['one']);
    expect(decoded(source.position!()!)).toMatchObject({ v: 1, offset: 5, line: 1 });
    expect(recordsOf((await source.poll(1)).records).map((r) => text(r.value))).toEqual(['two']);
    expect(decoded(source.position!()!)).toMatchObject({ offset: 9, line: 2 });
    await source.close();
  });

  it('counts a byte order mark, a last line without newline, and blank jsonl lines it skipped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-fpos-'));
    const path = join(dir, 'in.jsonl');
    const content = '\uFEFF{"value":"a"}\r\n\n  \n{"value":"b"}';
    await writeFile(path, content);
    const source = fileSource(path);
    expect(recordsOf((await source.poll(1)).records).map((r) => text(r.value))).toEqual(['a']);
    expect(decoded(source.position!()!).offset).toBe(Buffer.byteLength('\uFEFF{"value":"a"}\r\n'));
    expect(await readAll(source)).toEqual(['b']);
    expect(decoded(source.position!()!)).toMatchObject({ offset: Buffer.byteLength(content), line: 4 });
    await source.close();
  });

  it('resuming at a random split point yields exactly the remaining records (UTF-8, CRLF, long lines)', async () => {
    const random = seededRandom(16);
    const dir = await mkdtemp(join(tmpdir(), 'weir-fpos-'));
    const path = join(dir, 'in.txt');
    const { bytes, values, ends } = mixedFile(random, 160);
    await writeFile(path, bytes);
    for (let round = 0; round < 12; round++) {
      const split = Math.floor(random() * (values.length + 1));
      const first = fileSource(path, { format: 'lines' });
      const before = await take(first, split, () => 1 + Math.floor(random() * 9));
      expect(before).toEqual(values.slice(0, split));
      const position = first.position!()!;
      expect(decoded(position)).toMatchObject({ offset: split === 0 ? 0 : ends[split - 1], line: split });
      await first.close();
      const resumed = fileSource(path, { format: 'lines' }, position);
      expect(await readAll(resumed), `split at record ${split}`).toEqual(values.slice(split));
      await resumed.close();
    }
  });

  it('resumes repeatedly, one position after another, through the whole file', async () => {
    const random = seededRandom(7);
    const dir = await mkdtemp(join(tmpdir(), 'weir-fpos-'));
    const path = join(dir, 'in.txt');
    const { bytes, values } = mixedFile(random, 90);
    await writeFile(path, bytes);
    const seen: string[] = [];
    let position: Uint8Array | undefined;
    for (;;) {
      const source = fileSource(path, { format: 'lines' }, position);
      const { records, done } = await source.poll(1 + Math.floor(random() * 12));
      seen.push(...recordsOf(records).map((r) => text(r.value)));
      position = source.position!()!;
      await source.close();
      if (done) break;
    }
    expect(seen).toEqual(values);
  });

  it('every position it reports passes its own identity check, across read chunk boundaries (jsonl, blank and CRLF lines)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-fpos-'));
    const path = join(dir, 'in.jsonl');
    const values = Array.from({ length: 12_000 }, (_, i) => `r${i}-ü`);
    await writeFile(path, values.map((v, i) => `{"value":"${v}"}${i % 3 === 0 ? '\r\n' : '\n'}${i % 50 === 0 ? '\n' : ''}`).join(''));
    const source = fileSource(path);
    const taken: string[] = [];
    for (let done = false; !done; ) {
      const result = await source.poll(97);
      taken.push(...recordsOf(result.records).map((r) => text(r.value)));
      done = result.done;
      const resumed = fileSource(path, {}, source.position!()!);
      const next = await take(resumed, 1, () => 1);
      expect(next, `after ${taken.length} records`).toEqual(values.slice(taken.length, taken.length + 1));
      await resumed.close();
    }
    expect(taken).toEqual(values);
    await source.close();
  });

  it('numbers lines after the resume point in its messages', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-fpos-'));
    const path = join(dir, 'in.jsonl');
    await writeFile(path, '{"value":"1"}\n{"value":"2"}\nnot json\n');
    const first = fileSource(path);
    await first.poll(1);
    const position = first.position!()!;
    await first.close();
    const resumed = fileSource(path, {}, position);
    expect(text(resumed.position!()!)).toBe(text(position)); // before its first poll it stands where it resumed
    expect(recordsOf((await resumed.poll(10)).records).map((r) => text(r.value))).toEqual(['2']);
    await expect(resumed.poll(10)).rejects.toThrow(`${path}:3: the line is not valid JSON`);
    await resumed.close();
  });

  it('keeps a byte order mark at the start of a line it resumes at (only the file start has one)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-fpos-'));
    const path = join(dir, 'in.txt');
    await writeFile(path, 'x\n\uFEFFy\n');
    const first = fileSource(path, { format: 'lines' });
    await first.poll(1);
    const position = first.position!()!;
    await first.close();
    const resumed = fileSource(path, { format: 'lines' }, position);
    expect(recordsOf((await resumed.poll(10)).records).map((r) => [...r.value])).toEqual([[0xef, 0xbb, 0xbf, 0x79]]);
    await resumed.close();
  });
});

describe('file source identity on resume', () => {
  /** A file of 3000 lines (~30 KB), and a position after line 2000. */
  async function positioned(): Promise<{ path: string; content: string; position: Uint8Array; offset: number }> {
    const dir = await mkdtemp(join(tmpdir(), 'weir-fid-'));
    const path = join(dir, 'in.jsonl');
    const content = Array.from({ length: 3000 }, (_, i) => `{"value":"record ${i}"}\n`).join('');
    await writeFile(path, content);
    const source = fileSource(path);
    expect(await take(source, 2000, () => 300)).toHaveLength(2000);
    const position = source.position!()!;
    await source.close();
    return { path, content, position, offset: decoded(position).offset };
  }

  const refusal = async (path: string, position: Uint8Array) => {
    let error: unknown;
    try {
      fileSource(path, {}, position);
    } catch (e) {
      error = e;
    }
    return error as WeirError;
  };

  it('reads on from the offset when the file was only appended to', async () => {
    const { path, position } = await positioned();
    await appendFile(path, '{"value":"appended"}\n');
    const values = await readAll(fileSource(path, {}, position));
    expect(values).toHaveLength(1001);
    expect(values[0]).toBe('record 2000');
    expect(values.at(-1)).toBe('appended');
  });

  it('refuses a file shorter than the offset, naming the node, the file and --fresh', async () => {
    const { path, content, position, offset } = await positioned();
    await writeFile(path, content.slice(0, offset - 1));
    const error = await refusal(path, position);
    expect(hasCode(error, 'WEIR_CHECKPOINT_SOURCE_CHANGED')).toBe(true);
    expect(error.message).toContain('file source "in"');
    expect(error.message).toContain(path);
    expect(error.message).toContain('--fresh');
    expect(error.message).toContain(`the file is ${offset - 1} bytes long now`);
    expect(error.details).toMatchObject({ node: 'in', path, offset });
  });

  it('refuses a file that is gone (as a changed one), naming the file and --fresh', async () => {
    const { path, position } = await positioned();
    await rm(path);
    const error = await refusal(path, position);
    expect(hasCode(error, 'WEIR_CHECKPOINT_SOURCE_CHANGED')).toBe(true);
    expect(error.message).toContain(path);
    expect(error.message).toContain('--fresh');
    expect(error.details).toMatchObject({ node: 'in', path, errno: 'ENOENT' });
  });

  it('refuses a file whose first bytes changed', async () => {
    const { path, content, position } = await positioned();
    await writeFile(path, content.replace('record 0"', 'record X"'));
    const error = await refusal(path, position);
    expect(hasCode(error, 'WEIR_CHECKPOINT_SOURCE_CHANGED')).toBe(true);
    expect(error.message).toContain('first 4096 bytes differ');
  });

  it('refuses a file whose bytes just before the offset changed (past the first 4096)', async () => {
    const { path, content, position } = await positioned();
    await writeFile(path, content.replace('record 1999"', 'record 1998"'));
    const error = await refusal(path, position);
    expect(hasCode(error, 'WEIR_CHECKPOINT_SOURCE_CHANGED')).toBe(true);
    expect(error.message).toContain('bytes before that offset differ');
  });

  it('refuses a position it cannot read (not one it wrote)', async () => {
    const { path } = await positioned();
    const error = await refusal(path, new TextEncoder().encode('{"v":9,"offset":3}'));
    expect(hasCode(error, 'WEIR_CHECKPOINT_MISMATCH')).toBe(true);
    expect(error.details).toMatchObject({ node: 'in' });
    expect(error.message).toContain('--fresh');
  });

  it('checks a short file by all its bytes (offset under 4096)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-fid-'));
    const path = join(dir, 'in.jsonl');
    await writeFile(path, '{"value":"a"}\n{"value":"b"}\n');
    const source = fileSource(path);
    await source.poll(1);
    const position = source.position!()!;
    await source.close();
    await writeFile(path, '{"value":"A"}\n{"value":"b"}\n');
    expect(hasCode(await refusal(path, position), 'WEIR_CHECKPOINT_SOURCE_CHANGED')).toBe(true);
    await writeFile(path, '{"value":"a"}\n{"value":"c"}\n');
    expect(await readAll(fileSource(path, {}, position))).toEqual(['c']);
  });
});
