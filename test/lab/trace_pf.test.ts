/**
 * pf's rewrites in journeys: nat-to, rdr-to, the replies of their states,
 * ICMP errors about translated packets and af-to, each a Δ naming the
 * rule, with the addresses, ports and checksums before and after, the
 * same bytes as tracing off writes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from './helpers.js';

/** The hex dump lines of tcpdump -x in out. */
function hexLines(out: string): string[] {
  return out.split('\n').filter((l) => l.startsWith('\t\t\t '));
}

test('trace shows the nat-to of fw: the rule, the source address:port before and after, the checksums; the reply back', async () => {
  const r = await sh('server: trace nc -w 1 10.0.2.2 443 </dev/null');
  // the SYN leaving fw's em0 (rule 3: pass out on em0 from em1:network nat-to (em0))
  assert.ok(r.out.includes(
    '       pf_test em0: out\n' +
    '         Δ pf_translate: rule 3 nat-to: src 192.168.0.31:21195 → 203.0.113.48:54657, ip_sum 0x5062 → 0xd4f8, th_sum 0xd07f → 0xd25f\n' +
    '         ↳ pf_test: rule 3 pass\n' +
    // ip_output's checksum goes on from the translated one: the ttl only
    '         Δ ip_output: ip_sum 0xd4f8 → 0xd5f8\n'), r.out);
  // peer's RST coming back in: the state gives the destination back
  assert.ok(r.out.includes(
    '       pf_test em0: in\n' +
    '         Δ pf_translate: state (rule 3 nat-to), reply: dst 203.0.113.48:54657 → 192.168.0.31:21195, ip_sum 0x9163 → 0x0ccd, th_sum 0xe176 → 0xdf96\n' +
    '         ↳ pf_test: state match\n'), r.out);
});

test('the bytes pf writes with a tracer are those it writes without: the SYN on the router and the RST on the server, by tcpdump -x', async () => {
  const cmds = 'router: tcpdump -nx -i em3 tcp &\nserver: tcpdump -nx -i em0 tcp &\nserver: CMD nc -w 1 10.0.2.2 443 </dev/null\nrouter: sleep 1';
  const off = hexLines((await sh(cmds.replace('CMD ', ''))).out);
  const on = hexLines((await sh(cmds.replace('CMD', 'trace -s'))).out);
  assert.equal(off.length, 14);
  assert.deepEqual(on, off);
  // the translated SYN's th_sum and the RST's, as the journey has them
  assert.equal(off[6], '\t\t\t b002 4000 d25f 0000 0204 05b4 0101 0402');
  assert.ok(off.includes('\t\t\t 5014 0000 df96 0000'), off.join('\n'));
});

test('trace shows the rdr-to of fw: the destination rewritten on the way in, the source given back on the way out', async () => {
  const r = await sh('server: nc -l 22 &\nrouter: trace nc -v -w 1 203.0.113.48 10031 </dev/null');
  assert.match(r.err, /Connection to 203\.0\.113\.48 10031 port \[tcp\/\*\] succeeded!/);
  const deltas = r.out.split('\n').filter((l) => l.includes('Δ pf_translate'));
  assert.equal(deltas[0], '         Δ pf_translate: rule 1 rdr-to: dst 203.0.113.48:10031 → 192.168.0.31:22, ip_sum 0x7637 → 0xf1a0, th_sum 0x88d6 → 0x2b59');
  assert.equal(deltas[1], '         Δ pf_translate: state (rule 1 rdr-to), reply: src 192.168.0.31:22 → 203.0.113.48:10031, ip_sum 0x2797 → 0xac2d, th_sum 0x1d5c → 0x7ad9');
  assert.equal(deltas[2], '         Δ pf_translate: state (rule 1 rdr-to): dst 203.0.113.48:10031 → 192.168.0.31:22, ip_sum 0x688f → 0xe3f8, th_sum 0xfaaa → 0x9d2d');
  assert.equal(deltas.length, 7);
});

