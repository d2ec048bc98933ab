// The exports of the core-module ABI, version 1 (see ../ABI.md).
// A plugin re-exports them all: `export * from "<sdk>/assembly/abi";`
import { Batch, Output } from "./batch";
import { callStatus, registeredConfigure, registeredProcessor } from "./processor";
import { currentInput, currentInputSize, inputBuffer, outputLength, outputPtr, setOutputAt } from "./buffers";
import { endCall } from "./collector";

// Allocated by the start function: they live as long as the instance.
const batch = new Batch();
const out = new Output();

/** The ABI version this module follows. */
export function weir_abi_version(): i32 {
  return 1;
}

/** A buffer of at least `size` bytes for the next call's input (every call begins here). */
export function weir_alloc(size: i32): usize {
  return changetype<usize>(inputBuffer(size));
}

/** Configures the processor with the config JSON at `ptr`. Status 0 ok, 1-3 error (output: message). */
export function weir_configure(ptr: usize, len: i32): i32 {
  setOutputAt(null, 0, 0);
  registeredConfigure(String.UTF8.decodeUnsafe(ptr, len));
  const kind = callStatus();
  endCall();
  return kind;
}

/** Processes the packed batch at `ptr`. Status 0 ok (output: packed batch), 1-3 error (output: message). */
export function weir_process(ptr: usize, len: i32): i32 {
  batch.begin(currentInput(), 0, currentInputSize());
  // Most processors pass on about what they read: start with that much room.
  out.begin(len + (len >> 3) + 256);
  registeredProcessor().processBatch(batch, out);
  batch.close();
  const size = out.finish();
  const kind = callStatus();
  if (kind == 0) setOutputAt(out.bufferOwner(), out.bufferStart(), size);
  endCall();
  return kind;
}

/** Where the output of the last call starts. */
export function weir_output_ptr(): usize {
  return outputPtr();
}

/** How many bytes of output the last call produced. */
export function weir_output_len(): i32 {
  return outputLength();
}
