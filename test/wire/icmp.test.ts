import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hex, toHex } from '../../src/wire/bytes.js';
import { WireCode, WireError, isWireError } from '../../src/wire/error.js';
import * as I from '../../src/wire/icmp.js';
import { IcmpPacket, emitIcmp, icmpReprLength, parseIcmp, type IcmpRepr } from '../../src/wire/icmp.js';

// Captured on Linux loopback: `ping -c1 127.0.0.1` (id 9204, seq 1, 56 bytes of data:
// a struct timeval then 0x10..0x37), and the kernel's echo reply.
const ECHO = hex(
  '0800 dba3 23f4 0001 ecd0 076b 0000 0000 3e58 0700 0000 0000' +
    '1011 1213 1415 1617 1819 1a1b 1c1d 1e1f 2021 2223 2425 2627 2829 2a2b 2c2d 2e2f 3031 3233 3435 3637',
);
const ECHOREPLY = hex(
  '0000 e3a3 23f4 0001 ecd0 076b 0000 0000 3e58 0700 0000 0000' +
    '1011 1213 1415 1617 1819 1a1b 1c1d 1e1f 2021 2223 2425 2627 2829 2a2b 2c2d 2e2f 3031 3233 3435 3637',
);

// Captured on Linux loopback: port unreachable for a UDP datagram 127.0.0.1.35870 > .33334
// (the quoted UDP checksum is Linux's partial offload value, as it was sent).
const PORT_UNREACH = hex('0303 7875 0000 0000 4500 001e a4ae 4000 4011 981e 7f00 0001 7f00 0001 8c1e 8236 000a fe1d 780a');

// Built with scapy: errors from 192.0.2.1 about 198.51.100.2 -> 203.0.113.9 UDP 40000 -> 33434, TTL 1.
const QUOTE = hex('4500 0020 1234 0000 0111 415a c633 6402 cb00 7109 9c40 829a 000c 7abb 0000 0000');
const withQuote = (h: string) => {
  const head = hex(h);
  const b = new Uint8Array(head.length + QUOTE.length);
  b.set(head);
  b.set(QUOTE, head.length);
  return b;
};
const NEEDFRAG = withQuote('0304 5de1 0000 0578'); // need-frag, next-hop MTU 1400
const REDIRECT = withQuote('0501 9e5d c000 02fe'); // redirect host via 192.0.2.254
const TIMXCEED = withQuote('0b00 5b5d 0000 0000'); // TTL exceeded in transit
const PARAMPROB = withQuote('0c00 465d 1400 0000'); // pointer 20
const SRCQUENCH = withQuote('0400 625d 0000 0000');
// Built with scapy: timestamp reply id 0x4242 seq 7, and mask reply 255.255.255.0.
const TSTAMPREPLY = hex('0e00 b54f 4242 0007 0225 5100 0225 517b 0225 517c');
const MASKREPLY = hex('1200 ee64 0099 0001 ffff ff00');
// Built by hand (checksum by scapy): router advertisement, 2 entries, lifetime 1800,
// 192.0.2.1 preference 0 and 192.0.2.2 preference -5; a router solicitation.
const ROUTERADVERT = hex('0900 69f5 0202 0708 c000 0201 0000 0000 c000 0202 ffff fffb');
const ROUTERSOLICIT = hex('0a00 f5ff 0000 0000');

function roundTrip(fixture: Uint8Array, expect: IcmpRepr): void {
  const r = parseIcmp(fixture, 0, fixture.length);
  assert.ok(!isWireError(r), String(r));
  assert.deepEqual(r, expect);
  const out = new Uint8Array(icmpReprLength(r) + 4).fill(0xee);
  assert.equal(emitIcmp(r, out, 2), fixture.length);
  assert.equal(toHex(out, 2, fixture.length), toHex(fixture));
}

