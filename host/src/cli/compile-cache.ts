/**
 * Node's compile cache for the `host` process: V8 keeps the compiled code of
 * every module the host loads (its own and its dependencies') on disk, and
 * the next start reads it back instead of compiling the JavaScript again.
 * Enabled by the `host` entry before it loads anything else, in
 * `<cache folder>/node-compile-cache`, next to the transpile cache
 * (`components/`). Each entry is checked against the source it came from, so
 * an edited or rebuilt host never runs stale code; a folder that cannot be
 * written only costs the speed-up. `NODE_COMPILE_CACHE=DIR` puts it elsewhere
 * and `NODE_DISABLE_COMPILE_CACHE=1` turns it off (Node reads both).
 * Once on, the folder is also set as `NODE_COMPILE_CACHE` in this process's
 * environment, which worker threads (cpu mode `worker`) and child processes
 * inherit: Node does not pass an `enableCompileCache` on by itself.
 */
import { constants, enableCompileCache } from 'node:module';
import { join } from 'node:path';
import { defaultCacheDir } from '../engine/cache-dir.js';

/** The folder of the compile cache, under the cache folder of {@link defaultCacheDir}. */
export function compileCacheDir(env: NodeJS.ProcessEnv): string {
  return join(defaultCacheDir(env), 'node-compile-cache');
}

/** Turns the compile cache on for this process (and the threads and processes it starts), unless the environment says otherwise. */
export function enableHostCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return;
  const { status, directory } = enableCompileCache(compileCacheDir(env));
  if (status === constants.compileCacheStatus.ENABLED && directory) env.NODE_COMPILE_CACHE = directory;
}
