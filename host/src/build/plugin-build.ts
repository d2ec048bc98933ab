/**
 * Builds a plugin source folder (with a `plugin.json`) into one `.wasm`:
 * JavaScript through componentize-qjs into a component of the world named
 * by the manifest's kind; AssemblyScript through asc into a core module that
 * follows `sdk/assemblyscript/ABI.md`.
 */
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPluginManifest } from './plugin-manifest.js';
import { buildWorld } from './build-world.js';
import { jsBuildDigest, recordedDigest, withBuildDigest } from './build-inputs.js';
import { entryExports, exportsProcessBatch, guestErrorsSource, missingProcessorExports, guestGlobalsSources, packedBatchSource, writeGuardedJsEntry } from './js-entry.js';
import type { PluginManifest } from './plugin-manifest.js';
import { WeirError, messageOf } from '../errors/errors.js';

/** The repository root: wit/ and sdk/ live there. */
export const REPO_ROOT = findRepoRoot();

/** What one build produced. */
export interface BuildOutcome {
  manifest: PluginManifest;
  outFile: string;
  bytes: number;
  ms: number;
}

/** Builds `dir` into `<outDir>/<name>.wasm`. */
export async function buildPlugin(dir: string, outDir: string): Promise<BuildOutcome> {
  const manifest = await readPluginManifest(dir);
  const entry = resolve(dir, manifest.entry);
  const outFile = join(outDir, `${manifest.name}.wasm`);
  const started = performance.now();
  let wasm: Uint8Array;
  try {
    // Toolchains load on first use: `host run` never pays for them.
    if (manifest.lang === 'js') wasm = await buildJavaScript(entry, manifest, dir, outFile);
    else if (manifest.lang === 'rust') wasm = await (await import('./rust-build.js')).buildRust(entry, manifest.kind, REPO_ROOT);
    else wasm = await (await import('./assemblyscript-build.js')).buildAssemblyScript(entry);
  } catch (error) {
    throw new WeirError('WEIR_PLUGIN_BUILD_FAILED', `building ${dir} (${manifest.lang}) failed: ${messageOf(error)}`, { plugin: manifest.name }, { cause: error });
  }
  await mkdir(outDir, { recursive: true });
  await writeFile(outFile, wasm);
  return { manifest, outFile, bytes: wasm.byteLength, ms: performance.now() - started };
}

/**
 * A JS build: the same inputs give the same bytes. A QuickJS build is
 * deterministic (qjs-runtime.ts); and when `outFile` already holds a build
 * of inputs with the same digest (build-inputs.ts), it is kept as it is,
 * without building.
 */
async function buildJavaScript(entry: string, manifest: PluginManifest, dir: string, outFile: string): Promise<Uint8Array> {
  // A QuickJS processor exporting processBatch gets the packed export (js-entry.ts), in Weir's packed-processor world.
  const exports = manifest.kind === 'processor' && !manifest.wit ? entryExports(await readFile(entry, 'utf8')) : undefined;
  const missing = missingProcessorExports(exports, { packedPossible: manifest.jsEngine !== 'spidermonkey' });
  if (missing.length > 0) {
    throw new WeirError('WEIR_PLUGIN_BUILD_FAILED', `${entry}: a processor must export ${missing.join(' and ')}, which the host calls; it exports no function of that name (check the spelling, and that it is exported)`, { file: entry });
  }
  const packed = manifest.jsEngine !== 'spidermonkey' && exportsProcessBatch(exports, entry);
  const { witPath, world } = manifest.wit
    ? { witPath: await witWithWeirDeps(resolve(dir, manifest.wit)), world: manifest.kind }
    : await stagedWeirWit(manifest, packed);
  const toolchain = manifest.jsEngine === 'spidermonkey' ? '@bytecodealliance/componentize-js' : 'componentize-qjs';
  const version = packageVersion(toolchain);
  // Without the toolchain's version, an upgrade could pass for unchanged inputs: build every time.
  // QuickJS builds wrap the exports with the SDK's guard (js-entry.ts): a change to it is a change of input.
  const guard = manifest.jsEngine === 'spidermonkey' ? '' : await readFile(guestErrorsSource(REPO_ROOT), 'utf8');
  // So do the SDK modules the entry imports for the globals they install.
  // And, for a packed processor, the SDK's packed batches.
  const sdkSources = manifest.jsEngine === 'spidermonkey' ? [] : [...guestGlobalsSources(REPO_ROOT), ...(packed ? [packedBatchSource(REPO_ROOT)] : [])];
  const globals = await Promise.all(sdkSources.map((file) => readFile(file, 'utf8')));
  const digest = version && (await jsBuildDigest(entry, { settings: { manifest, world, guard, globals }, toolchain: `${toolchain}@${version}`, witPath }));
  if (digest) {
    const existing = await readFile(outFile).catch(() => undefined);
    if (existing && recordedDigest(existing) === digest) return existing;
  }
  const wasm = manifest.jsEngine === 'spidermonkey' ? await buildWithSpiderMonkey(entry, manifest, witPath, world) : await buildWithQuickJs(entry, manifest, witPath, world, packed);
  return digest ? withBuildDigest(wasm, digest) : wasm;
}

