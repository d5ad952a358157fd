import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import { Tracer } from '../../../src/sys/kern/kern_trace.js';
import { rt_route_add } from '../../../src/sys/net/rtsock.js';
import { AF_INET, PF_DROP, PF_FAST_NONE, PF_IN, PF_OUT, PF_PASS, PFRES_SHORT, pf_test, pf_test_fast4 } from '../../../src/sys/net/pf.js';
import { host, ip, wire } from '../netinet/lab.js';
import { accept, connect, drain, listener, payload, pump, sha, tp } from '../netinet/tcp_lab.js';
import { soclose } from '../../../src/sys/kern/uipc_socket.js';
import { capture, ipOf, loadPf, pfctl, sendRaw, tcpBytes, udpBytes } from './pf_lab.js';
import { get16, put16 } from '../../../src/wire/bytes.js';
import { sum16 } from '../../../src/wire/checksum.js';
import type { Pf } from '../../../src/sys/net/pf.js';

/** client -- fw -- server, as pf.test.ts's firewall(). */
function firewall(): { world: World; c: Kernel; fw: Kernel; s: Kernel } {
  const world = new World({ seed: 3 });
  const c = host(world, 'client', ['203.0.113.10/24']);
  const fw = host(world, 'fw', ['203.0.113.48/24', '198.51.100.1/24']);
  const s = host(world, 'server', ['198.51.100.31/24']);
  wire(world, c.ifs[0]!, fw.ifs[0]!, { delay: 50_000 });
  wire(world, fw.ifs[1]!, s.ifs[0]!, { delay: 50_000 });
  rt_route_add(c.k, 0, 0, ip('203.0.113.48'));
  rt_route_add(s.k, 0, 0, ip('198.51.100.1'));
  fw.k.sysctl.set('net.inet.ip.forwarding', 1);
  world.runFor(1e8);
  return { world, c: c.k, fw: fw.k, s: s.k };
}

/** pf_test_fast4 of a datagram's bytes on fw (in on em0, out on em1): its result; the mbuf freed unless dropped. */
function fastOn(fw: Kernel): (dir: number, bytes: Uint8Array) => number {
  const pf = fw.pf!;
  const em0 = fw.ifnets.find((i) => i?.if_xname === 'em0')!;
  const em1 = fw.ifnets.find((i) => i?.if_xname === 'em1')!;
  return (dir, bytes) => {
    const m = fw.mbufs.get(bytes.length)!;
    m.setBytes(bytes);
    const r = pf_test_fast4(pf, pf.pd, dir, dir === PF_IN ? em0 : em1, m);
    if (r !== PF_DROP) m.free();
    return r;
  };
}

const CONF = `pass
pass proto udp to port 7 keep state (sloppy)
pass out on em1 proto udp to port 5353 nat-to 198.51.100.1
pass in log (all) proto udp to port 514
`;

/** pf's state store (every array and index) and counters, copied. */
function snapshot(pf: Pf): Record<string, unknown> {
  const st = pf.st;
  return {
    cap: st.cap, si: st.si.slice(), sf: st.sf.slice(), sc: st.sc.slice(), sid: st.sid.slice(), kd: st.kd.slice(),
    free: st.free.slice(), nfree: st.nfree, ht: st.ht.slice(), hmask: st.hmask, hcount: st.hcount, head: st.head, tail: st.tail,
    counters: pf.counters.slice(), lcounters: pf.lcounters.slice(), fcounters: pf.fcounters.slice(), scounters: pf.scounters.slice(),
    ncounters: pf.ncounters.slice(),
    // the interfaces' counters (pfi_kif), which the loginterface's come from
    kifs: pf.k.ifnets.map((i) => (i === undefined ? null : [i.if_xname, i.pfik_packets.slice(), i.pfik_bytes.slice(), i.pfik_tzero])),
  };
}

/** A copy of an IPv4 datagram with 4 bytes of IP options (NOP NOP NOP EOL), header checksum redone. */
function withOptions(d: Uint8Array): Uint8Array {
  const b = new Uint8Array(d.length + 4);
  b.set(d.subarray(0, 20), 0);
  b.set([1, 1, 1, 0], 20);
  b.set(d.subarray(20), 24);
  b[0] = 0x46;
  put16(b, 2, b.length);
  put16(b, 10, 0);
  put16(b, 10, ~sum16(b, 0, 24) & 0xffff);
  return b;
}

/**
 * Traffic of every kind through fw: a TCP transfer both ways, UDP flows
 * answered (SINGLE -> MULTIPLE), a sloppy state, a NATed flow, a state
 * logging all its packets, a segment outside the window, a SYN reusing a
 * closed connection's ports, a datagram with IP options on a state;
 * returns what pfctl shows afterwards and pf's arrays.
 */
