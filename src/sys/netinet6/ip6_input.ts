/**
 * IPv6 input (sys/netinet6/ip6_input.c, dest6.c, route6.c, raw_ip6.c):
 * ipv6_check() with OpenBSD's address checks (each drop counted, mostly
 * ip6s_badscope), the input histogram by next header, scope embedding of
 * link-local addresses, the type 0 routing header scan (RFC 5095, refused
 * with a parameter problem), multicast membership, local delivery
 * (ip6_ours: hop-by-hop options, payload length, then the header chain
 * through the protocol switch), or forwarding (ip6_forward, gated by
 * net.inet6.ip6.forwarding).
 *
 * Local delivery runs in the same call, as ip_deliver does for IPv4 here
 * (OpenBSD queues it on ip6intr first).
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { IFF_ALLMULTI, IFF_LOOPBACK, IFF_PROMISC, IFT_ETHER } from '../net/if.js';
import { M_BCAST, M_LOOP, M_MCAST, type Mbuf } from '../kern/uipc_mbuf.js';
import {
  ip6s_badoptions, ip6s_badscope, ip6s_badvers, ip6s_cantforward, ip6s_delivered, ip6s_notmember, ip6s_nxthist,
  ip6s_tooshort, ip6s_toosmall, ip6s_toomanyhdr, ip6s_total, ip6s_wrongif, rip6s_ipackets, rip6s_nosock,
  rip6s_nosockmcast,
} from '../kern/counters.gen.js';
import { RTF_LOCAL } from '../net/route.js';
import { get16 } from '../../wire/bytes.js';
import {
  Ipv6Packet, IP6_HDR_LEN, IP6OPT_JUMBO, IP6OPT_MINLEN, IP6OPT_PAD1, IP6OPT_PADN, IP6OPT_ROUTER_ALERT,
  IP6OPT_RTALERT_LEN, IP6OPT_TYPE_DISCARD, IP6OPT_TYPE_FORCEICMP, IP6OPT_TYPE_ICMP, IP6OPT_TYPE_SKIP,
  IPV6_RTHDR_TYPE_0, ip6OptType,
} from '../../wire/ip6.js';
import {
  IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMPV6, IPPROTO_NONE, IPPROTO_ROUTING,
} from '../../wire/ip4.js';
import { ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, ICMP6_PARAMPROB_NEXTHEADER, ICMP6_PARAMPROB_OPTION } from '../../wire/icmp6.js';
import {
  IN6_ARE_ADDR_EQUAL, IN6_IFF_DUPLICATED, IN6_IFF_TENTATIVE, IN6_IS_ADDR_LOOPBACK, IN6_IS_ADDR_MC_INTFACELOCAL, IN6_IS_ADDR_MC_LINKLOCAL,
  IN6_IS_ADDR_MULTICAST, IN6_IS_ADDR_UNSPECIFIED, IN6_IS_ADDR_V4COMPAT, IN6_IS_ADDR_V4MAPPED, IN6_IS_SCOPE_EMBED, in6_clearscope, in6_getscope,
} from './in6_var.js';
import { in6_hasmulti } from './in6.js';
import { icmp6_error } from './icmp6.js';
import { IPV6_FORWARDING, IPV6_FORWARDING_IPSEC, IPV6_REDIRECT, route6_mpath } from './ip6_output.js';
import { pf_test, PF_IN, AF_INET6 as PF_AF_INET6 } from '../net/pf.js';
import { ip6_forward } from './ip6_forward.js';
import { ip6x_mcastfilter, ip6x_optdiscard, ip6x_tentative } from './inet6.js';

export const IPPROTO_DONE = 257;

const ip6v = new Ipv6Packet();

/** ipv6_input(): from ether_input (ETHERTYPE_IPV6) and lo0, m at the IPv6 header. */
export function ipv6_input(ifp: Ifnet, m: Mbuf): void {
  const k = ifp.kernel;
  if (m.m_flags & M_MCAST && ifp.if_type === IFT_ETHER && !ether_mcast_wanted(k, ifp, m)) {
    // A NIC's multicast filter never lets this frame in; count it here instead.
    k.inet6.ip6xstat.inc(ip6x_mcastfilter);
    drop(k, m, 'ipv6_input: multicast group not joined (NIC filter)');
    return;
  }
  ip6_input_if(k, m, ifp);
}

