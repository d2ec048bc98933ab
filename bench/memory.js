// Memory per plugin instance: resident-set growth per instance, in a fresh child process per plugin.
// Counted twice: instances created and configured only, and (for the plugins of `calledIds`)
// instances also called once with a batch of 1,024 records, as in a running pipeline.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const CALLED_IDS = ['assemblyscript', 'rust', 'js-qjs'];

function probe(file, instances, cacheDir, mode) {
  const out = execFileSync(process.execPath, ['--expose-gc', join(import.meta.dirname, 'memory-probe.js'), file, String(instances), cacheDir, ...(mode ? [mode] : [])], { encoding: 'utf8' });
  return JSON.parse(out).kibPerInstance;
}

/** Returns rows `{ id, label, kibPerInstance, kibPerCalledInstance?, instances }`. */
export function runMemory(impls, { instances, cacheDir, log }) {
  const rows = [];
  for (const impl of impls.filter((i) => i.available && i.module.file.endsWith('.wasm'))) {
    const kibPerInstance = probe(impl.module.file, instances, cacheDir);
    const kibPerCalledInstance = CALLED_IDS.includes(impl.id) ? probe(impl.module.file, instances, cacheDir, 'called') : undefined;
    rows.push({ id: impl.id, label: impl.label, kibPerInstance, ...(kibPerCalledInstance === undefined ? {} : { kibPerCalledInstance }), instances });
    log(`memory  ${impl.id.padEnd(14)}: ${kibPerInstance.toFixed(0)} KiB per instance${kibPerCalledInstance === undefined ? '' : `, ${kibPerCalledInstance.toFixed(0)} KiB called`}`);
  }
  return rows;
}
