/**
 * pf_if.ts: a rule's (if) address matches through its _pf table, which
 * follows the interface's addresses as they are added and removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts, ip } from '../netinet/lab.js';
import { pfctl, loadPf, udpBytes, sendRaw } from './pf_lab.js';
import { if_addr_add, if_addr_del } from '../../../src/sys/net/if.js';
import { in6_purgeaddr, in6_update_ifa } from '../../../src/sys/netinet6/in6.js';
import { parseIp6 } from '../../../src/wire/addr.js';

test('(em1) matches the addresses of em1 as they come and go, through the _pf table em1', () => {
  const { world, a, r } = threeHosts();
  const em1 = r.ifs[1]!;
  loadPf(r.k, `pass\nblock in quick proto udp to (${em1.if_xname})\n`);
  const blocked = (): number => Number(/\n@1 block .*\n(?:.*\n)*?.*Packets: (\d+) /.exec(pfctl(r.k, ['-vvsr']).out)![1]);
  const show = (): string => pfctl(r.k, ['-a', '_pf', '-t', em1.if_xname, '-Ts']).out;
  assert.equal(show(), '   198.51.100.1\n');
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.1'), 1000, 9));
  world.runFor(1e8);
  assert.equal(blocked(), 1);
  // the router's address on em0 is not em1's
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('192.0.2.1'), 1001, 9));
  world.runFor(1e8);
  assert.equal(blocked(), 1);
  // an alias on em1 joins the table and is matched
  if_addr_add(em1, ip('198.51.100.2'), 0xffffff00);
  assert.equal(show(), '   198.51.100.1\n   198.51.100.2\n');
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.2'), 1002, 9));
  world.runFor(1e8);
  assert.equal(blocked(), 2);
  // and leaves it when removed
  if_addr_del(em1, ip('198.51.100.2'));
  assert.equal(show(), '   198.51.100.1\n');
  // IPv6 addresses too
  assert.notEqual(typeof in6_update_ifa(r.k, em1, parseIp6('2001:db8::1')!, 64, { nodad: true }), 'number');
  assert.match(show(), /\n {3}2001:db8::1\n/);
  in6_purgeaddr(r.k, em1, parseIp6('2001:db8::1')!);
  assert.doesNotMatch(show(), /2001:db8::1/);
});

/* ------------------------------------------------------------------ */
/* (if) in translation pools: the _pf table's addresses at each new state */

import { threeHosts6, ip6 } from '../netinet6/lab6.js';
import { capture, ipOf } from './pf_lab.js';
import { send6raw, udp, v6Of, v6Packet } from './pf_af_lab.js';
import { formatIp6 } from '../../../src/wire/addr.js';

/** The source addresses of the UDP datagrams b's em0 saw, as text. */
function sources4(frames: Uint8Array[]): string[] {
  return ipOf(frames, 17).map((d) => `${d[12]}.${d[13]}.${d[14]}.${d[15]}`);
}

test('nat-to (em1): each new state takes em1\'s address as it is then; an alias joins the round-robin, (em1:0) keeps the first', () => {
  const { world, a, r, b } = threeHosts();
  const em1 = r.ifs[1]!;
  loadPf(r.k, 'pass\npass out on em1 inet from 192.0.2.0/24 nat-to (em1)\n');
  const atB = capture(b.ifs[0]!);
  const send = (sport: number): void => {
    sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), sport, 9));
    world.runFor(1e8);
  };
  send(1000);
  assert.deepEqual(sources4(atB), ['198.51.100.1']);
  // the pool's table is em1's, in the _pf anchor
  assert.equal(pfctl(r.k, ['-a', '_pf', '-sT']).out, 'em1@_pf\n');
  // em1 is renumbered: the next state is translated to the new address, the old one keeps its own
  if_addr_del(em1, ip('198.51.100.1'));
  if_addr_add(em1, ip('198.51.100.2'), 0xffffff00);
  send(1001);
  assert.deepEqual(sources4(atB), ['198.51.100.1', '198.51.100.2']);
  const ss = pfctl(r.k, ['-ss']).out;
  assert.match(ss, /\nall udp 198\.51\.100\.1:\d+ \(192\.0\.2\.10:1000\) -> 198\.51\.100\.20:9 /);
  assert.match(ss, /\nall udp 198\.51\.100\.2:\d+ \(192\.0\.2\.10:1001\) -> 198\.51\.100\.20:9 /);
  // an alias: the pool (round-robin, as pfctl makes an (if) pool of several addresses) takes both in turn
  if_addr_add(em1, ip('198.51.100.5'), 0xffffff00);
  send(1002);
  send(1003);
  assert.deepEqual(sources4(atB).slice(2).sort(), ['198.51.100.2', '198.51.100.5']);
  // (em1:0): the interface's first address only
  loadPf(r.k, 'pass\npass out on em1 inet from 192.0.2.0/24 nat-to (em1:0)\n');
  assert.match(pfctl(r.k, ['-sr']).out, /nat-to \(em1:0\)/);
  send(1004);
  send(1005);
  assert.deepEqual(sources4(atB).slice(4), ['198.51.100.2', '198.51.100.2']);
});

test('nat-to (em1) over IPv6: em1\'s global address, never its link-local one, and the new one after a renumbering', () => {
  const { world, a, r, b } = threeHosts6();
  const em1 = r.ifs[1]!;
  loadPf(r.k, 'pass\npass out on em1 inet6 from 2001:db8:1::/64 nat-to (em1)\n');
  const atB = capture(b.ifs[0]!);
  const C = ip6('2001:db8:1::10');
  const S = ip6('2001:db8:2::20');
  const send = (sport: number): void => {
    send6raw(a.k, v6Packet(C, S, 17, udp(sport, 9, [1, 2, 3, 4]), 6));
    world.runFor(1e8);
  };
  // the table has the link-local address too
  assert.match(pfctl(r.k, ['-a', '_pf', '-t', 'em1', '-Ts']).out, /fe80::/);
  send(1000);
  send(1001);
  send(1002);
  const srcs = (): string[] => v6Of(atB, 17).map((d) => formatIp6(d, 8));
  assert.deepEqual(srcs(), ['2001:db8:2::1', '2001:db8:2::1', '2001:db8:2::1']);
  assert.equal(typeof in6_update_ifa(r.k, em1, parseIp6('2001:db8:2::2')!, 64, { nodad: true }), 'object');
  in6_purgeaddr(r.k, em1, parseIp6('2001:db8:2::1')!);
  send(1003);
  assert.deepEqual(srcs().slice(3), ['2001:db8:2::2']);
});
