/**
 * What changed between two compiled pipelines, and whether the change can be
 * applied to a running pipeline. Live: the `config`, `limits`,
 * `capabilities` or plugin file of a plugin node that is not windowed.
 * Everything else (nodes added or removed, inputs, kinds, parallelism,
 * partitioning, batching, onError, windows, connectors) needs a restart and
 * is refused with the reason.
 */
import type { NodeConfig, PipelineConfig } from './pipeline-config.js';

/** The outcome of {@link diffPipelines}. */
export interface PipelineDiff {
  /** Ids of plugin nodes to switch live. */
  changed: string[];
  /** Why the diff cannot be applied live, one reason per change; empty when it can. */
  refused: string[];
}

const LIVE_FIELDS = ['config', 'limits', 'capabilities', 'implementation'] as const;
const RESTART_FIELDS = ['kind', 'inputs', 'parallelism', 'partition', 'batch', 'onError', 'window'] as const;

/** Compares the running pipeline with an edited one. */
export function diffPipelines(running: PipelineConfig, edited: PipelineConfig): PipelineDiff {
  const before = new Map(running.nodes.map((n) => [n.id, n]));
  const after = new Map(edited.nodes.map((n) => [n.id, n]));
  const changed: string[] = [];
  const refused: string[] = [];
  for (const id of after.keys()) if (!before.has(id)) refused.push(`node "${id}" was added`);
  for (const id of before.keys()) if (!after.has(id)) refused.push(`node "${id}" was removed`);
  for (const [id, old] of before) {
    const next = after.get(id);
    if (!next) continue;
    const restart = RESTART_FIELDS.filter((f) => !same(old[f], next[f]));
    for (const field of restart) refused.push(`node "${id}": ${field} changed`);
    const live = LIVE_FIELDS.filter((f) => !same(old[f], next[f]));
    if (live.length === 0) continue;
    if (!livePlugin(old) || !livePlugin(next)) refused.push(`node "${id}": ${live.join(', ')} changed on a node that cannot switch live (a connector or a windowed processor)`);
    else changed.push(id);
  }
  return { changed, refused };
}

function livePlugin(node: NodeConfig): boolean {
  return node.implementation.type === 'plugin' && node.window === undefined;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