/**
 * The receive filter of a NIC: a 33:33:xx:xx:xx:xx frame is taken when a
 * group joined on ifp maps to it (or the interface is promiscuous or
 * listens to all multicast).  The Ethernet header is still in front of m.
 */
function ether_mcast_wanted(k: Kernel, ifp: Ifnet, m: Mbuf): boolean {
  if (ifp.if_flags & (IFF_PROMISC | IFF_ALLMULTI)) return true;
  const b = m.buf;
  const e = m.off - 14;
  if (e < 0 || b[e] !== 0x33 || b[e + 1] !== 0x33) return true;
  const l = k.inet6.multi[ifp.if_index];
  if (l === undefined) return false;
  for (const g of l) {
    const a = g.addr;
    if (a[12] === b[e + 2] && a[13] === b[e + 3] && a[14] === b[e + 4] && a[15] === b[e + 5]) return true;
  }
  return false;
}

function drop(k: Kernel, m: Mbuf, why: string): void {
  if (k.trace !== null) k.trace.drop(k, m, why);
  m.free();
}

/** ipv6_check(): the header and address checks; false when m was freed. */
export function ipv6_check(k: Kernel, ifp: Ifnet, m: Mbuf): boolean {
  const st = k.stats.ip6stat;
  if (m.len < IP6_HDR_LEN) {
    st.inc(ip6s_toosmall);
    drop(k, m, 'ipv6_check: shorter than an IPv6 header');
    return false;
  }
  const b = m.buf;
  const ip6 = ip6v.wrap(b, m.off, m.len);
  if (ip6.version !== 6) {
    st.inc(ip6s_badvers);
    drop(k, m, 'ipv6_check: version not 6');
    return false;
  }
  const src = ip6.srcOffset;
  const dst = ip6.dstOffset;
  const loop = (ifp.if_flags & IFF_LOOPBACK) !== 0;
  let why: string | null = null;
  if (IN6_IS_ADDR_MULTICAST(b, src) || IN6_IS_ADDR_UNSPECIFIED(b, dst)) why = 'multicast source or unspecified destination';
  else if ((IN6_IS_ADDR_LOOPBACK(b, src) || IN6_IS_ADDR_LOOPBACK(b, dst)) && !loop) why = '::1 on the wire';
  else if (((IN6_IS_SCOPE_EMBED(b, src) && (b[src + 2] | b[src + 3]) !== 0) ||
      (IN6_IS_SCOPE_EMBED(b, dst) && (b[dst + 2] | b[dst + 3]) !== 0)) && !loop) why = 'scope index already filled in';
  else if (IN6_IS_ADDR_MC_INTFACELOCAL(b, dst) && !(m.m_flags & M_LOOP)) why = 'interface-local multicast from the wire';
  else if (IN6_IS_ADDR_V4MAPPED(b, src) || IN6_IS_ADDR_V4MAPPED(b, dst)) why = 'IPv4-mapped address';
  else if (IN6_IS_ADDR_V4COMPAT(b, src) || IN6_IS_ADDR_V4COMPAT(b, dst)) why = 'IPv4-compatible address';
  if (why !== null) {
    st.inc(ip6s_badscope);
    drop(k, m, `ipv6_check: ${why}`);
    return false;
  }
  return true;
}

