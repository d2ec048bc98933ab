/**
 * Without a `checkpoint` block, a pipeline with a plugin source still passes
 * barriers (so the source is acknowledged only for what reached the sinks),
 * but nothing is kept: sinks are not synced at barriers. With checkpoints
 * stored, they are.
 */
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import { PipelineRun } from '../../src/topology/pipeline-run.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { prepareTestPipeline } from '../fixtures/test-pipeline.js';

let fixtures: string;
beforeAll(async () => {
  fixtures = await buildFixtures('count-source-js');
});

/** Runs count-source-js (200 records) into a null sink that counts its pre-commits; returns the count. */
async function preCommits(checkpoints: boolean): Promise<number> {
  let calls = 0;
  const connectors = builtinConnectors().clone();
  connectors.register({
    kind: 'sink',
    name: 'counting',
    description: 'counts pre-commits',
    configSchema: { type: 'object' },
    create: () => ({ write: async () => {}, flush: async () => {}, close: async () => {}, preCommit: async () => (calls++, new Uint8Array([1])) }),
  });
  const prepared = await prepareTestPipeline({
    plugins: fixtures,
    connectors,
    pipeline: {
      name: 'acks',
      nodes: [
        { id: 'in', kind: 'source', plugin: 'count-source-js.wasm', config: { count: 200 } },
        { id: 'out', kind: 'sink', connector: 'counting', inputs: ['in'] },
      ],
    },
  });
  const run = await PipelineRun.start(prepared.config, {
    modules: prepared.modules, connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough(),
    ...(checkpoints ? { checkpoints: { store: new MemoryCheckpointStore(), intervalMs: 1000, delivery: 'exactly-once' as const } } : {}),
  });
  expect((await run.done).status).toBe('completed');
  return calls;
}

describe('barriers without stored checkpoints', () => {
  it('do not sync sinks; stored checkpoints do', async () => {
    expect(await preCommits(false)).toBe(0);
    expect(await preCommits(true)).toBeGreaterThan(0);
  });
});
