// Builds bench/plugins/upper-js into two components: upper-js-qjs.wasm (QuickJS,
// packed.js through `host build`'s JS build: processBatch, so process-packed) and
// upper-js-sm.wasm (componentize-js, SpiderMonkey: index.js, the processor world).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildPlugin } from '../../../dist/build/plugin-build.js';

const here = import.meta.dirname;
const witPath = join(here, '../../../wit');

/** Builds both components into `outDir`. */
export async function buildJsComponents({ outDir }) {
  await buildPlugin(here, outDir);
  const entry = join(here, 'index.js');

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
