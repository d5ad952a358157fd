import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { threeHosts } from '../sys/netinet/lab.js';
import { netOf, runWorld, type RemoteInfo } from '../../src/lib/net.js';

test('dgram-like UDP sockets: echo server and client across a router', async () => {
  const { world, a, b } = threeHosts(31);
  const na = netOf(a.k);
  const nb = netOf(b.k);
  const server = nb.createSocket('udp4', (msg, rinfo) => {
    server.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address);
  });
  server.bind(4000);
  const client = na.createSocket('udp4');
  const got = once(client, 'message') as Promise<[Buffer, RemoteInfo]>;
  client.send('ping', 4000, '198.51.100.20');
  const [msg, rinfo] = await runWorld(world, got);
  assert.equal(msg.toString(), 'echo:ping');
  assert.deepEqual(rinfo, { address: '198.51.100.20', family: 'IPv4', port: 4000, size: 9 });
  assert.equal(server.address().port, 4000);
  assert.equal(server.address().address, '0.0.0.0');
  const cport = client.address().port;
  assert.ok(cport >= 1024 && cport <= 49151);
  client.close();
  server.close();
  world.runFor(1e9);
  assert.equal(a.k.inet.udbtable.inpt_count, 0);
  assert.equal(b.k.inet.udbtable.inpt_count, 0);
});

test('dgram-like: connect, setBroadcast, bind errors as events', async () => {
  const { world, a, r } = threeHosts(32);
  const na = netOf(a.k);
  const nr = netOf(r.k);
  const l = nr.createSocket({ type: 'udp4', reuseAddr: true });
  l.bind(9999);
  const c = na.createSocket('udp4');
  c.setBroadcast(true);
  const got = once(l, 'message') as Promise<[Buffer, RemoteInfo]>;
  c.send('all', 9999, '192.0.2.255');
  const [m] = await runWorld(world, got);
  assert.equal(m.toString(), 'all');
  const dup = nr.createSocket('udp4');
  const err = once(dup, 'error') as Promise<[Error & { code: string }]>;
  dup.bind(9999);
  const [e] = await err;
  assert.equal(e.code, 'EADDRINUSE');
  const cc = na.createSocket('udp4');
  const connected = once(cc, 'connect');
  cc.connect(9999, '192.0.2.1');
  await runWorld(world, connected);
  assert.deepEqual(cc.remoteAddress(), { address: '192.0.2.1', family: 'IPv4', port: 9999 });
});
