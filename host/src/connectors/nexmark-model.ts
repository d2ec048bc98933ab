/**
 * The Nexmark event model and generator arithmetic, after Apache Beam's
 * `NexmarkGenerator`/`GeneratorConfig` and nexmark-flink's generator (its
 * fork): event number `n` is a person, an auction or a bid by `n % 50`
 * (1 : 3 : 46), person and auction ids rise from 1000 with the event number,
 * a bid goes to a hot auction (the first of the latest 100) with probability
 * 1 - 1/hotAuctionRatio and else to one of the `numInFlightAuctions` latest
 * (10 ids of lead), bidders and sellers likewise among `numActivePeople`,
 * prices are `round(10^(6u) * 100)` cents, and events are spaced
 * `1e6 / eventsPerSecond` microseconds apart in event time.
 *
 * Each event draws from its own random stream ({@link EventDraws}), seeded by
 * the run's seed and the event id (as Beam seeds `new Random(eventId)`), so
 * event `n` is the same whatever came before it: a resumed source needs
 * nothing but `n`. The stream is mulberry32, not Java's `Random`, so the
 * values follow Beam's distributions without being Beam's values bit for bit.
 *
 * The events themselves are written as JSON bytes by nexmark-batch.ts, which
 * draws their fields in the order given here.
 */

/** The generator's settings (Beam's `NexmarkConfiguration` names, Beam's defaults). */
export interface NexmarkConfig {
  seed: number;
  /** Event time of event 0 (ms since the epoch). */
  firstEventTime: number;
  /** Events per second of event time (Beam's `firstEventRate`). */
  eventsPerSecond: number;
  /** A bid goes to a hot auction with probability 1 - 1/hotAuctionRatio. */
  hotAuctionRatio: number;
  /** A bid comes from a hot bidder with probability 1 - 1/hotBiddersRatio. */
  hotBiddersRatio: number;
  /** An auction has a hot seller with probability 1 - 1/hotSellersRatio. */
  hotSellersRatio: number;
  /** Sellers and bidders are drawn from this many latest people. */
  numActivePeople: number;
  /** Bids go to this many latest auctions. */
  numInFlightAuctions: number;
  avgPersonByteSize: number;
  avgAuctionByteSize: number;
  avgBidByteSize: number;
}

/** Beam's defaults, with a fixed first event time so a run is deterministic. */
export const NEXMARK_DEFAULTS: NexmarkConfig = {
  seed: 1,
  firstEventTime: 1700000000000,
  eventsPerSecond: 10000,
  hotAuctionRatio: 2,
  hotBiddersRatio: 4,
  hotSellersRatio: 4,
  numActivePeople: 1000,
  numInFlightAuctions: 100,
  avgPersonByteSize: 200,
  avgAuctionByteSize: 500,
  avgBidByteSize: 100,
};

/** What an event is. */
export type EventKind = 'person' | 'auction' | 'bid';

export const PERSON_PROPORTION = 1;
export const AUCTION_PROPORTION = 3;
export const BID_PROPORTION = 46;
const TOTAL_PROPORTION = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION;

export const FIRST_PERSON_ID = 1000;
export const FIRST_AUCTION_ID = 1000;
const FIRST_CATEGORY_ID = 10;
const NUM_CATEGORIES = 5;
const PERSON_ID_LEAD = 10;
const AUCTION_ID_LEAD = 10;
const HOT_SELLER_RATIO = 100;
const HOT_AUCTION_RATIO = 100;
const HOT_BIDDER_RATIO = 100;
/** A bid comes through a hot channel with probability 1 - 1/HOT_CHANNELS_RATIO. */
export const HOT_CHANNELS_RATIO = 2;
/** Numbered channels: `channel-0` to `channel-9999`. */
export const CHANNELS_NUMBER = 10000;
export const HOT_CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'];

export const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
export const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
export const US_CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];
export const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];

/** Whether event `n` is a person, an auction or a bid. */
export function eventKind(n: number): EventKind {
  const offset = n % TOTAL_PROPORTION;
  if (offset < PERSON_PROPORTION) return 'person';
  if (offset < PERSON_PROPORTION + AUCTION_PROPORTION) return 'auction';
  return 'bid';
}

/** Event time of event `n` (Beam's `timestampForEvent`). */
export function timestampOf(n: number, config: NexmarkConfig): number {
  return config.firstEventTime + Math.floor(Math.floor(n * (1e6 / config.eventsPerSecond)) / 1000);
}

/** The base-0 id of the last person created at or before event `n`. */
export function lastBase0PersonId(n: number): number {
  const epoch = Math.floor(n / TOTAL_PROPORTION);
  const offset = Math.min(n % TOTAL_PROPORTION, PERSON_PROPORTION - 1);
  return epoch * PERSON_PROPORTION + offset;
}

/** The base-0 id of the last auction created at or before event `n` (-1 before the first). */
export function lastBase0AuctionId(n: number): number {
  let epoch = Math.floor(n / TOTAL_PROPORTION);
  let offset = n % TOTAL_PROPORTION;
  if (offset < PERSON_PROPORTION) {
    epoch--;
    offset = AUCTION_PROPORTION - 1;
  } else if (offset >= PERSON_PROPORTION + AUCTION_PROPORTION) {
    offset = AUCTION_PROPORTION - 1;
  } else {
    offset -= PERSON_PROPORTION;
  }
  return epoch * AUCTION_PROPORTION + offset;
}

