/**
 * A host-side limit cannot be caught by the guest. With wasm exception
 * handling a JS exception thrown by a host function (the state cap, the
 * metric-name cap) is catchable in wasm (`catch_all`, `try_table`); a guest
 * that swallowed it used to carry on and return normally. The call must
 * still end in the limit's error, poison the instance, and no host function
 * may run again in that call.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { instantiateCorePlugin } from '../../src/instance/core-module-instance.js';
import { instantiateComponent } from '../../src/instance/component-instance.js';
import type { JcoInstantiate } from '../../src/engine/component-code.js';
import { hasCode } from '../../src/errors/errors.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { CpuMode, InstanceLimits } from '../../src/contract/limits.js';
import { instrumentModule } from '../../src/sandbox/instrument/instrument.js';
import { InstanceMeter } from '../../src/sandbox/meter.js';
import { CallGuard } from '../../src/sandbox/call-guard.js';
import { chargedComponentImports } from '../../src/linker/host-call-fuel.js';
import { componentImports } from '../../src/linker/component-imports.js';
import { DirectoryUsages } from '../../src/linker/directory-quota.js';

const limitsIn = (cpuMode: CpuMode): InstanceLimits => ({ ...instanceLimits(DEFAULT_LIMITS), cpuMode, fuel: 1_000_000_000n });

/** Wraps `call` so the guest catches whatever it throws: the legacy `try ... catch_all` or a `try_table`. */
const CATCHERS = {
  'try/catch_all': (call: string) => `try ${call} catch_all end`,
  'try_table catch_all': (call: string) => `(block $caught (try_table (catch_all $caught) ${call}))`,
};

/**
 * A core-module processor whose process runs `breach` (a host call that
 * crosses a limit) under a catch-all, then, also under a catch-all, stores
 * "k" = "after", and returns success.
 */
const swallower = (catcher: (call: string) => string, breach: string) => parse(`(module
  (import "weir" "state_set" (func $set (param i32 i32 i32 i32)))
  (import "weir" "counter_add" (func $count (param i32 i32 i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "kafter")
  (func (export "weir_abi_version") (result i32) i32.const 1)
  (func (export "weir_alloc") (param i32) (result i32) i32.const 4096)
  (func (export "weir_configure") (param i32 i32) (result i32) i32.const 0)
  (func (export "weir_output_ptr") (result i32) i32.const 16)
  (func (export "weir_output_len") (result i32) i32.const 4)
  (func (export "weir_process") (param i32 i32) (result i32)
    ${catcher(breach)}
    ${catcher('(call $set (i32.const 0) (i32.const 1) (i32.const 1) (i32.const 5))')}
    i32.const 0))`);

/** A metric name of 300 characters: above the 200 the host accepts (WEIR_LIMIT_METRICS). */
const LONG_METRIC_NAME = '(call $count (i32.const 100) (i32.const 300) (i64.const 1))';
/** A 1000-byte value, above the node's state cap of 100 bytes (WEIR_LIMIT_STATE). */
const BIG_STATE_VALUE = '(call $set (i32.const 0) (i32.const 1) (i32.const 100) (i32.const 1000))';

async function run(wasm: Uint8Array, cpuMode: CpuMode) {
  const limits = limitsIn(cpuMode);
  const state = new MemoryKeyedState({ maxBytes: 100, maxKeys: 10 });
  const host = createHostContext({
    node: 'swallow', plugin: 'swallow.wasm', config: {}, logger: pino({ level: 'silent' }), state,
    metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
  });
  const { bytes } = instrumentModule(wasm, { maxMemoryPages: limits.memoryPages, fuel: cpuMode === 'fuel' ? limits.fuel : undefined });
  const instance = await instantiateCorePlugin(await WebAssembly.compile(bytes), 'processor', host, limits, new DirectoryUsages());
  let failure: unknown;
  try {
    instance.process([]);
  } catch (error) {
    failure = error;
  }
  const after = state.get(new TextEncoder().encode('k'));
  let next: unknown;
  try {
    instance.process([]);
  } catch (error) {
    next = error;
  }
  return { failure, after, next };
}

