import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { host, wire, ip, ipstat } from '../netinet/lab.js';
import { rt_route_add } from '../../../src/sys/net/rtsock.js';
import { rt_match } from '../../../src/sys/net/route.js';
import { pfctl, loadPf, udpBytes, sendRaw, capture, ipOf } from './pf_lab.js';
import { sum16, pseudoSum4 } from '../../../src/wire/checksum.js';
import { listener, connect, accept, drain, payload, pump, sha, tcpstat } from '../netinet/tcp_lab.js';

/**
 * client 203.0.113.10 -- em0 203.0.113.48 [fw] em1 198.51.100.1 -- server 198.51.100.31
 *                                            em2 192.0.2.1    -- gw 192.0.2.2
 */
function lab(): {
  world: World; c: ReturnType<typeof host>; fw: ReturnType<typeof host>; s: ReturnType<typeof host>; g: ReturnType<typeof host>;
} {
  const world = new World({ seed: 5 });
  const c = host(world, 'client', ['203.0.113.10/24']);
  const fw = host(world, 'fw', ['203.0.113.48/24', '198.51.100.1/24', '192.0.2.1/24']);
  const s = host(world, 'server', ['198.51.100.31/24']);
  const g = host(world, 'gw', ['192.0.2.2/24']);
  wire(world, c.ifs[0]!, fw.ifs[0]!, { delay: 50_000 });
  wire(world, fw.ifs[1]!, s.ifs[0]!, { delay: 50_000 });
  wire(world, fw.ifs[2]!, g.ifs[0]!, { delay: 50_000 });
  rt_route_add(c.k, 0, 0, ip('203.0.113.48'));
  rt_route_add(s.k, 0, 0, ip('198.51.100.1'));
  rt_route_add(g.k, 0, 0, ip('192.0.2.1'));
  fw.k.sysctl.set('net.inet.ip.forwarding', 1);
  world.runFor(1e8);
  return { world, c, fw, s, g };
}

function udp(frames: Uint8Array[]): Uint8Array[] {
  return ipOf(frames, 17);
}

