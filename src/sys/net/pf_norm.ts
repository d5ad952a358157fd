/**
 * pf normalization (sys/net/pf_norm.c), the part every ruleset gets with
 * `set reassemble yes` (the default): fragments are collected and
 * reassembled before filtering, so rules and states see whole datagrams.
 * One core serves both families, as pf_fillup_fragment() does:
 *
 * - fragments are grouped by (af, protocol, source, destination) in a
 *   node and by identification below it; a node numbers its datagrams
 *   (generations) and one older than `set timeout frag` x 200 of them is
 *   stale and thrown away when looked up (RFC 4963);
 * - a fragment that is empty, unaligned (more fragments and not a multiple
 *   of 8) or ends past 65535 is bad (PFRES_FRAG, "fragment"), as is one
 *   that contradicts the datagram's end;
 * - IPv4 overlaps are trimmed: the older bytes win at the head of a new
 *   fragment, the new bytes over the head of older ones; an IPv6 overlap
 *   drops the whole datagram (RFC 5722);
 * - each 4096-byte stretch of a datagram holds at most 64 fragments;
 * - the fragment entries are limited (`set limit frags`): at the limit
 *   the least recently used datagrams go until 90% of them are left;
 * - a datagram whose fragments do not all arrive within `set timeout
 *   frag` (60 s) is thrown away by the purge timer.
 *
 * An IPv6 datagram keeps what refragmenting needs (the unfragmentable
 * part's length, the last extension header before the fragment header,
 * the largest fragment): a forwarded one leaves as fragments of the sizes
 * it came in (pf_refragment6), each tagged PF_TAG_REFRAGMENTED so pf lets
 * it pass once.
 *
 * Fragments are rare next to whole packets, so the cache allocates (keys,
 * lists, copies of the fragments' bytes); whole packets never come here.
 */
import type { Pf, PfPdesc } from './pf.js';
import type { Ifnet } from './if.js';
import type { Rtentry6 } from './route6.js';
import { M_ICMP_CSUM_OUT, M_TCP_CSUM_OUT, M_UDP_CSUM_OUT, PF_TAG_REFRAGMENTED, type Mbuf } from '../kern/uipc_mbuf.js';
import { AF_INET, AF_INET6, PF_DROP, PF_HELD, PF_PASS, PFRES_FRAG, PFRES_MEMORY, PFRES_SHORT, PF_LIMIT_FRAGS, PFTM_FRAG } from './pf.js';
import { get16, get32, put16 } from '../../wire/bytes.js';
import { sum16 } from '../../wire/checksum.js';
import { ip6s_cantforward } from '../kern/counters.gen.js';

const IP_DF = 0x4000;
const IP_MF = 0x2000;
const IP_OFFMASK = 0x1fff;
const IP_MAXPACKET = 65535;
const IP6F_OFF_MASK = 0xfff8;
const IP6F_MORE_FRAG = 0x0001;
const IPPROTO_FRAGMENT = 44;
const ICMP6_PACKET_TOO_BIG = 2;
const IPV6_FORWARDING = 0x02;
const IPV6_FORWARDING_IPSEC = 0x10;
/** `set reassemble yes no-df` */
const PF_REASS_NODF = 2;

// the fragment cache's counters in pf_status.ncounters (pfctl -vsi "Fragments")
const NCNT_FRAG_SEARCH = 0;
const NCNT_FRAG_INSERT = 1;
const NCNT_FRAG_REMOVALS = 2;

/** pfvar.h: a fragment older than timeout x this many datagrams of its node is stale */
export const PF_FRAG_STALE = 200;
/** pfvar.h: a datagram's 64 KiB in this many stretches... */
const PF_FRAG_ENTRY_POINTS = 16;
/** ...each holding at most this many fragments */
export const PF_FRAG_ENTRY_LIMIT = 64;

/** struct pf_frent: one fragment, its headers and data copied. */
interface Frent {
  /** the headers in front of the data (IPv6: up to and with the fragment header) */
  hdr: Uint8Array;
  /** the last extension header before the fragment header (offset from the IPv6 header), 0 none */
  extoff: number;
  /** the fragment's data; trimmed from the front when an IPv4 overlap cuts it */
  data: Uint8Array;
  off: number;
  len: number;
  mff: boolean;
}

/** struct pf_frnode: the datagrams of one (af, proto, src, dst). */
class PfFrnode {
  readonly frags = new Map<number, PfFragment>();
  /** the generation of the newest datagram */
  gen = 0;
  constructor(readonly key: string) {}
}

