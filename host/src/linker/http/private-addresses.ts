/**
 * Addresses a granted host *name* may not lead to, and the DNS lookup that
 * keeps it away from them (`"denyPrivateAddresses"`, on by default):
 * loopback, private, shared (carrier-grade NAT), link-local, unspecified,
 * multicast, reserved and other special-purpose ranges, in IPv4 and IPv6.
 * IPv6 forms that carry an IPv4 address (IPv4-mapped, -translated and
 * -compatible, NAT64, 6to4, Teredo) are judged by the IPv4 address inside.
 * The check runs on the addresses the connection is about to use (the
 * socket's `lookup`), not on an earlier resolution, so a name that resolves
 * to a public address once and to 127.0.0.1 the next time (DNS rebinding)
 * gains nothing; redirects connect through the same lookup. Hosts written as
 * IP addresses never go through a lookup: the user named that address, so it
 * stays reachable.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupAllOptions } from 'node:dns';
import { isIPv4, isIPv6 } from 'node:net';
import type { LookupFunction } from 'node:net';

/** IPv4 ranges refused: [first address, prefix length] (RFC 6890's non-global ranges and multicast). */
const IPV4_RANGES: ReadonlyArray<readonly [number, number]> = ([
  ['0.0.0.0', 8], // "this network", 0.0.0.0 included
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // shared address space (carrier-grade NAT; some cloud metadata services)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata at 169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments (some cloud metadata services)
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, 255.255.255.255 (broadcast) included
] as const).map(([first, prefix]) => [ipv4(first), prefix] as const);

/** IPv6 ranges refused whole: [first address as eight groups, prefix length]. */
const IPV6_RANGES: ReadonlyArray<readonly [number[], number]> = ([
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const).map(([first, prefix]) => [ipv6Groups(first), prefix] as const);

/**
 * Whether a granted name may not lead to `address` (an IPv4 or IPv6
 * literal, a zone index allowed): any address in the ranges above, or an
 * IPv6 address whose embedded IPv4 address is one (`::ffff:127.0.0.1`,
 * `::ffff:0:7f00:1`, `::127.0.0.1`, `64:ff9b::a9fe:a9fe`,
 * `2002:a9fe:a9fe::1`, a Teredo address whose server or client is one).
 * Anything that is not an IP literal counts as private (refused rather than
 * guessed).
 *
 * @example isPrivateAddress('100.100.100.200') // true: shared address space
 */
export function isPrivateAddress(address: string): boolean {
  if (isIPv4(address)) return privateIpv4(ipv4(address));
  if (!isIPv6(address)) return true;
  const groups = ipv6Groups(address.replace(/%.*$/, ''));
  const v4 = (high: number, low: number) => ((groups[high]! << 16) | groups[low]!) >>> 0;
  const zeros = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  // ::a.b.c.d (IPv4-compatible; :: and ::1 fall in 0.0.0.0/8), ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (translated).
  if (zeros(0, 5) && (groups[5] === 0 || groups[5] === 0xffff)) return privateIpv4(v4(6, 7));
  if (zeros(0, 4) && groups[4] === 0xffff && groups[5] === 0) return privateIpv4(v4(6, 7));
  // 64:ff9b::a.b.c.d (NAT64, well-known prefix).
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zeros(2, 6)) return privateIpv4(v4(6, 7));
  // 2002:AABB:CCDD::/48 (6to4 of AA.BB.CC.DD).
  if (groups[0] === 0x2002) return privateIpv4(v4(1, 2));
  // 2001:0:SSSS:SSSS:flags:port:CCCC:CCCC (Teredo: server S, client C stored inverted).
  if (groups[0] === 0x2001 && groups[1] === 0) return privateIpv4(v4(2, 3)) || privateIpv4(~v4(6, 7) >>> 0);
  return IPV6_RANGES.some(([first, prefix]) => inPrefix(groups, first, prefix));
}

function privateIpv4(value: number): boolean {
  return IPV4_RANGES.some(([first, prefix]) => ((value ^ first) >>> (32 - prefix)) === 0);
}

function inPrefix(groups: readonly number[], first: readonly number[], prefix: number): boolean {
  for (let i = 0, left = prefix; left > 0; i++, left -= 16) {
    const mask = left >= 16 ? 0xffff : (0xffff << (16 - left)) & 0xffff;
    if ((groups[i]! & mask) !== (first[i]! & mask)) return false;
  }
  return true;
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
    super(`${hostname} resolves to ${address}, a loopback, private, link-local or other non-public address`);
  }
}

/**
 * A socket `lookup` that resolves as usual and drops the addresses
 * {@link isPrivateAddress} refuses; when none is left, the connection fails
 * with {@link PrivateAddressRefused}.
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
