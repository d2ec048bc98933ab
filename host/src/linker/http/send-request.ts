/**
 * Sends one plugin HTTP request (`weir:plugin/http.send`) under a node's
 * grant: the URL and every redirect target must be a granted host, the whole
 * exchange must finish within `timeoutMs`, and the body may not exceed
 * `maxResponseBytes`; a granted host name may not lead to a loopback or
 * private address unless the grant says `denyPrivateAddresses: false` (see
 * private-addresses.ts: checked at connect time, redirects included).
 * Sent with `node:http`/`node:https` rather than `fetch`, because only
 * they take the socket's DNS lookup per request; a new connection for every
 * request, so a connection made under one grant is never reused under
 * another. Failures are `WeirError`s whose `details.kind` is the
 * WIT error case the plugin receives: `transient` (timeout, connection
 * failed: retrying may help) or `invalid-input` (host not granted, bad URL,
 * body too large: it never will).
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { LookupFunction } from 'node:net';
import { WeirError, messageOf } from '../../errors/errors.js';
import { hostAllowed } from '../../contract/http-grant.js';
import type { HttpGrant } from '../../contract/http-grant.js';
import { PrivateAddressRefused, publicOnlyLookup } from './private-addresses.js';

/** A request as the plugin sends it (the WIT `http.request` record). */
export interface HttpRequest {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  /** Empty: no body. */
  body: Uint8Array;
}

/** A whole response (the WIT `http.response` record). */
export interface HttpResponse {
  status: number;
  headers: Array<[string, string]>;
  body: Uint8Array;
}

/** Who is asking, for error messages and details. */
export interface HttpCaller {
  node: string;
  plugin: string;
}

const MAX_REDIRECTS = 5;
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Checks `request` against `grant` before anything is sent; throws what {@link sendRequest} would. */
export function checkRequest(grant: HttpGrant | undefined, request: HttpRequest, caller: HttpCaller): URL {
  if (!METHOD.test(request.method)) throw failed(`"${request.method}" is not an HTTP method`, 'invalid-input', caller);
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw failed(`"${request.url}" is not an absolute URL`, 'invalid-input', caller);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw failed(`${request.url}: only http and https URLs can be requested`, 'invalid-input', caller);
  if (!grant) {
    throw new WeirError('WEIR_HTTP_DENIED', `node "${caller.node}" is not granted outgoing HTTP (${request.method} ${url.origin}): grant it with "capabilities": {"http": {"hosts": ["${url.host}"]}}`, { ...caller, kind: 'invalid-input', url: url.href });
  }
  if (!hostAllowed(grant, url)) throw denied(grant, url, caller);
  return url;
}

/** How one request is bounded beyond its grant. */
export interface SendOptions {
  /** A tighter time limit than the grant's (the rest of a worker call's budget). */
  timeoutMs?: number;
  /** Why the request timed out when `timeoutMs` is the one that ran out. */
  timeoutReason?: string;
  /** Aborts the request (its instance was closed or poisoned). */
  signal?: AbortSignal;
}

/** Headers that carry credentials: not sent on to another origin by a redirect. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** Sends `request` and reads the whole response. */
export async function sendRequest(grant: HttpGrant | undefined, request: HttpRequest, caller: HttpCaller, options: SendOptions = {}): Promise<HttpResponse> {
  let url = checkRequest(grant, request, caller);
  const { maxResponseBytes } = grant!;
  const tighter = options.timeoutMs !== undefined && options.timeoutMs < grant!.timeoutMs;
  const timeoutMs = tighter ? Math.max(0, Math.floor(options.timeoutMs!)) : grant!.timeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  let method = request.method.toUpperCase();
  let headers = request.headers;
  let body = request.body.byteLength > 0 ? (request.body as Uint8Array<ArrayBuffer>) : undefined;
  try {
    // What fetch would refuse (a header name with a space, a body on a GET, credentials in the URL) is the plugin's mistake.
    new Request(url, { method, headers, body });
  } catch (error) {
    throw failed(`${method} ${request.url} is not a valid request: ${messageOf(error)}`, 'invalid-input', caller);
  }
  const lookup = grant!.denyPrivateAddresses === false ? undefined : publicOnlyLookup();
  try {
    for (let hop = 0; ; hop++) {
      const response = await exchange(url, method, headers, body, signal, lookup);
      const status = response.statusCode ?? 0;
      const location = response.headers['location'];
      if (!isRedirect(status) || typeof location !== 'string') {
        return { status, headers: headerPairs(response), body: await readBody(response, url, maxResponseBytes, caller) };
      }
      response.destroy();
      if (hop === MAX_REDIRECTS) throw failed(`${request.url}: more than ${MAX_REDIRECTS} redirects`, 'invalid-input', caller);
      const next = redirectTarget(location, url, grant!, caller);
      // As fetch does: credentials stay with their origin, and a redirect that drops the body drops its description too.
      if (next.origin !== url.origin) headers = headers.filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase()));
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        headers = headers.filter(([name]) => !name.toLowerCase().startsWith('content-'));
      }
      url = next;
    }
  } catch (error) {
    if (error instanceof WeirError) throw error;
    if (error instanceof PrivateAddressRefused) throw privateRefused(url, error, caller);
    if (timeout.aborted) {
      const why = tighter ? options.timeoutReason ?? 'the time left for the call' : 'capabilities.http.timeoutMs';
      throw failed(`${method} ${request.url} did not finish within ${timeoutMs} ms (${why})`, 'transient', caller);
    }
    if (options.signal?.aborted) throw failed(`${method} ${request.url} was abandoned: its plugin instance stopped`, 'transient', caller);
    throw failed(`${method} ${request.url} failed: ${causeOf(error)}`, 'transient', caller);
  }
}

