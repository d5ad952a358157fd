/**
 * IPv6 reassembly (sys/netinet6/frag6.c).  RFC 5722: a fragment that
 * overlaps another flushes the whole datagram (ip6s_fragdropped counts
 * the queued fragments and the new one).  RFC 6946: an atomic fragment
 * (offset 0, M clear) is processed on its own.  Limits as OpenBSD:
 * net.inet6.ip6.maxfrags fragments and net.inet6.ip6.maxfragpackets
 * datagrams in all; a datagram may not grow past IPV6_MAXPACKET (ICMPv6
 * parameter problem at the fragment offset field); a queue lives
 * IPV6_FRAGTTL runs of frag6_slowtimo (every 500 ms, so 60 s) and on
 * timeout the first fragment gets ICMPv6 time exceeded (reassembly).
 * The slow timer is armed only while fragments wait.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import type { Timeout } from '../kern/kern_timeout.js';
import {
  ip6s_fragdropped, ip6s_fragments, ip6s_fragoverflow, ip6s_fragtimeout, ip6s_reassembled,
} from '../kern/counters.gen.js';
import { get16, get32 } from '../../wire/bytes.js';
import { IP6_HDR_LEN, IP6F_MORE_FRAG, IP6F_OFF_MASK, IPV6_MAXPACKET } from '../../wire/ip6.js';
import {
  ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, ICMP6_TIME_EXCEED_REASSEMBLY, ICMP6_TIME_EXCEEDED,
} from '../../wire/icmp6.js';
import { IN6_ARE_ADDR_EQUAL } from './in6_var.js';
import { icmp6_error } from './icmp6.js';
import { IPPROTO_DONE, ip6_get_prevhdr } from './ip6_input.js';
import { ip6x_emptyfrag } from './inet6.js';

/** Runs of frag6_slowtimo (500 ms) a reassembly queue lives. */
export const IPV6_FRAGTTL = 120;

const IPTOS_ECN_MASK = 0x03;
const IPTOS_ECN_CE = 0x03;
const IPTOS_ECN_NOTECT = 0x00;

/** struct ip6asfrag: one queued fragment. */
class Ip6asfrag {
  constructor(
    readonly m: Mbuf,
    /** Fragment offset, bytes. */
    readonly off: number,
    /** Bytes of fragmentable data. */
    readonly frglen: number,
    /** Where the data starts in m (after the fragment header). */
    readonly offset: number,
    readonly mff: boolean,
  ) {}
}

/** struct ip6q: one datagram being reassembled. */
export class Ip6q {
  ttl = IPV6_FRAGTTL;
  readonly src = new Uint8Array(16);
  readonly dst = new Uint8Array(16);
  ecn = 0;
  /** Length of the unfragmentable part; -1 until the first fragment came. */
  unfrglen = -1;
  nxt = 0;
  nfrag = 0;
  readonly frags: Ip6asfrag[] = [];
  constructor(readonly ident: number) {}
}

export class Frag6State {
  /** frag6_queue, most recently active first. */
  readonly queue: Ip6q[] = [];
  nfrags = 0;
  nfragpackets = 0;
  readonly slowtimo: Timeout<Kernel>;
  constructor(k: Kernel) {
    this.slowtimo = k.world.timeout<Kernel>(frag6_slowtimo, k);
  }
}

function drop(k: Kernel, m: Mbuf, why: string): number {
  k.stats.ip6stat.inc(ip6s_fragdropped);
  if (k.trace !== null) k.trace.drop(k, m, why);
  m.free();
  return IPPROTO_DONE;
}

function unlink(k: Kernel, q6: Ip6q): void {
  const st = k.inet6.frag6;
  const i = st.queue.indexOf(q6);
  if (i >= 0) st.queue.splice(i, 1);
  st.nfrags -= q6.nfrag;
  st.nfragpackets--;
  if (st.queue.length === 0) st.slowtimo.del();
}

