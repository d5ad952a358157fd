/**
 * `synproxy state` (pf_synproxy.ts) on a router: client 203.0.113.10 --
 * em0 [fw] em1 -- server 198.51.100.31, the client's cable 1 ms, the
 * server's 20 ms (so each phase of the handshake can be watched).  The
 * bytes pf sends, pfctl -ss during and after, the data spliced through
 * with sequence translation, and the counters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import { rt_route_add } from '../../../src/sys/net/rtsock.js';
import { Tracer } from '../../../src/sys/kern/kern_trace.js';
import { get16, get32 } from '../../../src/wire/bytes.js';
import { put16, put32 } from '../../../src/wire/bytes.js';
import { pseudoSum4, pseudoSum6, sum16 } from '../../../src/wire/checksum.js';
import { host, wire, ip } from '../netinet/lab.js';
import { listener, connect, accept, pump, drain, payload, sha, tcpstat } from '../netinet/tcp_lab.js';
import { pfctl, loadPf, capture, ipOf, sendRaw, tcpBytes } from './pf_lab.js';
import { threeHosts6, ip6 } from '../netinet6/lab6.js';
import { v6Of } from './pf_af_lab.js';
import { socreate, sobind, solisten, soconnect, SOCK_STREAM, type Socket } from '../../../src/sys/kern/uipc_socket.js';
import { AF_INET6, Sockaddr } from '../../../src/sys/netinet/in_pcb.js';

function lab(): { world: World; c: ReturnType<typeof host>; fw: ReturnType<typeof host>; s: ReturnType<typeof host> } {
  const world = new World({ seed: 3 });
  const c = host(world, 'client', ['203.0.113.10/24']);
  const fw = host(world, 'fw', ['203.0.113.48/24', '198.51.100.1/24']);
  const s = host(world, 'server', ['198.51.100.31/24']);
  wire(world, c.ifs[0]!, fw.ifs[0]!, { delay: 1_000_000 });
  wire(world, fw.ifs[1]!, s.ifs[0]!, { delay: 20_000_000 });
  rt_route_add(c.k, 0, 0, ip('203.0.113.48'));
  rt_route_add(s.k, 0, 0, ip('198.51.100.1'));
  fw.k.sysctl.set('net.inet.ip.forwarding', 1);
  world.runFor(1e9);
  return { world, c, fw, s };
}

/** The lines of pfctl -vsi that name the given counters (without the rates). */
function counters(k: Kernel, names: string[]): string[] {
  const lines = pfctl(k, ['-vsi']).out.split('\n');
  return names.map((n) => (lines.find((x) => x.startsWith(`  ${n} `)) ?? '').slice(0, 42));
}

const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;

/** TCP fields of an IPv4 datagram. */
function tcp(d: Uint8Array): { sport: number; dport: number; seq: number; ack: number; flags: number; win: number; opts: number[] } {
  const hl = (d[0]! & 15) * 4;
  const off = (d[hl + 12]! >> 4) * 4;
  return {
    sport: get16(d, hl),
    dport: get16(d, hl + 2),
    seq: get32(d, hl + 4),
    ack: get32(d, hl + 8),
    flags: d[hl + 13]!,
    win: get16(d, hl + 14),
    opts: [...d.subarray(hl + 20, hl + off)],
  };
}

/** The IP and TCP checksums of a datagram verify. */
function sumsOk(d: Uint8Array): boolean {
  const len = get16(d, 2);
  const ipOk = sum16(d, 0, 20) === 0xffff;
  return ipOk && sum16(d, 20, len - 20, pseudoSum4(get32(d, 12), get32(d, 16), 6, len - 20)) === 0xffff;
}

