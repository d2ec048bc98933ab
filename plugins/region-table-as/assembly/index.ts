// Example (file grant, AssemblyScript): loads a table of "name region" lines
// from a directory the node grants, once in configure, and adds each record's
// region as a header `region` ("unknown" when the table has no entry or the
// record no key). Config: {"table": "<path as the plugin sees it>"} (default
// "/reference/regions.txt"). A missing table fails configure with its errno.
// Twins: region-table-js, region-table-rust (same output, byte for byte).
import { Batch, ErrorKind, Output, Processor, configGet, fail, fsErrno, jsonString, readFile, register, utf8 } from "../../../sdk/assemblyscript/assembly/index";
export * from "../../../sdk/assemblyscript/assembly/abi";

class RegionTable extends Processor {
  regions: Map<string, Uint8Array> = new Map();
  unknown: Uint8Array = utf8("unknown");

  configure(config: string): void {
    let path = "/reference/regions.txt";
    const table = configGet("table");
    if (table !== null) {
      const given = jsonString(table!);
      if (given !== null) path = given!;
    }
    const data = readFile(path);
    if (data === null) {
      fail(ErrorKind.Fatal, `cannot read the region table: ${path} (errno ${fsErrno()})`);
      return;
    }
    this.regions = new Map();
    const lines = String.UTF8.decodeUnsafe(data!.dataStart, data!.length).split("\n");
    for (let i = 0; i < lines.length; i++) {
      const words = lines[i].trim().split(" ").filter((w: string) => w.length > 0);
      if (words.length >= 2) this.regions.set(words[0], utf8(words[1]));
    }
  }

  processBatch(batch: Batch, out: Output): void {
    while (batch.next()) {
      let region = this.unknown;
      const name = batch.keyText();
      if (name !== null && this.regions.has(name!)) region = this.regions.get(name!);
      out.pass(batch);
      out.addHeader("region", region);
    }
  }
}

register(new RegionTable());
