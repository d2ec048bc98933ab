/**
 * Watches the plugin files a running pipeline uses and hands each changed
 * file, once it is completely written, to a callback. Writes are often
 * partial (a copy in progress, a build writing in chunks): chokidar's
 * `awaitWriteFinish` waits until the size has been stable for a moment, and
 * an atomic rename arrives as an `add` of the final name. Whatever arrives is
 * still checked by the engine (a truncated file fails to compile) before any
 * node switches.
 *
 * Watching itself can fail (inotify's watch limit, ENOSPC, or a folder that
 * goes away): chokidar reports that as an `error` event, which would throw
 * from the emitter if nobody listened. It goes to `onError` instead, with a
 * hint for the watch limit; the run goes on without noticing changes there.
 *
 * Only the wanted files and their folders are watched, by polling their
 * `stat` every {@link POLL_INTERVAL_MS}; everything else in those folders is
 * ignored. Not inotify: a folder's inotify watch wakes the process on every
 * write to any file in it, so a sink writing its output next to the
 * pipeline file cost 0.25 s of CPU per 1M records (the folder's listing
 * read again, chokidar's bookkeeping, each write). A few `stat` calls every
 * 100 ms cost nothing by comparison, whatever the sinks write; a rename
 * into place is seen as the file's new inode.
 *
 * Lifecycle: `start()` resolves once watching; `close()` stops it.
 */
import type { ChokidarOptions, FSWatcher } from 'chokidar';
import { resolve } from 'node:path';
import { messageOf } from '../errors/errors.js';

/** Called with the absolute path of a plugin file that changed. */
export type PluginChanged = (file: string) => void;

/** Called when watching fails: `message` says what and how to fix it; `folders` are those watched. */
export type WatchFailed = (error: unknown, message: string, folders: readonly string[]) => void;

/** The watcher factory (chokidar's `watch`; tests pass their own). */
export type WatchFactory = (paths: string[], options: ChokidarOptions) => FSWatcher;

/** Extra settings of {@link PluginWatcher.start}. */
export interface PluginWatcherOptions {
  /** Where watch failures go (default: a process warning). */
  onError?: WatchFailed;
  watch?: WatchFactory;
}

/** A warning through `process.emitWarning`, for callers that pass no `onError`. */
const warnProcess: WatchFailed = (_error, message) => process.emitWarning(message, 'WeirWatchWarning');

/** How often each wanted file (and its folder) is looked at (ms). */
export const POLL_INTERVAL_MS = 100;

/** How long a file's size must hold still before it counts as written (ms). */
export const STABLE_FOR_MS = 100;

/** Watches a set of plugin files. */
export class PluginWatcher {
  readonly #watcher: FSWatcher;
  readonly #files: Set<string>;
  readonly #folders: Set<string>;

  private constructor(watcher: FSWatcher, files: Set<string>, folders: Set<string>) {
    this.#watcher = watcher;
    this.#files = files;
    this.#folders = folders;
  }

  /** Starts watching `files` (their folders, so renames into place are seen). */
  static async start(files: readonly string[], onChange: PluginChanged, stableForMs = STABLE_FOR_MS, options: PluginWatcherOptions = {}): Promise<PluginWatcher> {
    const wanted = new Set(files.map((f) => resolve(f)));
    const folders = new Set([...wanted].map((f) => resolve(f, '..')));
    const onError = options.onError ?? warnProcess;
    // chokidar loads when a run first watches, not with the module: `host run --no-watch` and `host validate` never need it.
    const watch = options.watch ?? (await import('chokidar')).watch;
    const watcher = watch([...folders], {
      ignoreInitial: true,
      depth: 0,
      usePolling: true,
      interval: POLL_INTERVAL_MS,
      binaryInterval: POLL_INTERVAL_MS,
      // The sets `add()` extends: a file added later is not ignored.
      ignored: (path: string) => ignores(wanted, folders, path),
      awaitWriteFinish: { stabilityThreshold: stableForMs, pollInterval: Math.max(10, Math.floor(stableForMs / 4)) },
    });
    const watching = new PluginWatcher(watcher, wanted, folders);
    const handle = (path: string) => {
      const file = resolve(path);
      if (watching.#files.has(file)) onChange(file);
    };
    watcher.on('add', handle);
    watcher.on('change', handle);
    watcher.on('error', (error: unknown) => onError(error, watchFailure(error, [...watching.#folders]), [...watching.#folders]));
    await new Promise<void>((ready) => watcher.once('ready', () => ready()));
    return watching;
  }

  /** Also watches `files` (a pipeline edit that points a node at a new plugin file). */
  add(files: readonly string[]): void {
    for (const file of files.map((f) => resolve(f))) {
      if (this.#files.has(file)) continue;
      this.#files.add(file);
      const folder = resolve(file, '..');
      // A folder watched already ignored the file until now: watch it by name.
      if (this.#folders.has(folder)) {
        this.#watcher.add(file);
        continue;
      }
      this.#folders.add(folder);
      this.#watcher.add(folder);
    }
  }

  /** Stops watching. */
  async close(): Promise<void> {
    // chokidar 4 forgets its readdir throttles on close() without clearing
    // their 1 s timers, which kept `host run` alive a second after its run
    // ended (a busy output folder next to a plugin re-arms them all the time).
    const throttled = (this.#watcher as unknown as { _throttled?: Map<string, Map<string, { clear(): void }>> })._throttled;
    for (const action of throttled?.values() ?? []) for (const item of [...action.values()]) item.clear();
    await this.#watcher.close();
  }
}

/** Whether chokidar should leave `path` alone: anything but a watched folder or a wanted file. */
function ignores(files: ReadonlySet<string>, folders: ReadonlySet<string>, path: string): boolean {
  const absolute = resolve(path);
  return !files.has(absolute) && !folders.has(absolute);
}

/** What a watch failure means for the run, and how to fix the usual one. */
function watchFailure(error: unknown, folders: readonly string[]): string {
  const code = (error as NodeJS.ErrnoException).code;
  const hint = code === 'ENOSPC'
    ? ': the system limit on watched files is reached; raise it (sysctl fs.inotify.max_user_watches) or watch fewer folders'
    : '';
  return `watching ${folders.join(', ')} for new plugin builds failed (${messageOf(error)})${hint}; changes may go unnoticed until restart`;
}
