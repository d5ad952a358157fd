/**
 * IPv4 input (sys/netinet/ip_input.c): ipv4_input() with every header check
 * and its counter, ours or not (in_ouraddr), delivery to the protocols
 * (ip_deliver; ICMP here, the rest registered by their modules later), the
 * reassembly queue (ip_fragcheck, ip_reass with OpenBSD's overlap rules,
 * ip_slowtimo, ip_flush), option processing (ip_dooptions) and forwarding
 * (ip_forward, gated by net.inet.ip.forwarding).
 *
 * Reassembly timing is OpenBSD's: a queue lives IPFRAGTTL (60) runs of
 * ip_slowtimo, which pfslowtimo calls every 500 ms (timeout_add_msec, so
 * 51 ticks), about 30.6 s.  The slow timer is armed only while fragments
 * are queued, so an idle kernel leaves the world idle.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { IFF_LOOPBACK } from '../net/if.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import * as uipc_mbuf_ from '../kern/uipc_mbuf.js';
import * as counters_gen_ from '../kern/counters.gen.js';
import { Ipv4Packet } from '../../wire/ip4.js';
import * as ip4_ from '../../wire/ip4.js';
import * as checksum_ from '../../wire/checksum.js';
import * as bytes_ from '../../wire/bytes.js';
import * as icmp_ from '../../wire/icmp.js';
import {
  EACCES, EMSGSIZE, ENOBUFS, RTF_BROADCAST, RTF_DYNAMIC, RTF_GATEWAY, RTF_LOCAL, RTF_MODIFIED,
  RT_RESOLVE, rt_match, rtisvalid, type Rtentry,
} from '../net/route.js';
import { ip_output, IP_FORWARDING, IP_ALLOWBROADCAST, IP_REDIRECT, route_mpath, type Route } from './ip_output.js';
import { icmp_error } from './ip_icmp.js';
import { pf_test, PF_IN, AF_INET as PF_AF_INET } from '../net/pf.js';
import {
  in_canforward, IN_LOCAL_GROUP, IN_MULTICAST, INADDR_ALLHOSTS_GROUP, INADDR_ANY, IN_LOOPBACKNET, ifa_ifwithaddr,
} from './in.js';
import { traceEvent, traceSegment } from '../kern/kern_trace.js';

/** INADDR_BROADCAST as an int32, a literal: the import is a heap number (0xffffffff) converted at every use. */
const INADDR_BROADCAST_I32 = -1;

// Imported constants and functions as the module's own constants: V8
// folds a module's const like a literal, but reads an imported binding from
// its cell, with a TDZ check, at every use (dozens per forwarded packet).
// Only from modules without imports back here, so they are always
// initialized first.
const { M_BCAST, M_IPV4_CSUM_IN_BAD, M_IPV4_CSUM_IN_OK, M_MCAST } = uipc_mbuf_;
const { ips_badaddr, ips_badfrags, ips_badhlen, ips_badlen, ips_badoptions, ips_badsum, ips_badvers, ips_cantforward, ips_cantfrag, ips_delivered, ips_forward, ips_fragdropped, ips_fragments, ips_fragtimeout, ips_inswcsum, ips_noproto, ips_noroute, ips_notmember, ips_rcvmemdrop, ips_reassembled, ips_redirectsent, ips_toolong, ips_toosmall, ips_tooshort, ips_total, ips_wrongif } = counters_gen_;
const { IP_HDR_LEN, IP_MAXPACKET, IP_MF, IP_OFFMASK, IPOPT_EOL, IPOPT_LSRR, IPOPT_NOP, IPOPT_OFFSET, IPOPT_OLEN, IPOPT_RR, IPOPT_SSRR, IPOPT_TS, IPOPT_MINOFF, IPTOS_ECN_CE, IPTOS_ECN_MASK, IPTOS_ECN_NOTECT, IPTTLDEC, IPVERSION, IPPROTO_ICMP, ipv4Sum20 } = ip4_;
const { sum16 } = checksum_;
const { put32, get32 } = bytes_;
const { ICMP_PARAMPROB, ICMP_REDIRECT, ICMP_REDIRECT_HOST, ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS, ICMP_UNREACH, ICMP_UNREACH_HOST, ICMP_UNREACH_NEEDFRAG, ICMP_UNREACH_PROTOCOL, ICMP_UNREACH_SRCFAIL } = icmp_;

