/**
 * Slides "Input Queues / Output Queues", "Interface Queue qdrops",
 * "Device Driver OACTIVE" and "Transmit Rings oactives": bounded queues
 * that fill with real traffic above a cable's rate, seen with kstat,
 * ifconfig, dmesg and netstat as on the slides.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../src/sys/kern/kern_clock.js';
import { slideLab, machine, plug, sh, datagram, send, ip, type KTool } from './lab.js';
import { kstat } from '../../src/usr.bin/kstat/kstat.js';
import { dmesg } from '../../src/sbin/dmesg/dmesg.js';
import { ifconfig } from '../../src/sbin/ifconfig/ifconfig.js';
import { route } from '../../src/sbin/route/route.js';
import { sysctl } from '../../src/sbin/sysctl/sysctl.js';
import { netstat } from '../../src/usr.bin/netstat/main.js';
import { ping } from '../../src/sbin/ping/ping.js';

const ns = netstat as KTool;
/** ns a full-size frame occupies a 1 Gbit/s wire: (1514 + FCS + preamble + gap) * 8. */
const FRAME_1G = (1514 + 4 + 8 + 12) * 8;

test('Input and Output Queues: every queue on the path counts the packets it carried', () => {
  const L = slideLab();
  // b sends no ICMP errors back (errppslimit 0), a ping resolves ARP first.
  sh(L.b.k, sysctl, 'net.inet.icmp.errppslimit=0');
  sh(L.a.k, ping, '-c', '1', '198.51.100.20');
  const t0 = L.world.now;
  for (let i = 0; i < 100; i++) L.world.at(t0 + i * FRAME_1G, () => void send(L.a.k, datagram(L.a.k, ip('198.51.100.20'), 17, 1500, 64, 7)));
  L.world.runFor(1e9);
  const rxq = (q: string, n: number): string =>
    `${q}\n` +
    '         packets: 103 packets\n' +
    '           bytes: 151582 bytes\n' +
    '          fdrops: 0 packets\n' +
    '          qdrops: 0 packets\n' +
    '          errors: 0 packets\n' +
    '            qlen: 0 packets\n' +
    `        enqueues: ${n}\n` +
    `        dequeues: ${n}\n`;
  const txq = (q: string): string =>
    `${q}\n` +
    '         packets: 103 packets\n' +
    '           bytes: 151582 bytes\n' +
    '          qdrops: 0 packets\n' +
    '          errors: 0 packets\n' +
    '            qlen: 0 packets\n' +
    '         maxqlen: 511 packets\n' +
    '         oactive: false\n' +
    '        oactives: 0\n';
  // a's output queue -> the router's input queue -> IP -> its output queue
  // -> b's input queue: the same 103 frames (100 datagrams, a ping, ARP)
  // and bytes in each; input queues take a batch per interrupt.
  assert.equal(sh(L.a.k, kstat, 'em0:0:txq:0'), txq('em0:0:txq:0'));
  assert.equal(sh(L.router.k, kstat, 'em0:0:rxq:0', 'em1:0:txq:0'), rxq('em0:0:rxq:0', 13) + txq('em1:0:txq:0'));
  assert.equal(sh(L.b.k, kstat, 'em0:0:rxq:0'), rxq('em0:0:rxq:0', 14));
  assert.equal(
    sh(L.router.k, ns, '-ss', '-p', 'ip'),
    'ip:\n\t102 total packets received\n\t102 packets forwarded\n\t102 input datagrams software-checksummed\n',
  );
  // Each queue is bounded: receive and transmit DMA rings, the output queue.
  assert.equal(L.router.nics[0]!.rxr[0]!.n, 256, 'em(4) receive ring');
  assert.equal(L.router.nics[1]!.txr[0]!.n, 512, 'em(4) transmit ring');
});

