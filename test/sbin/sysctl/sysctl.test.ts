import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { capture } from '../../../src/lib/io.js';
import { sysctlTool } from '../../../src/sbin/sysctl/sysctl.js';

test('sysctl reads, writes and lists net.inet knobs with OpenBSD texts', async () => {
  const k = new Kernel(new World(), { hostname: 'h' });
  const s = sysctlTool(k);
  let c = await capture(s, ['net.inet.ip.forwarding']);
  assert.equal(c.stdout, 'net.inet.ip.forwarding=0\n');
  c = await capture(s, ['net.inet.ip.forwarding=1']);
  assert.equal(c.stdout, 'net.inet.ip.forwarding: 0 -> 1\n');
  assert.equal(k.inet.ipforwarding.value, 1);
  c = await capture(s, ['-n', 'net.inet.ip.forwarding']);
  assert.equal(c.stdout, '1\n');
  c = await capture(s, ['-q', 'net.inet.ip.ttl=32']);
  assert.equal(c.stdout, '');
  assert.equal(k.inet.ipdefttl.value, 32);
  c = await capture(s, ['net.inet.ip.ttl=300', 'net.inet.ip.ttl=x', 'net.inet.ip.bogus', 'net.bogus.x', 'bogus']);
  assert.equal(c.status, 0);
  assert.equal(
    c.stderr,
    'sysctl: net.inet.ip.ttl: Invalid argument\n' +
      'sysctl: net.inet.ip.ttl: value is invalid: x\n' +
      'sysctl: fourth level name bogus in net.inet.ip.bogus is invalid\n' +
      'sysctl: second level name bogus in net.bogus.x is invalid\n' +
      'sysctl: top level name bogus in bogus is invalid\n',
  );
  c = await capture(s, ['net.inet.icmp']);
  assert.equal(
    c.stdout,
    'net.inet.icmp.bmcastecho=0\nnet.inet.icmp.errppslimit=100\nnet.inet.icmp.maskrepl=0\n' +
      'net.inet.icmp.rediraccept=0\nnet.inet.icmp.tstamprepl=1\n',
  );
  c = await capture(s, ['-x']);
  assert.equal(c.stderr, 'sysctl: unknown option -- x\nusage: sysctl [-Aanq] [-f file] [name[=value] ...]\n');
});
