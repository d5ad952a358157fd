/**
 * pf over IPv6: pf_test at IN (ip6_input), FWD (ip6_forward) and OUT
 * (ip6_output) with `inet6` rules; states print IPv6 ports as `[port]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { threeHosts6, ip6, ip6stat, echo6, send6 } from './lab6.js';
import { capture, loadPf, pfctl } from '../net/pf_lab.js';
import { get16, get32 } from '../../../src/wire/bytes.js';
import { checksum, pseudoSum6 } from '../../../src/wire/checksum.js';
import { accept, drain, payload, pump, sha } from '../netinet/tcp_lab.js';
import { socreate, sobind, solisten, soconnect, SOCK_STREAM, type Socket } from '../../../src/sys/kern/uipc_socket.js';
import { AF_INET, AF_INET6, Sockaddr } from '../../../src/sys/netinet/in_pcb.js';
import { Proc, runWorld, SOCK_DGRAM } from '../../../src/lib/socket.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';

function sock6(k: Kernel): Socket {
  const so = socreate(k, AF_INET6, SOCK_STREAM, 0);
  if (typeof so === 'number') throw new Error(`socreate ${so}`);
  return so;
}

const CONF = `set skip on lo
block all
pass inet6 proto ipv6-icmp all
pass in on em0 inet6 proto tcp from 2001:db8:1::/64 to 2001:db8:2::20 port 80
pass out on em1 inet6 proto tcp to port 80
pass inet6 proto udp to port 53
`;

test('pf on an IPv6 router: inet6 rules pass TCP to port 80, block port 81; states with [port]', () => {
  const { world, a, r, b } = threeHosts6(1);
  loadPf(r.k, CONF);
  const l = sock6(b.k);
  assert.equal(sobind(l, Sockaddr.in6(new Uint8Array(16), 80)), 0);
  assert.equal(solisten(l, 5), 0);
  const l81 = sock6(b.k);
  assert.equal(sobind(l81, Sockaddr.in6(new Uint8Array(16), 81)), 0);
  assert.equal(solisten(l81, 5), 0);
  const c = sock6(a.k);
  assert.equal(soconnect(c, Sockaddr.in6(ip6('2001:db8:2::20'), 80)), 0);
  const c81 = sock6(a.k);
  assert.equal(soconnect(c81, Sockaddr.in6(ip6('2001:db8:2::20'), 81)), 0);
  world.runFor(1e9);
  const s = accept(l)!;
  assert.ok(s !== null);
  assert.equal(accept(l81), null, 'port 81 is blocked');
  const data = payload(100_000, 5);
  const rd = drain(s);
  pump(c, data, 'none');
  world.runFor(5e9);
  assert.equal(sha(rd.bytes()), sha(data));
  const lport = c.so_pcb!.inp_lport;
  const ss = pfctl(r.k, ['-ss']).out.split('\n').filter((l) => l.includes('tcp'));
  assert.deepEqual(ss, [
    `all tcp 2001:db8:2::20[80] <- 2001:db8:1::10[${lport}]       ESTABLISHED:ESTABLISHED`,
    `all tcp 2001:db8:1::10[${lport}] -> 2001:db8:2::20[80]       ESTABLISHED:ESTABLISHED`,
  ]);
  // The blocked SYNs of port 81 (retransmitted) counted as block by rule 1.
  const si = pfctl(r.k, ['-si']).out;
  assert.match(si, /match +\d+/);
  assert.ok(ip6stat(r.k, 'ip6s_forward') > 70);
});

test('pf on an IPv6 host: block out of UDP to a port fails the send with EACCES; pass keeps a state', async () => {
  const { world, a } = threeHosts6(2);
  loadPf(a.k, `block out inet6 proto udp to port 9\npass out inet6 proto udp to port 53 keep state\npass out inet6 proto ipv6-icmp\n`);
  const pa = new Proc(a.k);
  const u = pa.socket(AF_INET6, SOCK_DGRAM);
  await assert.rejects(runWorld(world, pa.sendto(u, 'x', { address: '2001:db8:2::20', port: 9 })), (e: Error & { code?: string }) => e.code === 'EACCES');
  await runWorld(world, pa.sendto(u, 'y', { address: '2001:db8:2::20', port: 53 }));
  const port = pa.getsockname(u).port;
  const ss = pfctl(a.k, ['-ss']).out.split('\n');
  assert.ok(ss.includes(`all udp 2001:db8:1::10[${port}] -> 2001:db8:2::20[53]       SINGLE:NO_TRAFFIC`));
  // The neighbor solicitation that resolved the router passed `pass out inet6 proto ipv6-icmp` (scope cleared for pf).
  // OpenBSD's fake id for a solicitation: the target's (2001:db8:1::1) eight 16-bit words xored, 0x2db9
  assert.ok(ss.includes('all ipv6-icmp 2001:db8:1::10[11705] -> ff02::1:ff00:1[135]       0:0'), ss.join('\n'));
  // ICMPv6 echo leaves through ip6_output's pf_test(OUT) too.
  assert.equal(send6(a.k, echo6(a.k, ip6('2001:db8:2::20'))), 0);
  world.runFor(1e9);
  assert.match(pfctl(a.k, ['-ss']).out, /all ipv6-icmp 2001:db8:1::10\[4660\] -> 2001:db8:2::20\[128\] +\d+:\d+/);
  // The router's pf passes everything: its solicitations keep states, the advertisements (solicited or not) none
  const { world: w2, a: a2, r: r2 } = threeHosts6(3);
  loadPf(r2.k, 'pass\n');
  assert.equal(send6(a2.k, echo6(a2.k, ip6('2001:db8:2::20'))), 0);
  w2.runFor(1e9);
  const rs = pfctl(r2.k, ['-ss']).out;
  assert.match(rs, /\[135\] +0:0\n/);
  assert.doesNotMatch(rs, /\[136\]|\[57344\]/);
});

test('block return over IPv6: pf answers a TCP SYN with a RST from the destination (hop limit 64, valid checksum); connect fails with ECONNREFUSED', () => {
  const { world, a, r, b } = threeHosts6(1);
  loadPf(r.k, 'pass all\nblock return in on em0 inet6 proto tcp to port 81\n');
  const l81 = sock6(b.k);
  assert.equal(sobind(l81, Sockaddr.in6(new Uint8Array(16), 81)), 0);
  assert.equal(solisten(l81, 5), 0);
  const seen = capture(a.ifs[0]!);
  const c = sock6(a.k);
  assert.equal(soconnect(c, Sockaddr.in6(ip6('2001:db8:2::20'), 81)), 0);
  world.runFor(1e9);
  assert.equal(c.so_error, 61 /* ECONNREFUSED */);
  assert.equal(accept(l81), null);
  const rsts = seen.filter((f) => f[12] === 0x86 && f[13] === 0xdd && f[20] === 6 && (f[54 + 13]! & 0x04) !== 0);
  assert.equal(rsts.length, 1);
  const p = rsts[0]!.subarray(14);
  assert.equal(get16(p, 4), 20, 'payload length: a bare TCP header');
  assert.equal(p[7], 64, 'hop limit: IPV6_DEFHLIM');
  assert.deepEqual([...p.subarray(8, 24)], [...ip6('2001:db8:2::20')]);
  assert.deepEqual([...p.subarray(24, 40)], [...ip6('2001:db8:1::10')]);
  // the client's port, from its SYN
  const syn = seen.find((f) => f[12] === 0x86 && f[13] === 0xdd && f[20] === 6 && f[54 + 13] === 0x02)!;
  const lport = get16(syn, 54);
  assert.equal(get16(p, 40), 81);
  assert.equal(get16(p, 42), lport);
  assert.equal(p[40 + 13], 0x14, 'RST|ACK');
  assert.equal(get32(p, 40 + 4), 0, 'seq: the SYN acked nothing');
  // The TCP checksum over the IPv6 pseudo-header sums to 0xffff.
  assert.equal(checksum(p, 40, 20, pseudoSum6(p, 8, 24, 6, 20)), 0);
  assert.match(pfctl(r.k, ['-si']).out, /\n {2}match +\d+/);
});

