import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIp4, formatIp6, formatMac } from '../../../src/wire/addr.js';
import { OutBuf, StringSink } from '../../../src/usr.sbin/tcpdump/outbuf.js';

function text(size: number, f: (o: OutBuf) => void): string {
  const s = new StringSink();
  const o = new OutBuf(s.sink, size);
  f(o);
  o.flush();
  return s.text();
}

test('numbers as printf prints them', () => {
  assert.equal(
    text(256, (o) => {
      o.dec(0);
      o.ch(32);
      o.dec(4294967295);
      o.ch(32);
      o.dec(-42);
      o.ch(32);
      o.dec0(7, 6);
      o.ch(32);
      o.hex(0);
      o.ch(32);
      o.hex(0xc52b, 4);
      o.ch(32);
      o.hex(0xab, 8);
      o.ch(32);
      o.hex(0xffffffff);
    }),
    '0 4294967295 -42 000007 0 c52b 000000ab ffffffff',
  );
  fc.assert(fc.property(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), (n) => text(256, (o) => o.dec(n)) === String(n)));
  fc.assert(fc.property(fc.nat(0xffffffff), fc.nat(8), (n, w) => text(256, (o) => o.hex(n, w)) === n.toString(16).padStart(w, '0')));
});

test('addresses match the wire layer\'s text', () => {
  const words = fc.array(fc.oneof(fc.constant(0), fc.constant(0xffff), fc.nat(0xffff)), { minLength: 8, maxLength: 8 });
  fc.assert(
    fc.property(words, (w) => {
      const b = new Uint8Array(16);
      w.forEach((v, i) => {
        b[2 * i] = v >> 8;
        b[2 * i + 1] = v & 0xff;
      });
      return text(256, (o) => o.ip6(b, 0)) === formatIp6(b, 0);
    }),
    { numRuns: 2000 },
  );
  fc.assert(fc.property(fc.nat(0xffffffff), (a) => text(256, (o) => o.ip4(a)) === formatIp4(a)));
  const m = new Uint8Array([2, 0, 0xab, 0x0c, 0xff, 1]);
  assert.equal(text(256, (o) => o.mac(m, 0)), formatMac(m, 0));
  assert.equal(text(256, (o) => o.ip6(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1]), 0)), '::ffff:192.0.2.1');
});

test('a small buffer hands everything to the sink, in order', () => {
  const chunks: number[] = [];
  const s = new StringSink();
  const o = new OutBuf((b, n) => {
    chunks.push(n);
    s.sink(b, n);
  }, 128);
  let want = '';
  for (let i = 0; i < 500; i++) {
    o.str('line ');
    o.dec(i);
    o.ch(32);
    o.ip6(new Uint8Array(16).fill(i & 0xff), 0);
    o.nl();
    want += `line ${i} ${formatIp6(new Uint8Array(16).fill(i & 0xff), 0)}\n`;
  }
  o.str('x'.repeat(1000));
  want += 'x'.repeat(1000);
  o.flush();
  assert.equal(s.text(), want);
  assert.ok(chunks.length > 10 && chunks.every((n) => n <= 128));
});
