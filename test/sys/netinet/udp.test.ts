import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts } from './lab.js';
import {
  Proc, runWorld, AF_INET, SOCK_DGRAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, SO_BROADCAST, SocketError,
} from '../../../src/lib/socket.js';
import { netstat } from '../../../src/usr.bin/netstat/main.js';
import { StringOutput } from '../../../src/lib/io.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import { sh } from '../../lab/helpers.js';

function udpstat(k: Kernel, name: string): number {
  return k.stats.udpstat.value(name);
}

function ns(k: Kernel, argv: string[]): string {
  const out = new StringOutput();
  const err = new StringOutput();
  const st = netstat(k, argv, { stdout: out, stderr: err });
  assert.equal(err.text(), '');
  assert.equal(st, 0);
  return out.text();
}


test('UDP echo both ways through a router, payload compared', async () => {
  const { world, a, b } = threeHosts(1);
  const pa = new Proc(a.k);
  const pb = new Proc(b.k);
  const server = pb.socket(AF_INET, SOCK_DGRAM);
  pb.bind(server, { address: '*', port: 7 });
  const client = pa.socket(AF_INET, SOCK_DGRAM);
  const payload = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
  const echo = (async () => {
    const r = await pb.recvfrom(server);
    await pb.sendto(server, r.data, r.addr);
    return r.addr;
  })();
  const got = await runWorld(world, (async () => {
    await pa.sendto(client, payload, { address: '198.51.100.20', port: 7 });
    return pa.recvfrom(client);
  })());
  const from = await echo;
  assert.deepEqual(got.data, payload);
  assert.deepEqual(got.addr, { address: '198.51.100.20', port: 7 });
  assert.equal(from.address, '192.0.2.10');
  assert.equal(from.port, pa.getsockname(client).port);
  assert.equal(udpstat(a.k, 'udps_opackets'), 1);
  assert.equal(udpstat(a.k, 'udps_ipackets'), 1);
  assert.equal(udpstat(b.k, 'udps_ipackets'), 1);
  assert.equal(udpstat(b.k, 'udps_opackets'), 1);
  assert.equal(udpstat(b.k, 'udps_inswcsum'), 1);
  assert.equal(udpstat(a.k, 'udps_badsum'), 0);
});

function icmpstat(k: Kernel, name: string, i = 0): number {
  return k.stats.icmpstat.value(name, i);
}

test('port unreachable: ICMP error rate limited by icmp_error, ECONNREFUSED on the connected socket', async () => {
  const { world, a, b } = threeHosts(2);
  b.k.sysctl.set('net.inet.icmp.errppslimit', 5);
  const pa = new Proc(a.k);
  const s = pa.socket(AF_INET, SOCK_DGRAM);
  await runWorld(world, pa.connect(s, { address: '198.51.100.20', port: 9999 }));
  for (let i = 0; i < 8; i++) await pa.send(s, 'x');
  world.runFor(100e6);
  assert.equal(udpstat(b.k, 'udps_ipackets'), 8);
  assert.equal(udpstat(b.k, 'udps_noport'), 8);
  assert.equal(udpstat(b.k, 'udps_pcbhashmiss'), 8);
  assert.equal(icmpstat(b.k, 'icps_error'), 8);
  assert.equal(icmpstat(b.k, 'icps_toofreq'), 3);
  assert.equal(icmpstat(a.k, 'icps_inhist', 3), 5);
  // The error reached the socket through udp_ctlinput.
  await assert.rejects(runWorld(world, pa.recv(s)), (e: SocketError) => e.code === 'ECONNREFUSED' && e.message === 'recvfrom: Connection refused');
  assert.ok(ns(b.k, ['-s', '-p', 'udp']).includes('\t8 dropped due to no socket\n\t0 broadcast/multicast datagrams dropped due to no socket\n'));
});

test('broadcast: every SO_REUSEPORT socket on the port gets a copy; none: udps_noportbcast; SO_BROADCAST needed to send', async () => {
  const { world, a, r } = threeHosts(3);
  const pa = new Proc(a.k);
  const pr = new Proc(r.k);
  const s1 = pr.socket(AF_INET, SOCK_DGRAM);
  const s2 = pr.socket(AF_INET, SOCK_DGRAM);
  for (const s of [s1, s2]) {
    pr.setsockopt(s, SOL_SOCKET, SO_REUSEPORT, 1);
    pr.bind(s, { address: '*', port: 520 });
  }
  const c = pa.socket(AF_INET, SOCK_DGRAM);
  await assert.rejects(pa.sendto(c, 'hello', { address: '192.0.2.255', port: 520 }), (e: SocketError) => e.code === 'EACCES');
  pa.setsockopt(c, SOL_SOCKET, SO_BROADCAST, 1);
  await pa.sendto(c, 'hello', { address: '192.0.2.255', port: 520 });
  const got = await runWorld(world, Promise.all([pr.recvfrom(s1), pr.recvfrom(s2)]));
  for (const g of got) {
    assert.equal(new TextDecoder().decode(g.data), 'hello');
    assert.equal(g.addr.address, '192.0.2.10');
  }
  await pa.sendto(c, 'nobody', { address: '255.255.255.255', port: 521 });
  world.runFor(100e6);
  assert.equal(udpstat(r.k, 'udps_noportbcast'), 1);
  assert.equal(udpstat(r.k, 'udps_noport'), 0);
  assert.equal(icmpstat(r.k, 'icps_error'), 0);
  assert.equal(udpstat(r.k, 'udps_ipackets'), 2);
});

