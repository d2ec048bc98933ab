/**
 * Rewrites a core WebAssembly module so that the host can enforce limits V8
 * does not offer:
 *
 * - **Memory cap.** Every memory the module defines gets `max = cap` (or
 *   keeps a smaller max), so `memory.grow` past the cap fails inside the
 *   guest. A module whose initial memory already exceeds the cap is refused.
 * - **Grow hook.** Every `memory.grow` on memory 0 becomes a call to an added
 *   function that performs the grow and, when it fails, records the pages
 *   asked for in the exported global `weir_grow_denied`. A trap after a
 *   denied grow is reported as a memory-limit breach, not a generic trap.
 * - **Fuel.** With metering on, the module imports a mutable i64 global
 *   ({@link FUEL_IMPORT}, re-exported as `weir_fuel`) and charges it with
 *   the number of instructions in every straight-line region (from the
 *   function entry, and after each loop, if, else, end and br_if). A region
 *   adds its count to a local of the function (a register add, where a
 *   global would be a load and a store through the instance); the global is
 *   charged with what the local holds, and checked, at loop headers (every
 *   back-edge lands there) once the local holds more than
 *   {@link LOOP_FLUSH_THRESHOLD}, before every way out of the function
 *   (return, the last end, a branch to the function's label, tail calls,
 *   throws) and, in a module that can catch exceptions (it has `try` or
 *   `try_table`), before every call as well: an exception a callee throws
 *   unwinds the caller's frame past its exits, and a catch in a loop further
 *   up could otherwise repeat that uncounted work without end. The guest
 *   traps when the global goes below zero. So no loop runs long and no call
 *   returns unchecked: the work a frame does past the budget's end is bounded
 *   by the threshold plus one acyclic path of its function, and a call's
 *   whole work is on the global when it returns. (No
 *   check at function entry: unbounded work needs a loop or returns, and a
 *   recursion that only descends ends at the stack limit; a check there cost
 *   a load and a branch per call, which made call-heavy code such as QuickJS
 *   slower than charging per region; a descending recursion can so run up
 *   to the stack limit past its budget, ending in a stack-overflow trap.)
 *   (A frame an exception unwinds in a module that cannot catch it ends the
 *   call: what its local held goes uncounted once.) The
 *   host makes one such global
 *   per plugin instance and hands it to every core module of the instance
 *   (a component has several), so they all spend one budget; it refills it
 *   before each call and reads what was used after. The import comes after
 *   the module's own imported globals, so the module's defined globals move
 *   up by one index (every `global.get`, `global.set`, constant expression,
 *   global export and global name is renumbered). Fuel therefore counts
 *   wasm instructions executed, give or take the tail of a region that a
 *   branch skips. Every charge that runs out calls one added function whose
 *   body is `unreachable` and whose name is {@link OUT_OF_FUEL_FUNCTION}, so
 *   a trap during instantiation (a start function) can still be told apart
 *   as fuel running out: its stack's top frame is that function.
 * - **Bulk instructions by length.** `memory.fill`, `memory.copy`,
 *   `memory.init`, `table.fill`, `table.copy`, `table.init` and `table.grow`
 *   are charged by their length operand at the prices of {@link BULK_FUEL},
 *   read at run time (kept in an added local with `local.tee`); the charge
 *   comes before the instruction, so a fill larger than the fuel left traps
 *   before it runs. `memory.grow` is charged by the pages it added, once it
 *   succeeded (a denied grow costs nothing beyond its instruction, so a
 *   program may still probe with a large request and get -1).
 * - **Table cap.** Every table the module defines gets `max = cap` (or keeps
 *   a smaller max), so `table.grow` past the cap returns -1 in the guest; a
 *   module whose table already starts above the cap is refused. Like a
 *   denied `memory.grow`, a denied `table.grow` records the elements asked
 *   for in an exported global (`weir_table_grow_denied`), so a trap that
 *   follows is reported as a limit breach.
 * - **Atomic waits cannot block.** On a shared memory, `memory.atomic.wait32`
 *   and `wait64` would block the host thread (nothing else can notify it), so
 *   each becomes an atomic load and compare that answers at once: 1
 *   ("not-equal") or 2 ("timed-out"), the answer a wait whose timeout ran out
 *   gives. Bounds and alignment traps are the same. On an unshared memory a
 *   wait traps anyway and is left as it is.
 *
 * New types, functions and globals are appended, so every existing index
 * stays valid and the rest of the module is copied byte for byte.
 */
import { ByteReader, ByteWriter, MalformedModuleError } from './wasm-bytes.js';
import { OP, forEachInstruction, readInstruction } from './instructions.js';

/** What to enforce. */
export interface InstrumentOptions {
  /** Cap for every memory the module defines, in 64 KiB pages. */
  maxMemoryPages: number;
  /** Cap for every table the module defines, in elements (default: no cap beyond V8's own). */
  maxTableElements?: number;
  /**
   * The per-call budget when metering; `undefined` leaves the module
   * unmetered. The module itself does not hold it: the budget lives in the
   * imported {@link FUEL_IMPORT} global, which the host fills.
   */
  fuel?: bigint;
}

/** A rewritten module and what the host can read back from its instances. */
export interface InstrumentedModule {
  bytes: Uint8Array<ArrayBuffer>;
  /** Whether the module imports {@link FUEL_IMPORT} (and re-exports it as {@link FUEL_EXPORT}): it must be instantiated with {@link fuelImports}. */
  metered: boolean;
  /** Whether the module exports {@link GROW_DENIED_EXPORT}. */
  growHooked: boolean;
  /** Whether the module exports {@link TABLE_GROW_DENIED_EXPORT}. */
  tableGrowHooked: boolean;
  /** Initial pages of each memory the module defines. */
  initialPages: number[];
}

/** Changes whenever the rewrite changes, so cached rewritten modules are not reused across versions. */
export const INSTRUMENT_VERSION = 9;

/**
 * Fuel prices of the bulk instructions, per unit of their length operand,
 * measured so that a unit of fuel spent in them takes no longer than one
 * spent in a tight loop of ordinary instructions (`bench/fuel-wall-time.js`):
 * `memory.fill` costs 1 per 4 bytes, `memory.copy` and `memory.init` 1 per 2
 * bytes (they read as well as write), and the table instructions
 * (`table.fill`, `table.copy`, `table.init`, `table.grow`) 64 per element
 * (V8 runs them element by element, with a write barrier each).
 * `memory.grow` costs 16384 per page it added: the page is zeroed, priced as
 * a `memory.fill` of its 64 KiB.
 */
