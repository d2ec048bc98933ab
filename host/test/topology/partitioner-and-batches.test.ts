import { describe, expect, it } from 'vitest';
import { Partitioner, keyLane } from '../../src/topology/partitioner.js';
import { BatchChannel } from '../../src/topology/batch-channel.js';
import { BatchFormer } from '../../src/topology/batch-former.js';
import { textRecord } from '../../src/records/record.js';
import type { StreamRecord } from '../../src/records/record.js';
import type { ChannelItem } from '../../src/topology/barrier.js';

/** The record values of a batch the former handed out (these inputs carry no barrier). */
const texts = (item: ChannelItem | undefined): string[] => (item as StreamRecord[]).map(text);

const text = (r: StreamRecord) => new TextDecoder().decode(r.value);
const records = (...values: string[]) => values.map((v) => textRecord(v, { key: v.split('-')[0] }));

describe('Partitioner', () => {
  it('sends every record of a key to the same instance, in order, and spreads keys', () => {
    const partitioner = new Partitioner('key', 4);
    const batch = Array.from({ length: 400 }, (_, i) => textRecord(`k${i % 40}-${i}`, { key: `k${i % 40}` }));
    const parts = partitioner.split(batch);
    expect(parts.flat()).toHaveLength(400);
    for (const [lane, part] of parts.entries()) {
      for (const r of part) expect(keyLane(r.key!, 4)).toBe(lane);
      // Input order is kept inside a lane.
      const seqs = part.map((r) => Number(text(r).split('-')[1]));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(parts.filter((p) => p.length > 0).length).toBe(4);
  });

  it('spreads keyless records, rotates whole batches round-robin, and copies every batch to all under broadcast', () => {
    const keyless = new Partitioner('key', 3).split([textRecord('a'), textRecord('b'), textRecord('c')]);
    expect(keyless.map((p) => p.length)).toEqual([1, 1, 1]);
    const rr = new Partitioner('round-robin', 2);
    expect(rr.split(records('a-1', 'b-2')).map((p) => p.length)).toEqual([2, 0]);
    expect(rr.split(records('a-3')).map((p) => p.length)).toEqual([0, 1]);
    const all = new Partitioner('broadcast', 3).split(records('a-1', 'b-2'));
    expect(all.map((p) => p.map(text))).toEqual([['a-1', 'b-2'], ['a-1', 'b-2'], ['a-1', 'b-2']]);
  });
});

describe('BatchFormer', () => {
  const config = (maxRecords: number, lingerMs: number, maxBytes = 1 << 20) => ({ maxRecords, maxBytes, lingerMs });

  it('coalesces what is queued up to maxRecords and splits what is larger, in order', async () => {
    const channel = new BatchChannel(16, 1);
    await channel.push(records('a-1', 'a-2'));
    await channel.push(records('a-3'));
    await channel.push(records('a-4', 'a-5', 'a-6', 'a-7', 'a-8'));
    channel.closeProducer();
    const former = new BatchFormer(channel, config(3, 0));
    const out: string[][] = [];
    for (let b = await former.next(); b; b = await former.next()) out.push(texts(b));
    expect(out).toEqual([['a-1', 'a-2', 'a-3'], ['a-4', 'a-5', 'a-6'], ['a-7', 'a-8']]);
  });

  it('cuts batches at maxBytes', async () => {
    const channel = new BatchChannel(16, 1);
    await channel.push(records('a-1', 'a-2', 'a-3', 'a-4'));
    channel.closeProducer();
    // Each record is 3 value bytes + 1 key byte.
    const former = new BatchFormer(channel, config(100, 0, 8));
    expect(texts(await former.next())).toEqual(['a-1', 'a-2']);
    expect(texts(await former.next())).toEqual(['a-3', 'a-4']);
    expect(await former.next()).toBeUndefined();
  });

  it('waits for more records to fill a batch, and returns as soon as the input ends', async () => {
    const channel = new BatchChannel(16, 1);
    await channel.push(records('a-1'));
    // A linger of an hour: if the former waited it out rather than return at the end of
    // input, the test would time out. No clock is read.
    const former = new BatchFormer(channel, config(10, 3_600_000));
    const pending = former.next();
    await channel.push(records('a-2'));
    channel.closeProducer();
    expect(texts(await pending)).toEqual(['a-1', 'a-2']);

    const idle = new BatchChannel(16, 1);
    await idle.push(records('b-1'));
    const lone = await new BatchFormer(idle, config(10, 20)).next();
    expect(texts(lone)).toEqual(['b-1']);
  });

  it('does not linger with a batch that finds the node idle: it goes at once, with what is queued behind it', async () => {
    const channel = new BatchChannel(16, 1);
    // A linger of an hour: a former that waited it out would time the test out.
    const former = new BatchFormer(channel, config(10, 3_600_000));
    const first = former.next();
    await channel.push(records('a-1'));
    await channel.push(records('a-2'));
    expect(texts(await first)).toEqual(['a-1', 'a-2']);
    // The node was busy while these arrived: they wait for more, and the end of input releases them.
    await channel.push(records('a-3'));
    const second = former.next();
    await channel.push(records('a-4'));
    channel.closeProducer();
    expect(texts(await second)).toEqual(['a-3', 'a-4']);
  });
});
