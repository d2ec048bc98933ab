/**
 * Keeps V8's young generation at its starting size for the life of a `host`
 * process, so a long run's memory is flat: the same at 1M records as at 30M.
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
 * `--semi-space-growth-factor` is read each time V8 would grow the young
 * generation, so setting it once the process is up takes effect. A user who
 * sizes the young generation themselves (`--max-semi-space-size`,
 * `--min-semi-space-size` or this flag, on the command line or in
 * NODE_OPTIONS) is left alone. Only the `host` process entry calls this: it
 * owns the process; the library never changes process-wide V8 settings.
 */
import { setFlagsFromString } from 'node:v8';

/** Whether the node flags already size the young generation. */
export function youngGenerationSizedByUser(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((arg) => /^--(max|min)[-_]semi[-_]space[-_]size\b|^--semi[-_]space[-_]growth[-_]factor\b/.test(arg));
}

/** Holds the young generation at its starting size (see the module comment); returns whether it did. */
export function holdYoungGeneration(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): boolean {
  if (youngGenerationSizedByUser(execArgv, nodeOptions)) return false;
  setFlagsFromString('--semi-space-growth-factor=1');
  return true;
}