export const BULK_FUEL = { fillBytesPerFuel: 4, copyBytesPerFuel: 2, fuelPerTableElement: 64, fuelPerMemoryPage: 65536 / 4 } as const;

/**
 * Where a metered module imports its fuel global from: a mutable i64 the host
 * makes once per plugin instance (see {@link fuelImports}). The module name is
 * reserved: a module that imports anything from it is refused.
 */
export const FUEL_IMPORT = { module: 'weir:sandbox', name: 'fuel' } as const;

/** The import object entry that gives a metered module `fuel` as its fuel global. */
export function fuelImports(fuel: WebAssembly.Global): Record<string, Record<string, WebAssembly.Global>> {
  return { [FUEL_IMPORT.module]: { [FUEL_IMPORT.name]: fuel } };
}

/** Exported mutable i64 global holding the fuel left (the imported {@link FUEL_IMPORT}, re-exported). */
export const FUEL_EXPORT = 'weir_fuel';
/** Exported mutable i32 global: pages asked for by the last denied `memory.grow`, or 0. */
export const GROW_DENIED_EXPORT = 'weir_grow_denied';
/** Exported mutable i32 global: elements asked for by the last `table.grow` the cap denied (it returned -1), or 0. */
export const TABLE_GROW_DENIED_EXPORT = 'weir_table_grow_denied';

/** Thrown when a module's initial memory is already above the cap. */
export class InitialMemoryOverCapError extends Error {
  readonly initialPages: number;
  readonly maxPages: number;
  constructor(initialPages: number, maxPages: number) {
    super(`the module starts with ${initialPages} pages of memory (${pagesToMiB(initialPages)} MiB), above the cap of ${maxPages} pages (${pagesToMiB(maxPages)} MiB)`);
    this.name = 'InitialMemoryOverCapError';
    this.initialPages = initialPages;
    this.maxPages = maxPages;
  }
}

/** Thrown when a module's table already starts with more elements than the cap. */
export class InitialTableOverCapError extends Error {
  readonly initialElements: number;
  readonly maxElements: number;
  constructor(initialElements: number, maxElements: number) {
    super(`the module starts with a table of ${initialElements} elements, above the cap of ${maxElements} elements per table`);
    this.name = 'InitialTableOverCapError';
    this.initialElements = initialElements;
    this.maxElements = maxElements;
  }
}

/** Name of the added function every fuel charge calls when fuel runs out (in the module's name section, so stack traces show it). */
export const OUT_OF_FUEL_FUNCTION = 'weir_out_of_fuel';

/**
 * Whether `error`, thrown by an instrumented module, is its fuel running out:
 * a trap whose top stack frame is {@link OUT_OF_FUEL_FUNCTION}. Used where
 * the fuel global cannot be read, such as a start function trapping during
 * instantiation.
 */
export function isOutOfFuelTrap(error: unknown): boolean {
  if (!(error instanceof WebAssembly.RuntimeError)) return false;
  const top = /\n\s*at ([^\n]*)/.exec(error.stack ?? '');
  return top !== null && top[1]!.startsWith(`${OUT_OF_FUEL_FUNCTION} (wasm:`);
}

/** 64 KiB pages as MiB, for messages. */
export function pagesToMiB(pages: number): string {
  return String(Math.round((pages / 16) * 100) / 100);
}

const SECTION = { custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, element: 9, code: 10, data: 11, dataCount: 12, tag: 13 } as const;
/** Position of each section id in the required order. */
const SECTION_RANK: Readonly<Record<number, number>> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };
const I32 = 0x7f;
const I64 = 0x7e;
const FUNC_TYPE = 0x60;
const EMPTY_BLOCK = 0x40;
/** Instructions after which a new straight-line region starts: loop, if, else, end, catch, delegate, catch_all (a branch can land after each), and the conditional branches (br_if, br_on_null, br_on_non_null). */
const REGION_STARTS: ReadonlySet<number> = new Set([OP.loop, OP.if, 0x05, OP.end, 0x07, 0x18, 0x19, 0x0d, 0xd5, 0xd6]);
/**
 * What a function's pending charge may reach at a loop header before the
 * header charges the global: the work a frame does past the budget's end is
 * at most this plus one acyclic path of the function.
 */
export const LOOP_FLUSH_THRESHOLD = 4096n;
const I64_GT_S = 0x55;
const [BR, OP_BR_IF, BR_TABLE, RETURN, RETURN_CALL, RETURN_CALL_INDIRECT, RETURN_CALL_REF] = [0x0c, 0x0d, 0x0e, 0x0f, 0x12, 0x13, 0x15];
const [TRY, TRY_TABLE] = [0x06, 0x1f];
/** call, call_indirect, call_ref. */
const CALLS: ReadonlySet<number> = new Set([0x10, 0x11, 0x14]);
const [THROW, RETHROW, THROW_REF, DELEGATE, BR_ON_NULL, BR_ON_NON_NULL] = [0x08, 0x09, 0x0a, 0x18, 0xd5, 0xd6];
/** Instructions that open a block closed by `end` (or, for a legacy `try`, by `delegate`): block, loop, if, try, try_table. */
const BLOCK_OPENERS: ReadonlySet<number> = new Set([OP.block, OP.loop, OP.if, 0x06, 0x1f]);
/** Structural instructions, free at run time: nop, block, loop, else, end. */
const FREE_OPS: ReadonlySet<number> = new Set([0x01, OP.block, OP.loop, 0x05, OP.end]);

interface Section {
  id: number;
  content: Uint8Array;
}

interface ModuleFacts {
  types: number;
  /** Parameter count of each type. */
  typeParams: number[];
  /** Type index of each defined function. */
  functionTypes: number[];
  /** Whether each memory (imported first) is shared. */
  sharedMemories: boolean[];
  importedFunctions: number;
  importedGlobals: number;
  importedMemories: number;
  importedTables: number;
  definedFunctions: number;
  definedGlobals: number;
  exportNames: Set<string>;
  importModules: Set<string>;
}

/**
 * Rewrites `bytes` to enforce `options`.
 *
 * @throws MalformedModuleError when the bytes cannot be read as a module.
 * @throws InitialMemoryOverCapError when a defined memory starts above the cap.
 */
