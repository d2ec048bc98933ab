// Checkpoint acceptance 5 (issue 16), scaled to stay fast: a JS plugin source
// with positions (fixture seq-source-js: reports its position with every poll and
// continues after the position it is opened with) under the real `host run`
// (dist/), killed with -9 at random points and started again after each: every
// record once, byte-identical to an uninterrupted run. Kills wait on conditions
// (a checkpoint has completed, the output grew), never on fixed sleeps.
// The fixture logs where it opened and each ack: a run after a crash must open at or
// after every position acknowledged before it (acks only for durable checkpoints).
// WEIR_KILL_SEED=<n> repeats a run's kill points.
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ackProblems, checkpointCompleted, checkpointDb, killLoop, killPoints, parseLines, pipelineDir, seededRandom, workloadPipeline, writePipeline } from '../../../scripts/checkpoint-workload.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { INTERVAL_MS, KILL_SEED, RECORDS, expectResumed, firstDifference, makeBaseline, LOOP_TIMEOUT_MS } from './workload.js';
import type { Baseline } from './workload.js';

describe('checkpoints: a JS plugin source with positions', () => {
  let plugin: string;
  let sourceBaseline: Baseline;
  const sourceOf = () => ({ kind: 'plugin' as const, plugin, config: { count: RECORDS } });

  beforeAll(async () => {
    plugin = join(await buildFixtures('seq-source-js'), 'seq-source-js.wasm');
    sourceBaseline = await makeBaseline({ windowed: false, source: sourceOf() });
  });

  it('the fixture, uninterrupted: records 0..N-1, each once, in order', () => {
    const records = parseLines(sourceBaseline.outputs['out/counts.jsonl']!);
    expect(records.map((r) => Number(r.headers!.seq))).toEqual(Array.from({ length: RECORDS }, (_, i) => i));
  });

  it('kill -9 at 3 random points, restarted after each: every record once, byte-identical to an uninterrupted run', async () => {
    const dir = pipelineDir('weir-ckpt-plugin-source-');
    const name = 'plugin-source';
    const file = writePipeline(dir, workloadPipeline({ name, windowed: false, source: sourceOf(), checkpoint: { intervalMs: INTERVAL_MS, dir: '.weir', delivery: 'exactly-once' } }));
    const seed = KILL_SEED + 3;
    const runs = await killLoop({
      pipelineFile: file, watch: join(dir, 'out/counts.jsonl'), finalBytes: Buffer.byteLength(sourceBaseline.outputs['out/counts.jsonl']!),
      ready: () => checkpointCompleted(checkpointDb(join(dir, '.weir'), name)), points: killPoints(seededRandom(seed), 3),
      // info: the fixture logs where it opened and each ack.
      runOptions: { cacheDir: sourceBaseline.cacheDir, logLevel: 'info' },
    });
    const context = `seed ${seed}; db ${checkpointDb(join(dir, '.weir'), name)}; runs: ${JSON.stringify(runs.map(({ output, ...r }) => r))}\nlast output:\n${runs.at(-1)!.output}`;
    expect(runs.at(-1)!.exit.code, `the last run's exit code (${context})`).toBe(0);
    expect(runs.filter((r) => r.killed).length, `killed 3 times before the source ended (each kill waits for a completed checkpoint: did none complete?) (${context})`).toBe(3);
    expectResumed(runs.at(-1)!.read, context);
    const text = readFileSync(join(dir, 'out/counts.jsonl'), 'utf8');
    const seqs = parseLines(text).map((r) => Number(r.headers!.seq));
    const seen = new Set(seqs);
    expect(seqs.length - seen.size, `records repeated (${context})`).toBe(0);
    expect(Array.from({ length: RECORDS }, (_, i) => i).filter((i) => !seen.has(i)).slice(0, 10), `records lost (${context})`).toEqual([]);
    expect(firstDifference(text, sourceBaseline.outputs['out/counts.jsonl']!), context).toBeUndefined();

    // Acked only for what is durable: whatever the source was acked before a crash, the next run opens at or after it.
    expect(ackProblems(runs), context).toEqual([]);
  }, LOOP_TIMEOUT_MS);
});

