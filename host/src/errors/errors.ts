/**
 * Every error the host raises on purpose is a {@link WeirError} with a stable
 * `code`. Branch on `code`, never on the message or on `instanceof`: errors
 * cross worker boundaries serialized, and messages are for people.
 *
 * Every code is documented in `docs/errors.md`; a test keeps the two in step.
 */
export const ERROR_CODES = {
  WEIR_USAGE: 'the command line is wrong (unknown command, option or missing argument)',
  WEIR_CONFIG_READ: 'the pipeline file cannot be read or is not valid JSON',
  WEIR_CONFIG_INVALID: 'the pipeline file breaks the schema or the graph rules; `problems` lists each one',
  WEIR_PLUGIN_NOT_FOUND: 'a plugin file named by the pipeline does not exist',
  WEIR_PLUGIN_INVALID_BINARY: 'a plugin file is not a WebAssembly module or component (or is truncated)',
  WEIR_PLUGIN_WORLD_MISMATCH: 'a plugin does not export what its node kind needs, or imports what the host does not offer',
  WEIR_PLUGIN_LOAD_FAILED: 'a plugin could not be transpiled, compiled or instantiated',
  WEIR_PLUGIN_BUILD_FAILED: 'a plugin source folder could not be built (compiler error, or no toolchain for its language)',
  WEIR_INSTANCE_CLOSED: 'a plugin instance was called after it was closed (a host bug or a call racing a shutdown or reload)',
  WEIR_PLUGIN_TRAP: 'a plugin trapped (unreachable, out-of-bounds access, stack overflow, uncaught exception)',
  WEIR_PLUGIN_ERROR: 'a plugin returned an error result (`kind` says transient, invalid-input or fatal)',
  WEIR_PLUGIN_BAD_OUTPUT: 'a plugin returned data the host cannot decode',
  WEIR_LIMIT_MEMORY: 'a plugin hit its memory cap (`limits.memoryMb`): a `memory.grow` past the cap was denied, or its initial memory is above the cap',
  WEIR_LIMIT_CPU: 'a plugin call used up its CPU budget: all its fuel (`limits.fuel`, cpu mode `fuel`) or its time (`limits.timeoutMs`, cpu mode `worker`)',
  WEIR_LIMIT_OUTPUT: 'a plugin call returned more than `limits.maxOutputBytes`',
  WEIR_LIMIT_STATE: 'a plugin call would make its node\'s keyed state hold more than `limits.maxStateBytes` bytes or `limits.maxStateKeys` keys (staged writes included)',
  WEIR_LIMIT_METRICS: 'a plugin used more than `limits.maxMetricNames` distinct metric names, or a metric name longer than the host accepts',
  WEIR_CAPABILITY_DENIED: 'a plugin imports a capability (WASI filesystem, environment, clock, random, network) that its node was not granted',
  WEIR_HTTP_DENIED: 'a plugin sent an HTTP request to a host its node does not grant (`capabilities.http.hosts`); the plugin receives it as an invalid-input error',
  WEIR_HTTP_FAILED: 'a plugin\'s HTTP request failed: bad URL or method, timeout, connection refused, too many redirects or a response body over `maxResponseBytes` (`kind` says transient or invalid-input)',
  WEIR_CONNECTOR_IO: 'a built-in connector failed to read or write (file missing, permission, full disk, bad input line)',
  WEIR_LIMIT_LINE_LENGTH: 'a line read by the file or stdin source is longer than its `maxLineBytes`',
  WEIR_RELOAD_REFUSED: 'a changed plugin arrived after the run finished; nothing switched',
  WEIR_PLUGIN_SELF_TEST_FAILED: 'a new build does not turn its sample input into the sample\'s expected output; the running version stays',
  WEIR_SERVICE_NOT_FOUND: 'a plugin called a service that is not a node of the pipeline',
  WEIR_CHECKPOINT_STORE: 'the checkpoint database cannot be opened, read, written or deleted (the message names the file and the cause)',
  WEIR_CHECKPOINT_MISMATCH: 'the stored checkpoint was taken of a different pipeline (nodes, kinds, implementations or windows changed), so it cannot be restored',
  WEIR_CHECKPOINT_SOURCE_CHANGED: 'a source\'s input is not the one its checkpointed position was taken in (a file shorter, or different before that position)',
  WEIR_PIPELINE_FAILED: 'the pipeline stopped because a node failed and its `onError` policy is `fail`',
} as const;

/** A stable error code; see `docs/errors.md`. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Context attached to an error: which node, which plugin, and anything code-specific. */
export interface ErrorDetails {
  node?: string;
  plugin?: string;
  [key: string]: unknown;
}

/**
 * The one error type of the host.
 *
 * @example
 * throw new WeirError('WEIR_PLUGIN_NOT_FOUND', `plugin file ${path} does not exist`, { node: 'upper' });
 */
export class WeirError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WeirError';
    this.code = code;
    this.details = details;
  }

  /** A plain-object form for logs and JSON output. */
  toJSON(): { code: ErrorCode; message: string; details: ErrorDetails } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** True when `error` carries the given code (works for serialized errors too). */
export function hasCode(error: unknown, code: ErrorCode): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** Message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
