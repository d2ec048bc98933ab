/**
 * The Nexmark query pipelines of bench/nexmark/: each validates as it is,
 * and each, run on a small generated stream (the nexmark source, with the
 * events spread over a minute of event time so the windows close several
 * times), writes what a plain JS reference implementation of the query
 * computes from the same events (q0-q2 byte for byte, so the Rust and JS
 * builds of q1 and q2 write the same bytes).
 */
import { recordsOf } from '../../src/records/batch.js';
import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import { pipelinesClosedAfterEach, prepareTestPipeline } from '../fixtures/test-pipeline.js';

const root = join(import.meta.dirname, '../../..');
const queries = join(root, 'bench/nexmark');
const plugins = join(root, 'plugins');
const cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
const startPipeline = pipelinesClosedAfterEach();

/** The stream every query runs on: 4,000 events, 50 per second of event time (80 s). */
const SOURCE = { count: 4000, seed: 11, eventsPerSecond: 50 };

interface OutLine {
  key?: string;
  value: string;
  eventTime?: number;
}

interface Event {
  key: string;
  text: string;
  eventTime: number;
  json: Record<string, unknown> & { type: string };
}

/** The events of SOURCE, straight from the connector. */
async function events(): Promise<Event[]> {
  const source = builtinConnectors().source('nexmark')!.create(SOURCE, { baseDir: tmpdir(), logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: process.stdout });
  const out: Event[] = [];
  for (;;) {
    const { records, done } = await source.poll(1000);
    for (const r of recordsOf(records)) {
      const text = Buffer.from(r.value).toString('utf8');
      out.push({ key: Buffer.from(r.key!).toString('utf8'), text, eventTime: Number(r.eventTime), json: JSON.parse(text) as Event['json'] });
    }
    if (done) return out;
  }
}

const bidsOf = (all: Event[]) => all.filter((e) => e.json.type === 'bid') as Array<Event & { json: { auction: number; bidder: number; price: number; dateTime: number; extra: string } }>;

/** Runs bench/nexmark/<name>.json on SOURCE (with `config` for its query nodes), its sink swapped for a file; returns the lines written. */
async function runQuery(name: string, config: Record<string, unknown> = {}): Promise<OutLine[]> {
  const pipeline = JSON.parse(await readFile(join(queries, `${name}.json`), 'utf8')) as { plugins: { dir: string }; nodes: Array<Record<string, unknown>> };
  pipeline.plugins.dir = plugins;
  for (const node of pipeline.nodes) {
    if (node.connector === 'nexmark') node.config = SOURCE;
    else if (node.kind === 'processor' && node.config) node.config = { ...(node.config as object), ...config };
    else if (node.kind === 'sink') node.config = { path: 'out.jsonl' }, node.connector = 'file';
  }
  const dir = await mkdtemp(join(tmpdir(), `weir-nexmark-${name}-`));
  const { run } = await startPipeline({ dir, pipeline, cacheDir });
  expect((await run.done).status).toBe('completed');
  const text = await readFile(join(dir, 'out.jsonl'), 'utf8');
  return text === '' ? [] : text.trimEnd().split('\n').map((line) => JSON.parse(line) as OutLine);
}

const sorted = (lines: OutLine[]) => [...lines].sort((a, b) => (a.eventTime ?? 0) - (b.eventTime ?? 0) || a.value.localeCompare(b.value));

describe('nexmark query pipelines', () => {
  it('each validates as it is', async () => {
    const names = (await readdir(queries)).filter((f) => f.endsWith('.json')).sort();
    expect(names).toEqual(['q0.json', 'q1-js.json', 'q1.json', 'q2-js.json', 'q2.json', 'q5.json', 'q7.json']);
    for (const name of names) {
      const pipeline = JSON.parse(await readFile(join(queries, name), 'utf8')) as { plugins: { dir: string } };
      pipeline.plugins.dir = plugins;
      await expect(prepareTestPipeline({ pipeline, cacheDir })).resolves.toBeDefined();
    }
  });

  it('q0 passes every event through unchanged', async () => {
    const all = await events();
    expect(await runQuery('q0')).toEqual(all.map((e) => ({ key: e.key, value: e.text, eventTime: e.eventTime })));
  });

  it.each(['q1', 'q1-js'])('%s converts each bid price to euros (* 0.908, three decimals) and drops other events', async (name) => {
    const expected = bidsOf(await events()).map((b) => ({
      key: b.key,
      value: `{"auction":${b.json.auction},"bidder":${b.json.bidder},"price":${((b.json.price * 908) / 1000).toFixed(3)},"dateTime":${b.json.dateTime},"extra":${JSON.stringify(b.json.extra)}}`,
      eventTime: b.eventTime,
    }));
    expect(expected.length).toBeGreaterThan(3500);
    expect(await runQuery(name)).toEqual(expected);
  });

  const selected = (all: Event[], skip: number) =>
    bidsOf(all)
      .filter((b) => b.json.auction % skip === 0)
      .map((b) => ({ key: b.key, value: `{"auction":${b.json.auction},"price":${b.json.price}}`, eventTime: b.eventTime }));

  it.each(['q2', 'q2-js'])('%s selects the bids of every auctionSkip-th auction, as auction and price', async (name) => {
    const expected = selected(await events(), 10);
    expect(expected.length).toBeGreaterThan(100);
    expect(await runQuery(name, { auctionSkip: 10 })).toEqual(expected);
  });

  it('q2 selects auction % 123 == 0 as configured in its pipeline', async () => {
    expect(await runQuery('q2')).toEqual(selected(await events(), 123));
  });

  it('q5 gives, per sliding window (10 s every 2 s), the auctions with the most bids', async () => {
    const counts = new Map<number, Map<number, number>>();
    for (const b of bidsOf(await events())) {
      for (let start = Math.floor(b.eventTime / 2000) * 2000; start > b.eventTime - 10000; start -= 2000) {
        const perAuction = counts.get(start) ?? new Map<number, number>();
        counts.set(start, perAuction.set(b.json.auction, (perAuction.get(b.json.auction) ?? 0) + 1));
      }
    }
    const expected: OutLine[] = [];
    for (const [start, perAuction] of counts) {
      const most = Math.max(...perAuction.values());
      for (const [auction, count] of perAuction) {
        if (count === most) expected.push({ value: JSON.stringify({ auction, count, start, end: start + 10000 }), eventTime: start + 10000 - 1 });
      }
    }
    expect(counts.size).toBeGreaterThan(25);
    expect(sorted(await runQuery('q5'))).toEqual(sorted(expected));
  });

  it('q7 gives, per tumbling 10 s window, the bids with the highest price', async () => {
    const windows = new Map<number, Array<Event & { json: { price: number } }>>();
    for (const b of bidsOf(await events())) {
      const start = Math.floor(b.eventTime / 10000) * 10000;
      windows.set(start, [...(windows.get(start) ?? []), b]);
    }
    const expected: OutLine[] = [];
    for (const [start, bids] of windows) {
      const highest = Math.max(...bids.map((b) => b.json.price));
      for (const b of bids) if (b.json.price === highest) expected.push({ value: b.text, eventTime: start + 10000 - 1 });
    }
    expect(windows.size).toBeGreaterThan(5);
    expect(sorted(await runQuery('q7'))).toEqual(sorted(expected));
  });
});
