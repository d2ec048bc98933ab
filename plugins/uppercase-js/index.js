// Example (uppercase, JavaScript): upper-cases the ASCII letters a-z of each
// record's value, keeping key, headers and event time. Config: {"tag": "..."}
// (optional) adds a header `uppercased-by` with that text.
// Twins: uppercase-as, uppercase-rust (same output, byte for byte).
import { log } from 'weir:plugin/log@0.1.0';
import { bytesToLatin1, encodeUtf8, latin1ToBytes } from '../../sdk/js/src/utf8.js';

let tagHeader = null;

export function configure(config) {
  const parsed = JSON.parse(config);
  if (parsed.tag !== undefined && typeof parsed.tag !== 'string') {
    throw { tag: 'invalid-input', val: 'config.tag must be a string' };
  }
  tagHeader = parsed.tag === undefined ? null : { name: 'uppercased-by', value: encodeUtf8(parsed.tag) };
  log('info', `uppercase-js configured${tagHeader ? ` (tag "${parsed.tag}")` : ''}`);
}

const NON_ASCII = /[^\x00-\x7f]/;

function upperAscii(bytes) {
  // ASCII (the common case) in native code: toUpperCase changes only a-z there.
  const text = bytesToLatin1(bytes);
  if (!NON_ASCII.test(text)) return latin1ToBytes(text.toUpperCase());
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    out[i] = c >= 97 && c <= 122 ? c - 32 : c;
  }
  return out;
}

export function process(batch) {
  const out = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const record = batch[i];
    out[i] = {
      key: record.key,
      value: upperAscii(record.value),
      headers: tagHeader ? [...record.headers, tagHeader] : record.headers,
      eventTime: record.eventTime,
    };
  }
  return out;
}
