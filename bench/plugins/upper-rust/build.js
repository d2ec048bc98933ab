// Builds bench/plugins/upper-rust into a component: rustc -> core module ->
// wit-component (jco's componentEmbed + componentNew) for world weir:plugin/packed-processor.
// Usage: node bench/plugins/upper-rust/build.js OUT.wasm
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { componentEmbed, componentNew } from '@bytecodealliance/jco-transpile/wasm-tools';

const here = import.meta.dirname;

/** Compiles src/lib.rs with `rustc` and wraps it into a component at `outFile`. */
export async function buildRustComponent({ outFile, rustc = '/usr/bin/rustc' }) {
  if (!existsSync(rustc)) throw new Error(`${rustc} not found: install it with \`apt-get install -y rustc libstd-rust-dev-wasm32\``);
  const dir = await mkdtemp(join(tmpdir(), 'weir-rust-'));
  const core = join(dir, 'core.wasm');
  execFileSync(rustc, [
    '--edition', '2021', '--crate-type', 'cdylib', '--target', 'wasm32-unknown-unknown',
    '-C', 'opt-level=3', '-C', 'panic=abort', '-C', 'lto', '-C', 'debuginfo=0', '-C', 'strip=symbols',
    join(here, 'src/lib.rs'), '-o', core,
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  // witSource, not witPath: jco's wasm-tools runs with no file system access.
  const witSource = await readFile(join(here, '../../../wit/plugin.wit'), 'utf8');
  const embedded = await componentEmbed({ binary: await readFile(core), witSource, world: 'packed-processor' });
  const component = await componentNew(embedded);
  await writeFile(outFile, component);
  return outFile;
}

if (process.argv[1] === import.meta.filename) {
  const out = process.argv[2] ?? join(here, 'upper-rust.wasm');
  await buildRustComponent({ outFile: out });
  console.log(`built ${out}`);
}
