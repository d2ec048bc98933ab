/**
 * A hostile component can return a list whose claimed length is huge: jco's
 * generated code reads (ptr, len) from guest memory and pushes one JS object
 * per element until it runs off the end of memory. The host rewrites the
 * generated code so that each lift loop asks a guard first (component-code.ts):
 * a list past the end of memory is WEIR_PLUGIN_BAD_OUTPUT, and an in-bounds
 * list that would lift to more than limits.maxOutputBytes is WEIR_LIMIT_OUTPUT,
 * both before anything is allocated.
 *
 * The hostile guest is a real component (the Rust field filter) whose core
 * `process` export is wrapped to overwrite the length of the list it returns.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Engine } from '../../src/engine/engine.js';
import { loadComponentCode, prepareComponentCode } from '../../src/engine/component-code.js';
import type { JcoInstantiate } from '../../src/engine/component-code.js';
import { instantiateComponent } from '../../src/instance/component-instance.js';
import { createHostContext } from '../../src/linker/host-context.js';
import { MemoryKeyedState } from '../../src/state/keyed-state.js';
import { DEFAULT_LIMITS, instanceLimits } from '../../src/contract/limits.js';
import type { InThreadProcessorInstance } from '../../src/contract/plugin.js';
import { textRecord } from '../../src/records/record.js';
import type { WeirError } from '../../src/errors/errors.js';
import { DirectoryUsages } from '../../src/linker/directory-quota.js';

const PLUGIN = join(import.meta.dirname, '../../../plugins/field-filter-rust.wasm');
let dir: string;
let jsFile: string;

beforeAll(async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), 'weir-lift-'));
  const module = await new Engine({ cacheDir }).load(PLUGIN);
  dir = join(cacheDir, 'components', module.sha256);
  jsFile = join(dir, 'plugin.js');
});

/** The component's code, with its core `process` export rewriting the returned list's length to `claim(ptr, memoryBytes)`. */
function hostile(instantiate: JcoInstantiate, claim: (ptr: number, memoryBytes: number) => number): JcoInstantiate {
  return (getCoreModule, imports, instantiateCore) =>
    instantiate(getCoreModule, imports, async (module, coreImports) => {
      const instance = await instantiateCore(module, coreImports);
      const exports = instance.exports as Record<string, unknown>;
      const name = Object.keys(exports).find((n) => /(^|#)process$/.test(n));
      const memory = exports.memory as WebAssembly.Memory | undefined;
      if (!name || !memory) return instance;
      const real = exports[name] as (...args: unknown[]) => number;
      const process = (...args: unknown[]): number => {
        const ret = real(...args);
        const view = new DataView(memory.buffer);
        if (view.getUint8(ret) === 0) view.setUint32(ret + 8, claim(view.getUint32(ret + 4, true), memory.buffer.byteLength), true);
        return ret;
      };
      return { exports: { ...exports, [name]: process } } as unknown as WebAssembly.Instance;
    });
}

async function filter(instantiate: JcoInstantiate, maxOutputBytes = DEFAULT_LIMITS.maxOutputBytes): Promise<InThreadProcessorInstance> {
  const host = createHostContext({
    node: 'filter', plugin: 'field-filter-rust.wasm', config: {}, logger: pino({ level: 'silent' }), state: new MemoryKeyedState(),
    metrics: { counters: new Map(), gauges: new Map() }, callService: () => new Uint8Array(),
  });
  const compile = async (name: string) => WebAssembly.compile(await readFile(join(dir, name)));
  const plugin = (await instantiateComponent(instantiate, 'processor', host, instanceLimits({ ...DEFAULT_LIMITS, maxOutputBytes }), compile, new DirectoryUsages())) as InThreadProcessorInstance;
  plugin.configure(JSON.stringify({ field: 'a', equals: 'b' }));
  return plugin;
}

const batch = [textRecord('{"a":"b"}')];

function processError(plugin: InThreadProcessorInstance): WeirError {
  try {
    plugin.process(batch);
  } catch (error) {
    return error as WeirError;
  }
  throw new Error('expected process to throw');
}

describe('lists lifted from a component', () => {
  it('puts a guard before every list loop of the generated code', async () => {
    const source = await readFile(jsFile, 'utf8');
    const { guardedLoops } = prepareComponentCode(source, jsFile);
    // list<record> and list<header> in the result of process, at least, and every loop there is.
    expect(guardedLoops).toBeGreaterThanOrEqual(2);
    expect(guardedLoops).toBeGreaterThanOrEqual(source.match(/for \(let i = 0; i < len\d+; i\+\+\)/g)!.length);
  });

  it('refuses generated code with a list loop of an unknown shape, rather than run it unguarded', async () => {
    const source = (await readFile(jsFile, 'utf8')).replace(/const base = (base\d+) \+ i \* (\d+);/, 'const base = $2 * i + $1;');
    expect(() => prepareComponentCode(source, jsFile)).toThrow(/unknown shape/);
  });

  it('lifts an honest result as before', async () => {
    const plugin = await filter(await loadComponentCode(jsFile));
    expect(plugin.process(batch)).toHaveLength(1);
  });

  it('refuses a claimed length that runs past the end of guest memory: WEIR_PLUGIN_BAD_OUTPUT, not a giant allocation', async () => {
    const plugin = await filter(hostile(await loadComponentCode(jsFile), () => 0x7fffffff));
    const error = processError(plugin);
    expect(error.code).toBe('WEIR_PLUGIN_BAD_OUTPUT');
    expect(error.message).toContain('runs past the end of its');
    expect(error.details).toMatchObject({ node: 'filter', function: 'process' });
    expect(plugin.process.bind(plugin, batch)).toThrow(/poisoned/);
  });

  it('refuses an in-bounds list that would lift to more than maxOutputBytes: WEIR_LIMIT_OUTPUT, instance recreated', async () => {
    // Every 48-byte record slot from the honest list to the end of memory: in bounds, and far over a 16 KiB output limit once lifted.
    const plugin = await filter(hostile(await loadComponentCode(jsFile), (ptr, bytes) => Math.floor((bytes - ptr) / 48)), 16 << 10);
    const error = processError(plugin);
    expect(error.code).toBe('WEIR_LIMIT_OUTPUT');
    expect(error.details).toMatchObject({ node: 'filter', limit: 'output', kind: 'fatal' });
    expect(plugin.process.bind(plugin, batch)).toThrow(/poisoned/);
  });
});
