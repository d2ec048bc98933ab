/**
 * Cpu mode `worker` at the edges of a call:
 * - a start function that calls the host while the worker instantiates the
 *   plugin gets its answer (the instance starts, the call has its effect),
 *   rather than hanging until `timeoutMs` and failing as `WEIR_LIMIT_CPU`;
 * - a blocking instance (any kind but processor, called synchronously) whose
 *   thread dies during a call fails the call at once with
 *   `WEIR_PLUGIN_TRAP`, not after `timeoutMs` as a runaway call.
 *
 * The plugins are written inline as WAT: a component whose start function
 * sets a state key, and a core-module aggregator; the dying thread
 * misbehaves through a wrapper around the real worker entry (a `data:`
 * module that puts itself between the host port and the entry's listener).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { hasCode } from '../../src/errors/errors.js';
import type { WeirError } from '../../src/errors/errors.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { AggregatorInstance } from '../../src/contract/plugin.js';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { BlockingWorkerInstance } from '../../src/instance/worker/blocking-worker.js';
import { workerEntry } from '../../src/instance/worker/plugin-worker.js';

/** A budget far longer than the test's own timeout: only a prompt detection passes. */
const LIMITS = instanceLimits({ ...DEFAULT_LIMITS, cpu: { mode: 'worker' }, timeoutMs: 10 * 60_000 });

const AGGREGATOR_WAT = `(module
  (memory (export "memory") 1)
  (func (export "weir_abi_version") (result i32) i32.const 1)
  (func (export "weir_alloc") (param i32) (result i32) i32.const 1024)
  (func (export "weir_output_ptr") (result i32) i32.const 0)
  (func (export "weir_output_len") (result i32) i32.const 0)
  (func (export "weir_configure") (param i32 i32) (result i32) i32.const 0)
  (func (export "weir_accumulate") (param i32 i32) (result i32) i32.const 0)
  (func (export "weir_merge") (param i32 i32) (result i32) i32.const 0)
  (func (export "weir_emit") (param i32 i32) (result i32) i32.const 0))`;

/**
 * A service component whose second core instance has a start function that
 * calls `weir:plugin/state.set("boot", "ok")`, its memory being the first
 * instance's (so the call can be lowered while the component instantiates).
 */
const START_CALLS_HOST_WAT = `(component
  (import "weir:plugin/state@0.1.0" (instance $state
    (export "set" (func (param "key" (list u8)) (param "value" (list u8))))))
  (core module $Main
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 256)
    (func (export "configure") (param i32 i32))
    (func (export "call") (param i32 i32 i32 i32) (result i32) i32.const 512))
  (core instance $main (instantiate $Main))
  (alias core export $main "memory" (core memory $mem))
  (alias core export $main "realloc" (core func $realloc))
  (alias core export $main "configure" (core func $configure))
  (alias core export $main "call" (core func $call))
  (core func $set (canon lower (func $state "set") (memory $mem)))
  (core module $Init
    (import "host" "memory" (memory 1))
    (import "host" "set" (func $set (param i32 i32 i32 i32)))
    (data (i32.const 64) "boot")
    (data (i32.const 72) "ok")
    (func $start (call $set (i32.const 64) (i32.const 4) (i32.const 72) (i32.const 2)))
    (start $start))
  (core instance (instantiate $Init (with "host" (instance (export "memory" (memory $mem)) (export "set" (func $set))))))
  (func (export "configure") (param "config" string)
    (canon lift (core func $configure) (memory $mem) (realloc $realloc)))
  (func (export "call") (param "method" string) (param "payload" (list u8)) (result (list u8))
    (canon lift (core func $call) (memory $mem) (realloc $realloc))))`;

const quietHost = (state = new MemoryKeyedState()) =>
  createHostContext({
    node: 'n', plugin: 'p', config: {}, logger: pino({ level: 'silent' }), state,
    metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
  });

describe('a start function that calls the host', () => {
  it.each(['worker', 'fuel'] as const)('is answered while the plugin instantiates: the instance starts and the call has its effect (cpu mode %s)', async (mode) => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-start-calls-host-'));
    const file = join(dir, 'start-calls-host.wasm');
    await writeFile(file, await parse(START_CALLS_HOST_WAT));
    const module = await new Engine({ cacheDir: dir }).load(file);
    const state = new MemoryKeyedState();
    // timeoutMs far beyond the test's timeout: an unanswered call cannot pass as a slow start.
    const limits = instanceLimits({ ...DEFAULT_LIMITS, cpu: { mode }, timeoutMs: 10 * 60_000 });
    const instance = await instantiate(module, 'service', quietHost(state), limits);
    try {
      expect(new TextDecoder().decode(state.get(new TextEncoder().encode('boot')))).toBe('ok');
    } finally {
      instance.close();
    }
  }, 30_000);
});

/** The worker entry, wrapped so that the thread runs `crash` instead of the instance's `fn` when that is called. */
function crashingEntry(fn: string, crash: string): URL {
  const source = `import { workerData } from 'node:worker_threads';
const port = workerData.hostPort;
const on = port.on.bind(port);
port.on = (event, listener) => on(event, (message) => {
  if (message.op === 'invoke' && message.fn === ${JSON.stringify(fn)}) { ${crash} }
  listener(message);
});
await import(${JSON.stringify(workerEntry().href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

const record = () => ({ key: undefined, value: new TextEncoder().encode('x'), headers: [], eventTime: 1n });

describe('a blocking worker whose thread dies during a call', () => {
  let file: string;
  let cacheDir: string;

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-worker-mode-'));
    file = join(dir, 'aggregator.wasm');
    await writeFile(file, await parse(AGGREGATOR_WAT));
    cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
  });

  it.each([
    ['process.exit in the thread', 'process.exit(70);', /exited with code 70/],
    ['an uncaught error in the thread', 'throw new RangeError("the thread broke");', /RangeError: the thread broke/],
  ])('fails at once with WEIR_PLUGIN_TRAP, not WEIR_LIMIT_CPU after timeoutMs (%s)', async (_how, crash, says) => {
    const instance = (await BlockingWorkerInstance.start({ kind: 'aggregator', file, cacheDir, host: quietHost(), limits: LIMITS, entry: crashingEntry('accumulate', crash) })) as AggregatorInstance;
    try {
      instance.configure('{}');
      const outcome = (() => {
        try {
          instance.accumulate(undefined, record());
          return undefined;
        } catch (error) {
          return error as WeirError;
        }
      })();
      expect(hasCode(outcome, 'WEIR_PLUGIN_TRAP'), String(outcome)).toBe(true);
      expect(outcome!.message).toMatch(/worker thread of p \(node "n"\) died during accumulate/);
      expect(outcome!.message).toMatch(says);
      expect(outcome!.details).toMatchObject({ node: 'n', plugin: 'p', function: 'accumulate' });
      // The instance is poisoned: the next call is refused at once rather than sent to a dead thread.
      expect(() => instance.accumulate(undefined, record())).toThrow(/poisoned/);
    } finally {
      instance.close();
    }
  }, 30_000);
});
