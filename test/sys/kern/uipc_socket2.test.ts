import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Sockbuf } from '../../../src/sys/kern/uipc_socket2.js';
import { sum16Bytes } from '../../../src/wire/checksum.js';

test('property: Sockbuf.sum16 equals the sum of the bytes copied out, across the ring wrap and odd splits', () => {
  fc.assert(
    fc.property(fc.nat(999), fc.nat(9000), fc.nat(3000), fc.nat(3000), fc.nat(255), (drop, fill, o, l, seed) => {
      const sb = new Sockbuf();
      sb.sbreserve(64 * 1024);
      const src = new Uint8Array(20000);
      for (let i = 0; i < src.length; i++) src[i] = (i * 31 + seed) & 0xff;
      // A 16 KiB ring whose head sits near its end: what follows wraps at a varying point.
      sb.sbappendstream(src, 0, 16000);
      sb.sbdrop(15000 + (drop % 1000));
      sb.sbappendstream(src, 100, 100 + (fill % 9000));
      const cc = sb.sb_datacc;
      const off = o % cc;
      const len = Math.min(l, cc - off);
      const out = new Uint8Array(len);
      sb.copyout(off, out, 0, len);
      assert.equal(sb.sum16(off, len), sum16Bytes(out, 0, len));
    }),
    { numRuns: 500 },
  );
});
