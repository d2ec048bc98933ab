/** `host checkpoints PIPELINE.json [--delete]`: what is stored for a pipeline's restart, or delete it. */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from './cli-io.js';
import { EXIT, println } from './cli-io.js';
import { printProblems } from './prepare-pipeline.js';
import { compilePipeline, readPipelineFile } from '../config/compile.js';
import { DEFAULT_CHECKPOINT } from '../config/pipeline-config.js';
import { builtinConnectors } from '../connectors/builtin.js';
import { checkpointFile } from '../checkpoint/checkpoint-store.js';
import type { CheckpointSummary } from '../checkpoint/checkpoint-store.js';
import { SqliteCheckpointStore } from '../checkpoint/sqlite-store.js';
import { WeirError } from '../errors/errors.js';

/** Help text of `host checkpoints`. */
export function checkpointsHelp(): string {
  return `Usage: host checkpoints PIPELINE.json [options]

Lists the checkpoint stored for a pipeline (its "checkpoint" block turns
checkpoints on; docs/pipeline.md, "Checkpoints"): the epoch, when it was
taken, its size on disk, and per node the keys of keyed state and the parts
(source position, sink length, window lanes) it holds. \`host run\` resumes
from it. The database is <checkpoint.dir>/<pipeline name>/checkpoint.db
(default dir: .weir beside the pipeline file). One process at a time owns it:
while \`host run\` runs the pipeline, this command (and a second \`host run\`)
is refused with WEIR_CHECKPOINT_STORE ("in use by another process").

Options:
  --delete      delete the stored checkpoint: the next \`host run\` starts from
                the beginning (as \`host run --fresh\` does)
  -h, --help    show this help

Exit codes: 0 ok (also when nothing is stored), 1 the database cannot be read
or deleted, 2 invalid pipeline, 3 usage error.
`;
}

/** Runs `host checkpoints`. */
export async function checkpointsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { delete: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(checkpointsHelp());
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new WeirError('WEIR_USAGE', 'host checkpoints takes exactly one pipeline file: host checkpoints PIPELINE.json [--delete]');
  const pipelineFile = resolve(io.cwd, positionals[0]!);
  const compiled = compilePipeline(await readPipelineFile(pipelineFile), { file: pipelineFile, connectors: builtinConnectors() });
  if (!compiled.ok) {
    printProblems(io.stderr, pipelineFile, io.cwd, compiled.problems);
    return EXIT.invalid;
  }
  const { config } = compiled;
  // Without a block, still look where the default would put it: a block removed since leaves its checkpoint behind.
  const file = checkpointFile(config.checkpoint?.dir ?? resolve(config.baseDir, DEFAULT_CHECKPOINT.dir), config.name);
  const shown = relative(io.cwd, file) || file;
  // Why host run does not use what is stored, if it does not.
  const offReason = !config.checkpoint ? 'the pipeline has no "checkpoint" block' : config.checkpoint.delivery === 'none' ? 'the pipeline\'s checkpoint block says "delivery": "none"' : undefined;
  const off = offReason ? ` (checkpoints are off: ${offReason})` : '';
  // Opening creates the database: look first, so listing an empty folder leaves it empty.
  if (!existsSync(file)) {
    println(io.stdout, `pipeline "${config.name}": no checkpoint stored (${shown})${off}`);
    return EXIT.ok;
  }
  const store = await SqliteCheckpointStore.open(file);
  try {
    const summary = await store.summary();
    if (values.delete) {
      await store.clear();
      println(io.stdout, summary
        ? `pipeline "${config.name}": deleted checkpoint ${summary.epoch} (${shown}); the next host run starts from the beginning`
        : `pipeline "${config.name}": deleted ${shown} (it held no checkpoint)`);
      return EXIT.ok;
    }
    if (!summary) {
      println(io.stdout, `pipeline "${config.name}": no checkpoint stored (${shown})${off}`);
      return EXIT.ok;
    }
    io.stdout.write(formatCheckpointSummary(config.name, shown, summary));
    if (offReason) println(io.stdout, `checkpoints are off: ${offReason}, so host run does not use it`);
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

/**
 * Deletes the checkpoint database of pipeline `name` under `dir`, if there is
 * one; says which file and (when it held one) which epoch.
 */
export async function deleteStoredCheckpoint(dir: string, name: string): Promise<{ file: string; epoch?: number } | undefined> {
  const file = checkpointFile(dir, name);
  if (!existsSync(file)) return undefined;
  const store = await SqliteCheckpointStore.open(file);
  try {
    const summary = await store.summary();
    await store.clear();
    return { file, ...(summary ? { epoch: summary.epoch } : {}) };
  } finally {
    await store.close();
  }
}

/** The listing of a stored checkpoint: a header line, then a table of nodes. */
export function formatCheckpointSummary(pipeline: string, file: string, summary: CheckpointSummary): string {
  const lines = [`pipeline "${pipeline}": checkpoint ${summary.epoch}, taken ${summary.takenAt}, ${formatBytes(summary.bytes)} (${file})`];
  if (summary.nodes.length === 0) {
    lines.push('  no node holds state or parts');
  } else {
    const width = Math.max(4, ...summary.nodes.map((n) => n.node.length));
    lines.push(`  ${'node'.padEnd(width)}  ${'keys'.padStart(9)}  ${'parts'.padStart(5)}`);
    for (const n of summary.nodes) lines.push(`  ${n.node.padEnd(width)}  ${String(n.keys).padStart(9)}  ${String(n.parts).padStart(5)}`);
  }
  return lines.join('\n') + '\n';
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
