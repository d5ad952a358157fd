/**
 * Internet protocols on hand-built packets (raw IP link type, so each line
 * is just the protocol part): print-ip.c, print-ip6.c and its extension
 * headers, print-tcp.c (relative sequence numbers, options, RST text),
 * print-udp.c, print-icmp.c, print-icmp6.c, print-ipsec.c.
 */
process.env.TZ = 'UTC';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { put16 } from '../../../src/wire/bytes.js';
import { cat, fillTransport, hex, icmp, ip4, ip6, show, tcp, udp, TH_ACK, TH_FIN, TH_PUSH, TH_RST, TH_SYN } from './print-build.js';

const A = '192.0.2.1';
const B = '198.51.100.2';
const RAW = 101;

const seg = (src: string, dst: string, sport: number, dport: number, seq: number, ack: number, flags: number, data: Uint8Array = new Uint8Array(0), opts: Uint8Array = new Uint8Array(0)) =>
  fillTransport(ip4(6, src, dst, tcp(sport, dport, seq, ack, flags, 512, opts, data)), 16);

test('TCP: relative numbers per connection after the first packet with ACK, absolute again on SYN', () => {
  const out = show(
    {},
    RAW,
    seg(A, B, 40000, 80, 1000, 0, TH_SYN),
    seg(B, A, 80, 40000, 9000, 1001, TH_SYN | TH_ACK),
    seg(A, B, 40000, 80, 1001, 9001, TH_ACK),
    seg(A, B, 40000, 80, 1001, 9001, TH_ACK | TH_PUSH, hex('68656c6c6f')),
    seg(B, A, 80, 40000, 9001, 1006, TH_ACK | TH_FIN),
    // Another connection between the same hosts is kept apart.
    seg(A, B, 40001, 80, 5, 77, TH_ACK),
    seg(A, B, 40000, 80, 1006, 9002, TH_ACK),
  );
  assert.equal(
    out,
    [
      '192.0.2.1.40000 > 198.51.100.2.80: S 1000:1000(0) win 512',
      '198.51.100.2.80 > 192.0.2.1.40000: S 9000:9000(0) ack 1001 win 512',
      '192.0.2.1.40000 > 198.51.100.2.80: . ack 1 win 512',
      '192.0.2.1.40000 > 198.51.100.2.80: P 1:6(5) ack 1 win 512',
      '198.51.100.2.80 > 192.0.2.1.40000: F 1:1(0) ack 6 win 512',
      '192.0.2.1.40001 > 198.51.100.2.80: . ack 77 win 512',
      '192.0.2.1.40000 > 198.51.100.2.80: . ack 2 win 512',
      '',
    ].join('\n'),
  );
});

test('TCP over IPv6 uses the same table; equal ports compare addresses as the C code does', () => {
  const s6 = (src: string, dst: string, seq: number, ack: number, flags: number) =>
    fillTransport(ip6(6, src, dst, tcp(179, 179, seq, ack, flags, 100)), 16);
  const out = show({ vflag: 1 }, RAW, s6('2001:db8::1', '2001:db8::2', 100, 200, TH_ACK), s6('2001:db8::2', '2001:db8::1', 200, 101, TH_ACK), s6('2001:db8::1', '2001:db8::2', 101, 201, TH_ACK));
  assert.equal(
    out,
    [
      '2001:db8::1.179 > 2001:db8::2.179: . [tcp sum ok] ack 200 win 100 (len 20, hlim 64)',
      '2001:db8::2.179 > 2001:db8::1.179: . [tcp sum ok] ack 1 win 100 (len 20, hlim 64)',
      '2001:db8::1.179 > 2001:db8::2.179: . [tcp sum ok] ack 2 win 100 (len 20, hlim 64)',
      '',
    ].join('\n'),
  );
});

