/**
 * route(8) for IPv6: OpenBSD's regress/sbin/route rttest14 and rttest20
 * replayed on loopback interfaces (their expected outputs inline), and
 * add/get/delete/show/flush with their messages and errors on a host of
 * the IPv6 lab.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { loop_clone_create } from '../../../src/sys/net/if_loop.js';
import { if_setflags_up } from '../../../src/sys/net/if.js';
import { in6_ifattach, in6_update_ifa } from '../../../src/sys/netinet6/in6.js';
import { parseIp6 } from '../../../src/wire/addr.js';
import { capture } from '../../../src/lib/io.js';
import { routeTool } from '../../../src/sbin/route/route.js';
import { getaddr6 } from '../../../src/sbin/route/route6.js';
import { netstatTool } from '../../../src/usr.bin/netstat/main.js';
import { threeHosts6 } from '../../sys/netinet6/lab6.js';

/** The regress setup: rdomain 5's lo5 without inet6, and lo10001-lo10003 up. */
function regressKernel(): { world: World; k: Kernel; lo: ReturnType<typeof loop_clone_create>[] } {
  const world = new World({ seed: 1 });
  const k = new Kernel(world, { hostname: 'rt' });
  loop_clone_create(k, 5);
  const lo = [10001, 10002, 10003].map((u) => loop_clone_create(k, u));
  for (const l of lo) if_setflags_up(l, true);
  return { world, k, lo };
}

function inet6(k: Kernel, ifp: ReturnType<typeof loop_clone_create>, a: string): void {
  const r = in6_update_ifa(k, ifp, parseIp6(a.split('/')[0]!)!, Number(a.split('/')[1] ?? 128));
  assert.notEqual(typeof r, 'number');
}

test('rttest14: a host route via an address of lo10003 with -mtu, route show -inet6', async () => {
  const { world, k, lo } = regressKernel();
  in6_ifattach(k, lo[0]!); // ifconfig lo10001 inet6 eui64
  inet6(k, lo[1]!, 'fd88::1/64');
  inet6(k, lo[2]!, 'fd99::1/64');
  world.runFor(1e9);
  const rt = routeTool(k);
  // The regress adds the route and then sets the MTU with `route change`; -mtu at add gives the same entry.
  const add = await capture(rt, ['-n', 'add', '-inet6', '-mtu', '1500', 'fd88::666', 'fd99::1']);
  assert.equal(add.stdout, 'add host fd88::666: gateway fd99::1\n');
  const show = await capture(rt, ['-n', 'show', '-inet6']);
  // rttest14.ok, except the Use column of the lo10002/lo10003 multicast routes (1 there: traffic of the
  // regress's ifconfig that packetflow does not send on loopback interfaces).
  assert.equal(
    show.stdout,
    'Routing tables\n' +
      '\n' +
      'Internet6:\n' +
      'Destination                                 Gateway                                 Flags   Refs      Use   Mtu  Prio Iface\n' +
      'fd88::1                                     fd88::1                                 UHl        0        0 32768     1 lo10002\n' +
      'fd88::666                                   fd99::1                                 UGHS       0        0  1500     8 lo10003\n' +
      'fd99::1                                     fd99::1                                 UHhl       1        2 32768     1 lo10003\n' +
      'fe80::1%lo10001                             fe80::1%lo10001                         UHl        0        0 32768     1 lo10001\n' +
      'fe80::1%lo10002                             fe80::1%lo10002                         UHl        0        0 32768     1 lo10002\n' +
      'fe80::1%lo10003                             fe80::1%lo10003                         UHl        0        0 32768     1 lo10003\n' +
      'ff01::%lo10001/32                           fe80::1%lo10001                         Um         0        0 32768     4 lo10001\n' +
      'ff01::%lo10002/32                           fe80::1%lo10002                         Um         0        0 32768     4 lo10002\n' +
      'ff01::%lo10003/32                           fe80::1%lo10003                         Um         0        0 32768     4 lo10003\n' +
      'ff02::%lo10001/32                           fe80::1%lo10001                         Um         0        0 32768     4 lo10001\n' +
      'ff02::%lo10002/32                           fe80::1%lo10002                         Um         0        0 32768     4 lo10002\n' +
      'ff02::%lo10003/32                           fe80::1%lo10003                         Um         0        0 32768     4 lo10003\n',
  );
  // netstat -rn -f inet6 prints the same table.
  const ns = await capture(netstatTool(k), ['-rn', '-f', 'inet6']);
  assert.equal(ns.stdout, show.stdout);
});

