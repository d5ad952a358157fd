/**
 * IP options through pf (pf_walk.ts, pf_test_rule, pf_test): a packet with
 * IPv4 options or IPv6 option headers passes only by a rule, or a state of
 * a rule, that says allow-opts; otherwise it is dropped with reason
 * ip-option (pfctl -si), logged to pflog0 with that reason.  Malformed
 * options, a type 0 routing header, IGMP to all hosts with a TTL other
 * than 1 and MLD with a hop limit other than 1 are dropped whatever the
 * rules say; IGMP's and valid MLD's router alert is no reason to drop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts, ip, type Host } from '../netinet/lab.js';
import { threeHosts6, ip6 } from '../netinet6/lab6.js';
import { pfctl, loadPf, udpBytes, sendRaw, capture, ipOf } from './pf_lab.js';
import { send6raw, udp, v6Of, v6Packet } from './pf_af_lab.js';
import { put16 } from '../../../src/wire/bytes.js';
import { sum16, pseudoSum6 } from '../../../src/wire/checksum.js';
import { bpf_listen } from '../../../src/sys/net/bpf.js';
import { pflog_clone_create, DLT_PFLOG } from '../../../src/sys/net/if_pflog.js';
import { AF_INET, AF_INET6, PF_FAST_NONE, PF_IN, PF_PASS, pf_states, pf_test, pf_test_fast4, PFSTATE_ALLOWOPTS } from '../../../src/sys/net/pf.js';
import type { Ifnet } from '../../../src/sys/net/if.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import { show } from '../../usr.sbin/tcpdump/print-build.js';

const A = ip('192.0.2.10');
const B = ip('198.51.100.20');
/** record route, room for two addresses, then end of list (12 bytes) */
const RR = [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
/** router alert */
const RA = [148, 4, 0, 0];

/** A copy of an IPv4 datagram with the options opts (a multiple of 4 bytes) after its header, checksum redone. */
function withOpts(d: Uint8Array, opts: number[]): Uint8Array {
  const b = new Uint8Array(d.length + opts.length);
  b.set(d.subarray(0, 20), 0);
  b.set(opts, 20);
  b.set(d.subarray(20), 20 + opts.length);
  b[0] = 0x40 | ((20 + opts.length) >> 2);
  put16(b, 2, b.length);
  put16(b, 10, 0);
  put16(b, 10, ~sum16(b, 0, 20 + opts.length) & 0xffff);
  return b;
}

function ipOption(k: Kernel): number {
  return k.pf!.counters[8]!;
}

/** pfctl -si's ip-option line. */
function siLine(k: Kernel): string {
  return pfctl(k, ['-si']).out.split('\n').find((l) => l.startsWith('  ip-option'))!;
}

/** b's UDP datagrams (IP header on) to port, as b's em0 saw them. */
function udpTo(frames: Uint8Array[], port: number): Uint8Array[] {
  return ipOf(frames, 17).filter((d) => ((d[(d[0]! & 15) * 4 + 2]! << 8) | d[(d[0]! & 15) * 4 + 3]!) === port);
}

function send(a: Host, d: Uint8Array, run: () => void): void {
  sendRaw(a.k, d);
  run();
}

test('IPv4 options without allow-opts: record route, router alert and padding only are dropped with ip-option', () => {
  const { world, a, r, b } = threeHosts();
  loadPf(r.k, 'pass\n');
  const frames = capture(b.ifs[0]!);
  const run = (): void => {
    world.runFor(1e8);
  };
  send(a, udpBytes(A, B, 1000, 9), run);
  send(a, withOpts(udpBytes(A, B, 1001, 9), RR), run);
  send(a, withOpts(udpBytes(A, B, 1002, 9), RA), run);
  // an option area of padding only is fishy
  send(a, withOpts(udpBytes(A, B, 1003, 9), [1, 1, 1, 1]), run);
  send(a, withOpts(udpBytes(A, B, 1004, 9), [0, 0, 0, 0]), run);
  const got = udpTo(frames, 9);
  assert.equal(got.length, 1);
  assert.equal(got[0]![0], 0x45);
  assert.equal(ipOption(r.k), 4);
  assert.equal(siLine(r.k), '  ip-option                              4               ');
  // no state for the dropped ones (the plain datagram's: in on em0, out on em1), and the rule counted only what it
  // passed: evaluated for the five datagrams in and the plain one out, its packets the plain one's (2 x 32 bytes)
  // and b's port unreachable back (2 x 56)
  assert.equal(pf_states(r.k.pf!).length, 2);
  assert.match(pfctl(r.k, ['-vsr']).out, /\n {2}\[ Evaluations: 6 +Packets: 4 +Bytes: 176 /);
});

test('allow-opts: the datagram with record route is forwarded (the router records its address), its state allows options both ways', () => {
  const { world, a, r, b } = threeHosts();
  loadPf(r.k, 'pass allow-opts\n');
  assert.equal(pfctl(r.k, ['-sr']).out, 'pass all flags S/SA allow-opts\n');
  const atB = capture(b.ifs[0]!);
  const atA = capture(a.ifs[0]!);
  const run = (): void => {
    world.runFor(1e8);
  };
  send(a, withOpts(udpBytes(A, B, 1000, 9, 4), RR), run);
  const got = udpTo(atB, 9);
  assert.equal(got.length, 1);
  // header 32 bytes; record route: pointer moved to 8, the router's outgoing address recorded
  assert.deepEqual([...got[0]!.subarray(0, 1)], [0x48]);
  assert.deepEqual([...got[0]!.subarray(20, 32)], [7, 11, 8, 198, 51, 100, 1, 0, 0, 0, 0, 0]);
  // its states in on em0 and out on em1
  const sts = pf_states(r.k.pf!);
  assert.equal(sts.length, 2);
  for (const st of sts) assert.equal(st.state_flags & PFSTATE_ALLOWOPTS, PFSTATE_ALLOWOPTS);
  // the reply with a router alert, and more options on the state: they pass
  send(b, withOpts(udpBytes(B, A, 9, 1000), RA), run);
  send(a, withOpts(udpBytes(A, B, 1000, 9, 5), RR), run);
  assert.equal(udpTo(atA, 1000).length, 1);
  assert.equal(udpTo(atB, 9).length, 2);
  assert.equal(ipOption(r.k), 0);
  // each state: two datagrams and a's port unreachable for the reply one way, the reply and b's two port unreachables the other
  assert.equal(pfctl(r.k, ['-vss']).out.match(/ 3:3 pkts, 149:172 bytes, rule 0\n/g)!.length, 2);
});

test('a state checks allow-opts of its rule; a plain packet of an allow-opts state still takes the fast path', () => {
  const { world, a, r, b } = threeHosts();
  loadPf(r.k, 'pass\npass proto udp to port 7 allow-opts\n');
  const atB = capture(b.ifs[0]!);
  const run = (): void => {
    world.runFor(1e8);
  };
  // a state made by rule 0 (no allow-opts), then the same flow with options: dropped by the state check
  send(a, udpBytes(A, B, 1000, 9), run);
  send(a, withOpts(udpBytes(A, B, 1000, 9), RR), run);
  assert.equal(udpTo(atB, 9).length, 1);
  assert.equal(ipOption(r.k), 1);
  // rule 1's flow: with options from the first datagram on
  send(a, withOpts(udpBytes(A, B, 1007, 7), RA), run);
  send(a, withOpts(udpBytes(A, B, 1007, 7), RR), run);
  send(a, udpBytes(A, B, 1007, 7), run);
  assert.equal(udpTo(atB, 7).length, 3);
  assert.equal(ipOption(r.k), 1);
  // pf_test_fast4 takes the state's plain packets, leaves those with options to the general path
  const pf = r.k.pf!;
  const em0 = r.ifs[0]!;
  const fast = (bytes: Uint8Array): number => {
    const m = r.k.mbufs.get(bytes.length)!;
    m.setBytes(bytes);
    const v = pf_test_fast4(pf, pf.pd, PF_IN, em0, m);
    m.free();
    return v;
  };
  assert.equal(fast(udpBytes(A, B, 1007, 7)), PF_PASS);
  assert.equal(fast(withOpts(udpBytes(A, B, 1007, 7), RR)), PF_FAST_NONE);
  assert.equal(fast(udpBytes(A, B, 1000, 9)), PF_PASS);
  assert.equal(fast(withOpts(udpBytes(A, B, 1000, 9), RR)), PF_FAST_NONE);
});

test('pflog0: the drop is logged with reason ip-option by the rule that passed it; a malformed option by the default rule', () => {
  const { world, a, r } = threeHosts();
  const pflog = pflog_clone_create(r.k, 0);
  loadPf(r.k, 'pass proto tcp allow-opts\npass\n');
  const logged: Uint8Array[] = [];
  bpf_listen(pflog, (buf, off, caplen) => logged.push(buf.slice(off, off + caplen)));
  const run = (): void => {
    world.runFor(1e8);
  };
  send(a, withOpts(udpBytes(A, B, 1000, 9), RA), run);
  // the length of the second option runs past the header: malformed, whatever the rules say
  send(a, withOpts(udpBytes(A, B, 1001, 9), [1, 7, 7, 4]), run);
  assert.equal(logged.length, 2);
  assert.equal(ipOption(r.k), 2);
  assert.equal(
    show({ eflag: true }, DLT_PFLOG, ...logged),
    'rule 1/(ip-option) pass in on em0: 192.0.2.10.1000 > 198.51.100.20.9: udp 4\n' +
      'rule def/(ip-option) block in on em0: 192.0.2.10.1001 > 198.51.100.20.9: udp 4\n',
  );
});

/** Test one IPv4 datagram inbound on r's em0 straight through pf_test: passed? */
function test4(k: Kernel, ifp: Ifnet, bytes: Uint8Array): boolean {
  const m = k.mbufs.get(bytes.length)!;
  m.setBytes(bytes);
  const n = pf_test(k, AF_INET, PF_IN, ifp, m);
  if (n !== null) n.free();
  return n !== null;
}

/** An IGMP v2 report to dst with TTL ttl and a router alert. */
function igmp(dst: number, ttl: number): Uint8Array {
  const d = new Uint8Array(28);
  d[0] = 0x45;
  put16(d, 2, 28);
  d[8] = ttl;
  d[9] = 2;
  d.set([192, 0, 2, 10], 12);
  d[16] = dst >>> 24;
  d[17] = (dst >>> 16) & 255;
  d[18] = (dst >>> 8) & 255;
  d[19] = dst & 255;
  d[20] = 0x16;
  d.set([d[16]!, d[17]!, d[18]!, d[19]!], 24);
  put16(d, 22, ~sum16(d, 20, 8) & 0xffff);
  return withOpts(d, RA);
}

test('pf_walk_header: IGMP carries its router alert; to all hosts it needs TTL 1; malformed options are ip-option', () => {
  const { r } = threeHosts();
  loadPf(r.k, 'pass\n');
  const em0 = r.ifs[0]!;
  assert.equal(test4(r.k, em0, igmp(ip('224.0.0.22'), 1)), true);
  assert.equal(test4(r.k, em0, igmp(ip('224.0.0.1'), 1)), true);
  assert.equal(ipOption(r.k), 0);
  assert.equal(test4(r.k, em0, igmp(ip('224.0.0.1'), 2)), false);
  assert.equal(ipOption(r.k), 1);
  loadPf(r.k, 'pass allow-opts\n');
  const d = udpBytes(A, B, 1000, 9);
  // an option length below 2, one past the header, a length byte missing: dropped even with allow-opts
  for (const o of [[7, 1, 0, 0], [1, 1, 7, 3], [1, 1, 1, 7]]) assert.equal(test4(r.k, em0, withOpts(d, o)), false);
  assert.equal(ipOption(r.k), 4);
  // a header longer than the datagram is short
  const short = withOpts(d, RR);
  put16(short, 2, 28);
  assert.equal(test4(r.k, em0, short), false);
  assert.equal(r.k.pf!.counters[3], 1);
  assert.equal(ipOption(r.k), 4);
  // what allow-opts lets through
  assert.equal(test4(r.k, em0, withOpts(d, RR)), true);
  assert.equal(test4(r.k, em0, withOpts(d, [68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0])), true);
});

const C6 = ip6('2001:db8:1::10');
const S6 = ip6('2001:db8:2::20');

/** An IPv6 UDP datagram with the extension headers ext (the first of type type; the last's next header 17) before the UDP header. */
function v6ext(src: Uint8Array, dst: Uint8Array, type: number, ext: number[], sport: number, dport: number, hlim = 64): Uint8Array {
  const u = udp(sport, dport, [1, 2, 3, 4]);
  const e = new Uint8Array(ext);
  const b = v6Packet(src, dst, type, new Uint8Array([...e, ...u]), -1, hlim);
  const o = 40 + e.length;
  put16(b, o + 6, 0);
  put16(b, o + 6, ~sum16(b, o, u.length, pseudoSum6(b, 8, 24, 17, u.length)) & 0xffff);
  return b;
}

/** hop-by-hop, PadN only (8 bytes) */
const HBH_PAD = [17, 0, 1, 4, 0, 0, 0, 0];
/** destination options, PadN only */
const DST_PAD = [17, 0, 1, 4, 0, 0, 0, 0];

test('IPv6: hop-by-hop and destination options headers are ip-option without allow-opts, forwarded with it', () => {
  const { world, a, r, b } = threeHosts6();
  loadPf(r.k, 'pass\n');
  const atB = capture(b.ifs[0]!);
  const run = (): void => {
    world.runFor(1e8);
  };
  send6raw(a.k, v6ext(C6, S6, 0, HBH_PAD, 1000, 9));
  run();
  send6raw(a.k, v6ext(C6, S6, 60, DST_PAD, 1001, 9));
  run();
  assert.equal(v6Of(atB, 0).length + v6Of(atB, 60).length, 0);
  assert.equal(ipOption(r.k), 2);
  loadPf(r.k, 'pass allow-opts\n');
  send6raw(a.k, v6ext(C6, S6, 0, HBH_PAD, 1000, 9));
  run();
  send6raw(a.k, v6ext(C6, S6, 60, DST_PAD, 1001, 9));
  run();
  assert.equal(v6Of(atB, 0).length, 1);
  assert.equal(v6Of(atB, 60).length, 1);
  assert.equal(ipOption(r.k), 2);
  assert.equal(siLine(r.k), '  ip-option                              2               ');
});

/** Test one IPv6 packet inbound on r's em0 straight through pf_test: passed? */
function test6(k: Kernel, ifp: Ifnet, bytes: Uint8Array): boolean {
  const m = k.mbufs.get(bytes.length)!;
  m.setBytes(bytes);
  const n = pf_test(k, AF_INET6, PF_IN, ifp, m);
  if (n !== null) n.free();
  return n !== null;
}

/** An MLDv1 report for ff02::1:3 from src with hop limit hlim, after a hop-by-hop router alert. */
function mld(src: Uint8Array, hlim: number): Uint8Array {
  const icmp = new Uint8Array(24);
  icmp[0] = 131;
  icmp.set(ip6('ff02::1:3'), 8);
  const l4 = new Uint8Array([58, 0, 5, 2, 0, 0, 1, 0, ...icmp]);
  const b = v6Packet(src, ip6('ff02::1:3'), 0, l4, -1, hlim);
  put16(b, 50, ~sum16(b, 48, 24, pseudoSum6(b, 8, 24, 58, 24)) & 0xffff);
  return b;
}

test('pf_walk_header6: rthdr0, two routing headers, hop-by-hop not first, bad MLD; a valid MLD report passes with its router alert', () => {
  const { r } = threeHosts6();
  loadPf(r.k, 'pass allow-opts\n');
  const em0 = r.ifs[0]!;
  const rt = (type: number): number[] => [17, 2, type, 1, 0, 0, 0, 0, ...ip6('2001:db8:2::30')];
  // type 0 routing header: dropped even with allow-opts; type 2 passes
  assert.equal(test6(r.k, em0, v6ext(C6, S6, 43, rt(0), 1000, 9)), false);
  assert.equal(test6(r.k, em0, v6ext(C6, S6, 43, rt(2), 1000, 9)), true);
  assert.equal(ipOption(r.k), 1);
  // a routing header after a routing header; hop-by-hop after destination options
  const two = v6ext(C6, S6, 43, [43, 2, 2, 1, 0, 0, 0, 0, ...ip6('2001:db8:2::30'), 17, 2, 2, 1, 0, 0, 0, 0, ...ip6('2001:db8:2::30')], 1000, 9);
  assert.equal(test6(r.k, em0, two), false);
  assert.equal(test6(r.k, em0, v6ext(C6, S6, 60, [0, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0], 1000, 9)), false);
  assert.equal(ipOption(r.k), 3);
  // an option running past its header
  assert.equal(test6(r.k, em0, v6ext(C6, S6, 0, [17, 0, 1, 9, 0, 0, 0, 0], 1000, 9)), false);
  assert.equal(ipOption(r.k), 4);
  // MLD: hop limit 1 from a link-local address, or it is dropped
  loadPf(r.k, 'pass\n');
  const ll = ip6('fe80::1');
  assert.equal(test6(r.k, em0, mld(ll, 1)), true);
  assert.equal(ipOption(r.k), 4);
  assert.equal(test6(r.k, em0, mld(ll, 2)), false);
  assert.equal(test6(r.k, em0, mld(C6, 1)), false);
  assert.equal(ipOption(r.k), 6);
});

test('pf_test: a fragment a rule blocks counts as fragment; ICMP in the other family is normalize', () => {
  const { r } = threeHosts();
  loadPf(r.k, 'set reassemble no\npass\nblock in on em0 proto udp\n');
  const em0 = r.ifs[0]!;
  const si = (name: string): string => pfctl(r.k, ['-si']).out.split('\n').find((l) => l.startsWith(`  ${name} `))!;
  // a first fragment (MF) of a UDP datagram, then of a TCP segment (passed)
  const frag = (proto: number): Uint8Array => {
    const d = udpBytes(A, B, 1000, 9, 16);
    d[6] = 0x20;
    d[9] = proto;
    put16(d, 10, 0);
    put16(d, 10, ~sum16(d, 0, 20) & 0xffff);
    return d;
  };
  assert.equal(test4(r.k, em0, frag(17)), false);
  assert.equal(test4(r.k, em0, frag(6)), true);
  assert.equal(r.k.pf!.counters[2], 1);
  assert.equal(si('fragment'), '  fragment                               1               ');
  const r6 = threeHosts6().r;
  loadPf(r6.k, 'pass\n');
  const echo = new Uint8Array([8, 0, 0, 0, 0x12, 0x34, 0, 1]);
  put16(echo, 2, ~sum16(echo, 0, 8) & 0xffff);
  assert.equal(test6(r6.k, r6.ifs[0]!, v6Packet(C6, S6, 1, echo, -1)), false);
  assert.equal(r6.k.pf!.counters[4], 1);
  assert.equal(pfctl(r6.k, ['-si']).out.split('\n').find((l) => l.startsWith('  normalize ')), '  normalize                              1               ');
});
