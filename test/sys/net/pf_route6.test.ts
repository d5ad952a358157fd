/**
 * route-to, reply-to and dup-to on the IPv6 path (pf_route6): the next
 * hop kept in the state, the hop limit, pf_test(OUT) on the new interface,
 * and the errors: no route (destination unreachable, ip6s_noroute), over
 * the link MTU (packet too big, ip6s_cantfrag: no fragmentation on the
 * forward path), hop limit exceeded; a datagram pf reassembled leaves as
 * the fragments it came in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { host, wire, type Host } from '../netinet/lab.js';
import { addr6, ip6, ip6stat } from '../netinet6/lab6.js';
import { inet6_enable } from '../../../src/sys/netinet6/in6.js';
import { rt6_route_add } from '../../../src/sys/net/route6.js';
import { capture, loadPf, pfctl } from './pf_lab.js';
import { fragments6, get16, get32, send6raw, udp, v6Of, v6Packet } from './pf_af_lab.js';
import { put32 } from '../../../src/wire/bytes.js';
import { AF_INET6 } from '../../../src/sys/netinet/in_pcb.js';
import { Proc, runWorld, SOCK_DGRAM } from '../../../src/lib/socket.js';
import { pseudoSum6, sum16 } from '../../../src/wire/checksum.js';

/**
 * client 2001:db8:1::10 -- em0 2001:db8:1::1 [fw] em1 2001:db8:2::1 -- server 2001:db8:2::20
 *                                                  em2 2001:db8:3::1 -- gw 2001:db8:3::2
 */
function lab(): { world: World; c: Host; fw: Host; s: Host; g: Host } {
  const world = new World({ seed: 6 });
  const c = host(world, 'client', ['203.0.113.10/24']);
  const fw = host(world, 'fw', ['203.0.113.48/24', '198.51.100.1/24', '192.0.2.1/24']);
  const s = host(world, 'server', ['198.51.100.31/24']);
  const g = host(world, 'gw', ['192.0.2.2/24']);
  wire(world, c.ifs[0]!, fw.ifs[0]!, { delay: 50_000 });
  wire(world, fw.ifs[1]!, s.ifs[0]!, { delay: 50_000 });
  wire(world, fw.ifs[2]!, g.ifs[0]!, { delay: 50_000 });
  for (const h of [c, fw, s, g]) inet6_enable(h.k);
  addr6(c, 0, '2001:db8:1::10/64');
  addr6(fw, 0, '2001:db8:1::1/64');
  addr6(fw, 1, '2001:db8:2::1/64');
  addr6(fw, 2, '2001:db8:3::1/64');
  addr6(s, 0, '2001:db8:2::20/64');
  addr6(g, 0, '2001:db8:3::2/64');
  rt6_route_add(c.k, new Uint8Array(16), 0, ip6('2001:db8:1::1'));
  rt6_route_add(s.k, new Uint8Array(16), 0, ip6('2001:db8:2::1'));
  rt6_route_add(g.k, new Uint8Array(16), 0, ip6('2001:db8:3::1'));
  fw.k.sysctl.set('net.inet6.ip6.forwarding', 1);
  world.runFor(12e9);
  return { world, c, fw, s, g };
}

const C = ip6('2001:db8:1::10');
const S = ip6('2001:db8:2::20');

function mac(h: Host): string {
  return Array.from(h.ifs[0]!.if_lladdr, (x) => x.toString(16).padStart(2, '0')).join(':');
}

