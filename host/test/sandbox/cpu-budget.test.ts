/**
 * The CPU budget covers what the guest makes the host do: host calls are
 * charged by the bytes they move (core modules and components), fuel running
 * out in a start function is a CPU-limit breach, and a table above its cap
 * is refused at load. Budgets here are set just below and well above what
 * the work costs; nothing is timed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { instantiateCorePlugin } from '../../src/instance/core-module-instance.js';
import { hasCode } from '../../src/errors/errors.js';
import { chargedComponentImports, FUEL_PER_HOST_BYTE, FUEL_PER_HOST_CALL, FUEL_PER_LOG_BYTE } from '../../src/linker/host-call-fuel.js';
import { componentImports } from '../../src/linker/component-imports.js';
import { WeirError } from '../../src/errors/errors.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { InstanceLimits } from '../../src/contract/limits.js';
import { instrumentModule } from '../../src/sandbox/instrument/instrument.js';
import type { InThreadProcessorInstance } from '../../src/contract/plugin.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';
import { DirectoryUsages } from '../../src/linker/directory-quota.js';

const MIB = 1 << 20;
const fuelLimits = (fuel: number): InstanceLimits => ({ ...instanceLimits(DEFAULT_LIMITS), cpuMode: 'fuel', fuel: BigInt(fuel) });

const host = (state = new MemoryKeyedState()) =>
  createHostContext({
    node: 'reader', plugin: 'reader.wasm', config: {}, logger: pino({ level: 'silent' }), state,
    metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
  });

/**
 * A core-module processor (the ABI of sdk/assemblyscript/ABI.md) that stores
 * a 1 MiB value once and reads it back `reads` times per batch; `start`
 * runs in its start function, `extra` is added to the module, `first` runs
 * first in each call.
 */
const reader = (reads: number, start = '', extra = '', first = '') => parse(`(module
  (import "weir" "state_get" (func $get (param i32 i32) (result i32)))
  (import "weir" "state_set" (func $set (param i32 i32 i32 i32)))
  (memory (export "memory") 20)
  ${extra}
  (data (i32.const 0) "k")
  (func $start ${start})
  (start $start)
  (func (export "weir_abi_version") (result i32) i32.const 1)
  (func (export "weir_alloc") (param i32) (result i32) i32.const 4096)
  (func (export "weir_configure") (param i32 i32) (result i32) i32.const 0)
  (func (export "weir_output_ptr") (result i32) i32.const 16)
  (func (export "weir_output_len") (result i32) i32.const 4)
  (func (export "weir_process") (param i32 i32) (result i32) (local $i i32)
    ${first}
    (if (i32.lt_s (call $get (i32.const 0) (i32.const 1)) (i32.const 0))
      (then (call $set (i32.const 0) (i32.const 1) (i32.const 65536) (i32.const ${MIB}))))
    (block $done (loop $again
      (br_if $done (i32.ge_u (local.get $i) (i32.const ${reads})))
      (drop (call $get (i32.const 0) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $again)))
    i32.const 0))`);

async function coreProcessor(wasm: Uint8Array, limits: InstanceLimits, state?: MemoryKeyedState): Promise<InThreadProcessorInstance> {
  const { bytes } = instrumentModule(wasm, { maxMemoryPages: limits.memoryPages, fuel: limits.fuel });
  return instantiateCorePlugin(await WebAssembly.compile(bytes), 'processor', host(state), limits, new DirectoryUsages());
}

