import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hex, toHex } from '../../src/wire/bytes.js';
import { formatIp6, formatMac } from '../../src/wire/addr.js';
import { WireCode, WireError, isWireError } from '../../src/wire/error.js';
import * as N from '../../src/wire/icmp6.js';
import {
  Icmpv6Packet,
  NdOptionIter,
  emitIcmpv6,
  emitNdOptions,
  icmpv6ReprLength,
  ndOptionsLength,
  parseIcmpv6,
  parseNdOptions,
  type Icmpv6Repr,
  type NdOptionRepr,
} from '../../src/wire/icmp6.js';

// Fixtures are whole IPv6 packets: the pseudo-header addresses are at 8 and 24,
// the ICMPv6 message at 40 (48 for the MLDv2 report, behind a hop-by-hop header).
const SRC = 8;
const DST = 24;
const AT = 40;
const addr6 = (s: string) => hex(s);

// Linux between network namespaces (test/fixtures/captures/linux-netns.pcap):
// echo request 2001:db8::1 > 2001:db8::2, id 7418 seq 1, 56 bytes of data.
const ECHO = hex(
  '6009 a4ce 0040 3a40 2001 0db8 0000 0000 0000 0000 0000 0001 2001 0db8 0000 0000 0000 0000 0000 0002' +
    '8000 e85a 1cfa 0001 b8d0 076b 0000 0000 96ab 0900 0000 0000' +
    '1011 1213 1415 1617 1819 1a1b 1c1d 1e1f 2021 2223 2425 2627 2829 2a2b 2c2d 2e2f 3031 3233 3435 3637',
);
// Linux: neighbor solicitation 2001:db8::1 > ff02::1:ff00:2, who has 2001:db8::2,
// source link-layer address 02:00:00:00:0a:01.
const NS = hex(
  '6000 0000 0020 3aff 2001 0db8 0000 0000 0000 0000 0000 0001 ff02 0000 0000 0000 0000 0001 ff00 0002' +
    '8700 1227 0000 0000 2001 0db8 0000 0000 0000 0000 0000 0002 0101 0200 0000 0a01',
);
// Linux: the solicited, override neighbor advertisement 2001:db8::2 > 2001:db8::1,
// target link-layer address 02:00:00:00:0b:01.
const NA = hex(
  '6000 0000 0020 3aff 2001 0db8 0000 0000 0000 0000 0000 0002 2001 0db8 0000 0000 0000 0000 0000 0001' +
    '8800 7f72 6000 0000 2001 0db8 0000 0000 0000 0000 0000 0002 0201 0200 0000 0b01',
);
// Linux: duplicate address detection, :: > ff02::1:ff00:a01 for fe80::ff:fe00:a01, with a
// nonce option (type 14, RFC 3971) this layer does not decode.
const DAD = hex(
  '6000 0000 0020 3aff 0000 0000 0000 0000 0000 0000 0000 0000 ff02 0000 0000 0000 0000 0001 ff00 0a01' +
    '8700 d356 0000 0000 fe80 0000 0000 0000 0000 00ff fe00 0a01 0e01 a299 dc83 08a8',
);
// Linux: router solicitation fe80::ff:fe00:a01 > ff02::2 with source link-layer address.
const RS = hex(
  '6000 0000 0010 3aff fe80 0000 0000 0000 0000 00ff fe00 0a01 ff02 0000 0000 0000 0000 0000 0000 0002' +
    '8500 672c 0000 0000 0101 0200 0000 0a01',
);
// Linux: MLDv2 report from :: to ff02::16 (hop-by-hop router alert first), 2 records.
const MLD2 = hex(
  '6000 0000 0038 0001 0000 0000 0000 0000 0000 0000 0000 0000 ff02 0000 0000 0000 0000 0000 0000 0016' +
    '3a00 0502 0000 0100' +
    '8f00 636e 0000 0002 0400 0000 ff02 0000 0000 0000 0000 0001 ff00 0001 0400 0000 ff02 0000 0000 0000 0000 0001 ff00 0a01',
);
// Built with scapy: router advertisement 2001:db8::2 > ff02::1, hop limit 64, M flag, high preference,
// lifetime 1800 s, reachable 30000 ms, retrans 1000 ms; options source link-layer
// 00:00:5e:00:53:02, MTU 1500, prefix 2001:db8:1::/64 L+A valid 2592000 preferred 604800.
const RA = hex(
  '6000 0000 0040 3aff 2001 0db8 0000 0000 0000 0000 0000 0002 ff02 0000 0000 0000 0000 0000 0000 0001' +
    '8600 960d 4088 0708 0000 7530 0000 03e8 0101 0000 5e00 5302 0501 0000 0000 05dc' +
    '0304 40c0 0027 8d00 0009 3a80 0000 0000 2001 0db8 0001 0000 0000 0000 0000 0000',
);
// Built with scapy: redirect 2001:db8::2 > 2001:db8::1: reach 2001:db8:2::5 via 2001:db8::3
// (target link-layer 00:00:5e:00:53:03), with the first 48 bytes of the redirected packet.
const INVOKING = hex(
  '6000 0000 000c 113f 2001 0db8 0000 0000 0000 0000 0000 0001 2001 0db8 0002 0000 0000 0000 0000 0005' +
    '9c40 829a 000c 9290',
);
const REDIRECT = hex(
  '6000 0000 0068 3aff 2001 0db8 0000 0000 0000 0000 0000 0002 2001 0db8 0000 0000 0000 0000 0000 0001' +
    '8900 8a22 0000 0000 2001 0db8 0000 0000 0000 0000 0000 0003 2001 0db8 0002 0000 0000 0000 0000 0005' +
    '0201 0000 5e00 5303 0407 0000 0000 0000' +
    toHex(INVOKING),
);
// Built with scapy: errors 2001:db8::2 > 2001:db8::1 quoting a UDP packet (INVOKING plus "xyzw").
const ERR_HDR = '6000 0000 003c 3a40 2001 0db8 0000 0000 0000 0000 0000 0002 2001 0db8 0000 0000 0000 0000 0000 0001';
const QUOTE6 = hex(toHex(INVOKING) + '7879 7a77');
const PTB = hex(ERR_HDR + '0200 2be6 0000 0500' + toHex(QUOTE6)); // packet too big, MTU 1280
const UNREACH = hex(ERR_HDR + '0104 31e2 0000 0000' + toHex(QUOTE6)); // port unreachable
const TIMEXC = hex(ERR_HDR + '0300 2fe6 0000 0000' + toHex(QUOTE6)); // hop limit exceeded in transit
const PARAMPROB = hex(ERR_HDR + '0401 2edf 0000 0006' + toHex(QUOTE6)); // unrecognized next header, pointer 6
// Built with scapy: MLDv1 report 2001:db8::1 > ff02::1:ff00:2 for ff02::1:ff00:2.
const MLDREPORT = hex(
  '6000 0000 0018 3a01 2001 0db8 0000 0000 0000 0000 0000 0001 ff02 0000 0000 0000 0000 0001 ff00 0002' +
    '8300 52e5 0000 0000 ff02 0000 0000 0000 0000 0001 ff00 0002',
);