test('deconstruct a Linux echo request', () => {
  const p = new IcmpPacket(ECHO);
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.type, I.ICMP_ECHO);
  assert.equal(p.code, 0);
  assert.equal(p.checksum, 0xdba3);
  assert.equal(p.id, 9204);
  assert.equal(p.seq, 1);
  assert.equal(p.headerLength, 8);
  assert.equal(p.payloadOffset, 8);
  assert.equal(p.payloadLength, 56);
  assert.ok(p.verifyChecksum());
  assert.ok(I.icmpInfoType(p.type));
  assert.ok(!I.icmpErrorType(p.type));
});

test('echo request and reply: parse, emit byte for byte', () => {
  const data = ECHO.subarray(8);
  roundTrip(ECHO, { type: I.ICMP_ECHO, code: 0, id: 9204, seq: 1, data });
  roundTrip(ECHOREPLY, { type: I.ICMP_ECHOREPLY, code: 0, id: 9204, seq: 1, data });
});

test('turning a request into a reply in place, as icmp_reflect does', () => {
  const b = ECHO.slice();
  const p = new IcmpPacket(b);
  p.type = I.ICMP_ECHOREPLY;
  p.fillChecksum();
  assert.equal(toHex(b), toHex(ECHOREPLY));
});

test('deconstruct a Linux port unreachable and its quote', () => {
  const p = new IcmpPacket(PORT_UNREACH);
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.type, I.ICMP_UNREACH);
  assert.equal(p.code, I.ICMP_UNREACH_PORT);
  assert.ok(p.verifyChecksum());
  assert.ok(I.icmpErrorType(p.type));
  assert.equal(p.rest, 0);
  assert.equal(p.quoteOffset, 8);
  assert.equal(p.quoteLength, 30);
  assert.equal(p.buf[p.quoteOffset], 0x45); // the quoted IPv4 header
  assert.ok(p.len >= I.ICMP_ADVLENMIN);
  assert.equal(p.advLength, 36);
  assert.equal(p.origLength, 0);
  roundTrip(PORT_UNREACH, { type: I.ICMP_UNREACH, code: 3, nextMtu: 0, data: PORT_UNREACH.subarray(8) });
});

test('errors: need-frag MTU, redirect gateway, pointer, time exceeded, source quench', () => {
  const nf = new IcmpPacket(NEEDFRAG);
  assert.equal(nf.code, I.ICMP_UNREACH_NEEDFRAG);
  assert.equal(nf.nextMtu, 1400);
  assert.equal(new IcmpPacket(REDIRECT).gateway, 0xc00002fe);
  assert.equal(new IcmpPacket(PARAMPROB).pointer, 20);
  roundTrip(NEEDFRAG, { type: I.ICMP_UNREACH, code: I.ICMP_UNREACH_NEEDFRAG, nextMtu: 1400, data: QUOTE });
  roundTrip(REDIRECT, { type: I.ICMP_REDIRECT, code: I.ICMP_REDIRECT_HOST, gateway: 0xc00002fe, data: QUOTE });
  roundTrip(TIMXCEED, { type: I.ICMP_TIMXCEED, code: I.ICMP_TIMXCEED_INTRANS, data: QUOTE });
  roundTrip(PARAMPROB, { type: I.ICMP_PARAMPROB, code: I.ICMP_PARAMPROB_ERRATPTR, pointer: 20, data: QUOTE });
  roundTrip(SRCQUENCH, { type: I.ICMP_SOURCEQUENCH, code: 0, data: QUOTE });
});

test('timestamp reply and address mask reply', () => {
  const t = new IcmpPacket(TSTAMPREPLY);
  assert.equal(t.check(), WireCode.Ok);
  assert.equal(t.headerLength, I.ICMP_TSLEN);
  assert.equal(t.payloadLength, 0);
  assert.equal(t.otime, 36000000);
  assert.equal(t.rtime, 36000123);
  assert.equal(t.ttime, 36000124);
  roundTrip(TSTAMPREPLY, {
    type: I.ICMP_TSTAMPREPLY,
    code: 0,
    id: 0x4242,
    seq: 7,
    otime: 36000000,
    rtime: 36000123,
    ttime: 36000124,
  });
  assert.equal(new IcmpPacket(MASKREPLY).mask, 0xffffff00);
  roundTrip(MASKREPLY, { type: I.ICMP_MASKREPLY, code: 0, id: 0x99, seq: 1, mask: 0xffffff00 });
});

