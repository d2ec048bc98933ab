/**
 * The `generator` source: synthetic, deterministic records for demos and
 * benchmarks. Record `seq` (from 0) has value
 * `{"seq":<seq>,"level":"info|warn|error","msg":"<filler>"}` padded to
 * `valueSize` bytes, key `k<n>` with n < `keyCardinality`, and event time
 * `startTime + seq * eventIntervalMs`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { StreamRecord } from '../records/record.js';
import type { PollResult } from '../sandbox/plugin.js';
import type { Source, SourceSpec } from './connector.js';

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
}

const LEVELS = ['info', 'info', 'info', 'warn', 'error'] as const;
const encoder = new TextEncoder();

/** Produces synthetic records. */
export class GeneratorSource implements Source {
  readonly #options: GeneratorOptions;
  readonly #keys: Uint8Array[];
  readonly #started = performance.now();
  #seq = 0;
  #random: () => number;

  constructor(options: GeneratorOptions) {
    this.#options = options;
    this.#keys = Array.from({ length: options.keyCardinality }, (_, i) => encoder.encode(`k${i}`));
    this.#random = mulberry32(options.seed);
  }

  async poll(max: number): Promise<PollResult> {
    const { count, ratePerSec } = this.#options;
    let n = count === 0 ? max : Math.min(max, count - this.#seq);
    if (ratePerSec > 0) {
      const allowed = Math.floor(((performance.now() - this.#started) / 1000) * ratePerSec) - this.#seq;
      if (allowed <= 0) {
        await sleep(Math.max(1, Math.ceil(1000 / ratePerSec)));
        return { records: [], position: undefined, done: false };
      }
      n = Math.min(n, allowed);
    }
    const records: StreamRecord[] = new Array(n);
    for (let i = 0; i < n; i++) records[i] = this.#next();
    const position = new Uint8Array(8);
    new DataView(position.buffer).setBigUint64(0, BigInt(this.#seq), true);
    return { records, position, done: count !== 0 && this.#seq >= count };
  }

  async close(): Promise<void> {}

  #next(): StreamRecord {
    const seq = this.#seq++;
    const { valueSize, keyCardinality, startTime, eventIntervalMs } = this.#options;
    const level = LEVELS[Math.floor(this.#random() * LEVELS.length)]!;
    const head = `{"seq":${seq},"level":"${level}","msg":"`;
    const fill = Math.max(0, valueSize - head.length - 2);
    const value = encoder.encode(head + 'x'.repeat(fill) + '"}');
    return {
      key: keyCardinality > 0 ? this.#keys[Math.floor(this.#random() * keyCardinality)] : undefined,
      value,
      headers: [],
      eventTime: BigInt(startTime + seq * eventIntervalMs),
    };
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
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
  create: (config) =>
    new GeneratorSource({
      count: (config.count as number | undefined) ?? 1000,
      ratePerSec: (config.ratePerSec as number | undefined) ?? 0,
      valueSize: (config.valueSize as number | undefined) ?? 100,
      keyCardinality: (config.keyCardinality as number | undefined) ?? 16,
      seed: (config.seed as number | undefined) ?? 1,
      startTime: (config.startTime as number | undefined) ?? 1700000000000,
      eventIntervalMs: (config.eventIntervalMs as number | undefined) ?? 1,
    }),
};
