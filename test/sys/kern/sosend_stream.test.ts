/**
 * sosend() on a stream socket hands TCP everything that fits at once (as
 * OpenBSD's sosend passes one chain per pass, PRUS_MORETOCOME between
 * pieces), so a write larger than an mbuf cluster on an idle connection
 * with Nagle leaves as full-MSS segments: no small segment at a chunk
 * boundary.  The frames are looked at where they arrive: the sender's own
 * tap sees the TSO packets before the NIC cuts them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pair, listener, connect, accept, payload } from '../netinet/tcp_lab.js';
import { sosend } from '../../../src/sys/kern/uipc_socket.js';
import { bpf_listen, BPF_DIRECTION_IN } from '../../../src/sys/net/bpf.js';

test('a 10000-byte write on an idle Nagle connection: full-MSS segments, one short tail', () => {
  const { world, a, b, bAddr } = pair(61);
  const l = listener(b.k, 9000);
  const c = connect(a.k, bAddr, 9000);
  world.runFor(1e9);
  const s = accept(l);
  assert.ok(s !== null);
  // Payload lengths of the TCP segments b receives from a (Ethernet + IPv4 + TCP with options).
  const lens: number[] = [];
  bpf_listen(b.ifs[0]!, (buf, off, _caplen, wirelen, _ts, dir) => {
    if (dir !== BPF_DIRECTION_IN || buf[off + 12] !== 0x08 || buf[off + 13] !== 0x00 || buf[off + 23] !== 6) return;
    const ihl = (buf[off + 14]! & 0x0f) * 4;
    const thl = (buf[off + 14 + ihl + 12]! >> 4) * 4;
    const len = wirelen - 14 - ihl - thl;
    if (len > 0) lens.push(len);
  });
  const data = payload(10000);
  assert.equal(sosend(c, null, data, 0, data.length, 0), 10000);
  world.runFor(1e9);
  const mss = (c.so_pcb!.inp_ppcb as { t_maxseg: number }).t_maxseg;
  assert.equal(lens.reduce((x, y) => x + y, 0), 10000);
  const full = Math.floor(10000 / mss);
  assert.deepEqual(lens, [...new Array<number>(full).fill(mss), 10000 - full * mss]);
});
