/**
 * Caps the size of text a plugin controls (log lines, error messages) before
 * the host copies it into logs, errors and dead-letter headers: a plugin can
 * return a 1 MiB message, and each copy would cost that much again.
 */

/** The most characters of a plugin's message the host keeps (about 8 KiB of ASCII). */
export const MAX_MESSAGE_CHARS = 8192;

/**
 * `text` if it has at most `max` characters, else its first `max` characters
 * and a marker saying how many were cut.
 *
 * @example
 * boundedText('x'.repeat(10_000)); // 'xxx…x… [1808 more characters cut]'
 */
export function boundedText(text: string, max: number = MAX_MESSAGE_CHARS): string {
  if (text.length <= max) return text;
  // Never split a surrogate pair.
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}… [${text.length - end} more characters cut]`;
}

/**
 * Decodes at most `max` characters' worth of UTF-8 from `bytes` (up to 4
 * bytes a character are read), marking the cut the way {@link boundedText}
 * does, so that a huge guest buffer is never decoded whole.
 */
export function boundedUtf8(bytes: Uint8Array, max: number = MAX_MESSAGE_CHARS): string {
  const window = 4 * max;
  if (bytes.byteLength <= window) return boundedText(decoder.decode(bytes), max);
  const head = boundedText(decoder.decode(bytes.subarray(0, window)), max);
  const kept = head.length > max ? head.slice(0, head.lastIndexOf('… [')) : head;
  return `${kept}… [${bytes.byteLength - encodedLength(kept)} more bytes cut]`;
}

const decoder = new TextDecoder();

function encodedLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
