// The records every benchmark feeds: the generator connector's ~100-byte JSON values.
import { GeneratorSource } from '../dist/connectors/generator.js';
import { recordsOf } from '../dist/records/batch.js';

/** `n` generator records of `valueSize` bytes with 16 keys. */
export async function sampleBatch(n, valueSize = 100) {
  const source = new GeneratorSource({ count: n, ratePerSec: 0, valueSize, keyCardinality: 16, seed: 42, startTime: 1700000000000, eventIntervalMs: 1 });
  const { records } = await source.poll(n);
  return recordsOf(records);
}
