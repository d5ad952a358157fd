/**
 * Capture files against the real tools: what the writer produces must be
 * read by tcpdump and tshark, what editcap produces (pcapng, nanosecond
 * pcap) must be read by the reader, and the pcapng test builders must agree
 * with tshark and libpcap.  Each part is skipped, visibly, without the tool.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { toHex } from '../../../src/wire/bytes.js';
import { PcapReader, PcapWriter } from '../../../src/usr.sbin/tcpdump/pcap.js';
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from '../../../src/usr.sbin/tcpdump/dlt.js';
import { concat, epb, idb, ngBlock, ngOpt, ngOpts, pkt, shb, spb } from './capture-builders.js';

const TCPDUMP = '/usr/bin/tcpdump';
const TSHARK = '/usr/bin/tshark';
const EDITCAP = '/usr/bin/editcap';

// test/fixtures/captures, found from this file (works from test/ and dist/test/)
function fixture(name: string): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'fixtures', 'captures', name);
    if (existsSync(p)) return p;
    const q = join(dir, 'test', 'fixtures', 'captures', name);
    if (existsSync(q)) return q;
    dir = dirname(dir);
  }
  return null;
}

interface Pkt {
  sec: number;
  nsec: number;
  len: number;
  data: string;
}

function readAll(r: PcapReader): Pkt[] {
  const out: Pkt[] = [];
  while (r.next()) out.push({ sec: r.tsSec, nsec: r.tsNsec, len: r.len, data: toHex(r.buf, r.off, r.caplen) });
  assert.equal(r.error, null);
  return out;
}

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const p = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } });
  return { status: p.status, stdout: p.stdout, stderr: p.stderr };
}

function lines(s: string): string[] {
  return s.split('\n').filter((l) => l !== '');
}

/** tcpdump's packet lines (those that start with a time); unknown payloads add hex dump lines. */
function stamped(s: string): string[] {
  return lines(s).filter((l) => /^\d+[.:]\d/.test(l));
}

