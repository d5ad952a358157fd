/**
 * scapy, in the kernel's namespace, injects malformed frames into a
 * packetflow host: packetflow never crashes, answers ping afterwards, and
 * its counters rise exactly by the number injected, each in the counter
 * that names the reason.
 *
 * Where the protocol that would count a frame has not landed yet (TCP,
 * vlan(4)), the frame is counted where packetflow drops it today
 * (ips_noproto, ethers_sdelim); the expectation follows what is registered.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { InteropLab, needTools, tapSkip, PY, type KernelLink, type LinkKind } from './harness.js';
import { ROOT } from '../helpers/root.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/wire/ip4.js';
import type { Kernel } from '../../src/sys/kern/kernel.js';

/** Any counter of the kernel by name: protocol stats, ether, arp. */
function counter(k: Kernel, name: string): number {
  for (const b of [...k.stats.blocks(), k.inet.etherstat, k.inet.arp.stats]) {
    if (b.field(name) !== undefined) return b.value(name);
  }
  throw new Error(`no counter ${name}`);
}

/** kind -> [frames per injection, the counter naming its reason]. */
function expectations(k: Kernel): Record<string, [number, string]> {
  const tcp = k.inet.pr_input[IPPROTO_TCP] !== undefined;
  const udp = k.inet.pr_input[IPPROTO_UDP] !== undefined;
  return {
    ip_badsum: [3, 'ips_badsum'],
    ip_badvers: [4, 'ips_badvers'],
    ip_badhlen: [5, 'ips_badhlen'],
    ip_toosmall: [6, 'ips_toosmall'],
    ip_badlen: [7, 'ips_badlen'],
    ip_tooshort: [8, 'ips_tooshort'],
    icmp_badsum: [9, 'icps_checksum'],
    icmp_tooshort: [10, 'icps_tooshort'],
    frag_overlap: [11, 'ips_fragdropped'],
    // SYN|FIN|RST|PUSH|ACK|URG to a closed port: RST set, so dropped without reply.
    tcp_badflags: [12, tcp ? 'tcps_noport' : 'ips_noproto'],
    udp_badsum: [13, udp ? 'udps_badsum' : 'ips_noproto'],
    udp_badlen: [14, udp ? 'udps_badlen' : 'ips_noproto'],
    vlan: [15, k.inet.vlan_input === null ? 'ethers_sdelim' : 'if_noproto'],
  };
}

for (const kind of ['vxlan', 'tap'] as LinkKind[]) {
  const skip = needTools('scapy') ?? (kind === 'tap' ? tapSkip() : null);
  describe(`malformed frames from scapy into packetflow over ${kind}`, { skip: skip ?? false }, () => {
    let lab: InteropLab;
    let l: KernelLink;
    before(async () => {
      lab = await InteropLab.create();
      l = await lab.addPeer({ kind, pfAddr: '192.0.2.1/24', nsAddr: '192.0.2.2/24' });
    });
    after(async () => {
      if (lab) await lab.teardown();
    });

    test('each malformed frame is counted once, by its reason; ping still works', async (t) => {
      const k = lab.k;
      const exp = expectations(k);
      if (kind === 'vxlan') {
        // Linux's vxlan_xmit drops frames whose inner IPv4 header is
        // incomplete (pskb_inet_may_pull) before encapsulating: the TAP run covers them.
        delete exp.ip_toosmall;
        t.diagnostic('ip_toosmall not injected over vxlan: the Linux vxlan driver drops truncated inner IPv4 headers itself (covered over tap)');
      }
      if (exp.vlan![1] === 'if_noproto') {
        // vlan(4) landed: its own counter is not known to this test yet.
        delete exp.vlan;
      }
      const names = [...new Set(Object.values(exp).map(([, c]) => c))];
      const before0 = new Map(names.map((n) => [n, counter(k, n)]));
      const want = new Map<string, number>();
      for (const [, [n, c]] of Object.entries(exp)) want.set(c, (want.get(c) ?? 0) + n);
      const args = Object.entries(exp).map(([kind, [n]]) => `${kind}=${n}`);
      const out = await l.ns.must(PY, [`${ROOT}/test/interop/inject.py`, l.dev, l.pfMac, l.nsAddr, l.pfAddr, ...args], { timeoutMs: 60000 });
      const sent = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number>;
      for (const [kind, [n]] of Object.entries(exp)) assert.equal(sent[kind], n, `scapy sent ${kind}`);
      // Frames are in flight until packetflow has counted them all.
      const settled = (): boolean => names.every((c) => counter(k, c) - before0.get(c)! >= want.get(c)!);
      for (let t = 0; t < 300 && !settled(); t++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      const got: Record<string, number> = {};
      const wanted: Record<string, number> = {};
      for (const c of names) {
        got[c] = counter(k, c) - before0.get(c)!;
        wanted[c] = want.get(c)!;
      }
      assert.deepEqual(got, wanted);
      assert.deepEqual(lab.errors, [], 'the kernel threw');
      assert.equal(await lab.pfPing(l.nsAddr, 2), 2, 'packetflow pings the kernel afterwards');
      const r = await l.ns.run('ping', ['-c', '2', '-i', '0.2', '-W', '2', l.pfAddr], { timeoutMs: 8000 });
      assert.match(r.stdout, /2 received/, 'the kernel pings packetflow afterwards');
    });
  });
}
