/**
 * A QuickJS runtime for componentize-qjs whose pre-initialization is
 * deterministic, so two builds of the same source give the same bytes.
 *
 * componentize-qjs (0.4) runs the plugin's top-level code under Wizer, inside
 * its native binding (wasmtime with a default `WasiCtx`), and snapshots the
 * result. During that run the runtime module reads three host values that end
 * up in the snapshot: `wasi:random/insecure-seed` (Rust's `HashMap` keys),
 * `wasi:clocks/wall-clock.now` (QuickJS seeds `Math.random` with the time of
 * day when it creates the context; `Date`) and `wasi:clocks/monotonic-clock.now`
 * (`performance.now`'s origin). The binding's WASI context cannot be
 * configured, but `componentize` takes the runtime module as bytes
 * (`runtimeBytes`). This takes the built-in runtime out of the binding (it is
 * embedded there as a plain wasm module) and rewrites those three imports:
 * while a build flag is set they answer fixed values (the clocks advance one
 * microsecond per call, so a busy wait still ends), otherwise they call the
 * real import. The flag starts set and the runtime's `init` export (what Wizer
 * calls) clears it on return, so the snapshot holds it cleared: a built plugin
 * reaches the real imports (or the traps `stubWasi` puts in their place).
 */
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The wall clock a build sees: 2001-09-09T01:46:40Z, then one microsecond more per call. */
export const BUILD_EPOCH_SECONDS = 1_000_000_000n;
/** What `insecure-seed` answers during a build. */
const BUILD_SEED: readonly [bigint, bigint] = [0x5745495242554c44n, 0x5345454453454544n];

const WALL_CLOCK = 'wasi:clocks/wall-clock@';
const MONOTONIC_CLOCK = 'wasi:clocks/monotonic-clock@';
const INSECURE_SEED = 'wasi:random/insecure-seed@';
const WASM_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/**
 * The runtime `componentize({ sync: true })` uses, with deterministic
 * clocks and seed during pre-initialization (see the module comment).
 * Throws when the installed componentize-qjs no longer looks as expected.
 */
export function deterministicQuickJsRuntime(): Promise<Uint8Array> {
  // Computed once per process: it depends only on the installed binding, and
  // binaryen takes seconds to read and write the runtime (scripts/build-plugins.js builds many plugins).
  patched ??= (async () => patchRuntime(builtInSyncRuntime(await readFile(await bindingPath()))))();
  return patched;
}
let patched: Promise<Uint8Array> | undefined;

/** The native binding of componentize-qjs installed for this platform. */
async function bindingPath(): Promise<string> {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('componentize-qjs/package.json');
  const pkg = JSON.parse(await readFile(pkgPath, 'utf8')) as { optionalDependencies?: Record<string, string> };
  const dirs = [dirname(pkgPath)];
  const platform = `-${process.platform}-${process.arch}`;
  const fromPkg = createRequire(pkgPath);
  for (const name of Object.keys(pkg.optionalDependencies ?? {}).filter((n) => n.includes(platform))) {
    try {
      dirs.push(dirname(fromPkg.resolve(`${name}/package.json`)));
    } catch {
      // not installed for this machine (another libc)
    }
  }
  for (const dir of dirs) {
    const node = (await readdir(dir)).find((file) => file.endsWith('.node'));
    if (node) return join(dir, node);
  }
  throw new Error(`no native binding of componentize-qjs for ${process.platform}-${process.arch} under ${dirs.join(', ')}`);
}

/**
 * The built-in speed-optimized synchronous runtime inside the binding: of the
 * embedded wasm modules that are dynamic libraries (`dylink.0`) importing
 * componentize-qjs's module loader without the component-model async
 * intrinsics, the larger one (the other is the size-optimized build).
 */
