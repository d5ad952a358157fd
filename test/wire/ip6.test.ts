import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hex, toHex } from '../../src/wire/bytes.js';
import { pseudoSum6, sum16 } from '../../src/wire/checksum.js';
import { WireCode, WireError } from '../../src/wire/error.js';
import { formatIp6, parseIp6 } from '../../src/wire/addr.js';
import { ETHERTYPE_IPV6, EtherTagIterator } from '../../src/wire/ether.js';
import {
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_ESP,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMPV6,
  IPPROTO_NONE,
  IPPROTO_ROUTING,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from '../../src/wire/ip4.js';
import {
  IP6OPT_HOME_ADDRESS,
  IP6OPT_JUMBO,
  IP6OPT_PAD1,
  IP6OPT_PADN,
  IP6OPT_ROUTER_ALERT,
  IP6OPT_TYPE_DISCARD,
  IP6OPT_TYPE_FORCEICMP,
  IP6OPT_TYPE_ICMP,
  IP6OPT_TYPE_SKIP,
  IPV6_RTHDR_TYPE_0,
  Ipv6ExtHeader,
  type Ipv6ExtHeaderRepr,
  Ipv6ExtIterator,
  type Ipv6OptionRepr,
  Ipv6OptionIterator,
  Ipv6Packet,
  type Ipv6Repr,
  emitIpv6,
  emitIpv6ExtHeader,
  ip6OptType,
  ipv6ExtHeaderReprLength,
  ipv6PadOptions,
  ipv6UpperLayer,
  parseIpv6,
  parseIpv6Chain,
  parseIpv6ExtHeader,
  parseIpv6Options,
} from '../../src/wire/ip6.js';
import { captureFrames, CAPTURES } from './fixture-frames.js';

const S1 = parseIp6('2001:db8::1')!;
const S2 = parseIp6('2001:db8::2')!;

// Linux: ping -6 2001:db8::2; flow label 0x9a4ce, hop limit 64, a 64-byte ICMPv6 echo request.
const ECHO6 = hex(
  '6009a4ce 0040 3a 40 20010db8000000000000000000000001 20010db8000000000000000000000002' +
    '8000 1229 1333 0001 92d0076b00000000 a2a4030000000000' +
    '101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
);

// Linux: an MLDv2 report from fe80::ff:fe00:a to ff02::16, behind a hop-by-hop header holding a
// router alert (MLD) and a PadN of length 0.
const MLD_REPORT = hex(
  '60000000 0038 00 01 fe80000000000000000000fffe00000a ff020000000000000000000000000016' +
    '3a 00 0502 0000 0100' +
    '8f00 6fda 0000 0002 04000000 ff0200000000000000000001ff00000a 04000000 ff0200000000000000000001ff000001',
);

// Linux: the last fragment of a 3008-byte ICMPv6 echo request: offset 2896, M clear, id 0x946a76f2.
const LAST_FRAG6 = hex(
  '6009a4ce 0078 2c 40 20010db8000000000000000000000001 20010db8000000000000000000000002' +
    '3a 00 0b50 946a76f2' +
    '48494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f' +
    '707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f' +
    'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7',
);
// The first fragment's headers alone: M set, offset 0, payload length 1456 (the data is not here).
const FIRST_FRAG6_HDRS = hex(
  '600f6eb7 05b0 2c 40 20010db8000000000000000000000002 20010db8000000000000000000000001 3a 00 0001 4ee0b2e8',
);

// scapy: IPv6(tc=0xb8, fl=0x12345) / HBH(router alert) / RH0(2001:db8::3, 2001:db8::4; segleft 2) /
// DestOpt(PadN(2), Home Address 2001:db8::5) / Fragment(offset 0, M, id 0xdeadbeef) / UDP 1 > 2 "x".
const CHAIN = hex(
  '6b812345 0059 00 40 20010db8000000000000000000000001 20010db8000000000000000000000002' +
    '2b 00 0502 0000 0100' + // hop-by-hop, 8 bytes, next: routing
    '3c 04 00 02 00000000 20010db8000000000000000000000003 20010db8000000000000000000000004' + // RH0, 40 bytes
    '2c 02 0102 0000 c910 20010db8000000000000000000000005' + // destination options, 24 bytes
    '11 00 0001 deadbeef' + // fragment, next: UDP
    '0001 0002 0009 2c62 78',
);

test('the fixtures are whole: lengths match and the ICMPv6 checksums hold', () => {
  for (const [b, upper] of [
    [ECHO6, 40],
    [MLD_REPORT, 48],
  ] as const) {
    const p = new Ipv6Packet(b);
    assert.equal(40 + p.payloadLength, b.length);
    const n = b.length - upper;
    assert.equal(sum16(b, upper, n, pseudoSum6(b, p.srcOffset, p.dstOffset, IPPROTO_ICMPV6, n)), 0xffff);
  }
  assert.equal(40 + new Ipv6Packet(LAST_FRAG6).payloadLength, LAST_FRAG6.length);
  assert.equal(40 + new Ipv6Packet(CHAIN).payloadLength, CHAIN.length);
});

test('deconstruct the echo request Linux sent', () => {
  const p = new Ipv6Packet(ECHO6);
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.version, 6);
  assert.equal(p.trafficClass, 0);
  assert.equal(p.flowLabel, 0x9a4ce);
  assert.equal(p.payloadLength, 64);
  assert.equal(p.nextHeader, IPPROTO_ICMPV6);
  assert.equal(p.hopLimit, 64);
  assert.equal(formatIp6(p.buf, p.srcOffset), '2001:db8::1');
  assert.equal(formatIp6(p.buf, p.dstOffset), '2001:db8::2');
  assert.equal(p.headerLength, 40);
  assert.equal(p.payloadOffset, 40);
  const it = new Ipv6ExtIterator().resetPacket(p);
  assert.equal(it.next(), false);
  assert.deepEqual([it.code, it.proto, it.protoOffset, it.count, it.fragOffset], [WireCode.Ok, IPPROTO_ICMPV6, 40, 0, -1]);
});

