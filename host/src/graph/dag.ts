/**
 * The pipeline as a pure directed graph: node ids and the edges between them.
 * No I/O and no knowledge of plugins; `config/` and `topology/` build on it.
 */

/** A node as the graph sees it: an id and the ids it reads from. */
export interface GraphNode {
  id: string;
  inputs: readonly string[];
}

/**
 * Returns one cycle as a closed path of ids (`['a', 'b', 'a']`), or
 * `undefined` when the graph is acyclic. Inputs naming unknown ids are ignored.
 */
export function findCycle(nodes: readonly GraphNode[]): string[] | undefined {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const colour = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const mark = colour.get(id);
    if (mark === 'done') return undefined;
    if (mark === 'visiting') return [...path.slice(path.indexOf(id)), id];
    colour.set(id, 'visiting');
    path.push(id);
    for (const input of byId.get(id)?.inputs ?? []) {
      if (!byId.has(input)) continue;
      const cycle = visit(input);
      if (cycle) return cycle;
    }
    path.pop();
    colour.set(id, 'done');
    return undefined;
  };
  for (const node of nodes) {
    const cycle = visit(node.id);
    if (cycle) return cycle.reverse();
  }
  return undefined;
}

/** For each id, the ids of the nodes that read from it, in declaration order. */
export function downstreamOf(nodes: readonly GraphNode[]): Map<string, string[]> {
  const out = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const node of nodes) for (const input of node.inputs) out.get(input)?.push(node.id);
  return out;
}
