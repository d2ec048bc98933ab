/**
 * Hot reload during `host run`. A changed plugin file is loaded by the engine
 * (hashed, transpiled, compiled: a truncated or invalid file fails here),
 * then handed to the run, which checks it against each node using it and
 * switches those nodes between batches (a processor whose source folder
 * carries a sample must pass it first). A changed pipeline file is prepared
 * again (validated, plugins loaded and checked) and applied as a diff (see
 * `PipelineRun.apply`): every new piece is built and checked before anything
 * switches, and a change that cannot be applied is refused whole; plugin
 * files the edit brings in are watched from then on. Reloads run one at a
 * time, in the order files changed; every outcome is logged with node,
 * plugin and sha256 prefix.
 *
 * Start-up: a file that changes after the run loaded it but before the
 * watcher is ready is not reported by the watcher (it sees it as already
 * there), so once ready, each plugin file's digest is compared with the
 * version running and a file that differs is reloaded like a change.
 */
import type { Logger } from 'pino';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Engine, PluginModule } from '../engine/engine.js';
import type { PipelineConfig, Problem } from '../config/pipeline-config.js';
import { refusedEdit } from '../topology/pipeline-run.js';
import type { ApplyOutcome, PipelineRun, ReloadOutcome } from '../topology/pipeline-run.js';
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
  onApply?: (outcome: ApplyOutcome) => void;
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
          logger.info({ node: outcome.node, plugin: file, sha256: module.sha256.slice(0, 12), reloadMs: Math.round(performance.now() - started), ...(outcome.selfTested > 0 ? { sampleRecordsPassed: outcome.selfTested } : {}) }, 'plugin reloaded: new version serving from the next batch');
        } else {
          logger.error({ node: outcome.node, plugin: file, sha256: module.sha256.slice(0, 12), err: outcome.error.toJSON() }, 'plugin reload refused: the running version stays');
        }
        onOutcome(outcome);
      }
    };

    const applyPipeline = async (prepare: PreparePipeline): Promise<void> => {
      let outcome: ApplyOutcome;
      try {
        const prepared = await prepare();
        outcome = prepared.ok ? await run.apply(prepared.config, prepared.modules) : refusedEdit(prepared.problems.map((p) => `${p.pointer}: ${p.message}`));
        if (outcome.ok && prepared.ok) {
          // Plugin files the edit brought in are watched from now on.
          const added = [...prepared.modules.values()].filter((m) => !current.has(m.file));
          for (const module of added) current.set(module.file, module.sha256);
          self!.#watcher.add(added.map((m) => m.file));
        }
      } catch (error) {
        outcome = refusedEdit([messageOf(error)]);
      }
      if (outcome.ok) {
        const { changed, added, removed, rewired } = outcome;
        logger.info({ changed, added, removed, rewired }, 'pipeline file applied: the edited pipeline is running');
      } else {
        logger.error({ reasons: outcome.reasons }, 'pipeline file change refused: the running pipeline stays as it was');
      }
      onApply(outcome);
    };

    let self: HotReload | undefined;
    const files = [...options.running.keys(), ...(pipeline ? [pipeline.file] : [])];
    const changed = (file: string): void => {
      self!.#queue = self!.#queue.then(() => (pipeline && file === pipeline.file ? applyPipeline(pipeline.prepare) : reloadPlugin(file)));
    };
    const watcher = await PluginWatcher.start(files, changed, options.stableForMs ?? STABLE_FOR_MS, {
      onError: (error, message, folders) => logger.error({ folders, err: messageOf(error), code: (error as NodeJS.ErrnoException).code }, message),
    });
    self = new HotReload(watcher);
    // Builds that landed before the watcher was ready.
    for (const [file, sha256] of options.running) {
      const now = await digestOf(file);
      if (now !== undefined && now !== sha256) {
        logger.info({ plugin: file, sha256: now.slice(0, 12) }, 'plugin changed while the run started: reloading it');
        changed(file);
      }
    }
    return self;
  }

  /** Waits until every change seen so far has been handled (reloaded, applied or refused). */
  async settled(): Promise<void> {
    await this.#queue;
  }

  /** Stops watching and waits for a reload in progress. */
  async close(): Promise<void> {
    await this.#watcher.close();
    await this.#queue;
  }
}

/** sha256 of a file's bytes (as the engine computes a plugin's), or undefined when it cannot be read now (a rename in progress: the watcher reports it). */
async function digestOf(file: string): Promise<string | undefined> {
  try {
    return createHash('sha256').update(await readFile(file)).digest('hex');
  } catch {
    return undefined;
  }
}