test('construct the echo request header byte for byte', () => {
  const repr: Ipv6Repr = {
    trafficClass: 0,
    flowLabel: 0x9a4ce,
    nextHeader: IPPROTO_ICMPV6,
    hopLimit: 64,
    src: S1,
    dst: S2,
    payloadLength: 64,
  };
  assert.deepEqual(parseIpv6(ECHO6, 0, ECHO6.length), repr);
  const out = new Uint8Array(40);
  assert.equal(emitIpv6(repr, out, 0), 40);
  assert.equal(toHex(out), toHex(ECHO6, 0, 40));
});

test('traffic class, flow label and address setters', () => {
  const p = new Ipv6Packet(new Uint8Array(40));
  p.version = 6;
  p.trafficClass = 0xb8;
  p.flowLabel = 0x12345;
  assert.equal(toHex(p.buf, 0, 4), '6b812345');
  p.trafficClass = 0x01;
  assert.equal(p.flowLabel, 0x12345);
  assert.equal(p.trafficClass, 0x01);
  p.flowLabel = 0xfffff;
  assert.equal(p.trafficClass, 0x01);
  assert.equal(p.version, 6);
  p.setSrc(S1);
  p.setDst(hex('00' + toHex(S2)), 1);
  const a = new Uint8Array(16);
  p.copyDst(a);
  assert.equal(toHex(a), toHex(S2));
  p.copySrc(a);
  assert.equal(toHex(a), toHex(S1));
  p.payloadLength = 8;
  p.nextHeader = IPPROTO_NONE;
  p.hopLimit = 255;
  assert.equal(toHex(p.buf, 4, 4), '00083bff');
});