test('Interface Queue qdrops and Device Driver OACTIVE: a burst above the cable rate', () => {
  // The router's em1 runs at 100 Mbit/s; host a sends 2000 full-size
  // datagrams at 1 Gbit/s.
  const L = slideLab({ rate2: 100e6 });
  sh(L.b.k, sysctl, 'net.inet.icmp.errppslimit=0');
  const t0 = L.world.now;
  for (let i = 0; i < 2000; i++) L.world.at(t0 + i * FRAME_1G, () => void send(L.a.k, datagram(L.a.k, ip('198.51.100.20'), 17, 1500, 64, 7)));
  L.world.runUntil(t0 + 2000 * FRAME_1G);
  const r = L.router.k;
  // While the transmit ring is full: OACTIVE, the output queue full, drops counted.
  assert.equal(
    sh(r, ifconfig, 'em1'),
    'em1: flags=8c43<UP,BROADCAST,RUNNING,OACTIVE,SIMPLEX,MULTICAST> mtu 1500\n' +
      '\tlladdr 0c:c4:7a:78:f3:55\n' +
      '\tdescription: Intel I210\n' +
      '\tindex 3 priority 0 llprio 3\n' +
      '\tmedia: Ethernet autoselect (100baseTX full-duplex)\n' +
      '\tstatus: active\n' +
      '\tinet 198.51.100.3 netmask 0xffffff00 broadcast 198.51.100.255\n',
  );
  assert.equal(
    sh(r, kstat, 'em1:0:txq:0'),
    'em1:0:txq:0\n' +
      '         packets: 1157 packets\n' +
      '           bytes: 1748754 bytes\n' +
      '          qdrops: 836 packets\n' +
      '          errors: 0 packets\n' +
      '            qlen: 510 packets\n' +
      '         maxqlen: 511 packets\n' +
      '         oactive: true\n' +
      '        oactives: 149\n',
  );
  L.world.runFor(2e9);
  // Drained: OACTIVE gone, the drops stay counted; ip_forward counted the
  // ENOBUFS of every dropped datagram as not forwardable.
  assert.match(sh(r, ifconfig, 'em1'), /^em1: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n/);
  assert.equal(
    sh(r, kstat, 'em1:0:txq:0'),
    'em1:0:txq:0\n' +
      '         packets: 1158 packets\n' +
      '           bytes: 1750268 bytes\n' +
      '          qdrops: 843 packets\n' +
      '          errors: 0 packets\n' +
      '            qlen: 0 packets\n' +
      '         maxqlen: 511 packets\n' +
      '         oactive: false\n' +
      '        oactives: 652\n',
  );
  assert.equal(
    sh(r, ns, '-ss', '-p', 'ip'),
    'ip:\n\t2000 total packets received\n\t1157 packets forwarded\n\t843 packets not forwardable\n\t2000 input datagrams software-checksummed\n',
  );
  assert.match(sh(r, ns, '-I', 'em1', '-d'), /\nem1 +1500 +<Link> +0c:c4:7a:78:f3:55 +2 +0 +1158 +843 +0\n/);
});

test('Interface Queue qdrops on input: a busy softnet lets the input queue overflow', () => {
  // The router's softnet thread runs 10 ms late; 12000 small datagrams at
  // the 1 Gbit/s line rate pile up past ifiq_maxlen_drop (10240).
  const L = slideLab({ softnetLatency: 10e6 });
  sh(L.b.k, sysctl, 'net.inet.icmp.errppslimit=0');
  const t0 = L.world.now;
  for (let i = 0; i < 12000; i++) L.world.at(t0 + i * 672, () => void send(L.a.k, datagram(L.a.k, ip('198.51.100.20'), 17, 46, 64, i)));
  L.world.runFor(1e9);
  const r = L.router.k;
  assert.equal(
    sh(r, kstat, 'em0:0:rxq:0'),
    'em0:0:rxq:0\n' +
      '         packets: 12001 packets\n' +
      '           bytes: 720042 bytes\n' +
      '          fdrops: 0 packets\n' +
      '          qdrops: 1583 packets\n' +
      '          errors: 0 packets\n' +
      '            qlen: 0 packets\n' +
      '        enqueues: 58\n' +
      '        dequeues: 2\n',
  );
  // What the queue dropped never reached IP: 12000 datagrams and an ARP
  // request came in, 1583 were dropped in ifiq_input.
  assert.equal(
    sh(r, ns, '-ss', '-p', 'ip'),
    'ip:\n\t10417 total packets received\n\t10417 packets forwarded\n\t10417 input datagrams software-checksummed\n',
  );
});

