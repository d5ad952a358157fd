import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { hex, toHex } from '../../../src/wire/bytes.js';
import { PcapReader, type PcapReaderOptions } from '../../../src/usr.sbin/tcpdump/pcap.js';
import {
  DLT_EN10MB,
  DLT_LOOP,
  DLT_RAW,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV6,
  LINKTYPE_LOOP,
  LINKTYPE_RAW,
} from '../../../src/usr.sbin/tcpdump/dlt.js';
import { concat, epb, idb, ngBlock, ngOpt, ngOpts, pb, pkt, shb, spb, u32, u64 } from './capture-builders.js';

interface Got {
  section: number;
  ifIndex: number;
  linktype: number;
  dlt: number;
  sec: number;
  frac: number;
  units: number;
  nsec: number;
  caplen: number;
  len: number;
  data: string;
  offset: number;
}

function drain(r: PcapReader): Got[] {
  const out: Got[] = [];
  while (r.next()) {
    out.push({
      section: r.section,
      ifIndex: r.ifIndex,
      linktype: r.linktype,
      dlt: r.dlt,
      sec: r.tsSec,
      frac: r.tsFrac,
      units: r.tsUnits,
      nsec: r.tsNsec,
      caplen: r.caplen,
      len: r.len,
      data: toHex(r.buf, r.off, r.caplen),
      offset: r.recordOffset,
    });
  }
  return out;
}

