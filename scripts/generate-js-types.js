// Generates the TypeScript types of the JavaScript SDK from wit/plugin.wit with
// jco's guest-types: sdk/js/types/<world>.d.ts for each world, and the host
// interfaces they share once, in sdk/js/types/interfaces/ (with the optional
// ones, http and files, that no world imports by itself). Run after editing
// the WIT (a test fails until you do):
//   node scripts/generate-js-types.js [OUT_DIR]
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
import { generateGuestTypes } from '@bytecodealliance/jco-transpile';

const root = join(import.meta.dirname, '..');
const out = process.argv[2] ?? join(root, 'sdk/js/types');
// jco's wasm-tools reads the WIT through WASI: give it the file system.
_setPreopens({ '/': '/' });
await rm(out, { recursive: true, force: true });
for (const world of ['processor', 'source', 'sink', 'service', 'aggregator']) {
  const files = await generateGuestTypes(join(root, 'wit'), { worldName: world });
  for (const [name, content] of Object.entries(files)) {
    const file = join(out, name);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}
// Optional interfaces: declared through a scratch world that imports them.
const staged = await mkdtemp(join(tmpdir(), 'weir-types-wit-'));
const wit = await readFile(join(root, 'wit/plugin.wit'), 'utf8');
await writeFile(join(staged, 'plugin.wit'), `${wit}\nworld optional-imports {\n  import http;\n  import files;\n}\n`);
const optional = await generateGuestTypes(staged, { worldName: 'optional-imports' });
for (const [name, content] of Object.entries(optional)) {
  if (name.startsWith('interfaces/')) await writeFile(join(out, name), content);
}
await rm(staged, { recursive: true, force: true });
console.log(`wrote ${out}`);