/** ip6_input_if() */
export function ip6_input_if(k: Kernel, m: Mbuf, ifp: Ifnet): void {
  const st = k.stats.ip6stat;
  const inet6 = k.inet6;
  if (k.trace !== null) k.trace.fn(k, m, 'ip6_input', ifp.if_xname);
  st.inc(ip6s_total);
  if (m.ph_ifidx === 0) m.ph_ifidx = ifp.if_index;
  if (!ipv6_check(k, ifp, m)) return;
  st.inc(ip6s_nxthist + m.buf[m.off + 6]!);
  let flags = 0;
  // A packet on lo0 comes with its scopes embedded (our own, looped back):
  // pf sees the addresses as on the wire, so they are cleared around
  // pf_test(IN) and put back after it, as ip6_input does.
  let srcScope = 0;
  let dstScope = 0;
  if (ifp.if_flags & IFF_LOOPBACK) {
    const b0 = m.buf;
    const o0 = m.off;
    srcScope = in6_getscope(b0, o0 + 8);
    dstScope = in6_getscope(b0, o0 + 24);
    in6_clearscope(b0, o0 + 8);
    in6_clearscope(b0, o0 + 24);
  }
  // pf_test(IN) before the scopes are embedded; an rdr-to that moved the destination sets IPV6_REDIRECT.
  if (k.pf !== null) {
    const odst = inet6.addrScratch;
    odst.set(m.buf.subarray(m.off + 24, m.off + 40));
    const n = pf_test(k, PF_AF_INET6, PF_IN, ifp, m);
    if (n === null) return;
    m = n;
    if (!IN6_ARE_ADDR_EQUAL(odst, 0, m.buf, m.off + 24)) flags |= IPV6_REDIRECT;
  }
  const b = m.buf;
  const ip6 = ip6v.wrap(b, m.off, m.len);
  switch (inet6.ip6_forwarding.value) {
    case 2:
      flags |= IPV6_FORWARDING_IPSEC | IPV6_FORWARDING;
      break;
    case 1:
      flags |= IPV6_FORWARDING;
      break;
  }
  const src = ip6.srcOffset;
  const dst = ip6.dstOffset;
  // Without embedded scope the routing table cannot find link-local addresses.
  if (ifp.if_flags & IFF_LOOPBACK) {
    if (IN6_IS_SCOPE_EMBED(b, src)) {
      b[src + 2] = srcScope >>> 8;
      b[src + 3] = srcScope & 0xff;
    }
    if (IN6_IS_SCOPE_EMBED(b, dst)) {
      b[dst + 2] = dstScope >>> 8;
      b[dst + 3] = dstScope & 0xff;
    }
  } else {
    const idx = ifp.if_index;
    if (IN6_IS_SCOPE_EMBED(b, src)) {
      b[src + 2] = idx >>> 8;
      b[src + 3] = idx & 0xff;
    }
    if (IN6_IS_SCOPE_EMBED(b, dst)) {
      b[dst + 2] = idx >>> 8;
      b[dst + 3] = idx & 0xff;
    }
  }
  const rh0 = ip6_check_rh0hdr(m);
  if (rh0 >= 0) {
    st.inc(ip6s_badoptions);
    if (k.trace !== null) k.trace.branch(k, m, 'ip6_input: type 0 routing header → parameter problem');
    icmp6_error(k, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, rh0);
    return;
  }
  if (IN6_IS_ADDR_MULTICAST(b, dst)) {
    m.m_flags |= M_MCAST;
    if (!in6_hasmulti(k, b, dst, ifp)) {
      st.inc(ip6s_notmember);
      if (!IN6_IS_ADDR_MC_LINKLOCAL(b, dst)) st.inc(ip6s_cantforward);
      drop(k, m, 'ip6_input: not a member of the group');
      return;
    }
    if (k.trace !== null) k.trace.branch(k, m, 'ip6_input: member of the group → ip6_ours');
    ip6_ours(k, m, ifp, flags);
    return;
  }
  const ro = inet6.ns_route;
  ro.ro_rt = null;
  const rt = route6_mpath(k, ro, b, dst);
  if (rt !== null && rt.rt_flags & RTF_LOCAL) {
    if (!(flags & IPV6_FORWARDING) && rt.rt_ifidx !== ifp.if_index && !(ifp.if_flags & IFF_LOOPBACK)) {
      st.inc(ip6s_wrongif);
      drop(k, m, 'ip6_input: our address, received on the wrong interface');
      return;
    }
    const ia = rt.rt_ifa;
    if (ia !== null && ia.ia6_flags & (IN6_IFF_TENTATIVE | IN6_IFF_DUPLICATED)) {
      inet6.ip6xstat.inc(ip6x_tentative);
      drop(k, m, 'ip6_input: to a tentative or duplicated address');
      return;
    }
    if (k.trace !== null) k.trace.branch(k, m, 'ip6_input: RTF_LOCAL → ip6_ours');
    ip6_ours(k, m, ifp, flags);
    return;
  }
  if (!(flags & IPV6_FORWARDING)) {
    st.inc(ip6s_cantforward);
    drop(k, m, 'ip6_input: not ours and net.inet6.ip6.forwarding=0');
    return;
  }
  const r = ip6_hbhchcheck(k, m, flags, true);
  if (r === IPPROTO_DONE) return;
  if (inet6.hbh_ours) {
    ip6_deliver(k, m, inet6.offp, r, ifp);
    return;
  }
  if (k.trace !== null) k.trace.branch(k, m, 'ip6_input: not ours, forwarding → ip6_forward');
  ip6_forward(k, m, ro, flags);
}