// Trace events of the forwarding path (kern_trace.ts).
const T_IP_INPUT = traceEvent('fn', 'ip_input', 'ipv4_input → ip_input_if');
/** ip_input's function event and its ips_total bump, one record (ipv4_check's ways out before the checksum). */
const T_IP_INPUT_TOTAL = traceSegment(T_IP_INPUT, traceEvent('counter', 'ips_total'));
/** The same with the software checksum's ips_inswcsum bump: one record on the common path. */
const T_IP_INPUT_SWCSUM = traceSegment(T_IP_INPUT, traceEvent('counter', 'ips_total'), traceEvent('counter', 'ips_inswcsum'));
const T_IP_INPUT_FORWARD = traceEvent('branch', 'ip_input: %a is not ours, forwarding enabled → ip_forward');
const T_IP_FORWARD = traceEvent('fn', 'ip_forward');
const T_IP_FORWARD_TTL = traceEvent('bytes', 'ip_forward: ttl %d → %d');
/** ip_forward's function event and its ttl change, one record on the forwarding path (the early exits record the function event themselves). */
const T_IP_FORWARD_SEG = traceSegment(T_IP_FORWARD, T_IP_FORWARD_TTL);
/** The same after ip_input's forwarding branch: ip_forward records it when called by ip_input_if (with its route). */
const T_IP_INPUT_FORWARD_FN = traceSegment(T_IP_INPUT_FORWARD, T_IP_FORWARD);
const T_IP_INPUT_FORWARD_SEG = traceSegment(T_IP_INPUT_FORWARD, T_IP_FORWARD, T_IP_FORWARD_TTL);

/** Runs of ip_slowtimo (every 500 ms) a reassembly queue lives. */
export const IPFRAGTTL = 60;
export const IPPROTO_DONE = 257;

/** pr_input of a protocol: consumes m; hlen is the IP header length. */
export type IpProtoInput = (k: Kernel, m: Mbuf, hlen: number, ifp: Ifnet) => void;
/** pr_ctlinput: an ICMP error about a datagram this protocol sent (quoted at off in buf). */
export type IpProtoCtlinput = (k: Kernel, cmd: number, dst: number, buf: Uint8Array, off: number, len: number) => void;

/** One fragment (struct ipqent); off and len in bytes of payload. */
class Ipqent {
  constructor(
    public m: Mbuf,
    public off: number,
    public len: number,
    readonly mff: boolean,
    readonly hlen: number,
  ) {}
}

/** One datagram being reassembled (struct ipq). */
export class Ipq {
  ipq_ttl = IPFRAGTTL;
  /** TOS of the first fragment to arrive (OpenBSD edits it in the queued header). */
  tos = 0;
  readonly frags: Ipqent[] = [];
  constructor(
    readonly ipq_p: number,
    readonly ipq_id: number,
    readonly ipq_src: number,
    readonly ipq_dst: number,
  ) {}
}

/** The reassembly state of one kernel. */
export class IpReass {
  readonly ipq: Ipq[] = [];
  /** Fragments queued (ip_frags). */
  ip_frags = 0;
  readonly slowtimo;
  constructor(k: Kernel) {
    this.slowtimo = k.world.timeout<Kernel>(ip_slowtimo, k);
  }
}

const ipv = new Ipv4Packet();
const ipv2 = new Ipv4Packet();

/** ipv4_input(): from ether_input (m starts at the IP header). */
export function ipv4_input(ifp: Ifnet, m: Mbuf): void {
  ip_input_if(ifp.kernel, m, ifp);
}

/**
 * ipv4_check(): the header checks, each with its counter; false when m was
 * freed.  Reads the bytes directly, not through the view's getters: every
 * getter inlined here spends the caller's inlining budget.
 */
export function ipv4_check(k: Kernel, ifp: Ifnet, m: Mbuf): boolean {
  const st = k.stats.ipstat;
  // ip_input's events (its function, ips_total) are recorded here with
  // ips_inswcsum's bump (one record), or first on each way out before it.
  const tr = k.trace;
  const mlen = m.len;
  if (mlen < IP_HDR_LEN) {
    if (tr !== null) ip_input_tfn(k, m, ifp);
    st.inc(ips_toosmall);
    return ipv4_free(m);
  }
  const b = m.buf;
  const o = m.off;
  const vhl = b[o]!;
  if (vhl >> 4 !== IPVERSION) {
    if (tr !== null) ip_input_tfn(k, m, ifp);
    st.inc(ips_badvers);
    return ipv4_free(m);
  }
  const hlen = (vhl & 0xf) << 2;
  if (hlen < IP_HDR_LEN) {
    if (tr !== null) ip_input_tfn(k, m, ifp);
    st.inc(ips_badhlen);
    return ipv4_free(m);
  }
  if (hlen > mlen) {
    if (tr !== null) ip_input_tfn(k, m, ifp);
    st.inc(ips_badhlen);
    return ipv4_free(m);
  }
  // 127/8 must not appear on the wire (RFC 1122): the first byte of either address.
  if ((b[o + 16] === IN_LOOPBACKNET || b[o + 12] === IN_LOOPBACKNET) && !(ifp.if_flags & IFF_LOOPBACK)) {
    if (tr !== null) ip_input_tfn(k, m, ifp);
    st.inc(ips_badaddr);
    return ipv4_free(m);
  }
  if (!(m.csum_flags & M_IPV4_CSUM_IN_OK)) {
    if (m.csum_flags & M_IPV4_CSUM_IN_BAD) {
      if (tr !== null) ip_input_tfn(k, m, ifp);
      st.inc(ips_badsum);
      return ipv4_free(m);
    }
    if (tr !== null) tr.evi(k, m, T_IP_INPUT_SWCSUM, ifp);
    st.bump(ips_inswcsum);
    if ((hlen === IP_HDR_LEN ? ipv4Sum20(b, o) : sum16(b, o, hlen)) !== 0xffff) {
      st.inc(ips_badsum);
      return ipv4_free(m);
    }
    m.csum_flags |= M_IPV4_CSUM_IN_OK;
  } else if (tr !== null) ip_input_tfn(k, m, ifp);
  const len = (b[o + 2]! << 8) | b[o + 3]!;
  if (len < hlen) {
    st.inc(ips_badlen);
    return ipv4_free(m);
  }
  if (mlen < len) {
    st.inc(ips_tooshort);
    return ipv4_free(m);
  }
  // Trim link-layer padding.
  if (mlen > len) m.truncate(len);
  return true;
}

