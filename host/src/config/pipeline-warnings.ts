/**
 * Warnings about a valid pipeline: things that run but are probably not what
 * the author meant. Today one: nodes whose records reach no sink (a
 * processor nothing reads from, a source whose every path ends at one), so
 * their records would be dropped. `host validate` prints them; `host run`
 * logs them at start. They never fail validation.
 */
import { parseInput } from '../graph/dag.js';
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
