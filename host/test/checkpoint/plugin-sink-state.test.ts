/**
 * A plugin sink's (and source's) keyed state is part of checkpoints, as a
 * processor's is: what the sink plugin wrote to its state is in the store
 * after the run (a review found it tracked forever and never written).
 */
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import { PipelineRun } from '../../src/topology/pipeline-run.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { prepareTestPipeline } from '../fixtures/test-pipeline.js';

let fixtures: string;
beforeAll(async () => {
  fixtures = await buildFixtures('tally-sink-js');
});

describe('plugin sink keyed state in checkpoints', () => {
  it('is written with the checkpoint', async () => {
    const prepared = await prepareTestPipeline({
      plugins: fixtures,
      files: { 'in.jsonl': '{"value":"first"}\n{"value":"second"}\n' },
      pipeline: {
        name: 'sink-state',
        checkpoint: {},
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
          { id: 'out', kind: 'sink', plugin: 'tally-sink-js.wasm', inputs: ['in'] },
        ],
      },
    });
    const store = new MemoryCheckpointStore();
    const run = await PipelineRun.start(prepared.config, {
      modules: prepared.modules, connectors: prepared.connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough(),
      checkpoints: { store, intervalMs: 1000, delivery: 'exactly-once' },
    });
    expect((await run.done).status).toBe('completed');
    const stored = (await store.latest())!.state.get('out') ?? [];
    expect(stored.map(([k, v]) => [new TextDecoder().decode(k), new TextDecoder().decode(v)])).toEqual([['last', 'second']]);
  });
});