test('synproxy: pf answers the SYN itself, opens the server side after the ACK, splices the data byte-exact', () => {
  const { world, c, fw, s } = lab();
  loadPf(fw.k, 'pass\npass in on em0 proto tcp to port 80 synproxy state\n');
  const atC = capture(c.ifs[0]!);
  const atS = capture(s.ifs[0]!);
  const t = new Tracer();
  fw.k.setTracer(t);
  const ls = listener(s.k, 80);
  const so = connect(c.k, ip('198.51.100.31'), 80);
  const cport = so.so_pcb!.inp_lport;
  // the client's SYN reached the firewall (after ARP): PROXY:SRC, no packet to the server yet
  world.runFor(3.5e6);
  const ss1 = pfctl(fw.k, ['-vss']).out.split('\n');
  assert.equal(ss1[0], `all tcp 198.51.100.31:80 <- 203.0.113.10:${cport}       PROXY:SRC`);
  assert.equal(ipOf(atS, 6).length, 0);
  // pf's SYN|ACK reaches the client 1 ms later
  world.runFor(1e6);
  const syn = ipOf(atC, 6).find((d) => tcp(d).flags === TH_SYN)!;
  const synack = ipOf(atC, 6).find((d) => tcp(d).flags === (TH_SYN | TH_ACK))!;
  const y = tcp(synack).seq;
  // the dst peer (server side) is untouched, the src peer's seqhi is pf's ISN
  assert.equal(ss1[1], `   [0 + 1]  [${tcp(syn).seq} + ${(y - tcp(syn).seq) >>> 0}]`);
  assert.match(ss1[2]!, /^ {3}age 00:00:00, expires in 00:02:00, 0:0 pkts, 0:0 bytes, rule 1$/);
  // pf's SYN|ACK: from the server's address, TOS lowdelay, DF, TTL 64, window 0, only an MSS (the client's 1460)
  assert.deepEqual([...synack.subarray(0, 2)], [0x45, 0x10]);
  assert.equal(get16(synack, 2), 44);
  assert.equal(get16(synack, 6), 0x4000);
  assert.equal(synack[8], 64);
  assert.deepEqual([...synack.subarray(12, 20)], [198, 51, 100, 31, 203, 0, 113, 10]);
  assert.deepEqual(
    { ...tcp(synack), seq: 0 },
    { sport: 80, dport: cport, seq: 0, ack: (tcp(syn).seq + 1) >>> 0, flags: TH_SYN | TH_ACK, win: 0, opts: [2, 4, 0x05, 0xb4] },
  );
  assert.ok(sumsOk(synack));
  // the client ACKed: PROXY:DST, and pf's own SYN is on its way to the server
  world.runFor(25e6);
  assert.equal(pfctl(fw.k, ['-ss']).out.split('\n')[0], `all tcp 198.51.100.31:80 <- 203.0.113.10:${cport}       PROXY:DST`);
  // (after ARP on the server's 20 ms cable) the SYN reached the server; its SYN|ACK is not back yet
  world.runFor(50e6);
  assert.equal(pfctl(fw.k, ['-ss']).out.split('\n')[0], `all tcp 198.51.100.31:80 <- 203.0.113.10:${cport}       PROXY:DST`);
  const ssyn = ipOf(atS, 6).find((d) => tcp(d).flags === TH_SYN)!;
  assert.deepEqual([...ssyn.subarray(12, 20)], [203, 0, 113, 10, 198, 51, 100, 31]);
  assert.deepEqual({ ...tcp(ssyn), seq: 0 }, { sport: cport, dport: 80, seq: 0, ack: 0, flags: TH_SYN, win: 0, opts: [2, 4, 0x05, 0xb4] });
  assert.equal(ssyn[8], 64);
  assert.ok(sumsOk(ssyn));
  const z = tcp(ssyn).seq;
  // the server answered: ACKs both ways, both sides established with their seqdiffs
  world.runFor(100e6);
  const so2 = accept(ls);
  assert.ok(so2 !== null);
  const sack = ipOf(atS, 6).find((d) => tcp(d).flags === (TH_SYN | TH_ACK))!;
  const w = tcp(sack).seq;
  const toS = ipOf(atS, 6).filter((d) => tcp(d).flags === TH_ACK && d[12] === 203)[0]!;
  assert.deepEqual(tcp(toS), { sport: cport, dport: 80, seq: (z + 1) >>> 0, ack: (w + 1) >>> 0, flags: TH_ACK, win: 16384, opts: [] });
  const toC = ipOf(atC, 6).filter((d) => tcp(d).flags === TH_ACK && d[12] === 198)[0]!;
  assert.deepEqual(tcp(toC), { sport: 80, dport: cport, seq: (y + 1) >>> 0, ack: (tcp(syn).seq + 1) >>> 0, flags: TH_ACK, win: tcp(sack).win, opts: [] });
  const x = tcp(syn).seq;
  const ss3 = pfctl(fw.k, ['-vss']).out.split('\n');
  assert.equal(ss3[0], `all tcp 198.51.100.31:80 <- 203.0.113.10:${cport}       ESTABLISHED:ESTABLISHED`);
  assert.equal(ss3[1], `   [${w} + 16384](+${(y - w) >>> 0})  [${x} + ${tcp(sack).win}](+${(z - x) >>> 0})`);
  // pf's SYN to the server made the ordinary state out on em1 (rule 0)
  assert.equal(ss3[3], `all tcp 203.0.113.10:${cport} -> 198.51.100.31:80       ESTABLISHED:ESTABLISHED`);

  // data both ways, byte-exact; untraced, so the state hits take pf_test_fast4 (which modulates as the general path)
  fw.k.setTracer(null);
  const searches = fw.k.pf!.fcounters[0]!;
  const up = payload(100_000, 11);
  const down = payload(30_000, 12);
  const atServer = drain(so2);
  const atClient = drain(so);
  // (the server keeps its socket open: closing it with the client's data still coming would reset)
  pump(so, up);
  pump(so2, down, 'none');
  world.runFor(5e9);
  assert.equal(sha(atServer.bytes()), sha(up));
  assert.equal(sha(atClient.bytes()), sha(down));
  assert.ok(atServer.eof());
  assert.ok(fw.k.pf!.fcounters[0]! - searches > 100);
  // each side saw its own sequence space: the server's data starts at w + 1 there, at y + 1 at the client
  const firstDown = ipOf(atC, 6).find((d) => d[12] === 198 && get16(d, 2) > 44)!;
  assert.equal(tcp(firstDown).seq, (y + 1) >>> 0);
  // what arrived at either end verifies (the senders' own frames are taken before checksum offload)
  assert.equal(ipOf(atC, 6).filter((d) => d[16] === 203 && !sumsOk(d)).length, 0);
  assert.equal(ipOf(atS, 6).filter((d) => d[16] === 198 && !sumsOk(d)).length, 0);

  // three packets consumed: the SYN, the client's ACK, the server's SYN|ACK
  assert.deepEqual(counters(fw.k, ['synproxy', 'state-mismatch']), [
    '  synproxy                               3',
    '  state-mismatch                         0',
  ]);
  const j = t.events.filter((e) => e.name.startsWith('pf_')).map((e) => [e.kind, e.name, e.ifname, e.detail].filter(Boolean).join(' '));
  assert.deepEqual(j.slice(0, 16), [
    'fn pf_test em0 in',
    `branch pf_synproxy: SYN from the client → PROXY:SRC, SYN|ACK seq ${y} mss 1460`,
    'branch pf_test: rule 1 synproxy state created',
    'drop pf_test: synproxy → packet consumed rule 1',
    'fn pf_test em0 in',
    'branch pf_synproxy: the client ACKed our SYN|ACK → PROXY:DST',
    `branch pf_synproxy: PROXY:DST, SYN seq ${z} to the server → consumed`,
    'branch pf_test: state synproxy rule 1',
    'drop pf_test: synproxy → packet consumed rule 1',
    'fn pf_test em1 out',
    'branch pf_test: rule 0 pass state created',
    'fn pf_test em1 in',
    'branch pf_test: state match rule 0',
    'fn pf_test em0 out',
    'branch pf_synproxy: PROXY:DST, the server\'s SYN|ACK → ACKs both ways, ESTABLISHED:ESTABLISHED',
    'branch pf_test: state synproxy rule 1',
  ]);
});