function withFile<T>(bytes: Uint8Array, f: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'pcapng-test-'));
  try {
    const path = join(dir, 'f.pcapng');
    writeFileSync(path, bytes);
    return f(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function readFd(path: string, opts: PcapReaderOptions): { got: Got[]; error: string | null } {
  const fd = openSync(path, 'r');
  try {
    const r = PcapReader.fromFd(fd, opts);
    return { got: drain(r), error: r.error };
  } finally {
    closeSync(fd);
  }
}

const ARP_HDR = 'ffffffffffff 020000000001 0806';

// A little-endian section, written out by hand from the draft: SHB (no
// options, section length -1), IDB for "em0" (Ethernet, snaplen 262144,
// if_tsresol 9 = nanoseconds), EPB with 14 of 60 bytes captured at
// 1700000000.123456789.
const LE_FILE = hex(`
  0a0d0d0a 1c000000 4d3c2b1a 0100 0000 ffffffffffffffff 1c000000
  01000000 28000000 0100 0000 00000400
    0200 0300 656d3000
    0900 0100 09000000
    0000 0000
  28000000
  06000000 30000000 00000000 fe9c9717 15cd853d 0e000000 3c000000
    ${ARP_HDR} 0000
  30000000
`);

test('pcapng little-endian section, by hand', () => {
  const r = PcapReader.fromBytes(LE_FILE);
  assert.equal(r.error, null);
  assert.equal(r.format, 'pcapng');
  assert.equal(r.bigEndian, false);
  assert.equal(r.versionMajor, 1);
  assert.equal(r.versionMinor, 0);
  // before the first packet the link fields describe the first interface
  assert.equal(r.linktype, LINKTYPE_ETHERNET);
  assert.equal(r.dlt, DLT_EN10MB);
  assert.equal(r.snaplen, 262144);
  assert.equal(r.interfaceCount, 1);
  assert.equal(r.interfaceName(0), 'em0');
  assert.equal(r.next(), true);
  assert.equal(r.section, 0);
  assert.equal(r.ifIndex, 0);
  assert.equal(r.tsSec, 1700000000);
  assert.equal(r.tsFrac, 123456789);
  assert.equal(r.tsUnits, 1e9);
  assert.equal(r.tsNsec, 123456789);
  assert.equal(r.tsUsec, 123456);
  assert.equal(r.caplen, 14);
  assert.equal(r.len, 60);
  assert.equal(r.recordOffset, 28 + 40);
  assert.equal(toHex(r.buf, r.off, r.caplen), toHex(hex(ARP_HDR)));
  assert.equal(r.next(), false);
  assert.equal(r.error, null);
});

test('the test builders produce exactly the hand-written bytes', () => {
  const le = true;
  const built = concat(
    shb(le),
    idb(le, 1, 262144, ngOpts(le, ngOpt(le, 2, new TextEncoder().encode('em0')), ngOpt(le, 9, Uint8Array.of(9)))),
    epb(le, 0, 1700000000123456789n, hex(ARP_HDR), 60),
  );
  assert.equal(toHex(built), toHex(LE_FILE));
});

test('the same section big-endian reads the same', () => {
  const be = false;
  const file = concat(
    shb(be),
    idb(be, 1, 262144, ngOpts(be, ngOpt(be, 9, Uint8Array.of(9)))),
    epb(be, 0, 1700000000123456789n, hex(ARP_HDR), 60),
  );
  assert.equal(toHex(file, 0, 12), '0a0d0d0a0000001c1a2b3c4d');
  const r = PcapReader.fromBytes(file);
  assert.equal(r.bigEndian, true);
  const got = drain(r);
  assert.equal(r.error, null);
  assert.equal(got.length, 1);
  assert.deepEqual([got[0].sec, got[0].frac, got[0].caplen, got[0].len], [1700000000, 123456789, 14, 60]);
});

/** Two sections of opposite byte order, several interfaces, every packet block kind, skipped blocks. */
function multiSection(): { file: Uint8Array; want: Partial<Got>[] } {
  const le = true;
  const be = false;
  const a = pkt(60, 1);
  const b = pkt(40, 2);
  const c = pkt(60, 3);
  const d = pkt(33, 4);
  const e = pkt(20, 5);
  const file = concat(
    // section 0, little-endian, with shb_userappl
    shb(le, ngOpts(le, ngOpt(le, 4, new TextEncoder().encode('packetflow tests')))),
    idb(le, LINKTYPE_ETHERNET, 0), // default resolution: microseconds
    // a Name Resolution Block and a custom block, both skipped
    ngBlock(le, 4, concat(ngOpt(le, 1, hex('c0000201 6578616d706c6500')), u32(le, 0))),
    ngBlock(le, 0x00000bad, concat(u32(le, 32473), pkt(37, 9))),
    idb(
      le,
      LINKTYPE_RAW,
      65535,
      ngOpts(le, ngOpt(le, 1, new TextEncoder().encode('a comment')), ngOpt(le, 9, Uint8Array.of(9)), ngOpt(le, 14, u64(le, 1000n))),
    ),
    epb(le, 0, 1700000000000001n, a),
    epb(le, 1, 5000000007n, b, 1500, ngOpts(le, ngOpt(le, 2, u32(le, 1)))),
    // Interface Statistics Block, skipped
    ngBlock(le, 5, concat(u32(le, 0), u32(le, 0), u32(le, 0))),
    // section 1, big-endian: interface ids start again at 0
    shb(be),
    idb(be, LINKTYPE_LOOP, 32, ngOpts(be, ngOpt(be, 9, Uint8Array.of(0x8a)), ngOpt(be, 14, u64(be, -10n)))),
    idb(be, LINKTYPE_IPV6, 0),
    spb(be, c.subarray(0, 32), 60), // cut to the interface snaplen 32
    pb(be, 1, 42n * 1000000n + 999999n, d),
    epb(be, 0, (7n << 10n) + 512n, e),
  );
  const want: Partial<Got>[] = [
    { section: 0, ifIndex: 0, linktype: 1, dlt: DLT_EN10MB, sec: 1700000000, frac: 1, units: 1e6, caplen: 60, len: 60, data: toHex(a) },
    { section: 0, ifIndex: 1, linktype: 101, dlt: DLT_RAW, sec: 1005, frac: 7, units: 1e9, caplen: 40, len: 1500, data: toHex(b) },
    { section: 1, ifIndex: 0, linktype: 108, dlt: DLT_LOOP, sec: 0, frac: 0, units: 1024, caplen: 32, len: 60, data: toHex(c.subarray(0, 32)) },
    { section: 1, ifIndex: 1, linktype: 229, dlt: DLT_RAW, sec: 42, frac: 999999, units: 1e6, caplen: 33, len: 33, data: toHex(d) },
    { section: 1, ifIndex: 0, linktype: 108, dlt: DLT_LOOP, sec: -3, frac: 512, units: 1024, nsec: 500000000, caplen: 20, len: 20, data: toHex(e) },
  ];
  return { file, want };
}

function pick(g: Got, keys: string[]): Partial<Got> {
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = g[k as keyof Got];
  return out as Partial<Got>;
}

test('pcapng: several sections of both byte orders, interfaces, EPB/SPB/PB, skipped blocks', () => {
  const { file, want } = multiSection();
  const r = PcapReader.fromBytes(file);
  assert.equal(r.linktype, LINKTYPE_ETHERNET);
  const got = drain(r);
  assert.equal(r.error, null);
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.deepEqual(pick(g, Object.keys(want[i])), want[i], `packet ${i}`));
  assert.equal(r.bigEndian, true);
  assert.equal(r.section, 1);
});

test('pcapng: tiny read chunks, and unknown blocks larger than the buffer', () => {
  const { file, want } = multiSection();
  const le = true;
  const big = concat(
    file,
    shb(le),
    idb(le, 1, 0),
    ngBlock(le, 0x40000bad, concat(u32(le, 32473), pkt(5000, 11))),
    epb(le, 0, 1n, pkt(1600, 12)),
  );
  const mem = drain(PcapReader.fromBytes(big));
  assert.equal(mem.length, want.length + 1);
  withFile(big, (path) => {
    for (const chunkSize of [16, 20, 64, 333, 1 << 16]) {
      const { got, error } = readFd(path, { chunkSize });
      assert.equal(error, null, `chunk ${chunkSize}`);
      assert.deepEqual(got, mem, `chunk ${chunkSize}`);
    }
  });
});

test('pcapng: timestamps split exactly at every resolution', () => {
  const le = true;
  const cases: [number, bigint, number, number, number, number][] = [
    // if_tsresol, raw 64-bit count, seconds, fraction, units, nanoseconds
    [9, 0xffffffffffffffffn, 18446744073, 709551615, 1e9, 709551615],
    [6, 1700000000999999n, 1700000000, 999999, 1e6, 999999000],
    [3, 1700000000123n, 1700000000, 123, 1e3, 123000000],
    [0, 1700000000n, 1700000000, 0, 1, 0],
    [0x80 | 32, (1700000000n << 32n) | 0x80000000n, 1700000000, 0x80000000, 2 ** 32, 500000000],
    [0x80 | 20, (5n << 20n) | 1n, 5, 1, 2 ** 20, 953],
    // picoseconds: beyond 2^32 units, kept as nanoseconds
    [12, 1700000000123456789012n % (1n << 64n), 0, 0, 1e9, 0],
  ];
  for (const [res, ts, sec, frac, units, nsec] of cases) {
    const file = concat(shb(le), idb(le, 1, 0, ngOpts(le, ngOpt(le, 9, Uint8Array.of(res)))), epb(le, 0, ts, pkt(4, 1)));
    const r = PcapReader.fromBytes(file);
    assert.equal(r.next(), true, r.error ?? '');
    if (res === 12) {
      // 1700000000123456789012 ps wraps at 2^64; compare with BigInt arithmetic
      assert.equal(r.tsSec, Number(ts / 1000000000000n));
      assert.equal(r.tsFrac, Number((ts % 1000000000000n) / 1000n));
      assert.equal(r.tsUnits, 1e9);
      continue;
    }
    assert.deepEqual([r.tsSec, r.tsFrac, r.tsUnits, r.tsNsec], [sec, frac, units, nsec], `tsresol ${res}`);
  }
});

test('pcapng: corrupt blocks give errors naming the offset, after the good packets', () => {
  const le = true;
  const head = concat(shb(le), idb(le, 1, 0), epb(le, 0, 1n, pkt(10, 1)));
  const at = head.length;
  const cases: [Uint8Array, string][] = [
    [concat(u32(le, 6), u32(le, 0), u32(le, 0)), `bad block length 0 at offset ${at}`],
    [concat(u32(le, 0x99), u32(le, 14), pkt(8, 1)), `bad block length 14 at offset ${at}`],
    [concat(u32(le, 6), u32(le, 8), pkt(8, 1)), `bad block length 8 at offset ${at}`],
    [concat(u32(le, 0x99), u32(le, 16), u32(le, 0), u32(le, 20)), `block length mismatch at offset ${at}: 16 at start, 20 at end`],
    [epb(le, 3, 1n, pkt(10, 1)), `packet block at offset ${at} names interface 3, but the section has 1`],
    [concat(u32(le, 6), u32(le, 32), u32(le, 0), u32(le, 0), u32(le, 0), u32(le, 9), u32(le, 9), u32(le, 32)), `caplen 9 overruns block of length 32 at offset ${at}`],
    [concat(u32(le, 6), u32(le, 32), u32(le, 0), u32(le, 0), u32(le, 0), u32(le, 300000), u32(le, 9), u32(le, 32)), `caplen 300000 exceeds limit 262144 at offset ${at}`],
    [shb(le, new Uint8Array(0), 2, 0), `unsupported pcapng version 2.0 at offset ${at + 12}`],
    [concat(hex('0a0d0d0a 1c000000 11223344'), new Uint8Array(16)), `bad byte-order magic 0x11223344 at offset ${at + 8}`],
    [idb(le, 1, 0, ngOpts(le, ngOpt(le, 9, Uint8Array.of(6, 0)))), `if_tsresol of length 2 at offset ${at + 16}`],
    [idb(le, 1, 0, ngOpts(le, ngOpt(le, 9, Uint8Array.of(0x80 | 64)))), `if_tsresol 0xc0 too fine at offset ${at + 16}`],
    [idb(le, 1, 0, concat(u16le(2), u16le(200), pkt(8, 1))), `option 2 of length 200 overruns its block at offset ${at + 16}`],
    [concat(u32(le, 3), u32(le, 12), u32(le, 12)), `simple packet block too short (12 bytes) at offset ${at}`],
  ];
  for (const [tail, message] of cases) {
    const file = concat(head, tail, epb(le, 0, 2n, pkt(10, 2)));
    const r = PcapReader.fromBytes(file);
    const got = drain(r);
    assert.equal(got.length, 1, message);
    assert.equal(r.error, message);
    assert.equal(r.next(), false);
  }
  // a file that is not a capture at all
  const junk = PcapReader.fromBytes(hex('0a0d0d0b 00000000'));
  assert.equal(junk.error, 'bad magic 0x0a0d0d0b at offset 0');
  // a packet block before any interface
  const early = PcapReader.fromBytes(concat(shb(le), epb(le, 0, 1n, pkt(4, 1))));
  assert.equal(early.error, 'packet block at offset 28 names interface 0, but the section has 0');
  const earlySpb = PcapReader.fromBytes(concat(shb(le), spb(le, pkt(4, 1))));
  assert.equal(earlySpb.error, 'simple packet block at offset 28, but the section has no interface');
  // a section without interfaces is empty, not an error
  const empty = PcapReader.fromBytes(shb(le));
  assert.equal(empty.error, null);
  assert.equal(empty.linktype, -1);
  assert.equal(empty.next(), false);
  assert.equal(empty.error, null);
});

function u16le(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, v >>> 8);
}

