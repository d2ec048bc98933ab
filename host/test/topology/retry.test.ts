/**
 * `onError: retry`: how many times a failing batch is really attempted, and
 * that a batch whose failure was transient gets through on a later attempt.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { WeirError } from '../../src/errors/errors.js';
import type { StreamRecord } from '../../src/records/record.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { observeInstances } from '../fixtures/observed-instances.js';
import { pipelinesClosedAfterEach } from '../fixtures/test-pipeline.js';

let fixtures: string;
let cacheDir: string;

beforeAll(async () => {
  fixtures = await buildFixtures('probe-js');
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

const startPipeline = pipelinesClosedAfterEach();

/** Runs in.jsonl -> probe (under `onError`) -> out.jsonl; `intercept` may fail an attempt before the plugin sees it. */
async function runProbe(values: string[], onError: Record<string, unknown>, intercept?: (batch: StreamRecord[], call: number) => void) {
  let observed: ReturnType<typeof observeInstances> | undefined;
  const logs: { msg: string; attempt?: number }[] = [];
  const logStream = new Writable({ write: (chunk: Buffer, _enc, done) => { logs.push(JSON.parse(chunk.toString('utf8')) as { msg: string }); done(); } });
  const { run, dir } = await startPipeline({
    pipeline: {
      name: 'retry',
      nodes: [
        { id: 'in', kind: 'source', connector: 'file', config: { path: 'in.jsonl' } },
        { id: 'probe', kind: 'processor', plugin: 'probe-js.wasm', inputs: ['in'], onError },
        { id: 'out', kind: 'sink', connector: 'file', inputs: ['probe'], config: { path: 'out.jsonl' } },
      ],
    },
    files: { 'in.jsonl': values.map((value) => JSON.stringify({ value })).join('\n') },
    plugins: fixtures,
    cacheDir,
    logger: pino({ level: 'warn' }, logStream),
    instantiate: (loaded) => (observed = observeInstances(loaded, 'probe', intercept)).instantiate,
  });
  const summary = await run.done;
  const attempts = observed!.batches.flat();
  const out = async () => (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { value: string }).value);
  return { summary, attempts, logs, out };
}

describe('onError: retry', () => {
  it('attempts a batch that keeps failing exactly maxAttempts times, then fails the run', async () => {
    const { summary, attempts, logs } = await runProbe(['flaky'], { policy: 'retry', maxAttempts: 3, backoffMs: 1 });
    expect(summary.status).toBe('failed');
    expect(summary.nodes.find((n) => n.id === 'probe')).toMatchObject({ in: 1, out: 0, errors: 1 });
    expect(attempts).toHaveLength(3);
    expect(logs.filter((l) => l.msg === 'batch failed; retrying').map((l) => l.attempt)).toEqual([1, 2]);
  });

  it('gets a batch through when a later attempt succeeds', async () => {
    const transient = new WeirError('WEIR_PLUGIN_ERROR', 'try again', { kind: 'transient' });
    const { summary, attempts, out } = await runProbe(['a'], { policy: 'retry', maxAttempts: 3, backoffMs: 1 }, (_batch, call) => {
      if (call < 3) throw transient;
    });
    expect(summary.status).toBe('completed');
    expect(attempts).toHaveLength(3);
    expect(summary.nodes.find((n) => n.id === 'probe')).toMatchObject({ in: 1, out: 1, errors: 0 });
    expect(await out()).toEqual(['a#1']);
  });

  it('does not retry an invalid-input error', async () => {
    const { summary, attempts } = await runProbe(['bad'], { policy: 'retry', maxAttempts: 3, backoffMs: 1 });
    expect(summary.status).toBe('failed');
    expect(attempts).toHaveLength(1);
  });
});
