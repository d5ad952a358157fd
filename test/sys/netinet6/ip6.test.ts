import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capture } from '../../../src/lib/io.js';
import { threeHosts6, echo6, send6, ip6, ip6stat, icmp6stat, addr6 } from './lab6.js';
import { host, wire } from '../netinet/lab.js';
import { World } from '../../../src/sys/kern/kern_clock.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import { inet6_enable } from '../../../src/sys/netinet6/in6.js';
import { ipv6_input } from '../../../src/sys/netinet6/ip6_input.js';
import { nd6_lookup, nd6_nbrinfo, ND6_LLINFO_REACHABLE, ND6_LLINFO_STALE, ND6_LLINFO_DELAY } from '../../../src/sys/netinet6/nd6.js';
import { IN6_IFF_DUPLICATED, IN6_IFF_TENTATIVE } from '../../../src/sys/netinet6/in6_var.js';
import { ICMP6_ECHO_REPLY, ICMP6_ECHO_REQUEST, ICMP6_PACKET_TOO_BIG, ICMP6_TIME_EXCEEDED, ICMP6_PARAM_PROB } from '../../../src/wire/icmp6.js';
import { netstatTool } from '../../../src/usr.bin/netstat/main.js';
import { ndp } from '../../../src/usr.sbin/ndp/ndp.js';
import { ifconfig } from '../../../src/sbin/ifconfig/ifconfig.js';
import { ping6 } from '../../../src/sbin/ping6/ping6.js';
import type { Host } from '../netinet/lab.js';

function replies(h: Host): number[] {
  const seen: number[] = [];
  h.k.inet6.icmp6Listeners.add((buf, off, _len, ioff) => {
    if (buf[off + ioff] === ICMP6_ECHO_REPLY) seen.push((buf[off + ioff + 6]! << 8) | buf[off + ioff + 7]!);
  });
  return seen;
}

test('hostA pings hostB through the IPv6 router; neighbors resolved', () => {
  const { world, a, r, b } = threeHosts6();
  const got = replies(a);
  assert.equal(send6(a.k, echo6(a.k, ip6('2001:db8:2::20'))), 0);
  world.runFor(1e9);
  assert.deepEqual(got, [0]);
  assert.equal(ip6stat(r.k, 'ip6s_forward'), 2);
  assert.equal(icmp6stat(b.k, 'icp6s_inhist', ICMP6_ECHO_REQUEST), 1);
  assert.equal(icmp6stat(b.k, 'icp6s_outhist', ICMP6_ECHO_REPLY), 1);
  assert.equal(icmp6stat(a.k, 'icp6s_inhist', ICMP6_ECHO_REPLY), 1);
  // The router resolved b's address (solicited: REACHABLE).
  const rt = nd6_lookup(r.k, ip6('2001:db8:2::20'), 0, false, r.ifs[1]!);
  assert.ok(rt !== null);
  assert.equal(nd6_nbrinfo(rt).state, ND6_LLINFO_REACHABLE);
  // Addresses finished DAD.
  for (const ia of a.k.inet6.addrs(a.ifs[0]!)) assert.equal(ia.ia6_flags & IN6_IFF_TENTATIVE, 0);
});

