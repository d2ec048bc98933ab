// The nexmark source: deterministic for a seed, resumable from its position,
// and its stream has the proportions and skews of the Nexmark generator spec.
import { packedOf, recordsOf } from '../../src/records/batch.js';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { Source } from '../../src/connectors/connector.js';
import { hasCode } from '../../src/errors/errors.js';
import { compilePipeline } from '../../src/config/compile.js';
import type { StreamRecord } from '../../src/records/record.js';

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8');

function create(config: Record<string, unknown>, resumeFrom?: Uint8Array): Source {
  return builtinConnectors()
    .source('nexmark')!
    .create(config, { baseDir: tmpdir(), node: 'events', logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: process.stdout, resumeFrom });
}

async function drain(source: Source, max = 1000): Promise<StreamRecord[]> {
  const records: StreamRecord[] = [];
  for (;;) {
    const result = await source.poll(max);
    records.push(...recordsOf(result.records));
    if (result.done) return records;
  }
}

const lines = (records: StreamRecord[]) => records.map((r) => `${r.key ? text(r.key) : '-'} ${r.eventTime} ${text(r.value)}`);

describe('nexmark source', () => {
  it('produces the same events for the same seed, other events for another seed', async () => {
    const a = lines(await drain(create({ count: 2000, seed: 7 }), 300));
    const b = lines(await drain(create({ count: 2000, seed: 7 }), 1000));
    const c = lines(await drain(create({ count: 2000, seed: 8 }), 1000));
    expect(a).toHaveLength(2000);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('resumed from its position, goes on with the events an uninterrupted source produces', async () => {
    const whole = lines(await drain(create({ count: 1500 })));
    const first = create({ count: 1500 });
    const head = lines(recordsOf((await first.poll(620)).records));
    const position = first.position!()!;
    expect(JSON.parse(text(position))).toEqual({ v: 1, events: 620 });
    const tail = lines(await drain(create({ count: 1500 }, position)));
    expect([...head, ...tail]).toEqual(whole);
  });

  it('writes the bytes it always has: the same keys, values and event times for a seed, whatever the build', async () => {
    // SHA-256 (first 16 hex digits) of the packed batches of polls of 777, as the first
    // generator (string templates per event) wrote them; the configs reach every branch
    // (no extra, hot-only auctions, negative seed and event times, a seed above 2^32).
    const digest = async (config: Record<string, unknown>) => {
      const source = create(config);
      const hash = createHash('sha256');
      for (;;) {
        const { records, done } = await source.poll(777);
        hash.update(packedOf(records).bytes);
        if (done) return hash.digest('hex').slice(0, 16);
      }
    };
    expect(await digest({ count: 20000 })).toBe('f38344e19d8e4608');
    expect(await digest({ count: 20000, seed: 3, avgBidByteSize: 10, avgPersonByteSize: 5000, hotAuctionRatio: 1, numInFlightAuctions: 3, numActivePeople: 2 })).toBe('dc0f7dde3b931059');
    expect(await digest({ count: 20000, seed: -5, firstEventTime: -1000000, eventsPerSecond: 0.5 })).toBe('f5a1de66e62a3a56');
    expect(await digest({ count: 20000, seed: 4294967296 * 3 + 17, eventsPerSecond: 1e9, avgAuctionByteSize: 0 })).toBe('40314e1fd994fdc0');
  });

  it('refuses a position it did not write', () => {
    try {
      create({}, new TextEncoder().encode('{"v":1,"seq":3}'));
      expect.unreachable();
    } catch (error) {
      expect(hasCode(error, 'WEIR_CHECKPOINT_MISMATCH')).toBe(true);
    }
  });

  it('over 50,000 events: 1 person : 3 auctions : 46 bids per 50, ids, hot skews, prices and event times as the spec says', async () => {
    const records = await drain(create({ count: 50000, seed: 3 }), 1024);
    const events = records.map((r) => JSON.parse(text(r.value)) as Record<string, number | string>);
    const byType = (type: string) => events.filter((e) => e.type === type);
    const people = byType('person');
    const auctions = byType('auction');
    const bids = byType('bid');
    expect([people.length, auctions.length, bids.length]).toEqual([1000, 3000, 46000]);
    // Positions within each group of 50: person first, then three auctions, then bids.
    expect(events.slice(0, 50).map((e) => e.type)).toEqual(['person', 'auction', 'auction', 'auction', ...Array<string>(46).fill('bid')]);
    // Ids rise from 1000 one by one; keys are the ids (a bid's auction).
    expect(people.map((p) => p.id)).toEqual(people.map((_, i) => 1000 + i));
    expect(auctions.map((a) => a.id)).toEqual(auctions.map((_, i) => 1000 + i));
    records.forEach((r, i) => {
      const e = events[i]!;
      expect(text(r.key!)).toBe(String(e.type === 'bid' ? e.auction : e.id));
      expect(r.eventTime).toBe(BigInt(e.dateTime!));
    });
    // Event time: 10,000 events per second by default, from firstEventTime.
    expect(events[0]!.dateTime).toBe(1700000000000);
    expect(events[49999]!.dateTime).toBe(1700000000000 + 4999);
    // Hot auctions: a bid goes to the latest multiple of 100 with probability 1/2 (plus chance hits).
    const hotAuction = bids.filter((b, i) => (b.auction as number) - 1000 === Math.floor(latestAuctionBefore(bidIndex(i)) / 100) * 100).length / bids.length;
    expect(hotAuction).toBeGreaterThan(0.48);
    expect(hotAuction).toBeLessThan(0.56);
    // Hot bidders: the second person of the latest hundred, probability 3/4.
    const hotBidder = bids.filter((b, i) => (b.bidder as number) - 1000 === Math.floor(latestPersonBefore(bidIndex(i)) / 100) * 100 + 1).length / bids.length;
    expect(hotBidder).toBeGreaterThan(0.73);
    expect(hotBidder).toBeLessThan(0.78);
    // Every bid names an auction within the in-flight range (lead 10), every bidder a person near the active range.
    bids.forEach((b, i) => {
      const latest = latestAuctionBefore(bidIndex(i));
      expect(b.auction as number).toBeGreaterThanOrEqual(1000 + Math.max(latest - 100, 0));
      expect(b.auction as number).toBeLessThanOrEqual(1000 + latest + 10);
    });
    // Hot sellers: the first person of the latest hundred, probability 3/4.
    const hotSeller = auctions.filter((a) => (a.seller as number) - 1000 === Math.floor((Math.floor(((a.id as number) - 1000) / 3)) / 100) * 100).length / auctions.length;
    expect(hotSeller).toBeGreaterThan(0.72);
    expect(hotSeller).toBeLessThan(0.79);
    // Prices: log-uniform in [100, 10^8) cents, so about a sixth per decade.
    const prices = bids.map((b) => b.price as number);
    expect(Math.min(...prices)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...prices)).toBeLessThan(1e8);
    const belowThousand = prices.filter((p) => p < 1000).length / prices.length;
    expect(belowThousand).toBeGreaterThan(0.15);
    expect(belowThousand).toBeLessThan(0.18);
    // Half the bids through the four hot channels; bids average about 100 bytes.
    const hotChannels = bids.filter((b) => ['Google', 'Facebook', 'Baidu', 'Apple'].includes(b.channel as string)).length / bids.length;
    expect(hotChannels).toBeGreaterThan(0.48);
    expect(hotChannels).toBeLessThan(0.52);
    const averageExtra = bids.reduce((sum, b) => sum + (b.extra as string).length, 0) / bids.length;
    expect(averageExtra).toBeGreaterThan(65);
    expect(averageExtra).toBeLessThan(71);
    // Auctions: categories 10..14, reserve above the initial bid, expiry after creation.
    for (const a of auctions) {
      expect(a.category as number).toBeGreaterThanOrEqual(10);
      expect(a.category as number).toBeLessThanOrEqual(14);
      expect(a.reserve as number).toBeGreaterThan(a.initialBid as number);
      expect(a.expires as number).toBeGreaterThan(a.dateTime as number);
    }
  });

  it('its config is checked by its schema: every problem with its pointer', () => {
    const nodes = [
      { id: 'events', kind: 'source', connector: 'nexmark', config: { count: -1, rate: 5, eventsPerSecond: 0 } },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['events'] },
    ];
    const compiled = compilePipeline({ name: 'x', nodes }, { file: join(tmpdir(), 'pipeline.json'), connectors: builtinConnectors() });
    expect(compiled.ok).toBe(false);
    expect(compiled.ok ? [] : compiled.problems.map((p) => `${p.pointer} ${p.message}`)).toEqual([
      '/nodes/0/config unknown property "rate"',
      '/nodes/0/config/count must be >= 0',
      '/nodes/0/config/eventsPerSecond must be > 0',
    ]);
  });

  it('is unbounded with count 0', async () => {
    const source = create({ count: 0 });
    for (let i = 0; i < 3; i++) {
      const result = await source.poll(500);
      expect(result.records).toHaveLength(500);
      expect(result.done).toBe(false);
    }
  });
});

/** Event number of the i-th bid (46 bids follow 4 other events in each group of 50). */
const bidIndex = (i: number) => Math.floor(i / 46) * 50 + 4 + (i % 46);
/** Base-0 id of the latest auction at event n (n a bid's event number). */
const latestAuctionBefore = (n: number) => Math.floor(n / 50) * 3 + 2;
/** Base-0 id of the latest person at event n. */
const latestPersonBefore = (n: number) => Math.floor(n / 50);