const msgLen = (pkt: Uint8Array, at = AT) => pkt.length - at;

/** Parse with the checksum, compare, then emit into a copy of the IPv6 header and compare bytes. */
function roundTrip(pkt: Uint8Array, expect: Icmpv6Repr): void {
  const r = parseIcmpv6(pkt, AT, msgLen(pkt), SRC, DST);
  assert.ok(!isWireError(r), String(r));
  assert.deepEqual(r, expect);
  const out = new Uint8Array(AT + icmpv6ReprLength(r)).fill(0xee);
  out.set(pkt.subarray(0, AT));
  assert.equal(emitIcmpv6(r, out, AT, SRC, DST), msgLen(pkt));
  assert.equal(toHex(out), toHex(pkt));
}

test('deconstruct and rebuild a Linux echo request; reply in place', () => {
  const p = new Icmpv6Packet(ECHO, AT, msgLen(ECHO));
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.type, N.ICMP6_ECHO_REQUEST);
  assert.equal(p.code, 0);
  assert.equal(p.checksum, 0xe85a);
  assert.equal(p.id, 7418);
  assert.equal(p.seq, 1);
  assert.equal(p.headerLength, 8);
  assert.equal(p.payloadOffset, AT + 8);
  assert.equal(p.payloadLength, 56);
  assert.ok(p.verifyChecksum(SRC, DST));
  assert.ok(!p.verifyChecksum(DST + 1, SRC));
  assert.ok(!N.icmp6ErrorType(p.type));
  roundTrip(ECHO, { type: N.ICMP6_ECHO_REQUEST, code: 0, id: 7418, seq: 1, data: ECHO.subarray(AT + 8) });
  // The reply swaps addresses and type; Linux's reply had checksum 0xe75a.
  const b = ECHO.slice();
  b.set(ECHO.subarray(DST, DST + 16), SRC);
  b.set(ECHO.subarray(SRC, SRC + 16), DST);
  const q = new Icmpv6Packet(b, AT, msgLen(b));
  q.type = N.ICMP6_ECHO_REPLY;
  q.fillChecksum(SRC, DST);
  assert.equal(q.checksum, 0xe75a);
});

