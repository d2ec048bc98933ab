/**
 * The `generator` source: synthetic, deterministic records for demos and
 * benchmarks. Record `seq` (from 0) has value
 * `{"seq":<seq>,"level":"info|warn|error","msg":"<filler>"}` padded to
 * `valueSize` bytes, key `k<n>` with n < `keyCardinality`, and event time
 * `startTime + seq * eventIntervalMs`.
 *
 * Its position is the number of records produced, `{"v":1,"seq":N}`; a
 * generator resumed from it produces exactly the records an uninterrupted one
 * would have produced after the first N (same values, keys and event times).
 *
 * Each poll writes its records straight into one packed batch
 * (records/packed-batch.ts): no record objects.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { PackedBatch } from '../records/packed-batch.js';
import type { Source, SourcePoll, SourcePosition, SourceSpec } from './connector.js';
import { decodePosition, encodePosition } from './positions.js';

/** Settings of a {@link GeneratorSource}. */
export interface GeneratorOptions {
  /** Records to produce; 0 means until the pipeline is stopped. */
  count: number;
  /** Records per second; 0 means as fast as the pipeline takes them. */
  ratePerSec: number;
  /** Bytes per value (at least the JSON envelope). */
  valueSize: number;
  /** Distinct keys; 0 means records have no key. */
  keyCardinality: number;
  seed: number;
  startTime: number;
  eventIntervalMs: number;
  /** Records already produced before (a resumed run): the sequence goes on after them. */
  startSeq?: number;
}

const LEVELS = ['info', 'info', 'info', 'warn', 'error'] as const;
const encoder = new TextEncoder();

/** Produces synthetic records. */
export class GeneratorSource implements Source {
  readonly #options: GeneratorOptions;
  readonly #keys: Uint8Array[];
  readonly #started = performance.now();
  /** The first sequence number this source produces (the rate counts from it). */
  readonly #startSeq: number;
  #seq: number;
  #random: () => number;

  readonly #template: Uint8Array;
  readonly #maxKeyBytes: number;

  constructor(options: GeneratorOptions) {
    this.#options = options;
    this.#template = templateOf(Math.max(options.valueSize, MIN_VALUE_SIZE));
    this.#keys = Array.from({ length: options.keyCardinality }, (_, i) => encoder.encode(`k${i}`));
    this.#maxKeyBytes = this.#keys.reduce((most, key) => Math.max(most, key.byteLength), 0);
    this.#startSeq = this.#seq = options.startSeq ?? 0;
    // Each record draws one number for its level and, with keys, one for its key.
    this.#random = mulberry32(options.seed, this.#seq * (options.keyCardinality > 0 ? 2 : 1));
  }

