/**
 * The package's exports are enough to build labs in code: kernels, em NICs
 * and a cable in virtual time; a VXLAN attachment between two worlds in real
 * time; a topology with an attachment through Lab.load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  World, Kernel, Em, Cable, loopattach, if_addr_add, parseIp4, maskFromLen4, ping, pingAsync, StringOutput,
  VxlanSocket, vxlan_attach, HostAttachments, hostlink_count, Lab, tap_available,
} from '../src/index.js';

test('two kernels, em NICs and a cable, built from the package exports', () => {
  const world = new World({ seed: 1 });
  const a = new Kernel(world, { hostname: 'a' });
  const b = new Kernel(world, { hostname: 'b' });
  for (const k of [a, b]) if_addr_add(loopattach(k), parseIp4('127.0.0.1'), maskFromLen4(8));
  const ea = new Em(a, { lladdr: '02:00:00:00:00:0a' });
  const eb = new Em(b, { lladdr: '02:00:00:00:00:0b' });
  new Cable(world, { rate: 1e9 }).connect(ea, eb);
  if_addr_add(ea.ifp, parseIp4('192.0.2.1'), maskFromLen4(24));
  if_addr_add(eb.ifp, parseIp4('192.0.2.2'), maskFromLen4(24));
  const out = new StringOutput();
  assert.equal(ping(a, ['-c', '2', '192.0.2.2'], { stdout: out, stderr: out }), 0, out.text());
  assert.match(out.text(), /2 packets transmitted, 2 packets received/);
});

test('attachments from the package exports: VXLAN between two worlds, realtime while attached', async () => {
  const wa = new World({ seed: 1 });
  const wb = new World({ seed: 2 });
  const a = new Kernel(wa, { hostname: 'a' });
  const b = new Kernel(wb, { hostname: 'b' });
  const sa = await VxlanSocket.open();
  const hb = new HostAttachments();
  try {
    const vb = await hb.attach(b, { driver: 'vxlan', vni: 9, remote: `127.0.0.1:${sa.port}` });
    const va = vxlan_attach(a, { socket: sa, vni: 9, remotePort: hb.vxlanSockets[0]!.port });
    assert.equal(wa.mode, 'realtime');
    assert.equal(hostlink_count(wb), 1);
    if_addr_add(va.ifp, parseIp4('198.51.100.1'), maskFromLen4(24));
    if_addr_add(vb.ifp, parseIp4('198.51.100.2'), maskFromLen4(24));
    const out = new StringOutput();
    assert.equal(await pingAsync(a, ['-c', '2', '-i', '0.1', '198.51.100.2'], { stdout: out, stderr: out }), 0, out.text());
  } finally {
    await hb.close();
    await sa.close();
  }
  assert.equal(wa.mode, 'simulated');
  assert.equal(wb.isRunning, false);
  assert.equal(typeof tap_available(), tap_available() === null ? 'object' : 'string');
});

test('Lab.load from the package: a topology with a vxlan interface', async () => {
  const lab = await Lab.load('machines:\n  h:\n    nics:\n      vxlan0: { vni: 1, remote: "127.0.0.1:4789", inet: 192.0.2.1/24 }\n');
  try {
    assert.ok(lab.attached);
    assert.equal(lab.world.mode, 'realtime');
  } finally {
    await lab.close();
  }
  assert.equal(lab.world.isRunning, false);
});
