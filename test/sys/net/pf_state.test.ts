import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AF_INET, PF_FWD, PF_IN, PfStateStore, ST_N, ST_NKEYS, pf_key_set, pf_prefetch, pf_remove_state, pf_test } from '../../../src/sys/net/pf.js';
import { MbufList } from '../../../src/sys/kern/uipc_mbuf.js';
import type { Mbuf } from '../../../src/sys/kern/uipc_mbuf.js';
import type { Kernel } from '../../../src/sys/kern/kernel.js';
import { threeHosts, ip } from '../netinet/lab.js';
import { pfctl, loadPf, udpBytes } from './pf_lab.js';

const K_N = 16;
const K_HASH = 10;
const K_REV = 11;

/** Keys of state s: wire 2s (its words derived from s). */
function keyOf(st: PfStateStore, s: number, salt: number): void {
  pf_key_set(st.kd, st.ko(2 * s), 2, 17, 0, (0xc0000200 + (s % 251)) | 0, 0, 0, 0, 1024 + (s % 977) + salt, 0xc6336414 | 0, 0, 0, 0, 9);
}

test('state store: open addressing with backward-shift deletion finds every live key, none removed', () => {
  const st = new PfStateStore();
  const q = new Int32Array(K_N);
  const live = new Map<number, number>();
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  // churn: 20000 operations, inserting and removing at random (many collisions: 251 x 977 distinct keys)
  for (let op = 0; op < 20000; op++) {
    if (live.size < 3000 || rnd(2) === 0) {
      const salt = rnd(40);
      const s = st.alloc();
      keyOf(st, s, salt);
      for (let i = 0; i < K_N; i++) q[i] = st.kd[st.ko(2 * s) + i]!;
      if (st.find(q, q[K_HASH]!) >= 0) {
        st.release(s);
        continue;
      }
      st.insert(2 * s);
      live.set(s, salt);
    } else {
      const arr = [...live.keys()];
      const s = arr[rnd(arr.length)]!;
      st.remove(2 * s);
      st.release(s);
      live.delete(s);
    }
  }
  assert.equal(st.hcount, live.size);
  for (const [s, salt] of live) {
    const o = st.ko(2 * s);
    for (let i = 0; i < K_N; i++) q[i] = st.kd[o + i]!;
    assert.equal(st.find(q, q[K_HASH]!), 2 * s, `state ${s} salt ${salt}`);
  }
  // a key never inserted is not found
  pf_key_set(q, 0, 2, 17, 0, 1, 0, 0, 0, 2, 3, 0, 0, 0, 4);
  assert.equal(st.find(q, q[K_HASH]!), -1);
});

/** pf_test(IN) on em0, then pf_test(FWD) on em1, of one datagram (as ip_forward does); the packet's m.pf_statekey between. */
function forwardThrough(k: Kernel, bytes: Uint8Array): number {
  const m = k.mbufs.get(bytes.length)!;
  m.setBytes(bytes);
  const em0 = k.ifnets.find((i) => i?.if_xname === 'em0')!;
  const em1 = k.ifnets.find((i) => i?.if_xname === 'em1')!;
  assert.equal(pf_test(k, AF_INET, PF_IN, em0, m), m);
  const link = m.pf_statekey;
  assert.equal(pf_test(k, AF_INET, PF_FWD, em1, m), m);
  // the OUT pass used the link up (pf_pkt_addr_changed)
  assert.equal(m.pf_statekey, -1);
  m.free();
  return link;
}

/** The states as pfctl -ss prints them, with their counters (-v). */
function statesOf(k: Kernel): string {
  return pfctl(k, ['-v', '-ss']).out;
}

