/**
 * Differential fuzzing of the instrumenter, the way wasmtime tests its
 * compiler: binaryen's translate-to-fuzz (`wasm-opt -ttf`) turns seeded random
 * bytes into a valid module; each module runs as it is and as the host would
 * run it (instrumented: memory cap, grow hook, fuel with a generous budget),
 * and everything observable must match: each export's result or trap, every
 * value the module logs, the final memory, exported globals and tables.
 * Any difference is a bug in the sandbox.
 *
 * The suite runs a few hundred modules; `npm run fuzz` runs 10,000 (see
 * scripts/fuzz-instrument.sh). `WEIR_FUZZ_MODULES` and `WEIR_FUZZ_SEED` pick
 * how many and from which seed; a divergent module is kept under
 * `WEIR_FUZZ_KEEP` (default: the OS temp folder) to replay.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUEL_EXPORT, fuelImports, instrumentModule } from '../../src/sandbox/instrument/instrument.js';

const run = promisify(execFile);

const MODULES = Number(process.env.WEIR_FUZZ_MODULES ?? 300);
const FIRST_SEED = Number(process.env.WEIR_FUZZ_SEED ?? 1);
/**
 * binaryen's native wasm-opt (Debian's `binaryen`, which .ci/run installs).
 * Not npm's JavaScript build: that one spends half a second starting up per
 * module, forty times the native one, too slow for a 10,000-module run.
 */
const WASM_OPT = process.env.WEIR_WASM_OPT ?? '/usr/bin/wasm-opt';
/**
 * What V8 runs and the instrumenter must keep intact. Left out: reference
 * types and GC (binaryen 108 writes pre-standard typed references that V8
 * rejects; the instrumenter refuses GC type definitions at load, with that
 * reason), threads (atomic waits are refused in-thread), memory64 and
 * multi-memory (plugins have one 32-bit memory).
 */
const FEATURES = [
  '--enable-sign-ext',
  '--enable-mutable-globals',
  '--enable-nontrapping-float-to-int',
  '--enable-simd',
  '--enable-bulk-memory',
  '--enable-multivalue',
  '--enable-tail-call',
];
/** Every other module also uses exception handling (try/catch). */
function featuresFor(seed: number): string[] {
  return seed % 2 === 1 ? [...FEATURES, '--enable-exception-handling'] : FEATURES;
}
/** The instrumenter adds exports under this prefix (fuel, denied grows); the original module has none. */
const HOST_RESERVED_PREFIX = 'weir_';
/** Fuel for one call: generous, so a difference is never a budget running out. */
const FUEL = 1n << 40n;
/** The memory cap: the most a 32-bit memory can have, so the cap itself changes nothing. */
const CAP_PAGES = 65536;

/** Everything a module shows from outside, in a form `expect().toEqual` compares. */
interface Observation {
  calls: { name: string; outcome: string }[];
  logs: string[];
  memory: string;
  globals: Record<string, string>;
  tables: Record<string, number>;
}

/** Bytes from a small seeded generator (xorshift32), so a seed names one module forever. */
function seededBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function show(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `[${value.map(show).join(',')}]`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'function') return 'funcref';
  return typeof value;
}

function outcomeOf(error: unknown): string {
  if (error instanceof WebAssembly.RuntimeError) return `trap: ${error.message}`;
  if (error instanceof RangeError) return `range error: ${error.message}`;
  if (error instanceof TypeError) return `type error: ${error.message}`;
  if (error instanceof WebAssembly.Exception) return 'wasm exception';
  return `thrown: ${String(error)}`;
}

/**
 * Instantiates `bytes` and calls every exported function as binaryen's own JS
 * harness does; `meter` sees the exports before and after each call.
 */
async function observe(bytes: Uint8Array, meter: (exports: WebAssembly.Exports, when: 'before' | 'after') => void): Promise<Observation> {
  const logs: string[] = [];
  const support = new Proxy({}, {
    get: (_target, name) => (...args: unknown[]) => {
      logs.push(`${String(name)}(${args.map(show).join(',')})`);
    },
  });
  const observation: Observation = { calls: [], logs, memory: '', globals: {}, tables: {} };
  let instance: WebAssembly.Instance;
  try {
    ({ instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, { 'fuzzing-support': support, env: support, ...fuelImports(new WebAssembly.Global({ value: 'i64', mutable: true }, FUEL)) }));
  } catch (error) {
    observation.calls.push({ name: '(instantiate)', outcome: outcomeOf(error) });
    return observation;
  }
  const exports = instance.exports;
  const hangLimit = exports.hangLimitInitializer as (() => void) | undefined;
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== 'function' || name === 'hangLimitInitializer' || name.startsWith(HOST_RESERVED_PREFIX)) continue;
    hangLimit?.();
    meter(exports, 'before');
    let outcome: string;
    try {
      outcome = `returned ${show((value as (...args: unknown[]) => unknown)())}`;
    } catch (error) {
      outcome = outcomeOf(error);
    }
    meter(exports, 'after');
    observation.calls.push({ name, outcome });
  }
  for (const [name, value] of Object.entries(exports)) {
    if (name.startsWith(HOST_RESERVED_PREFIX)) continue;
    if (value instanceof WebAssembly.Memory) {
      observation.memory += `${name}:${value.buffer.byteLength}:${createHash('sha256').update(new Uint8Array(value.buffer)).digest('hex')};`;
    } else if (value instanceof WebAssembly.Global) {
      let shown: string;
      try {
        shown = show(value.value);
      } catch {
        shown = 'unreadable';
      }
      observation.globals[name] = shown;
    } else if (value instanceof WebAssembly.Table) {
      observation.tables[name] = value.length;
    }
  }
  return observation;
}