const breachOf = (call: () => unknown): unknown => {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('host calls are charged by the bytes they move', () => {
  /** Fuel the host part of moving the 1 MiB value once costs. */
  const perRead = BigInt(MIB * FUEL_PER_HOST_BYTE);

  it('core module: 8 reads of a 1 MiB state value breach a budget below what moving 9 MiB costs, and pass one above', async () => {
    const small = await coreProcessor(await reader(8), fuelLimits(Number(8n * perRead)));
    const failure = breachOf(() => small.process([]));
    expect(hasCode(failure, 'WEIR_LIMIT_CPU')).toBe(true);
    expect((failure as { details: Record<string, unknown> }).details).toMatchObject({ node: 'reader', limit: 'fuel' });

    const large = await coreProcessor(await reader(8), fuelLimits(Number(10n * perRead)));
    expect(large.process([])).toEqual([]);
    const used = large.usage().fuelUsed;
    // The 1 MiB value is moved 9 times (once in, 8 times out); ten host calls; the guest's own instructions are a few hundred.
    expect(used).toBeGreaterThanOrEqual(9n * perRead + 10n * FUEL_PER_HOST_CALL);
    expect(used).toBeLessThan(9n * perRead + 10n * FUEL_PER_HOST_CALL + 1000n);
  });

  it('core module: the fuel host calls use grows with the bytes they move', async () => {
    const used = async (reads: number) => {
      const instance = await coreProcessor(await reader(reads), fuelLimits(Number(100n * perRead)));
      instance.process([]);
      return instance.usage().fuelUsed;
    };
    const [eight, sixteen] = [await used(8), await used(16)];
    expect(sixteen - eight).toBeGreaterThanOrEqual(8n * (perRead + FUEL_PER_HOST_CALL));
    expect(sixteen - eight).toBeLessThan(8n * (perRead + FUEL_PER_HOST_CALL) + 1000n);
  });
});

describe('component imports', () => {
  it('charge arguments before the host works and results after; a spent budget stops the call before the host runs it, past the import\'s own error handling', () => {
    const charges: bigint[] = [];
    let called = 0;
    const context = { ...host(), callService: () => { called++; return new Uint8Array(10); } };
    let budget = 1_000_000n;
    const imports = chargedComponentImports(componentImports(context, new DirectoryUsages()), {
      charge: (units) => {
        charges.push(units);
        budget -= units;
        if (budget < 0n) throw new WeirError('WEIR_LIMIT_CPU', 'spent');
      },
      hostFailed: () => {},
      refuseAfterBreach: () => {},
    });
    const callService = imports['weir:plugin/services']!.callService as (s: string, m: string, p: Uint8Array) => Uint8Array;
    expect(callService('svc', 'm', new Uint8Array(100)).byteLength).toBe(10);
    // 'svc' + 'm' + 100 bytes (each argument also counts 1), then the 10-byte result.
    expect(charges).toEqual([FUEL_PER_HOST_CALL + BigInt(3 + 1 + 100 + 3) * BigInt(FUEL_PER_HOST_BYTE), 10n * BigInt(FUEL_PER_HOST_BYTE)]);
    const log = imports['weir:plugin/log']!.log as (level: string, message: string) => void;
    log('info', 'abcd');
    expect(charges.at(-1)).toBe(FUEL_PER_HOST_CALL + BigInt(4 + 4 + 2) * BigInt(FUEL_PER_LOG_BYTE));
    budget = 0n;
    called = 0;
    const failure = breachOf(() => callService('svc', 'm', new Uint8Array(100)));
    expect(hasCode(failure, 'WEIR_LIMIT_CPU')).toBe(true);
    expect(called).toBe(0);
  });
});

describe('fuel running out in a start function', () => {
  it('is WEIR_LIMIT_CPU naming the node, not a trap reading "unreachable"', async () => {
    const failure = await coreProcessor(await reader(0, '(loop $again (br $again))'), fuelLimits(1_000_000)).catch((error: unknown) => error);
    expect(hasCode(failure, 'WEIR_LIMIT_CPU')).toBe(true);
    expect((failure as { details: Record<string, unknown> }).details).toMatchObject({ node: 'reader', limit: 'fuel' });
    // A start function that traps on its own is still a load failure.
    const trap = await coreProcessor(await reader(0, 'unreachable'), fuelLimits(1_000_000)).catch((error: unknown) => error);
    expect(hasCode(trap, 'WEIR_PLUGIN_LOAD_FAILED')).toBe(true);
  });
});

describe('weir_abi_version, the first export the loader calls', () => {
  /** A core-module processor whose weir_abi_version runs `body`. */
  const versioned = (body: string) => parse(`(module
    (memory (export "memory") 1)
    (func (export "weir_abi_version") (result i32) ${body})
    (func (export "weir_alloc") (param i32) (result i32) i32.const 4096)
    (func (export "weir_configure") (param i32 i32) (result i32) i32.const 0)
    (func (export "weir_process") (param i32 i32) (result i32) i32.const 0)
    (func (export "weir_output_ptr") (result i32) i32.const 16)
    (func (export "weir_output_len") (result i32) i32.const 4))`);

  it('runs under the call guard: a loop in it is WEIR_LIMIT_CPU naming the node, a trap in it a trap naming the node', async () => {
    const looping = await coreProcessor(await versioned('(loop $again (br $again)) i32.const 1'), fuelLimits(1_000_000)).catch((error: unknown) => error);
    expect(hasCode(looping, 'WEIR_LIMIT_CPU')).toBe(true);
    expect((looping as { details: Record<string, unknown> }).details).toMatchObject({ node: 'reader', function: 'weir_abi_version', limit: 'fuel' });
    const trapping = await coreProcessor(await versioned('unreachable'), fuelLimits(1_000_000)).catch((error: unknown) => error);
    expect(hasCode(trapping, 'WEIR_PLUGIN_TRAP')).toBe(true);
    expect((trapping as { details: Record<string, unknown> }).details).toMatchObject({ node: 'reader', function: 'weir_abi_version' });
    expect(String(trapping)).toMatch(/"reader"/);
  });

  it('gets a full call\'s budget, whatever the start function spent', async () => {
    // The start function spends most of the budget; the version call is refilled like any call.
    const spin = (n: number) => `(local $i i32) (loop $again (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $again (i32.lt_u (local.get $i) (i32.const ${n}))))`;
    const wasm = await parse(`(module
      (memory (export "memory") 1)
      (func $start ${spin(100_000)})
      (start $start)
      (func (export "weir_abi_version") (result i32) ${spin(100_000)} i32.const 1)
      (func (export "weir_alloc") (param i32) (result i32) i32.const 4096)
      (func (export "weir_configure") (param i32 i32) (result i32) i32.const 0)
      (func (export "weir_process") (param i32 i32) (result i32) i32.const 0)
      (func (export "weir_output_ptr") (result i32) i32.const 16)
      (func (export "weir_output_len") (result i32) i32.const 4))`);
    const instance = await coreProcessor(wasm, fuelLimits(1_000_000));
    expect(instance.usage().calls).toBe(1);
    expect(instance.process([])).toEqual([]);
  });
});

describe('tables', () => {
  it('a table that starts above the cap is refused at load with WEIR_LIMIT_MEMORY', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-table-'));
    const file = join(dir, 'table.wasm');
    await writeFile(file, await reader(0, '', '(table 10000000 externref)'));
    const module = await new Engine({ cacheDir: join(dir, 'cache') }).load(file);
    const failure = await instantiate(module, 'processor', host(), fuelLimits(1_000_000)).catch((error: unknown) => error);
    expect(hasCode(failure, 'WEIR_LIMIT_MEMORY')).toBe(true);
    expect((failure as { details: Record<string, unknown> }).details).toMatchObject({ limit: 'table', elements: 10_000_000 });
  });

  it('a table.grow past the cap that the plugin then fails on is WEIR_LIMIT_MEMORY, not a plain trap', async () => {
    const wasm = await reader(0, '', '(table $t 1 externref)', '(if (i32.eq (table.grow $t (ref.null extern) (i32.const 10000000)) (i32.const -1)) (then unreachable))');
    // Asking for 10^7 elements costs 64 fuel each before the grow runs: give the budget room for that.
    const limits = fuelLimits(1_000_000_000);
    const { bytes } = instrumentModule(wasm, { maxMemoryPages: limits.memoryPages, maxTableElements: 65536, fuel: limits.fuel });
    const instance = await instantiateCorePlugin(await WebAssembly.compile(bytes), 'processor', host(), limits, new DirectoryUsages());
    const failure = breachOf(() => instance.process([]));
    expect(hasCode(failure, 'WEIR_LIMIT_MEMORY')).toBe(true);
    expect((failure as { details: Record<string, unknown> }).details).toMatchObject({ node: 'reader', limit: 'table', requestedElements: 10_000_000 });
  });
});

