/**
 * The engine loads plugin files into {@link PluginModule}s: it reads and
 * hashes the bytes, tells a component from a core module, transpiles
 * components through the on-disk {@link TranspileCache}, and compiles every
 * core module itself, instrumented for the instance's limits (memory cap,
 * grow hook, fuel): once per engine and limits, shared by all instances.
 * It compiles and caches only: instance/instantiate.ts links a module into
 * a running instance.
 *
 * Vocabulary follows wasmtime: one Engine per process, a PluginModule per
 * plugin file, one PluginInstance per node instance.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { WeirError, messageOf } from '../errors/errors.js';
import { detectBinaryKind } from './binary-kind.js';
import type { BinaryKind } from './binary-kind.js';
import { TranspileCache, processWarning } from './transpile-cache.js';
import type { CacheWarning } from './transpile-cache.js';
import { checkComponentWorld, componentCapabilityProblems } from './component-world.js';
import { loadComponentCode } from './component-code.js';
import type { JcoInstantiate } from './component-code.js';
import { checkCoreModuleWorld, coreCapabilityProblems } from './core-module-world.js';
import type { PluginKind } from '../contract/plugin.js';
import type { InstanceLimits } from '../contract/limits.js';
import { maxTableElements } from '../contract/limits.js';
import type { CapabilityGrants } from '../contract/grants.js';
import { DirectoryUsages } from '../linker/directory-quota.js';
import { INSTRUMENT_VERSION, InitialMemoryOverCapError, InitialTableOverCapError, instrumentModule } from '../sandbox/instrument/instrument.js';
import { MalformedModuleError } from '../sandbox/instrument/wasm-bytes.js';
import { cpuModeOf } from '../sandbox/cpu-mode.js';

/** Compiles one core module of a component, by the file name jco gives it. */
export type CoreModuleCompiler = (name: string) => Promise<WebAssembly.Module>;

/** What the engine a module was loaded by gives its instances. */
export interface EngineContext {
  /** The cache folder; a worker thread loads the same file again through it. */
  readonly cacheDir: string;
  /** Where cache write failures are reported. */
  readonly warn: CacheWarning;
  /** The granted folders' usage counts of this engine's thread, shared by every instance it runs (see DirectoryUsages). */
  readonly directories: DirectoryUsages;
}

/** What every loaded plugin file has, component or core module. */
interface LoadedPlugin {
  readonly file: string;
  readonly sha256: string;
  readonly size: number;
  readonly binary: BinaryKind;
  readonly engine: EngineContext;
  /** Export names (component exports, or core module exports). */
  readonly exports: readonly string[];
  /** Imports (component interfaces, or `module.name` of a core module). */
  readonly imports: readonly string[];
  /** For components: whether the transpiled form came from the cache. */
  readonly cacheHit: boolean;
  /** Milliseconds spent transpiling (0 on a cache hit or for core modules). */
  readonly transpileMs: number;
  /** Problems that keep this plugin from filling a node of `kind` that grants `grants`; empty if it fits. */
  check(kind: PluginKind, grants?: CapabilityGrants): string[];
  /** The imports of this plugin that `grants` does not cover (part of what {@link check} finds). */
  denied(grants: CapabilityGrants): string[];
  /**
   * Compiles every core module of the plugin for `limits` ahead of
   * instantiation, so that instantiating runs only the guest's own start
   * code (a worker times that part).
   */
  prepare(limits: InstanceLimits): Promise<void>;
}

/** A loaded component: its generated code and its core modules, compiled per limits. */
export interface ComponentModule extends LoadedPlugin {
  readonly binary: 'component';
  /** The component's generated code, evaluated once per module (a failed load is tried again on the next call). */
  code(): Promise<JcoInstantiate>;
  /** Compiles the component's core modules instrumented for `limits`, once per engine and limits. */
  compilerFor(limits: InstanceLimits): CoreModuleCompiler;
}

/** A loaded core module, compiled per limits. */
export interface CorePluginModule extends LoadedPlugin {
  readonly binary: 'module';
  /** The module compiled and instrumented for `limits`, once per engine and limits. */
  compiled(limits: InstanceLimits): Promise<WebAssembly.Module>;
}

/**
 * A loaded plugin file, ready to be checked against a world and instantiated
 * (instance/instantiate.ts).
 */
export type PluginModule = ComponentModule | CorePluginModule;

