/**
 * Node's compile cache for the `host` process: V8 keeps the compiled code of
 * every module the host loads (its own and its dependencies') on disk, and
 * the next start reads it back instead of compiling the JavaScript again.
 * The `host` entry turns it on before it loads anything else, for the
 * commands that keep a cache folder already (run, validate, test, inspect),
 * in `node-compile-cache/` of that folder (`--cache-dir`, else
 * {@link defaultCacheDir}), next to the transpile cache (`components/`).
 * Each entry is checked against the source it came from, so an edited or
 * rebuilt host never runs stale code; a folder that cannot be written only
 * costs the speed-up. `NODE_COMPILE_CACHE=DIR` puts it elsewhere and
 * `NODE_DISABLE_COMPILE_CACHE=1` turns it off (Node reads both).
 * Once on, the folder is also set as `NODE_COMPILE_CACHE` in this process's
 * environment, which worker threads (cpu mode `worker`) and child processes
 * inherit: Node does not pass an `enableCompileCache` on by itself.
 */
import { constants, enableCompileCache } from 'node:module';
import { join, resolve } from 'node:path';
import { defaultCacheDir } from '../engine/cache-dir.js';

/** The commands that take `--cache-dir` and keep a cache folder. */
const CACHING_COMMANDS: ReadonlySet<string> = new Set(['run', 'validate', 'test', 'inspect']);

/**
 * The folder of the compile cache for a command line (`argv` without node and
 * the script), or undefined for a command that keeps no cache folder.
 */
export function compileCacheDir(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  const [command, ...args] = argv;
  if (command === undefined || !CACHING_COMMANDS.has(command)) return undefined;
  let cacheDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') break;
    if (arg === '--cache-dir' && args[i + 1] !== undefined) cacheDir = args[++i];
    else if (arg.startsWith('--cache-dir=')) cacheDir = arg.slice('--cache-dir='.length);
  }
  return join(cacheDir ? resolve(cwd, cacheDir) : defaultCacheDir(env), 'node-compile-cache');
}

/** Turns the compile cache on for this process (and the threads and processes it starts), unless the command or the environment says otherwise. */
export function enableHostCompileCache(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): void {
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return;
  const dir = compileCacheDir(argv, env, cwd);
  if (dir === undefined) return;
  const { status, directory } = enableCompileCache(dir);
  if (status === constants.compileCacheStatus.ENABLED && directory) env.NODE_COMPILE_CACHE = directory;
}