test('deconstruct a Linux neighbor solicitation with its source link-layer option', () => {
  const p = new Icmpv6Packet(NS, AT, msgLen(NS));
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.type, N.ND_NEIGHBOR_SOLICIT);
  assert.ok(N.icmp6NdType(p.type));
  assert.equal(p.rest, 0);
  assert.equal(p.headerLength, N.ND_NEIGHBOR_SOLICIT_LEN);
  assert.equal(formatIp6(NS, p.targetOffset), '2001:db8::2');
  const tgt = new Uint8Array(18);
  p.copyTarget(tgt, 2);
  assert.equal(formatIp6(tgt, 2), '2001:db8::2');
  assert.equal(p.optionsOffset, AT + 24);
  assert.equal(p.optionsLength, 8);
  assert.ok(p.verifyChecksum(SRC, DST));
  const it = new NdOptionIter().resetFrom(p);
  assert.ok(it.next());
  assert.equal(it.kind, N.ND_OPT_SOURCE_LINKADDR);
  assert.equal(it.offset, AT + 24);
  assert.equal(it.length, 8);
  assert.ok(!it.badLength);
  assert.equal(formatMac(NS, it.lladdrOffset), '02:00:00:00:0a:01');
  assert.ok(!it.next());
  assert.equal(it.error, WireCode.Ok);
  roundTrip(NS, {
    type: N.ND_NEIGHBOR_SOLICIT,
    code: 0,
    target: addr6('20010db8000000000000000000000002'),
    options: [{ kind: 'sourceLinkAddr', lladdr: hex('02:00:00:00:0a:01') }],
  });
});

test('a Linux neighbor advertisement: flags and target link-layer option', () => {
  const p = new Icmpv6Packet(NA, AT, msgLen(NA));
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.naFlags, N.ND_NA_FLAG_SOLICITED | N.ND_NA_FLAG_OVERRIDE);
  roundTrip(NA, {
    type: N.ND_NEIGHBOR_ADVERT,
    code: 0,
    flags: N.ND_NA_FLAG_SOLICITED | N.ND_NA_FLAG_OVERRIDE,
    target: addr6('20010db8000000000000000000000002'),
    options: [{ kind: 'targetLinkAddr', lladdr: hex('02:00:00:00:0b:01') }],
  });
  // Setting R too, in place.
  const b = NA.slice();
  const q = new Icmpv6Packet(b, AT, msgLen(b));
  q.naFlags |= N.ND_NA_FLAG_ROUTER;
  q.fillChecksum(SRC, DST);
  const r = parseIcmpv6(b, AT, msgLen(b), SRC, DST);
  assert.ok(!isWireError(r) && r.type === N.ND_NEIGHBOR_ADVERT && r.flags === 0xe0);
});

test('an unknown ND option (the DAD nonce) keeps its bytes', () => {
  roundTrip(DAD, {
    type: N.ND_NEIGHBOR_SOLICIT,
    code: 0,
    target: addr6('fe80000000000000000000fffe000a01'),
    options: [{ kind: 'unknown', code: N.ND_OPT_NONCE, data: hex('a299 dc83 08a8') }],
  });
});

test('a Linux router solicitation', () => {
  const p = new Icmpv6Packet(RS, AT, msgLen(RS));
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.headerLength, N.ND_ROUTER_SOLICIT_LEN);
  roundTrip(RS, { type: N.ND_ROUTER_SOLICIT, code: 0, options: [{ kind: 'sourceLinkAddr', lladdr: hex('02:00:00:00:0a:01') }] });
});