export function instrumentModule(bytes: Uint8Array, options: InstrumentOptions): InstrumentedModule {
  const sections = readSections(bytes);
  const facts = readFacts(sections);
  const initialPages: number[] = [];
  const memory = sections.find((s) => s.id === SECTION.memory);
  if (memory) memory.content = capMemories(memory.content, options.maxMemoryPages, initialPages);
  const table = sections.find((s) => s.id === SECTION.table);
  if (table && options.maxTableElements !== undefined) table.content = capTables(table.content, options.maxTableElements);

  const code = sections.find((s) => s.id === SECTION.code);
  const hasMemory = facts.importedMemories > 0 || memory !== undefined;
  const growHooked = code !== undefined && hasMemory;
  const tableGrowHooked = code !== undefined && (facts.importedTables > 0 || table !== undefined);
  const metered = code !== undefined && options.fuel !== undefined;
  // Refused whether or not this module gets rewritten: a module without code
  // that imports the host's fuel global could hand it (exported) to one that
  // refills it, since the instance passes the one real global to every module.
  for (const name of [FUEL_EXPORT, GROW_DENIED_EXPORT, TABLE_GROW_DENIED_EXPORT]) {
    if (facts.exportNames.has(name)) throw new MalformedModuleError(`already exports "${name}", a name the host reserves`);
  }
  if (facts.importModules.has(FUEL_IMPORT.module)) throw new MalformedModuleError(`already imports from "${FUEL_IMPORT.module}", a module name the host reserves`);
  if (!growHooked && !metered && !tableGrowHooked) return { bytes: writeSections(sections), metered, growHooked, tableGrowHooked, initialPages };

  // The fuel global is imported after the module's imported globals: its defined globals move up by one.
  const fuelGlobal = facts.importedGlobals;
  const globalShift = metered ? 1 : 0;
  const renumber: GlobalRenumbering = { from: facts.importedGlobals, by: globalShift };
  if (metered) renumberGlobals(sections, renumber);
  const growGlobal = facts.importedGlobals + globalShift + facts.definedGlobals;
  const tableGrowGlobal = growGlobal + (growHooked ? 1 : 0);
  const growFunction = facts.importedFunctions + facts.definedFunctions;
  const outOfFuelFunction = growFunction + (growHooked ? 1 : 0);

  const newGlobals = new ByteWriter();
  const newExports = new ByteWriter();
  const newTypes = new ByteWriter();
  const newFunctions = new ByteWriter();
  let globalCount = 0;
  let exportCount = 0;
  let functionCount = 0;
  if (metered) {
    const fuelImport = new ByteWriter().name(FUEL_IMPORT.module).name(FUEL_IMPORT.name).byte(3).byte(I64).byte(1).toBytes();
    appendToVector(sections, SECTION.import, 1, fuelImport);
    newExports.name(FUEL_EXPORT).byte(3).u32(fuelGlobal);
    exportCount++;
  }
  if (growHooked) {
    newGlobals.byte(I32).byte(1).byte(OP.i32Const).byte(0).byte(OP.end);
    newExports.name(GROW_DENIED_EXPORT).byte(3).u32(growGlobal);
    globalCount++;
    exportCount++;
    newTypes.byte(FUNC_TYPE).u32(1).byte(I32).u32(1).byte(I32);
    newFunctions.u32(facts.types + functionCount++);
  }
  if (tableGrowHooked) {
    newGlobals.byte(I32).byte(1).byte(OP.i32Const).byte(0).byte(OP.end);
    newExports.name(TABLE_GROW_DENIED_EXPORT).byte(3).u32(tableGrowGlobal);
    globalCount++;
    exportCount++;
  }
  if (metered) {
    newTypes.byte(FUNC_TYPE).u32(0).u32(0);
    newFunctions.u32(facts.types + functionCount++);
  }
  appendToVector(sections, SECTION.type, functionCount, newTypes.toBytes());
  appendToVector(sections, SECTION.function, functionCount, newFunctions.toBytes());
  appendToVector(sections, SECTION.global, globalCount, newGlobals.toBytes());
  appendToVector(sections, SECTION.export, exportCount, newExports.toBytes());

  const rewritten = rewriteCode(code!.content, facts, {
    fuelGlobal: metered ? fuelGlobal : undefined,
    growFunction: growHooked ? growFunction : undefined,
    tableGrowGlobal: tableGrowHooked ? tableGrowGlobal : undefined,
    outOfFuelFunction,
    renumber,
  });
  if (growHooked) {
    const body = growHookBody(growGlobal, metered ? { fuelGlobal, outOfFuelFunction } : undefined);
    rewritten.count++;
    rewritten.bodies.u32(body.byteLength).bytes(body);
  }
  if (metered) {
    const body = new ByteWriter().u32(0).byte(OP.unreachable).byte(OP.end).toBytes();
    rewritten.count++;
    rewritten.bodies.u32(body.byteLength).bytes(body);
  }
  code!.content = new ByteWriter().u32(rewritten.count).bytes(rewritten.bodies.toBytes()).toBytes();
  if (metered) nameFunction(sections, outOfFuelFunction, OUT_OF_FUEL_FUNCTION);
  return { bytes: writeSections(sections), metered, growHooked, tableGrowHooked, initialPages };
}

function readSections(bytes: Uint8Array): Section[] {
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  if (bytes.byteLength < 8 || header.some((b, i) => bytes[i] !== b)) throw new MalformedModuleError('not a core WebAssembly module (bad header)');
  const reader = new ByteReader(bytes, 8);
  const sections: Section[] = [];
  while (!reader.done) {
    const id = reader.byte();
    const size = reader.u32();
    const start = reader.pos;
    reader.skip(size);
    sections.push({ id, content: bytes.subarray(start, start + size) });
  }
  return sections;
}

function writeSections(sections: readonly Section[]): Uint8Array<ArrayBuffer> {
  const out = new ByteWriter(sections.reduce((n, s) => n + s.content.byteLength + 6, 8));
  out.bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  for (const section of sections) out.byte(section.id).u32(section.content.byteLength).bytes(section.content);
  return out.toBytes();
}