/**
 * ip6_check_rh0hdr(): scan the chain for a type 0 routing header (or two
 * routing headers, or one cut short); the offset to point the parameter
 * problem at, or -1.
 */
export function ip6_check_rh0hdr(m: Mbuf): number {
  const b = m.buf;
  const base = m.off;
  let proto = b[base + 6]!;
  let off = IP6_HDR_LEN;
  const lim = Math.min(m.len, get16(b, base + 4) + IP6_HDR_LEN);
  let rh_cnt = 0;
  for (;;) {
    switch (proto) {
      case IPPROTO_ROUTING:
        if (rh_cnt++) return off;
        if (off + 4 > lim) return off;
        if (b[base + off + 2] === IPV6_RTHDR_TYPE_0) return off + 2;
        proto = b[base + off]!;
        off += (b[base + off + 1]! + 1) * 8;
        break;
      case IPPROTO_AH:
      case IPPROTO_HOPOPTS:
      case IPPROTO_DSTOPTS:
        if (off + 2 > lim) return -1;
        {
          const nxt = b[base + off]!;
          off += proto === IPPROTO_AH ? (b[base + off + 1]! + 2) * 4 : (b[base + off + 1]! + 1) * 8;
          proto = nxt;
        }
        break;
      default:
        return -1;
    }
  }
}

/** ip6_ours(): hop-by-hop options and length, then local delivery. */
export function ip6_ours(k: Kernel, m: Mbuf, ifp: Ifnet, flags: number): void {
  const nxt = ip6_hbhchcheck(k, m, flags, false);
  if (nxt === IPPROTO_DONE) return;
  ip6_deliver(k, m, k.inet6.offp, nxt, ifp);
}

/**
 * ip6_hbhchcheck(): process a hop-by-hop header, check the payload length
 * against the packet (ip6s_tooshort) and trim link-layer padding.  The
 * next header (its offset in k.inet6.offp), or IPPROTO_DONE when m was
 * consumed.  k.inet6.hbh_ours tells a router that a router alert option
 * makes the packet ours.
 */
