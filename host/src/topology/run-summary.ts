/** Counters of a run, per node and in total, as the summary prints them. */
import type { Logger } from 'pino';
import type { PluginKind } from '../contract/plugin.js';
import type { WeirError } from '../errors/errors.js';
import type { NodeResourceSummary } from './node-resources.js';

/** Counters of one node. */
export interface NodeStats {
  id: string;
  kind: PluginKind;
  /** `plugin:<file>` or `connector:<name>`. */
  implementation: string;
  /** sha256 of the plugin file (plugins only). */
  pluginSha256?: string;
  /** When the node switched to that version (ISO 8601; the start for the first). */
  pluginLoadedAt?: string;
  /** Records received (processors, sinks) . */
  in: number;
  /** Records emitted (sources, processors) or written (sinks). */
  out: number;
  /** Records the plugin finally failed on (after retries and isolation): skipped, dead-lettered, or failing the run. */
  errors: number;
  /** Records a processor took in and did not emit (filtered out), from batches it processed. */
  filtered: number;
  /**
   * Records the node emitted to an output nobody reads: they reach no sink
   * (a node without readers, or a named output no node selects).
   */
  dropped: number;
  /** Records dropped by `onError: skip`. */
  skipped: number;
  /** Records sent to a dead-letter sink. */
  deadLettered: number;
  /** Instances recreated after a trap or fatal error. */
  restarts: number;
  /** Most batches ever queued in front of the node. */
  queueHighWater: number;
  /** Plugin versions switched to while running (hot reload), and replacements refused. */
  reloads?: number;
  reloadsRejected?: number;
  /** Taken out of the running pipeline by an edit of pipeline.json (its counters stay). */
  removed?: boolean;
  /** Plugin log lines dropped over the node's log rate limit (linker/log-limiter.ts); absent when none. */
  logLinesDropped?: number;
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
  totals: { read: number; written: number; errors: number; filtered: number; dropped: number; skipped: number; deadLettered: number };
  nodes: NodeStats[];
  /** Present when a stop's drain ran out of time (`host run --drain-timeout`): records still queued then, by the node they were queued for. */
  drain?: { timedOut: true; timeoutMs: number; notWritten: Record<string, number> };
  error?: { code: string; message: string; details?: unknown };
  /** Present when the run takes checkpoints: how many completed (the final one included), the last, and the one it resumed from. */
  checkpoints?: RunCheckpointStats;
}

/** The checkpoints of a run, in its summary. */
export interface RunCheckpointStats {
  completed: number;
  lastEpoch?: number;
  lastDurationMs?: number;
  lastChangedKeys?: number;
  /** The epoch of the checkpoint the run resumed from. */
  restoredFrom?: number;
}

/** Adds up the per-node counters. */
export function totalsOf(nodes: readonly NodeStats[]): RunSummary['totals'] {
  const sum = (pick: (n: NodeStats) => number, kind?: PluginKind): number =>
    nodes.filter((n) => kind === undefined || n.kind === kind).reduce((total, n) => total + pick(n), 0);
  return {
    read: sum((n) => n.out, 'source'),
    written: sum((n) => n.out, 'sink'),
    errors: sum((n) => n.errors),
    filtered: sum((n) => n.filtered),
    dropped: sum((n) => n.dropped),
    skipped: sum((n) => n.skipped),
    deadLettered: sum((n) => n.deadLettered),
  };
}

/** How a run ended, as {@link runSummary} reports it. */
export interface RunEnding {
  pipeline: string;
  status: RunStatus;
  wallMs: number;
  /** The final per-node counters. */
  nodes: NodeStats[];
  /** Set when the drain ran out of time: records still queued, by node (a sink's unwritten batch is added). */
  drainTimedOut: { timeoutMs: number; notWritten: Record<string, number> } | undefined;
  failure: WeirError | undefined;
  logger: Logger;
  checkpoints?: RunCheckpointStats | undefined;
}

