// Compute-heavy benchmark transform in AssemblyScript: 64 rounds of FNV-1a over
// each value (tight loops, the worst case for fuel metering); the value becomes
// the 16 hex digits of the hash.
import { Batch, Output, Processor, register } from "../../../../sdk/assemblyscript/assembly/index";
export * from "../../../../sdk/assemblyscript/assembly/abi";

const ROUNDS = 64;

class Hash extends Processor {
  processBatch(batch: Batch, out: Output): void {
    while (batch.next()) {
      const p = batch.valuePtr;
      const n = batch.valueLength;
      let h: u64 = 0xcbf29ce484222325;
      for (let round = 0; round < ROUNDS; round++) {
        for (let j = 0; j < n; j++) {
          h = (h ^ <u64>load<u8>(p + j)) * 0x100000001b3;
        }
      }
      out.passWithText(batch, h.toString(16));
    }
  }
}

register(new Hash());
