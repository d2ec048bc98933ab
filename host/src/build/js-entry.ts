/**
 * The module `host build` hands componentize-qjs for a JS plugin: it
 * re-exports the plugin's exports for its world, each wrapped by the JS SDK's
 * `guardExport` (sdk/js/src/guest-errors.js), so that an uncaught exception
 * reaches the host with its type, message and place instead of as a bare
 * "unreachable" trap, after importing the SDK modules that install the
 * globals QuickJS lacks (`TextEncoder`, `TextDecoder`). It is written to a folder under the system's temporary
 * folder (the plugin's folder stays untouched) whose name depends only on the
 * entry's path and source, so that two builds of the same plugin see the same
 * module path (builds stay reproducible) and may run at once (the file is
 * replaced atomically with the same bytes). It imports the plugin and the SDK
 * by relative path.
 *
 * A processor that exports `processBatch(batch, out)` is built for the
 * `packed-processor` world (wit/plugin.wit): the entry adds the export
 * `processPacked` (the JS SDK's `packedExport`, sdk/js/src/batch.js: a cursor
 * over the packed input and a writer of the packed output), which the host
 * calls instead of `process`, and, when the plugin has no `process` of its
 * own, a `process` run through `processBatch` (`typedProcess`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, writeFile } from 'node:fs/promises';
import { parse } from 'acorn';
import type { FunctionDeclaration, Node, Program } from 'acorn';
import { WeirError } from '../errors/errors.js';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import type { PluginKind } from '../contract/plugin.js';

/** The exports of each world (wit/plugin.wit). */
const WORLD_EXPORTS: Readonly<Record<PluginKind, readonly string[]>> = {
  processor: ['configure', 'process'],
  source: ['open', 'poll', 'ack', 'close'],
  sink: ['open', 'write', 'flush'],
  service: ['configure', 'call'],
  aggregator: ['configure', 'accumulate', 'merge', 'emit'],
};

/** A written wrapping entry. */
export interface GuardedJsEntry {
  jsSource: string;
  jsPath: string;
  /** The folder the entry is written to. */
  folder: string;
}

/** The JS SDK's export guard, under the repository root. */
export function guestErrorsSource(repoRoot: string): string {
  return join(repoRoot, 'sdk', 'js', 'src', 'guest-errors.js');
}

/**
 * The JS SDK modules the entry imports before the plugin, for what they
 * install: `TextEncoder` and `TextDecoder` (sdk/js/src/text-codec.js, on
 * utf8.js), which QuickJS lacks. Part of a build's inputs (plugin-build.ts).
 */
export function guestGlobalsSources(repoRoot: string): string[] {
  return [join(repoRoot, 'sdk', 'js', 'src', 'text-codec.js'), join(repoRoot, 'sdk', 'js', 'src', 'utf8.js')];
}

/** The import lines that install the SDK's globals (see {@link guestGlobalsSources}); they come first, so the plugin's top-level code sees the globals. */
function guestGlobalsImports(repoRoot: string, from: (target: string) => string): string[] {
  return [`import '${from(guestGlobalsSources(repoRoot)[0]!)}';`];
}

/** The JS SDK's packed batches (`packedExport`, `typedProcess`), which the entry of a packed processor imports. Part of a build's inputs. */
export function packedBatchSource(repoRoot: string): string {
  return join(repoRoot, 'sdk', 'js', 'src', 'batch.js');
}

/** What an entry module exports, read once from its syntax tree (acorn), so comments and strings do not count. */
export interface EntryExports {
  /** The names it exports itself or re-exports by name (`export { x } from './impl.js'`). */
  names: ReadonlySet<string>;
  /** False when some names cannot be told: `export * from`, or a destructuring `export const { a } = ...`. */
  complete: boolean;
  /** The exported `processBatch`'s function node, when it is declared in this module. */
  processBatch?: Node;
}

/** The exports of the module source `source`; `undefined` when it does not parse (the toolchain reports that). */
export function entryExports(source: string): EntryExports | undefined {
  let program: Program;
  try {
    program = parse(source, { ecmaVersion: 'latest', sourceType: 'module' });
  } catch {
    return undefined;
  }
  const functions = new Map<string, Node>();
  for (const statement of program.body) {
    if (statement.type === 'FunctionDeclaration' && statement.id) functions.set(statement.id.name, statement);
    if (statement.type === 'VariableDeclaration') for (const d of statement.declarations) if (d.id.type === 'Identifier' && d.init) functions.set(d.id.name, d.init);
  }
  const names = new Set<string>();
  const declared = new Map<string, Node | undefined>();
  let complete = true;
  for (const statement of program.body) {
    if (statement.type === 'ExportAllDeclaration') complete = false;
    if (statement.type !== 'ExportNamedDeclaration') continue;
    const declaration = statement.declaration;
    if (declaration?.type === 'FunctionDeclaration' && declaration.id) declared.set(declaration.id.name, declaration);
    if (declaration?.type === 'VariableDeclaration') {
      for (const d of declaration.declarations) {
        if (d.id.type === 'Identifier') declared.set(d.id.name, d.init ?? undefined);
        else complete = false;
      }
    }
    for (const specifier of statement.specifiers) {
      const name = specifier.exported.type === 'Identifier' ? specifier.exported.name : String(specifier.exported.value);
      const local = specifier.local.type === 'Identifier' ? specifier.local.name : String(specifier.local.value);
      // Re-exported from another module: exported, its form unseen here.
      declared.set(name, statement.source ? undefined : functions.get(local));
    }
  }
  for (const name of declared.keys()) names.add(name);
  return { names, complete, processBatch: declared.get('processBatch') };
}

