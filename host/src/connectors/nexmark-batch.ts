/**
 * Writes Nexmark events (nexmark-model.ts) as packed batches
 * (records/batch-codec.ts), one record per event, straight into the batch's
 * buffer as the event's fields are drawn (no string or object per event):
 * the value is the event's JSON text, the key its id in decimal (a bid's: its
 * auction), the event time its `dateTime`, no headers.
 *
 * The JSON is flat, `type` first, with the Beam/Flink field names (listed in
 * nexmark.ts). Its texts are ASCII letters, digits, spaces and URL
 * punctuation, so nothing needs escaping.
 */
import { PackedBatch } from '../records/packed-batch.js';
import {
  CHANNELS_NUMBER,
  EventDraws,
  FIRST_NAMES,
  HOT_CHANNELS,
  HOT_CHANNELS_RATIO,
  LAST_NAMES,
  US_CITIES,
  US_STATES,
  auctionId,
  eventKind,
  nextAuctionLengthMs,
  nextBidAuction,
  nextBidder,
  nextCategory,
  nextExtraLength,
  nextPrice,
  nextSeller,
  personId,
  reverseBits,
  timestampOf,
  type NexmarkConfig,
} from './nexmark-model.js';

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

const SPACE = 0x20;
const UNDERSCORE = 0x5f;
const AT_SIGN = ascii('@');
const SLASH = ascii('/');
const DOT_COM = ascii('.com');
const PERSON_ID = ascii('{"type":"person","id":');
const NAME = ascii(',"name":"');
const EMAIL = ascii('","emailAddress":"');
const CREDIT_CARD = ascii('","creditCard":"');
const CITY = ascii('","city":"');
const STATE = ascii('","state":"');
const AUCTION_ID = ascii('{"type":"auction","id":');
const ITEM_NAME = ascii(',"itemName":"');
const DESCRIPTION = ascii('","description":"');
const INITIAL_BID = ascii('","initialBid":');
const RESERVE = ascii(',"reserve":');
const EXPIRES = ascii(',"expires":');
const SELLER = ascii(',"seller":');
const CATEGORY = ascii(',"category":');
const BID_AUCTION = ascii('{"type":"bid","auction":');
const BIDDER = ascii(',"bidder":');
const PRICE = ascii(',"price":');
const CHANNEL = ascii(',"channel":"');
const CHANNEL_PREFIX = ascii('channel-');
const URL = ascii('","url":"');
const URL_BASE = ascii('https://www.nexmark.com/');
const URL_END = ascii('/item.htm?query=1');
const CHANNEL_ID = ascii('&channel_id=');
const QUOTED_DATE_TIME = ascii('","dateTime":');
const DATE_TIME = ascii(',"dateTime":');
const EXTRA = ascii(',"extra":"');
const END = ascii('"}');
const FIRST_NAME_BYTES = FIRST_NAMES.map(ascii);
const LAST_NAME_BYTES = LAST_NAMES.map(ascii);
const CITY_BYTES = US_CITIES.map(ascii);
const STATE_BYTES = US_STATES.map(ascii);
const HOT_CHANNEL_BYTES = HOT_CHANNELS.map(ascii);

/** Bytes an integer takes at most in decimal (`-1.7976931348623157e+308` beyond the safe ones). */
const MAX_NUMBER_BYTES = 24;

/** Packed record flags: key and event time present. */
const KEY_AND_EVENT_TIME = 3;

/** Writes the events of one Nexmark stream; one per source (it reuses its buffer). */
export class NexmarkBatchWriter {
  readonly #config: NexmarkConfig;
  readonly #draws = new EventDraws();
  /** A numbered channel's url draws from a stream of its own. */
  readonly #urlDraws = new EventDraws();
  /** The url of each hot channel (fixed: drawn from streams of their own). */
  readonly #hotUrls: Uint8Array[];
  /** The batch being written, up to `#at`. */
  #buf = new Uint8Array(64 * 1024);
  #view = new DataView(this.#buf.buffer);
  #at = 0;