function readFacts(sections: readonly Section[]): ModuleFacts {
  const facts: ModuleFacts = {
    types: 0, typeParams: [], functionTypes: [], sharedMemories: [],
    importedFunctions: 0, importedGlobals: 0, importedMemories: 0, importedTables: 0, definedFunctions: 0, definedGlobals: 0, exportNames: new Set(), importModules: new Set(),
  };
  const definedMemories: boolean[] = [];
  for (const { id, content } of sections) {
    const r = new ByteReader(content);
    if (id === SECTION.type) {
      facts.types = r.u32();
      for (let i = 0; i < facts.types; i++) {
        if (r.byte() !== FUNC_TYPE) throw new MalformedModuleError('uses GC type definitions, which the instrumenter does not support');
        for (let list = 0; list < 2; list++) {
          const count = r.u32();
          if (list === 0) facts.typeParams.push(count);
          for (let v = 0; v < count; v++) {
            const type = r.byte();
            if (type === 0x63 || type === 0x64) throw new MalformedModuleError('uses typed function references, which the instrumenter does not support');
          }
        }
      }
    } else if (id === SECTION.import) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        facts.importModules.add(r.name());
        r.name();
        const kind = r.byte();
        if (kind === 0) {
          facts.importedFunctions++;
          r.u32();
        } else if (kind === 1) {
          facts.importedTables++;
          r.byte();
          if (r.bytes[r.pos]! & 0x04) throw new MalformedModuleError('imports a 64-bit table, which the instrumenter does not support');
          skipLimits(r);
        } else if (kind === 2) {
          facts.importedMemories++;
          const flags = r.bytes[r.pos]!;
          if (flags & 0x04) throw new MalformedModuleError('imports a 64-bit memory, which the instrumenter does not support');
          facts.sharedMemories.push((flags & 0x02) !== 0);
          skipLimits(r);
        } else if (kind === 3) {
          facts.importedGlobals++;
          r.byte();
          r.byte();
        } else if (kind === 4) {
          r.byte();
          r.u32();
        } else {
          throw new MalformedModuleError(`unknown import kind ${kind}`);
        }
      }
    } else if (id === SECTION.function) {
      facts.definedFunctions = r.u32();
      for (let i = 0; i < facts.definedFunctions; i++) facts.functionTypes.push(r.u32());
    } else if (id === SECTION.memory) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const flags = r.byte();
        definedMemories.push((flags & 0x02) !== 0);
        r.skipLeb();
        if (flags & 1) r.skipLeb();
      }
    } else if (id === SECTION.global) {
      facts.definedGlobals = r.u32();
    } else if (id === SECTION.export) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        facts.exportNames.add(r.name());
        r.byte();
        r.u32();
      }
    }
  }
  facts.sharedMemories.push(...definedMemories);
  return facts;
}

function skipLimits(r: ByteReader): void {
  const flags = r.byte();
  r.skipLeb();
  if (flags & 1) r.skipLeb();
}

/** Rewrites the memory section with every max at most `maxPages`. */
function capMemories(content: Uint8Array, maxPages: number, initialPages: number[]): Uint8Array<ArrayBuffer> {
  const r = new ByteReader(content);
  const count = r.u32();
  const out = new ByteWriter().u32(count);
  for (let i = 0; i < count; i++) {
    const flags = r.byte();
    if (flags & 0x04) throw new MalformedModuleError('uses 64-bit memory, which the memory cap does not support');
    const min = r.u32();
    const max = flags & 1 ? r.u32() : Infinity;
    initialPages.push(min);
    if (min > maxPages) throw new InitialMemoryOverCapError(min, maxPages);
    out.byte(flags | 1).u32(min).u32(Math.min(max, maxPages));
  }
  return out.toBytes();
}

/** Rewrites the table section with every max at most `maxElements`. */
function capTables(content: Uint8Array, maxElements: number): Uint8Array<ArrayBuffer> {
  const r = new ByteReader(content);
  const count = r.u32();
  const out = new ByteWriter().u32(count);
  for (let i = 0; i < count; i++) {
    const type = r.byte();
    if (type === 0x40) throw new MalformedModuleError('uses a table with an initializer expression, which the instrumenter does not support');
    if (type === 0x63 || type === 0x64) throw new MalformedModuleError('uses typed function references, which the instrumenter does not support');
    const flags = r.byte();
    if (flags & 0x04) throw new MalformedModuleError('uses a 64-bit table, which the table cap does not support');
    const min = r.u32();
    const max = flags & 1 ? r.u32() : Infinity;
    if (min > maxElements) throw new InitialTableOverCapError(min, maxElements);
    out.byte(type).byte(flags | 1).u32(min).u32(Math.min(max, maxElements));
  }
  return out.toBytes();
}

/**
 * Gives function `index` (the highest of the module) the debug name `name`:
 * appended to the function-names subsection of the name section, which is
 * created when missing. A name section that cannot be read is left alone.
 */
function nameFunction(sections: Section[], index: number, name: string): void {
  const entry = new ByteWriter().u32(index).name(name).toBytes();
  const existing = sections.find((s) => s.id === SECTION.custom && new ByteReader(s.content).name() === 'name');
  if (!existing) {
    const functionNames = new ByteWriter().u32(1).bytes(entry).toBytes();
    const content = new ByteWriter().name('name').byte(1).u32(functionNames.byteLength).bytes(functionNames).toBytes();
    sections.push({ id: SECTION.custom, content });
    return;
  }
  try {
    const r = new ByteReader(existing.content);
    r.name();
    const out = new ByteWriter().name('name');
    let added = false;
    while (!r.done) {
      const id = r.byte();
      const size = r.u32();
      const start = r.pos;
      r.skip(size);
      let body: Uint8Array = existing.content.subarray(start, r.pos);
      if (id === 1) {
        // The module's own names, but none that claims the host's name: a trap in a function the
        // module calls `weir_out_of_fuel` must not pass for fuel running out.
        const names = new ByteReader(body);
        const count = names.u32();
        const kept = new ByteWriter();
        let keptCount = 0;
        for (let i = 0; i < count; i++) {
          const at = names.pos;
          names.u32();
          if (names.name() === name) continue;
          kept.bytes(body.subarray(at, names.pos));
          keptCount++;
        }
        body = new ByteWriter().u32(keptCount + 1).bytes(kept.toBytes()).bytes(entry).toBytes();
        added = true;
      } else if (id > 1 && !added) {
        const functionNames = new ByteWriter().u32(1).bytes(entry).toBytes();
        out.byte(1).u32(functionNames.byteLength).bytes(functionNames);
        added = true;
      }
      out.byte(id).u32(body.byteLength).bytes(body);
    }
    if (!added) {
      const functionNames = new ByteWriter().u32(1).bytes(entry).toBytes();
      out.byte(1).u32(functionNames.byteLength).bytes(functionNames);
    }
    existing.content = out.toBytes();
  } catch (error) {
    if (!(error instanceof MalformedModuleError)) throw error;
  }
}