export function ip6_hbhchcheck(k: Kernel, m: Mbuf, flags: number, router: boolean): number {
  const st = k.stats.ip6stat;
  const inet6 = k.inet6;
  const b = m.buf;
  const ip6 = ip6v.wrap(b, m.off, m.len);
  let plen = ip6.payloadLength;
  let nxt: number;
  inet6.offp = IP6_HDR_LEN;
  inet6.hbh_ours = false;
  if (ip6.nextHeader === IPPROTO_HOPOPTS) {
    inet6.rtalert = -1;
    if (!ip6_hopopts_input(k, m)) return IPPROTO_DONE;
    if (plen === 0) {
      // Jumbograms are not supported: a zero payload length is an error.
      st.inc(ip6s_badoptions);
      icmp6_error(k, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, 4);
      return IPPROTO_DONE;
    }
    nxt = b[m.off + IP6_HDR_LEN]!;
    if (inet6.rtalert !== -1 && flags & IPV6_FORWARDING && router) inet6.hbh_ours = true;
    plen = ip6v.wrap(b, m.off, m.len).payloadLength;
  } else nxt = ip6.nextHeader;
  if (m.len - IP6_HDR_LEN < plen) {
    st.inc(ip6s_tooshort);
    drop(k, m, 'ip6_hbhchcheck: shorter than the payload length');
    return IPPROTO_DONE;
  }
  if (m.len > IP6_HDR_LEN + plen) m.truncate(IP6_HDR_LEN + plen);
  return nxt;
}

/** ip6_hopopts_input(): the hop-by-hop header right after the IPv6 header; false when m was consumed. */
function ip6_hopopts_input(k: Kernel, m: Mbuf): boolean {
  const st = k.stats.ip6stat;
  if (m.len < IP6_HDR_LEN + 2) {
    st.inc(ip6s_tooshort);
    drop(k, m, 'ip6_hopopts_input: hop-by-hop header cut short');
    return false;
  }
  const hbhlen = (m.buf[m.off + IP6_HDR_LEN + 1]! + 1) << 3;
  if (m.len < IP6_HDR_LEN + hbhlen) {
    st.inc(ip6s_tooshort);
    drop(k, m, 'ip6_hopopts_input: hop-by-hop header cut short');
    return false;
  }
  if (!ip6_process_hopopts(k, m, IP6_HDR_LEN + 2, hbhlen - 2, true)) return false;
  k.inet6.offp = IP6_HDR_LEN + hbhlen;
  return true;
}

/**
 * ip6_process_hopopts() (and dest6_input's loop): the options at packet
 * offset opt, hbhlen bytes.  False when m was consumed.
 */
function ip6_process_hopopts(k: Kernel, m: Mbuf, opt: number, hbhlen: number, hbh: boolean): boolean {
  const st = k.stats.ip6stat;
  const b = m.buf;
  const base = m.off;
  let optlen: number;
  for (; hbhlen > 0; hbhlen -= optlen, opt += optlen) {
    const type = b[base + opt]!;
    if (type === IP6OPT_PAD1) {
      optlen = 1;
      continue;
    }
    if (hbhlen < IP6OPT_MINLEN || (!hbh && b[base + opt + 1]! + 2 > hbhlen)) {
      st.inc(ip6s_toosmall);
      drop(k, m, 'ip6_process_hopopts: option cut short');
      return false;
    }
    if (type === IP6OPT_PADN) {
      optlen = b[base + opt + 1]! + 2;
    } else if (hbh && type === IP6OPT_ROUTER_ALERT) {
      if (hbhlen < IP6OPT_RTALERT_LEN) {
        st.inc(ip6s_toosmall);
        drop(k, m, 'ip6_process_hopopts: router alert cut short');
        return false;
      }
      if (b[base + opt + 1] !== IP6OPT_RTALERT_LEN - 2) {
        icmp6_error(k, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, opt + 1);
        return false;
      }
      optlen = IP6OPT_RTALERT_LEN;
      k.inet6.rtalert = get16(b, base + opt + 2);
    } else if (hbh && type === IP6OPT_JUMBO) {
      // No jumbograms here (ip6_output never makes them): refuse the option.
      st.inc(ip6s_badoptions);
      icmp6_error(k, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, opt);
      return false;
    } else {
      const r = ip6_unknown_opt(k, m, opt);
      if (r < 0) return false;
      optlen = r + 2;
    }
  }
  return true;
}

