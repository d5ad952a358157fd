/**
 * pf's IPv6 reassembly (pf_norm.c pf_reassemble6, pf_refragment6): a
 * forwarding router with pf reassembles the fragments, filters the one
 * datagram, and sends it on as fragments of the sizes that came in; bad
 * fragments are dropped with their reason; the fragment limit makes room
 * by dropping the least recently used datagrams; pf off leaves fragments
 * to frag6.  IPv4 goes through the same core (pf_reassemble).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts6, ip6 } from '../netinet6/lab6.js';
import { threeHosts, ip } from '../netinet/lab.js';
import { pfctl, loadPf, capture, ipOf, sendRaw, udpBytes } from './pf_lab.js';
import { sum16 } from '../../../src/wire/checksum.js';
import { fragments6 as fragments, send4raw, send6raw, udp, v6Of, v6Packet } from './pf_af_lab.js';
import { get16, get32, put16, put32 } from '../../../src/wire/bytes.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';

const A6 = ip6('2001:db8:1::10');
const B6 = ip6('2001:db8:2::20');
const R6 = ip6('2001:db8:1::1');

/** A hand-made fragment: offset (bytes), more fragments, data. */
function frag(id: number, off: number, mf: boolean, data: Uint8Array, nxt = 17, src = A6, dst = B6): Uint8Array {
  const p = new Uint8Array(48 + data.length);
  p[0] = 0x60;
  put16(p, 4, 8 + data.length);
  p[6] = 44;
  p[7] = 64;
  p.set(src, 8);
  p.set(dst, 24);
  p[40] = nxt;
  put16(p, 42, off | (mf ? 1 : 0));
  put32(p, 44, id);
  p.set(data, 48);
  return p;
}

function bigUdp(n: number): Uint8Array {
  const data: number[] = [];
  for (let i = 0; i < n; i++) data.push((i * 7) & 0xff);
  return v6Packet(A6, B6, 17, udp(40000, 7, data), 6);
}

/** The first n rows of pfctl -vsi's Fragments section, without the rate column. */
function fragLines(k: Kernel, n: number): string {
  const lines = pfctl(k, ['-vsi']).out.split('\n');
  const i = lines.indexOf('Fragments');
  return lines.slice(i + 1, i + 1 + n).map((l) => l.slice(0, 42)).join('\n');
}

/** pfctl_parser.c's rows: "  %-25s %14u" */
function fragRows(...v: number[]): string {
  return ['current entries', 'searches', 'inserts', 'removals'].slice(0, v.length)
    .map((name, i) => `  ${name.padEnd(25)} ${String(v[i]).padStart(14)}`).join('\n');
}

function reason(k: Kernel, name: string): number {
  return Number(pfctl(k, ['-si']).out.split('\n').find((l) => l.startsWith(`  ${name} `))!.slice(28, 42));
}

function ip6stat(k: Kernel, name: string): number {
  return k.stats.ip6stat.get(k.stats.ip6stat.id(name));
}

