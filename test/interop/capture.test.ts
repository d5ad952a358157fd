/**
 * Debian's tcpdump, in the kernel's namespace, captures what packetflow
 * transmits (ARP requests and replies, echo requests and replies, IPv4
 * fragments); the capture passes the tshark validity gate: no bad
 * checksum, nothing malformed, no expert error.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InteropLab, needTools, tapSkip, run, type KernelLink, type LinkKind } from './harness.js';

const TSHARK_GATE = [
  '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
  '-Y', 'ip.checksum.status==0 || tcp.checksum.status==0 || udp.checksum.status==0 || icmp.checksum.status==0 || ' +
    'icmpv6.checksum.status==0 || _ws.malformed || _ws.expert.severity>=error',
];

async function tsharkFields(file: string, filter: string): Promise<string[]> {
  const r = await run('tshark', ['-r', file, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { timeoutMs: 30000 });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter((x) => x !== '');
}

for (const kind of ['vxlan', 'tap'] as LinkKind[]) {
  const skip = needTools('tcpdump', 'tshark') ?? (kind === 'tap' ? tapSkip() : null);
  describe(`tcpdump in the kernel's namespace captures packetflow over ${kind}`, { skip: skip ?? false }, () => {
    let lab: InteropLab;
    let l: KernelLink;
    let dir: string;
    before(async () => {
      lab = await InteropLab.create();
      l = await lab.addPeer({ kind, pfAddr: '192.0.2.1/24', nsAddr: '192.0.2.2/24' });
      dir = mkdtempSync(join(tmpdir(), 'pf-interop-'));
    });
    after(async () => {
      if (lab) await lab.teardown();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('the capture of packetflow transmissions passes the tshark gate', async () => {
      const file = join(dir, 'pf.pcap');
      const dump = lab.spawn(l.ns, 'tcpdump', ['--immediate-mode', '-i', l.dev, '-w', file, '-U', '-s', '0', 'ether', 'src', l.pfMac], 30000);
      for (let t = 0; t < 100 && !/listening on/.test(dump.stderr); t++) await new Promise((r) => setTimeout(r, 20));
      assert.match(dump.stderr, /listening on/, 'tcpdump started');
      // Fresh ARP both ways, pings both ways, fragments both ways.
      await l.ns.must('ip', ['neigh', 'flush', 'dev', l.dev]);
      await l.ns.must('ping', ['-c', '3', '-i', '0.2', '-W', '2', l.pfAddr], { timeoutMs: 8000 });
      await l.ns.must('ping', ['-c', '2', '-i', '0.2', '-s', '3000', '-W', '2', l.pfAddr], { timeoutMs: 8000 });
      assert.equal(await lab.pfPing(l.nsAddr, 3, { intervalMs: 50 }), 3);
      assert.equal(await lab.pfPing(l.nsAddr, 1, { size: 2500 }), 1);
      await new Promise((r) => setTimeout(r, 200));
      await dump.stop('SIGINT');
      assert.ok(statSync(file).size > 24, 'capture is not empty');

      const gate = await run('tshark', ['-r', file, ...TSHARK_GATE], { timeoutMs: 30000 });
      assert.equal(gate.code, 0, gate.stderr);
      assert.equal(gate.stdout, '', `tshark flags packetflow's frames:\n${gate.stdout}`);

      const all = await tsharkFields(file, 'frame');
      const arp = await tsharkFields(file, 'arp');
      const replies = await tsharkFields(file, 'icmp.type==0');
      const requests = await tsharkFields(file, 'icmp.type==8');
      const frags = await tsharkFields(file, 'ip.flags.mf==1 || ip.frag_offset>0');
      assert.ok(arp.length >= 1, 'ARP from packetflow');
      assert.ok(replies.length >= 5, `${replies.length} echo replies`);
      assert.ok(requests.length >= 4, `${requests.length} echo requests`);
      assert.ok(frags.length >= 4, `${frags.length} fragments`);
      assert.ok(all.length >= arp.length + replies.length + requests.length);
    });
  });
}
