// TextEncoder and TextDecoder (UTF-8 only) for QuickJS, which has neither.
// `host build` imports this module before the plugin's (QuickJS builds), so
// they are globals in every plugin; an engine that has its own keeps them.
// Built on utf8.js: native speed for valid text (see there).
import { decodeUtf8, decodeUtf8Strict, encodeUtf8 } from './utf8.js';

const UTF8_LABELS = new Set(['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8']);

/** As in the Encoding Standard: `encode` and `encodeInto`, UTF-8. */
export class WeirTextEncoder {
  get encoding() {
    return 'utf-8';
  }

  /** @param {string} [input] @returns {Uint8Array} */
  encode(input = '') {
    return encodeUtf8(String(input));
  }

  /**
   * Writes as much of `source` as fits (whole chars only) into `destination`.
   *
   * @param {string} source
   * @param {Uint8Array} destination
   * @returns {{ read: number, written: number }} chars (UTF-16 code units) read, bytes written
   */
  encodeInto(source, destination) {
    const text = String(source);
    const bytes = encodeUtf8(text);
    if (bytes.length <= destination.length) {
      destination.set(bytes);
      return { read: text.length, written: bytes.length };
    }
    // Cut at the last whole char that fits: a lead byte never looks like a continuation byte (10xxxxxx).
    let written = destination.length;
    while (written > 0 && (bytes[written] & 0xc0) === 0x80) written--;
    destination.set(bytes.subarray(0, written));
    return { read: decodeUtf8(bytes.subarray(0, written)).length, written };
  }
}

/** As in the Encoding Standard, for UTF-8 only, and without `stream`. */
export class WeirTextDecoder {
  #fatal;
  #ignoreBOM;

  /** @param {string} [label] @param {{ fatal?: boolean, ignoreBOM?: boolean }} [options] */
  constructor(label = 'utf-8', options = {}) {
    if (!UTF8_LABELS.has(String(label).trim().toLowerCase())) throw new RangeError(`TextDecoder: encoding "${label}" is not supported (only UTF-8)`);
    this.#fatal = Boolean(options.fatal);
    this.#ignoreBOM = Boolean(options.ignoreBOM);
  }

  get encoding() {
    return 'utf-8';
  }

  get fatal() {
    return this.#fatal;
  }

  get ignoreBOM() {
    return this.#ignoreBOM;
  }

  /** @param {ArrayBuffer | ArrayBufferView} [input] @param {{ stream?: boolean }} [options] @returns {string} */
  decode(input, options = {}) {
    if (options.stream) throw new TypeError('TextDecoder: { stream: true } is not supported');
    if (input === undefined) return '';
    let bytes;
    if (input instanceof Uint8Array) bytes = input;
    else if (ArrayBuffer.isView(input)) bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    else if (input instanceof ArrayBuffer || input instanceof SharedArrayBuffer) bytes = new Uint8Array(input);
    else throw new TypeError('TextDecoder.decode: input must be an ArrayBuffer or a view of one');
    const text = this.#fatal ? decodeUtf8Strict(bytes) : decodeUtf8(bytes);
    return !this.#ignoreBOM && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
}

if (typeof globalThis.TextEncoder !== 'function') globalThis.TextEncoder = WeirTextEncoder;
if (typeof globalThis.TextDecoder !== 'function') globalThis.TextDecoder = WeirTextDecoder;