test('pf reassembles IPv6 fragments on a forwarding router, filters one datagram, refragments it to the sizes that came in', () => {
  const { world, a, r, b } = threeHosts6();
  loadPf(r.k, 'block\npass inet6 proto icmp6\npass inet6 proto udp to port 7\n');
  const onB = capture(b.ifs[0]!);
  const whole = bigUdp(3000);
  const sent = fragments(whole, 0x11223344, [1232, 1232]);
  assert.deepEqual(sent.map((p) => p.length), [1280, 1280, 592]);
  // the last fragment first: pf holds them until the datagram is whole
  for (const p of [sent[2]!, sent[0]!, sent[1]!]) send6raw(a.k, p);
  world.runFor(1e9);
  const got = v6Of(onB, 44);
  assert.equal(got.length, 3);
  // the same sizes, offsets and data; a new identification; the hop limit lost at each ip6_forward (twice, as OpenBSD's)
  const id = get32(got[0]!, 44);
  assert.notEqual(id, 0x11223344);
  for (let i = 0; i < 3; i++) {
    const want = sent[i]!.slice();
    want[7] = 62;
    put32(want, 44, id);
    assert.deepEqual(got[i], want, `fragment ${i}`);
  }
  // one datagram of 3048 bytes met the rules: a state in on em0, one out on em1; b's port unreachable (1280
  // bytes: as much of the datagram as fits the minimum MTU) came back through both states, not the rules
  assert.match(pfctl(r.k, ['-sr', '-v']).out, /pass inet6 proto udp from any to any port = 7\n {2}\[ Evaluations: 8 {9}Packets: 4 {9}Bytes: 8656 {8}States: 2 {5}\]/);
  assert.equal(pfctl(r.k, ['-ss']).out.split('\n').filter((l) => l.includes('udp')).join('\n'),
    'all udp 2001:db8:2::20[7] <- 2001:db8:1::10[40000]       NO_TRAFFIC:SINGLE\n' +
    'all udp 2001:db8:1::10[40000] -> 2001:db8:2::20[7]       SINGLE:NO_TRAFFIC');
  assert.equal(fragLines(r.k, 4), fragRows(0, 3, 3, 3));
  // b's frag6 puts them together again
  assert.equal(ip6stat(b.k, 'ip6s_reassembled'), 1);
  assert.equal(ip6stat(r.k, 'ip6s_fragments'), 0);
  assert.equal(ip6stat(r.k, 'ip6s_ofragments'), 3);
  // a datagram the rules block goes as one: its fragments never leave
  const blocked = fragments(v6Packet(A6, B6, 17, udp(40000, 9, new Array(2000).fill(1)), 6), 0x55, [1232]);
  for (const p of blocked) send6raw(a.k, p);
  world.runFor(1e9);
  assert.equal(v6Of(onB, 44).length, 3);
  assert.match(pfctl(r.k, ['-sr', '-v']).out, /block drop all\n {2}\[ Evaluations: 9 {9}Packets: 1 {9}Bytes: 2048 {8}States: 0 /);
});

test('pf drops bad IPv6 fragments with their reason: overlap (the whole datagram), unaligned, past 65535, too big reassembled, short header', () => {
  const { world, a, r, b } = threeHosts6();
  loadPf(r.k, 'pass\n');
  const onB = capture(b.ifs[0]!);
  const d = (n: number, v = 1): Uint8Array => new Uint8Array(n).fill(v);
  const send = (p: Uint8Array): void => {
    send6raw(a.k, p);
    world.runFor(1e8);
  };
  // an overlap throws the datagram away (RFC 5722): the queued fragment goes with the new one
  send(frag(1, 0, true, d(64)));
  assert.equal(fragLines(r.k, 1), fragRows(1));
  send(frag(1, 56, true, d(64)));
  assert.equal(reason(r.k, 'fragment'), 1);
  assert.equal(fragLines(r.k, 1), fragRows(0));
  // the end of the datagram: a fragment past it, nothing reassembled from what is left
  send(frag(1, 64, false, d(64)));
  assert.equal(reason(r.k, 'fragment'), 1);
  assert.equal(fragLines(r.k, 1), fragRows(1));
  // more fragments with a length not a multiple of 8; one ending past 65535; an empty one
  send(frag(2, 0, true, d(60)));
  send(frag(3, 65528, false, d(16)));
  send(frag(4, 8, true, d(0)));
  assert.equal(reason(r.k, 'fragment'), 4);
  // a second end that disagrees with the first
  send(frag(5, 0, true, d(64)));
  send(frag(5, 128, false, d(8)));
  send(frag(5, 256, false, d(8)));
  assert.equal(reason(r.k, 'fragment'), 5);
  // a fragment header cut short
  const cut = frag(6, 0, true, d(0)).subarray(0, 44);
  put16(cut, 4, 4);
  send(cut);
  assert.equal(reason(r.k, 'short'), 1);
  // a datagram of 65535 bytes behind a destination options header: its payload is past 65535, dropped as short
  const huge = new Uint8Array(40 + 65535);
  huge.set(v6Packet(A6, B6, 17, udp(40000, 7, []), 6).subarray(0, 48));
  put16(huge, 44, 65535);
  const parts = fragments(huge, 7, new Array(46).fill(1424), { dstopts: true });
  assert.equal(parts.length, 47);
  for (const p of parts) send6raw(a.k, p);
  world.runFor(1e9);
  assert.equal(reason(r.k, 'short'), 2);
  assert.equal(v6Of(onB, 60).length, 0);
  assert.equal(v6Of(onB, 44).length, 0);
  assert.equal(ip6stat(b.k, 'ip6s_fragments'), 0);
});

test('set limit frags: at the limit the least recently used datagrams go until 90% of the fragments are left; set timeout frag expires them', () => {
  const { world, a, r } = threeHosts6();
  loadPf(r.k, 'set limit frags 10\nset timeout frag 30\npass\n');
  const d = new Uint8Array(64).fill(3);
  for (let id = 1; id <= 10; id++) send6raw(a.k, frag(id, 0, true, d));
  world.runFor(1e8);
  assert.equal(fragLines(r.k, 4), fragRows(10, 10, 10, 0));
  // the first datagram is used again: the second is now the oldest, and goes for the eleventh
  send6raw(a.k, frag(1, 128, true, d));
  world.runFor(1e8);
  assert.equal(fragLines(r.k, 4), fragRows(10, 11, 11, 1));
  send6raw(a.k, frag(11, 0, true, d));
  world.runFor(1e8);
  assert.equal(fragLines(r.k, 4), fragRows(10, 12, 12, 2));
  assert.equal(reason(r.k, 'memory'), 0);
  // datagram 2's end finds no datagram: a new one, still waiting
  send6raw(a.k, frag(2, 64, false, d));
  world.runFor(1e8);
  assert.equal(fragLines(r.k, 1), fragRows(10));
  // 30 s after they came, the purge timer throws them all away
  world.runFor(31e9);
  assert.equal(fragLines(r.k, 4), fragRows(0, 13, 13, 13));
});

test('IPv6 fragments to the router: pf reassembles them before frag6 (pf on) or frag6 does (pf off)', () => {
  const { world, a, r } = threeHosts6();
  loadPf(r.k, 'pass\n');
  const whole = v6Packet(A6, R6, 17, udp(40000, 7, new Array(2000).fill(9)), 6);
  for (const p of fragments(whole, 9, [1232])) send6raw(a.k, p);
  world.runFor(1e9);
  assert.equal(ip6stat(r.k, 'ip6s_fragments'), 0);
  assert.equal(ip6stat(r.k, 'ip6s_reassembled'), 0);
  assert.equal(fragLines(r.k, 3), fragRows(0, 2, 2));
  // the datagram reached UDP whole: port 7 unreachable
  assert.equal(r.k.stats.udpstat.get(r.k.stats.udpstat.id('udps_noport')), 1);
  pfctl(r.k, ['-d']);
  for (const p of fragments(whole, 10, [1232])) send6raw(a.k, p);
  world.runFor(1e9);
  assert.equal(ip6stat(r.k, 'ip6s_fragments'), 2);
  assert.equal(ip6stat(r.k, 'ip6s_reassembled'), 1);
  assert.equal(r.k.stats.udpstat.get(r.k.stats.udpstat.id('udps_noport')), 2);
  assert.equal(fragLines(r.k, 2), fragRows(0, 2));
});

/** An IPv4 fragment of d (a whole datagram's bytes): the header with offset and MF, data [off, off + len). */
function frag4(d: Uint8Array, off: number, len: number, mf: boolean, df = false, patch?: (p: Uint8Array) => void): Uint8Array {
  const p = new Uint8Array(20 + len);
  p.set(d.subarray(0, 20));
  p.set(d.subarray(20 + off, 20 + off + len), 20);
  put16(p, 2, p.length);
  put16(p, 6, (off >> 3) | (mf ? 0x2000 : 0) | (df ? 0x4000 : 0));
  if (patch) patch(p);
  put16(p, 10, 0);
  put16(p, 10, ~sum16(p, 0, 20) & 0xffff);
  return p;
}

test('IPv4 through the same core: fragments in any order make one datagram; an overlap keeps the older bytes at its head, the newer over the next; DF fragments are bad', () => {
  const { world, a, r, b } = threeHosts();
  loadPf(r.k, 'pass\n');
  const A = ip('192.0.2.10');
  const B = ip('198.51.100.20');
  const onB = capture(b.ifs[0]!);
  const d = udpBytes(A, B, 40000, 7, 192);
  for (const p of [frag4(d, 128, 72, false), frag4(d, 0, 64, true), frag4(d, 64, 64, true)]) sendRaw(a.k, p);
  world.runFor(1e9);
  const got = ipOf(onB, 17);
  assert.equal(got.length, 1);
  const want = d.slice();
  want[8] = 63;
  put16(want, 10, 0);
  put16(want, 10, ~sum16(want, 0, 20) & 0xffff);
  assert.deepEqual(got[0], want);
  assert.equal(fragLines(r.k, 4), fragRows(0, 3, 3, 3));
  // overlaps: 0-64 queued; 32-96 of other bytes has its head cut (the queued bytes win): 64-96; 0-40 again
  // is wholly covered (dropped, no reason); the last, 120-200; 88-128 loses its head to 64-96 and wins over
  // the head of 120-200, which becomes 128-200
  const d2 = udpBytes(A, B, 40000, 7, 192);
  put16(d2, 4, 0x4444);
  const fill = (v: number) => (p: Uint8Array): void => {
    p.fill(v, 20);
  };
  for (const p of [frag4(d2, 0, 64, true), frag4(d2, 32, 64, true, false, fill(0xee)), frag4(d2, 0, 40, true, false, fill(0xee)),
    frag4(d2, 120, 80, false), frag4(d2, 88, 40, true, false, fill(0xdd))]) sendRaw(a.k, p);
  world.runFor(1e9);
  const got2 = ipOf(onB, 17).slice(1);
  assert.equal(got2.length, 1);
  const w2 = got2[0]!;
  assert.deepEqual(w2.subarray(20, 84), d2.subarray(20, 84));
  assert.deepEqual(w2.subarray(84, 116), new Uint8Array(32).fill(0xee));
  assert.deepEqual(w2.subarray(116, 148), new Uint8Array(32).fill(0xdd));
  assert.deepEqual(w2.subarray(148), d2.subarray(148));
  // searches: 3 + 5; inserts: 3 + 4 + 64-96 again after its trim; removals: 3 + the trimmed 120-200 + 4 joined
  assert.equal(fragLines(r.k, 4), fragRows(0, 8, 8, 8));
  assert.equal(reason(r.k, 'fragment'), 0);
  // a fragment with don't fragment set cannot have been made on the way: bad, also without reassembly
  sendRaw(a.k, frag4(d, 0, 64, true, true));
  world.runFor(1e8);
  assert.equal(reason(r.k, 'fragment'), 1);
  loadPf(r.k, 'set reassemble no\npass\n');
  sendRaw(a.k, frag4(d, 0, 64, true, true));
  world.runFor(1e8);
  assert.equal(reason(r.k, 'fragment'), 2);
  // no-df clears it: the fragment is reassembled
  loadPf(r.k, 'set reassemble yes no-df\npass\n');
  for (const p of [frag4(d, 0, 64, true, true), frag4(d, 64, 136, false, true)]) sendRaw(a.k, p);
  world.runFor(1e9);
  assert.equal(reason(r.k, 'fragment'), 2);
  assert.equal(ipOf(onB, 17).length, 3);
});

test('set reassemble no: IPv6 fragments filtered one by one; a later fragment has protocol ipv6-frag (44), only the first its upper layer\'s', () => {
  for (const [rule, firstOut, laterOut] of [['proto udp', 0, 1], ['proto ipv6-frag', 1, 0]] as const) {
    const { world, a, r, b } = threeHosts6();
    loadPf(r.k, `set reassemble no\npass\nblock in on em0 inet6 ${rule}\n`);
    const onB = capture(b.ifs[0]!);
    const [first, later] = fragments(bigUdp(2000), 0x99, [1232]);
    send6raw(a.k, first!);
    send6raw(a.k, later!);
    world.runFor(1e9);
    const got = v6Of(onB, 44);
    assert.equal(got.filter((p) => get16(p, 42) === 1).length, firstOut, rule);
    assert.equal(got.filter((p) => get16(p, 42) === 1232).length, laterOut, rule);
    // a blocked fragment counts as reason fragment; none was queued
    assert.equal(reason(r.k, 'fragment'), 1, rule);
    assert.equal(fragLines(r.k, 2), fragRows(0, 0), rule);
  }
});

test('a fragment pf keeps for reassembly is no error for the sender: ip_output and ip6_output return 0 (pf_reassemble passes with *m0 NULL)', () => {
  const { world, a, b } = threeHosts();
  loadPf(a.k, 'pass\n');
  const onB = capture(b.ifs[0]!);
  const d = udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 40000, 7, 64);
  assert.deepEqual([send4raw(a.k, frag4(d, 0, 48, true)), send4raw(a.k, frag4(d, 48, 24, false))], [0, 0]);
  world.runFor(1e9);
  // the datagram pf made of them goes out whole
  assert.equal(ipOf(onB, 17).length, 1);
  const n6 = threeHosts6();
  loadPf(n6.a.k, 'pass\n');
  const u = udp(40001, 7, new Array<number>(56).fill(3));
  assert.deepEqual([send6raw(n6.a.k, frag(9, 0, true, u.subarray(0, 48))), send6raw(n6.a.k, frag(9, 48, false, u.subarray(48)))], [0, 0]);
});