function scenario(traced: boolean): { text: string; arrays: Record<string, unknown> } {
  const { world, c, fw, s } = firewall();
  loadPf(fw, CONF);
  if (traced) fw.setTracer(new Tracer());
  const ls = listener(s, 80);
  const so = connect(c, ip('198.51.100.31'), 80);
  world.runFor(1e9);
  const peer = accept(ls)!;
  const up = payload(60000, 1);
  const down = payload(20000, 2);
  const gotUp = drain(peer);
  const gotDown = drain(so);
  pump(so, up, 'none');
  pump(peer, down, 'none');
  world.runFor(5e9);
  assert.equal(sha(gotUp.bytes()), sha(up));
  assert.equal(sha(gotDown.bytes()), sha(down));
  // a second connection, closed both ways
  const so2 = connect(c, ip('198.51.100.31'), 80);
  world.runFor(1e9);
  const peer2 = accept(ls)!;
  const lport2 = so2.so_pcb!.inp_lport;
  const got2 = drain(peer2);
  pump(so2, payload(1000, 3), 'close');
  world.runFor(2e9);
  assert.ok(got2.eof());
  soclose(peer2);
  world.runFor(2e9);
  const cli = ip('203.0.113.10');
  const srv = ip('198.51.100.31');
  for (let i = 0; i < 3; i++) {
    for (const port of [53, 7, 5353, 514]) {
      sendRaw(c, udpBytes(cli, srv, 4000 + port, port, 10 + i));
      world.runFor(1e7);
      sendRaw(s, udpBytes(srv, cli, port, 4000 + port, 20 + i));
      world.runFor(1e7);
    }
  }
  // outside the window of the open connection's state, then a SYN on the closed one's ports
  sendRaw(c, tcpBytes(cli, srv, so.so_pcb!.inp_lport, 80, 0x10, 0x7fffffff, 12345, 10));
  world.runFor(1e8);
  sendRaw(c, tcpBytes(cli, srv, lport2, 80, 0x02, 1000));
  world.runFor(1e9);
  // IP options: the general path takes the datagram and drops it (the state's rule has no allow-opts: ip-option)
  sendRaw(c, withOptions(udpBytes(cli, srv, 4053, 53, 30)));
  world.runFor(1e7);
  return { text: ['-vvss', '-vsi', '-vvsr'].map((f) => pfctl(fw, [f]).out).join('\n'), arrays: snapshot(fw.pf!) };
}

test('fast path: the same states, counters and rules as the general path (a tracer makes pf_test take it)', () => {
  const g = scenario(true);
  const f = scenario(false);
  // pfctl's output whole (ages and expiry times included: the virtual clock is the same) and pf's arrays
  assert.equal(f.text, g.text);
  assert.deepEqual(f.arrays, g.arrays);
  const fast = f.text;
  // what it went through: window tracking, a mismatch, UDP both ways, the closed states replaced by the SYN's
  assert.match(fast, /ESTABLISHED:ESTABLISHED\n.*wscale 6.*\n.* 47:34 pkts, 62456:21780 bytes/);
  assert.match(fast, /\n {2}state-mismatch +2 /);
  // the 53 flow: 3 datagrams each way and the server's port unreachables (6:6); the datagram with IP options is
  // dropped before the state counts it
  assert.match(fast, /all udp 198\.51\.100\.31:53 <- 203\.0\.113\.10:4053 +MULTIPLE:MULTIPLE\n.* 6:6 pkts, 285:315 bytes/);
  assert.match(fast, /\n {2}ip-option +1 /);
  assert.match(fast, /\n {2}removals +2 /);
  assert.match(fast, /all tcp 198\.51\.100\.31:80 <- 203\.0\.113\.10:\d+ +SYN_SENT:ESTABLISHED\n/);
});