/** struct pf_fragment: one datagram being reassembled, its fragments by offset. */
class PfFragment {
  readonly queue: Frent[] = [];
  /** fragments per 4096-byte stretch (fr_entries) */
  readonly entries = new Uint8Array(PF_FRAG_ENTRY_POINTS);
  /** the largest fragment (refragmenting cuts to it) */
  maxlen: number;
  holes = 1;
  constructor(
    readonly node: PfFrnode,
    readonly id: number,
    readonly timeout: number,
    readonly gen: number,
    first: Frent,
  ) {
    this.maxlen = first.len;
  }
}

/** The fragment cache of one kernel's pf. */
export class PfFragState {
  readonly nodes = new Map<string, PfFrnode>();
  /** pf_fragqueue: every datagram, least recently used first */
  readonly lru = new Set<PfFragment>();
  /** fragments held (pf_status.fragments) */
  count = 0;

  /** pf_purge_expired_fragments(): from the least recently used, those created before now - timeout */
  expire(pf: Pf, now: number): void {
    const expire = now - (pf.timeouts[PFTM_FRAG] ?? 60);
    for (const frag of this.lru) {
      if (frag.timeout > expire) break;
      pf_free_fragment(pf, frag);
    }
  }

  clear(): void {
    this.nodes.clear();
    this.lru.clear();
    this.count = 0;
  }
}

/** pf_free_fragment(): the datagram and its fragments go. */
function pf_free_fragment(pf: Pf, frag: PfFragment): void {
  const fs = pf.frag;
  const node = frag.node;
  node.frags.delete(frag.id);
  if (node.frags.size === 0) fs.nodes.delete(node.key);
  fs.lru.delete(frag);
  pf.ncounters[NCNT_FRAG_REMOVALS] += frag.queue.length;
  fs.count -= frag.queue.length;
  frag.queue.length = 0;
}

/** pf_flush_fragments(): make room, least recently used first, until 90% of the fragments are left. */
function pf_flush_fragments(pf: Pf): void {
  const fs = pf.frag;
  const goal = Math.floor(fs.count * 9 / 10);
  for (const frag of fs.lru) {
    if (fs.count <= goal) break;
    pf_free_fragment(pf, frag);
  }
}

/** pf_find_fragment(): the datagram of this node key and id, unless stale. */
function pf_find_fragment(pf: Pf, key: string, id: number): PfFragment | null {
  const fs = pf.frag;
  const node = fs.nodes.get(key);
  pf.ncounters[NCNT_FRAG_SEARCH]++;
  if (node === undefined) return null;
  const frag = node.frags.get(id);
  if (frag === undefined) return null;
  if (node.gen - frag.gen >= (pf.timeouts[PFTM_FRAG] ?? 60) * PF_FRAG_STALE) {
    pf_free_fragment(pf, frag);
    return null;
  }
  // most recently used now
  fs.lru.delete(frag);
  fs.lru.add(frag);
  return frag;
}

/** pf_create_fragment(): an entry of the limited pool, making room when it is used up. */
function pf_create_fragment(pf: Pf): boolean {
  const fs = pf.frag;
  if (fs.count >= pf.limits[PF_LIMIT_FRAGS]!) {
    pf_flush_fragments(pf);
    if (fs.count >= pf.limits[PF_LIMIT_FRAGS]!) {
      pf_reason(pf, PFRES_MEMORY);
      return false;
    }
  }
  fs.count++;
  return true;
}

function pf_frent_index(f: Frent): number {
  return Math.floor(f.off / (0x10000 / PF_FRAG_ENTRY_POINTS));
}

/** pf_frent_holes(): the holes the entry at i adds (a fragment in a gap splits it, each side it touches closes one). */
function pf_frent_holes(frag: PfFragment, i: number): number {
  const q = frag.queue;
  const f = q[i]!;
  const prev = i > 0 ? q[i - 1]! : null;
  const next = i + 1 < q.length ? q[i + 1]! : null;
  let holes = 1;
  if (prev === null ? f.off === 0 : f.off === prev.off + prev.len) holes--;
  if (next === null ? !f.mff : next.off === f.off + f.len) holes--;
  return holes;
}

/** pf_frent_insert(): f at index i of the queue; false when its stretch is full. */
function pf_frent_insert(pf: Pf, frag: PfFragment, f: Frent, i: number): boolean {
  const idx = pf_frent_index(f);
  if (frag.entries[idx]! >= PF_FRAG_ENTRY_LIMIT) return false;
  frag.entries[idx]!++;
  frag.queue.splice(i, 0, f);
  pf.ncounters[NCNT_FRAG_INSERT]++;
  frag.holes += pf_frent_holes(frag, i);
  return true;
}

