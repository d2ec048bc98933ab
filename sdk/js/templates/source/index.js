// {{name}}: a Weir source in JavaScript. It emits config.count records (default 3),
// "record 1", "record 2", ..., and resumes after the last acknowledged one.
// The contract is wit/plugin.wit (world "source"); sdk/js/README.md has the details.
import { decodeUtf8, encodeUtf8 } from '{{sdk}}/utf8.js';

let count = 3;
let next = 1;

export function open(config, resumeFrom) {
  const parsed = JSON.parse(config);
  if (parsed.count !== undefined) count = parsed.count;
  if (resumeFrom !== undefined && resumeFrom !== null) next = Number(decodeUtf8(resumeFrom)) + 1;
}

export function poll(max) {
  const records = [];
  while (records.length < max && next <= count) {
    records.push({ key: undefined, value: encodeUtf8(`record ${next}`), headers: [], eventTime: undefined });
    next++;
  }
  return { records, position: encodeUtf8(String(next - 1)), done: next > count };
}

export function ack(position) {}

export function close() {}
