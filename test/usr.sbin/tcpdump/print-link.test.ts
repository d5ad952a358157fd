/**
 * Link layers, timestamps and dumps: print.ts, print-ether.c/print-llc.c
 * (Ethernet, 802.1Q, 802.3 LLC, unknown types), print-arp.c,
 * print-null.c (DLT_NULL, DLT_LOOP), print-raw.c, util.c ts_print and
 * tcpdump.c default_print (-x, -X, -A).
 */
process.env.TZ = 'UTC';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutBuf, StringSink } from '../../../src/usr.sbin/tcpdump/outbuf.js';
import { PrintState, printPacket } from '../../../src/usr.sbin/tcpdump/print.js';
import { cat, eth, hex, icmp, ip4, ip6, show, MAC_A, MAC_B } from './print-build.js';

const ping = ip4(1, '192.0.2.1', '198.51.100.2', icmp(8, 0, hex('c52b 0000 6162')), { id: 7 });

test('ethernet with and without -e; -e under -n prints the type in hex', () => {
  assert.equal(show({}, 1, eth(0x0800, ping)), '192.0.2.1 > 198.51.100.2: icmp: echo request\n');
  assert.equal(show({ eflag: true }, 1, eth(0x0800, ping)), `${MAC_A} ${MAC_B} 0800 44: 192.0.2.1 > 198.51.100.2: icmp: echo request\n`);
  // Without -n: the names of libpcap's table and the hardwired Broadcast.
  assert.equal(show({ eflag: true, nflag: false }, 1, eth(0x0800, ping, MAC_A, 'ff:ff:ff:ff:ff:ff')), `${MAC_A} Broadcast ip 44: 192.0.2.1 > 198.51.100.2: icmp: echo request\n`);
  // -q drops the type.
  assert.equal(show({ eflag: true, qflag: true }, 1, eth(0x0800, ping)), `${MAC_A} ${MAC_B} 44: 192.0.2.1 > 198.51.100.2: icmp: 8 0\n`);
});

test('short ethernet frames', () => {
  assert.equal(show({}, 1, eth(0x0800, ping).subarray(0, 13)), '[|ether]\n');
  assert.equal(show({}, 1, eth(0x0800, ping).subarray(0, 14)), '[|ip]\n');
});

test('802.1Q and 802.1ad tags as OpenBSD prints them', () => {
  const tag = (tpid: number, tci: number, type: number) => hex(`${tpid.toString(16)} ${tci.toString(16).padStart(4, '0')} ${type.toString(16).padStart(4, '0')}`);
  const f = cat(eth(0x8100, tag(0x8100, 0x602a, 0x0800).subarray(2)), ping);
  assert.equal(show({}, 1, f), '802.1Q vid 42 pri 3 192.0.2.1 > 198.51.100.2: icmp: echo request\n');
  // Priorities 0 and 1 are swapped (802.1Q's "best effort" order), DEI is shown.
  const g = cat(eth(0x8100, tag(0x8100, 0x3007, 0x0800).subarray(2)), ping);
  assert.equal(show({}, 1, g), '802.1Q vid 7 pri 0 dei 192.0.2.1 > 198.51.100.2: icmp: echo request\n');
  const q = cat(eth(0x88a8, hex('0064 8100 002a 0800')), ping);
  assert.equal(show({}, 1, q), 'QinQ svid 100 pri 1 802.1Q vid 42 pri 1 192.0.2.1 > 198.51.100.2: icmp: echo request\n');
  assert.equal(show({}, 1, eth(0x8100, hex('00'))), '802.1Q [|vlan]\n');
});

test('unknown ether type: the header, then the payload in hex', () => {
  const f = eth(0x88b5, hex('0102 0304 0506 07'));
  assert.equal(show({}, 1, f), `${MAC_A} ${MAC_B} 88b5 21: \n\t\t\t 0102 0304 0506 07\n`);
  // With -e the header is printed once and the dump covers the whole frame.
  assert.equal(
    show({ eflag: true }, 1, f),
    `${MAC_A} ${MAC_B} 88b5 21: \n\t\t\t 0200 0000 0002 0200 0000 0001 88b5 0102\n\t\t\t 0304 0506 07\n`,
  );
});

