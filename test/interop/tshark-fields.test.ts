/**
 * Captures made by tools nobody here wrote (Debian's tcpdump recording the
 * Linux kernel's traffic, scapy's odd and malformed packets) decode in
 * packetflow's wire layer to the same fields tshark reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { PcapReader } from '../../src/usr.sbin/tcpdump/pcap.js';
import { ROOT } from '../helpers/root.js';
import { decodeEthernet, FIELDS, type Fields } from './decode-fields.js';

const CAPTURES = ['scapy-mixed.pcap', 'linux-netns.pcap'].map((n) => `${ROOT}/test/fixtures/captures/${n}`);
const TSHARK = '/usr/bin/tshark';

/** A tshark frame: the fields, and whether its expert info holds an error (severity PI_ERROR). */
interface TsharkFrame {
  fields: Fields;
  error: boolean;
}

const PI_ERROR = 0x00800000;

function tsharkFields(file: string): TsharkFrame[] {
  const args = ['-r', file, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.desegment_tcp_streams:FALSE',
    '-T', 'fields', '-E', 'separator=/t'];
  for (const f of FIELDS) args.push('-e', f);
  args.push('-e', '_ws.expert.severity');
  const out = execFileSync(TSHARK, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l !== '').map((line) => {
    const vals = line.split('\t');
    const rec: Fields = {};
    FIELDS.forEach((name, i) => {
      // Every occurrence is listed, comma-separated; the outermost comes first.
      const first = (vals[i] ?? '').split(',')[0];
      if (first) rec[name] = first;
    });
    const severities = (vals[FIELDS.length] ?? '').split(',').filter((v) => v !== '').map(Number);
    return { fields: rec, error: severities.some((v) => v >= PI_ERROR) };
  });
}

function ours(file: string): Fields[] {
  const r = PcapReader.open(file);
  const res: Fields[] = [];
  while (r.next()) res.push(decodeEthernet(r.buf, r.off, r.caplen));
  assert.equal(r.error, null);
  return res;
}

for (const file of CAPTURES) {
  const name = file.slice(file.lastIndexOf('/') + 1);
  test(`wire layer decodes ${name} to tshark's fields`, { skip: existsSync(TSHARK) ? false : 'tshark not installed (apt-get install tshark): comparison skipped' }, () => {
    const theirs = tsharkFields(file);
    const mine = ours(file);
    assert.equal(mine.length, theirs.length, 'packet count');
    let compared = 0;
    let rejected = 0;
    for (let i = 0; i < mine.length; i++) {
      const m = mine[i]!;
      const t = theirs[i]!;
      let keys: Set<string>;
      if (m.rejected !== undefined) {
        // We drop the packet at a header tshark calls an error; up to there the fields agree.
        rejected++;
        assert.ok(t.error, `frame ${i + 1}: we reject ${m.rejected}, tshark sees no error`);
        keys = new Set(Object.keys(m).filter((k) => k !== 'rejected'));
      } else {
        // Every field tshark reports, and every field we report, must agree.
        keys = new Set([...Object.keys(t.fields), ...Object.keys(m)]);
      }
      for (const k of keys) {
        const key = k as keyof Fields;
        assert.equal(m[key], t.fields[key], `frame ${i + 1} field ${k}`);
        compared++;
      }
    }
    assert.ok(compared > mine.length * 5, `compared ${compared} fields`);
    assert.ok(rejected <= 3, `${rejected} frames rejected`);
  });
}
