/** `host new KIND NAME --lang LANG`: scaffold a plugin folder. */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from './cli-io.js';
import { EXIT, println } from './cli-io.js';
import { scaffoldPlugin } from '../build/scaffold.js';
import type { PluginLanguage } from '../build/plugin-manifest.js';
import type { PluginKind } from '../contract/plugin.js';
import { WeirError } from '../errors/errors.js';

/** Help text of `host new`. */
export function newHelp(): string {
  return `Usage: host new <processor|source|sink|service|aggregator> NAME --lang <js|as|rust> [options]

Creates a plugin folder NAME (in --dir) from the SDK's template: plugin.json,
the source, a README, and a sample input with its expected output. It builds
and passes its sample as it is:

  host new processor my-filter --lang js        # -> plugins/my-filter/
  host build plugins/my-filter                  # -> plugins/my-filter.wasm
  host test plugins/my-filter --input plugins/my-filter/sample/input.jsonl \
    --expect plugins/my-filter/sample/expected.jsonl

Languages: js (any kind; a component through componentize-qjs), as
(AssemblyScript; processors and aggregators, a core module) and rust
(processors, services and aggregators; a component, built with rustc for
wasm32-unknown-unknown). An aggregator is the plugin of a windowed processor
(a node with "window"); \`host test\` runs it in a window (--window).

Options:
  --lang LANG        js, as or rust (required)
  --dir DIR          where the folder goes (default: ./plugins when there is
                     one, else the current folder)
  -h, --help         show this help

Exit codes: 0 created, 3 usage error (unknown kind or language, bad name,
the folder exists).
`;
}

const KINDS: readonly string[] = ['processor', 'source', 'sink', 'service', 'aggregator'];

/** Runs `host new`. */
export async function newCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { lang: { type: 'string' }, dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(newHelp());
    return EXIT.ok;
  }
  const [kind, name] = positionals;
  if (positionals.length !== 2 || !KINDS.includes(kind!)) throw new WeirError('WEIR_USAGE', 'usage: host new <processor|source|sink|service|aggregator> NAME --lang <js|as|rust>');
  if (values.lang === undefined) throw new WeirError('WEIR_USAGE', '--lang is required: js, as or rust');
  const parent = values.dir ?? (existsSync(join(io.cwd, 'plugins')) ? 'plugins' : '.');
  const dir = join(resolve(io.cwd, parent), name!);
  const files = await scaffoldPlugin({ kind: kind as PluginKind, name: name!, lang: values.lang as PluginLanguage, dir });
  const folder = relative(io.cwd, dir) || '.';
  println(io.stdout, `created ${folder}/ (${files.join(', ')})`);
  println(io.stdout, `next: host build ${folder} && host test ${folder} --input ${folder}/sample/input.jsonl --expect ${folder}/sample/expected.jsonl${kind === 'service' ? ' --method upper' : ''}`);
  return EXIT.ok;
}