/** ip6_unknown_opt(): what the option type's two high bits say; its data length, or -1 when m was consumed. */
export function ip6_unknown_opt(k: Kernel, m: Mbuf, off: number): number {
  const b = m.buf;
  const type = b[m.off + off]!;
  switch (ip6OptType(type)) {
    case IP6OPT_TYPE_SKIP:
      return b[m.off + off + 1]!;
    case IP6OPT_TYPE_DISCARD:
      k.inet6.ip6xstat.inc(ip6x_optdiscard);
      drop(k, m, 'ip6_unknown_opt: unknown option, discard');
      return -1;
    case IP6OPT_TYPE_FORCEICMP:
      k.stats.ip6stat.inc(ip6s_badoptions);
      icmp6_error(k, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_OPTION, off);
      return -1;
    case IP6OPT_TYPE_ICMP:
    default:
      k.stats.ip6stat.inc(ip6s_badoptions);
      if (IN6_IS_ADDR_MULTICAST(b, m.off + 24) || m.m_flags & (M_BCAST | M_MCAST)) drop(k, m, 'ip6_unknown_opt: unknown option to multicast');
      else icmp6_error(k, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_OPTION, off);
      return -1;
  }
}

/** ip_deliver() for AF_INET6: walk the header chain through the protocol switch. */
export function ip6_deliver(k: Kernel, m: Mbuf, off: number, nxt: number, ifp: Ifnet): void {
  const st = k.stats.ip6stat;
  const inet6 = k.inet6;
  st.inc(ip6s_delivered);
  let nest = 0;
  while (nxt !== IPPROTO_DONE) {
    if (++nest > inet6.ip6_hdrnestlimit.value) {
      st.inc(ip6s_toomanyhdr);
      drop(k, m, 'ip6_deliver: too many extension headers');
      return;
    }
    if (m.len < off) {
      st.inc(ip6s_tooshort);
      drop(k, m, 'ip6_deliver: header chain runs past the packet');
      return;
    }
    const input = inet6.pr_input[nxt] ?? rip6_input;
    if (k.trace !== null) k.trace.branch(k, m, `ip6_deliver: next header ${nxt}`);
    inet6.offp = off;
    inet6.mp = m;
    nxt = input(k, m, off, nxt, ifp);
    off = inet6.offp;
    m = inet6.mp ?? m;
    inet6.mp = null;
  }
}

/**
 * rip6_input(): raw IPv6 delivery.  ICMPv6 goes to the raw ICMPv6
 * listeners (ping6); other protocols have no raw socket: parameter
 * problem (unknown next header) and rip6s_nosock, as OpenBSD.
 */
export function rip6_input(k: Kernel, m: Mbuf, off: number, nxt: number, ifp: Ifnet): number {
  const r = k.stats.rip6stat;
  r.inc(rip6s_ipackets);
  void ifp;
  if (nxt === IPPROTO_ICMPV6) {
    const ls = k.inet6.icmp6Listeners;
    if (ls.size > 0) {
      for (const l of ls) l(m.buf, m.off, m.len, off, m.ph_ifidx);
      m.free();
      return IPPROTO_DONE;
    }
    m.free();
  } else {
    r.inc(rip6s_nosock);
    if (m.m_flags & M_MCAST) r.inc(rip6s_nosockmcast);
    if (nxt === IPPROTO_NONE) drop(k, m, 'rip6_input: no next header');
    else {
      if (k.trace !== null) k.trace.branch(k, m, 'rip6_input: no socket → parameter problem (next header)');
      icmp6_error(k, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER, ip6_get_prevhdr(m, off));
    }
  }
  k.stats.ip6stat.dec(ip6s_delivered);
  return IPPROTO_DONE;
}