test('TCP options, good and bad', () => {
  const opts = hex('0204 05b4 0103 0307 0402 080a 0001 e240 0000 0000 1e04 abcd');
  assert.equal(show({}, RAW, seg(A, B, 1, 2, 1, 0, TH_SYN, undefined, opts)), '192.0.2.1.1 > 198.51.100.2.2: S 1:1(0) win 512 <mss 1460,nop,wscale 7,sackOK,timestamp 123456 0,opt-30:abcd>\n');
  // An mss option claiming 5 bytes: the length note follows the value.
  assert.equal(show({}, RAW, seg(A, B, 1, 2, 1, 0, TH_SYN, undefined, hex('0205 05b4 0000 0000'))), '192.0.2.1.1 > 198.51.100.2.2: S 1:1(0) win 512 <mss 1460[len 5],eol>\n');
  // An option running past the header.
  assert.equal(show({}, RAW, seg(A, B, 1, 2, 1, 0, TH_SYN, undefined, hex('0109 0000'))), '192.0.2.1.1 > 198.51.100.2.2: S 1:1(0) win 512 <nop,[bad opt]>\n');
  // SACK without ACK is malformed.
  assert.equal(show({}, RAW, seg(A, B, 1, 2, 1, 0, TH_SYN, undefined, hex('0101 050a 0000 0001 0000 0002'))), '192.0.2.1.1 > 198.51.100.2.2: S 1:1(0) win 512 <nop,nop,malformed sack [len 8] >\n');
  // Options cut by the capture.
  const p = seg(A, B, 1, 2, 1, 0, TH_SYN, undefined, hex('0204 05b4 0101 080a 0001 e240 0000 0000'));
  assert.equal(show({}, RAW, [p, p.length - 4]), '192.0.2.1.1 > 198.51.100.2.2: S 1:1(0) win 512 <mss 1460,nop,nop,timestamp 123456[|tcp]>\n');
});

test('TCP: checksums, RST text, urgent pointer, -vv ranges, short headers', () => {
  const bad = seg(A, B, 1, 2, 1, 2, TH_ACK);
  put16(bad, 36, 0xbeef);
  assert.match(show({ vflag: 1 }, RAW, bad), /^192\.0\.2\.1\.1 > 198\.51\.100\.2\.2: \. \[bad tcp cksum beef! -> [0-9a-f]+\] ack 2 win 512 \(ttl 64, id 1, len 40\)\n$/);
  const rst = seg(A, B, 1, 2, 7, 0, TH_RST, new TextEncoder().encode('no such port\x01'));
  assert.equal(show({ vflag: 1 }, RAW, rst), '192.0.2.1.1 > 198.51.100.2.2: R [tcp sum ok] 7:20(13) win 512 [RST no such port\\001] (ttl 64, id 1, len 53)\n');
  assert.equal(show({ vflag: 2 }, RAW, seg(A, B, 1, 2, 1, 2, TH_ACK)), '192.0.2.1.1 > 198.51.100.2.2: . [tcp sum ok] 1:1(0) ack 2 win 512 (ttl 64, id 1, len 40)\n');
  const urg = fillTransport(ip4(6, A, B, tcp(1, 2, 5, 0, 0x20, 9, undefined, hex('41'), 1)), 16);
  assert.equal(show({}, RAW, urg), '192.0.2.1.1 > 198.51.100.2.2: . 5:6(1) win 9 urg 1\n');
  const p = seg(A, B, 1, 2, 1, 0, TH_SYN);
  assert.equal(show({}, RAW, [p, 23]), '192.0.2.1 > 198.51.100.2: [|tcp]\n');
  assert.equal(show({}, RAW, [p, 30]), '192.0.2.1.1 > 198.51.100.2.2: 1 [|tcp]\n');
  assert.equal(show({}, RAW, [p, 35]), '192.0.2.1.1 > 198.51.100.2.2: [|tcp]\n');
  const hl = seg(A, B, 1, 2, 1, 0, TH_SYN);
  hl[32] = 0xf0;
  assert.equal(show({}, RAW, hl), '192.0.2.1.1 > 198.51.100.2.2: S [bad hdr length]\n');
});