test('MLD report: the hop-by-hop header and its router alert', () => {
  const p = new Ipv6Packet(MLD_REPORT);
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.nextHeader, IPPROTO_HOPOPTS);
  assert.equal(p.hopLimit, 1);
  const it = new Ipv6ExtIterator().resetPacket(p);
  assert.equal(it.next(), true);
  assert.deepEqual([it.kind, it.offset, it.length, it.nextHeader, it.nhOffset], [IPPROTO_HOPOPTS, 40, 8, IPPROTO_ICMPV6, 6]);
  const opts = new Ipv6OptionIterator().resetHeader(MLD_REPORT, it.offset);
  assert.equal(opts.next(), true);
  assert.deepEqual([opts.type, opts.offset, opts.length, opts.dataOffset, opts.dataLength], [IP6OPT_ROUTER_ALERT, 42, 4, 44, 2]);
  assert.equal(opts.action, IP6OPT_TYPE_SKIP);
  assert.equal(opts.next(), true);
  assert.deepEqual([opts.type, opts.length, opts.dataLength], [IP6OPT_PADN, 2, 0]);
  assert.equal(opts.next(), false);
  assert.equal(opts.code, WireCode.Ok);
  assert.equal(it.next(), false);
  assert.deepEqual([it.code, it.proto, it.protoOffset], [WireCode.Ok, IPPROTO_ICMPV6, 48]);
  assert.deepEqual(ipv6UpperLayer(MLD_REPORT, 0, MLD_REPORT.length), { proto: IPPROTO_ICMPV6, offset: 48 });

  const hbh: Ipv6ExtHeaderRepr = {
    kind: IPPROTO_HOPOPTS,
    nextHeader: IPPROTO_ICMPV6,
    options: [
      { type: IP6OPT_ROUTER_ALERT, data: hex('0000') },
      { type: IP6OPT_PADN, data: new Uint8Array(0) },
    ],
  };
  assert.deepEqual(parseIpv6ExtHeader(IPPROTO_HOPOPTS, MLD_REPORT, 40, 56), hbh);
  const out = new Uint8Array(8);
  assert.equal(emitIpv6ExtHeader(hbh, out, 0), 8);
  assert.equal(toHex(out), toHex(MLD_REPORT, 40, 8));
  // Without its explicit PadN, emit pads the same way.
  emitIpv6ExtHeader({ ...hbh, options: hbh.options.slice(0, 1) }, out.fill(0xee), 0);
  assert.equal(toHex(out), toHex(MLD_REPORT, 40, 8));
});

test('fragments: the last one stops the walk at its data; the first one lacks its payload', () => {
  const p = new Ipv6Packet(LAST_FRAG6);
  assert.equal(p.check(), WireCode.Ok);
  const it = new Ipv6ExtIterator().resetPacket(p);
  assert.equal(it.next(), true);
  assert.deepEqual([it.kind, it.offset, it.length], [IPPROTO_FRAGMENT, 40, 8]);
  const h = new Ipv6ExtHeader(LAST_FRAG6, it.offset, 8, it.kind);
  assert.equal(h.check(), WireCode.Ok);
  assert.equal(h.fragOffset, 362);
  assert.equal(h.fragByteOffset, 2896);
  assert.equal(h.more, false);
  assert.equal(h.ident, 0x946a76f2);
  assert.equal(it.next(), false);
  assert.deepEqual([it.code, it.proto, it.protoOffset, it.fragOffset, it.fragMore], [WireCode.Ok, IPPROTO_ICMPV6, 48, 2896, false]);
  const frag: Ipv6ExtHeaderRepr = { kind: IPPROTO_FRAGMENT, nextHeader: IPPROTO_ICMPV6, fragOffset: 362, more: false, ident: 0x946a76f2 };
  assert.deepEqual(parseIpv6ExtHeader(IPPROTO_FRAGMENT, LAST_FRAG6, 40, 120), frag);
  const out = new Uint8Array(8);
  emitIpv6ExtHeader(frag, out, 0);
  assert.equal(toHex(out), toHex(LAST_FRAG6, 40, 8));
  const c = parseIpv6Chain(LAST_FRAG6, 0, LAST_FRAG6.length);
  assert.ok(!(c instanceof WireError));
  assert.equal(c.fragOffset, 2896);

  const first = new Ipv6Packet(FIRST_FRAG6_HDRS);
  assert.equal(first.check(), WireCode.Truncated);
  const fh = new Ipv6ExtHeader(FIRST_FRAG6_HDRS, 40, 8, IPPROTO_FRAGMENT);
  assert.equal(fh.more, true);
  assert.equal(fh.fragOffset, 0);
  assert.equal(fh.ident, 0x4ee0b2e8);
  // Walking what there is: a first fragment continues into the (missing) ICMPv6 header.
  const w = new Ipv6ExtIterator().resetPacket(first);
  assert.equal(w.skip(), WireCode.Ok);
  assert.deepEqual([w.proto, w.protoOffset, w.fragOffset, w.fragMore], [IPPROTO_ICMPV6, 48, 0, true]);
  const e = parseIpv6(FIRST_FRAG6_HDRS, 0, 48);
  assert.ok(e instanceof WireError && e.kind === 'truncated');
});

