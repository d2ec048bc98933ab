// The input and output buffers of the current call, shared by the processor
// and aggregator ABIs. Held in globals so the collector keeps them alive while
// the host writes or reads them. (Not re-exported by plugins.)
let input = new ArrayBuffer(0);
let output = new ArrayBuffer(0);
let outputLen: i32 = 0;

/** Makes the first `len` bytes of `buffer` the call's output. */
export function setOutput(buffer: ArrayBuffer, len: i32): void {
  output = buffer;
  outputLen = len;
}

/** Makes UTF-8 `text` the call's output (an error message). */
export function setOutputText(text: string): void {
  const bytes = String.UTF8.encode(text);
  setOutput(bytes, bytes.byteLength);
}

/** A buffer of at least `size` bytes to write the output into (reused while big enough). */
export function outputBuffer(size: i32): ArrayBuffer {
  if (output.byteLength < size) output = new ArrayBuffer(size);
  return output;
}

export function outputPtr(): usize {
  return changetype<usize>(output);
}

export function outputLength(): i32 {
  return outputLen;
}

/** A buffer of at least `size` bytes for the next call's input; reused while big enough. */
export function inputBuffer(size: i32): ArrayBuffer {
  if (input.byteLength < size) input = new ArrayBuffer(size);
  return input;
}

/** The buffer the host wrote the current call's input into. */
export function currentInput(): ArrayBuffer {
  return input;
}
