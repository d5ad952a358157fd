/**
 * IPv4 output (sys/netinet/ip_output.c): fill in the header of locally
 * originated datagrams (ip_id from the kernel's random stream, ips_localout),
 * find the route and the source address, check broadcasts, send when it
 * fits the MTU, else refuse (DF: EMSGSIZE, ips_cantfrag) or fragment
 * (ip_fragment: ips_fragmented, ips_ofragments).  Errors are returned to the
 * caller as errno values, as in OpenBSD: ip_forward turns them into
 * ips_cantforward and ICMP errors, a socket into its send error.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { IFF_BROADCAST, IFF_LOOPBACK, IFF_MULTICAST, IFT_LOOP } from '../net/if.js';
import { MbufList } from '../kern/uipc_mbuf.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import * as uipc_mbuf_ from '../kern/uipc_mbuf.js';
import * as counters_gen_ from '../kern/counters.gen.js';
import { Ipv4Packet } from '../../wire/ip4.js';
import * as ip4_ from '../../wire/ip4.js';
import {
  EACCES, EADDRNOTAVAIL, EHOSTUNREACH, EMSGSIZE, ENETUNREACH, ENOBUFS, RTF_BROADCAST, RTF_GATEWAY, RTF_HOST,
  RTF_LOCAL, RTV_MTU, RT_RESOLVE, rt_match, rtisvalid, AF_INET, type Rtentry,
} from '../net/route.js';
import { IN_MULTICAST, INADDR_ANY } from './in.js';
import { ipv4_input } from './ip_input.js';
import { pf_test, PF_FWD, PF_OUT, AF_INET as PF_AF_INET } from '../net/pf.js';
import { tcp_delayed_cksum, tcp_if_output_tso } from './tcp_tso.js';
import { traceEvent, traceSegment, type TraceCode } from '../kern/kern_trace.js';

/** INADDR_BROADCAST as an int32, a literal: the import is a heap number (0xffffffff) converted at every use. */
const INADDR_BROADCAST_I32 = -1;

// Imported constants and functions as the module's own constants: V8
// folds a module's const like a literal, but reads an imported binding from
// its cell, with a TDZ check, at every use (dozens per forwarded packet).
// Only from modules without imports back here, so they are always
// initialized first.
const { M_BCAST, M_LOOP, M_MCAST, M_TCP_CSUM_OUT, M_TCP_TSO } = uipc_mbuf_;
const { ips_cantfrag, ips_fragmented, ips_localout, ips_noroute, ips_odropped, ips_ofragments } = counters_gen_;
const { IP_DF, IP_HDR_LEN, IP_MF, IPVERSION, ipoptCopied, ipv4FillChecksum20, IPOPT_EOL, IPOPT_NOP } = ip4_;