/** ip_input's function event and its ips_total bump (ipv4_check's ways out, and a checksum the card verified). */
function ip_input_tfn(k: Kernel, m: Mbuf, ifp: Ifnet): void {
  k.trace!.evi(k, m, T_IP_INPUT_TOTAL, ifp);
}

/** ipv4_check's drops, out of line (the caller counted the reason). */
function ipv4_free(m: Mbuf): false {
  m.free(); // not a drop: the caller counted it
  return false;
}

/** ip_input_if() */
export function ip_input_if(k: Kernel, m: Mbuf, ifp: Ifnet): void {
  const inet = k.inet;
  const tr = k.trace;
  // This function's event and ips_total's are recorded by ipv4_check, next.
  k.stats.ipstat.bump(ips_total);
  if (m.ph_ifidx === 0) m.ph_ifidx = ifp.if_index;
  if (!ipv4_check(k, ifp, m)) {
    if (tr !== null) tr.drop(k, null, 'ipv4_check: bad header → drop');
    return;
  }
  // pf_test(IN): states first, the rules on a miss; an rdr-to that moved the destination sets IP_REDIRECT.
  let flags = 0;
  if (k.pf !== null) {
    const odst = get32(m.buf, m.off + 16);
    const n = pf_test(k, PF_AF_INET, PF_IN, ifp, m);
    if (n === null) return;
    m = n;
    if (get32(m.buf, m.off + 16) !== odst) flags |= IP_REDIRECT;
  }
  if (inet.ipforwarding.value !== 0) flags |= IP_FORWARDING;
  if (inet.ipdirectedbcast.value !== 0) flags |= IP_ALLOWBROADCAST;
  // The header's bytes read directly: view getters inlined here spend the inlining budget.
  const hlen = (m.buf[m.off]! & 0xf) << 2;
  if (hlen > IP_HDR_LEN && ip_dooptions(k, m, ifp, flags)) return;

  // struct netstack's route: one lookup serves in_ouraddr, ip_forward and ip_output.
  const ro = inet.ns_route;
  ro.ro_rt = null;
  const ours = in_ouraddr(k, m, ifp, flags, ro);
  if (ours === 2) {
    if (tr !== null) tr.drop(k, m, 'ip_input: ours but arrived on the wrong interface %s → drop, ips_wrongif', '', 0, 0, 0, ifp.if_xname);
    m.free();
    return;
  }
  if (ours === 1) {
    if (tr !== null) tr.branch(k, m, 'ip_input: %a is ours → ip_ours', '', get32(m.buf, m.off + 16));
    ip_ours(k, m, ifp);
    return;
  }
  // An int32: no heap number for addresses above 2^31.
  const b = m.buf;
  const o = m.off;
  const dst = (b[o + 16]! << 24) | (b[o + 17]! << 16) | (b[o + 18]! << 8) | b[o + 19]!;
  if (IN_MULTICAST(dst)) {
    m.m_flags |= M_MCAST;
    // No multicast memberships yet (IGMP not built): only 224.0.0.1 is joined.
    if (dst >>> 0 !== INADDR_ALLHOSTS_GROUP) {
      k.stats.ipstat.inc(ips_notmember);
      // OpenBSD counts ips_cantforward too for groups outside 224.0.0/24.
      if (!IN_LOCAL_GROUP(dst)) k.stats.ipstat.inc(ips_cantforward);
      m.free();
      return;
    }
    ip_ours(k, m, ifp);
    return;
  }
  if (!(flags & IP_FORWARDING)) {
    if (tr !== null) tr.drop(k, m, 'ip_input: %a is not ours and forwarding is disabled (net.inet.ip.forwarding=0) → drop, ips_cantforward', '', dst);
    k.stats.ipstat.inc(ips_cantforward);
    m.free();
    return;
  }
  // The branch's event is recorded by ip_forward with its own (given ro).
  ip_forward(k, m, ifp, flags, ro);
}


/**
 * in_ouraddr(): 1 for us (local address, broadcast), 0 not ours, 2 to
 * drop (a local address arriving on the wrong interface of a host).
 */
