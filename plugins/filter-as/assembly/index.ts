// A processor written in AssemblyScript (a core module; see sdk/assemblyscript/ABI.md).
// Config: {"dropIfContains": "<text>"} drops every record whose value contains the text;
// the others pass unchanged, with a header `filtered-by: filter-as` added.
import { Batch, ErrorKind, LogLevel, Output, Processor, configGet, fail, jsonString, log, register } from "../../../sdk/assemblyscript/assembly/index";
export * from "../../../sdk/assemblyscript/assembly/abi";

class Filter extends Processor {
  needle: string = "";

  configure(config: string): void {
    const value = configGet("dropIfContains");
    if (value === null) {
      log(LogLevel.Info, "no dropIfContains: passing every record");
      return;
    }
    const needle = jsonString(value!);
    if (needle === null) {
      fail(ErrorKind.InvalidInput, "config.dropIfContains must be a string");
      return;
    }
    this.needle = needle!;
    log(LogLevel.Info, `dropping records containing "${this.needle}"`);
  }

  processBatch(batch: Batch, out: Output): void {
    while (batch.next()) {
      if (this.needle.length > 0 && batch.valueText().includes(this.needle)) continue;
      out.pass(batch);
      out.addHeaderText("filtered-by", "filter-as");
    }
  }
}

register(new Filter());