/** Appends `count` encoded entries to the vector section `id`, creating the section if needed. */
function appendToVector(sections: Section[], id: number, count: number, entries: Uint8Array): void {
  if (count === 0) return;
  const existing = sections.find((s) => s.id === id);
  if (existing) {
    const r = new ByteReader(existing.content);
    const old = r.u32();
    existing.content = new ByteWriter().u32(old + count).bytes(existing.content.subarray(r.pos)).bytes(entries).toBytes();
    return;
  }
  const content = new ByteWriter().u32(count).bytes(entries).toBytes();
  const rank = SECTION_RANK[id]!;
  const at = sections.findIndex((s) => s.id !== SECTION.custom && SECTION_RANK[s.id]! > rank);
  sections.splice(at === -1 ? sections.length : at, 0, { id, content });
}

interface CodeRewrite {
  fuelGlobal: number | undefined;
  /**
   * Charge the pending count before every call too: set when the module can
   * catch exceptions (it has `try` or `try_table`), because an exception a
   * callee throws unwinds the caller's frame past its exits, and a catch
   * further up (in a loop) would let that work go uncounted again and again.
   */
  flushBeforeCalls: boolean;
  growFunction: number | undefined;
  tableGrowGlobal: number | undefined;
  outOfFuelFunction: number;
  renumber: GlobalRenumbering;
}

/** Global indices from `from` on move up by `by` (the imported fuel global took index `from`). */
interface GlobalRenumbering {
  from: number;
  by: number;
}

const renumbered = (index: number, renumber: GlobalRenumbering): number => (index >= renumber.from ? index + renumber.by : index);

/** Renumbers the module's defined globals where sections other than code name them: global inits, exports, element and data segments. */
function renumberGlobals(sections: Section[], renumber: GlobalRenumbering): void {
  for (const section of sections) {
    if (section.id === SECTION.global) section.content = renumberGlobalSection(section.content, renumber);
    else if (section.id === SECTION.export) section.content = renumberExports(section.content, renumber);
    else if (section.id === SECTION.element) section.content = renumberElements(section.content, renumber);
    else if (section.id === SECTION.data) section.content = renumberData(section.content, renumber);
    else if (section.id === SECTION.custom && new ByteReader(section.content).name() === 'name') section.content = renumberGlobalNames(section.content, renumber);
  }
}

/** The name section with its global names (subsection 7) renumbered; one that cannot be read is left alone (names are for debuggers only). */
function renumberGlobalNames(content: Uint8Array, renumber: GlobalRenumbering): Uint8Array {
  try {
    const r = new ByteReader(content);
    r.name();
    const out = new ByteWriter(content.byteLength + 16).bytes(content.subarray(0, r.pos));
    while (!r.done) {
      const id = r.byte();
      const size = r.u32();
      const start = r.pos;
      r.skip(size);
      let body: Uint8Array = content.subarray(start, r.pos);
      if (id === 7) {
        const names = new ByteReader(body);
        const count = names.u32();
        const renamed = new ByteWriter(body.byteLength + 8).u32(count);
        for (let i = 0; i < count; i++) {
          renamed.u32(renumbered(names.u32(), renumber));
          const at = names.pos;
          names.name();
          renamed.bytes(body.subarray(at, names.pos));
        }
        body = renamed.toBytes();
      }
      out.byte(id).u32(body.byteLength).bytes(body);
    }
    return out.toBytes();
  } catch (error) {
    if (!(error instanceof MalformedModuleError)) throw error;
    return content;
  }
}

/** Copies a value type (a reference type with a heap type takes two immediates). */
function copyValueType(r: ByteReader, out: ByteWriter): void {
  const start = r.pos;
  const type = r.byte();
  if (type === 0x63 || type === 0x64) r.s33();
  out.bytes(r.bytes.subarray(start, r.pos));
}

/** Copies one constant expression up to and including its `end`, renumbering `global.get`. */
function copyConstExpr(r: ByteReader, out: ByteWriter, renumber: GlobalRenumbering): void {
  for (;;) {
    const ins = readInstruction(r);
    if (ins.op === OP.globalGet) out.byte(OP.globalGet).u32(renumbered(new ByteReader(r.bytes, ins.start + 1, ins.end).u32(), renumber));
    else out.bytes(r.bytes.subarray(ins.start, ins.end));
    if (ins.op === OP.end) return;
  }
}

function renumberGlobalSection(content: Uint8Array, renumber: GlobalRenumbering): Uint8Array<ArrayBuffer> {
  const r = new ByteReader(content);
  const count = r.u32();
  const out = new ByteWriter(content.byteLength + 16).u32(count);
  for (let i = 0; i < count; i++) {
    copyValueType(r, out);
    out.byte(r.byte());
    copyConstExpr(r, out, renumber);
  }
  return out.toBytes();
}

function renumberExports(content: Uint8Array, renumber: GlobalRenumbering): Uint8Array<ArrayBuffer> {
  const r = new ByteReader(content);
  const count = r.u32();
  const out = new ByteWriter(content.byteLength + 16).u32(count);
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    r.name();
    out.bytes(r.bytes.subarray(start, r.pos));
    const kind = r.byte();
    const index = r.u32();
    out.byte(kind).u32(kind === 3 ? renumbered(index, renumber) : index);
  }
  return out.toBytes();
}

/** Element segments: flags 0-7 (bit 0 passive or declared, bit 1 explicit table or kind, bit 2 expressions). */
function renumberElements(content: Uint8Array, renumber: GlobalRenumbering): Uint8Array<ArrayBuffer> {
  const r = new ByteReader(content);
  const count = r.u32();
  const out = new ByteWriter(content.byteLength + 16).u32(count);
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    if (flags > 7) throw new MalformedModuleError(`unknown element segment flags ${flags}`);
    out.u32(flags);
    if ((flags & 1) === 0) {
      if (flags & 2) out.u32(r.u32());
      copyConstExpr(r, out, renumber);
    }
    if (flags & 3) {
      if (flags & 4) copyValueType(r, out);
      else out.byte(r.byte());
    }
    const items = r.u32();
    out.u32(items);
    for (let j = 0; j < items; j++) {
      if (flags & 4) copyConstExpr(r, out, renumber);
      else out.u32(r.u32());
    }
  }
  return out.toBytes();
}

