/**
 * One fuel budget per plugin instance, whatever number of core modules it
 * has: jco splits a component into several core modules, and each used to
 * get its own fuel global, refilled per call, so a component of N modules
 * had about N times the budget. Here a component of two hand-written core
 * modules (through the real component loader, with a stand-in for jco's
 * generated code) runs a loop in each: the budget fits either loop, not
 * both. Nothing is timed.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { instantiateComponent } from '../../src/instance/component-instance.js';
import type { JcoInstantiate } from '../../src/engine/component-code.js';
import { hasCode } from '../../src/errors/errors.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { InstanceLimits } from '../../src/contract/limits.js';
import { instrumentModule } from '../../src/sandbox/instrument/instrument.js';
import type { InThreadProcessorInstance } from '../../src/contract/plugin.js';
import { DirectoryUsages } from '../../src/linker/directory-quota.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';

const fuelLimits = (fuel: bigint): InstanceLimits => ({ ...instanceLimits(DEFAULT_LIMITS), cpuMode: 'fuel', fuel });

const host = () =>
  createHostContext({
    node: 'split', plugin: 'split.wasm', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
    metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
  });

/** About 8 fuel per iteration (local.get, i32.const, i32.add, local.set, local.get, local.get, i32.lt_u, br_if). */
const SPIN = `(func $spin (param $n i32) (local $i i32)
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n)))))`;
/** Iterations of each module's loop: about 800,000 fuel each. */
const ITERATIONS = 100_000;
const ONE_LOOP = 8n * BigInt(ITERATIONS);

/** Two core modules: `b.run` spins, then calls `a.spin`, which spins as long. */
const CORES: Record<string, string> = {
  'a.core.wasm': `(module ${SPIN} (export "spin" (func $spin)))`,
  'b.core.wasm': `(module
    (import "a" "spin" (func $other (param i32)))
    ${SPIN}
    (func (export "run") (param $n i32) (call $spin (local.get $n)) (call $other (local.get $n))))`,
};

/** A stand-in for jco's generated `instantiate`: links the two core modules and exports a processor. */
const twoModuleComponent: JcoInstantiate = async (getCoreModule, _imports, instantiateCore) => {
  const a = await instantiateCore(await getCoreModule('a.core.wasm'));
  const b = await instantiateCore(await getCoreModule('b.core.wasm'), { a: { spin: a.exports.spin! } });
  const run = b.exports.run as (n: number) => void;
  return {
    configure: () => {},
    process: () => {
      run(ITERATIONS);
      return [];
    },
  };
};

async function component(limits: InstanceLimits): Promise<InThreadProcessorInstance> {
  const compileCore = async (name: string) => WebAssembly.compile(instrumentModule(await parse(CORES[name]!), { maxMemoryPages: limits.memoryPages, fuel: limits.fuel }).bytes);
  return (await instantiateComponent(twoModuleComponent, 'processor', host(), limits, compileCore, new DirectoryUsages())) as InThreadProcessorInstance;
}

describe('one fuel budget per instance, shared by its core modules', () => {
  it('work split across two core modules that exceeds the budget only in sum is WEIR_LIMIT_CPU', async () => {
    // Room for one loop and a half: each module's loop alone fits, the two together do not.
    const tight = await component(fuelLimits((ONE_LOOP * 3n) / 2n));
    let failure: unknown;
    try {
      tight.process([]);
    } catch (error) {
      failure = error;
    }
    expect(hasCode(failure, 'WEIR_LIMIT_CPU')).toBe(true);
    expect((failure as { details: Record<string, unknown> }).details).toMatchObject({ node: 'split', limit: 'fuel' });
  });

  it('a budget above the sum passes, and the fuel used counts both modules once', async () => {
    const roomy = await component(fuelLimits(ONE_LOOP * 3n));
    expect(roomy.process([])).toEqual([]);
    const used = roomy.usage().fuelUsed;
    expect(used).toBeGreaterThanOrEqual(2n * ONE_LOOP);
    expect(used).toBeLessThan(2n * ONE_LOOP + 1000n);
  });
});

/**
 * A component whose code-less core module imports the host's fuel global
 * (the instance hands its one global to every module that asks) and exports
 * it to a module that sets it back on every loop turn: 50M turns on a
 * budget of 1M. The instrumenter must refuse the importing module even
 * though it has no code to rewrite (found by review: it used to return early).
 */
const FUEL_THIEF = `(component
  (core module $G (global (export "g") (mut i64) (i64.const 0)))
  (core instance $g (instantiate $G))
  (alias core export $g "g" (core global $gg))
  (core module $Steal (import "weir:sandbox" "fuel" (global $f (mut i64))) (export "fuel" (global $f)))
  (core instance $steal (instantiate $Steal (with "weir:sandbox" (instance (export "fuel" (global $gg))))))
  (core module $Main
    (import "stolen" "fuel" (global $f (mut i64)))
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 256)
    (func (export "configure") (param i32 i32))
    (func (export "call") (param i32 i32 i32 i32) (result i32) (local $i i32)
      (loop $again
        (global.set $f (i64.const 1000000000))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $again (i32.lt_u (local.get $i) (i32.const 50000000))))
      i32.const 512))
  (core instance $main (instantiate $Main (with "stolen" (instance $steal))))
  (alias core export $main "memory" (core memory $mem))
  (alias core export $main "realloc" (core func $realloc))
  (alias core export $main "configure" (core func $configure))
  (alias core export $main "call" (core func $call))
  (func (export "configure") (param "config" string)
    (canon lift (core func $configure) (memory $mem) (realloc $realloc)))
  (func (export "call") (param "method" string) (param "payload" (list u8)) (result (list u8))
    (canon lift (core func $call) (memory $mem) (realloc $realloc))))`;

describe('the fuel global stays the host\'s', () => {
  it('a component module without code that imports the fuel global is refused, so no module can refill the budget', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-fuel-thief-'));
    try {
      const file = join(dir, 'thief.wasm');
      await writeFile(file, await parse(FUEL_THIEF));
      const module = await new Engine({ cacheDir: dir }).load(file);
      let failure: unknown;
      try {
        await instantiate(module, 'service', host(), fuelLimits(1_000_000n));
      } catch (error) {
        failure = error;
      }
      expect(hasCode(failure, 'WEIR_PLUGIN_INVALID_BINARY')).toBe(true);
      expect(String((failure as Error).message)).toMatch(/weir:sandbox.*reserves/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
