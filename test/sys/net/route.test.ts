import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rtable, Rtentry, plen2mask, mask2plen, rtflagsString, RTF_UP, RTF_GATEWAY, RTF_HOST, RTF_STATIC } from '../../../src/sys/net/route.js';

function rt(dst: number, plen: number, prio: number): Rtentry {
  const r = new Rtentry();
  r.rt_dst = (dst & plen2mask(plen)) >>> 0;
  r.rt_plen = plen;
  r.rt_priority = prio;
  return r;
}

test('longest prefix match, priorities, exact lookups, delete', () => {
  const t = new Rtable();
  const def = rt(0, 0, 8);
  const net = rt(0xc0000200, 24, 4);
  const host = rt(0xc000020a, 32, 3);
  const other = rt(0xc0000200, 24, 8);
  for (const r of [def, net, host, other]) assert.equal(t.insert(r), 0);
  assert.equal(t.insert(rt(0xc0000200, 24, 4)), 17); // EEXIST: same prefix and priority
  assert.equal(t.match(0xc000020a), host);
  assert.equal(t.match(0xc000020b), net);
  assert.equal(t.match(0x08080808), def);
  assert.equal(t.lookup(0xc0000200, 24, 8), other);
  assert.deepEqual(t.entries(), [def, net, other, host]);
  assert.equal(t.delete(net), 0);
  assert.equal(t.match(0xc000020b), other);
  assert.equal(t.delete(net), 3);
  assert.equal(t.count, 3);
});

test('match agrees with a linear scan (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 })), { maxLength: 40 }),
      fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 20 }),
      (prefixes, probes) => {
        const t = new Rtable();
        const all: Rtentry[] = [];
        for (const [a, l] of prefixes) {
          const r = rt(a, l, 8);
          if (t.insert(r) === 0) all.push(r);
        }
        for (const p of probes) {
          let best: Rtentry | null = null;
          for (const r of all) if (((p & r.rt_mask) >>> 0) === r.rt_dst && (best === null || r.rt_plen > best.rt_plen)) best = r;
          assert.equal(t.match(p), best);
        }
      },
    ),
  );
});

test('masks and flag letters', () => {
  assert.equal(plen2mask(24), 0xffffff00);
  assert.equal(mask2plen(0xffffff00), 24);
  assert.equal(mask2plen(0xff00ff00), -1);
  assert.equal(rtflagsString(RTF_UP | RTF_GATEWAY | RTF_HOST | RTF_STATIC), 'UGHS');
});