test('Transmit Rings oactives: ix with 4 rings, flows hashed onto them (dmesg, kstat txq)', () => {
  const world = new World({ seed: 1 });
  const a = machine(world, 'a', [{ driver: 'ix', lladdr: '02:00:00:00:0a:00' }]);
  const r = machine(world, 'router', [
    { driver: 'ix', lladdr: 'a0:36:9f:e0:52:54', pci: { bus: 1, dev: 0, fn: 0 } },
    { driver: 'ix', lladdr: 'a0:36:9f:e0:52:55', pci: { bus: 1, dev: 0, fn: 1 } },
  ]);
  const b = machine(world, 'b', [{ driver: 'ix', lladdr: '02:00:00:00:0b:00' }]);
  plug(world, a.nics[0]!, r.nics[0]!, { rate: 10e9 });
  plug(world, r.nics[1]!, b.nics[0]!, { rate: 1e9 });
  sh(a.k, ifconfig, 'ix0', 'inet', '192.0.2.10/24');
  sh(a.k, route, '-q', 'add', 'default', '192.0.2.1');
  sh(r.k, ifconfig, 'ix0', 'inet', '192.0.2.1/24');
  sh(r.k, ifconfig, 'ix1', 'inet', '198.51.100.3/24');
  sh(b.k, ifconfig, 'ix0', 'inet', '198.51.100.20/24');
  sh(b.k, route, '-q', 'add', 'default', '198.51.100.3');
  sh(r.k, sysctl, 'net.inet.ip.forwarding=1');
  assert.equal(
    sh(r.k, dmesg),
    'ix0 at pci1 dev 0 function 0 "Intel X550T" rev 0x01, msix, 4 queues, address a0:36:9f:e0:52:54\n' +
      'ix1 at pci1 dev 0 function 1 "Intel X550T" rev 0x01, msix, 4 queues, address a0:36:9f:e0:52:55\n',
  );
  world.runFor(1e9);
  // 64 UDP flows at 10 Gbit/s into the router, out at 1 Gbit/s: RSS on ix0
  // gives each packet its flow id, which picks the transmit ring on ix1.
  const t0 = world.now;
  for (let i = 0; i < 3000; i++) world.at(t0 + i * 1240, () => void send(a.k, datagram(a.k, ip('198.51.100.20'), 17, 1500, 64, 1000 + (i % 64))));
  world.runUntil(t0 + 3000 * 1240);
  const txq = (n: number, packets: number, bytes: number, qdrops: number, qlen: number, oactives: number): string =>
    `ix1:0:txq:${n}\n` +
    `         packets: ${packets} packets\n` +
    `           bytes: ${bytes} bytes\n` +
    `          qdrops: ${qdrops} packets\n` +
    '          errors: 0 packets\n' +
    `            qlen: ${qlen} packets\n` +
    '         maxqlen: 255 packets\n' +
    '         oactive: true\n' +
    `        oactives: ${oactives}\n`;
  assert.equal(
    sh(r.k, kstat, 'ix1::txq:'),
    txq(0, 548, 826728, 170, 253, 20) + txq(1, 546, 826644, 184, 252, 21) + txq(2, 546, 826644, 185, 252, 21) + txq(3, 546, 826644, 185, 253, 21),
  );
  world.runFor(1e9);
  for (let n = 0; n < 4; n++) assert.match(sh(r.k, kstat, `ix1:0:txq:${n}`), /qlen: 0 packets\n.*\n {9}oactive: false\n/);
});
