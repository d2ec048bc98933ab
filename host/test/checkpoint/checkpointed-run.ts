/**
 * In-process runs with checkpoints on, for the tests of how checkpoints fit
 * the rest of the topology (fan-in, dead letters, lanes, stdin, reloads,
 * edits): {@link startCheckpointed} prepares a pipeline as `host run` does
 * and starts a PipelineRun with a {@link RecordingStore}, which keeps every
 * checkpoint it was asked to write (and the whole stored checkpoint after
 * each), so a test can check each one is a consistent cut.
 *
 * Lifecycle: the run is stopped (and awaited) by the `close()` of the
 * returned pipeline; use {@link checkpointedRunsClosedAfterEach} to close
 * every run a test started once it ends.
 */
import { afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pino } from 'pino';
import { MemoryCheckpointStore } from '../../src/checkpoint/memory-store.js';
import type { CheckpointWrite, StoredCheckpoint } from '../../src/checkpoint/checkpoint-store.js';
import type { Delivery } from '../../src/config/pipeline-config.js';
import { PipelineRun } from '../../src/topology/pipeline-run.js';
import type { RunDependencies } from '../../src/topology/pipeline-run.js';
import { TestPipeline, prepareTestPipeline } from '../fixtures/test-pipeline.js';
import type { TestPipelineOptions } from '../fixtures/test-pipeline.js';

/** The repository's example plugins (built into plugins/ by the build). */
export const examplePlugins = join(import.meta.dirname, '..', '..', '..', 'plugins');

/** A memory store that keeps every checkpoint written, and can be told to fail writes. */
export class RecordingStore extends MemoryCheckpointStore {
  /** What each write was asked to write, in order. */
  readonly written: CheckpointWrite[] = [];
  /** The whole stored checkpoint after each write. */
  readonly stored: StoredCheckpoint[] = [];
  /** Writes for which this returns true fail (nothing is stored). */
  failWhen: ((checkpoint: CheckpointWrite) => boolean) | undefined;

  override async write(checkpoint: CheckpointWrite): Promise<void> {
    if (this.failWhen?.(checkpoint)) throw new Error('disk full');
    await super.write(checkpoint);
    this.written.push(checkpoint);
    this.stored.push((await this.latest())!);
  }
}

/** What to run, and how its checkpoints go. */
export interface CheckpointedOptions extends TestPipelineOptions {
  store?: RecordingStore;
  intervalMs?: number;
  delivery?: Delivery;
  /** The run's standard input (default: empty). */
  stdin?: Readable;
  /** Resume from this checkpoint. */
  restored?: StoredCheckpoint;
  /** No checkpoints at all (plugin sources still get in-memory barriers). */
  noCheckpoints?: boolean;
}

/** A started run with its store. */
export interface CheckpointedRun extends TestPipeline {
  store: RecordingStore;
}

/** Prepares the pipeline and starts it with checkpoints into a {@link RecordingStore}. */
export async function startCheckpointed(options: CheckpointedOptions): Promise<CheckpointedRun> {
  const prepared = await prepareTestPipeline(options);
  const store = options.store ?? new RecordingStore();
  const deps: RunDependencies = {
    modules: options.modules ? options.modules(prepared.modules) : prepared.modules,
    connectors: prepared.connectors,
    logger: options.logger ?? pino({ level: 'silent' }),
    stdin: options.stdin ?? Readable.from([]),
    stdout: options.stdout ?? new PassThrough(),
    ...(options.instantiate ? { instantiate: options.instantiate(prepared.modules) } : {}),
    ...(options.noCheckpoints ? {} : { checkpoints: { store, intervalMs: options.intervalMs ?? 20, delivery: options.delivery ?? 'exactly-once', ...(options.restored ? { restored: options.restored } : {}) } }),
  };
  const run = await PipelineRun.start(prepared.config, deps);
  return Object.assign(new TestPipeline(prepared, run), { store });
}

/** A {@link startCheckpointed} whose runs are closed after each test of the file. */
export function checkpointedRunsClosedAfterEach(): (options: CheckpointedOptions) => Promise<CheckpointedRun> {
  const open = new Set<CheckpointedRun>();
  afterEach(async () => {
    const closing = [...open];
    open.clear();
    await Promise.all(closing.map((run) => run.close().catch(() => undefined)));
  });
  return async (options) => {
    const run = await startCheckpointed(options);
    open.add(run);
    return run;
  };
}

const decoder = new TextDecoder();

/** A built-in connector's position or token: `{"v":1,...}`. */
export function positionOf(checkpoint: StoredCheckpoint, node: string): Record<string, number> | undefined {
  const part = checkpoint.parts.find((p) => p.node === node && (p.part === 'source' || p.part === 'sink'));
  return part ? (JSON.parse(decoder.decode(part.data)) as Record<string, number>) : undefined;
}

/** A node's keyed state in a stored checkpoint, as text: key -> value. */
export function stateOf(checkpoint: StoredCheckpoint, node: string): Map<string, string> {
  return new Map((checkpoint.state.get(node) ?? []).map(([k, v]) => [decoder.decode(k), decoder.decode(v)]));
}

/** The sum of a count-by-key node's counts in a stored checkpoint. */
export function countTotal(checkpoint: StoredCheckpoint, node: string): number {
  let total = 0;
  for (const value of stateOf(checkpoint, node).values()) total += Number(value);
  return total;
}

/** Lines in the first `length` bytes of `file` (the length a file sink's token holds). */
export function linesWithin(file: string, length: number): number {
  const bytes = readFileSync(file).subarray(0, length);
  let lines = 0;
  for (const byte of bytes) if (byte === 0x0a) lines++;
  return lines;
}

/** `n` JSON lines `{"key":"k<i mod keys>","value":"<prefix><i>"}`. */
export function keyedLines(n: number, keys: number, prefix = 'v'): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ key: `k${i % keys}`, value: `${prefix}${i}` })).join('\n') + '\n';
}