test('a long chain: hop-by-hop, routing type 0, destination options, fragment, UDP', () => {
  const p = new Ipv6Packet(CHAIN);
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.trafficClass, 0xb8);
  assert.equal(p.flowLabel, 0x12345);
  const it = new Ipv6ExtIterator().resetPacket(p);
  const seen: number[][] = [];
  while (it.next()) seen.push([it.kind, it.offset, it.length, it.nextHeader, it.nhOffset]);
  assert.equal(it.code, WireCode.Ok);
  assert.deepEqual(seen, [
    [IPPROTO_HOPOPTS, 40, 8, IPPROTO_ROUTING, 6],
    [IPPROTO_ROUTING, 48, 40, IPPROTO_DSTOPTS, 40],
    [IPPROTO_DSTOPTS, 88, 24, IPPROTO_FRAGMENT, 48],
    [IPPROTO_FRAGMENT, 112, 8, IPPROTO_UDP, 88],
  ]);
  assert.deepEqual([it.proto, it.protoOffset, it.count, it.fragOffset, it.fragMore], [IPPROTO_UDP, 120, 4, 0, true]);

  const rh = new Ipv6ExtHeader(CHAIN, 48, 40, IPPROTO_ROUTING);
  assert.equal(rh.routingType, IPV6_RTHDR_TYPE_0, 'type 0 is recognized, for the kernel to refuse');
  assert.equal(rh.segmentsLeft, 2);
  assert.equal(rh.hdrExtLen, 4);

  const dst = new Ipv6OptionIterator().resetHeader(CHAIN, 88);
  const types: number[] = [];
  while (dst.next()) types.push(dst.type);
  assert.equal(dst.code, WireCode.Ok);
  assert.deepEqual(types, [IP6OPT_PADN, IP6OPT_HOME_ADDRESS]);
  assert.equal(ip6OptType(IP6OPT_HOME_ADDRESS), IP6OPT_TYPE_ICMP);

  const c = parseIpv6Chain(CHAIN, 0, CHAIN.length);
  assert.ok(!(c instanceof WireError), String(c));
  assert.deepEqual(c, {
    headers: [
      { kind: IPPROTO_HOPOPTS, nextHeader: IPPROTO_ROUTING, options: [{ type: IP6OPT_ROUTER_ALERT, data: hex('0000') }, { type: IP6OPT_PADN, data: new Uint8Array(0) }] },
      {
        kind: IPPROTO_ROUTING,
        nextHeader: IPPROTO_DSTOPTS,
        routingType: 0,
        segmentsLeft: 2,
        data: hex('00000000 20010db8000000000000000000000003 20010db8000000000000000000000004'),
      },
      {
        kind: IPPROTO_DSTOPTS,
        nextHeader: IPPROTO_FRAGMENT,
        options: [
          { type: IP6OPT_PADN, data: hex('0000') },
          { type: IP6OPT_HOME_ADDRESS, data: hex('20010db8000000000000000000000005') },
        ],
      },
      { kind: IPPROTO_FRAGMENT, nextHeader: IPPROTO_UDP, fragOffset: 0, more: true, ident: 0xdeadbeef },
    ],
    proto: IPPROTO_UDP,
    protoOffset: 120,
    fragOffset: 0,
  });
  // Re-emit every header and compare with scapy's bytes.
  const out = new Uint8Array(120);
  const ip = parseIpv6(CHAIN, 0, CHAIN.length);
  assert.ok(!(ip instanceof WireError));
  let o = emitIpv6(ip, out, 0);
  for (const h of c.headers) o += emitIpv6ExtHeader(h, out, o);
  assert.equal(o, 120);
  assert.equal(toHex(out), toHex(CHAIN, 0, 120));
});