test('ND: REACHABLE goes STALE, DELAY on use, then PROBE and REACHABLE again; unresolvable neighbor gets address unreachable', () => {
  const { world, a, r } = threeHosts6();
  send6(a.k, echo6(a.k, ip6('2001:db8:1::1')));
  world.runFor(1e9);
  const rt = nd6_lookup(a.k, ip6('2001:db8:1::1'), 0, false, a.ifs[0]!)!;
  assert.equal(nd6_nbrinfo(rt).state, ND6_LLINFO_REACHABLE);
  world.runFor(60e9);
  assert.equal(nd6_nbrinfo(rt).state, ND6_LLINFO_STALE);
  send6(a.k, echo6(a.k, ip6('2001:db8:1::1'), 56, { seq: 1 }));
  assert.equal(nd6_nbrinfo(rt).state, ND6_LLINFO_DELAY);
  world.runFor(10e9);
  assert.equal(nd6_nbrinfo(rt).state, ND6_LLINFO_REACHABLE);
  // A neighbor that never answers: 3 solicitations, then the held packet is refused.
  const before = icmp6stat(a.k, 'icp6s_odst_unreach_addr');
  send6(a.k, echo6(a.k, ip6('2001:db8:1::99')));
  world.runFor(5e9);
  assert.equal(icmp6stat(a.k, 'icp6s_odst_unreach_addr'), before + 1);
  assert.equal(nd6_lookup(a.k, ip6('2001:db8:1::99'), 0, false, a.ifs[0]!), null);
  void r;
});

test('DAD: the second host configuring an address finds it duplicated', async () => {
  const world = new World({ seed: 3 });
  const a = host(world, 'a', ['192.0.2.10/24']);
  const b = host(world, 'b', ['192.0.2.11/24']);
  wire(world, a.ifs[0]!, b.ifs[0]!);
  inet6_enable(a.k);
  inet6_enable(b.k);
  addr6(a, 0, '2001:db8::1/64');
  world.runFor(5e9);
  addr6(b, 0, '2001:db8::1/64');
  world.runFor(5e9);
  const ia = b.k.inet6.addrs(b.ifs[0]!).find((x) => x.addr[15] === 1 && x.addr[0] === 0x20)!;
  assert.ok(ia.ia6_flags & IN6_IFF_DUPLICATED);
  assert.ok(b.k.msgbuf.some((l) => l.startsWith('em0: DAD detected duplicate IPv6 address 2001:db8::1')));
  const out = await capture((v, io) => ifconfig(b.k, v, io), ['em0']);
  assert.match(out.stdout, /\tinet6 2001:db8::1 prefixlen 64 duplicated\n/);
});

test('forwarding: hop limit expiry gives time exceeded, MTU gives packet too big, then the source fragments', () => {
  const { world, a, r, b } = threeHosts6();
  const got = replies(a);
  send6(a.k, echo6(a.k, ip6('2001:db8:2::20'), 56, { hlim: 1 }));
  world.runFor(1e9);
  assert.equal(icmp6stat(r.k, 'icp6s_otime_exceed_transit'), 1);
  assert.equal(icmp6stat(a.k, 'icp6s_inhist', ICMP6_TIME_EXCEEDED), 1);
  assert.equal(got.length, 0);

  r.ifs[1]!.if_mtu = 1400;
  send6(a.k, echo6(a.k, ip6('2001:db8:2::20'), 1400, { seq: 1 }));
  world.runFor(1e9);
  assert.equal(icmp6stat(r.k, 'icp6s_opacket_too_big'), 1);
  assert.equal(icmp6stat(a.k, 'icp6s_inhist', ICMP6_PACKET_TOO_BIG), 1);
  assert.equal(icmp6stat(a.k, 'icp6s_pmtuchg'), 1);
  send6(a.k, echo6(a.k, ip6('2001:db8:2::20'), 1400, { seq: 2 }));
  world.runFor(1e9);
  assert.equal(ip6stat(a.k, 'ip6s_fragmented'), 1);
  assert.equal(ip6stat(a.k, 'ip6s_ofragments'), 2);
  assert.equal(ip6stat(b.k, 'ip6s_reassembled'), 1);
  assert.deepEqual(got, [2]);
});

test('forwarding off: not ours counts ip6s_cantforward', () => {
  const { world, a, r } = threeHosts6(1, { forwarding: false });
  send6(a.k, echo6(a.k, ip6('2001:db8:2::20')));
  world.runFor(1e9);
  assert.equal(ip6stat(r.k, 'ip6s_cantforward'), 1);
});

