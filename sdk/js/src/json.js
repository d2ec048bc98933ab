// JSON record values: bytes of UTF-8 JSON <-> JavaScript values, with
// QuickJS's native JSON.parse/JSON.stringify and the native UTF-8 of utf8.js.
import { decodeUtf8Strict, encodeUtf8 } from './utf8.js';

/**
 * Parses a record value holding UTF-8 JSON (a leading byte order mark is skipped).
 *
 * @param {Uint8Array} bytes
 * @returns {unknown}
 * @throws {SyntaxError} when the text is not JSON
 * @throws {TypeError} when the bytes are not valid UTF-8
 */
export function parseJson(bytes) {
  const text = decodeUtf8Strict(bytes);
  // A leading byte order mark is not part of the text (as TextDecoder reads it).
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
}

/**
 * The UTF-8 bytes of `JSON.stringify(value)`.
 *
 * @param {unknown} value
 * @returns {Uint8Array}
 * @throws {TypeError} when `value` has no JSON form (undefined, a function, a symbol) or is circular
 */
export function stringifyJson(value) {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`stringifyJson: a ${typeof value} has no JSON form`);
  return encodeUtf8(text);
}