// Trace events (kern_trace.ts): ip_output by flags, the route (gateway, local), the checksum.
const T_IP_OUTPUT_FORWARDED = traceEvent('fn', 'ip_output', 'forwarded', false);
const T_IP_OUTPUT_RAW = traceEvent('fn', 'ip_output', 'raw (header included)', false);
const T_IP_OUTPUT_LOCAL = traceEvent('fn', 'ip_output', 'from this host', false);
const T_ROUTE_DIRECT = traceEvent('branch', 'ip_output: route to %a via direct on %s');
const T_ROUTE_DIRECT_LOCAL = traceEvent('branch', 'ip_output: route to %a via direct on %s (local address)');
const T_ROUTE_GATEWAY = traceEvent('branch', 'ip_output: route to %a via gateway %a on %s');
const T_ROUTE_GATEWAY_LOCAL = traceEvent('branch', 'ip_output: route to %a via gateway %a on %s (local address)');
const T_IP_SUM = traceEvent('bytes', 'ip_output: ip_sum 0x%x → 0x%x');
// The function event with the route, and with the checksum change after
// it: one record where nothing happens between them (the common path), by
// tfn * 2 + (route to a local address ? 1 : 0).  A datagram of this host
// has its function event recorded first (ip_output_fill counts before the
// route): its records are the route's alone.
const T_OUT_DIRECT: Array<TraceCode<1>> = [];
const T_OUT_DIRECT_SUM: Array<TraceCode<3>> = [];
const T_OUT_GATEWAY: Array<TraceCode<2>> = [];
const T_OUT_GATEWAY_SUM: Array<TraceCode<4>> = [];
for (const fn of [T_IP_OUTPUT_FORWARDED, T_IP_OUTPUT_RAW]) {
  for (const [direct, gateway] of [[T_ROUTE_DIRECT, T_ROUTE_GATEWAY], [T_ROUTE_DIRECT_LOCAL, T_ROUTE_GATEWAY_LOCAL]] as const) {
    T_OUT_DIRECT.push(traceSegment(fn, direct));
    T_OUT_DIRECT_SUM.push(traceSegment(fn, direct, T_IP_SUM));
    T_OUT_GATEWAY.push(traceSegment(fn, gateway));
    T_OUT_GATEWAY_SUM.push(traceSegment(fn, gateway, T_IP_SUM));
  }
}
for (const [direct, gateway] of [[T_ROUTE_DIRECT, T_ROUTE_GATEWAY], [T_ROUTE_DIRECT_LOCAL, T_ROUTE_GATEWAY_LOCAL]] as const) {
  T_OUT_DIRECT.push(direct);
  T_OUT_DIRECT_SUM.push(traceSegment(direct, T_IP_SUM));
  T_OUT_GATEWAY.push(gateway);
  T_OUT_GATEWAY_SUM.push(traceSegment(gateway, T_IP_SUM));
}

// ip_output() flags, netinet/ip_var.h
export const IP_FORWARDING = 0x1;
export const IP_RAWOUTPUT = 0x2;
export const IP_REDIRECT = 0x4;
export const IP_FORWARDING_IPSEC = 0x8;
/** SO_BROADCAST */
export const IP_ALLOWBROADCAST = 0x20;
export const IP_MTUDISC = 0x800;
export const IP_DEFAULT_MULTICAST_TTL = 1;

/** struct route: a cached route for a destination. */
export class Route {
  ro_rt: Rtentry | null = null;
  ro_dst = 0;
}

/**
 * route_mpath(): the cached route when it is still for dst and valid, else a
 * fresh lookup (which counts a use) kept in ro.
 */
export function route_mpath(k: Kernel, ro: Route, dst: number): Rtentry | null {
  const rt = ro.ro_rt;
  // Compared as int32: callers pass u32 or int32 (the forwarding path) addresses.
  if (rt !== null && (ro.ro_dst | 0) === (dst | 0) && rt.rt_intable && rtisvalid(rt)) return rt;
  ro.ro_rt = rt_match(k, dst, RT_RESOLVE);
  ro.ro_dst = dst;
  return ro.ro_rt;
}

/** Extra outputs of one ip_output() call that callers may want. */
export interface IpOutputOptions {
  /** IP_MULTICAST_IF / a broadcast to a given interface (imo_ifidx). */
  ifp?: Ifnet | null;
  /** IP_MULTICAST_TTL */
  mttl?: number;
}

const ipv = new Ipv4Packet();
const fragv = new Ipv4Packet();

/** ip_randomid(): a nonzero random IP id from the kernel's stream. */
export function ip_randomid(k: Kernel): number {
  return 1 + k.random.arc4random_uniform(0xffff);
}

/**
 * ip_output(): m starts at a complete IPv4 header.  ro (optional) is the
 * caller's cached route; its ro_rt is left on the route used.  Returns 0
 * or an errno; m is consumed either way.  The route used is left in
 * k.inet.ip_output_rt (ip_forward reads its MTU for need-frag errors).
 */
