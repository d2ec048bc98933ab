// Example (file grant, AssemblyScript): loads a table of "name region" lines
// from a directory the node grants, once in configure, and adds each record's
// region as a header `region` ("unknown" when the table has no entry or the
// record no key). Config: {"table": "<path as the plugin sees it>"} (default
// "/reference/regions.txt"). A missing table fails configure with its errno.
// Twins: region-table-js, region-table-rust (same output, byte for byte).
import { ErrorKind, Header, Processor, Record, configGet, fail, fsErrno, jsonString, readFile, register, utf8 } from "../../../sdk/assemblyscript/assembly/index";
export * from "../../../sdk/assemblyscript/assembly/abi";

class RegionTable extends Processor {
  regions: Map<string, Uint8Array> = new Map();

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

  process(batch: Record[], out: Record[]): void {
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i];
      let region = utf8("unknown");
      if (record.key !== null) {
        const name = String.UTF8.decodeUnsafe(record.key!.dataStart, record.key!.length);
        if (this.regions.has(name)) region = this.regions.get(name);
      }
      record.headers.push(new Header("region", region));
      out.push(record);
    }
  }
}

register(new RegionTable());
