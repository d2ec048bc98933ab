/**
 * How a run fails. A processor or sink that fails under `onError: fail` (or
 * a sink that cannot flush) fails the run at once: queued records are
 * dropped. A source that fails stops the run as a stop does (what it
 * returned before is good input, so what was read drains to the sinks), and
 * the run then fails with that source's error. The first error is the run's;
 * later ones are logged.
 */
import type { Logger } from 'pino';
import type { NodeConfig } from '../config/pipeline-config.js';
import { WeirError, messageOf } from '../errors/errors.js';

/** What the run does when it fails. */
export interface FailureReactions {
  /** A processor or sink failed: cancel the channels (queued records are dropped). */
  failed(): void;
  /** A source failed: stop the sources and drain, as at a stop. */
  sourceFailed(): void;
}

/** The failure of one run, if any. */
export class RunFailure {
  readonly #logger: Logger;
  readonly #reactions: FailureReactions;
  #failure: WeirError | undefined;
  #sourceFailure: WeirError | undefined;

  constructor(logger: Logger, reactions: FailureReactions) {
    this.#logger = logger;
    this.#reactions = reactions;
  }

  /** The run's error once it failed (a processor or sink failed, or the run ended after a source failed). */
  get error(): WeirError | undefined {
    return this.#failure;
  }

  /** The first source failure, while the run drains what was read. */
  get sourceError(): WeirError | undefined {
    return this.#sourceFailure;
  }

  /**
   * A processor or sink failed (or a sink could not flush): the run fails at
   * once. After a source failure the run's error stays the source's (it came
   * first); this one is logged.
   */
  fail(error: unknown, node: NodeConfig): void {
    if (this.#failure) return;
    const failure = pipelineFailure(error, node);
    this.#logger.error({ node: node.id, err: failure.toJSON() }, 'pipeline failed');
    this.#failure = this.#sourceFailure ?? failure;
    this.#reactions.failed();
  }

  /** The run itself failed, not one node (writing a checkpoint failed): as {@link fail}, with `error` as the run's error. */
  failRun(error: WeirError): void {
    if (this.#failure) return;
    this.#logger.error({ err: error.toJSON() }, 'pipeline failed');
    this.#failure = this.#sourceFailure ?? error;
    this.#reactions.failed();
  }

  /** A source failed: the run stops and drains, then fails with this error. A second source failure is only logged. */
  sourceFailed(error: unknown, node: NodeConfig): void {
    const failure = pipelineFailure(error, node);
    if (this.#sourceFailure || this.#failure) {
      this.#logger.error({ node: node.id, err: failure.toJSON() }, 'another source failed while the pipeline was failing');
      return;
    }
    this.#sourceFailure = failure;
    this.#logger.error({ node: node.id, err: failure.toJSON() }, 'source failed: sources stop, records already read drain to the sinks, then the pipeline fails');
    this.#reactions.sourceFailed();
  }

  /** The last wiring drained: a source's failure becomes the run's error. */
  settle(): void {
    if (this.#sourceFailure) this.#failure ??= this.#sourceFailure;
  }
}

/** The run's error for a node that failed with `error`. */
export function pipelineFailure(error: unknown, node: NodeConfig): WeirError {
  return error instanceof WeirError
    ? new WeirError('WEIR_PIPELINE_FAILED', `node "${node.id}" failed: ${error.message}`, { ...error.details, node: node.id, cause: error.code }, { cause: error })
    : new WeirError('WEIR_PIPELINE_FAILED', `node "${node.id}" failed: ${messageOf(error)}`, { node: node.id }, { cause: error });
}
