// {{name}}: a Weir aggregator in AssemblyScript, built into a core module with asc.
// It runs as a windowed processor (the node sets "window" in pipeline.json) and
// counts the records of each key in each window; replace the methods with your
// own. sdk/assemblyscript/README.md has the API.
import { Aggregator, Record, Window, registerAggregator, utf8 } from "{{sdk}}/index";
export * from "{{sdk}}/abi";
export * from "{{sdk}}/aggregator-abi";

function count(accumulator: Uint8Array): i32 {
  return I32.parseInt(String.UTF8.decodeUnsafe(accumulator.dataStart, accumulator.length));
}

class Plugin extends Aggregator {
  // The accumulator is bytes the host keeps for each key and window: here the count, as text.
  accumulate(accumulator: Uint8Array | null, record: Record): Uint8Array {
    return utf8(((accumulator === null ? 0 : count(accumulator)) + 1).toString());
  }

  // Two accumulators of one key become one (session windows that grow together).
  merge(a: Uint8Array, b: Uint8Array): Uint8Array {
    return utf8((count(a) + count(b)).toString());
  }

  // A closed window: the records it emits, here one with the count.
  emit(key: Uint8Array | null, window: Window, accumulator: Uint8Array, out: Record[]): void {
    const record = new Record();
    record.key = key;
    record.setValueText("{\"start\":" + window.start.toString() + ",\"end\":" + window.end.toString() + ",\"count\":" + count(accumulator).toString() + "}");
    record.eventTime = window.end - 1;
    record.hasEventTime = true;
    out.push(record);
  }
}

registerAggregator(new Plugin());
