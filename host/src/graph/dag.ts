/**
 * The pipeline as a pure directed graph: node ids and the edges between them.
 * No I/O and no knowledge of plugins; `config/` and `topology/` build on it.
 */

/** A node as the graph sees it: an id and what it reads from (`"id"` or `"id.output"`). */
export interface GraphNode {
  id: string;
  inputs: readonly string[];
}

/** One input of a node: the upstream node and which of its outputs (`""`: the default one). */
export interface InputRef {
  node: string;
  output: string;
}

/** `"validate.invalid"` -> `{node: "validate", output: "invalid"}`; `"validate"` -> output `""`. */
export function parseInput(input: string): InputRef {
  const dot = input.indexOf('.');
  return dot < 0 ? { node: input, output: '' } : { node: input.slice(0, dot), output: input.slice(dot + 1) };
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
    for (const { node: input } of (byId.get(id)?.inputs ?? []).map(parseInput)) {
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

/** One edge out of a node: which output, read by which node. */
export interface Route {
  output: string;
  reader: string;
}

/** For each id, the edges out of it, in declaration order (a node reading two outputs of one node has two). */
export function downstreamOf(nodes: readonly GraphNode[]): Map<string, Route[]> {
  const out = new Map<string, Route[]>(nodes.map((n) => [n.id, []]));
  for (const node of nodes) {
    for (const input of node.inputs) {
      const { node: upstream, output } = parseInput(input);
      out.get(upstream)?.push({ output, reader: node.id });
    }
  }
  return out;
}