export function ip_output(k: Kernel, m: Mbuf, flags: number, ro: Route | Rtentry | null = null, opts?: IpOutputOptions): number {
  const st = k.stats.ipstat;
  const inet = k.inet;
  inet.ip_output_rt = null;
  const tr = k.trace;
  // A forwarded or raw datagram's function event is recorded with the
  // route (and the checksum change, see tseg), or alone by each exit
  // before the route (ip_output_tfn).
  if (!(flags & (IP_FORWARDING | IP_RAWOUTPUT))) {
    if (tr !== null) tr.ev(k, m, T_IP_OUTPUT_LOCAL);
    ip_output_fill(k, m);
  }
  // The header's bytes read directly: view getters inlined here spend the inlining budget.
  let b = m.buf;
  let o = m.off;
  const hlen = (b[o]! & 0xf) << 2;
  // Addresses as int32 here (INADDR_BROADCAST is -1): no heap numbers per packet.
  const dstaddr = (b[o + 16]! << 24) | (b[o + 17]! << 16) | (b[o + 18]! << 8) | b[o + 19]!;
  // Never to 0/8 (RFC 1122 3.2.1.3).
  if (dstaddr >>> 24 === 0) {
    if (tr !== null) ip_output_tfn(k, m, flags);
    return bad(k, m, ENETUNREACH, null);
  }

  let rt: Rtentry | null;
  let cache: Route | null = null;
  if (ro instanceof Route) {
    cache = ro;
    rt = ro.ro_rt !== null && (ro.ro_dst | 0) === dstaddr && ro.ro_rt.rt_intable && rtisvalid(ro.ro_rt) ? ro.ro_rt : null;
  } else rt = ro;

  let ifp: Ifnet | null;
  let mtu: number;
  let nexthop = dstaddr;
  /** The route's trace record when it waits for the checksum change (T_OUT_*_SUM's index), else -1. */
  let tseg = -1;
  const mcastOrBcast = IN_MULTICAST(dstaddr) || dstaddr === INADDR_BROADCAST_I32;
  if (mcastOrBcast && opts?.ifp) {
    if (tr !== null) ip_output_tfn(k, m, flags);
    ifp = opts.ifp;
    mtu = ifp.if_mtu;
    if (ipv4_src_any(b, o) && ifp.if_addrs.length > 0) ipv.wrap(b, o, m.len).src = ifp.if_addrs[0]!.addr;
  } else {
    if (rt === null) rt = rt_match(k, dstaddr, RT_RESOLVE);
    if (rt === null) {
      if (tr !== null) {
        ip_output_tfn(k, m, flags);
        tr.drop(k, m, 'ip_output: no route to %a → EHOSTUNREACH, ips_noroute', '', dstaddr);
      }
      st.inc(ips_noroute);
      return bad(k, m, EHOSTUNREACH, null);
    }
    if (cache !== null) {
      cache.ro_rt = rt;
      cache.ro_dst = dstaddr;
    }
    if (rt.rt_flags & RTF_LOCAL) ifp = rtable_loifp(k) ?? k.ifnets[rt.rt_ifidx] ?? null;
    else ifp = k.ifnets[rt.rt_ifidx] ?? null;
    if (ifp === null) {
      if (tr !== null) ip_output_tfn(k, m, flags);
      st.inc(ips_noroute);
      return bad(k, m, EHOSTUNREACH, rt);
    }
    mtu = rt.rt_mtu !== 0 ? rt.rt_mtu : ifp.if_mtu;
    if (rt.rt_flags & RTF_GATEWAY) nexthop = rt.rt_gwaddr | 0;
    if (rt.rt_ifa !== null && ipv4_src_any(b, o)) ipv.wrap(b, o, m.len).src = rt.rt_ifa.addr;
    if (tr !== null) {
      const i = (flags & IP_FORWARDING ? 0 : flags & IP_RAWOUTPUT ? 2 : 4) | (rt.rt_flags & RTF_LOCAL ? 1 : 0);
      // Straight on to the checksum (nothing recorded between): one record there.
      if (!mcastOrBcast && !(rt.rt_flags & RTF_BROADCAST) && k.pf === null && !(m.csum_flags & (M_TCP_TSO | M_TCP_CSUM_OUT)) &&
        ((b[o + 2]! << 8) | b[o + 3]!) <= mtu) tseg = i;
      else ip_output_troute(k, m, ifp, rt, i, dstaddr, nexthop);
    }
  }

  if (mcastOrBcast) {
    const error = ip_output_mcast(k, m, ifp, dstaddr, opts);
    if (error >= 0) return bad(k, m, error, rt);
    nexthop = dstaddr;
  }

  if (dstaddr === INADDR_BROADCAST_I32 || (rt !== null && rt.rt_flags & RTF_BROADCAST)) {
    if (!(ifp.if_flags & IFF_BROADCAST)) return bad(k, m, EADDRNOTAVAIL, rt);
    if (!(flags & IP_ALLOWBROADCAST)) return bad(k, m, EACCES, rt);
    // Broadcasts are not fragmented.
    if (((b[o + 2]! << 8) | b[o + 3]!) > ifp.if_mtu) return bad(k, m, EMSGSIZE, rt);
    m.m_flags |= M_BCAST;
  } else m.m_flags &= ~M_BCAST;

  // pf_test(OUT), or FWD for a forwarded packet: after the route, before the MTU.
  if (k.pf !== null) {
    const n = pf_test(k, PF_AF_INET, flags & IP_FORWARDING ? PF_FWD : PF_OUT, ifp, m);
    if (n === null) {
      inet.ip_output_rt = rt;
      // route-to/reply-to sent it elsewhere: done, as OpenBSD
      return k.pf.taken ? 0 : EACCES;
    }
    m = n;
    b = m.buf;
    o = m.off;
  }
  if (flags & IP_MTUDISC && rt !== null && !(rt.rt_locks & RTV_MTU)) b[o + 6] = b[o + 6]! | (IP_DF >> 8);

  // if_output_tso(): a TSO segment goes whole to a driver that cuts it, or in pieces.
  if (m.csum_flags & (M_TCP_TSO | M_TCP_CSUM_OUT)) {
    if (m.csum_flags & M_TCP_TSO) {
      ipv.wrap(b, o, m.len).fillChecksum();
      const e = tcp_if_output_tso(k, ifp, m, nexthop, rt, mtu);
      if (e >= 0) {
        inet.ip_output_rt = rt;
        return e;
      }
    }
    tcp_delayed_cksum(k, m);
  }

  if (((b[o + 2]! << 8) | b[o + 3]!) <= mtu) {
    const osum = tr !== null ? (b[o + 10]! << 8) | b[o + 11]! : 0;
    if ((b[o]! & 0xf) === IP_HDR_LEN >> 2) ipv4FillChecksum20(b, o);
    else ipv.wrap(b, o, m.len).fillChecksum();
    if (tr !== null) {
      const sum = (b[o + 10]! << 8) | b[o + 11]!;
      if (tseg >= 0 && osum !== sum && !(rt!.rt_flags & RTF_GATEWAY)) tr.evin3(k, m, T_OUT_DIRECT_SUM[tseg]!, ifp, dstaddr, osum, sum);
      else ip_output_tsum(k, m, ifp, rt, tseg, dstaddr, nexthop, osum, sum);
    }
    inet.ip_output_rt = rt;
    return if_output(k, ifp, m, nexthop, rt);
  }
  return ip_output_frag(k, m, ifp, rt, mtu, hlen, nexthop);
}

