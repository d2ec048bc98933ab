// Compute-heavy benchmark transform in AssemblyScript: 64 rounds of FNV-1a over
// each value (tight loops, the worst case for fuel metering); the value becomes
// the 16 hex digits of the hash.
import { Processor, Record, register } from "../../../../sdk/assemblyscript/assembly/index";
export * from "../../../../sdk/assemblyscript/assembly/abi";

const ROUNDS = 64;

class Hash extends Processor {
  process(batch: Record[], out: Record[]): void {
    for (let i = 0; i < batch.length; i++) {
      const value = batch[i].value;
      const p = value.dataStart;
      let h: u64 = 0xcbf29ce484222325;
      for (let round = 0; round < ROUNDS; round++) {
        for (let j = 0; j < value.length; j++) {
          h = (h ^ <u64>load<u8>(p + j)) * 0x100000001b3;
        }
      }
      batch[i].setValueText(h.toString(16));
      out.push(batch[i]);
    }
  }
}

register(new Hash());
