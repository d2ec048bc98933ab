/**
 * Each failure has its own code and names its node: a call on a closed
 * instance (`WEIR_INSTANCE_CLOSED`, in-thread and in a worker), a failed build
 * (`WEIR_PLUGIN_BUILD_FAILED`), a start function that traps (the node in the
 * message and details). Errors cross threads through one wire form.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import binaryen from 'binaryen';
import { Engine } from '../../src/engine/engine.js';
import { instantiate } from '../../src/instance/instantiate.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { ProcessorInstance } from '../../src/contract/plugin.js';
import { WeirError } from '../../src/errors/errors.js';
import { fromWireError, toWireError } from '../../src/errors/wire.js';
import { buildPlugin } from '../../src/build/plugin-build.js';
import { findRustc } from '../../src/build/rust-build.js';
import { buildFixtures } from '../fixtures/build-fixtures.js';

let fixtures: string;
let cacheDir: string;

beforeAll(async () => {
  fixtures = await buildFixtures('probe-as');
  cacheDir = await mkdtemp(join(tmpdir(), 'weir-cache-'));
});

const hostFor = (node: string) =>
  createHostContext({
    node, plugin: 'p.wasm', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
    metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
  });

/** The exports a core-module processor needs, doing nothing: the end of a test module's text. */
const PROCESSOR_EXPORTS = `(func (export "weir_abi_version") (result i32) i32.const 1)
      (func (export "weir_alloc") (param i32) (result i32) i32.const 0)
      (func (export "weir_configure") (param i32 i32) (result i32) i32.const 0)
      (func (export "weir_process") (param i32 i32) (result i32) i32.const 0)
      (func (export "weir_output_ptr") (result i32) i32.const 0)
      (func (export "weir_output_len") (result i32) i32.const 0)`;

/** Writes the module of `wat` to a fresh folder as `NAME.wasm` and loads it. */
async function loadWat(name: string, wat: string) {
  const parsed = binaryen.parseText(wat);
  const dir = await mkdtemp(join(tmpdir(), 'weir-start-'));
  await writeFile(join(dir, `${name}.wasm`), parsed.emitBinary());
  parsed.dispose();
  return new Engine({ cacheDir }).load(join(dir, `${name}.wasm`));
}

async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<WeirError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    return error as WeirError;
  }
  throw new Error('expected a failure');
}

describe('a closed instance', () => {
  it.each(['fuel', 'worker'] as const)('refuses calls with WEIR_INSTANCE_CLOSED (cpu mode %s)', async (mode) => {
    const module = await new Engine({ cacheDir }).load(join(fixtures, 'probe-as.wasm'));
    const limits = instanceLimits({ ...DEFAULT_LIMITS, cpu: { mode } });
    const plugin = (await instantiate(module, 'processor', hostFor('n'), limits)) as ProcessorInstance;
    await plugin.configure('{}');
    plugin.close();
    const error = await rejection(() => plugin.process([]));
    expect(error.code).toBe('WEIR_INSTANCE_CLOSED');
    expect(error.details).toMatchObject({ node: 'n' });
  });
});

describe('a failed build', () => {
  it('is WEIR_PLUGIN_BUILD_FAILED with the compiler output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weir-broken-'));
    await mkdir(join(dir, 'assembly'));
    await writeFile(join(dir, 'plugin.json'), JSON.stringify({ name: 'broken', kind: 'processor', lang: 'as', entry: 'assembly/index.ts' }));
    await writeFile(join(dir, 'assembly', 'index.ts'), 'export function f(): i32 { return "not a number"; }\n');
    const error = await rejection(buildPlugin(dir, dir));
    expect(error.code).toBe('WEIR_PLUGIN_BUILD_FAILED');
    expect(error.details).toMatchObject({ plugin: 'broken' });
  });

  it('without a toolchain is WEIR_PLUGIN_BUILD_FAILED saying what to install', async () => {
    const error = await rejection(findRustc({}, ['/nonexistent/rustc']));
    expect(error.code).toBe('WEIR_PLUGIN_BUILD_FAILED');
    expect(error.message).toContain('install a Rust compiler');
  });
});

describe('a start function that traps', () => {
  it('fails instantiation naming the node', async () => {
    const wat = `(module
      (memory (export "memory") 1)
      (func $start unreachable)
      (start $start)
      ${PROCESSOR_EXPORTS})`;
    const module = await loadWat('start-trap', wat);
    const error = await rejection(instantiate(module, 'processor', hostFor('early'), instanceLimits(DEFAULT_LIMITS)));
    expect(error.code).toBe('WEIR_PLUGIN_LOAD_FAILED');
    expect(error.message).toContain('node "early"');
    expect(error.details).toMatchObject({ node: 'early' });
  });

  it('that calls a host function passing bytes fails instantiation saying so (its memory is not there yet)', async () => {
    const wat = `(module
      (import "weir" "counter_add" (func $counter (param i32 i32 i64)))
      (memory (export "memory") 1)
      (data (i32.const 0) "started")
      (func $start (call $counter (i32.const 0) (i32.const 7) (i64.const 1)))
      (start $start)
      ${PROCESSOR_EXPORTS})`;
    const module = await loadWat('start-metric', wat);
    const error = await rejection(instantiate(module, 'processor', hostFor('early'), instanceLimits(DEFAULT_LIMITS)));
    expect(error.code).toBe('WEIR_PLUGIN_LOAD_FAILED');
    expect(error.details).toMatchObject({ node: 'early' });
    expect(error.message).toContain('node "early"');
    expect(error.message).toContain('from its start function (top-level code)');
    expect(error.message).toContain('make that call in configure or later');
  });
});

describe('the wire form of errors', () => {
  it('keeps code, message and details of a WeirError, and gives anything else the fallback code', () => {
    const original = new WeirError('WEIR_HTTP_DENIED', 'not granted', { node: 'n', kind: 'invalid-input' });
    const back = fromWireError(structuredClone(toWireError(original, { code: 'WEIR_PLUGIN_TRAP' })));
    expect(back).toBeInstanceOf(WeirError);
    expect(back.toJSON()).toEqual(original.toJSON());
    expect(toWireError(new Error('boom'), { code: 'WEIR_PLUGIN_TRAP', details: { node: 'n' } })).toEqual({ code: 'WEIR_PLUGIN_TRAP', message: 'boom', details: { node: 'n' } });
  });
});