describe('a host-limit error the guest catches still ends the call', () => {
  for (const [name, catcher] of Object.entries(CATCHERS)) {
    for (const cpuMode of ['fuel', 'none'] as const) {
      it(`${name}, cpu mode ${cpuMode}: the metric-name cap is WEIR_LIMIT_METRICS, no host call runs after it, the instance is poisoned`, async () => {
        const { failure, after, next } = await run(await swallower(catcher, LONG_METRIC_NAME), cpuMode);
        expect(hasCode(failure, 'WEIR_LIMIT_METRICS')).toBe(true);
        expect((failure as { details: Record<string, unknown> }).details).toMatchObject({ node: 'swallow', function: 'weir_process', limit: 'metrics' });
        expect(after).toBeUndefined();
        expect(hasCode(next, 'WEIR_PLUGIN_TRAP')).toBe(true);
        expect(String(next)).toMatch(/poisoned/);
      });
    }
    it(`${name}: the state cap is WEIR_LIMIT_STATE`, async () => {
      const { failure, after } = await run(await swallower(catcher, BIG_STATE_VALUE), 'fuel');
      expect(hasCode(failure, 'WEIR_LIMIT_STATE')).toBe(true);
      expect((failure as { details: Record<string, unknown> }).details).toMatchObject({ node: 'swallow', function: 'weir_process' });
      expect(after).toBeUndefined();
    });
  }
  it('a guest that makes no host call past its limits returns normally', async () => {
    const fine = await swallower(CATCHERS['try/catch_all'], '(call $count (i32.const 100) (i32.const 10) (i64.const 1))');
    const { failure, after } = await run(fine, 'fuel');
    expect(failure).toBeUndefined();
    expect(new TextDecoder().decode(after)).toBe('after');
  });
});

describe('a host-limit error a start function catches', () => {
  it('still fails the instantiation of a component with its code, naming the node', async () => {
    // A stand-in for jco's generated code: a core module whose start function calls, under a
    // catch-all, a lowering trampoline around the metrics import with a 300-character name.
    const core = await parse(`(module
      (import "lowered" "counterAdd" (func $count))
      (func $start ${CATCHERS['try/catch_all']('(call $count)')})
      (start $start))`);
    const fake: JcoInstantiate = async (getCoreModule, imports, instantiateCore) => {
      const counterAdd = imports['weir:plugin/metrics']!.counterAdd as (name: string, delta: bigint) => void;
      await instantiateCore(await getCoreModule('core.wasm'), { lowered: { counterAdd: () => counterAdd('x'.repeat(300), 1n) } });
      return { configure: () => {}, process: () => [] };
    };
    const limits = limitsIn('fuel');
    const host = createHostContext({
      node: 'swallow', plugin: 'swallow.wasm', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
      metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
    });
    const compileCore = async () => WebAssembly.compile(instrumentModule(core, { maxMemoryPages: limits.memoryPages, fuel: limits.fuel }).bytes);
    const failure = await instantiateComponent(fake, 'processor', host, limits, compileCore, new DirectoryUsages()).catch((error: unknown) => error);
    expect(hasCode(failure, 'WEIR_LIMIT_METRICS')).toBe(true);
    expect((failure as { details: Record<string, unknown> }).details).toMatchObject({ node: 'swallow', limit: 'metrics' });
  });
});

describe('component imports: the same watch over jco\'s host functions', () => {
  it('a caught metric-name breach refuses the next host call and still ends the call in WEIR_LIMIT_METRICS', () => {
    const limits = limitsIn('fuel');
    const state = new MemoryKeyedState();
    const host = createHostContext({
      node: 'swallow', plugin: 'swallow.wasm', config: {}, logger: pino({ level: 'silent' }), state,
      metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
    });
    const meter = new InstanceMeter(limits);
    const guard = new CallGuard('swallow', 'swallow.wasm', meter);
    const imports = chargedComponentImports(componentImports(host, new DirectoryUsages()), meter);
    const counterAdd = Object.values(imports).map((i) => i.counterAdd).find((f) => typeof f === 'function') as (name: string, delta: bigint) => void;
    const stateSet = Object.values(imports).map((i) => i.set).find((f) => typeof f === 'function') as (key: Uint8Array, value: Uint8Array) => void;
    let refused: unknown;
    let failure: unknown;
    try {
      guard.run('process', () => {
        // What a guest with exception handling does: catch, carry on, return.
        try {
          counterAdd('x'.repeat(300), 1n);
        } catch {
          // swallowed
        }
        try {
          stateSet(new Uint8Array([1]), new Uint8Array([2]));
        } catch (error) {
          refused = error;
        }
        return 'ok';
      });
    } catch (error) {
      failure = error;
    }
    expect(hasCode(refused, 'WEIR_LIMIT_METRICS')).toBe(true);
    expect(state.get(new Uint8Array([1]))).toBeUndefined();
    expect(hasCode(failure, 'WEIR_LIMIT_METRICS')).toBe(true);
    expect(guard.state).toBe('poisoned');
  });
});