/** Data segments: flags 0 (active, memory 0), 1 (passive), 2 (active, explicit memory). */
function renumberData(content: Uint8Array, renumber: GlobalRenumbering): Uint8Array<ArrayBuffer> {
  const r = new ByteReader(content);
  const count = r.u32();
  const out = new ByteWriter(content.byteLength + 16).u32(count);
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    if (flags > 2) throw new MalformedModuleError(`unknown data segment flags ${flags}`);
    out.u32(flags);
    if (flags === 2) out.u32(r.u32());
    if (flags !== 1) copyConstExpr(r, out, renumber);
    const size = r.u32();
    out.u32(size).bytes(r.bytes.subarray(r.pos, r.pos + size));
    r.skip(size);
  }
  return out.toBytes();
}

/** How the fuel of a bulk instruction follows from its length operand: `(length * multiply) >> shift`. */
interface BulkPrice {
  multiply: bigint;
  shift: bigint;
}
const perBytes = (bytes: number): BulkPrice => ({ multiply: 1n, shift: BigInt(Math.log2(bytes)) });
const TABLE_GROW = 15;
/** `memory.grow`, by the pages it added. */
const GROW_PRICE: BulkPrice = { multiply: BigInt(BULK_FUEL.fuelPerMemoryPage), shift: 0n };
/** 0xFC sub-opcodes charged by their length operand. */
const BULK_OPS: ReadonlyMap<number, BulkPrice> = new Map([
  [8, perBytes(BULK_FUEL.copyBytesPerFuel)], // memory.init
  [10, perBytes(BULK_FUEL.copyBytesPerFuel)], // memory.copy
  [11, perBytes(BULK_FUEL.fillBytesPerFuel)], // memory.fill
  [12, { multiply: BigInt(BULK_FUEL.fuelPerTableElement), shift: 0n }], // table.init
  [14, { multiply: BigInt(BULK_FUEL.fuelPerTableElement), shift: 0n }], // table.copy
  [15, { multiply: BigInt(BULK_FUEL.fuelPerTableElement), shift: 0n }], // table.grow
  [17, { multiply: BigInt(BULK_FUEL.fuelPerTableElement), shift: 0n }], // table.fill
]);
/** 0xFE sub-opcodes of the atomic waits, with the load that replaces each on a shared memory. */
const WAITS: ReadonlyMap<number, { load: number; valueType: number; eq: number }> = new Map([
  [0x01, { load: 0x10, valueType: I32, eq: OP.i32Eq }], // memory.atomic.wait32 -> i32.atomic.load
  [0x02, { load: 0x11, valueType: I64, eq: 0x51 }], // memory.atomic.wait64 -> i64.atomic.load
]);

/** Whether any function body of the code section holds a `try` or `try_table` (can catch an exception). */
function catchesExceptions(content: Uint8Array): boolean {
  const r = new ByteReader(content);
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const end = r.pos + size;
    const body = new ByteReader(content, r.pos, end);
    const localGroups = body.u32();
    for (let g = 0; g < localGroups; g++) {
      body.u32();
      body.byte();
    }
    let found = false;
    forEachInstruction(body, (ins) => {
      if (ins.op === TRY || ins.op === TRY_TABLE) found = true;
    });
    if (found) return true;
    r.pos = end;
  }
  return false;
}

/** Rewrites every function body of the code section. */
function rewriteCode(content: Uint8Array, facts: ModuleFacts, given: Omit<CodeRewrite, 'flushBeforeCalls'>): { count: number; bodies: ByteWriter } {
  const rewrite: CodeRewrite = { ...given, flushBeforeCalls: given.fuelGlobal !== undefined && catchesExceptions(content) };
  const r = new ByteReader(content);
  const count = r.u32();
  const bodies = new ByteWriter(content.byteLength + count * 24);
  for (let i = 0; i < count; i++) {
    const size = r.u32();
    const end = r.pos + size;
    const params = facts.typeParams[facts.functionTypes[i]!] ?? 0;
    const body = rewriteBody(new ByteReader(content, r.pos, end), params, facts.sharedMemories, rewrite);
    bodies.u32(body.byteLength).bytes(body);
    r.pos = end;
  }
  return { count, bodies };
}

interface Located {
  start: number;
  end: number;
  op: number;
  sub: number;
}

