// Micro benchmark: the cost of one call and of one record, per implementation
// and batch size, measured in-process with tinybench; a plugin with a packed path
// is called through it, as processor lanes call it.
import { Bench } from 'tinybench';
import { BENCH_LIMITS, benchHost, benchInstantiate, upperRecords } from './implementations.js';
import { sampleBatch } from './workload.js';
import { encodeBatch } from '../dist/records/batch-codec.js';
import { PackedBatch } from '../dist/records/packed-batch.js';

const decoder = new TextDecoder();

/** Checks that an implementation does the same work as the plain JS function. */
function assertSameWork(id, batch, output) {
  const expected = upperRecords(batch);
  if (output.length !== expected.length) throw new Error(`${id}: returned ${output.length} records for ${batch.length}`);
  for (let i = 0; i < output.length; i++) {
    if (decoder.decode(output[i].value) !== decoder.decode(expected[i].value)) throw new Error(`${id}: record ${i} differs from the plain JS result`);
  }
}

/**
 * Returns rows `{ id, label, batchSize, nsPerCall: {median, min, max}, nsPerRecord, recordsPerSec }`,
 * or `{ id, label, batchSize, error }` when the calls failed.
 */
export async function runMicro(impls, { batchSizes, timeMs, warmupMs, iterations, warmupIterations, log }) {
  const rows = [];
  for (const impl of impls.filter((i) => i.available)) {
    for (const size of batchSizes) {
      // A fresh instance per batch size, so one size's garbage does not weigh on the next.
      const instance = await benchInstantiate(impl.module, 'processor', benchHost(impl.id), BENCH_LIMITS);
      instance.configure('{}');
      const batch = await sampleBatch(size);
      // As the host calls it: with the packed batch a source produces when the plugin takes one
      // (its output checked as a processor lane checks it), else with record objects.
      const packed = instance.processPacked ? encodeBatch(batch) : undefined;
      const call = packed
        ? async () => PackedBatch.fromPluginOutput(await instance.processPacked(packed), BENCH_LIMITS.maxOutputBytes)
        : async () => instance.process(batch);
      const first = await call();
      assertSameWork(impl.id, batch, packed ? first.records() : first);
      const bench = new Bench({ time: timeMs, warmupTime: warmupMs, iterations, warmupIterations, throws: false });
      bench.add(`${impl.id}/${size}`, call);
      await bench.run();
      instance.close();
      const result = bench.tasks[0].result;
      if (!result.latency) {
        const message = String(result.error?.message ?? result.error ?? 'no samples').split('\n')[0];
        rows.push({ id: impl.id, label: impl.label, batchSize: size, error: message });
        log(`micro ${impl.id.padEnd(14)} batch ${String(size).padStart(4)}: failed: ${message}`);
        continue;
      }
      const median = result.latency.p50 * 1e6;
      rows.push({
        id: impl.id,
        label: impl.label,
        batchSize: size,
        nsPerCall: { median, min: result.latency.min * 1e6, max: result.latency.max * 1e6 },
        nsPerRecord: median / size,
        recordsPerSec: (size / median) * 1e9,
      });
      log(`micro ${impl.id.padEnd(14)} batch ${String(size).padStart(4)}: ${(median / 1000).toFixed(1)} µs/call, ${(median / size).toFixed(0)} ns/record`);
    }
  }
  return rows;
}