test('IPv4: fragments, DF, TOS with ECN, ttl, options, checksum, lengths', () => {
  const u = fillTransport(ip4(17, A, B, udp(53, 4000, hex('00'.repeat(12))), { off: 0x4000, tos: 0x03, ttl: 1, id: 258 }), 6);
  assert.equal(show({}, RAW, u), '192.0.2.1.53 > 198.51.100.2.4000: udp 12 (DF) [tos 0x3 (EC)] [ttl 0]'.replace('[ttl 0]', '[ttl 1]') + '\n');
  assert.equal(show({ vflag: 1 }, RAW, u), '192.0.2.1.53 > 198.51.100.2.4000: [udp sum ok] udp 12 (DF) [tos 0x3 (EC)] [ttl 1] (id 258, len 40)\n');
  const frag = ip4(17, A, B, hex('00'.repeat(16)), { off: 0x2000 | 185, id: 9 });
  assert.equal(show({ vflag: 1 }, RAW, frag), '192.0.2.1 > 198.51.100.2: (frag 9:16@1480+) (ttl 64, len 36)\n');
  const opt = ip4(253, A, B, hex('ff'), { options: hex('0103 0703 0000 8304 0000 0000') });
  // An unknown option, then an EOL with padding behind it.
  assert.equal(show({ vflag: 1 }, RAW, opt), '192.0.2.1 > 198.51.100.2: ip-proto-253 1 (ttl 64, id 1, len 33, optlen=12 NOP IPOPT-3{7} EOL-3)\n');
  // The C code wants two bytes for every option, so a final EOL with nothing captured after it is a truncation.
  const rr = ip4(253, A, B, hex(''), { options: hex('0707 0400 0000 0000') });
  assert.equal(show({ vflag: 1 }, RAW, rr), '192.0.2.1 > 198.51.100.2: ip-proto-253 0 (ttl 64, id 1, len 28, optlen=8 RR{7}= RR{#0.0.0.0}[|ip])\n');
  const bad = ip4(253, A, B, hex('00'));
  put16(bad, 10, 0x1234);
  assert.match(show({ vflag: 1 }, RAW, bad), /, bad ip cksum 1234! -> [0-9a-f]+\)\n$/);
  assert.equal(show({}, RAW, ip4(253, A, B, hex('0000'), { len: 30 })), 'truncated-ip - 8 bytes missing!192.0.2.1 > 198.51.100.2: ip-proto-253 2\n');
  assert.equal(show({}, RAW, hex('46000014000000004001000000000000000000')), '[|ip]\n');
  assert.equal(show({}, RAW, hex('4f00001400000000400100000000000000000000')), 'bad-hlen 60\n');
  // The version nibble picks the printer for raw IP, so a bad version comes through IP-in-IP.
  assert.equal(show({ vflag: 1 }, RAW, ip4(4, A, B, hex('5000001400000000400100000000000000000000'))), '192.0.2.1 > 198.51.100.2: bad-ip-version 5 (ttl 64, id 1, len 40)\n');
});

test('IP-in-IP and IPv6-in-IPv4', () => {
  const inner = ip4(1, '203.0.113.1', '203.0.113.2', icmp(8, 0, hex('00010001')));
  assert.equal(show({}, RAW, ip4(4, A, B, inner)), '203.0.113.1 > 203.0.113.2: icmp: echo request (encap)\n');
  assert.equal(show({ vflag: 1 }, RAW, ip4(4, A, B, inner)), '192.0.2.1 > 198.51.100.2: 203.0.113.1 > 203.0.113.2: icmp: echo request (id:0001 seq:1) [icmp cksum ok] (ttl 64, id 1, len 28) (ttl 64, id 1, len 48)\n');
  const in6 = ip6(59, '2001:db8::1', '2001:db8::2', new Uint8Array(0));
  assert.equal(show({}, RAW, ip4(41, A, B, in6)), '2001:db8::1 > 2001:db8::2: no next header (encap)\n');
});

