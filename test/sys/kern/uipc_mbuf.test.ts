import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAXMCLBYTES,
  MCLBYTES,
  M_BCAST,
  M_EOR,
  M_IPV4_CSUM_IN_OK,
  M_PKTHDR,
  M_ZEROIZE,
  MbufList,
  MbufPool,
  type Mbuf,
} from '../../../src/sys/kern/uipc_mbuf.js';

function fill(m: Mbuf, bytes: number[]): void {
  assert.ok(m.setBytes(Uint8Array.from(bytes)));
}

test('a new packet is empty with headroom and a fresh header', () => {
  const pool = new MbufPool({ headroom: 64 });
  const m = pool.get()!;
  assert.equal(m.len, 0);
  assert.equal(m.off, 64);
  assert.equal(m.leadingSpace, 64);
  assert.equal(m.trailingSpace, MCLBYTES - 64);
  assert.equal(m.m_flags, M_PKTHDR);
  assert.equal(m.trace, null);
  assert.equal(m.pf_statekey, -1);
  assert.equal(pool.cluster.nout, 1);
});

test('prepend in place, then adj from the front and back', () => {
  const pool = new MbufPool({ headroom: 32 });
  const m = pool.get()!;
  fill(m, [1, 2, 3, 4]);
  const buf = m.buf;
  assert.ok(m.prepend(2));
  m.buf[m.off] = 0xaa;
  m.buf[m.off + 1] = 0xbb;
  assert.equal(m.buf, buf); // in place
  assert.equal(m.off, 30);
  assert.deepEqual([...m.bytes()], [0xaa, 0xbb, 1, 2, 3, 4]);
  m.adj(1);
  assert.deepEqual([...m.bytes()], [0xbb, 1, 2, 3, 4]);
  m.adj(-2);
  assert.deepEqual([...m.bytes()], [0xbb, 1, 2]);
  m.truncate(1);
  assert.deepEqual([...m.bytes()], [0xbb]);
  m.adj(10);
  assert.equal(m.len, 0);
  m.adj(-10);
  assert.equal(m.len, 0);
  assert.ok(m.pullup(0));
  assert.equal(m.pullup(1), false);
});

test('prepend past the headroom moves the data within the buffer', () => {
  const pool = new MbufPool({ headroom: 8 });
  const m = pool.get()!;
  fill(m, [9, 8, 7]);
  assert.ok(m.prepend(20));
  assert.equal(m.len, 23);
  assert.equal(m.leadingSpace, 8); // the usual headroom again
  assert.deepEqual([...m.bytes().subarray(20)], [9, 8, 7]);
  assert.equal(pool.large.nout, 0);
});

test('append, copydata and copyback', () => {
  const pool = new MbufPool();
  const m = pool.get()!;
  fill(m, [1, 2]);
  assert.ok(m.append(3));
  m.copyback(2, Uint8Array.from([3, 4, 5]));
  const out = new Uint8Array(6);
  m.copydata(1, 4, out, 2);
  assert.deepEqual([...out], [0, 0, 2, 3, 4, 5]);
});

test('a packet that outgrows its cluster moves to a large buffer, up to 64 KiB', () => {
  const pool = new MbufPool();
  const m = pool.get()!;
  fill(m, [1, 2, 3]);
  assert.ok(m.append(4000));
  assert.equal(m.len, 4003);
  assert.equal(m.cls, 1);
  assert.deepEqual([...m.bytes().subarray(0, 3)], [1, 2, 3]);
  assert.equal(pool.cluster.nout, 0);
  assert.equal(pool.large.nout, 1);
  assert.ok(m.prepend(14));
  assert.ok(m.append(MAXMCLBYTES - m.len)); // a full 64 KiB datagram
  assert.equal(m.len, MAXMCLBYTES);
  assert.equal(m.append(1), false); // past MAXMCLBYTES
  assert.equal(m.len, MAXMCLBYTES);
  m.free();
  assert.equal(pool.inUse, 0);
  const big = pool.get(60000)!;
  assert.equal(big.cls, 1);
  assert.ok(big.trailingSpace >= 60000);
  big.free();
  assert.equal(pool.get(MAXMCLBYTES + 1), null);
});

test('the pool reuses packets: steady-state get/free does not grow it', () => {
  const pool = new MbufPool({ prealloc: 4 });
  assert.equal(pool.allocated, 4);
  const list = new MbufList();
  for (let round = 0; round < 1000; round++) {
    for (let i = 0; i < 8; i++) list.enqueue(pool.get(1500)!);
    // Some packets grow past a cluster (reassembly, jumbo) and come back.
    list.head!.append(3000);
    list.purge();
  }
  assert.equal(pool.cluster.nalloc, 8);
  assert.equal(pool.large.nalloc, 1);
  assert.equal(pool.inUse, 0);
  assert.equal(pool.cluster.hiwat, 8);
  assert.equal(pool.cluster.nget, pool.cluster.nput + 1000); // 1000 moved to large
  assert.equal(pool.drops, 0);
});

