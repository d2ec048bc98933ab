/**
 * The `onError` policy of a processor or sink node as a pure decision: given
 * the node's policy, the error a batch failed with, the attempt and the batch
 * size, what the node does next. The lanes and sinks carry the decision out
 * (recreate the instance, wait and retry, run again record by record, set the
 * batch aside, or fail the run).
 *
 * Under skip and dead-letter, a processor batch that fails with an error
 * result or a trap is run again record by record, so one bad record costs
 * only itself; a limit breach (memory, CPU, output) fails the whole batch,
 * since repeating it per record would repeat the breach. A sink may have
 * written part of a batch before failing, so its failed batches are never
 * isolated (that would write those records twice).
 */
import type { OnErrorConfig } from '../config/pipeline-config.js';
import { hasCode } from '../errors/errors.js';
import type { WeirError } from '../errors/errors.js';
import { POISONING_CODES } from '../sandbox/call-guard.js';

/** Failures worth isolating record by record. */
export const ISOLATED_CODES = ['WEIR_PLUGIN_ERROR', 'WEIR_PLUGIN_TRAP', 'WEIR_PLUGIN_BAD_OUTPUT'] as const;

/** What a node does after a batch failed. */
export type OnErrorAction =
  /** Wait `delayMs`, then run the same batch again (attempt + 1). */
  | { action: 'retry'; delayMs: number }
  /** Run the batch again one record at a time (each record under the same policy). */
  | { action: 'isolate' }
  /** Count the batch as failed and skip it, or send it to the dead-letter sink. */
  | { action: 'set-aside'; as: 'skip' | 'dead-letter' }
  /** Fail the run with the error. */
  | { action: 'fail' };

/** An {@link OnErrorAction}, and whether the failed instance is replaced by a new one first. */
export type OnErrorDecision = OnErrorAction & {
  /** The instance is poisoned (a trap, a limit breach) or failed fatally: create a new one before anything else. */
  recreate: boolean;
};

/** The failed batch, as {@link decideOnError} sees it. */
export interface FailedBatch {
  /** 1 for the first run of the batch. */
  attempt: number;
  /** Records in the batch. */
  size: number;
  /** Whether the batch may be run again record by record (processors: yes; sinks: no). */
  isolatable: boolean;
  /** Whether the node's instance can be created again (plugin nodes; built-in connectors cannot). */
  recreatable: boolean;
}

/** Decides what a node with `onError` does after a batch failed with `error`. */
export function decideOnError(onError: OnErrorConfig, error: unknown, batch: FailedBatch): OnErrorDecision {
  const kind = (error as WeirError | undefined)?.details?.kind;
  const recreate = batch.recreatable && (POISONING_CODES.some((code) => hasCode(error, code)) || kind === 'fatal');
  const { policy, maxAttempts, backoffMs } = onError;
  if (policy === 'retry' && batch.attempt < maxAttempts && kind !== 'invalid-input') {
    return { recreate, action: 'retry', delayMs: backoffMs * 2 ** (batch.attempt - 1) };
  }
  if (policy !== 'skip' && policy !== 'dead-letter') return { recreate, action: 'fail' };
  if (batch.isolatable && batch.size > 1 && ISOLATED_CODES.some((code) => hasCode(error, code))) return { recreate, action: 'isolate' };
  return { recreate, action: 'set-aside', as: policy };
}