test('router advertisement: header fields, MTU and prefix information options', () => {
  const p = new Icmpv6Packet(RA, AT, msgLen(RA));
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.curHopLimit, 64);
  assert.equal(p.raFlags, N.ND_RA_FLAG_MANAGED | N.ND_RA_FLAG_RTPREF_HIGH);
  assert.equal(p.raFlags & N.ND_RA_FLAG_OTHER, 0);
  assert.equal(p.routerLifetime, 1800);
  assert.equal(p.reachableTime, 30000);
  assert.equal(p.retransTimer, 1000);
  assert.equal(p.optionsOffset, AT + 16);
  const it = new NdOptionIter().resetFrom(p);
  const kinds: number[] = [];
  while (it.next()) {
    kinds.push(it.kind);
    if (it.kind === N.ND_OPT_MTU) assert.equal(it.mtu, 1500);
    if (it.kind === N.ND_OPT_PREFIX_INFORMATION) {
      assert.equal(it.prefixLength, 64);
      assert.equal(it.prefixFlags, N.ND_OPT_PI_FLAG_ONLINK | N.ND_OPT_PI_FLAG_AUTO);
      assert.equal(it.validLifetime, 2592000);
      assert.equal(it.preferredLifetime, 604800);
      assert.equal(formatIp6(RA, it.prefixOffset), '2001:db8:1::');
      assert.equal(it.length, N.ND_OPT_PI_LEN);
    }
  }
  assert.deepEqual(kinds, [N.ND_OPT_SOURCE_LINKADDR, N.ND_OPT_MTU, N.ND_OPT_PREFIX_INFORMATION]);
  roundTrip(RA, {
    type: N.ND_ROUTER_ADVERT,
    code: 0,
    curHopLimit: 64,
    flags: N.ND_RA_FLAG_MANAGED | N.ND_RA_FLAG_RTPREF_HIGH,
    routerLifetime: 1800,
    reachableTime: 30000,
    retransTimer: 1000,
    options: [
      { kind: 'sourceLinkAddr', lladdr: hex('00:00:5e:00:53:02') },
      { kind: 'mtu', mtu: 1500 },
      {
        kind: 'prefixInfo',
        prefixLength: 64,
        flags: N.ND_OPT_PI_FLAG_ONLINK | N.ND_OPT_PI_FLAG_AUTO,
        validLifetime: 2592000,
        preferredLifetime: 604800,
        prefix: addr6('20010db8000100000000000000000000'),
      },
    ],
  });
});

test('redirect: target, destination, redirected header option', () => {
  const p = new Icmpv6Packet(REDIRECT, AT, msgLen(REDIRECT));
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.headerLength, N.ND_REDIRECT_LEN);
  assert.equal(formatIp6(REDIRECT, p.targetOffset), '2001:db8::3');
  assert.equal(formatIp6(REDIRECT, p.destOffset), '2001:db8:2::5');
  const d = new Uint8Array(16);
  p.copyDest(d);
  assert.equal(formatIp6(d, 0), '2001:db8:2::5');
  const it = new NdOptionIter().resetFrom(p);
  it.next();
  it.next();
  assert.equal(it.kind, N.ND_OPT_REDIRECTED_HEADER);
  assert.equal(it.redirectedOffset, AT + 56);
  assert.equal(it.redirectedLength, 48);
  assert.equal(REDIRECT[it.redirectedOffset] >> 4, 6);
  roundTrip(REDIRECT, {
    type: N.ND_REDIRECT,
    code: 0,
    target: addr6('20010db8000000000000000000000003'),
    dest: addr6('20010db8000200000000000000000005'),
    options: [
      { kind: 'targetLinkAddr', lladdr: hex('00:00:5e:00:53:03') },
      { kind: 'redirectedHeader', data: INVOKING },
    ],
  });
  // setTarget/setDest write in place.
  const b = REDIRECT.slice();
  const q = new Icmpv6Packet(b, AT, msgLen(b));
  q.setTarget(addr6('20010db8000000000000000000000009'));
  q.setDest(hex('00' + '20010db800020000000000000000000a'), 1);
  assert.equal(formatIp6(b, q.targetOffset), '2001:db8::9');
  assert.equal(formatIp6(b, q.destOffset), '2001:db8:2::a');
});

