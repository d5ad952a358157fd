/**
 * ICMP errors through translating states (pf_test_state_icmp): the quoted
 * packet finds the state, and pf puts it and the error's addresses back as
 * the other side saw them, in both directions, for quoted TCP, UDP and
 * ICMP, IPv4 and IPv6.  As OpenBSD, the quoted IP header's checksum is left
 * as it was and a quoted UDP checksum becomes 0; the ICMP checksum (and
 * the outer IPv4 header's) is fixed for every change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts, ip, host, wire } from '../netinet/lab.js';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { addr6, ip6 } from '../netinet6/lab6.js';
import { inet6_enable } from '../../../src/sys/netinet6/in6.js';
import { rt6_route_add } from '../../../src/sys/net/route6.js';
import { capture, loadPf, pfctl } from './pf_lab.js';
import { get16, get32, icmpEcho, send4raw, send6raw, tcp, udp, v4Of, v4Packet, v6Of, v6Packet } from './pf_af_lab.js';
import { pseudoSum6, sum16 } from '../../../src/wire/checksum.js';
import { put16, put32 } from '../../../src/wire/bytes.js';

const A = ip('192.0.2.10');
const B = ip('198.51.100.20');
const RTR_B = ip('198.51.100.1');
const RTR_A = ip('192.0.2.1');

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** An ICMP error from src to dst quoting the first 28 bytes of the datagram q. */
function icmpErr(src: number, dst: number, type: number, code: number, q: Uint8Array, mtu = 0): Uint8Array {
  const l4 = new Uint8Array(8 + 28);
  l4[0] = type;
  l4[1] = code;
  put16(l4, 6, mtu);
  l4.set(q.subarray(0, 28), 8);
  return v4Packet(src, dst, 1, l4, 2);
}

/** The IPv4 datagram d with its header checksum and its ICMP checksum recomputed (what a correct rewrite leaves). */
function resum4(d: Uint8Array): Uint8Array {
  const x = d.slice();
  put16(x, 10, 0);
  put16(x, 10, ~sum16(x, 0, 20) & 0xffff);
  put16(x, 22, 0);
  put16(x, 22, ~sum16(x, 20, x.length - 20) & 0xffff);
  return x;
}

function natLab(): ReturnType<typeof threeHosts> {
  const l = threeHosts();
  loadPf(l.r.k, 'pass\npass out on em1 nat-to 198.51.100.1\n');
  return l;
}

