import { describe, expect, it } from 'vitest';
import { PackedBatch, PackedBatchWriter } from '../../src/records/packed-batch.js';
import { concatBatches, countFitting, packedOf, recordsOf, sliceBatch } from '../../src/records/batch.js';
import { decodeBatch, encodeBatch } from '../../src/records/batch-codec.js';
import { batchBytes, textRecord } from '../../src/records/record.js';
import type { StreamRecord } from '../../src/records/record.js';
import { hasCode } from '../../src/errors/errors.js';
import { Partitioner } from '../../src/topology/partitioner.js';
import { splitByOutput } from '../../src/topology/node-outputs.js';

const records: StreamRecord[] = [
  textRecord('plain'),
  textRecord('with key', { key: 'k' }),
  textRecord('', { key: '', eventTime: 0n }),
  textRecord('headers', { headers: [['ünïcødé', 'v'], ['dup', '1'], ['dup', '2']], eventTime: -1700000000000n }),
  { key: new Uint8Array([0, 255]), value: new Uint8Array([1, 2, 3]), headers: [], eventTime: 9007199254740993n },
];
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const values = (batch: PackedBatch | StreamRecord[]) => recordsOf(batch).map((r) => text(r.value));
const pick = <T>(random: () => number, items: readonly T[]) => items[Math.floor(random() * items.length)]!;
const many = (n: number) => Array.from({ length: n }, (_, i) => textRecord(`v${i}`, { key: `k${i % 7}`, headers: i % 3 === 0 ? [['h', `${i}`]] : [] }));

describe('PackedBatch', () => {
  it('packs records and gives them back, with count, header count and payload bytes read off the buffer', () => {
    const batch = PackedBatch.fromRecords(records);
    expect(batch.length).toBe(5);
    expect(batch.headerCount).toBe(3);
    expect(batch.bytes).toEqual(encodeBatch(records));
    expect(batch.payloadBytes).toBe(batchBytes(records));
    expect(batch.records()).toEqual(records);
  });

  it('concatenates payloads, slices by record, and counts what fits the former limits as arrays do', () => {
    const a = many(10);
    const b = many(5);
    const joined = PackedBatch.concat([PackedBatch.fromRecords(a), PackedBatch.fromRecords(b)]);
    expect(joined.records()).toEqual([...a, ...b]);
    expect(joined.headerCount).toBe(PackedBatch.fromRecords([...a, ...b]).headerCount);
    expect(joined.slice(3, 12).records()).toEqual([...a, ...b].slice(3, 12));
    expect(joined.slice(3, 12).payloadBytes).toBe(batchBytes([...a, ...b].slice(3, 12)));
    for (const [start, maxRecords, maxBytes] of [[0, 100, 1 << 20], [0, 4, 1 << 20], [2, 100, 20], [5, 3, 1], [14, 10, 10]] as const) {
      expect(countFitting(joined, start, maxRecords, maxBytes), `${start} ${maxRecords} ${maxBytes}`).toBe(countFitting([...a, ...b], start, maxRecords, maxBytes));
    }
    // Mixed forms come out packed, arrays alone stay arrays.
    expect(recordsOf(concatBatches([a, PackedBatch.fromRecords(b)]))).toEqual([...a, ...b]);
    expect(Array.isArray(concatBatches([a, b]))).toBe(true);
    // Many parts (single-record batches arriving within a linger) join without overflowing the stack.
    const parts = Array.from({ length: 200_000 }, (_, i) => [a[i % a.length]!]);
    expect(concatBatches(parts)).toHaveLength(200_000);
    expect(values(sliceBatch(packedOf(a), 8, 10))).toEqual(['v8', 'v9']);
  });

  it('splits by key as the record path does, decoding nothing: same lanes, same order', () => {
    const batch = [...many(40), textRecord('no key 1'), textRecord('no key 2')];
    const fromRecords = new Partitioner('key', 4).split(batch);
    const fromPacked = new Partitioner('key', 4).split(PackedBatch.fromRecords(batch));
    expect(fromPacked.map((part) => recordsOf(part))).toEqual(fromRecords);
    // Broadcast and round-robin pass the packed batch whole.
    const whole = PackedBatch.fromRecords(batch);
    expect(new Partitioner('broadcast', 3).split(whole).every((part) => part === whole)).toBe(true);
    expect(new Partitioner('round-robin', 2).split(whole)[0]).toBe(whole);
  });

  it('routes a packed batch whole when no record names an output, and by record when one does', () => {
    const plain = PackedBatch.fromRecords(many(3));
    expect(plain.hasOutputHeader).toBe(false);
    expect(splitByOutput(plain).get('')).toBe(plain);
    const routed = PackedBatch.fromPluginOutput(encodeBatch([textRecord('a'), textRecord('b', { headers: [['weir-output', 'late']] })]), 1 << 20);
    expect(routed.hasOutputHeader).toBe(true);
    const groups = splitByOutput(routed);
    expect(values(groups.get('')!)).toEqual(['a']);
    expect(recordsOf(groups.get('late')!).map((r) => r.headers)).toEqual([[]]);
  });

  it('checks plugin output before anything reads it: lengths, trailing bytes, header names, decoded size', () => {
    const good = encodeBatch(records);
    expect(PackedBatch.fromPluginOutput(good, 1 << 20).records()).toEqual(records);
    const truncated = good.slice(0, good.length - 1);
    const trailing = new Uint8Array([...good, 0]);
    const badName = encodeBatch([textRecord('x', { headers: [['nm', 'v']] })]);
    badName.set([0xff, 0xfe], badName.indexOf(0x6e));
    for (const [bytes, code] of [[truncated, 'WEIR_PLUGIN_BAD_OUTPUT'], [trailing, 'WEIR_PLUGIN_BAD_OUTPUT'], [badName, 'WEIR_PLUGIN_BAD_OUTPUT'], [good, 'WEIR_LIMIT_OUTPUT']] as const) {
      let caught: unknown;
      try {
        PackedBatch.fromPluginOutput(bytes, bytes === good ? 100 : 1 << 20);
      } catch (error) {
        caught = error;
      }
      expect(hasCode(caught, code), String(caught)).toBe(true);
    }
  });
});