test('pcapng: truncation at every offset yields the packets before it and an error naming the offset', () => {
  const { file, want } = multiSection();
  // block boundaries, from the block lengths themselves
  const starts: number[] = [];
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let le = true;
  for (let o = 0; o < file.length; ) {
    starts.push(o);
    if (dv.getUint32(o) === 0x0a0d0d0a) le = dv.getUint32(o + 8, true) === 0x1a2b3c4d;
    o += dv.getUint32(o + 4, le);
  }
  const ends = [...starts.slice(1), file.length];
  const full = drain(PcapReader.fromBytes(file));
  assert.equal(full.length, want.length);
  withFile(file, (path) => {
    for (let cut = 0; cut <= file.length; cut++) {
      const part = file.subarray(0, cut);
      writeFileSync(path, part);
      const expected = full.filter((g) => ends[starts.indexOf(g.offset)] <= cut).length;
      for (const { got, error } of [
        (() => {
          const r = PcapReader.fromBytes(part);
          return { got: drain(r), error: r.error };
        })(),
        readFd(path, { chunkSize: 16 }),
      ]) {
        assert.equal(got.length, expected, `cut ${cut}`);
        assert.deepEqual(got, full.slice(0, expected));
        if (ends.includes(cut)) {
          assert.equal(error, null, `cut ${cut}`);
        } else {
          assert.ok(error !== null, `cut ${cut}`);
          const m = /at offset (\d+)/.exec(error);
          assert.ok(m, error);
          const blockStart = Math.max(...starts.filter((s) => s <= cut && s < file.length));
          assert.equal(Number(m[1]), cut === 0 ? 0 : blockStart, `cut ${cut}: ${error}`);
        }
      }
    }
  });
  const r = PcapReader.fromBytes(file.subarray(0, starts[5] + 20));
  drain(r);
  assert.equal(r.error, `truncated block at offset ${starts[5]}: block length ${ends[5] - starts[5]} but 20 bytes left`);
});