/** Engine settings. */
export interface EngineOptions {
  /** Folder of the transpile cache; see {@link defaultCacheDir}. */
  cacheDir: string;
  /**
   * Compiled modules kept in memory for new instances, least recently used
   * first out (default 64). Hot reload brings a new build each time; without
   * a bound a long run would keep every build it ever saw. An evicted module
   * is compiled again when next needed (components from the disk cache).
   */
  keepCompiled?: number;
  /** Most bytes the transpile cache keeps on disk (default `$WEIR_CACHE_MAX_MB` or 256 MiB); see {@link TranspileCache}. */
  cacheMaxBytes?: number;
  /**
   * Where failed cache writes are reported (default: a process warning); they
   * never fail a load. Plugin worker threads (cpu mode `worker`) send theirs
   * here too.
   */
  warn?: CacheWarning;
}

/** Compiled modules kept by default (see `EngineOptions.keepCompiled`). */
export const KEEP_COMPILED = 64;

export { defaultCacheDir } from './cache-dir.js';

/** Loads and compiles plugins; one per process, shared by every node. */
export class Engine {
  readonly #cache: TranspileCache;
  readonly #compiled = new Map<string, Promise<WebAssembly.Module>>();

  readonly #cacheDir: string;
  readonly #keepCompiled: number;
  readonly #warn: CacheWarning;
  readonly #context: EngineContext;

  constructor(options: EngineOptions) {
    this.#cacheDir = options.cacheDir;
    this.#keepCompiled = options.keepCompiled ?? KEEP_COMPILED;
    this.#warn = options.warn ?? processWarning;
    this.#context = { cacheDir: this.#cacheDir, warn: this.#warn, directories: new DirectoryUsages() };
    this.#cache = new TranspileCache(join(options.cacheDir, 'components'), { maxBytes: options.cacheMaxBytes, warn: this.#warn });
  }

  /** Reads, hashes and prepares a plugin file. */
  async load(file: string): Promise<PluginModule> {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await readFile(file);
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new WeirError('WEIR_PLUGIN_NOT_FOUND', missing ? `plugin file ${file} does not exist` : `cannot read plugin ${file}: ${messageOf(error)}`, { file }, { cause: error });
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const binary = detectBinaryKind(bytes, file);
    return binary === 'component' ? this.#loadComponent(file, bytes, sha256) : this.#loadCoreModule(file, bytes, sha256);
  }


