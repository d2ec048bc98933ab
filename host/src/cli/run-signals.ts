/** How `host run` answers SIGINT/SIGTERM, from the start of the command to its end. */
import type { Logger } from 'pino';
import type { PipelineRun } from '../topology/pipeline-run.js';
import { EXIT } from './cli-io.js';

/**
 * The same signal again within this many milliseconds is one signal delivered
 * twice: Ctrl-C under `npx host run` reaches the host from the terminal and
 * again from npm, which passes it on to its child.
 */
export const REPEATED_SIGNAL_MS = 300;

/**
 * What SIGINT/SIGTERM do during `host run`: the first stops the run (at once,
 * or as soon as it starts) with the drain deadline; a second resolves
 * `forced` with exit code 130 (the same signal within
 * {@link REPEATED_SIGNAL_MS} of the first counts as the first); after
 * `finish()` they are logged and ignored (the output is complete; the
 * command is exiting).
 */
export class RunSignals {
  readonly forced: Promise<number>;
  #force: (code: number) => void = () => {};
  #count = 0;
  #run: PipelineRun | undefined;
  #finished = false;
  #first: { signal: NodeJS.Signals; at: number } | undefined;
  readonly #logger: Logger;
  readonly #drainTimeoutMs: number;
  readonly #now: () => number;

  /** @param now the clock that tells a repeated delivery from a second signal (milliseconds) */
  constructor(logger: Logger, drainTimeoutMs: number, now: () => number = () => performance.now()) {
    this.#logger = logger;
    this.#drainTimeoutMs = drainTimeoutMs;
    this.#now = now;
    this.forced = new Promise<number>((resolve) => (this.#force = resolve));
  }

  received(signal: NodeJS.Signals): void {
    if (this.#finished) {
      this.#logger.info({ signal }, 'signal received while exiting: the run has ended already');
      return;
    }
    const at = this.#now();
    if (this.#first?.signal === signal && at - this.#first.at < REPEATED_SIGNAL_MS) {
      this.#logger.debug({ signal }, 'the same signal again at once (passed on by a parent process, as npx does): taken as one');
      return;
    }
    this.#count++;
    if (this.#count === 1) {
      this.#first = { signal, at };
      this.#logger.info({ signal, drainTimeoutMs: this.#drainTimeoutMs }, this.#run ? 'signal received: draining (send it again to exit at once)' : 'signal received before the pipeline runs: it stops as soon as it starts (send it again to exit at once)');
      this.#stop();
    } else {
      this.#logger.warn({ signal }, 'second signal: exiting without draining');
      this.#force(EXIT.interrupted);
    }
  }

  /** The run has started: a signal that came before stops it now. */
  attach(run: PipelineRun): void {
    this.#run = run;
    if (this.#count > 0) this.#stop();
  }

  /** The command is ending: signals from now on change nothing. */
  finish(): void {
    this.#finished = true;
  }

  #stop(): void {
    this.#run?.stop(this.#drainTimeoutMs > 0 ? { drainTimeoutMs: this.#drainTimeoutMs } : {});
  }
}