/** the Ethernet destination of a captured frame */
function ethDst(f: Uint8Array): string {
  return Array.from(f.subarray(0, 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

function mac(h: ReturnType<typeof host>): string {
  return Array.from(h.ifs[0]!.if_lladdr, (x) => x.toString(16).padStart(2, '0')).join(':');
}

test('route-to: a packet leaves by the route pool next hop, not by the routing table; pfctl -ss shows {rt_addr}', () => {
  const { world, c, fw, s, g } = lab();
  loadPf(fw.k, 'pass\npass in on em0 proto udp route-to 192.0.2.2\n');
  assert.equal(pfctl(fw.k, ['-sr']).out, 'pass all flags S/SA\npass in on em0 inet proto udp all route-to 192.0.2.2\n');
  const onEm1 = capture(fw.ifs[1]!);
  const onEm2 = capture(fw.ifs[2]!);
  const atGw = capture(g.ifs[0]!);
  const atServer = capture(s.ifs[0]!);
  const sent = udpBytes(ip('203.0.113.10'), ip('198.51.100.31'), 40000, 53, 8);
  sendRaw(c.k, sent);
  world.runFor(1e9);
  assert.equal(udp(onEm1).length, 0);
  assert.equal(udp(atServer).length, 0);
  const out = udp(onEm2);
  assert.equal(out.length, 1);
  // the same datagram, TTL one less, header checksum recomputed
  const want = sent.slice();
  want[8] = 63;
  want[10] = 0;
  want[11] = 0;
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (want[i]! << 8) | want[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  want[10] = (~sum >>> 8) & 0xff;
  want[11] = ~sum & 0xff;
  assert.deepEqual(Array.from(out[0]!), Array.from(want));
  // to the gateway's Ethernet address
  const f = onEm2.find((x) => x[23] === 17)!;
  assert.equal(ethDst(f), mac(g));
  assert.equal(udp(atGw).length, 1);
  const ss = pfctl(fw.k, ['-ss']).out;
  // pf_route's pf_test(OUT) on em2 made the out state there
  assert.equal(ss,
    'all udp 198.51.100.31:53 {192.0.2.2} <- 203.0.113.10:40000       NO_TRAFFIC:SINGLE\n' +
    'all udp 203.0.113.10:40000 -> 198.51.100.31:53       SINGLE:NO_TRAFFIC\n');
});

test('reply-to: replies of a state go back to the reply-to next hop, not by the routing table', () => {
  const { world, c, fw, g } = lab();
  loadPf(fw.k, 'pass\npass in on em2 proto udp reply-to 192.0.2.2\n');
  const onEm1 = capture(fw.ifs[1]!);
  const onEm2 = capture(fw.ifs[2]!);
  // a request from a source the routing table puts behind em1 arrives on em2
  sendRaw(g.k, udpBytes(ip('198.51.100.77'), ip('203.0.113.10'), 40001, 7, 4));
  world.runFor(1e9);
  const reply = udpBytes(ip('203.0.113.10'), ip('198.51.100.77'), 7, 40001, 4);
  sendRaw(c.k, reply);
  world.runFor(1e9);
  assert.equal(udp(onEm1).length, 0);
  const back = udp(onEm2).filter((d) => d[12] === 203);
  assert.equal(back.length, 1);
  assert.deepEqual(Array.from(back[0]!.subarray(12, 20)), Array.from(reply.subarray(12, 20)));
  assert.deepEqual(Array.from(back[0]!.subarray(20)), Array.from(reply.subarray(20)));
  assert.equal(back[0]![8], 63);
  const f = onEm2.find((x) => x[23] === 17 && x[26] === 203)!;
  assert.equal(ethDst(f), mac(g));
  // forwarded by route-to, not refused: ips_forward, no ips_cantforward
  assert.equal(ipstat(fw.k, 'ips_cantforward'), 0);
  // the in state on em2 carries the reply-to address; the out state on em0 does not
  assert.equal(pfctl(fw.k, ['-ss']).out,
    'all udp 203.0.113.10:7 {192.0.2.2} <- 198.51.100.77:40001       SINGLE:MULTIPLE\n' +
    'all udp 198.51.100.77:40001 -> 203.0.113.10:7       MULTIPLE:SINGLE\n');
});

test('dup-to: bpf on the dup interface sees a copy, the original is delivered', () => {
  const { world, c, fw, s, g } = lab();
  loadPf(fw.k, 'pass\npass in on em0 proto udp dup-to 192.0.2.2\n');
  const onEm2 = capture(fw.ifs[2]!);
  const atServer = capture(s.ifs[0]!);
  sendRaw(c.k, udpBytes(ip('203.0.113.10'), ip('198.51.100.31'), 40002, 9, 6));
  world.runFor(1e9);
  const copy = udp(onEm2);
  const orig = udp(atServer);
  assert.equal(copy.length, 1);
  assert.equal(orig.length, 1);
  assert.deepEqual(Array.from(copy[0]!), Array.from(orig[0]!));
  assert.equal(orig[0]![8], 63);
  assert.equal(ethDst(onEm2.find((x) => x[23] === 17)!), mac(g));
  assert.match(pfctl(fw.k, ['-ss']).out, /^all udp 198\.51\.100\.31:9 \{192\.0\.2\.2\} <- 203\.0\.113\.10:40002 /);
});

test('route-to a next hop without a route: ips_noroute and ICMP host unreachable, which pf does not test', () => {
  const world = new World({ seed: 6 });
  const c = host(world, 'client', ['203.0.113.10/24']);
  const fw = host(world, 'fw', ['203.0.113.48/24', '198.51.100.1/24']);
  wire(world, c.ifs[0]!, fw.ifs[0]!);
  rt_route_add(c.k, 0, 0, ip('203.0.113.48'));
  fw.k.sysctl.set('net.inet.ip.forwarding', 1);
  world.runFor(1e8);
  loadPf(fw.k, 'pass\npass in on em0 proto udp route-to 192.0.2.2\n');
  const atClient = capture(c.ifs[0]!);
  const before = ipstat(fw.k, 'ips_noroute');
  sendRaw(c.k, udpBytes(ip('203.0.113.10'), ip('198.51.100.31'), 40003, 53, 4));
  world.runFor(1e9);
  assert.equal(ipstat(fw.k, 'ips_noroute'), before + 1);
  const icmp = ipOf(atClient, 1).filter((d) => d[12] === 203 && d[15] === 48);
  assert.equal(icmp.length, 1);
  assert.equal(icmp[0]![20], 3);
  assert.equal(icmp[0]![21], 1);
  // the error is pf's own (pf_send_icmp: PF_TAG_GENERATED): pf lets it out untested, the state does not count it
  assert.match(pfctl(fw.k, ['-vss']).out, /^all udp 198\.51\.100\.31:53 \{192\.0\.2\.2\} <- 203\.0\.113\.10:40003 .*\n.* 1:0 pkts, 32:0 bytes/);
});

test('route-to: a packet whose next hop\'s route lost its interface is freed and counted (no-route)', () => {
  const { world, c, fw, g } = lab();
  loadPf(fw.k, 'pass\npass in on em0 proto udp route-to 192.0.2.2\n');
  const atGw = capture(g.ifs[0]!);
  sendRaw(c.k, udpBytes(ip('203.0.113.10'), ip('198.51.100.31'), 40000, 53, 8));
  world.runFor(1e9);
  assert.equal(udp(atGw).length, 1);
  // the next hop's route now names an interface that is gone
  rt_match(fw.k, ip('192.0.2.2'), 0, 0)!.rt_ifidx = 99;
  const noroute = (): number => Number(/^ {2}no-route +(\d+)/m.exec(pfctl(fw.k, ['-si']).out)![1]);
  assert.equal(noroute(), 0);
  sendRaw(c.k, udpBytes(ip('203.0.113.10'), ip('198.51.100.31'), 40000, 53, 9));
  world.runFor(1e9);
  assert.equal(udp(atGw).length, 1);
  assert.equal(noroute(), 1);
});

test('route-to out of lo0: a locally generated packet with the loopback source leaves with the address of the route (checksums follow)', () => {
  const { world, fw, s } = lab();
  loadPf(fw.k, 'pass\npass out on lo0 proto udp to port 9 route-to 198.51.100.31\n');
  const atServer = capture(s.ifs[0]!);
  // 127.0.0.1 -> 127.0.0.1: the routing table sends it to lo0, pf_route to em1
  sendRaw(fw.k, udpBytes(ip('127.0.0.1'), ip('127.0.0.1'), 40005, 9, 6));
  world.runFor(1e9);
  const got = udp(atServer);
  assert.equal(got.length, 1);
  const d = got[0]!;
  assert.deepEqual(Array.from(d.subarray(12, 20)), [198, 51, 100, 1, 127, 0, 0, 1]);
  // the IP header and UDP checksums are right for the new source
  assert.equal(sum16(d, 0, 20), 0xffff);
  assert.equal(sum16(d, 20, d.length - 20, pseudoSum4(ip('198.51.100.1') >>> 0, ip('127.0.0.1') >>> 0, 17, d.length - 20)), 0xffff);
});

test('route-to on the sending host: a TCP transfer in TSO segments goes as ip_output sends it (if_output_tso), byte for byte', () => {
  const { world, c, s } = lab();
  loadPf(c.k, 'pass\npass out on em0 proto tcp to port 80 route-to 203.0.113.48\n');
  const ls = listener(s.k, 80);
  const so = connect(c.k, ip('198.51.100.31'), 80);
  world.runFor(1e9);
  const peer = accept(ls)!;
  const data = payload(200000, 9);
  const got = drain(peer);
  const atFw = capture(c.ifs[0]!);
  pump(so, data, 'close');
  world.runFor(5e9);
  assert.equal(sha(got.bytes()), sha(data));
  assert.ok(got.eof());
  // none refused as too big (DF), none with a bad checksum at the server
  const segs = ipOf(atFw, 6);
  assert.ok(segs.length > 40);
  // em cuts the segments (IFCAP_TSOv4): bpf sees them whole, longer than the MTU, as on OpenBSD
  assert.ok(tcpstat(c.k, 'tcps_outhwtso') > 0);
  assert.equal(ipstat(c.k, 'ips_cantfrag'), 0);
  assert.equal(tcpstat(s.k, 'tcps_rcvbadsum'), 0);
  assert.match(pfctl(c.k, ['-ss']).out, /^all tcp 203\.0\.113\.10:\d+ -> 198\.51\.100\.31:80 \{203\.0\.113\.48\} /);
});