  async #loadComponent(file: string, bytes: Uint8Array, sha256: string): Promise<ComponentModule> {
    const transpiled = await this.#cache.get(bytes, sha256, file);
    // Evaluated once per loaded plugin, on first use; collected with the PluginModule (component-code.ts).
    let code: Promise<JcoInstantiate> | undefined;
    // Core modules are read through `transpiled`, which creates its cache entry again if it was evicted meanwhile.
    const compilerFor = (limits: InstanceLimits): CoreModuleCompiler => (name) =>
      this.#compileLimited(`${sha256}/${name}`, limits, file, () => transpiled.read(name), () => transpiled.dir && join(transpiled.dir, 'sandboxed'));
    return {
      file,
      sha256,
      size: bytes.byteLength,
      binary: 'component',
      engine: this.#context,
      exports: transpiled.exports,
      imports: transpiled.imports,
      cacheHit: transpiled.cacheHit,
      transpileMs: transpiled.transpileMs,
      check: (kind, grants) => checkComponentWorld(transpiled, kind, grants),
      denied: (grants) => componentCapabilityProblems(transpiled, grants),
      prepare: async (limits) => {
        const compile = compilerFor(limits);
        await Promise.all(transpiled.coreModules.map((name) => compile(name)));
      },
      code: () => {
        // A failed load is not kept: the next instantiation tries again.
        code ??= loadComponentCode(transpiled.jsFile, () => transpiled.readJs()).catch((error: unknown) => {
          code = undefined;
          throw error;
        });
        return code;
      },
      compilerFor,
    };
  }

  async #loadCoreModule(file: string, bytes: Uint8Array<ArrayBuffer>, sha256: string): Promise<CorePluginModule> {
    const module = await this.#compileOnce(sha256, () => compileCoreModule(bytes, file));
    const compiled = (limits: InstanceLimits): Promise<WebAssembly.Module> => this.#compileLimited(sha256, limits, file, async () => bytes);
    return {
      file,
      sha256,
      size: bytes.byteLength,
      binary: 'module',
      engine: this.#context,
      exports: WebAssembly.Module.exports(module).map((e) => e.name),
      imports: WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`),
      cacheHit: false,
      transpileMs: 0,
      check: (kind, grants) => checkCoreModuleWorld(module, kind, grants),
      denied: (grants) => coreCapabilityProblems(module, grants),
      prepare: async (limits) => {
        await compiled(limits);
      },
      compiled,
    };
  }

  /**
   * Compiles a core module instrumented for `limits`, once per module and
   * limits. With `cacheDir` (a folder, or undefined for none), the
   * instrumented bytes are kept on disk too (instrumenting QuickJS's 1.3 MB
   * runtime takes about 100 ms).
   */
  #compileLimited(key: string, limits: InstanceLimits, file: string, read: () => Promise<Uint8Array>, cacheDir?: () => string | undefined): Promise<WebAssembly.Module> {
    const fuel = cpuModeOf(limits.cpuMode).fuelOf(limits);
    // The rewritten bytes depend on whether fuel is metered, not on the budget (the host fills the fuel global per call).
    const variant = `${limits.memoryPages}-${fuel === undefined ? 'unmetered' : 'metered'}-v${INSTRUMENT_VERSION}`;
    return this.#compileOnce(`${key}:${variant}`, async () => {
      const folder = cacheDir?.();
      const cached = folder && join(folder, `${basename(key)}.${variant}.wasm`);
      if (cached) {
        const bytes = await readFile(cached).catch(() => undefined);
        if (bytes) return compileCoreModule(bytes, file);
      }
      let instrumented;
      try {
        instrumented = instrumentModule(await read(), { maxMemoryPages: limits.memoryPages, maxTableElements: maxTableElements(limits.memoryPages), fuel });
      } catch (error) {
        if (error instanceof InitialMemoryOverCapError) {
          throw new WeirError('WEIR_LIMIT_MEMORY', `${file}: ${error.message}; raise limits.memoryMb`, { plugin: file, limit: 'memory', capPages: limits.memoryPages, pages: error.initialPages }, { cause: error });
        }
        if (error instanceof InitialTableOverCapError) {
          throw new WeirError('WEIR_LIMIT_MEMORY', `${file}: ${error.message}; raise limits.memoryMb (each table may hold 4096 elements per MiB)`, { plugin: file, limit: 'table', maxElements: error.maxElements, elements: error.initialElements }, { cause: error });
        }
        if (error instanceof MalformedModuleError) {
          throw new WeirError('WEIR_PLUGIN_INVALID_BINARY', `${file} cannot be sandboxed: ${error.message}`, { plugin: file }, { cause: error });
        }
        throw error;
      }
      // Kept on disk while it compiles: each step waits for a turn of a busy event loop (a reload while a pipeline runs).
      const [module] = await Promise.all([compileCoreModule(instrumented.bytes, file), cached && writeAtomically(cached, instrumented.bytes, this.#warn)]);
      return module;
    });
  }

  /** Compiled modules held in memory now (at most `keepCompiled`). */
  get compiledModules(): number {
    return this.#compiled.size;
  }

  #compileOnce(key: string, compile: () => Promise<WebAssembly.Module>): Promise<WebAssembly.Module> {
    let compiled = this.#compiled.get(key);
    if (compiled) {
      // Most recently used goes last: the Map's order is the eviction order.
      this.#compiled.delete(key);
    } else {
      compiled = compile();
      compiled.catch(() => {
        if (this.#compiled.get(key) === compiled) this.#compiled.delete(key);
      });
    }
    this.#compiled.set(key, compiled);
    for (const oldest of this.#compiled.keys()) {
      if (this.#compiled.size <= this.#keepCompiled) break;
      this.#compiled.delete(oldest);
    }
    return compiled;
  }
}

/** Writes `bytes` to `file` through a temporary name, so a reader never sees half a file; a failure only costs the cache (and is reported). */
async function writeAtomically(file: string, bytes: Uint8Array, warn: CacheWarning): Promise<void> {
  const staging = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(staging, bytes);
    await rename(staging, file);
  } catch (error) {
    warn({ path: file, cause: messageOf(error) }, 'cache: cannot keep a sandboxed module on disk; it is instrumented again next time');
    await rm(staging, { force: true }).catch(() => {});
  }
}

async function compileCoreModule(bytes: Uint8Array<ArrayBuffer>, file: string): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes);
  } catch (error) {
    throw new WeirError('WEIR_PLUGIN_INVALID_BINARY', `${file} is not a valid WebAssembly module: ${messageOf(error)}`, { file }, { cause: error });
  }
}