/** pf_frent_remove(): the entry at index i leaves the queue. */
function pf_frent_remove(pf: Pf, frag: PfFragment, i: number): void {
  frag.holes -= pf_frent_holes(frag, i);
  frag.entries[pf_frent_index(frag.queue[i]!)]!--;
  frag.queue.splice(i, 1);
  pf.ncounters[NCNT_FRAG_REMOVALS]++;
}

/** A fragment not kept gives its entry back. */
function pf_frent_put(pf: Pf): void {
  pf.frag.count--;
}

/**
 * pf_fillup_fragment(): queue f in the datagram (key, id), creating it;
 * the datagram, or null with the reason set (f is not kept).
 */
function pf_fillup_fragment(pf: Pf, key: string, af: number, id: number, f: Frent): PfFragment | null {
  const fs = pf.frag;
  // no empty fragments, 8-byte multiples but for the last, nothing past 65535
  if (f.len === 0 || (f.mff && (f.len & 7) !== 0) || f.off + f.len > IP_MAXPACKET) return bad(pf);
  let frag = pf_find_fragment(pf, key, id);
  if (frag === null) {
    let node = fs.nodes.get(key);
    if (node === undefined) {
      node = new PfFrnode(key);
      fs.nodes.set(key, node);
    }
    frag = new PfFragment(node, id, pf.uptime(), node.gen++, f);
    node.frags.set(id, frag);
    fs.lru.add(frag);
    if (!pf.purge.pending) pf.purge.addSec(1);
    pf_frent_insert(pf, frag, f, 0);
    return frag;
  }
  if (f.len > frag.maxlen) frag.maxlen = f.len;
  const q = frag.queue;
  const last = q[q.length - 1]!;
  const total = last.off + last.len;
  const end = f.off + f.len;
  // a fragment before the end must say more fragments; nothing past a seen last fragment, no second end
  if (end < total && !f.mff) return flush(pf, frag, af);
  if (!last.mff) {
    if (end > total || (end === total && f.mff)) return flush(pf, frag, af);
  } else if (end === total && !f.mff) return flush(pf, frag, af);
  // the neighbours: prev the last entry at or before f's offset, then those after
  let i = q.length;
  while (i > 0 && q[i - 1]!.off > f.off) i--;
  const prev = i > 0 ? q[i - 1]! : null;
  if (prev !== null && prev.off + prev.len > f.off) {
    if (af !== AF_INET) return flush(pf, frag, af);
    // the head overlaps: the queued bytes win
    const precut = prev.off + prev.len - f.off;
    if (precut >= f.len) {
      pf_frent_put(pf);
      return null;
    }
    f.data = f.data.subarray(precut);
    f.off += precut;
    f.len -= precut;
  }
  while (i < q.length && f.off + f.len > q[i]!.off) {
    if (af !== AF_INET) return flush(pf, frag, af);
    const after = q[i]!;
    const aftercut = f.off + f.len - after.off;
    if (aftercut < after.len) {
      // the new bytes win over the head of the next fragment, which may move to another stretch
      pf_frent_remove(pf, frag, i);
      after.data = after.data.subarray(aftercut);
      after.off += aftercut;
      after.len -= aftercut;
      if (!pf_frent_insert(pf, frag, after, i)) {
        pf_frent_put(pf);
        return free_fragment(pf, frag);
      }
      break;
    }
    // wholly covered: the old fragment goes
    pf_frent_remove(pf, frag, i);
    pf_frent_put(pf);
  }
  if (!pf_frent_insert(pf, frag, f, i)) return free_fragment(pf, frag);
  return frag;
}

/** bad_fragment */
function bad(pf: Pf): null {
  pf_reason(pf, PFRES_FRAG);
  pf_frent_put(pf);
  return null;
}

/** free_ipv6_fragment: IPv6 throws the whole datagram away (RFC 5722), IPv4 only the fragment */
function flush(pf: Pf, frag: PfFragment, af: number): null {
  return af === AF_INET ? bad(pf) : free_fragment(pf, frag);
}

/** free_fragment: a datagram that cannot be completed goes with the fragment */
function free_fragment(pf: Pf, frag: PfFragment): null {
  pf_free_fragment(pf, frag);
  return bad(pf);
}

/**
 * pf_join_fragment(): the datagram's bytes, its first fragment's first
 * hdrlen bytes in front; the datagram leaves the cache.  null when no
 * packet is to be had.
 */
