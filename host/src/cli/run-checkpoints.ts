/**
 * The checkpoint side of starting `host run`: with a `checkpoint` block
 * (delivery other than `none`), opens the pipeline's checkpoint store,
 * deletes what it holds under `--fresh`, and otherwise reads the last
 * completed checkpoint and checks that the pipeline still fits it (see
 * checkpoint/graph-signature.ts) before the run resumes from it. The store's
 * modules (and `node:sqlite`) load only for a pipeline that checkpoints.
 */
import { readdirSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { PipelineConfig } from '../config/pipeline-config.js';
import { graphMismatches, graphSignature } from '../checkpoint/graph-signature.js';
import type { NodeSignature } from '../checkpoint/checkpoint-store.js';
import { WeirError } from '../errors/errors.js';
import type { RunCheckpoints } from '../topology/run-dependencies.js';

/**
 * Opens the run's checkpoints; undefined when the pipeline takes none. The
 * caller closes `store` once the run has ended.
 *
 * @throws WeirError `WEIR_CHECKPOINT_MISMATCH` when the stored checkpoint was
 *   taken of a pipeline this one no longer fits (nothing is changed then).
 */
export async function openRunCheckpoints(config: PipelineConfig, { fresh }: { fresh: boolean }, logger: Logger): Promise<RunCheckpoints | undefined> {
  const settings = config.checkpoint;
  if (!settings) {
    if (fresh) logger.warn({ pipeline: config.name }, '--fresh has no effect: the pipeline has no "checkpoint" block, so it never resumes');
    return undefined;
  }
  if (settings.delivery === 'none') return undefined;
  const [{ checkpointFile }, { SqliteCheckpointStore }, { storedGraph }] = await Promise.all([
    import('../checkpoint/checkpoint-store.js'),
    import('../checkpoint/sqlite-store.js'),
    import('../checkpoint/checkpoint-db.js'),
  ]);
  const file = checkpointFile(settings.dir, config.name);
  const store = await SqliteCheckpointStore.open(file);
  try {
    if (fresh) {
      const dropped = await store.summary();
      await store.clear();
      if (dropped) logger.info({ file, epoch: dropped.epoch }, 'deleted the stored checkpoint (--fresh): the run starts from the beginning');
      return { store, intervalMs: settings.intervalMs, delivery: settings.delivery };
    }
    const restored = await store.latest();
    if (!restored) {
      const renamed = checkpointsThatFit(settings.dir, file, graphSignature(config.nodes), storedGraph);
      // A renamed pipeline starts over (checkpoints are kept by name) and replaces its file sinks' output: say so.
      if (renamed.length > 0) logger.warn({ pipeline: config.name, dir: settings.dir, fits: renamed }, `no checkpoint stored for pipeline "${config.name}", so it starts from the beginning; ${settings.dir} holds a checkpoint of the same nodes under another pipeline name (${renamed.join(', ')}): if this pipeline was renamed, give it its old name back to resume from it`);
      return { store, intervalMs: settings.intervalMs, delivery: settings.delivery };
    }
    const holding = new Set([...restored.parts.map((p) => p.node), ...[...restored.state].filter(([, entries]) => entries.length > 0).map(([node]) => node)]);
    const reasons = graphMismatches(restored.graph, graphSignature(config.nodes), holding);
    if (reasons.length > 0) {
      throw new WeirError(
        'WEIR_CHECKPOINT_MISMATCH',
        `the checkpoint in ${file} (epoch ${restored.epoch}, taken ${restored.takenAt}) does not fit pipeline "${config.name}" as it is now: ${reasons.join('; ')}. ` +
          'Put the pipeline back as it was to resume, or start over with `host run PIPELINE.json --fresh`',
        { file, epoch: restored.epoch, reasons },
      );
    }
    logger.info({ file, epoch: restored.epoch, takenAt: restored.takenAt }, 'resuming from the stored checkpoint (host run --fresh starts over)');
    return { store, intervalMs: settings.intervalMs, delivery: settings.delivery, restored };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** The folders in `dir` beside `file`'s whose stored checkpoint has the nodes of `graph` (same ids, kinds, implementations, windows): a renamed pipeline's. */
function checkpointsThatFit(dir: string, file: string, graph: NodeSignature[], storedGraph: (file: string) => NodeSignature[] | undefined): string[] {
  const own = basename(dirname(file));
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const fits = (stored: NodeSignature[] | undefined): boolean =>
    stored !== undefined && stored.length === graph.length && graphMismatches(stored, graph, new Set(stored.map((n) => n.id))).length === 0;
  return entries
    .filter((entry) => entry.isDirectory() && entry.name !== own && fits(storedGraph(join(dir, entry.name, 'checkpoint.db'))))
    .map((entry) => entry.name)
    .sort();
}