test('full socket buffer: datagrams dropped in udps_fullsock, netstat -ss and -an show it', async () => {
  const { world, a, b } = threeHosts(4);
  const pa = new Proc(a.k);
  const pb = new Proc(b.k);
  const sink = pb.socket(AF_INET, SOCK_DGRAM);
  pb.bind(sink, { address: '*', port: 9 });
  const c = pa.socket(AF_INET, SOCK_DGRAM);
  const data = new Uint8Array(100);
  // The first datagram resolves ARP (whose hold queue keeps only a few packets).
  await pa.sendto(c, data, { address: '198.51.100.20', port: 9 });
  world.runFor(1e9);
  for (let i = 1; i < 50; i++) await pa.sendto(c, data, { address: '198.51.100.20', port: 9 });
  world.runFor(1e9);
  // 41600-byte buffer, 83200 bytes of mbuf storage: each 100-byte datagram costs
  // 116 bytes of sb_cc (with its sockaddr_in) and 2560 of mbcnt: 33 fit.
  assert.equal(udpstat(b.k, 'udps_fullsock'), 17);
  assert.equal(pb.sock(sink).so_rcv.sb_cc, 33 * 116);
  assert.equal(ns(b.k, ['-ss', '-p', 'udp']),
    'udp:\n\t50 datagrams received\n\t50 input packets software-checksummed\n\t17 dropped due to full socket buffers\n\t33 delivered\n\t50 missed PCB cache\n');
  assert.equal(ns(a.k, ['-ss', '-p', 'udp']), 'udp:\n\t50 output packets software-checksummed\n\t50 datagrams output\n');
  assert.equal(ns(b.k, ['-an', '-a']),
    'Active Internet connections (including servers)\n' +
    'Proto   Recv-Q Send-Q  Local Address          Foreign Address       \n' +
    'udp       3828      0  *.9                    *.*                   \n');
  // Reading makes room again.
  const r = await runWorld(world, pb.recvfrom(sink));
  assert.equal(r.data.length, 100);
  assert.equal(pb.sock(sink).so_rcv.sb_cc, 32 * 116);
});

test('bind: conflicts, SO_REUSEADDR and SO_REUSEPORT, owners, reserved ports, foreign addresses', () => {
  const { a } = threeHosts(5);
  const root = new Proc(a.k);
  const bind = (p: Proc, addr: string, port: number, opts: number[] = []): string => {
    const s = p.socket(AF_INET, SOCK_DGRAM);
    for (const o of opts) p.setsockopt(s, SOL_SOCKET, o, 1);
    try {
      p.bind(s, { address: addr, port });
      return 'ok';
    } catch (e) {
      return (e as SocketError).code;
    }
  };
  assert.equal(bind(root, '*', 5000), 'ok');
  assert.equal(bind(root, '*', 5000), 'EADDRINUSE');
  assert.equal(bind(root, '192.0.2.10', 5000), 'EADDRINUSE');
  assert.equal(bind(root, '192.0.2.10', 5000, [SO_REUSEADDR]), 'ok');
  assert.equal(bind(root, '*', 5000, [SO_REUSEADDR]), 'EADDRINUSE');
  assert.equal(bind(root, '*', 6000, [SO_REUSEPORT]), 'ok');
  assert.equal(bind(root, '*', 6000, [SO_REUSEPORT]), 'ok');
  assert.equal(bind(root, '*', 6000), 'EADDRINUSE');
  const alice = new Proc(a.k, { uid: 1000 });
  const bob = new Proc(a.k, { uid: 1001 });
  assert.equal(bind(alice, '*', 7000, [SO_REUSEPORT]), 'ok');
  assert.equal(bind(alice, '*', 7000, [SO_REUSEPORT]), 'ok');
  assert.equal(bind(bob, '*', 7000, [SO_REUSEPORT]), 'EADDRINUSE');
  assert.equal(bind(alice, '*', 53), 'EACCES');
  assert.equal(bind(root, '*', 53), 'ok');
  assert.equal(bind(root, '198.51.100.20', 8000), 'EADDRNOTAVAIL');
  assert.equal(bind(root, '192.0.2.255', 8000), 'ok');
  const s = root.socket(AF_INET, SOCK_DGRAM);
  root.bind(s, { address: '*', port: 0 });
  assert.throws(() => root.bind(s, { address: '*', port: 0 }), (e: SocketError) => e.code === 'EINVAL');
});

