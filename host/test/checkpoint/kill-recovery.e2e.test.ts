// Checkpoint acceptance 1-3 (issue 16), scaled to stay fast: the real `host run`
// (dist/) as a child process on the workload pipeline (file -> keyed count ->
// file, and -> tumbling event-time window -> file), killed at random points
// and started again, its output compared with an uninterrupted run. Kills happen
// on conditions (a checkpoint has completed, the output has grown past a random
// share of its final size and past where the previous run was killed), never
// after fixed sleeps. WEIR_KILL_SEED=<n> repeats a run's kill points.
// The full-size loops (1M records, 20 kills) are scripts/checkpoint-kill-loop.js.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkpointCompleted, checkpointDb, committedSinkBytes, duplicatesPerKill, killLoop, killPoints, parseLines, pipelineDir, repeatBounds, seededRandom, workloadPipeline, writePipeline,
} from '../../../scripts/checkpoint-workload.js';
import { INTERVAL_MS, KILL_SEED, RECORDS, expectResumed, firstDifference, makeBaseline, readOutputs, runToCompletion, sortedLines, LOOP_TIMEOUT_MS } from './workload.js';
import type { Baseline } from './workload.js';

const KILLS = 3;
let baseline: Baseline;

beforeAll(async () => {
  baseline = await makeBaseline();
});

/** A pipeline folder whose workload pipeline reads the baseline input (or stdin) with checkpoints on. */
function checkpointed(name: string, delivery: 'exactly-once' | 'at-least-once', source: 'file' | 'stdin' = 'file') {
  const dir = pipelineDir(`weir-ckpt-${name}-`);
  const pipeline = workloadPipeline({
    name,
    source: source === 'file' ? { kind: 'file', path: baseline.input } : { kind: 'stdin' },
    checkpoint: { intervalMs: INTERVAL_MS, dir: '.weir', delivery },
  });
  return { dir, file: writePipeline(dir, pipeline), db: checkpointDb(join(dir, '.weir'), name), counts: join(dir, 'out/counts.jsonl') };
}

const finalBytes = () => Buffer.byteLength(baseline.outputs['out/counts.jsonl']!);

describe('the workload (no checkpoints)', () => {
  it('is deterministic: a run with batches of 7 records writes the same bytes as the baseline', async () => {
    const dir = pipelineDir('weir-ckpt-batch7-');
    await runToCompletion(dir, workloadPipeline({ name: 'batch7', source: { kind: 'file', path: baseline.input }, batch: { maxRecords: 7 } }), baseline.cacheDir);
    const outputs = readOutputs(dir);
    for (const [file, text] of Object.entries(baseline.outputs)) expect(firstDifference(outputs[file]!, text), file).toBeUndefined();
    expect(parseLines(baseline.outputs['out/counts.jsonl']!)).toHaveLength(RECORDS);
    expect(parseLines(baseline.outputs['out/windows.jsonl']!).length).toBeGreaterThan(1000);
  });
});

