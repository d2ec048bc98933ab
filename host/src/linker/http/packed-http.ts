/**
 * The packed forms of an HTTP request and response that core modules
 * exchange through the `weir.http_send` import (sdk/assemblyscript/ABI.md).
 * All integers are little-endian u32; strings are a length and UTF-8 bytes.
 *
 * ```
 * request  := str method, str url, u32 headerCount, (str name, str value){headerCount}, u32 bodyLen, body
 * response := u32 status, u32 headerCount, (str name, str value){headerCount}, u32 bodyLen, body
 * ```
 */
import { WeirError } from '../../errors/errors.js';
import type { HttpCaller, HttpRequest, HttpResponse } from './send-request.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Reads a packed request; a malformed one is a fatal plugin error. */
export function decodeHttpRequest(bytes: Uint8Array, caller: HttpCaller): HttpRequest {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const take = (length: number): Uint8Array => {
    if (at + length > bytes.byteLength) throw new RangeError(`needs ${at + length} bytes, has ${bytes.byteLength}`);
    const part = bytes.subarray(at, at + length);
    at += length;
    return part;
  };
  const u32 = (): number => new DataView(take(4).slice().buffer).getUint32(0, true);
  const str = (): string => decoder.decode(take(u32()));
  try {
    const method = str();
    const url = str();
    const count = u32();
    const headers: Array<[string, string]> = [];
    for (let i = 0; i < count; i++) headers.push([str(), str()]);
    const body = take(u32()).slice();
    if (at !== view.byteLength) throw new RangeError(`${view.byteLength - at} bytes left over`);
    return { method, url, headers, body };
  } catch (error) {
    throw new WeirError('WEIR_HTTP_FAILED', `malformed packed HTTP request from the plugin: ${(error as Error).message}`, { ...caller, kind: 'fatal' });
  }
}

/** Packs a response for the guest. */
export function encodeHttpResponse(response: HttpResponse): Uint8Array {
  const headers = response.headers.map(([name, value]) => [encoder.encode(name), encoder.encode(value)] as const);
  const size = 12 + headers.reduce((n, [name, value]) => n + 8 + name.byteLength + value.byteLength, 0) + response.body.byteLength;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  const u32 = (value: number) => {
    view.setUint32(at, value, true);
    at += 4;
  };
  const bytes = (value: Uint8Array) => {
    u32(value.byteLength);
    out.set(value, at);
    at += value.byteLength;
  };
  u32(response.status);
  u32(headers.length);
  for (const [name, value] of headers) {
    bytes(name);
    bytes(value);
  }
  bytes(response.body);
  return out;
}
