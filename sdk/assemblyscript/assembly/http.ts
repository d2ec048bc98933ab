// Outgoing HTTP (import "weir"."http_send"; see ../ABI.md): requests to the
// hosts the node grants ("capabilities": {"http": {"hosts": [...]}} in
// pipeline.json). A plugin that calls `httpSend` imports it; the host refuses
// such a plugin at load on a node without the grant.
import { ErrorKind } from "./processor";

@external("weir", "http_send")
declare function hostHttpSend(ptr: usize, len: i32): i32;
@external("weir", "take")
declare function hostTake(ptr: usize): void;

/** An HTTP request. */
export class HttpRequest {
  /** Name/value pairs, in order. */
  headers: string[][] = [];
  /** Empty: no body. */
  body: Uint8Array = new Uint8Array(0);
  constructor(public method: string, public url: string) {}

  /** Adds a header; returns the request for chaining. */
  header(name: string, value: string): HttpRequest {
    this.headers.push([name, value]);
    return this;
  }
}

/** A whole HTTP response (any status). */
export class HttpResponse {
  constructor(public status: i32, public headers: string[][], public body: Uint8Array) {}

  /** The first header called `name` (lowercase: the host gives header names in lowercase), or null. */
  header(name: string): string | null {
    for (let i = 0; i < this.headers.length; i++) if (this.headers[i][0] == name) return this.headers[i][1];
    return null;
  }

  /** The body as UTF-8 text. */
  text(): string {
    return String.UTF8.decodeUnsafe(this.body.dataStart, this.body.length);
  }
}

let errorKind: ErrorKind = ErrorKind.Fatal;
let errorMessage: string | null = null;

/**
 * Sends `request` and waits for the whole response. Returns null when it
 * failed; `httpErrorKind()` and `httpError()` then say why (InvalidInput:
 * host not granted, malformed URL or method, body over the grant's
 * maxResponseBytes; Transient: timeout or connection failure).
 */
export function httpSend(request: HttpRequest): HttpResponse | null {
  const packed = pack(request);
  const len = hostHttpSend(packed.dataStart, packed.length);
  if (len >= 0) {
    errorMessage = null;
    return unpack(take(len));
  }
  // -1 - len bytes are pending: the error kind (1 byte), then the UTF-8 message.
  const failure = take(-1 - len);
  errorKind = <ErrorKind>failure[0];
  errorMessage = String.UTF8.decodeUnsafe(failure.dataStart + 1, failure.length - 1);
  return null;
}

/** Why the last `httpSend` failed (Transient or InvalidInput, as the WIT error). */
export function httpErrorKind(): ErrorKind {
  return errorKind;
}

/** The message of the last failed `httpSend`, or null when it succeeded. */
export function httpError(): string | null {
  return errorMessage;
}

function take(len: i32): Uint8Array {
  const out = new Uint8Array(len);
  if (len > 0) hostTake(out.dataStart);
  return out;
}

class Writer {
  bytes: u8[] = [];
  u32(value: u32): void {
    for (let i = 0; i < 4; i++) this.bytes.push(<u8>(value >> (8 * i)));
  }
  raw(data: Uint8Array): void {
    this.u32(data.length);
    for (let i = 0; i < data.length; i++) this.bytes.push(data[i]);
  }
  str(text: string): void {
    this.raw(Uint8Array.wrap(String.UTF8.encode(text)));
  }
}

function pack(request: HttpRequest): Uint8Array {
  const w = new Writer();
  w.str(request.method);
  w.str(request.url);
  w.u32(request.headers.length);
  for (let i = 0; i < request.headers.length; i++) {
    w.str(request.headers[i][0]);
    w.str(request.headers[i][1]);
  }
  w.raw(request.body);
  const out = new Uint8Array(w.bytes.length);
  for (let i = 0; i < w.bytes.length; i++) out[i] = w.bytes[i];
  return out;
}

function unpack(data: Uint8Array): HttpResponse {
  let at = 0;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const status = view.getUint32(at, true);
  const count = view.getUint32(at + 4, true);
  at += 8;
  const headers: string[][] = [];
  for (let i: u32 = 0; i < count; i++) {
    const nameLen = view.getUint32(at, true);
    const name = String.UTF8.decodeUnsafe(data.dataStart + at + 4, nameLen);
    at += 4 + nameLen;
    const valueLen = view.getUint32(at, true);
    const value = String.UTF8.decodeUnsafe(data.dataStart + at + 4, valueLen);
    at += 4 + valueLen;
    headers.push([name, value]);
  }
  const bodyLen = view.getUint32(at, true);
  return new HttpResponse(<i32>status, headers, data.slice(at + 4, at + 4 + bodyLen));
}
