/**
 * Turns the ES module jco generated for a component into the `instantiate`
 * function the host calls, with two changes.
 *
 * **Lists are bounded before they are lifted.** jco lifts a `list<T>` the
 * guest returns by reading `(ptr, len)` from guest memory and looping `len`
 * times, pushing one JS object per element: a hostile guest that claims a
 * huge length makes the host allocate until the loop runs off the end of
 * its memory (and an in-bounds claim still becomes hundreds of bytes of JS
 * per element). Each such loop gets a call to a {@link LiftGuard} first,
 * with the length, the pointer, the element size and the memory, so the
 * host can refuse a list that runs past the end of memory, or that would
 * lift to more than the node's output limit, before allocating anything.
 * jco's generic list lifter (`_liftFlatList`) gets the same call.
 *
 * **The code is evaluated as a function, not imported.** Node never unloads
 * an imported ES module, and every build of a plugin has its own module (its
 * digest is part of the path), so each hot reload of a QuickJS plugin kept
 * its 250 KB of generated JS, compiled, for the life of the process. A
 * function built with `new Function` is collected once no instance uses it.
 *
 * Both rewrites match the shape of jco-transpile's output (checked by
 * host/test/sandbox/component-code.test.ts); code that does not match is
 * refused rather than run unguarded.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { WeirError, messageOf } from '../errors/errors.js';

/** jco's `instantiate(getCoreModule, imports, instantiateCore)` in async instantiation mode. */
export type JcoInstantiate = (
  getCoreModule: (name: string) => Promise<WebAssembly.Module>,
  imports: Record<string, Record<string, unknown>>,
  instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
) => Promise<Record<string, (...args: never[]) => unknown>>;

/** What the rewritten code calls before lifting a list from guest memory. */
export interface LiftGuard {
  /**
   * `len` elements of `elemSize` bytes each at `ptr` in `memory` are about to
   * be lifted; throw to refuse.
   */
  list(len: number, ptr: number, elemSize: number, memory: WebAssembly.Memory): void;
}

/** The key of the import object under which the rewritten code finds its {@link LiftGuard}. */
export const LIFT_GUARD_IMPORT = 'weir:host/lift-guard';

/** Generated code, rewritten. */
export interface PreparedComponentCode {
  /** The body of a function that returns `instantiate`. */
  body: string;
  /** Lifting loops that got a guard call. */
  guardedLoops: number;
}

const HEADER = 'export function instantiate(getCoreModule, imports, instantiateCore = WebAssembly.instantiate) {';
const GUARD = '__weirLiftGuard';
// jco's inline lift of a list whose elements are not bytes:
//   var result17 = [];
//   for (let i = 0; i < len17; i++) {
//     const base = base17 + i * 48;
const LIFT_LOOP = /(var result\d+ = \[\];\s*for \(let i = 0; i < (len\d+); i\+\+\) \{\s*const base = (base\d+) \+ i \* (\d+);)/g;
// Any loop over a list length, to check that every one was matched above.
const ANY_LIST_LOOP = /for \(let i = 0; i < len\d+; i\+\+\)/g;
// ...whose body reads its elements with `dataView(memory0).get...(base + ...)`.
const ELEMENT_READ = /dataView\((memory\d+)\)\.get\w+\(base \+/;
const GENERIC_LIFT = 'const readValuesAndReset = (ctx, originalPtr, originalLen, dataPtr, len) => {';

/**
 * Rewrites jco's generated module `source` (from `file`) into a function body.
 * @throws WeirError `WEIR_PLUGIN_LOAD_FAILED` when the code does not have the expected shape.
 */
export function prepareComponentCode(source: string, file: string): PreparedComponentCode {
  const refuse = (what: string): never => {
    throw new WeirError('WEIR_PLUGIN_LOAD_FAILED', `the code jco generated for ${file} does not have the shape the host expects (${what}); clear the transpile cache or check the jco-transpile version`, { file });
  };
  if (!source.includes(HEADER)) refuse('no `export function instantiate`');
  let guardedLoops = 0;
  let body = source.replace(LIFT_LOOP, (loop: string, _all: string, len: string, base: string, size: string, offset: number) => {
    // The memory the elements are read from: the first one the loop body reads.
    const memory = ELEMENT_READ.exec(source.slice(offset + loop.length, offset + loop.length + 2000))?.[1];
    if (memory === undefined) refuse(`no memory read in the loop over ${len}`);
    guardedLoops++;
    return `${GUARD}.list(${len}, ${base}, ${size}, ${memory});\n${loop}`;
  });
  const loops = source.match(ANY_LIST_LOOP)?.length ?? 0;
  if (loops !== guardedLoops) refuse(`${loops - guardedLoops} of ${loops} list-lifting loops have an unknown shape`);
  if (body.includes(GENERIC_LIFT)) {
    body = body.replace(GENERIC_LIFT, `${GENERIC_LIFT}\n      if (ctx.memory) ${GUARD}.list(len, dataPtr, elemSize32, ctx.memory);`);
    guardedLoops++;
  }
  body = body
    .replace(HEADER, `${HEADER.slice('export '.length)}\n  const ${GUARD} = imports[${JSON.stringify(LIFT_GUARD_IMPORT)}];`)
    .replace(/^export const _util\b/m, 'const _util')
    .replaceAll('import.meta.url', JSON.stringify(pathToFileURL(file).href));
  if (/^\s*(import|export)\s/m.test(body)) refuse('an import or export statement left');
  return { body: `${body}\nreturn instantiate;\n`, guardedLoops };
}

/**
 * Reads, rewrites and evaluates the generated module `jsFile` (read with
 * `read` when given: the transpile cache re-creates an evicted entry).
 * @throws WeirError `WEIR_PLUGIN_LOAD_FAILED`
 */
export async function loadComponentCode(jsFile: string, read: () => Promise<string> = () => readFile(jsFile, 'utf8')): Promise<JcoInstantiate> {
  let source: string;
  try {
    source = await read();
  } catch (error) {
    throw new WeirError('WEIR_PLUGIN_LOAD_FAILED', `cannot read the transpiled component ${jsFile}: ${messageOf(error)}`, { file: jsFile }, { cause: error });
  }
  const { body } = prepareComponentCode(source, jsFile);
  try {
    // Evaluated as a function so that it can be collected (see the top of this file); strict, as the module it was.
    return new Function(`'use strict';\n${body}`)() as JcoInstantiate;
  } catch (error) {
    throw new WeirError('WEIR_PLUGIN_LOAD_FAILED', `cannot evaluate the transpiled component ${jsFile}: ${messageOf(error)}`, { file: jsFile }, { cause: error });
  }
}
