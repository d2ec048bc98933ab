// Path (b) of the end-to-end benchmark: the same work through an Extism plugin with the
// Extism JS host, as an Extism user would script it: readline, JSON.parse, 1,024 records
// packed into one buffer per call (the benchmark's Extism plugin upper-cases the values in
// it, bench/plugins/upper-extism), the values read back, JSON.stringify, write with backpressure.
//   node bench/e2e/extism.js PLUGIN.wasm INPUT.jsonl OUTPUT.jsonl
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createExtismUpper } from '../plugins/upper-extism/run.js';

const [wasm, input, output] = process.argv.slice(2);
const plugin = await createExtismUpper(readFileSync(wasm));
const out = createWriteStream(output);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The plugin's packed batch (bench/plugins/upper-extism): count, then per record flags, event time, key, value, no headers. */
function pack(records) {
  const keys = records.map((r) => encoder.encode(r.key ?? ''));
  const values = records.map((r) => encoder.encode(r.value));
  let size = 4;
  for (let i = 0; i < records.length; i++) size += 24 + keys[i].length + values[i].length;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, records.length, true);
  let at = 4;
  for (let i = 0; i < records.length; i++) {
    view.setUint32(at, (records[i].key === undefined ? 0 : 1) | (records[i].eventTime === undefined ? 0 : 2), true);
    view.setBigInt64(at + 4, BigInt(records[i].eventTime ?? 0), true);
    at += 12;
    view.setUint32(at, keys[i].length, true);
    bytes.set(keys[i], at + 4);
    at += 4 + keys[i].length;
    view.setUint32(at, values[i].length, true);
    bytes.set(values[i], at + 4);
    at += 4 + values[i].length;
    view.setUint32(at, 0, true);
    at += 4;
  }
  return bytes;
}

/** Puts the values of the plugin's output back into `records`. */
function unpackValues(bytes, records) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 4;
  for (const record of records) {
    at += 12;
    at += 4 + view.getUint32(at, true);
    const length = view.getUint32(at, true);
    record.value = decoder.decode(bytes.subarray(at + 4, at + 4 + length));
    at += 4 + length;
    at += 4; // no headers
  }
}

async function flush(records) {
  unpackValues(await plugin.call(pack(records)), records);
  let text = '';
  for (const record of records) text += JSON.stringify(record) + '\n';
  if (!out.write(text)) await once(out, 'drain');
}

let batch = [];
for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
  if (line === '') continue;
  batch.push(JSON.parse(line));
  if (batch.length === 1024) {
    await flush(batch);
    batch = [];
  }
}
if (batch.length > 0) await flush(batch);
out.end();
await once(out, 'close');
await plugin.close();