describe('instrumenter, differential fuzzing against binaryen translate-to-fuzz modules', () => {
  let work: string;
  const keep = process.env.WEIR_FUZZ_KEEP ?? join(tmpdir(), 'weir-fuzz-divergences');

  beforeAll(async () => {
    await access(WASM_OPT, constants.X_OK).catch(() => {
      throw new Error(`${WASM_OPT} is missing: the fuzzer generates modules with binaryen's wasm-opt (apt-get install binaryen, as .ci/run does; or point WEIR_WASM_OPT at one)`);
    });
    work = await mkdtemp(join(tmpdir(), 'weir-fuzz-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it(`runs ${MODULES} generated modules from seed ${FIRST_SEED} with and without instrumentation: no difference but a reported limit`, async () => {
    const divergences: string[] = [];
    let compared = 0;
    const generatorFailures: string[] = [];
    let invalidForV8 = 0;
    /** Fuel charged over the whole run: a rewrite that stopped charging would leave it at 0. */
    let fuelUsed = 0n;
    const seeds = Array.from({ length: MODULES }, (_, i) => FIRST_SEED + i);
    const check = async (seed: number): Promise<void> => {
      const input = join(work, `${seed}.dat`);
      const output = join(work, `${seed}.wasm`);
      await writeFile(input, seededBytes(seed, 4096 + (seed % 8) * 2048));
      try {
        await run(WASM_OPT, [input, '-ttf', ...featuresFor(seed), '-o', output]);
      } catch (error) {
        generatorFailures.push(`seed ${seed}: ${String(error).slice(0, 300)}`);
        return;
      }
      const original = new Uint8Array(await readFile(output));
      await rm(input);
      await rm(output);
      let instrumented: Uint8Array;
      try {
        instrumented = instrumentModule(original, { maxMemoryPages: CAP_PAGES, fuel: FUEL }).bytes;
      } catch (error) {
        divergences.push(`seed ${seed}: the instrumenter refused a valid module: ${String(error)}`);
        await keepModule(seed, original);
        return;
      }
      const expected = await observe(original, () => {});
      if (/^thrown: (CompileError|LinkError)/.test(expected.calls[0]?.outcome ?? '')) {
        if (invalidForV8 === 0) console.log(`seed ${seed}: ${expected.calls[0]!.outcome}`);
        invalidForV8++;
        return;
      }
      let fuelRanOut = false;
      let unmetered = false;
      const actual = await observe(instrumented, (exports, when) => {
        const fuel = exports[FUEL_EXPORT];
        if (!(fuel instanceof WebAssembly.Global)) {
          unmetered = true;
          return;
        }
        if (when === 'before') {
          fuel.value = FUEL;
          return;
        }
        const left = fuel.value as bigint;
        if (left < 0n) fuelRanOut = true;
        fuelUsed += FUEL - left;
      });
      compared++;
      if (unmetered) {
        divergences.push(`seed ${seed}: the instrumented module has no ${FUEL_EXPORT} export, so nothing limits its CPU`);
        await keepModule(seed, original);
        return;
      }
      if (fuelRanOut) {
        divergences.push(`seed ${seed}: ran out of ${FUEL} fuel (a module that finishes in binaryen's hang limit)`);
        await keepModule(seed, original);
        return;
      }
      try {
        expect(actual).toEqual(expected);
      } catch (error) {
        divergences.push(`seed ${seed}: ${String(error).slice(0, 2000)}`);
        await keepModule(seed, original);
      }
    };
    const keepModule = async (seed: number, bytes: Uint8Array): Promise<void> => {
      await mkdir(keep, { recursive: true });
      await writeFile(join(keep, `seed-${seed}.wasm`), bytes);
    };
    // Two at a time: wasm-opt runs in its own process while the other module executes.
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < seeds.length) await check(seeds[next++]!);
    };
    await Promise.all([lane(), lane()]);
    console.log(`fuzz: ${compared} modules compared from seed ${FIRST_SEED}, ${divergences.length} divergences, ${generatorFailures.length} inputs the generator failed on, ${invalidForV8} modules V8 would not instantiate`);
    expect(divergences).toEqual([]);
    expect(generatorFailures).toEqual([]);
    expect(compared).toBeGreaterThan(MODULES * 0.9);
    expect(fuelUsed).toBeGreaterThan(BigInt(compared));
  }, 60 * 60_000);
});