test('every truncation of the fixtures is rejected, in the fixed header and in the chain', () => {
  for (const b of [ECHO6, MLD_REPORT, LAST_FRAG6, CHAIN]) {
    for (let n = 0; n < b.length; n++) {
      assert.equal(new Ipv6Packet(b, 0, n).check(), WireCode.Truncated, `cut at ${n}`);
      const r = parseIpv6(b, 0, n);
      assert.ok(r instanceof WireError && r.kind === 'truncated', `cut at ${n}`);
      const c = parseIpv6Chain(b, 0, n);
      assert.ok(c instanceof WireError && c.kind === 'truncated', `chain cut at ${n}`);
    }
  }
  // Payloads that end inside one of the 80 bytes of extension headers.
  const it = new Ipv6ExtIterator();
  for (let n = 0; n < 80; n++) {
    assert.equal(it.reset(CHAIN, 40, n, IPPROTO_HOPOPTS).skip(), WireCode.Truncated, `payload ${n}`);
  }
  assert.equal(it.reset(CHAIN, 40, 80, IPPROTO_HOPOPTS).skip(), WireCode.Ok);
  // A payload length that fits the buffer but ends inside the fragment header (at 40 + 75).
  const b = CHAIN.slice();
  b[5] = 75;
  assert.equal(new Ipv6Packet(b).check(), WireCode.Ok);
  const c = parseIpv6Chain(b, 0, b.length);
  assert.ok(c instanceof WireError && c.kind === 'truncated');
  assert.equal(new Ipv6ExtIterator().resetPacket(new Ipv6Packet(b)).skip(), WireCode.Truncated);
});

test('a hop-by-hop header anywhere but first is malformed, pointing at the next-header byte', () => {
  const b = CHAIN.slice();
  b[88] = IPPROTO_HOPOPTS; // destination options says a hop-by-hop header follows
  const it = new Ipv6ExtIterator().resetPacket(new Ipv6Packet(b));
  assert.equal(it.skip(), WireCode.Malformed);
  assert.equal(it.errorOffset, 88);
  assert.equal(it.count, 3);
  const c = parseIpv6Chain(b, 0, b.length);
  assert.ok(c instanceof WireError && c.kind === 'malformed');
});

