/**
 * `plugin.json`: the small manifest of a plugin source folder, saying what
 * the plugin is and how to build it.
 *
 * ```json
 * { "name": "uppercase-js", "kind": "processor", "lang": "js", "entry": "index.js" }
 * ```
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PluginKind } from '../contract/plugin.js';
import { WeirError, messageOf } from '../errors/errors.js';
import { OPTIONAL_IMPORTS } from './build-world.js';
import type { OptionalImport } from './build-world.js';

/** Languages the host can build. */
export type PluginLanguage = 'js' | 'as' | 'rust';

/** A parsed `plugin.json`. */
export interface PluginManifest {
  name: string;
  kind: PluginKind;
  lang: PluginLanguage;
  /** Entry source file, relative to the plugin folder. */
  entry: string;
  /** JS only: keep WASI imports instead of stubbing them; the node must then grant what the plugin uses. */
  wasi?: boolean;
  /**
   * JS only: `quickjs` (default: componentize-qjs, ~1.6 MB components) or
   * `spidermonkey` (componentize-js, ~12 MB, with TextEncoder and a JIT-less
   * SpiderMonkey; the source must be one module importing only `weir:plugin/*`).
   */
  jsEngine?: 'quickjs' | 'spidermonkey';
  /**
   * JS only: a WIT folder of the plugin's own (relative to the plugin folder) whose
   * world is named by `kind`; the build adds Weir's package under `deps/`.
   */
  wit?: string;
  /**
   * Optional Weir interfaces the plugin imports beyond its kind's world
   * (`["http"]`); the node running it must grant them. Rust and
   * AssemblyScript plugins import what they call without this; JS plugins
   * need it (a JS component imports every interface of its world).
   */
  imports?: OptionalImport[];
}

const KINDS: readonly string[] = ['source', 'processor', 'sink', 'service', 'aggregator'];
const LANGS: readonly string[] = ['js', 'as', 'rust'];

/** Reads and checks `<dir>/plugin.json`. */
export async function readPluginManifest(dir: string): Promise<PluginManifest> {
  const file = join(dir, 'plugin.json');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new WeirError('WEIR_CONFIG_READ', `cannot read ${file}: ${messageOf(error)}`, { file });
  }
  const problems: string[] = [];
  if (typeof raw.name !== 'string' || !/^[a-z][a-z0-9-]*$/.test(raw.name)) problems.push('"name" must be lowercase letters, digits and -');
  if (typeof raw.kind !== 'string' || !KINDS.includes(raw.kind)) problems.push(`"kind" must be one of ${KINDS.join(', ')}`);
  if (typeof raw.lang !== 'string' || !LANGS.includes(raw.lang)) problems.push(`"lang" must be one of ${LANGS.join(', ')}`);
  if (typeof raw.entry !== 'string') problems.push('"entry" must be the entry source file, relative to the folder');
  if (raw.wasi !== undefined && typeof raw.wasi !== 'boolean') problems.push('"wasi" must be true or false');
  if (raw.jsEngine !== undefined && raw.jsEngine !== 'quickjs' && raw.jsEngine !== 'spidermonkey') problems.push('"jsEngine" must be "quickjs" or "spidermonkey"');
  if (raw.wit !== undefined && typeof raw.wit !== 'string') problems.push('"wit" must be a folder relative to the plugin folder');
  if (raw.imports !== undefined && (!Array.isArray(raw.imports) || !raw.imports.every((name) => (OPTIONAL_IMPORTS as readonly unknown[]).includes(name)))) {
    problems.push(`"imports" must list optional Weir interfaces: ${OPTIONAL_IMPORTS.map((name) => `"${name}"`).join(', ')}`);
  }
  if (raw.imports !== undefined && raw.wit !== undefined) problems.push('"imports" and "wit" do not go together: import the interfaces in your own world');
  if (problems.length > 0) throw new WeirError('WEIR_CONFIG_INVALID', `${file}: ${problems.join('; ')}`, { file, problems });
  return raw as unknown as PluginManifest;
}
