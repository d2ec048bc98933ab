/** The module rewriter, on small modules written inline as WAT. */
import { describe, expect, it } from 'vitest';
import { parse, print } from '@bytecodealliance/jco-transpile/wasm-tools';
import { BULK_FUEL, FUEL_EXPORT, fuelImports, GROW_DENIED_EXPORT, TABLE_GROW_DENIED_EXPORT, InitialMemoryOverCapError, InitialTableOverCapError, instrumentModule, isOutOfFuelTrap, LOOP_FLUSH_THRESHOLD } from '../../src/sandbox/instrument/instrument.js';
import { MalformedModuleError } from '../../src/sandbox/instrument/wasm-bytes.js';

const wat = async (text: string): Promise<Uint8Array> => parse(text);

/** A fresh fuel global, as the host makes one per plugin instance. */
const fuelGlobal = (fuel: bigint): WebAssembly.Global => new WebAssembly.Global({ value: 'i64', mutable: true }, fuel);

/** Instantiates `bytes`, giving a metered module a fuel global holding `fuel`. */
async function instantiate(bytes: Uint8Array, fuel = 1n << 40n): Promise<WebAssembly.Exports> {
  const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, fuelImports(fuelGlobal(fuel)));
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

  describe('charges a function\'s work on the global at loop headers and on the way out', () => {
    // The leaves have no loop: their 51 instructions reach the global only when it returns (or branches,
    // tail-calls or throws out). $fib recurses without a loop.
    /** 51 instructions, no loop. */
    const CHAIN = `local.get $x\n${'i32.const 1\ni32.add\n'.repeat(25)}`;
    const LEAF = `(module
      (tag $oops)
      (func $leaf (param $x i32) (result i32)
        ${CHAIN})
      (func $leafBranching (param $x i32) (result i32)
        ${CHAIN}
        br 0)
      (func $leafTail (param $x i32) (result i32)
        ${CHAIN}
        return_call $id)
      (func $id (param $x i32) (result i32) local.get $x)
      (func $leafThrowing (param $x i32)
        ${CHAIN}
        i32.const 0
        i32.ge_s
        if
          throw $oops
        end)
      (func $catching (param $x i32) (result i32)
        try (result i32)
          local.get $x
          call $leafThrowing
          i32.const 0
        catch $oops
          i32.const 1
        end)
      (func (export "calls") (param $n i32) (param $which i32) (result i32) (local $i i32) (local $sum i32)
        (loop $again
          (local.set $sum (i32.add (local.get $sum)
            (if (result i32) (i32.eqz (local.get $which)) (then (call $leaf (local.get $i)))
              (else (if (result i32) (i32.eq (local.get $which) (i32.const 1)) (then (call $leafBranching (local.get $i)))
                (else (if (result i32) (i32.eq (local.get $which) (i32.const 2)) (then (call $leafTail (local.get $i)))
                  (else (call $catching (local.get $i))))))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
        local.get $sum)
      (func $fib (export "fib") (param $n i32) (result i32)
        (if (result i32) (i32.lt_u (local.get $n) (i32.const 2)) (then (local.get $n))
          (else (i32.add (call $fib (i32.sub (local.get $n) (i32.const 1))) (call $fib (i32.sub (local.get $n) (i32.const 2))))))))`;

    async function leafModule(fuel: bigint) {
      const exports = await instantiate(instrumentModule(await wat(LEAF), { maxMemoryPages: 1, fuel: 1n }).bytes, fuel);
      const global = exports[FUEL_EXPORT] as WebAssembly.Global;
      return {
        spent(run: () => unknown): bigint {
          global.value = fuel;
          run();
          return fuel - (global.value as bigint);
        },
        exports,
        global,
      };
    }

    it('a loop-free function\'s work counts when it returns, branches out, tail-calls or throws', async () => {
      const { spent, exports } = await leafModule(1n << 40n);
      const calls = exports.calls as (n: number, which: number) => number;
      for (const which of [0, 1, 2, 3]) {
        const small = spent(() => calls(1000, which));
        const large = spent(() => calls(11_000, which));
        // 10,000 more calls each cost at least the callee's 51 instructions besides the loop's.
        expect(large - small).toBeGreaterThanOrEqual(10_000n * 51n);
        expect(large - small).toBeLessThan(10_000n * 120n);
      }
    });

    it('a recursion without loops and a loop under the flush threshold still run out of fuel', async () => {
      const { exports, global } = await leafModule(100_000n);
      global.value = 100_000n;
      expect(() => (exports.fib as (n: number) => number)(40)).toThrow(WebAssembly.RuntimeError);
      expect(global.value as bigint).toBeLessThan(0n);
      const spin = await instantiate(instrumentModule(await wat(COUNTER), { maxMemoryPages: 16, fuel: 1n }).bytes, 100n);
      expect(() => (spin.spin as (n: number) => number)(1_000_000_000)).toThrow(WebAssembly.RuntimeError);
      expect((spin[FUEL_EXPORT] as WebAssembly.Global).value as bigint).toBeLessThan(0n);
      expect((spin[FUEL_EXPORT] as WebAssembly.Global).value as bigint).toBeGreaterThan(-2n * LOOP_FLUSH_THRESHOLD);
    });
  });

  it.each([
    ['try / catch_all', 'try\n call $mid\n catch_all\n end'],
    ['try_table catching to the loop body', 'block $caught\n try_table (catch_all $caught)\n call $mid\n end\n end'],
  ])('counts the work of frames an exception unwinds, caught in a loop further up (%s)', async (_, caught) => {
    // $mid does 2,000 instructions and then calls a thrower; the exception unwinds $mid (its
    // pending count) and is caught in $f's loop. Each iteration must cost at least $mid's work.
    const work = 'local.get $x\ni32.const 1\ni32.add\nlocal.set $x\n'.repeat(500);
    const module = `(module
      (tag $t)
      (func $thrower throw $t)
      (func $mid (local $x i32)
        ${work}
        call $thrower)
      (func (export "f") (param $n i32) (local $i i32)
        loop $l
          ${caught}
          local.get $i i32.const 1 i32.add local.tee $i local.get $n i32.lt_u br_if $l
        end))`;
    const exports = await instantiate(instrumentModule(await wat(module), { maxMemoryPages: 1, fuel: 1n }).bytes);
    const global = exports[FUEL_EXPORT] as WebAssembly.Global;
    global.value = 1n << 40n;
    (exports.f as (n: number) => void)(1000);
    expect((1n << 40n) - (global.value as bigint)).toBeGreaterThanOrEqual(1000n * 2000n);
    // And a budget runs out: 1,000,000 fuel buys about 500 iterations, not 100,000.
    global.value = 1_000_000n;
    expect(() => (exports.f as (n: number) => void)(100_000)).toThrow(WebAssembly.RuntimeError);
  });

  it('charges what follows a try-delegate: a branch out of the try lands after delegate, where a region starts', async () => {
    // Each iteration runs 100 instructions after the try block; a branch out of the try skips the
    // charge of the region that held them unless delegate starts a region of its own.
    const body = Array.from({ length: 100 }, () => 'local.get $i\ndrop').join('\n');
    const loop = (trick: string) => `(module (func (export "f") (param $n i32) (local $i i32)
      loop $l
        ${trick}
        ${body}
        local.get $i
        i32.const 1
        i32.add
        local.tee $i
        local.get $n
        i32.lt_u
        br_if $l
      end))`;
    const fuelFor = async (trick: string): Promise<bigint> => {
      const exports = await instantiate(instrumentModule(await wat(loop(trick)), { maxMemoryPages: 16, fuel: 1n << 40n }).bytes);
      const fuel = exports[FUEL_EXPORT] as WebAssembly.Global;
      fuel.value = 1n << 40n;
      (exports.f as (n: number) => void)(1000);
      return (1n << 40n) - (fuel.value as bigint);
    };
    const plain = await fuelFor('');
    const dodging = await fuelFor('try\ni32.const 1\nif\nbr 1\nend\ndelegate 0');
    expect(plain).toBeGreaterThan(200_000n);
    expect(dodging).toBeGreaterThanOrEqual(plain);
  });

  it('leaves a module without code or memory as it was, and refuses reserved export names', async () => {
    const empty = await wat('(module (global (export "g") i32 (i32.const 7)))');
    const out = instrumentModule(empty, { maxMemoryPages: 16, fuel: 10n });
    expect(out).toMatchObject({ metered: false, growHooked: false });
    expect(Buffer.from(out.bytes)).toEqual(Buffer.from(empty));
    const clash = await wat('(module (memory 1) (global (export "weir_fuel") i32 (i32.const 0)) (func))');
    expect(() => instrumentModule(clash, { maxMemoryPages: 16, fuel: 10n })).toThrow(/reserves/);
  });

  it('imports the fuel global after the module\'s own imported globals and renumbers its defined ones everywhere', async () => {
    const source = await wat(`(module
      (import "env" "base" (global $base i32))
      (import "env" "mutable" (global $shared (mut i32)))
      (memory (export "memory") 1)
      (table $t 4 funcref)
      (global $g (export "g") (mut i32) (global.get $base))
      (global $h (export "h") i64 (i64.const 42))
      (data (global.get $base) "*")
      (elem (global.get $base) func $seven)
      (elem $exprs funcref (item (ref.func $seven)))
      (func $seven (result i32) i32.const 7)
      (func (export "bump") (result i32)
        (global.set $g (i32.add (global.get $g) (i32.const 1)))
        (global.set $shared (i32.add (global.get $shared) (global.get $g)))
        (i32.add (global.get $g) (i32.wrap_i64 (global.get $h))))
      (func (export "viaTable") (result i32) (call_indirect (result i32) (global.get $base))))`);
    const run = async (bytes: Uint8Array) => {
      const shared = new WebAssembly.Global({ value: 'i32', mutable: true }, 100);
      const { instance } = await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, { env: { base: 2, mutable: shared }, ...fuelImports(fuelGlobal(1n << 40n)) });
      const e = instance.exports;
      const results = [(e.bump as () => number)(), (e.bump as () => number)(), (e.viaTable as () => number)()];
      return { results, g: (e.g as WebAssembly.Global).value, h: (e.h as WebAssembly.Global).value, shared: shared.value, byte: new Uint8Array((e.memory as WebAssembly.Memory).buffer)[2], fuel: e[FUEL_EXPORT] !== undefined };
    };
    const expected = await run(source);
    expect(expected).toEqual({ results: [45, 46, 7], g: 4, h: 42n, shared: 107, byte: 42, fuel: false });
    const instrumented = instrumentModule(source, { maxMemoryPages: 4, fuel: 1000n }).bytes;
    expect(WebAssembly.Module.imports(new WebAssembly.Module(instrumented as Uint8Array<ArrayBuffer>)).map((i) => `${i.module}.${i.name}`)).toEqual(['env.base', 'env.mutable', 'weir:sandbox.fuel']);
    expect(await run(instrumented)).toEqual({ ...expected, fuel: true });
    // The name section follows: the globals keep their names at their new indices.
    const text = await print(instrumented);
    expect(text).toContain('(global $g (;3;)');
    expect(text).toContain('(global $h (;4;)');
    expect(text).toContain('(export "g" (global $g))');
  });

  it('refuses a module that imports from the host\'s reserved fuel module', async () => {
    const posing = await wat('(module (import "weir:sandbox" "fuel" (global (mut i64))) (func))');
    expect(() => instrumentModule(posing, { maxMemoryPages: 4, fuel: 10n })).toThrow(/reserves/);
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

  describe('bulk instructions are charged by length', () => {
    const BULK = `(module
      (memory (export "memory") 2)
      (table $t 0 externref)
      (data $seg "0123456789abcdef")
      (func (export "fill") (param $n i32) (memory.fill (i32.const 0) (i32.const 7) (local.get $n)))
      (func (export "copy") (param $n i32) (memory.copy (i32.const 65536) (i32.const 0) (local.get $n)))
      (func (export "init") (param $n i32) (memory.init $seg (i32.const 0) (i32.const 0) (local.get $n)))
      (func (export "tableGrow") (param $n i32) (result i32) (table.grow $t (ref.null extern) (local.get $n)))
      (func (export "tableFill") (param $n i32) (table.fill $t (i32.const 0) (ref.null extern) (local.get $n))))`;

    async function metered(fuel: bigint) {
      const exports = await instantiate(instrumentModule(await wat(BULK), { maxMemoryPages: 4, fuel }).bytes);
      const global = exports[FUEL_EXPORT] as WebAssembly.Global;
      const spent = (fn: string, n: number): bigint => {
        global.value = fuel;
        (exports[fn] as (n: number) => unknown)(n);
        return fuel - (global.value as bigint);
      };
      return { exports, global, spent };
    }

    it('memory.fill, memory.copy and memory.init cost fuel in proportion to their length, on top of their instruction', async () => {
      const { spent } = await metered(1_000_000n);
      const base = spent('fill', 0);
      expect(spent('fill', 65536) - base).toBe(BigInt(65536 / BULK_FUEL.fillBytesPerFuel));
      expect(spent('fill', 4096) - base).toBe(BigInt(4096 / BULK_FUEL.fillBytesPerFuel));
      expect(spent('copy', 65536) - spent('copy', 0)).toBe(BigInt(65536 / BULK_FUEL.copyBytesPerFuel));
      expect(spent('init', 16) - spent('init', 0)).toBe(BigInt(16 / BULK_FUEL.copyBytesPerFuel));
    });

    it('a fill larger than the fuel left traps before it runs; a budget above its cost lets it through', async () => {
      const cost = 65536 / BULK_FUEL.fillBytesPerFuel;
      const small = await metered(BigInt(cost - 100));
      small.global.value = BigInt(cost - 100);
      const memory = small.exports.memory as WebAssembly.Memory;
      expect(() => (small.exports.fill as (n: number) => void)(65536)).toThrow(WebAssembly.RuntimeError);
      expect(small.global.value as bigint).toBeLessThan(0n);
      // The fill did not run.
      expect(new Uint8Array(memory.buffer)[0]).toBe(0);
      const large = await metered(BigInt(cost + 100));
      large.global.value = BigInt(cost + 100);
      (large.exports.fill as (n: number) => void)(65536);
      expect(large.global.value as bigint).toBeGreaterThanOrEqual(0n);
      expect(new Uint8Array((large.exports.memory as WebAssembly.Memory).buffer)[65535]).toBe(7);
    });

    it('table.grow and table.fill cost fuel per element', async () => {
      const { spent, exports } = await metered(100_000_000n);
      expect(spent('tableGrow', 5000) - spent('tableGrow', 0)).toBe(BigInt(5000 * BULK_FUEL.fuelPerTableElement));
      expect(spent('tableFill', 5000) - spent('tableFill', 0)).toBe(BigInt(5000 * BULK_FUEL.fuelPerTableElement));
      expect((exports.tableGrow as (n: number) => number)(0)).toBe(5000);
    });

    it('memory.grow costs fuel per page it added, on either memory; a denied grow costs only its instruction', async () => {
      const growing = await wat(`(module
        (memory $m0 (export "memory") 1) (memory $m1 1)
        (func (export "grow0") (param $n i32) (result i32) (memory.grow $m0 (local.get $n)))
        (func (export "grow1") (param $n i32) (result i32) (memory.grow $m1 (local.get $n))))`);
      const exports = await instantiate(instrumentModule(growing, { maxMemoryPages: 64, fuel: 1n << 40n }).bytes);
      const global = exports[FUEL_EXPORT] as WebAssembly.Global;
      const spent = (fn: string, n: number): { result: number; fuel: bigint } => {
        global.value = 1n << 40n;
        const result = (exports[fn] as (n: number) => number)(n);
        return { result, fuel: (1n << 40n) - (global.value as bigint) };
      };
      for (const fn of ['grow0', 'grow1']) {
        const base = spent(fn, 0).fuel;
        expect(spent(fn, 1)).toEqual({ result: 1, fuel: base + BigInt(BULK_FUEL.fuelPerMemoryPage) });
        expect(spent(fn, 40)).toEqual({ result: 2, fuel: base + 40n * BigInt(BULK_FUEL.fuelPerMemoryPage) });
        // Past the cap of 64 pages: denied, nothing added, nothing charged for pages.
        expect(spent(fn, 1000)).toEqual({ result: -1, fuel: base });
      }
      expect(BULK_FUEL.fuelPerMemoryPage).toBe(65536 / BULK_FUEL.fillBytesPerFuel);
    });

    it('a grow whose pages cost more than the fuel left runs out of fuel', async () => {
      const exports = await instantiate(instrumentModule(await wat(COUNTER), { maxMemoryPages: 64, fuel: 1n }).bytes);
      const global = exports[FUEL_EXPORT] as WebAssembly.Global;
      global.value = 10n * BigInt(BULK_FUEL.fuelPerMemoryPage);
      expect(() => (exports.grow as (n: number) => number)(20)).toThrow(WebAssembly.RuntimeError);
      expect(global.value as bigint).toBeLessThan(0n);
    });

    it('an unmetered module is not charged and its bulk instructions are copied as they are', async () => {
      const out = instrumentModule(await wat(BULK), { maxMemoryPages: 4 });
      const exports = await instantiate(out.bytes);
      (exports.fill as (n: number) => void)(65536);
      expect(exports[FUEL_EXPORT]).toBeUndefined();
    });
  });

  describe('tables are capped', () => {
    it('refuses a table that starts above the cap and caps the max of the others: table.grow past it fails in the guest', async () => {
      const huge = await wat('(module (table 10000000 externref) (func))');
      expect(() => instrumentModule(huge, { maxMemoryPages: 16, maxTableElements: 1 << 20 })).toThrow(InitialTableOverCapError);
      const growing = await wat('(module (table $t 1 externref) (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null extern) (local.get 0))))');
      const exports = await instantiate(instrumentModule(growing, { maxMemoryPages: 16, maxTableElements: 1000 }).bytes);
      const grow = exports.grow as (n: number) => number;
      const denied = exports[TABLE_GROW_DENIED_EXPORT] as WebAssembly.Global;
      expect(grow(10_000_000)).toBe(-1);
      expect(denied.value).toBe(10_000_000);
      denied.value = 0;
      expect(grow(999)).toBe(1);
      expect(denied.value).toBe(0);
      expect(grow(1)).toBe(-1);
      expect(denied.value).toBe(1);
    });
  });

  describe('atomic waits', () => {
    const WAITER = (shared: string) => `(module
      (memory (export "memory") 1 1 ${shared})
      (func (export "wait32") (param $expected i32) (param $timeout i64) (result i32)
        (memory.atomic.wait32 offset=4 (i32.const 0) (local.get $expected) (local.get $timeout)))
      (func (export "wait64") (param $addr i32) (param $expected i64) (result i32)
        (memory.atomic.wait64 (local.get $addr) (local.get $expected) (i64.const -1))))`;

    it('on a shared memory answer at once instead of blocking the thread: "timed-out" when equal, "not-equal" otherwise', async () => {
      const exports = await instantiate(instrumentModule(await wat(WAITER('shared')), { maxMemoryPages: 4, fuel: 1000n }).bytes);
      const memory = new DataView((exports.memory as WebAssembly.Memory).buffer);
      memory.setInt32(4, 42, true);
      const wait32 = exports.wait32 as (expected: number, timeout: bigint) => number;
      const wait64 = exports.wait64 as (addr: number, expected: bigint) => number;
      // Without the rewrite, an infinite wait on a value that matches never returns.
      expect(wait32(42, -1n)).toBe(2);
      expect(wait32(41, -1n)).toBe(1);
      expect(wait64(8, 0n)).toBe(2);
      expect(wait64(8, 5n)).toBe(1);
      // Misaligned and out-of-bounds addresses still trap.
      expect(() => wait64(4, 0n)).toThrow(WebAssembly.RuntimeError);
      expect(() => wait64(65536, 0n)).toThrow(WebAssembly.RuntimeError);
    });

    it('on an unshared memory are left as they are (they trap)', async () => {
      const original = await wat(WAITER(''));
      const exports = await instantiate(instrumentModule(original, { maxMemoryPages: 4 }).bytes);
      expect(() => (exports.wait32 as (e: number, t: bigint) => number)(0, -1n)).toThrow();
    });
  });

  it('fuel running out in a start function is told apart from a plain trap', async () => {
    const looping = instrumentModule(await wat('(module (func $start (loop (br 0))) (start $start))'), { maxMemoryPages: 4, fuel: 10_000n });
    const failure = await WebAssembly.instantiate(looping.bytes, fuelImports(fuelGlobal(10_000n))).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(isOutOfFuelTrap(failure)).toBe(true);
    const trapping = instrumentModule(await wat('(module (func $start unreachable) (start $start))'), { maxMemoryPages: 4, fuel: 10_000n });
    const trap = await WebAssembly.instantiate(trapping.bytes, fuelImports(fuelGlobal(10_000n))).catch((error: unknown) => error);
    expect(isOutOfFuelTrap(trap)).toBe(false);
    // A module that names its own function as the host does cannot pass its trap off as fuel running out.
    const posing = instrumentModule(await wat('(module (func $weir_out_of_fuel unreachable) (start $weir_out_of_fuel))'), { maxMemoryPages: 4, fuel: 10_000n });
    const posed = await WebAssembly.instantiate(posing.bytes, fuelImports(fuelGlobal(10_000n))).catch((error: unknown) => error);
    expect(posed).toBeInstanceOf(WebAssembly.RuntimeError);
    expect(isOutOfFuelTrap(posed)).toBe(false);
    // Also without a name section of the module's own.
    const unnamed = await wat('(module (func (loop (br 0))) (start 0))');
    expect(WebAssembly.Module.customSections(new WebAssembly.Module(unnamed as Uint8Array<ArrayBuffer>), 'name')).toHaveLength(0);
    const bare = instrumentModule(unnamed, { maxMemoryPages: 4, fuel: 10_000n });
    expect(isOutOfFuelTrap(await WebAssembly.instantiate(bare.bytes, fuelImports(fuelGlobal(10_000n))).catch((error: unknown) => error))).toBe(true);
  });
});
