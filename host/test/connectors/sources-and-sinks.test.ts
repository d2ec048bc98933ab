import { describe, expect, it } from 'vitest';
import { PassThrough, Readable } from 'node:stream';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { LineSource } from '../../src/connectors/line-streams.js';
import { GeneratorSource } from '../../src/connectors/generator.js';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { Source } from '../../src/connectors/connector.js';
import { textRecord } from '../../src/records/record.js';
import { recordsOf } from '../../src/records/batch.js';

async function drain(source: Source, max: number): Promise<string[]> {
  const values: string[] = [];
  for (;;) {
    const { records, done } = await source.poll(max);
    values.push(...recordsOf(records).map((r) => new TextDecoder().decode(r.value)));
    if (done) return values;
  }
}

describe('LineSource', () => {
  it('splits lines across chunk boundaries, strips CR and ends at EOF', async () => {
    const source = new LineSource(Readable.from(['a\r\nb', 'c\n', 'd']), { format: 'lines', name: 'mem' });
    expect(await drain(source, 2)).toEqual(['a', 'bc', 'd']);
  });

  it('skips blank lines in jsonl', async () => {
    const source = new LineSource(Readable.from(['{"value":"x"}\n\n{"value":"y"}\n']), { format: 'jsonl', name: 'mem' });
    expect(await drain(source, 10)).toEqual(['x', 'y']);
  });
});

describe('stdout sink', () => {
  it('writes lines-format values as their bytes, unchanged', async () => {
    const chunks: Buffer[] = [];
    const stdout = new PassThrough();
    stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    const ctx = { baseDir: tmpdir(), logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout };
    const sink = builtinConnectors().sink('stdout')!.create({ format: 'lines' }, ctx);
    await sink.write([{ key: undefined, value: new Uint8Array([0xff, 0x41, 0xe9]), headers: [], eventTime: undefined }, textRecord('ok')]);
    await sink.close();
    expect([...Buffer.concat(chunks)]).toEqual([0xff, 0x41, 0xe9, 0x0a, 0x6f, 0x6b, 0x0a]);
  });
});

describe('GeneratorSource', () => {
  const options = { count: 10, ratePerSec: 0, valueSize: 100, keyCardinality: 3, seed: 7, startTime: 1000, eventIntervalMs: 10 };

  it('produces exactly count records of valueSize bytes, deterministically', async () => {
    const a = await drain(new GeneratorSource(options), 4);
    const b = await drain(new GeneratorSource(options), 3);
    expect(a).toHaveLength(10);
    expect(a).toEqual(b);
    for (const v of a) expect(Buffer.byteLength(v)).toBe(100);
    expect(JSON.parse(a[9]!).seq).toBe(9);
  });

  it('assigns event times and keys within the cardinality', async () => {
    const { records } = await new GeneratorSource(options).poll(10);
    expect(recordsOf(records).map((r) => r.eventTime)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(1000 + i * 10)));
    const keys = new Set(recordsOf(records).map((r) => new TextDecoder().decode(r.key)));
    for (const k of keys) expect(['k0', 'k1', 'k2']).toContain(k);
  });

  it('writes event times before the epoch and beyond 32 bits exactly, and records without keys', async () => {
    for (const startTime of [-5_000_000_000_123, -1, 4_294_967_290, 8_000_000_000_000_000]) {
      const { records } = await new GeneratorSource({ ...options, startTime, eventIntervalMs: 3, keyCardinality: 0 }).poll(4);
      expect(recordsOf(records).map((r) => r.eventTime), `from ${startTime}`).toEqual(Array.from({ length: 4 }, (_, i) => BigInt(startTime + i * 3)));
      expect(recordsOf(records).every((r) => r.key === undefined)).toBe(true);
    }
  });
});

describe('file connector', () => {
  it('writes what it reads, creating folders', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-file-'));
    await writeFile(join(dir, 'in.jsonl'), '{"key":"a","value":"1"}\n{"value":"2","eventTime":3}\n');
    const ctx = { baseDir: dir, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: process.stdout };
    const registry = builtinConnectors();
    const source = registry.source('file')!.create({ path: 'in.jsonl' }, ctx);
    const sink = registry.sink('file')!.create({ path: 'nested/out.jsonl' }, ctx);
    const { records } = await source.poll(10);
    await sink.write(recordsOf(records));
    await sink.write([textRecord('3')]);
    await sink.close();
    expect(await readFile(join(dir, 'nested/out.jsonl'), 'utf8')).toBe('{"key":"a","value":"1"}\n{"value":"2","eventTime":3}\n{"value":"3"}\n');
  });
});
