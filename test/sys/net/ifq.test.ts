import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { MbufList, type Mbuf } from '../../../src/sys/kern/uipc_mbuf.js';
import { ENOBUFS } from '../../../src/sys/sys/errno.js';
import { Ifnet, IFT_ETHER, IFF_RUNNING, IFF_UP, if_enqueue, if_setflags_up } from '../../../src/sys/net/if.js';
import {
  IFQ_MAXLEN,
  ifq_enqueue,
  ifq_dequeue,
  ifq_init_maxlen,
  ifq_purge,
  ifiq_input,
  ifq_set_oactive,
  ifq_restart,
} from '../../../src/sys/net/ifq.js';
import { bpf_listen, bpf_detachd, BPF_DIRECTION_IN, BPF_FILDROP_DROP } from '../../../src/sys/net/bpf.js';

function setup(): { w: World; k: Kernel; ifp: Ifnet; got: number[] } {
  const w = new World();
  const k = new Kernel(w, { hostname: 'h' });
  const ifp = new Ifnet(k, 'em0', IFT_ETHER, new Uint8Array([2, 0, 0, 0, 0, 1]));
  const got: number[] = [];
  ifp.if_input = (_i, m) => {
    got.push(m.buf[m.off + 13]!);
    m.free();
  };
  return { w, k, ifp, got };
}

function pkt(k: Kernel, len: number, tag = 0, prio = 0): Mbuf {
  const m = k.mbufs.get(len)!;
  m.append(len);
  m.buf.fill(0, m.off, m.off + len);
  m.buf[m.off + 13] = tag;
  m.pf_prio = prio;
  return m;
}

test('ifq: default maxlen, enqueue counters, qdrops and ENOBUFS when full', () => {
  const { k, ifp } = setup();
  const ifq = ifp.if_snd;
  assert.equal(ifq.ifq_maxlen, IFQ_MAXLEN);
  ifq_init_maxlen(ifq, 4);
  for (let i = 0; i < 4; i++) assert.equal(ifq_enqueue(ifq, pkt(k, 100)), 0);
  assert.equal(ifq_enqueue(ifq, pkt(k, 100)), ENOBUFS);
  assert.equal(ifq.ifq_len, 4);
  assert.equal(ifq.ifq_packets, 4);
  assert.equal(ifq.ifq_bytes, 400);
  assert.equal(ifq.ifq_qdrops, 1);
  assert.equal(ifp.if_oqdrops, 1);
  assert.equal(k.mbufs.inUse, 4, 'the dropped packet went back to the pool');
  const kd = ifq.ifq_kstat.read();
  assert.deepEqual(
    kd.map((kv) => [kv.key, kv.value]),
    [
      ['packets', 4],
      ['bytes', 400],
      ['qdrops', 1],
      ['errors', 0],
      ['qlen', 4],
      ['maxqlen', 4],
      ['oactive', false],
      ['oactives', 0],
    ],
  );
  assert.equal(ifq_purge(ifq), 4);
  assert.equal(ifq.ifq_qdrops, 5);
  assert.equal(k.mbufs.inUse, 0);
});

test('ifq: priq drops a lower priority packet for a higher one and dequeues by priority', () => {
  const { k, ifp } = setup();
  const ifq = ifp.if_snd;
  ifq_init_maxlen(ifq, 2);
  ifq_enqueue(ifq, pkt(k, 60, 1, 0));
  ifq_enqueue(ifq, pkt(k, 60, 2, 3));
  assert.equal(ifq_enqueue(ifq, pkt(k, 60, 3, 6)), 0, 'prio 6 pushes out the prio 0 packet');
  assert.equal(ifq.ifq_qdrops, 1);
  assert.equal(ifq_enqueue(ifq, pkt(k, 60, 4, 0)), ENOBUFS, 'nothing lower than 0 to drop');
  const order: number[] = [];
  for (let m = ifq_dequeue(ifq); m !== null; m = ifq_dequeue(ifq)) {
    order.push(m.buf[m.off + 13]!);
    m.free();
  }
  assert.deepEqual(order, [3, 2]);
});

test('a packet starts at IFQ_DEFPRIO (3): it displaces a prio 0 packet from a full queue, and a prio 0 one cannot displace it', () => {
  const { k, ifp } = setup();
  const ifq = ifp.if_snd;
  const fresh = k.mbufs.get(60)!;
  assert.equal(fresh.pf_prio, 3);
  fresh.pf_prio = 0;
  fresh.free();
  assert.equal(k.mbufs.get(60)!.pf_prio, 3, 'a recycled mbuf starts at 3 again');
  ifq_init_maxlen(ifq, 1);
  const low = pkt(k, 60, 1, 0);
  ifq_enqueue(ifq, low);
  const dflt = k.mbufs.get(60)!;
  dflt.append(60);
  dflt.buf[dflt.off + 13] = 2;
  assert.equal(ifq_enqueue(ifq, dflt), 0);
  assert.equal(ifq_enqueue(ifq, pkt(k, 60, 3, 0)), ENOBUFS);
  const m = ifq_dequeue(ifq)!;
  assert.equal(m.buf[m.off + 13], 2);
  m.free();
});

