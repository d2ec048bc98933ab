/**
 * Outgoing HTTP grants: which hosts a node's plugin may reach through the
 * `weir:plugin/http` interface, and how long and how much it may wait for.
 *
 * ```json
 * "capabilities": { "http": { "hosts": ["api.example.com", "*.internal.example:8443", "127.0.0.1:8080"],
 *                             "timeoutMs": 10000, "maxResponseBytes": 1048576 } }
 * ```
 *
 * A host pattern is a host name or IP address, optionally `*.` in front (any
 * subdomain, not the domain itself) and optionally `:port` behind (that port
 * only; without it, any port). Both `http` and `https` URLs are allowed.
 * A host *name* that resolves to a loopback, private or other non-public address is refused
 * unless `"denyPrivateAddresses": false` (see private-addresses.ts).
 */

/** What a node grants for outgoing HTTP. */
export interface HttpGrant {
  /** Host patterns, as written in pipeline.json. */
  readonly hosts: readonly string[];
  /** Wall time for one request, redirects and the whole body included. */
  readonly timeoutMs: number;
  /** Largest response body the plugin receives; a larger one fails the request. */
  readonly maxResponseBytes: number;
  /**
   * Refuse a granted host name (or redirect target) that resolves to a
   * loopback, private or link-local address, checked on the address
   * connected to; hosts granted as IP addresses are not affected. Absent: true.
   */
  readonly denyPrivateAddresses?: boolean;
}

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1 << 20;

const PATTERN = /^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(:(\d{1,5}))?$/i;

/** Why `pattern` is not a host pattern, or `undefined` when it is one. */
export function hostPatternProblem(pattern: string): string | undefined {
  const match = PATTERN.exec(pattern);
  if (!match) {
    return `"${pattern}" is not a host pattern: write a host name or IP address, optionally with "*." in front (subdomains) and ":port" behind, without a scheme or path`;
  }
  if (match[7] !== undefined && (Number(match[7]) < 1 || Number(match[7]) > 65535)) return `"${pattern}" has a port outside 1-65535`;
  const host = match[2]!.toLowerCase();
  if (match[1] && (host.startsWith('[') || /^[0-9.]+$/.test(host))) return `"${pattern}": "*." goes in front of a domain name, not an IP address`;
  // URLs reach the check in canonical form (127.1 is 127.0.0.1, [0:0::1] is [::1]): a pattern must be written so too.
  let canonical: string;
  try {
    canonical = new URL(`http://${host}/`).hostname;
  } catch {
    return `"${pattern}" is not a valid host name or IP address`;
  }
  if (canonical !== host) return `"${pattern}" would never match: URLs name this host ${canonical}; write that instead`;
  return undefined;
}

/** Whether `url` (http or https) points at a host `grant` lists. */
export function hostAllowed(grant: HttpGrant, url: URL): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return grant.hosts.some((pattern) => {
    const match = PATTERN.exec(pattern);
    if (!match) return false;
    const name = match[2]!.toLowerCase();
    if (match[7] !== undefined && String(Number(match[7])) !== port) return false;
    return match[1] ? host.endsWith(`.${name}`) : host === name;
  });
}
