// Builds every plugin folder under plugins/ (each has a plugin.json) into plugins/<name>.wasm.
// Run by `npm run build`, which `npm ci` runs through `prepare`.
//
// Rust plugins need rustc with the wasm32 standard library. Each Rust plugin
// folder also holds a committed build, <folder>/<name>.wasm, used (with a note)
// when no such rustc is found, so the examples run on any machine.
// `node scripts/build-plugins.js --update-prebuilt` refreshes those copies.
import { copyFile, readdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildPlugin, REPO_ROOT } from '../dist/build/plugin-build.js';
import { readPluginManifest } from '../dist/build/plugin-manifest.js';
import { findRustc } from '../dist/build/rust-build.js';

const args = process.argv.slice(2);
const updatePrebuilt = args.includes('--update-prebuilt');
const only = args.filter((a) => !a.startsWith('--'));
const pluginsDir = join(REPO_ROOT, 'plugins');
const rustc = await findRustc().catch((error) => error);

for (const name of (await readdir(pluginsDir)).sort()) {
  const dir = join(pluginsDir, name);
  if (!(await stat(dir)).isDirectory()) continue;
  // A folder of shared source (plugins/nexmark-common) is no plugin.
  if (!existsSync(join(dir, 'plugin.json'))) continue;
  if (only.length > 0 && !only.some((o) => dir.endsWith(o))) continue;
  const manifest = await readPluginManifest(dir);
  const prebuilt = join(dir, `${manifest.name}.wasm`);
  if (manifest.lang === 'rust' && rustc instanceof Error) {
    if (!existsSync(prebuilt)) throw rustc;
    await copyFile(prebuilt, join(pluginsDir, `${manifest.name}.wasm`));
    console.log(`copied ${relative(REPO_ROOT, prebuilt)} (no rustc for wasm32 here: the committed build is used)`);
    continue;
  }
  const outcome = await buildPlugin(dir, pluginsDir);
  console.log(`built ${relative(REPO_ROOT, outcome.outFile)} (${outcome.manifest.lang}, ${(outcome.bytes / 1024).toFixed(0)} KiB, ${Math.round(outcome.ms)} ms)`);
  if (manifest.lang === 'rust' && updatePrebuilt) await copyFile(outcome.outFile, prebuilt);
}