export function in_ouraddr(k: Kernel, m: Mbuf, ifp: Ifnet, flags: number, ro: Route | null = null): number {
  const b = m.buf;
  const o = m.off;
  const dst = (b[o + 16]! << 24) | (b[o + 17]! << 16) | (b[o + 18]! << 8) | b[o + 19]!;
  if (dst === INADDR_BROADCAST_I32 || dst === INADDR_ANY) {
    m.m_flags |= M_BCAST;
    return 1;
  }
  let match = 0;
  const rt = ro !== null ? route_mpath(k, ro, dst) : rt_match(k, dst, RT_RESOLVE);
  if (rt !== null) {
    if (rt.rt_flags & RTF_LOCAL) match = 1;
    if (rt.rt_flags & RTF_BROADCAST && (!(flags & IP_ALLOWBROADCAST) || rt.rt_ifidx === ifp.if_index)) {
      match = 1;
      m.m_flags |= M_BCAST;
    }
  }
  if (!match) {
    // Ancient classful broadcast (all ones or all zeros host part) on this interface.
    if (!(m.m_flags & M_BCAST) || !classfulBroadcast(dst, dst)) return 0;
    for (const ia of ifp.if_addrs) {
      if (classfulBroadcast(dst, ia.addr)) return 1;
    }
    return 0;
  }
  if (!(flags & IP_FORWARDING) && rt!.rt_ifidx !== ifp.if_index && !(ifp.if_flags & IFF_LOOPBACK)) {
    // Received on the wrong interface (strong host model).
    k.stats.ipstat.inc(ips_wrongif);
    return 2;
  }
  return match;
}

/** IN_CLASSFULBROADCAST(): the class network of i, host part all ones or zeros. */
function classfulBroadcast(addr: number, i: number): boolean {
  let mask: number;
  if ((i & 0x80000000) === 0) mask = 0xff000000;
  else if ((i & 0xc0000000) >>> 0 === 0x80000000) mask = 0xffff0000;
  else if ((i & 0xe0000000) >>> 0 === 0xc0000000) mask = 0xffffff00;
  else return false;
  const net = (i & mask) >>> 0;
  return (addr >>> 0) === ((net | ~mask) >>> 0) || (addr >>> 0) === net;
}

/** ip_ours(): reassemble if needed, then deliver. */
export function ip_ours(k: Kernel, m: Mbuf, ifp: Ifnet): void {
  if (k.trace !== null) k.trace.fn(k, m, 'ip_ours', ifp.if_xname);
  const r = ip_fragcheck(k, m);
  if (r === null) {
    if (k.trace !== null) k.trace.branch(k, null, 'ip_ours: fragment queued for reassembly (or dropped)');
    return;
  }
  ip_deliver(k, r, ifp);
}

/** ip_deliver(): hand the datagram to its protocol (inetsw[ip_protox[p]]). */
export function ip_deliver(k: Kernel, m: Mbuf, ifp: Ifnet): void {
  const st = k.stats.ipstat;
  const ip = ipv.wrap(m.buf, m.off, m.len);
  const hlen = ip.headerLength;
  const p = ip.protocol;
  if (k.trace !== null) k.trace.fn(k, m, 'ip_deliver', ifp.if_xname, 'protocol %d', p);
  st.inc(ips_delivered);
  const input = k.inet.pr_input[p];
  if (input !== undefined) {
    input(k, m, hlen, ifp);
    return;
  }
  rip_input(k, m, ifp);
}

/** rip_input() with no raw socket listening: protocol unreachable. */
export function rip_input(k: Kernel, m: Mbuf, _ifp: Ifnet): void {
  const st = k.stats.ipstat;
  const ip = ipv.wrap(m.buf, m.off, m.len);
  if (k.trace !== null) k.trace.drop(k, m, ip.protocol === IPPROTO_ICMP ? 'rip_input: no socket for protocol %d → drop, ips_noproto' : 'rip_input: no socket for protocol %d → ICMP protocol unreachable, ips_noproto', '', ip.protocol);
  if (ip.protocol === IPPROTO_ICMP) m.free();
  else icmp_error(k, m, ICMP_UNREACH, ICMP_UNREACH_PROTOCOL, 0, 0);
  st.inc(ips_noproto);
  st.dec(ips_delivered);
}

/**
 * ip_fragcheck(): a datagram that is not a fragment comes back as is; a
 * fragment is queued and the completed datagram (or null) comes back.
 */
export function ip_fragcheck(k: Kernel, m: Mbuf): Mbuf | null {
  const st = k.stats.ipstat;
  const ip = ipv.wrap(m.buf, m.off, m.len);
  const ipoff = ip.ipOff;
  if (!(ipoff & (IP_OFFMASK | IP_MF))) return m;
  const hlen = ip.headerLength;
  const dlen = ip.totalLength - hlen;
  const mff = (ipoff & IP_MF) !== 0;
  // Fragments other than the last carry a nonzero multiple of 8 bytes.
  if (mff && (dlen === 0 || (dlen & 7) !== 0)) {
    st.inc(ips_badfrags);
    m.free();
    return null;
  }
  const off = (ipoff & IP_OFFMASK) << 3;
  const r = k.inet.ipq;
  let fp: Ipq | null = null;
  const id = ip.id, src = ip.src, dst = ip.dst, p = ip.protocol;
  for (const q of r.ipq) {
    if (q.ipq_id === id && q.ipq_src === src && q.ipq_dst === dst && q.ipq_p === p) {
      fp = q;
      break;
    }
  }
  if (!mff && off === 0) {
    // An unfragmented datagram with a stale queue: let the queue time out... OpenBSD frees it.
    if (fp !== null) ip_freef(k, fp);
    return m;
  }
  st.inc(ips_fragments);
  const maxq = k.inet.ipmaxqueue.value;
  if (r.ip_frags + 1 > maxq) {
    ip_flush(k, maxq);
    st.inc(ips_rcvmemdrop);
    m.free();
    return null;
  }
  r.ip_frags++;
  const ipqe = new Ipqent(m, off, dlen, mff, hlen);
  const done = ip_reass(k, ipqe, fp);
  if (done === null) return null;
  st.inc(ips_reassembled);
  return done;
}