  /** `{"v":1,"seq":N}`: the records produced so far. */
  position(): SourcePosition {
    return encodePosition({ seq: this.#seq });
  }

  async poll(max: number): Promise<SourcePoll> {
    const { count, ratePerSec } = this.#options;
    let n = count === 0 ? max : Math.max(0, Math.min(max, count - this.#seq));
    if (ratePerSec > 0) {
      const allowed = Math.floor(((performance.now() - this.#started) / 1000) * ratePerSec) - (this.#seq - this.#startSeq);
      if (allowed <= 0) {
        await sleep(Math.max(1, Math.ceil(1000 / ratePerSec)));
        return { records: [], position: undefined, done: false };
      }
      n = Math.min(n, allowed);
    }
    // Room for the longest key; the batch is the part written.
    const room = 4 + n * (24 + this.#maxKeyBytes + this.#template.byteLength);
    const bytes = new Uint8Array(room);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, n, true);
    let at = 4;
    for (let i = 0; i < n; i++) at = this.#next(bytes, view, at);
    const records = n === 0 ? PackedBatch.empty() : PackedBatch.trusted(bytes.subarray(0, at), n, 0, false);
    const position = new Uint8Array(8);
    new DataView(position.buffer).setBigUint64(0, BigInt(this.#seq), true);
    return { records, position, done: count !== 0 && this.#seq >= count };
  }

  async close(): Promise<void> {}

  /** Writes the next record into `block` at `offset` (packed: flags, event time, key, value, no headers); returns where it ends. */
  #next(block: Uint8Array, view: DataView, offset: number): number {
    const seq = this.#seq++;
    const { keyCardinality, startTime, eventIntervalMs } = this.#options;
    const size = this.#template.byteLength;
    // The level is drawn before the key, as it always was: the same seed gives the same records.
    const level = LEVEL_BYTES[Math.floor(this.#random() * LEVEL_BYTES.length)]!;
    const key = keyCardinality > 0 ? this.#keys[Math.floor(this.#random() * keyCardinality)] : undefined;
    view.setUint32(offset, key ? 3 : 2, true);
    // The i64 event time as two words (no BigInt per record); floor keeps two's complement for negative times.
    const time = startTime + seq * eventIntervalMs;
    const high = Math.floor(time / 0x100000000);
    view.setUint32(offset + 4, time - high * 0x100000000, true);
    view.setInt32(offset + 8, high, true);
    let at = offset + 12;
    view.setUint32(at, key?.byteLength ?? 0, true);
    if (key) block.set(key, at + 4);
    at += 4 + (key?.byteLength ?? 0);
    view.setUint32(at, size, true);
    at += 4;
    block.set(this.#template, at);
    let v = at;
    for (let i = 0; i < SEQ_PREFIX.length; i++) block[v++] = SEQ_PREFIX[i]!;
    v = writeDigits(block, v, seq);
    for (let i = 0; i < level.length; i++) block[v++] = level[i]!;
    at += size;
    view.setUint32(at, 0, true);
    return at + 4;
  }
}

const SEQ_PREFIX = encoder.encode('{"seq":');
const LEVEL_BYTES = LEVELS.map((level) => encoder.encode(`,"level":"${level}","msg":"`));
/** The shortest value that holds the JSON envelope of the largest sequence number. */
const MIN_VALUE_SIZE = SEQ_PREFIX.byteLength + 16 + Math.max(...LEVEL_BYTES.map((l) => l.byteLength)) + 2;

function writeDigits(target: Uint8Array, at: number, value: number): number {
  const digits = value === 0 ? 1 : Math.floor(Math.log10(value)) + 1;
  for (let i = digits - 1, v = value; i >= 0; i--, v = Math.floor(v / 10)) target[at + i] = 0x30 + (v % 10);
  return at + digits;
}

function templateOf(size: number): Uint8Array {
  const bytes = new Uint8Array(size).fill(0x78);
  if (size >= 2) bytes.set([0x22, 0x7d], size - 2);
  return bytes;
}

/** The mulberry32 generator from `seed`, `skip` draws in (its state moves by a constant per draw, so skipping costs nothing). */
function mulberry32(seed: number, skip = 0): () => number {
  let a = Number((BigInt(seed >>> 0) + BigInt(skip) * 0x6d2b79f5n) % 0x100000000n);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The `generator` connector spec. */
export const generatorSource: SourceSpec = {
  kind: 'source',
  name: 'generator',
  description: 'produces synthetic JSON records (for demos and benchmarks)',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      count: { type: 'integer', minimum: 0, default: 1000, description: 'records to produce; 0 = until stopped' },
      ratePerSec: { type: 'number', minimum: 0, default: 0, description: 'records per second; 0 = unthrottled' },
      valueSize: { type: 'integer', minimum: 1, maximum: 16777216, default: 100, description: 'bytes per value' },
      keyCardinality: { type: 'integer', minimum: 0, default: 16, description: 'distinct keys; 0 = no keys' },
      seed: { type: 'integer', default: 1 },
      startTime: { type: 'integer', default: 1700000000000, description: 'event time of the first record (ms)' },
      eventIntervalMs: { type: 'integer', minimum: 0, default: 1 },
    },
  },
  create: (config, ctx) =>
    new GeneratorSource({
      count: (config.count as number | undefined) ?? 1000,
      ratePerSec: (config.ratePerSec as number | undefined) ?? 0,
      valueSize: (config.valueSize as number | undefined) ?? 100,
      keyCardinality: (config.keyCardinality as number | undefined) ?? 16,
      seed: (config.seed as number | undefined) ?? 1,
      startTime: (config.startTime as number | undefined) ?? 1700000000000,
      eventIntervalMs: (config.eventIntervalMs as number | undefined) ?? 1,
      startSeq: ctx.resumeFrom ? decodePosition(ctx.resumeFrom, { seq: 'count' }, `generator source${ctx.node ? ` "${ctx.node}"` : ''}`, ctx.node).seq : 0,
    }),
};
