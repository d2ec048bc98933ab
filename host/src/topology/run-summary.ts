/** Counters of a run, per node and in total, as the summary prints them. */
import type { PluginKind } from '../sandbox/plugin.js';
import type { NodeResourceSummary } from './node-resources.js';

/** Counters of one node. */
export interface NodeStats {
  id: string;
  kind: PluginKind;
  /** `plugin:<file>` or `connector:<name>`. */
  implementation: string;
  /** sha256 of the plugin file (plugins only). */
  pluginSha256?: string;
  /** Records received (processors, sinks) . */
  in: number;
  /** Records emitted (sources, processors) or written (sinks). */
  out: number;
  /** Records in batches the plugin failed on. */
  errors: number;
  /** Records dropped by `onError: skip`. */
  skipped: number;
  /** Records sent to a dead-letter sink. */
  deadLettered: number;
  /** Instances recreated after a trap or fatal error. */
  restarts: number;
  /** Most batches ever queued in front of the node. */
  queueHighWater: number;
  /** What the node's plugin instances used (plugin nodes only). */
  resources?: NodeResourceSummary;
}

/** How a run ended. */
export type RunStatus = 'completed' | 'stopped' | 'failed';

/** Everything `--summary-json` writes. */
export interface RunSummary {
  pipeline: string;
  status: RunStatus;
  wallMs: number;
  /** Records read by sources and records written by sinks. */
  totals: { read: number; written: number; errors: number; skipped: number; deadLettered: number };
  nodes: NodeStats[];
  error?: { code: string; message: string; details?: unknown };
}

/** Adds up the per-node counters. */
export function totalsOf(nodes: readonly NodeStats[]): RunSummary['totals'] {
  const sum = (pick: (n: NodeStats) => number, kind?: PluginKind): number =>
    nodes.filter((n) => kind === undefined || n.kind === kind).reduce((total, n) => total + pick(n), 0);
  return {
    read: sum((n) => n.out, 'source'),
    written: sum((n) => n.out, 'sink'),
    errors: sum((n) => n.errors),
    skipped: sum((n) => n.skipped),
    deadLettered: sum((n) => n.deadLettered),
  };
}

/** The human summary printed at the end of `host run`. */
export function formatSummary(summary: RunSummary): string {
  const rows = summary.nodes.map((n) => [n.id, n.kind, n.implementation, String(n.in), String(n.out), String(n.errors)]);
  const header = ['node', 'kind', 'runs', 'in', 'out', 'errors'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const t = summary.totals;
  const extra = [t.skipped ? `${t.skipped} skipped` : '', t.deadLettered ? `${t.deadLettered} dead-lettered` : ''].filter(Boolean).join(', ');
  return [
    `pipeline "${summary.pipeline}" ${summary.status} in ${(summary.wallMs / 1000).toFixed(2)} s: ${t.read} read, ${t.written} written, ${t.errors} errors${extra ? `, ${extra}` : ''}`,
    line(header),
    ...rows.map(line),
  ].join('\n');
}
