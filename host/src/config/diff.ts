/**
 * What changed between two compiled pipelines, and whether a running
 * pipeline can take the change:
 *
 * - `changed`: plugin nodes whose plugin file, `config`, `limits` or
 *   `capabilities` changed; they switch between batches, nothing pauses.
 * - `added`, `removed`, `rewired` (inputs, parallelism, partitioning,
 *   batching or onError changed): structural; the run pauses its sources,
 *   drains what is in flight, rewires and resumes.
 * - `refused`: changes no running pipeline can take without losing or
 *   repeating records, one reason each (with what to do instead). A diff
 *   with any refusal is not applied at all.
 */
import type { NodeConfig, PipelineConfig } from './pipeline-config.js';

/** The outcome of {@link diffPipelines}. */
export interface PipelineDiff {
  changed: string[];
  added: string[];
  removed: string[];
  rewired: string[];
  refused: string[];
}

const PLUGIN_FIELDS = ['config', 'limits', 'capabilities', 'implementation'] as const;
const WIRING_FIELDS = ['inputs', 'parallelism', 'partition', 'batch', 'onError'] as const;

/** Whether applying `diff` pauses the pipeline to rewire it. */
export function isStructural(diff: PipelineDiff): boolean {
  return diff.added.length + diff.removed.length + diff.rewired.length > 0;
}

/** Compares the running pipeline with an edited one. */
export function diffPipelines(running: PipelineConfig, edited: PipelineConfig): PipelineDiff {
  const before = new Map(running.nodes.map((n) => [n.id, n]));
  const after = new Map(edited.nodes.map((n) => [n.id, n]));
  const diff: PipelineDiff = {
    changed: [],
    added: [...after.keys()].filter((id) => !before.has(id)),
    removed: [...before.keys()].filter((id) => !after.has(id)),
    rewired: [],
    refused: [],
  };
  for (const [id, old] of before) {
    const next = after.get(id);
    if (!next) continue;
    const refusal = refusalOf(old, next);
    if (refusal) {
      diff.refused.push(`node "${id}": ${refusal}`);
      continue;
    }
    if (PLUGIN_FIELDS.some((f) => !same(old[f], next[f]))) diff.changed.push(id);
    if (WIRING_FIELDS.some((f) => !same(old[f], next[f]))) diff.rewired.push(id);
  }
  return diff;
}

/** Why `old` cannot become `next` while running, or `undefined` when it can. */
function refusalOf(old: NodeConfig, next: NodeConfig): string | undefined {
  const renameHint = 'give the new node another id, so the old one is removed and the new one added';
  if (old.kind !== next.kind) return `kind changed from ${old.kind} to ${next.kind}; ${renameHint}`;
  if ((old.window === undefined) !== (next.window === undefined)) return `window ${old.window ? 'removed' : 'added'}: the node's plugin world changes; ${renameHint}`;
  if (old.window && !same(old.window, next.window)) return `window changed: the open windows were formed by the old window settings; ${renameHint}`;
  if (old.window && (old.parallelism !== next.parallelism || !same(old.partition, next.partition))) {
    return 'parallelism or partition changed on a windowed node: each instance holds the open windows of its keys; restart the pipeline to change it';
  }
  const connector = old.implementation.type === 'connector' || next.implementation.type === 'connector';
  if (connector && (!same(old.implementation, next.implementation) || !same(old.config, next.config))) {
    return old.kind === 'source'
      ? 'connector source changed: opened again it would read from the start and repeat records; to read something else, add a source with another id'
      : `connector sink changed: it would be opened again (a file sink replaces its file); ${renameHint}`;
  }
  return undefined;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
