/**
 * Slides "Protocol Statistics Counter" and "Netstat Counter" (netstat -ss
 * on a router) and "IP Forwarding": the ip counters the talk shows, moved
 * by real traffic through a router built with ifconfig, route and sysctl.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slideLab, sh, datagram, send, ip } from './lab.js';
import { ping } from '../../src/sbin/ping/ping.js';
import { sysctl } from '../../src/sbin/sysctl/sysctl.js';
import { netstat } from '../../src/usr.bin/netstat/main.js';
import type { KTool } from './lab.js';
import { StringOutput } from '../../src/lib/io.js';

const ns = netstat as KTool;

test('Protocol Statistics Counter: netstat -ss ip part on a router after traffic', () => {
  const L = slideLab();
  const r = L.router.k;
  // Through the router, to the router, an unknown protocol to the router,
  // and a class E destination that may not be forwarded.
  sh(L.a.k, ping, '-c', '3', '198.51.100.20');
  sh(L.a.k, ping, '-c', '2', '192.0.2.1');
  assert.equal(send(L.a.k, datagram(L.a.k, ip('192.0.2.1'), 253)), 0);
  assert.equal(send(L.a.k, datagram(L.a.k, ip('240.0.0.1'), 17)), 0);
  L.world.runFor(1e9);
  assert.equal(
    sh(r, ns, '-ss', '-p', 'ip'),
    'ip:\n' +
      '\t10 total packets received\n' +
      '\t2 packets for this host\n' +
      '\t1 packet for unknown/unsupported protocol\n' +
      '\t6 packets forwarded\n' +
      '\t1 packet not forwardable\n' +
      '\t3 packets sent from this host\n' +
      '\t10 input datagrams software-checksummed\n',
  );
  // The same lines open the full netstat -ss, sections follow in OpenBSD's order.
  const all = sh(r, ns, '-ss');
  assert.ok(all.startsWith(sh(r, ns, '-ss', '-p', 'ip') + 'icmp:\n'));
  // -s prints every ip counter, zeros too: 36 lines under the header.
  assert.equal(sh(r, ns, '-s', '-p', 'ip').split('\n').length - 2, 36);
});

test('IP Forwarding: net.inet.ip.forwarding off then on, the exact counters', () => {
  const L = slideLab({ forwarding: false });
  const r = L.router.k;
  const out = new StringOutput();
  const err = new StringOutput();
  assert.equal(ping(L.a.k, ['-c', '2', '-w', '1', '198.51.100.20'], { stdout: out, stderr: err }), 1);
  assert.match(out.text(), /2 packets transmitted, 0 packets received, 100.0% packet loss\n$/);
  assert.equal(
    sh(r, ns, '-ss', '-p', 'ip'),
    'ip:\n\t2 total packets received\n\t2 packets not forwardable\n\t2 input datagrams software-checksummed\n',
  );
  assert.equal(sh(r, sysctl, 'net.inet.ip.forwarding=1'), 'net.inet.ip.forwarding: 0 -> 1\n');
  sh(L.a.k, ping, '-c', '2', '198.51.100.20');
  assert.equal(
    sh(r, ns, '-ss', '-p', 'ip'),
    'ip:\n\t6 total packets received\n\t4 packets forwarded\n\t2 packets not forwardable\n\t6 input datagrams software-checksummed\n',
  );
  // Hosts count what they sent and received themselves.
  assert.equal(
    sh(L.b.k, ns, '-ss', '-p', 'ip'),
    'ip:\n\t2 total packets received\n\t2 packets for this host\n\t2 packets sent from this host\n\t2 input datagrams software-checksummed\n',
  );
});