/** frag6_input(): a fragment header at off. */
export function frag6_input(k: Kernel, m: Mbuf, off: number, _nxt: number, _ifp: Ifnet): number {
  const stat = k.stats.ip6stat;
  const st = k.inet6.frag6;
  if (k.trace !== null) k.trace.fn(k, m, 'frag6_input');
  const b = m.buf;
  const base = m.off;
  if (m.len < off + 8) {
    return drop(k, m, 'frag6_input: fragment header cut short');
  }
  const plen = get16(b, base + 4);
  const offlg = get16(b, base + off + 2);
  const ident = get32(b, base + off + 4);
  const fnxt = b[base + off]!;
  const mff = (offlg & IP6F_MORE_FRAG) !== 0;
  if (plen === 0) {
    icmp6_error(k, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, off);
    return IPPROTO_DONE;
  }
  // Fragments other than the last carry a multiple of 8 bytes.
  if (mff && ((plen - off) & 7) !== 0) {
    icmp6_error(k, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, 4);
    return IPPROTO_DONE;
  }
  stat.inc(ip6s_fragments);
  const fragoff = offlg & IP6F_OFF_MASK;
  const offset = off + 8;
  if (fragoff === 0 && !mff) {
    // RFC 6946: an atomic fragment stands alone.
    stat.inc(ip6s_reassembled);
    if (k.trace !== null) k.trace.branch(k, m, 'frag6_input: atomic fragment');
    k.inet6.offp = offset;
    return fnxt;
  }
  if (IP6_HDR_LEN + plen <= offset) {
    k.inet6.ip6xstat.inc(ip6x_emptyfrag);
    if (k.trace !== null) k.trace.drop(k, m, 'frag6_input: empty fragment');
    m.free();
    return IPPROTO_DONE;
  }
  if (st.nfrags >= k.inet6.ip6_maxfrags.value) return drop(k, m, 'frag6_input: net.inet6.ip6.maxfrags reached');
  let q6: Ip6q | null = null;
  for (const q of st.queue) {
    if (q.ident === ident && IN6_ARE_ADDR_EQUAL(q.src, 0, b, base + 8) && IN6_ARE_ADDR_EQUAL(q.dst, 0, b, base + 24)) {
      q6 = q;
      break;
    }
  }
  const ecn = (b[base + 1]! >>> 4) & IPTOS_ECN_MASK;
  let first_frag = false;
  if (q6 === null) {
    first_frag = true;
    if (st.nfragpackets >= k.inet6.ip6_maxfragpackets.value) return drop(k, m, 'frag6_input: net.inet6.ip6.maxfragpackets reached');
    st.nfragpackets++;
    q6 = new Ip6q(ident);
    q6.src.set(b.subarray(base + 8, base + 24));
    q6.dst.set(b.subarray(base + 24, base + 40));
    q6.ecn = ecn;
    st.queue.unshift(q6);
    if (!st.slowtimo.pending) st.slowtimo.addMsec(500);
  }
  if (fragoff === 0) {
    q6.unfrglen = offset - IP6_HDR_LEN - 8;
    q6.nxt = fnxt;
  }
  const frgpartlen = IP6_HDR_LEN + plen - offset;
  const tooBig = q6.unfrglen >= 0 ? q6.unfrglen + fragoff + frgpartlen > IPV6_MAXPACKET : fragoff + frgpartlen > IPV6_MAXPACKET;
  if (tooBig) {
    if (first_frag) unlinkEmpty(k, q6);
    icmp6_error(k, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, off + 2);
    return IPPROTO_DONE;
  }
  if (fragoff === 0) {
    // Fragments queued before the first one may now be too far out.
    for (const af of q6.frags.slice()) {
      if (q6.unfrglen + af.off + af.frglen > IPV6_MAXPACKET) {
        q6.frags.splice(q6.frags.indexOf(af), 1);
        q6.nfrag--;
        st.nfrags--;
        af.m.buf.set(q6.src, af.m.off + 8);
        af.m.buf.set(q6.dst, af.m.off + 24);
        icmp6_error(k, af.m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, af.offset - 8 + 2);
      }
    }
  }
  const ip6af = new Ip6asfrag(m, fragoff, frgpartlen, offset, mff);
  let pi = -1;
  if (!first_frag) {
    // Mixing CE with not-ECT drops the fragment; CE is kept.
    const ecn0 = q6.ecn;
    if (ecn === IPTOS_ECN_CE) {
      if (ecn0 === IPTOS_ECN_NOTECT) return drop(k, m, 'frag6_input: ECN CE mixed with not-ECT');
      if (ecn0 !== IPTOS_ECN_CE) q6.ecn = IPTOS_ECN_CE;
    }
    if (ecn === IPTOS_ECN_NOTECT && ecn0 !== IPTOS_ECN_NOTECT) return drop(k, m, 'frag6_input: ECN not-ECT mixed with ECT');
    const q = q6.frags;
    let ai = 0;
    while (ai < q.length && q[ai]!.off <= fragoff) ai++;
    pi = ai - 1;
    // RFC 5722: any overlap discards the whole datagram.
    const overlapPrev = pi >= 0 && q[pi]!.off + q[pi]!.frglen - fragoff > 0;
    const overlapNext = ai < q.length && fragoff + frgpartlen - q[ai]!.off > 0;
    if (overlapPrev || overlapNext) {
      unlink(k, q6);
      for (const af of q) af.m.free();
      stat.add(ip6s_fragdropped, q6.nfrag + 1);
      if (k.trace !== null) k.trace.drop(k, m, 'frag6_input: overlapping fragment, datagram flushed (RFC 5722)');
      m.free();
      return IPPROTO_DONE;
    }
  }
  q6.frags.splice(pi + 1, 0, ip6af);
  st.nfrags++;
  q6.nfrag++;
  let next = 0;
  for (const af of q6.frags) {
    if (af.off !== next) return IPPROTO_DONE;
    next += af.frglen;
  }
  if (q6.frags[q6.frags.length - 1]!.mff) return IPPROTO_DONE;

  // Complete: concatenate behind the first fragment.
  const first = q6.frags[0]!;
  const hm = first.m;
  unlink(k, q6);
  const hdrEnd = first.offset;
  hm.truncate(hdrEnd + first.frglen);
  let ok = true;
  for (let i = 1; i < q6.frags.length; i++) {
    const af = q6.frags[i]!;
    const at = hm.len;
    if (ok && hm.append(af.frglen)) hm.buf.set(af.m.buf.subarray(af.m.off + af.offset, af.m.off + af.offset + af.frglen), hm.off + at);
    else ok = false;
    af.m.free();
  }
  const foff = first.offset - 8;
  next += foff - IP6_HDR_LEN;
  if (!ok || next > IPV6_MAXPACKET) return drop(k, hm, 'frag6_input: reassembled datagram too large');
  // frag6_deletefraghdr(): slide the headers over the fragment header.
  const hb = hm.buf;
  hb.copyWithin(hm.off + 8, hm.off, hm.off + foff);
  hm.adj(8);
  hb[hm.off + 4] = next >>> 8;
  hb[hm.off + 5] = next & 0xff;
  hb.set(q6.src, hm.off + 8);
  hb.set(q6.dst, hm.off + 24);
  if (q6.ecn === IPTOS_ECN_CE) hb[hm.off + 1] = hb[hm.off + 1]! | (IPTOS_ECN_CE << 4);
  hb[hm.off + ip6_get_prevhdr(hm, foff)] = q6.nxt;
  stat.inc(ip6s_reassembled);
  if (k.trace !== null) k.trace.branch(k, hm, 'frag6_input: reassembled');
  k.inet6.offp = foff;
  k.inet6.mp = hm;
  return q6.nxt;
}