/** ip_output's function event alone (an exit before the route; a datagram of this host's was recorded first). */
function ip_output_tfn(k: Kernel, m: Mbuf, flags: number): void {
  if (flags & (IP_FORWARDING | IP_RAWOUTPUT)) k.trace!.ev(k, m, flags & IP_FORWARDING ? T_IP_OUTPUT_FORWARDED : T_IP_OUTPUT_RAW);
}

/** ip_output's function and route events (T_OUT_* index i) when the checksum is not next. */
function ip_output_troute(k: Kernel, m: Mbuf, ifp: Ifnet, rt: Rtentry, i: number, dstaddr: number, nexthop: number): void {
  if (rt.rt_flags & RTF_GATEWAY) k.trace!.evi2(k, m, T_OUT_GATEWAY[i]!, ifp, dstaddr, nexthop);
  else k.trace!.evi1(k, m, T_OUT_DIRECT[i]!, ifp, dstaddr);
}

/**
 * The checksum change (when there is one), with the function and route
 * events when they wait for it (tseg >= 0, see ip_output_troute), but for
 * the common case, which ip_output records itself.
 */
function ip_output_tsum(k: Kernel, m: Mbuf, ifp: Ifnet, rt: Rtentry | null, tseg: number, dstaddr: number, nexthop: number, osum: number, sum: number): void {
  const tr = k.trace!;
  if (tseg < 0) {
    if (osum !== sum) tr.ev2(k, m, T_IP_SUM, osum, sum);
  } else if (osum === sum) ip_output_troute(k, m, ifp, rt!, tseg, dstaddr, nexthop);
  else if (rt!.rt_flags & RTF_GATEWAY) tr.evi4(k, m, T_OUT_GATEWAY_SUM[tseg]!, ifp, dstaddr, nexthop, osum, sum);
  else tr.evi3(k, m, T_OUT_DIRECT_SUM[tseg]!, ifp, dstaddr, osum, sum);
}

