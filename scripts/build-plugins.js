// Builds every plugin folder under plugins/ (each has a plugin.json) into plugins/<name>.wasm.
// Run by `npm run build`, which `npm ci` runs through `prepare`.
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { buildPlugin, REPO_ROOT } from '../dist/build/plugin-build.js';

const pluginsDir = join(REPO_ROOT, 'plugins');
const folders = [];
for (const name of (await readdir(pluginsDir)).sort()) {
  const dir = join(pluginsDir, name);
  if ((await stat(dir)).isDirectory()) folders.push(dir);
}
const only = process.argv.slice(2);
for (const dir of folders) {
  if (only.length > 0 && !only.some((o) => dir.endsWith(o))) continue;
  const outcome = await buildPlugin(dir, pluginsDir);
  console.log(`built ${relative(REPO_ROOT, outcome.outFile)} (${outcome.manifest.lang}, ${(outcome.bytes / 1024).toFixed(0)} KiB, ${Math.round(outcome.ms)} ms)`);
}