test('synproxy with rdr-to: the client talks to the address it dialled, the server is reached at its own', () => {
  const { world, c, fw, s } = lab();
  loadPf(fw.k, 'pass\npass in on em0 proto tcp to 203.0.113.48 port 8080 rdr-to 198.51.100.31 port 80 synproxy state\n');
  const atC = capture(c.ifs[0]!);
  const ls = listener(s.k, 80);
  const so = connect(c.k, ip('203.0.113.48'), 8080);
  world.runFor(200e6);
  const so2 = accept(ls);
  assert.ok(so2 !== null);
  const cport = so.so_pcb!.inp_lport;
  assert.equal(
    pfctl(fw.k, ['-ss']).out.split('\n')[0],
    `all tcp 198.51.100.31:80 (203.0.113.48:8080) <- 203.0.113.10:${cport}       ESTABLISHED:ESTABLISHED`,
  );
  // every segment the client got came from 203.0.113.48:8080
  const toClient = ipOf(atC, 6).filter((d) => get32(d, 16) === ip('203.0.113.10') >>> 0);
  assert.equal(toClient.length, 2);
  assert.deepEqual(toClient.filter((d) => get32(d, 12) !== ip('203.0.113.48') >>> 0 || tcp(d).sport !== 8080), []);
  const got = drain(so2);
  pump(so, payload(20_000, 5));
  world.runFor(3e9);
  assert.equal(sha(got.bytes()), sha(payload(20_000, 5)));
});

