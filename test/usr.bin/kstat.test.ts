import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../src/sys/kern/kernel.js';
import { Em } from '../../src/sys/dev/em.js';
import { Ix } from '../../src/sys/dev/ix.js';
import { kstat, fnmatch } from '../../src/usr.bin/kstat/kstat.js';
import { dmesg } from '../../src/sbin/dmesg/dmesg.js';
import { StringOutput } from '../../src/lib/io.js';

function setup(): { k: Kernel; run: (...argv: string[]) => { status: number; out: string; err: string } } {
  const k = new Kernel(new World(), { hostname: 'r' });
  new Ix(k, { lladdr: 'a0:36:9f:e0:52:54', pci: { bus: 1, dev: 0, fn: 0 } });
  new Ix(k, { lladdr: 'a0:36:9f:e0:52:55', pci: { bus: 1, dev: 0, fn: 1 } });
  new Em(k, { lladdr: '0c:c4:7a:78:f3:54' });
  const run = (...argv: string[]) => {
    const out = new StringOutput();
    const err = new StringOutput();
    const status = kstat(k, argv, { stdout: out, stderr: err });
    return { status, out: out.text(), err: err.text() };
  };
  return { k, run };
}

test('kstat: rxq and txq of an interface, in OpenBSD\'s format and order', () => {
  const { run } = setup();
  assert.deepEqual(run('em0:::'), {
    status: 0,
    err: '',
    out:
      'em0:0:rxq:0\n' +
      '         packets: 0 packets\n' +
      '           bytes: 0 bytes\n' +
      '          fdrops: 0 packets\n' +
      '          qdrops: 0 packets\n' +
      '          errors: 0 packets\n' +
      '            qlen: 0 packets\n' +
      '        enqueues: 0\n' +
      '        dequeues: 0\n' +
      'em0:0:txq:0\n' +
      '         packets: 0 packets\n' +
      '           bytes: 0 bytes\n' +
      '          qdrops: 0 packets\n' +
      '          errors: 0 packets\n' +
      '            qlen: 0 packets\n' +
      '         maxqlen: 511 packets\n' +
      '         oactive: false\n' +
      '        oactives: 0\n',
  });
});

test('kstat: filters by name, by provider pattern, instance and unit', () => {
  const { run } = setup();
  const heads = (s: string): string[] => s.split('\n').filter((l) => /^\S/.test(l));
  assert.deepEqual(heads(run('txq').out), ['em0:0:txq:0', 'ix0:0:txq:0', 'ix0:0:txq:1', 'ix0:0:txq:2', 'ix0:0:txq:3', 'ix1:0:txq:0', 'ix1:0:txq:1', 'ix1:0:txq:2', 'ix1:0:txq:3']);
  assert.deepEqual(heads(run('ix*:0:rxq:3').out), ['ix0:0:rxq:3', 'ix1:0:rxq:3']);
  assert.deepEqual(heads(run('ix1::txq:1', 'em0::rxq:').out), ['em0:0:rxq:0', 'ix1:0:txq:1']);
  assert.equal(heads(run().out).length, 2 + 8 + 8);
  assert.match(run('ix1:0:txq:0').out, /maxqlen: 255 packets/);
  assert.deepEqual(run('ix0:x:txq:0'), { status: 1, out: '', err: 'kstat: ix0:x:txq:0: instance x: invalid\n' });
  assert.deepEqual(run(''), { status: 1, out: '', err: 'kstat: empty name\n' });
  assert.deepEqual(run('a:b'), { status: 1, out: '', err: 'usage: kstat [-w wait] [name | provider:instance:name:unit] ...\n' });
  assert.deepEqual(run('-w', '0'), { status: 1, out: '', err: 'kstat: wait is too small: 0\n' });
  assert.ok(fnmatch('ix*', 'ix0'));
  assert.ok(fnmatch('[ei]x0', 'ix0'));
  assert.ok(!fnmatch('em', 'em0'));
});

test('dmesg: attach lines of em and ix', () => {
  const { k } = setup();
  const out = new StringOutput();
  assert.equal(dmesg(k, [], { stdout: out, stderr: out }), 0);
  assert.equal(
    out.text(),
    'ix0 at pci1 dev 0 function 0 "Intel X550T" rev 0x01, msix, 4 queues, address a0:36:9f:e0:52:54\n' +
      'ix1 at pci1 dev 0 function 1 "Intel X550T" rev 0x01, msix, 4 queues, address a0:36:9f:e0:52:55\n' +
      'em0 at pci1 dev 0 function 0 "Intel I210" rev 0x03: msi, address 0c:c4:7a:78:f3:54\n',
  );
});
