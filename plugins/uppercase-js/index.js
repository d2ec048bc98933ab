// Example (uppercase, JavaScript): upper-cases the ASCII letters a-z of each
// record's value, keeping key, headers and event time. Config: {"tag": "..."}
// (optional) adds a header `uppercased-by` with that text.
// Twins: uppercase-as, uppercase-rust (same output, byte for byte).
//
// It exports `processBatch`, so `host build` gives it the packed export
// (sdk/js/README.md, "Packed batches"): records are read in place from one
// buffer and written into another, with no object per record.
import { log } from 'weir:plugin/log@0.1.0';
import { encodeUtf8 } from '../../sdk/js/src/utf8.js';

let tag = null;

export function configure(config) {
  const parsed = JSON.parse(config);
  if (parsed.tag !== undefined && typeof parsed.tag !== 'string') {
    throw { tag: 'invalid-input', val: 'config.tag must be a string' };
  }
  tag = parsed.tag === undefined ? null : encodeUtf8(parsed.tag);
  log('info', `uppercase-js configured${tag ? ` (tag "${parsed.tag}")` : ''}`);
}

const NON_ASCII = /[^\x00-\x7f]/;

/** The value with a-z upper-cased, byte by byte (for values with bytes above 0x7f, where toUpperCase would change more). */
function upperAsciiBytes(value) {
  const out = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    out[i] = c >= 97 && c <= 122 ? c - 32 : c;
  }
  return out;
}

export function processBatch(batch, out) {
  while (batch.next()) {
    // ASCII (the common case) in native code: one char per byte, and toUpperCase changes only a-z there.
    const text = batch.valueLatin1();
    if (!NON_ASCII.test(text)) out.passWithLatin1(batch, text.toUpperCase());
    else out.passWithValue(batch, upperAsciiBytes(batch.value));
    if (tag) out.addHeader('uppercased-by', tag);
  }
}