/** The id of person event `n`. */
export const personId = (n: number): number => lastBase0PersonId(n) + FIRST_PERSON_ID;

/** The id of auction event `n`. */
export const auctionId = (n: number): number => lastBase0AuctionId(n) + FIRST_AUCTION_ID;

function nextBase0PersonId(n: number, r: EventDraws, config: NexmarkConfig): number {
  const numPeople = lastBase0PersonId(n) + 1;
  const active = Math.min(numPeople, config.numActivePeople);
  return numPeople - active + r.int(active + PERSON_ID_LEAD);
}

function nextBase0AuctionId(n: number, r: EventDraws, config: NexmarkConfig): number {
  const max = Math.max(lastBase0AuctionId(n), 0);
  const min = Math.max(max - config.numInFlightAuctions, 0);
  return min + r.int(max - min + 1 + AUCTION_ID_LEAD);
}

/** An auction's seller: hot (the first of the latest hundred people) or one of the active people. */
export function nextSeller(n: number, r: EventDraws, config: NexmarkConfig): number {
  return (r.int(config.hotSellersRatio) > 0 ? Math.floor(lastBase0PersonId(n) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO : nextBase0PersonId(n, r, config)) + FIRST_PERSON_ID;
}

/** An auction's category. */
export const nextCategory = (r: EventDraws): number => FIRST_CATEGORY_ID + r.int(NUM_CATEGORIES);

/** A bid's auction: hot (the first of the latest hundred auctions) or one of those in flight. */
export function nextBidAuction(n: number, r: EventDraws, config: NexmarkConfig): number {
  return (r.int(config.hotAuctionRatio) > 0 ? Math.floor(lastBase0AuctionId(n) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO : nextBase0AuctionId(n, r, config)) + FIRST_AUCTION_ID;
}

/** A bid's bidder: hot (the second person of the latest hundred, so hot bidders and hot sellers differ) or an active person. */
export function nextBidder(n: number, r: EventDraws, config: NexmarkConfig): number {
  return (r.int(config.hotBiddersRatio) > 0 ? Math.floor(lastBase0PersonId(n) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1 : nextBase0PersonId(n, r, config)) + FIRST_PERSON_ID;
}

/** How long an auction runs: up to twice the time until `numInFlightAuctions` more auctions exist. */
export function nextAuctionLengthMs(n: number, r: EventDraws, timestamp: number, config: NexmarkConfig): number {
  const eventsForAuctions = Math.floor((config.numInFlightAuctions * TOTAL_PROPORTION) / AUCTION_PROPORTION);
  const horizon = timestampOf(n + eventsForAuctions, config) - timestamp;
  return 1 + r.int(Math.max(horizon * 2, 1));
}

/** A price in cents, log-uniform in [100, 10^8). */
export function nextPrice(r: EventDraws): number {
  return Math.round(10 ** (r.next() * 6) * 100);
}

/**
 * Length of the filler that brings an event of `size` bytes to about
 * `average` bytes (within 20%); 0 without a draw when it is already larger.
 */
export function nextExtraLength(r: EventDraws, size: number, average: number): number {
  if (size > average) return 0;
  const desired = average - size;
  const delta = Math.round(desired * 0.2);
  return desired - delta + r.int(2 * delta + 1);
}

/** `Math.abs(Integer.reverse(number))`, as Beam writes channel ids. */
export function reverseBits(number: number): number {
  let x = number >>> 0;
  let reversed = 0;
  for (let i = 0; i < 32; i++, x >>>= 1) reversed = (reversed << 1) | (x & 1);
  return Math.abs(reversed | 0);
}

/** Random stream of one event: mulberry32 from a hash of the run's seed and the event number. */
export class EventDraws {
  #a = 0;

  /** Starts over as the stream of event `n` under `seed`. */
  seed(seed: number, n: number): this {
    this.#a = mix(mix(seed >>> 0) ^ mix(n >>> 0) ^ mix(Math.floor(n / 4294967296) + 0x9e3779b9));
    return this;
  }

  /** Uniform in [0, 1). */
  next(): number {
    const a = (this.#a = (this.#a + 0x6d2b79f5) >>> 0);
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, bound). */
  int(bound: number): number {
    return Math.floor(this.next() * bound);
  }

  /**
   * Writes `length` random characters into `buf` at `at` and returns where
   * they end: `special` one time in 13, else a letter a-z, each equally
   * likely. One draw per character: its first 13th picks `special`, the rest
   * is spread evenly over the letters. (The draws of {@link next}, with the
   * state in a local: storing it in the field per draw costs more than the
   * draw.)
   */
  text(buf: Uint8Array, at: number, length: number, special: number): number {
    let a = this.#a;
    for (let i = 0; i < length; i++) {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = Math.imul(a ^ (a >>> 15), a | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      const u = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 13;
      buf[at++] = u < 1 ? special : 97 + Math.floor(((u - 1) / 12) * 26);
    }
    this.#a = a;
    return at;
  }
}

/** A 32-bit finalizer (murmur3's fmix32). */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
