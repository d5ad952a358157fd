import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Sockbuf } from '../../../src/sys/kern/uipc_socket2.js';
import { MbufPool, type Mbuf } from '../../../src/sys/kern/uipc_mbuf.js';
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

/**
 * A stream receive buffer fed packets (kept as they are, or copied into the
 * ring) against one fed the same bytes through the ring alone: the same
 * bytes at every offset, the same accounting after every step, and every
 * kept packet back in its pool at the end.
 */
test('property: a receive buffer that keeps packets reads, peeks, drops and accounts as the ring does', () => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('pkt' as const), n: fc.integer({ min: 0, max: 3000 }), big: fc.boolean() }),
    fc.record({ k: fc.constant('read' as const), n: fc.nat(9000), peek: fc.boolean() }),
    fc.record({ k: fc.constant('copy' as const), o: fc.nat(20000), n: fc.nat(5000) }),
    fc.record({ k: fc.constant('drop' as const), n: fc.nat(4000) }),
    fc.record({ k: fc.constant('bytes' as const), n: fc.nat(2000) }),
    fc.record({ k: fc.constant('sum' as const), o: fc.nat(20000), n: fc.nat(3000) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), fc.boolean(), (ops, flushAtEnd) => {
      const pool = new MbufPool({ headroom: 32, limit: 64, largeLimit: 8 });
      const kept = new Sockbuf();
      const ring = new Sockbuf();
      kept.sbreserve(256 * 1024);
      ring.sbreserve(256 * 1024);
      let seq = 0;
      const next = (n: number): Uint8Array => {
        const b = new Uint8Array(n);
        for (let i = 0; i < n; i++) b[i] = (seq++ * 13 + (seq >> 8)) & 0xff;
        return b;
      };
      for (const o of ops) {
        if (o.k === 'pkt') {
          const data = next(o.n);
          // A large-class packet (LRO) or a cluster, the data past some headers, as tcp_input leaves it.
          const m = pool.get(o.big ? 4096 : 100);
          if (m === null) continue;
          m.append(40 + data.length);
          m.buf.set(data, m.off + 40);
          m.adj(40);
          kept.sbappendstream_m(m);
          ring.sbappendstream(data, 0, data.length);
        } else if (o.k === 'read') {
          const a = new Uint8Array(o.n);
          const b = new Uint8Array(o.n);
          assert.equal(kept.read(a, 0, o.n, o.peek), ring.read(b, 0, o.n, o.peek));
          assert.deepEqual(a, b);
        } else if (o.k === 'copy' || o.k === 'sum') {
          const cc = ring.sb_datacc;
          if (cc === 0) continue;
          const off = o.o % cc;
          const len = Math.min(o.n, cc - off);
          if (o.k === 'sum') {
            assert.equal(kept.sum16(off, len), ring.sum16(off, len));
            continue;
          }
          const a = new Uint8Array(len + 3);
          const b = new Uint8Array(len + 3);
          kept.copyout(off, a, 3, len);
          ring.copyout(off, b, 3, len);
          assert.deepEqual(a, b);
        } else if (o.k === 'drop') {
          kept.sbdrop(o.n);
          ring.sbdrop(o.n);
        } else {
          const data = next(o.n);
          kept.sbappendstream(data, 0, data.length);
          ring.sbappendstream(data, 0, data.length);
        }
        assert.deepEqual([kept.sb_cc, kept.sb_datacc, kept.sb_mbcnt, kept.sbspace()], [ring.sb_cc, ring.sb_datacc, ring.sb_mbcnt, ring.sbspace()]);
      }
      const all = new Uint8Array(ring.sb_datacc);
      const got = new Uint8Array(kept.sb_datacc);
      kept.copyout(0, got, 0, got.length);
      ring.copyout(0, all, 0, all.length);
      assert.deepEqual(got, all);
      if (flushAtEnd) kept.sbflush();
      else kept.sbdrop(kept.sb_datacc);
      assert.equal(kept.sb_cc, 0);
      assert.equal(pool.inUse, 0, 'every packet back in the pool');
    }),
    { numRuns: 400 },
  );
});

test('a receive buffer keeps a few packets only, and none of a class short of buffers', () => {
  const pool = new MbufPool({ headroom: 32, largeLimit: 4 });
  const sb = new Sockbuf();
  sb.sbreserve(256 * 1024);
  const pkt = (n: number, size: number): void => {
    const m = pool.get(size)!;
    m.append(n);
    m.buf.fill(n & 0xff, m.off, m.off + n);
    sb.sbappendstream_m(m);
  };
  // Kept: an empty buffer, a full-sized segment; then up to four in all.
  for (let i = 0; i < 4; i++) pkt(1448, 100);
  assert.equal(pool.cluster.nout, 4);
  // The fifth: all of it into the ring, every packet freed.
  pkt(1448, 100);
  assert.equal(pool.cluster.nout, 0);
  assert.equal(sb.sb_datacc, 5 * 1448);
  sb.sbdrop(sb.sb_datacc);
  // A small packet into an empty buffer is copied.
  pkt(100, 100);
  assert.equal(pool.cluster.nout, 0);
  sb.sbdrop(100);
  // Large packets: the first two are kept (half of the class's four), then not while two are out.
  const big: Mbuf[] = [pool.get(4000)!, pool.get(4000)!];
  pkt(3000, 4000);
  assert.equal(pool.large.nout, 2, 'not kept: the class has no more than half to spare');
  for (const m of big) m.free();
  sb.sbdrop(3000);
  pkt(3000, 4000);
  assert.equal(pool.large.nout, 1, 'kept');
  const out = new Uint8Array(3000);
  assert.equal(sb.read(out, 0, 3000), 3000);
  assert.equal(pool.large.nout, 0);
  assert.ok(out.every((x) => x === (3000 & 0xff)));
});
