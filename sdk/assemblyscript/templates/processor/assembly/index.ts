// {{name}}: a Weir processor in AssemblyScript, built into a core module with asc.
// It upper-cases the ASCII letters of each record's value; replace `process`
// with your own work. sdk/assemblyscript/README.md has the API.
import { LogLevel, Processor, Record, log, register } from "{{sdk}}/index";
export * from "{{sdk}}/abi";

class Plugin extends Processor {
  configure(config: string): void {
    log(LogLevel.Info, "{{name}} configured");
  }

  process(batch: Record[], out: Record[]): void {
    for (let i = 0; i < batch.length; i++) {
      const value = batch[i].value;
      for (let j = 0; j < value.length; j++) {
        const c = value[j];
        if (c >= 97 && c <= 122) value[j] = c - 32;
      }
      out.push(batch[i]);
    }
  }
}

register(new Plugin());