/** A queue made for a fragment that was refused at once. */
function unlinkEmpty(k: Kernel, q6: Ip6q): void {
  if (q6.nfrag === 0) unlink(k, q6);
}

/** frag6_freef(): a timed-out datagram; the first fragment gets time exceeded. */
export function frag6_freef(k: Kernel, q6: Ip6q): void {
  for (const af of q6.frags) {
    if (af.off === 0) {
      af.m.buf.set(q6.src, af.m.off + 8);
      af.m.buf.set(q6.dst, af.m.off + 24);
      icmp6_error(k, af.m, ICMP6_TIME_EXCEEDED, ICMP6_TIME_EXCEED_REASSEMBLY, 0);
    } else af.m.free();
  }
  q6.frags.length = 0;
}

/** frag6_slowtimo(): age the queues; drain past a lowered maxfragpackets. */
export function frag6_slowtimo(k: Kernel): void {
  const st = k.inet6.frag6;
  const rm: Ip6q[] = [];
  for (const q6 of st.queue.slice()) {
    if (--q6.ttl === 0) {
      k.stats.ip6stat.inc(ip6s_fragtimeout);
      unlink(k, q6);
      rm.push(q6);
    }
  }
  const max = k.inet6.ip6_maxfragpackets.value;
  while (st.nfragpackets > max && st.queue.length > 0) {
    k.stats.ip6stat.inc(ip6s_fragoverflow);
    const q6 = st.queue[st.queue.length - 1]!;
    unlink(k, q6);
    rm.push(q6);
  }
  for (const q6 of rm) frag6_freef(k, q6);
  if (st.queue.length > 0 && !st.slowtimo.pending) st.slowtimo.addMsec(500);
}
