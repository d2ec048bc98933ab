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
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { StreamRecord } from '../records/record.js';
import type { PollResult } from '../contract/plugin.js';
import type { Source, SourcePosition, SourceSpec } from './connector.js';
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

  constructor(options: GeneratorOptions) {
    this.#options = options;
    this.#template = templateOf(Math.max(options.valueSize, MIN_VALUE_SIZE));
    this.#keys = Array.from({ length: options.keyCardinality }, (_, i) => encoder.encode(`k${i}`));
    this.#startSeq = this.#seq = options.startSeq ?? 0;
    // Each record draws one number for its level and, with keys, one for its key.
    this.#random = mulberry32(options.seed, this.#seq * (options.keyCardinality > 0 ? 2 : 1));
  }

  /** `{"v":1,"seq":N}`: the records produced so far. */
  position(): SourcePosition {
    return encodePosition({ seq: this.#seq });
  }

  async poll(max: number): Promise<PollResult> {
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
    // One backing buffer per batch; each value is a view into it. Allocating a
    // typed array per record costs several times more than filling it.
    const size = this.#template.byteLength;
    const block = new Uint8Array(n * size);
    const records: StreamRecord[] = new Array(n);
    for (let i = 0; i < n; i++) records[i] = this.#next(block, i * size);
    const position = new Uint8Array(8);
    new DataView(position.buffer).setBigUint64(0, BigInt(this.#seq), true);
    return { records, position, done: count !== 0 && this.#seq >= count };
  }

  async close(): Promise<void> {}

  #next(block: Uint8Array, offset: number): StreamRecord {
    const seq = this.#seq++;
    const { keyCardinality, startTime, eventIntervalMs } = this.#options;
    const size = this.#template.byteLength;
    block.set(this.#template, offset);
    let at = offset;
    for (const b of SEQ_PREFIX) block[at++] = b;
    at = writeDigits(block, at, seq);
    const level = LEVEL_BYTES[Math.floor(this.#random() * LEVEL_BYTES.length)]!;
    for (const b of level) block[at++] = b;
    return {
      key: keyCardinality > 0 ? this.#keys[Math.floor(this.#random() * keyCardinality)] : undefined,
      value: block.subarray(offset, offset + size),
      headers: [],
      eventTime: BigInt(startTime + seq * eventIntervalMs),
    };
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
