// {{name}}: a Weir processor in AssemblyScript, built into a core module with asc.
// It upper-cases the ASCII letters of each record's value; replace
// `processBatch` with your own work. sdk/assemblyscript/README.md has the API.
import { Batch, LogLevel, Output, Processor, log, register } from "{{sdk}}/index";
export * from "{{sdk}}/abi";

class Plugin extends Processor {
  configure(config: string): void {
    log(LogLevel.Info, "{{name}} configured");
  }

  // `batch.next()` moves to the next record; `batch.value` is a view of its
  // value in the call's input (change it in place, or `out.passWithText(batch, ...)`
  // for a new one); `out.pass(batch)` sends the record on. The views (and
  // `batch`, `out`) last for this call only; what you allocate and keep in a
  // field stays valid: see "Lifetimes" in the SDK README.
  processBatch(batch: Batch, out: Output): void {
    while (batch.next()) {
      const value = batch.value;
      for (let j = 0; j < value.length; j++) {
        const c = value[j];
        if (c >= 97 && c <= 122) value[j] = c - 32;
      }
      out.pass(batch);
    }
  }
}

register(new Plugin());