describe('PackedBatch.fromPluginOutput against the codec', () => {
  it('accepts exactly what decodeBatch accepts, with the same records, and refuses with the same code (seeded corruptions)', () => {
    let seed = 3;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const good = encodeBatch([...records, ...many(6)]);
    const outcome = (run: () => StreamRecord[]) => {
      try {
        return run();
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const bytes = good.slice(0, random() < 0.2 ? Math.floor(random() * good.length) : good.length);
      for (let k = 0; k < 1 + Math.floor(random() * 3); k++) bytes[Math.floor(random() * bytes.length)] = pick(random, [0, 1, 0xff, 0x18, Math.floor(random() * 256)]);
      const cap = random() < 0.1 ? 2000 : 1 << 20;
      const codec = outcome(() => decodeBatch(bytes, cap));
      const packed = outcome(() => PackedBatch.fromPluginOutput(bytes, cap).records());
      expect(packed, `case ${i}`).toEqual(codec);
      if (typeof codec === 'string') refused++;
    }
    expect(refused).toBeGreaterThan(500);
  });
});

describe('PackedBatchWriter', () => {
  it('writes fields straight into the batch and takes exactly what was written, reusing its buffer', () => {
    const writer = new PackedBatchWriter(64);
    for (const r of records.slice(0, 4)) {
      writer.begin();
      if (r.key) writer.keyBytes(r.key);
      else writer.noKey();
      writer.valueBytes(r.value);
      if (r.headers.length > 0) {
        writer.headers();
        for (const h of r.headers) writer.header(h.name, text(h.value));
      }
      writer.end(r.eventTime);
    }
    const first = writer.take();
    expect(first.bytes).toEqual(encodeBatch(records.slice(0, 4)));
    expect(first.records()).toEqual(records.slice(0, 4));
    writer.begin();
    writer.keyText('k');
    writer.valueText('second');
    writer.end(undefined);
    expect(writer.take().records()).toEqual([textRecord('second', { key: 'k' })]);
    // The first batch is its own copy: the writer's reuse did not touch it.
    expect(first.records()).toEqual(records.slice(0, 4));
  });

  it('drops a record that is half written, keeping the ones before it', () => {
    const writer = new PackedBatchWriter(64);
    writer.begin();
    writer.noKey();
    writer.valueText('kept');
    writer.end(1n);
    writer.begin();
    writer.keyText('x'.repeat(500));
    writer.valueText('dropped');
    writer.headers();
    writer.header('weir-output', 'late');
    writer.abort();
    const batch = writer.take();
    expect(batch.records()).toEqual([textRecord('kept', { eventTime: 1n })]);
    expect(batch.hasOutputHeader).toBe(false);
    expect(writer.take().length).toBe(0);
    writer.begin();
    writer.noKey();
    writer.valueText('routed');
    writer.headers();
    writer.header('weir-output', 'late');
    writer.end(undefined);
    expect(writer.take().hasOutputHeader).toBe(true);
  });

  it('gives back the memory of one huge record: after a small batch the buffer is small again', () => {
    const writer = new PackedBatchWriter(1024);
    const write = (value: string) => {
      writer.begin();
      writer.noKey();
      writer.valueText(value);
      writer.end(undefined);
      return writer.take();
    };
    expect(values(write('x'.repeat(1 << 20)))).toEqual(['x'.repeat(1 << 20)]);
    expect(writer.capacity).toBeGreaterThan(1 << 20);
    expect(values(write('small'))).toEqual(['small']);
    expect(writer.capacity).toBe(1024);
    expect(values(write('y'.repeat(300)))).toEqual(['y'.repeat(300)]);
    expect(writer.capacity).toBe(1024);
  });

  it('encodes lone surrogates as U+FFFD, as TextEncoder does', () => {
    const writer = new PackedBatchWriter();
    writer.begin();
    writer.keyText('\ud800k');
    writer.valueText('a\udc00');
    writer.end(undefined);
    const [record] = writer.take().records();
    expect([...record!.key!]).toEqual([...new TextEncoder().encode('\ud800k')]);
    expect([...record!.value]).toEqual([...new TextEncoder().encode('a\udc00')]);
  });
});
