// Example (enrich with keyed state, AssemblyScript): counts the records of each
// key in the node's keyed state and adds a header `count` with the running count
// (records without a key count under the empty key).
// Twins: count-by-key-js, count-by-key-rust (same output, byte for byte).
import { Batch, Output, Processor, register, state, utf8 } from "../../../sdk/assemblyscript/assembly/index";
export * from "../../../sdk/assemblyscript/assembly/abi";

class CountByKey extends Processor {
  processBatch(batch: Batch, out: Output): void {
    const noKey = new Uint8Array(0);
    while (batch.next()) {
      const key = batch.hasKey ? batch.key! : noKey;
      const previous = state.get(key);
      const count = previous === null ? 1 : I32.parseInt(String.UTF8.decodeUnsafe(previous.dataStart, previous.length)) + 1;
      const text = count.toString();
      state.set(key, utf8(text));
      out.pass(batch);
      out.addHeaderText("count", text);
    }
  }
}

register(new CountByKey());
