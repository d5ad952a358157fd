import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hex, toHex } from '../../src/wire/bytes.js';
import { WireCode, WireError } from '../../src/wire/error.js';
import {
  ETHER_HDR_LEN,
  ETHER_MIN_FRAME,
  ETHERTYPE_ARP,
  ETHERTYPE_IP,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
  EtherTagIterator,
  EthernetFrame,
  type EthernetRepr,
  emitEthernet,
  etherInsertTag,
  etherPad,
  etherRemoveTag,
  ethernetReprLength,
  evlDeiOfTag,
  evlMakeTci,
  evlPrioOfTag,
  evlVlanOfTag,
  parseEthernet,
} from '../../src/wire/ether.js';
import { captureFrames, CAPTURES } from './fixture-frames.js';

// Linux (veth in a namespace) asking who-has 192.0.2.2 tell 192.0.2.1: 42 bytes, unpadded.
const ARP_REQUEST = hex(
  'ffffffffffff 02000000000a 0806' + // broadcast <- 02:00:00:00:00:0a, ARP
    '0001 0800 06 04 0001 02000000000a c0000201 000000000000 c0000202',
);

// scapy: Ether / Dot1AD(prio=5, vlan=100) / Dot1Q(prio=3, id=1, vlan=200) / IPv4 / UDP 1234 > 53 "hi".
const QINQ = hex(
  '02000000000b 02000000000a' +
    '88a8 a064' + // S-tag: prio 5, DEI 0, vid 100
    '8100 70c8' + // C-tag: prio 3, DEI 1, vid 200
    '0800' +
    '4500001e000140004011b6cac0000201c0000202 04d20035000a0e66 6869',
);

// scapy: Ether / Dot1Q(vlan=10) / ARP request.
const VLAN_ARP = hex(
  '02000000000b 02000000000a 8100 000a 0806 0001080006040001 02000000000a c0000201 000000000000 c0000202',
);

test('deconstruct an untagged ARP frame from Linux', () => {
  const f = new EthernetFrame(ARP_REQUEST);
  assert.equal(f.check(), WireCode.Ok);
  assert.equal(f.etherType, ETHERTYPE_ARP);
  assert.equal(f.isBroadcast, true);
  assert.equal(f.isMulticast, true);
  assert.equal(f.isTagged, false);
  assert.equal(toHex(f.buf, f.srcOffset, 6), '02000000000a');
  assert.equal(f.payloadOffset, 14);
  assert.equal(f.payloadLength, 28);
  const mac = new Uint8Array(6);
  f.copySrc(mac);
  assert.equal(toHex(mac), '02000000000a');

  const it = new EtherTagIterator().reset(ARP_REQUEST, 0, ARP_REQUEST.length);
  assert.equal(it.next(), false);
  assert.equal(it.code, WireCode.Ok);
  assert.equal(it.type, ETHERTYPE_ARP);
  assert.equal(it.payloadOffset, 14);
  assert.equal(it.count, 0);
});

test('construct the ARP frame header byte for byte', () => {
  const repr: EthernetRepr = {
    dst: hex('ffffffffffff'),
    src: hex('02000000000a'),
    tags: [],
    etherType: ETHERTYPE_ARP,
  };
  assert.deepEqual(parseEthernet(ARP_REQUEST, 0, ARP_REQUEST.length), repr);
  const out = new Uint8Array(14);
  assert.equal(emitEthernet(repr, out, 0), 14);
  assert.equal(toHex(out), toHex(ARP_REQUEST, 0, 14));
});

