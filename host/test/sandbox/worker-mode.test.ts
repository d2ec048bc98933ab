/**
 * Cpu mode `worker` when the worker thread itself goes wrong: a blocking
 * instance (any kind but processor, called synchronously) whose thread dies
 * during a call fails the call at once with `WEIR_PLUGIN_TRAP`, not after
 * `timeoutMs` as a runaway call (`WEIR_LIMIT_CPU`).
 *
 * The plugin is a core-module aggregator written inline as WAT; the thread
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
import { DEFAULT_LIMITS, instanceLimits } from '../../src/sandbox/limits.js';
import type { AggregatorInstance } from '../../src/sandbox/plugin.js';
import { BlockingWorkerInstance } from '../../src/sandbox/worker/blocking-worker.js';
import { workerEntry } from '../../src/sandbox/worker/plugin-worker.js';

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

const quietHost = () =>
  createHostContext({
    node: 'n', plugin: 'p', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
    metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
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
