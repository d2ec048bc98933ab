/**
 * A one-shot signal that work can be raced against without being retained.
 *
 * `Promise.race([work, signal])` leaves a reaction on `signal` that holds
 * the race's result promise, which holds `work`'s value. When the signal
 * stays pending for a whole run (a rewire that never comes) and the race is
 * run once per poll, every polled batch stays reachable until the run ends:
 * memory grows with every record read. {@link OneShot.race} instead
 * registers one listener per race and removes it as soon as the work
 * settles, so nothing outlives the race but the signal itself.
 */

/** What {@link OneShot.race} resolves with when the signal came first. */
export const RAISED = Symbol('raised');

/** A signal raised at most once; waiters detach when their work settles first. */
export class OneShot {
  #raised = false;
  readonly #listeners = new Set<() => void>();

  /** Whether `raise()` was called. */
  get raised(): boolean {
    return this.#raised;
  }

  /** Raises the signal: every pending race resolves with {@link RAISED}. Later calls do nothing. */
  raise(): void {
    if (this.#raised) return;
    this.#raised = true;
    for (const listener of this.#listeners) listener();
    this.#listeners.clear();
  }

  /** Listeners still waiting (races whose work has not settled); for tests. */
  get waiting(): number {
    return this.#listeners.size;
  }

  /**
   * `work`'s outcome, or {@link RAISED} if the signal is (or gets) raised
   * before `work` settles. `work` is not cancelled; the caller keeps it if
   * it still wants the outcome.
   */
  race<T>(work: Promise<T>): Promise<T | typeof RAISED> {
    if (this.#raised) return Promise.resolve(RAISED);
    return new Promise<T | typeof RAISED>((resolve, reject) => {
      const onRaise = (): void => resolve(RAISED);
      this.#listeners.add(onRaise);
      work.then(
        (value) => {
          this.#listeners.delete(onRaise);
          resolve(value);
        },
        (error: unknown) => {
          this.#listeners.delete(onRaise);
          reject(error);
        },
      );
    });
  }
}

/** What {@link within} resolves with when the time ran out first. */
export const TIMED_OUT = Symbol('timed out');

/** `work`'s outcome, or {@link TIMED_OUT} after `ms` (the timer is cleared either way; `work` is not cancelled). */
export async function within<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
