/**
 * The node:net-like TCP half: createServer/createConnection Duplex
 * streams across a router in virtual time (echo of a large payload, end
 * and close on both sides, ECONNREFUSED as an 'error' with Node's fields,
 * backpressure), and the BSD-like API's poll over several descriptors
 * and SO_RCVTIMEO/SO_SNDTIMEO.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { threeHosts } from '../sys/netinet/lab.js';
import { threeHosts6 } from '../sys/netinet6/lab6.js';
import { netOf, runWorld, type NetSocket } from '../../src/lib/net.js';
import {
  Proc, SocketError, sleep, AF_INET, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET, SO_RCVTIMEO, SO_SNDTIMEO, SO_SNDBUF, POLLIN, POLLOUT,
} from '../../src/lib/socket.js';

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function collect(s: NetSocket): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  return new Promise((resolve, reject) => {
    s.once('end', () => resolve(Buffer.concat(parts)));
    s.once('error', reject);
  });
}

test('net: an echo server and a client writing 2 MB; both ends see end and close', async () => {
  const { world, a, b } = threeHosts(51);
  const na = netOf(a.k);
  const nb = netOf(b.k);
  const events: string[] = [];
  let serverSide: NetSocket | null = null;
  const server = nb.createServer((sock) => {
    serverSide = sock;
    sock.on('end', () => events.push('server end'));
    sock.on('close', () => events.push('server close'));
    sock.pipe(sock);
  });
  server.listen(7000);
  await runWorld(world, once(server, 'listening'));
  assert.deepEqual(server.address(), { address: '0.0.0.0', family: 'IPv4', port: 7000 });
  const payload = new Uint8Array(2 << 20).map((_, i) => (i * 7 + (i >> 11)) & 0xff);
  const c = na.createConnection({ host: '198.51.100.20', port: 7000 });
  // Written before the handshake completes: kept until connected, as node:net does.
  c.write(payload.subarray(0, 1000));
  c.end(payload.subarray(1000));
  const got = collect(c);
  const closed = once(c, 'close');
  await runWorld(world, once(c, 'connect'));
  assert.equal(c.remoteAddress, '198.51.100.20');
  assert.equal(c.remotePort, 7000);
  assert.equal(c.localAddress, '192.0.2.10');
  const echoed = await runWorld(world, got);
  await runWorld(world, closed);
  world.runFor(1e9);
  assert.equal(echoed.length, payload.length);
  assert.equal(sha(echoed), sha(payload));
  assert.ok(serverSide !== null);
  assert.deepEqual(events, ['server end', 'server close']);
  assert.equal(c.bytesWritten, payload.length);
  assert.equal(c.bytesRead, payload.length);
  server.close();
  world.runFor(200e9);
  assert.equal(a.k.inet.tcbtable.inpt_count, 0);
});

test('net: ECONNREFUSED is an error event with node:net fields, then close', async () => {
  const { world, a } = threeHosts(52);
  const c = netOf(a.k).createConnection({ host: '198.51.100.20', port: 9 });
  const err = once(c, 'error') as Promise<[Error & { code: string; syscall: string; address: string; port: number; errno: number }]>;
  let closed = false;
  c.on('close', () => (closed = true));
  const [e] = await runWorld(world, err);
  assert.equal(e.code, 'ECONNREFUSED');
  assert.equal(e.syscall, 'connect');
  assert.equal(e.address, '198.51.100.20');
  assert.equal(e.port, 9);
  assert.equal(e.message, 'connect ECONNREFUSED 198.51.100.20:9');
  assert.equal(e.errno, 61);
  world.runFor(1e6);
  await new Promise((r) => setImmediate(r));
  assert.equal(closed, true);
  assert.equal(c.destroyed, true);
});

test('net: backpressure: write() returns false while the peer does not read, drain when it does', async () => {
  const { world, a, b } = threeHosts(53);
  const nb = netOf(b.k);
  let peer: NetSocket | null = null;
  const server = nb.createServer((sock) => {
    peer = sock;
    sock.pause();
  });
  server.listen(7001);
  const c = netOf(a.k).createConnection({ host: '198.51.100.20', port: 7001 });
  await runWorld(world, once(c, 'connect'));
  const chunk = new Uint8Array(64 * 1024);
  let writes = 0;
  while (c.write(chunk)) writes++;
  assert.ok(writes < 64, `write() kept returning true (${writes})`);
  // The receiver's buffer and our send buffer fill; nothing drains while the peer is paused.
  await runWorld(world, sleep(world, 5e9));
  assert.ok(c.writableLength > 0, `writableLength ${c.writableLength} writes ${writes}`);
  const drained = once(c, 'drain');
  let seen = 0;
  assert.ok(peer !== null, 'no connection accepted');
  (peer as NetSocket).on('data', (d: Buffer) => (seen += d.length));
  (peer as NetSocket).resume();
  await runWorld(world, drained);
  assert.equal(c.writableLength, 0);
  c.end();
  await runWorld(world, once(peer as NetSocket, 'end'));
  assert.equal(seen, (writes + 1) * chunk.length);
  server.close();
});

test('net: IPv6 server on :: and a client to its address', async () => {
  const { world, a, b } = threeHosts6(54);
  const server = netOf(b.k).createServer((s) => s.end('hello6'));
  server.listen(7002, '::');
  await runWorld(world, once(server, 'listening'));
  assert.deepEqual(server.address(), { address: '::', family: 'IPv6', port: 7002 });
  const c = netOf(a.k).createConnection({ host: '2001:db8:2::20', port: 7002 });
  const got = await runWorld(world, collect(c));
  assert.equal(got.toString(), 'hello6');
  assert.equal(c.remoteAddress, '2001:db8:2::20');
  assert.equal(c.remoteFamily, 'IPv6');
});

test('poll over several descriptors: the ready ones, timeouts; SO_RCVTIMEO and SO_SNDTIMEO', async () => {
  const { world, a, b } = threeHosts(55);
  const pa = new Proc(a.k);
  const pb = new Proc(b.k);
  const u1 = pb.socket(AF_INET, SOCK_DGRAM);
  const u2 = pb.socket(AF_INET, SOCK_DGRAM);
  const u3 = pb.socket(AF_INET, SOCK_DGRAM);
  pb.bind(u1, { address: '*', port: 6001 });
  pb.bind(u2, { address: '*', port: 6002 });
  pb.bind(u3, { address: '*', port: 6003 });
  const fds = [u1, u2, u3].map((fd) => ({ fd, events: POLLIN }));
  // Nothing to read: a timed poll returns empty after its time.
  const t0 = world.now;
  assert.deepEqual(await runWorld(world, pb.poll(fds, 2e9)), []);
  assert.equal(world.now - t0, 2e9);
  const s = pa.socket(AF_INET, SOCK_DGRAM);
  const waiting = pb.poll(fds, -1);
  await runWorld(world, pa.sendto(s, 'x', { address: '198.51.100.20', port: 6002 }));
  assert.deepEqual(await runWorld(world, waiting), [{ fd: u2, revents: POLLIN }]);
  await runWorld(world, pa.sendto(s, 'y', { address: '198.51.100.20', port: 6003 }));
  world.runFor(1e9);
  assert.deepEqual(await runWorld(world, pb.poll(fds, 0)), [{ fd: u2, revents: POLLIN }, { fd: u3, revents: POLLIN }]);
  // Readable and writable at once.
  assert.deepEqual(await runWorld(world, pb.poll([{ fd: u3, events: POLLIN | POLLOUT }], 0)), [{ fd: u3, revents: POLLIN | POLLOUT }]);
  // SO_RCVTIMEO: a blocking recv gives up with EWOULDBLOCK after the timeout.
  pb.setsockopt(u1, SOL_SOCKET, SO_RCVTIMEO, 3e9);
  assert.equal(pb.getsockopt(u1, SOL_SOCKET, SO_RCVTIMEO), 3e9);
  const t1 = world.now;
  await assert.rejects(runWorld(world, pb.recv(u1)), (e: unknown) => e instanceof SocketError && e.code === 'EWOULDBLOCK');
  assert.equal(world.now - t1, 3e9);
  // SO_SNDTIMEO: a blocking send into a full send buffer returns what it wrote when the time is up.
  const srv = pb.socket(AF_INET, SOCK_STREAM);
  pb.bind(srv, { address: '*', port: 6100 });
  pb.listen(srv);
  const c = pa.socket(AF_INET, SOCK_STREAM);
  pa.setsockopt(c, SOL_SOCKET, SO_SNDBUF, 8192);
  await runWorld(world, pa.connect(c, { address: '198.51.100.20', port: 6100 }));
  pa.setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, 1e9);
  const n = await runWorld(world, pa.send(c, new Uint8Array(4 << 20)));
  assert.ok(n > 0 && n < 4 << 20, `sent ${n}`);
});
