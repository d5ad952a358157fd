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

function labYaml6(name: string, n: number, local: number, remote: number): string {
  return `name: ${name}
machines:
  ${name}:
    nics:
      vxlan0: { vni: 43, local: "127.0.0.1:${local}", remote: "127.0.0.1:${remote}", inet: 198.51.100.${n}/24, inet6: "2001:db8:43::${n}/64", lladdr: "02:00:00:00:43:0${n}" }
`;
}

/** Resolve within ms, or fail saying what was awaited. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
    }),
  ]);
}

test('ping6, pktgen, nc, tcpbench and trace between two labs over VXLAN, in real time', { timeout: 60_000 }, async () => {
  const pa = await freePort();
  const pb = await freePort();
  const a = await Lab.load(labYaml6('a', 1, pa, pb), 'a.yaml');
  const b = await Lab.load(labYaml6('b', 2, pb, pa), 'b.yaml');
  try {
    assert.ok(a.world.isRunning && b.world.isRunning);
    const sa = new Shell(a);
    const sb = new Shell(b);
    // The boot's DAD (one second, in wall time here) is over before ping6 picks a source.
    await within(run(sa, 'sleep 1.5'), 5000, 'sleep');

    const p6 = await within(run(sa, 'ping6 -c 2 -i 0.2 2001:db8:43::2'), 10_000, 'ping6');
    assert.equal(p6.status, 0, p6.out + p6.err);
    assert.match(p6.out, /^PING 2001:db8:43::2 \(2001:db8:43::2\): 56 data bytes$/m);
    assert.match(p6.out, /^64 bytes from 2001:db8:43::2: icmp_seq=1 hlim=64 time=\d+\.\d{3} ms$/m);
    assert.match(p6.out, /2 packets transmitted, 2 packets received, 0\.0% packet loss/);
    const p6b = await within(run(sa, 'ping -6 -c 1 2001:db8:43::2'), 10_000, 'ping -6');
    assert.match(p6b.out, /1 packets transmitted, 1 packets received/);

    // pktgen at a rate: the datagrams leave as the wall clock passes and reach b.
    const udp0 = b.machine('b')!.k.stats.udpstat.value('udps_ipackets');
    const t0 = Date.now();
    const g = await within(run(sa, 'pktgen -r 100 -t 0.3 -s 100 198.51.100.2'), 10_000, 'pktgen');
    assert.equal(g.status, 0, g.err);
    // 30 datagrams at 100/s span at least 0.29 s of lab time; a loaded host only makes it longer.
    const span = /^pktgen: 30 datagrams of 128 bytes to 198\.51\.100\.2 in (\d+\.\d{6}) s: 30 sent, 0 refused$/m.exec(g.out);
    assert.ok(span !== null, g.out);
    assert.ok(Number(span[1]) >= 0.29, g.out);
    assert.ok(Date.now() - t0 >= 250, `pktgen took ${Date.now() - t0} ms of wall time`);
    await within(run(sa, 'sleep 0.1'), 5000, 'sleep');
    assert.equal(b.machine('b')!.k.stats.udpstat.value('udps_ipackets') - udp0, 30);

    // nc: a listener on b in the background, a client on a sending a file.
    const l = await run(sb, 'nc -l 12345 >got &');
    assert.equal(l.status, 0, l.err);
    sa.writeFile(a.machine('a')!, 'msg', 'hello over vxlan\n', false);
    const c = await within(run(sa, 'nc -N 198.51.100.2 12345 <msg'), 10_000, 'nc');
    assert.equal(c.status, 0, c.err);
    for (let i = 0; i < 50 && sb.readFile(b.machine('b')!, 'got') !== 'hello over vxlan\n'; i++) await run(sb, 'sleep 0.1');
    assert.equal(sb.readFile(b.machine('b')!, 'got'), 'hello over vxlan\n');
    const j = await run(sb, 'jobs');
    assert.match(j.out, /\[1\] Done +nc -l 12345 >got \(on b\)/);

    // tcpbench: a server on b, a one-second client on a.
    const ts = await run(sb, 'tcpbench -s -p 12346 >/dev/null &');
    assert.equal(ts.status, 0, ts.err);
    const tb = await within(run(sa, 'tcpbench -p 12346 -t 1 198.51.100.2'), 15_000, 'tcpbench');
    assert.equal(tb.status, 0, tb.err);
    assert.match(tb.out, /--- 198\.51\.100\.2 tcpbench statistics ---\n\d+ bytes sent over [01]\.\d{3} seconds\n/);

    // trace: the echo request's path on a, out through the attachment.
    const tr = await within(run(sa, 'trace -s ping -c 1 198.51.100.2'), 10_000, 'trace');
    assert.equal(tr.status, 0, tr.err);
    assert.match(tr.out, /#1 198\.51\.100\.1 > 198\.51\.100\.2: icmp: echo request\n {2}a: ip_output → ether_output → /);
  } finally {
    await a.close();
    await b.close();
  }
});

test('an interactive shell on an attached lab: Ctrl-C (interrupt()) ends ping and tcpbench with their statistics, and kills nc', { timeout: 30_000 }, async () => {
  const pa = await freePort();
  const pb = await freePort();
  const a = await Lab.load(labYaml('a', '198.51.100.1', pa, pb), 'a.yaml');
  const b = await Lab.load(labYaml('b', '198.51.100.2', pb, pa), 'b.yaml');
  try {
    const sh = new Shell(a, { interactive: true });
    const t0 = Date.now();
    const timer = setTimeout(() => sh.interrupt(), 1300);
    const p = await within(run(sh, 'ping -i 0.5 198.51.100.2'), 10_000, 'ping until interrupted');
    clearTimeout(timer);
    assert.ok(Date.now() - t0 >= 1250, 'ping ran until interrupted');
    assert.equal(p.status, 0, p.err);
    assert.match(p.out, /\n--- 198\.51\.100\.2 ping statistics ---\n3 packets transmitted, 3 packets received, 0\.0% packet loss\nround-trip /);
    // Nothing runs any more: the shell is back.
    assert.equal(sh.interrupt(), false);

    // tcpbench without -t runs until Ctrl-C, then prints its summary.
    const sb = new Shell(b);
    await run(sb, 'tcpbench -s >/dev/null &');
    setTimeout(() => sh.interrupt(), 1300);
    const tb = await within(run(sh, 'tcpbench 198.51.100.2'), 10_000, 'tcpbench until interrupted');
    assert.equal(tb.status, 0, tb.err);
    assert.match(tb.out, /^Conn: {3}1 Mbps: /m);
    assert.match(tb.out, /--- 198\.51\.100\.2 tcpbench statistics ---\n\d+ bytes sent over 1\.\d{3} seconds\nbandwidth min\/avg\/max\/std-dev = /);

    // nc dies of Ctrl-C: status 130, and the kernel closed its listening socket.
    setTimeout(() => sh.interrupt(), 300);
    const l = await within(run(sh, 'nc -l 12399'), 10_000, 'nc -l until interrupted');
    assert.equal(l.status, 130);
    const c = await within(run(sb, 'nc -v 198.51.100.1 12399'), 10_000, 'nc to the closed port');
    assert.equal(c.status, 1);
    assert.match(c.err, /nc: connect to 198\.51\.100\.1 port 12399 \(tcp\) failed: Connection refused/);
  } finally {
    await a.close();
    await b.close();
  }
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
