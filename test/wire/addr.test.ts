import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIp4, formatIp6, formatMac, maskFromLen4, parseIp4, parseIp6, parseMac } from '../../src/wire/addr.js';
import { hex } from '../../src/wire/bytes.js';

test('IPv4 text both ways', () => {
  assert.equal(formatIp4(0xc0000201), '192.0.2.1');
  assert.equal(parseIp4('198.51.100.255'), 0xc63364ff);
  assert.equal(parseIp4('256.1.1.1'), -1);
  assert.equal(parseIp4('1.2.3'), -1);
  assert.equal(maskFromLen4(24), 0xffffff00);
  assert.equal(maskFromLen4(0), 0);
  assert.equal(maskFromLen4(32), 0xffffffff);
});

test('IPv6 text as inet_ntop prints it', () => {
  const cases: Array<[string, string]> = [
    ['20010db8000000000000000000000001', '2001:db8::1'],
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['fe800000000000000000000000000001', 'fe80::1'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000000001000000000000', '2001:db8:0:0:1::'], // the longest run wins
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // the first of equal runs wins
    ['20010000000100000000000000000001', '2001:0:1::1'], // a single zero word is not compressed
    ['00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
    ['000000000000000000000000c0000201', '::192.0.2.1'],
    ['fdd7e83e66bc01000000000000000017', 'fdd7:e83e:66bc:100::17'],
  ];
  for (const [h, want] of cases) {
    assert.equal(formatIp6(hex(h), 0), want);
    assert.deepEqual(parseIp6(want), hex(h), want);
  }
  assert.equal(parseIp6('1:2:3'), null);
  assert.equal(parseIp6('1::2::3'), null);
  assert.deepEqual(parseIp6('fe80::1%em0'), hex('fe800000000000000000000000000001'));
});

test('property: IPv6 text round-trips', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      assert.deepEqual(parseIp6(formatIp6(b, 0)), b);
    }),
  );
});

test('MAC addresses print two digits per octet', () => {
  assert.equal(formatMac(hex('0cc47a78f355'), 0), '0c:c4:7a:78:f3:55');
  assert.deepEqual(parseMac('0:c4:7a:78:f3:55'), hex('00c47a78f355'));
  assert.equal(parseMac('0:c4:7a:78:f3'), null);
});
