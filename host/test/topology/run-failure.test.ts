import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { NodeConfig } from '../../src/config/pipeline-config.js';
import { WeirError } from '../../src/errors/errors.js';
import { DrainDeadline } from '../../src/topology/drain-deadline.js';
import { RunFailure } from '../../src/topology/run-failure.js';

const logger = pino({ level: 'silent' });
const node = (id: string) => ({ id }) as NodeConfig;

describe('RunFailure', () => {
  it('the first processor or sink failure is the run error, wrapped with the node; later ones change nothing', () => {
    const reactions = { failed: vi.fn(), sourceFailed: vi.fn() };
    const failure = new RunFailure(logger, reactions);
    failure.fail(new WeirError('WEIR_PLUGIN_ERROR', 'bad'), node('p'));
    failure.fail(new Error('later'), node('q'));
    expect(failure.error?.code).toBe('WEIR_PIPELINE_FAILED');
    expect(failure.error?.message).toBe('node "p" failed: bad');
    expect(failure.error?.details).toMatchObject({ node: 'p', cause: 'WEIR_PLUGIN_ERROR' });
    expect(reactions.failed).toHaveBeenCalledTimes(1);
  });

  it('a source failure drains first and becomes the run error only when the run settles; it stays the error after a later failure', () => {
    const reactions = { failed: vi.fn(), sourceFailed: vi.fn() };
    const failure = new RunFailure(logger, reactions);
    failure.sourceFailed(new Error('unreadable'), node('src'));
    failure.sourceFailed(new Error('another'), node('src2'));
    expect(reactions.sourceFailed).toHaveBeenCalledTimes(1);
    expect(failure.error).toBeUndefined();
    expect(failure.sourceError?.message).toBe('node "src" failed: unreadable');
    failure.settle();
    expect(failure.error).toBe(failure.sourceError);

    const failing = new RunFailure(logger, reactions);
    failing.sourceFailed(new Error('unreadable'), node('src'));
    failing.fail(new Error('sink broke'), node('sink'));
    expect(failing.error?.message).toBe('node "src" failed: unreadable');
    expect(reactions.failed).toHaveBeenCalledTimes(1);
  });
});

describe('DrainDeadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('at the deadline, cancels what is queued, counts it per node, and counts records refused after', () => {
    vi.useFakeTimers();
    const deadline = new DrainDeadline();
    deadline.start(500, () => true, () => new Map([['sink', 7]]), logger);
    deadline.refused('proc', 3); // before the deadline: not counted
    expect(deadline.timedOut).toBeUndefined();
    vi.advanceTimersByTime(500);
    expect(deadline.over.raised).toBe(true);
    deadline.refused('proc', 3);
    expect(deadline.timedOut).toEqual({ timeoutMs: 500, notWritten: { sink: 7, proc: 3 } });
  });

  it('does nothing when the drain is no longer on at the deadline, or was cleared', () => {
    vi.useFakeTimers();
    const cancel = vi.fn(() => new Map<string, number>());
    const over = new DrainDeadline();
    over.start(100, () => false, cancel, logger);
    const cleared = new DrainDeadline();
    cleared.start(100, () => true, cancel, logger);
    cleared.clear();
    vi.advanceTimersByTime(200);
    expect(cancel).not.toHaveBeenCalled();
    expect(over.timedOut).toBeUndefined();
    expect(cleared.over.raised).toBe(false);
  });
});
