import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts6 } from './lab6.js';
import { ping } from '../../../src/sbin/ping/ping.js';
import { ping6 } from '../../../src/sbin/ping6/ping6.js';
import { StringOutput } from '../../../src/lib/io.js';

test('ping -6 runs ping6 (OpenBSD selects IPv6 by the name ping6; -6 is the same here)', () => {
  const runs: string[] = [];
  for (const tool of ['ping -6', 'ping6']) {
    const { a } = threeHosts6(1);
    const out = new StringOutput();
    const err = new StringOutput();
    const argv = ['-c', '2', '2001:db8:2::20'];
    const st = tool === 'ping6' ? ping6(a.k, argv, { stdout: out, stderr: err }) : ping(a.k, ['-6', ...argv], { stdout: out, stderr: err });
    assert.equal(st, 0);
    assert.equal(err.text(), '');
    runs.push(out.text());
  }
  assert.equal(runs[0], runs[1]);
  assert.match(runs[0]!, /^PING 2001:db8:2::20 \(2001:db8:2::20\): 56 data bytes\n64 bytes from 2001:db8:2::20: icmp_seq=0 hlim=63 time=/);
  assert.match(runs[0]!, /2 packets transmitted, 2 packets received, 0.0% packet loss/);
});