/** Where a redirect leads, if it may be followed. */
function redirectTarget(location: string, from: URL, grant: HttpGrant, caller: HttpCaller): URL {
  let url: URL;
  try {
    url = new URL(location, from);
  } catch {
    throw failed(`${from.href} redirected to "${location}", which is not a URL`, 'invalid-input', caller);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw failed(`${from.href} redirected to ${url.protocol} ${location}: only http and https are followed`, 'invalid-input', caller);
  if (url.username || url.password) throw failed(`${from.href} redirected to a URL with credentials, which is not followed`, 'invalid-input', caller);
  if (!hostAllowed(grant, url)) throw denied(grant, url, caller, ' (a redirect target)');
  return url;
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

/** Sends one request (no redirects followed) and resolves with the response head; the body is left to read. */
function exchange(url: URL, method: string, headers: Array<[string, string]>, body: Uint8Array | undefined, signal: AbortSignal, lookup: LookupFunction | undefined): Promise<IncomingMessage> {
  const outgoing: OutgoingHttpHeaders = {};
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    const earlier = outgoing[key];
    outgoing[key] = earlier === undefined ? value : [...(Array.isArray(earlier) ? earlier : [String(earlier)]), value];
  }
  if (body !== undefined && outgoing['content-length'] === undefined) outgoing['content-length'] = String(body.byteLength);
  // Loaded on the first request, not at start-up: importing `node:http` as an ES module costs a run that sends
  // nothing ~15 ms (its namespace reads every lazy export, undici's included).
  const send = url.protocol === 'https:' ? process.getBuiltinModule('node:https').request : process.getBuiltinModule('node:http').request;
  return new Promise((resolve, reject) => {
    const request = send(url, { method, headers: outgoing, signal, agent: false, ...(lookup ? { lookup } : {}) }, (response) => {
      // An abort while the body is read ends the body too.
      signal.addEventListener('abort', () => response.destroy(signal.reason as Error), { once: true });
      resolve(response);
    });
    request.once('error', reject);
    request.end(body);
  });
}

/** Response headers as name/value pairs (names in lower case), as received. */
function headerPairs(response: IncomingMessage): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) pairs.push([response.rawHeaders[i]!.toLowerCase(), response.rawHeaders[i + 1]!]);
  return pairs;
}

async function readBody(response: IncomingMessage, url: URL, max: number, caller: HttpCaller): Promise<Uint8Array> {
  const declared = Number(response.headers['content-length'] ?? NaN);
  if (declared > max) {
    response.destroy();
    throw tooLarge(url.href, max, caller);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > max) {
      response.destroy();
      throw tooLarge(url.href, max, caller);
    }
    chunks.push(chunk);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

function tooLarge(url: string, max: number, caller: HttpCaller): WeirError {
  return failed(`the response from ${url} is larger than ${max} bytes (raise capabilities.http.maxResponseBytes if it is expected)`, 'invalid-input', caller);
}

function denied(grant: HttpGrant, url: URL, caller: HttpCaller, what = ''): WeirError {
  return new WeirError(
    'WEIR_HTTP_DENIED',
    `node "${caller.node}" may not reach ${url.host}${what}: its http grant lists ${grant.hosts.join(', ') || 'no hosts'}; add the host to "capabilities": {"http": {"hosts": [...]}}`,
    { ...caller, kind: 'invalid-input', url: url.href },
  );
}

function privateRefused(url: URL, refused: PrivateAddressRefused, caller: HttpCaller): WeirError {
  const literal = refused.address.includes(':') ? `[${refused.address}]` : refused.address;
  return new WeirError(
    'WEIR_HTTP_DENIED',
    `node "${caller.node}" may not reach ${url.host}: ${refused.message}, which its http grant refuses for host names ("denyPrivateAddresses" is on by default); grant the address itself ("${literal}"), or set "denyPrivateAddresses": false if the name is meant to lead there`,
    { ...caller, kind: 'invalid-input', url: url.href, address: refused.address },
  );
}

function failed(message: string, kind: 'transient' | 'invalid-input', caller: HttpCaller): WeirError {
  return new WeirError('WEIR_HTTP_FAILED', message, { ...caller, kind });
}

/** fetch wraps network errors as "fetch failed"; the cause says what happened. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  return cause ? messageOf(cause) : messageOf(error);
}
