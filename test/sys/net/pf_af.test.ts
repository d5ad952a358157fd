/**
 * pf af-to (NAT64/NAT46): the translated packets byte for byte both ways
 * (UDP, TCP, ICMP echo, ICMP errors with their quoted packet), a TCP
 * connection from an IPv6-only host to an IPv4-only one, pfctl -ss of the
 * states, the journey, and the drops with their counters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  afLab, get16, icmpEcho, send4raw, send6raw, tcp, udp, v4Of, v4Packet, v6Of, v6Packet,
} from './pf_af_lab.js';
import { capture, loadPf, pfctl } from './pf_lab.js';
import { ip6 } from '../netinet6/lab6.js';
import { ip } from '../netinet/lab.js';
import { accept, drain, listener, payload, pump, sha } from '../netinet/tcp_lab.js';
import { socreate, soconnect, SOCK_STREAM } from '../../../src/sys/kern/uipc_socket.js';
import { AF_INET6, Sockaddr } from '../../../src/sys/netinet/in_pcb.js';
import { Tracer } from '../../../src/sys/kern/kern_trace.js';
import { pseudoSum6, sum16 } from '../../../src/wire/checksum.js';
import { put16, put32 } from '../../../src/wire/bytes.js';

const NAT64 = 'pass\npass in on em0 inet6 from any to 64:ff9b::/96 af-to inet from 192.0.2.1\n';
const C6 = ip6('2001:db8:1::10');
/** the server 192.0.2.20 at 64:ff9b::/96 (RFC 6052) */
const S64 = ip6('64:ff9b::c000:214');
const S4 = ip('192.0.2.20');
const R4 = ip('192.0.2.1');

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** IPv6 packets from the server's translated address (not the client's own) */
function fromS64(ps: Uint8Array[]): Uint8Array[] {
  return ps.filter((p) => hex(p.subarray(8, 24)) === hex(S64));
}

function counter(out: string, name: string): number {
  const m = new RegExp(`^  ${name} +(\\d+)`, 'm').exec(out);
  return m === null ? -1 : Number(m[1]);
}

test('af-to inet: pfctl -sr, a UDP datagram translated both ways byte for byte (TOS, TTL, ports, checksums)', () => {
  const { world, c, r, s } = afLab();
  loadPf(r.k, NAT64);
  assert.equal(pfctl(r.k, ['-sr']).out,
    'pass all flags S/SA\npass in on em0 inet6 from any to 64:ff9b::/96 flags S/SA af-to inet from 192.0.2.1\n');
  const atS = capture(s.ifs[0]!);
  const atC = capture(c.ifs[0]!);
  // traffic class 0xb9: DSCP EF and an ECN bit (pf keeps the TOS without ECN, as OpenBSD)
  send6raw(c.k, v6Packet(C6, S64, 17, udp(40000, 53, [1, 2, 3, 4]), 6, 64, 0xb9));
  world.runFor(1e9);
  const got = v4Of(atS, 17);
  assert.equal(got.length, 1);
  const nport = get16(got[0]!, 20);
  assert.ok(nport >= 50001 && nport <= 65535, `nat port ${nport}`);
  // IPv4: TOS 0xb8, a random id, DF, TTL 64 - 1 (ip_forward), from the af-to address
  assert.equal(hex(got[0]!), hex(v4Packet(R4, S4, 17, udp(nport, 53, [1, 2, 3, 4]), 6, 63, get16(got[0]!, 4), true, 0xb8)));
  // and back: the server's answer reaches the client from 64:ff9b::192.0.2.20
  send4raw(s.k, v4Packet(S4, R4, 17, udp(53, nport, [9, 8, 7]), 6, 64));
  world.runFor(1e9);
  const back = fromS64(v6Of(atC, 17));
  assert.equal(back.length, 1);
  assert.equal(hex(back[0]!), hex(v6Packet(S64, C6, 17, udp(53, 40000, [9, 8, 7]), 6, 63)));
  assert.equal(pfctl(r.k, ['-ss']).out.split('\n').filter((l) => l.includes('udp')).join('\n'),
    `all udp 192.0.2.1:${nport} (2001:db8:1::10[40000]) -> 192.0.2.20:53 (64:ff9b::c000:214[53])       NO_TRAFFIC:SINGLE`);
});