function rewriteBody(r: ByteReader, params: number, sharedMemories: readonly boolean[], rewrite: CodeRewrite): Uint8Array {
  const bodyStart = r.pos;
  const localGroups = r.u32();
  const groupsStart = r.pos;
  let locals = params;
  for (let i = 0; i < localGroups; i++) {
    locals += r.u32();
    r.byte();
  }
  const localsEnd = r.pos;
  const fuel = rewrite.fuelGlobal;

  // First pass: instruction boundaries, regions and exits. A region starts
  // at the function entry and after every loop, if, else, end (the places a
  // branch can land) and br_if. It is
  // charged the number of instructions up to the next region start, not
  // counting the structural ones (block, loop, else, end, nop), which cost
  // nothing at run time: an interpreter's dispatch opens hundreds of blocks.
  const instructions: Located[] = [];
  const cost = new Map<number, number>([[-1, 0]]);
  /** Instructions that leave the function (flush the pending charge before them): see {@link leavesFunction}. */
  const exits = new Set<number>();
  let depth = 0;
  let region = -1;
  let needsI32 = false;
  let needsI64 = false;
  let needsResult = false;
  forEachInstruction(r, (ins) => {
    instructions.push({ start: ins.start, end: ins.end, op: ins.op, sub: ins.sub });
    if (fuel !== undefined && (leavesFunction(r.bytes, ins, depth) || (rewrite.flushBeforeCalls && CALLS.has(ins.op)))) exits.add(instructions.length - 1);
    depth += BLOCK_OPENERS.has(ins.op) ? 1 : ins.op === OP.end || ins.op === DELEGATE ? -1 : 0;
    if (!FREE_OPS.has(ins.op)) cost.set(region, cost.get(region)! + 1);
    if (REGION_STARTS.has(ins.op)) cost.set((region = instructions.length - 1), 0);
    if (ins.op === 0xfc && fuel !== undefined && BULK_OPS.has(ins.sub)) needsI32 = true;
    if (ins.op === 0xfc && ins.sub === TABLE_GROW && rewrite.tableGrowGlobal !== undefined) needsI32 = needsResult = true;
    if (ins.op === OP.memoryGrow && fuel !== undefined && growMemory(r.bytes, ins) !== 0) needsI32 = needsResult = true;
    const wait = ins.op === 0xfe ? WAITS.get(ins.sub) : undefined;
    if (wait && sharedMemories[waitMemory(r.bytes, ins.start)]) {
      if (wait.valueType === I32) needsI32 = true;
      else needsI64 = true;
    }
  });
  for (const [at, units] of cost) if (units === 0) cost.delete(at);

  // Added locals go after the declared ones: an i32 (a bulk length, a
  // wait32's expected value), an i32 for table.grow's result, an i64 (a
  // wait64's expected value) and, when metering, the i64 pending charge.
  const out = new ByteWriter(r.end - bodyStart + 32);
  const i32Local = locals;
  const resultLocal = locals + (needsI32 ? 1 : 0);
  const i64Local = resultLocal + (needsResult ? 1 : 0);
  const pending = i64Local + (needsI64 ? 1 : 0);
  const needsPending = fuel !== undefined;
  if (needsI32 || needsI64 || needsPending) {
    out.u32(localGroups + (needsI32 ? 1 : 0) + (needsResult ? 1 : 0) + (needsI64 ? 1 : 0) + (needsPending ? 1 : 0)).bytes(r.bytes.subarray(groupsStart, localsEnd));
    if (needsI32) out.u32(1).byte(I32);
    if (needsResult) out.u32(1).byte(I32);
    if (needsI64) out.u32(1).byte(I64);
    if (needsPending) out.u32(1).byte(I64);
  } else {
    out.bytes(r.bytes.subarray(bodyStart, localsEnd));
  }

  // Second pass: copy, inserting charges and replacing memory.grow and waits.
  // A region's cost goes into the pending local; the global is charged and
  // checked at loop headers and before every way out of the function (see
  // the module comment, "Fuel").
  if (fuel !== undefined && cost.has(-1)) emitPendingAdd(out, pending, BigInt(cost.get(-1)!));
  let copyFrom = instructions[0]?.start ?? r.end;
  for (let i = 0; i < instructions.length; i++) {
    const ins = instructions[i]!;
    if (fuel !== undefined && exits.has(i)) {
      out.bytes(r.bytes.subarray(copyFrom, ins.start));
      emitFlush(out, fuel, pending, 0n, rewrite.outOfFuelFunction);
      copyFrom = ins.start;
    }
    if (ins.op === OP.memoryGrow && rewrite.growFunction !== undefined && growMemory(r.bytes, ins) === 0) {
      // The grow hook charges the pages it added.
      out.bytes(r.bytes.subarray(copyFrom, ins.start));
      out.byte(OP.call).u32(rewrite.growFunction);
      copyFrom = ins.end;
    } else if (ins.op === OP.memoryGrow && fuel !== undefined) {
      // Another memory: `n = pages; r = memory.grow n; if (r != -1) charge n; r`
      out.bytes(r.bytes.subarray(copyFrom, ins.start));
      out.byte(OP.localTee).u32(i32Local).bytes(r.bytes.subarray(ins.start, ins.end));
      out.byte(OP.localTee).u32(resultLocal).byte(OP.i32Const).byte(0x7f).byte(OP.i32Ne);
      out.byte(OP.if).byte(EMPTY_BLOCK);
      emitLocalCharge(out, fuel, i32Local, GROW_PRICE, rewrite.outOfFuelFunction);
      out.byte(OP.end).byte(OP.localGet).u32(resultLocal);
      copyFrom = ins.end;
    } else if ((ins.op === OP.globalGet || ins.op === OP.globalSet) && rewrite.renumber.by !== 0) {
      out.bytes(r.bytes.subarray(copyFrom, ins.start));
      out.byte(ins.op).u32(renumbered(new ByteReader(r.bytes, ins.start + 1, ins.end).u32(), rewrite.renumber));
      copyFrom = ins.end;
    } else if (ins.op === 0xfc && ins.sub === TABLE_GROW && rewrite.tableGrowGlobal !== undefined) {
      // [ref, n] -> keep n, grow, and when the grow returns -1 record n: `r = table.grow; if (r == -1) denied = n; r`
      out.bytes(r.bytes.subarray(copyFrom, ins.start));
      if (fuel !== undefined) emitLengthCharge(out, fuel, i32Local, BULK_OPS.get(ins.sub)!, rewrite.outOfFuelFunction);
      else out.byte(OP.localTee).u32(i32Local);
      out.bytes(r.bytes.subarray(ins.start, ins.end));
      out.byte(OP.localTee).u32(resultLocal).byte(OP.i32Const).byte(0x7f).byte(OP.i32Eq);
      out.byte(OP.if).byte(EMPTY_BLOCK).byte(OP.localGet).u32(i32Local).byte(OP.globalSet).u32(rewrite.tableGrowGlobal).byte(OP.end);
      out.byte(OP.localGet).u32(resultLocal);
      copyFrom = ins.end;
    } else if (ins.op === 0xfc && fuel !== undefined && BULK_OPS.has(ins.sub)) {
      out.bytes(r.bytes.subarray(copyFrom, ins.start));
      emitLengthCharge(out, fuel, i32Local, BULK_OPS.get(ins.sub)!, rewrite.outOfFuelFunction);
      copyFrom = ins.start;
    } else if (ins.op === 0xfe && WAITS.has(ins.sub) && sharedMemories[waitMemory(r.bytes, ins.start)]) {
      out.bytes(r.bytes.subarray(copyFrom, ins.start));
      const wait = WAITS.get(ins.sub)!;
      const memarg = r.bytes.subarray(memargStart(r.bytes, ins.start), ins.end);
      // [address, expected, timeout] -> drop the timeout, keep expected aside, load and compare: 1 + (loaded == expected).
      const local = wait.valueType === I32 ? i32Local : i64Local;
      out.byte(OP.drop).byte(OP.localSet).u32(local).byte(0xfe).u32(wait.load).bytes(memarg);
      out.byte(OP.localGet).u32(local).byte(wait.eq).byte(OP.i32Const).byte(1).byte(OP.i32Add);
      copyFrom = ins.end;
    }
    if (fuel !== undefined && ins.op === OP.loop) {
      // Every iteration passes here (a back-edge branches to just after `loop`), whatever the region costs.
      out.bytes(r.bytes.subarray(copyFrom, ins.end));
      copyFrom = ins.end;
      emitLoopHeaderCharge(out, fuel, pending, BigInt(cost.get(i) ?? 0), rewrite.outOfFuelFunction);
    } else if (fuel !== undefined && cost.has(i)) {
      out.bytes(r.bytes.subarray(copyFrom, ins.end));
      copyFrom = ins.end;
      emitPendingAdd(out, pending, BigInt(cost.get(i)!));
    }
  }
  out.bytes(r.bytes.subarray(copyFrom, r.end));
  return out.toBytes();
}