test('an exhausted pool fails the get and counts a drop', () => {
  const pool = new MbufPool({ limit: 2, largeLimit: 1 });
  const a = pool.get()!;
  const b = pool.get()!;
  assert.equal(pool.get(), null);
  assert.equal(pool.cluster.nfail, 1);
  assert.equal(pool.drops, 1);
  const l = pool.get(5000)!;
  assert.ok(l);
  assert.equal(pool.get(5000), null);
  // Growing a cluster packet needs a large buffer too.
  assert.equal(a.append(4000), false);
  assert.equal(a.len, 0);
  assert.equal(pool.drops, 3);
  b.free();
  assert.throws(() => b.free(), /already free/);
  assert.equal(pool.get(), b); // reused
  assert.throws(() => new MbufPool().free(a), /another pool/);
  l.free();
  a.free();
});

test('dup copies bytes and header; free clears links and zeroizes on request', () => {
  const pool = new MbufPool();
  const m = pool.get()!;
  fill(m, [0xde, 0xad]);
  m.m_flags |= M_BCAST | M_EOR;
  m.ph_ifidx = 3;
  m.ph_rtableid = 1;
  m.csum_flags = M_IPV4_CSUM_IN_OK;
  m.ether_vtag = 100;
  m.ph_flowid = 0x1234;
  const key = 7;
  m.pf_statekey = key;
  m.trace = {};
  const d = m.dup()!;
  assert.notEqual(d.buf, m.buf);
  assert.deepEqual([...d.bytes()], [0xde, 0xad]);
  assert.equal(d.m_flags, M_PKTHDR | M_BCAST | M_EOR);
  assert.equal(d.ph_ifidx, 3);
  assert.equal(d.ph_rtableid, 1);
  assert.equal(d.csum_flags, M_IPV4_CSUM_IN_OK);
  assert.equal(d.ether_vtag, 100);
  assert.equal(d.ph_flowid, 0x1234);
  assert.equal(d.pf_statekey, key);
  assert.equal(d.trace, null);
  d.m_flags |= M_ZEROIZE;
  const dbuf = d.buf;
  const at = d.off;
  d.free();
  assert.equal(dbuf[at], 0);
  m.free();
  assert.equal(m.pf_statekey, -1);
  assert.equal(m.trace, null);
  // A reused packet has a fresh header.
  const r = pool.get()!;
  assert.equal(r.ph_ifidx, 0);
  assert.equal(r.m_flags, M_PKTHDR);
});

test('mbuf_list is a FIFO through m_nextpkt', () => {
  const pool = new MbufPool();
  const ml = new MbufList();
  assert.ok(ml.empty);
  const ms = [pool.get()!, pool.get()!, pool.get()!];
  for (const m of ms) ml.enqueue(m);
  assert.equal(ml.len, 3);
  assert.equal(ml.dequeue(), ms[0]);
  assert.equal(ms[0]!.m_nextpkt, null);
  assert.equal(ml.purge(), 2);
  assert.ok(ml.empty);
  assert.equal(ml.dequeue(), null);
  ms[0]!.free();
  assert.equal(pool.inUse, 0);
});

test('resethdr (m_resethdr): the same bytes as a new packet; length, loop count and the storage flags stay, the rest of the header and pf\'s links go', () => {
  const pool = new MbufPool({ headroom: 32 });
  const m = pool.get()!;
  fill(m, [1, 2, 3, 4, 5]);
  m.m_flags |= M_BCAST | M_EOR | M_ZEROIZE;
  m.csum_flags = M_IPV4_CSUM_IN_OK;
  m.ph_ifidx = 3;
  m.ph_rtableid = 2;
  m.ph_loopcnt = 4;
  m.ether_vtag = 7;
  m.pf_statekey = 12;
  m.pf_tag = 5;
  m.pf_flags = 1;
  m.pf_prio = 6;
  m.pf_ftag = { maxlen: 1280 } as unknown as Mbuf['pf_ftag'];
  const off = m.off;
  m.resethdr();
  assert.deepEqual([...m.buf.subarray(m.off, m.off + m.len)], [1, 2, 3, 4, 5]);
  assert.equal(m.off, off);
  assert.equal(m.m_flags, M_PKTHDR | M_EOR | M_ZEROIZE);
  assert.equal(m.ph_loopcnt, 4);
  assert.deepEqual([m.csum_flags, m.ph_ifidx, m.ph_rtableid, m.ether_vtag, m.pf_statekey, m.pf_tag, m.pf_flags, m.pf_prio, m.pf_ftag],
    [0, 0, 0, 0, -1, 0, 0, 3, null]);
  m.free();
});