test('fast path: takes a hit on a plain state, leaves translating, logging and missing states to the general path', () => {
  const { world, c, fw } = firewall();
  loadPf(fw, CONF);
  const cli = ip('203.0.113.10');
  const srv = ip('198.51.100.31');
  for (const port of [53, 5353, 514]) sendRaw(c, udpBytes(cli, srv, 4000 + port, port));
  world.runFor(1e8);
  const test1 = fastOn(fw);
  const before = pfctl(fw, ['-vvss']).out;
  assert.equal(test1(PF_IN, udpBytes(cli, srv, 4053, 53)), PF_PASS);
  assert.equal(test1(PF_OUT, udpBytes(cli, srv, 4053, 53)), PF_PASS);
  // the NATed flow's OUT state translates; the logging state logs; no state for another port
  assert.equal(test1(PF_IN, udpBytes(cli, srv, 9353, 5353)), PF_PASS);
  assert.equal(test1(PF_OUT, udpBytes(cli, srv, 9353, 5353)), PF_FAST_NONE);
  assert.equal(test1(PF_IN, udpBytes(cli, srv, 4514, 514)), PF_FAST_NONE);
  assert.equal(test1(PF_IN, udpBytes(cli, srv, 4054, 54)), PF_FAST_NONE);
  // a fragment, IP options
  const frag = udpBytes(cli, srv, 4053, 53);
  frag[6] = 0x20;
  assert.equal(test1(PF_IN, frag), PF_FAST_NONE);
  assert.equal(test1(PF_IN, withOptions(udpBytes(cli, srv, 4053, 53))), PF_FAST_NONE);
  const after = pfctl(fw, ['-vvss']).out;
  // the hits counted: one packet more on each 53 state and on the 5353 IN state
  assert.notEqual(after, before);
  assert.match(after, /all udp 198\.51\.100\.31:53 <- 203\.0\.113\.10:4053 +NO_TRAFFIC:SINGLE\n.* 2:1 pkts, 64:56 bytes/);
  assert.match(after, /all udp 203\.0\.113\.10:4053 -> 198\.51\.100\.31:53 +SINGLE:NO_TRAFFIC\n.* 2:1 pkts, 64:56 bytes/);
  // (the server's port unreachable about the NATed datagram went back through both of its states, translated)
  assert.match(after, /all udp 198\.51\.100\.31:5353 <- 203\.0\.113\.10:9353 +NO_TRAFFIC:SINGLE\n.* 2:1 pkts, 64:56 bytes/);
  assert.match(after, /\(203\.0\.113\.10:9353\) -> 198\.51\.100\.31:5353 +SINGLE:NO_TRAFFIC\n.* 1:1 pkts, 32:56 bytes/);
});

test('fast path: takes the segments of an established TCP connection, both ways, in and out', () => {
  const { world, c, fw, s } = firewall();
  loadPf(fw, CONF);
  const ls = listener(s, 80);
  const so = connect(c, ip('198.51.100.31'), 80);
  world.runFor(1e9);
  const peer = accept(ls)!;
  const got = drain(peer);
  pump(so, payload(5000, 4), 'none');
  world.runFor(1e9);
  assert.equal(got.bytes().length, 5000);
  const pf = fw.pf!;
  const test1 = fastOn(fw);
  const cli = ip('203.0.113.10');
  const srv = ip('198.51.100.31');
  const cport = so.so_pcb!.inp_lport;
  const pkts = (): string[] => [...pfctl(fw, ['-vvss']).out.matchAll(/ (\d+:\d+) pkts/g)].map((x) => x[1]!);
  const before = pkts();
  const searches = pf.fcounters[0]!;
  // the client's ACK in on em0 and out on em1, the server's in on em1 and out on em0: all four hits on the fast path
  const ack = tcpBytes(cli, srv, cport, 80, 0x10, tp(so).snd_nxt, tp(so).rcv_nxt);
  const sack = tcpBytes(srv, cli, 80, cport, 0x10, tp(peer).snd_nxt, tp(peer).rcv_nxt);
  assert.equal(test1(PF_IN, ack), PF_PASS);
  assert.equal(test1(PF_OUT, ack), PF_PASS);
  assert.equal(test1(PF_IN, sack), PF_PASS);
  assert.equal(test1(PF_OUT, sack), PF_PASS);
  assert.equal(pf.fcounters[0]! - searches, 4);
  // each of the connection's two states counted one packet each way
  const after = pkts();
  assert.equal(before.length, after.length);
  const changed = before.map((b, i) => [b, after[i]!]).filter(([b, a]) => b !== a);
  assert.equal(changed.length, 2);
  for (const [b, a] of changed) {
    const [b0, b1] = b!.split(':').map(Number);
    assert.equal(a, `${b0! + 1}:${b1! + 1}`);
  }
  // a segment far outside the window: the fast path drops it as the general path would (state-mismatch)
  const mism = pf.counters[10]!;
  assert.equal(test1(PF_IN, tcpBytes(cli, srv, cport, 80, 0x10, (tp(so).snd_nxt + 0x40000000) >>> 0, tp(so).rcv_nxt, 10)), PF_DROP);
  assert.equal(pf.counters[10]! - mism, 1);
});

/** udpBytes with ip_off set to `off` and the header checksum redone. */
function withIpOff(b: Uint8Array, off: number): Uint8Array {
  put16(b, 6, off);
  put16(b, 10, 0);
  put16(b, 10, ~sum16(b, 0, 20) & 0xffff);
  return b;
}