export function builtInSyncRuntime(binding: Uint8Array): Uint8Array {
  const candidates = embeddedDylibs(binding).filter((module) => {
    const imports = importNames(module);
    return imports.some(([from]) => from === 'local:init/module-loader') && !imports.some(([, field]) => field.startsWith('[waitable-set-'));
  });
  if (candidates.length === 0) throw new Error('no QuickJS runtime found inside the componentize-qjs binding');
  return candidates.reduce((a, b) => (b.length > a.length ? b : a));
}

/** Every wasm module embedded in `bytes` whose first section is `dylink.0`. */
function embeddedDylibs(bytes: Uint8Array): Uint8Array[] {
  const found: Uint8Array[] = [];
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = Buffer.from(WASM_HEADER);
  for (let at = buffer.indexOf(header); at >= 0; at = buffer.indexOf(header, at + 1)) {
    const sections = moduleSections(bytes, at);
    if (sections[0]?.name === 'dylink.0') found.push(bytes.subarray(at, sections.at(-1)!.end));
  }
  return found;
}

interface Section {
  id: number;
  name?: string;
  start: number;
  end: number;
}

/** The sections of a module at `at`, up to where the bytes stop looking like one. */
function moduleSections(bytes: Uint8Array, at: number): Section[] {
  const sections: Section[] = [];
  let pos = at + WASM_HEADER.length;
  while (pos < bytes.length && bytes[pos]! <= 13 && !startsWith(bytes, pos, WASM_HEADER)) {
    const id = bytes[pos]!;
    const [size, body] = leb(bytes, pos + 1);
    if (body + size > bytes.length) break;
    const section: Section = { id, start: body, end: body + size };
    if (id === 0) {
      const [length, name] = leb(bytes, body);
      section.name = Buffer.from(bytes.subarray(name, name + length)).toString('utf8');
    }
    sections.push(section);
    pos = body + size;
  }
  return sections;
}

/** The `[module, field]` names of a module's imports. */
function importNames(module: Uint8Array): Array<[string, string]> {
  const names: Array<[string, string]> = [];
  const section = moduleSections(module, 0).find((s) => s.id === 2);
  if (!section) return names;
  let [count, pos] = leb(module, section.start);
  for (; count > 0; count--) {
    const [moduleName, afterModule] = name(module, pos);
    const [field, afterField] = name(module, afterModule);
    names.push([moduleName, field]);
    pos = skipImportDescription(module, afterField);
  }
  return names;
}

function skipImportDescription(bytes: Uint8Array, pos: number): number {
  const kind = bytes[pos++];
  if (kind === 0 || kind === 4) return leb(bytes, pos)[1]; // function type index, tag
  if (kind === 3) return pos + 2; // global: value type, mutability (both one byte for numeric types)
  if (kind === 1) pos++; // table: element type, then limits
  const flags = bytes[pos++]!;
  pos = leb(bytes, pos)[1];
  return flags & 1 ? leb(bytes, pos)[1] : pos;
}

function name(bytes: Uint8Array, pos: number): [string, number] {
  const [length, start] = leb(bytes, pos);
  return [Buffer.from(bytes.subarray(start, start + length)).toString('utf8'), start + length];
}

function leb(bytes: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[pos++]!;
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80 || pos >= bytes.length) return [result, pos];
  }
}

function startsWith(bytes: Uint8Array, pos: number, prefix: readonly number[]): boolean {
  return prefix.every((byte, i) => bytes[pos + i] === byte);
}

