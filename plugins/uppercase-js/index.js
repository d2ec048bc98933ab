// A processor written in JavaScript and built into a component with componentize-qjs.
// It upper-cases each record's value (as UTF-8 text) and keeps key, headers and event time.
// Config: {"tag": "..."} (optional) adds a header `uppercased-by` with that text.
import { log } from 'weir:plugin/log@0.1.0';
import { decodeUtf8, encodeUtf8 } from '../../sdk/js/src/utf8.js';

let tagHeader = null;

export function configure(config) {
  const parsed = JSON.parse(config);
  if (parsed.tag !== undefined && typeof parsed.tag !== 'string') {
    throw { tag: 'invalid-input', val: 'config.tag must be a string' };
  }
  tagHeader = parsed.tag === undefined ? null : { name: 'uppercased-by', value: encodeUtf8(parsed.tag) };
  log('info', `uppercase-js configured${tagHeader ? ` (tag "${parsed.tag}")` : ''}`);
}

export function process(batch) {
  const out = new Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    const record = batch[i];
    out[i] = {
      key: record.key,
      value: encodeUtf8(decodeUtf8(record.value).toUpperCase()),
      headers: tagHeader ? [...record.headers, tagHeader] : record.headers,
      eventTime: record.eventTime,
    };
  }
  return out;
}