/** ip_output() for a datagram of this host: version, header length, ip_off and a random id (out of line). */
function ip_output_fill(k: Kernel, m: Mbuf): void {
  const ip = ipv.wrap(m.buf, m.off, m.len);
  ip.version = IPVERSION;
  if (ip.ihl < 5) ip.ihl = 5;
  ip.ipOff = ip.ipOff & IP_DF;
  ip.id = ip_randomid(k);
  k.stats.ipstat.inc(ips_localout);
}

/** ip_src is INADDR_ANY. */
function ipv4_src_any(b: Uint8Array, o: number): boolean {
  return (b[o + 12]! | b[o + 13]! | b[o + 14]! | b[o + 15]!) === 0;
}

/**
 * ip_output()'s multicast and broadcast part (out of line): flags and TTL
 * set, the interface checked; -1 to go on, else the errno to fail with
 * (the caller frees m).
 */
function ip_output_mcast(k: Kernel, m: Mbuf, ifp: Ifnet, dstaddr: number, opts: IpOutputOptions | undefined): number {
  const ip = ipv.wrap(m.buf, m.off, m.len);
  m.m_flags |= dstaddr === INADDR_BROADCAST_I32 ? M_BCAST : M_MCAST;
  if (IN_MULTICAST(dstaddr)) ip.ttl = opts?.mttl ?? IP_DEFAULT_MULTICAST_TTL;
  if ((m.m_flags & M_MCAST && !(ifp.if_flags & IFF_MULTICAST)) || (m.m_flags & M_BCAST && !(ifp.if_flags & IFF_BROADCAST))) {
    k.stats.ipstat.inc(ips_noroute);
    return ENETUNREACH;
  }
  if (ip.srcI32 === INADDR_ANY && ifp.if_addrs.length > 0) ip.src = ifp.if_addrs[0]!.addr;
  if (IN_MULTICAST(dstaddr) && (ip.ttl === 0 || ifp.if_flags & IFF_LOOPBACK)) return 0;
  return -1;
}

