// The exports of the core-module ABI, version 1 (see ../ABI.md).
// A plugin re-exports them all: `export * from "<sdk>/assembly/abi";`
import { Record, decodeBatch, encodeBatch, encodedSize } from "./record";
import { callStatus, registeredConfigure, registeredProcessor } from "./processor";
import { currentInput, inputBuffer, outputBuffer, outputLength, outputPtr, setOutput } from "./buffers";

const outRecords = new Array<Record>(0);

/** The ABI version this module follows. */
export function weir_abi_version(): i32 {
  return 1;
}

/** A buffer of at least `size` bytes for the next call's input; reused while big enough. */
export function weir_alloc(size: i32): usize {
  return changetype<usize>(inputBuffer(size));
}

/** Configures the processor with the config JSON at `ptr`. Status 0 ok, 1-3 error (output: message). */
export function weir_configure(ptr: usize, len: i32): i32 {
  setOutput(new ArrayBuffer(0), 0);
  registeredConfigure(String.UTF8.decodeUnsafe(ptr, len));
  return callStatus();
}

/** Processes the packed batch at `ptr`. Status 0 ok (output: packed batch), 1-3 error (output: message). */
export function weir_process(ptr: usize, len: i32): i32 {
  const batch = decodeBatch(currentInput());
  outRecords.length = 0;
  registeredProcessor().process(batch, outRecords);
  const kind = callStatus();
  if (kind != 0) return kind;
  const size = encodedSize(outRecords);
  const output = outputBuffer(size);
  encodeBatch(outRecords, changetype<usize>(output));
  setOutput(output, size);
  outRecords.length = 0;
  // Built with --runtime minimal: nothing is collected behind the plugin's back.
  // Everything a call allocated is garbage once its output is encoded, so one
  // collection per call keeps memory flat at the price of a sweep per batch.
  __collect();
  return 0;
}

/** Where the output of the last call starts. */
export function weir_output_ptr(): usize {
  return outputPtr();
}

/** How many bytes of output the last call produced. */
export function weir_output_len(): i32 {
  return outputLength();
}