test('AH, ESP and no-next-header end the chain; AH can be walked through on request', () => {
  // Destination options -> AH (len 4: 24 bytes) -> TCP, built by hand.
  const ah = hex('06 04 0000 00001000 00000001' + 'aa'.repeat(12));
  const pkt = new Uint8Array(40 + 8 + ah.length + 20);
  emitIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: IPPROTO_DSTOPTS, hopLimit: 64, src: S1, dst: S2, payloadLength: pkt.length - 40 }, pkt, 0);
  emitIpv6ExtHeader({ kind: IPPROTO_DSTOPTS, nextHeader: IPPROTO_AH, options: [] }, pkt, 40);
  pkt.set(ah, 48);
  const p = new Ipv6Packet(pkt);
  const it = new Ipv6ExtIterator().resetPacket(p);
  assert.equal(it.skip(), WireCode.Ok);
  assert.deepEqual([it.proto, it.protoOffset, it.count], [IPPROTO_AH, 48, 1]);
  it.resetPacket(p, true);
  const kinds: number[] = [];
  while (it.next()) kinds.push(it.kind, it.length);
  assert.deepEqual(kinds, [IPPROTO_DSTOPTS, 8, IPPROTO_AH, 24]);
  assert.deepEqual([it.code, it.proto, it.protoOffset], [WireCode.Ok, IPPROTO_TCP, 72]);
  assert.deepEqual(ipv6UpperLayer(pkt, 0, pkt.length), { proto: IPPROTO_AH, offset: 48 });
  // AH cut short, and an AH whose length says 8 bytes.
  assert.equal(it.reset(pkt, 48, 20, IPPROTO_AH, -1, true).skip(), WireCode.Truncated);
  const short = pkt.slice();
  short[49] = 0;
  assert.equal(it.reset(short, 48, 24, IPPROTO_AH, -1, true).skip(), WireCode.Malformed);
  assert.equal(it.errorOffset, 49);

  for (const term of [IPPROTO_ESP, IPPROTO_NONE]) {
    pkt[40] = term;
    it.resetPacket(p, true);
    assert.equal(it.skip(), WireCode.Ok);
    assert.deepEqual([it.proto, it.protoOffset], [term, 48]);
  }
  const e = parseIpv6ExtHeader(IPPROTO_AH, pkt, 48, 24);
  assert.ok(e instanceof WireError && e.kind === 'unsupported');
  assert.equal(new Ipv6ExtHeader(pkt, 48, 24, IPPROTO_TCP).check(), WireCode.Unsupported);
});

test('option TLVs: malformed lengths and the action bits of unknown types', () => {
  const cases: [string, string, number][] = [
    ['runs past the header', '01 05 00 00 00 00', 1],
    ['type without a length byte', '00 00 00 00 00 1e', 5],
    ['router alert of length 3', '05 03 00 00 00 00', 1],
    ['jumbo of length 2', 'c2 02 00 00 00 00', 1],
  ];
  for (const [what, h, at] of cases) {
    const b = hex(h);
    const it = new Ipv6OptionIterator().reset(b, 0, b.length);
    while (it.next());
    assert.equal(it.code, WireCode.Malformed, what);
    assert.equal(it.errorOffset, at, what);
    const r = parseIpv6Options(b, 0, b.length);
    assert.ok(r instanceof WireError && r.kind === 'malformed', what);
  }
  const b = hex('00 c2 04 00012345 1e 00 5e 00 9e 00 de 00 00');
  const r = parseIpv6Options(b, 0, b.length);
  assert.ok(!(r instanceof WireError));
  assert.deepEqual(
    r.map((o) => [o.type, o.data.length]),
    [
      [IP6OPT_PAD1, 0],
      [IP6OPT_JUMBO, 4],
      [0x1e, 0],
      [0x5e, 0],
      [0x9e, 0],
      [0xde, 0],
      [IP6OPT_PAD1, 0],
    ],
  );
  assert.deepEqual(
    [0x1e, 0x5e, 0x9e, 0xde].map(ip6OptType),
    [IP6OPT_TYPE_SKIP, IP6OPT_TYPE_DISCARD, IP6OPT_TYPE_FORCEICMP, IP6OPT_TYPE_ICMP],
  );
});

test('check(): version and payload length; padding after the payload is allowed', () => {
  const b = ECHO6.slice();
  b[0] = 0x40;
  assert.equal(new Ipv6Packet(b).check(), WireCode.Malformed);
  const r = parseIpv6(b, 0, b.length);
  assert.ok(r instanceof WireError && r.kind === 'malformed');
  const padded = new Uint8Array(ECHO6.length + 6);
  padded.set(ECHO6);
  assert.equal(new Ipv6Packet(padded).check(), WireCode.Ok);
  assert.deepEqual(ipv6UpperLayer(padded, 0, padded.length), { proto: IPPROTO_ICMPV6, offset: 40 });
});

