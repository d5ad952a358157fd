import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { loopattach, looutput, LOMTU } from '../../../src/sys/net/if_loop.js';
import { if_addr_add, if_list, IFF_LOOPBACK, IFF_RUNNING, IFF_UP } from '../../../src/sys/net/if.js';
import { bpf_listen, BPF_DIRECTION_OUT } from '../../../src/sys/net/bpf.js';
import { Em } from '../../../src/sys/dev/em.js';

test('lo0: looutput queues to its own input; bpf sees it once, as output with the AF header', () => {
  const w = new World();
  const k = new Kernel(w, { hostname: 'h' });
  new Em(k, { lladdr: '02:00:00:00:00:01' });
  const lo = loopattach(k);
  assert.equal(lo.if_mtu, LOMTU);
  assert.deepEqual(
    if_list(k).map((i) => i.if_xname),
    ['lo0', 'em0'],
    'lo0 heads the interface list',
  );
  const seen: Array<[number, number, number]> = [];
  bpf_listen(lo, (buf, off, caplen, _wl, _ts, dir) => seen.push([(buf[off + 3]! as number), caplen, dir]));
  const delivered: number[] = [];
  k.af_input[2] = (ifp, m) => {
    delivered.push(m.len);
    assert.equal(ifp, lo);
    m.free();
  };
  if_addr_add(lo, 0x7f000001);
  assert.equal(lo.if_flags & (IFF_UP | IFF_RUNNING | IFF_LOOPBACK), IFF_UP | IFF_RUNNING | IFF_LOOPBACK);
  const m = k.mbufs.get(40)!;
  m.append(40);
  m.ph_family = 2;
  assert.equal(looutput(lo, m, null, null), 0);
  assert.deepEqual(delivered, [], 'queued, not called recursively');
  w.runUntilIdle();
  assert.deepEqual(delivered, [40]);
  assert.deepEqual(seen, [[2, 44, BPF_DIRECTION_OUT]]);
  assert.equal(lo.if_ipackets, 1);
  assert.equal(lo.if_opackets, 1);
  const r = k.mbufs.get(40)!;
  r.ph_family = 2;
  assert.equal(looutput(lo, r, null, { rt_flags: 0x8 | 0x4 }), 65, 'reject host route: EHOSTUNREACH');
  assert.equal(k.mbufs.inUse, 0);
});