test('router discovery: the view reads it, the repr does not decode it', () => {
  const p = new IcmpPacket(ROUTERADVERT);
  assert.equal(p.check(), WireCode.Ok);
  assert.ok(p.verifyChecksum());
  assert.equal(p.numAddrs, 2);
  assert.equal(p.wpa, I.ICMP_RA_WPA);
  assert.equal(p.lifetime, 1800);
  assert.equal(p.headerLength, 24);
  assert.equal(p.raAddr(0), 0xc0000201);
  assert.equal(p.raPreference(0), 0);
  assert.equal(p.raAddr(1), 0xc0000202);
  assert.equal(p.raPreference(1), -5);
  for (const b of [ROUTERADVERT, ROUTERSOLICIT]) {
    const e = parseIcmp(b, 0, b.length);
    assert.ok(e instanceof WireError && e.kind === 'unsupported');
  }
  // Entries running past the message, and an entry size below 2 words.
  assert.equal(new IcmpPacket(ROUTERADVERT, 0, 23).check(), WireCode.Truncated);
  const bad = ROUTERADVERT.slice();
  bad[5] = 1;
  assert.equal(new IcmpPacket(bad).check(), WireCode.Malformed);
  const e = parseIcmp(bad, 0, bad.length);
  assert.ok(e instanceof WireError && e.kind === 'malformed');
});

test('constants: every unreachable code 0-15, the rest of the table', () => {
  const unreach = [
    I.ICMP_UNREACH_NET,
    I.ICMP_UNREACH_HOST,
    I.ICMP_UNREACH_PROTOCOL,
    I.ICMP_UNREACH_PORT,
    I.ICMP_UNREACH_NEEDFRAG,
    I.ICMP_UNREACH_SRCFAIL,
    I.ICMP_UNREACH_NET_UNKNOWN,
    I.ICMP_UNREACH_HOST_UNKNOWN,
    I.ICMP_UNREACH_ISOLATED,
    I.ICMP_UNREACH_NET_PROHIB,
    I.ICMP_UNREACH_HOST_PROHIB,
    I.ICMP_UNREACH_TOSNET,
    I.ICMP_UNREACH_TOSHOST,
    I.ICMP_UNREACH_FILTER_PROHIB,
    I.ICMP_UNREACH_HOST_PRECEDENCE,
    I.ICMP_UNREACH_PRECEDENCE_CUTOFF,
  ];
  assert.deepEqual(unreach, [...Array(16).keys()]);
  assert.deepEqual([I.ICMP_REDIRECT_NET, I.ICMP_REDIRECT_HOST, I.ICMP_REDIRECT_TOSNET, I.ICMP_REDIRECT_TOSHOST], [0, 1, 2, 3]);
  assert.deepEqual([I.ICMP_IREQ, I.ICMP_IREQREPLY, I.ICMP_MASKREQ, I.ICMP_MASKREPLY], [15, 16, 17, 18]);
  assert.deepEqual([I.ICMP_ROUTERADVERT, I.ICMP_ROUTERSOLICIT, I.ICMP_TSTAMP, I.ICMP_TSTAMPREPLY], [9, 10, 13, 14]);
  assert.equal(I.ICMP_ADVLENMIN, 36);
});

test('information request: id and seq like echo', () => {
  const r: IcmpRepr = { type: I.ICMP_IREQ, code: 0, id: 1, seq: 2, data: new Uint8Array(0) };
  const b = new Uint8Array(icmpReprLength(r));
  emitIcmp(r, b, 0);
  assert.equal(toHex(b), '0f00f0fc00010002');
  assert.deepEqual(parseIcmp(b, 0, b.length), r);
});

