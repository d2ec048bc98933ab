// The input and output buffers of the current call, shared by the processor
// and aggregator ABIs. With the arena (stub runtime, ./arena.ts) both are
// allocated afresh in each call's arena; otherwise they are reused while big
// enough. (Not re-exported by plugins.)
import { ARENA, resetArena } from "./arena";

let input = changetype<ArrayBuffer>(0);
let inputSize: i32 = 0;
let outputAt: usize = 0;
let outputLen: i32 = 0;

/** Makes `len` bytes at `ptr` the call's output (valid until the next call into the module). */
export function setOutputAt(ptr: usize, len: i32): void {
  outputAt = ptr;
  outputLen = len;
}

/** Makes the first `len` bytes of `buffer` the call's output. */
export function setOutput(buffer: ArrayBuffer, len: i32): void {
  keepOutput = buffer; // a collector (non-arena runtimes) must not free it before the host reads it
  setOutputAt(changetype<usize>(buffer), len);
}

let keepOutput: ArrayBuffer | null = null;

/** Makes UTF-8 `text` the call's output (an error message). */
export function setOutputText(text: string): void {
  const bytes = String.UTF8.encode(text);
  setOutput(bytes, bytes.byteLength);
}

let spare = new ArrayBuffer(0);

/** A buffer of at least `size` bytes to write the output into (in the arena, or reused while big enough). */
export function outputBuffer(size: i32): ArrayBuffer {
  if (ARENA) return changetype<ArrayBuffer>(__new(size, idof<ArrayBuffer>()));
  if (spare.byteLength < size) spare = new ArrayBuffer(size);
  return spare;
}

export function outputPtr(): usize {
  return outputAt;
}

export function outputLength(): i32 {
  return outputLen;
}

/**
 * A buffer of at least `size` bytes for the next call's input. Every call
 * begins here (ABI: the host calls `weir_alloc` before each call), so this is
 * where the previous call's arena is freed.
 */
export function inputBuffer(size: i32): ArrayBuffer {
  if (ARENA) {
    resetArena();
    outputAt = 0;
    outputLen = 0;
    keepOutput = null;
    // Not zeroed: the host overwrites it.
    input = changetype<ArrayBuffer>(__new(size, idof<ArrayBuffer>()));
  } else if (changetype<usize>(input) == 0 || input.byteLength < size) {
    input = new ArrayBuffer(size);
  }
  inputSize = size;
  return input;
}

/** The buffer the host wrote the current call's input into. */
export function currentInput(): ArrayBuffer {
  return input;
}

/** How many bytes of `currentInput()` the host wrote. */
export function currentInputSize(): i32 {
  return inputSize;
}