test('af-to inet: TCP SYN and SYN-ACK, ICMP echo and reply translated byte for byte; pfctl -ss -v counts both ways in the first column (OpenBSD)', () => {
  const { world, c, r, s } = afLab(4);
  loadPf(r.k, NAT64);
  const atS = capture(s.ifs[0]!);
  const atC = capture(c.ifs[0]!);
  send6raw(c.k, v6Packet(C6, S64, 6, tcp(41000, 80, 1000, 0, 0x02, 8192), 16));
  world.runFor(1e9);
  const syn = v4Of(atS, 6).filter((p) => p[33] === 0x02);
  assert.equal(syn.length, 1);
  const nport = get16(syn[0]!, 20);
  assert.equal(hex(syn[0]!), hex(v4Packet(R4, S4, 6, tcp(nport, 80, 1000, 0, 0x02, 8192), 16, 63, get16(syn[0]!, 4), true)));
  // the server has no listener on port 80 and answers RST; here a hand-made SYN-ACK too
  send4raw(s.k, v4Packet(S4, R4, 6, tcp(80, nport, 5000, 1001, 0x12, 4096), 16, 64));
  world.runFor(1e9);
  const synack = v6Of(atC, 6).filter((p) => p[53] === 0x12);
  assert.equal(synack.length, 1);
  assert.equal(hex(synack[0]!), hex(v6Packet(S64, C6, 6, tcp(80, 41000, 5000, 1001, 0x12, 4096), 16, 63)));

  // ICMP echo: ICMPv6 128 becomes ICMP 8 with a new id; the reply 0 becomes 129 with the client's id
  send6raw(c.k, v6Packet(C6, S64, 58, icmpEcho(128, 0x1234, 7, [1, 2, 3, 4, 5, 6, 7, 8]), 2));
  world.runFor(1e9);
  const req = v4Of(atS, 1).filter((p) => p[20] === 8);
  assert.equal(req.length, 1);
  const nid = get16(req[0]!, 24);
  assert.equal(hex(req[0]!), hex(v4Packet(R4, S4, 1, icmpEcho(8, nid, 7, [1, 2, 3, 4, 5, 6, 7, 8]), 2, 63, get16(req[0]!, 4), true)));
  // the server's stack answers the echo itself
  const rep = v6Of(atC, 58).filter((p) => p[40] === 129);
  assert.equal(rep.length, 1);
  const srep = v4Of(atS, 1).filter((p) => p[20] === 0)[0]!;
  // its TTL 255 is more than IPv6's default hop limit: 64, less one (ip6_forward)
  assert.equal(srep[8], 255);
  assert.equal(hex(rep[0]!), hex(v6Packet(S64, C6, 58, icmpEcho(129, 0x1234, 7, [1, 2, 3, 4, 5, 6, 7, 8]), 2, 63)));
  const ss = pfctl(r.k, ['-s', 'states', '-v']).out.split('\n');
  const at = ss.findIndex((l) => l.includes('tcp'));
  assert.equal(ss[at], `all tcp 192.0.2.1:${nport} (2001:db8:1::10[41000]) -> 192.0.2.20:80 (64:ff9b::c000:214[80])       TIME_WAIT:TIME_WAIT`);
  // all four arrive inbound, as OpenBSD counts them in the first column (pd->dir == st->direction): the SYN and
  // the client's RST to the unexpected SYN-ACK (IPv6, 60 bytes each), the server's RST and the SYN-ACK (IPv4, 40 each)
  assert.match(ss[at + 2]!, /, 4:0 pkts, 200:0 bytes, rule 1$/);
  const ai = ss.findIndex((l) => l.includes('ipv6-icmp 192.0.2.1'));
  assert.equal(ss[ai], `all ipv6-icmp 192.0.2.1:${nid} (2001:db8:1::10[4660]) -> 192.0.2.20:8 (64:ff9b::c000:214[${nid}])       0:0`);
  assert.match(ss[ai + 1]!, /, 2:0 pkts, 92:0 bytes, rule 1$/);
});