test('rttest20: RTM_GET of a multipath route needs no gateway', async () => {
  const { k, lo } = regressKernel();
  inet6(k, lo[0]!, 'fd88::1/64');
  inet6(k, lo[1]!, 'fd88::2/64');
  const rt = routeTool(k);
  assert.equal((await capture(rt, ['-n', 'add', '-inet6', '2001:ee0:2001:c0::/64', 'fd88::1'])).status, 0);
  assert.equal((await capture(rt, ['-n', 'add', '-inet6', '-mpath', '2001:ee0:2001:c0::/64', 'fd88::2'])).status, 0);
  const get = await capture(rt, ['-n', 'get', '-inet6', '2001:ee0:2001:c0::/64']);
  assert.equal(
    get.stdout,
    '   route to: 2001:ee0:2001:c0::\n' +
      'destination: 2001:ee0:2001:c0::\n' +
      '       mask: ffff:ffff:ffff:ffff::\n' +
      '    gateway: fd88::1\n' +
      '  interface: lo10001\n' +
      ' if address: fd88::1\n' +
      '   priority: 8 (static)\n' +
      '      flags: <UP,GATEWAY,DONE,STATIC,MPATH>\n' +
      '     use       mtu    expire\n' +
      '       0     32768         0 \n',
  );
  // The same gateway twice is refused even with -mpath; without -mpath any second route is.
  let c = await capture(rt, ['-n', 'add', '-inet6', '-mpath', '2001:ee0:2001:c0::/64', 'fd88::2']);
  assert.equal(c.stdout, 'add net 2001:ee0:2001:c0::/64: gateway fd88::2: File exists\n');
  // Deleting one path leaves a plain route.
  c = await capture(rt, ['-n', 'delete', '-inet6', '2001:ee0:2001:c0::/64', 'fd88::1']);
  assert.equal(c.stdout, 'delete net 2001:ee0:2001:c0::/64: gateway fd88::1\n');
  c = await capture(rt, ['-n', 'show', '-inet6']);
  assert.match(c.stdout, /\n2001:ee0:2001:c0::\/64 {23}fd88::2 {33}UGS {8}0 {8}0 32768 {5}8 lo10002\n/);
});

