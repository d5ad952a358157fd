/**
 * The tcpdump command end to end: options, filters, -c, -w, -F, and the
 * errors OpenBSD's tcpdump prints, on the committed capture fixtures.
 */
process.env.TZ = 'UTC';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { capture } from '../../../src/lib/io.js';
import { tcpdump } from '../../../src/usr.sbin/tcpdump/tcpdump.js';
import { ROOT } from '../../helpers/root.js';

const SCAPY = join(ROOT, 'test/fixtures/captures/scapy-mixed.pcap');
const LINUX = join(ROOT, 'test/fixtures/captures/linux-netns.pcap');
const TSHARK = '/usr/bin/tshark';

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}

test('reads a capture and prints OpenBSD lines for every packet', async () => {
  const r = await capture(tcpdump, ['-nr', SCAPY]);
  assert.equal(r.status, 0);
  const out = lines(r.stdout);
  assert.equal(out.length, 58);
  assert.equal(out[0], '22:13:20.000000 arp who-has 192.0.2.254 tell 192.0.2.1');
  assert.equal(out[2], '22:13:20.002000 192.0.2.1.40000 > 198.51.100.2.80: S 1000:1000(0) win 64240 <mss 1460,sackOK,timestamp 123456 0,nop,wscale 7>');
  assert.equal(out[13], '22:13:20.013000 192.0.2.1 > 198.51.100.2: icmp: echo request');
  assert.equal(r.stderr, 'tcpdump: WARNING: snaplen raised from 116 to 65535\n');
});

test('a filter expression selects packets; -c stops after COUNT matches', async () => {
  const all = await capture(tcpdump, ['-nr', LINUX, 'tcp and port 8080']);
  const n = lines(all.stdout).length;
  assert.ok(n > 5);
  for (const l of lines(all.stdout)) assert.match(l, /\.8080[ :]/);
  const three = await capture(tcpdump, ['-n', '-c', '3', '-r', LINUX, 'tcp', 'and', 'port', '8080']);
  assert.deepEqual(lines(three.stdout), lines(all.stdout).slice(0, 3));
  const icmp = await capture(tcpdump, ['-nr', LINUX, 'icmp']);
  assert.equal(lines(icmp.stdout).length, 4);
});

test('-v adds the IP details of the talk', async () => {
  const r = await capture(tcpdump, ['-nvr', SCAPY, 'icmp[icmptype] = icmp-echo and ip[4:2] = 12']);
  assert.equal(r.stdout, '22:13:20.013000 192.0.2.1 > 198.51.100.2: icmp: echo request (id:c52b seq:0) [icmp cksum ok] (ttl 64, id 12, len 84)\n');
});

test('-F reads the expression from a file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pf-tcpdump-'));
  try {
    const f = join(dir, 'filter');
    writeFileSync(f, '# only ARP\narp\n');
    const r = await capture(tcpdump, ['-n', '-F', f, '-r', SCAPY]);
    assert.equal(lines(r.stdout).length, 2);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('errors are printed as OpenBSD prints them', async () => {
  const bad = await capture(tcpdump, ['-z']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^tcpdump: unknown option -- z\nUsage: tcpdump \[-AadefILlNnOopqStvXx\]/);
  const count = await capture(tcpdump, ['-c', '0', '-r', SCAPY]);
  assert.equal(count.stderr, 'tcpdump: invalid packet count 0: too small\n');
  const syntax = await capture(tcpdump, ['-nr', SCAPY, 'tcp and']);
  assert.equal(syntax.status, 1);
  assert.match(syntax.stderr, /tcpdump: syntax error\n$/);
  const missing = await capture(tcpdump, ['-r', '/nonexistent/x.pcap']);
  assert.equal(missing.stderr, 'tcpdump: /nonexistent/x.pcap: No such file or directory\n');
  const both = await capture(tcpdump, ['-a', '-n', '-r', SCAPY]);
  assert.equal(both.stderr, 'tcpdump: -a and -n options are incompatible\n');
});

test('a truncated file prints every packet before the damage, then names the offset', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pf-tcpdump-'));
  try {
    const bytes = readFileSync(SCAPY);
    const cut = join(dir, 'cut.pcap');
    writeFileSync(cut, bytes.subarray(0, 24 + 16 + 42 + 16 + 42 + 16 + 10));
    const r = await capture(tcpdump, ['-nr', cut]);
    assert.equal(r.status, 1);
    assert.equal(lines(r.stdout).length, 2);
    assert.match(r.stderr, /^tcpdump: WARNING: snaplen raised from 116 to 65535\ntcpdump: pcap_loop: truncated packet record at offset 140: caplen 74 but 10 bytes left\n$/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('-w writes the selected packets, and they read back the same', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pf-tcpdump-'));
  try {
    const w = join(dir, 'out.pcap');
    const wr = await capture(tcpdump, ['-r', SCAPY, '-w', w, 'ip or ip6']);
    assert.equal(wr.status, 0);
    const direct = await capture(tcpdump, ['-nr', SCAPY, 'ip or ip6']);
    const again = await capture(tcpdump, ['-nr', w]);
    assert.equal(again.stdout, direct.stdout);
    // 58 frames: two ARP, and two VLAN-tagged ones that `ip` does not match without `vlan`.
    assert.equal(lines(again.stdout).length, 54);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('pcaps written by packetflow pass tshark with checksum checks on', { skip: existsSync(TSHARK) ? false : 'tshark not installed: validity gate skipped' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pf-tcpdump-'));
  try {
    // The well-formed part of the scapy capture: the last seven frames are broken on purpose,
    // two carry payloads that are not what their ports or protocol promise (SSH, IGMP), and the
    // hand-made IPv6 fragments before them do not reassemble.
    const w = join(dir, 'good.pcap');
    const wr = await capture(tcpdump, ['-r', SCAPY, '-c', '47', '-w', w, 'not port 22 and not igmp']);
    assert.equal(wr.status, 0);
    const gate = 'ip.checksum.status==0 || tcp.checksum.status==0 || udp.checksum.status==0 || icmp.checksum.status==0 || icmpv6.checksum.status==0 || _ws.malformed || _ws.expert.severity>=error';
    const args = ['-r', w, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-Y', gate];
    const bad = execFileSync(TSHARK, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.equal(bad, '', 'tshark finds no bad checksum, malformed packet or expert error');
    const count = execFileSync(TSHARK, ['-r', w], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.equal(lines(count).length, 47);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