/** ip_reass(): OpenBSD's IPv4 overlap rules: preceding data wins, the new fragment trims what follows. */
export function ip_reass(k: Kernel, ipqe: Ipqent, fp: Ipq | null): Mbuf | null {
  const st = k.stats.ipstat;
  const r = k.inet.ipq;
  const m = ipqe.m;
  const ip = ipv.wrap(m.buf, m.off, m.len);
  // Hide the header: the queue holds payloads.
  const tos = ip.tos;
  m.adj(ipqe.hlen);
  const dropfrag = (): null => {
    st.inc(ips_fragdropped);
    ipqe.m.free();
    r.ip_frags--;
    return null;
  };
  if (fp === null) {
    fp = new Ipq(ip.protocol, ip.id, ip.src, ip.dst);
    r.ipq.unshift(fp);
    if (!r.slowtimo.pending) r.slowtimo.addMsec(500);
    fp.frags.push(ipqe);
    fp.tos = tos;
  } else {
    const ecn = tos & IPTOS_ECN_MASK;
    const ecn0 = fp.tos & IPTOS_ECN_MASK;
    if (ecn === IPTOS_ECN_CE) {
      if (ecn0 === IPTOS_ECN_NOTECT) return dropfrag();
      if (ecn0 !== IPTOS_ECN_CE) fp.tos |= IPTOS_ECN_CE;
    }
    if (ecn === IPTOS_ECN_NOTECT && ecn0 !== IPTOS_ECN_NOTECT) return dropfrag();
    const q = fp.frags;
    // The first queued fragment that begins after this one.
    let qi = 0;
    while (qi < q.length && q[qi]!.off <= ipqe.off) qi++;
    const pi = qi - 1;
    if (pi >= 0) {
      const p = q[pi]!;
      const i = p.off + p.len - ipqe.off;
      if (i > 0) {
        if (i >= ipqe.len) return dropfrag();
        ipqe.m.adj(i);
        ipqe.off += i;
        ipqe.len -= i;
      }
    }
    while (qi < q.length && ipqe.off + ipqe.len > q[qi]!.off) {
      const n = q[qi]!;
      const i = ipqe.off + ipqe.len - n.off;
      if (i < n.len) {
        n.len -= i;
        n.off += i;
        n.m.adj(i);
        break;
      }
      n.m.free();
      q.splice(qi, 1);
      r.ip_frags--;
    }
    q.splice(pi + 1, 0, ipqe);
  }
  // Complete?
  const q = fp.frags;
  let next = 0;
  for (const e of q) {
    if (e.off !== next) return null;
    next += e.len;
  }
  if (q[q.length - 1]!.mff) return null;
  const first = q[0]!;
  if (next + first.hlen > IP_MAXPACKET) {
    st.inc(ips_toolong);
    ip_freef(k, fp);
    return null;
  }
  // Concatenate behind the first fragment's header.
  const hm = first.m;
  hm.off -= first.hlen;
  hm.len += first.hlen;
  let ok = true;
  for (let i = 1; i < q.length; i++) {
    const e = q[i]!;
    const at = hm.len;
    if (ok && hm.append(e.len)) hm.buf.set(e.m.buf.subarray(e.m.off, e.m.off + e.len), hm.off + at);
    else ok = false;
    e.m.free();
  }
  r.ip_frags -= q.length;
  q.length = 0;
  removeq(k, fp);
  if (!ok) {
    // Out of large buffers: the datagram cannot be built.
    st.inc(ips_rcvmemdrop);
    hm.free();
    return null;
  }
  const h = ipv2.wrap(hm.buf, hm.off, hm.len);
  h.totalLength = first.hlen + next;
  h.ipOff = 0;
  h.tos = fp.tos;
  h.fillChecksum();
  return hm;
}

function removeq(k: Kernel, fp: Ipq): void {
  const r = k.inet.ipq;
  const i = r.ipq.indexOf(fp);
  if (i >= 0) r.ipq.splice(i, 1);
  if (r.ipq.length === 0) r.slowtimo.del();
}

/** ip_freef(): drop a queue and its fragments. */
export function ip_freef(k: Kernel, fp: Ipq): void {
  const r = k.inet.ipq;
  for (const e of fp.frags) {
    e.m.free();
    r.ip_frags--;
  }
  fp.frags.length = 0;
  removeq(k, fp);
}