/** Position of the memarg of the 0xFE instruction at `start`. */
function memargStart(bytes: Uint8Array, start: number): number {
  const r = new ByteReader(bytes, start + 1);
  r.u32();
  return r.pos;
}

/** Memory index of the atomic wait at `start` (its memarg names one when bit 6 of the alignment is set). */
function waitMemory(bytes: Uint8Array, start: number): number {
  const r = new ByteReader(bytes, memargStart(bytes, start));
  const align = r.u32();
  return align & 0x40 ? r.u32() : 0;
}

/** `pending += cost` */
function emitPendingAdd(out: ByteWriter, pending: number, cost: bigint): void {
  out.byte(OP.localGet).u32(pending).byte(OP.i64Const).s64(cost).byte(OP.i64Add).byte(OP.localSet).u32(pending);
}

/** `fuel -= pending + cost; pending = 0; if (fuel < 0) call $outOfFuel` */
function emitFlush(out: ByteWriter, fuelGlobal: number, pending: number, cost: bigint, outOfFuel: number): void {
  out.byte(OP.globalGet).u32(fuelGlobal).byte(OP.localGet).u32(pending).byte(OP.i64Sub);
  if (cost !== 0n) out.byte(OP.i64Const).s64(cost).byte(OP.i64Sub);
  out.byte(OP.globalSet).u32(fuelGlobal).byte(OP.i64Const).s64(0n).byte(OP.localSet).u32(pending);
  emitFuelCheck(out, fuelGlobal, outOfFuel);
}

/**
 * At a loop header: `pending += cost; if (pending > LOOP_FLUSH_THRESHOLD) flush`.
 * A tight loop so touches the global once every few hundred iterations.
 */
function emitLoopHeaderCharge(out: ByteWriter, fuelGlobal: number, pending: number, cost: bigint, outOfFuel: number): void {
  out.byte(OP.localGet).u32(pending);
  if (cost !== 0n) out.byte(OP.i64Const).s64(cost).byte(OP.i64Add).byte(OP.localTee).u32(pending);
  out.byte(OP.i64Const).s64(LOOP_FLUSH_THRESHOLD).byte(I64_GT_S).byte(OP.if).byte(EMPTY_BLOCK);
  emitFlush(out, fuelGlobal, pending, 0n, outOfFuel);
  out.byte(OP.end);
}

/**
 * Whether `ins`, met with `depth` blocks open, leaves the function: `return`,
 * a tail call, a throw, the body's last `end`, or a branch that can target
 * the function's own label (a branch to label `depth`).
 */
function leavesFunction(bytes: Uint8Array, ins: Located, depth: number): boolean {
  switch (ins.op) {
    case OP.end:
      return depth === 0;
    case RETURN: case RETURN_CALL: case RETURN_CALL_INDIRECT: case RETURN_CALL_REF: case THROW: case RETHROW: case THROW_REF:
      return true;
    case BR: case OP_BR_IF: case BR_ON_NULL: case BR_ON_NON_NULL:
      return new ByteReader(bytes, ins.start + 1, ins.end).u32() === depth;
    case BR_TABLE: {
      const r = new ByteReader(bytes, ins.start + 1, ins.end);
      const labels = r.u32() + 1;
      for (let i = 0; i < labels; i++) if (r.u32() === depth) return true;
      return false;
    }
    default:
      return false;
  }
}

/** With the length operand on top of the stack (left there): `fuel -= (length * multiply) >> shift; if (fuel < 0) call $outOfFuel` */
function emitLengthCharge(out: ByteWriter, fuelGlobal: number, lengthLocal: number, price: BulkPrice, outOfFuel: number): void {
  out.byte(OP.localTee).u32(lengthLocal);
  emitLocalCharge(out, fuelGlobal, lengthLocal, price, outOfFuel);
}

/** `fuel -= (length * multiply) >> shift; if (fuel < 0) call $outOfFuel`, with the length in `lengthLocal` */
function emitLocalCharge(out: ByteWriter, fuelGlobal: number, lengthLocal: number, price: BulkPrice, outOfFuel: number): void {
  out.byte(OP.globalGet).u32(fuelGlobal).byte(OP.localGet).u32(lengthLocal).byte(OP.i64ExtendI32U);
  if (price.multiply !== 1n) out.byte(OP.i64Const).s64(price.multiply).byte(OP.i64Mul);
  if (price.shift > 0n) out.byte(OP.i64Const).s64(price.shift).byte(OP.i64ShrU);
  out.byte(OP.i64Sub).byte(OP.globalSet).u32(fuelGlobal);
  emitFuelCheck(out, fuelGlobal, outOfFuel);
}

function emitFuelCheck(out: ByteWriter, fuelGlobal: number, outOfFuel: number): void {
  out.byte(OP.globalGet).u32(fuelGlobal).byte(OP.i64Const).s64(0n).byte(OP.i64LtS);
  out.byte(OP.if).byte(EMPTY_BLOCK).byte(OP.call).u32(outOfFuel).byte(OP.end);
}

/** Memory index of the `memory.grow` `ins`. */
function growMemory(bytes: Uint8Array, ins: Located): number {
  return new ByteReader(bytes, ins.start + 1, ins.end).u32();
}

/**
 * `(func (param $pages i32) (result i32) (local $r i32) ...)`: grows memory 0
 * and records a denial; with `fuel`, charges the pages a grow that succeeded added.
 */
function growHookBody(growGlobal: number, fuel: { fuelGlobal: number; outOfFuelFunction: number } | undefined): Uint8Array {
  const out = new ByteWriter()
    .u32(1).u32(1).byte(I32)
    .byte(OP.localGet).u32(0)
    .byte(OP.memoryGrow).byte(0)
    .byte(OP.localTee).u32(1)
    .byte(OP.i32Const).byte(0x7f)
    .byte(OP.i32Eq)
    .byte(OP.if).byte(EMPTY_BLOCK)
    .byte(OP.localGet).u32(0)
    .byte(OP.globalSet).u32(growGlobal);
  if (fuel) {
    out.byte(OP.else);
    emitLocalCharge(out, fuel.fuelGlobal, 0, GROW_PRICE, fuel.outOfFuelFunction);
  }
  return out
    .byte(OP.end)
    .byte(OP.localGet).u32(1)
    .byte(OP.end)
    .toBytes();
}