test('errors: packet too big, unreachable, time exceeded, parameter problem', () => {
  const p = new Icmpv6Packet(PTB, AT, msgLen(PTB));
  assert.equal(p.check(), WireCode.Ok);
  assert.equal(p.mtu, 1280);
  assert.ok(N.icmp6ErrorType(p.type));
  assert.equal(p.invokingOffset, AT + 8);
  assert.equal(p.invokingLength, 52);
  assert.equal(new Icmpv6Packet(PARAMPROB, AT, msgLen(PARAMPROB)).pointer, 6);
  roundTrip(PTB, { type: N.ICMP6_PACKET_TOO_BIG, code: 0, mtu: 1280, data: QUOTE6 });
  roundTrip(UNREACH, { type: N.ICMP6_DST_UNREACH, code: N.ICMP6_DST_UNREACH_NOPORT, data: QUOTE6 });
  roundTrip(TIMEXC, { type: N.ICMP6_TIME_EXCEEDED, code: N.ICMP6_TIME_EXCEED_TRANSIT, data: QUOTE6 });
  roundTrip(PARAMPROB, { type: N.ICMP6_PARAM_PROB, code: N.ICMP6_PARAMPROB_NEXTHEADER, pointer: 6, data: QUOTE6 });
});

test('MLD: a v1 report round-trips; a Linux v2 report is read by the view only', () => {
  const p = new Icmpv6Packet(MLDREPORT, AT, msgLen(MLDREPORT));
  assert.equal(p.headerLength, N.MLD_MINLEN);
  assert.equal(formatIp6(MLDREPORT, p.mldAddrOffset), 'ff02::1:ff00:2');
  roundTrip(MLDREPORT, { type: N.MLD_LISTENER_REPORT, code: 0, maxDelay: 0, addr: addr6('ff0200000000000000000001ff000002') });
  const v2 = new Icmpv6Packet(MLD2, 48, MLD2.length - 48);
  assert.equal(v2.check(), WireCode.Ok);
  assert.equal(v2.type, N.MLDV2_LISTENER_REPORT);
  assert.equal(v2.mld2RecordCount, 2);
  assert.ok(v2.verifyChecksum(SRC, DST));
  const e = parseIcmpv6(MLD2, 48, MLD2.length - 48, SRC, DST);
  assert.ok(e instanceof WireError && e.kind === 'unsupported');
  assert.deepEqual([N.MLD_LISTENER_QUERY, N.MLD_LISTENER_REPORT, N.MLD_LISTENER_DONE, N.MLDV2_LISTENER_REPORT], [130, 131, 132, 143]);
});

test('the checksum: verified against addresses in another buffer, refused when wrong', () => {
  const msg = NS.slice(AT);
  const addrs = new Uint8Array(32);
  addrs.set(NS.subarray(SRC, SRC + 16), 0);
  addrs.set(NS.subarray(DST, DST + 16), 16);
  assert.ok(new Icmpv6Packet(msg).verifyChecksum(0, 16, addrs));
  const r = parseIcmpv6(msg, 0, msg.length, 0, 16, addrs);
  assert.ok(!isWireError(r));
  const out = new Uint8Array(msg.length);
  emitIcmpv6(r, out, 0, 0, 16, addrs);
  assert.equal(toHex(out), toHex(msg));
  const bad = NS.slice();
  bad[AT + 30] ^= 1;
  const e = parseIcmpv6(bad, AT, msgLen(bad), SRC, DST);
  assert.ok(e instanceof WireError && e.kind === 'malformed');
  assert.ok(!isWireError(parseIcmpv6(bad, AT, msgLen(bad))));
});

test('ND options: length 0 is malformed, overruns are truncated, wrong sizes flagged', () => {
  const withOpts = (opts: string) => {
    const o = hex(opts);
    const b = new Uint8Array(24 + o.length);
    b[0] = N.ND_NEIGHBOR_SOLICIT;
    b.set(o, 24);
    return b;
  };
  const cases: [string, WireCode][] = [
    ['0100 0000 0000 0000', WireCode.Malformed], // length 0 (RFC 4861 4.6)
    ['0101 0000 5e00 5301 0e00', WireCode.Malformed], // a good option, then length 0
    ['0102 0000 5e00 5301', WireCode.Truncated], // 16 bytes declared, 8 present
    ['0101 0000 5e00 5301 05', WireCode.Truncated], // a lone type byte
  ];
  for (const [h, want] of cases) {
    const b = withOpts(h);
    const p = new Icmpv6Packet(b);
    assert.equal(p.check(), want, h);
    const it = new NdOptionIter().resetFrom(p);
    while (it.next());
    assert.equal(it.error, want, h);
    const e = parseIcmpv6(b, 0, b.length);
    assert.ok(e instanceof WireError && e.kind === (want === WireCode.Malformed ? 'malformed' : 'truncated'), h);
  }
  // A prefix option of 3 units and an MTU option of 2 are well framed but wrongly sized.
  for (const h of ['0303' + '00'.repeat(22), '0502' + '00'.repeat(14)]) {
    const b = withOpts(h);
    const p = new Icmpv6Packet(b);
    assert.equal(p.check(), WireCode.Ok);
    const it = new NdOptionIter().resetFrom(p);
    assert.ok(it.next() && it.badLength);
    assert.ok(isWireError(parseNdOptions(b, 24, b.length - 24)));
  }
});