/** A raw IPv6 packet arriving on ifp of k (m built from bytes). */
function inject(k: Kernel, ifidx: number, bytes: Uint8Array): void {
  const m = k.mbufs.get(bytes.length)!;
  m.append(bytes.length);
  m.buf.set(bytes, m.off);
  ipv6_input(k.ifnets[ifidx]!, m);
}

function pkt(src: string, dst: string, nxt: number, payload: Uint8Array, hlim = 64): Uint8Array {
  const b = new Uint8Array(40 + payload.length);
  b[0] = 0x60;
  b[4] = payload.length >>> 8;
  b[5] = payload.length & 0xff;
  b[6] = nxt;
  b[7] = hlim;
  b.set(ip6(src), 8);
  b.set(ip6(dst), 24);
  b.set(payload, 40);
  return b;
}

function frag(nxt: number, off: number, more: boolean, id: number, data: Uint8Array): Uint8Array {
  const f = new Uint8Array(8 + data.length);
  f[0] = nxt;
  const o = off | (more ? 1 : 0);
  f[2] = o >>> 8;
  f[3] = o & 0xff;
  f[4] = id >>> 24;
  f[5] = (id >>> 16) & 0xff;
  f[6] = (id >>> 8) & 0xff;
  f[7] = id & 0xff;
  f.set(data, 8);
  return f;
}

test('frag6: overlapping fragments drop the whole datagram (RFC 5722)', () => {
  const { world, b } = threeHosts6();
  const data = new Uint8Array(64);
  const idx = b.ifs[0]!.if_index;
  inject(b.k, idx, pkt('2001:db8:1::10', '2001:db8:2::20', 44, frag(58, 0, true, 7, data.subarray(0, 32))));
  inject(b.k, idx, pkt('2001:db8:1::10', '2001:db8:2::20', 44, frag(58, 24, false, 7, data.subarray(0, 40))));
  world.runFor(1e9);
  assert.equal(ip6stat(b.k, 'ip6s_fragments'), 2);
  assert.equal(ip6stat(b.k, 'ip6s_fragdropped'), 2);
  assert.equal(ip6stat(b.k, 'ip6s_reassembled'), 0);
  assert.equal(b.k.inet6.frag6.nfragpackets, 0);
  // A first fragment alone times out after 120 runs of frag6_slowtimo (51 ticks each): time exceeded (reassembly).
  inject(b.k, idx, pkt('2001:db8:1::10', '2001:db8:2::20', 44, frag(58, 0, true, 8, data.subarray(0, 32))));
  world.runFor(60e9);
  assert.equal(ip6stat(b.k, 'ip6s_fragtimeout'), 0);
  world.runFor(2e9);
  assert.equal(ip6stat(b.k, 'ip6s_fragtimeout'), 1);
  assert.equal(icmp6stat(b.k, 'icp6s_otime_exceed_reassembly'), 1);
});

