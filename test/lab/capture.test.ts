/**
 * tcpdump -w in the lab shell: a libpcap file among the machine's files
 * with the interface's link type, read back with tcpdump -r, exported to
 * the host (and opened by tshark when it is installed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { sh } from './helpers.js';
import { fileBytes } from '../../src/lab/files.js';
import { get32le, get32 } from '../../src/wire/bytes.js';
import { PcapReader } from '../../src/usr.sbin/tcpdump/pcap.js';

/** The libpcap header's linktype, in either byte order. */
function linktype(b: Uint8Array): number {
  return get32le(b, 0) === 0xa1b2c3d4 ? get32le(b, 20) : get32(b, 20);
}

test('tcpdump -w em0 writes a pcap file that tcpdump -r reads back', async () => {
  const r = await sh('router: tcpdump -ni em0 -c 2 -w cap.pcap icmp &\nclient: ping -c 2 -q 10.0.1.1\nrouter: ls\ntcpdump -nr cap.pcap');
  assert.equal(r.err, '');
  assert.match(r.out, /\ncap\.pcap\n/);
  assert.match(r.out, /\n00:00:\d\d\.\d{6} 10\.0\.1\.2 > 10\.0\.1\.1: icmp: echo request\n00:00:\d\d\.\d{6} 10\.0\.1\.1 > 10\.0\.1\.2: icmp: echo reply\n$/);
  const m = r.shell.lab.machines.get('router')!;
  const b = fileBytes(m.files.get('cap.pcap')!);
  assert.equal(linktype(b), 1);
  const rd = PcapReader.fromBytes(b);
  let n = 0;
  while (rd.next()) {
    n++;
    assert.equal(rd.caplen, 98);
    assert.equal(rd.len, 98);
  }
  assert.equal(rd.error, null);
  assert.equal(n, 2);
});

test('tcpdump -w takes the link type of lo0 (LOOP) and pflog0 (PFLOG)', async () => {
  const r = await sh([
    'server: nc -l 22 &',
    'fw: tcpdump -ni pflog0 -w pf.pcap &',
    'fw: tcpdump -ni lo0 -c 1 -w lo.pcap &',
    'fw: ping -c 1 -q 127.0.0.1',
    'client: nc 203.0.113.48 10031 &',
    'sleep 1',
    'fw: kill %2',
    'fw: tcpdump -nr lo.pcap',
    'fw: tcpdump -enr pf.pcap',
  ].join('\n'));
  // pcap_live() gave the pflog0 capture a snap length of 160: tcpdump -r's 116 is raised to the file's, as tcpdump.c warns
  assert.equal(r.err, 'tcpdump: WARNING: snaplen raised from 116 to 160\n');
  const m = r.shell.lab.machines.get('fw')!;
  assert.equal(linktype(fileBytes(m.files.get('lo.pcap')!)), 108); // LINKTYPE_LOOP: AF header in network order
  assert.equal(linktype(fileBytes(m.files.get('pf.pcap')!)), 117);
  assert.match(r.out, /\n00:00:\d\d\.\d{6} 127\.0\.0\.1 > 127\.0\.0\.1: icmp: echo request\n/);
  assert.match(r.out, /\n00:00:\d\d\.\d{6} rule 1\/\(match\) pass in on em0: 10\.0\.1\.2\.\d+ > 203\.0\.113\.48\.10031: S /);
});

test('pflog0: the snap length counts the 100-byte pfloghdr with the packet (bpf_mtap_hdr), at least 160 (pcap_live)', async () => {
  const r = await sh([
    "fw: echo 'pass log all' > all.conf",
    'fw: pfctl -f all.conf',
    'fw: tcpdump -ni pflog0 -w def.pcap &',
    'fw: tcpdump -ni pflog0 -s 120 -w s120.pcap &',
    'fw: tcpdump -ni pflog0 -s 200 -w s200.pcap &',
    'client: ping -c 1 -q -s 300 203.0.113.48',
    'fw: kill %1',
    'fw: kill %2',
    'fw: kill %3',
  ].join('\n'));
  const m = r.shell.lab.machines.get('fw')!;
  for (const [f, snap] of [['def.pcap', 160], ['s120.pcap', 160], ['s200.pcap', 200]] as const) {
    const b = fileBytes(m.files.get(f)!);
    assert.equal(get32le(b, 16), snap, f);
    const rd = PcapReader.fromBytes(b);
    const seen: Array<[number, number]> = [];
    while (rd.next()) {
      seen.push([rd.caplen, rd.len]);
      // the pfloghdr whole (its length byte, af), then the start of the IP packet
      assert.equal(rd.buf[rd.off], 100);
      assert.equal(rd.buf[rd.off + 100]! >> 4, 4);
    }
    // the echo request that made the state (log without all), 328 bytes of IPv4 after the header
    assert.deepEqual(seen, [[snap, 428]], f);
  }
});

