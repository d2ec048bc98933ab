/** The module rewriter, on small modules written inline as WAT. */
import { describe, expect, it } from 'vitest';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { FUEL_EXPORT, GROW_DENIED_EXPORT, InitialMemoryOverCapError, instrumentModule } from '../../src/sandbox/instrument/instrument.js';
import { MalformedModuleError } from '../../src/sandbox/instrument/wasm-bytes.js';

const wat = async (text: string): Promise<Uint8Array> => parse(text);

async function instantiate(bytes: Uint8Array): Promise<WebAssembly.Exports> {
  const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, {});
  return instance.exports;
}

const COUNTER = `(module
  (memory (export "memory") 1)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "spin") (param $n i32) (result i32) (local $i i32)
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    local.get $i))`;

describe('instrumentModule', () => {
  it('caps every defined memory: growth past the cap fails in the guest and is recorded', async () => {
    const { bytes, initialPages, growHooked } = instrumentModule(await wat(COUNTER), { maxMemoryPages: 4 });
    expect(initialPages).toEqual([1]);
    expect(growHooked).toBe(true);
    const exports = await instantiate(bytes);
    const grow = exports.grow as (pages: number) => number;
    const denied = exports[GROW_DENIED_EXPORT] as WebAssembly.Global;
    expect(grow(2)).toBe(1);
    expect(denied.value).toBe(0);
    expect(grow(2)).toBe(-1);
    expect(denied.value).toBe(2);
    expect((exports.memory as WebAssembly.Memory).buffer.byteLength).toBe(3 * 65536);
    expect(() => (exports.memory as WebAssembly.Memory).grow(2)).toThrow();
  });

  it('keeps a smaller declared maximum, and refuses a module that starts above the cap', async () => {
    const small = await instantiate(instrumentModule(await wat('(module (memory (export "memory") 1 2) (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))'), { maxMemoryPages: 64 }).bytes);
    expect((small.grow as (n: number) => number)(5)).toBe(-1);
    expect(() => instrumentModule(new Uint8Array(0), { maxMemoryPages: 1 })).toThrow(MalformedModuleError);
    const big = await wat('(module (memory 20))');
    expect(() => instrumentModule(big, { maxMemoryPages: 16 })).toThrow(InitialMemoryOverCapError);
  });

  it('charges fuel per loop iteration and traps when it runs out', async () => {
    const { bytes, metered } = instrumentModule(await wat(COUNTER), { maxMemoryPages: 16, fuel: 1_000_000n });
    expect(metered).toBe(true);
    const exports = await instantiate(bytes);
    const spin = exports.spin as (n: number) => number;
    const fuel = exports[FUEL_EXPORT] as WebAssembly.Global;
    fuel.value = 1_000_000n;
    expect(spin(1000)).toBe(1000);
    const perIteration = Number(1_000_000n - (fuel.value as bigint)) / 1000;
    // The loop body is 7 instructions (local.get, i32.const, i32.add, local.set, local.get, local.get, i32.lt_u) plus br_if.
    expect(perIteration).toBeGreaterThan(7);
    expect(perIteration).toBeLessThan(9);
    fuel.value = 1_000_000n;
    expect(() => spin(1_000_000_000)).toThrow(WebAssembly.RuntimeError);
    expect(fuel.value as bigint).toBeLessThan(0n);
  });

  it('leaves a module without code or memory as it was, and refuses reserved export names', async () => {
    const empty = await wat('(module (global (export "g") i32 (i32.const 7)))');
    const out = instrumentModule(empty, { maxMemoryPages: 16, fuel: 10n });
    expect(out).toMatchObject({ metered: false, growHooked: false });
    expect(Buffer.from(out.bytes)).toEqual(Buffer.from(empty));
    const clash = await wat('(module (memory 1) (global (export "weir_fuel") i32 (i32.const 0)) (func))');
    expect(() => instrumentModule(clash, { maxMemoryPages: 16, fuel: 10n })).toThrow(/reserves/);
  });

  it('reads the instructions of current proposals: bulk memory, SIMD, sign extension, reference types, tail calls, exceptions', async () => {
    const module = await wat(`(module
      (memory 1) (table 1 funcref) (tag $oops)
      (func $callee (result i32) i32.const 5)
      (func (export "f") (result i32) (local v128)
        (memory.fill (i32.const 0) (i32.const 1) (i32.const 16))
        (memory.copy (i32.const 16) (i32.const 0) (i32.const 16))
        (local.set 0 (v128.const i32x4 1 2 3 4))
        (drop (i32x4.extract_lane 2 (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (local.get 0) (local.get 0))))
        (drop (i32.extend8_s (i32.const 255)))
        (drop (ref.is_null (ref.null func)))
        (block $handled (try_table (catch_all $handled) (throw $oops)))
        return_call $callee))`);
    const exports = await instantiate(instrumentModule(module, { maxMemoryPages: 2, fuel: 1000n }).bytes);
    expect((exports.f as () => number)()).toBe(5);
  });
});
