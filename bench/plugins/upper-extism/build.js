// Builds the Extism benchmark plugin with asc and Extism's AssemblyScript PDK.
import { relative } from 'node:path';
import { join } from 'node:path';
import asc from 'assemblyscript/asc';

const here = import.meta.dirname;

/** Compiles assembly/index.ts into the Extism plugin at `outFile`. */
export async function buildExtismPlugin({ outFile }) {
  const entry = join(here, 'assembly/index.ts');
  // --use abort names the replacement by its path inside the program, relative to the working folder.
  const abortPath = relative(process.cwd(), join(here, 'assembly/index')).replaceAll('\\', '/');
  let diagnostics = '';
  const { error } = await asc.main([entry, '--outFile', outFile, '-O3', '--runtime', 'incremental', '--use', `abort=${abortPath}/myAbort`], {
    stdout: { write: (t) => ((diagnostics += t), true) },
    stderr: { write: (t) => ((diagnostics += t), true) },
  });
  if (error) throw new Error(`asc failed for the Extism plugin: ${error.message}\n${diagnostics}`);
  return outFile;
}
