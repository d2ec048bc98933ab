/**
 * Loopback, private, link-local and unspecified addresses, and the DNS
 * lookup that keeps a granted host *name* away from them
 * (`"denyPrivateAddresses"`, on by default). The check runs on the
 * addresses the connection is about to use (the socket's `lookup`), not on
 * an earlier resolution, so a name that resolves to a public address once
 * and to 127.0.0.1 the next time (DNS rebinding) gains nothing; redirects
 * connect through the same lookup. Hosts written as IP addresses never go
 * through a lookup: the user named that address, so it stays reachable.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { isIPv4, isIPv6 } from 'node:net';
import type { LookupFunction } from 'node:net';

/** IPv4 ranges refused: [first address as a 32-bit number, prefix length]. */
const IPV4_RANGES: ReadonlyArray<readonly [number, number]> = [
  [ipv4('0.0.0.0'), 8], // "this network", 0.0.0.0 included
  [ipv4('10.0.0.0'), 8],
  [ipv4('127.0.0.0'), 8],
  [ipv4('169.254.0.0'), 16],
  [ipv4('172.16.0.0'), 12],
  [ipv4('192.168.0.0'), 16],
];

/**
 * Whether `address` (an IPv4 or IPv6 literal) is loopback (127/8, ::1),
 * private (10/8, 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16,
 * fe80::/10) or unspecified (0.0.0.0/8, ::), IPv4-mapped IPv6 forms
 * (`::ffff:127.0.0.1`) included. Anything that is not an IP literal counts
 * as private (refused rather than guessed).
 */
export function isPrivateAddress(address: string): boolean {
  if (isIPv4(address)) return privateIpv4(ipv4(address));
  if (!isIPv6(address)) return true;
  const groups = ipv6Groups(address.replace(/%.*$/, ''));
  if (groups.slice(0, 7).every((g) => g === 0) && (groups[7] === 0 || groups[7] === 1)) return true; // :: and ::1
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return privateIpv4(((groups[6]! << 16) | groups[7]!) >>> 0); // ::ffff:a.b.c.d
  if ((groups[0]! & 0xfe00) === 0xfc00) return true; // fc00::/7
  if ((groups[0]! & 0xffc0) === 0xfe80) return true; // fe80::/10
  return false;
}

function privateIpv4(value: number): boolean {
  return IPV4_RANGES.some(([first, prefix]) => ((value ^ first) >>> (32 - prefix)) === 0);
}

function ipv4(address: string): number {
  return address.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

/** The eight 16-bit groups of an IPv6 literal (a dotted IPv4 tail included). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = ipv4(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** The error a refused lookup fails the connection with. */
export class PrivateAddressRefused extends Error {
  constructor(readonly hostname: string, readonly address: string) {
    super(`${hostname} resolves to ${address}, a loopback, private or link-local address`);
  }
}

/**
 * A socket `lookup` that resolves as usual and drops loopback, private and
 * link-local addresses; when none is left, the connection fails with
 * {@link PrivateAddressRefused}.
 */
export function publicOnlyLookup(): LookupFunction {
  return ((hostname: string, options: { all?: boolean; family?: number | string; hints?: number }, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true } as LookupAllOptions, (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (error) return callback(error);
      const usable = addresses.filter((a) => !isPrivateAddress(a.address));
      if (usable.length === 0) return callback(new PrivateAddressRefused(hostname, addresses[0]?.address ?? 'no address'));
      if (options.all) return callback(null, usable);
      return callback(null, usable[0]!.address, usable[0]!.family);
    });
  }) as LookupFunction;
}