function ethDst(f: Uint8Array): string {
  return Array.from(f.subarray(0, 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

test('route-to over IPv6: the datagram leaves by the next hop of the state (its MAC), hop limit one less; pfctl -ss shows {rt_addr}', () => {
  const { world, c, fw, s, g } = lab();
  loadPf(fw.k, 'pass\npass in on em0 inet6 proto udp route-to 2001:db8:3::2\n');
  assert.equal(pfctl(fw.k, ['-sr']).out, 'pass all flags S/SA\npass in on em0 inet6 proto udp all route-to 2001:db8:3::2\n');
  const onEm1 = capture(fw.ifs[1]!);
  const onEm2 = capture(fw.ifs[2]!);
  const atServer = capture(s.ifs[0]!);
  const sent = v6Packet(C, S, 17, udp(40000, 53, [1, 2, 3, 4, 5, 6, 7, 8]), 6);
  send6raw(c.k, sent);
  world.runFor(1e9);
  assert.equal(v6Of(onEm1, 17).length, 0);
  assert.equal(v6Of(atServer, 17).length, 0);
  const f = onEm2.filter((x) => x[12] === 0x86 && x[13] === 0xdd && x[20] === 17);
  assert.equal(f.length, 1);
  assert.equal(ethDst(f[0]!), mac(g));
  const want = sent.slice();
  want[7] = 63;
  assert.equal(hex(f[0]!.subarray(14)), hex(want));
  assert.equal(pfctl(fw.k, ['-ss']).out.split('\n').filter((l) => l.includes('udp')).join('\n'),
    'all udp 2001:db8:2::20[53] {2001:db8:3::2} <- 2001:db8:1::10[40000]       NO_TRAFFIC:SINGLE\n' +
    'all udp 2001:db8:1::10[40000] -> 2001:db8:2::20[53]       SINGLE:NO_TRAFFIC');
  assert.equal(ip6stat(fw.k, 'ip6s_cantforward'), 0);
});

test('reply-to and dup-to over IPv6: replies go back to the reply-to next hop; dup-to sends a copy and delivers the original', () => {
  const { world, c, fw, s, g } = lab();
  loadPf(fw.k, 'pass\npass in on em2 inet6 proto udp reply-to 2001:db8:3::2\npass in on em0 inet6 proto udp to port 9 dup-to 2001:db8:3::2\n');
  const onEm1 = capture(fw.ifs[1]!);
  const onEm2 = capture(fw.ifs[2]!);
  // a request from an address the routing table puts behind em1 arrives on em2
  const far = ip6('2001:db8:2::77');
  send6raw(g.k, v6Packet(far, C, 17, udp(40001, 7, [1, 2]), 6));
  world.runFor(1e9);
  send6raw(c.k, v6Packet(C, far, 17, udp(7, 40001, [3, 4]), 6));
  world.runFor(1e9);
  assert.equal(v6Of(onEm1, 17).length, 0);
  const back = onEm2.filter((x) => x[12] === 0x86 && x[20] === 17 && x[14 + 24 + 15] === 0x77);
  assert.equal(back.length, 1);
  assert.equal(ethDst(back[0]!), mac(g));
  assert.equal(hex(back[0]!.subarray(14)), hex(v6Packet(C, far, 17, udp(7, 40001, [3, 4]), 6, 63)));
  // dup-to: a copy to the gateway, the original to the server
  const atServer = capture(s.ifs[0]!);
  const n2 = onEm2.length;
  send6raw(c.k, v6Packet(C, S, 17, udp(40002, 9, [5]), 6));
  world.runFor(1e9);
  const copy = v6Of(onEm2.slice(n2), 17);
  const orig = v6Of(atServer, 17);
  assert.equal(copy.length, 1);
  assert.equal(orig.length, 1);
  assert.equal(hex(copy[0]!), hex(orig[0]!));
  assert.equal(orig[0]![7], 63);
});

test('route-to over IPv6, the errors: no route to the next hop, over the MTU (no fragmentation), hop limit exceeded', () => {
  const { world, c, fw } = lab();
  loadPf(fw.k, 'pass\npass in on em0 inet6 proto udp to port 53 route-to 2001:db8:9::9\npass in on em0 inet6 proto udp to port 54 route-to 2001:db8:3::2\n');
  const atC = capture(c.ifs[0]!);
  const errs = (type: number): Uint8Array[] => v6Of(atC, 58).filter((p) => p[40] === type);
  send6raw(c.k, v6Packet(C, S, 17, udp(40000, 53, [1]), 6));
  world.runFor(1e9);
  assert.equal(ip6stat(fw.k, 'ip6s_noroute'), 1);
  const unreach = errs(1);
  assert.equal(unreach.length, 1);
  assert.equal(unreach[0]![41], 0, 'no route to destination');
  // over the link MTU of em2
  fw.ifs[2]!.if_mtu = 1280;
  const big = new Array<number>(1300).fill(0x5a);
  send6raw(c.k, v6Packet(C, S, 17, udp(40000, 54, big), 6));
  world.runFor(1e9);
  assert.equal(ip6stat(fw.k, 'ip6s_cantfrag'), 1);
  const ptb = errs(2);
  assert.equal(ptb.length, 1);
  assert.equal((get16(ptb[0]!, 44) << 16) | get16(ptb[0]!, 46), 1280);
  // hop limit 1: time exceeded in transit
  send6raw(c.k, v6Packet(C, S, 17, udp(40000, 54, [2]), 6, 1));
  world.runFor(1e9);
  const tx = errs(3);
  assert.equal(tx.length, 1);
  assert.equal(tx[0]![41], 0);
});

test('route-to on an outbound rule over IPv6: a datagram the firewall sends itself leaves by the next hop, and sendto succeeds', async () => {
  const { world, fw, g } = lab();
  loadPf(fw.k, 'pass\npass out on em1 inet6 proto udp route-to 2001:db8:3::2\n');
  const onEm1 = capture(fw.ifs[1]!);
  const onEm2 = capture(fw.ifs[2]!);
  const p = new Proc(fw.k);
  const u = p.socket(AF_INET6, SOCK_DGRAM);
  await runWorld(world, p.sendto(u, 'hello', { address: '2001:db8:2::20', port: 9 }));
  world.runFor(1e9);
  assert.equal(v6Of(onEm1, 17).length, 0);
  const f = onEm2.filter((x) => x[12] === 0x86 && x[13] === 0xdd && x[20] === 17);
  assert.equal(f.length, 1);
  assert.equal(ethDst(f[0]!), mac(g));
  // an outbound packet keeps its hop limit
  assert.equal(f[0]![21], 64);
  assert.equal(Buffer.from(f[0]!.subarray(62)).toString(), 'hello');
});

test('route-to over IPv6: a packet whose next hop\'s route lost its interface is freed and counted (no-route)', () => {
  const { world, c, fw } = lab();
  loadPf(fw.k, 'pass\npass in on em0 inet6 proto udp to port 54 route-to 2001:db8:3::2\n');
  const onEm2 = capture(fw.ifs[2]!);
  send6raw(c.k, v6Packet(C, S, 17, udp(40000, 54, [1]), 6));
  world.runFor(1e9);
  assert.equal(v6Of(onEm2, 17).length, 1);
  // the next hop's route now names an interface that is gone
  const rt = fw.k.pf!.netout!.rt6_match(fw.k, ip6('2001:db8:3::2'), 0, 0)!;
  rt.rt_ifidx = 99;
  const noroute = (): number => Number(/^ {2}no-route +(\d+)/m.exec(pfctl(fw.k, ['-si']).out)![1]);
  assert.equal(noroute(), 0);
  send6raw(c.k, v6Packet(C, S, 17, udp(40000, 54, [2]), 6));
  world.runFor(1e9);
  assert.equal(v6Of(onEm2, 17).length, 1);
  assert.equal(noroute(), 1);
});

test('route-to over IPv6 on lo0: a locally generated packet with the loopback source leaves with the address of the route\'s interface', async () => {
  const { world, fw, g } = lab();
  loadPf(fw.k, 'pass\npass out on lo0 inet6 proto udp to ::1 port 9 route-to 2001:db8:3::2\n');
  // at the next hop: what em2 sent after its checksum offload
  const onEm2 = capture(g.ifs[0]!);
  const p = new Proc(fw.k);
  const u = p.socket(AF_INET6, SOCK_DGRAM);
  await runWorld(world, p.sendto(u, 'hello', { address: '::1', port: 9 }));
  world.runFor(1e9);
  const f = v6Of(onEm2, 17);
  assert.equal(f.length, 1);
  // source 2001:db8:3::1 (em2's), not ::1; the destination stays ::1
  assert.equal(Buffer.from(f[0]!.subarray(8, 24)).toString('hex'), Buffer.from(ip6('2001:db8:3::1')).toString('hex'));
  assert.equal(Buffer.from(f[0]!.subarray(24, 40)).toString('hex'), Buffer.from(ip6('::1')).toString('hex'));
  assert.equal(Buffer.from(f[0]!.subarray(48)).toString(), 'hello');
  // the UDP checksum covers the new source
  assert.equal(sum16(f[0]!, 40, f[0]!.length - 40, pseudoSum6(f[0]!, 8, 24, 17, f[0]!.length - 40)), 0xffff);
});

test('a datagram pf reassembled leaves route-to and dup-to as the fragments it came in (pf_refragment6 from pf_route6, and for the original going on)', () => {
  const whole = v6Packet(C, S, 17, udp(40000, 7, new Array(3000).fill(0).map((_, i) => i & 0xff)), 6);
  const sent = fragments6(whole, 0x7777, [1232, 1232]);
  const same = (got: Uint8Array[], hlim: number): void => {
    assert.equal(got.length, 3);
    const id = get32(got[0]!, 44);
    for (let i = 0; i < 3; i++) {
      const want = sent[i]!.slice();
      want[7] = hlim;
      put32(want, 44, id);
      assert.equal(hex(got[i]!), hex(want), `fragment ${i}`);
    }
  };
  // route-to: pf_route6 sends them on em2, one hop less
  {
    const { world, c, fw } = lab();
    loadPf(fw.k, 'pass\npass in on em0 inet6 proto udp route-to 2001:db8:3::2\n');
    const onEm1 = capture(fw.ifs[1]!);
    const onEm2 = capture(fw.ifs[2]!);
    for (const p of sent) send6raw(c.k, p);
    world.runFor(1e9);
    assert.equal(v6Of(onEm1, 44).length, 0);
    same(v6Of(onEm2, 44), 63);
  }
  // dup-to on the way out: the copy on em2 as it was at pf_test(OUT); the original goes on to the server, also in
  // fragments (through ip6_forward again, another hop less, as OpenBSD's)
  {
    const { world, c, fw, s } = lab();
    loadPf(fw.k, 'pass\npass out on em1 inet6 proto udp dup-to 2001:db8:3::2\n');
    const onEm1 = capture(fw.ifs[1]!);
    const onEm2 = capture(fw.ifs[2]!);
    for (const p of sent) send6raw(c.k, p);
    world.runFor(1e9);
    same(v6Of(onEm2, 44), 63);
    same(v6Of(onEm1, 44), 62);
    assert.equal(ip6stat(s.k, 'ip6s_reassembled'), 1);
    assert.equal(ip6stat(fw.k, 'ip6s_cantfrag'), 0);
  }
});
