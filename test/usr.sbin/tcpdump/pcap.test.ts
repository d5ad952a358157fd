import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { hex, toHex } from '../../../src/wire/bytes.js';
import {
  PcapReader,
  PcapWriter,
  type PcapReaderOptions,
  type PcapSink,
} from '../../../src/usr.sbin/tcpdump/pcap.js';
import { DLT_LOOP, DLT_RAW, LINKTYPE_ETHERNET, LINKTYPE_LOOP, LINKTYPE_RAW } from '../../../src/usr.sbin/tcpdump/dlt.js';
import { concat, epb, idb, pcapBoundaries, pcapFile, pkt, shb, type Rec } from './capture-builders.js';

interface Got {
  sec: number;
  frac: number;
  nsec: number;
  caplen: number;
  len: number;
  data: string;
  offset: number;
}

/** Drain a reader into plain values (copies; tests only). */
function drain(r: PcapReader): Got[] {
  const out: Got[] = [];
  while (r.next()) {
    out.push({
      sec: r.tsSec,
      frac: r.tsFrac,
      nsec: r.tsNsec,
      caplen: r.caplen,
      len: r.len,
      data: toHex(r.buf, r.off, r.caplen),
      offset: r.recordOffset,
    });
  }
  return out;
}

function tmp(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pcap-test-'));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

function readFd(path: string, opts: PcapReaderOptions): { got: Got[]; error: string | null } {
  const fd = openSync(path, 'r');
  try {
    const r = PcapReader.fromFd(fd, opts);
    const got = drain(r);
    return { got, error: r.error };
  } finally {
    closeSync(fd);
  }
}

// A little-endian microsecond file, written out by hand: one ARP-typed
// Ethernet header captured from a 60-byte frame.
const LE_USEC = hex(`
  d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
  00f15365 40e20100 0e000000 3c000000
  ffffffffffff 020000000001 0806
`);

test('libpcap little-endian microsecond file, by hand', () => {
  const r = PcapReader.fromBytes(LE_USEC);
  assert.equal(r.error, null);
  assert.equal(r.format, 'pcap');
  assert.equal(r.bigEndian, false);
  assert.equal(r.versionMajor, 2);
  assert.equal(r.versionMinor, 4);
  assert.equal(r.snaplen, 65535);
  assert.equal(r.linktype, 1);
  assert.equal(r.dlt, 1);
  assert.equal(r.next(), true);
  assert.equal(r.tsSec, 1700000000);
  assert.equal(r.tsFrac, 123456);
  assert.equal(r.tsUnits, 1e6);
  assert.equal(r.tsUsec, 123456);
  assert.equal(r.tsNsec, 123456000);
  assert.equal(r.caplen, 14);
  assert.equal(r.len, 60);
  assert.equal(r.off, 40);
  assert.equal(toHex(r.buf, r.off, r.caplen), 'ffffffffffff0200000000010806');
  assert.equal(r.ifIndex, 0);
  assert.equal(r.recordOffset, 24);
  assert.equal(r.next(), false);
  assert.equal(r.error, null);
  assert.equal(r.count, 1);
  assert.equal(r.next(), false);
});

// The same packet, big-endian, nanosecond magic, raw IP (LINKTYPE_RAW 101), snaplen 96.
const BE_NSEC = hex(`
  a1b23c4d 0002 0004 00000000 00000000 00000060 00000065
  6553f100 075bcd15 0000000e 0000003c
  ffffffffffff 020000000001 0806
`);

test('libpcap big-endian nanosecond file, by hand', () => {
  const r = PcapReader.fromBytes(BE_NSEC);
  assert.equal(r.error, null);
  assert.equal(r.bigEndian, true);
  assert.equal(r.snaplen, 96);
  assert.equal(r.linktype, LINKTYPE_RAW);
  assert.equal(r.dlt, DLT_RAW);
  assert.equal(r.next(), true);
  assert.equal(r.tsSec, 1700000000);
  assert.equal(r.tsFrac, 123456789);
  assert.equal(r.tsUnits, 1e9);
  assert.equal(r.tsNsec, 123456789);
  assert.equal(r.tsUsec, 123456);
  assert.equal(r.caplen, 14);
  assert.equal(r.len, 60);
  assert.equal(r.next(), false);
  assert.equal(r.error, null);
});

const RECS: Rec[] = [
  { sec: 1, frac: 2, data: pkt(60, 1) },
  { sec: 0xfffffffe, frac: 999999, data: pkt(14, 2), len: 1514 },
  { sec: 1700000000, frac: 0, data: pkt(0, 3), len: 64 },
  { sec: 3, frac: 4, data: pkt(101, 4) },
];

test('libpcap: every byte order and resolution, any snaplen', () => {
  for (const le of [true, false]) {
    for (const nsec of [false, true]) {
      for (const snaplen of [0, 96, 65535, 262144, 0xffffffff]) {
        const r = PcapReader.fromBytes(pcapFile({ le, nsec, snaplen, linktype: 0 }, RECS));
        assert.equal(r.error, null);
        assert.equal(r.snaplen, snaplen);
        assert.equal(r.bigEndian, !le);
        assert.equal(r.linktype, 0);
        const got = drain(r);
        assert.equal(r.error, null);
        assert.equal(got.length, RECS.length);
        got.forEach((g, i) => {
          assert.equal(g.sec, RECS[i].sec);
          assert.equal(g.frac, RECS[i].frac);
          assert.equal(g.nsec, nsec ? RECS[i].frac : RECS[i].frac * 1000);
          assert.equal(g.caplen, RECS[i].data.length);
          assert.equal(g.len, RECS[i].len ?? RECS[i].data.length);
          assert.equal(g.data, toHex(RECS[i].data));
        });
      }
    }
  }
});

test('libpcap: link types are mapped to OpenBSD DLTs', () => {
  const r = PcapReader.fromBytes(pcapFile({ linktype: LINKTYPE_LOOP }, []));
  assert.equal(r.linktype, LINKTYPE_LOOP);
  assert.equal(r.dlt, DLT_LOOP);
  // FCS bits above the link type are not part of it
  const f = PcapReader.fromBytes(pcapFile({ linktype: 0x14000001 }, []));
  assert.equal(f.linktype, 1);
});

test('libpcap: files before 2.3 had caplen and len swapped', () => {
  const f = pcapFile({ minor: 2 }, []);
  // caplen 14 and len 60, in the old order (len first)
  const rec = hex('01000000 00000000 3c000000 0e000000 ffffffffffff020000000001 0806');
  const r = PcapReader.fromBytes(Uint8Array.from([...f, ...rec]));
  assert.equal(r.next(), true);
  assert.equal(r.caplen, 14);
  assert.equal(r.len, 60);
});

test('bad magic, empty and short files, archaic versions', () => {
  let r = PcapReader.fromBytes(hex('12345678 0200 0400 00000000 00000000 ffff0000 01000000'));
  assert.equal(r.next(), false);
  assert.equal(r.error, 'bad magic 0x12345678 at offset 0');
  assert.equal(r.format, '');

  r = PcapReader.fromBytes(new Uint8Array(0));
  assert.equal(r.next(), false);
  assert.equal(r.error, 'truncated file header at offset 0: 24 bytes needed, 0 left');

  r = PcapReader.fromBytes(LE_USEC.subarray(0, 10));
  assert.equal(r.error, 'truncated file header at offset 0: 24 bytes needed, 10 left');

  r = PcapReader.fromBytes(pcapFile({ major: 1 }, RECS));
  assert.equal(r.next(), false);
  assert.equal(r.error, 'unsupported pcap version 1.4 at offset 4');
});

test('caplen above the limit is an error naming the record, after the packets before it', () => {
  const big: Rec[] = [RECS[0], { sec: 5, frac: 0, data: pkt(300, 9) }, RECS[1]];
  const file = pcapFile({}, big);
  const r = PcapReader.fromBytes(file, { maxCaplen: 200 });
  assert.equal(r.next(), true);
  assert.equal(r.caplen, 60);
  assert.equal(r.next(), false);
  assert.equal(r.error, 'caplen 300 exceeds limit 200 at offset 100');
  assert.equal(r.next(), false);
  // a caplen field of 300000 against the default limit of 262144
  const bogus = Uint8Array.from(file);
  new DataView(bogus.buffer).setUint32(100 + 8, 300000, true);
  const d = PcapReader.fromBytes(bogus);
  assert.equal(drain(d).length, 1);
  assert.equal(d.error, 'caplen 300000 exceeds limit 262144 at offset 100');
});

test('truncation at every offset yields the packets before it and an error naming the offset', () => {
  const file = pcapFile({}, RECS);
  const ends = pcapBoundaries(RECS);
  const t = tmp();
  try {
    for (let cut = 0; cut <= file.length; cut++) {
      const part = file.subarray(0, cut);
      const complete = ends.filter((e) => e <= cut).length - 1; // records wholly inside
      const clean = ends.includes(cut);
      const path = join(t.dir, `cut${cut}.pcap`);
      writeFileSync(path, part);
      const results = [
        (() => {
          const r = PcapReader.fromBytes(part);
          return { got: drain(r), error: r.error };
        })(),
        readFd(path, { chunkSize: 16 }),
      ];
      for (const { got, error } of results) {
        assert.equal(got.length, Math.max(complete, 0), `cut ${cut}`);
        got.forEach((g, i) => assert.equal(g.data, toHex(RECS[i].data)));
        if (clean) {
          assert.equal(error, null, `cut ${cut}`);
        } else {
          assert.ok(error !== null, `cut ${cut}`);
          const m = /at offset (\d+)/.exec(error);
          assert.ok(m, error);
          const start = cut < 24 ? 0 : ends[complete];
          assert.equal(Number(m[1]), start, `cut ${cut}: ${error}`);
        }
      }
    }
    // the exact wording for a cut inside a record and inside a record header
    const r = PcapReader.fromBytes(file.subarray(0, ends[1] + 16 + 5));
    drain(r);
    assert.equal(r.error, `truncated packet record at offset ${ends[1]}: caplen 14 but 5 bytes left`);
    const h = PcapReader.fromBytes(file.subarray(0, ends[1] + 7));
    drain(h);
    assert.equal(h.error, `truncated packet header at offset ${ends[1]}: 16 bytes needed, 7 left`);
  } finally {
    t.done();
  }
});

test('records straddling chunk boundaries: tiny chunks read the same as memory', () => {
  const recs: Rec[] = [];
  for (let i = 0; i < 300; i++) recs.push({ sec: i, frac: i * 7, data: pkt((i * 37) % 1601, i), len: 2000 });
  const file = pcapFile({ le: false, snaplen: 2000 }, recs);
  const want = drain(PcapReader.fromBytes(file));
  assert.equal(want.length, 300);
  const t = tmp();
  try {
    const path = join(t.dir, 'chunks.pcap');
    writeFileSync(path, file);
    for (const chunkSize of [16, 17, 64, 1000, 4096, 1 << 20]) {
      const { got, error } = readFd(path, { chunkSize });
      assert.equal(error, null);
      assert.deepEqual(got, want, `chunk ${chunkSize}`);
    }
    // with chunks larger than any record the buffer is never replaced
    const r = PcapReader.open(path, { chunkSize: 8192 });
    assert.equal(r.next(), true);
    const first = r.buf;
    let same = true;
    while (r.next()) same &&= r.buf === first;
    assert.equal(r.error, null);
    assert.ok(same);
    r.close();
  } finally {
    t.done();
  }
});

test('open() of a missing file reports it without throwing', () => {
  const r = PcapReader.open('/nonexistent-dir/x.pcap');
  assert.equal(r.next(), false);
  assert.equal(r.error, '/nonexistent-dir/x.pcap: No such file or directory');
});

// ---- writer ----

test('writer: little-endian header and record bytes', () => {
  const w = PcapWriter.memory({ linktype: LINKTYPE_ETHERNET, snaplen: 65535, bigEndian: false });
  assert.ok(w.writePacket(hex('ffffffffffff 020000000001 0806'), 0, 14, 1700000000, 123456, 60));
  assert.ok(w.close());
  assert.equal(toHex(w.sink.bytes()), toHex(LE_USEC));
});

test('writer: big-endian nanosecond header and record bytes', () => {
  const w = PcapWriter.memory({ linktype: LINKTYPE_RAW, snaplen: 96, bigEndian: true, nanosecond: true });
  w.writePacket(hex('ffffffffffff 020000000001 0806'), 0, 14, 1700000000, 123456789, 60);
  w.close();
  assert.equal(toHex(w.sink.bytes()), toHex(BE_NSEC));
});

test('writer: packets are cut to the snaplen, keeping the wire length', () => {
  const w = PcapWriter.memory({ linktype: 1, snaplen: 64 });
  const data = pkt(200, 5);
  w.writePacket(data, 10, 150, 7, 8); // 150 bytes from offset 10
  w.writePacket(data, 0, 40, 9, 10, 1514); // already truncated by the capture
  w.close();
  const r = PcapReader.fromBytes(w.sink.bytes());
  assert.equal(r.snaplen, 64);
  const got = drain(r);
  assert.equal(r.error, null);
  assert.equal(got.length, 2);
  assert.deepEqual([got[0].caplen, got[0].len, got[0].data], [64, 150, toHex(data, 10, 64)]);
  assert.deepEqual([got[1].caplen, got[1].len, got[1].data], [40, 1514, toHex(data, 0, 40)]);
  assert.equal(w.packets, 2);
});

test('writer round trip: native and big-endian, micro and nanoseconds', () => {
  for (const bigEndian of [undefined, false, true]) {
    for (const nanosecond of [false, true]) {
      const w = PcapWriter.memory({ linktype: LINKTYPE_LOOP, snaplen: 262144, bigEndian, nanosecond, bufferSize: 100 });
      for (const rec of RECS) w.writePacket(rec.data, 0, rec.data.length, rec.sec, rec.frac, rec.len);
      assert.ok(w.close());
      const r = PcapReader.fromBytes(w.sink.bytes());
      assert.equal(r.linktype, LINKTYPE_LOOP);
      assert.equal(r.dlt, DLT_LOOP);
      if (bigEndian !== undefined) assert.equal(r.bigEndian, bigEndian);
      assert.equal(r.tsUnits, nanosecond ? 1e9 : 1e6);
      const got = drain(r);
      assert.equal(r.error, null);
      assert.deepEqual(
        got.map((g) => [g.sec, g.frac, g.caplen, g.len, g.data]),
        RECS.map((x) => [x.sec, x.frac, x.data.length, x.len ?? x.data.length, toHex(x.data)]),
      );
    }
  }
});

test('writer through a file descriptor in chunks, including packets larger than the buffer', () => {
  const t = tmp();
  try {
    const path = join(t.dir, 'w.pcap');
    const w = PcapWriter.open(path, { linktype: 1, snaplen: 70000, bufferSize: 256 });
    assert.equal(w.error, null);
    const recs: Rec[] = [];
    for (let i = 0; i < 1000; i++) recs.push({ sec: 1000 + i, frac: i, data: pkt(i === 500 ? 65535 : (i * 13) % 300, i) });
    for (const x of recs) assert.ok(w.writePacket(x.data, 0, x.data.length, x.sec, x.frac));
    assert.ok(w.close());
    assert.equal(readFileSync(path).length, pcapFile({}, recs).length);
    const { got, error } = readFd(path, { chunkSize: 100 });
    assert.equal(error, null);
    assert.equal(got.length, 1000);
    got.forEach((g, i) => {
      assert.equal(g.sec, recs[i].sec);
      assert.equal(g.data, toHex(recs[i].data));
    });
  } finally {
    t.done();
  }
});

test('writer errors are reported, not thrown', () => {
  const w = PcapWriter.open('/nonexistent-dir/w.pcap', { linktype: 1 });
  assert.equal(w.error, '/nonexistent-dir/w.pcap: No such file or directory');
  assert.equal(w.writePacket(pkt(10, 1), 0, 10, 0, 0), false);
  assert.equal(w.close(), false);

  const broken: PcapSink = {
    write() {
      throw Object.assign(new Error('EPIPE: broken pipe, write'), { code: 'EPIPE' });
    },
  };
  const b = new PcapWriter(broken, { linktype: 1, bufferSize: 64 });
  assert.equal(b.writePacket(pkt(100, 1), 0, 100, 0, 0), false);
  assert.equal(b.error, 'write error: Broken pipe');
  assert.equal(b.close(), false);
});

test('a million packets stream through a bounded buffer', () => {
  const t = tmp();
  try {
    const path = join(t.dir, 'million.pcap');
    const w = PcapWriter.open(path, { linktype: 1 });
    const p = new Uint8Array(60);
    for (let i = 0; i < 1_000_000; i++) {
      p[0] = i & 0xff;
      w.writePacket(p, 0, 60, i, 0);
    }
    assert.ok(w.close());
    assert.equal(statSync(path).size, 24 + 1_000_000 * 76);
    const r = PcapReader.open(path, { chunkSize: 1 << 16 });
    const first = r.buf;
    let n = 0;
    let bad = 0;
    let buffers = 0;
    let last = first;
    while (r.next()) {
      if (r.buf[r.off] !== (n & 0xff) || r.tsSec !== n) bad++;
      if (r.buf !== last) {
        buffers++;
        last = r.buf;
      }
      n++;
    }
    assert.equal(r.error, null);
    assert.equal(n, 1_000_000);
    assert.equal(bad, 0);
    // one 64 KiB buffer for a 76 MB file: the tail is moved, never reallocated
    assert.equal(buffers, 1);
    assert.equal(last.length, 1 << 16);
  } finally {
    t.done();
  }
});

test('random and mutated input never throws or hangs', () => {
  const drainQuietly = (b: Uint8Array): void => {
    const r = PcapReader.fromBytes(b, { maxCaplen: 4096 });
    let n = 0;
    while (r.next()) n++;
    assert.ok(n <= b.length / 12 + 1);
    assert.ok(r.error === null || /offset \d+/.test(r.error), r.error ?? '');
  };
  const seeds = [
    pcapFile({}, RECS),
    pcapFile({ le: false, nsec: true }, RECS),
    concat(shb(true), idb(true, 1, 0), epb(true, 0, 5n, pkt(30, 1)), epb(true, 0, 6n, pkt(3, 2))),
    concat(shb(false), idb(false, 1, 0), epb(false, 0, 5n, pkt(30, 1))),
  ];
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (b) => drainQuietly(b)),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
      (seed, edits) => {
        const b = Uint8Array.from(seed);
        for (const [at, v] of edits) b[at % b.length] = v;
        drainQuietly(b);
      },
    ),
    { numRuns: 2000 },
  );
});
