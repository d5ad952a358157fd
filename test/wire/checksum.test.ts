import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { adjust16, adjust32, checksum, pseudoSum4, pseudoSum6, sum16, sum16Bytes, sum16Copy, SUM16_SIMD } from '../../src/wire/checksum.js';
import { hex } from '../../src/wire/bytes.js';
import { parseIp6 } from '../../src/wire/addr.js';

// An IPv4 header sent by Linux (ping 192.0.2.2 from 192.0.2.1), checksum field zeroed.
const IP_HDR = hex('4500 0054 4c4e 4000 4001 0000 c000 0201 c000 0202');

test('IPv4 header checksum over a header with the field zeroed', () => {
  const c = checksum(IP_HDR, 0, 20);
  const h = IP_HDR.slice();
  h[10] = c >> 8;
  h[11] = c & 0xff;
  assert.equal(sum16(h, 0, 20), 0xffff, 'a header with its checksum sums to all ones');
  assert.equal(c, 0x6a57); // computed independently with Python
});

test('RFC 1071 worked example: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2', () => {
  assert.equal(sum16(hex('0001f203f4f5f6f7'), 0, 8), 0xddf2);
});

test('odd length pads the last byte with zero', () => {
  assert.equal(sum16(hex('0102 03'), 0, 3), 0x0102 + 0x0300);
});

test('UDP checksum with the IPv4 pseudo-header matches a known datagram', () => {
  // 192.0.2.1:40000 -> 198.51.100.2:9, payload "discard"; sum computed by hand with the pseudo-header.
  const udp = hex('9c40 0009 000f 0000 6469 7363 6172 64');
  const ph = pseudoSum4(0xc0000201, 0xc6336402, 17, udp.length);
  const c = checksum(udp, 0, udp.length, ph);
  udp[6] = c >> 8;
  udp[7] = c & 0xff;
  assert.equal(sum16(udp, 0, udp.length, ph), 0xffff);
});

test('IPv6 pseudo-header sum counts both addresses, length and next header', () => {
  const b = new Uint8Array(32);
  b.set(parseIp6('2001:db8::1')!, 0);
  b.set(parseIp6('2001:db8::2')!, 16);
  const s = pseudoSum6(b, 0, 16, 58, 8);
  // 0x2001*2 + 0x0db8*2 + 1 + 2 + 58 + 8, folded
  let want = 0x2001 * 2 + 0x0db8 * 2 + 1 + 2 + 58 + 8;
  while (want > 0xffff) want = (want & 0xffff) + (want >>> 16);
  assert.equal(s, want);
});

test('RFC 1624 incremental update equals a full recomputation (TTL decrement)', () => {
  const h = IP_HDR.slice();
  const c0 = checksum(h, 0, 20);
  h[10] = c0 >> 8;
  h[11] = c0 & 0xff;
  const oldWord = (h[8] << 8) | h[9];
  h[8]--; // TTL 64 -> 63
  const newWord = (h[8] << 8) | h[9];
  const inc = adjust16(c0, oldWord, newWord);
  h[10] = 0;
  h[11] = 0;
  assert.equal(inc, checksum(h, 0, 20));
});

test('property: incremental updates of a word or an address equal recomputation', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.nat(9), fc.nat(0xffff), fc.nat(0xffffffff), (raw, wi, nw, na) => {
      const b = raw.slice();
      b[10] = 0;
      b[11] = 0;
      const c0 = checksum(b, 0, 20);
      const w = wi === 5 ? 4 : wi; // never the checksum word itself
      const old = (b[2 * w] << 8) | b[2 * w + 1];
      b[2 * w] = nw >> 8;
      b[2 * w + 1] = nw & 0xff;
      const full = checksum(b, 0, 20);
      const inc = adjust16(c0, old, nw);
      // One's complement has two zeros; compare the sums they produce.
      assert.equal(sum16(b, 0, 20, (~inc & 0xffff)) % 0xffff, sum16(b, 0, 20, (~full & 0xffff)) % 0xffff);
      const oldA = ((b[12] << 24) | (b[13] << 16) | (b[14] << 8) | b[15]) >>> 0;
      const c1 = full;
      b[12] = na >>> 24; b[13] = (na >>> 16) & 0xff; b[14] = (na >>> 8) & 0xff; b[15] = na & 0xff;
      const inc2 = adjust32(c1, oldA, na);
      const full2 = checksum(b, 0, 20);
      assert.equal(inc2 % 0xffff, full2 % 0xffff);
    }),
  );
});

/** RFC 1071 read literally: 16-bit big-endian words, end-around carry after each. */
function refSum(b: Uint8Array, off: number, len: number, initial: number): number {
  let s = initial;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  for (let i = 0; i < len; i += 2) {
    s += (b[off + i]! << 8) | (i + 1 < len ? b[off + i + 1]! : 0);
    if (s > 0xffff) s = (s & 0xffff) + 1;
  }
  return s;
}