/** ip_slowtimo(): age the reassembly queues. */
export function ip_slowtimo(k: Kernel): void {
  const r = k.inet.ipq;
  for (const fp of r.ipq.slice()) {
    if (--fp.ipq_ttl === 0) {
      k.stats.ipstat.inc(ips_fragtimeout);
      ip_freef(k, fp);
    }
  }
  if (r.ipq.length > 0) r.slowtimo.addMsec(500);
}

/** ip_flush(): drop whole queues until the fragments are down to 75 % of the limit. */
export function ip_flush(k: Kernel, maxqueue: number): void {
  const r = k.inet.ipq;
  let max = 50;
  while (r.ipq.length > 0 && r.ip_frags > Math.floor((maxqueue * 3) / 4) && --max) {
    k.stats.ipstat.inc(ips_fragdropped);
    ip_freef(k, r.ipq[0]!);
  }
}

/**
 * ip_dooptions(): check options, record route, source routing (refused
 * unless net.inet.ip.sourceroute).  True when the packet was consumed
 * (an ICMP error sent and ips_badoptions counted, or source-routed on).
 */
export function ip_dooptions(k: Kernel, m: Mbuf, ifp: Ifnet, flags: number): boolean {
  const ip = ipv.wrap(m.buf, m.off, m.len);
  const b = m.buf;
  const base = m.off;
  let cp = base + IP_HDR_LEN;
  let cnt = ip.headerLength - IP_HDR_LEN;
  let type = ICMP_PARAMPROB;
  let code = 0;
  let forward = false;
  let optlen: number;
  let bad = false;
  for (; cnt > 0; cnt -= optlen, cp += optlen) {
    const opt = b[cp]!;
    if (opt === IPOPT_EOL) break;
    if (opt === IPOPT_NOP) optlen = 1;
    else {
      if (cnt < IPOPT_OLEN + 1) {
        code = cp + IPOPT_OLEN - base;
        bad = true;
        break;
      }
      optlen = b[cp + IPOPT_OLEN]!;
      if (optlen < IPOPT_OLEN + 1 || optlen > cnt) {
        code = cp + IPOPT_OLEN - base;
        bad = true;
        break;
      }
    }
    if (opt === IPOPT_LSRR || opt === IPOPT_SSRR) {
      if (k.inet.ipsourceroute.value === 0) {
        type = ICMP_UNREACH;
        code = ICMP_UNREACH_SRCFAIL;
        bad = true;
        break;
      }
      if (optlen < IPOPT_OFFSET + 1) {
        code = cp + IPOPT_OLEN - base;
        bad = true;
        break;
      }
      let off = b[cp + IPOPT_OFFSET]!;
      if (off < IPOPT_MINOFF) {
        code = cp + IPOPT_OFFSET - base;
        bad = true;
        break;
      }
      const ia = ifa_ifwithaddr(k, ip.dst);
      if (ia === null) {
        if (opt === IPOPT_SSRR) {
          type = ICMP_UNREACH;
          code = ICMP_UNREACH_SRCFAIL;
          bad = true;
          break;
        }
        continue;
      }
      off--;
      if (off + 4 > optlen) continue; // end of the source route: for us
      const next = get32(b, cp + off);
      const rt = rt_match(k, next, RT_RESOLVE);
      if (!rtisvalid(rt) || (opt === IPOPT_SSRR && rt.rt_flags & RTF_GATEWAY)) {
        type = ICMP_UNREACH;
        code = ICMP_UNREACH_SRCFAIL;
        bad = true;
        break;
      }
      put32(b, cp + off, rt.rt_ifa!.addr);
      b[cp + IPOPT_OFFSET] = b[cp + IPOPT_OFFSET]! + 4;
      ip.dst = next;
      forward = !IN_MULTICAST(next);
    } else if (opt === IPOPT_RR) {
      if (optlen < IPOPT_OFFSET + 1) {
        code = cp + IPOPT_OLEN - base;
        bad = true;
        break;
      }
      let off = b[cp + IPOPT_OFFSET]!;
      if (off < IPOPT_MINOFF) {
        code = cp + IPOPT_OFFSET - base;
        bad = true;
        break;
      }
      off--;
      if (off + 4 > optlen) continue; // no room left: ignore
      const rt = rt_match(k, ip.dst, RT_RESOLVE);
      if (!rtisvalid(rt)) {
        type = ICMP_UNREACH;
        code = ICMP_UNREACH_HOST;
        bad = true;
        break;
      }
      put32(b, cp + off, rt.rt_ifa!.addr);
      b[cp + IPOPT_OFFSET] = b[cp + IPOPT_OFFSET]! + 4;
    } else if (opt === IPOPT_TS) {
      code = cp - base;
      if (optlen < 4) {
        bad = true;
        break;
      }
      const ptr = b[cp + 2]!;
      if (ptr < 5 || optlen < 5) {
        bad = true;
        break;
      }
      if (ptr - 1 + 4 > optlen) {
        // No room: count the overflow, which is itself bounded.
        const oflw = (b[cp + 3]! >>> 4) + 1;
        if ((oflw & 0xf) === 0) {
          bad = true;
          break;
        }
        b[cp + 3] = ((oflw & 0xf) << 4) | (b[cp + 3]! & 0xf);
      }
    }
  }
  if (bad) {
    icmp_error(k, m, type, code, 0, 0);
    k.stats.ipstat.inc(ips_badoptions);
    return true;
  }
  if (forward && flags & IP_FORWARDING) {
    ip_forward(k, m, ifp, flags | IP_REDIRECT);
    return true;
  }
  return false;
}

