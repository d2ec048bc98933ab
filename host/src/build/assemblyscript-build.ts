/** Compiles an AssemblyScript plugin with the asc API. Flags: see sdk/assemblyscript/README.md. */
import asc from 'assemblyscript/asc';

/** Compiles `entry` and returns the core module bytes; throws with asc's diagnostics on failure. */
export async function buildAssemblyScript(entry: string): Promise<Uint8Array> {
  let wasm: Uint8Array | undefined;
  let diagnostics = '';
  const { error } = await asc.main(
    [entry, '--outFile', 'plugin.wasm', '-O3', '--runtime', 'minimal'],
    {
      writeFile: (name: string, contents: Uint8Array | string) => {
        if (name.endsWith('.wasm')) wasm = typeof contents === 'string' ? new TextEncoder().encode(contents) : contents;
      },
      stdout: { write: (text: string) => ((diagnostics += text), true) } as never,
      stderr: { write: (text: string) => ((diagnostics += text), true) } as never,
    },
  );
  if (error || !wasm) throw new Error(`asc failed: ${error?.message ?? 'no output'}\n${diagnostics}`);
  return wasm;
}
