/**
 * A checkpoint whose node holds hundreds of thousands of keys restores (a
 * review found the restore spreading every entry into call arguments, which
 * overflows the stack above ~125k keys, far below the default cap of a
 * million): the count plugin goes on from the restored counts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import { PipelineRun } from '../../src/topology/pipeline-run.js';
import { prepareTestPipeline } from '../fixtures/test-pipeline.js';

const root = join(import.meta.dirname, '../../..');
const encoder = new TextEncoder();

describe('restoring a large keyed state', () => {
  it('300,000 keys: the counts go on from the checkpoint', async () => {
    const prepared = await prepareTestPipeline({
      plugins: join(root, 'plugins'),
      files: { 'in.jsonl': '{"key":"k7","value":"a"}\n{"key":"new","value":"b"}\n' },
      pipeline: {
        name: 'large',
        checkpoint: {},
        nodes: [
          { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
          { id: 'count', kind: 'processor', plugin: 'count-by-key-as.wasm', inputs: ['in'] },
          { id: 'out', kind: 'sink', connector: 'file', inputs: ['count'], config: { path: 'out.jsonl' } },
        ],
      },
    });
    const entries = Array.from({ length: 300_000 }, (_, i): [Uint8Array, Uint8Array] => [encoder.encode(`k${i}`), encoder.encode(String(i + 1))]);
    const restored = { epoch: 3, takenAt: new Date().toISOString(), graph: [], parts: [], state: new Map([['count', entries]]) };
    const run = await PipelineRun.start(prepared.config, {
      modules: prepared.modules, connectors: prepared.connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough(),
      checkpoints: { store: new MemoryCheckpointStore(), intervalMs: 1000, delivery: 'exactly-once', restored },
    });
    expect((await run.done).status).toBe('completed');
    const counts = (await readFile(join(prepared.dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => (JSON.parse(l) as { headers: { count: string } }).headers.count);
    expect(counts).toEqual(['9', '1']);
  });
});
