/** `host inspect PLUGIN.wasm`: what a plugin file is and which node kinds it fits. */
import { resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { componentWit } from '@bytecodealliance/jco-transpile/wasm-tools';
import type { CliIo } from './cli-io.js';
import { EXIT, println } from './cli-io.js';
import { Engine, defaultCacheDir } from '../engine/engine.js';
import type { PluginKind } from '../contract/plugin.js';
import type { CapabilityGrants } from '../contract/grants.js';
import { WeirError, messageOf } from '../errors/errors.js';
import { stderrCacheWarning } from './cache-warnings.js';

const KINDS: PluginKind[] = ['source', 'processor', 'sink', 'service', 'aggregator'];

/** Every grantable capability, to tell "fits once granted" from "does not fit". */
const EVERY_GRANT: CapabilityGrants = {
  env: ['ANY'],
  clock: true,
  random: true,
  filesystem: [{ dir: '/', as: '/', mode: 'rw' }],
  http: { hosts: ['*'], timeoutMs: 1, maxResponseBytes: 1 },
};

/** Help text of `host inspect`. */
export function inspectHelp(): string {
  return `Usage: host inspect PLUGIN.wasm [options]

Describes a plugin file: component or core module, size, sha256, the node
kinds (worlds of wit/plugin.wit) it fits, with the capabilities its node
must grant for the imports that need one (env, clock, random, filesystem,
http), its exports and imports, and for each kind it does not fit, why.

Options:
  --wit              also print the component's WIT (components only)
  --json             print the description as JSON
  --cache-dir DIR    cache folder (as for host run)
  -h, --help         show this help

Exit codes: 0 described, 2 not a readable WebAssembly plugin, 3 usage error.
`;
}

/** Runs `host inspect`. */
export async function inspectCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { wit: { type: 'boolean' }, json: { type: 'boolean' }, 'cache-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(inspectHelp());
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new WeirError('WEIR_USAGE', 'host inspect takes exactly one .wasm file: host inspect PLUGIN.wasm');
  const file = resolve(io.cwd, positionals[0]!);
  const engine = new Engine({ cacheDir: values['cache-dir'] ? resolve(io.cwd, values['cache-dir']) : defaultCacheDir(io.env), warn: stderrCacheWarning(io.stderr) });
  let module;
  try {
    module = await engine.load(file);
  } catch (error) {
    println(io.stderr, `error ${(error as WeirError).code ?? ''}: ${messageOf(error)}`);
    return EXIT.invalid;
  }
  const fits = Object.fromEntries(KINDS.map((kind) => [kind, module.check(kind)]));
  // What is left with every capability granted says whether the plugin can fit a kind at all;
  // what granting removes is what its node must grant.
  const ungranted = Object.fromEntries(KINDS.map((kind) => [kind, module.check(kind, EVERY_GRANT)]));
  const granted = KINDS.filter((kind) => fits[kind]!.length > 0 && ungranted[kind]!.length === 0);
  const needs = [...new Set(KINDS.flatMap((kind) => fits[kind]!.filter((problem) => !ungranted[kind]!.includes(problem))))];
  const description = {
    file: positionals[0],
    binary: module.binary,
    size: module.size,
    sha256: module.sha256,
    fits: KINDS.filter((k) => fits[k]!.length === 0),
    fitsOnceGranted: granted,
    needs,
    exports: module.exports,
    imports: module.imports,
    mismatches: Object.fromEntries(KINDS.filter((k) => ungranted[k]!.length > 0).map((k) => [k, ungranted[k]])),
  };
  if (values.json) {
    println(io.stdout, JSON.stringify(description, null, 2));
  } else {
    println(io.stdout, `file:    ${description.file}`);
    println(io.stdout, `binary:  ${module.binary === 'component' ? 'component (WebAssembly component model)' : 'core module'}`);
    println(io.stdout, `size:    ${module.size} bytes (${(module.size / 1024).toFixed(1)} KiB)`);
    println(io.stdout, `sha256:  ${module.sha256}`);
    const fitting = [...description.fits, ...granted.map((kind) => `${kind} (once granted, see needs)`)];
    println(io.stdout, `fits:    ${fitting.length ? fitting.join(', ') : 'no node kind'}`);
    for (const need of description.needs) println(io.stdout, `needs:   ${need}`);
    println(io.stdout, `exports: ${module.exports.join(', ') || '(none)'}`);
    println(io.stdout, `imports: ${module.imports.join(', ') || '(none)'}`);
    // Each reason once, with every kind it rules out.
    const kindsOf = new Map<string, string[]>();
    for (const [kind, problems] of Object.entries(description.mismatches) as Array<[string, string[]]>) {
      for (const problem of problems) kindsOf.set(problem, [...(kindsOf.get(problem) ?? []), kind]);
    }
    const lines = new Map<string, string[]>();
    for (const [problem, kinds] of kindsOf) {
      const key = kinds.join(', ').replace(/, ([^,]*)$/, ' or $1');
      lines.set(key, [...(lines.get(key) ?? []), problem]);
    }
    for (const [kinds, problems] of lines) println(io.stdout, `not ${/^[aeiou]/.test(kinds) ? 'an' : 'a'} ${kinds}: ${problems.join('; ')}`);
  }
  if (values.wit && module.binary === 'component') {
    println(io.stdout, '\n' + (await componentWit(await readFile(file))));
  }
  return EXIT.ok;
}
