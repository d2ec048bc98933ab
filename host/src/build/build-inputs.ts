/**
 * Same source, same bytes, without building again. A QuickJS build is
 * reproducible (qjs-runtime.ts fixes the clocks and seed its Wizer
 * pre-initialization sees), but it takes seconds, and a SpiderMonkey build
 * (componentize-js, also pre-initialized with Wizer) gets no such treatment
 * and is not checked for reproducibility. So a JS build records a digest of its inputs in a custom section
 * at the end of the component (`weir-build-inputs`), and a later build whose
 * inputs have the same digest keeps the existing file: to the host it is no
 * new plugin (no reload, no new transpile-cache entry).
 *
 * The inputs: the entry module and every module it imports statically
 * (relative paths, followed recursively), the WIT folder the build uses,
 * the manifest, and the toolchain's version. A source this cannot follow
 * (a dynamic `import()`, a package import) has no digest, and is built
 * every time.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';

/** Name of the custom section that carries the digest. */
export const BUILD_INPUTS_SECTION = 'weir-build-inputs';

/** The build recipe (the toolchain options plugin-build.ts uses); part of every digest. */
const RECIPE = 'weir js build v2: stubWasi unless manifest.wasi, built-in sync runtime with fixed clocks and seed under Wizer, moduleRoot = /';
const STATIC_IMPORT = /(?:^|[^\w$.])(?:import|export)\s*(?:[^'"`;]*?\bfrom\s*)?['"]([^'"\n]+)['"]/g;
const DYNAMIC_IMPORT = /(?:^|[^\w$.])import\s*\(/;

/** What besides the source files decides the output of a JS build. */
export interface JsBuildSettings {
  /** The manifest as parsed, and the options handed to the toolchain. */
  settings: unknown;
  /** `name@version` of the toolchain package. */
  toolchain: string;
  /** The WIT file or folder the build reads. */
  witPath: string;
}

/**
 * The sha256 (hex) of a JS build's inputs, or `undefined` when the import
 * graph of `entry` cannot be followed statically (then: always build).
 */
export async function jsBuildDigest(entry: string, build: JsBuildSettings): Promise<string | undefined> {
  const hash = createHash('sha256');
  // Bump the recipe version when the options plugin-build.ts hands the toolchain change.
  hash.update(`${RECIPE}\0${build.toolchain}\0${JSON.stringify(build.settings)}\0`);
  const sources = await importClosure(resolve(entry));
  if (!sources) return undefined;
  // By absolute path: a QuickJS build names its modules by their absolute paths (stack traces), so a moved plugin builds again.
  for (const [file, text] of [...sources].sort(([a], [b]) => a.localeCompare(b))) hash.update(`src\0${file}\0${text}\0`);
  for (const [file, text] of await witFiles(build.witPath)) hash.update(`wit\0${file}\0${text}\0`);
  return hash.digest('hex');
}

/** The digest recorded at the end of `wasm` by {@link withBuildDigest}, if any. */
export function recordedDigest(wasm: Uint8Array): string | undefined {
  const tail = sectionFor('0'.repeat(64));
  if (wasm.length < tail.length) return undefined;
  const end = wasm.subarray(wasm.length - tail.length);
  const prefix = tail.subarray(0, tail.length - 64);
  if (!prefix.every((byte, i) => end[i] === byte)) return undefined;
  const digest = new TextDecoder().decode(end.subarray(prefix.length));
  return /^[0-9a-f]{64}$/.test(digest) ? digest : undefined;
}

/** `wasm` with a last custom section recording `digest`. */
export function withBuildDigest(wasm: Uint8Array, digest: string): Uint8Array {
  const section = sectionFor(digest);
  const out = new Uint8Array(wasm.length + section.length);
  out.set(wasm);
  out.set(section, wasm.length);
  return out;
}

/** A custom section (id 0) named {@link BUILD_INPUTS_SECTION} holding the 64 hex digits. */
function sectionFor(digest: string): Uint8Array {
  const name = new TextEncoder().encode(BUILD_INPUTS_SECTION);
  const body = [name.length, ...name, ...new TextEncoder().encode(digest)];
  // Both lengths stay below 128: one LEB128 byte each.
  return new Uint8Array([0x00, body.length, ...body]);
}

/** Every module `entry` imports statically, with its text; `undefined` if one cannot be followed. */
async function importClosure(entry: string): Promise<Map<string, string> | undefined> {
  const seen = new Map<string, string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      return undefined;
    }
    if (DYNAMIC_IMPORT.test(text)) return undefined;
    seen.set(file, text);
    for (const [, specifier] of text.matchAll(STATIC_IMPORT)) {
      if (specifier!.startsWith('./') || specifier!.startsWith('../') || specifier!.startsWith('/')) pending.push(resolve(dirname(file), specifier!));
      // `weir:plugin/log@0.1.0` and the like are WIT imports, resolved by the toolchain from the WIT.
      else if (!/^[a-z][\w-]*:/.test(specifier!)) return undefined;
    }
  }
  return seen;
}

/** The files under a WIT folder (or the one file), by relative path, sorted. */
async function witFiles(witPath: string): Promise<Array<[string, string]>> {
  try {
    const items = await readdir(witPath, { withFileTypes: true, recursive: true });
    const files = items.filter((i) => i.isFile()).map((i) => join(i.parentPath, i.name)).sort();
    return Promise.all(files.map(async (file) => [relative(witPath, file), await readFile(file, 'utf8')] as [string, string]));
  } catch {
    return [['', await readFile(witPath, 'utf8')]];
  }
}