/**
 * True when the entry exports `processBatch` (`export function
 * processBatch`, `export const processBatch = ...`, `export { processBatch }`,
 * `export { x as processBatch }` or `export { processBatch } from
 * './impl.js'`): such a processor gets the packed export. A name re-exported
 * with `export * from` is not seen.
 *
 * @throws WeirError `WEIR_PLUGIN_BUILD_FAILED` when the exported
 *   `processBatch` is `async` or a generator: the host calls it
 *   synchronously, and what it wrote after an `await` would be lost.
 */
export function exportsProcessBatch(exports: EntryExports | undefined, file = 'the entry module'): boolean {
  const exported = exports?.processBatch;
  if (exported && (exported.type === 'FunctionDeclaration' || exported.type === 'FunctionExpression' || exported.type === 'ArrowFunctionExpression')) {
    const fn = exported as FunctionDeclaration;
    if (fn.async || fn.generator) {
      throw new WeirError(
        'WEIR_PLUGIN_BUILD_FAILED',
        `${file}: processBatch is ${fn.async ? 'async' : 'a generator'}; the host calls it synchronously, so the records it writes after ${fn.async ? 'an await' : 'its first yield'} would be lost: make it a plain function that writes every record to out before it returns`,
        { file },
      );
    }
  }
  return exports?.names.has('processBatch') ?? false;
}

/**
 * What a processor's entry fails to export of what the host calls:
 * `configure`, and `process` or (when the build can give it the packed
 * export: `packedPossible`, QuickJS) `processBatch`. Empty when all is there,
 * or when it cannot tell (a source that does not parse, or exports it cannot
 * list: see {@link EntryExports.complete}).
 */
export function missingProcessorExports(exports: EntryExports | undefined, options: { packedPossible?: boolean } = {}): string[] {
  if (!exports?.complete) return [];
  const { names } = exports;
  const missing = names.has('configure') ? [] : ['configure'];
  const packedPossible = options.packedPossible ?? true;
  if (!names.has('process') && !(packedPossible && names.has('processBatch'))) missing.push(packedPossible ? 'process (or processBatch)' : 'process (processBatch needs a QuickJS build)');
  return missing;
}

/**
 * Writes the wrapping entry for the plugin module `entry` (an absolute
 * path); `packed` adds the processor's packed export (see the module comment).
 */
export async function writeGuardedJsEntry(entry: string, kind: PluginKind, repoRoot: string, options: { packed?: boolean } = {}): Promise<GuardedJsEntry> {
  const packed = kind === 'processor' && options.packed === true;
  const sdk = guestErrorsSource(repoRoot);
  const folder = join(tmpdir(), `weir-js-entry-${createHash('sha256').update(`${entry}\0${kind}\0${sdk}\0${packed ? 'packed' : ''}`).digest('hex').slice(0, 16)}`);
  const jsPath = join(folder, 'entry.js');
  const from = (target: string) => {
    const path = relative(folder, target).split(sep).join('/');
    return path.startsWith('.') ? path : `./${path}`;
  };
  const jsSource = [
    ...guestGlobalsImports(repoRoot, from),
    `import * as plugin from '${from(entry)}';`,
    `import { guardExport } from '${from(sdk)}';`,
    ...(packed ? packedExports(from(packedBatchSource(repoRoot))) : WORLD_EXPORTS[kind].map((name) => `export const ${name} = guardExport('${name}', plugin.${name});`)),
    '',
  ].join('\n');
  await mkdir(folder, { recursive: true, mode: 0o755 });
  await refuseForeignFolder(folder);
  const staged = `${jsPath}.${randomBytes(6).toString('hex')}`;
  await writeFile(staged, jsSource);
  await rename(staged, jsPath);
  return { jsSource, jsPath, folder };
}

/** The exports of a packed processor's entry: `configure`, `process` (the plugin's, or one through `processBatch`) and `processPacked`. */
function packedExports(batchModule: string): string[] {
  return [
    `import { packedExport, typedProcess } from '${batchModule}';`,
    `export const configure = guardExport('configure', plugin.configure);`,
    `export const process = guardExport('process', typeof plugin.process === 'function' ? plugin.process : typedProcess(plugin));`,
    `export const processPacked = guardExport('process-packed', packedExport(plugin));`,
  ];
}

/**
 * The folder's name is predictable (builds stay reproducible), so another
 * local user could have made it first and swap the entry before the build
 * reads it: it must be a real folder of this user that no one else may write.
 */
async function refuseForeignFolder(folder: string): Promise<void> {
  const info = await lstat(folder);
  const uid = process.getuid?.();
  if (!info.isDirectory() || (uid !== undefined && info.uid !== uid) || (info.mode & 0o022) !== 0) {
    throw new WeirError('WEIR_PLUGIN_BUILD_FAILED', `${folder} is not a folder of this user that only it may write; remove it and build again`, { path: folder });
  }
}
