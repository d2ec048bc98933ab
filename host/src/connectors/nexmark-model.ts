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
 * Each event draws from its own random stream, seeded by the run's seed and
 * the event id (as Beam seeds `new Random(eventId)`), so event `n` is the same
 * whatever came before it: a resumed source needs nothing but `n`. The stream
 * is mulberry32, not Java's `Random`, so the values follow Beam's
 * distributions without being Beam's values bit for bit.
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

export interface Person {
  type: 'person';
  id: number;
  name: string;
  emailAddress: string;
  creditCard: string;
  city: string;
  state: string;
  dateTime: number;
  extra: string;
}

export interface Auction {
  type: 'auction';
  id: number;
  itemName: string;
  description: string;
  initialBid: number;
  reserve: number;
  dateTime: number;
  expires: number;
  seller: number;
  category: number;
  extra: string;
}

export interface Bid {
  type: 'bid';
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  url: string;
  dateTime: number;
  extra: string;
}

/** One Nexmark event. */
export type NexmarkEvent = Person | Auction | Bid;

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
const HOT_CHANNELS_RATIO = 2;
const CHANNELS_NUMBER = 10000;
const HOT_CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'];

const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
const US_CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];
const US_STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];

/** Draws from one event's random stream. */
interface Draws {
  /** Uniform in [0, 1). */
  next(): number;
}

/** An integer in [0, bound). */
const nextInt = (r: Draws, bound: number) => Math.floor(r.next() * bound);

