/**
 * Warnings about a valid pipeline: things that run but are probably not what
 * the author meant. Nodes whose records reach no sink (a processor nothing
 * reads from, a source whose every path ends at one), so their records would
 * be dropped; and, with checkpoints on, the nodes whose output or effects a
 * restore cannot make exactly-once (see {@link checkpointWarnings}); and
 * parallel processors whose instances share the main thread, where
 * `parallelism` adds no core (see {@link mainThreadParallelismWarnings}).
 * `host validate` prints them; `host run` logs them at start. They never
 * fail validation.
 */
import { parseInput } from '../graph/dag.js';
import { cpuThreadOf } from '../sandbox/cpu-mode.js';
import type { PipelineConfig, Problem } from './pipeline-config.js';

/** Warnings about `config`, each at its node's JSON pointer, in file order. */
export function pipelineWarnings(config: PipelineConfig): Problem[] {
  const readers = new Map<string, string[]>(config.nodes.map((n) => [n.id, []]));
  for (const node of config.nodes) for (const input of node.inputs) readers.get(parseInput(input).node)?.push(node.id);
  // Walk upstream from every sink: what is reached can deliver somewhere.
  const delivers = new Set<string>();
  const pending = config.nodes.filter((n) => n.kind === 'sink').map((n) => n.id);
  const byId = new Map(config.nodes.map((n) => [n.id, n]));
  while (pending.length > 0) {
    const id = pending.pop()!;
    if (delivers.has(id)) continue;
    delivers.add(id);
    for (const input of byId.get(id)?.inputs ?? []) pending.push(parseInput(input).node);
  }
  return [...unreachedWarnings(config, readers, delivers), ...checkpointWarnings(config), ...mainThreadParallelismWarnings(config)];
}

function unreachedWarnings(config: PipelineConfig, readers: ReadonlyMap<string, readonly string[]>, delivers: ReadonlySet<string>): Problem[] {
  return config.nodes.flatMap((node): Problem[] => {
    if (node.kind === 'sink' || node.kind === 'service' || delivers.has(node.id)) return [];
    const next = readers.get(node.id) ?? [];
    const ends = deadEnds(node.id, readers);
    return [{
      pointer: `/nodes/${node.index}`,
      message: next.length === 0
        ? `the records of ${node.kind} "${node.id}" reach no sink: no node reads its output, so they would be dropped`
        : `the records of ${node.kind} "${node.id}" reach no sink: every path from it ends at ${ends.map((id) => `"${id}"`).join(', ')}, which no node reads`,
      hint: `add a sink with "inputs": ["${next.length === 0 ? node.id : ends[0]}"] (the "null" connector, if dropping them is intended)`,
    }];
  });
}

/**
 * With a `checkpoint` block: what a restore replays that the outside world
 * has already seen, or replays differently. A restore goes back to the last
 * checkpoint and processes the records after it again, so
 * - (delivery `exactly-once` only) a `stdout` sink prints them again and a
 *   plugin sink writes them again (neither can be cut back as the file sink is);
 * - plugins granted HTTP or a writable directory repeat those side effects;
 * - windowed nodes put records without an event time in windows by the wall clock, which differs on replay;
 * - a `stdin` source skips the lines it had read, right only if the same input is piped in again.
 * One warning per node and cause, in file order.
 */