test('tcpdump -r of a missing file, export and import errors', async () => {
  const r = await sh('tcpdump -r nope\nexport nope x.pcap\nexport one\nimport /nonexistent/x.pcap x.pcap');
  assert.equal(
    r.err,
    'tcpdump: nope: No such file or directory\n' +
      'export: nope: No such file or directory\n' +
      'usage: export file hostpath\n' +
      'import: /nonexistent/x.pcap: No such file or directory\n',
  );
});

test('export writes the capture to the host byte for byte; import brings it back; tshark opens it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pf-cap-'));
  try {
    const host = join(dir, 'cap.pcap');
    const r = await sh(`router: tcpdump -ni em0 -c 2 -w cap.pcap icmp &\nclient: ping -c 2 -q 10.0.1.1\nrouter: export cap.pcap ${host}\nclient: import ${host} back.pcap\nclient: tcpdump -nr back.pcap`);
    assert.equal(r.err, '');
    const m = r.shell.lab.machines.get('router')!;
    assert.deepEqual(new Uint8Array(readFileSync(host)), fileBytes(m.files.get('cap.pcap')!));
    assert.match(r.out, /icmp: echo request\n.*icmp: echo reply\n$/);
    // text files with characters beyond latin1 leave as UTF-8
    writeFileSync(join(dir, 'x'), '');
    const r2 = await sh(`echo 'a → b' >t\nexport t ${join(dir, 'x')}`);
    assert.equal(readFileSync(join(dir, 'x'), 'utf8'), 'a → b\n');
    void r2;
    if (!existsSync('/usr/bin/tshark')) {
      t.skip('/usr/bin/tshark is not installed');
      return;
    }
    const ts = spawnSync('/usr/bin/tshark', ['-n', '-r', host], { encoding: 'utf8' });
    assert.equal(ts.status, 0, ts.stderr);
    assert.doesNotMatch(ts.stderr, /error|appears to be damaged|isn't a capture file/i);
    const lines = ts.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /10\.0\.1\.2 → 10\.0\.1\.1 +ICMP 98 Echo \(ping\) request/);
    assert.match(lines[1]!, /10\.0\.1\.1 → 10\.0\.1\.2 +ICMP 98 Echo \(ping\) reply/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('pflog0 of a nat-to rule and of log (user): the host\'s tshark reads the header pf wrote', async (t) => {
  if (!existsSync('/usr/bin/tshark')) {
    t.skip('/usr/bin/tshark is not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pf-log-'));
  try {
    const host = join(dir, 'pf.pcap');
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
      'sleep 1',
      'fw: kill %1',
      `fw: export pf.pcap ${host}`,
    ].join('\n'));
    assert.equal(r.err, '');
    const fields = ['pflog.rulenr', 'pflog.action', 'pflog.dir', 'pflog.uid', 'pflog.pid', 'pflog.rule_uid', 'pflog.rule_pid',
      'pflog.rewritten', 'pflog.saddr.ipv4', 'pflog.daddr.ipv4', 'pflog.dport', 'ip.src', 'udp.srcport'];
    const ts = spawnSync('/usr/bin/tshark', ['-n', '-r', host, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
    assert.equal(ts.status, 0, ts.stderr);
    const rows = ts.stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.equal(rows.length, 2);
    // the nat-to rule: uid -1, pid NO_PID, rewritten to fw's address and a new port; the packet still the server's
    const [nat, user] = rows as [string[], string[]];
    assert.deepEqual(nat.slice(0, 10), ['1', '0', '2', '-1', '100000', '0', '0', '1', '203.0.113.48', '10.0.2.2']);
    assert.deepEqual([nat[10], nat[11]], ['53', '192.168.0.31']);
    assert.notEqual(nat[12], '');
    // log (user): doas -u 55's socket; nothing rewritten
    assert.deepEqual(user.slice(0, 3), ['2', '0', '2']);
    assert.equal(user[3], '55');
    assert.match(user[4]!, /^\d+$/);
    assert.notEqual(user[4], '100000');
    assert.deepEqual([user[7], user[11]], ['0', '203.0.113.48']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
