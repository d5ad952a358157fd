import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { hex, toHex } from '../../src/wire/bytes.js';
import { WireCode, WireError, isWireError } from '../../src/wire/error.js';
import { ESP_HDRLEN, EspPacket, emitEsp, espReprLength, parseEsp, type EspRepr } from '../../src/wire/esp.js';

// Built by hand: IPv4 192.0.2.1 -> 198.51.100.2 protocol 50, SPI 0x00001001,
// sequence 5, then 16 bytes of IV and ciphertext that cannot be read without keys.
const ESP_IP = hex(
  '4500 0030 0001 0000 4032 0000 c000 0201 c633 6402' +
    '0000 1001 0000 0005' +
    '0011 2233 4455 6677 8899 aabb ccdd eeff',
);

test('deconstruct an ESP header', () => {
  const e = new EspPacket(ESP_IP, 20, ESP_IP.length - 20);
  assert.equal(e.check(), WireCode.Ok);
  assert.equal(e.spi, 0x1001);
  assert.equal(e.seq, 5);
  assert.equal(e.headerLength, ESP_HDRLEN);
  assert.equal(e.payloadOffset, 28);
  assert.equal(e.payloadLength, 16);
});

test('setters write in place', () => {
  const b = new Uint8Array(8);
  const e = new EspPacket(b);
  e.spi = 0xdeadbeef;
  e.seq = 0xffffffff;
  assert.equal(toHex(b), 'deadbeefffffffff');
  assert.equal(e.spi, 0xdeadbeef);
  assert.equal(e.seq, 0xffffffff);
  assert.equal(e.wrap(ESP_IP, 20, 24).spi, 0x1001);
});

test('parse and emit byte for byte', () => {
  const r = parseEsp(ESP_IP, 20, ESP_IP.length - 20);
  assert.ok(!isWireError(r));
  assert.equal(r.spi, 0x1001);
  assert.equal(r.seq, 5);
  assert.equal(toHex(r.payload), '00112233445566778899aabbccddeeff');
  const out = new Uint8Array(espReprLength(r));
  assert.equal(emitEsp(r, out, 0), 24);
  assert.equal(toHex(out), toHex(ESP_IP, 20));
});

test('every truncation of the header is rejected', () => {
  for (let n = 0; n < ESP_HDRLEN; n++) {
    const e = parseEsp(ESP_IP, 20, n);
    assert.ok(e instanceof WireError && e.kind === 'truncated', `len ${n}`);
    assert.equal(new EspPacket(ESP_IP, 20, n).check(), WireCode.Truncated);
  }
  const r = parseEsp(ESP_IP, 20, ESP_HDRLEN);
  assert.ok(!isWireError(r) && r.payload.length === 0);
});

test('property: random bytes never throw; parse(emit(repr)) round-trips', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 24 }), fc.nat(24), (b, l) => {
      parseEsp(b, 0, Math.min(l, b.length));
    }),
  );
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.uint8Array({ maxLength: 48 }), (spi, seq, payload) => {
      const repr: EspRepr = { spi, seq, payload };
      const buf = new Uint8Array(espReprLength(repr));
      emitEsp(repr, buf, 0);
      assert.deepEqual(parseEsp(buf, 0, buf.length), repr);
    }),
  );
});
