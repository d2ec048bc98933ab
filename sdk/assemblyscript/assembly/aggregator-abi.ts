// The exports of the core-module ABI for aggregators (see ../ABI.md), on top
// of "./abi". A windowed plugin re-exports both:
//   export * from "<sdk>/assembly/abi";
//   export * from "<sdk>/assembly/aggregator-abi";
import { Record, decodeBatch, encodeBatch, encodedSize } from "./record";
import { Window, callStatus, registeredAggregatorInstance } from "./processor";
import { currentInput, outputBuffer, setOutput } from "./buffers";
import { endCall } from "./collector";

const NONE: u32 = 0xffffffff;

function bytesAt(ptr: usize, len: i32): Uint8Array {
  const out = new Uint8Array(len);
  memory.copy(out.dataStart, ptr, len);
  return out;
}

function outputBytes(bytes: Uint8Array): void {
  const buffer = outputBuffer(bytes.length);
  memory.copy(changetype<usize>(buffer), bytes.dataStart, bytes.length);
  setOutput(buffer, bytes.length);
}

/** Input: [u32 accumulator length or 0xFFFFFFFF][accumulator][packed batch of one record]. Output: the new accumulator. */
export function weir_accumulate(ptr: usize, len: i32): i32 {
  const accLen = load<u32>(ptr);
  let accumulator: Uint8Array | null = null;
  if (accLen != NONE) accumulator = bytesAt(ptr + 4, accLen);
  const recordAt = 4 + (accLen == NONE ? 0 : accLen);
  const records = decodeBatch(currentInput(), recordAt);
  const result = registeredAggregatorInstance().accumulate(accumulator, records[0]);
  const kind = callStatus();
  if (kind == 0) outputBytes(result);
  endCall();
  return kind;
}

/** Input: [u32 a length][a][u32 b length][b]. Output: the merged accumulator. */
export function weir_merge(ptr: usize, len: i32): i32 {
  const aLen = load<u32>(ptr);
  const a = bytesAt(ptr + 4, aLen);
  const bLen = load<u32>(ptr + 4 + aLen);
  const b = bytesAt(ptr + 8 + aLen, bLen);
  const result = registeredAggregatorInstance().merge(a, b);
  const kind = callStatus();
  if (kind == 0) outputBytes(result);
  endCall();
  return kind;
}

/** Input: [u32 key length or 0xFFFFFFFF][key][i64 start][i64 end][accumulator (the rest)]. Output: a packed batch. */
export function weir_emit(ptr: usize, len: i32): i32 {
  const keyLen = load<u32>(ptr);
  let key: Uint8Array | null = null;
  if (keyLen != NONE) key = bytesAt(ptr + 4, keyLen);
  const at = ptr + 4 + (keyLen == NONE ? 0 : keyLen);
  const window = new Window(load<i64>(at), load<i64>(at + 8));
  const accumulator = bytesAt(at + 16, len - i32(at + 16 - ptr));
  const out = new Array<Record>(0);
  registeredAggregatorInstance().emit(key, window, accumulator, out);
  const kind = callStatus();
  if (kind == 0) {
    const size = encodedSize(out);
    const buffer = outputBuffer(size);
    encodeBatch(out, changetype<usize>(buffer));
    setOutput(buffer, size);
  }
  endCall();
  return kind;
}