/** ip_output() of a datagram larger than the MTU (out of line): EMSGSIZE with DF, else ip_fragment. */
function ip_output_frag(k: Kernel, m: Mbuf, ifp: Ifnet, rt: Rtentry | null, mtu: number, hlen: number, nexthop: number): number {
  const st = k.stats.ipstat;
  const inet = k.inet;
  const tr = k.trace;
  const ip = ipv.wrap(m.buf, m.off, m.len);
  if (tr !== null) tr.branch(k, m, ip.ipOff & IP_DF ? 'ip_output: %d bytes > mtu %d of %s → DF set: EMSGSIZE, ips_cantfrag' : 'ip_output: %d bytes > mtu %d of %s → ip_fragment', '', ip.totalLength, mtu, 0, ifp.if_xname);
  if (ip.ipOff & IP_DF) {
    // The interface MTU may have shrunk under a host route's.
    if (rt !== null && rtisvalid(rt) && rt.rt_flags & RTF_HOST && !(rt.rt_locks & RTV_MTU) && rt.rt_mtu > ifp.if_mtu)
      rt.rt_mtu = ifp.if_mtu;
    st.inc(ips_cantfrag);
    return bad(k, m, EMSGSIZE, rt);
  }
  const ml = inet.fragList;
  let error = ip_fragment(k, m, ml, ifp, mtu, hlen);
  if (error === 0) {
    for (let f = ml.dequeue(); f !== null; f = ml.dequeue()) {
      const e = if_output(k, ifp, f, nexthop, rt);
      if (e !== 0 && error === 0) error = e;
      if (e !== 0) {
        ml.purge();
        break;
      }
    }
    if (error === 0) st.inc(ips_fragmented);
  }
  inet.ip_output_rt = rt;
  return error;
}

function bad(k: Kernel, m: Mbuf, error: number, rt: Rtentry | null): number {
  if (k.trace !== null) k.trace.drop(k, m, 'ip_output: error %d → packet freed', '', error);
  m.free();
  k.inet.ip_output_rt = rt;
  return error;
}

/**
 * ip_fragment(): split m into fragments of at most mtu bytes on ml (the
 * first is m itself, trimmed).  Options marked "copied" go into every
 * fragment (ip_optcopy).
 */
export function ip_fragment(k: Kernel, m0: Mbuf, ml: MbufList, _ifp: Ifnet, mtu: number, hlen: number): number {
  const st = k.stats.ipstat;
  ml.enqueue(m0);
  const ip = ipv.wrap(m0.buf, m0.off, m0.len);
  const tlen = m0.len;
  let len = (mtu - hlen) & ~7;
  if (len < 8) {
    st.inc(ips_odropped);
    ml.purge();
    return EMSGSIZE;
  }
  const firstlen = len;
  const ipoff0 = ip.ipOff;
  // The header of later fragments: copied options only.
  const opt = k.inet.optScratch;
  let mhlen = IP_HDR_LEN;
  if (hlen > IP_HDR_LEN) mhlen = ip_optcopy(m0.buf, m0.off, hlen, opt);
  for (let off = hlen + firstlen; off < tlen; off += len) {
    const m = k.mbufs.get(mhlen + len);
    if (m === null) {
      st.inc(ips_odropped);
      ml.purge();
      return ENOBUFS;
    }
    ml.enqueue(m);
    m.copyPkthdr(m0);
    if (k.trace !== null) k.trace.caused(m, `ip_fragment: fragment at offset ${off - hlen}`);
    if (off + len >= tlen) len = tlen - off;
    m.append(mhlen + len);
    m.buf.set(m0.buf.subarray(m0.off, m0.off + IP_HDR_LEN), m.off);
    if (mhlen > IP_HDR_LEN) m.buf.set(opt.subarray(0, mhlen - IP_HDR_LEN), m.off + IP_HDR_LEN);
    m.buf.set(m0.buf.subarray(m0.off + off, m0.off + off + len), m.off + mhlen);
    const mh = fragv.wrap(m.buf, m.off, m.len);
    mh.ihl = mhlen >> 2;
    let o = ((off - hlen) >> 3) + (ipoff0 & ~IP_MF);
    if (ipoff0 & IP_MF || off + len < tlen) o |= IP_MF;
    mh.ipOff = o;
    mh.totalLength = mhlen + len;
    mh.fillChecksum();
  }
  if (hlen + firstlen < tlen) {
    m0.truncate(hlen + firstlen);
    ip.ipOff = ip.ipOff | IP_MF;
  }
  ipv.wrap(m0.buf, m0.off, m0.len);
  ipv.totalLength = m0.len;
  ipv.fillChecksum();
  st.add(ips_ofragments, ml.len);
  return 0;
}

