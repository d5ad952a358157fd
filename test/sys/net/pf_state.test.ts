import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PfStateStore, pf_key_set } from '../../../src/sys/net/pf.js';

const K_N = 16;
const K_HASH = 10;

/** Keys of state s: wire 2s (its words derived from s). */
function keyOf(st: PfStateStore, s: number, salt: number): void {
  pf_key_set(st.kd, 2 * s * K_N, 2, 17, 0, (0xc0000200 + (s % 251)) | 0, 0, 0, 0, 1024 + (s % 977) + salt, 0xc6336414 | 0, 0, 0, 0, 9);
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
      for (let i = 0; i < K_N; i++) q[i] = st.kd[2 * s * K_N + i]!;
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
    const o = 2 * s * K_N;
    for (let i = 0; i < K_N; i++) q[i] = st.kd[o + i]!;
    assert.equal(st.find(q, q[K_HASH]!), 2 * s, `state ${s} salt ${salt}`);
  }
  // a key never inserted is not found
  pf_key_set(q, 0, 2, 17, 0, 1, 0, 0, 0, 2, 3, 0, 0, 0, 4);
  assert.equal(st.find(q, q[K_HASH]!), -1);
});
