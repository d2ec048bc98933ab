// Bytes <-> strings for plugins, at native speed in QuickJS (componentize-qjs),
// which has no TextEncoder/TextDecoder of its own (`host build` installs the
// ones of text-codec.js, built on these functions).
//
// A loop over the bytes runs in QuickJS's interpreter, one bytecode at a time;
// these chain built-ins that QuickJS implements in C instead: base64
// (`Uint8Array.prototype.toBase64`, `Uint8Array.fromBase64`, `atob`, `btoa`)
// turns bytes into a "binary string" (one char per byte) and back, and
// `escape` + `decodeURIComponent` (`encodeURIComponent` + `unescape`) turn a
// binary string of UTF-8 into text (text into UTF-8). ASCII skips the second
// step. Input those built-ins refuse (malformed UTF-8, lone surrogates) takes
// a plain JavaScript loop with the WHATWG Encoding Standard's answers (U+FFFD
// for each maximal invalid subpart; a lone surrogate encodes as U+FFFD), the
// same as TextDecoder/TextEncoder. An engine without the base64 built-ins
// takes the loops for everything.

const NATIVE_BASE64 = typeof Uint8Array.fromBase64 === 'function' && typeof Uint8Array.prototype.toBase64 === 'function' && typeof atob === 'function' && typeof btoa === 'function';
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The binary string of `bytes`: one char (U+0000 to U+00FF) per byte.
 *
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function bytesToLatin1(bytes) {
  if (NATIVE_BASE64) return atob(bytes.toBase64());
  let text = '';
  for (let i = 0; i < bytes.length; i += 4096) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096));
  return text;
}

/**
 * The bytes of a binary string (each char U+0000 to U+00FF becomes one byte).
 *
 * @param {string} text
 * @returns {Uint8Array}
 * @throws {RangeError} when a char is above U+00FF
 */
export function latin1ToBytes(text) {
  if (NATIVE_BASE64) {
    try {
      return Uint8Array.fromBase64(btoa(text));
    } catch {
      // a char above U+00FF: reported below
    }
  }
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`latin1ToBytes: char ${i} (U+${c.toString(16).toUpperCase().padStart(4, '0')}) is above U+00FF`);
    out[i] = c;
  }
  return out;
}

/**
 * Encodes a string as UTF-8 bytes (as TextEncoder does: a lone surrogate becomes U+FFFD).
 *
 * @param {string} text
 * @returns {Uint8Array}
 */
export function encodeUtf8(text) {
  if (NATIVE_BASE64) {
    if (!NON_ASCII.test(text)) return Uint8Array.fromBase64(btoa(text));
    try {
      return Uint8Array.fromBase64(btoa(unescape(encodeURIComponent(text))));
    } catch {
      // a lone surrogate: encodeURIComponent refuses it
    }
  }
  return encodeUtf8Loop(text);
}

/**
 * The UTF-8 encoding of a string as a binary string (one char per byte, as
 * `bytesToLatin1(encodeUtf8(text))` gives, without making the bytes).
 *
 * @param {string} text
 * @returns {string}
 */
export function encodeUtf8Latin1(text) {
  if (!NON_ASCII.test(text)) return text;
  try {
    return unescape(encodeURIComponent(text));
  } catch {
    // a lone surrogate: encodeURIComponent refuses it
    return bytesToLatin1(encodeUtf8Loop(text));
  }
}

/**
 * Decodes UTF-8 bytes; each maximal invalid subpart becomes U+FFFD (as
 * TextDecoder does). A byte order mark is kept (TextDecoder drops it unless
 * `ignoreBOM`).
 *
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function decodeUtf8(bytes) {
  const valid = decodeValidUtf8(bytes);
  return valid === undefined ? decodeUtf8Loop(bytes, false) : valid;
}

/**
 * Decodes UTF-8 bytes, or throws a TypeError when they are not valid UTF-8
 * (TextDecoder with `fatal: true`). A byte order mark is kept.
 *
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function decodeUtf8Strict(bytes) {
  const valid = decodeValidUtf8(bytes);
  return valid === undefined ? decodeUtf8Loop(bytes, true) : valid;
}

/**
 * Decodes UTF-8 held in a binary string (one char per byte, as
 * `bytesToLatin1` gives); as `decodeUtf8(latin1ToBytes(binary))`.
 *
 * @param {string} binary
 * @returns {string}
 */
export function decodeUtf8Latin1(binary) {
  if (!NON_ASCII.test(binary)) return binary;
  try {
    return decodeURIComponent(escape(binary));
  } catch {
    return decodeUtf8Loop(latin1ToBytes(binary), false);
  }
}

/** The text of `bytes` when the built-ins can decode them (valid UTF-8), else undefined. */
function decodeValidUtf8(bytes) {
  if (!NATIVE_BASE64) return undefined;
  const binary = atob(bytes.toBase64());
  if (!NON_ASCII.test(binary)) return binary;
  try {
    return decodeURIComponent(escape(binary));
  } catch {
    return undefined;
  }
}

function encodeUtf8Loop(text) {
  const out = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xe000) {
      const d = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (c < 0xdc00 && d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else {
        c = 0xfffd;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

/** The WHATWG UTF-8 decoder: U+FFFD for each maximal invalid subpart, or a TypeError when `fatal`. */
function decodeUtf8Loop(bytes, fatal) {
  let text = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    if (b < 0x80) {
      text += String.fromCharCode(b);
      i++;
      continue;
    }
    let need;
    let c;
    let lower = 0x80;
    let upper = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; c = b & 0x1f; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; c = b & 0x0f; if (b === 0xe0) lower = 0xa0; if (b === 0xed) upper = 0x9f; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; c = b & 0x07; if (b === 0xf0) lower = 0x90; if (b === 0xf4) upper = 0x8f; }
    else need = 0;
    let j = i + 1;
    let ok = need > 0;
    for (let k = 0; ok && k < need; k++, j++) {
      const x = j < bytes.length ? bytes[j] : -1;
      if (x < lower || x > upper) ok = false;
      else c = (c << 6) | (x & 0x3f);
      lower = 0x80;
      upper = 0xbf;
    }
    if (!ok) {
      if (fatal) throw new TypeError(`The encoded data was not valid UTF-8 (byte ${i})`);
      text += '\ufffd';
      // The maximal subpart: the lead byte and the continuation bytes that were valid.
      i = Math.max(i + 1, j - 1);
      continue;
    }
    text += String.fromCodePoint(c);
    i = j;
  }
  return text;
}
