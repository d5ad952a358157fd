import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capture } from '../../../src/lib/io.js';
import { arpTool, sec2str } from '../../../src/usr.sbin/arp/arp.js';
import { pingTool } from '../../../src/sbin/ping/ping.js';
import { threeHosts } from '../../sys/netinet/lab.js';

test('sec2str', () => {
  assert.equal(sec2str(5), '5s');
  assert.equal(sec2str(1183), '19m43s');
  assert.equal(sec2str(3600), '1h0m0s');
  assert.equal(sec2str(90061), '1d1h1m1s');
});

test('arp -an, arp host, arp -d', async () => {
  const { a, r } = threeHosts();
  await capture(pingTool(a.k), ['-c', '1', '198.51.100.20']);
  await capture(pingTool(r.k), ['-c', '1', '-w', '1', '198.51.100.99']);
  const arp = arpTool(r.k);
  let c = await capture(arp, ['-an']);
  assert.equal(
    c.stdout,
    'Host            Ethernet Address   Netif Expire    Flags\n' +
      '192.0.2.1       02:00:00:00:00:02    em0 permanent l\n' +
      '192.0.2.10      02:00:00:00:00:01    em0 19m58s    \n' +
      '198.51.100.1    02:00:00:00:00:03    em1 permanent l\n' +
      '198.51.100.20   02:00:00:00:00:04    em1 19m58s    \n' +
      '198.51.100.99   (incomplete)         em1 expired   \n',
  );
  c = await capture(arp, ['-n', '198.51.100.20']);
  assert.equal(c.stdout, 'Host            Ethernet Address   Netif Expire    Flags\n198.51.100.20   02:00:00:00:00:04    em1 19m58s    \n');
  c = await capture(arp, ['-n', '203.0.113.1']);
  assert.equal(c.status, 1);
  assert.equal(c.stdout, 'Host            Ethernet Address   Netif Expire    Flags\n203.0.113.1     no entry\n');
  c = await capture(arp, ['-d', '198.51.100.20']);
  assert.equal(c.stdout, '198.51.100.20 (198.51.100.20) deleted\n');
  c = await capture(arp, ['-d', '198.51.100.20']);
  assert.equal(c.stderr, 'arp: delete: cannot locate 198.51.100.20\n');
  c = await capture(arp, ['-d', '203.0.113.1']);
  assert.equal(c.stderr, 'arp: 203.0.113.1: No such process\n');
  c = await capture(arp, ['-ad']);
  assert.equal(c.stdout, '192.0.2.10 (192.0.2.10) deleted\n198.51.100.99 (198.51.100.99) deleted\n');
  c = await capture(arp, ['-an']);
  assert.equal(c.stdout.split('\n').length, 4);
  c = await capture(arp, []);
  assert.equal(c.status, 1);
  assert.match(c.stderr, /^usage: arp \[-adn\]/);
});
