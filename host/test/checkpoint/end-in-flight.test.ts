/**
 * A node whose input ends while a checkpoint is in flight, after it passed
 * that checkpoint's barrier: what it holds at its end came after the cut, so
 * the checkpoint must store what it held at the barrier (its end goes into
 * the next one). Stored otherwise, a source position ahead of the sinks
 * loses the records between (they are never read again), and keyed counts
 * ahead of the sinks count them twice on replay.
 */
import { describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { Sink } from '../../src/connectors/connector.js';
import type { StreamRecord } from '../../src/records/record.js';
import { GateSource } from '../fixtures/gate-source.js';
import { until } from '../fixtures/until.js';
import { checkpointedRunsClosedAfterEach, countTotal, examplePlugins } from './checkpointed-run.js';

const start = checkpointedRunsClosedAfterEach();
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A source the test feeds (GateSource), whose position is the records it returned; it remembers the last position taken. */
class FedSource extends GateSource {
  lastPositionTaken: number | undefined;

  position(): Uint8Array {
    this.lastPositionTaken = this.returned;
    return encoder.encode(String(this.returned));
  }
}

/** A sink whose writes wait while its gate is shut; its token is the records written. */
class GatedSink implements Sink {
  #open = false;
  #wake = () => {};
  written = 0;
  waiting = false;

  openGate(): void {
    this.#open = true;
    this.#wake();
  }

  async write(batch: StreamRecord[]): Promise<void> {
    this.waiting = true;
    while (!this.#open) await new Promise<void>((resolve) => (this.#wake = resolve));
    this.waiting = false;
    this.written += batch.length;
  }

  async preCommit(): Promise<Uint8Array> {
    return encoder.encode(String(this.written));
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

describe('a node that ends while a checkpoint is in flight', () => {
  it('the checkpoint holds what the source and the count held at the barrier, not at their end', async () => {
    const source = new FedSource();
    const sink = new GatedSink();
    const connectors = builtinConnectors()
      .register({ kind: 'source', name: 'fed', description: 'test', configSchema: { type: 'object' }, create: () => source })
      .register({ kind: 'sink', name: 'gated', description: 'test', configSchema: { type: 'object' }, create: () => sink });
    const run = await start({
      pipeline: {
        name: 'end-in-flight',
        nodes: [
          { id: 'in', kind: 'source', connector: 'fed' },
          { id: 'count', kind: 'processor', plugin: 'count-by-key-js.wasm', inputs: ['in'] },
          { id: 'out', kind: 'sink', connector: 'gated', inputs: ['count'] },
        ],
      },
      plugins: examplePlugins, connectors, intervalMs: 20,
    });
    source.give(['a1', 'a2', 'a3'], 'k');
    // The sink holds the first records; a barrier passes the source after them (it takes its position while it
    // waits): that checkpoint waits for the sink. (A barrier that passed the source before them reaches the sink
    // before them, so its checkpoint completes and the next one's barrier comes after them.)
    await until(() => sink.waiting && source.lastPositionTaken === 3);
    // After that barrier, more records and the end of the input: the source and the count end while the
    // checkpoint waits for the sink.
    source.give(['b1', 'b2'], 'k');
    source.end();
    await until(() => run.run.stats().find((s) => s.id === 'count')!.out === 5);
    sink.openGate();
    const summary = await run.run.done;
    expect(summary.status).toBe('completed');
    expect(run.store.stored.length).toBeGreaterThanOrEqual(2);
    for (const checkpoint of run.store.stored) {
      const read = Number(decoder.decode(checkpoint.parts.find((p) => p.node === 'in')!.data));
      const written = Number(decoder.decode(checkpoint.parts.find((p) => p.node === 'out')?.data ?? encoder.encode('0')));
      const at = `checkpoint ${checkpoint.epoch}`;
      expect(read, `${at}: the source position is what the sink has`).toBe(written);
      expect(countTotal(checkpoint, 'count'), `${at}: the keyed count is what the sink has`).toBe(written);
    }
    const last = run.store.stored.at(-1)!;
    expect(countTotal(last, 'count')).toBe(5);
  });
});
