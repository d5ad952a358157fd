import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hex, toHex } from '../../src/wire/bytes.js';
import { pseudoSum4, pseudoSum6 } from '../../src/wire/checksum.js';
import { WireCode, WireError, isWireError } from '../../src/wire/error.js';
import * as T from '../../src/wire/tcp.js';
import {
  TcpOptionIter,
  TcpPacket,
  emitTcp,
  emitTcpOptions,
  parseTcp,
  parseTcpOptions,
  tcpHeaderLength,
  tcpOptionsLength,
  tcpReprLength,
  type TcpOptionRepr,
  type TcpRepr,
} from '../../src/wire/tcp.js';

const A = 0xc0000201; // 192.0.2.1
const B = 0xc0000202; // 192.0.2.2
const C = 0xc6336402; // 198.51.100.2
const LOOP = 0x7f000001;

// Linux SYN between network namespaces (test/fixtures/captures/linux-netns.pcap):
// 192.0.2.1.40862 > 192.0.2.2.8080 [mss 1460,sackOK,TS val 1519689323 ecr 0,nop,wscale 10].
// The veth left a partial checksum; 0xb1ff is the full one tcpdump computed.
const SYN = hex('9f9e 1f90 89bc d51d 0000 0000 a002 faf0 b1ff 0000 0204 05b4 0402 080a 5a94 9e6b 0000 0000 0103 030a');
// Its SYN-ACK, 192.0.2.2.8080 > 192.0.2.1.40862 (checksum 0x81f5 likewise filled in).
const SYNACK = hex('1f90 9f9e 8630 d297 89bc d51e a012 fe88 81f5 0000 0204 05b4 0402 080a c7ed 0bab 5a94 9e6b 0103 030a');
// Linux on loopback, `echo hi | nc`: 127.0.0.1.45428 > .33333 [P.] [nop,nop,TS], data "hi\n" (checksum 0xa6c3).
const PSH = hex('b174 8235 5266 555e a6e4 a650 8018 0040 a6c3 0000 0101 080a f352 6969 e589 f458 6869 0a');
// Built with scapy: 192.0.2.1.22 > 198.51.100.2.50000 [.] with nop,nop,sack 3000:4000 5000:6000.
const SACK = hex('0016 c350 0000 03e8 0000 07d0 a010 01f5 5612 0000 0101 0512 0000 0bb8 0000 0fa0 0000 1388 0000 1770');
// Built with scapy: 192.0.2.1.179 > 198.51.100.2.50001 [S] with mss 1460,nop,nop,md5 (kind 19).
const MD5 = hex(
  '00b3 c351 0000 0001 0000 0000 b002 4000 43c2 0000 0204 05b4 0101 1312 0123 4567 89ab cdef fedc ba98 7654 3210',
);
// Built with scapy: IPv6 2001:db8::1.443 > 2001:db8::2.50002 [P.] "hello" (seq near wrap).
const TCP6_IP = hex(
  '6000 0000 0019 0640 2001 0db8 0000 0000 0000 0000 0000 0001 2001 0db8 0000 0000 0000 0000 0000 0002' +
    '01bb c352 ffff fff0 0000 0010 5018 0400 4772 0000 6865 6c6c 6f',
);

function roundTrip(seg: Uint8Array, pseudo: number, expect: TcpRepr): void {
  const r = parseTcp(seg, 0, seg.length, pseudo);
  assert.ok(!isWireError(r), String(r));
  assert.deepEqual(r, expect);
  const out = new Uint8Array(tcpReprLength(r) + 3).fill(0xee);
  assert.equal(emitTcp(r, out, 3, pseudo), seg.length);
  assert.equal(toHex(out, 3), toHex(seg));
}

test('deconstruct a Linux SYN field by field', () => {
  const t = new TcpPacket(SYN);
  assert.equal(t.check(), WireCode.Ok);
  assert.equal(t.srcPort, 40862);
  assert.equal(t.dstPort, 8080);
  assert.equal(t.seq, 2310853917);
  assert.equal(t.ack, 0);
  assert.equal(t.dataOffset, 10);
  assert.equal(t.reserved, 0);
  assert.equal(t.headerLength, 40);
  assert.equal(t.flags, T.TH_SYN);
  assert.equal(t.window, 64240);
  assert.equal(t.checksum, 0xb1ff);
  assert.equal(t.urgent, 0);
  assert.equal(t.optionsOffset, 20);
  assert.equal(t.optionsLength, 20);
  assert.equal(t.payloadOffset, 40);
  assert.equal(t.payloadLength, 0);
  assert.ok(t.verifyChecksum(pseudoSum4(A, B, 6, 40)));
  assert.ok(!t.verifyChecksum(pseudoSum4(A, C, 6, 40)));
});

