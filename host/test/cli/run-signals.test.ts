/**
 * RunSignals: a second signal forces the exit (130), but the same signal
 * delivered twice at once (Ctrl-C under `npx host run`: once from the
 * terminal, once passed on by npm) is one signal and only drains. The clock
 * is a stand-in, so nothing waits.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { REPEATED_SIGNAL_MS, RunSignals } from '../../src/cli/run-signals.js';

function signalsAt(clock: { ms: number }) {
  const signals = new RunSignals(pino({ level: 'silent' }), 0, () => clock.ms);
  const state = { forced: undefined as number | undefined };
  void signals.forced.then((code) => (state.forced = code));
  return { signals, state };
}

/** Lets the `forced` promise's reaction run. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('RunSignals', () => {
  it('takes the same signal again within the repeat window as one delivery: no forced exit', async () => {
    const clock = { ms: 1000 };
    const { signals, state } = signalsAt(clock);
    signals.received('SIGINT');
    clock.ms += 5;
    signals.received('SIGINT');
    await settled();
    expect(state.forced).toBeUndefined();
  });

  it('forces the exit with 130 on the same signal after the window, or another signal at once', async () => {
    const clock = { ms: 1000 };
    const later = signalsAt(clock);
    later.signals.received('SIGINT');
    clock.ms += REPEATED_SIGNAL_MS;
    later.signals.received('SIGINT');
    await settled();
    expect(later.state.forced).toBe(130);

    const other = signalsAt(clock);
    other.signals.received('SIGINT');
    other.signals.received('SIGTERM');
    await settled();
    expect(other.state.forced).toBe(130);
  });
});