test('pf_normalize_ip: a datagram that is no fragment leaves pf with only DF of ip_off (the reserved bit cleared), on a state too', () => {
  const { world, c, fw, s } = firewall();
  const srvIf = s.ifnets.find((i) => i?.if_xname === 'em0')!;
  const got = capture(srvIf);
  const cli = ip('203.0.113.10');
  const srv = ip('198.51.100.31');
  // pf off: ip_forward leaves the reserved bit
  sendRaw(c, withIpOff(udpBytes(cli, srv, 4000, 9), 0xc000));
  world.runFor(1e8);
  loadPf(fw, 'pass\n');
  // the first creates the states; the second is a state hit, which the fast path leaves to the general path
  sendRaw(c, withIpOff(udpBytes(cli, srv, 4001, 9), 0xc000));
  sendRaw(c, withIpOff(udpBytes(cli, srv, 4001, 9), 0x8000));
  sendRaw(c, withIpOff(udpBytes(cli, srv, 4001, 9), 0x4000));
  world.runFor(1e8);
  const udp = ipOf(got, 17);
  assert.deepEqual(udp.map((p) => get16(p, 6)), [0xc000, 0x4000, 0x0000, 0x4000]);
  // each header's checksum verifies
  for (const p of udp) assert.equal(sum16(p, 0, 20), 0xffff);
  assert.match(pfctl(fw, ['-ss']).out, /all udp 198\.51\.100\.31:9 <- 203\.0\.113\.10:4001 +NO_TRAFFIC:SINGLE/);
});

test('pf_setup_pdesc: a datagram shorter than its IP length is dropped as short (the fast path leaves it to it)', () => {
  const { world, c, fw } = firewall();
  loadPf(fw, 'pass\n');
  const cli = ip('203.0.113.10');
  const srv = ip('198.51.100.31');
  sendRaw(c, udpBytes(cli, srv, 4053, 53));
  world.runFor(1e8);
  const pf = fw.pf!;
  const em0 = fw.ifnets.find((i) => i?.if_xname === 'em0')!;
  // the state's datagram, its last 2 bytes missing (m_pkthdr.len < ip_len), its UDP length saying what is left
  const whole = udpBytes(cli, srv, 4053, 53);
  put16(whole, 24, 10);
  const cut = whole.subarray(0, whole.length - 2);
  const m = fw.mbufs.get(cut.length)!;
  m.setBytes(cut);
  assert.equal(pf_test_fast4(pf, pf.pd, PF_IN, em0, m), PF_FAST_NONE);
  const short0 = pf.counters[PFRES_SHORT]!;
  assert.equal(pf_test(fw, AF_INET, PF_IN, em0, m), null);
  assert.equal(pf.counters[PFRES_SHORT]! - short0, 1);
  assert.match(pfctl(fw, ['-si']).out, /\n {2}short +1 /);
});

test('fast path: leaves a state with match rules to the general path, takes one whose rule names a table and counts it there', () => {
  const { world, c, fw } = firewall();
  loadPf(fw, 'table <t> counters { 203.0.113.10 }\npass\nmatch in proto udp to port 53 label M\npass in proto udp from <t> to port 5353\n');
  const cli = ip('203.0.113.10');
  const srv = ip('198.51.100.31');
  for (const port of [53, 54, 5353]) sendRaw(c, udpBytes(cli, srv, 4000 + port, port));
  world.runFor(1e8);
  const test1 = fastOn(fw);
  // the 53 state in on em0 has the match rule; its state out on em1 and the 54 states have none
  assert.equal(test1(PF_IN, udpBytes(cli, srv, 4053, 53)), PF_FAST_NONE);
  assert.equal(test1(PF_OUT, udpBytes(cli, srv, 4053, 53)), PF_PASS);
  assert.equal(test1(PF_IN, udpBytes(cli, srv, 4054, 54)), PF_PASS);
  assert.equal(test1(PF_IN, udpBytes(cli, srv, 9353, 5353)), PF_PASS);
  // the match rule counted the first datagram and the server's port unreachable back out on em0 (the state's
  // reverse direction), nothing of what pf_test_fast4 left; the table the 5353 state's two (the second on the fast path)
  assert.equal(pfctl(fw, ['-sl']).out, 'M 6 2 88 1 32 1 56 0\n');
  // (and the port unreachable out on em0 through it)
  const show = pfctl(fw, ['-t', 't', '-T', 'show', '-v']).out;
  assert.match(show, /\n\tIn\/Pass: +\[ Packets: 2 +Bytes: 64 +\]\n/);
  assert.match(show, /\n\tOut\/Pass: +\[ Packets: 1 +Bytes: 56 +\]\n/);
});