test('802.3 frames go through LLC', () => {
  // Novell-style SAP e0, UI command, 4 bytes of data: 3 + 4 = 7 bytes of LLC payload.
  const f = eth(7, hex('e0e0 03 01020304'));
  assert.equal(show({}, 1, f), `${MAC_A} > ${MAC_B} sap e0 ui/C len=4\n`);
  assert.equal(show({ eflag: true }, 1, f), `${MAC_A} ${MAC_B} 0007 21: sap e0 ui/C len=4\n`);
  // SNAP carrying IPv4.
  const s = eth(8 + ping.length, cat(hex('aaaa 03 000000 0800'), ping));
  assert.equal(show({}, 1, s), '192.0.2.1 > 198.51.100.2: icmp: echo request\n');
  // I-format control field.
  assert.equal(show({}, 1, eth(8, hex('0404 0a0b 0102 0304'))), `${MAC_A} > ${MAC_B} sap 04 I (s=5,r=5,C) len=4\n`);
});

test('ARP, with hardware addresses that differ from the link header in parentheses', () => {
  const arp = (op: number, sha: string, spa: string, tha: string, tpa: string) =>
    hex(`0001 0800 06 04 000${op} ${sha} ${spa} ${tha} ${tpa}`);
  const req = eth(0x0806, arp(1, '020000000001', 'c0000201', '000000000000', 'c00002fe'), MAC_A, 'ff:ff:ff:ff:ff:ff');
  assert.equal(show({}, 1, req), 'arp who-has 192.0.2.254 tell 192.0.2.1\n');
  const req2 = eth(0x0806, arp(1, '020000000009', 'c0000201', '020000000008', 'c00002fe'), MAC_A, 'ff:ff:ff:ff:ff:ff');
  assert.equal(show({}, 1, req2), 'arp who-has 192.0.2.254 (02:00:00:00:00:08) tell 192.0.2.1 (02:00:00:00:00:09)\n');
  const rep = eth(0x0806, arp(2, '020000000002', 'c00002fe', '020000000001', 'c0000201'), MAC_B, MAC_A);
  assert.equal(show({}, 1, rep), 'arp reply 192.0.2.254 is-at 02:00:00:00:00:02\n');
  const rep2 = eth(0x0806, arp(2, '020000000009', 'c00002fe', '020000000007', 'c0000201'), MAC_B, MAC_A);
  assert.equal(show({}, 1, rep2), 'arp reply 192.0.2.254 (02:00:00:00:00:09) is-at 02:00:00:00:00:09 (02:00:00:00:00:07)\n');
  const rarp = eth(0x8035, arp(3, '020000000001', '00000000', '020000000001', '00000000'));
  assert.equal(show({}, 1, rarp), 'rarp who-is 02:00:00:00:00:01 tell 02:00:00:00:00:01\n');
  const odd = eth(0x0806, hex('0006 86dd 10 10 0001').subarray(0, 8), MAC_A);
  assert.equal(show({}, 1, odd), '[|arp]\n');
  const other = eth(0x0806, hex('0006 86dd 10 10 0001 00000000000000000000000000000000000000000000'));
  assert.equal(show({}, 1, other), 'arp-#1 for proto #34525 (16) hardware #6 (16)\n');
});

test('DLT_NULL (host order), DLT_LOOP (network order), raw IP', () => {
  const v6 = ip6(58, '2001:db8::1', '2001:db8::2', icmp(128, 0, hex('0001 0002')));
  assert.equal(show({}, 0, cat(hex('02000000'), ping)), '192.0.2.1 > 198.51.100.2: icmp: echo request\n');
  assert.equal(show({}, 0, cat(hex('18000000'), v6)), '2001:db8::1 > 2001:db8::2: icmp6: echo request\n');
  assert.equal(show({}, 12, cat(hex('00000018'), v6)), '2001:db8::1 > 2001:db8::2: icmp6: echo request\n');
  assert.equal(show({}, 108, cat(hex('00000002'), ping)), '192.0.2.1 > 198.51.100.2: icmp: echo request\n');
  // -e adds the family only without -n.
  assert.equal(show({ eflag: true }, 0, cat(hex('02000000'), ping)), '192.0.2.1 > 198.51.100.2: icmp: echo request\n');
  assert.equal(show({ eflag: true, nflag: false }, 0, cat(hex('02000000'), ping)), 'ip: 192.0.2.1 > 198.51.100.2: icmp: echo request\n');
  assert.equal(show({ eflag: true, nflag: false }, 0, cat(hex('07000000'), ping)), 'AF 7: \n');
  assert.equal(show({}, 0, hex('0200')), '[|null]\n');
  for (const lt of [14, 101, 228, 229]) {
    assert.equal(show({}, lt, ping), '192.0.2.1 > 198.51.100.2: icmp: echo request\n');
    assert.equal(show({ eflag: true }, lt, v6), 'ip6: 2001:db8::1 > 2001:db8::2: icmp6: echo request\n');
  }
  assert.equal(show({ eflag: true }, 101, hex('50')), 'v5: \n');
});

