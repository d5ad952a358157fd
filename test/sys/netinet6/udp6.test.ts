import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts6, icmp6stat } from './lab6.js';
import { Proc, runWorld, AF_INET6, SOCK_DGRAM, SO_RCVBUF, SOL_SOCKET, SocketError } from '../../../src/lib/socket.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';

function udpstat(k: Kernel, name: string): number {
  return k.stats.udpstat.value(name);
}

test('UDP over IPv6: echo through the router, payload compared, source chosen by the kernel', async () => {
  const { world, a, b } = threeHosts6(1);
  const pa = new Proc(a.k);
  const pb = new Proc(b.k);
  const server = pb.socket(AF_INET6, SOCK_DGRAM);
  pb.bind(server, { address: '*', port: 7 });
  const client = pa.socket(AF_INET6, SOCK_DGRAM);
  const payload = new Uint8Array(1200).map((_, i) => (i * 13) & 0xff);
  const echo = (async () => {
    const r = await pb.recvfrom(server);
    await pb.sendto(server, r.data, r.addr);
    return r.addr;
  })();
  const got = await runWorld(world, (async () => {
    await pa.sendto(client, payload, { address: '2001:db8:2::20', port: 7 });
    return pa.recvfrom(client);
  })());
  const from = await echo;
  assert.deepEqual(got.data, payload);
  assert.deepEqual(got.addr, { address: '2001:db8:2::20', port: 7 });
  assert.equal(from.address, '2001:db8:1::10');
  assert.equal(from.port, pa.getsockname(client).port);
  assert.equal(udpstat(a.k, 'udps_opackets'), 1);
  assert.equal(udpstat(a.k, 'udps_ipackets'), 1);
  assert.equal(udpstat(b.k, 'udps_ipackets'), 1);
  assert.equal(udpstat(b.k, 'udps_inswcsum'), 1);
  assert.equal(udpstat(a.k, 'udps_badsum'), 0);
  assert.equal(udpstat(b.k, 'udps_badsum'), 0);
});

test('UDP over IPv6: connected socket, port unreachable comes back as ICMPv6 and ECONNREFUSED', async () => {
  const { world, a, b } = threeHosts6(2);
  const pa = new Proc(a.k);
  const s = pa.socket(AF_INET6, SOCK_DGRAM);
  await runWorld(world, pa.connect(s, { address: '2001:db8:2::20', port: 9999 }));
  assert.equal(pa.getsockname(s).address, '2001:db8:1::10');
  await pa.send(s, 'x');
  world.runFor(100e6);
  assert.equal(udpstat(b.k, 'udps_noport'), 1);
  assert.equal(udpstat(b.k, 'udps_pcbhashmiss'), 1);
  assert.equal(icmp6stat(b.k, 'icp6s_outhist', 1), 1);
  assert.equal(icmp6stat(a.k, 'icp6s_inhist', 1), 1);
  await assert.rejects(runWorld(world, pa.recv(s)), (e: SocketError) => e.code === 'ECONNREFUSED');
});

test('UDP over IPv6: a full receive buffer drops datagrams (udps_fullsock)', async () => {
  const { world, a, b } = threeHosts6(3);
  const pa = new Proc(a.k);
  const pb = new Proc(b.k);
  const server = pb.socket(AF_INET6, SOCK_DGRAM);
  pb.setsockopt(server, SOL_SOCKET, SO_RCVBUF, 2048);
  pb.bind(server, { address: '2001:db8:2::20', port: 5000 });
  const client = pa.socket(AF_INET6, SOCK_DGRAM);
  await runWorld(world, (async () => {
    for (let i = 0; i < 5; i++) await pa.sendto(client, new Uint8Array(900), { address: '2001:db8:2::20', port: 5000 });
  })());
  world.runFor(100e6);
  assert.equal(udpstat(b.k, 'udps_ipackets'), 5);
  // 900 bytes + a 28-byte sockaddr_in6 each: two fit in 2048.
  assert.equal(udpstat(b.k, 'udps_fullsock'), 3);
  const r = await runWorld(world, pb.recvfrom(server));
  assert.equal(r.data.length, 900);
  assert.equal(r.addr.address, '2001:db8:1::10');
});
