/**
 * rip6_output: a raw IPv6 socket's sends counted by its protocol, as
 * OpenBSD's raw_ip6.c: ICMPv6 (ping6) in the ICMPv6 output histogram, any
 * other protocol in rip6s_opackets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts6, ip6, icmp6stat } from './lab6.js';
import { sh } from '../../lab/helpers.js';
import { rip6_output } from '../../../src/sys/netinet6/raw_ip6.js';
import { netstat } from '../../../src/usr.bin/netstat/main.js';
import { StringOutput } from '../../../src/lib/io.js';
import { ICMP6_ECHO_REQUEST } from '../../../src/wire/icmp6.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import type { Mbuf } from '../../../src/sys/kern/uipc_mbuf.js';

function ns(k: Kernel, argv: string[]): string {
  const out = new StringOutput();
  assert.equal(netstat(k, argv, { stdout: out, stderr: out }), 0);
  return out.text();
}

test('ping6 sends through rip6_output: each echo request in the ICMPv6 output histogram, none in rip6s_opackets', async () => {
  const r = await sh('client: ping6 -c 2 -q 2001:db8:2::2\nclient: netstat -s -p icmp6 | head -n 7\nclient: netstat -ss -p rip6');
  assert.ok(r.out.includes(
    'icmp6:\n\t0 calls to icmp6_error\n\t0 errors not generated because old message was icmp6 or so\n' +
    '\t0 errors not generated because of rate limitation\n\tOutput packet histogram:\n\t\techo: 2\n'), r.out);
  // the replies come in through rip6_input; nothing of ping6's is a rip6 datagram output
  assert.ok(r.out.endsWith('rip6:\n\t4 messages received\n\t4 delivered\n'), r.out);
  const k = r.shell.lab.machines.get('client')!.k;
  assert.equal(k.stats.icmp6stat.value('icp6s_outhist', ICMP6_ECHO_REQUEST), 2);
  assert.equal(k.stats.rip6stat.value('rip6s_opackets'), 0);
});

test('rip6_output: a datagram of another protocol counts in rip6s_opackets ("1 datagram output")', () => {
  const { world, a, b } = threeHosts6(3);
  const dgram = (dst: string): Mbuf => {
    const m = a.k.mbufs.get(48)!;
    m.append(48);
    m.buf.fill(0, m.off, m.off + 48);
    m.buf[m.off] = 0x60;
    m.buf[m.off + 5] = 8;
    m.buf[m.off + 6] = 253; // RFC 3692 experimentation
    m.buf.set(ip6(dst), m.off + 24);
    return m;
  };
  const before = icmp6stat(a.k, 'icp6s_outhist', ICMP6_ECHO_REQUEST);
  assert.equal(rip6_output(a.k, dgram('2001:db8:2::20'), null, -1), 0);
  world.runFor(1e8);
  // b has no socket for 253: a parameter problem back, and its rip6s_nosock
  assert.equal(b.k.stats.rip6stat.value('rip6s_nosock'), 1);
  assert.equal(a.k.stats.rip6stat.value('rip6s_opackets'), 1);
  assert.equal(icmp6stat(a.k, 'icp6s_outhist', ICMP6_ECHO_REQUEST), before);
  assert.ok(ns(a.k, ['-ss', '-p', 'rip6']).includes('\t1 datagram output\n'));
});