/** Logs each node's counters and returns the run's summary. */
export function runSummary({ pipeline, status, wallMs, nodes, drainTimedOut, failure, logger, checkpoints }: RunEnding): RunSummary {
  if (drainTimedOut) {
    // A sink's batch in a write that never returned was received and not written.
    const notWritten = drainTimedOut.notWritten;
    for (const n of nodes) {
      const unwritten = n.kind === 'sink' ? n.in - n.out - n.errors : 0;
      if (unwritten > 0) notWritten[n.id] = (notWritten[n.id] ?? 0) + unwritten;
    }
  }
  for (const node of nodes) {
    const { id, implementation, in: received, out, errors, filtered, dropped, queueHighWater, restarts, resources } = node;
    logger.info({ node: id, implementation, in: received, out, errors, filtered, dropped, queueHighWater, restarts, ...(resources ? { resources } : {}) }, 'node summary');
  }
  return {
    pipeline,
    status,
    wallMs,
    totals: totalsOf(nodes),
    nodes,
    ...(drainTimedOut ? { drain: { timedOut: true, ...drainTimedOut } } : {}),
    ...(failure ? { error: failure.toJSON() } : {}),
    ...(checkpoints ? { checkpoints } : {}),
  };
}

/** The human summary printed at the end of `host run`. */
export function formatSummary(summary: RunSummary): string {
  const rows = summary.nodes.map((n) => {
    const r = n.resources;
    return [
      n.removed ? `${n.id} (removed)` : n.id, n.kind, n.implementation, n.pluginSha256 ? n.pluginSha256.slice(0, 8) : '-', n.pluginLoadedAt ? `${n.pluginLoadedAt.slice(11, 19)}Z` : '-', String(n.in), String(n.out), String(n.errors), String(n.dropped), String(n.restarts),
      r ? `${(r.memoryPagesHighWater / 16).toFixed(1)}/${r.memoryCapPages / 16}` : '-',
      r ? r.callMs.toFixed(0) : '-',
      r && r.cpuMode === 'fuel' ? compact(Number(r.fuelUsed)) : '-',
    ];
  });
  const header = ['node', 'kind', 'runs', 'version', 'since', 'in', 'out', 'errors', 'dropped', 'restarts', 'mem MiB', 'call ms', 'fuel'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i >= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const t = summary.totals;
  const extra = [t.filtered ? `${t.filtered} filtered out` : '', t.dropped ? `${t.dropped} dropped (reached no sink)` : '', t.skipped ? `${t.skipped} skipped` : '', t.deadLettered ? `${t.deadLettered} dead-lettered` : ''].filter(Boolean).join(', ');
  const drain = summary.drain;
  const notWritten = drain ? Object.entries(drain.notWritten).map(([node, records]) => `${node} ${records}`).join(', ') : '';
  return [
    `pipeline "${summary.pipeline}" ${summary.status} in ${(summary.wallMs / 1000).toFixed(2)} s: ${t.read} read, ${t.written} written, ${t.errors} errors${extra ? `, ${extra}` : ''}`,
    ...(drain ? [`drain timed out after ${drain.timeoutMs} ms; not written: ${notWritten || 'nothing was queued (a write in progress finished)'}`] : []),
    ...(summary.checkpoints ? [checkpointLine(summary.checkpoints)] : []),
    line(header),
    ...rows.map(line),
  ].join('\n');
}

/** "checkpoints: 12 completed, last epoch 14 (35 ms); resumed from epoch 2". */
function checkpointLine(c: RunCheckpointStats): string {
  const last = c.lastEpoch === undefined ? '' : `, last epoch ${c.lastEpoch}${c.lastDurationMs === undefined ? '' : ` (${Math.round(c.lastDurationMs)} ms)`}`;
  return `checkpoints: ${c.completed} completed${last}${c.restoredFrom === undefined ? '' : `; resumed from epoch ${c.restoredFrom}`}`;
}

/** 1234567 -> "1.2M". */
function compact(value: number): string {
  const units: Array<[number, string]> = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, unit] of units) if (value >= size) return `${(value / size).toFixed(1)}${unit}`;
  return String(value);
}