/** componentize-qjs: QuickJS inside the component. */
async function buildWithQuickJs(entry: string, manifest: PluginManifest, witPath: string, world: string, packed: boolean): Promise<Uint8Array> {
  const { componentize } = await import('componentize-qjs');
  const { deterministicQuickJsRuntime } = await import('./qjs-runtime.js');
  // The plugin's exports, wrapped so that uncaught exceptions reach the host (sdk/js/src/guest-errors.js).
  const guarded = await writeGuardedJsEntry(entry, manifest.kind, REPO_ROOT, { packed });
  const { component } = await componentize({
    witPath,
    world,
    jsSource: guarded.jsSource,
    jsPath: guarded.jsPath,
    // The file system's root: every import resolves (the JS SDK, the wrapper in the temp folder), and the
    // guest names each module by its real absolute path, so a stack trace points at the file as it is.
    moduleRoot: sep,
    // No WASI unless asked for: the host grants no capabilities by default.
    stubWasi: manifest.wasi !== true,
    // The built-in sync runtime (the host calls plugins synchronously; no component-model async ABI),
    // with fixed clocks and seed while Wizer pre-initializes it: same source, same bytes.
    // (componentize-qjs refuses `sync: true` beside a runtime of our own.)
    runtimeBytes: Buffer.from(await deterministicQuickJsRuntime()),
  });
  return component;
}

/** componentize-js: SpiderMonkey inside the component. */
async function buildWithSpiderMonkey(entry: string, manifest: PluginManifest, witPath: string, world: string): Promise<Uint8Array> {
  // componentize-js reads the WIT through preview2-shim's file system, which has no preopens by default.
  const { _setPreopens } = await import('@bytecodealliance/preview2-shim/filesystem');
  // (The package's types describe the browser build; in Node this takes host paths.)
  (_setPreopens as unknown as (preopens: Record<string, string>) => void)({ '/': '/' });
  const { componentize } = await import('@bytecodealliance/componentize-js');
  const { component } = await componentize({
    sourcePath: entry,
    witPath,
    worldName: world,
    // No WASI unless asked for: leave out every feature that imports it.
    disableFeatures: manifest.wasi === true ? [] : ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
  });
  return component;
}

/** Weir's WIT folder, or a temporary one whose plugin.wit has the world for the manifest's `imports`; `extended`: the kind's extended world (build-world.ts). */
async function stagedWeirWit(manifest: PluginManifest, extended: boolean): Promise<{ witPath: string; world: string }> {
  if (!manifest.imports?.length) return { witPath: join(REPO_ROOT, 'wit'), world: (await buildWorld(REPO_ROOT, manifest.kind, { extended })).world };
  const { source, world } = await buildWorld(REPO_ROOT, manifest.kind, { imports: manifest.imports, extended });
  const staged = await mkdtemp(join(tmpdir(), 'weir-wit-'));
  await writeFile(join(staged, 'plugin.wit'), source);
  return { witPath: staged, world };
}

/** A temporary copy of the plugin's WIT folder with Weir's package under `deps/weir-plugin/`. */
async function witWithWeirDeps(witDir: string): Promise<string> {
  const staged = await mkdtemp(join(tmpdir(), 'weir-wit-'));
  await cp(witDir, staged, { recursive: true });
  await mkdir(join(staged, 'deps', 'weir-plugin'), { recursive: true });
  await cp(join(REPO_ROOT, 'wit', 'plugin.wit'), join(staged, 'deps', 'weir-plugin', 'plugin.wit'));
  return staged;
}

/** The version of an installed package (part of a build's inputs), if it can be read. */
function packageVersion(name: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'weir') return dir;
    } catch {
      // keep looking upwards
    }
  }
  throw new Error('cannot find the weir repository root (package.json named "weir")');
}