/** ip_optcopy(): the options that must be copied into later fragments, padded; returns the header length. */
function ip_optcopy(b: Uint8Array, off: number, hlen: number, dst: Uint8Array): number {
  let cp = off + IP_HDR_LEN;
  let cnt = hlen - IP_HDR_LEN;
  let n = 0;
  while (cnt > 0) {
    const o = b[cp]!;
    if (o === IPOPT_EOL) break;
    let optlen: number;
    if (o === IPOPT_NOP) {
      // Preserve alignment of later options.
      dst[n++] = IPOPT_NOP;
      optlen = 1;
    } else {
      optlen = cnt >= 2 ? b[cp + 1]! : 0;
      if (optlen < 2 || optlen > cnt) break;
      if (ipoptCopied(o)) {
        dst.set(b.subarray(cp, cp + optlen), n);
        n += optlen;
      }
    }
    cp += optlen;
    cnt -= optlen;
  }
  while (n & 3) dst[n++] = IPOPT_EOL;
  return IP_HDR_LEN + n;
}

/** rtable_loindex(): the loopback interface of the routing domain. */
export function rtable_loifp(k: Kernel): Ifnet | null {
  for (const ifp of k.ifnets) if (ifp !== undefined && ifp.if_type === IFT_LOOP) return ifp;
  return null;
}

/**
 * ifp->if_output(): ether_output on Ethernet, looutput on lo0.  A datagram
 * to one of our addresses goes through lo0; a kernel without lo0 loops it
 * back itself (ip_loop_local).
 */
export function if_output(k: Kernel, ifp: Ifnet, m: Mbuf, dst: number, rt: Rtentry | null): number {
  m.ph_family = AF_INET;
  if (k.trace !== null && rt !== null && rt.rt_flags & RTF_LOCAL) k.trace.branch(k, m, ifp.if_flags & IFF_LOOPBACK ? 'if_output: to ourselves → looutput' : 'if_output: to ourselves → ip_loop_local');
  if (rt !== null && rt.rt_flags & RTF_LOCAL && !(ifp.if_flags & IFF_LOOPBACK)) return ip_loop_local(k, ifp, m);
  return ifp.if_output(ifp, m, dst, rt);
}

/**
 * ip_loop_local(): without lo0, a datagram to ourselves goes back in through
 * the interface owning the address, from a softnet task.
 */
export function ip_loop_local(k: Kernel, ifp: Ifnet, m: Mbuf): number {
  m.m_flags |= M_LOOP;
  m.m_flags &= ~(M_BCAST | M_MCAST);
  m.ph_ifidx = ifp.if_index;
  k.inet.loopq.enqueue(m);
  k.softnet.add(k.inet.loopTask);
  return 0;
}

/** The softnet task draining looped-back datagrams. */
export function loop_task(k: Kernel): void {
  const q = k.inet.loopq;
  for (let m = q.dequeue(); m !== null; m = q.dequeue()) {
    const ifp = k.ifnets[m.ph_ifidx];
    if (ifp === undefined) {
      m.free();
      continue;
    }
    ipv4_input(ifp, m);
  }
}

