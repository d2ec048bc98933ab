/**
 * A plugin source in a pipeline WITHOUT a checkpoint block: the run passes
 * barriers in memory, so the source is acknowledged only for positions whose
 * records the sinks have taken, including at the end of the run, and a
 * source that finished gets its last acknowledgement before it is closed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { checkpointedRunsClosedAfterEach } from './checkpointed-run.js';
import type { CheckpointedRun } from './checkpointed-run.js';

let fixtures: string;

beforeAll(async () => {
  fixtures = await buildFixtures('seq-source-js', 'probe-js');
});

const start = checkpointedRunsClosedAfterEach();

describe('a plugin source without checkpoints', () => {
  it.each([{ count: 300 }, { count: 20_000 }])('is acknowledged only for records the sinks took, the last one ($count) before it closes', async ({ count }) => {
    let run: CheckpointedRun | undefined;
    /** Each acknowledgement, with what the sink had written when it came. */
    const acks: Array<{ position: number; written: number }> = [];
    const logs = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          const msg = (JSON.parse(line) as { msg?: string }).msg ?? '';
          const acked = /^acked (\d+)$/.exec(msg);
          if (acked) acks.push({ position: Number(acked[1]), written: run?.run.stats().find((s) => s.id === 'out')?.out ?? 0 });
        }
        done();
      },
    });
    run = await start({
      pipeline: {
        name: 'plugin-acks',
        nodes: [
          { id: 'in', kind: 'source', plugin: 'seq-source-js.wasm', config: { count } },
          { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['in'] },
          { id: 'out', kind: 'sink', connector: 'file', inputs: ['probe'], config: { path: 'out.txt', format: 'lines' } },
        ],
      },
      plugins: fixtures, noCheckpoints: true, logger: pino({ level: 'info' }, logs),
    });
    const summary = await run.run.done;
    expect(summary.status).toBe('completed');
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expect(ack.position, 'an acknowledged position the sink had not written').toBeLessThanOrEqual(ack.written);
    expect(acks.at(-1)!.position, 'the last acknowledgement: everything').toBe(count);
  });
});
