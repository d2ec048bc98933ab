// Benchmark transform as an Extism plugin, written with Extism's own AssemblyScript
// PDK the way an Extism user would: read the input (a packed batch), upper-case
// the ASCII letters of each value in place, write it back as the output.
import { Host } from "@extism/as-pdk";

export function myAbort(message: string | null, fileName: string | null, lineNumber: u32, columnNumber: u32): void {}

export function upper(): i32 {
  const batch = Host.input();
  const base = batch.dataStart;
  if (batch.length >= 4) {
    const count = load<u32>(base);
    let at: usize = 4;
    for (let i: u32 = 0; i < count; i++) {
      at += 12; // flags, event time
      at += 4 + <usize>load<u32>(base + at); // key
      const valueLen = <usize>load<u32>(base + at);
      const value = base + at + 4;
      for (let j: usize = 0; j < valueLen; j++) {
        const c = load<u8>(value + j);
        if (c >= 97 && c <= 122) store<u8>(value + j, c - 32);
      }
      at += 4 + valueLen;
      const headers = load<u32>(base + at);
      at += 4;
      for (let h: u32 = 0; h < headers; h++) {
        at += 4 + <usize>load<u32>(base + at);
        at += 4 + <usize>load<u32>(base + at);
      }
    }
  }
  Host.output(batch);
  return 0;
}