function pf_join_fragment(pf: Pf, frag: PfFragment, m: Mbuf, hdrlen: number): Mbuf | null {
  const q = frag.queue;
  const n = pf.k.mbufs.get(hdrlen + fragTotal(frag));
  if (n !== null) {
    n.copyPkthdr(m);
    n.append(hdrlen + fragTotal(frag));
    n.buf.set(q[0]!.hdr.subarray(0, hdrlen), n.off);
    for (const f of q) n.buf.set(f.data, n.off + hdrlen + f.off);
  }
  pf_free_fragment(pf, frag);
  return n;
}

/** The data of a complete datagram. */
function fragTotal(frag: PfFragment): number {
  const last = frag.queue[frag.queue.length - 1]!;
  return last.off + last.len;
}

/** A datagram whose headers and data exceed the 16-bit length: thrown away, the fragment dropped as short. */
function tooBig(pf: Pf, frag: PfFragment): number {
  pf_free_fragment(pf, frag);
  pf_reason(pf, PFRES_SHORT);
  return PF_DROP;
}

/** The key of a fragment's node: af, protocol (0 for IPv6: only the first fragment's counts), addresses. */
function nodeKey(af: number, proto: number, b: Uint8Array, src: number, alen: number): string {
  let k = `${af}/${proto}/`;
  for (let i = 0; i < 2 * alen; i += 4) k += get32(b, src + i).toString(16) + (i === alen - 4 ? '>' : '.');
  return k;
}

/** The IPv4 header checksum at b[o] summed again after pf changed the header (its options too). */
function ip_sum_redo(b: Uint8Array, o: number): void {
  put16(b, o + 10, 0);
  put16(b, o + 10, ~sum16(b, o, (b[o]! & 15) << 2) & 0xffff);
}

/**
 * pf_normalize_ip() of a datagram that is not a fragment: of ip_off only
 * DF goes on, the reserved bit is cleared.  (OpenBSD leaves the header
 * checksum to ip_output, which computes it anew; here it is summed again
 * at once, for a datagram delivered locally keeps its header.)
 */
export function pf_normalize_ip_rf(pf: Pf, m: Mbuf): void {
  const b = m.buf;
  const o = m.off;
  put16(b, o + 6, get16(b, o + 6) & IP_DF);
  ip_sum_redo(b, o);
  if (pf.k.trace !== null) pf.k.trace.branch(pf.k, m, 'pf_normalize_ip: reserved fragment bit set → cleared');
}

/**
 * pf_normalize_ip(): pd.m is an IPv4 fragment.  One with DF set is bad
 * (unless `no-df` clears it); without reassembly it is filtered as it is
 * (PF_PASS, pd.m unchanged).  Else PF_PASS with pd.m the whole datagram
 * when this fragment completed it, PF_HELD when it was queued, PF_DROP
 * (reason set) when it was bad.
 */
export function pf_normalize_ip(pf: Pf, pd: PfPdesc): number {
  const m = pd.m;
  const b = m.buf;
  const o = m.off;
  let ipoff = get16(b, o + 6);
  if ((pf.reass & PF_REASS_NODF) !== 0 && (ipoff & IP_DF) !== 0) {
    ipoff &= ~IP_DF;
    put16(b, o + 6, ipoff);
    ip_sum_redo(b, o);
  }
  // a fragment with DF set cannot have been made on the way
  if ((ipoff & IP_DF) !== 0) {
    pf_reason(pf, PFRES_FRAG);
    return PF_DROP;
  }
  if (pf.reass === 0) return PF_PASS;
  const hl = (b[o]! & 15) << 2;
  const tot = Math.min(get16(b, o + 2), m.len);
  if (!pf_create_fragment(pf)) return PF_DROP;
  const f: Frent = {
    hdr: b.slice(o, o + hl), extoff: 0, data: b.slice(o + hl, o + tot),
    off: (ipoff & IP_OFFMASK) << 3, len: tot - hl, mff: (ipoff & IP_MF) !== 0,
  };
  const frag = pf_fillup_fragment(pf, nodeKey(AF_INET, b[o + 9]!, b, o + 12, 4), AF_INET, get16(b, o + 4), f);
  if (frag === null) return PF_DROP;
  if (frag.holes !== 0) return held(m);
  if (hl + fragTotal(frag) > IP_MAXPACKET) return tooBig(pf, frag);
  const n = pf_join_fragment(pf, frag, m, hl);
  m.free();
  if (n === null) {
    pf_reason(pf, PFRES_MEMORY);
    return PF_HELD;
  }
  pd.m = n;
  const nb = n.buf;
  const no = n.off;
  put16(nb, no + 2, n.len & 0xffff);
  // of ip_off only DF goes on (pf_normalize_ip's no_fragment)
  put16(nb, no + 6, get16(nb, no + 6) & IP_DF);
  ip_sum_redo(nb, no);
  return PF_PASS;
}

