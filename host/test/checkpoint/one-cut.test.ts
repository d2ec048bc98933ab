/**
 * Every checkpoint is one cut through the pipeline: in a file -> file copy
 * (lines format, one output line per input line), each stored checkpoint's
 * sink length equals its source offset, including the checkpoints taken
 * while the source reached the end of its file with records still on their
 * way to a slow sink (a review found such a checkpoint pairing the source's
 * end with the sink's length at the barrier: a restart from it lost the
 * records in between). A restart from any of them writes the whole input.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { builtinConnectors } from '../../src/connectors/builtin.js';
import type { Sink } from '../../src/connectors/connector.js';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import type { CheckpointWrite } from '../../src/checkpoint/checkpoint-store.js';
import { PipelineRun } from '../../src/topology/pipeline-run.js';
import { prepareTestPipeline } from '../fixtures/test-pipeline.js';

const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as { offset?: number; length?: number };

describe('checkpoints are one cut', () => {
  it('a file copy: every checkpoint pairs the source offset with the same sink length, and a restart from each writes everything', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i}`);
    const input = lines.map((l) => `${l}\n`).join('');
    // A file sink that takes its time per batch, so the source reaches its end while records are still queued.
    const connectors = builtinConnectors().clone();
    const file = builtinConnectors().sink('file')!;
    connectors.register({
      ...file,
      name: 'slow-file',
      create: (config, ctx) => {
        const sink = file.create(config, ctx);
        const slow: Sink = { write: async (batch) => { await sleep(5); await sink.write(batch); }, flush: () => sink.flush(), close: () => sink.close(), preCommit: () => sink.preCommit!() };
        return slow;
      },
    });
    const prepared = await prepareTestPipeline({
      connectors,
      files: { 'in.txt': input },
      pipeline: {
        name: 'copy',
        checkpoint: { intervalMs: 50 },
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.txt', format: 'lines' }, batch: { maxRecords: 50 } },
          { id: 'out', kind: 'sink', connector: 'slow-file', inputs: ['in'], config: { path: 'out.txt', format: 'lines' } },
        ],
      },
    });
    const written: CheckpointWrite[] = [];
    const store = new MemoryCheckpointStore();
    const write = store.write.bind(store);
    store.write = async (checkpoint) => {
      written.push(structuredClone(checkpoint));
      return write(checkpoint);
    };
    const deps = { modules: prepared.modules, connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough() };
    const run = await PipelineRun.start(prepared.config, { ...deps, checkpoints: { store, intervalMs: 50, delivery: 'exactly-once' } });
    expect((await run.done).status).toBe('completed');
    expect(written.length).toBeGreaterThan(2);

    const cuts = written.map((c) => [decode(c.parts.find((p) => p.node === 'in')!.data).offset, decode(c.parts.find((p) => p.node === 'out')!.data).length]);
    for (const [offset, length] of cuts) expect(length).toBe(offset);
    expect(cuts.at(-1)).toEqual([input.length, input.length]);

    // "kill -9" right after each checkpoint but the last: a restart from it writes exactly the input.
    for (const checkpoint of written.slice(0, -1)) {
      const restored = { epoch: checkpoint.epoch, takenAt: checkpoint.takenAt, graph: checkpoint.graph, parts: checkpoint.parts, state: new Map() };
      const again = await PipelineRun.start(prepared.config, { ...deps, checkpoints: { store: new MemoryCheckpointStore(), intervalMs: 50, delivery: 'exactly-once', restored } });
      expect((await again.done).status).toBe('completed');
      expect(await readFile(join(prepared.dir, 'out.txt'), 'utf8')).toBe(input);
    }
  });
});