test('every truncation is rejected except at an option boundary', () => {
  for (const pkt of [ECHO, NS, NA, RS, RA, REDIRECT, PTB, MLDREPORT]) {
    const full = new Icmpv6Packet(pkt, AT, msgLen(pkt));
    const hl = full.headerLength;
    const bounds = new Set<number>([hl]);
    if (N.icmp6NdType(full.type)) {
      const it = new NdOptionIter().resetFrom(full);
      while (it.next()) bounds.add(it.offset + it.length - AT);
    }
    for (let n = 0; n < msgLen(pkt); n++) {
      const code = new Icmpv6Packet(pkt, AT, n).check();
      const r = parseIcmpv6(pkt, AT, n);
      const t = full.type;
      if (n < hl) {
        assert.equal(code, WireCode.Truncated, `type ${t} len ${n}`);
        assert.ok(r instanceof WireError && r.kind === 'truncated', `type ${t} len ${n}`);
      } else if (N.icmp6NdType(t)) {
        assert.equal(code === WireCode.Ok, bounds.has(n), `type ${t} len ${n}`);
        assert.equal(isWireError(r), !bounds.has(n), `type ${t} len ${n}`);
      } else {
        // Echo data and quotes have no length of their own; the checksum shows the loss.
        assert.equal(code, WireCode.Ok);
      }
    }
  }
});

