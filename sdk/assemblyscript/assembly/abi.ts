// The exports of the core-module ABI, version 1 (see ../ABI.md).
// A plugin re-exports them all: `export * from "<sdk>/assembly/abi";`
import { Record, decodeBatch, encodeBatch, encodedSize } from "./record";
import { failureText, registeredProcessor, takeFailure } from "./processor";

// Both buffers live in globals, so the garbage collector keeps them alive
// between calls, while the host reads or writes them.
let input = new ArrayBuffer(0);
let output = new ArrayBuffer(0);
let outputLen: i32 = 0;
const outRecords = new Array<Record>(0);

/** The ABI version this module follows. */
export function weir_abi_version(): i32 {
  return 1;
}

/** A buffer of at least `size` bytes for the next call's input; reused while big enough. */
export function weir_alloc(size: i32): usize {
  if (input.byteLength < size) input = new ArrayBuffer(size);
  return changetype<usize>(input);
}

function setOutputText(text: string): void {
  const bytes = String.UTF8.encode(text);
  output = bytes;
  outputLen = bytes.byteLength;
}

function status(): i32 {
  const kind = takeFailure();
  if (kind != 0) setOutputText(failureText());
  return kind;
}

/** Configures the processor with the config JSON at `ptr`. Status 0 ok, 1-3 error (output: message). */
export function weir_configure(ptr: usize, len: i32): i32 {
  outputLen = 0;
  registeredProcessor().configure(String.UTF8.decodeUnsafe(ptr, len));
  return status();
}

/** Processes the packed batch at `ptr`. Status 0 ok (output: packed batch), 1-3 error (output: message). */
export function weir_process(ptr: usize, len: i32): i32 {
  const batch = decodeBatch(input);
  outRecords.length = 0;
  registeredProcessor().process(batch, outRecords);
  const kind = status();
  if (kind != 0) return kind;
  const size = encodedSize(outRecords);
  if (output.byteLength < size) output = new ArrayBuffer(size);
  encodeBatch(outRecords, changetype<usize>(output));
  outputLen = size;
  outRecords.length = 0;
  // Built with --runtime minimal: nothing is collected behind the plugin's back.
  // Everything a call allocated is garbage once its output is encoded, so one
  // collection per call keeps memory flat at the price of a sweep per batch.
  __collect();
  return 0;
}

/** Where the output of the last call starts. */
export function weir_output_ptr(): usize {
  return changetype<usize>(output);
}

/** How many bytes of output the last call produced. */
export function weir_output_len(): i32 {
  return outputLen;
}
