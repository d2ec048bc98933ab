// Example (field filter, AssemblyScript): keeps the records whose value is a
// JSON object with the string field config.field equal to config.equals, e.g.
// {"field": "level", "equals": "error"}; every other record is dropped.
// Twins: field-filter-js, field-filter-rust (same output, byte for byte).
import { Batch, ErrorKind, Output, Processor, configGet, fail, jsonString, jsonStringField, register } from "../../../sdk/assemblyscript/assembly/index";
export * from "../../../sdk/assemblyscript/assembly/abi";

class FieldFilter extends Processor {
  field: string = "";
  equals: string = "";

  configure(config: string): void {
    const problem = "config needs \"field\" and \"equals\", both strings";
    const field = configGet("field");
    const equals = configGet("equals");
    if (field === null || equals === null) return fail(ErrorKind.InvalidInput, problem);
    const f: string | null = jsonString(field!);
    const e: string | null = jsonString(equals!);
    if (f === null || e === null) return fail(ErrorKind.InvalidInput, problem);
    this.field = f!;
    this.equals = e!;
  }

  processBatch(batch: Batch, out: Output): void {
    while (batch.next()) {
      const found = jsonStringField(batch.valueText(), this.field);
      if (found !== null && found == this.equals) out.pass(batch);
    }
  }
}

register(new FieldFilter());