test('constants', () => {
  assert.deepEqual(
    [N.ICMP6_DST_UNREACH_NOROUTE, N.ICMP6_DST_UNREACH_ADMIN, N.ICMP6_DST_UNREACH_BEYONDSCOPE, N.ICMP6_DST_UNREACH_ADDR, N.ICMP6_DST_UNREACH_NOPORT],
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual([N.ND_ROUTER_SOLICIT, N.ND_ROUTER_ADVERT, N.ND_NEIGHBOR_SOLICIT, N.ND_NEIGHBOR_ADVERT, N.ND_REDIRECT], [133, 134, 135, 136, 137]);
  assert.deepEqual([N.ND_OPT_SOURCE_LINKADDR, N.ND_OPT_TARGET_LINKADDR, N.ND_OPT_PREFIX_INFORMATION, N.ND_OPT_REDIRECTED_HEADER, N.ND_OPT_MTU], [1, 2, 3, 4, 5]);
  assert.equal(N.icmp6HeaderLength(N.ND_REDIRECT), 40);
});

test('property: random bytes never throw, the option walk stays in bounds', () => {
  fc.assert(
    fc.property(fc.constantFrom(0, 1, 2, 128, 130, 133, 134, 135, 136, 137, 143), fc.uint8Array({ maxLength: 96 }), fc.nat(96), (t, b, l) => {
      if (b.length > 0) b[0] = t;
      const len = Math.min(l, b.length);
      parseIcmpv6(b, 0, len, 0, 0);
      const p = new Icmpv6Packet(b, 0, len);
      if (p.check() === WireCode.Ok && N.icmp6NdType(p.type)) {
        const it = new NdOptionIter().resetFrom(p);
        while (it.next()) assert.ok(it.offset + it.length <= len);
        assert.equal(it.error, WireCode.Ok);
      }
    }),
  );
});

const u8 = fc.nat(0xff);
const u16 = fc.nat(0xffff);
const u32 = fc.nat(0xffffffff);
const a16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const bytes = fc.uint8Array({ maxLength: 48 });
/** Byte strings of 8k+6 bytes, the size a parsed option body has. */
const body = fc.nat(3).chain((k) => fc.uint8Array({ minLength: 8 * k + 6, maxLength: 8 * k + 6 }));
const ndOption: fc.Arbitrary<NdOptionRepr> = fc.oneof(
  body.map((lladdr): NdOptionRepr => ({ kind: 'sourceLinkAddr', lladdr })),
  body.map((lladdr): NdOptionRepr => ({ kind: 'targetLinkAddr', lladdr })),
  fc
    .tuple(u8, u8, u32, u32, a16)
    .map(([prefixLength, flags, validLifetime, preferredLifetime, prefix]): NdOptionRepr => ({
      kind: 'prefixInfo',
      prefixLength,
      flags,
      validLifetime,
      preferredLifetime,
      prefix,
    })),
  fc.nat(4).chain((k) => fc.uint8Array({ minLength: 8 * k, maxLength: 8 * k })).map((data): NdOptionRepr => ({ kind: 'redirectedHeader', data })),
  u32.map((mtu): NdOptionRepr => ({ kind: 'mtu', mtu })),
  fc.tuple(fc.integer({ min: 6, max: 255 }), body).map(([code, data]): NdOptionRepr => ({ kind: 'unknown', code, data })),
);
const options = fc.array(ndOption, { maxLength: 4 });
const reprArb: fc.Arbitrary<Icmpv6Repr> = fc.oneof(
  fc.record({ type: fc.constantFrom(N.ICMP6_ECHO_REQUEST, N.ICMP6_ECHO_REPLY), code: u8, id: u16, seq: u16, data: bytes }),
  fc.record({ type: fc.constantFrom(N.ICMP6_DST_UNREACH, N.ICMP6_TIME_EXCEEDED), code: u8, data: bytes }),
  fc.record({ type: fc.constant(N.ICMP6_PACKET_TOO_BIG), code: u8, mtu: u32, data: bytes }),
  fc.record({ type: fc.constant(N.ICMP6_PARAM_PROB), code: u8, pointer: u32, data: bytes }),
  fc.record({ type: fc.constant(N.ND_ROUTER_SOLICIT), code: u8, options }),
  fc.record({
    type: fc.constant(N.ND_ROUTER_ADVERT),
    code: u8,
    curHopLimit: u8,
    flags: u8,
    routerLifetime: u16,
    reachableTime: u32,
    retransTimer: u32,
    options,
  }),
  fc.record({ type: fc.constant(N.ND_NEIGHBOR_SOLICIT), code: u8, target: a16, options }),
  fc.record({ type: fc.constant(N.ND_NEIGHBOR_ADVERT), code: u8, flags: u8, target: a16, options }),
  fc.record({ type: fc.constant(N.ND_REDIRECT), code: u8, target: a16, dest: a16, options }),
  fc.record({ type: fc.constantFrom(N.MLD_LISTENER_QUERY, N.MLD_LISTENER_REPORT, N.MLD_LISTENER_DONE), code: u8, maxDelay: u16, addr: a16 }),
).map((r) => ({ ...r }) as Icmpv6Repr); // fc.record objects have a null prototype

test('property: parse(emit(repr)) round-trips with a valid checksum', () => {
  fc.assert(
    fc.property(reprArb, a16, a16, (repr, src, dst) => {
      const n = icmpv6ReprLength(repr);
      const buf = new Uint8Array(32 + n).fill(0xa5);
      buf.set(src, 0);
      buf.set(dst, 16);
      assert.equal(emitIcmpv6(repr, buf, 32, 0, 16), n);
      assert.deepEqual(parseIcmpv6(buf, 32, n, 0, 16), repr);
    }),
  );
});

test('emitNdOptions pads each option to 8 bytes', () => {
  const opts: NdOptionRepr[] = [{ kind: 'unknown', code: 25, data: hex('0000 0000 0e10') }, { kind: 'redirectedHeader', data: hex('60') }];
  assert.equal(ndOptionsLength(opts), 24);
  const b = new Uint8Array(24).fill(0xff);
  assert.equal(emitNdOptions(opts, b, 0), 24);
  assert.equal(toHex(b), '1901000000000e10' + '0402000000000000' + '6000000000000000');
  assert.throws(() => emitNdOptions([{ kind: 'unknown', code: 9, data: new Uint8Array(2100) }], new Uint8Array(2200), 0), RangeError);
});
