/**
 * The deadline of a stop's drain (`host run --drain-timeout`): when the drain
 * takes longer, what is still queued is dropped and counted per node, nodes
 * still busy get a short grace, and the run ends without them.
 */
import type { Logger } from 'pino';
import { OneShot } from './one-shot.js';

/** Records not written because the drain ran out of time, by the node they were queued for. */
export interface DrainTimeout {
  timeoutMs: number;
  notWritten: Record<string, number>;
}

/** The deadline of one run's drain. */
export class DrainDeadline {
  #timer: NodeJS.Timeout | undefined;
  /** Raised when the drain ran out of time. */
  readonly over = new OneShot();
  #timedOut: DrainTimeout | undefined;

  /** Set when the drain ran out of time. */
  get timedOut(): DrainTimeout | undefined {
    return this.#timedOut;
  }

  /**
   * Ends the drain after `timeoutMs` unless `stillDraining()` says it is no
   * longer on: `cancel` drops what is queued and says how much per node.
   */
  start(timeoutMs: number, stillDraining: () => boolean, cancel: () => Map<string, number> | undefined, logger: Logger): void {
    this.#timer = setTimeout(() => {
      if (!stillDraining()) return;
      const notWritten = Object.fromEntries(cancel() ?? []);
      this.#timedOut = { timeoutMs, notWritten };
      logger.warn({ drainTimeoutMs: timeoutMs, notWritten }, 'drain timed out: records still queued are not written');
      this.over.raise();
    }, timeoutMs);
  }

  /** Counts records a node emitted after the drain timed out (not passed on). */
  refused(id: string, count: number): void {
    if (count > 0 && this.#timedOut) this.#timedOut.notWritten[id] = (this.#timedOut.notWritten[id] ?? 0) + count;
  }

  /** The drain is over (the run ends): no deadline any more. */
  clear(): void {
    clearTimeout(this.#timer);
  }
}