export function checkpointWarnings(config: PipelineConfig): Problem[] {
  const checkpoint = config.checkpoint;
  if (!checkpoint || checkpoint.delivery === 'none') return [];
  const exactlyOnce = checkpoint.delivery === 'exactly-once';
  return config.nodes.flatMap((node): Problem[] => {
    const at = `/nodes/${node.index}`;
    const warnings: Problem[] = [];
    const connector = node.implementation.type === 'connector' ? node.implementation.name : undefined;
    if (exactlyOnce && node.kind === 'sink' && connector === 'stdout') {
      warnings.push({
        pointer: at,
        message: `sink "${node.id}" writes to standard output, which cannot be taken back: after a restore it prints the records since the last checkpoint again (at-least-once, not exactly-once)`,
        hint: 'write to the file sink for exactly-once output, or set "checkpoint": {"delivery": "at-least-once"} to say repeats are fine',
      });
    }
    if (exactlyOnce && node.kind === 'sink' && node.implementation.type === 'plugin') {
      warnings.push({
        pointer: at,
        message: `sink "${node.id}" is a plugin: what it wrote after the last checkpoint cannot be cut back, so a restore writes those records again (at-least-once, not exactly-once)`,
        hint: 'make the plugin\'s writes idempotent (an upsert by key, an id per record), or set "checkpoint": {"delivery": "at-least-once"}',
      });
    }
    const effects = [
      ...(node.capabilities.http ? ['sends HTTP requests'] : []),
      ...(node.capabilities.filesystem.some((g) => g.mode === 'rw') ? ['writes files'] : []),
    ];
    if (node.implementation.type === 'plugin' && effects.length > 0) {
      warnings.push({
        pointer: `${at}/capabilities`,
        message: `the plugin of ${node.kind} "${node.id}" ${effects.join(' and ')}: a restore processes the records since the last checkpoint again, so those side effects happen again`,
        hint: 'make them idempotent (a request id derived from the record, an upsert, a file named by the record), or accept repeats',
      });
    }
    if (node.window) {
      warnings.push({
        pointer: `${at}/window`,
        message: `windowed node "${node.id}" puts records without an event time in windows by the wall clock, which differs on replay: after a restore such records may land in other windows`,
        hint: 'give every record an event time ("eventTime" in JSONL input, or set by the source plugin); when every record has one, this does not apply (host validate cannot see the records)',
      });
    }
    if (node.kind === 'service') {
      warnings.push({
        pointer: at,
        message: `service "${node.id}" is not part of checkpoints: its keyed state and its instance's memory start empty after a restore, while the nodes that call it resume where they were`,
        hint: 'keep what must survive a restart in the keyed state of the processor that calls the service, or make the service rebuild it from its config',
      });
    }
    if (node.kind === 'source' && connector === 'stdin') {
      warnings.push({
        pointer: at,
        message: `source "${node.id}" reads standard input: a restore skips the lines it had read before the last checkpoint, which is exactly-once only if the same input is piped in again`,
        hint: 'pipe the same input again when resuming (or run with --fresh), or read from a file source',
      });
    }
    return warnings;
  });
}

/**
 * Plugin processors (without a window) with `parallelism` > 1 whose
 * instances run on the main thread (cpu modes `fuel` and `none` without
 * `"thread": "worker"`): the thread runs one call at a time, so the instances
 * take turns on one core.
 */
function mainThreadParallelismWarnings(config: PipelineConfig): Problem[] {
  return config.nodes.flatMap((node): Problem[] => {
    if (node.kind !== 'processor' || node.implementation.type !== 'plugin' || node.window || node.parallelism <= 1) return [];
    if (cpuThreadOf({ cpuMode: node.limits.cpu.mode, cpuThread: node.limits.cpu.thread }) !== 'main') return [];
    return [{
      pointer: `/nodes/${node.index}/parallelism`,
      message: `processor "${node.id}" runs its ${node.parallelism} instances on the main thread, which runs one call at a time: parallelism adds no core there`,
      hint: `add "limits": {"cpu": {"mode": "${node.limits.cpu.mode}", "thread": "worker"}} to run each instance on a worker thread of its own (${node.limits.cpu.mode === 'fuel' ? 'fuel metered there as here; ' : ''}each costs a thread and about 20 MiB)`,
    }];
  });
}

/** The nodes downstream of `id` (or `id` itself) that nothing reads, in the order first met. */
function deadEnds(id: string, readers: ReadonlyMap<string, readonly string[]>): string[] {
  const ends: string[] = [];
  const seen = new Set<string>();
  const pending = [id];
  while (pending.length > 0) {
    const current = pending.shift()!;
    if (seen.has(current)) continue;
    seen.add(current);
    const next = readers.get(current) ?? [];
    if (next.length === 0) ends.push(current);
    pending.push(...next);
  }
  return ends;
}
