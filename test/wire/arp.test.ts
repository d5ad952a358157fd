import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hex, toHex } from '../../src/wire/bytes.js';
import { WireCode, WireError } from '../../src/wire/error.js';
import { parseIp4 } from '../../src/wire/addr.js';
import {
  ARP_ETHER_IP_LEN,
  ARPHRD_ETHER,
  ARPHRD_IEEE1394,
  ARPOP_REPLY,
  ARPOP_REQUEST,
  ARPOP_REVREPLY,
  ARPOP_REVREQUEST,
  ArpPacket,
  type ArpRepr,
  arpReprLength,
  emitArp,
  parseArp,
} from '../../src/wire/arp.js';
import { ETHERTYPE_ARP, ETHERTYPE_REVARP, EtherTagIterator } from '../../src/wire/ether.js';
import { captureFrames, CAPTURES } from './fixture-frames.js';

// Linux 192.0.2.1 (02:00:00:00:00:0a) asks who-has 192.0.2.2; the ARP part of the frame.
const REQUEST = hex('0001 0800 06 04 0001 02000000000a c0000201 000000000000 c0000202');
// Linux 192.0.2.2 answers: 192.0.2.2 is-at 02:00:00:00:00:0b.
const REPLY = hex('0001 0800 06 04 0002 02000000000b c0000202 02000000000a c0000201');
// A RARP request (RFC 903) for 02:00:00:00:00:0a, built by hand: addresses unknown are zero.
const RARP = hex('0001 0800 06 04 0003 02000000000a 00000000 02000000000a 00000000');
// IPv4 over IEEE 1394 (RFC 2734): 16-byte hardware addresses, well formed but not decoded here.
const FIREWIRE = hex(
  '0018 0800 10 04 0001' + '00'.repeat(16) + 'c0000201' + '00'.repeat(16) + 'c0000202',
);

const A = hex('02000000000a');
const B = hex('02000000000b');

test('deconstruct the request Linux sent', () => {
  const p = new ArpPacket(REQUEST);
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.htype, ARPHRD_ETHER);
  assert.equal(p.ptype, 0x0800);
  assert.equal(p.hlen, 6);
  assert.equal(p.plen, 4);
  assert.equal(p.op, ARPOP_REQUEST);
  assert.equal(toHex(p.buf, p.shaOffset, 6), '02000000000a');
  assert.equal(p.spa, parseIp4('192.0.2.1'));
  assert.equal(toHex(p.buf, p.thaOffset, 6), '000000000000');
  assert.equal(p.tpa, parseIp4('192.0.2.2'));
  assert.equal(p.headerLength, 28);
  assert.equal(p.payloadLength, 0);
});

test('construct the request and the reply byte for byte', () => {
  const req: ArpRepr = { htype: ARPHRD_ETHER, op: ARPOP_REQUEST, sha: A, spa: parseIp4('192.0.2.1'), tha: new Uint8Array(6), tpa: parseIp4('192.0.2.2') };
  const rep: ArpRepr = { htype: ARPHRD_ETHER, op: ARPOP_REPLY, sha: B, spa: parseIp4('192.0.2.2'), tha: A, tpa: parseIp4('192.0.2.1') };
  for (const [repr, bytes] of [
    [req, REQUEST],
    [rep, REPLY],
  ] as const) {
    assert.deepEqual(parseArp(bytes, 0, bytes.length), repr);
    const out = new Uint8Array(arpReprLength(repr));
    assert.equal(emitArp(repr, out, 0), ARP_ETHER_IP_LEN);
    assert.equal(toHex(out), toHex(bytes));
  }
});

test('the view turns a request into its reply in place, as arp does', () => {
  const b = REQUEST.slice();
  const p = new ArpPacket(b);
  const spa = p.spa;
  p.op = ARPOP_REPLY;
  p.copySha(b, p.thaOffset);
  p.setSha(B);
  p.spa = p.tpa;
  p.tpa = spa;
  assert.equal(toHex(b), toHex(REPLY));
  const tha = new Uint8Array(6);
  p.copyTha(tha);
  assert.equal(toHex(tha), '02000000000a');
  p.setTha(new Uint8Array(6));
  assert.equal(toHex(b, p.thaOffset, 6), '000000000000');
});

