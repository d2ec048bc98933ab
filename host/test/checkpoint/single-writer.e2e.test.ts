/**
 * One process at a time owns a pipeline's checkpoint database: while `host
 * run` runs, a second `host run` of the same pipeline and `host checkpoints
 * --delete` are refused (WEIR_CHECKPOINT_STORE, "in use by another
 * process") instead of writing over each other's checkpoints. A `kill -9`
 * releases it: the next run starts at once.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { checkpointCompleted, hostBin, startHost, untilOrExit } from '../../../scripts/checkpoint-workload.js';

const root = join(import.meta.dirname, '../../..');

describe('one process per checkpoint database', () => {
  it('refuses a second run and a delete while a run holds it; kill -9 releases it', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-single-'));
    const pipelineFile = join(dir, 'pipeline.json');
    writeFileSync(pipelineFile, JSON.stringify({
      name: 'endless',
      plugins: { dir: join(root, 'plugins') },
      checkpoint: { intervalMs: 100 },
      nodes: [
        { id: 'in', kind: 'source', connector: 'generator', config: { count: 0, ratePerSec: 500 } },
        { id: 'out', kind: 'sink', connector: 'file', inputs: ['in'], config: { path: 'out.jsonl' } },
      ],
    }));
    const db = join(dir, '.weir/endless/checkpoint.db');
    const cacheDir = mkdtempSync(join(tmpdir(), 'weir-cache-'));
    const first = startHost(pipelineFile, { cacheDir });
    expect(await untilOrExit(first, async () => existsSync(db) && (await checkpointCompleted(db, 'out')))).toBe(true);

    const second = startHost(pipelineFile, { cacheDir });
    const { code } = await second.exited;
    expect(code).toBe(1);
    expect(second.output()).toMatch(/WEIR_CHECKPOINT_STORE.*in use by another process: is this pipeline already running\?/);

    const deleting = await promisify(execFile)(process.execPath, [hostBin, 'checkpoints', pipelineFile, '--delete']).then(() => 0, (error: { code: number; stderr: string }) => error);
    expect(deleting).toMatchObject({ code: 1, stderr: expect.stringMatching(/in use by another process/) });
    expect(first.done()).toBe(false);

    first.child.kill('SIGKILL');
    await first.exited;
    const third = startHost(pipelineFile, { cacheDir, logLevel: 'info' });
    expect(await untilOrExit(third, () => third.output().includes('pipeline running'))).toBe(true);
    expect(third.output()).toContain('resuming from the stored checkpoint');
    third.child.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);
  });
});
