import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts, echoRequest, send, ip, ipstat, icmpstat } from './lab.js';
import { ICMP_ECHO, ICMP_ECHOREPLY } from '../../../src/wire/icmp.js';

test('hostA pings hostB through the router', () => {
  const { world, a, r, b } = threeHosts();
  const replies: number[] = [];
  a.k.inet.icmpListeners.add((buf, off, _len, hlen) => {
    if (buf[off + hlen] === ICMP_ECHOREPLY) replies.push(world.now);
  });
  assert.equal(send(a.k, echoRequest(a.k, ip('198.51.100.20'))), 0);
  world.runFor(1e9);
  assert.equal(replies.length, 1);
  assert.equal(ipstat(r.k, 'ips_forward'), 2);
  assert.equal(ipstat(b.k, 'ips_delivered'), 1);
  assert.equal(icmpstat(b.k, 'icps_inhist', ICMP_ECHO), 1);
  assert.equal(icmpstat(b.k, 'icps_outhist', ICMP_ECHOREPLY), 1);
  assert.equal(icmpstat(a.k, 'icps_inhist', ICMP_ECHOREPLY), 1);
});
