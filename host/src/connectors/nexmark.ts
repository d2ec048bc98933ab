/**
 * The `nexmark` source: the Nexmark benchmark's stream of people, auctions
 * and bids (generator in nexmark-model.ts, written straight into packed
 * batches by nexmark-batch.ts), deterministic for a seed.
 *
 * Each event is one record whose value is a flat JSON object with `type`
 * first (`person`, `auction` or `bid`) and the Beam/Flink field names:
 *
 * - `{"type":"person","id","name","emailAddress","creditCard","city","state","dateTime","extra"}`, key: the person id;
 * - `{"type":"auction","id","itemName","description","initialBid","reserve","dateTime","expires","seller","category","extra"}`, key: the auction id;
 * - `{"type":"bid","auction","bidder","price","channel","url","dateTime","extra"}`, key: the auction id.
 *
 * Ids, prices (cents) and times (ms since the epoch) are integers; the event
 * time is `dateTime`; keys are the ids in decimal. Its position is the number
 * of events produced, `{"v":1,"events":N}`: resumed from it, the source goes
 * on with exactly the events an uninterrupted one would have produced.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Source, SourcePoll, SourcePosition, SourceSpec } from './connector.js';
import { decodePosition, encodePosition } from './positions.js';
import { NexmarkBatchWriter } from './nexmark-batch.js';
import { NEXMARK_DEFAULTS, type NexmarkConfig } from './nexmark-model.js';

/** Settings of a {@link NexmarkSource}. */
export interface NexmarkOptions extends NexmarkConfig {
  /** Events to produce; 0 means until the pipeline is stopped. */
  count: number;
  /** Events per second of wall-clock time; 0 means as fast as the pipeline takes them. */
  ratePerSec: number;
  /** Events already produced before (a resumed run). */
  startEvent?: number;
}

/** Produces Nexmark events. */
export class NexmarkSource implements Source {
  readonly #options: NexmarkOptions;
  readonly #started = performance.now();
  readonly #startEvent: number;
  readonly #events: NexmarkBatchWriter;
  #next: number;

  constructor(options: NexmarkOptions) {
    this.#options = options;
    this.#events = new NexmarkBatchWriter(options);
    this.#startEvent = this.#next = options.startEvent ?? 0;
  }

  /** `{"v":1,"events":N}`: the events produced so far. */
  position(): SourcePosition {
    return encodePosition({ events: this.#next });
  }

  async poll(max: number): Promise<SourcePoll> {
    const { count, ratePerSec } = this.#options;
    let n = count === 0 ? max : Math.max(0, Math.min(max, count - this.#next));
    if (ratePerSec > 0) {
      const allowed = Math.floor(((performance.now() - this.#started) / 1000) * ratePerSec) - (this.#next - this.#startEvent);
      if (allowed <= 0) {
        await sleep(Math.max(1, Math.ceil(1000 / ratePerSec)));
        return { records: [], position: undefined, done: false };
      }
      n = Math.min(n, allowed);
    }
    const records = this.#events.batch(this.#next, n);
    this.#next += n;
    return { records, position: this.position(), done: count !== 0 && this.#next >= count };
  }

  async close(): Promise<void> {}
}

const integer = (description: string, minimum: number, fallback: number) => ({ type: 'integer', minimum, default: fallback, description });

/** The `nexmark` connector spec. */
export const nexmarkSource: SourceSpec = {
  kind: 'source',
  name: 'nexmark',
  description: 'produces the Nexmark benchmark stream: people, auctions and bids as JSON (1 : 3 : 46), deterministic for a seed',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      count: integer('events to produce; 0 = until stopped', 0, 100000),
      ratePerSec: { type: 'number', minimum: 0, default: 0, description: 'events per second of wall-clock time; 0 = unthrottled' },
      seed: { type: 'integer', default: NEXMARK_DEFAULTS.seed, description: 'the same seed gives the same events' },
      firstEventTime: { type: 'integer', default: NEXMARK_DEFAULTS.firstEventTime, description: 'event time of the first event (ms since the epoch)' },
      eventsPerSecond: { type: 'number', exclusiveMinimum: 0, default: NEXMARK_DEFAULTS.eventsPerSecond, description: 'events per second of event time (their spacing)' },
      hotAuctionRatio: integer('a bid goes to a hot auction with probability 1 - 1/ratio', 1, NEXMARK_DEFAULTS.hotAuctionRatio),
      hotBiddersRatio: integer('a bid comes from a hot bidder with probability 1 - 1/ratio', 1, NEXMARK_DEFAULTS.hotBiddersRatio),
      hotSellersRatio: integer('an auction has a hot seller with probability 1 - 1/ratio', 1, NEXMARK_DEFAULTS.hotSellersRatio),
      numActivePeople: integer('sellers and bidders come from this many latest people', 1, NEXMARK_DEFAULTS.numActivePeople),
      numInFlightAuctions: integer('bids go to this many latest auctions', 1, NEXMARK_DEFAULTS.numInFlightAuctions),
      avgPersonByteSize: integer('average person size the extra field pads to', 0, NEXMARK_DEFAULTS.avgPersonByteSize),
      avgAuctionByteSize: integer('average auction size the extra field pads to', 0, NEXMARK_DEFAULTS.avgAuctionByteSize),
      avgBidByteSize: integer('average bid size the extra field pads to', 0, NEXMARK_DEFAULTS.avgBidByteSize),
    },
  },
  create: (config, ctx) => {
    const setting = (name: keyof NexmarkConfig) => (config[name] as number | undefined) ?? NEXMARK_DEFAULTS[name];
    return new NexmarkSource({
      count: (config.count as number | undefined) ?? 100000,
      ratePerSec: (config.ratePerSec as number | undefined) ?? 0,
      seed: setting('seed'),
      firstEventTime: setting('firstEventTime'),
      eventsPerSecond: setting('eventsPerSecond'),
      hotAuctionRatio: setting('hotAuctionRatio'),
      hotBiddersRatio: setting('hotBiddersRatio'),
      hotSellersRatio: setting('hotSellersRatio'),
      numActivePeople: setting('numActivePeople'),
      numInFlightAuctions: setting('numInFlightAuctions'),
      avgPersonByteSize: setting('avgPersonByteSize'),
      avgAuctionByteSize: setting('avgAuctionByteSize'),
      avgBidByteSize: setting('avgBidByteSize'),
      startEvent: ctx.resumeFrom ? decodePosition(ctx.resumeFrom, { events: 'count' }, `nexmark source${ctx.node ? ` "${ctx.node}"` : ''}`, ctx.node).events : 0,
    });
  },
};