test('timestamps: local time, -t, -tt, -ttt, -tttt, -ttttt', () => {
  const f = eth(0x0800, ping);
  const run = (tflag: number, thiszone = 0) => {
    const sink = new StringSink();
    const out = new OutBuf(sink.sink);
    const st = new PrintState({ tflag, thiszone });
    printPacket(out, st, 1, 1700000000, 123456789, f, 0, f.length, f.length);
    printPacket(out, st, 1, 1700000002, 5000, f, 0, f.length, f.length);
    out.flush();
    return sink.text().split('\n').slice(0, 2).map((l) => l.slice(0, l.indexOf('192.0.2.1')));
  };
  assert.deepEqual(run(1), ['22:13:20.123456 ', '22:13:22.000005 ']);
  assert.deepEqual(run(1, 3600), ['23:13:20.123456 ', '23:13:22.000005 ']);
  assert.deepEqual(run(1, 7200), ['00:13:20.123456 ', '00:13:22.000005 ']);
  assert.deepEqual(run(0), ['', '']);
  assert.deepEqual(run(-1), ['1700000000.123456 ', '1700000002.000005 ']);
  assert.deepEqual(run(-2), ['Nov 14 22:13:20.123456 ', 'Nov 14 22:13:22.000005 ']);
  // Deltas start from zero, as the C code's "last" starts unset.
  assert.deepEqual(run(-3), ['1700000000.123456 ', '1.876549 ']);
  assert.deepEqual(run(-4), ['1700000000.123456 ', '1.876549 ']);
});

test('-x, -X and -A dumps', () => {
  const f = eth(0x0800, ping);
  assert.equal(
    show({ xflag: true }, 1, f),
    '192.0.2.1 > 198.51.100.2: icmp: echo request\n' +
      '\t\t\t 4500 001e 0007 0000 4001 8ea1 c000 0201\n' +
      '\t\t\t c633 6402 0800 d171 c52b 0000 6162\n',
  );
  assert.equal(
    show({ Xflag: true }, 1, f),
    '192.0.2.1 > 198.51.100.2: icmp: echo request\n' +
      '  0000: 4500 001e 0007 0000 4001 8ea1 c000 0201  E.......@.......\n' +
      '  0010: c633 6402 0800 d171 c52b 0000 6162       .3d....q.+..ab\n' +
      '\n',
  );
  assert.equal(show({ Aflag: true }, 1, f).split('\n')[1], 'E.......@........3d....q.+..ab');
  // -e -x dumps the link header too.
  assert.ok(show({ eflag: true, xflag: true }, 1, f).includes('\n\t\t\t 0200 0000 0002 0200 0000 0001 0800 4500\n'));
});

test('output longer than the buffer goes to the sink in pieces, in order', () => {
  const f = eth(0x0800, ping);
  const sink = new StringSink();
  const out = new OutBuf(sink.sink, 128);
  const st = new PrintState({ Xflag: true, thiszone: 0 });
  for (let i = 0; i < 50; i++) printPacket(out, st, 1, 1, 0, f, 0, f.length, f.length);
  out.flush();
  const one = show({ Xflag: true, tflag: 1 }, 1, f);
  assert.equal(sink.text(), one.replace('00:00:01.000000', '00:00:01.000000').repeat(50));
});
