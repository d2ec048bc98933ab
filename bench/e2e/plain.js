// Path (a) of the end-to-end benchmark: what a user writes without Weir. A plain Node
// readline script: JSON.parse each line, upper-case the value, JSON.stringify, write with
// backpressure (lines joined 1,024 at a time, as a careful author would).
//   node bench/e2e/plain.js INPUT.jsonl OUTPUT.jsonl
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const [input, output] = process.argv.slice(2);
const out = createWriteStream(output);
let pending = '';
let lines = 0;
for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
  if (line === '') continue;
  const record = JSON.parse(line);
  record.value = record.value.toUpperCase();
  pending += JSON.stringify(record) + '\n';
  if (++lines === 1024) {
    lines = 0;
    if (!out.write(pending)) await once(out, 'drain');
    pending = '';
  }
}
out.end(pending);
await once(out, 'close');