test('af-to inet: a TCP connection from an IPv6-only host to an IPv4-only host moves 300 kB byte for byte', () => {
  const { world, c, r, s } = afLab(5);
  loadPf(r.k, NAT64);
  const l = listener(s.k, 80);
  const so = socreate(c.k, AF_INET6, SOCK_STREAM, 0);
  if (typeof so === 'number') throw new Error('socreate');
  assert.equal(soconnect(so, Sockaddr.in6(S64, 80)), 0);
  world.runFor(1e9);
  const a = accept(l);
  assert.ok(a !== null);
  // both ways: the client sends 300 kB, the server 100 kB
  const up = payload(300_000, 11);
  const down = payload(100_000, 12);
  const rs = drain(a);
  const rc = drain(so);
  pump(so, up, 'none');
  pump(a, down, 'none');
  world.runFor(20e9);
  assert.equal(sha(rs.bytes()), sha(up));
  assert.equal(sha(rc.bytes()), sha(down));
  const line = pfctl(r.k, ['-ss']).out.split('\n').find((x) => x.includes('tcp'))!;
  assert.match(line, /^all tcp 192\.0\.2\.1:\d+ \(2001:db8:1::10\[\d+\]\) -> 192\.0\.2\.20:80 \(64:ff9b::c000:214\[80\]\) {7}ESTABLISHED:ESTABLISHED$/);
  const si = pfctl(r.k, ['-si']).out;
  assert.equal(counter(si, 'state-mismatch'), 0);
  assert.equal(counter(si, 'translate'), 0);
});

test('af-to inet: an ICMP port unreachable about a translated datagram reaches the IPv6 client as ICMPv6, quoted packet translated', () => {
  const { world, c, r, s } = afLab(6);
  loadPf(r.k, NAT64);
  const atS = capture(s.ifs[0]!);
  const atC = capture(c.ifs[0]!);
  send6raw(c.k, v6Packet(C6, S64, 17, udp(40001, 9, [1, 2, 3, 4, 5, 6]), 6));
  world.runFor(1e9);
  const err4 = v4Of(atS, 1).filter((p) => p[20] === 3);
  assert.equal(err4.length, 1, 'the server answers port unreachable');
  const q4 = err4[0]!.subarray(28);
  const err6 = v6Of(atC, 58).filter((p) => p[40] === 1);
  assert.equal(err6.length, 1);
  // expected: ICMPv6 destination unreachable, port; the quoted IPv4 header became IPv6 (hop limit: the quoted TTL)
  const quotedL4 = q4.subarray(20);
  const icmp6 = new Uint8Array(8 + 40 + quotedL4.length);
  icmp6[0] = 1;
  icmp6[1] = 4;
  put32(icmp6, 8, 0x60000000);
  put16(icmp6, 12, get16(q4, 2) - 20);
  icmp6[14] = 17;
  icmp6[15] = q4[8]!;
  icmp6.set(C6, 16);
  icmp6.set(S64, 32);
  icmp6.set(quotedL4, 48);
  // the quoted UDP ports as the client sent them
  put16(icmp6, 48, 40001);
  put16(icmp6, 50, 9);
  assert.equal(err4[0]![8], 255);
  assert.equal(hex(err6[0]!), hex(v6Packet(S64, C6, 58, icmp6, 2, 63)));
  const ck = err6[0]!;
  assert.equal(sum16(ck, 40, ck.length - 40, pseudoSum6(ck, 8, 24, 58, ck.length - 40)), 0xffff);
});

