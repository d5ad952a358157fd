/**
 * pflog0 against Wireshark: packets pf logs, captured on pflog0's bpf tap
 * and written as `tcpdump -i pflog0 -w` writes them (PcapWriter, link type
 * PFLOG), must open in tshark with the rule number, action, direction and
 * interface pf logged.  Skipped, visibly, without tshark.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threeHosts, ip } from '../netinet/lab.js';
import { loadPf, tcpBytes, udpBytes, sendRaw } from './pf_lab.js';
import { bpf_listen } from '../../../src/sys/net/bpf.js';
import { PcapWriter } from '../../../src/usr.sbin/tcpdump/pcap.js';
import { LINKTYPE_PFLOG } from '../../../src/usr.sbin/tcpdump/dlt.js';

const TSHARK = '/usr/bin/tshark';

test('pflog0 capture file: tshark reads link type PFLOG with the rule, action, direction and interface pf logged', (t) => {
  const { world, a, r } = threeHosts();
  loadPf(r.k, `pass
block in log quick on em0 proto tcp to port 6000
pass out log on em1 proto udp
`);
  const pflog = r.k.ifunit('pflog0')!;
  const frames: Array<{ data: Uint8Array; ns: number }> = [];
  bpf_listen(pflog, (buf, off, caplen) => frames.push({ data: buf.slice(off, off + caplen), ns: world.now }));
  sendRaw(a.k, tcpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 40000, 6000, 0x02, 1000));
  sendRaw(a.k, udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 40001, 9));
  world.runFor(1e9);
  assert.equal(frames.length, 2);
  // the pfloghdr as pf wrote it: length 100, af, action, reason, ifname, rulenr, dir
  const h0 = frames[0]!.data;
  assert.deepEqual([h0[0], h0[1], h0[2], h0[3], h0[60]], [100, 2, 1, 0, 1]);
  assert.equal(String.fromCharCode(...h0.subarray(4, 7)), 'em0');
  assert.equal((h0[36]! << 24) | (h0[37]! << 16) | (h0[38]! << 8) | h0[39]!, 1);
  if (!existsSync(TSHARK)) {
    t.skip(`${TSHARK} not installed: pflog capture not checked against tshark`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pflog-'));
  try {
    const file = join(dir, 'pflog0.pcap');
    const w = PcapWriter.open(file, { linktype: LINKTYPE_PFLOG, snaplen: 65535 });
    for (const f of frames) w.writePacket(f.data, 0, f.data.length, Math.floor(f.ns / 1e9), Math.floor((f.ns % 1e9) / 1e3));
    w.close();
    assert.equal(w.error, null);
    const p = spawnSync(TSHARK, ['-r', file, '-T', 'fields', '-E', 'separator=,', '-e', 'frame.protocols', '-e', 'pflog.rulenr',
      '-e', 'pflog.action', '-e', 'pflog.dir', '-e', 'pflog.ifname', '-e', 'pflog.reason', '-e', 'ip.src', '-e', 'ip.dst'],
    { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', HOME: dir } });
    assert.equal(p.status, 0, p.stderr);
    const rows = p.stdout.trim().split('\n');
    assert.equal(rows.length, 2);
    // tshark names action 1 "block" (0 pass), dir 1 "in" (2 out); numeric fields print as numbers
    assert.match(rows[0]!, /^pflog:ip:tcp,1,(1|block|Block),(1|in|In),em0,0,192\.0\.2\.10,198\.51\.100\.20$/i);
    assert.match(rows[1]!, /^pflog:ip:udp(:data)?,2,(0|pass|Pass),(2|out|Out),em1,0,192\.0\.2\.10,198\.51\.100\.20$/i);
    const c = spawnSync('/usr/bin/capinfos', ['-E', file], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', HOME: dir } });
    if (c.status === 0) assert.match(c.stdout, /File encapsulation: +OpenBSD PF Firewall logs/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