test('nat-to, an error coming in: a port unreachable about a translated UDP datagram reaches the inner host as the host sent it', () => {
  const { world, a, r, b } = natLab();
  const atA = capture(a.ifs[0]!);
  const atB = capture(b.ifs[0]!);
  send4raw(a.k, v4Packet(A, B, 17, udp(4000, 53, [1, 2, 3, 4]), 6));
  world.runFor(1e9);
  const out = v4Of(atB, 17)[0]!;
  const nport = get16(out, 20);
  assert.notEqual(nport, 4000);
  const sent = v4Of(atB, 1).find((d) => d[12] === 198)!;
  assert.deepEqual([sent[20], sent[21]], [3, 3]);
  const got = v4Of(atA, 1);
  assert.equal(got.length, 1);
  // what pf makes of it: outer destination and quoted source back to the inner host, its port, quoted UDP sum 0; TTL one less
  const want = sent.slice();
  want[8]! -= 1;
  put32(want, 16, A);
  put32(want, 28 + 12, A);
  put16(want, 48, 4000);
  put16(want, 54, 0);
  assert.equal(hex(got[0]!), hex(resum4(want)));
  // the quoted IP header keeps the checksum b's kernel computed over the translated header (pf leaves it)
  assert.equal(get16(got[0]!, 38), get16(sent, 38));
  assert.equal(sum16(got[0]!, 20, got[0]!.length - 20), 0xffff);
  assert.match(pfctl(r.k, ['-vsr']).out, /pass out on em1 inet all flags S\/SA nat-to 198\.51\.100\.1\n {2}\[ Evaluations: \d+ +Packets: 2 /);
});

test('nat-to, an error coming in about a quoted TCP segment: the sequence number must be in the window', () => {
  const { world, a, r, b } = natLab();
  const atA = capture(a.ifs[0]!);
  const atB = capture(b.ifs[0]!);
  send4raw(a.k, v4Packet(A, B, 6, tcp(40000, 7, 1000, 0, 0x02, 16384), 16));
  world.runFor(1e9);
  const syn = v4Of(atB, 6).find((d) => d[12] === 198)!;
  const nport = get16(syn, 20);
  // a router past b says fragmentation needed about the SYN as it left the firewall
  send4raw(b.k, icmpErr(B, RTR_B, 3, 4, syn, 1400));
  world.runFor(1e9);
  let got = v4Of(atA, 1);
  assert.equal(got.length, 1);
  const want = icmpErr(B, RTR_B, 3, 4, syn, 1400);
  want[8]! -= 1;
  put32(want, 16, A);
  put32(want, 28 + 12, A);
  put16(want, 48, 40000);
  assert.equal(hex(got[0]!), hex(resum4(want)));
  assert.equal(get16(got[0]!, 48 + 2), 7);
  // one quoting a sequence number far outside what the state saw: state-mismatch, dropped
  const bad = syn.slice();
  put32(bad, 24, 1000 + 0x40000000);
  const before = r.k.pf!.counters[10]!;
  send4raw(b.k, icmpErr(B, RTR_B, 3, 4, bad, 1400));
  world.runFor(1e9);
  got = v4Of(atA, 1);
  assert.equal(got.length, 1);
  assert.equal(r.k.pf!.counters[10]! - before, 1);
  assert.notEqual(nport, 0);
});

test('nat-to, an error about a quoted echo request: its id goes back to the one the host chose', () => {
  const { world, a, b } = natLab();
  const atA = capture(a.ifs[0]!);
  const atB = capture(b.ifs[0]!);
  send4raw(a.k, v4Packet(A, B, 1, icmpEcho(8, 0x1234, 1, [9, 9, 9, 9]), 2, 64));
  world.runFor(1e9);
  const req = v4Of(atB, 1).find((d) => d[12] === 198 && d[20] === 8)!;
  send4raw(b.k, icmpErr(B, RTR_B, 11, 0, req));
  world.runFor(1e9);
  const got = v4Of(atA, 1).filter((d) => d[20] === 11);
  assert.equal(got.length, 1);
  const want = icmpErr(B, RTR_B, 11, 0, req);
  want[8]! -= 1;
  put32(want, 16, A);
  put32(want, 28 + 12, A);
  put16(want, 52, 0x1234);
  assert.equal(hex(got[0]!), hex(resum4(want)));
});

test('rdr-to, both ways: an error going out carries the redirected address back; one coming in reaches the redirect target', () => {
  const { world, a, r, b } = threeHosts();
  loadPf(r.k, 'pass\npass in on em0 proto udp to 192.0.2.1 port 5353 rdr-to 198.51.100.20 port 53\n');
  const atA = capture(a.ifs[0]!);
  const atB = capture(b.ifs[0]!);
  send4raw(a.k, v4Packet(A, RTR_A, 17, udp(4000, 5353, [1, 2]), 6));
  world.runFor(1e9);
  // b has nothing on port 53: its port unreachable goes out em0 through the rdr state's stack key
  const sent = v4Of(atB, 1).find((d) => d[12] === 198)!;
  const got = v4Of(atA, 1);
  assert.equal(got.length, 1);
  const want = sent.slice();
  want[8]! -= 1;
  put32(want, 12, RTR_A);
  put32(want, 28 + 16, RTR_A);
  put16(want, 50, 5353);
  put16(want, 54, 0);
  assert.equal(hex(got[0]!), hex(resum4(want)));
  // and an error from a about a reply from the redirected port comes in on em0 (the wire key) and goes to b
  const reply = v4Packet(RTR_A, A, 17, udp(5353, 4000, [3]), 6);
  const n = v4Of(atB, 1).length;
  send4raw(a.k, icmpErr(A, RTR_A, 3, 3, reply));
  world.runFor(1e9);
  const toB = v4Of(atB, 1).slice(n);
  assert.equal(toB.length, 1);
  const want2 = icmpErr(A, RTR_A, 3, 3, reply);
  want2[8]! -= 1;
  put32(want2, 16, B);
  put32(want2, 28 + 12, B);
  put16(want2, 48, 53);
  put16(want2, 54, 0);
  assert.equal(hex(toB[0]!), hex(resum4(want2)));
});

test('an error whose destination is not the quoted source matches no state: the rules decide', () => {
  const { world, a, r, b } = threeHosts();
  loadPf(r.k, 'pass\nblock in on em1\npass out on em1 nat-to 198.51.100.1\n');
  const atA = capture(a.ifs[0]!);
  const atB = capture(b.ifs[0]!);
  send4raw(a.k, v4Packet(A, B, 17, udp(4000, 53, [1]), 6));
  world.runFor(1e9);
  // b's own port unreachable passes by the state although the rules block all that comes in on em1
  const out = v4Of(atB, 17)[0]!;
  assert.equal(v4Of(atA, 1).length, 1);
  // the same quote sent to the firewall's other address: no state, blocked by the rule
  send4raw(b.k, icmpErr(B, RTR_A, 3, 3, out));
  world.runFor(1e9);
  assert.equal(v4Of(atA, 1).length, 1);
  assert.match(pfctl(r.k, ['-vsr']).out, /\nblock drop in on em1 all\n {2}\[ Evaluations: \d+ +Packets: 1 /);
});

/** client 2001:db8:1::10 -- em0 [fw] em1 2001:db8:2::1 -- server 2001:db8:2::20 */
function lab6(conf: string): { world: World; c: ReturnType<typeof host>; fw: ReturnType<typeof host>; s: ReturnType<typeof host> } {
  const world = new World({ seed: 6 });
  const c = host(world, 'client', ['203.0.113.10/24']);
  const fw = host(world, 'fw', ['203.0.113.48/24', '198.51.100.1/24']);
  const s = host(world, 'server', ['198.51.100.31/24']);
  wire(world, c.ifs[0]!, fw.ifs[0]!, { delay: 50_000 });
  wire(world, fw.ifs[1]!, s.ifs[0]!, { delay: 50_000 });
  for (const h of [c, fw, s]) inet6_enable(h.k);
  addr6(c, 0, '2001:db8:1::10/64');
  addr6(fw, 0, '2001:db8:1::1/64');
  addr6(fw, 1, '2001:db8:2::1/64');
  addr6(s, 0, '2001:db8:2::20/64');
  rt6_route_add(c.k, new Uint8Array(16), 0, ip6('2001:db8:1::1'));
  rt6_route_add(s.k, new Uint8Array(16), 0, ip6('2001:db8:2::1'));
  fw.k.sysctl.set('net.inet6.ip6.forwarding', 1);
  world.runFor(12e9);
  loadPf(fw.k, conf);
  return { world, c, fw, s };
}

/** The IPv6 packet d with its ICMPv6 checksum recomputed. */
function resum6(d: Uint8Array): Uint8Array {
  const x = d.slice();
  put16(x, 42, 0);
  put16(x, 42, ~sum16(x, 40, x.length - 40, pseudoSum6(x, 8, 24, 58, x.length - 40)) & 0xffff);
  return x;
}

test('IPv6 nat-to: an ICMPv6 port unreachable about a translated datagram comes back to the client, quoted and outer addresses restored', () => {
  const { world, c, s } = lab6('pass\npass out on em1 inet6 nat-to 2001:db8:2::1\n');
  const C = ip6('2001:db8:1::10');
  const S = ip6('2001:db8:2::20');
  const atC = capture(c.ifs[0]!);
  const atS = capture(s.ifs[0]!);
  send6raw(c.k, v6Packet(C, S, 17, udp(4000, 53, [1, 2, 3]), 6));
  world.runFor(1e9);
  const sent = v6Of(atS, 58).find((d) => d[40] === 1)!;
  assert.equal(sent[41], 4);
  const got = v6Of(atC, 58).filter((d) => d[40] === 1);
  assert.equal(got.length, 1);
  const want = sent.slice();
  want[7]! -= 1;
  want.set(C, 24);
  want.set(C, 48 + 8);
  put16(want, 88, 4000);
  put16(want, 94, 0);
  assert.equal(hex(got[0]!), hex(resum6(want)));
  assert.equal(get32(got[0]!, 88) >>> 16, 4000);
});

test('IPv6 nat-to: an error quoting an echo request restores the id', () => {
  const { world, c, s } = lab6('pass\npass out on em1 inet6 nat-to 2001:db8:2::1\n');
  const C = ip6('2001:db8:1::10');
  const S = ip6('2001:db8:2::20');
  const F = ip6('2001:db8:2::1');
  const atC = capture(c.ifs[0]!);
  const atS = capture(s.ifs[0]!);
  send6raw(c.k, v6Packet(C, S, 58, icmpEcho(128, 0x4321, 1, [7, 7]), 2));
  world.runFor(1e9);
  const req = v6Of(atS, 58).find((d) => d[40] === 128)!;
  const quote = req.subarray(0, 48);
  const l4 = new Uint8Array(8 + quote.length);
  l4[0] = 3;
  l4.set(quote, 8);
  send6raw(s.k, v6Packet(S, F, 58, l4, 2));
  world.runFor(1e9);
  const got = v6Of(atC, 58).filter((d) => d[40] === 3);
  assert.equal(got.length, 1);
  const want = v6Packet(S, F, 58, l4, 2);
  want[7]! -= 1;
  want.set(C, 24);
  want.set(C, 48 + 8);
  put16(want, 48 + 44, 0x4321);
  assert.equal(hex(got[0]!), hex(resum6(want)));
});

test('block return and return-icmp6 over IPv6: the ICMPv6 error icmp6_error sends, with the codes the rules give', () => {
  const { world, c, fw } = lab6('pass\nblock return in on em0 inet6 proto udp to port 69\nblock return-icmp6(admin-unr) in on em0 inet6 proto udp to port 70\n' +
    'block return in on em0 inet6 proto ipv6-icmp icmp6-type echoreq\n');
  assert.equal(pfctl(fw.k, ['-sr']).out, 'pass all flags S/SA\n' +
    'block return in on em0 inet6 proto udp from any to any port = 69\n' +
    'block return-icmp6(admin-unr) in on em0 inet6 proto udp from any to any port = 70\n' +
    'block return in on em0 inet6 proto ipv6-icmp all icmp6-type echoreq\n');
  const C = ip6('2001:db8:1::10');
  const S = ip6('2001:db8:2::20');
  const F = ip6('2001:db8:1::1');
  const atC = capture(c.ifs[0]!);
  const errs = (): Uint8Array[] => v6Of(atC, 58).filter((d) => d[40]! < 128);
  for (const [port, code] of [[69, 4], [70, 1]] as const) {
    const sent = v6Packet(C, S, 17, udp(4000, port, [1, 2, 3]), 6);
    send6raw(c.k, sent);
    world.runFor(1e9);
    const got = errs();
    assert.equal(got.length, 1, `port ${port}`);
    const l4 = new Uint8Array(8 + sent.length);
    l4[0] = 1;
    l4[1] = code;
    l4.set(sent, 8);
    assert.equal(hex(got[0]!), hex(v6Packet(F, C, 58, l4, 2)));
    atC.length = 0;
  }
  // an echo request blocked with return gets a port unreachable too (an informational type); errors are not answered
  send6raw(c.k, v6Packet(C, S, 58, icmpEcho(128, 1, 1, [0]), 2));
  world.runFor(1e9);
  assert.deepEqual(errs().map((d) => [d[40], d[41]]), [[1, 4]]);
});