test('synproxy: a repeated SYN gets the same SYN|ACK; a wrong ACK is dropped; a state removed in PROXY:DST resets the client', () => {
  const { world, c, fw } = lab();
  // nobody answers at 198.51.100.99: pf's SYN to it goes nowhere
  loadPf(fw.k, 'pass\npass in on em0 proto tcp to port 80 synproxy state\n');
  const atC = capture(c.ifs[0]!);
  const cl = ip('203.0.113.10');
  const sv = ip('198.51.100.99');
  sendRaw(c.k, tcpBytes(cl, sv, 40000, 80, TH_SYN, 1000));
  world.runFor(10e6);
  sendRaw(c.k, tcpBytes(cl, sv, 40000, 80, TH_SYN, 1000));
  world.runFor(10e6);
  const sa = ipOf(atC, 6).filter((d) => tcp(d).flags === (TH_SYN | TH_ACK));
  assert.equal(sa.length, 2);
  assert.equal(tcp(sa[0]!).seq, tcp(sa[1]!).seq);
  // without options in the SYN, the MSS pf offers is pf_calc_mss's floor of 64
  assert.deepEqual(tcp(sa[0]!).opts, [2, 4, 0, 64]);
  const y = tcp(sa[0]!).seq;
  // a SYN with another sequence number, an ACK of something else: dropped, synproxy counted
  sendRaw(c.k, tcpBytes(cl, sv, 40000, 80, TH_SYN, 2000));
  sendRaw(c.k, tcpBytes(cl, sv, 40000, 80, TH_ACK, 1001, (y + 2) >>> 0));
  world.runFor(10e6);
  assert.equal(pfctl(fw.k, ['-ss']).out.split('\n')[0], 'all tcp 198.51.100.99:80 <- 203.0.113.10:40000       PROXY:SRC');
  // the SYN, its repeat, the other SYN, the wrong ACK, and the client stack's two RSTs to pf's SYN|ACKs (it has no such connection)
  assert.equal(fw.k.pf!.counters[14], 6);
  // the right ACK: PROXY:DST
  sendRaw(c.k, tcpBytes(cl, sv, 40000, 80, TH_ACK, 1001, (y + 1) >>> 0));
  world.runFor(10e6);
  assert.equal(pfctl(fw.k, ['-ss']).out.split('\n')[0], 'all tcp 198.51.100.99:80 <- 203.0.113.10:40000       PROXY:DST');
  assert.equal(fw.k.pf!.counters[14], 7);
  // flushed: the client, told the connection was open, gets a RST from the server's address
  // (with the state pf's SYN made out on em1)
  assert.equal(pfctl(fw.k, ['-F', 'states']).err, '2 states cleared\n');
  world.runFor(10e6);
  const rst = ipOf(atC, 6).filter((d) => tcp(d).flags & TH_RST && d[12] === 198);
  assert.equal(rst.length, 1);
  assert.deepEqual([...rst[0]!.subarray(12, 20)], [198, 51, 100, 99, 203, 0, 113, 10]);
  assert.deepEqual(tcp(rst[0]!), { sport: 80, dport: 40000, seq: y, ack: 1001, flags: TH_RST | TH_ACK, win: 0, opts: [] });
  assert.ok(sumsOk(rst[0]!));
});

