/**
 * IPv4 with the real Linux kernel as peer, over each attachment (VXLAN on
 * loopback, TAP): the kernel pings packetflow, packetflow pings the kernel,
 * ARP resolves both ways, fragments are reassembled both ways, and a
 * bounded ping flood is answered.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { InteropLab, interopSkip, tapSkip, type KernelLink, type LinkKind } from './harness.js';
import { arp } from '../../src/usr.sbin/arp/arp.js';
import { StringOutput } from '../../src/lib/io.js';
import { ICMP_ECHO, ICMP_ECHOREPLY } from '../../src/wire/icmp.js';
import { hostlink_count } from '../../src/sys/dev/hostlink.js';

function icmp(lab: InteropLab, name: string, i = 0): number {
  return lab.k.stats.icmpstat.value(name, i);
}

for (const kind of ['vxlan', 'tap'] as LinkKind[]) {
  const skip = kind === 'vxlan' ? interopSkip() : tapSkip();
  describe(`IPv4 with the Linux kernel over ${kind}`, { skip: skip ?? false }, () => {
    let lab: InteropLab;
    let l: KernelLink;
    before(async () => {
      lab = await InteropLab.create();
      l = await lab.addPeer({ kind, pfAddr: '192.0.2.1/24', nsAddr: '192.0.2.2/24' });
    });
    after(async () => {
      if (lab) await lab.teardown();
    });

    test('the world runs in realtime while the attachment is present', () => {
      assert.equal(lab.world.mode, 'realtime');
      assert.ok(lab.world.isRunning);
      assert.equal(hostlink_count(lab.world), 1);
    });

    test('the kernel pings packetflow', async () => {
      const req0 = icmp(lab, 'icps_inhist', ICMP_ECHO);
      const rep0 = icmp(lab, 'icps_outhist', ICMP_ECHOREPLY);
      const out = await l.ns.must('ping', ['-c', '5', '-i', '0.2', '-W', '2', l.pfAddr], { timeoutMs: 10000 });
      assert.match(out, /5 packets transmitted, 5 received, 0% packet loss/);
      assert.equal(icmp(lab, 'icps_inhist', ICMP_ECHO) - req0, 5);
      assert.equal(icmp(lab, 'icps_outhist', ICMP_ECHOREPLY) - rep0, 5);
    });

    test('packetflow pings the kernel', async () => {
      const got = await lab.pfPing(l.nsAddr, 5, { intervalMs: 50, timeoutMs: 5000 });
      assert.equal(got, 5);
    });

    test('ARP resolves both ways', async () => {
      const neigh = await l.ns.must('ip', ['neigh', 'show', l.pfAddr, 'dev', l.dev]);
      assert.match(neigh, new RegExp(`lladdr ${l.pfMac}`));
      const o = new StringOutput();
      const e = new StringOutput();
      assert.equal(arp(lab.k, ['-an'], { stdout: o, stderr: e }), 0, e.text());
      assert.match(o.text(), new RegExp(`${l.nsAddr.replace(/\./g, '\\.')}\\s+${l.nsMac}\\s+${l.link.ifp.if_xname}`));
      // A fresh resolution in each direction.
      await l.ns.must('ip', ['neigh', 'flush', 'dev', l.dev]);
      assert.equal(arp(lab.k, ['-d', l.nsAddr], { stdout: new StringOutput(), stderr: new StringOutput() }), 0);
      const rx0 = lab.k.inet.arp.stats.value('arps_rxreplies');
      assert.equal(await lab.pfPing(l.nsAddr, 1), 1);
      assert.equal(lab.k.inet.arp.stats.value('arps_rxreplies') - rx0, 1, 'packetflow resolved the kernel by ARP');
      await l.ns.must('ip', ['neigh', 'flush', 'dev', l.dev]);
      const rq0 = lab.k.inet.arp.stats.value('arps_rxrequests');
      await l.ns.must('ping', ['-c', '1', '-W', '2', l.pfAddr]);
      assert.ok(lab.k.inet.arp.stats.value('arps_rxrequests') - rq0 >= 1, 'the kernel resolved packetflow by ARP');
    });

    test('fragmented echoes are reassembled both ways', async () => {
      const r0 = lab.k.stats.ipstat.value('ips_reassembled');
      const out = await l.ns.must('ping', ['-c', '2', '-i', '0.2', '-s', '4000', '-W', '2', l.pfAddr], { timeoutMs: 10000 });
      assert.match(out, /2 received/);
      assert.equal(lab.k.stats.ipstat.value('ips_reassembled') - r0, 2);
      assert.equal(await lab.pfPing(l.nsAddr, 2, { size: 4000 }), 2);
    });

    test('a bounded ping flood is answered', async () => {
      const r = await l.ns.run('ping', ['-f', '-c', '2000', '-w', '10', '-q', l.pfAddr], { timeoutMs: 15000 });
      const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
      assert.ok(m, r.stdout + r.stderr);
      assert.equal(Number(m[1]), 2000);
      assert.ok(Number(m[2]) >= 1990, `${m[2]} of 2000 answered`);
      assert.deepEqual(lab.errors, []);
    });

    test('detaching gives the world back in simulated mode', async () => {
      await lab.teardown();
      assert.equal(lab.world.mode, 'simulated');
      assert.equal(hostlink_count(lab.world), 0);
      assert.equal(l.link.isAttached, false);
    });
  });
}