test('UDP: checksum notes as OpenBSD prints them on little-endian machines, short datagrams', () => {
  const u = fillTransport(ip4(17, A, B, udp(1000, 2000, hex('0102'))), 6);
  const good = show({ vflag: 1 }, RAW, u);
  assert.equal(good, '192.0.2.1.1000 > 198.51.100.2.2000: [udp sum ok] udp 2 (ttl 64, id 1, len 30)\n');
  const sum = (u[26]! << 8) | u[27]!;
  put16(u, 26, 0x1234);
  const sw = (v: number) => (((v & 0xff) << 8) | (v >> 8)).toString(16).padStart(4, '0');
  assert.equal(show({ vflag: 1 }, RAW, u), `192.0.2.1.1000 > 198.51.100.2.2000: [bad udp cksum 3412! -> ${sw(sum)}] udp 2 (ttl 64, id 1, len 30)\n`);
  assert.equal(show({}, RAW, ip4(17, A, B, hex('0001 0002 0009'))), '192.0.2.1 > 198.51.100.2: [|udp]\n');
  assert.equal(show({}, RAW, ip4(17, A, B, hex('0001 0002 0009 0000'), { len: 26 })), '192.0.2.1 > 198.51.100.2: truncated-udp 6\n');
  assert.equal(show({}, RAW, ip4(17, A, B, hex('0001 0002 0020 0000 00'))), '192.0.2.1.1 > 198.51.100.2.2:  truncated-udp - 23 bytes missing!udp 1\n');
  // WireGuard is recognised on any port.
  const wg = ip4(17, A, B, udp(51820, 51820, cat(hex('04000000 78563412 0200000000000000'), new Uint8Array(16 + 5))));
  assert.equal(show({}, RAW, wg), '192.0.2.1.51820 > 198.51.100.2.51820: [wg] data length 5 to 0x12345678 nonce 2\n');
});

test('ICMP messages', () => {
  const err = (type: number, code: number, word: string, q: Uint8Array) => ip4(1, '192.0.2.254', A, icmp(type, code, cat(hex(word), q)));
  const quoted = ip4(6, A, B, hex('9c40 0050 0000 0001'));
  const lines = show(
    {},
    RAW,
    err(3, 0, '00000000', quoted),
    err(3, 2, '00000000', quoted),
    err(3, 3, '00000000', quoted),
    err(3, 4, '00000000', quoted),
    err(3, 13, '00000000', quoted),
    err(3, 99, '00000000', quoted),
    err(5, 0, 'c00002fd', quoted),
    err(5, 3, 'c00002fd', quoted),
    err(5, 9, 'c00002fd', quoted),
    err(11, 1, '00000000', quoted),
    err(11, 7, '00000000', quoted),
    err(12, 1, '00000000', quoted),
    err(12, 2, '0c000000', quoted),
    ip4(1, A, B, icmp(9, 0, hex('0102 0e10 c00002fe 00000005'))),
    ip4(1, A, B, icmp(18, 0, hex('0000 0000 ffffff00'))),
    ip4(1, A, B, icmp(42, 0, hex('00000000'))),
    [err(3, 3, '00000000', quoted), 36],
  ).split('\n');
  const p = '192.0.2.254 > 192.0.2.1: icmp: ';
  assert.deepEqual(lines.slice(0, 13), [
    `${p}net 198.51.100.2 unreachable`,
    `${p}198.51.100.2 protocol 6 unreachable`,
    `${p}198.51.100.2 tcp port 80 unreachable`,
    `${p}198.51.100.2 unreachable - need to frag`,
    `${p}host 198.51.100.2 unreachable - admin prohibited filter`,
    `${p}#99 198.51.100.2 unreachable`,
    `${p}redirect 198.51.100.2 to net 192.0.2.253`,
    `${p}redirect-tos 198.51.100.2 to net 192.0.2.253`,
    `${p}redirect-#9 198.51.100.2 to net 192.0.2.253`,
    `${p}ip reassembly time exceeded`,
    `${p}time exceeded-#7`,
    `${p}requested option absent`,
    `${p}bad length 12`,
  ]);
  assert.deepEqual(lines.slice(13), [
    '192.0.2.1 > 198.51.100.2: icmp: router advertisement lifetime 1:00:00 1: {192.0.2.254 5}',
    '192.0.2.1 > 198.51.100.2: icmp: address mask is 0xffffff00',
    '192.0.2.1 > 198.51.100.2: icmp: type-#42',
    '192.0.2.254 > 192.0.2.1: [|icmp]',
    '',
  ]);
  // -vv quotes the datagram that caused the error.
  const withData = err(3, 3, '00000000', fillTransport(ip4(17, A, B, udp(5, 9, hex(''))), 6));
  assert.equal(show({ vflag: 2 }, RAW, withData), `${p}198.51.100.2 udp port 9 unreachable [icmp cksum ok] for 192.0.2.1.5 > 198.51.100.2.9: [udp sum ok] udp 0 (ttl 64, id 1, len 28) (ttl 64, id 1, len 56)\n`);
});

