// The implementations a benchmark compares, all doing the same work: upper-case
// the ASCII letters of every record's value, keeping key, headers and event time.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../dist/engine/engine.js';
import { buildPlugin } from '../dist/build/plugin-build.js';
import { createHostContext } from '../dist/linker/host-context.js';
import { MemoryKeyedState } from '../dist/state/keyed-state.js';
import { decodeBatch, encodeBatch } from '../dist/records/batch-codec.js';
import { pino } from 'pino';
import { createHash } from 'node:crypto';
import { DEFAULT_LIMITS, instanceLimits } from '../dist/contract/limits.js';
import { instantiate } from '../dist/instance/instantiate.js';

/**
 * The ABI comparisons run without a CPU limit (the memory cap stays): the
 * overhead of each CPU-limit mode is measured on its own (bench/limits.js).
 */
export const BENCH_LIMITS = instanceLimits({ ...DEFAULT_LIMITS, cpu: { mode: 'none' } });

const NO_USAGE = { calls: 0, fuelUsed: 0n, callMs: 0, memoryPagesHighWater: 0 };

const here = import.meta.dirname;

/**
 * The transform in plain JavaScript: the physical limit of the same engine.
 * Written as a careful JS author would: one output buffer per batch, values
 * as views into it (allocating a typed array per record costs more than the work).
 */
export function upperRecords(batch) {
  let total = 0;
  for (let i = 0; i < batch.length; i++) total += batch[i].value.byteLength;
  const block = new Uint8Array(total);
  const out = new Array(batch.length);
  let at = 0;
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i];
    const src = r.value;
    for (let j = 0; j < src.length; j++) {
      const c = src[j];
      block[at + j] = c >= 97 && c <= 122 ? c - 32 : c;
    }
    out[i] = { key: r.key, value: block.subarray(at, at + src.length), headers: r.headers, eventTime: r.eventTime };
    at += src.length;
  }
  return out;
}

/**
 * Creates an instance of `module` as the host does, or from its factory for a
 * stand-in module (see {@link moduleFromFactory}); pass it where the host's
 * `instantiate` goes (PipelineRun's `instantiate`).
 */
export function benchInstantiate(module, ...args) {
  return module.standIn ? module.standIn(...args) : instantiate(module, ...args);
}

/**
 * A stand-in PluginModule whose instances come from a factory, called with
 * what `instantiate` takes after the module (kind, host, limits); for
 * implementations the engine does not load, or calls differently;
 * {@link benchInstantiate} creates them.
 */
function moduleFromFactory(name, factory) {
  return {
    file: name,
    sha256: createHash('sha256').update(name).digest('hex'),
    size: 0,
    binary: 'module',
    exports: ['process'],
    imports: [],
    cacheHit: false,
    transpileMs: 0,
    check: () => [],
    standIn: async (...args) => ({ usage: () => NO_USAGE, ...(await factory(...args)) }),
  };
}

/** A host context for benchmark instances: silent logs, in-memory state, no services. */
export function benchHost(name) {
  return createHostContext({
    node: name,
    plugin: name,
    config: {},
    logger: pino({ level: 'silent' }),
    state: new MemoryKeyedState(),
    metrics: { counters: new Map(), gauges: new Map() },
    callService: () => {
      throw new Error('no services in benchmarks');
    },
  });
}

/**
 * Builds every implementation into `workDir` and returns them, each as
 * `{ id, label, available, note, module }` where `module` is a PluginModule a
 * pipeline can run, plus `packed` for implementations measured with one packed
 * buffer per call.
 */
export async function prepareImplementations(workDir, log) {
  await mkdir(workDir, { recursive: true });
  const cacheDir = join(workDir, 'cache');
  const engine = new Engine({ cacheDir });
  const impls = [];
  const add = (impl) => impls.push({ available: true, note: '', ...impl });
  const unavailable = (id, label, error) => impls.push({ id, label, available: false, note: String(error?.message ?? error).split('\n')[0] });

  add({
    id: 'js-function',
    label: 'plain JS function',
    module: moduleFromFactory('js-function', () => ({ kind: 'processor', configure() {}, process: upperRecords, close() {} })),
  });

  try {
    const built = await buildPlugin(join(here, 'plugins/upper-as'), workDir);
    add({ id: 'assemblyscript', label: 'AssemblyScript module (packed ABI)', module: await engine.load(built.outFile) });
  } catch (error) {
    unavailable('assemblyscript', 'AssemblyScript module (packed ABI)', error);
  }

  const rustFile = join(workDir, 'upper-rust.wasm');
  try {
    const committed = join(here, 'plugins/upper-rust/upper-rust.wasm');
    try {
      const { buildRustComponent } = await import('./plugins/upper-rust/build.js');
      await buildRustComponent({ outFile: rustFile });
    } catch (error) {
      if (!existsSync(committed)) throw error;
      log(`cannot build the Rust plugin (${String(error.message).split('\n')[0]}): using the committed bench/plugins/upper-rust/upper-rust.wasm`);
      await writeFile(rustFile, await readFile(committed));
    }
    const rust = await engine.load(rustFile);
    add({ id: 'rust', label: 'Rust component (process-packed, as host run calls it)', module: rust });
    // The same component as a component without the packed export would be called: the typed
    // process(list<record>), whose every field jco lifts and lowers (the engine's own instance:
    // its loader, limits, fuel and memory cap).
    add({
      id: 'rust-typed',
      label: 'Rust component, typed process (list<record>)',
      module: moduleFromFactory('rust-typed', async (kind, host, limits) => {
        const { processPacked, ...typed } = await instantiate(rust, kind, host, limits);
        if (!processPacked) throw new Error(`${rustFile} does not export process-packed`);
        return typed;
      }),
    });
  } catch (error) {
    unavailable('rust', 'Rust component', error);
  }

  try {
    const { buildJsComponents } = await import('./plugins/upper-js/build.js');
    await buildJsComponents({ outDir: workDir });
    add({ id: 'js-qjs', label: 'JS component (componentize-qjs, processBatch: packed batch, native toUpperCase)', module: await engine.load(join(workDir, 'upper-js-qjs.wasm')) });
    try {
      const sm = await engine.load(join(workDir, 'upper-js-sm.wasm'));
      const problems = sm.check('processor');
      if (problems.length > 0) throw new Error(problems.join('; '));
      add({ id: 'js-sm', label: 'JS component (componentize-js, typed process, byte loop)', module: sm });
    } catch (error) {
      unavailable('js-sm', 'JS component (componentize-js)', error);
    }
  } catch (error) {
    unavailable('js-qjs', 'JS components', error);
  }

  try {
    const { buildExtismPlugin } = await import('./plugins/upper-extism/build.js');
    const { createExtismUpper } = await import('./plugins/upper-extism/run.js');
    const file = join(workDir, 'upper-extism.wasm');
    await buildExtismPlugin({ outFile: file });
    const bytes = await readFile(file);
    add({
      id: 'extism',
      label: 'Extism plugin (@extism/extism)',
      module: moduleFromFactory('extism', async () => {
        const plugin = await createExtismUpper(bytes);
        return { kind: 'processor', configure() {}, process: async (batch) => decodeBatch(await plugin.call(encodeBatch(batch))), close: () => plugin.close() };
      }),
    });
  } catch (error) {
    unavailable('extism', 'Extism plugin', error);
  }
  return impls;
}