  constructor(config: NexmarkConfig) {
    this.#config = config;
    // Written at the start of the buffer, then copied out.
    this.#hotUrls = HOT_CHANNELS.map((_, i) => {
      this.#at = 0;
      this.#baseUrl(this.#urlDraws.seed(0x5eed, -1 - i));
      return this.#buf.slice(0, this.#at);
    });
  }

  /** Events `first` to `first + count - 1` as one batch. */
  batch(first: number, count: number): PackedBatch {
    if (count === 0) return PackedBatch.empty();
    this.#at = 4;
    for (let n = first; n < first + count; n++) this.#event(n);
    this.#view.setUint32(0, count, true);
    return PackedBatch.trusted(this.#buf.slice(0, this.#at), count, 0, false);
  }

  /** Event `n` as a record: flags, event time, key, value, no headers. */
  #event(n: number): void {
    const config = this.#config;
    const r = this.#draws.seed(config.seed, n);
    const timestamp = timestampOf(n, config);
    this.#reserve(24 + MAX_NUMBER_BYTES);
    const view = this.#view;
    const start = this.#at;
    view.setUint32(start, KEY_AND_EVENT_TIME, true);
    // The i64 event time as two words (no BigInt per record); floor keeps two's complement for negative times.
    const high = Math.floor(timestamp / 0x100000000);
    view.setUint32(start + 4, timestamp - high * 0x100000000, true);
    view.setInt32(start + 8, high, true);
    // The key: a person's or an auction's id, a bid's auction (its first draw).
    const kind = eventKind(n);
    const key = kind === 'person' ? personId(n) : kind === 'auction' ? auctionId(n) : nextBidAuction(n, r, config);
    const keyEnd = writeInteger(this.#buf, start + 16, key);
    view.setUint32(start + 12, keyEnd - start - 16, true);
    const valueStart = keyEnd + 4;
    this.#at = valueStart;
    if (kind === 'bid') this.#bid(n, r, timestamp, key);
    else if (kind === 'auction') this.#auction(n, r, timestamp, key);
    else this.#person(n, r, timestamp, key);
    this.#view.setUint32(keyEnd, this.#at - valueStart, true);
    this.#reserve(4);
    this.#view.setUint32(this.#at, 0, true);
    this.#at += 4;
  }

  /** `{"type":"person","id","name","emailAddress","creditCard","city","state","dateTime","extra"}`. */
  #person(n: number, r: EventDraws, timestamp: number, id: number): void {
    this.#bytes(PERSON_ID);
    this.#integer(id);
    this.#bytes(NAME);
    const first = FIRST_NAME_BYTES[r.int(FIRST_NAME_BYTES.length)]!;
    const last = LAST_NAME_BYTES[r.int(LAST_NAME_BYTES.length)]!;
    this.#bytes(first);
    this.#byte(SPACE);
    this.#bytes(last);
    let size = 8 + first.length + 1 + last.length;
    this.#bytes(EMAIL);
    size += this.#string(r, 7, SPACE);
    this.#bytes(AT_SIGN);
    size += this.#string(r, 5, SPACE);
    this.#bytes(DOT_COM);
    size += 1 + DOT_COM.length;
    this.#bytes(CREDIT_CARD);
    for (let i = 0; i < 4; i++) {
      if (i > 0) this.#byte(SPACE);
      this.#fourDigits(r.int(10000));
    }
    size += 4 * 4 + 3;
    this.#bytes(CITY);
    const city = CITY_BYTES[r.int(CITY_BYTES.length)]!;
    this.#bytes(city);
    this.#bytes(STATE);
    const state = STATE_BYTES[r.int(STATE_BYTES.length)]!;
    this.#bytes(state);
    size += city.length + state.length;
    this.#bytes(QUOTED_DATE_TIME);
    this.#integer(timestamp);
    this.#extra(r, size, this.#config.avgPersonByteSize);
  }

  /** `{"type":"auction","id","itemName","description","initialBid","reserve","dateTime","expires","seller","category","extra"}`. */
  #auction(n: number, r: EventDraws, timestamp: number, id: number): void {
    const config = this.#config;
    const seller = nextSeller(n, r, config);
    const category = nextCategory(r);
    const initialBid = nextPrice(r);
    const expires = timestamp + nextAuctionLengthMs(n, r, timestamp, config);
    this.#bytes(AUCTION_ID);
    this.#integer(id);
    this.#bytes(ITEM_NAME);
    let size = 8 + this.#string(r, 20, SPACE);
    this.#bytes(DESCRIPTION);
    size += this.#string(r, 100, SPACE);
    const reserve = initialBid + nextPrice(r);
    size += 8 + 8 + 8 + 8 + 8;
    this.#bytes(INITIAL_BID);
    this.#integer(initialBid);
    this.#bytes(RESERVE);
    this.#integer(reserve);
    this.#bytes(DATE_TIME);
    this.#integer(timestamp);
    this.#bytes(EXPIRES);
    this.#integer(expires);
    this.#bytes(SELLER);
    this.#integer(seller);
    this.#bytes(CATEGORY);
    this.#integer(category);
    this.#extra(r, size, config.avgAuctionByteSize);
  }

  /** `{"type":"bid","auction","bidder","price","channel","url","dateTime","extra"}`, its auction drawn already. */
  #bid(n: number, r: EventDraws, timestamp: number, auction: number): void {
    const config = this.#config;
    const bidder = nextBidder(n, r, config);
    const price = nextPrice(r);
    this.#bytes(BID_AUCTION);
    this.#integer(auction);
    this.#bytes(BIDDER);
    this.#integer(bidder);
    this.#bytes(PRICE);
    this.#integer(price);
    this.#bytes(CHANNEL);
    if (r.int(HOT_CHANNELS_RATIO) > 0) {
      const i = r.int(HOT_CHANNEL_BYTES.length);
      this.#bytes(HOT_CHANNEL_BYTES[i]!);
      this.#bytes(URL);
      this.#bytes(this.#hotUrls[i]!);
    } else {
      const number = r.int(CHANNELS_NUMBER);
      this.#bytes(CHANNEL_PREFIX);
      this.#integer(number);
      this.#bytes(URL);
      this.#channelUrl(number);
    }
    this.#bytes(QUOTED_DATE_TIME);
    this.#integer(timestamp);
    this.#extra(r, 8 + 8 + 8 + 8, config.avgBidByteSize);
  }

  /**
   * The url of numbered channel `number`: fixed per run in Beam (drawn once);
   * here a pure function of the channel, the same for every run.
   */
  #channelUrl(number: number): void {
    const r = this.#urlDraws.seed(0xc4a2, number);
    this.#baseUrl(r);
    if (r.int(10) > 0) {
      this.#bytes(CHANNEL_ID);
      this.#integer(reverseBits(number));
    }
  }

  #baseUrl(r: EventDraws): void {
    this.#bytes(URL_BASE);
    this.#string(r, 5, UNDERSCORE);
    this.#bytes(SLASH);
    this.#string(r, 5, UNDERSCORE);
    this.#bytes(SLASH);
    this.#string(r, 5, UNDERSCORE);
    this.#bytes(URL_END);
  }

  /** `,"extra":"` filler to bring an event of `size` bytes to about `average`, then the closing `"}`. */
  #extra(r: EventDraws, size: number, average: number): void {
    this.#bytes(EXTRA);
    this.#text(r, nextExtraLength(r, size, average), SPACE);
    this.#bytes(END);
  }

  /** 3 to maxLength - 1 random characters (see {@link #text}), spaces at either end trimmed; returns the length written. */
  #string(r: EventDraws, maxLength: number, special: number): number {
    const start = this.#at;
    this.#text(r, 3 + r.int(maxLength - 3), special);
    const buf = this.#buf;
    let from = start;
    let to = this.#at;
    while (from < to && buf[from] === SPACE) from++;
    while (to > from && buf[to - 1] === SPACE) to--;
    if (from > start) buf.copyWithin(start, from, to);
    this.#at = start + (to - from);
    return to - from;
  }

  /** `length` random characters (see {@link EventDraws.text}). */
  #text(r: EventDraws, length: number, special: number): void {
    this.#reserve(length);
    this.#at = r.text(this.#buf, this.#at, length, special);
  }

  /** `value` (0 to 9999) as four digits, zeros first. */
  #fourDigits(value: number): void {
    this.#reserve(4);
    const buf = this.#buf;
    const at = this.#at;
    buf[at] = 48 + Math.floor(value / 1000);
    buf[at + 1] = 48 + (Math.floor(value / 100) % 10);
    buf[at + 2] = 48 + (Math.floor(value / 10) % 10);
    buf[at + 3] = 48 + (value % 10);
    this.#at = at + 4;
  }

  #integer(value: number): void {
    this.#reserve(MAX_NUMBER_BYTES);
    this.#at = writeInteger(this.#buf, this.#at, value);
  }

  #byte(byte: number): void {
    this.#reserve(1);
    this.#buf[this.#at++] = byte;
  }

  #bytes(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    const buf = this.#buf;
    let at = this.#at;
    for (let i = 0; i < bytes.length; i++) buf[at++] = bytes[i]!;
    this.#at = at;
  }

  #reserve(bytes: number): void {
    if (this.#at + bytes <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#at + bytes, this.#buf.length * 2));
    grown.set(this.#buf.subarray(0, this.#at));
    this.#buf = grown;
    this.#view = new DataView(grown.buffer);
  }
}

