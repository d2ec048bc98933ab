/**
 * What a command needs from the process, passed in so commands can be run
 * in-process by tests. Only `main.ts` touches `process` itself.
 */
import type { Readable, Writable } from 'node:stream';

/** Streams and environment of one CLI invocation. */
export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Where the log lines go (default: file descriptor 2, written synchronously so none is lost at exit). */
  logs?: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Registers a handler for SIGINT/SIGTERM; returns a function that removes it. */
  onSignal(handler: (signal: NodeJS.Signals) => void): () => void;
}

/** Exit codes of the `host` command, as documented in `host --help` and the README. */
export const EXIT = {
  ok: 0,
  /** The pipeline failed while running (a node with `onError: fail` hit an error). */
  failed: 1,
  /** The pipeline file or a plugin is invalid; nothing ran. */
  invalid: 2,
  /** The command line is wrong. */
  usage: 3,
  /** `host run` was stopped by a signal and its drain ran out of time (`--drain-timeout`): records were not all written. */
  incomplete: 4,
  /** A second SIGINT/SIGTERM forced the exit before draining finished. */
  interrupted: 130,
} as const;

/** Writes a line. */
export function println(stream: Writable, text = ''): void {
  stream.write(text + '\n');
}
