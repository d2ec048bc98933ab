// Example (service call, AssemblyScript): asks a lookup service for each record's
// key and adds the answer as a header `region` ("unknown" when the service has
// no entry or the record no key). Config: {"service": "<service node id>"}
// (default "regions"); the service's method is "get".
// Twins: lookup-js, lookup-rust (same output, byte for byte).
import { Header, Processor, Record, callService, configGet, jsonString, register, utf8 } from "../../../sdk/assemblyscript/assembly/index";
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

  process(batch: Record[], out: Record[]): void {
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i];
      let region: Uint8Array | null = null;
      if (record.key !== null) region = callService(this.service, "get", record.key!);
      record.headers.push(new Header("region", region === null ? utf8("unknown") : region!));
      out.push(record);
    }
  }
}

register(new Lookup());