/**
 * pf_normalize_ip6(): pd.m is an IPv6 fragment, its fragment header at
 * pd.fragoff.  As pf_normalize_ip; a reassembled datagram carries its
 * PfFragmentTag (m.pf_ftag) for pf_refragment6.
 */
export function pf_normalize_ip6(pf: Pf, pd: PfPdesc): number {
  if (pf.reass === 0) return PF_PASS;
  const m = pd.m;
  const b = m.buf;
  const o = m.off;
  const fh = pd.fragoff;
  const hdrlen = fh - o + 8;
  if (!pf_create_fragment(pf)) return PF_DROP;
  const offlg = get16(b, fh + 2);
  const end = o + pd.tot_len;
  const f: Frent = {
    hdr: b.slice(o, o + hdrlen), extoff: pd.extoff === 0 ? 0 : pd.extoff - o, data: b.slice(o + hdrlen, end),
    off: offlg & IP6F_OFF_MASK, len: end - o - hdrlen, mff: (offlg & IP6F_MORE_FRAG) !== 0,
  };
  const frag = pf_fillup_fragment(pf, nodeKey(AF_INET6, 0, b, o + 8, 16), AF_INET6, get32(b, fh + 4), f);
  if (frag === null) return PF_DROP;
  if (frag.holes !== 0) return held(m);
  const first = frag.queue[0]!;
  const extoff = first.extoff;
  const maxlen = frag.maxlen;
  // the fragment header goes; its next header takes its place in the chain
  const unfrag = first.hdr.length - 8;
  const proto = first.hdr[unfrag]!;
  if (unfrag - 40 + fragTotal(frag) > IP_MAXPACKET) return tooBig(pf, frag);
  const n = pf_join_fragment(pf, frag, m, unfrag);
  m.free();
  if (n === null) {
    pf_reason(pf, PFRES_MEMORY);
    return PF_HELD;
  }
  pd.m = n;
  n.pf_ftag = { hdrlen: unfrag, extoff, maxlen };
  const nb = n.buf;
  const no = n.off;
  put16(nb, no + 4, (n.len - 40) & 0xffff);
  nb[no + (extoff !== 0 ? extoff : 6)] = proto;
  return PF_PASS;
}

/**
 * pf_refragment6(): m, a reassembled IPv6 datagram pf passed, leaves as
 * fragments no larger than the largest that came in, each tagged
 * PF_TAG_REFRAGMENTED.  Without an interface (pf_test's forward pass)
 * they go through ip6_forward; with one (pf_route6) they are sent on it,
 * a fragment over its MTU answered with packet too big.
 */
export function pf_refragment6(pf: Pf, m: Mbuf, ifp: Ifnet | null, nexthop: Uint8Array | null, rt: Rtentry6 | null): number {
  const k = pf.k;
  const net = pf.netout!;
  const tag = m.pf_ftag!;
  m.pf_ftag = null;
  // the checksum covers the whole datagram
  if (m.csum_flags & (M_ICMP_CSUM_OUT | M_TCP_CSUM_OUT | M_UDP_CSUM_OUT)) net.in6_proto_cksum_out(k, m);
  const at = m.off + (tag.extoff !== 0 ? tag.extoff : 6);
  const proto = m.buf[at]!;
  m.buf[at] = IPPROTO_FRAGMENT;
  // a datagram that came as one fragment leaves as one too (a maxlen under 8 fails in ip6_fragment: dropped)
  const ml = pf.fragList;
  if (net.ip6_fragment(k, m, ml, tag.hdrlen, proto, tag.hdrlen + 8 + tag.maxlen) !== 0) return PF_DROP;
  for (let f = ml.dequeue(); f !== null; f = ml.dequeue()) {
    f.pf_flags |= PF_TAG_REFRAGMENTED;
    if (ifp === null) {
      const fw = k.inet6.ip6_forwarding.value;
      if (fw === 0) {
        k.stats.ip6stat.inc(ip6s_cantforward);
        f.free();
        ml.purge();
        return PF_DROP;
      }
      net.ip6_forward(k, f, fw === 2 ? IPV6_FORWARDING | IPV6_FORWARDING_IPSEC : IPV6_FORWARDING);
    } else if (f.len <= ifp.if_mtu) {
      net.ip6_send_if(k, ifp, f, nexthop!, 0, rt);
    } else {
      net.icmp6_error(k, f, ICMP6_PACKET_TOO_BIG, 0, ifp.if_mtu);
    }
  }
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
