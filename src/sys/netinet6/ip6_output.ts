/**
 * IPv6 output (sys/netinet6/ip6_output.c): complete the header of locally
 * originated datagrams (ip6s_localout), route them (multicast to the
 * given interface or through its ff02::%if route), pick a source address
 * when none was given (RFC 6724, ip6s_sources_none when there is none),
 * and send when the packet fits the path MTU.  Only the source fragments
 * (ip6_fragment: a fragment header, ip6s_fragmented, ip6s_ofragments); a
 * forwarded packet that does not fit comes back as EMSGSIZE for
 * ip6_forward to answer with Packet Too Big.  Embedded scope indexes are
 * cleared before a packet leaves on the wire.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { IFF_LOOPBACK, IFF_MULTICAST } from '../net/if.js';
import {
  M_BCAST, M_ICMP_CSUM_OUT, M_LOOP, M_MCAST, M_TCP_CSUM_OUT, M_UDP_CSUM_OUT, MbufList, type Mbuf,
} from '../kern/uipc_mbuf.js';
import {
  ip6s_badscope, ip6s_cantfrag, ip6s_fragmented, ip6s_localout, ip6s_noroute, ip6s_odropped, ip6s_ofragments,
  ip6s_sources_none,
} from '../kern/counters.gen.js';
import { EACCES, EADDRNOTAVAIL, EHOSTUNREACH, EMSGSIZE, ENETUNREACH, ENOBUFS, RT_RESOLVE, RTF_GATEWAY, RTF_LOCAL } from '../net/route.js';
import { rt6_match, rt6isvalid, type Rtentry6 } from '../net/route6.js';
import { Ipv6Packet, IP6_HDR_LEN, IP6F_MORE_FRAG, IPV6_MMTU } from '../../wire/ip6.js';
import { IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../../wire/ip4.js';
import { put16, put32 } from '../../wire/bytes.js';
import { rtable_loifp } from '../netinet/ip_output.js';
import {
  AF_INET6, IN6_ARE_ADDR_EQUAL, IN6_IS_ADDR_LOOPBACK, IN6_IS_ADDR_MULTICAST, IN6_IS_ADDR_UNSPECIFIED, IN6_IS_SCOPE_EMBED, in6_clearscope,
  in6_getscope, in6_setscope,
} from './in6_var.js';
import { in6_cksum, in6_ifawithscope } from './in6.js';
import { ip6_lasthdr } from './icmp6.js';
import { ether_output6 } from './nd6.js';
import { Route6 } from './inet6.js';
import { pf_test, PF_FWD, PF_OUT, AF_INET6 as PF_AF_INET6 } from '../net/pf.js';

// ip6_output() flags, netinet6/ip6_var.h
export const IPV6_UNSPECSRC = 0x01;
export const IPV6_FORWARDING = 0x02;
export const IPV6_MINMTU = 0x04;
export const IPV6_REDIRECT = 0x08;
export const IPV6_FORWARDING_IPSEC = 0x10;
/** IPV6_DONTFRAG socket option: never fragment, EMSGSIZE instead. */
export const IPV6_DONTFRAG = 0x20;

const ip6v = new Ipv6Packet();
const fragv = new Ipv6Packet();

/**
 * route6_mpath(): the cached route when still for dst and valid, else a
 * fresh lookup kept in ro.
 */
export function route6_mpath(k: Kernel, ro: Route6, b: Uint8Array, o: number): Rtentry6 | null {
  const rt = ro.ro_rt;
  if (rt !== null && rt.rt_intable && rt6isvalid(rt) && IN6_ARE_ADDR_EQUAL(ro.ro_dst, 0, b, o)) return rt;
  ro.ro_rt = rt6_match(k, b, o, RT_RESOLVE);
  ro.ro_dst.set(b.subarray(o, o + 16));
  return ro.ro_rt;
}

/** ip6_randomid(): a fragment identification from the kernel's stream. */
export function ip6_randomid(k: Kernel): number {
  return 1 + k.random.arc4random_uniform(0xfffffffe);
}

/**
 * ip6_output(): m starts at a complete IPv6 header (payload length is
 * filled in here).  mifp: the interface of a multicast (im6o_ifidx);
 * hlim >= 0 overrides the hop limit.  Returns 0 or an errno; m is
 * consumed either way.  The route used is left in k.inet6.ip6_output_rt.
 */
