/**
 * Bounds what one node's plugin can write to the host's log: each line is
 * cut to {@link LogLimits.maxMessageChars} (with a marker), and lines pass a
 * token bucket of {@link LogLimits.linesPerSecond} with bursts of up to
 * {@link LogLimits.burst}. Lines over the rate are dropped and counted; the
 * next line that passes is preceded by a warning saying how many were lost,
 * and {@link LogLimiter.dropped} keeps the total for the run summary.
 *
 * One limiter serves every instance of a node (and bounds what a worker
 * thread forwards to the main thread), so the rate is per node.
 */
import { boundedText, MAX_MESSAGE_CHARS } from '../errors/bounded-text.js';
import type { PluginLogLevel } from './host-context.js';

/** How much a node's plugin may log. */
export interface LogLimits {
  /** Longest line kept, in characters; longer ones are cut with a marker. */
  maxMessageChars: number;
  /** Lines per second on average. */
  linesPerSecond: number;
  /** Lines that may pass at once after a quiet spell. */
  burst: number;
}

/** The limits every node gets. */
export const DEFAULT_LOG_LIMITS: Readonly<LogLimits> = Object.freeze({ maxMessageChars: MAX_MESSAGE_CHARS, linesPerSecond: 200, burst: 1000 });

/** What {@link LogLimiter.admit} decided about one line. */
export type LogAdmission =
  | { pass: true; message: string; /** Lines dropped since the last line that passed (0 mostly). */ droppedBefore: number }
  | { pass: false };

/** The size and rate limit of one node's plugin log. */
export class LogLimiter {
  readonly limits: Readonly<LogLimits>;
  readonly #clock: () => number;
  #tokens: number;
  #refilledAt: number;
  #droppedSinceLast = 0;
  #dropped = 0;
  #unclaimed = 0;

  /** `clock` gives milliseconds (monotonic); tests pass their own. */
  constructor(limits: Readonly<LogLimits> = DEFAULT_LOG_LIMITS, clock: () => number = () => performance.now()) {
    this.limits = limits;
    this.#clock = clock;
    this.#tokens = limits.burst;
    this.#refilledAt = clock();
  }

  /** Lines dropped so far (here, and by limiters whose drops were {@link add}ed). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Lines dropped since the last call (a worker hands them to the main thread's limiter with {@link add}). */
  claimDropped(): number {
    const count = this.#unclaimed;
    this.#unclaimed = 0;
    return count;
  }

  /** Counts `count` lines another limiter of the same node dropped (in a worker thread). */
  add(count: number): void {
    this.#dropped += count;
  }

  /** Takes a token for `message` and cuts it to size, or drops it. */
  admit(message: string): LogAdmission {
    const now = this.#clock();
    const { linesPerSecond, burst } = this.limits;
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#refilledAt) * linesPerSecond) / 1000);
    this.#refilledAt = now;
    if (this.#tokens < 1) {
      this.#droppedSinceLast++;
      this.#dropped++;
      this.#unclaimed++;
      return { pass: false };
    }
    this.#tokens -= 1;
    const droppedBefore = this.#droppedSinceLast;
    this.#droppedSinceLast = 0;
    return { pass: true, message: boundedText(message, this.limits.maxMessageChars), droppedBefore };
  }
}

/** The warning logged before the first line that passes after some were dropped. */
export function droppedLinesNote(count: number, limits: Readonly<LogLimits>): string {
  return `${count} plugin log line${count === 1 ? '' : 's'} dropped: over the limit of ${limits.linesPerSecond} lines/s (bursts of ${limits.burst})`;
}

/**
 * A plugin `log` function that passes lines through `limiter` to `write`,
 * writing a warning with the count before the first line after a drop.
 *
 * @example
 * const log = limitedLog(new LogLimiter(), (level, message) => logger[level](message));
 */
export function limitedLog(limiter: LogLimiter, write: (level: PluginLogLevel, message: string, dropped?: number) => void): (level: PluginLogLevel, message: string) => void {
  return (level, message) => {
    const admitted = limiter.admit(message);
    if (!admitted.pass) return;
    if (admitted.droppedBefore > 0) write('warn', droppedLinesNote(admitted.droppedBefore, limiter.limits), admitted.droppedBefore);
    write(level, admitted.message);
  };
}
