// Benchmark transform in AssemblyScript: upper-case the ASCII letters of each value.
import { Processor, Record, register } from "../../../../sdk/assemblyscript/assembly/index";
export * from "../../../../sdk/assemblyscript/assembly/abi";

class Upper extends Processor {
  process(batch: Record[], out: Record[]): void {
    for (let i = 0; i < batch.length; i++) {
      const value = batch[i].value;
      const p = value.dataStart;
      for (let j = 0; j < value.length; j++) {
        const c = load<u8>(p + j);
        if (c >= 97 && c <= 122) store<u8>(p + j, c - 32);
      }
      out.push(batch[i]);
    }
  }
}

register(new Upper());
