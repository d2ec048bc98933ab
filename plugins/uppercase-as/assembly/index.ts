// Example (uppercase, AssemblyScript): upper-cases the ASCII letters a-z of each
// record's value. Config: {"tag": "..."} (optional) adds a header `uppercased-by`.
// Twins: uppercase-js, uppercase-rust (same output, byte for byte).
import { Batch, ErrorKind, LogLevel, Output, Processor, configGet, fail, jsonString, log, register } from "../../../sdk/assemblyscript/assembly/index";
export * from "../../../sdk/assemblyscript/assembly/abi";

class Uppercase extends Processor {
  tag: string | null = null;

  configure(config: string): void {
    const tag = configGet("tag");
    if (tag !== null) {
      this.tag = jsonString(tag!);
      if (this.tag === null) return fail(ErrorKind.InvalidInput, "config.tag must be a string");
    }
    log(LogLevel.Info, "uppercase-as configured");
  }

  processBatch(batch: Batch, out: Output): void {
    while (batch.next()) {
      // The value is a view into the call's input: change it in place, then pass the record on.
      const value = batch.value;
      for (let j = 0; j < value.length; j++) {
        const c = value[j];
        if (c >= 97 && c <= 122) value[j] = c - 32;
      }
      out.pass(batch);
      if (this.tag !== null) out.addHeaderText("uppercased-by", this.tag!);
    }
  }
}

register(new Uppercase());
