/** `host build DIR`: build a plugin folder into `<out>/<name>.wasm`. */
import { dirname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CliIo } from './cli-io.js';
import { EXIT, println } from './cli-io.js';
import { buildPlugin } from '../build/plugin-build.js';
import { WeirError } from '../errors/errors.js';

/** Help text of `host build`. */
export function buildHelp(): string {
  return `Usage: host build DIR... [options]

Builds plugin folders (each with a plugin.json) into .wasm files:
JavaScript ("lang": "js") into a component with componentize-qjs,
AssemblyScript ("lang": "as") into a core module with asc (both come with
Weir's npm dependencies), and Rust ("lang": "rust") into a component with
rustc for wasm32-unknown-unknown (install: apt-get install -y rustc
libstd-rust-dev-wasm32, or rustup target add wasm32-unknown-unknown; WEIR_RUSTC
picks a compiler).

Options:
  --out DIR          where <name>.wasm goes (default: the folder that holds
                     DIR, so plugins/my-filter builds to plugins/my-filter.wasm)
  -h, --help         show this help

Exit codes: 0 built, 2 a build failed (the message says why), 3 usage error.
`;
}

/** Runs `host build`. */
export async function buildCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(buildHelp());
    return EXIT.ok;
  }
  if (positionals.length === 0) throw new WeirError('WEIR_USAGE', 'host build takes at least one plugin folder: host build plugins/my-plugin');
  for (const folder of positionals) {
    const dir = resolve(io.cwd, folder);
    const outcome = await buildPlugin(dir, values.out ? resolve(io.cwd, values.out) : dirname(dir));
    println(io.stdout, `built ${relative(io.cwd, outcome.outFile) || outcome.outFile} (${outcome.manifest.kind}, ${outcome.manifest.lang}, ${(outcome.bytes / 1024).toFixed(0)} KiB, ${Math.round(outcome.ms)} ms)`);
  }
  return EXIT.ok;
}
