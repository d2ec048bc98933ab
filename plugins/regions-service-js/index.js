// Example (service, JavaScript): a lookup table from config,
// {"table": {"alice": "eu", ...}}. Method "get" with a key as payload returns
// its value; a missing key is an invalid-input error. Twin: regions-service-rust.
import { decodeUtf8, encodeUtf8 } from '../../sdk/js/src/utf8.js';

let table = new Map();

export function configure(config) {
  const parsed = JSON.parse(config);
  if (typeof parsed.table !== 'object' || parsed.table === null) throw { tag: 'invalid-input', val: 'config.table must be an object of strings' };
  table = new Map(Object.entries(parsed.table).map(([k, v]) => [k, encodeUtf8(String(v))]));
}

export function call(method, payload) {
  if (method !== 'get') throw { tag: 'invalid-input', val: `no method "${method}" (this service has "get")` };
  const key = decodeUtf8(payload);
  const value = table.get(key);
  if (value === undefined) throw { tag: 'invalid-input', val: `no entry for "${key}"` };
  return value;
}
