/**
 * pf in the lab: rc's pf=YES (the router's and the firewall's /etc/pf.conf
 * loaded at boot, pf enabled), pfctl bound to the machine's kernel, and
 * pflog0 in a live capture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sh } from './helpers.js';

test('pf Rules slide: pfctl -sr on the router prints exactly the five lines', async () => {
  const r = await sh('router: pfctl -sr');
  assert.equal(r.out, [
    'block return all',
    'pass all flags S/SA',
    'block return in on ! lo0 proto tcp from any to any port 6000:6010',
    'block return out log proto tcp all user = 55',
    'block return out log proto udp all user = 55',
    '',
  ].join('\n'));
  assert.equal(r.err, '');
});

test('traffic through the router makes states; -si counts; -d/-e; -n still checks files', async () => {
  const r = await sh([
    'client: ping -c 1 -q 10.0.2.2 >/dev/null',
    'router: pfctl -ss',
    'router: pfctl -si | grep -E "Status|inserts"',
    'router: pfctl -d',
    'router: pfctl -si | head -n 1',
    'router: pfctl -e',
    'router: pfctl -nf /etc/pf.conf',
  ].join('\n'));
  // The echo request's state on the way in (em0) and out (ix0): floating, so "all"; ICMP states have no levels (0:0).
  assert.match(r.out, /\nall icmp 10\.0\.2\.2:8 <- 10\.0\.1\.2:\d+ +0:0\nall icmp 10\.0\.1\.2:\d+ -> 10\.0\.2\.2:8 +0:0\n/);
  // IPv6 boot traffic (DAD, MLD) passed the router's pf too.
  assert.match(r.out, /^all ipv6-icmp /);
  assert.match(r.out, /\nStatus: Enabled for 0 days 00:00:\d\d +Debug: err\n +inserts +\d+ /);
  assert.match(r.out, /\nStatus: Disabled +Debug: err\n/);
  assert.match(r.err, /^pf disabled\npf enabled\n$/);
});

test('pf Test slide: a connection to the port range the router blocks is refused by pf_test', async () => {
  const r = await sh('peer: nc -l 6000 &\nclient: nc -v -w 2 10.0.2.2 6000\nrouter: pfctl -vsr');
  assert.match(r.err, /nc: connect to 10\.0\.2\.2 port 6000 \(tcp\) failed: Connection refused\n/);
  assert.match(r.out, /block return in on ! lo0 proto tcp from any to any port 6000:6010\n {2}\[ Evaluations: \d+ +Packets: [1-9]\d* +Bytes: \d+ +States: 0 +\]\n/);
});

test('live tcpdump on pflog0 prints the pflog header with -e', async () => {
  const r = await sh([
    'server: nc -l 22 &',
    'fw: tcpdump -nei pflog0 &',
    'client: nc 203.0.113.48 10031 &',
    'sleep 1',
    'fw: pfctl -ss | grep 10031',
  ].join('\n'));
  assert.match(r.out, /\[2\] tcpdump on fw:pflog0\n/);
  assert.match(r.out, /\d\d:\d\d:\d\d\.\d{6} rule 1\/\(match\) pass in on em0: 10\.0\.1\.2\.\d+ > 203\.0\.113\.48\.10031: S /);
  assert.match(r.out, /\nem0 tcp 192\.168\.0\.31:22 \(203\.0\.113\.48:10031\) <- 10\.0\.1\.2:\d+ +ESTABLISHED:ESTABLISHED\n/);
});

test('IPv6 states show link-local addresses as on the wire: lo0 clears the embedded scope around pf_test(IN)', async () => {
  const r = await sh([
    'router: ping6 -c 1 fe80::1%lo0',
    'router: pfctl -ss',
  ].join('\n'));
  // The reply came back through pf: the state of the request matched it.
  assert.match(r.out, /\n1 packets transmitted, 1 packets received, 0\.0% packet loss\n/);
  assert.match(r.out, /\nall ipv6-icmp fe80::1\[(\d+)\] -> fe80::1\[128\] +0:0\nall ipv6-icmp fe80::1\[128\] <- fe80::1\[\1\] +0:0\n/);
  // DAD of fe80::1 on lo0 at boot, looped back: in and out alike.
  assert.match(r.out, /\nall ipv6-icmp ff02::1:ff00:1\[130\] <- fe80::1\[2\] +0:0\n/);
  // No embedded scope (fe80:1::, ff02:1::) anywhere.
  assert.doesNotMatch(r.out, /\b(fe80|ff02):[0-9a-f]+::/);
});

test('pf Rules slide: `user = 55` blocks what doas -u 55 sends with a RST, and lets root\'s connection through', async () => {
  const r = await sh([
    'peer: nc -l 2222 >got &',
    'router: tcpdump -n -i pflog0 -e &',
    'router: tcpdump -n -i lo0 &',
    'router: doas -u 55 nc -v 10.0.2.2 2222',
    'sleep 1',
    'kill %2',
    'kill %3',
    'router: echo from root >msg',
    'router: nc -v -N 10.0.2.2 2222 <msg',
    'sleep 1',
    'peer: cat got',
    'router: pfctl -vsr',
  ].join('\n'));
  // ip_output's EACCES for the SYN pf dropped; pf_send_tcp's RST comes back over lo0.
  assert.equal(r.err, 'nc: connect to 10.0.2.2 port 2222 (tcp) failed: Permission denied\nConnection to 10.0.2.2 2222 port [tcp/*] succeeded!\n');
  const port = /block out on ix0: 10\.0\.2\.1\.(\d+) > 10\.0\.2\.2\.2222: S /.exec(r.out);
  assert.ok(port, r.out);
  assert.match(r.out, new RegExp(`\\n00:00:11\\.000000 rule 3/\\(match\\) block out on ix0: 10\\.0\\.2\\.1\\.${port[1]} > 10\\.0\\.2\\.2\\.2222: S \\d+:\\d+\\(0\\) win 16384 `));
  assert.match(r.out, new RegExp(`\\n00:00:11\\.000000 10\\.0\\.2\\.2\\.2222 > 10\\.0\\.2\\.1\\.${port[1]}: R 0:0\\(0\\) ack \\d+ win 0 `));
  assert.match(r.out, /\nfrom root\n/);
  assert.match(r.out, /\nblock return out log proto tcp all user = 55\n {2}\[ Evaluations: \d+ +Packets: 1 +Bytes: 64 +States: 0 +\]\n/);
});

test('doas: users by name from /etc/passwd or OpenBSD\'s accounts, or by number; errors as doas prints them', async () => {
  const r = await sh([
    'router: echo \'_bench:*:55:55::/nonexistent:/sbin/nologin\' >/etc/passwd',
    'router: doas -u _bench nc -v 10.0.2.2 22',
    'client: doas -u nobody nc -v 10.0.2.2 22',
    'client: doas -u bogus nc 10.0.2.2 22',
    'doas -u 55 nosuch',
    'doas',
  ].join('\n'));
  assert.equal(r.err, [
    'nc: connect to 10.0.2.2 port 22 (tcp) failed: Permission denied',
    'nc: connect to 10.0.2.2 port 22 (tcp) failed: Connection refused',
    'doas: unknown user',
    'doas: nosuch: command not found',
    'usage: doas [-Lns] [-a style] [-C config] [-u user] command [arg ...]',
    '',
  ].join('\n'));
  const { lookupUser } = await import('../../src/lab/doas.js');
  assert.deepEqual(lookupUser(r.shell.lab.machine('client')!, 'nobody'), { uid: 32767, gid: 32767 });
  assert.deepEqual(lookupUser(r.shell.lab.machine('router')!, '_bench'), { uid: 55, gid: 55 });
  assert.equal(lookupUser(r.shell.lab.machine('router')!, 'nobody'), null);
});

test('the firewall translates ICMP errors back to the NAT\'d server: ping -t 2 hears Time to live exceeded, nc -u the port unreachable', async () => {
  const r = await sh([
    'server: ping -v -c 1 -t 2 10.0.2.2',
    'server: echo x >m',
    'server: trace -s nc -u -w 1 10.0.2.2 5354 <m',
  ].join('\n'));
  // the router's time exceeded quotes the request as the firewall sent it; it reaches the server with the server's address
  assert.match(r.out, /\n36 bytes from 203\.0\.113\.1: Time to live exceeded\nVr HL TOS {2}Len {3}ID Flg {2}off TTL Pro {2}cks {6}Src {6}Dst Data\n 4 {2}5 {2}00 5400 [0-9a-f]{4} {3}0 0000 {2}01 {2}01 [0-9a-f]{4} 192\.168\.0\.31 {2}10\.0\.2\.2 \n/);
  // the port unreachable matches the state through its quote, on fw's em0 and em1, and is delivered to the server
  assert.match(r.out, /\n#4 \(from #1\) 10\.0\.2\.2 > 203\.0\.113\.48: icmp: 10\.0\.2\.2 udp port 5354 unreachable\n/);
  assert.match(r.out, /\n {2}fw: em_intr → ifiq_input → bpf_mtap_ether\(IN\) → if_input_process → ether_input → ip_input → pf_test\(IN\) → ip_forward → ip_output → pf_test\(OUT\) → [^\n]*\n {2}server: [^\n]* → ip_input → ip_ours → ip_deliver → icmp_input → rip_input\n/);
  const t = await sh('server: echo x >m\nserver: trace nc -u -w 1 10.0.2.2 5354 <m');
  assert.match(t.out, /\n {7}pf_test em0: in\n {9}Δ pf_translate: state \(rule 3 nat-to\), reply, icmp error: [^\n]*\n {9}↳ pf_test: state match\n(?:[^\n]*\n)*? {7}pf_test em1: out\n {9}↳ pf_test: state match\n/);
});

test('pflog: a nat-to rule logs the packet as it came with the translation in the header; log (user) names the socket\'s uid and pid', async () => {
  const r = await sh([
    'fw: echo pass >p.conf',
    'fw: echo "pass out log on em0 from em1:network nat-to (em0)" >>p.conf',
    'fw: echo "pass out log (user) on em0 proto udp to port 9999" >>p.conf',
    'fw: pfctl -f p.conf',
    'fw: tcpdump -ni pflog0 -w pf.pcap &',
    'server: echo x >m',
    'fw: echo x >m',
    'server: nc -u -w 1 10.0.2.2 53 <m',
    'fw: doas -u 55 nc -u -w 1 10.0.2.2 9999 <m',
    'fw: nc -u -w 1 10.0.2.2 9999 <m',
    'sleep 1',
    'fw: kill %1',
    'fw: tcpdump -nevr pf.pcap',
  ].join('\n'));
  const lines = r.out.split('\n').filter((l) => l.includes(' rule '));
  assert.equal(lines.length, 3, r.out);
  assert.match(lines[0]!, /^00:00:\d\d\.\d{6} rule 1\/\(match\) \[uid 0, pid 0\] pass out on em0: \[rewritten: src 203\.0\.113\.48:\d+, dst 10\.0\.2\.2:53\] 192\.168\.0\.31\.\d+ > 10\.0\.2\.2\.53: /);
  // doas -u 55's nc and root's: each its socket's uid and the pid of the program
  const who = lines.slice(1).map((l) => /pass out on em0: \[uid (\d+), pid (\d+)\] 203\.0\.113\.48\.\d+ > 10\.0\.2\.2\.9999: /.exec(l)?.slice(1));
  assert.equal(who[0]![0], '55');
  assert.equal(who[1]![0], '0');
  assert.equal(Number(who[1]![1]), Number(who[0]![1]) + 1);
});
