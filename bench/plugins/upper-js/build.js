// Builds bench/plugins/upper-js/index.js into two components for the processor world:
// upper-js-qjs.wasm (componentize-qjs, QuickJS) and upper-js-sm.wasm (componentize-js, SpiderMonkey).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { componentize as componentizeQjs } from 'componentize-qjs';

const here = import.meta.dirname;
const witPath = join(here, '../../../wit');

/** Builds both components into `outDir`. */
export async function buildJsComponents({ outDir }) {
  const entry = join(here, 'index.js');
  const jsSource = await readFile(entry, 'utf8');
  const qjs = await componentizeQjs({ witPath, world: 'processor', jsSource, jsPath: entry, stubWasi: true, sync: true });
  await writeFile(join(outDir, 'upper-js-qjs.wasm'), qjs.component);

  // componentize-js reads the WIT through preview2-shim's file system, which has no preopens by default.
  const { _setPreopens } = await import('@bytecodealliance/preview2-shim/filesystem');
  _setPreopens({ '/': '/' });
  const { componentize } = await import('@bytecodealliance/componentize-js');
  const sm = await componentize({
    sourcePath: entry,
    witPath,
    worldName: 'processor',
    // The host grants no WASI capabilities: leave out every feature that imports them.
    disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
  });
  await writeFile(join(outDir, 'upper-js-sm.wasm'), sm.component);
}
