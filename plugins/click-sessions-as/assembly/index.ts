// Example (session windows, AssemblyScript): groups each user's clicks (record
// key; the value is the page) into sessions; each session emits
// {"user", "start", "end", "clicks", "pages"}. World: aggregator.
// Twins: click-sessions-js, click-sessions-rust (same output, byte for byte).
import { Aggregator, Record, Window, registerAggregator, utf8 } from "../../../sdk/assemblyscript/assembly/index";
export * from "../../../sdk/assemblyscript/assembly/abi";
export * from "../../../sdk/assemblyscript/assembly/aggregator-abi";

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function jsonString(text: string): string {
  let out = "\"";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c < 0x20) out += "\\u" + c.toString(16).padStart(4, "0");
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

class ClickSessions extends Aggregator {
  // The accumulator: the pages, one per line.
  accumulate(accumulator: Uint8Array | null, record: Record): Uint8Array {
    const page = concat(record.value, utf8("\n"));
    if (accumulator === null) return page;
    return concat(accumulator, page);
  }

  merge(a: Uint8Array, b: Uint8Array): Uint8Array {
    return concat(a, b);
  }

  emit(key: Uint8Array | null, window: Window, accumulator: Uint8Array, out: Record[]): void {
    const lines = String.UTF8.decodeUnsafe(accumulator.dataStart, accumulator.length).split("\n");
    const pages = new Array<string>(0);
    for (let i = 0; i < lines.length; i++) if (lines[i].length > 0) pages.push(jsonString(lines[i]));
    let user = "null";
    if (key !== null) user = jsonString(String.UTF8.decodeUnsafe(key.dataStart, key.length));
    const value = "{\"user\":" + user + ",\"start\":" + window.start.toString() + ",\"end\":" + window.end.toString()
      + ",\"clicks\":" + pages.length.toString() + ",\"pages\":[" + pages.join(",") + "]}";
    const r = new Record();
    r.key = key;
    r.setValueText(value);
    r.eventTime = window.end - 1;
    r.hasEventTime = true;
    out.push(r);
  }
}

registerAggregator(new ClickSessions());
