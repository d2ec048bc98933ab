/**
 * Bounds how V8 grows the heap of a `host` process, so a long run's memory is
 * flat: the same at 1M records as at 30M.
 *
 * The young generation is held at its starting size:
 *
 * Why: V8 doubles the young generation (semi-spaces of 1 MiB up to 64 MiB
 * each, Node 24) every time the bytes that survived scavenges since the last
 * growth add up to its size. A stream engine always has a few batches in
 * flight when a scavenge runs, so those survivors add up with the length of
 * the run alone: measured on `host run` stdin -> uppercase-as -> stdout, the
 * young generation was 32 MiB after 1M records and 128 MiB after 10M, the
 * resident set 148 -> 206 MiB, with no growth in the old generation (no
 * leak). Dead ArrayBuffers (packed batches are external memory) are freed by
 * those scavenges too, so a smaller young generation frees them sooner.
 * Held at its starting size, the same run stays near 140 MiB at any length,
 * and is no slower (scavenges cost what survives, not what was allocated).
 *
 *
 * With a young generation that small, batches in flight are promoted and die
 * in the old generation, whose limit V8 then raises by up to 4x the live
 * size: the old generation went from ~20 MiB after 1M records to ~43 MiB after
 * 10M. `--heap-growing-percent=100` caps that factor at 2 (what V8 does for
 * a large heap anyway): 109 MiB at 1M, 112 MiB at 10M, for about 4% more CPU
 * (more mark-compacts).
 *
 * What it costs (measured, Node 24, 2 cores) depends on the garbage made per
 * record. The nexmark source once built a string per field of
 * every event; then this bound cost 1.7x the CPU of V8's default growth
 * (`--max-semi-space-size=8` at start). Writing events straight into packed
 * batches, the bound is now the faster setting: q0-q2 ran about 1.2x faster
 * held than with `--max-semi-space-size=8` or `=4` (a larger young generation
 * touches more memory for the same few survivors), and stdin -> uppercase-as
 * -> stdout peaked at 109 / 113 MiB at 1M / 5M records held, 120 / 125 MiB
 * with `--max-semi-space-size=8`. Only `--semi-space-growth-factor` and
 * `--heap-growing-percent` take effect once the process is up:
 * `--max-semi-space-size`, `--min-semi-space-size` and
 * `--scavenger-max-new-space-capacity-mb` set with `setFlagsFromString` are
 * ignored (the heap is configured at start).
 *
 * Both flags are read each time V8 grows the heap, so setting them once the
 * process is up takes effect. A user who sizes the young generation
 * (`--max-semi-space-size`, `--min-semi-space-size`,
 * `--semi-space-growth-factor`) or the growth (`--heap-growing-percent`)
 * themselves, on the command line or in NODE_OPTIONS, is left alone for
 * that setting. Only the `host` process entry calls this: it
 * owns the process; the library never changes process-wide V8 settings.
 */
import { setFlagsFromString } from 'node:v8';

const nodeFlags = (execArgv: readonly string[], nodeOptions: string | undefined): string[] => [...execArgv, ...(nodeOptions ?? '').split(/\s+/)];

/** Whether the node flags already size the young generation. */
export function youngGenerationSizedByUser(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return nodeFlags(execArgv, nodeOptions).some((arg) => /^--(max|min)[-_]semi[-_]space[-_]size\b|^--semi[-_]space[-_]growth[-_]factor\b/.test(arg));
}

/** Whether the node flags already set how the heap grows. */
export function heapGrowthSetByUser(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return nodeFlags(execArgv, nodeOptions).some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg));
}

/** Bounds the heap's growth (see the module comment); returns which settings it made. */
export function boundHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): { youngGeneration: boolean; growth: boolean } {
  const youngGeneration = !youngGenerationSizedByUser(execArgv, nodeOptions);
  if (youngGeneration) setFlagsFromString('--semi-space-growth-factor=1');
  const growth = !heapGrowthSetByUser(execArgv, nodeOptions);
  if (growth) setFlagsFromString('--heap-growing-percent=100');
  return { youngGeneration, growth };
}
