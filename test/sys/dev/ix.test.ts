import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pair, frame } from './helpers.js';
import { if_enqueue } from '../../../src/sys/net/if.js';
import { rss_hash } from '../../../src/sys/dev/ix.js';
import { M_FLOWID } from '../../../src/sys/kern/uipc_mbuf.js';
import { kstat } from '../../../src/usr.bin/kstat/kstat.js';
import { StringOutput } from '../../../src/lib/io.js';

test('ix: four transmit rings, flows hashed onto them, oactives per ring', () => {
  const p = pair('ix');
  const ifp = p.na.ifp;
  assert.equal(ifp.if_ifqs.length, 4);
  assert.equal(ifp.if_iqs.length, 4);
  for (let i = 0; i < 4000; i++) if_enqueue(ifp, frame(p.a, 1514, i, true));
  for (const ifq of ifp.if_ifqs) {
    assert.equal(ifq.ifq_maxlen, 255);
    assert.equal(ifq.ifq_len, 255, `txq ${ifq.ifq_idx} full`);
    assert.equal(ifq.ifq_oactive, true);
    assert.ok(ifq.ifq_qdrops > 0);
  }
  const out = new StringOutput();
  kstat(p.a, ['ix0::txq:2'], { stdout: out, stderr: out });
  assert.match(out.text(), /^ix0:0:txq:2\n(.*\n){4} {12}qlen: 255 packets\n {9}maxqlen: 255 packets\n {9}oactive: true\n {8}oactives: 1\n$/);
  p.world.runUntilIdle();
  for (const ifq of ifp.if_ifqs) {
    assert.equal(ifq.ifq_len, 0);
    assert.ok(ifq.ifq_oactives > 1);
  }
  const sent = ifp.if_ifqs.reduce((s, q) => s + q.ifq_packets, 0);
  assert.equal(p.received.length, sent);
  // The receiver spread the flows over its four rings by RSS hash.
  for (const iq of p.nb.ifp.if_iqs) assert.ok(iq.ifiq_packets > 0, `rxq ${iq.ifiq_idx} got packets`);
});

test('ix: RSS hash is symmetric and stored as the flow id', () => {
  const p = pair('ix');
  const m = frame(p.a, 100, 7);
  const h = rss_hash(m.buf, m.off, m.len);
  // Swap addresses and ports: the reply of the same flow.
  const b = m.buf;
  const o = m.off;
  const tmp = b.slice(o + 26, o + 30);
  b.copyWithin(o + 26, o + 30, o + 34);
  b.set(tmp, o + 30);
  const sp = b.slice(o + 34, o + 36);
  b.copyWithin(o + 34, o + 36, o + 38);
  b.set(sp, o + 36);
  assert.equal(rss_hash(b, o, m.len), h);
  m.free();
  let flowid = -1;
  let flags = 0;
  p.nb.ifp.if_input = (_i, x) => {
    flowid = x.ph_flowid;
    flags = x.csum_flags;
    x.free();
  };
  if_enqueue(p.na.ifp, frame(p.a, 100, 7));
  p.world.runUntilIdle();
  assert.equal(flowid, h & 0xffff);
  assert.ok(flags & M_FLOWID);
});

test('ix: dmesg attach line as OpenBSD prints it', () => {
  const p = pair('ix');
  assert.deepEqual(p.a.msgbuf, ['ix0 at pci1 dev 0 function 0 "Intel X550T" rev 0x01, msix, 4 queues, address 02:00:00:00:00:0a']);
});

test('ix: the flow id of every frame is its own RSS hash, runs of one flow and changes of flow, fragment or protocol alike', () => {
  const p = pair('ix');
  const got: number[] = [];
  p.nb.ifp.if_input = (_i, x) => {
    got.push(x.ph_flowid);
    x.free();
  };
  const want: number[] = [];
  // [flow (source port), fragment offset, protocol]
  const plan: Array<[number, number, number]> = [
    [1, 0, 17], [1, 0, 17], [1, 0, 17], [2, 0, 17], [1, 0, 17], [1, 1, 17], [1, 0, 17],
    [1, 0, 1], [1, 0, 17], [1, 0, 6], [3, 0, 6], [3, 0x2000, 6], [3, 0, 6],
  ];
  for (const [flow, frag, proto] of plan) {
    const m = frame(p.a, 100, flow);
    m.buf[m.off + 20] = frag >> 8;
    m.buf[m.off + 21] = frag & 0xff;
    m.buf[m.off + 23] = proto;
    want.push(rss_hash(m.buf, m.off, m.len) & 0xffff);
    if_enqueue(p.na.ifp, m);
    p.world.runUntilIdle();
  }
  assert.deepEqual(got, want);
  // The fragment (offset 1) hashes without its ports: another hash than its flow's.
  assert.notEqual(want[5], want[4]);
});
