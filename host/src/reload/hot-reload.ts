/**
 * Hot reload of plugins during `host run`: a changed plugin file is loaded by
 * the engine (hashed, transpiled, compiled: a truncated or invalid file fails
 * here), then handed to the run, which checks it against each node using it
 * and switches those nodes between batches. Reloads run one at a time, in the
 * order files changed; an unchanged hash is ignored. Every outcome is logged
 * with the node, the plugin and its sha256 prefix.
 */
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import type { PipelineRun, ReloadOutcome } from '../topology/pipeline-run.js';
import { PluginWatcher, STABLE_FOR_MS } from './plugin-watcher.js';
import { WeirError, messageOf } from '../errors/errors.js';

/** Watches a run's plugin files and reloads them; `close()` stops. */
export class HotReload {
  readonly #watcher: PluginWatcher;
  #queue: Promise<void> = Promise.resolve();

  private constructor(watcher: PluginWatcher) {
    this.#watcher = watcher;
  }

  /**
   * Starts watching the plugin files of `run` (`running`: file -> sha256 of
   * the version running now). `onOutcome` sees every node's outcome.
   */
  static async start(
    run: PipelineRun,
    engine: Engine,
    running: ReadonlyMap<string, string>,
    logger: Logger,
    onOutcome: (outcome: ReloadOutcome) => void = () => {},
    stableForMs = STABLE_FOR_MS,
  ): Promise<HotReload> {
    const current = new Map(running);
    const files = [...running.keys()];
    let self: HotReload | undefined;
    const watcher = await PluginWatcher.start(files, (file) => {
      self!.#queue = self!.#queue.then(async () => {
        const started = performance.now();
        let module;
        try {
          module = await engine.load(file);
        } catch (error) {
          const failure = error instanceof WeirError ? error : new WeirError('WEIR_PLUGIN_LOAD_FAILED', messageOf(error), { file });
          logger.error({ plugin: file, err: failure.toJSON() }, 'plugin changed but cannot be loaded: the running version stays');
          onOutcome({ node: '*', ok: false, sha256: '', error: failure });
          return;
        }
        if (current.get(file) === module.sha256) return;
        for (const outcome of await run.reload(module)) {
          if (outcome.ok) {
            current.set(file, module.sha256);
            logger.info({ node: outcome.node, plugin: file, sha256: module.sha256.slice(0, 12), reloadMs: Math.round(performance.now() - started) }, 'plugin reloaded: new version serving from the next batch');
          } else {
            logger.error({ node: outcome.node, plugin: file, sha256: module.sha256.slice(0, 12), err: outcome.error.toJSON() }, 'plugin reload refused: the running version stays');
          }
          onOutcome(outcome);
        }
      });
    }, stableForMs);
    self = new HotReload(watcher);
    return self;
  }

  /** Stops watching and waits for a reload in progress. */
  async close(): Promise<void> {
    await this.#watcher.close();
    await this.#queue;
  }
}
