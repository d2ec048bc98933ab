// The file and stdin sources: bytes split into lines before decoding, BOM,
// strictness about UTF-8, the longest line, and the good records before a failure.
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { Source } from '../../src/connectors/connector.js';
import { hasCode } from '../../src/errors/errors.js';
import { recordsOf } from '../../src/records/batch.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Polls until done or until a poll throws; returns every value and the error. */
async function drain(source: Source, max = 1000): Promise<{ values: Uint8Array[]; error: unknown }> {
  const values: Uint8Array[] = [];
  try {
    for (;;) {
      const { records, done } = await source.poll(max);
      values.push(...recordsOf(records).map((r) => r.value));
      if (done) return { values, error: undefined };
    }
  } catch (error) {
    return { values, error };
  }
}

/** The stdin source over the given byte chunks, exactly as split. */
function sourceOf(chunks: Uint8Array[], config: { format?: 'jsonl' | 'lines'; maxLineBytes?: number } = {}): Source {
  const ctx = { baseDir: tmpdir(), logger: pino({ level: 'silent' }), stdin: Readable.from(chunks.map((c) => Buffer.from(c))), stdout: process.stdout };
  return builtinConnectors().source('stdin')!.create({ format: 'lines', ...config }, ctx);
}

/** `bytes` cut into chunks of `size`. */
function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

describe('LineSource decoding', () => {
  it('keeps multi-byte characters whole when a chunk boundary splits them', async () => {
    const line = 'é€😀'.repeat(50);
    for (const format of ['lines', 'jsonl'] as const) {
      const input = new TextEncoder().encode(format === 'lines' ? `${line}\n${line}\n` : `{"value":"${line}"}\n`);
      for (const size of [1, 2, 3, 5, 7]) {
        const { values, error } = await drain(sourceOf(chunked(input, size), { format }));
        expect(error).toBeUndefined();
        expect(values.map(text)).toEqual(format === 'lines' ? [line, line] : [line]);
      }
    }
  });

  it('keeps characters whole in a real file read in 64 KiB chunks, and from stdin', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-utf8-'));
    // 'é' is 2 bytes; one leading ASCII byte puts a character across every 64 KiB boundary.
    const value = 'a' + 'é'.repeat(100_000);
    await writeFile(join(dir, 'in.jsonl'), `{"value":"${value}"}\n`);
    const ctx = { baseDir: dir, logger: pino({ level: 'silent' }), stdin: Readable.from(chunked(Buffer.from(`{"value":"${value}"}\n`), 65_536)), stdout: process.stdout };
    for (const source of [builtinConnectors().source('file')!.create({ path: 'in.jsonl' }, ctx), builtinConnectors().source('stdin')!.create({}, ctx)]) {
      const { values, error } = await drain(source);
      expect(error).toBeUndefined();
      expect(values.map(text)).toEqual([value]);
    }
  });

  it('strips a UTF-8 byte order mark at the start of the input, even when it arrives split', async () => {
    const input = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"value":"first"}\n{"value":"second"}\n')]);
    for (const size of [1, 2, 64]) {
      const { values, error } = await drain(sourceOf(chunked(input, size), { format: 'jsonl' }));
      expect(error).toBeUndefined();
      expect(values.map(text)).toEqual(['first', 'second']);
    }
  });

  it('rejects a jsonl line that is not UTF-8, naming the line, instead of replacing bytes with U+FFFD', async () => {
    const input = Buffer.concat([Buffer.from('{"value":"ok"}\n{"value":"caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);
    const { values, error } = await drain(sourceOf([input], { format: 'jsonl' }));
    expect(values.map(text)).toEqual(['ok']);
    expect(hasCode(error, 'WEIR_CONNECTOR_IO')).toBe(true);
    expect((error as Error).message).toContain('stdin:2');
    expect((error as Error).message).toContain('not valid UTF-8 (first bad byte at offset 13)');
  });

  it('passes the bytes of a lines-format line through unchanged', async () => {
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0xff, 0x00]);
    const { values, error } = await drain(sourceOf([Buffer.concat([latin1, Buffer.from('\n')])]));
    expect(error).toBeUndefined();
    expect(values.map((v) => [...v])).toEqual([[...latin1]]);
  });
});

describe('LineSource failures keep the good records before them', () => {
  it('returns the records before a bad line, then throws on the next poll', async () => {
    const input = Buffer.from('{"value":"1"}\n{"value":"2"}\nnot json\n{"value":"4"}\n');
    const source = sourceOf([input], { format: 'jsonl' });
    const first = await source.poll(10);
    expect(recordsOf(first.records).map((r) => text(r.value))).toEqual(['1', '2']);
    expect(first.done).toBe(false);
    expect(new DataView(first.position!.buffer).getBigUint64(0, true)).toBe(2n);
    await expect(source.poll(10)).rejects.toThrow('stdin:3: the line is not valid JSON');
  });

  it('returns the lines read before a read error', async () => {
    const stream = new Readable({ read() {} });
    stream.push('{"value":"1"}\n{"value":"2"}\n');
    const ctx = { baseDir: tmpdir(), logger: pino({ level: 'silent' }), stdin: stream, stdout: process.stdout };
    const source = builtinConnectors().source('stdin')!.create({}, ctx);
    const first = await source.poll(10);
    expect(recordsOf(first.records).map((r) => text(r.value))).toEqual(['1', '2']);
    stream.destroy(new Error('EIO: i/o error'));
    const failed = await source.poll(10).catch((error: unknown) => error);
    expect(hasCode(failed, 'WEIR_CONNECTOR_IO')).toBe(true);
    expect((failed as Error).message).toContain('cannot read stdin after line 2: EIO');
  });

  it('stops at a line over maxLineBytes with WEIR_LIMIT_LINE_LENGTH, after the lines before it', async () => {
    const input = Buffer.from(`short\n${'x'.repeat(40)}\nafter\n`);
    for (const size of [4, 1000]) {
      const { values, error } = await drain(sourceOf(chunked(input, size), { maxLineBytes: 16 }));
      expect(values.map(text)).toEqual(['short']);
      expect(hasCode(error, 'WEIR_LIMIT_LINE_LENGTH')).toBe(true);
      expect((error as Error).message).toContain('stdin:2: the line is longer than 16 bytes');
      expect((error as Error).message).toContain('maxLineBytes');
    }
  });

  it('accepts a line of exactly maxLineBytes, with or without CRLF', async () => {
    const { values, error } = await drain(sourceOf(chunked(Buffer.from(`${'y'.repeat(16)}\r\n${'z'.repeat(16)}`), 3), { maxLineBytes: 16 }));
    expect(error).toBeUndefined();
    expect(values.map(text)).toEqual(['y'.repeat(16), 'z'.repeat(16)]);
  });
});
