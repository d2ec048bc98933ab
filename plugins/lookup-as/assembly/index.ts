// Example (service call, AssemblyScript): asks a lookup service for each record's
// key and adds the answer as a header `region` ("unknown" when the service has
// no entry or the record no key). Config: {"service": "<service node id>"}
// (default "regions"); the service's method is "get".
// Twins: lookup-js, lookup-rust (same output, byte for byte).
import { Batch, Output, Processor, callService, configGet, jsonString, register, utf8 } from "../../../sdk/assemblyscript/assembly/index";
export * from "../../../sdk/assemblyscript/assembly/abi";

class Lookup extends Processor {
  service: string = "regions";

  configure(config: string): void {
    const service = configGet("service");
    if (service !== null) {
      const name = jsonString(service!);
      if (name !== null) this.service = name!;
    }
  }

  processBatch(batch: Batch, out: Output): void {
    while (batch.next()) {
      let region: Uint8Array | null = null;
      if (batch.hasKey) region = callService(this.service, "get", batch.key!);
      out.pass(batch);
      out.addHeader("region", region === null ? utf8("unknown") : region!);
    }
  }
}

register(new Lookup());