test('IPv6: extension headers, class and flow label, hop limit, truncation', () => {
  const u = udp(1, 2, hex('aa'));
  const p = fillTransport(ip6(17, '2001:db8::1', '2001:db8::2', u, 1, 0x02312345), 6);
  assert.equal(show({}, RAW, p), '2001:db8::1.1 > 2001:db8::2.2: udp 1 [class 0x23] [flowlabel 0x12345] [hlim 1]\n');
  assert.equal(show({ vflag: 1 }, RAW, p), '2001:db8::1.1 > 2001:db8::2.2: [udp sum ok] udp 1 [class 0x23] [flowlabel 0x12345] [hlim 1] (len 9)\n');
  const hbh = ip6(0, '2001:db8::1', '2001:db8::2', cat(hex('3b00 c204 0001 0000'), hex('')));
  assert.equal(show({ vflag: 1 }, RAW, hbh), '2001:db8::1 > 2001:db8::2: HBH (jumbo: 65536) no next header (len 8, hlim 64)\n');
  const dst = ip6(60, '2001:db8::1', '2001:db8::2', hex('3b00 0104 0000 0000'));
  assert.equal(show({ vflag: 1 }, RAW, dst), '2001:db8::1 > 2001:db8::2: DSTOPT no next header (len 8, hlim 64)\n');
  const rt = ip6(43, '2001:db8::1', '2001:db8::2', hex('3b02 0401 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000'));
  assert.equal(show({}, RAW, rt), '2001:db8::1 > 2001:db8::2: srcrt (len=2, type=4, segleft=1)no next header\n');
  const frag = ip6(44, '2001:db8::1', '2001:db8::2', hex('1100 05a9 0000 0042 0000 0000'));
  assert.equal(show({}, RAW, frag), '2001:db8::1 > 2001:db8::2: frag (0x00000042:4@1448+)\n');
  const other = ip6(200, '2001:db8::1', '2001:db8::2', hex('0000'));
  assert.equal(show({}, RAW, other), '2001:db8::1 > 2001:db8::2: ip-proto-200 2\n');
  assert.equal(show({}, RAW, [other, 39]), '[|ip6]\n');
  assert.equal(show({}, RAW, ip6(0, '2001:db8::1', '2001:db8::2', hex('3b01 0000'))), '2001:db8::1 > 2001:db8::2: [|HBH]\n');
  const short = ip6(59, '2001:db8::1', '2001:db8::2', new Uint8Array(0));
  put16(short, 4, 10);
  assert.equal(show({}, RAW, short), 'truncated-ip6 - 10 bytes missing!2001:db8::1 > 2001:db8::2: no next header\n');
});