test('IPv6 packets of the capture fixtures: chains parsed, headers re-emitted byte for byte', () => {
  const et = new EtherTagIterator();
  let n = 0;
  const protos = new Set<number>();
  for (const name of CAPTURES) {
    for (const fr of captureFrames(name)) {
      et.reset(fr, 0, fr.length).skip();
      if (et.type !== ETHERTYPE_IPV6) continue;
      const off = et.payloadOffset;
      const ip = parseIpv6(fr, off, fr.length - off);
      assert.ok(!(ip instanceof WireError), String(ip));
      const c = parseIpv6Chain(fr, off, fr.length - off);
      assert.ok(!(c instanceof WireError), String(c));
      const out = new Uint8Array(c.protoOffset);
      let o = emitIpv6(ip, out, 0);
      for (const h of c.headers) o += emitIpv6ExtHeader(h, out, o);
      assert.equal(o, c.protoOffset);
      assert.equal(toHex(out), toHex(fr, off, o));
      protos.add(c.proto);
      n++;
    }
  }
  assert.ok(n > 20);
  assert.deepEqual([...protos].sort((a, b) => a - b), [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ESP, IPPROTO_ICMPV6]);
});

const addr = fc.uint8Array({ minLength: 16, maxLength: 16 });
const reprArb = fc.record(
  {
    trafficClass: fc.integer({ min: 0, max: 255 }),
    flowLabel: fc.integer({ min: 0, max: 0xfffff }),
    nextHeader: fc.integer({ min: 0, max: 255 }),
    hopLimit: fc.integer({ min: 0, max: 255 }),
    src: addr,
    dst: addr,
    payloadLength: fc.integer({ min: 0, max: 300 }),
  },
  { noNullPrototype: true },
);

const optionArb: fc.Arbitrary<Ipv6OptionRepr> = fc.oneof(
  fc.constant({ type: IP6OPT_PAD1, data: new Uint8Array(0) }),
  fc.uint8Array({ maxLength: 6 }).map((data) => ({ type: IP6OPT_PADN, data })),
  fc.uint8Array({ minLength: 2, maxLength: 2 }).map((data) => ({ type: IP6OPT_ROUTER_ALERT, data })),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((data) => ({ type: IP6OPT_JUMBO, data })),
  fc.record(
    {
      type: fc.integer({ min: 2, max: 255 }).filter((t) => t !== IP6OPT_ROUTER_ALERT && t !== IP6OPT_JUMBO),
      data: fc.uint8Array({ maxLength: 20 }),
    },
    { noNullPrototype: true },
  ),
);

const extArb: fc.Arbitrary<Ipv6ExtHeaderRepr> = fc.oneof(
  fc
    .record({ kind: fc.constantFrom(IPPROTO_HOPOPTS, IPPROTO_DSTOPTS), nextHeader: fc.integer({ min: 0, max: 255 }), options: fc.array(optionArb, { maxLength: 6 }) })
    .map((h): Ipv6ExtHeaderRepr => ({ ...h, options: ipv6PadOptions(h.options) })),
  fc
    .record({ nextHeader: fc.integer({ min: 0, max: 255 }), routingType: fc.integer({ min: 0, max: 255 }), segmentsLeft: fc.integer({ min: 0, max: 255 }), n: fc.integer({ min: 0, max: 6 }), fill: fc.integer({ min: 0, max: 255 }) })
    .map(({ nextHeader, routingType, segmentsLeft, n, fill }): Ipv6ExtHeaderRepr => ({
      kind: IPPROTO_ROUTING,
      nextHeader,
      routingType,
      segmentsLeft,
      data: new Uint8Array(4 + 8 * n).fill(fill),
    })),
  fc.record(
    {
      kind: fc.constant(IPPROTO_FRAGMENT),
      nextHeader: fc.integer({ min: 0, max: 255 }),
      fragOffset: fc.integer({ min: 0, max: 0x1fff }),
      more: fc.boolean(),
      ident: fc.integer({ min: 0, max: 0xffffffff }),
    },
    { noNullPrototype: true },
  ),
);