test('RARP ops parse with the same layout', () => {
  const r = parseArp(RARP, 0, RARP.length);
  assert.ok(!(r instanceof WireError));
  assert.equal(r.op, ARPOP_REVREQUEST);
  assert.equal(toHex(r.tha), '02000000000a');
  const answer: ArpRepr = { ...r, op: ARPOP_REVREPLY, tpa: parseIp4('192.0.2.9') };
  const out = new Uint8Array(28);
  emitArp(answer, out, 0);
  assert.deepEqual(parseArp(out, 0, 28), answer);
});

test('unusual address lengths are Unsupported, read at the declared offsets', () => {
  const p = new ArpPacket(FIREWIRE);
  assert.equal(p.check(), WireCode.Unsupported);
  assert.equal(p.htype, ARPHRD_IEEE1394);
  assert.equal(p.headerLength, 8 + 2 * (16 + 4));
  assert.equal(p.spaOffset, 24);
  assert.equal(p.tpaOffset, 44);
  const r = parseArp(FIREWIRE, 0, FIREWIRE.length);
  assert.ok(r instanceof WireError);
  assert.equal(r.kind, 'unsupported');
  // Other combinations: IPv4 with 8-byte hardware addresses, a non-IP protocol, zero lengths.
  for (const h of ['0001 0800 08 04 0001', '0001 86dd 06 10 0001', '0001 0800 00 00 0001']) {
    const b = new Uint8Array(64);
    b.set(hex(h));
    assert.equal(new ArpPacket(b).check(), WireCode.Unsupported, h);
    const e = parseArp(b, 0, b.length);
    assert.ok(e instanceof WireError && e.kind === 'unsupported', h);
  }
  // A well formed header whose addresses do not fit is truncated, whatever their kind.
  assert.equal(new ArpPacket(FIREWIRE, 0, 47).check(), WireCode.Truncated);
});

test('every truncation of the request is rejected', () => {
  for (let n = 0; n < 28; n++) {
    assert.equal(new ArpPacket(REQUEST, 0, n).check(), WireCode.Truncated, `cut at ${n}`);
    const r = parseArp(REQUEST, 0, n);
    assert.ok(r instanceof WireError && r.kind === 'truncated', `cut at ${n}`);
  }
});

test('Ethernet padding after the 28 bytes is ignored', () => {
  const b = new Uint8Array(46).fill(0xa5);
  b.set(REQUEST);
  assert.equal(new ArpPacket(b).check(), WireCode.Ok);
  assert.deepEqual(parseArp(b, 0, b.length), parseArp(REQUEST, 0, 28));
});

test('every ARP and RARP frame of the capture fixtures parses and re-emits', () => {
  const it = new EtherTagIterator();
  let n = 0;
  for (const name of CAPTURES) {
    for (const fr of captureFrames(name)) {
      it.reset(fr, 0, fr.length).skip();
      if (it.type !== ETHERTYPE_ARP && it.type !== ETHERTYPE_REVARP) continue;
      const r = parseArp(fr, it.payloadOffset, fr.length - it.payloadOffset);
      assert.ok(!(r instanceof WireError), String(r));
      const out = new Uint8Array(28);
      emitArp(r, out, 0);
      assert.equal(toHex(out), toHex(fr, it.payloadOffset, 28));
      n++;
    }
  }
  assert.ok(n >= 4);
});

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const reprArb = fc.record(
  {
    htype: fc.constantFrom(1, 6),
    op: fc.integer({ min: 0, max: 0xffff }),
    sha: mac,
    spa: u32,
    tha: mac,
    tpa: u32,
  },
  { noNullPrototype: true },
);

test('property: parse(emit(repr)) is repr', () => {
  fc.assert(
    fc.property(reprArb, (repr) => {
      const b = new Uint8Array(28);
      emitArp(repr, b, 0);
      assert.deepEqual(parseArp(b, 0, 28), repr);
    }),
  );
});

test('property: random bytes never throw', () => {
  const p = new ArpPacket();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const code = p.wrap(b, 0, b.length).check();
      const r = parseArp(b, 0, b.length);
      assert.equal(r instanceof WireError, code !== WireCode.Ok);
      if (code === WireCode.Ok) assert.ok(p.tpaOffset + 4 <= b.length);
    }),
  );
});
