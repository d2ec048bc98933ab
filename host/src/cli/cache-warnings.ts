/**
 * Where the commands without a logger (`host validate`, `host inspect`,
 * `host test`) report a cache write that failed: one plain line on standard
 * error, so the command's output (JSON included) stays clean and the user
 * still learns why the next run transpiles again. `host run` logs them.
 */
import type { Writable } from 'node:stream';
import type { CacheWarning } from '../engine/transpile-cache.js';
import { println } from './cli-io.js';

/**
 * A {@link CacheWarning} that writes `warning: <what>: <path>: <cause>` to
 * `stderr`, once for each kind of failure (a cache that cannot be written
 * fails the same way for every entry).
 */
export function stderrCacheWarning(stderr: Writable): CacheWarning {
  const reported = new Set<string>();
  return (details, message) => {
    if (reported.has(message)) return;
    reported.add(message);
    println(stderr, `warning: ${message}: ${details.path}: ${details.cause}`);
  };
}