function withDir(f: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'pcap-interop-'));
  try {
    f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Packets of a real capture, or a few invented Ethernet frames when the fixture is missing. */
function samplePackets(): Pkt[] {
  const path = fixture('scapy-mixed.pcap');
  if (path !== null) return readAll(PcapReader.open(path));
  return [0, 1, 2].map((i) => ({ sec: 1700000000 + i, nsec: i * 1000, len: 60, data: toHex(pkt(60, i)) }));
}

test('real captures in test/fixtures read without error', (t) => {
  for (const name of ['scapy-mixed.pcap', 'linux-netns.pcap']) {
    const path = fixture(name);
    if (path === null) {
      t.skip(`fixture ${name} not found`);
      continue;
    }
    const r = PcapReader.open(path);
    const pkts = readAll(r);
    assert.ok(pkts.length > 0, name);
    assert.equal(r.linktype, LINKTYPE_ETHERNET);
    if (existsSync(TCPDUMP)) {
      const p = run(TCPDUMP, ['-n', '-r', path]);
      assert.equal(p.status, 0, p.stderr);
      assert.equal(stamped(p.stdout).length, pkts.length, name);
    }
  }
});

test('tcpdump -r reads what the writer wrote', (t) => {
  if (!existsSync(TCPDUMP)) {
    t.skip(`${TCPDUMP} not installed: writer output not checked against tcpdump`);
    return;
  }
  const pkts = samplePackets();
  withDir((dir) => {
    for (const [name, bigEndian, nanosecond] of [
      ['le-usec', false, false],
      ['be-usec', true, false],
      ['le-nsec', false, true],
      ['be-nsec', true, true],
    ] as const) {
      const path = join(dir, `${name}.pcap`);
      const w = PcapWriter.open(path, { linktype: LINKTYPE_ETHERNET, snaplen: 96, bigEndian, nanosecond });
      for (const p of pkts) {
        const b = Uint8Array.from(Buffer.from(p.data, 'hex'));
        w.writePacket(b, 0, b.length, p.sec, nanosecond ? p.nsec : Math.floor(p.nsec / 1000), p.len);
      }
      assert.ok(w.close(), w.error ?? '');
      const r = run(TCPDUMP, ['-n', '-tt', '-r', path]);
      assert.equal(r.status, 0, `${name}: ${r.stderr}`);
      assert.match(r.stderr, /link-type EN10MB \(Ethernet\), snapshot length 96/);
      const out = stamped(r.stdout);
      assert.equal(out.length, pkts.length, name);
      // tcpdump prints microseconds for a microsecond file, nanoseconds with --nano only; -tt gives seconds.fraction
      out.forEach((l, i) => {
        const us = String(Math.floor(pkts[i].nsec / 1000)).padStart(6, '0');
        assert.ok(l.startsWith(`${pkts[i].sec}.${us} `), `${name}: ${l}`);
      });
    }
  });
});

test('tshark -r reads what the writer wrote', (t) => {
  if (!existsSync(TSHARK)) {
    t.skip(`${TSHARK} not installed: writer output not checked against tshark`);
    return;
  }
  const pkts = samplePackets();
  withDir((dir) => {
    const path = join(dir, 'w.pcap');
    const w = PcapWriter.open(path, { linktype: LINKTYPE_ETHERNET, bigEndian: true });
    for (const p of pkts) {
      const b = Uint8Array.from(Buffer.from(p.data, 'hex'));
      w.writePacket(b, 0, b.length, p.sec, Math.floor(p.nsec / 1000), p.len);
    }
    assert.ok(w.close());
    const r = run(TSHARK, ['-n', '-r', path, '-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      lines(r.stdout),
      pkts.map((p) => `${p.len}\t${p.data.length / 2}`),
    );
  });
});

test('the reader reads pcapng and nanosecond pcap written by editcap', (t) => {
  const src = fixture('scapy-mixed.pcap');
  if (!existsSync(EDITCAP) || src === null) {
    t.skip(`${EDITCAP} or the scapy fixture missing: editcap conversions not checked`);
    return;
  }
  const want = readAll(PcapReader.open(src));
  withDir((dir) => {
    for (const format of ['pcapng', 'nsecpcap']) {
      const out = join(dir, `x.${format}`);
      const p = run(EDITCAP, ['-F', format, src, out]);
      assert.equal(p.status, 0, p.stderr);
      const r = PcapReader.open(out, { chunkSize: 1000 });
      assert.equal(r.format, format === 'pcapng' ? 'pcapng' : 'pcap');
      assert.deepEqual(readAll(r), want, format);
    }
  });
});

test('tshark and tcpdump agree with the pcapng test builders', (t) => {
  if (!existsSync(TSHARK) && !existsSync(TCPDUMP)) {
    t.skip('neither tshark nor tcpdump installed: pcapng fixtures not cross-checked');
    return;
  }
  const le = true;
  const be = false;
  // one section: Ethernet, nanoseconds; a skipped local-use block; EPB and SPB
  const one = concat(
    shb(le),
    idb(le, LINKTYPE_ETHERNET, 0, ngOpts(le, ngOpt(le, 9, Uint8Array.of(9)))),
    ngBlock(le, 0x80000001, pkt(7, 1)), // local-use block type, skipped by every reader
    epb(le, 0, 1700000000123456789n, pkt(60, 1), 64),
    spb(le, pkt(42, 2)),
  );
  // two sections of opposite byte order, raw IP in the second
  const two = concat(one, shb(be), idb(be, LINKTYPE_RAW, 0), epb(be, 0, 1700000001000002n, pkt(20, 3)));
  withDir((dir) => {
    const p1 = join(dir, 'one.pcapng');
    const p2 = join(dir, 'two.pcapng');
    writeFileSync(p1, one);
    writeFileSync(p2, two);
    assert.equal(readAll(PcapReader.fromBytes(readFileSync(p2))).length, 3);
    if (existsSync(TSHARK)) {
      const r = run(TSHARK, ['-n', '-r', p2, '-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.time_epoch']);
      assert.equal(r.status, 0, r.stderr);
      const f = lines(r.stdout).map((l) => l.split('\t'));
      assert.deepEqual(
        f.map((x) => [x[0], x[1]]),
        [
          ['64', '60'],
          ['42', '42'],
          ['20', '20'],
        ],
      );
      assert.match(f[0][2], /^1700000000\.123456789/);
      assert.match(f[2][2], /^1700000001\.000002/);
    } else {
      t.diagnostic(`${TSHARK} not installed: pcapng builders checked with tcpdump only`);
    }
    if (existsSync(TCPDUMP)) {
      const r = run(TCPDUMP, ['-n', '-tt', '--nano', '-r', p1]);
      assert.equal(r.status, 0, r.stderr);
      const out = stamped(r.stdout);
      assert.equal(out.length, 2);
      assert.ok(out[0].startsWith('1700000000.123456789 '), out[0]);
    }
  });
});

test('memory sink bytes equal file bytes', () => {
  withDir((dir) => {
    const path = join(dir, 'm.pcap');
    const opts = { linktype: 1, bigEndian: false, bufferSize: 40 };
    const a = PcapWriter.open(path, opts);
    const b = PcapWriter.memory(opts);
    for (let i = 0; i < 20; i++) {
      const d = pkt(i * 3, i);
      a.writePacket(d, 0, d.length, i, i);
      b.writePacket(d, 0, d.length, i, i);
    }
    a.close();
    b.close();
    assert.equal(toHex(readFileSync(path)), toHex(b.sink.bytes()));
  });
});