export function ip6_output(k: Kernel, m: Mbuf, flags: number, ro: Route6 | null = null, mifp: Ifnet | null = null, hlim = -1): number {
  const st = k.inet6;
  const stat = k.stats.ip6stat;
  st.ip6_output_rt = null;
  if (k.trace !== null) k.trace.fn(k, m, 'ip6_output');
  const b = m.buf;
  const ip6 = ip6v.wrap(b, m.off, m.len);
  if (!(flags & IPV6_FORWARDING)) {
    ip6.version = 6;
    ip6.payloadLength = m.len - IP6_HDR_LEN > 0xffff ? 0 : m.len - IP6_HDR_LEN;
    if (hlim >= 0) ip6.hopLimit = hlim;
    stat.inc(ip6s_localout);
  }
  const dst = ip6.dstOffset;
  const src = ip6.srcOffset;
  let ifp: Ifnet | null = null;
  let rt: Rtentry6 | null = null;
  let mtu: number;
  let nexthop: Uint8Array = b;
  let nho = dst;
  if (IN6_IS_ADDR_MULTICAST(b, dst)) {
    m.m_flags |= M_MCAST;
    if (mifp !== null) ifp = mifp;
    else {
      const zone = in6_getscope(b, dst);
      if (zone !== 0) ifp = k.ifnets[zone] ?? null;
      else {
        rt = rt6_match(k, b, dst, 0);
        if (rt !== null) ifp = k.ifnets[rt.rt_ifidx] ?? null;
      }
    }
    if (ifp === null || !(ifp.if_flags & IFF_MULTICAST)) {
      stat.inc(ip6s_noroute);
      return bad(k, m, ENETUNREACH, null, 'ip6_output: no interface for multicast');
    }
    in6_setscope(b, dst, ifp.if_index);
    if (!(flags & IPV6_FORWARDING) && hlim < 0 && ip6.hopLimit === 0) ip6.hopLimit = st.ip6_defmcasthlim.value;
    mtu = ifp.if_mtu;
  } else {
    if (ro !== null) rt = route6_mpath(k, ro, b, dst);
    else rt = rt6_match(k, b, dst, RT_RESOLVE);
    if (!rt6isvalid(rt)) {
      if (rt === null) stat.inc(ip6s_noroute);
      else stat.inc(ip6s_noroute);
      return bad(k, m, EHOSTUNREACH, rt, 'ip6_output: no route to host');
    }
    if (rt.rt_flags & RTF_LOCAL) ifp = rtable_loifp(k) ?? k.ifnets[rt.rt_ifidx] ?? null;
    else ifp = k.ifnets[rt.rt_ifidx] ?? null;
    if (ifp === null) {
      stat.inc(ip6s_noroute);
      return bad(k, m, EHOSTUNREACH, rt, 'ip6_output: route without interface');
    }
    mtu = rt.rt_mtu !== 0 ? rt.rt_mtu : ifp.if_mtu;
    if (rt.rt_flags & RTF_GATEWAY) {
      nexthop = rt.rt_gateway;
      nho = 0;
    }
  }
  // Source address selection for callers that left it open.
  if (!(flags & IPV6_FORWARDING) && IN6_IS_ADDR_UNSPECIFIED(b, src) && !(flags & IPV6_UNSPECSRC)) {
    const oifp = rt !== null && rt.rt_flags & RTF_LOCAL ? (k.ifnets[rt.rt_ifidx] ?? ifp) : ifp;
    const ia = in6_ifawithscope(k, oifp, b, dst);
    if (ia === null) {
      stat.inc(ip6s_sources_none);
      return bad(k, m, EADDRNOTAVAIL, rt, 'ip6_output: no source address');
    }
    b.set(ia.addr, src);
  }
  // Loopback addresses stay on lo0 (ip6_input drops them arriving elsewhere with the same counter).
  if (!(ifp.if_flags & IFF_LOOPBACK) && !(rt !== null && rt.rt_flags & RTF_LOCAL) &&
      (IN6_IS_ADDR_LOOPBACK(b, src) || IN6_IS_ADDR_LOOPBACK(b, dst))) {
    stat.inc(ip6s_badscope);
    return bad(k, m, EHOSTUNREACH, rt, 'ip6_output: loopback address off lo0');
  }
  // A scoped source must belong to the outgoing link.
  if (!(ifp.if_flags & IFF_LOOPBACK) && IN6_IS_SCOPE_EMBED(b, src) && in6_getscope(b, src) !== ifp.if_index &&
      !(rt !== null && rt.rt_flags & RTF_LOCAL)) {
    stat.inc(ip6s_badscope);
    return bad(k, m, EHOSTUNREACH, rt, 'ip6_output: source out of scope');
  }
  // pf_test(OUT) (FWD with IPV6_FORWARDING): after the route and source, before the checksum and the MTU.
  if (k.pf !== null) {
    const n = ip6_pf_test(k, flags & IPV6_FORWARDING ? PF_FWD : PF_OUT, ifp, m);
    if (n === null) {
      st.ip6_output_rt = rt;
      // route-to/reply-to sent it elsewhere (pf_route6): done, as ip_output
      return k.pf.taken ? 0 : EACCES;
    }
    if (n !== m && nexthop === b) {
      nexthop = n.buf;
      nho = n.off + 24;
    }
    m = n;
  }
  if (m.csum_flags & (M_ICMP_CSUM_OUT | M_TCP_CSUM_OUT | M_UDP_CSUM_OUT)) in6_proto_cksum_out(k, m);
  if (m.len <= mtu) {
    st.ip6_output_rt = rt;
    return ip6_send_if(k, ifp, m, nexthop, nho, rt);
  }
  if (flags & (IPV6_FORWARDING | IPV6_DONTFRAG)) {
    if (!(flags & IPV6_FORWARDING)) stat.inc(ip6s_cantfrag);
    return bad(k, m, EMSGSIZE, rt, 'ip6_output: too big, not fragmenting');
  }
  if (flags & IPV6_MINMTU || mtu < IPV6_MMTU) mtu = IPV6_MMTU;
  const ml = st.fragList;
  // the unfragmentable part: the IPv6 header and a hop-by-hop header; its last next header says fragment
  const fb = m.buf;
  let hlen = IP6_HDR_LEN;
  let nxtoff = m.off + 6;
  if (fb[nxtoff] === IPPROTO_HOPOPTS && m.len >= IP6_HDR_LEN + 8) {
    nxtoff = m.off + IP6_HDR_LEN;
    hlen += (fb[nxtoff + 1]! + 1) << 3;
  }
  const nextproto = fb[nxtoff]!;
  fb[nxtoff] = IPPROTO_FRAGMENT;
  let error = ip6_fragment(k, m, ml, hlen, nextproto, mtu);
  if (error === 0) {
    for (let f = ml.dequeue(); f !== null; f = ml.dequeue()) {
      const e = ip6_send_if(k, ifp, f, nexthop, nho, rt);
      if (e !== 0) {
        error = e;
        ml.purge();
        break;
      }
    }
    if (error === 0) stat.inc(ip6s_fragmented);
  }
  st.ip6_output_rt = rt;
  return error;
}

