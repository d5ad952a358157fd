import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts, host, wire, ip } from './lab.js';
import { World } from '../../../src/sys/kern/kern_clock.js';
import {
  Proc, runWorld, AF_INET, SOCK_DGRAM, SOL_SOCKET, SO_REUSEADDR, SO_REUSEPORT, SO_RCVBUF, SO_BROADCAST, SocketError,
} from '../../../src/lib/socket.js';
import { netstat } from '../../../src/usr.bin/netstat/main.js';
import { StringOutput } from '../../../src/lib/io.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';

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