/** Writes `value` as JavaScript prints it (`String(value)`) at `at` (room for {@link MAX_NUMBER_BYTES}); returns where it ends. */
function writeInteger(buf: Uint8Array, at: number, value: number): number {
  if (value >= 0 && value <= 0x7fffffff) return writeSmall(buf, at, value | 0);
  if (!Number.isSafeInteger(value)) {
    const text = String(value);
    for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i);
    return at;
  }
  if (value < 0) {
    buf[at++] = 0x2d;
    value = -value;
  }
  if (value <= 0x7fffffff) return writeSmall(buf, at, value | 0);
  // Above 2^31 (times in ms): the digits above the last eight, then those eight (exact: a safe integer).
  const high = Math.floor(value / 1e8);
  at = writeSmall(buf, at, high);
  let low = value - high * 1e8;
  for (let i = at + 7; i >= at; i--) {
    const rest = (low / 10) | 0;
    buf[i] = 48 + low - rest * 10;
    low = rest;
  }
  return at + 8;
}

/** `value` (0 to 2^31 - 1) in decimal. */
function writeSmall(buf: Uint8Array, at: number, value: number): number {
  let digits = 1;
  for (let power = 10; power <= value; power *= 10) digits++;
  const end = at + digits;
  for (let i = end - 1; i >= at; i--) {
    const rest = (value / 10) | 0;
    buf[i] = 48 + value - rest * 10;
    value = rest;
  }
  return end;
}
