// The input and output buffers of the current call, shared by the processor
// and aggregator ABIs. Held in globals so the collector keeps them alive while
// the host writes or reads them; reused while big enough. (Not re-exported by
// plugins.)
let input = new ArrayBuffer(0);
let inputSize: i32 = 0;
let spare = new ArrayBuffer(0);
let outputAt: usize = 0;
let outputLen: i32 = 0;
// What holds the output's bytes until the host has read them (the collector must not free it).
let keepOutput: ArrayBuffer | null = null;

/** Makes `len` bytes at `ptr` the call's output; `owner` holds them (valid until the next call into the module). */
export function setOutputAt(owner: ArrayBuffer | null, ptr: usize, len: i32): void {
  keepOutput = owner;
  outputAt = ptr;
  outputLen = len;
}

/** Makes the first `len` bytes of `buffer` the call's output. */
export function setOutput(buffer: ArrayBuffer, len: i32): void {
  setOutputAt(buffer, changetype<usize>(buffer), len);
}

/** Makes UTF-8 `text` the call's output (an error message). */
export function setOutputText(text: string): void {
  const bytes = String.UTF8.encode(text);
  setOutput(bytes, bytes.byteLength);
}

/** A buffer of at least `size` bytes to write the output into (reused while big enough). */
export function outputBuffer(size: i32): ArrayBuffer {
  if (spare.byteLength < size) spare = new ArrayBuffer(size);
  return spare;
}

export function outputPtr(): usize {
  return outputAt;
}

export function outputLength(): i32 {
  return outputLen;
}

/** A buffer of at least `size` bytes for the next call's input (every call begins here); reused while big enough. */
export function inputBuffer(size: i32): ArrayBuffer {
  if (input.byteLength < size) input = new ArrayBuffer(size);
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
