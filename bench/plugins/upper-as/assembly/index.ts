// Benchmark transform in AssemblyScript: upper-case the ASCII letters of each value.
import { Batch, Output, Processor, register } from "../../../../sdk/assemblyscript/assembly/index";
export * from "../../../../sdk/assemblyscript/assembly/abi";

class Upper extends Processor {
  processBatch(batch: Batch, out: Output): void {
    while (batch.next()) {
      const p = batch.valuePtr;
      const n = batch.valueLength;
      for (let j = 0; j < n; j++) {
        const c = load<u8>(p + j);
        if (c >= 97 && c <= 122) store<u8>(p + j, c - 32);
      }
      out.pass(batch);
    }
  }
}

register(new Upper());