test('synproxy with max-src-conn: the connection is counted when the client completes the handshake with pf', () => {
  const { world, c, fw, s } = lab();
  loadPf(fw.k, 'pass\npass in on em0 proto tcp to port 80 synproxy state (max-src-conn 1)\n');
  listener(s.k, 80);
  connect(c.k, ip('198.51.100.31'), 80);
  world.runFor(1e9);
  assert.equal(pfctl(fw.k, ['-sS']).out, '203.0.113.10 ( states 1, connections 1, rate 0.0/0s )\n');
  connect(c.k, ip('198.51.100.31'), 80);
  world.runFor(1e9);
  assert.deepEqual(counters(fw.k, ['src-limit', 'max-src-conn', 'synproxy']), [
    '  src-limit                              1',
    '  max-src-conn                           1',
    // the first connection's SYN, ACK and the server's SYN|ACK; the second's SYN (its ACK went over the limit)
    '  synproxy                               4',
  ]);
  assert.equal(pfctl(fw.k, ['-sS']).out, '203.0.113.10 ( states 1, connections 1, rate 0.0/0s )\n');
});

function sock6(k: Kernel): Socket {
  const so = socreate(k, AF_INET6, SOCK_STREAM, 0);
  if (typeof so === 'number') throw new Error(`socreate: errno ${so}`);
  return so;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

test("synproxy over IPv6: pf's SYN|ACK (IPv6 header, MSS 1440), PROXY:SRC, PROXY:DST, then data spliced byte-exact both ways", () => {
  // client 2001:db8:1::10 -- em0 [router] em1 -- server 2001:db8:2::20
  const { world, a, r, b } = threeHosts6(4);
  loadPf(r.k, 'pass\npass in on em0 inet6 proto tcp to port 80 synproxy state\n');
  const atC = capture(a.ifs[0]!);
  const atS = capture(b.ifs[0]!);
  const C = ip6('2001:db8:1::10');
  const S = ip6('2001:db8:2::20');
  const l = sock6(b.k);
  assert.equal(sobind(l, Sockaddr.in6(new Uint8Array(16), 80)), 0);
  assert.equal(solisten(l, 5), 0);
  const so = sock6(a.k);
  assert.equal(soconnect(so, Sockaddr.in6(S, 80)), 0);
  const cport = so.so_pcb!.inp_lport;
  // the synproxy state's phases as the handshake goes (in steps shorter than a cable's delay)
  const phases: string[] = [];
  let s2: Socket | null = null;
  for (let i = 0; i < 500 && s2 === null; i++) {
    world.runFor(10_000);
    const line = pfctl(r.k, ['-ss']).out.split('\n').find((x) => x.startsWith('all tcp') && x.includes(' <- ')) ?? '';
    if (line !== '' && phases[phases.length - 1] !== line) phases.push(line);
    s2 = accept(l);
  }
  const key = `all tcp 2001:db8:2::20[80] <- 2001:db8:1::10[${cport}]       `;
  assert.deepEqual(phases, [`${key}PROXY:SRC`, `${key}PROXY:DST`, `${key}ESTABLISHED:ESTABLISHED`]);
  // the client's SYN and pf's answer, exact: traffic class 0, hop limit 64, from the server's address, window 0, MSS 1440 (1500 - 40 - 20)
  const fromC = v6Of(atC, 6).filter((p) => hex(p.subarray(8, 24)) === hex(C));
  const toC = v6Of(atC, 6).filter((p) => hex(p.subarray(8, 24)) === hex(S));
  const syn = fromC[0]!;
  assert.equal(syn[40 + 13], 0x02);
  const x = get32(syn, 44);
  const synack = toC[0]!;
  const y = get32(synack, 44);
  const want = new Uint8Array(64);
  want[0] = 0x60;
  put16(want, 4, 24);
  want[6] = 6;
  want[7] = 64;
  want.set(S, 8);
  want.set(C, 24);
  put16(want, 40, 80);
  put16(want, 42, cport);
  put32(want, 44, y);
  put32(want, 48, (x + 1) >>> 0);
  want[52] = 0x60;
  want[53] = 0x12;
  want.set([2, 4, 0x05, 0xa0], 60);
  put16(want, 56, ~sum16(want, 40, 24, pseudoSum6(want, 8, 24, 6, 24)) & 0xffff);
  assert.equal(hex(synack), hex(want));
  // pf's SYN to the server, as the client, with the MSS it announced
  const ssyn = v6Of(atS, 6).filter((p) => hex(p.subarray(8, 24)) === hex(C))[0]!;
  assert.equal(hex(ssyn.subarray(0, 8)), '6000000000180640');
  assert.equal(hex(ssyn.subarray(8, 24)), hex(C));
  assert.equal(hex(ssyn.subarray(24, 40)), hex(S));
  assert.equal(ssyn[40 + 13], 0x02);
  assert.equal(get32(ssyn, 48), 0);
  assert.equal(get16(ssyn, 54), 0);
  assert.equal(hex(ssyn.subarray(60, 64)), '020405a0');
  assert.equal(sum16(ssyn, 40, 24, pseudoSum6(ssyn, 8, 24, 6, 24)), 0xffff);
  const z = get32(ssyn, 44);
  const sack = v6Of(atS, 6).filter((p) => hex(p.subarray(8, 24)) === hex(S))[0]!;
  const w = get32(sack, 44);
  const ss = pfctl(r.k, ['-vss']).out.split('\n');
  const i = ss.findIndex((x) => x.startsWith(key));
  assert.equal(ss[i + 1], `   [${w} + 16384](+${(y - w) >>> 0})  [${x} + ${get16(sack, 54)}](+${(z - x) >>> 0})`);

  // data both ways, byte-exact; the server saw its own sequence space, the client pf's
  assert.ok(s2 !== null);
  const up = payload(100_000, 11);
  const down = payload(30_000, 12);
  const atServer = drain(s2);
  const atClient = drain(so);
  pump(so, up);
  pump(s2, down, 'none');
  world.runFor(5e9);
  assert.equal(sha(atServer.bytes()), sha(up));
  assert.equal(sha(atClient.bytes()), sha(down));
  assert.ok(atServer.eof());
  const firstDown = v6Of(atC, 6).find((p) => hex(p.subarray(8, 24)) === hex(S) && get16(p, 4) > 32)!;
  assert.equal(get32(firstDown, 44), (y + 1) >>> 0);
  assert.equal(tcpstat(a.k, 'tcps_rcvbadsum') + tcpstat(b.k, 'tcps_rcvbadsum'), 0);
  assert.equal(/^ {2}synproxy +(\d+)/m.exec(pfctl(r.k, ['-si']).out)![1], '3');
});
