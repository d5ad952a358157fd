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
