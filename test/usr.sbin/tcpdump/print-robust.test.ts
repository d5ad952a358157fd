/**
 * The printer never throws and always ends the packet's line: every
 * truncation point of every fixture packet, under several flag sets, and
 * random bytes on every link type.
 */
process.env.TZ = 'UTC';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OutBuf, StringSink } from '../../../src/usr.sbin/tcpdump/outbuf.js';
import { PrintState, printPacket, type PrintOptions } from '../../../src/usr.sbin/tcpdump/print.js';
import { fixture, readPcap } from './print-build.js';

const FLAGS: PrintOptions[] = [{}, { vflag: 1 }, { vflag: 3, eflag: true }, { qflag: true, nflag: false, eflag: true }, { Sflag: true, vflag: 2 }];

test('every truncation of every fixture packet prints one line and does not throw', () => {
  for (const name of ['scapy-mixed.pcap', 'linux-netns.pcap']) {
    const file = fixture(name);
    const { linktype, recs } = readPcap(file);
    for (const opts of FLAGS) {
      const sink = new StringSink();
      const out = new OutBuf(sink.sink, 4096);
      const st = new PrintState({ thiszone: 0, ...opts });
      let lines = 0;
      for (const r of recs) {
        const n = Math.min(r.caplen, 200);
        for (let cap = 0; cap <= n; cap++) {
          // A copy ending at the capture, so nothing past it is readable.
          const pkt = file.slice(r.off, r.off + cap);
          printPacket(out, st, linktype, r.sec, r.nsec, pkt, 0, cap, r.len);
          lines++;
        }
      }
      out.flush();
      const text = sink.text();
      assert.equal(text.split('\n').length - 1, lines, `${name} ${JSON.stringify(opts)}`);
      assert.ok(!text.includes('undefined') && !text.includes('NaN'), `${name} ${JSON.stringify(opts)}`);
    }
  }
});

test('hex dumps of truncated packets keep their shape', () => {
  const file = fixture('scapy-mixed.pcap');
  const { linktype, recs } = readPcap(file);
  const sink = new StringSink();
  const out = new OutBuf(sink.sink);
  const st = new PrintState({ thiszone: 0, Xflag: true, vflag: 1 });
  for (const r of recs.slice(0, 12)) {
    for (let cap = 0; cap <= r.caplen; cap += 7) printPacket(out, st, linktype, r.sec, r.nsec, file.slice(r.off, r.off + cap), 0, cap, r.len);
  }
  out.flush();
  for (const line of sink.text().split('\n')) {
    if (line.startsWith('  0')) assert.match(line, /^ {2}[0-9a-f]{4}: [0-9a-f ]{40} .{1,16}$/);
  }
});

test('random bytes on every link type never throw', () => {
  const sink = new StringSink();
  const out = new OutBuf(sink.sink, 1024);
  fc.assert(
    fc.property(
      fc.constantFrom(0, 1, 12, 14, 101, 108, 228, 229),
      fc.uint8Array({ maxLength: 160 }),
      fc.nat(300),
      fc.record({ vflag: fc.nat(3), eflag: fc.boolean(), xflag: fc.boolean(), Xflag: fc.boolean(), Sflag: fc.boolean(), qflag: fc.boolean(), nflag: fc.boolean() }),
      (lt, bytes, wirelen, opts) => {
        const st = new PrintState({ thiszone: 0, ...opts });
        printPacket(out, st, lt, 0, 0, bytes, 0, bytes.length, wirelen);
        out.flush();
        const t = sink.text();
        sink.clear();
        return t.endsWith('\n') && !t.includes('undefined') && !t.includes('NaN');
      },
    ),
    { numRuns: 3000 },
  );
});

test('random IPv4/IPv6 headers with plausible fields reach the transport printers', () => {
  const sink = new StringSink();
  const out = new OutBuf(sink.sink, 1024);
  const st = new PrintState({ thiszone: 0, vflag: 2 });
  fc.assert(
    fc.property(fc.constantFrom(0x45, 0x46, 0x4f, 0x60), fc.constantFrom(0, 1, 2, 4, 6, 17, 41, 43, 44, 50, 51, 58, 59, 60), fc.uint8Array({ minLength: 40, maxLength: 120 }), (vhl, proto, bytes) => {
      const b = bytes.slice();
      b[0] = vhl;
      if (vhl === 0x60) b[6] = proto;
      else b[9] = proto;
      printPacket(out, st, 101, 0, 0, b, 0, b.length, b.length);
      out.flush();
      const t = sink.text();
      sink.clear();
      return t.endsWith('\n') && !t.includes('undefined') && !t.includes('NaN');
    }),
    { numRuns: 5000 },
  );
});