test('walk the SYN options without allocating', () => {
  const it = new TcpOptionIter().resetFrom(new TcpPacket(SYN));
  const seen: string[] = [];
  while (it.next()) {
    assert.ok(!it.badLength);
    switch (it.kind) {
      case T.TCPOPT_MAXSEG:
        seen.push(`mss ${it.mss}`);
        break;
      case T.TCPOPT_SACK_PERMITTED:
        seen.push('sackOK');
        break;
      case T.TCPOPT_TIMESTAMP:
        seen.push(`TS val ${it.tsval} ecr ${it.tsecr}`);
        break;
      case T.TCPOPT_NOP:
        seen.push('nop');
        break;
      case T.TCPOPT_WINDOW:
        seen.push(`wscale ${it.wscale}`);
        break;
    }
  }
  assert.equal(it.error, WireCode.Ok);
  assert.deepEqual(seen, ['mss 1460', 'sackOK', 'TS val 1519689323 ecr 0', 'nop', 'wscale 10']);
  // Offsets are in the buffer; lengths are whole options.
  it.resetFrom(new TcpPacket(SYN));
  it.next();
  assert.deepEqual([it.kind, it.offset, it.length, it.dataOffset, it.dataLength], [2, 20, 4, 22, 2]);
});

test('Linux SYN and SYN-ACK: parse, construct and emit byte for byte', () => {
  const opts = (tsval: number, tsecr: number): TcpOptionRepr[] => [
    { kind: 'mss', mss: 1460 },
    { kind: 'sackOK' },
    { kind: 'timestamp', tsval, tsecr },
    { kind: 'nop' },
    { kind: 'wscale', shift: 10 },
  ];
  const empty = new Uint8Array(0);
  roundTrip(SYN, pseudoSum4(A, B, 6, 40), {
    srcPort: 40862,
    dstPort: 8080,
    seq: 2310853917,
    ack: 0,
    flags: T.TH_SYN,
    window: 64240,
    urgent: 0,
    options: opts(1519689323, 0),
    payload: empty,
  });
  roundTrip(SYNACK, pseudoSum4(B, A, 6, 40), {
    srcPort: 8080,
    dstPort: 40862,
    seq: 2251346583,
    ack: 2310853918,
    flags: T.TH_SYN | T.TH_ACK,
    window: 65160,
    urgent: 0,
    options: opts(3354201003, 1519689323),
    payload: empty,
  });
});

test('a data segment with nop,nop,TS', () => {
  const t = new TcpPacket(PSH);
  assert.equal(t.flags, T.TH_PUSH | T.TH_ACK);
  assert.equal(t.payloadOffset, 32);
  assert.equal(t.payloadLength, 3);
  roundTrip(PSH, pseudoSum4(LOOP, LOOP, 6, PSH.length), {
    srcPort: 45428,
    dstPort: 33333,
    seq: 1382438238,
    ack: 2800002640,
    flags: T.TH_PUSH | T.TH_ACK,
    window: 64,
    urgent: 0,
    options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamp', tsval: 4082264425, tsecr: 3851023448 }],
    payload: new TextEncoder().encode('hi\n'),
  });
});

test('SACK blocks and the MD5 signature option', () => {
  const it = new TcpOptionIter().resetFrom(new TcpPacket(SACK));
  const kinds: number[] = [];
  for (let i = 0; i < 3; i++) {
    assert.ok(it.next());
    kinds.push(it.kind);
  }
  assert.deepEqual(kinds, [T.TCPOPT_NOP, T.TCPOPT_NOP, T.TCPOPT_SACK]);
  assert.equal(it.sackBlocks, 2);
  assert.deepEqual([it.sackStart(0), it.sackEnd(0), it.sackStart(1), it.sackEnd(1)], [3000, 4000, 5000, 6000]);
  assert.ok(!it.next());
  roundTrip(SACK, pseudoSum4(A, C, 6, SACK.length), {
    srcPort: 22,
    dstPort: 50000,
    seq: 1000,
    ack: 2000,
    flags: T.TH_ACK,
    window: 501,
    urgent: 0,
    options: [
      { kind: 'nop' },
      { kind: 'nop' },
      {
        kind: 'sack',
        blocks: [
          { start: 3000, end: 4000 },
          { start: 5000, end: 6000 },
        ],
      },
    ],
    payload: new Uint8Array(0),
  });
  roundTrip(MD5, pseudoSum4(A, C, 6, MD5.length), {
    srcPort: 179,
    dstPort: 50001,
    seq: 1,
    ack: 0,
    flags: T.TH_SYN,
    window: 16384,
    urgent: 0,
    options: [{ kind: 'mss', mss: 1460 }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'md5', digest: hex('0123456789abcdeffedcba9876543210') }],
    payload: new Uint8Array(0),
  });
});