test('property: parse(emit(repr)) is repr, for the fixed header and every extension header', () => {
  fc.assert(
    fc.property(reprArb, (repr) => {
      const buf = new Uint8Array(40 + repr.payloadLength);
      assert.equal(emitIpv6(repr, buf, 0), 40);
      assert.deepEqual(parseIpv6(buf, 0, buf.length), repr);
    }),
  );
  fc.assert(
    fc.property(extArb, (h) => {
      const len = ipv6ExtHeaderReprLength(h);
      assert.equal(len % 8, 0);
      const buf = new Uint8Array(len);
      assert.equal(emitIpv6ExtHeader(h, buf, 0), len);
      assert.deepEqual(parseIpv6ExtHeader(h.kind, buf, 0, len), h);
    }),
  );
});

test('property: a chain of emitted headers walks back to the same kinds', () => {
  fc.assert(
    fc.property(fc.array(extArb, { maxLength: 5 }), fc.constantFrom(IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6), (hs, upper) => {
      // Link the next-header fields; hop-by-hop only first; non-first fragments end the walk.
      const chain = hs
        .filter((h, i) => h.kind !== IPPROTO_HOPOPTS || i === 0)
        .map((h) => (h.kind === IPPROTO_FRAGMENT ? { ...h, fragOffset: 0 } : h));
      const total = chain.reduce((n, h) => n + ipv6ExtHeaderReprLength(h), 0);
      const buf = new Uint8Array(40 + total);
      emitIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: chain[0]?.kind ?? upper, hopLimit: 1, src: S1, dst: S2, payloadLength: total }, buf, 0);
      let o = 40;
      chain.forEach((h, i) => {
        o += emitIpv6ExtHeader({ ...h, nextHeader: chain[i + 1]?.kind ?? upper }, buf, o);
      });
      const it = new Ipv6ExtIterator().resetPacket(new Ipv6Packet(buf));
      const kinds: number[] = [];
      while (it.next()) kinds.push(it.kind);
      assert.equal(it.code, WireCode.Ok);
      assert.deepEqual(kinds, chain.map((h) => h.kind));
      assert.deepEqual([it.proto, it.protoOffset], [upper, 40 + total]);
    }),
  );
});

test('property: random bytes never throw', () => {
  const p = new Ipv6Packet();
  const it = new Ipv6ExtIterator();
  const opts = new Ipv6OptionIterator();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (b, force) => {
      if (force && b.length >= 40) {
        // Steer towards the chain walker: version 6, payload length = what is there.
        b[0] = 0x60 | (b[0] & 0xf);
        b[4] = (b.length - 40) >> 8;
        b[5] = (b.length - 40) & 0xff;
        b[6] = [0, 43, 44, 60, 51][b[6] % 5]!;
      }
      const code = p.wrap(b, 0, b.length).check();
      const c = parseIpv6Chain(b, 0, b.length);
      if (code !== WireCode.Ok) assert.ok(c instanceof WireError);
      else {
        it.resetPacket(p, true);
        while (it.next()) {
          assert.ok(it.offset + it.length <= b.length);
          if (it.kind === IPPROTO_HOPOPTS || it.kind === IPPROTO_DSTOPTS) {
            opts.resetHeader(b, it.offset);
            while (opts.next()) assert.ok(opts.offset + opts.length <= it.offset + it.length);
          }
        }
        assert.ok(it.protoOffset <= b.length);
      }
      parseIpv6Options(b, 0, b.length);
      for (const k of [IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_DSTOPTS]) parseIpv6ExtHeader(k, b, 0, b.length);
    }),
  );
});