describe('component host calls (QuickJS)', () => {
  let fixtures: string;
  let cacheDir: string;
  beforeAll(async () => {
    fixtures = await buildFixtures('hostcall-loop-js');
    cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
  });

  const instance = async (limits: InstanceLimits) => {
    const module = await new Engine({ cacheDir }).load(join(fixtures, 'hostcall-loop-js.wasm'));
    const plugin = (await instantiate(module, 'processor', host(), limits)) as InThreadProcessorInstance;
    plugin.configure(JSON.stringify({ bytes: MIB, reads: 20 }));
    return plugin;
  };

  it('20 reads of a 1 MiB state value breach a budget below what moving them costs and pass one above it, with fuel used above the bytes moved', async () => {
    const small = await instance(fuelLimits(Number(10n * BigInt(MIB * FUEL_PER_HOST_BYTE))));
    expect(hasCode(breachOf(() => small.process([])), 'WEIR_LIMIT_CPU')).toBe(true);
    const large = await instance(fuelLimits(Number(40n * BigInt(MIB * FUEL_PER_HOST_BYTE))));
    const before = large.usage().fuelUsed;
    expect(large.process([])).toEqual([]);
    expect(large.usage().fuelUsed - before).toBeGreaterThanOrEqual(21n * BigInt(MIB * FUEL_PER_HOST_BYTE));
  }, 60_000);
});