test('an ICMP error about a nat-to\'d datagram finds its state and reaches the server translated back (pf_test_state_icmp_error)', async () => {
  const r = await sh('server: tcpdump -nx -i em0 icmp &\nserver: echo x >m\nserver: trace nc -u -w 1 10.0.2.2 5354 <m');
  assert.ok(r.out.includes(
    '00:00:11.000754 10.0.2.2 > 192.168.0.31: icmp: 10.0.2.2 udp port 5354 unreachable\n' +
    '\t\t\t 4500 0038 623a 0000 fd01 8ec1 0a00 0202\n' +
    // the quoted header's checksum stays as it came (0x1710), as OpenBSD leaves it, the quoted UDP checksum becomes 0
    // (pf_test_state_icmp's uh_sum patch); the ICMP checksum follows the quoted bytes
    '\t\t\t c0a8 001f 0303 10a7 0000 0000 4500 001e\n' +
    '\t\t\t 1d8d 0000 3e11 1710 c0a8 001f 0a00 0202\n' +
    '\t\t\t 52cb 14ea 000a 0000\n'), r.out);
  assert.ok(r.out.includes(
    '         Δ pf_translate: state (rule 3 nat-to), reply, icmp error: dst 203.0.113.48 → 192.168.0.31, ' +
    'quoted src 203.0.113.48:54657 → 192.168.0.31:21195, ip_sum 0x1258 → 0x8dc1, icmp_cksum 0xbd55 → 0x10a7\n'), r.out);
  assert.match(r.out, /#4 10\.0\.2\.2 > 203\.0\.113\.48: icmp: 10\.0\.2\.2 udp port 5354 unreachable\n(.*\n)*? {3}fate: delivered on server\n/);
});

test('an ICMP error from behind an rdr-to leaves fw with the public address, quoted and outer (both sides of pf_translate_icmp)', async () => {
  const r = await sh([
    "fw: echo 'pass in on em0 proto udp to (em0) port 5000 rdr-to 192.168.0.31 port 5001' >x.conf", 'fw: cat /etc/pf.conf x.conf >y.conf',
    'fw: pfctl -f y.conf', 'client: echo y >m', 'client: tcpdump -nvx -i em0 icmp &', 'client: trace nc -u -w 1 203.0.113.48 5000 <m',
  ].join('\n'));
  assert.ok(r.out.includes(
    '00:00:11.000880 203.0.113.48 > 10.0.1.2: icmp: 203.0.113.48 udp port 5000 unreachable [icmp cksum ok] (ttl 253, id 31561, len 56)\n' +
    '\t\t\t 4500 0038 7b49 0000 fd01 fb48 cb00 7130\n' +
    '\t\t\t 0a00 0102 0303 2f07 0000 0000 4500 001e\n'), r.out);
  assert.ok(r.out.includes(
    '         Δ pf_translate: rule 4 rdr-to: dst 203.0.113.48:5000 → 192.168.0.31:5001, ip_sum 0x5371 → 0xceda, uh_sum 0xed1a → 0x6883\n'), r.out);
  assert.ok(r.out.includes(
    '         Δ pf_translate: state (rule 4 rdr-to), reply, icmp error: src 192.168.0.31 → 203.0.113.48, ' +
    'quoted dst 192.168.0.31:5001 → 203.0.113.48:5000, ip_sum 0x74b2 → 0xf948, icmp_cksum 0x41ec → 0x2f07\n'), r.out);
});

test('trace shows af-to: the header replaced, the addresses, echo type and id, the checksum, both ways', async () => {
  const r = await sh([
    "router: echo 'pass in on em0 inet6 from any to 64:ff9b::/96 af-to inet from 10.10.12.3' >nat64.conf",
    'router: cat /etc/pf.conf nat64.conf >pf.nat64', 'router: pfctl -f pf.nat64', 'sink: tcpdump -nx -i em0 icmp &',
    'client: trace ping6 -c 1 64:ff9b::a0a:c04',
  ].join('\n'));
  assert.ok(r.out.includes(
    '       pf_translate_af em0: af-to inet\n' +
    '         Δ pf_translate_af: rule 5 af-to inet: src 2001:db8:1::2 → 10.10.12.3, dst 64:ff9b::a0a:c04 → 10.10.12.4, ' +
    'IPv6 header (40 bytes) → IPv4 header (20 bytes), icmp6_type 128 → icmp_type 8, icmp6_id 18662 → 22939, icmp6_cksum 0x42a9 → icmp_cksum 0xee38\n'), r.out);
  // the checksum the journey gives is the one on sink's wire
  assert.ok(r.out.includes('\t\t\t 0a0a 0c04 0800 ee38 599b 0000 0000 0002\n'), r.out);
  assert.ok(r.out.includes(
    '         Δ pf_translate_af: state (rule 5 af-to inet), reply: src 10.10.12.4 → 64:ff9b::a0a:c04, dst 10.10.12.3 → 2001:db8:1::2, ' +
    'IPv4 header (20 bytes) → IPv6 header (40 bytes), icmp_type 0 → icmp6_type 129, icmp_id 22939 → 18662, icmp_cksum 0xf638 → icmp6_cksum 0x41a9\n'), r.out);
});
