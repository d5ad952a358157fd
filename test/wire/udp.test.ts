import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hex, toHex } from '../../src/wire/bytes.js';
import { pseudoSum4, pseudoSum6, sum16 } from '../../src/wire/checksum.js';
import { WireCode, WireError, isWireError } from '../../src/wire/error.js';
import { UDP_HDRLEN, UdpPacket, emitUdp, parseUdp, udpReprLength, type UdpRepr } from '../../src/wire/udp.js';

// Captured on Linux loopback: `echo x | nc -u 127.0.0.1 33334` from port 35870.
// The kernel left a partial (offload) checksum; 0x7b78 is the full one tcpdump computed.
const UDP4 = hex('8c1e 8236 000a 7b78 780a');
const LOOP = 0x7f000001;
const pseudo4 = (n: number) => pseudoSum4(LOOP, LOOP, 17, n);

// Built with scapy: IPv6 2001:db8::1 -> 2001:db8::2, UDP 53000 -> 53, payload "abc".
const UDP6_IP = hex(
  '6000 0000 000b 1140 2001 0db8 0000 0000 0000 0000 0000 0001 2001 0db8 0000 0000 0000 0000 0000 0002' +
    'cf08 0035 000b 10c3 6162 63',
);

test('deconstruct a Linux UDP datagram', () => {
  const u = new UdpPacket(UDP4);
  assert.equal(u.check(), WireCode.Ok);
  assert.equal(u.srcPort, 35870);
  assert.equal(u.dstPort, 33334);
  assert.equal(u.length, 10);
  assert.equal(u.checksum, 0x7b78);
  assert.equal(u.headerLength, 8);
  assert.equal(u.payloadOffset, 8);
  assert.equal(u.payloadLength, 2);
  assert.ok(u.verifyChecksum(pseudo4(10)));
  assert.ok(!u.verifyChecksum(pseudo4(11)));
});

test('parse and emit IPv4 UDP byte for byte', () => {
  const r = parseUdp(UDP4, 0, UDP4.length, pseudo4(10));
  assert.ok(!isWireError(r));
  assert.deepEqual(r, { srcPort: 35870, dstPort: 33334, payload: hex('780a') });
  const out = new Uint8Array(udpReprLength(r));
  assert.equal(emitUdp(r, out, 0, pseudo4(out.length)), 10);
  assert.equal(toHex(out), toHex(UDP4));
});

test('IPv6 UDP: pseudo-header from the buffer, mandatory checksum', () => {
  const u = new UdpPacket(UDP6_IP, 40, 11);
  assert.equal(u.check(), WireCode.Ok);
  const ps = pseudoSum6(UDP6_IP, 8, 24, 17, 11);
  assert.ok(u.verifyChecksum(ps));
  const r = parseUdp(UDP6_IP, 40, 11, ps, true);
  assert.ok(!isWireError(r));
  assert.equal(r.srcPort, 53000);
  assert.equal(new TextDecoder().decode(r.payload), 'abc');
  const out = UDP6_IP.slice();
  out.fill(0xee, 40);
  emitUdp(r, out, 40, ps);
  assert.equal(toHex(out), toHex(UDP6_IP));
  // A zero checksum is "none" over IPv4 but an error over IPv6.
  const z = UDP6_IP.slice();
  z[46] = 0;
  z[47] = 0;
  assert.ok(!isWireError(parseUdp(z, 40, 11, ps, false)));
  const e = parseUdp(z, 40, 11, ps, true);
  assert.ok(e instanceof WireError && e.kind === 'malformed');
});

test('a bad checksum is rejected when a pseudo-header is given', () => {
  const b = UDP4.slice();
  b[9] ^= 1;
  const e = parseUdp(b, 0, b.length, pseudo4(10));
  assert.ok(e instanceof WireError);
  assert.equal(e.kind, 'malformed');
  assert.ok(!isWireError(parseUdp(b, 0, b.length)));
});

test('a computed checksum of 0 is sent as 0xffff', () => {
  const repr: UdpRepr = { srcPort: 1, dstPort: 2, payload: new Uint8Array(2) };
  const ps = pseudo4(10);
  // Choose the payload word so the sum is 0xffff and the checksum thus 0.
  const buf = new Uint8Array(10);
  emitUdp(repr, buf, 0);
  const s = sum16(buf, 0, 10, ps);
  const w = 0xffff - s;
  repr.payload = new Uint8Array([w >> 8, w & 0xff]);
  emitUdp(repr, buf, 0, ps);
  assert.equal(buf[6], 0xff);
  assert.equal(buf[7], 0xff);
  const u = new UdpPacket(buf);
  assert.ok(u.verifyChecksum(ps));
  u.fillChecksum(ps);
  assert.equal(u.checksum, 0xffff);
});

test('setters and fillChecksum', () => {
  const b = new Uint8Array(12);
  const u = new UdpPacket(b);
  u.srcPort = 7;
  u.dstPort = 9;
  u.length = 12;
  u.fillChecksum(pseudo4(12));
  assert.equal(u.check(), WireCode.Ok);
  assert.ok(u.verifyChecksum(pseudo4(12)));
  assert.equal(u.wrap(b, 2, 10).off, 2);
});

test('every truncation and impossible length is rejected', () => {
  for (let n = 0; n < UDP4.length; n++) {
    const e = parseUdp(UDP4, 0, n);
    assert.ok(e instanceof WireError, `len ${n}`);
    assert.equal(e.kind, 'truncated');
    assert.notEqual(new UdpPacket(UDP4, 0, n).check(), WireCode.Ok);
  }
  for (const l of [0, 1, 7]) {
    const b = UDP4.slice();
    b[4] = 0;
    b[5] = l;
    assert.equal(new UdpPacket(b).check(), WireCode.Malformed);
    const e = parseUdp(b, 0, b.length);
    assert.ok(e instanceof WireError && e.kind === 'malformed');
  }
  // A length field shorter than the buffer is fine: the payload follows the field.
  const r = parseUdp(hex('0001 0002 0008 0000 ffff'), 0, 10);
  assert.ok(!isWireError(r));
  assert.equal(r.payload.length, 0);
  assert.equal(UDP_HDRLEN, 8);
});

test('property: random bytes never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(40), fc.nat(40), (b, o, l) => {
      const off = Math.min(o, b.length);
      const len = Math.min(l, b.length - off);
      const r = parseUdp(b, off, len, 0x1234, (o & 1) === 1);
      if (!isWireError(r)) assert.equal(8 + r.payload.length, new UdpPacket(b, off, len).length);
      new UdpPacket(b, off, len).check();
    }),
  );
});

test('property: parse(emit(repr)) round-trips with a valid checksum', () => {
  fc.assert(
    fc.property(fc.nat(0xffff), fc.nat(0xffff), fc.uint8Array({ maxLength: 64 }), fc.nat(0xffff), (sp, dp, payload, ps) => {
      const repr: UdpRepr = { srcPort: sp, dstPort: dp, payload };
      const n = udpReprLength(repr);
      const buf = new Uint8Array(n + 3);
      assert.equal(emitUdp(repr, buf, 3, ps), n);
      const back = parseUdp(buf, 3, n, ps, true);
      assert.ok(!isWireError(back), String(back));
      assert.deepEqual(back, repr);
    }),
  );
});
