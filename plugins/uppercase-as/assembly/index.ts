// Example (uppercase, AssemblyScript): upper-cases the ASCII letters a-z of each
// record's value. Config: {"tag": "..."} (optional) adds a header `uppercased-by`.
// Twins: uppercase-js, uppercase-rust (same output, byte for byte).
import { ErrorKind, LogLevel, Processor, Record, configGet, fail, jsonString, log, register } from "../../../sdk/assemblyscript/assembly/index";
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

  process(batch: Record[], out: Record[]): void {
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i];
      const value = record.value;
      for (let j = 0; j < value.length; j++) {
        const c = value[j];
        if (c >= 97 && c <= 122) value[j] = c - 32;
      }
      if (this.tag !== null) record.addHeader("uppercased-by", this.tag!);
      out.push(record);
    }
  }
}

register(new Uppercase());
