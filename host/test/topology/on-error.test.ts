import { describe, expect, it } from 'vitest';
import { decideOnError } from '../../src/topology/on-error.js';
import type { FailedBatch } from '../../src/topology/on-error.js';
import type { OnErrorConfig } from '../../src/config/pipeline-config.js';
import { WeirError } from '../../src/errors/errors.js';

const policy = (p: OnErrorConfig['policy'], maxAttempts = 3, backoffMs = 100): OnErrorConfig => ({ policy: p, maxAttempts, backoffMs });
const processorBatch = (attempt: number, size = 4): FailedBatch => ({ attempt, size, isolatable: true, recreatable: true });
const errorResult = new WeirError('WEIR_PLUGIN_ERROR', 'bad record', { kind: 'error' });
const trap = new WeirError('WEIR_PLUGIN_TRAP', 'unreachable');
const memory = new WeirError('WEIR_LIMIT_MEMORY', 'over the cap');
const fatal = new WeirError('WEIR_PLUGIN_ERROR', 'gone', { kind: 'fatal' });
const invalidInput = new WeirError('WEIR_PLUGIN_ERROR', 'cannot parse', { kind: 'invalid-input' });

describe('decideOnError', () => {
  it('fail: fails at once, whatever the error', () => {
    expect(decideOnError(policy('fail'), errorResult, processorBatch(1))).toEqual({ recreate: false, action: 'fail' });
    expect(decideOnError(policy('fail'), new Error('plain'), processorBatch(1))).toEqual({ recreate: false, action: 'fail' });
  });

  it('retry: backs off exponentially until maxAttempts, then fails', () => {
    expect(decideOnError(policy('retry', 3, 100), errorResult, processorBatch(1))).toEqual({ recreate: false, action: 'retry', delayMs: 100 });
    expect(decideOnError(policy('retry', 3, 100), errorResult, processorBatch(2))).toEqual({ recreate: false, action: 'retry', delayMs: 200 });
    expect(decideOnError(policy('retry', 3, 100), errorResult, processorBatch(3))).toEqual({ recreate: false, action: 'fail' });
  });

  it('retry: an invalid-input error is not retried (it would fail the same way)', () => {
    expect(decideOnError(policy('retry'), invalidInput, processorBatch(1))).toEqual({ recreate: false, action: 'fail' });
  });

  it('a poisoning error or a fatal one recreates the instance first (plugin nodes only)', () => {
    expect(decideOnError(policy('retry'), trap, processorBatch(1))).toEqual({ recreate: true, action: 'retry', delayMs: 100 });
    expect(decideOnError(policy('fail'), fatal, processorBatch(1))).toEqual({ recreate: true, action: 'fail' });
    expect(decideOnError(policy('fail'), memory, { ...processorBatch(1), recreatable: false })).toEqual({ recreate: false, action: 'fail' });
  });

  it('skip and dead-letter: an error result or a trap in a batch of several is isolated record by record', () => {
    expect(decideOnError(policy('skip'), errorResult, processorBatch(1, 4))).toEqual({ recreate: false, action: 'isolate' });
    expect(decideOnError(policy('dead-letter'), trap, processorBatch(1, 2))).toEqual({ recreate: true, action: 'isolate' });
  });

  it('skip and dead-letter: a single record, a limit breach, or a sink batch is set aside whole', () => {
    expect(decideOnError(policy('skip'), errorResult, processorBatch(1, 1))).toEqual({ recreate: false, action: 'set-aside', as: 'skip' });
    expect(decideOnError(policy('dead-letter'), memory, processorBatch(1, 4))).toEqual({ recreate: true, action: 'set-aside', as: 'dead-letter' });
    const sinkBatch: FailedBatch = { attempt: 1, size: 4, isolatable: false, recreatable: false };
    expect(decideOnError(policy('dead-letter'), errorResult, sinkBatch)).toEqual({ recreate: false, action: 'set-aside', as: 'dead-letter' });
  });
});