test('TCP over IPv6: pseudo-header from the buffer', () => {
  const ps = pseudoSum6(TCP6_IP, 8, 24, 6, 25);
  const t = new TcpPacket(TCP6_IP, 40, 25);
  assert.equal(t.check(), WireCode.Ok);
  assert.ok(t.verifyChecksum(ps));
  const r = parseTcp(TCP6_IP, 40, 25, ps);
  assert.ok(!isWireError(r));
  assert.equal(r.seq, 0xfffffff0);
  assert.equal(new TextDecoder().decode(r.payload), 'hello');
  const out = TCP6_IP.slice().fill(0, 40);
  emitTcp(r, out, 40, ps);
  assert.equal(toHex(out), toHex(TCP6_IP));
  // Setters plus fillChecksum give the same bytes.
  const b = TCP6_IP.slice();
  const v = new TcpPacket(b, 40, 25);
  v.checksum = 0;
  v.fillChecksum(ps);
  assert.equal(toHex(b), toHex(TCP6_IP));
});

test('setters write every field in place', () => {
  const b = new Uint8Array(20);
  const t = new TcpPacket(b);
  t.srcPort = 0x1234;
  t.dstPort = 0x5678;
  t.seq = 0x9abcdef0;
  t.ack = 0x0fedcba9;
  t.dataOffset = 5;
  t.reserved = 1;
  t.flags = T.TH_FIN | T.TH_URG | T.TH_ECE | T.TH_CWR | T.TH_RST;
  t.window = 0xfffe;
  t.checksum = 0xabcd;
  t.urgent = 7;
  assert.equal(toHex(b), '123456789abcdef00fedcba951e5fffeabcd0007');
  assert.equal(t.reserved, 1);
  assert.equal(t.dataOffset, 5);
  assert.deepEqual([T.TH_FIN, T.TH_SYN, T.TH_RST, T.TH_PUSH, T.TH_ACK, T.TH_URG, T.TH_ECE, T.TH_CWR], [1, 2, 4, 8, 16, 32, 64, 128]);
});

test('emit pads options with EOL to a 4-byte boundary', () => {
  const opts: TcpOptionRepr[] = [{ kind: 'mss', mss: 536 }, { kind: 'nop' }];
  assert.equal(tcpOptionsLength(opts), 8);
  const b = new Uint8Array(8).fill(0xee);
  assert.equal(emitTcpOptions(opts, b, 0), 8);
  assert.equal(toHex(b), '0204021801000000');
  assert.deepEqual(parseTcpOptions(b, 0, 8), opts);
  // An unknown kind keeps its bytes; an explicit EOL ends the list.
  const u: TcpOptionRepr[] = [{ kind: 'unknown', code: 30, data: hex('0102') }, { kind: 'eol' }];
  const ub = new Uint8Array(tcpOptionsLength(u));
  emitTcpOptions(u, ub, 0);
  assert.equal(toHex(ub), '1e04010200000000');
  assert.deepEqual(parseTcpOptions(ub, 0, ub.length), [u[0]]);
  const r: TcpRepr = {
    srcPort: 1,
    dstPort: 2,
    seq: 3,
    ack: 4,
    flags: T.TH_ACK,
    window: 5,
    urgent: 0,
    options: opts,
    payload: new Uint8Array(0),
  };
  assert.equal(tcpHeaderLength(r), 28);
  const seg = new Uint8Array(28);
  emitTcp(r, seg, 0);
  assert.equal(seg[12], 7 << 4);
  assert.equal(new TcpPacket(seg).checksum, 0);
});

test('emit refuses options no receiver could parse', () => {
  const big: TcpOptionRepr[] = [{ kind: 'unknown', code: 99, data: new Uint8Array(40) }];
  assert.throws(() => emitTcpOptions(big, new Uint8Array(64), 0), RangeError);
  assert.throws(() => emitTcpOptions([{ kind: 'sack', blocks: [] }], new Uint8Array(64), 0), RangeError);
  assert.throws(() => emitTcpOptions([{ kind: 'md5', digest: new Uint8Array(4) }], new Uint8Array(64), 0), RangeError);
});

