/**
 * Topology files with interfaces attached to the host (no root needed):
 * two labs joined by VXLAN over loopback, each loaded from YAML, ping each
 * other from the shell in real time; `packetflow exec` on such a lab exits
 * cleanly; attachment specs that cannot work are reported with file, line
 * and key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lab } from '../../src/lab/lab.js';
import { Shell } from '../../src/lab/shell.js';
import { execCommand } from '../../src/lab/main.js';
import { TopologyErrors } from '../../src/lab/topology.js';
import { StringOutput } from '../../src/lib/io.js';
import { tap_available } from '../../src/sys/dev/tap.js';
import { hostlink_count } from '../../src/sys/dev/hostlink.js';

/** A UDP port free on 127.0.0.1 now (bound and released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function labYaml(name: string, addr: string, local: number, remote: number, extra = ''): string {
  return `name: ${name}
machines:
  ${name}:
    nics:
      vxlan0: { vni: 42, local: "127.0.0.1:${local}", remote: "127.0.0.1:${remote}", inet: ${addr}/24, lladdr: "02:00:00:00:42:0${name === 'a' ? 1 : 2}" }
${extra}`;
}

async function run(sh: Shell, line: string): Promise<{ out: string; err: string; status: number }> {
  const out = new StringOutput();
  const err = new StringOutput();
  const status = await sh.run(line, { stdout: out, stderr: err });
  return { out: out.text(), err: err.text(), status };
}

async function errorsOf(yaml: string): Promise<string> {
  try {
    const lab = await Lab.load(yaml, 'lab.yaml');
    await lab.close();
  } catch (e) {
    if (e instanceof TopologyErrors) return e.message;
    throw e;
  }
  return '';
}

test('two labs from topology files ping each other over VXLAN on loopback, in real time', async () => {
  const pa = await freePort();
  const pb = await freePort();
  const a = await Lab.load(labYaml('a', '198.51.100.1', pa, pb), 'a.yaml');
  const b = await Lab.load(labYaml('b', '198.51.100.2', pb, pa), 'b.yaml');
  try {
    assert.equal(a.world.mode, 'realtime');
    assert.ok(a.world.isRunning);
    assert.ok(a.attached);
    assert.equal(hostlink_count(a.world), 1);
    const m = a.machine('a')!;
    assert.deepEqual(m.interfaces(), ['lo0', 'vxlan0']);
    assert.match(m.k.msgbuf.join('\n'), new RegExp(`vxlan0: vnetid 42 udp 127\\.0\\.0\\.1:${pa} -> 127\\.0\\.0\\.1:${pb}, address 02:00:00:00:42:01`));
    const sh = new Shell(a);
    const p = await run(sh, 'ping -c 3 -i 0.2 198.51.100.2');
    assert.equal(p.status, 0, p.out + p.err);
    assert.match(p.out, /^PING 198\.51\.100\.2 \(198\.51\.100\.2\): 56 data bytes$/m);
    assert.match(p.out, /64 bytes from 198\.51\.100\.2: icmp_seq=2 ttl=255 time=\d+\.\d{3} ms/);
    assert.match(p.out, /3 packets transmitted, 3 packets received, 0\.0% packet loss/);
    assert.equal(b.machine('b')!.k.stats.icmpstat.value('icps_inhist', 8), 3);
    // The shell's other tools see the attachment; sleep passes in wall time.
    const i = await run(sh, 'ifconfig vxlan0');
    assert.match(i.out, /^vxlan0: flags=.*<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST>/m);
    assert.match(i.out, /inet 198\.51\.100\.1 netmask 0xffffff00 broadcast 198\.51\.100\.255/);
    const arp = await run(sh, 'arp -an');
    assert.match(arp.out, /198\.51\.100\.2\s+02:00:00:00:42:02\s+vxlan0/);
    const t0 = Date.now();
    const now0 = a.world.now;
    await run(sh, 'sleep 0.2');
    assert.ok(Date.now() - t0 >= 190, 'sleep waits on the wall clock');
    assert.ok(a.world.now - now0 >= 190e6);
  } finally {
    await a.close();
    await b.close();
  }
  assert.equal(a.world.mode, 'simulated');
  assert.equal(a.world.isRunning, false);
  assert.equal(hostlink_count(a.world), 0);
  assert.equal(a.attachments.vxlanSockets.length, 0);
});

test('packetflow exec on an attached lab answers and lets the process go', async () => {
  const pa = await freePort();
  const pb = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pf-attach-'));
  const file = join(dir, 'a.yaml');
  writeFileSync(file, labYaml('a', '198.51.100.1', pa, pb));
  const b = await Lab.load(labYaml('b', '198.51.100.2', pb, pa), 'b.yaml');
  try {
    const out = new StringOutput();
    const err = new StringOutput();
    const status = await execCommand(['--lab', file, 'a', '--', 'ping', '-c', '2', '-i', '0.1', '198.51.100.2'], { stdout: out, stderr: err });
    assert.equal(status, 0, out.text() + err.text());
    assert.match(out.text(), /2 packets transmitted, 2 packets received/);
    // exec closed its lab: the port is free again.
    const s: Socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(pa, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((r) => s.close(() => r()));
  } finally {
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a far end that is a plain UDP socket sees VXLAN frames with the VNI', async () => {
  const far = createSocket('udp4');
  await new Promise<void>((r) => far.bind(0, '127.0.0.1', () => r()));
  const got: Buffer[] = [];
  far.on('message', (msg: Buffer) => got.push(msg));
  const lab = await Lab.load(`machines:
  h:
    nics:
      vxlan0: { vni: 4660, remote: "127.0.0.1:${far.address().port}", inet: 192.0.2.1/24 }
`);
  try {
    const sh = new Shell(lab);
    // Nobody answers ARP: the request is what leaves (ping gives up after -w 1).
    const p = await run(sh, 'ping -c 1 -w 1 192.0.2.2');
    assert.equal(p.status, 1);
    assert.match(p.out, /1 packets transmitted, 0 packets received, 100\.0% packet loss/);
    // (The first ARP frames are the boot's gratuitous ones, for 192.0.2.1.)
    const arp = got.find((d) => d.length >= 8 + 42 && d.readUInt16BE(8 + 12) === 0x0806 && d.readUInt32BE(8 + 14 + 24) === 0xc0000202);
    assert.ok(arp, `an ARP request in VXLAN (${got.length} datagrams)`);
    assert.deepEqual([...arp.subarray(0, 8)], [0x08, 0, 0, 0, 0x00, 0x12, 0x34, 0]);
    assert.equal(arp.readUInt32BE(8 + 14 + 24), 0xc0000202, 'who-has 192.0.2.2');
  } finally {
    await lab.close();
    await new Promise<void>((r) => far.close(() => r()));
  }
});

test('attachment specs that cannot work: file, line and key', async () => {
  const head = 'machines:\n  r1:\n    nics:\n';
  assert.equal(
    await errorsOf(head + '      vxlan0: { remote: "127.0.0.1:4790" }\n'),
    'lab.yaml:4: machine r1: nic vxlan0: missing key vni',
  );
  assert.equal(
    await errorsOf(head + '      vxlan0: { vni: 16777216, remote: "127.0.0.1:4790" }\n'),
    'lab.yaml:4: machine r1: nic vxlan0: vni: must be <= 16777215',
  );
  assert.equal(
    await errorsOf(head + '      vxlan0:\n        vni: 1\n        remote: "127.0.0.1"\n'),
    'lab.yaml:6: machine r1: nic vxlan0: remote: must be address:port, such as 127.0.0.1:4789',
  );
  assert.equal(
    await errorsOf(head + '      vxlan0:\n        vni: 1\n        remote: "127.0.0.1:99999"\n'),
    'lab.yaml:6: machine r1: nic vxlan0: remote: 127.0.0.1:99999: expected address:port with a port up to 65535',
  );
  assert.equal(
    await errorsOf(head + '      vxlan0:\n        vni: 1\n        remote: "127.0.0.1:0"\n'),
    'lab.yaml:6: machine r1: nic vxlan0: remote: 127.0.0.1:0: the remote port cannot be 0',
  );
  assert.equal(
    await errorsOf(head + '      vxlan0: { vni: 1, remote: "300.1.2.3:4789" }\n'),
    'lab.yaml:4: machine r1: nic vxlan0: remote address 300.1.2.3 is not an IP address',
  );
  assert.equal(
    await errorsOf(head + '      vxlan0: { vni: 1, remote: "127.0.0.1:4789", queues: 4 }\n'),
    'lab.yaml:4: machine r1: nic vxlan0: queues: unknown key',
  );
  assert.equal(
    await errorsOf(head + '      vxlan1: { vni: 1, remote: "127.0.0.1:4789" }\n'),
    'lab.yaml:4: machine r1: nic vxlan1: vxlan units count from 0 without gaps (expected vxlan0)',
  );
  // Two links with one VNI on the lab's shared socket.
  assert.equal(
    await errorsOf(head + '      vxlan0: { vni: 7, remote: "127.0.0.1:4789" }\n      vxlan1: { vni: 7, remote: "127.0.0.1:4790" }\n'),
    'lab.yaml:5: machine r1: nic vxlan1: vnetid 7 is already attached to this socket',
  );
  // A local port someone else has.
  const busy = createSocket('udp4');
  await new Promise<void>((r) => busy.bind(0, '127.0.0.1', () => r()));
  try {
    const port = busy.address().port;
    assert.equal(
      await errorsOf(head + `      vxlan0: { vni: 1, remote: "127.0.0.1:4789", local: "127.0.0.1:${port}" }\n`),
      `lab.yaml:4: machine r1: nic vxlan0: local 127.0.0.1:${port}: bind EADDRINUSE 127.0.0.1:${port}`,
    );
  } finally {
    await new Promise<void>((r) => busy.close(() => r()));
  }
  // Cables are for em and ix.
  assert.equal(
    await errorsOf(head + '      vxlan0: { vni: 1, remote: "127.0.0.1:4789" }\n  r2:\n    nics:\n      em0: { lladdr: "02:00:00:00:00:01" }\ncables:\n  - { ends: [r1:vxlan0, r2:em0] }\n'),
    'lab.yaml:9: cable r1:vxlan0 r2:em0: ends: [0]: must be machine:interface, such as router:em0 (tap and vxlan interfaces have no cables)',
  );
  // The synchronous loader cannot bind a socket.
  assert.throws(() => Lab.fromYaml(head + '      vxlan0: { vni: 1, remote: "127.0.0.1:4789" }\n'), /lab\.yaml:4: machine r1: nic vxlan0: vxlan interfaces need Lab\.load\(\)/);
  // TAP where it is unavailable (here: not root, or no addon) names why.
  const why = tap_available();
  if (why !== null) {
    assert.equal(
      await errorsOf(head + '      em0: { lladdr: "02:00:00:00:00:01" }\n      tap0: { device: pf0, inet: 192.0.2.1/24 }\n'),
      `lab.yaml:5: machine r1: nic tap0: TAP unavailable: ${why}`,
    );
  }
  assert.equal(
    await errorsOf(head + '      tap0: { device: "a name far too long" }\n'),
    'lab.yaml:4: machine r1: nic tap0: device: must be a Linux interface name, such as pf0',
  );
});
