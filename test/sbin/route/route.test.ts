import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capture } from '../../../src/lib/io.js';
import { routeTool, inet_net_pton } from '../../../src/sbin/route/route.js';
import { pingTool } from '../../../src/sbin/ping/ping.js';
import { threeHosts } from '../../sys/netinet/lab.js';

test('inet_net_pton as route reads destinations', () => {
  assert.deepEqual(inet_net_pton('192.0.2.0'), [0xc0000200, 32]);
  assert.deepEqual(inet_net_pton('10'), [0x0a000000, 8]);
  assert.deepEqual(inet_net_pton('10.1'), [0x0a010000, 16]);
  assert.deepEqual(inet_net_pton('203.0.113/24'), [0xcb007100, 24]);
  assert.equal(inet_net_pton('bogus'), null);
});

test('route add, get, show, delete, flush', async () => {
  const { a } = threeHosts();
  const rt = routeTool(a.k);
  let c = await capture(rt, ['-n', 'add', '203.0.113.0/24', '192.0.2.1']);
  assert.equal(c.stdout, 'add net 203.0.113.0/24: gateway 192.0.2.1\n');
  c = await capture(rt, ['-n', 'add', '203.0.113.0/24', '192.0.2.1']);
  assert.equal(c.status, 1);
  assert.equal(c.stdout, 'add net 203.0.113.0/24: gateway 192.0.2.1: File exists\n');
  c = await capture(rt, ['-n', 'add', '-host', '203.0.113.7', '198.51.100.77']);
  assert.equal(c.stdout, 'add host 203.0.113.7: gateway 198.51.100.77: Network is unreachable\n');
  await capture(pingTool(a.k), ['-c', '1', '192.0.2.1']);
  c = await capture(rt, ['-n', 'get', '203.0.113.9']);
  assert.equal(
    c.stdout,
    '   route to: 203.0.113.9\n' +
      'destination: 203.0.113.0\n' +
      '       mask: 255.255.255.0\n' +
      '    gateway: 192.0.2.1\n' +
      '  interface: em0\n' +
      ' if address: 192.0.2.10\n' +
      '   priority: 8 (static)\n' +
      '      flags: <UP,GATEWAY,DONE,STATIC>\n' +
      '     use       mtu    expire\n' +
      '       0         0         0 \n',
  );
  c = await capture(rt, ['-n', 'get', '192.0.2.1']);
  assert.match(c.stdout, /^ {3}route to: 192\.0\.2\.1\ndestination: 192\.0\.2\.1\n {2}interface: em0\n if address: 192\.0\.2\.10\n {3}priority: 3 \(\)\n {6}flags: <UP,HOST,DONE,LLINFO,CLONED,CACHED>\n {5}use {7}mtu {4}expire\n +\d+ +0 +1200 \n$/);
  c = await capture(rt, ['-n', 'show']);
  assert.match(c.stdout, /\n203\.0\.113\/24 {7}192\.0\.2\.1 {10}UGS {8}0 {8}0 {5}- {5}8 em0 {2}\n/);
  c = await capture(rt, ['-n', 'delete', '203.0.113.0/24']);
  assert.equal(c.stdout, 'delete net 203.0.113.0/24\n');
  c = await capture(rt, ['-n', 'delete', '203.0.113.0/24']);
  assert.equal(c.stdout, 'delete net 203.0.113.0/24: not in table\n');
  c = await capture(rt, ['-n', 'flush']);
  assert.equal(c.stdout, 'default              192.0.2.1            done\n192.0.2.1            02:00:00:00:00:02    done\n');
  c = await capture(rt, ['-n', 'get', '198.51.100.20']);
  assert.equal(c.stdout, 'get host 198.51.100.20: not in table\n');
  c = await capture(rt, ['bogus']);
  assert.equal(c.stderr, 'route: botched keyword: bogus\nusage: route [-dnqtv] [-T rtable] command [[modifier ...] arg ...]\n');
});

test('route add: flag modifiers and a bad keyword', async () => {
  const { a } = threeHosts();
  const rt = routeTool(a.k);
  let c = await capture(rt, ['-n', 'add', '-blackhole', '-proto2', '203.0.113.0/24', '192.0.2.1']);
  assert.equal(c.status, 0);
  c = await capture(rt, ['-n', 'get', '203.0.113.1']);
  assert.match(c.stdout, /flags: <UP,GATEWAY,DONE,STATIC,BLACKHOLE,PROTO2>\n/);
  c = await capture(rt, ['-n', 'add', '-reject', '-host', '203.0.113.200', '192.0.2.1']);
  assert.equal(c.status, 0);
  c = await capture(rt, ['-n', 'get', '203.0.113.200']);
  assert.match(c.stdout, /flags: <UP,GATEWAY,HOST,REJECT,DONE,STATIC>\n/);
  c = await capture(rt, ['-n', 'add', '-bogus', '203.0.113.0/24', '192.0.2.1']);
  assert.equal(c.status, 1);
  assert.equal(c.stderr.split('\n')[0], 'route: botched keyword: bogus');
});
