// Example (enrich with keyed state, JavaScript): counts the records of each key
// in the node's keyed state and adds a header `count` with the running count
// (records without a key count under the empty key).
// Twins: count-by-key-as, count-by-key-rust (same output, byte for byte).
import { get, set } from 'weir:plugin/state@0.1.0';
import { decodeUtf8, encodeUtf8 } from '../../sdk/js/src/utf8.js';

export function configure(config) {}

export function processBatch(batch, out) {
  while (batch.next()) {
    const key = batch.key ?? new Uint8Array(0);
    const previous = get(key);
    const count = String((previous ? Number(decodeUtf8(previous)) : 0) + 1);
    set(key, encodeUtf8(count));
    out.pass(batch);
    out.addHeader('count', encodeUtf8(count));
  }
}
