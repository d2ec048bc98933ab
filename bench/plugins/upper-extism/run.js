// Runs the Extism benchmark plugin with the Extism JS host, on the calling thread, without WASI.
import createPlugin from '@extism/extism';

/** A plugin instance: `call(packed)` returns the transformed packed batch. */
export async function createExtismUpper(wasm) {
  const plugin = await createPlugin({ wasm: [{ data: wasm }] }, { useWasi: false, runInWorker: false });
  return {
    async call(packed) {
      const output = await plugin.call('upper', packed);
      if (!output) throw new Error('the Extism plugin returned no output');
      return output.bytes();
    },
    close: () => plugin.close(),
  };
}
