// The file sink: counts only what is in the file, leaves no partial line on a
// failed write, follows its path when the file is deleted or rotated, and
// names the node and the path when it cannot create the output folder.
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { mkdtemp, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import { FileSink, realOutputFiles } from '../../src/connectors/file-sink.js';
import type { OutputFiles } from '../../src/connectors/file-sink.js';
import { hasCode } from '../../src/errors/errors.js';
import type { WeirError } from '../../src/errors/errors.js';
import { textRecord } from '../../src/records/record.js';
import { recordsOf } from '../../src/records/batch.js';

const records = (from: number, count: number) => Array.from({ length: count }, (_, i) => textRecord(`record ${from + i}`));
const lines = (from: number, count: number) => records(from, count).map((_, i) => `{"value":"record ${from + i}"}\n`).join('');

/** A logger that keeps what it was given. */
function recordingLogger() {
  const entries: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => entries.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, entries };
}

/** The `file` sink as a pipeline creates it. */
function fileSink(dir: string, path: string, logger = pino({ level: 'silent' })) {
  return builtinConnectors().sink('file')!.create({ path }, { baseDir: dir, node: 'out', logger, stdin: Readable.from([]), stdout: process.stdout });
}

/** Real files whose writes fail with ENOSPC once `capacity` bytes are in the file. */
function filesWithCapacity(capacity: number): OutputFiles {
  return {
    identityOf: realOutputFiles.identityOf,
    open(path, mode) {
      const file = realOutputFiles.open(path, mode);
      return {
        ...file,
        async write(bytes) {
          const room = capacity - file.stat().size;
          if (room <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          return file.write(bytes.subarray(0, Math.min(room, bytes.length)));
        },
      };
    },
  };
}

describe('file sink', () => {
  it('on a full disk, counts only whole records in the file and cuts the partial line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-full-'));
    const path = join(dir, 'out.jsonl');
    const firstBatch = lines(0, 10);
    const sink = new FileSink({ path, format: 'jsonl', node: 'out', logger: pino({ level: 'silent' }), files: filesWithCapacity(firstBatch.length + 30) });
    await sink.write(records(0, 10));
    const error = (await sink.write(records(10, 10)).catch((e: unknown) => e)) as WeirError;
    expect(hasCode(error, 'WEIR_CONNECTOR_IO')).toBe(true);
    expect(error.message).toContain('file sink "out": cannot write');
    expect(error.message).toContain('ENOSPC');
    expect(error.message).toContain(`it holds 10 whole records (${firstBatch.length} bytes); the 30 bytes of the failed batch already written were cut off`);
    expect(error.details).toMatchObject({ node: 'out', path, errno: 'ENOSPC', recordsInFile: 10, bytesInFile: firstBatch.length });
    expect(sink.records).toBe(10);
    expect(await readFile(path, 'utf8')).toBe(firstBatch);
    await expect(sink.write(records(20, 1))).rejects.toThrow('ENOSPC');
    await expect(sink.close()).rejects.toThrow('ENOSPC');
  });

  it('fails the write itself on a device that is full (/dev/full), counting nothing', async () => {
    const sink = fileSink('/', '/dev/full');
    const error = await sink.write(records(0, 10)).catch((e: unknown) => e);
    expect(hasCode(error, 'WEIR_CONNECTOR_IO')).toBe(true);
    expect((error as WeirError).details).toMatchObject({ node: 'out', path: '/dev/full', errno: 'ENOSPC', recordsInFile: 0 });
    await expect(sink.close()).rejects.toThrow('ENOSPC');
  });

  it('appends at the end after someone else cut the file (logrotate copytruncate), leaving no hole', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-copytruncate-'));
    const path = join(dir, 'out.jsonl');
    const sink = fileSink(dir, 'out.jsonl');
    await sink.write(records(0, 10));
    await truncate(path, 0);
    await sink.write(records(10, 2));
    await sink.close();
    expect(await readFile(path, 'utf8')).toBe(lines(10, 2));
  });

  it('resolves a write only once its bytes are in the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-count-'));
    const sink = fileSink(dir, 'out.jsonl');
    for (let i = 0; i < 5; i++) {
      await sink.write(records(i * 100, 100));
      expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe(lines(0, (i + 1) * 100));
    }
    await sink.close();
  });

  it.each([
    ['deleted', (path: string) => rm(path)],
    ['rotated', (path: string) => rename(path, `${path}.1`)],
  ])('opens its path again when the output file is %s mid-run, and says so', async (what, change) => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-rotate-'));
    const path = join(dir, 'out.jsonl');
    const { logger, entries } = recordingLogger();
    const sink = fileSink(dir, 'out.jsonl', logger);
    await sink.write(records(0, 3));
    await change(path);
    await sink.write(records(3, 2));
    await sink.close();
    expect(await readFile(path, 'utf8')).toBe(lines(3, 2));
    if (what === 'rotated') expect(await readFile(`${path}.1`, 'utf8')).toBe(lines(0, 3));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ node: 'out', path, recordsInOldFile: 3 });
    expect(entries[0]!.msg).toContain('deleted or renamed while the sink wrote it');
  });

  it('fails loudly when the file cannot be opened again (its folder is gone)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-gone-'));
    const sink = fileSink(dir, 'sub/out.jsonl');
    await sink.write(records(0, 3));
    await rm(join(dir, 'sub'), { recursive: true });
    const error = (await sink.write(records(3, 1)).catch((e: unknown) => e)) as WeirError;
    expect(hasCode(error, 'WEIR_CONNECTOR_IO')).toBe(true);
    expect(error.message).toContain('was deleted or renamed while the sink wrote it (3 records went to the old file), and it cannot be opened again: ENOENT');
    expect(error.details).toMatchObject({ node: 'out', errno: 'ENOENT', recordsInOldFile: 3 });
    await expect(sink.close()).rejects.toBe(error);
  });

  it('names the node and the path when the path cannot be checked (EACCES from stat), writing nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-eacces-'));
    const path = join(dir, 'out.jsonl');
    let denied = false;
    const files: OutputFiles = {
      open: realOutputFiles.open,
      identityOf(p) {
        if (denied) throw Object.assign(new Error(`EACCES: permission denied, stat '${p}'`), { code: 'EACCES' });
        return realOutputFiles.identityOf(p);
      },
    };
    const sink = new FileSink({ path, format: 'jsonl', node: 'out', logger: pino({ level: 'silent' }), files });
    await sink.write(records(0, 3));
    denied = true;
    const error = (await sink.write(records(3, 1)).catch((e: unknown) => e)) as WeirError;
    expect(hasCode(error, 'WEIR_CONNECTOR_IO')).toBe(true);
    expect(error.message).toContain(`file sink "out": cannot check that ${path} is still the file the sink writes (EACCES`);
    expect(error.details).toMatchObject({ node: 'out', path, errno: 'EACCES' });
    expect(await readFile(path, 'utf8')).toBe(lines(0, 3));
    await sink.close();
  });

  it('copies bytes that are not UTF-8 unchanged from a lines file to a lines file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-bytes-'));
    const bytes = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0xff, 0xfe, 0x00, 0x80, 0x0a]);
    await writeFile(join(dir, 'in.txt'), bytes);
    const ctx = { baseDir: dir, node: 'in', logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: process.stdout };
    const source = builtinConnectors().source('file')!.create({ path: 'in.txt', format: 'lines' }, ctx);
    const sink = builtinConnectors().sink('file')!.create({ path: 'out.txt', format: 'lines' }, ctx);
    const { records: read } = await source.poll(10);
    await sink.write(recordsOf(read));
    await sink.close();
    expect([...(await readFile(join(dir, 'out.txt')))]).toEqual([...bytes]);
  });

  it('drops only a leading BOM and line-ending \\r, and ends the last line, copying lines to lines (as docs/pipeline.md says)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-bytes-'));
    await writeFile(join(dir, 'in.txt'), Buffer.from('\uFEFFa\r\n\uFEFFb\r\nc\r', 'utf8'));
    const ctx = { baseDir: dir, node: 'in', logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: process.stdout };
    const source = builtinConnectors().source('file')!.create({ path: 'in.txt', format: 'lines' }, ctx);
    const sink = builtinConnectors().sink('file')!.create({ path: 'out.txt', format: 'lines' }, ctx);
    for (let done = false; !done; ) {
      const batch = await source.poll(10);
      await sink.write(recordsOf(batch.records));
      done = batch.done;
    }
    await sink.close();
    expect(await readFile(join(dir, 'out.txt'), 'utf8')).toBe('a\n\uFEFFb\nc\n');
  });

  it('appends when the path names a new file (logrotate "create")', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-replace-'));
    const path = join(dir, 'out.jsonl');
    const { logger, entries } = recordingLogger();
    const sink = fileSink(dir, 'out.jsonl', logger);
    await sink.write(records(0, 2));
    await rename(path, `${path}.1`);
    await writeFile(path, '');
    await sink.write(records(2, 2));
    await sink.write(records(4, 1));
    await sink.close();
    expect(await readFile(path, 'utf8')).toBe(lines(2, 3));
    expect(entries.map((e) => e.msg)).toEqual([expect.stringContaining('was replaced while the sink wrote it')]);
  });

  it('names the node, the path and the blocking file when a parent folder is a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-parent-'));
    await writeFile(join(dir, 'taken'), 'a file');
    for (const path of ['taken/out.jsonl', 'taken/deeper/out.jsonl']) {
      let error: unknown;
      try {
        fileSink(dir, path);
      } catch (e) {
        error = e;
      }
      expect(hasCode(error, 'WEIR_CONNECTOR_IO')).toBe(true);
      expect((error as Error).message).toContain(`file sink "out": cannot create the folder`);
      expect((error as Error).message).toContain(`${join(dir, 'taken')} is a file, not a folder`);
      expect((error as WeirError).details).toMatchObject({ node: 'out', path: join(dir, path) });
    }
  });
});
