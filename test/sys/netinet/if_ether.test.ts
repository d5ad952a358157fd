import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { threeHosts, echoRequest, send, ip, host, wire } from './lab.js';
import { capture } from '../../../src/lib/io.js';
import { arpTool } from '../../../src/usr.sbin/arp/arp.js';
import { if_addr_add } from '../../../src/sys/net/if.js';
import { EHOSTDOWN } from '../../../src/sys/sys/errno.js';
import { RTF_REJECT } from '../../../src/sys/net/route.js';

function arps(k: import('../../../src/sys/kern/kernel.js').Kernel, name: string): number {
  return k.inet.arp.stats.value(name);
}

test('ARP hold queue: 10 packets wait, the oldest are pushed out, maxtries rejects for arpdown seconds', () => {
  const { world, a } = threeHosts();
  const dst = ip('192.0.2.99');
  const t0 = Math.ceil(world.now / 1e9) * 1e9;
  world.runUntil(t0);
  for (let i = 0; i < 12; i++) assert.equal(send(a.k, echoRequest(a.k, dst)), 0);
  assert.equal(arps(a.k, 'arps_holddrops'), 2);
  assert.equal(a.k.inet.arp.la_hold_total, 10);
  assert.equal(arps(a.k, 'arps_txrequests'), 2); // the gratuitous one at boot, then this one
  // One more packet each second: a request each time, until arp_maxtries.
  for (let s = 1; s <= 5; s++) {
    world.runUntil(t0 + s * 1e9);
    assert.equal(send(a.k, echoRequest(a.k, dst)), 0);
  }
  assert.equal(arps(a.k, 'arps_txrequests'), 6);
  assert.equal(arps(a.k, 'arps_holddrops'), 7);
  assert.equal(arps(a.k, 'arps_maxtries'), 10);
  assert.equal(a.k.inet.arp.la_hold_total, 0);
  const rt = a.k.inet.rtable.lookup(dst, 32)!;
  assert.ok(rt.rt_flags & RTF_REJECT);
  world.runUntil(t0 + 6e9);
  assert.equal(send(a.k, echoRequest(a.k, dst)), EHOSTDOWN);
  assert.equal(arps(a.k, 'arps_rejected'), 1);
  // After arpt_down (20 s) the entry asks again.
  world.runUntil(t0 + 26e9);
  assert.equal(send(a.k, echoRequest(a.k, dst)), 0);
  assert.equal(rt.rt_flags & RTF_REJECT, 0);
  assert.equal(arps(a.k, 'arps_txrequests'), 7);
});

test('ARP entries expire after arpt_keep on the arpt_prune walk; cached next hops stay, incomplete', async () => {
  const { world, a, r } = threeHosts();
  send(a.k, echoRequest(a.k, ip('198.51.100.20')));
  world.runFor(1e9);
  let out = (await capture(arpTool(r.k), ['-an'])).stdout;
  assert.match(out, /192\.0\.2\.10 +02:00:00:00:00:01 +em0 19m5\ds/);
  world.runUntil(1200e9 + 1);
  assert.equal(arps(r.k, 'arps_timeouts'), 0);
  world.runUntil(1500e9 + 1);
  assert.equal(arps(r.k, 'arps_timeouts'), 2);
  out = (await capture(arpTool(r.k), ['-an'])).stdout;
  assert.doesNotMatch(out, /192\.0\.2\.10 /);
  // a's entry for its gateway is cached by the default route: invalidated, kept.
  assert.equal(arps(a.k, 'arps_timeouts'), 1);
  out = (await capture(arpTool(a.k), ['-an'])).stdout;
  assert.match(out, /192\.0\.2\.1 +\(incomplete\) +em0 /);
  // Nothing left to expire: the world goes idle.
  world.runUntilIdle();
  assert.ok(world.idle);
  // Traffic resolves it again (the first time the router's gratuitous ARP had filled it unasked).
  assert.equal(arps(a.k, 'arps_resolved'), 0);
  send(a.k, echoRequest(a.k, ip('198.51.100.20')));
  world.runFor(1e9);
  assert.equal(arps(a.k, 'arps_resolved'), 1);
  assert.equal(a.k.stats.icmpstat.value('icps_inhist', 0), 2);
});

test('gratuitous ARP on address configuration, duplicate address detection, replies', () => {
  const world = new World({ seed: 3 });
  const xs = host(world, 'xs', ['192.0.2.50/24']);
  const ys = host(world, 'ys', ['192.0.2.51/24']);
  wire(world, xs.ifs[0]!, ys.ifs[0]!);
  world.runFor(1e9);
  const before = arps(ys.k, 'arps_rxrequests');
  if_addr_add(xs.ifs[0]!, ip('192.0.2.51'), 0xffffff00);
  world.runFor(1e9);
  assert.equal(arps(xs.k, 'arps_txrequests'), 2);
  assert.equal(arps(ys.k, 'arps_rxrequests'), before + 1);
  assert.equal(arps(ys.k, 'arps_dupips'), 1);
  const mac = [...xs.ifs[0]!.if_lladdr].map((b) => b.toString(16).padStart(2, '0')).join(':');
  assert.ok(ys.k.msgbuf.includes(`duplicate IP address 192.0.2.51 sent from ethernet address ${mac}`));
  // ys defends its address with a reply.
  assert.equal(arps(ys.k, 'arps_txreplies'), 1);
});