test('af-to inet6 (NAT46): an IPv4 host reaches the IPv6 host; its ICMPv6 port unreachable comes back as ICMP', () => {
  const { world, c, r, s } = afLab(7);
  loadPf(r.k, 'pass\npass in on em1 inet from any to 198.51.100.10 af-to inet6 from 2001:db8:1::1 to 2001:db8:1::10\n');
  assert.equal(pfctl(r.k, ['-sr']).out.split('\n')[1],
    'pass in on em1 inet from any to 198.51.100.10 flags S/SA af-to inet6 from 2001:db8:1::1 to 2001:db8:1::10');
  const atS = capture(s.ifs[0]!);
  const atC = capture(c.ifs[0]!);
  const D4 = ip('198.51.100.10');
  send4raw(s.k, v4Packet(S4, D4, 17, udp(5353, 9, [0xaa, 0xbb]), 6, 64, 0x1111, false, 0x20));
  world.runFor(1e9);
  const got = v6Of(atC, 17);
  assert.equal(got.length, 1);
  const nport = get16(got[0]!, 40);
  assert.equal(hex(got[0]!), hex(v6Packet(ip6('2001:db8:1::1'), C6, 17, udp(nport, 9, [0xaa, 0xbb]), 6, 63, 0x20)));
  // the client has nothing on port 9: ICMPv6 port unreachable to 2001:db8:1::1, translated for the IPv4 host
  const e6 = v6Of(atC, 58).filter((p) => p[40] === 1);
  assert.equal(e6.length, 1);
  const e4 = v4Of(atS, 1).filter((p) => p[20] === 3);
  assert.equal(e4.length, 1);
  const q6 = e6[0]!.subarray(48);
  const quotedL4 = q6.subarray(40);
  // the quoted packet as the IPv4 host sent it: its id and DF are the translation's
  const icmp = new Uint8Array(8 + 20 + quotedL4.length);
  icmp[0] = 3;
  icmp[1] = 3;
  const qh = v4Packet(S4, D4, 17, new Uint8Array(0), -1, q6[7]!, get16(e4[0]!, 32), true);
  put16(qh, 2, 20 + get16(q6, 4));
  put16(qh, 10, 0);
  put16(qh, 10, ~sum16(qh, 0, 20) & 0xffff);
  icmp.set(qh, 8);
  icmp.set(quotedL4, 28);
  put16(icmp, 28, 5353);
  put16(icmp, 30, 9);
  assert.equal(hex(e4[0]!), hex(v4Packet(D4, S4, 1, icmp, 2, e6[0]![7]! - 1, get16(e4[0]!, 4), true)));
  assert.equal(pfctl(r.k, ['-ss']).out.split('\n').filter((l) => l.includes('udp')).join('\n'),
    `all udp 2001:db8:1::1[${nport}] (192.0.2.20:5353) -> 2001:db8:1::10[9] (198.51.100.10:9)       NO_TRAFFIC:SINGLE`);
});

test('journey: pf_test decides af-to, pf_translate_af, then ip_forward in the other family', () => {
  const { world, c, r } = afLab(8);
  loadPf(r.k, NAT64);
  const t = new Tracer();
  r.k.setTracer(t);
  send6raw(c.k, v6Packet(C6, S64, 17, udp(40000, 53, [1]), 6));
  world.runFor(1e9);
  const ev = t.events.map((e) => [e.kind, e.name, e.ifname, e.detail].filter(Boolean).join(' '));
  const at = ev.indexOf('fn pf_translate_af em0 af-to inet') - 2;
  assert.ok(at >= 0, ev.join('\n'));
  assert.deepEqual(ev.slice(at, at + 6), [
    'fn pf_test em0 in',
    'branch pf_test: rule 1 pass state created',
    'fn pf_translate_af em0 af-to inet',
    // the new header, the ports (the source's from the af-to pool), the checksum over the new pseudo-header
    'bytes pf_translate_af: rule 1 af-to inet: src 2001:db8:1::10[40000] → 192.0.2.1:60255, dst 64:ff9b::c000:214[53] → 192.0.2.20:53, ' +
    'IPv6 header (40 bytes) → IPv4 header (20 bytes), uh_sum 0x7288 → uh_sum 0x8f31',
    'branch pf_translate_af: now 192.0.2.1 → 192.0.2.20, ip_forward',
    'fn ip_forward em0',
  ]);
});

