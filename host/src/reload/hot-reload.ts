/**
 * Hot reload during `host run`. A changed plugin file is loaded by the engine
 * (hashed, transpiled, compiled: a truncated or invalid file fails here),
 * then handed to the run, which checks it against each node using it and
 * switches those nodes between batches. A changed pipeline file is prepared
 * again (validated, plugins loaded and checked) and applied as a diff: every
 * new piece is checked before anything switches, and a change that cannot be
 * applied live is refused whole. Reloads run one at a time, in the order files
 * changed; every outcome is logged with node, plugin and sha256 prefix.
 */
import type { Logger } from 'pino';
import type { Engine, PluginModule } from '../engine/engine.js';
import type { PipelineConfig, Problem } from '../config/pipeline-config.js';
import type { PipelineRun, ReloadOutcome } from '../topology/pipeline-run.js';
import { PluginWatcher, STABLE_FOR_MS } from './plugin-watcher.js';
import { WeirError, messageOf } from '../errors/errors.js';

/** Reads and checks the pipeline file again (what `host run` does at start). */
export type PreparePipeline = () => Promise<{ ok: true; config: PipelineConfig; modules: Map<string, PluginModule> } | { ok: false; problems: Problem[] }>;

/** What {@link HotReload.start} needs. */
export interface HotReloadOptions {
  run: PipelineRun;
  engine: Engine;
  /** Plugin files in use -> sha256 of the version running now. */
  running: ReadonlyMap<string, string>;
  logger: Logger;
  /** Also watch the pipeline file and apply its edits. */
  pipeline?: { file: string; prepare: PreparePipeline };
  /** Sees every plugin reload outcome (tests, metrics). */
  onOutcome?: (outcome: ReloadOutcome) => void;
  /** Sees every pipeline edit outcome. */
  onApply?: (outcome: { ok: boolean; changed: string[]; reasons: string[] }) => void;
  stableForMs?: number;
}

/** Watches a run's files and reloads them; `close()` stops. */
export class HotReload {
  readonly #watcher: PluginWatcher;
  #queue: Promise<void> = Promise.resolve();

  private constructor(watcher: PluginWatcher) {
    this.#watcher = watcher;
  }

  static async start(options: HotReloadOptions): Promise<HotReload> {
    const { run, engine, logger, pipeline } = options;
    const onOutcome = options.onOutcome ?? (() => {});
    const onApply = options.onApply ?? (() => {});
    const current = new Map(options.running);

    const reloadPlugin = async (file: string): Promise<void> => {
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
    };

    const applyPipeline = async (prepare: PreparePipeline): Promise<void> => {
      let outcome: { ok: boolean; changed: string[]; reasons: string[] };
      try {
        const prepared = await prepare();
        outcome = prepared.ok
          ? await run.apply(prepared.config, prepared.modules)
          : { ok: false, changed: [], reasons: prepared.problems.map((p) => `${p.pointer}: ${p.message}`) };
      } catch (error) {
        outcome = { ok: false, changed: [], reasons: [messageOf(error)] };
      }
      if (outcome.ok) logger.info({ changed: outcome.changed }, 'pipeline file applied: changed nodes serve from their next batch');
      else logger.error({ reasons: outcome.reasons }, 'pipeline file change refused: the running pipeline stays as it was');
      onApply(outcome);
    };

    let self: HotReload | undefined;
    const files = [...options.running.keys(), ...(pipeline ? [pipeline.file] : [])];
    const watcher = await PluginWatcher.start(files, (file) => {
      self!.#queue = self!.#queue.then(() => (pipeline && file === pipeline.file ? applyPipeline(pipeline.prepare) : reloadPlugin(file)));
    }, options.stableForMs ?? STABLE_FOR_MS);
    self = new HotReload(watcher);
    return self;
  }

  /** Stops watching and waits for a reload in progress. */
  async close(): Promise<void> {
    await this.#watcher.close();
    await this.#queue;
  }
}
