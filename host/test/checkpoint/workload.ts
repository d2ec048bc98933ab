/**
 * What the checkpoint end-to-end tests share: the workload input, an
 * uninterrupted run of the workload pipeline to compare against, and ways
 * to say where two outputs differ. The workload itself (input, pipelines,
 * kill loop) is scripts/checkpoint-workload.js, shared with the full-size
 * loop in scripts/checkpoint-kill-loop.js.
 */
import { expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OUTPUTS, pipelineDir, startHost, workloadPipeline, writeInput, writePipeline } from '../../../scripts/checkpoint-workload.js';
import type { WorkloadOptions } from '../../../scripts/checkpoint-workload.js';

/** Records per test run: enough for three kills at random points on a loaded two-core machine, few enough to stay fast. */
export const RECORDS = 20_000;
/** The timeout of a test that runs `host run` several times: a guard against a hang, not a time budget (a loaded machine is slow). */
export const LOOP_TIMEOUT_MS = 180_000;
/** Checkpoint interval of the tests (the schema's minimum is 50). */
export const INTERVAL_MS = 100;

/** The seed of this run's kill points: WEIR_KILL_SEED to repeat a failing run. */
export const KILL_SEED = Number(process.env.WEIR_KILL_SEED ?? Date.now() % 1_000_000_007);

/** An uninterrupted run: its folder and the bytes of each output. */
export interface Baseline {
  dir: string;
  input: string;
  /** The transpile cache shared by every run of a test file (later runs start faster). */
  cacheDir: string;
  outputs: Record<string, string>;
}

/** Reads the workload outputs of the pipeline in `dir`. */
export function readOutputs(dir: string, outputs: readonly string[] = OUTPUTS): Record<string, string> {
  return Object.fromEntries(outputs.map((file) => [file, readFileSync(join(dir, file), 'utf8')]));
}

/**
 * Runs `pipeline` in `dir` to completion, without checkpoints; throws with its output unless it exits 0.
 */
export async function runToCompletion(dir: string, pipeline: object, cacheDir: string, args: string[] = []): Promise<string> {
  const run = startHost(writePipeline(dir, pipeline), { cacheDir, args });
  const exit = await run.exited;
  if (exit.code !== 0) throw new Error(`host run of ${dir}/pipeline.json exited ${exit.code ?? exit.signal}:\n${run.output()}`);
  return run.output();
}

/** Writes the workload input and runs the workload pipeline (options, no checkpoint) once, uninterrupted. */
export async function makeBaseline(options: Omit<WorkloadOptions, 'name'> = {}, records = RECORDS): Promise<Baseline> {
  const dir = pipelineDir('weir-ckpt-baseline-');
  const input = join(dir, 'input.jsonl');
  await writeInput(input, records);
  const cacheDir = mkdtempSync(join(tmpdir(), 'weir-cache-'));
  const outputs = options.windowed === false ? OUTPUTS.slice(0, 1) : OUTPUTS;
  await runToCompletion(dir, workloadPipeline({ source: { kind: 'file', path: input }, ...options, name: 'baseline' }), cacheDir);
  return { dir, input, cacheDir, outputs: readOutputs(dir, outputs) };
}

/** Undefined when `actual` is `expected`, else where they first differ (line number and both lines), for a failure message. */
export function firstDifference(actual: string, expected: string): string | undefined {
  if (actual === expected) return undefined;
  const a = actual.split('\n');
  const e = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] !== e[i]) {
      return `first difference at line ${i + 1} (of ${a.length - 1} written, ${e.length - 1} expected):\n  written:  ${a[i] ?? '(end of file)'}\n  expected: ${e[i] ?? '(end of file)'}`;
    }
  }
  return 'same lines, different bytes';
}

/** The lines of a JSONL text, sorted (for outputs whose order depends on parallel lanes). */
export function sortedLines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '').sort();
}

/** A byte-identical output proves nothing if the last run simply started over: it must have read less than everything. */
export function expectResumed(read: number | undefined, context: string, records = RECORDS): void {
  expect(read, `the last run's summary (records read) (${context})`).toBeTypeOf('number');
  expect(read!, `the last run resumed from a checkpoint, so it read fewer than all ${records} records (${context})`).toBeLessThan(records);
}