/** At most 68 bytes of a forwarded datagram are kept for the ICMP error ip_output may need. */
const ICMP_BUF = 68;
/** icmp_do_error() quotes the header and this many bytes of payload: more is never read. */
const ICMP_QUOTE = 8;

/**
 * ip_forward().  ro: ip_input_if's route (its lookup serves here too);
 * given, ip_input_if's forwarding branch comes right before and its event
 * is recorded here, with this function's.
 */
export function ip_forward(k: Kernel, m: Mbuf, ifp: Ifnet, flags: number, ro: Route | null = null): void {
  const st = k.stats.ipstat;
  const inet = k.inet;
  const tr = k.trace;
  // The function event is recorded with the ttl change below, or by each early exit (ip_forward_tfn).
  // The header's bytes read directly: view getters inlined here spend the inlining budget.
  const mb = m.buf;
  const mo = m.off;
  const dst = (mb[mo + 16]! << 24) | (mb[mo + 17]! << 16) | (mb[mo + 18]! << 8) | mb[mo + 19]!;
  if (m.m_flags & (M_BCAST | M_MCAST) || !in_canforward(dst)) {
    if (tr !== null) ip_forward_tfn(k, m, ifp, ro, dst);
    if (tr !== null) tr.drop(k, m, m.m_flags & (M_BCAST | M_MCAST) ? 'ip_forward: link-layer broadcast/multicast → drop, ips_cantforward' : 'ip_forward: %a may not be forwarded → drop, ips_cantforward', '', dst >>> 0);
    st.inc(ips_cantforward);
    m.free();
    return;
  }
  const ttl = mb[mo + 8]!;
  if (ttl <= IPTTLDEC) {
    if (tr !== null) ip_forward_tfn(k, m, ifp, ro, dst);
    if (tr !== null) tr.branch(k, m, 'ip_forward: ttl %d would reach 0 → icmp_error(time exceeded in transit)', '', ttl);
    icmp_error(k, m, ICMP_TIMXCEED, ICMP_TIMXCEED_INTRANS, 0, 0);
    return;
  }
  const rt = ro !== null ? route_mpath(k, ro, dst) : rt_match(k, dst, RT_RESOLVE);
  if (rt === null) {
    if (tr !== null) ip_forward_tfn(k, m, ifp, ro, dst);
    if (tr !== null) tr.branch(k, m, 'ip_forward: no route to %a → icmp_error(host unreachable), ips_noroute', '', dst >>> 0);
    st.inc(ips_noroute);
    icmp_error(k, m, ICMP_UNREACH, ICMP_UNREACH_HOST, 0, 0);
    return;
  }
  // Keep the head of the packet for an ICMP error (OpenBSD keeps 68 bytes
  // on the stack): only what icmp_do_error quotes, the same error for less copying.
  const tot = (mb[mo + 2]! << 8) | mb[mo + 3]!;
  const quote = ((mb[mo]! & 0xf) << 2) + ICMP_QUOTE;
  const icmpLen = tot < quote ? tot : quote < ICMP_BUF ? quote : ICMP_BUF;
  const saved = inet.icmpSave;
  // At most 68 bytes, copied one by one: cheaper than a view or the whole
  // cluster.  The usual 28 (a 20-byte header and 8 of payload) unrolled:
  // about a third of the loop's time.
  if (icmpLen === IP_HDR_LEN + ICMP_QUOTE) {
    saved[0] = mb[mo]!; saved[1] = mb[mo + 1]!; saved[2] = mb[mo + 2]!; saved[3] = mb[mo + 3]!;
    saved[4] = mb[mo + 4]!; saved[5] = mb[mo + 5]!; saved[6] = mb[mo + 6]!; saved[7] = mb[mo + 7]!;
    saved[8] = mb[mo + 8]!; saved[9] = mb[mo + 9]!; saved[10] = mb[mo + 10]!; saved[11] = mb[mo + 11]!;
    saved[12] = mb[mo + 12]!; saved[13] = mb[mo + 13]!; saved[14] = mb[mo + 14]!; saved[15] = mb[mo + 15]!;
    saved[16] = mb[mo + 16]!; saved[17] = mb[mo + 17]!; saved[18] = mb[mo + 18]!; saved[19] = mb[mo + 19]!;
    saved[20] = mb[mo + 20]!; saved[21] = mb[mo + 21]!; saved[22] = mb[mo + 22]!; saved[23] = mb[mo + 23]!;
    saved[24] = mb[mo + 24]!; saved[25] = mb[mo + 25]!; saved[26] = mb[mo + 26]!; saved[27] = mb[mo + 27]!;
  } else for (let i = 0; i < icmpLen; i++) saved[i] = mb[mo + i]!;
  const mflags = m.m_flags;
  const pfflags = m.pf_flags;
  const rtableid = m.ph_rtableid;
  const loopcnt = m.ph_loopcnt;
  if (tr !== null) {
    if (ro !== null) tr.evi3(k, m, T_IP_INPUT_FORWARD_SEG, ifp, dst, ttl, ttl - IPTTLDEC);
    else tr.evi2(k, m, T_IP_FORWARD_SEG, ifp, ttl, ttl - IPTTLDEC);
  }
  // The journey of m, to attribute what happens after ip_output (ips_forward, errors) to it.
  const saveJourney = tr !== null ? tr.current : null;
  mb[mo + 8] = ttl - IPTTLDEC;

  // Redirect the sender when we forward out of the interface it came in on.
  const dest = rt.rt_ifidx === ifp.if_index ? ip_forward_redirect(k, m, flags, rt, dst) : 0;
  const error = ip_output(k, m, flags | IP_FORWARDING, ro ?? rt);
  if (tr !== null) {
    tr.current = saveJourney;
    if (error) tr.branch(k, null, 'ip_forward: ip_output failed (errno %d) → ips_cantforward', '', error);
  }
  if (error) st.inc(ips_cantforward);
  else {
    st.inc(ips_forward);
    if (dest === 0) return;
    st.inc(ips_redirectsent);
  }
  ip_forward_error(k, ifp, error, dest, icmpLen, mflags, pfflags, rtableid, loopcnt);
}

