/**
 * ifconfig on host attachments: vxlan0 with OpenBSD's encap and tunnel
 * lines, and a tap-like interface (tap0 itself needs root and a TAP device,
 * so a HostLink with a null wire stands in: the same ifnet a Tap makes).
 * Golden files in test/sbin/golden; the vxlan socket's local port, chosen
 * by the host, shows as @LPORT@.  UPDATE_GOLDEN=1 rewrites them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/root.js';
import { World } from '../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../src/sys/kern/kernel.js';
import { loopattach } from '../../src/sys/net/if_loop.js';
import { VxlanSocket, vxlan_attach } from '../../src/sys/dev/vxlan.js';
import { HostLink, type HostWire } from '../../src/sys/dev/hostlink.js';
import { ifconfig } from '../../src/sbin/ifconfig/ifconfig.js';
import { StringOutput } from '../../src/lib/io.js';

// Goldens live beside the sources, also when the tests run from dist/.
const GOLDEN = join(ROOT, 'test', 'sbin', 'golden');

function run(k: Kernel, ...argv: string[]): string {
  const out = new StringOutput();
  const err = new StringOutput();
  const st = ifconfig(k, argv, { stdout: out, stderr: err });
  assert.equal(err.text(), '');
  assert.equal(st, 0);
  return out.text();
}

function golden(name: string, text: string): void {
  const f = join(GOLDEN, name);
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(f, text);
  assert.equal(text, readFileSync(f, 'utf8'));
}

test('ifconfig vxlan0: encap and tunnel lines as OpenBSD prints them', async () => {
  const k = new Kernel(new World({ seed: 1 }), { hostname: 'a' });
  loopattach(k);
  const sock = await VxlanSocket.open({ address: '127.0.0.1' });
  const v = vxlan_attach(k, { socket: sock, vni: 42, remotePort: 4790, lladdr: 'fe:e1:ba:d0:00:01' });
  try {
    run(k, 'vxlan0', 'inet', '192.0.2.1/24');
    const mask = (t: string): string => t.replaceAll(`127.0.0.1:${sock.port} `, '127.0.0.1:@LPORT@ ');
    const out = mask(run(k, 'vxlan0'));
    golden('ifconfig_vxlan0.txt', out);
    assert.match(out, /\n\tencap: vnetid 42 parent none txprio 0 rxprio outer\n/);
    assert.match(out, /\n\ttunnel: inet 127\.0\.0\.1:@LPORT@ --> 127\.0\.0\.1:4790 ttl 64 df\n$/);
    // without a name: the same block after lo0's
    assert.ok(mask(run(k)).endsWith(out));
  } finally {
    v.detach();
    await sock.close();
  }
});

class NullWire implements HostWire {
  transmit(): number {
    return 0;
  }
  close(): void {}
}

/** What Tap builds, with a wire that drops everything. */
class FakeTap extends HostLink {
  constructor(k: Kernel) {
    super(k, 'tap', { lladdr: 'fe:e1:ba:d0:00:02' }, (n, mac) => `${n}: host interface pf0, address ${mac}`);
    this.plug(new NullWire());
  }
}

test('ifconfig tap0 prints as tap(4): Ethernet lines, no encap or tunnel', () => {
  const k = new Kernel(new World({ seed: 1 }), { hostname: 'a' });
  loopattach(k);
  const t = new FakeTap(k);
  try {
    run(k, 'tap0', 'inet', '192.0.2.9/24');
    const out = run(k, 'tap0');
    golden('ifconfig_tap0.txt', out);
    assert.doesNotMatch(out, /encap|tunnel/);
  } finally {
    t.detach();
  }
});
