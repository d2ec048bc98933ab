// Checkpoint acceptance 4 (issue 16) and the refusals around restoring,
// scaled to stay fast: the real `host run` (dist/) as a child process.
// - parallelism 2 -> 3 between two runs: keyed counts and windows carry on (key
//   groups redistributed), nothing lost or repeated;
// - a pipeline whose graph no longer matches its checkpoint is refused with exit 2
//   and WEIR_CHECKPOINT_MISMATCH naming the node, leaving the output alone, and
//   `--fresh` starts over; `host checkpoints` lists the stored savepoint first.
// Kills wait on conditions, never on fixed sleeps. WEIR_KILL_SEED=<n> repeats a run's kill points.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  checkpointCompleted, checkpointDb, fileSize, hasCheckpoint, hostBin, pipelineDir, readCount, startHost, untilOrExit, workloadPipeline, workloadWindow, writePipeline,
} from '../../../scripts/checkpoint-workload.js';
import type { WorkloadOptions } from '../../../scripts/checkpoint-workload.js';
import { INTERVAL_MS, RECORDS, expectResumed, firstDifference, makeBaseline, readOutputs, sortedLines, LOOP_TIMEOUT_MS } from './workload.js';
import type { Baseline } from './workload.js';

let baseline: Baseline;

beforeAll(async () => {
  baseline = await makeBaseline();
});

/** Starts the pipeline in `dir` and stops it with `signal` once a checkpoint has completed and the counts output passed `share` of its final size. */
async function runUntil(dir: string, pipeline: object, share: number, signal: NodeJS.Signals): Promise<string> {
  const run = startHost(writePipeline(dir, pipeline), { cacheDir: baseline.cacheDir });
  const target = share * Buffer.byteLength(baseline.outputs['out/counts.jsonl']!);
  const name = (pipeline as { name: string }).name;
  const held = await untilOrExit(run, async () => fileSize(join(dir, 'out/counts.jsonl')) > target && (await checkpointCompleted(checkpointDb(join(dir, '.weir'), name))));
  if (!held) throw new Error(`host run ended before a checkpoint completed and ${Math.round(share * 100)}% of the output was written:\n${run.output()}`);
  run.child.kill(signal);
  const exit = await run.exited;
  if (signal === 'SIGTERM' && exit.code !== 0) throw new Error(`SIGTERM: host run exited ${exit.code ?? exit.signal}, not 0:\n${run.output()}`);
  return run.output();
}

describe('checkpoints: restoring into a changed pipeline', () => {
  it('parallelism 2 -> 3 between two runs (kill -9 mid-run): per-key counts and windows continue, nothing lost or repeated', async () => {
    const dir = pipelineDir('weir-ckpt-rescale-');
    // A lateness far beyond the lanes' skew, so no record is late whatever the interleaving of lanes (the
    // windows' content is the baseline's; only their order follows the lanes).
    const window = { ...workloadWindow(), allowedLatenessMs: 10 * workloadWindow().sizeMs };
    const pipeline = (parallelism: number) => workloadPipeline({
      name: 'rescale', source: { kind: 'file', path: baseline.input }, parallelism, window,
      checkpoint: { intervalMs: INTERVAL_MS, dir: '.weir', delivery: 'exactly-once' },
    });
    await runUntil(dir, pipeline(2), 0.4, 'SIGKILL');
    const second = startHost(writePipeline(dir, pipeline(3)), { cacheDir: baseline.cacheDir, args: ['--summary-json', join(dir, 'summary.json')] });
    const exit = await second.exited;
    expect(exit.code, second.output()).toBe(0);
    expectResumed(readCount(join(dir, 'summary.json')), second.output());
    const outputs = readOutputs(dir);
    // Lanes interleave, so compare as sorted lines: the same records, each count the key's running count.
    for (const [file, text] of Object.entries(baseline.outputs)) {
      const written = sortedLines(outputs[file]!);
      const expected = sortedLines(text);
      expect(written.length, `${file}: lines written`).toBe(expected.length);
      expect(firstDifference(written.join('\n'), expected.join('\n')), `${file} (sorted)`).toBeUndefined();
    }
  }, LOOP_TIMEOUT_MS);

  it('a graph that no longer matches the checkpoint is refused: exit 2, WEIR_CHECKPOINT_MISMATCH naming the node, output untouched; --fresh starts over', async () => {
    const dir = pipelineDir('weir-ckpt-graph-');
    const options: WorkloadOptions = { name: 'graph', source: { kind: 'file', path: baseline.input }, checkpoint: { intervalMs: INTERVAL_MS, dir: '.weir', delivery: 'exactly-once' } };
    await runUntil(dir, workloadPipeline(options), 0.3, 'SIGTERM');
    const before = readOutputs(dir);

    // `host checkpoints` lists the savepoint: the keyed count holds every one of the workload's 101 keys.
    const listed = spawnSync(process.execPath, [hostBin, 'checkpoints', join(dir, 'pipeline.json')], { encoding: 'utf8', env: { ...process.env, WEIR_CACHE_DIR: baseline.cacheDir } });
    expect(listed.status, listed.stdout + listed.stderr).toBe(0);
    expect(listed.stdout).toContain('pipeline "graph": checkpoint ');
    expect(listed.stdout, 'the row of node count: 101 keys').toMatch(/^\s+count\s+101\s+\d+$/m);

    // The keyed count renamed: its state has nowhere to go.
    const renamed = workloadPipeline({ ...options, countId: 'tally' });
    const refused = startHost(writePipeline(dir, renamed), { cacheDir: baseline.cacheDir });
    const exit = await refused.exited;
    expect(exit.code, refused.output()).toBe(2);
    expect(refused.output()).toContain('WEIR_CHECKPOINT_MISMATCH');
    expect(refused.output(), 'the message names the node whose state has nowhere to go').toMatch(/["'`]count["'`]/);
    expect(refused.output()).toContain('--fresh');
    const after = readOutputs(dir);
    for (const [file, text] of Object.entries(before)) expect(firstDifference(after[file]!, text), `${file} untouched by the refused run`).toBeUndefined();

    const fresh = startHost(join(dir, 'pipeline.json'), { cacheDir: baseline.cacheDir, args: ['--fresh', '--summary-json', join(dir, 'summary.json')] });
    const freshExit = await fresh.exited;
    expect(freshExit.code, fresh.output()).toBe(0);
    expect(readCount(join(dir, 'summary.json')), 'records read by the --fresh run: all of them').toBe(RECORDS);
    const outputs = readOutputs(dir);
    for (const [file, text] of Object.entries(baseline.outputs)) expect(firstDifference(outputs[file]!, text), `${file} after --fresh`).toBeUndefined();
    expect(hasCheckpoint(join(dir, '.weir'), 'graph')).toBe(true);
  }, LOOP_TIMEOUT_MS);
});
