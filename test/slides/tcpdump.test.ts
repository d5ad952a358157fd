/**
 * Slides "Hardware Receive and Tcpdump" and "Hardware Transmit and
 * Tcpdump": bpf taps sit in ifiq_input (IN, before the input queue) and in
 * the driver's start routine (OUT, after the output queue), so tcpdump
 * sees a packet the full input queue drops, and does not see one the full
 * output queue drops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slideLab, sh, datagram, send, ip, tcpdump } from './lab.js';
import { ping } from '../../src/sbin/ping/ping.js';
import { sysctl } from '../../src/sbin/sysctl/sysctl.js';
import { Tracer } from '../../src/sys/kern/kern_trace.js';

test('Hardware Receive/Transmit: the taps on the router, in the order of the call graph', () => {
  const L = slideLab();
  const in0 = tcpdump(L.router.nics[0]!.ifp);
  const out1 = tcpdump(L.router.nics[1]!.ifp);
  const tr = new Tracer();
  L.router.k.setTracer(tr);
  sh(L.a.k, ping, '-c', '1', '198.51.100.20');
  assert.deepEqual(in0.lines(), [
    '00:00:01.000001 192.0.2.10 > 198.51.100.20: icmp: echo request',
    '00:00:01.000377 arp who-has 192.0.2.10 tell 192.0.2.1',
    '00:00:01.000502 arp reply 192.0.2.10 is-at 02:00:00:00:0a:00',
    '00:00:01.000502 198.51.100.20 > 192.0.2.10: icmp: echo reply',
  ]);
  assert.deepEqual(in0.dirs, ['in', 'out', 'in', 'out']);
  assert.deepEqual(out1.lines(), [
    '00:00:01.000001 arp who-has 198.51.100.20 tell 198.51.100.3',
    '00:00:01.000127 arp reply 198.51.100.20 is-at 02:00:00:00:0b:00',
    '00:00:01.000127 192.0.2.10 > 198.51.100.20: icmp: echo request',
    '00:00:01.000377 198.51.100.20 > 192.0.2.10: icmp: echo reply',
  ]);
  assert.deepEqual(out1.dirs, ['out', 'in', 'out', 'in']);
  // The echo request's journey through the router: the IN tap right after
  // the interrupt handed it to ifiq_input, before the input queue and
  // ether_input; the OUT tap in em_start, after the output queue.
  const path = tr.events
    .filter((e) => e.journey === 1 && (e.kind === 'fn' || e.kind === 'tap'))
    .map((e) => (e.kind === 'tap' ? `${e.name}(${e.ifname}, ${e.detail})` : e.name));
  const request = path.slice(0, path.indexOf('bpf_mtap_ether(em1, OUT)') + 1);
  assert.deepEqual(
    request.filter((n) => n !== 'ether_resolve' && n !== 'arpresolve'),
    [
      'em_intr', 'ifiq_input', 'bpf_mtap_ether(em0, IN)', 'if_input_process', 'ether_input', 'ip_input', 'ip_forward', 'ip_output',
      'ether_output', 'ether_output', 'ifq_enqueue', 'ifq_start', 'em_start', 'bpf_mtap_ether(em1, OUT)',
    ],
  );
});

test('Hardware Receive and Tcpdump: a packet dropped at the full input queue is still seen by bpf', () => {
  // The router's softnet runs 10 ms late: 12000 small datagrams at line
  // rate overflow the input queue of em0.
  const L = slideLab({ softnetLatency: 10e6 });
  sh(L.b.k, sysctl, 'net.inet.icmp.errppslimit=0');
  const rxq = L.router.nics[0]!.ifp.if_iqs[0]!;
  const before = rxq.ifiq_packets;
  const in0 = tcpdump(L.router.nics[0]!.ifp);
  const out1 = tcpdump(L.router.nics[1]!.ifp);
  const t0 = L.world.now;
  for (let i = 0; i < 12000; i++) L.world.at(t0 + i * 672, () => void send(L.a.k, datagram(L.a.k, ip('198.51.100.20'), 17, 46, 64, i)));
  L.world.runFor(1e9);
  assert.equal(rxq.ifiq_qdrops, 1583);
  // bpf saw every frame the ring took, dropped ones included.
  const seen = in0.lines().filter((_l, i) => in0.dirs[i] === 'in');
  assert.equal(seen.length, rxq.ifiq_packets - before);
  assert.equal(seen[0], '00:00:01.000001 192.0.2.10.49152 > 198.51.100.20.0: udp 18');
  // Which datagrams reached em1: those the input queue dropped did not.
  const forwarded = new Set(out1.lines().map((l) => /\.(\d+): udp/.exec(l)?.[1]).filter((p) => p !== undefined));
  const dropped = seen.filter((l) => {
    const p = /\.(\d+): udp/.exec(l)?.[1];
    return p !== undefined && !forwarded.has(p);
  });
  assert.ok(dropped.length >= 1583, `${dropped.length} seen by bpf, never forwarded`);
  const lastDrop = dropped[dropped.length - 1]!;
  assert.match(lastDrop, /^00:00:01\.\d{6} 192\.0\.2\.10\.49152 > 198\.51\.100\.20\.\d+: udp 18$/);
});

test('Hardware Transmit and Tcpdump: a packet dropped at the full output queue is not seen by bpf', () => {
  // em1 at 100 Mbit/s; 2000 full-size datagrams at 1 Gbit/s into the router.
  const L = slideLab({ rate2: 100e6 });
  sh(L.b.k, sysctl, 'net.inet.icmp.errppslimit=0');
  sh(L.a.k, ping, '-c', '1', '198.51.100.20');
  const out1 = tcpdump(L.router.nics[1]!.ifp);
  const bTotal = L.b.k.stats.ipstat.value('ips_total');
  const t0 = L.world.now;
  for (let i = 0; i < 2000; i++) L.world.at(t0 + i * 12_304, () => void send(L.a.k, datagram(L.a.k, ip('198.51.100.20'), 17, 1500, 64, i)));
  L.world.runFor(2e9);
  const ifq = L.router.nics[1]!.ifp.if_snd;
  assert.ok(ifq.ifq_qdrops > 0);
  const sent = out1.lines().filter((l, i) => out1.dirs[i] === 'out' && l.endsWith(': udp 1472'));
  // The tap in em_start only sees what left the output queue for the ring.
  assert.equal(sent.length, 2000 - ifq.ifq_qdrops);
  assert.equal(sent.length, 1157);
  // and b received exactly those.
  assert.equal(L.b.k.stats.ipstat.value('ips_total') - bTotal, 1157);
});