const lasthdr = { nxt: 0 };

/**
 * pf_test() on an outgoing or forwarded packet: pf sees the addresses as
 * on the wire (scopes cleared, as ip6_output/ip6_forward clear them
 * before pf); they are put back for the rest of the output path.
 */
export function ip6_pf_test(k: Kernel, dir: number, ifp: Ifnet, m: Mbuf): Mbuf | null {
  let b = m.buf;
  let o = m.off;
  const ss = IN6_IS_SCOPE_EMBED(b, o + 8) ? in6_getscope(b, o + 8) : 0;
  const ds = IN6_IS_SCOPE_EMBED(b, o + 24) ? in6_getscope(b, o + 24) : 0;
  if (ss !== 0) in6_clearscope(b, o + 8);
  if (ds !== 0) in6_clearscope(b, o + 24);
  const n = pf_test(k, PF_AF_INET6, dir, ifp, m);
  if (n === null) return null;
  b = n.buf;
  o = n.off;
  if (ss !== 0 && IN6_IS_SCOPE_EMBED(b, o + 8)) in6_setscope(b, o + 8, ss);
  if (ds !== 0 && IN6_IS_SCOPE_EMBED(b, o + 24)) in6_setscope(b, o + 24, ds);
  return n;
}

/**
 * in6_proto_cksum_out(): fill in the upper-layer checksum the caller left
 * to us (csum_flags M_ICMP_CSUM_OUT / M_TCP_CSUM_OUT / M_UDP_CSUM_OUT),
 * now that the source address is known.
 */
