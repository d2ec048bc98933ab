/**
 * `denyPrivateAddresses`: which addresses a granted host *name* may not lead
 * to. One row per range (first, inside and last address where it matters),
 * every IPv6 spelling that carries an IPv4 address, and the public addresses
 * next to each range that must stay reachable.
 */
import { describe, expect, it } from 'vitest';
import { isPrivateAddress } from '../../src/linker/http/private-addresses.js';

/** [address, refused?, why]. */
const TABLE: ReadonlyArray<readonly [string, boolean, string]> = [
  // IPv4
  ['0.0.0.0', true, 'this network'],
  ['0.255.255.255', true, 'this network'],
  ['10.1.2.3', true, 'private 10/8'],
  ['100.64.0.1', true, 'shared address space 100.64/10 (CGNAT)'],
  ['100.100.100.200', true, 'shared address space (Alibaba Cloud metadata)'],
  ['100.127.255.255', true, 'shared address space, last'],
  ['100.63.255.255', false, 'just below 100.64/10'],
  ['100.128.0.0', false, 'just above 100.64/10'],
  ['127.0.0.1', true, 'loopback'],
  ['127.255.0.9', true, 'loopback'],
  ['169.254.169.254', true, 'link-local (cloud metadata)'],
  ['172.16.0.1', true, 'private 172.16/12'],
  ['172.31.255.255', true, 'private 172.16/12, last'],
  ['172.15.255.255', false, 'just below 172.16/12'],
  ['172.32.0.1', false, 'just above 172.16/12'],
  ['192.0.0.192', true, 'IETF protocol assignments 192.0.0/24 (Oracle Cloud metadata)'],
  ['192.0.1.1', false, 'just above 192.0.0/24'],
  ['192.0.2.1', true, 'documentation'],
  ['192.88.99.1', true, '6to4 relay anycast'],
  ['192.168.1.1', true, 'private 192.168/16'],
  ['192.169.0.1', false, 'just above 192.168/16'],
  ['198.18.0.1', true, 'benchmarking 198.18/15'],
  ['198.19.255.255', true, 'benchmarking, last'],
  ['198.20.0.0', false, 'just above 198.18/15'],
  ['198.51.100.7', true, 'documentation'],
  ['203.0.113.7', true, 'documentation'],
  ['224.0.0.1', true, 'multicast'],
  ['239.255.255.250', true, 'multicast (SSDP)'],
  ['240.0.0.1', true, 'reserved'],
  ['255.255.255.255', true, 'broadcast'],
  ['223.255.255.255', false, 'just below multicast'],
  ['8.8.8.8', false, 'public'],
  ['1.1.1.1', false, 'public'],
  // IPv6
  ['::', true, 'unspecified'],
  ['::1', true, 'loopback'],
  ['0:0:0:0:0:0:0:1', true, 'loopback, long form'],
  ['fc00::1', true, 'unique local'],
  ['fd12:3456::1', true, 'unique local'],
  ['fd00:ec2::254', true, 'unique local (AWS metadata over IPv6)'],
  ['fe80::1', true, 'link-local'],
  ['fe80::1%lo', true, 'link-local with a zone'],
  ['fec0::1', true, 'site-local'],
  ['feff::1', true, 'site-local, last /10'],
  ['ff02::1', true, 'multicast'],
  ['100::1', true, 'discard-only'],
  ['2001:db8::1', true, 'documentation'],
  ['64:ff9b:1::a', true, 'local-use NAT64'],
  ['2606:4700::1111', false, 'public'],
  ['2a00:1450::1', false, 'public'],
  // IPv6 carrying an IPv4 address: judged by that address
  ['::ffff:127.0.0.1', true, 'IPv4-mapped loopback'],
  ['::ffff:7f00:1', true, 'IPv4-mapped loopback, hex'],
  ['0:0:0:0:0:ffff:7f00:1', true, 'IPv4-mapped loopback, long form'],
  ['::ffff:10.0.0.1', true, 'IPv4-mapped private'],
  ['::ffff:169.254.169.254', true, 'IPv4-mapped link-local'],
  ['::ffff:100.64.0.1', true, 'IPv4-mapped shared'],
  ['::ffff:8.8.8.8', false, 'IPv4-mapped public'],
  ['::ffff:0:7f00:1', true, 'IPv4-translated loopback'],
  ['::ffff:0:127.0.0.1', true, 'IPv4-translated loopback, dotted'],
  ['::ffff:0:808:808', false, 'IPv4-translated public'],
  ['::127.0.0.1', true, 'IPv4-compatible loopback'],
  ['::7f00:1', true, 'IPv4-compatible loopback, hex'],
  ['::a9fe:a9fe', true, 'IPv4-compatible link-local'],
  ['::8.8.8.8', false, 'IPv4-compatible public'],
  ['64:ff9b::7f00:1', true, 'NAT64 of 127.0.0.1'],
  ['64:ff9b::a9fe:a9fe', true, 'NAT64 of 169.254.169.254'],
  ['64:ff9b::192.168.0.1', true, 'NAT64 of 192.168.0.1, dotted'],
  ['64:ff9b::808:808', false, 'NAT64 of 8.8.8.8'],
  ['2002:7f00:1::', true, '6to4 of 127.0.0.1'],
  ['2002:a9fe:a9fe::1', true, '6to4 of 169.254.169.254'],
  ['2002:0a00:0001:1::1', true, '6to4 of 10.0.0.1'],
  ['2002:808:808::1', false, '6to4 of 8.8.8.8'],
  ['2001:0:4136:e378:8000:63bf:80ff:fffe', true, 'Teredo, client 127.0.0.1 (stored inverted)'],
  ['2001:0:4136:e378:8000:63bf:5601:5656', true, 'Teredo, client 169.254.169.169'],
  ['2001:0:a00:1:8000:63bf:f7f7:f7f7', true, 'Teredo, server 10.0.0.1'],
  ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', false, 'Teredo, server 65.54.227.120, client 8.8.8.8'],
  // Not an IP literal: refused rather than guessed
  ['not-an-ip', true, 'not an address'],
  ['', true, 'empty'],
];

describe('denyPrivateAddresses: isPrivateAddress', () => {
  it.each(TABLE)('%s -> refused %s (%s)', (address, refused) => {
    expect(isPrivateAddress(address)).toBe(refused);
  });
});