test('route -inet6 on a lab host: add, errors, get, delete, show, flush', async () => {
  const { a } = threeHosts6();
  const rt = routeTool(a.k);
  const run = async (...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> => capture(rt, ['-n', ...argv]);
  let c = await run('add', '-inet6', '2001:db8:5::/64', '2001:db8:1::1');
  assert.deepEqual([c.status, c.stdout], [0, 'add net 2001:db8:5::/64: gateway 2001:db8:1::1\n']);
  c = await run('add', '-inet6', '2001:db8:5::/64', '2001:db8:1::1');
  assert.deepEqual([c.status, c.stdout], [1, 'add net 2001:db8:5::/64: gateway 2001:db8:1::1: File exists\n']);
  // Without -inet6 an address with a colon is IPv6; a bare address is a host; a scoped gateway.
  c = await run('add', '2001:db8:6::7', 'fe80::1%em0');
  assert.equal(c.stdout, 'add host 2001:db8:6::7: gateway fe80::1%em0\n');
  c = await run('add', '-inet6', '2001:db8:7::/48', '2001:db8:99::1');
  assert.deepEqual([c.status, c.stdout], [1, 'add net 2001:db8:7::/48: gateway 2001:db8:99::1: Network is unreachable\n']);
  c = await run('add', '-inet6', '2001:db8:7::/129', '2001:db8:1::1');
  assert.deepEqual([c.status, c.stdout, c.stderr], [1, '', 'route: prefixlen 129 is too large\n']);
  c = await run('add', '-inet6', 'bogus', '2001:db8:1::1');
  assert.deepEqual([c.status, c.stderr], [1, 'route: bogus: name or service is not known\n']);
  c = await run('add', '-inet6', '2001:db8:7::', '2001:db8:1::1%nope');
  assert.equal(c.stderr, 'route: 2001:db8:1::1%nope: name or service is not known\n');
  c = await run('add', '-inet6', '-net', '2001:db8:8::', '2001:db8:1::1');
  assert.deepEqual([c.status, c.stderr], [1, 'route: netmask missing\n']);
  c = await run('add', '-inet6', '2001:db8:8::', '-prefixlen', '56', '2001:db8:1::1');
  assert.equal(c.stdout, 'add net 2001:db8:8::: gateway 2001:db8:1::1\n');
  c = await run('add', '-inet6', '2001:db8:9::', '-netmask', 'ffff:ffff:ffff:ff00::', '2001:db8:1::1');
  assert.equal(c.stdout, 'add net 2001:db8:9::: gateway 2001:db8:1::1\n');
  c = await run('add', '-inet6', '-prefixlen', '56', '2001:db8:8::', '2001:db8:1::1');
  assert.equal(c.stderr, 'route: -prefixlen must follow destination parameter\n');
  c = await run('get', '-inet6', '2001:db8:5::9');
  assert.equal(
    c.stdout,
    '   route to: 2001:db8:5::9\n' +
      'destination: 2001:db8:5::\n' +
      '       mask: ffff:ffff:ffff:ffff::\n' +
      '    gateway: 2001:db8:1::1\n' +
      '  interface: em0\n' +
      ' if address: 2001:db8:1::10\n' +
      '   priority: 8 (static)\n' +
      '      flags: <UP,GATEWAY,DONE,STATIC>\n' +
      '     use       mtu    expire\n' +
      '       0         0         0 \n',
  );
  c = await run('get', '-inet6', 'fe80::%em0/64');
  assert.match(c.stdout, /^ {3}route to: fe80::%em0\ndestination: fe80::%em0\n {7}mask: ffff:ffff:ffff:ffff::\n {2}interface: em0\n if address: fe80::[0-9a-f:]+%em0\n {3}priority: 4 \(connected\)\n {6}flags: <UP,DONE,CLONING,CONNECTED>\n/);
  c = await run('get', '-inet6', '2001:db8:5::/60');
  assert.deepEqual([c.status, c.stdout], [1, 'get net 2001:db8:5::/60: not in table\n']);
  c = await run('show', '-inet6');
  assert.match(c.stdout, /^Routing tables\n\nInternet6:\nDestination {33}Gateway {33}Flags {3}Refs {6}Use {3}Mtu {2}Prio Iface\ndefault {37}2001:db8:1::1 {27}UGS /);
  assert.match(c.stdout, /\n2001:db8:6::7 {31}fe80::1%em0 {29}UGHS {7}0 {8}0 {5}- {5}8 em0 {2}\n/);
  assert.match(c.stdout, /\n2001:db8:8::\/56 {29}2001:db8:1::1 {27}UGS /);
  assert.match(c.stdout, /\n2001:db8:9::\/56 {29}2001:db8:1::1 {27}UGS /);
  assert.doesNotMatch(c.stdout, /%lo0\/64/); // no connected route on a loopback interface
  c = await run('delete', '-inet6', '2001:db8:5::/64');
  assert.equal(c.stdout, 'delete net 2001:db8:5::/64\n');
  c = await run('delete', '-inet6', '2001:db8:5::/64');
  assert.deepEqual([c.status, c.stdout], [1, 'delete net 2001:db8:5::/64: not in table\n']);
  c = await run('delete', '-inet6', '2001:db8:1::10');
  assert.equal(c.stdout, 'delete host 2001:db8:1::10: not in table\n');
  c = await run('-q', 'delete', '-inet6', '2001:db8:9::/56');
  assert.deepEqual([c.status, c.stdout], [0, '']);
  // -inet leaves the IPv6 table alone; -inet6 flushes gateway, static and neighbor routes.
  c = await run('flush', '-inet');
  assert.doesNotMatch(c.stdout, /:/);
  c = await run('flush', '-inet6');
  assert.equal(
    c.stdout,
    'default              2001:db8:1::1        done\n' +
      '2001:db8:1::1        link#2               done\n' +
      '2001:db8:6::7        fe80::1%em0          done\n' +
      '2001:db8:8::/56      2001:db8:1::1        done\n' +
      'fe80::1%em0          link#2               done\n',
  );
  c = await run('show', '-inet6');
  assert.doesNotMatch(c.stdout, /UG/);
  c = await run('show', '-inet7');
  assert.equal(c.stderr, 'route: botched keyword: -inet7\nusage: route [-dnqtv] [-T rtable] command [[modifier ...] arg ...]\n');
});

test('getaddr6: scopes by interface name or index, numeric only', () => {
  const { a } = threeHosts6();
  assert.deepEqual(Array.from(getaddr6(a.k, 'fe80::1%em0')!.subarray(0, 4)), [0xfe, 0x80, 0, 2]);
  assert.deepEqual(Array.from(getaddr6(a.k, 'fe80::1%2')!.subarray(0, 4)), [0xfe, 0x80, 0, 2]);
  assert.equal(getaddr6(a.k, 'fe80::1%em9'), null);
  assert.equal(getaddr6(a.k, 'host.example'), null);
  // A global address takes no scope.
  assert.deepEqual(Array.from(getaddr6(a.k, '2001:db8::1%em0')!.subarray(0, 4)), [0x20, 0x01, 0x0d, 0xb8]);
});