test('sk_reverse: the OUT pass starts from the IN state key\'s reverse; a stale link is checked and not followed', () => {
  const { r } = threeHosts();
  const k = r.k;
  loadPf(k, 'pass\n');
  const pf = k.pf!;
  const x = udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 1000, 53);
  // first packet: two states from the rules; the second links the IN state's key to the OUT state's
  assert.equal(forwardThrough(k, x), 0);
  assert.equal(forwardThrough(k, x), 0);
  const kd = pf.st.kd;
  assert.equal(kd[pf.st.ko(0) + K_REV], 2 + 1);
  assert.equal(kd[pf.st.ko(2) + K_REV], 0 + 1);
  // the third follows the link: one search per pass all the same, the counters of both states
  const search = pf.fcounters[0]!;
  forwardThrough(k, x);
  assert.equal(pf.fcounters[0], search + 2);
  assert.equal(pf.states, 2);
  const ss = statesOf(k);
  assert.match(ss, /all udp 198\.51\.100\.20:53 <- 192\.0\.2\.10:1000 +NO_TRAFFIC:SINGLE\n.* 3:0 pkts, 96:0 bytes/);
  assert.match(ss, /all udp 192\.0\.2\.10:1000 -> 198\.51\.100\.20:53 +SINGLE:NO_TRAFFIC\n.* 3:0 pkts, 96:0 bytes/);
  // the OUT state goes; another flow's OUT state takes its number (and key): the link must not lead there
  pf_remove_state(pf, 1);
  const y = udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 2000, 53);
  const em1 = k.ifnets.find((i) => i?.if_xname === 'em1')!;
  const my = k.mbufs.get(y.length)!;
  my.setBytes(y);
  assert.equal(pf_test(k, AF_INET, PF_FWD, em1, my), my);
  my.free();
  assert.equal(pf.st.si[1 * ST_N + ST_NKEYS], 1, 'state 1 is the other flow\'s now');
  forwardThrough(k, x);
  assert.equal(pf.states, 3);
  const after = statesOf(k);
  assert.equal(after, [
    'all udp 198.51.100.20:53 <- 192.0.2.10:1000       NO_TRAFFIC:SINGLE',
    '   age 00:00:00, expires in 00:00:30, 4:0 pkts, 128:0 bytes, rule 0',
    'all udp 192.0.2.10:2000 -> 198.51.100.20:53       SINGLE:NO_TRAFFIC',
    '   age 00:00:00, expires in 00:01:00, 1:0 pkts, 32:0 bytes, rule 0',
    'all udp 192.0.2.10:1000 -> 198.51.100.20:53       SINGLE:NO_TRAFFIC',
    '   age 00:00:00, expires in 00:01:00, 1:0 pkts, 32:0 bytes, rule 0',
    '',
  ].join('\n'));
});

/** An Ethernet frame (type `type`) around datagram d, in an mbuf of k. */
function etherMbuf(k: Kernel, d: Uint8Array, type = 0x0800): Mbuf {
  const b = new Uint8Array(14 + d.length);
  b[12] = type >> 8;
  b[13] = type & 0xff;
  b.set(d, 14);
  const m = k.mbufs.get(b.length)!;
  m.setBytes(b);
  return m;
}

test('pf_prefetch: reads the hash slot where pf_test(IN) finds the frame\'s state; frames it cannot look up are skipped', () => {
  const { r } = threeHosts();
  const k = r.k;
  loadPf(k, 'pass\n');
  const pf = k.pf!;
  const em0 = k.ifnets.find((i) => i?.if_xname === 'em0')!;
  const x = udpBytes(ip('192.0.2.10'), ip('198.51.100.20'), 1000, 53);
  forwardThrough(k, x);
  // state 0's wire key (key 0) is in the table: its slot holds key number + 1 in its low bits
  const slot = [...pf.st.ht].find((v) => (v & 0x7fffff) === 0 + 1);
  assert.notEqual(slot, undefined);
  const batch = (frames: Mbuf[]): number => {
    const ml = new MbufList();
    for (const m of frames) ml.enqueue(m);
    pf.prefetched = -1;
    pf_prefetch(pf, em0, ml);
    ml.purge();
    return pf.prefetched;
  };
  // a table this small is not read ahead
  assert.equal(batch([etherMbuf(k, x)]), -1);
  pf.prefetch_slots = 0;
  assert.equal(batch([etherMbuf(k, x)]), slot! & 0xffff);
  // an ARP frame, a datagram with IP options, another flow (no state: its slot is empty): nothing more is read
  const opts = new Uint8Array(x.length + 4);
  opts.set(x.subarray(0, 20));
  opts.set(x.subarray(20), 24);
  opts[0] = 0x46;
  const other = udpBytes(ip('192.0.2.11'), ip('198.51.100.20'), 1000, 53);
  assert.equal(batch([etherMbuf(k, x, 0x0806), etherMbuf(k, opts), etherMbuf(k, other), etherMbuf(k, x)]), slot! & 0xffff);
  // the same frame twice: its slot read twice (folded away)
  assert.equal(batch([etherMbuf(k, x), etherMbuf(k, x)]), 0);
});
