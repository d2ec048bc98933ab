/**
 * How deep a parsed JSON value nests, measured without recursion. The schema
 * validator, `structuredClone`, freezing and the plugins' `configure` all
 * recurse over a config, so a file nested a few thousand levels deep would
 * overflow the stack in one of them; {@link tooDeep} lets compilation refuse
 * it first, with the pointer of the first value past the limit.
 */

/** Deepest nesting of objects and arrays a pipeline file may have (the file itself is depth 1). */
export const MAX_JSON_DEPTH = 64;

/**
 * The JSON pointer of the first object or array nested deeper than
 * `maxDepth` in `value`, or `undefined` when none is.
 */
export function tooDeep(value: unknown, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const stack: Array<{ value: unknown; depth: number; pointer: string }> = [{ value, depth: 1, pointer: '' }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value !== 'object' || item.value === null) continue;
    if (item.depth > maxDepth) return item.pointer;
    const entries = Array.isArray(item.value) ? item.value.map((child, i) => [String(i), child] as const) : Object.entries(item.value);
    // Pushed in reverse, so the first offending value in file order is found first.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: item.depth + 1, pointer: `${item.pointer}/${escape(key)}` });
    }
  }
  return undefined;
}

/** Escapes a key for a JSON pointer (RFC 6901). */
function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