/** ip6_get_prevhdr(): the offset of the next-header field that names the header at off. */
export function ip6_get_prevhdr(m: Mbuf, off: number): number {
  if (off === IP6_HDR_LEN) return 6;
  const b = m.buf;
  const base = m.off;
  let nxt = b[base + 6]!;
  let len = IP6_HDR_LEN;
  let prev = 6;
  while (len < off) {
    prev = len;
    const h = base + len;
    if (nxt === IPPROTO_FRAGMENT) len += 8;
    else if (nxt === IPPROTO_AH) len += (b[h + 1]! + 2) << 2;
    else len += (b[h + 1]! + 1) << 3;
    nxt = b[h]!;
  }
  return prev;
}

/** dest6_input(): a destination options header. */
export function dest6_input(k: Kernel, m: Mbuf, off: number, _nxt: number, _ifp: Ifnet): number {
  const st = k.stats.ip6stat;
  if (m.len < off + 2) {
    st.inc(ip6s_tooshort);
    drop(k, m, 'dest6_input: header cut short');
    return IPPROTO_DONE;
  }
  const b = m.buf;
  const len = (b[m.off + off + 1]! + 1) << 3;
  if (m.len < off + len) {
    st.inc(ip6s_tooshort);
    drop(k, m, 'dest6_input: header cut short');
    return IPPROTO_DONE;
  }
  const next = b[m.off + off]!;
  if (!ip6_process_hopopts(k, m, off + 2, len - 2, false)) return IPPROTO_DONE;
  k.inet6.offp = off + len;
  return next;
}

/** route6_input(): a routing header (type 0 was refused in ip6_input); only a finished one is passed. */
export function route6_input(k: Kernel, m: Mbuf, off: number, _nxt: number, _ifp: Ifnet): number {
  const st = k.stats.ip6stat;
  if (m.len < off + 4) {
    st.inc(ip6s_tooshort);
    drop(k, m, 'route6_input: header cut short');
    return IPPROTO_DONE;
  }
  const b = m.buf;
  const segleft = b[m.off + off + 3]!;
  if (segleft === 0) {
    k.inet6.offp = off + ((b[m.off + off + 1]! + 1) << 3);
    return b[m.off + off]!;
  }
  st.inc(ip6s_badoptions);
  icmp6_error(k, m, ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, off + 2);
  return IPPROTO_DONE;
}

/** The softnet task draining datagrams looped back without lo0. */
export function ip6_loop_task(k: Kernel): void {
  const q = k.inet6.loopq;
  for (let m = q.dequeue(); m !== null; m = q.dequeue()) {
    const ifp = k.ifnets[m.ph_ifidx];
    if (ifp === undefined) {
      m.free();
      continue;
    }
    // A packet to ourselves keeps its scope: deliver it as lo0 would.
    ip6_input_local(k, m, ifp);
  }
}

/** Input of a packet we sent ourselves (scopes already embedded). */
function ip6_input_local(k: Kernel, m: Mbuf, ifp: Ifnet): void {
  const st = k.stats.ip6stat;
  if (k.trace !== null) k.trace.fn(k, m, 'ip6_input', ifp.if_xname);
  st.inc(ip6s_total);
  if (m.len < IP6_HDR_LEN) {
    st.inc(ip6s_toosmall);
    drop(k, m, 'ipv6_check: shorter than an IPv6 header');
    return;
  }
  st.inc(ip6s_nxthist + m.buf[m.off + 6]!);
  ip6_ours(k, m, ifp, 0);
}

/** Whether ifp does neighbor discovery (nd6_need_cache). */
export function nd6_need_cache(ifp: Ifnet): boolean {
  return ifp.if_type === IFT_ETHER;
}
