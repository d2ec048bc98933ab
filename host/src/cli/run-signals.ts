/** How `host run` answers SIGINT/SIGTERM, from the start of the command to its end. */
import type { Logger } from 'pino';
import type { PipelineRun } from '../topology/pipeline-run.js';
import { EXIT } from './cli-io.js';

/**
 * What SIGINT/SIGTERM do during `host run`: the first stops the run (at once,
 * or as soon as it starts) with the drain deadline; a second resolves
 * `forced` with exit code 130; after `finish()` they are logged and ignored
 * (the output is complete; the command is exiting).
 */
export class RunSignals {
  readonly forced: Promise<number>;
  #force: (code: number) => void = () => {};
  #count = 0;
  #run: PipelineRun | undefined;
  #finished = false;
  readonly #logger: Logger;
  readonly #drainTimeoutMs: number;

  constructor(logger: Logger, drainTimeoutMs: number) {
    this.#logger = logger;
    this.#drainTimeoutMs = drainTimeoutMs;
    this.forced = new Promise<number>((resolve) => (this.#force = resolve));
  }

  received(signal: NodeJS.Signals): void {
    if (this.#finished) {
      this.#logger.info({ signal }, 'signal received while exiting: the run has ended already');
      return;
    }
    this.#count++;
    if (this.#count === 1) {
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