export function in6_proto_cksum_out(k: Kernel, m: Mbuf): void {
  const off = ip6_lasthdr(m, lasthdr);
  m.csum_flags &= ~(M_ICMP_CSUM_OUT | M_TCP_CSUM_OUT | M_UDP_CSUM_OUT);
  if (off < 0) return;
  let field: number;
  switch (lasthdr.nxt) {
    case IPPROTO_ICMPV6: field = 2; break;
    case IPPROTO_TCP: field = 16; break;
    case IPPROTO_UDP: field = 6; break;
    default: return;
  }
  const len = m.len - off;
  if (len < field + 2) return;
  const b = m.buf;
  const at = m.off + off + field;
  b[at] = 0;
  b[at + 1] = 0;
  let c = in6_cksum(k, m, lasthdr.nxt, off, len);
  if (c === 0 && lasthdr.nxt === IPPROTO_UDP) c = 0xffff;
  b[at] = c >>> 8;
  b[at + 1] = c & 0xff;
}

function bad(k: Kernel, m: Mbuf, error: number, rt: Rtentry6 | null, why: string): number {
  if (k.trace !== null) k.trace.drop(k, m, why);
  m.free();
  k.inet6.ip6_output_rt = rt;
  return error;
}

/**
 * ip6_fragment(): split m into fragments of at most mtu bytes on ml.  The
 * first hlen bytes (the unfragmentable part, its last next header already
 * IPPROTO_FRAGMENT) go in front of each; nextproto is the fragment
 * header's next header.  pf_refragment6 calls it too.
 */
export function ip6_fragment(k: Kernel, m0: Mbuf, ml: MbufList, hlen: number, nextproto: number, mtu: number): number {
  const stat = k.stats.ip6stat;
  const b0 = m0.buf;
  const tlen = m0.len - hlen;
  const len = (mtu - hlen - 8) & ~7;
  if (len < 8) {
    stat.inc(ip6s_odropped);
    m0.free();
    return EMSGSIZE;
  }
  const id = ip6_randomid(k);
  let n = 0;
  for (let off = 0; off < tlen; off += len) {
    const flen = Math.min(len, tlen - off);
    const m = k.mbufs.get(hlen + 8 + flen);
    if (m === null) {
      stat.inc(ip6s_odropped);
      ml.purge();
      m0.free();
      return ENOBUFS;
    }
    m.copyPkthdr(m0);
    m.append(hlen + 8 + flen);
    const b = m.buf;
    b.set(b0.subarray(m0.off, m0.off + hlen), m.off);
    const fh = m.off + hlen;
    b[fh] = nextproto;
    b[fh + 1] = 0;
    put16(b, fh + 2, off | (off + flen < tlen ? IP6F_MORE_FRAG : 0));
    put32(b, fh + 4, id);
    b.set(b0.subarray(m0.off + hlen + off, m0.off + hlen + off + flen), fh + 8);
    fragv.wrap(b, m.off, m.len).payloadLength = m.len - IP6_HDR_LEN;
    if (k.trace !== null) k.trace.caused(m, 'ip6_fragment');
    ml.enqueue(m);
    n++;
  }
  m0.free();
  stat.add(ip6s_ofragments, n);
  return 0;
}

/**
 * ifp->if_output() for IPv6: lo0 and packets to ourselves keep their
 * scopes; on the wire they are cleared and the next hop resolved.
 */
export function ip6_send_if(k: Kernel, ifp: Ifnet, m: Mbuf, nexthop: Uint8Array, nho: number, rt: Rtentry6 | null): number {
  m.ph_family = AF_INET6;
  if (rt !== null && rt.rt_flags & RTF_LOCAL && !(ifp.if_flags & IFF_LOOPBACK)) return ip6_loop_local(k, ifp, m);
  if (ifp.if_flags & IFF_LOOPBACK) return ifp.if_output(ifp, m, null, rt);
  // The next hop may be the packet's own destination: keep its scope.
  const nh = k.inet6.addrScratch2;
  nh.set(nexthop.subarray(nho, nho + 16));
  const b = m.buf;
  in6_clearscope(b, m.off + 8);
  in6_clearscope(b, m.off + 24);
  return ether_output6(ifp, m, nh, 0, rt);
}

/** Without lo0, a datagram to ourselves goes back in from a softnet task. */
export function ip6_loop_local(k: Kernel, ifp: Ifnet, m: Mbuf): number {
  m.m_flags |= M_LOOP;
  m.m_flags &= ~(M_BCAST | M_MCAST);
  m.ph_ifidx = ifp.if_index;
  k.inet6.loopq.enqueue(m);
  k.softnet.add(k.inet6.loopTask);
  return 0;
}

/** ip6_send(): output from the input path (replies and errors). */
export function ip6_send(k: Kernel, m: Mbuf): void {
  ip6_output(k, m, 0, null);
}