/** ip_forward's function event alone (an early exit), after ip_input's forwarding branch when it was called with ro. */
function ip_forward_tfn(k: Kernel, m: Mbuf, ifp: Ifnet, ro: Route | null, dst: number): void {
  if (ro !== null) k.trace!.evi1(k, m, T_IP_INPUT_FORWARD_FN, ifp, dst);
  else k.trace!.evi(k, m, T_IP_FORWARD, ifp);
}

/**
 * ip_forward's redirect test for a datagram going out the interface it came
 * in on: the gateway (or destination) to redirect the sender to, 0 for none.
 */
function ip_forward_redirect(k: Kernel, m: Mbuf, flags: number, rt: Rtentry, dst: number): number {
  if (rt.rt_flags & (RTF_DYNAMIC | RTF_MODIFIED) || rt.rt_dst === INADDR_ANY || flags & IP_REDIRECT ||
      k.inet.ipsendredirects.value === 0 || arpproxy(k, rt)) return 0;
  const ia = rt.rt_ifa!;
  const src = (m.buf[m.off + 12]! << 24) | (m.buf[m.off + 13]! << 16) | (m.buf[m.off + 14]! << 8) | m.buf[m.off + 15]!;
  if ((src & ia.mask) !== (ia.addr & ia.mask)) return 0;
  const dest = rt.rt_flags & RTF_GATEWAY ? rt.rt_gwaddr : dst >>> 0;
  if (k.trace !== null) k.trace.branch(k, m, 'ip_forward: out the interface it came in on, sender on that net → ICMP redirect to %a', '', dest);
  return dest;
}

/**
 * The rest of ip_forward after ip_output failed or a redirect is due (out
 * of line, off the hot path; the caller counted): the ICMP error quoting
 * the head of the datagram saved in inet.icmpSave.
 */
function ip_forward_error(
  k: Kernel, ifp: Ifnet, error: number, dest: number, icmpLen: number,
  mflags: number, pfflags: number, rtableid: number, loopcnt: number,
): void {
  const st = k.stats.ipstat;
  let type = dest !== 0 ? ICMP_REDIRECT : 0;
  let code = dest !== 0 ? ICMP_REDIRECT_HOST : 0;
  const ort: Rtentry | null = k.inet.ip_output_rt;
  let destmtu = 0;
  switch (error) {
    case 0:
      break;
    case EMSGSIZE:
      type = ICMP_UNREACH;
      code = ICMP_UNREACH_NEEDFRAG;
      if (ort !== null) {
        if (ort.rt_mtu !== 0) destmtu = ort.rt_mtu;
        else destmtu = k.ifnets[ort.rt_ifidx]?.if_mtu ?? 0;
      }
      st.inc(ips_cantfrag);
      if (destmtu === 0) return;
      break;
    case EACCES:
    case ENOBUFS:
      return;
    default:
      type = ICMP_UNREACH;
      code = ICMP_UNREACH_HOST;
      break;
  }
  const mcopy = k.mbufs.get(icmpLen);
  if (mcopy === null) return;
  mcopy.append(icmpLen);
  mcopy.buf.set(k.inet.icmpSave.subarray(0, icmpLen), mcopy.off);
  mcopy.m_flags |= mflags & (M_BCAST | M_MCAST);
  mcopy.ph_rtableid = rtableid;
  mcopy.ph_ifidx = ifp.if_index;
  mcopy.ph_loopcnt = loopcnt;
  mcopy.pf_flags |= pfflags & 0x01;
  icmp_error(k, mcopy, type, code, dest, destmtu);
}

/** arpproxy(): we publish the destination's ARP entry ourselves. */
function arpproxy(_k: Kernel, _rt: Rtentry): boolean {
  return false;
}
