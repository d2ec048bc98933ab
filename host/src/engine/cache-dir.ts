/** Where the host keeps what it caches on disk; a module of its own so that the `host` entry reads it before loading the rest. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The cache folder: `$WEIR_CACHE_DIR`, else `$XDG_CACHE_HOME/weir`, else `~/.cache/weir`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WEIR_CACHE_DIR) return env.WEIR_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'weir');
}
