/**
 * The WIT types of a component's exports that the host checks beyond their
 * names: an export the host calls only when it is present (`process-packed`
 * of the `packed-processor` world) must have the type the world gives it,
 * or a component that happens to export another function by that name would
 * fail every call. Read from the component's WIT (jco's `componentWit`), on
 * a transpile-cache miss only; the cache entry keeps them.
 */

/** Exports whose types are read, by their WIT name, with the jco name they have on the instance. */
export const TYPED_EXPORTS: Readonly<Record<string, string>> = { 'process-packed': 'processPacked' };

/** The type `process-packed` must have (parameter names aside). */
export const PACKED_EXPORT_TYPE = 'func(batch: list<u8>) -> result<list<u8>, error>';

/**
 * The WIT function types of the {@link TYPED_EXPORTS} among `exports` (jco
 * names), by WIT name: `{'process-packed': 'func(batch: list<u8>) -> ...'}`.
 * Empty, without reading the WIT, when there are none.
 */
export async function readExportTypes(bytes: Uint8Array, exports: readonly string[]): Promise<Record<string, string>> {
  const wanted = Object.entries(TYPED_EXPORTS).filter(([, jcoName]) => exports.includes(jcoName));
  if (wanted.length === 0) return {};
  // Loaded here, not at the top: a warm start (every component in the cache) never loads wasm-tools.
  const { componentWit } = await import('@bytecodealliance/jco-transpile/wasm-tools');
  const wit = String(await componentWit(bytes));
  const types: Record<string, string> = {};
  for (const [witName] of wanted) {
    // The world of a component's own WIT lists its exports one per line: `  export name: func(...) -> ...;`
    const line = new RegExp(`^\\s*export ${witName}: (func\\(.*\\)(?: -> .*)?);\\s*$`, 'm').exec(wit);
    types[witName] = line?.[1] ?? 'not a function';
  }
  return types;
}

/** Whether `type` is {@link PACKED_EXPORT_TYPE}, whatever its parameter is called. */
export function isPackedExportType(type: string | undefined): boolean {
  return type !== undefined && type.replace(/^func\([\w-]+:/, 'func(batch:') === PACKED_EXPORT_TYPE;
}
