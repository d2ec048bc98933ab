// Example (a source as a plugin, JavaScript): emits config.count records
// (default 10), values "event 1", "event 2", ..., keyed by config.keys in turn
// (default ["alice", "bob", "carol"]), event times one second apart from
// config.startTime (default 1700000000000). Resumes after the last acknowledged
// record: the position is the number of records emitted.
import { decodeUtf8, encodeUtf8 } from '../../sdk/js/src/utf8.js';

let count = 10;
let keys = ['alice', 'bob', 'carol'];
let startTime = 1700000000000;
let next = 0;

export function open(config, resumeFrom) {
  const parsed = JSON.parse(config);
  if (parsed.count !== undefined) count = parsed.count;
  if (parsed.keys !== undefined) keys = parsed.keys;
  if (parsed.startTime !== undefined) startTime = parsed.startTime;
  next = resumeFrom ? Number(decodeUtf8(resumeFrom)) : 0;
}

export function poll(max) {
  const records = [];
  while (records.length < max && next < count) {
    records.push({ key: encodeUtf8(keys[next % keys.length]), value: encodeUtf8(`event ${next + 1}`), headers: [], eventTime: startTime + next * 1000 });
    next++;
  }
  return { records, position: encodeUtf8(String(next)), done: next >= count };
}

export function ack(position) {}

export function close() {}