test('af-to drops are counted: no translation for the ICMPv6 type, IPv4 forwarding off, a bad ICMP error checksum', () => {
  const { world, c, r, s } = afLab(9);
  loadPf(r.k, NAT64);
  const atS = capture(s.ifs[0]!);
  // a node information query (139) has no ICMP counterpart
  send6raw(c.k, v6Packet(C6, S64, 58, icmpEcho(139, 1, 1, [0, 0, 0, 0, 0, 0, 0, 0]), 2));
  world.runFor(1e9);
  assert.equal(counter(pfctl(r.k, ['-si']).out, 'translate'), 1);
  assert.equal(v4Of(atS, 1).length, 0);
  assert.equal(pfctl(r.k, ['-ss']).out.includes('192.0.2.1'), false, 'no state');
  // IPv4 forwarding off: translated, then not forwardable
  r.k.sysctl.set('net.inet.ip.forwarding', 0);
  const before = r.k.stats.ipstat.value('ips_cantforward');
  send6raw(c.k, v6Packet(C6, S64, 17, udp(40002, 53, [1]), 6));
  world.runFor(1e9);
  assert.equal(r.k.stats.ipstat.value('ips_cantforward'), before + 1);
  assert.equal(v4Of(atS, 17).length, 0);
  r.k.sysctl.set('net.inet.ip.forwarding', 1);
  // an ICMP error about a translated datagram, its checksum broken: proto-cksum
  send6raw(c.k, v6Packet(C6, S64, 17, udp(40003, 53, [1, 2]), 6));
  world.runFor(1e9);
  const d = v4Of(atS, 17).at(-1)!;
  const err = new Uint8Array(8 + d.length);
  err[0] = 3;
  err[1] = 3;
  err.set(d, 8);
  const bad = v4Packet(S4, R4, 1, err, 2);
  bad[22] ^= 0x55;
  send4raw(s.k, bad);
  world.runFor(1e9);
  assert.equal(counter(pfctl(r.k, ['-si']).out, 'proto-cksum'), 1);
  // the same error, its checksum right, gets through
  const atC = capture(c.ifs[0]!);
  send4raw(s.k, v4Packet(S4, R4, 1, err, 2));
  world.runFor(1e9);
  assert.equal(v6Of(atC, 58).filter((p) => p[40] === 1 && p[41] === 4).length, 1);
  // a fragment matching the af-to rule cannot be translated (one pf does not reassemble: with reassembly it waits for the rest)
  loadPf(r.k, `set reassemble no\n${NAT64}`);
  const frag = new Uint8Array(8 + 16);
  frag[0] = 17;
  put16(frag, 2, 0x0001);
  put32(frag, 4, 0x12345678);
  const m = v6Packet(C6, S64, 44, frag, -1);
  send6raw(c.k, m);
  world.runFor(1e9);
  assert.equal(counter(pfctl(r.k, ['-si']).out, 'translate'), 2);
});

