// Runs the Extism benchmark plugin with the Extism JS host, on the calling thread, without WASI.
import createPlugin from '@extism/extism';

/** A plugin instance: `call(packed)` returns the transformed packed batch. */
export async function createExtismUpper(wasm) {
  const plugin = await createPlugin({ wasm: [{ data: wasm }] }, { useWasi: false, runInWorker: false });
  return {
    async call(packed) {
      const output = await plugin.call('upper', packed);
      if (!output) throw new Error('the Extism plugin returned no output');
      const bytes = output.bytes().slice();
      // The JS host keeps every call's memory blocks until reset; without this, block
      // indices run out after some thousands of calls ("cannot assign to this block").
      await plugin.reset();
      return bytes;
    },
    close: () => plugin.close(),
  };
}