/** Rewrites the clock and seed imports of `runtime` (see the module comment), with binaryen. */
async function patchRuntime(runtime: Uint8Array): Promise<Uint8Array> {
  const { default: binaryen } = await import('assemblyscript/binaryen');
  const module = binaryen.readBinary(runtime);
  try {
    module.setFeatures(binaryen.Features.All);
    const { i32, i64, none } = binaryen;
    const building = 'weir$building';
    const ticks = 'weir$ticks';
    module.addGlobal(building, i32, true, module.i32.const(1));
    // This binaryen takes an i64 constant as one bigint (its typings still say two numbers).
    const i64Const = (value: bigint): number => (module.i64.const as unknown as (value: bigint) => number)(BigInt.asIntN(64, value));
    module.addGlobal(ticks, i64, true, i64Const(0n));
    /** `ticks += 1000` (nanoseconds), then its value. */
    const tick = (): number =>
      module.block(null, [module.global.set(ticks, module.i64.add(module.global.get(ticks, i64), i64Const(1000n))), module.global.get(ticks, i64)], i64);
    const replaced = new Set<string>();

    for (const info of functionImports(binaryen, module)) {
      let fixed: number | undefined;
      const ptr = (): number => module.local.get(0, i32);
      if (info.module.startsWith(INSECURE_SEED) && info.base === 'insecure-seed') {
        fixed = module.block(null, [module.i64.store(0, 8, ptr(), i64Const(BUILD_SEED[0])), module.i64.store(8, 8, ptr(), i64Const(BUILD_SEED[1]))]);
      } else if (info.module.startsWith(WALL_CLOCK) && info.base === 'now') {
        // datetime { seconds: u64, nanoseconds: u32 } written to the return pointer.
        const now = module.i64.add(i64Const(BUILD_EPOCH_SECONDS * 1_000_000_000n), tick());
        fixed = module.block(null, [
          module.local.set(1, now),
          module.i64.store(0, 8, ptr(), module.i64.div_u(module.local.get(1, i64), i64Const(1_000_000_000n))),
          module.i32.store(8, 4, ptr(), module.i32.wrap(module.i64.rem_u(module.local.get(1, i64), i64Const(1_000_000_000n)))),
        ]);
      } else if (info.module.startsWith(MONOTONIC_CLOCK) && info.base === 'now') {
        fixed = tick();
      }
      if (fixed === undefined) continue;
      const params = binaryen.expandType(info.params);
      const real = `${info.name}$real`;
      module.removeFunction(info.name);
      module.addFunctionImport(real, info.module, info.base, info.params, info.results);
      const forward = module.call(real, params.map((type, i) => module.local.get(i, type)), info.results);
      const body = module.if(module.global.get(building, i32), fixed, forward);
      module.addFunction(info.name, info.params, info.results, info.base === 'now' && info.results === none ? [i64] : [], body);
      replaced.add(`${info.module.slice(0, info.module.indexOf('@'))}.${info.base}`);
    }
    if (replaced.size !== 3) throw new Error(`expected to replace the seed and both clocks, replaced ${[...replaced].join(', ') || 'nothing'}`);
    clearFlagAfterInit(binaryen, module, building);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

type Binaryen = typeof import('assemblyscript/binaryen').default;
type BinaryenModule = InstanceType<Binaryen['Module']>;

function functionImports(binaryen: Binaryen, module: BinaryenModule) {
  const imports = [];
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
    if (info.module) imports.push({ ...info, module: info.module, base: info.base! });
  }
  return imports;
}

/** Re-exports `init` through a function that calls it and then clears the build flag. */
function clearFlagAfterInit(binaryen: Binaryen, module: BinaryenModule, building: string): void {
  const exported = module.getExport('init');
  if (!exported) throw new Error('the QuickJS runtime has no `init` export');
  const target = binaryen.getExportInfo(exported).value;
  const info = binaryen.getFunctionInfo(module.getFunction(target));
  const params = binaryen.expandType(info.params);
  const call = module.call(target, params.map((type, i) => module.local.get(i, type)), info.results);
  const clear = module.global.set(building, module.i32.const(0));
  const body =
    info.results === binaryen.none
      ? module.block(null, [call, clear])
      : module.block(null, [module.local.set(params.length, call), clear, module.local.get(params.length, info.results)], info.results);
  module.addFunction('weir$init', info.params, info.results, info.results === binaryen.none ? [] : [info.results], body);
  module.removeExport('init');
  module.addFunctionExport('weir$init', 'init');
}
