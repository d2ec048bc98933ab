// UTF-8 for plugins built with componentize-qjs: QuickJS has no TextEncoder/TextDecoder.

/** Encodes a string as UTF-8 bytes. */
export function encodeUtf8(text) {
  const out = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return new Uint8Array(out);
}

/** Decodes UTF-8 bytes; invalid sequences become U+FFFD. */
export function decodeUtf8(bytes) {
  let text = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    let c;
    let n;
    if (b < 0x80) { c = b; n = 1; }
    else if (b >= 0xc2 && b < 0xe0) { c = b & 31; n = 2; }
    else if (b >= 0xe0 && b < 0xf0) { c = b & 15; n = 3; }
    else if (b >= 0xf0 && b < 0xf5) { c = b & 7; n = 4; }
    else { text += '\ufffd'; i++; continue; }
    if (i + n > bytes.length) { text += '\ufffd'; break; }
    let ok = true;
    for (let k = 1; k < n; k++) {
      const x = bytes[i + k];
      if ((x & 0xc0) !== 0x80) { ok = false; break; }
      c = (c << 6) | (x & 63);
    }
    if (!ok) { text += '\ufffd'; i++; continue; }
    text += String.fromCodePoint(c);
    i += n;
  }
  return text;
}