/** Event `n` of the stream `config` describes. */
export function nexmarkEvent(n: number, config: NexmarkConfig): NexmarkEvent {
  const r = eventDraws(config.seed, n);
  const timestamp = timestampOf(n, config);
  const offset = n % TOTAL_PROPORTION;
  if (offset < PERSON_PROPORTION) return nextPerson(n, r, timestamp, config);
  if (offset < PERSON_PROPORTION + AUCTION_PROPORTION) return nextAuction(n, r, timestamp, config);
  return nextBid(n, r, timestamp, config);
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

function nextBase0PersonId(n: number, r: Draws, config: NexmarkConfig): number {
  const numPeople = lastBase0PersonId(n) + 1;
  const active = Math.min(numPeople, config.numActivePeople);
  return numPeople - active + nextInt(r, active + PERSON_ID_LEAD);
}

function nextBase0AuctionId(n: number, r: Draws, config: NexmarkConfig): number {
  const max = Math.max(lastBase0AuctionId(n), 0);
  const min = Math.max(max - config.numInFlightAuctions, 0);
  return min + nextInt(r, max - min + 1 + AUCTION_ID_LEAD);
}

function nextPerson(n: number, r: Draws, timestamp: number, config: NexmarkConfig): Person {
  const name = `${FIRST_NAMES[nextInt(r, FIRST_NAMES.length)]} ${LAST_NAMES[nextInt(r, LAST_NAMES.length)]}`;
  const emailAddress = `${nextString(r, 7)}@${nextString(r, 5)}.com`;
  const creditCard = [0, 1, 2, 3].map(() => String(nextInt(r, 10000)).padStart(4, '0')).join(' ');
  const city = US_CITIES[nextInt(r, US_CITIES.length)]!;
  const state = US_STATES[nextInt(r, US_STATES.length)]!;
  const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length;
  const extra = nextExtra(r, size, config.avgPersonByteSize);
  return { type: 'person', id: lastBase0PersonId(n) + FIRST_PERSON_ID, name, emailAddress, creditCard, city, state, dateTime: timestamp, extra };
}

function nextAuction(n: number, r: Draws, timestamp: number, config: NexmarkConfig): Auction {
  const seller =
    (nextInt(r, config.hotSellersRatio) > 0
      ? Math.floor(lastBase0PersonId(n) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO
      : nextBase0PersonId(n, r, config)) + FIRST_PERSON_ID;
  const category = FIRST_CATEGORY_ID + nextInt(r, NUM_CATEGORIES);
  const initialBid = nextPrice(r);
  const expires = timestamp + nextAuctionLengthMs(n, r, timestamp, config);
  const itemName = nextString(r, 20);
  const description = nextString(r, 100);
  const reserve = initialBid + nextPrice(r);
  const size = 8 + itemName.length + description.length + 8 + 8 + 8 + 8 + 8;
  const extra = nextExtra(r, size, config.avgAuctionByteSize);
  return { type: 'auction', id: lastBase0AuctionId(n) + FIRST_AUCTION_ID, itemName, description, initialBid, reserve, dateTime: timestamp, expires, seller, category, extra };
}

function nextBid(n: number, r: Draws, timestamp: number, config: NexmarkConfig): Bid {
  const auction =
    (nextInt(r, config.hotAuctionRatio) > 0
      ? Math.floor(lastBase0AuctionId(n) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
      : nextBase0AuctionId(n, r, config)) + FIRST_AUCTION_ID;
  // The second person of the latest hundred, so hot bidders and hot sellers differ.
  const bidder =
    (nextInt(r, config.hotBiddersRatio) > 0
      ? Math.floor(lastBase0PersonId(n) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
      : nextBase0PersonId(n, r, config)) + FIRST_PERSON_ID;
  const price = nextPrice(r);
  let channel: string;
  let url: string;
  if (nextInt(r, HOT_CHANNELS_RATIO) > 0) {
    const i = nextInt(r, HOT_CHANNELS.length);
    channel = HOT_CHANNELS[i]!;
    url = HOT_URLS[i]!;
  } else {
    const number = nextInt(r, CHANNELS_NUMBER);
    channel = `channel-${number}`;
    url = channelUrl(number);
  }
  const extra = nextExtra(r, 8 + 8 + 8 + 8, config.avgBidByteSize);
  return { type: 'bid', auction, bidder, price, channel, url, dateTime: timestamp, extra };
}

/** How long an auction runs: up to twice the time until `numInFlightAuctions` more auctions exist. */
function nextAuctionLengthMs(n: number, r: Draws, timestamp: number, config: NexmarkConfig): number {
  const eventsForAuctions = Math.floor((config.numInFlightAuctions * TOTAL_PROPORTION) / AUCTION_PROPORTION);
  const horizon = timestampOf(n + eventsForAuctions, config) - timestamp;
  return 1 + nextInt(r, Math.max(horizon * 2, 1));
}

/** A price in cents, log-uniform in [100, 10^8). */
function nextPrice(r: Draws): number {
  return Math.round(10 ** (r.next() * 6) * 100);
}

/** 3 to maxLength - 1 characters, letters with a space about one in 13, trimmed. */
function nextString(r: Draws, maxLength: number, special = ' '): string {
  return randomText(r, 3 + nextInt(r, maxLength - 3), special.charCodeAt(0)).trim();
}

/** Exactly `length` characters, letters with a space about one in 13. */
function nextExactString(r: Draws, length: number): string {
  return randomText(r, length, 0x20);
}

/**
 * `length` characters: `special` one time in 13, else a letter a-z, each
 * equally likely. One draw per character: its first 13th picks `special`,
 * the rest is spread evenly over the letters.
 */
function randomText(r: Draws, length: number, special: number): string {
  const codes = new Array<number>(length);
  for (let i = 0; i < length; i++) {
    const u = r.next() * 13;
    codes[i] = u < 1 ? special : 97 + Math.floor(((u - 1) / 12) * 26);
  }
  return String.fromCharCode(...codes);
}

/** Filler that brings an event to about `average` bytes (within 20%). */
function nextExtra(r: Draws, size: number, average: number): string {
  if (size > average) return '';
  const desired = average - size;
  const delta = Math.round(desired * 0.2);
  return nextExactString(r, desired - delta + nextInt(r, 2 * delta + 1));
}

// The urls of hot channels and of numbered channels are fixed per run in
// Beam (drawn once); here they are a pure function of the channel, the same
// for every run (HOT_URLS, at the end of the module, once its functions exist).
function channelUrl(number: number): string {
  const r = eventDraws(0xc4a2, number);
  const url = baseUrl(r);
  return nextInt(r, 10) > 0 ? `${url}&channel_id=${reverseBits(number)}` : url;
}

function baseUrl(r: Draws): string {
  return `https://www.nexmark.com/${nextString(r, 5, '_')}/${nextString(r, 5, '_')}/${nextString(r, 5, '_')}/item.htm?query=1`;
}

/** `Math.abs(Integer.reverse(number))`, as Beam writes channel ids. */
function reverseBits(number: number): number {
  let x = number >>> 0;
  let reversed = 0;
  for (let i = 0; i < 32; i++, x >>>= 1) reversed = (reversed << 1) | (x & 1);
  return Math.abs(reversed | 0);
}

/** The random stream of event `n` under `seed`: mulberry32 from a hash of both. */
function eventDraws(seed: number, n: number): Draws {
  let a = mix(mix(seed >>> 0) ^ mix(n >>> 0) ^ mix(Math.floor(n / 4294967296) + 0x9e3779b9));
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** A 32-bit finalizer (murmur3's fmix32). */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The url of each hot channel. */
const HOT_URLS: readonly string[] = HOT_CHANNELS.map((_, i) => baseUrl(eventDraws(0x5eed, -1 - i)));