test('QinQ: the walker yields both tags and finds IPv4 at byte 22', () => {
  const it = new EtherTagIterator().reset(QINQ, 0, QINQ.length);
  assert.equal(it.next(), true);
  assert.equal(it.tpid, ETHERTYPE_QINQ);
  assert.equal(it.offset, 12);
  assert.equal(evlPrioOfTag(it.tci), 5);
  assert.equal(evlDeiOfTag(it.tci), false);
  assert.equal(evlVlanOfTag(it.tci), 100);
  assert.equal(it.next(), true);
  assert.equal(it.tpid, ETHERTYPE_VLAN);
  assert.equal(it.offset, 16);
  assert.equal(evlPrioOfTag(it.tci), 3);
  assert.equal(evlDeiOfTag(it.tci), true);
  assert.equal(evlVlanOfTag(it.tci), 200);
  assert.equal(it.next(), false);
  assert.equal(it.code, WireCode.Ok);
  assert.equal(it.type, ETHERTYPE_IP);
  assert.equal(it.payloadOffset, 22);
  assert.equal(it.count, 2);
  assert.equal(it.next(), false, 'stays finished');

  const f = new EthernetFrame(QINQ);
  assert.equal(f.isTagged, true);
  assert.equal(f.tci, 0xa064);
});

test('QinQ: parse and emit the header with both tags', () => {
  const repr: EthernetRepr = {
    dst: hex('02000000000b'),
    src: hex('02000000000a'),
    tags: [
      { tpid: ETHERTYPE_QINQ, prio: 5, dei: false, vid: 100 },
      { tpid: ETHERTYPE_VLAN, prio: 3, dei: true, vid: 200 },
    ],
    etherType: ETHERTYPE_IP,
  };
  assert.deepEqual(parseEthernet(QINQ, 0, QINQ.length), repr);
  assert.equal(ethernetReprLength(repr), 22);
  const out = new Uint8Array(22);
  assert.equal(emitEthernet(repr, out, 0), 22);
  assert.equal(toHex(out), toHex(QINQ, 0, 22));
});

test('802.1Q: one tag, vid 10, ARP inside', () => {
  const r = parseEthernet(VLAN_ARP, 0, VLAN_ARP.length);
  assert.ok(!(r instanceof WireError));
  assert.deepEqual(r.tags, [{ tpid: ETHERTYPE_VLAN, prio: 0, dei: false, vid: 10 }]);
  assert.equal(r.etherType, ETHERTYPE_ARP);
  assert.equal(ethernetReprLength(r), 18);
  assert.equal(toHex(VLAN_ARP, 18), toHex(ARP_REQUEST, 14));
});

test('every truncation is rejected, never thrown', () => {
  for (const [name, frame, hdr] of [
    ['untagged', ARP_REQUEST, 14],
    ['802.1Q', VLAN_ARP, 18],
    ['QinQ', QINQ, 22],
  ] as const) {
    for (let n = 0; n < hdr; n++) {
      const r = parseEthernet(frame, 0, n);
      assert.ok(r instanceof WireError, `${name} cut at ${n}`);
      assert.equal(r.kind, 'truncated');
      assert.equal(new EtherTagIterator().reset(frame, 0, n).skip(), WireCode.Truncated, `${name} walk cut at ${n}`);
      if (n < ETHER_HDR_LEN) assert.equal(new EthernetFrame(frame, 0, n).check(), WireCode.Truncated);
    }
    assert.ok(!(parseEthernet(frame, 0, hdr) instanceof WireError), `${name} whole header`);
  }
});

test('minimum frame: padding on emit, and padding is not the header', () => {
  const buf = new Uint8Array(64).fill(0xee);
  buf.set(ARP_REQUEST);
  assert.equal(etherPad(buf, 0, ARP_REQUEST.length), ETHER_MIN_FRAME);
  assert.equal(toHex(buf, 42, 18), '00'.repeat(18));
  assert.equal(buf[60], 0xee, 'nothing past 60 bytes is written');
  assert.equal(etherPad(buf, 0, 60), 60);
  assert.equal(etherPad(buf, 0, 100), 100);
  // A padded frame parses to the same header; the payload length includes the padding.
  const f = new EthernetFrame(buf, 0, 60);
  assert.equal(f.payloadLength, 46);
  assert.deepEqual(parseEthernet(buf, 0, 60), parseEthernet(ARP_REQUEST, 0, 42));
});

