// Memory per plugin instance: resident-set growth per instance, in a fresh child process per plugin.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** Returns rows `{ id, label, kibPerInstance, instances }`. */
export function runMemory(impls, { instances, cacheDir, log }) {
  const rows = [];
  for (const impl of impls.filter((i) => i.available && i.module.file.endsWith('.wasm'))) {
    const out = execFileSync(process.execPath, ['--expose-gc', join(import.meta.dirname, 'memory-probe.js'), impl.module.file, String(instances), cacheDir], { encoding: 'utf8' });
    const { kibPerInstance } = JSON.parse(out);
    rows.push({ id: impl.id, label: impl.label, kibPerInstance, instances });
    log(`memory  ${impl.id.padEnd(14)}: ${kibPerInstance.toFixed(0)} KiB per instance`);
  }
  return rows;
}