describe('checkpoints: kill and restart', () => {
  it('exactly-once: kill -9 at 3 random points, restarted after each: output byte-identical to an uninterrupted run', async () => {
    const p = checkpointed('exactly', 'exactly-once');
    const runs = await killLoop({
      pipelineFile: p.file, watch: p.counts, finalBytes: finalBytes(), ready: () => checkpointCompleted(p.db),
      points: killPoints(seededRandom(KILL_SEED), KILLS), runOptions: { cacheDir: baseline.cacheDir },
    });
    const context = `seed ${KILL_SEED}; runs: ${JSON.stringify(runs.map(({ output, ...r }) => r))}\nlast output:\n${runs.at(-1)!.output}`;
    expect(runs.at(-1)!.exit.code, `the last run's exit code (${context})`).toBe(0);
    expect(runs.filter((r) => r.killed).length, `killed ${KILLS} times before the input ended (each kill waits for a completed checkpoint: did none complete?) (${context})`).toBe(KILLS);
    expectResumed(runs.at(-1)!.read, context);
    const outputs = readOutputs(p.dir);
    for (const [file, text] of Object.entries(baseline.outputs)) expect(firstDifference(outputs[file]!, text), `${file} (${context})`).toBeUndefined();
  }, LOOP_TIMEOUT_MS);

  it('at-least-once: kill -9 at 3 random points: nothing missing, repeats are exact and no more than the records after the last completed checkpoint', async () => {
    const p = checkpointed('atleast', 'at-least-once');
    const runs = await killLoop({
      pipelineFile: p.file, watch: p.counts, finalBytes: finalBytes(), ready: () => checkpointCompleted(p.db),
      points: killPoints(seededRandom(KILL_SEED + 1), KILLS), runOptions: { cacheDir: baseline.cacheDir },
      // What the last completed checkpoint covers of the counts sink, just before the kill (one completing
      // after this read only makes the true bound smaller).
      beforeKill: () => committedSinkBytes(p.db, 'counts'),
    });
    const context = `seed ${KILL_SEED + 1}; runs: ${JSON.stringify(runs.map(({ output, ...r }) => r))}\nlast output:\n${runs.at(-1)!.output}`;
    const killed = runs.filter((r) => r.killed);
    expect(runs.at(-1)!.exit.code, `the last run's exit code (${context})`).toBe(0);
    expect(killed.length, `killed ${KILLS} times before the input ended (each kill waits for a completed checkpoint: did none complete?) (${context})`).toBe(KILLS);
    expectResumed(runs.at(-1)!.read, context);

    const counts = readFileSync(p.counts);
    const text = counts.toString('utf8');
    parseLines(text, 'out/counts.jsonl');
    // Where each restart began appending: the size once the killed run had ended.
    const killedAt = killed.map((r) => r.endBytes);
    const { perKill, missing, distinct, problems } = duplicatesPerKill(text, killedAt, RECORDS);
    expect(missing, `records missing from out/counts.jsonl (${context})`).toEqual([]);
    expect(distinct).toBe(RECORDS);
    expect(problems, context).toEqual([]);
    // Each restart repeats no more than the lines written after the last completed checkpoint before its kill.
    repeatBounds(counts, killed).forEach(({ bound, how }, k) => {
      expect(perKill[k], `restart ${k + 1} repeated ${perKill[k]} records; ${bound} were written after the last checkpoint (${how}) (${context})`).toBeLessThanOrEqual(bound);
    });
    // Windows: every window of the uninterrupted run, each repeat an exact copy.
    const windows = [...new Set(sortedLines(readFileSync(join(p.dir, 'out/windows.jsonl'), 'utf8')))];
    expect(firstDifference(windows.join('\n'), sortedLines(baseline.outputs['out/windows.jsonl']!).join('\n')), `out/windows.jsonl, distinct lines sorted (${context})`).toBeUndefined();
  }, LOOP_TIMEOUT_MS);

  it('SIGTERM at 3 points with stdin piped again each time: every stop exits 0 and the output is identical to an uninterrupted run', async () => {
    const p = checkpointed('savepoint', 'exactly-once', 'stdin');
    const runs = await killLoop({
      pipelineFile: p.file, watch: p.counts, finalBytes: finalBytes(), signal: 'SIGTERM',
      points: killPoints(seededRandom(KILL_SEED + 2), KILLS), runOptions: { cacheDir: baseline.cacheDir, stdinFile: baseline.input },
    });
    const context = `seed ${KILL_SEED + 2}; runs: ${JSON.stringify(runs.map(({ output, ...r }) => r))}\nlast output:\n${runs.at(-1)!.output}`;
    for (const run of runs) expect(run.exit.code, `${run.output}\n(${context})`).toBe(0);
    expect(runs.filter((r) => r.killed).length, `stopped ${KILLS} times before the input ended (${context})`).toBe(KILLS);
    // Each stop took a checkpoint of everything it had read, and the next run skipped those lines: every record read once.
    expect(runs.map((r) => r.read ?? 0).reduce((a, b) => a + b, 0), `records read over all runs (${context})`).toBe(RECORDS);
    const outputs = readOutputs(p.dir);
    for (const [file, text] of Object.entries(baseline.outputs)) expect(firstDifference(outputs[file]!, text), `${file} (${context})`).toBeUndefined();
  }, LOOP_TIMEOUT_MS);
});