test('user = 55 matches the owner of an IPv6 socket (in6_pcblookup), as of an IPv4 one', async () => {
  const { world, a } = threeHosts6(2);
  loadPf(a.k, 'pass\nblock return out log proto udp all user 55\n');
  const p55 = new Proc(a.k, { uid: 55 });
  const p0 = new Proc(a.k);
  const u55 = p55.socket(AF_INET6, SOCK_DGRAM);
  const u0 = p0.socket(AF_INET6, SOCK_DGRAM);
  await assert.rejects(runWorld(world, p55.sendto(u55, 'x', { address: '2001:db8:2::20', port: 7 })), (e: Error & { code?: string }) => e.code === 'EACCES');
  await runWorld(world, p0.sendto(u0, 'x', { address: '2001:db8:2::20', port: 7 }));
  // IPv4 the same: an unconnected socket's datagram is its bound socket's (in_pcblookup_listen, outbound too)
  const v4 = p55.socket(AF_INET, SOCK_DGRAM);
  await assert.rejects(runWorld(world, p55.sendto(v4, 'x', { address: '192.0.2.1', port: 7 })), (e: Error & { code?: string }) => e.code === 'EACCES');
  const rule = a.k.pf!.main.rules[1]!;
  assert.equal(rule.packets1, 2);
  assert.match(pfctl(a.k, ['-ss']).out, /all udp 2001:db8:1::10\[\d+\] -> 2001:db8:2::20\[7\] +SINGLE:NO_TRAFFIC/);
});