test('ephemeral ports come from the kernel random stream: same seed, same ports', () => {
  const ports = (seed: number): number[] => {
    const { a } = threeHosts(seed);
    const p = new Proc(a.k);
    const out: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = p.socket(AF_INET, SOCK_DGRAM);
      p.bind(s, { address: '*', port: 0 });
      out.push(p.getsockname(s).port);
    }
    return out;
  };
  const x = ports(11);
  assert.deepEqual(ports(11), x);
  assert.notDeepEqual(ports(12), x);
  for (const port of x) assert.ok(port >= 1024 && port <= 49151, `${port}`);
});

test('netstat -an, -l, -A with UDP sockets (golden)', async () => {
  const { world, a } = threeHosts(6);
  const p = new Proc(a.k);
  const s1 = p.socket(AF_INET, SOCK_DGRAM);
  p.bind(s1, { address: '*', port: 514 });
  const s2 = p.socket(AF_INET, SOCK_DGRAM);
  p.bind(s2, { address: '192.0.2.10', port: 5000 });
  const s3 = p.socket(AF_INET, SOCK_DGRAM);
  await runWorld(world, p.connect(s3, { address: '198.51.100.20', port: 53 }));
  const s4 = p.socket(AF_INET, SOCK_DGRAM);
  await runWorld(world, p.connect(s4, { address: '198.51.100.20', port: 123 }));
  const port3 = p.getsockname(s3).port;
  const port4 = p.getsockname(s4).port;
  const c = (s: string): string => s.padEnd(22);
  assert.equal(ns(a.k, ['-n']),
    'Active Internet connections\n' +
    'Proto   Recv-Q Send-Q  Local Address          Foreign Address       \n' +
    `udp          0      0  ${c(`192.0.2.10.${port4}`)} ${c('198.51.100.20.123')}\n` +
    `udp          0      0  ${c(`192.0.2.10.${port3}`)} ${c('198.51.100.20.53')}\n`);
  assert.equal(ns(a.k, ['-a']),
    'Active Internet connections (including servers)\n' +
    'Proto   Recv-Q Send-Q  Local Address          Foreign Address       \n' +
    `udp          0      0  ${c(`192.0.2.10.${port4}`)} ${c('198.51.100.20.ntp')}\n` +
    `udp          0      0  ${c(`192.0.2.10.${port3}`)} ${c('198.51.100.20.domain')}\n` +
    `udp          0      0  ${c('192.0.2.10.5000')} ${c('*.*')}\n` +
    `udp          0      0  ${c('*.syslog')} ${c('*.*')}\n`);
  assert.equal(ns(a.k, ['-ln']),
    'Active Internet connections (only servers)\n' +
    'Proto   Recv-Q Send-Q  Local Address          Foreign Address       \n' +
    `udp          0      0  ${c('192.0.2.10.5000')} ${c('*.*')}\n` +
    `udp          0      0  ${c('*.514')} ${c('*.*')}\n`);
  const A = ns(a.k, ['-Aan', '-p', 'udp']).split('\n');
  assert.equal(A[1], 'PCB                Proto   Recv-Q Send-Q  Local Address      Foreign Address   ');
  assert.match(A[5]!, /^0xfffffd80[0-9a-f]{8} udp {10}0 {6}0 {2}\*\.514 {14}\*\.\* {15}$/);
  assert.equal(ns(a.k, ['-an', '-p', 'tcp']), '');
  assert.equal(ns(a.k, ['-an', '-f', 'inet6']), '');
  p.close(s3);
  p.close(s4);
  assert.equal(ns(a.k, ['-n']), '');
});

test('a connected UDP socket to an on-link host without an ARP entry: in_pcbconnect caches the cloned host route, arpresolve asks and holds the datagram', async () => {
  const r = await sh([
    'router: echo hi >m', 'client: nc -ul 9 >got &', 'router: tcpdump -ni em0 &',
    'router: nc -u -w 1 10.0.1.2 9 <m', 'router: sleep 1', 'client: cat got', 'router: arp -an | grep 10.0.1.2',
  ].join('\n'));
  assert.ok(r.out.includes(
    '00:00:11.000000 arp who-has 10.0.1.2 tell 10.0.1.1\n' +
    '00:00:11.000125 arp reply 10.0.1.2 is-at 0c:c4:7a:01:00:02\n' +
    '00:00:11.000125 10.0.1.1.23521 > 10.0.1.2.9: udp 3\n'), r.out);
  assert.ok(r.out.endsWith('hi\n10.0.1.2        0c:c4:7a:01:00:02    em0 19m58s    \n'), r.out);
  const router = r.shell.lab.machines.get('router')!.k;
  const client = r.shell.lab.machines.get('client')!.k;
  assert.equal(router.inet.arp.stats.value('arps_noinfo'), 0);
  assert.equal(router.inet.arp.stats.value('arps_resolved'), 1);
  assert.equal(udpstat(router, 'udps_opackets'), 1);
  assert.equal(udpstat(client, 'udps_ipackets'), 1);
  assert.equal(udpstat(client, 'udps_noport'), 0);
  // nc -uvz from a fresh lab: its probes reach the host, no error comes back.
  const z = await sh('router: nc -uvz 10.0.1.2 9');
  assert.equal(z.err, 'Connection to 10.0.1.2 9 port [udp/discard] succeeded!\n');
});