test('ICMPv6 messages and -v details', () => {
  const S = '2001:db8::1';
  const D = '2001:db8::2';
  const m = (type: number, code: number, body: string, src = S, dst = D, hlim = 64) => {
    const p = ip6(58, src, dst, cat(hex(`${type.toString(16).padStart(2, '0')}${code.toString(16).padStart(2, '0')} 0000`), hex(body)), hlim);
    return fillTransport(p, 2);
  };
  const q = ip6(6, D, S, hex('0050 1f90'));
  const qh = Array.from(q, (x) => x.toString(16).padStart(2, '0')).join('');
  const out = show(
    { vflag: 1 },
    RAW,
    m(1, 0, '00000000' + qh),
    m(1, 3, '00000000' + qh),
    m(1, 4, '00000000' + qh),
    m(4, 0, '00000006' + qh),
    m(136, 0, 'a0000000 20010db8000000000000000000000002'),
    m(134, 0, '40c8 0708 00000000 00000000 0101 020000000002 1803 40 00 00000e10 20010db8000100000000000000000000', 'fe80::2', 'ff02::1', 255),
    m(137, 0, '00000000 fe800000000000000000000000000003 20010db8000000000000000000000009'),
    m(130, 0, '2710 0000 00000000000000000000000000000000', 'fe80::1', 'ff02::1', 1),
    m(138, 0, ''),
    m(200, 0, ''),
  );
  const c = ' [icmp6 cksum ok]';
  assert.deepEqual(out.split('\n'), [
    `${S} > ${D}: icmp6: ${S} unreachable route${c} (len 52, hlim 64)`,
    `${S} > ${D}: icmp6: ${S} unreachable address${c} (len 52, hlim 64)`,
    `${S} > ${D}: icmp6: ${S} tcp port 8080 unreachable${c} (len 52, hlim 64)`,
    `${S} > ${D}: icmp6: parameter problem erroneous - octet 6${c} (len 52, hlim 64)`,
    `${S} > ${D}: icmp6: neighbor adv: tgt is ${D}(RO)${c} (len 24, hlim 64)`,
    `fe80::2 > ff02::1: icmp6: router advertisement(chlim=64, MO, pref=high, router_ltime=1800, reachable_time=0, retrans_time=0)(src lladdr: 02:00:00:00:00:02)(route-info: 2001:db8:1::/64, pref=medium, lifetime=3600s) [icmp6 cksum ok] (len 48, hlim 255)`,
    `${S} > ${D}: icmp6: redirect 2001:db8::9 to fe80::3${c} (len 40, hlim 64)`,
    `fe80::1 > ff02::1: icmp6: multicast listener query max resp delay: 10000 addr: ::${c} [hlim 1] (len 24)`,
    `${S} > ${D}: icmp6: router renum command${c} (len 4, hlim 64)`,
    `${S} > ${D}: icmp6: type-#200${c} (len 4, hlim 64)`,
    '',
  ]);
  // Echo with -v, cut before the sequence number: the text so far, then the marker.
  const echo = m(128, 0, '12340001');
  assert.equal(show({ vflag: 1 }, RAW, [echo, 46]), `${S} > ${D}: icmp6: echo request[|icmp6] (len 8, hlim 64)\n`);
});

test('ESP and AH', () => {
  const esp = ip4(50, A, B, hex('10000861 00000001 0000000000000000'));
  assert.equal(show({}, RAW, esp), '192.0.2.1 > 198.51.100.2: esp spi 0x10000861 seq 1 len 16\n');
  assert.equal(show({}, RAW, [esp, 25]), '192.0.2.1 > 198.51.100.2: [|esp]\n');
  const esp6 = ip6(50, '2001:db8::1', '2001:db8::2', hex('00000100 00000009'));
  assert.equal(show({}, RAW, esp6), '2001:db8::1 > 2001:db8::2: esp spi 0x00000100 seq 9 len 8\n');
  const inner = fillTransport(ip4(17, A, B, udp(7, 7, hex(''))), 6).subarray(20);
  const ah = ip4(51, A, B, cat(hex('1104 0000 00001000 00000003 000000000000000000000000'), inner));
  assert.equal(show({}, RAW, ah), 'ah 192.0.2.1 > 198.51.100.2 spi 0x00001000 seq 3 len 32\n');
  assert.equal(show({ vflag: 1 }, RAW, ah), 'ah 192.0.2.1 > 198.51.100.2 spi 0x00001000 seq 3 len 32 [ 192.0.2.1.7 > 198.51.100.2.7: [udp sum ok] udp 0 ] (ttl 64, id 1, len 52)\n');
});