test('property: the 32-bit word path equals the byte-at-a-time reference at any length, offset and view', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.nat(7), fc.nat(3000), fc.nat(3000), fc.nat(0x1ffff),
      (raw, viewOff, o, l, initial) => {
        // A view at an arbitrary byte offset of its buffer: word alignment differs from packet alignment.
        const buf = new Uint8Array(raw.length + 8);
        buf.set(raw, viewOff);
        const b = buf.subarray(viewOff, viewOff + raw.length);
        const off = raw.length === 0 ? 0 : o % raw.length;
        const len = Math.min(l, raw.length - off);
        const want = refSum(b, off, len, initial);
        assert.equal(sum16(b, off, len, initial), want);
        assert.equal(sum16Bytes(b, off, len, initial), want);
      },
    ),
    { numRuns: 2000 },
  );
});

test('word path: all-ones and all-zero runs, carries across chunk folds', () => {
  const ones = new Uint8Array(70000).fill(0xff);
  for (const [off, len] of [[0, 70000], [1, 65535], [3, 1481], [2, 64]]) {
    assert.equal(sum16(ones, off!, len!), refSum(ones, off!, len!, 0));
  }
  const zeros = new Uint8Array(4096);
  assert.equal(sum16(zeros, 5, 3000), 0, 'zeros sum to +0, not 0xffff');
  assert.equal(sum16(zeros, 5, 3000, 0xffff), 0xffff);
});

test('vector path: Node has WebAssembly SIMD, so frames in clusters are summed by it', () => {
  assert.equal(SUM16_SIMD, true);
});

test('property: the vector path (a cluster-sized buffer, 256 bytes or more) equals the reference at every offset and length', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 2048, maxLength: 2048 }), fc.nat(8), fc.integer({ min: 0, max: 2047 }), fc.integer({ min: 256, max: 2048 }), fc.nat(0x3ffff),
      (raw, viewOff, o, l, initial) => {
        // A cluster seen through a view at an arbitrary offset of a larger buffer, as subarrays are.
        const buf = new Uint8Array(raw.length + 16);
        buf.set(raw, viewOff);
        const b = buf.subarray(viewOff, viewOff + raw.length);
        const len = Math.min(l, raw.length - o);
        assert.equal(sum16(b, o, len, initial), refSum(b, o, len, initial));
      },
    ),
    { numRuns: 3000 },
  );
  // Every residue of offset and length modulo the 64-byte step, on one buffer.
  const b = new Uint8Array(2048);
  for (let i = 0; i < b.length; i++) b[i] = (i * 151 + 17) & 0xff;
  for (let off = 0; off < 70; off++) {
    for (let len = 256; len < 256 + 130; len++) assert.equal(sum16(b, off, len), refSum(b, off, len, 0), `off ${off} len ${len}`);
    assert.equal(sum16(b, off, 1448), refSum(b, off, 1448, 0));
  }
});

test('vector path: the largest buffer it takes, all ones, does not overflow a lane; zeros sum to +0', () => {
  const ones = new Uint8Array(4096).fill(0xff);
  for (const [off, len] of [[0, 4096], [1, 4095], [3, 4093], [0, 256]]) assert.equal(sum16(ones, off!, len!), refSum(ones, off!, len!, 0));
  const zeros = new Uint8Array(2048);
  assert.equal(sum16(zeros, 7, 1500), 0);
  assert.equal(sum16(zeros, 7, 1500, 0x1fffe), 0xffff);
});

test('property: sum16Copy sums like the reference and copies exactly the bytes past skip, nothing else', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 4200 }), fc.nat(4200), fc.nat(4200), fc.nat(100), fc.nat(0x1ffff), fc.nat(64),
      (b, o, l, k, initial, dstOff) => {
        const off = o % b.length;
        const len = Math.min(l, b.length - off);
        const skip = Math.min(k, len);
        const dst = new Uint8Array(dstOff + len + 8).fill(0xa5);
        assert.equal(sum16Copy(b, off, len, initial, skip, dst, dstOff), refSum(b, off, len, initial));
        const want = new Uint8Array(dst.length).fill(0xa5);
        want.set(b.subarray(off + skip, off + len), dstOff);
        assert.deepEqual(dst, want);
      },
    ),
    { numRuns: 2000 },
  );
  // Frames of one size after another (the cached view), then another size and offset.
  const f = new Uint8Array(2048);
  const dst = new Uint8Array(4096);
  for (let r = 0; r < 3; r++) {
    for (const [off, len, skip] of [[98, 1480, 32], [98, 1480, 32], [86, 500, 20], [98, 1480, 32]]) {
      for (let i = 0; i < f.length; i++) f[i] = (i * 31 + r * 7 + len) & 0xff;
      assert.equal(sum16Copy(f, off!, len!, 0, skip!, dst, 100), refSum(f, off!, len!, 0));
      assert.deepEqual(dst.subarray(100, 100 + len! - skip!), f.subarray(off! + skip!, off! + len!));
    }
  }
});