test('malformed options: length below 2, running past the header, a kind without length', () => {
  for (const h of ['0201', '0200', '0205 0000', '0101 0108 0000', '0303 0a01 0101 02']) {
    const b = hex(h);
    const it = new TcpOptionIter().reset(b, 0, b.length);
    while (it.next());
    assert.equal(it.error, WireCode.Malformed, h);
    const e = parseTcpOptions(b, 0, b.length);
    assert.ok(e instanceof WireError && e.kind === 'malformed', h);
  }
  // Known kinds of the wrong length are flagged and skipped by the walk, refused by the parser.
  for (const h of ['0203 0500', '0304 0000', '0403 0000', '050b 0000 0001 0000 0002 00', '0809 0000 0000 0000 0000', '0b02']) {
    const b = hex(h);
    const it = new TcpOptionIter().reset(b, 0, b.length);
    let bad = 0;
    while (it.next()) if (it.badLength) bad++;
    if (h !== '0b02') {
      assert.equal(bad, 1, h);
      assert.ok(isWireError(parseTcpOptions(b, 0, b.length)), h);
    } else {
      assert.equal(bad, 0);
    }
    assert.equal(it.error, WireCode.Ok, h);
  }
  // After EOL, whatever follows is padding.
  assert.deepEqual(parseTcpOptions(hex('0100 ffff'), 0, 4), [{ kind: 'nop' }]);
  // A whole segment whose options are malformed is refused by parseTcp but not by check().
  const b = SYN.slice();
  b[21] = 1; // mss length 1
  assert.equal(new TcpPacket(b).check(), WireCode.Ok);
  assert.ok(isWireError(parseTcp(b, 0, b.length)));
});

test('every truncation of the header and impossible data offsets are rejected', () => {
  for (let n = 0; n < 40; n++) {
    const e = parseTcp(SYN, 0, n);
    assert.ok(e instanceof WireError && e.kind === 'truncated', `len ${n}`);
    assert.equal(new TcpPacket(SYN, 0, n).check(), WireCode.Truncated);
  }
  for (let w = 0; w < 5; w++) {
    const b = SYN.slice();
    b[12] = w << 4;
    assert.equal(new TcpPacket(b).check(), WireCode.Malformed);
    const e = parseTcp(b, 0, b.length);
    assert.ok(e instanceof WireError && e.kind === 'malformed');
  }
  const b = SYN.slice();
  b[12] = 0xf0; // 60 bytes of header in a 40-byte segment
  assert.equal(new TcpPacket(b).check(), WireCode.Truncated);
  // A bad checksum.
  const c = SYN.slice();
  c[5] ^= 1;
  const e = parseTcp(c, 0, c.length, pseudoSum4(A, B, 6, 40));
  assert.ok(e instanceof WireError && e.kind === 'malformed');
});

test('property: random bytes never throw, the option walk stays in bounds', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(80), fc.nat(80), (b, o, l) => {
      const off = Math.min(o, b.length);
      const len = Math.min(l, b.length - off);
      parseTcp(b, off, len, 0);
      const it = new TcpOptionIter().reset(b, off, len);
      let steps = 0;
      while (it.next()) {
        assert.ok(it.offset >= off && it.offset + it.length <= off + len);
        assert.ok(++steps <= len);
      }
    }),
  );
});

const u16 = fc.nat(0xffff);
const u32 = fc.nat(0xffffffff);
const optionArb: fc.Arbitrary<TcpOptionRepr> = fc.oneof(
  fc.constant<TcpOptionRepr>({ kind: 'nop' }),
  fc.constant<TcpOptionRepr>({ kind: 'sackOK' }),
  u16.map((mss): TcpOptionRepr => ({ kind: 'mss', mss })),
  fc.nat(255).map((shift): TcpOptionRepr => ({ kind: 'wscale', shift })),
  fc
    .array(fc.tuple(u32, u32), { minLength: 1, maxLength: 4 })
    .map((bl): TcpOptionRepr => ({ kind: 'sack', blocks: bl.map(([start, end]) => ({ start, end })) })),
  fc.tuple(u32, u32).map(([tsval, tsecr]): TcpOptionRepr => ({ kind: 'timestamp', tsval, tsecr })),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((digest): TcpOptionRepr => ({ kind: 'md5', digest })),
  fc
    .tuple(
      fc.integer({ min: 6, max: 255 }).filter((k) => k !== T.TCPOPT_TIMESTAMP && k !== T.TCPOPT_SIGNATURE),
      fc.uint8Array({ maxLength: 12 }),
    )
    .map(([code, data]): TcpOptionRepr => ({ kind: 'unknown', code, data })),
);

test('property: parse(emit(repr)) round-trips with a valid checksum', () => {
  fc.assert(
    fc.property(
      fc.array(optionArb, { maxLength: 8 }).filter((o) => tcpOptionsLength(o) <= T.MAX_TCPOPTLEN),
      fc.tuple(u16, u16, u32, u32, fc.nat(255), u16, u16),
      fc.uint8Array({ maxLength: 64 }),
      u16,
      (options, [srcPort, dstPort, seq, ack, flags, window, urgent], payload, ps) => {
        const repr: TcpRepr = { srcPort, dstPort, seq, ack, flags, window, urgent, options, payload };
        const n = tcpReprLength(repr);
        const buf = new Uint8Array(n + 2);
        assert.equal(emitTcp(repr, buf, 2, ps), n);
        const back = parseTcp(buf, 2, n, ps);
        assert.ok(!isWireError(back), String(back));
        assert.deepEqual(back, repr);
      },
    ),
  );
});
