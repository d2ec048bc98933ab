// A long stream must run in constant memory: `host run` in a child process
// with a small V8 heap. A run that retains anything per record or per batch
// (a reaction left on a long-lived promise, say) dies with "heap out of
// memory" long before the stream ends.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../../..');
/** The heap the child gets (MiB): a whole run's records would need several times this. */
const HEAP_MB = 48;

interface Outcome {
  code: number | null;
  stderr: string;
  summary: { status: string; totals: { read: number; written: number } } | undefined;
}

async function runWithSmallHeap(nodes: object[]): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-memory-'));
  writeFileSync(join(dir, 'pipeline.json'), JSON.stringify({ name: 'long-stream', plugins: { dir: join(root, 'plugins') }, nodes }));
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, join(root, 'host/bin/host.js'), 'run', join(dir, 'pipeline.json'), '--no-watch', '--log-level', 'warn', '--summary-json', join(dir, 'summary.json')], {
    env: { ...process.env, WEIR_CACHE_DIR: mkdtempSync(join(tmpdir(), 'weir-cache-')) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', (exit) => resolve(exit)));
  let summary: Outcome['summary'];
  try {
    summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Outcome['summary'];
  } catch {
    summary = undefined;
  }
  return { code, stderr, summary };
}

function expectCompleted(outcome: Outcome, records: number): void {
  expect(outcome.stderr, 'the run must not run out of heap').not.toContain('heap out of memory');
  expect(outcome.code).toBe(0);
  expect(outcome.summary?.status).toBe('completed');
  expect(outcome.summary?.totals).toMatchObject({ read: records, written: records });
}

describe(`a long stream runs in a ${HEAP_MB} MiB heap`, () => {
  it('1,000,000 generated records -> null sink', async () => {
    const records = 1_000_000;
    const outcome = await runWithSmallHeap([
      { id: 'gen', kind: 'source', connector: 'generator', config: { count: records } },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['gen'] },
    ]);
    expectCompleted(outcome, records);
  }, 180_000);

  it('300,000 generated records through a plugin processor -> null sink', async () => {
    const records = 300_000;
    const outcome = await runWithSmallHeap([
      { id: 'gen', kind: 'source', connector: 'generator', config: { count: records } },
      { id: 'upper', kind: 'processor', plugin: 'uppercase-as.wasm', inputs: ['gen'] },
      { id: 'out', kind: 'sink', connector: 'null', inputs: ['upper'] },
    ]);
    expectCompleted(outcome, records);
  }, 180_000);
});