test('TCI helpers', () => {
  assert.equal(evlMakeTci(100, 5), 0xa064);
  assert.equal(evlMakeTci(200, 3, true), 0x70c8);
  assert.equal(evlMakeTci(0xfff, 7, true), 0xffff);
  assert.equal(evlMakeTci(0x1fff, 9), 0x2fff, 'out-of-range values are masked');
});

test('insert and remove a tag in place, with headroom', () => {
  const buf = new Uint8Array(4 + ARP_REQUEST.length);
  buf.set(ARP_REQUEST, 4);
  const off = etherInsertTag(buf, 4, ETHERTYPE_VLAN, evlMakeTci(10, 0));
  assert.equal(off, 0);
  assert.equal(toHex(buf, 0, 18), 'ffffffffffff02000000000a8100000a0806');
  assert.equal(toHex(buf, 18), toHex(ARP_REQUEST, 14));
  const back = etherRemoveTag(buf, off);
  assert.equal(back, 4);
  assert.equal(toHex(buf, 4), toHex(ARP_REQUEST));
});

test('setters write the fields', () => {
  const f = new EthernetFrame(new Uint8Array(18));
  f.setDst(hex('0200000000ff'));
  f.setSrc(hex('aa02000000000a'), 1);
  f.etherType = ETHERTYPE_VLAN;
  f.tci = 0x1234;
  assert.equal(toHex(f.buf), '0200000000ff02000000000a810012340000');
  f.wrap(ARP_REQUEST, 0, 42);
  assert.equal(f.etherType, ETHERTYPE_ARP);
});

test('every frame of the capture fixtures walks without error', () => {
  const it = new EtherTagIterator();
  let tagged = 0;
  for (const name of CAPTURES) {
    for (const fr of captureFrames(name)) {
      assert.equal(it.reset(fr, 0, fr.length).skip(), WireCode.Ok);
      if (it.count) tagged++;
      const r = parseEthernet(fr, 0, fr.length);
      assert.ok(!(r instanceof WireError));
      const out = new Uint8Array(ethernetReprLength(r));
      emitEthernet(r, out, 0);
      assert.equal(toHex(out), toHex(fr, 0, out.length));
    }
  }
  assert.equal(tagged, 2, 'scapy-mixed holds one 802.1Q and one QinQ frame');
});

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
const tagArb = fc.record({
  tpid: fc.constantFrom(ETHERTYPE_VLAN, ETHERTYPE_QINQ),
  prio: fc.integer({ min: 0, max: 7 }),
  dei: fc.boolean(),
  vid: fc.integer({ min: 0, max: 0xfff }),
}, { noNullPrototype: true });
const reprArb = fc.record({
  dst: mac,
  src: mac,
  tags: fc.array(tagArb, { maxLength: 3 }),
  // An inner type that is itself a TPID would be read as another tag.
  etherType: fc.integer({ min: 0, max: 0xffff }).filter((t) => t !== ETHERTYPE_VLAN && t !== ETHERTYPE_QINQ),
}, { noNullPrototype: true });

test('property: parse(emit(repr)) is repr', () => {
  fc.assert(
    fc.property(reprArb, (repr) => {
      const buf = new Uint8Array(ethernetReprLength(repr));
      assert.equal(emitEthernet(repr, buf, 0), buf.length);
      assert.deepEqual(parseEthernet(buf, 0, buf.length), repr);
    }),
  );
});

test('property: random bytes never throw', () => {
  const it = new EtherTagIterator();
  const f = new EthernetFrame();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat(40), (b, cut) => {
      const len = Math.min(cut, b.length);
      parseEthernet(b, 0, len);
      const code = it.reset(b, 0, len).skip();
      assert.ok(it.payloadOffset <= len);
      if (code === WireCode.Ok) assert.equal(it.payloadOffset, 14 + 4 * it.count);
      f.wrap(b, 0, len).check();
    }),
  );
});