test('ifq_start: bundles below if_txmit, starts at once above, never while OACTIVE or not RUNNING', () => {
  const { w, k, ifp } = setup();
  const starts: number[] = [];
  ifp.if_qstart = (ifq) => {
    starts.push(ifq.ifq_len);
    for (let m = ifq_dequeue(ifq); m !== null; m = ifq_dequeue(ifq)) m.free();
  };
  if_enqueue(ifp, pkt(k, 60));
  w.runUntilIdle();
  assert.deepEqual(starts, [], 'not RUNNING: the driver is not called');
  if_setflags_up(ifp, true);
  assert.equal(ifp.if_flags & (IFF_UP | IFF_RUNNING), IFF_UP | IFF_RUNNING);
  for (let i = 0; i < 3; i++) if_enqueue(ifp, pkt(k, 60));
  assert.deepEqual(starts, [], 'below if_txmit the start is deferred to softnet');
  w.runUntilIdle();
  assert.deepEqual(starts, [4], 'one start for the bundle');
  for (let i = 0; i < ifp.if_txmit; i++) if_enqueue(ifp, pkt(k, 60));
  assert.deepEqual(starts, [4, 16], 'if_txmit packets start the driver directly');
  ifq_set_oactive(ifp.if_snd);
  for (let i = 0; i < 20; i++) if_enqueue(ifp, pkt(k, 60));
  w.runUntilIdle();
  assert.deepEqual(starts, [4, 16]);
  assert.equal(ifp.if_snd.ifq_oactives, 1);
  ifq_restart(ifp.if_snd);
  assert.equal(ifp.if_snd.ifq_oactive, false);
  assert.deepEqual(starts, [4, 16, 20]);
});

test('ifiq_input: counts, queues for softnet, if_input runs from the softnet task', () => {
  const { w, k, ifp, got } = setup();
  const ml = new MbufList();
  for (let i = 0; i < 3; i++) ml.enqueue(pkt(k, 64, i));
  assert.equal(ifiq_input(ifp.if_rcv, ml), false);
  assert.equal(ml.len, 0);
  assert.deepEqual(got, [], 'nothing runs before softnet');
  assert.equal(ifp.if_rcv.ifiq_len, 3);
  ml.enqueue(pkt(k, 64, 3));
  ifiq_input(ifp.if_rcv, ml);
  w.runUntilIdle();
  assert.deepEqual(got, [0, 1, 2, 3]);
  const iq = ifp.if_rcv;
  assert.deepEqual(
    iq.ifiq_kstat.read().map((kv) => [kv.key, kv.value]),
    [
      ['packets', 4],
      ['bytes', 256],
      ['fdrops', 0],
      ['qdrops', 0],
      ['errors', 0],
      ['qlen', 0],
      ['enqueues', 2],
      ['dequeues', 1],
    ],
  );
  assert.equal(ifp.if_ipackets, 4);
  assert.equal(ifp.if_ibytes, 256);
});

test('ifiq_input: bpf sees packets before the queue, also those the full queue drops', () => {
  const { w, k, ifp, got } = setup();
  const seen: Array<[number, number, number]> = [];
  bpf_listen(ifp, (buf, off, caplen, wirelen, ts, dir) => {
    seen.push([buf[off + 13]!, dir, ts]);
    assert.equal(caplen, wirelen);
  });
  const iq = ifp.if_rcv;
  iq.maxlen_drop = 2;
  iq.maxlen_return = 1;
  const ml = new MbufList();
  for (let i = 0; i < 3; i++) ml.enqueue(pkt(k, 64, i));
  assert.equal(ifiq_input(iq, ml), false);
  ml.enqueue(pkt(k, 64, 9));
  assert.equal(ifiq_input(iq, ml), true, 'queue above maxlen_return: pressure');
  assert.equal(iq.ifiq_qdrops, 1, 'more than maxlen_drop waiting: the list is dropped');
  assert.equal(ifp.if_iqdrops, 1);
  assert.deepEqual(
    seen.map((s) => s[0]),
    [0, 1, 2, 9],
    'bpf saw the dropped packet 9',
  );
  assert.ok(seen.every((s) => s[1] === BPF_DIRECTION_IN && s[2] === 0));
  w.runUntilIdle();
  assert.deepEqual(got, [0, 1, 2]);
  assert.equal(k.mbufs.inUse, 0);
});

test('bpf: a FILDROP listener drops matching input (fdrops); detaching switches the tap off', () => {
  const { w, k, ifp, got } = setup();
  const d = bpf_listen(ifp, () => {}, (buf, off) => buf[off + 13] === 1);
  d.fildrop = BPF_FILDROP_DROP;
  const ml = new MbufList();
  for (let i = 0; i < 3; i++) ml.enqueue(pkt(k, 64, i));
  ifiq_input(ifp.if_rcv, ml);
  w.runUntilIdle();
  assert.deepEqual(got, [0, 2]);
  assert.equal(ifp.if_rcv.ifiq_fdrops, 1);
  assert.equal(d.bd_rcount, 3);
  assert.equal(d.bd_ccount, 0, 'BPF_FILDROP_DROP does not capture');
  assert.notEqual(ifp.if_bpf, null);
  bpf_detachd(d);
  assert.equal(ifp.if_bpf, null);
});
