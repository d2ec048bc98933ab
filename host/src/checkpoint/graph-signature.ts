/**
 * What a checkpoint records of the pipeline it was taken from, and the check
 * that a pipeline about to restore it still fits: every node that holds
 * something in the checkpoint must still exist with the same kind, the same
 * connector (or a plugin) and the same window. Plugins may change (a new
 * build reads the state of the old one, as a hot reload does), parallelism
 * may change (state is per node, windows are redistributed), nodes may be
 * added (they start empty).
 */
import type { NodeConfig } from '../config/pipeline-config.js';
import type { NodeSignature } from './checkpoint-store.js';

/** The signature of each node of a pipeline. */
export function graphSignature(nodes: readonly NodeConfig[]): NodeSignature[] {
  return nodes.map((node) => ({
    id: node.id,
    kind: node.kind,
    implementation: node.implementation.type === 'plugin' ? 'plugin' : `connector:${node.implementation.name}`,
    ...(node.window ? { window: JSON.stringify(node.window) } : {}),
  }));
}

/**
 * Why `current` cannot restore a checkpoint taken from `stored` (one line
 * per node), or an empty list when it can. `holding` names the nodes the
 * checkpoint holds something for.
 */
export function graphMismatches(stored: readonly NodeSignature[], current: readonly NodeSignature[], holding: ReadonlySet<string>): string[] {
  const now = new Map(current.map((n) => [n.id, n]));
  const reasons: string[] = [];
  for (const before of stored) {
    if (!holding.has(before.id)) continue;
    const after = now.get(before.id);
    if (!after) {
      reasons.push(`the checkpoint holds ${describe(before)} of node "${before.id}", which is no longer in the pipeline`);
    } else if (after.kind !== before.kind) {
      reasons.push(`node "${before.id}" was a ${before.kind} when the checkpoint was taken and is a ${after.kind} now`);
    } else if (after.implementation !== before.implementation) {
      reasons.push(`node "${before.id}" ran ${before.implementation} when the checkpoint was taken and runs ${after.implementation} now`);
    } else if ((after.window ?? '') !== (before.window ?? '')) {
      reasons.push(`node "${before.id}" has a different window than when the checkpoint was taken (${before.window ?? 'none'} -> ${after.window ?? 'none'})`);
    }
  }
  return reasons;
}

function describe(node: NodeSignature): string {
  if (node.kind === 'source') return 'a source position';
  if (node.kind === 'sink') return 'an output length';
  return node.window ? 'open windows' : 'keyed state';
}
