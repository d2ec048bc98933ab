/**
 * Builds a Rust plugin into a component: rustc compiles the SDK
 * (`sdk/rust/weir`, dependency-free) and the plugin crate for
 * `wasm32-unknown-unknown`, then jco's wasm-tools (`componentEmbed`,
 * `componentNew`) wrap the core module into a component of the world named
 * by the plugin's kind, extended (a processor is a `packed-processor`), with
 * the optional interfaces it calls. No cargo, no crates.io.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { componentEmbed, componentNew } from '@bytecodealliance/jco-transpile/wasm-tools';
import type { PluginKind } from '../contract/plugin.js';
import { buildWorld, OPTIONAL_IMPORTS } from './build-world.js';
import { WeirError, messageOf } from '../errors/errors.js';

const run = promisify(execFile);
const TARGET = 'wasm32-unknown-unknown';
const FLAGS = ['--edition', '2021', '--target', TARGET, '-C', 'opt-level=3', '-C', 'panic=abort', '-C', 'debuginfo=0'];

/** What to install when no usable rustc is found. */
export const RUST_TOOLCHAIN_HINT =
  'install a Rust compiler with the wasm32 standard library: on Debian/Ubuntu `apt-get install -y rustc libstd-rust-dev-wasm32`, ' +
  'with rustup `rustup target add wasm32-unknown-unknown` (or set WEIR_RUSTC to a rustc that has it)';

/**
 * A rustc that can build for wasm32: `$WEIR_RUSTC`, else `rustc` on PATH,
 * else `/usr/bin/rustc`, whichever first has the target's standard library.
 *
 * @throws WeirError `WEIR_PLUGIN_BUILD_FAILED` saying what to install.
 */
export async function findRustc(
  env: NodeJS.ProcessEnv = process.env,
  candidates = [env.WEIR_RUSTC, 'rustc', '/usr/bin/rustc'].filter((c): c is string => Boolean(c)),
): Promise<string> {
  const tried: string[] = [];
  for (const rustc of candidates) {
    try {
      const { stdout } = await run(rustc, ['--print', 'sysroot']);
      if (existsSync(join(stdout.trim(), 'lib', 'rustlib', TARGET, 'lib'))) return rustc;
      tried.push(`${rustc} (no ${TARGET} standard library)`);
    } catch {
      tried.push(`${rustc} (not found)`);
    }
  }
  throw new WeirError('WEIR_PLUGIN_BUILD_FAILED', `no Rust compiler that can build for ${TARGET}: tried ${tried.join(', ')}; ${RUST_TOOLCHAIN_HINT}`);
}

/** Compiles `entry` (the crate root, usually src/lib.rs) and returns the component bytes. */
export async function buildRust(entry: string, kind: PluginKind, repoRoot: string): Promise<Uint8Array> {
  const rustc = await findRustc();
  const work = await mkdtemp(join(tmpdir(), 'weir-rust-'));
  // Paths in panic messages (the SDK's panic hook reports file:line) are written relative to the
  // repository, and a plugin outside it relative to its own folder: the build does not depend on
  // where the checkout lives, and no host path is shipped in the plugin.
  const crate = dirname(dirname(entry));
  const remap = ['--remap-path-prefix', `${repoRoot}=.`, ...(relative(repoRoot, crate).startsWith('..') ? ['--remap-path-prefix', `${crate}=${basename(crate)}`] : [])];
  try {
    await compile(rustc, [...FLAGS, ...remap, '--crate-type', 'rlib', '--crate-name', 'weir', join(repoRoot, 'sdk/rust/weir/src/lib.rs'), '--out-dir', work]);
    const core = join(work, 'plugin.wasm');
    await compile(rustc, [...FLAGS, ...remap, '-C', 'lto', '-C', 'strip=symbols', '--crate-type', 'cdylib', '--extern', `weir=${join(work, 'libweir.rlib')}`, '-L', work, entry, '-o', core]);
    // witSource, not witPath: jco's wasm-tools runs without file-system access. The world
    // offers every optional interface: a component imports only those the code calls. It is
    // the kind's extended world: the SDK's processors export `process-packed` too.
    const { source: witSource, world } = await buildWorld(repoRoot, kind, { imports: OPTIONAL_IMPORTS, extended: true });
    const embedded = await componentEmbed({ binary: await readFile(core), witSource, world });
    return await componentNew(embedded);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function compile(rustc: string, args: string[]): Promise<void> {
  try {
    await run(rustc, args, { maxBuffer: 16 << 20 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(`rustc failed:\n${stderr || messageOf(error)}`);
  }
}
