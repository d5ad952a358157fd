/**
 * pf normalization (sys/net/pf_norm.c), the part every ruleset gets with
 * `set reassemble yes` (the default): IPv4 fragments are collected and
 * reassembled before filtering, so rules and states see whole datagrams.
 * A fragment that overlaps another with different bytes, or makes the
 * datagram too long, drops the whole datagram (PFRES_FRAG, "fragment");
 * a datagram whose fragments do not all arrive within `set timeout frag`
 * (60 s) is thrown away by the purge timer.  The fragment cache counts
 * searches, inserts and removals (pfctl -si -v "Fragments").
 *
 * Fragments are rare next to whole packets, so a cache entry allocates
 * (a key string, a list); whole packets never come here.
 */
import type { Pf, PfPdesc } from './pf.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import { PF_DROP, PF_HELD, PF_PASS, PFRES_FRAG, PFRES_MEMORY, PF_LIMIT_FRAGS, PFTM_FRAG } from './pf.js';
import { get16, put16 } from '../../wire/bytes.js';
import { sum16 } from '../../wire/checksum.js';

const IP_MF = 0x2000;
const IP_OFFMASK = 0x1fff;
const IP_MAXPACKET = 65535;

interface Frent {
  off: number;
  len: number;
  mf: boolean;
  data: Uint8Array;
}

/** struct pf_fragment */
class PfFragment {
  readonly frents: Frent[] = [];
  /** the first fragment's IP header (without options' fixups: copied whole) */
  header: Uint8Array | null = null;
  total = -1;
  constructor(readonly expire: number) {}
}

/** The fragment cache of one kernel's pf. */
export class PfFragState {
  readonly queue = new Map<string, PfFragment>();
  /** fragments held */
  count = 0;

  /** pf_purge_expired_fragments() */
  expire(pf: Pf, now: number): void {
    for (const [k, f] of this.queue) {
      if (f.expire <= now) {
        this.count -= f.frents.length;
        this.queue.delete(k);
        pf.ncounters[2]++;
      }
    }
  }

  clear(): void {
    this.queue.clear();
    this.count = 0;
  }
}

/**
 * pf_normalize_ip(): pd.m is a fragment.  PF_PASS with pd.m the whole
 * datagram when this fragment completed it, PF_HELD when it was queued,
 * PF_DROP (reason set) when it was bad.
 */
export function pf_normalize_ip(pf: Pf, pd: PfPdesc): number {
  const m = pd.m;
  const b = m.buf;
  const o = m.off;
  const hl = (b[o]! & 15) << 2;
  const ipoff = get16(b, o + 6);
  const tot = Math.min(get16(b, o + 2), m.len);
  const off = (ipoff & IP_OFFMASK) << 3;
  const mf = (ipoff & IP_MF) !== 0;
  const len = tot - hl;
  const fs = pf.frag;
  if (len < 0 || (mf && (len === 0 || (len & 7) !== 0)) || off + len > IP_MAXPACKET - hl) {
    pf_reason(pf, PFRES_FRAG);
    return PF_DROP;
  }
  const key = `${b[o + 9]}/${get16(b, o + 4)}/${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}>${b[o + 16]}.${b[o + 17]}.${b[o + 18]}.${b[o + 19]}/${pd.dir}`;
  pf.ncounters[0]++;
  let frag = fs.queue.get(key);
  if (frag === undefined) {
    if (fs.count >= pf.limits[PF_LIMIT_FRAGS]!) {
      pf_reason(pf, PFRES_MEMORY);
      return PF_DROP;
    }
    frag = new PfFragment(pf.uptime() + (pf.timeouts[PFTM_FRAG] ?? 60));
    fs.queue.set(key, frag);
    pf.ncounters[1]++;
    if (!pf.purge.pending) pf.purge.addSec(1);
  }
  // overlaps must carry the same bytes, or the datagram is dropped
  const data = b.slice(o + hl, o + hl + len);
  for (const f of frag.frents) {
    const s = Math.max(f.off, off);
    const e = Math.min(f.off + f.len, off + len);
    if (s < e) {
      for (let i = s; i < e; i++) {
        if (f.data[i - f.off] !== data[i - off]) {
          fs.count -= frag.frents.length;
          fs.queue.delete(key);
          pf.ncounters[2]++;
          pf_reason(pf, PFRES_FRAG);
          return PF_DROP;
        }
      }
    }
  }
  if (!mf) {
    if (frag.total >= 0 && frag.total !== off + len) {
      fs.count -= frag.frents.length;
      fs.queue.delete(key);
      pf.ncounters[2]++;
      pf_reason(pf, PFRES_FRAG);
      return PF_DROP;
    }
    frag.total = off + len;
  }
  if (off === 0) frag.header = b.slice(o, o + hl);
  frag.frents.push({ off, len, mf, data });
  fs.count++;
  // complete?
  if (frag.total < 0 || frag.header === null) return held(m);
  frag.frents.sort((x, y) => x.off - y.off);
  let have = 0;
  for (const f of frag.frents) {
    if (f.off > have) return held(m);
    have = Math.max(have, f.off + f.len);
  }
  if (have < frag.total) return held(m);
  // reassemble into one packet
  const h = frag.header;
  const total = h.length + frag.total;
  fs.count -= frag.frents.length;
  fs.queue.delete(key);
  pf.ncounters[2]++;
  const n = pf.k.mbufs.get(total);
  if (n === null) {
    pf_reason(pf, PFRES_MEMORY);
    return held(m);
  }
  n.copyPkthdr(m);
  m.free();
  n.append(total);
  n.buf.set(h, n.off);
  for (const f of frag.frents) n.buf.set(f.data, n.off + h.length + f.off);
  put16(n.buf, n.off + 2, total);
  put16(n.buf, n.off + 6, get16(h, 6) & ~(IP_MF | IP_OFFMASK) & 0xffff);
  put16(n.buf, n.off + 10, 0);
  put16(n.buf, n.off + 10, ~sum16(n.buf, n.off, h.length) & 0xffff);
  pd.m = n;
  return PF_PASS;
}

/** The fragment's bytes are in the cache: its mbuf goes back to the pool. */
function held(m: Mbuf): number {
  m.free();
  return PF_HELD;
}

function pf_reason(pf: Pf, x: number): void {
  pf.ctx_reason = x;
  pf.counters[x]++;
}
