/**
 * A lab from a topology file attached to the Linux kernel (root): a lab
 * machine's vxlan0 (and tap0 where TAP works) is the other end of a kernel
 * interface in a namespace; the kernel pings the lab machine, the lab's
 * shell pings the kernel, and closing the lab releases everything.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { Netns, PY, PREFIX, VXLAN_HELPER, interopSkip, must, sweep, tapSkip } from './harness.js';
import { Lab } from '../../src/lab/lab.js';
import { Shell } from '../../src/lab/shell.js';
import { StringOutput } from '../../src/lib/io.js';
import type { Tap } from '../../src/sys/dev/tap.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '0.0.0.0', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

async function shellRun(lab: Lab, line: string): Promise<{ out: string; status: number }> {
  const out = new StringOutput();
  const status = await new Shell(lab).run(line, { stdout: out, stderr: out });
  return { out: out.text(), status };
}

describe('a topology attaches a lab machine to a kernel namespace over VXLAN', { skip: interopSkip() ?? false }, () => {
  let lab: Lab | undefined;
  let ns: Netns;
  before(async () => {
    await sweep();
    const labPort = await freePort();
    const kernelPort = await freePort();
    const vni = ((process.pid & 0xffff) << 8) | 0x80;
    lab = await Lab.load(`name: attached
machines:
  r1:
    nics:
      vxlan0: { vni: ${vni}, local: "127.0.0.1:${labPort}", remote: "127.0.0.1:${kernelPort}", inet: 192.0.2.1/24, lladdr: "02:00:5e:30:00:01" }
`, 'attached.yaml');
    ns = await Netns.create();
    await must(PY, [VXLAN_HELPER, 'add', 'vx0', '--vni', String(vni), '--port', String(kernelPort), '--remote-port', String(labPort), '--netns', ns.name], { timeoutMs: 10000 });
    await ns.must('ip', ['addr', 'add', '192.0.2.2/24', 'dev', 'vx0']);
    await ns.must('ip', ['link', 'set', 'vx0', 'up']);
  });
  after(async () => {
    if (lab) await lab.close();
    if (ns) await ns.delete();
  });

  test('the kernel pings the lab machine', async () => {
    const out = await ns.must('ping', ['-c', '3', '-i', '0.2', '-W', '2', '192.0.2.1'], { timeoutMs: 10000 });
    assert.match(out, /3 packets transmitted, 3 received, 0% packet loss/);
    assert.equal(lab!.machine('r1')!.k.stats.icmpstat.value('icps_inhist', 8), 3);
  });

  test("the lab's shell pings the kernel", async () => {
    const r = await shellRun(lab!, 'ping -c 2 -i 0.2 192.0.2.2');
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /2 packets transmitted, 2 packets received, 0\.0% packet loss/);
  });

  test('closing the lab gives the world back and frees the port', async () => {
    await lab!.close();
    assert.equal(lab!.world.mode, 'simulated');
    assert.equal(lab!.attachments.vxlanSockets.length, 0);
    const r = await ns.run('ping', ['-c', '1', '-W', '1', '192.0.2.1'], { timeoutMs: 5000 });
    assert.notEqual(r.code, 0, 'nobody answers once the lab is closed');
  });
});

describe('a topology attaches a lab machine to the host over TAP', { skip: tapSkip() ?? false }, () => {
  let lab: Lab | undefined;
  let ns: Netns;
  const device = `${PREFIX}L`.slice(0, 15);
  before(async () => {
    await sweep();
    lab = await Lab.load(`machines:
  r1:
    nics:
      tap0: { device: ${device}, inet: 192.0.2.1/24, lladdr: "02:00:5e:30:00:02" }
`, 'tap.yaml');
    ns = await Netns.create();
    await must('ip', ['link', 'set', device, 'netns', ns.name]);
    await ns.must('ip', ['addr', 'add', '192.0.2.2/24', 'dev', device]);
    await ns.must('ip', ['link', 'set', device, 'up']);
  });
  after(async () => {
    if (lab) await lab.close();
    if (ns) await ns.delete();
  });

  test('the kernel pings the lab machine, the lab pings back', async () => {
    const link = lab!.machine('r1')!.links.get('tap0') as Tap;
    assert.equal(link.device, device);
    const out = await ns.must('ping', ['-c', '3', '-i', '0.2', '-W', '2', '192.0.2.1'], { timeoutMs: 10000 });
    assert.match(out, /3 packets transmitted, 3 received/);
    const r = await shellRun(lab!, 'ping -c 2 -i 0.2 192.0.2.2');
    assert.match(r.out, /2 packets transmitted, 2 packets received/);
  });
});
