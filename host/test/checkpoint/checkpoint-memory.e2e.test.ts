// Checkpoints must keep memory flat on an endless stream: a run with
// checkpoints every 20 ms (a store that drops what it gets) over an unbounded
// generator -> keyed count (bounded key cardinality) -> null sink runs for a
// few hundred thousand records and a few hundred epochs in a child process
// with a small V8 heap (built dist/: run `npm run build:host`
// first). Anything kept per epoch or per record by the coordinator, the
// barriers, the lanes or the change records ends in "heap out of memory".
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { distModule, runWithSmallHeap } from '../sandbox/small-heap-child.js';

const root = join(import.meta.dirname, '../../..');
const HEAP_MB = 48;
const RECORDS = 400_000;
const EPOCHS = 300;

const url = (file: string) => JSON.stringify(distModule(file));

const script = (pipelineFile: string, cacheDir: string) => `
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { preparePipeline } from ${url('cli/prepare-pipeline.js')};
import { Engine } from ${url('engine/engine.js')};
import { builtinConnectors } from ${url('connectors/builtin.js')};
import { PipelineRun } from ${url('topology/pipeline-run.js')};
const connectors = builtinConnectors();
const prepared = await preparePipeline(${JSON.stringify(pipelineFile)}, new Engine({ cacheDir: ${JSON.stringify(cacheDir)} }), connectors);
if (!prepared.ok) throw new Error(JSON.stringify(prepared.problems));
let writes = 0;
let changedKeys = 0;
// Drops what it gets (after looking at it once, as a store would).
const store = {
  latest: async () => undefined,
  write: async (c) => { writes++; for (const s of c.state) changedKeys += s.changes.size; },
  summary: async () => undefined,
  clear: async () => {},
  close: async () => {},
};
const run = await PipelineRun.start(prepared.config, {
  modules: prepared.modules, connectors, logger: pino({ level: 'warn' }), stdin: Readable.from([]), stdout: new PassThrough(),
  checkpoints: { store, intervalMs: 20, delivery: 'exactly-once' },
});
const read = () => run.stats().find((s) => s.id === 'gen').out;
while (read() < ${RECORDS} || writes < ${EPOCHS}) await new Promise((resolve) => setTimeout(resolve, 20));
run.stop();
const summary = await run.done;
if (summary.status !== 'stopped' || summary.checkpoints.completed < ${EPOCHS}) throw new Error(JSON.stringify({ status: summary.status, checkpoints: summary.checkpoints }));
console.log('ok ' + writes + ' ' + read() + ' ' + changedKeys);
`;

describe(`checkpoints every 20 ms over an endless stream run in a ${HEAP_MB} MiB heap`, () => {
  it(`${RECORDS} records, ${EPOCHS}+ epochs: generator -> keyed count (parallelism 2) -> null sink`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-ckpt-memory-'));
    const pipelineFile = join(dir, 'pipeline.json');
    writeFileSync(pipelineFile, JSON.stringify({
      name: 'checkpoint-memory',
      plugins: { dir: join(root, 'plugins') },
      nodes: [
        { id: 'gen', kind: 'source', connector: 'generator', config: { count: 0, keyCardinality: 1000 } },
        { id: 'count', kind: 'processor', plugin: 'count-by-key-as.wasm', inputs: ['gen'], parallelism: 2, partition: 'key' },
        { id: 'out', kind: 'sink', connector: 'null', inputs: ['count'] },
      ],
    }));
    const { code, stdout, stderr } = await runWithSmallHeap(script(pipelineFile, mkdtempSync(join(tmpdir(), 'weir-cache-'))), HEAP_MB);
    expect(stderr, 'the run must not run out of heap').not.toContain('heap out of memory');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.trim()).toMatch(/^ok \d+ \d+ \d+$/);
  }, 300_000);
});
