/**
 * The bundled example scripts reproduce the talk's slides from the default
 * lab; their transcripts are golden files (test/lab/golden/NAME.txt).
 * Source line numbers in explain output are masked, so edits elsewhere in a
 * file do not break the goldens.  UPDATE_GOLDEN=1 rewrites them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { script, repoRoot } from './helpers.js';

const root = repoRoot();
const dir = join(root, 'examples');

function mask(t: string): string {
  return t.replace(/(src\/[\w./-]+\.ts):\d+/g, '$1:N');
}

for (const f of readdirSync(dir).filter((x) => x.endsWith('.pfs')).sort()) {
  test(`examples/${f} reproduces its golden transcript`, async () => {
    const out = mask(await script(readFileSync(join(dir, f), 'utf8')));
    const golden = join(root, 'test', 'lab', 'golden', f.replace(/\.pfs$/, '.txt'));
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, out);
    assert.equal(out, readFileSync(golden, 'utf8'));
  });
}

test('the slides appear in the transcripts', async () => {
  const g = (n: string): string => readFileSync(join(root, 'test', 'lab', 'golden', n), 'utf8');
  assert.match(g('measurement.txt'), /\n\t\d+ packets forwarded\n/);
  assert.match(g('measurement.txt'), /\nblock return out log proto udp all user = 55\n/);
  assert.match(g('queues.txt'), /em1: flags=8c43<UP,BROADCAST,RUNNING,OACTIVE,SIMPLEX,MULTICAST> mtu 1500\n\tlladdr 0c:c4:7a:78:f3:55\n\tdescription: Intel I210\n/);
  assert.match(g('queues.txt'), /ix1 at pci1 dev 0 function 1 "Intel X550T" rev 0x01.*4 queues, address a0:36:9f:e0:52:55\n/);
  assert.match(g('queues.txt'), /ix1:0:txq:1\n(.*\n)*\s+oactive: true\n\s+oactives: [1-9]/);
  // Interface Queue qdrops: ix0's receive queue drops (a busy softnet), its transmit queue does not.
  assert.match(g('queues.txt'), /\nrouter# kstat ix0:0:rxq:0 ix0:0:txq:0\nix0:0:rxq:0\n {9}packets: \d+ packets\n {11}bytes: \d+ bytes\n {10}fdrops: 0 packets\n {10}qdrops: [1-9]\d+ packets\n(.*\n){4}ix0:0:txq:0\n {9}packets: \d+ packets\n {11}bytes: \d+ bytes\n {10}qdrops: 0 packets\n/);
  assert.match(g('ipstack.txt'), /router# diff -up before after\n--- before\n\+\+\+ after\n/);
  assert.match(g('ipstack.txt'), /ips_cantforward: struct ipstat/);
  // pf State: interface-bound states, both directions, rdr-to and nat-to translations in parentheses.
  const ps = g('pfstate.txt');
  assert.match(ps, /\nem0 tcp 203\.0\.113\.48:22 <- 10\.0\.1\.2:\d+ +ESTABLISHED:ESTABLISHED\n/);
  assert.match(ps, /\nem0 tcp 192\.168\.0\.31:22 \(203\.0\.113\.48:10031\) <- 10\.0\.1\.2:(\d+) +ESTABLISHED:ESTABLISHED\n/);
  assert.match(ps, /\nem1 tcp 10\.0\.1\.2:\d+ -> 192\.168\.0\.31:22 +ESTABLISHED:ESTABLISHED\n/);
  assert.match(ps, /\nem0 tcp 192\.168\.0\.31:443 \(203\.0\.113\.48:443\) <- 10\.0\.3\.2:\d+ +ESTABLISHED:ESTABLISHED\n/);
  assert.match(ps, /\nem0 tcp 203\.0\.113\.48:(5[0-9]{4}|6[0-5][0-9]{3}) \(192\.168\.0\.31:\d+\) -> 10\.0\.2\.2:443 +ESTABLISHED:ESTABLISHED\n/);
  assert.match(ps, /rule 1\/\(match\) pass in on em0: 10\.0\.1\.2\.\d+ > 203\.0\.113\.48\.10031: S /);
  // Protocol Statistics Counter, tcp: the slide's lines after a transfer over a lossy cable.
  const ts = g('tcpstats.txt');
  assert.match(ts, /\nclient# netstat -ss -p tcp\ntcp:\n\t[1-9]\d* packets sent\n\t\t[1-9]\d* data packets \([1-9]\d* bytes\)\n\t\t[1-9]\d* data packets? \([1-9]\d* bytes\) retransmitted\n/);
  assert.match(ts, /\nrouter# netstat -ss -p tcp\ntcp:\n\t[1-9]\d* packets sent\n\t\t[1-9]\d* ack-only packets \([1-9]\d* delayed\)\n\t\t[1-9]\d* window update packets?\n/);
  assert.match(ts, /\n\t[1-9]\d* SACK recovery episodes?\n/);
  assert.match(ts, /\ntcps_sndrexmitpack: struct tcpstat[^\n]*\n {2}netstat: n data packets \(n bytes\) retransmitted\n/);
  // Network Sockets: netstat -an as on the slide, TCP (foreign ports descending, then the listener), then UDP.
  assert.match(g('sockets.txt'), new RegExp('\nclient# netstat -an\n' +
    'Active Internet connections \\(including servers\\)\n' +
    'Proto {3}Recv-Q Send-Q {2}Local Address {10}Foreign Address {8}TCP-State\n' +
    'tcp {10}0 {6}0 {2}10\\.0\\.1\\.2\\.22 {12}10\\.0\\.1\\.1\\.(\\d+) +ESTABLISHED\n' +
    'tcp {10}0 {6}0 {2}10\\.0\\.1\\.2\\.22 {12}10\\.0\\.1\\.1\\.(\\d+) +ESTABLISHED\n' +
    'tcp {10}0 {6}0 {2}\\*\\.22 {19}\\*\\.\\* {20}LISTEN\n' +
    'Active Internet connections \\(including servers\\)\n' +
    'Proto {3}Recv-Q Send-Q {2}Local Address {10}Foreign Address {7}\n' +
    'udp {10}0 {6}0 {2}10\\.0\\.1\\.2\\.\\d+ +10\\.0\\.1\\.1\\.123 {10}\n' +
    'udp {10}0 {6}0 {2}\\*\\.161 {18}\\*\\.\\* {19}\n'));
  // Socket Buffer: Recv-Q of the reader that does not read, Send-Q in front of the slow link.
  const sb = g('sockbuf.txt');
  assert.match(sb, /router# netstat -n -p tcp\nActive Internet connections\nProto {3}Recv-Q Send-Q {2}Local Address {10}Foreign Address {8}TCP-State\ntcp +[1-9]\d{3,} +0 +10\.10\.11\.2\.\d+ +10\.10\.11\.1\.41996 +ESTABLISHED\ntcp +0 +[1-9]\d{3,} +10\.10\.12\.3\.\d+ +10\.10\.12\.4\.12345 +ESTABLISHED\n/);
});

test('the IP Stack slides appear in their transcripts: Netstat Counter, IP Forwarding (TCP), UDP, IPv6, pf Test / pf IPv6', () => {
  const g = (n: string): string => readFileSync(join(root, 'test', 'lab', 'golden', n), 'utf8');
  // Netstat Counter: the router's ip, tcp, udp and ip6 lines, udp with drops for full socket buffers and fewer delivered.
  const nc = g('netstat-counter.txt');
  assert.match(nc, /\nrouter# netstat -ss -p ip \| grep [^\n]*\n\t[1-9]\d* total packets received\n\t[1-9]\d* packets for this host\n\t[1-9]\d* packets forwarded\n\t[1-9]\d* packets sent from this host\n/);
  assert.match(nc, /\nrouter# netstat -ss -p tcp \| grep [^\n]*\n\t[1-9]\d* packets sent\n\t[1-9]\d* packets received\n/);
  const udp = /\nudp:\n\t(\d+) datagrams received\n(?:\t.*\n)*?\t(\d+) dropped due to full socket buffers\n\t(\d+) delivered\n/.exec(nc);
  assert.ok(udp !== null);
  assert.ok(Number(udp[2]) > 0 && Number(udp[3]) > 0 && Number(udp[1]) === Number(udp[2]) + Number(udp[3]));
  assert.match(nc, /\nrouter# netstat -ss -p ip6 \| grep [^\n]*\n\t[1-9]\d* total packets received\n\t[1-9]\d* packets for this host\n\t[1-9]\d* packets forwarded\n\t[1-9]\d* packets sent from this host\n/);
  // IP Forwarding (TCP), UDP, IPv6: from the sender's socket through the router's forwarding to the receiver's socket.
  const fw = g('forwarding.txt');
  assert.match(fw, /\n {2}client: tcp_output → ip_output → ether_output → [^\n]*\n {2}router: [^\n]* ether_input → ip_input → pf_test\(IN\) → ip_forward → ip_output → pf_test\(OUT\) → ether_output → [^\n]*\n {2}far: [^\n]* ether_input → ip_input → ip_ours → ip_deliver → tcp_input\n/);
  assert.match(fw, /\n {2}client: udp_output → ip_output → [^\n]*\n {2}router: [^\n]* ip_input → pf_test\(IN\) → ip_forward → ip_output → [^\n]*\n {2}far: [^\n]* ip_deliver → udp_input → udp_sbappend\n/);
  assert.match(fw, /\n {2}client: udp6_output → ip6_output → [^\n]*\n {2}router: [^\n]* ether_input → ip6_input → pf_test\(IN\) → ip6_forward → pf_test\(OUT\) → ether_output → [^\n]*\n {2}peer: [^\n]* ip6_input → udp_input → udp_sbappend\n/);
  // pf Test / pf IPv6: pf_test(IN) in ip_input and ip6_input drops, pf_test(OUT) in ip_output drops, ip6_forward meets pf.
  const pt = g('pftest.txt');
  assert.match(pt, /\n {2}router: [^\n]* ether_input → ip_input → pf_test\(IN\)\n {2}dropped on router: pf_test\(IN\): block, rule 2\n/);
  assert.match(pt, /\n {2}router: [^\n]* ether_input → ip6_input → pf_test\(IN\)\n {2}dropped on router: pf_test\(IN\): block, rule 2\n/);
  // (block return: pf_send_icmp answers the blocked datagram with a port unreachable, a step of its journey)
  assert.match(pt, /\n {2}router: udp_output → ip_output → pf_test\(OUT\) → pf_send_icmp → icmp_error\n {2}dropped on router: pf_test\(OUT\): block, rule 4\n/);
  assert.match(pt, /\n {2}router: [^\n]* ip6_input → pf_test\(IN\) → ip6_forward → pf_test\(OUT\) → ether_output → /);
});