test('af-to inet: ICMP errors from an IPv4 router about translated packets (RFC 7915 types, MTU, pointer, quoted echo), from 64:ff9b::<router>', () => {
  const { world, c, r, s } = afLab(10);
  loadPf(r.k, NAT64);
  const atS = capture(s.ifs[0]!);
  const atC = capture(c.ifs[0]!);
  send6raw(c.k, v6Packet(C6, S64, 17, udp(40005, 53, [1, 2, 3, 4]), 6));
  send6raw(c.k, v6Packet(C6, S64, 58, icmpEcho(128, 0x0bad, 3, [7, 7, 7, 7]), 2));
  world.runFor(1e9);
  const d = v4Of(atS, 17)[0]!;
  const e = v4Of(atS, 1).find((p) => p[20] === 8)!;
  // an IPv4 router on the far side, 192.0.2.99, reports on them
  const R99 = ip('192.0.2.99');
  const error = (type: number, code: number, rest: number, quoted: Uint8Array): Uint8Array => {
    const b = new Uint8Array(8 + quoted.length);
    b[0] = type;
    b[1] = code;
    put32(b, 4, rest >>> 0);
    b.set(quoted, 8);
    return v4Packet(R99, R4, 1, b, 2);
  };
  const n0 = v6Of(atC, 58).length;
  send4raw(s.k, error(3, 4, 1400, d)); // need fragmentation, next-hop MTU 1400
  send4raw(s.k, error(12, 0, 9 << 24, d)); // parameter problem at the protocol byte
  send4raw(s.k, error(11, 0, 0, e)); // time exceeded, quoting the echo request
  send4raw(s.k, error(5, 1, R99, d)); // a redirect has no ICMPv6 counterpart
  world.runFor(1e9);
  const got = v6Of(atC, 58).slice(n0);
  assert.equal(got.length, 3);
  const R99in64 = ip6('64:ff9b::c000:263');
  for (const p of got) assert.equal(hex(p.subarray(8, 24)), hex(R99in64), 'from the reporting router, at 64:ff9b::/96');
  const icmpOf = (p: Uint8Array): string => hex(p.subarray(40, 48));
  // packet too big, MTU 1400 + 20
  assert.equal(icmpOf(got[0]!).slice(0, 4), '0200');
  assert.equal(icmpOf(got[0]!).slice(8), '0000058c');
  // parameter problem, pointer 6 (the next header)
  assert.equal(icmpOf(got[1]!).slice(0, 4), '0400');
  assert.equal(icmpOf(got[1]!).slice(8), '00000006');
  // time exceeded; the quoted echo request as the client sent it (type 128, its id), hop limit as quoted
  assert.equal(icmpOf(got[2]!).slice(0, 4), '0300');
  const q = got[2]!.subarray(48);
  assert.equal(hex(q.subarray(0, 40)), hex(v6Packet(C6, S64, 58, new Uint8Array(12), -1, e[8]!).subarray(0, 40)));
  // (its checksum is the IPv4 one: as OpenBSD, the quoted transport checksum is not fixed)
  assert.equal(hex(q.subarray(40, 48)), '8000' + hex(e.subarray(22, 24)) + '0bad0003');
  // the quoted UDP of the first two: the client's ports
  for (const p of got.slice(0, 2)) {
    assert.equal(get16(p, 88), 40005);
    assert.equal(get16(p, 90), 53);
    assert.equal(hex(p.subarray(72, 88)), hex(S64));
  }
  for (const p of got) assert.equal(sum16(p, 40, p.length - 40, pseudoSum6(p, 8, 24, 58, p.length - 40)), 0xffff);
  // the redirect: translate
  assert.equal(counter(pfctl(r.k, ['-si']).out, 'translate'), 1);
});

test('af-to sticky-address: a source keeps its af-to address; the node is keyed by the source taken in the other family (its first 32 bits, as pf_lb.c does)', () => {
  // A, B, B' (B's first 32 bits), A
  const flows = ['2001:db8:1::10', '2001:db9::20', '2001:db9::21', '2001:db8:1::10'];
  const run = (opts: string): { srcs: string[]; sS: string } => {
    const { world, c, r, s } = afLab();
    loadPf(r.k, `pass\npass in on em0 inet6 from any to 64:ff9b::/96 af-to inet from 192.0.2.2/31 round-robin${opts}\n`);
    const atS = capture(s.ifs[0]!);
    flows.forEach((src, i) => {
      send6raw(c.k, v6Packet(ip6(src), S64, 17, udp(40000 + i, 53, [1, 2, 3, 4]), 6));
      world.runFor(1e7);
    });
    return { srcs: v4Of(atS, 17).map((d) => `${d[12]}.${d[13]}.${d[14]}.${d[15]}`), sS: pfctl(r.k, ['-sS']).out };
  };
  const sticky = run(' sticky-address');
  assert.deepEqual(sticky.srcs, ['192.0.2.2', '192.0.2.3', '192.0.2.3', '192.0.2.2']);
  assert.equal(sticky.sS, '32.1.13.184 nat-to 192.0.2.2 ( states 2, connections 0, rate 0.0/0s )\n' +
    '32.1.13.185 nat-to 192.0.2.3 ( states 2, connections 0, rate 0.0/0s )\n');
  const rr = run('');
  assert.deepEqual(rr.srcs, ['192.0.2.2', '192.0.2.3', '192.0.2.2', '192.0.2.3']);
  assert.equal(rr.sS, '');
});