test('every truncation of a header is rejected; a bad checksum too', () => {
  for (const f of [ECHO, PORT_UNREACH, TSTAMPREPLY, MASKREPLY, ROUTERADVERT]) {
    const need = new IcmpPacket(f).headerLength;
    for (let n = 0; n < need; n++) {
      const e = parseIcmp(f, 0, n);
      assert.ok(e instanceof WireError && e.kind === 'truncated', `${toHex(f, 0, 1)} len ${n}`);
      assert.equal(new IcmpPacket(f, 0, n).check(), WireCode.Truncated);
    }
  }
  // Losing the data of an echo shows in the checksum.
  const e = parseIcmp(ECHO, 0, ECHO.length - 1);
  assert.ok(e instanceof WireError && e.kind === 'malformed');
  const b = ECHO.slice();
  b[20] ^= 0x40;
  assert.ok(!new IcmpPacket(b).verifyChecksum());
  assert.ok(isWireError(parseIcmp(b, 0, b.length)));
});

test('property: random bytes never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 48 }), fc.nat(48), fc.nat(48), (b, o, l) => {
      const off = Math.min(o, b.length);
      const len = Math.min(l, b.length - off);
      parseIcmp(b, off, len);
      const p = new IcmpPacket(b, off, len);
      if (p.check() === WireCode.Ok) assert.ok(p.payloadLength >= 0);
    }),
  );
  // Random bytes behind a valid type byte and a correct checksum reach every decoder.
  fc.assert(
    fc.property(fc.nat(40), fc.uint8Array({ minLength: 8, maxLength: 40 }), (t, b) => {
      b[0] = t;
      new IcmpPacket(b).fillChecksum();
      const r = parseIcmp(b, 0, b.length);
      if (!isWireError(r)) assert.equal(r.type, t);
    }),
  );
});

const u16 = fc.nat(0xffff);
const u32 = fc.nat(0xffffffff);
const u8 = fc.nat(0xff);
const bytes = fc.uint8Array({ maxLength: 64 });
const reprArb: fc.Arbitrary<IcmpRepr> = fc.oneof(
  fc.record({ type: fc.constantFrom(I.ICMP_ECHO, I.ICMP_ECHOREPLY, I.ICMP_IREQ, I.ICMP_IREQREPLY), code: u8, id: u16, seq: u16, data: bytes }),
  fc.record({ type: fc.constant(I.ICMP_UNREACH), code: u8, nextMtu: u16, data: bytes }),
  fc.record({ type: fc.constantFrom(I.ICMP_TIMXCEED, I.ICMP_SOURCEQUENCH), code: u8, data: bytes }),
  fc.record({ type: fc.constant(I.ICMP_REDIRECT), code: u8, gateway: u32, data: bytes }),
  fc.record({ type: fc.constant(I.ICMP_PARAMPROB), code: u8, pointer: u8, data: bytes }),
  fc.record({ type: fc.constantFrom(I.ICMP_TSTAMP, I.ICMP_TSTAMPREPLY), code: u8, id: u16, seq: u16, otime: u32, rtime: u32, ttime: u32 }),
  fc.record({ type: fc.constantFrom(I.ICMP_MASKREQ, I.ICMP_MASKREPLY), code: u8, id: u16, seq: u16, mask: u32 }),
).map((r) => ({ ...r })); // fc.record objects have a null prototype

test('property: parse(emit(repr)) round-trips', () => {
  fc.assert(
    fc.property(reprArb, (repr) => {
      const n = icmpReprLength(repr);
      const buf = new Uint8Array(n + 1);
      assert.equal(emitIcmp(repr, buf, 1), n);
      assert.deepEqual(parseIcmp(buf, 1, n), repr);
    }),
  );
});