test('every malformed packet is dropped with its own counter', () => {
  const { world, b } = threeHosts6();
  const k = b.k;
  const idx = b.ifs[0]!.if_index;
  const echo = new Uint8Array([128, 0, 0, 0, 0, 1, 0, 1]);
  inject(k, idx, new Uint8Array(20));
  assert.equal(ip6stat(k, 'ip6s_toosmall'), 1);
  const v4 = pkt('2001:db8:1::10', '2001:db8:2::20', 58, echo);
  v4[0] = 0x40;
  inject(k, idx, v4);
  assert.equal(ip6stat(k, 'ip6s_badvers'), 1);
  inject(k, idx, pkt('ff02::1', '2001:db8:2::20', 58, echo));
  inject(k, idx, pkt('::1', '2001:db8:2::20', 58, echo));
  inject(k, idx, pkt('::ffff:192.0.2.1', '2001:db8:2::20', 58, echo));
  assert.equal(ip6stat(k, 'ip6s_badscope'), 3);
  const short = pkt('2001:db8:1::10', '2001:db8:2::20', 58, echo);
  short[5] = 64;
  inject(k, idx, short);
  assert.equal(ip6stat(k, 'ip6s_tooshort'), 1);
  // Type 0 routing header: parameter problem, ip6s_badoptions.
  inject(k, idx, pkt('2001:db8:1::10', '2001:db8:2::20', 43, new Uint8Array([58, 2, 0, 1, 0, 0, 0, 0, ...new Uint8Array(16), ...echo])));
  assert.equal(ip6stat(k, 'ip6s_badoptions'), 1);
  // Unknown next header: parameter problem (next header), rip6s_nosock.
  inject(k, idx, pkt('2001:db8:1::10', '2001:db8:2::20', 253, echo));
  assert.equal(k.stats.rip6stat.value('rip6s_nosock'), 1);
  assert.equal(icmp6stat(k, 'icp6s_oparamprob_nextheader'), 1);
  // Bad ICMPv6 checksum.
  inject(k, idx, pkt('2001:db8:1::10', '2001:db8:2::20', 58, echo));
  assert.equal(icmp6stat(k, 'icp6s_checksum'), 1);
  // Not for us, not a router.
  inject(k, idx, pkt('2001:db8:1::10', '2001:db8:9::1', 58, echo));
  assert.equal(ip6stat(k, 'ip6s_cantforward'), 1);
  assert.equal(icmp6stat(k, 'icp6s_outhist', ICMP6_PARAM_PROB), 2);
  world.runFor(1e9);
});

test('netstat -ss -p ip6 after forwarded and local traffic; ndp -an; ifconfig inet6; ping6', async () => {
  const { world, a, r, b } = threeHosts6();
  const p = await capture((v, io) => ping6(a.k, v, io), ['-c', '2', '2001:db8:2::20']);
  assert.equal(p.status, 0);
  const lines = p.stdout.split('\n');
  assert.equal(lines[0], 'PING 2001:db8:2::20 (2001:db8:2::20): 56 data bytes');
  assert.match(lines[1]!, /^64 bytes from 2001:db8:2::20: icmp_seq=0 hlim=63 time=\d+\.\d{3} ms$/);
  assert.equal(lines[4], '--- 2001:db8:2::20 ping statistics ---');
  assert.equal(lines[5], '2 packets transmitted, 2 packets received, 0.0% packet loss');
  const ns = await capture(netstatTool(r.k), ['-ss', '-p', 'ip6']);
  process.stdout.write(`# router netstat -ss -p ip6\n${ns.stdout}`);
  assert.match(ns.stdout, /^ip6:\n/);
  assert.match(ns.stdout, /\t4 packets forwarded\n/);
  const n = await capture((v, io) => ndp(r.k, v, io), ['-an']);
  process.stdout.write(n.stdout);
  assert.match(n.stdout, /^Neighbor {32}Linklayer Address {3}Netif Expire {4}S Flags\n/);
  assert.match(n.stdout, /\n2001:db8:2::20 {26}02:00:00:00:00:[0-9a-f]{2} {5}em1 \d+s +R \n/);
  const i = await capture((v, io) => ifconfig(b.k, v, io), ['em0']);
  process.stdout.write(i.stdout);
  assert.match(i.stdout, /\tinet6 fe80::ff:fe00:[0-9a-f]+%em0 prefixlen 64 scopeid 0x2\n\tinet6 2001:db8:2::20 prefixlen 64\n$/);
  const rn = await capture(netstatTool(a.k), ['-rn', '-f', 'inet6']);
  process.stdout.write(rn.stdout);
  assert.match(rn.stdout, /^Routing tables\n\nInternet6:\nDestination {33}Gateway {33}Flags {3}Refs {6}Use {3}Mtu {2}Prio Iface\n/);
  assert.match(rn.stdout, /\ndefault {37}2001:db8:1::1 {27}UGS +\d+ +\d+ +- +8 em0 *\n/);
  assert.match(rn.stdout, /\nfe80::%em0\/64 {31}fe80::ff:fe00:[0-9a-f]+%em0 +UCn /);
  void world;
});
