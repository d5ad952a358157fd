import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import { Tracer } from '../../../src/sys/kern/kern_trace.js';
import { rt_route_add } from '../../../src/sys/net/rtsock.js';
import { PF_DROP, PF_FAST_NONE, PF_IN, PF_OUT, PF_PASS, pf_test_fast4 } from '../../../src/sys/net/pf.js';
import { host, ip, wire } from '../netinet/lab.js';
import { accept, connect, drain, listener, payload, pump, sha } from '../netinet/tcp_lab.js';
import { soclose } from '../../../src/sys/kern/uipc_socket.js';
import { loadPf, pfctl, sendRaw, tcpBytes, udpBytes } from './pf_lab.js';

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

const CONF = `pass
pass proto udp to port 7 keep state (sloppy)
pass out on em1 proto udp to port 5353 nat-to 198.51.100.1
pass in log (all) proto udp to port 514
`;

/**
 * Traffic of every kind through fw: a TCP transfer both ways, UDP flows
 * answered (SINGLE -> MULTIPLE), a sloppy state, a NATed flow, a state
 * logging all its packets, a segment outside the window, a SYN reusing a
 * closed connection's ports; returns what pfctl shows afterwards.
 */
function scenario(traced: boolean): string {
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
  return ['-vvss', '-vsi', '-vvsr'].map((f) => pfctl(fw, [f]).out.replace(/age \d\d:\d\d:\d\d|expires in \d\d:\d\d:\d\d/g, '')).join('\n');
}

test('fast path: the same states, counters and rules as the general path (a tracer makes pf_test take it)', () => {
  const general = scenario(true);
  const fast = scenario(false);
  assert.equal(fast, general);
  // what it went through: window tracking, a mismatch, UDP both ways, the closed states replaced by the SYN's
  assert.match(fast, /ESTABLISHED:ESTABLISHED\n.*wscale 6.*\n.* 47:34 pkts, 62456:21780 bytes/);
  assert.match(fast, /\n {2}state-mismatch +2 /);
  assert.match(fast, /all udp 198\.51\.100\.31:53 <- 203\.0\.113\.10:4053 +MULTIPLE:MULTIPLE\n.* 6:6 pkts/);
  assert.match(fast, /\n {2}removals +2 /);
  assert.match(fast, /all tcp 198\.51\.100\.31:80 <- 203\.0\.113\.10:\d+ +SYN_SENT:ESTABLISHED\n/);
});

test('fast path: takes a hit on a plain state, leaves translating, logging and missing states to the general path', () => {
  const { world, c, fw } = firewall();
  loadPf(fw, CONF);
  const em0 = fw.ifnets.find((i) => i?.if_xname === 'em0')!;
  const em1 = fw.ifnets.find((i) => i?.if_xname === 'em1')!;
  const cli = ip('203.0.113.10');
  const srv = ip('198.51.100.31');
  for (const port of [53, 5353, 514]) sendRaw(c, udpBytes(cli, srv, 4000 + port, port));
  world.runFor(1e8);
  const pf = fw.pf!;
  const test1 = (dir: number, bytes: Uint8Array): number => {
    const m = fw.mbufs.get(bytes.length)!;
    m.setBytes(bytes);
    const r = pf_test_fast4(pf, pf.pd, dir, dir === PF_IN ? em0 : em1, m);
    if (r !== PF_DROP) m.free();
    return r;
  };
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
  const after = pfctl(fw, ['-vvss']).out;
  // the hits counted: one packet more on each 53 state and on the 5353 IN state
  assert.notEqual(after, before);
  assert.match(after, /all udp 198\.51\.100\.31:53 <- 203\.0\.113\.10:4053 +NO_TRAFFIC:SINGLE\n.* 2:1 pkts, 64:56 bytes/);
  assert.match(after, /all udp 203\.0\.113\.10:4053 -> 198\.51\.100\.31:53 +SINGLE:NO_TRAFFIC\n.* 2:1 pkts, 64:56 bytes/);
  assert.match(after, /all udp 198\.51\.100\.31:5353 <- 203\.0\.113\.10:9353 +NO_TRAFFIC:SINGLE\n.* 2:0 pkts, 64:0 bytes/);
  assert.match(after, /\(203\.0\.113\.10:9353\) -> 198\.51\.100\.31:5353 +SINGLE:NO_TRAFFIC\n.* 1:0 pkts, 32:0 bytes/);
});
