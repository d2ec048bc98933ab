/**
 * A contained plugin must not take the host down by repetition: every
 * instance recreated after a breach is closed, and a closed instance lets go
 * of its linear memory, even though the node keeps it for its usage figures.
 *
 * A memory bomb (64 MiB cap) trips eight times in a child process; after
 * the run, with the run and its summary still held, a full GC must bring the
 * host's external memory (where wasm memories live) back under three caps.
 * Before the fix every tripped instance kept its 64 MiB: over 512 MiB.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { distModule, runWithSmallHeap } from './small-heap-child.js';

const TRIPS = 8;
const CAP_MB = 64;
let fixtures: string;

beforeAll(async () => {
  fixtures = await buildFixtures('misbehave-js', 'misbehave-as');
});

/** The child: runs the pipeline, then reports external memory after a full GC. */
const child = `
  const { preparePipeline } = await import(${JSON.stringify(distModule('cli/prepare-pipeline.js'))});
  const { Engine } = await import(${JSON.stringify(distModule('engine/engine.js'))});
  const { builtinConnectors } = await import(${JSON.stringify(distModule('connectors/builtin.js'))});
  const { PipelineRun } = await import(${JSON.stringify(distModule('topology/pipeline-run.js'))});
  const { PassThrough, Readable } = await import('node:stream');
  const { pino } = await import('pino');
  const connectors = builtinConnectors();
  const prepared = await preparePipeline(process.env.PIPELINE, new Engine({ cacheDir: process.env.CACHE }), connectors);
  if (!prepared.ok) throw new Error(JSON.stringify(prepared.problems));
  const run = await PipelineRun.start(prepared.config, {
    modules: prepared.modules, connectors, logger: pino({ level: 'silent' }), stdin: Readable.from([]), stdout: new PassThrough(),
  });
  const summary = await run.done;
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  const bad = summary.nodes.find((n) => n.id === 'bad');
  console.log(JSON.stringify({ status: summary.status, external: process.memoryUsage().external, resources: bad.resources, runHeld: run !== undefined }));
`;

describe.each(['as', 'js'])('instances recreated after breaches (%s)', (lang) => {
  it(`let go of their linear memory: ${TRIPS} memory-bomb trips leave under three caps of external memory`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-released-'));
    const lines = Array.from({ length: TRIPS * 2 }, (_, i) => JSON.stringify({ value: i % 2 ? `x-${i}` : `ok-${i}` }));
    await writeFile(join(dir, 'in.jsonl'), lines.join('\n'));
    await writeFile(join(dir, 'pipeline.json'), JSON.stringify({
      name: 'released-instances',
      plugins: { dir: fixtures },
      nodes: [
        { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' }, batch: { maxRecords: 1 } },
        { id: 'bad', kind: 'processor', plugin: `misbehave-${lang}.wasm`, inputs: ['in'], config: { mode: 'bomb', trigger: 'x' }, batch: { maxRecords: 1 }, limits: { memoryMb: CAP_MB }, onError: { policy: 'skip' } },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['bad'] },
      ],
    }));
    const result = await runWithSmallHeap(child, 256, { PIPELINE: join(dir, 'pipeline.json'), CACHE: join(dir, 'cache') });
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout) as { status: string; external: number; resources: { instances: number; limitBreaches: { memory: number } } };
    expect(report.status).toBe('completed');
    expect(report.resources.limitBreaches.memory).toBe(TRIPS);
    expect(report.resources.instances).toBe(TRIPS + 1);
    expect(report.external).toBeLessThan(3 * CAP_MB * 1024 * 1024);
  });
});
