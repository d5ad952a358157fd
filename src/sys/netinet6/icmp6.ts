/**
 * ICMPv6 (sys/netinet6/icmp6.c): icmp6_input (length and checksum, the
 * input histogram, code checks, echo replies, ND and MLD messages to
 * their handlers, errors to the quoted protocol's ctlinput and path MTU,
 * everything to raw listeners), icmp6_error with OpenBSD's rules (not
 * about ICMPv6 errors or redirects, not to multicast except Packet Too
 * Big and option problems, not from :: or multicast sources, rate
 * limited by net.inet6.icmp6.errppslimit), the error histogram
 * (icmp6_errcount) and icmp6_reflect.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { M_BCAST, M_MCAST, PF_TAG_GENERATED, type Mbuf } from '../kern/uipc_mbuf.js';
import {
  icp6s_badcode, icp6s_badlen, icp6s_canterror, icp6s_checksum, icp6s_error, icp6s_inhist, icp6s_odst_unreach_addr,
  icp6s_odst_unreach_admin, icp6s_odst_unreach_beyondscope, icp6s_odst_unreach_noport, icp6s_odst_unreach_noroute,
  icp6s_opacket_too_big, icp6s_oparamprob_header, icp6s_oparamprob_nextheader, icp6s_oparamprob_option,
  icp6s_oredirect, icp6s_otime_exceed_reassembly, icp6s_otime_exceed_transit, icp6s_ounknown, icp6s_outhist,
  icp6s_pmtuchg, icp6s_reflect, icp6s_tooshort, icp6s_toofreq,
} from '../kern/counters.gen.js';
import {
  ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, ICMP6_DST_UNREACH_ADMIN, ICMP6_DST_UNREACH_BEYONDSCOPE,
  ICMP6_DST_UNREACH_NOPORT, ICMP6_DST_UNREACH_NOROUTE, ICMP6_ECHO_REPLY, ICMP6_ECHO_REQUEST, ICMP6_PACKET_TOO_BIG,
  ICMP6_PARAM_PROB, ICMP6_PARAMPROB_HEADER, ICMP6_PARAMPROB_NEXTHEADER, ICMP6_PARAMPROB_OPTION,
  ICMP6_TIME_EXCEED_REASSEMBLY, ICMP6_TIME_EXCEED_TRANSIT, ICMP6_TIME_EXCEEDED, ICMPV6_PLD_MAXLEN,
  MLD_LISTENER_DONE, MLD_LISTENER_QUERY, MLD_LISTENER_REPORT, MLD_MINLEN, ND_NEIGHBOR_ADVERT, ND_NEIGHBOR_SOLICIT,
  ND_REDIRECT, ND_ROUTER_ADVERT, ND_ROUTER_SOLICIT,
} from '../../wire/icmp6.js';
import { IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ICMPV6, IPPROTO_ROUTING } from '../../wire/ip4.js';
import { get16, get32, put32 } from '../../wire/bytes.js';
import { IP6_HDR_LEN, Ipv6Packet } from '../../wire/ip6.js';
import { RT_RESOLVE, RTF_DYNAMIC, RTF_GATEWAY, RTF_HOST, RTF_LOCAL, RTM_ADD, RTV_MTU } from '../net/route.js';
import { rt6_match, rt6isvalid, rtrequest6 } from '../net/route6.js';
import {
  PRC_HOSTDEAD, PRC_MSGSIZE, PRC_PARAMPROB, PRC_TIMXCEED_INTRANS, PRC_TIMXCEED_REASS, PRC_UNREACH_NET,
  PRC_UNREACH_PORT, PRC_UNREACH_PROTOCOL, ppsratecheck, M_MAXLOOP,
} from '../netinet/ip_icmp.js';
import {
  IN6_IFF_ANYCAST, IN6_IFF_DUPLICATED, IN6_IFF_TENTATIVE, IN6_IS_ADDR_MULTICAST, IN6_IS_ADDR_UNSPECIFIED,
  in6_clearscope, in6_setscope,
} from './in6_var.js';
import { in6_cksum, in6_ifawithscope } from './in6.js';
import { IPPROTO_DONE, rip6_input } from './ip6_input.js';
import { ip6_output } from './ip6_output.js';
import { nd6_na_input, nd6_ns_input } from './nd6_nbr.js';
import { mld6_input } from './mld6.js';
import { nd6_rtr_cache } from './nd6_rtr.js';

/** PRC_NCMDS: what an unknown ICMPv6 error type is delivered as. */
export const PRC_NCMDS = 24;

const ip6v = new Ipv6Packet();
const ip6q = new Ipv6Packet();

/** icmp6_errcount(): the per-type error histogram. */
function icmp6_errcount(k: Kernel, type: number, code: number): void {
  let c = icp6s_ounknown;
  switch (type) {
    case ICMP6_DST_UNREACH:
      switch (code) {
        case ICMP6_DST_UNREACH_NOROUTE: c = icp6s_odst_unreach_noroute; break;
        case ICMP6_DST_UNREACH_ADMIN: c = icp6s_odst_unreach_admin; break;
        case ICMP6_DST_UNREACH_BEYONDSCOPE: c = icp6s_odst_unreach_beyondscope; break;
        case ICMP6_DST_UNREACH_ADDR: c = icp6s_odst_unreach_addr; break;
        case ICMP6_DST_UNREACH_NOPORT: c = icp6s_odst_unreach_noport; break;
      }
      break;
    case ICMP6_PACKET_TOO_BIG:
      c = icp6s_opacket_too_big;
      break;
    case ICMP6_TIME_EXCEEDED:
      if (code === ICMP6_TIME_EXCEED_TRANSIT) c = icp6s_otime_exceed_transit;
      else if (code === ICMP6_TIME_EXCEED_REASSEMBLY) c = icp6s_otime_exceed_reassembly;
      break;
    case ICMP6_PARAM_PROB:
      if (code === ICMP6_PARAMPROB_HEADER) c = icp6s_oparamprob_header;
      else if (code === ICMP6_PARAMPROB_NEXTHEADER) c = icp6s_oparamprob_nextheader;
      else if (code === ICMP6_PARAMPROB_OPTION) c = icp6s_oparamprob_option;
      break;
    case ND_REDIRECT:
      c = icp6s_oredirect;
      break;
  }
  k.stats.icmp6stat.inc(c);
}

/** icmp6_ratelimit(): true when the error must not be sent. */
export function icmp6_ratelimit(k: Kernel): boolean {
  return !ppsratecheck(k, k.inet6.icmp6rl, k.inet6.icmp6errppslim.value);
}

/**
 * ip6_lasthdr(): the offset and protocol of the last header of the chain
 * (ICMPv6 or an upper layer); -1 when the chain is cut short.
 */
export function ip6_lasthdr(m: Mbuf, out: { nxt: number }): number {
  const b = m.buf;
  const base = m.off;
  let nxt = b[base + 6]!;
  let off = IP6_HDR_LEN;
  for (let n = 0; n < 64; n++) {
    if (nxt === IPPROTO_HOPOPTS || nxt === IPPROTO_DSTOPTS || nxt === IPPROTO_ROUTING || nxt === IPPROTO_AH) {
      if (off + 2 > m.len) return -1;
      const l = nxt === IPPROTO_AH ? (b[base + off + 1]! + 2) << 2 : (b[base + off + 1]! + 1) << 3;
      nxt = b[base + off]!;
      off += l;
    } else if (nxt === IPPROTO_FRAGMENT) {
      if (off + 8 > m.len) return -1;
      // Only the first fragment holds the upper layer header.
      if ((get16(b, base + off + 2) & 0xfff8) !== 0) {
        out.nxt = IPPROTO_FRAGMENT;
        return off;
      }
      nxt = b[base + off]!;
      off += 8;
    } else break;
  }
  out.nxt = nxt;
  return off;
}

const lasthdr = { nxt: 0 };

/**
 * icmp6_do_error(): turn n into the error about it (n consumed).  The new
 * packet, or null when OpenBSD's rules say no.
 */
export function icmp6_do_error(k: Kernel, m: Mbuf, type: number, code: number, param: number): Mbuf | null {
  const st = k.stats.icmp6stat;
  st.inc(icp6s_error);
  icmp6_errcount(k, type, code);
  if (m.len < IP6_HDR_LEN) return freeit(k, m, 'icmp6_error: shorter than an IPv6 header');
  const b = m.buf;
  const oip6 = ip6v.wrap(b, m.off, m.len);
  if ((m.m_flags & (M_BCAST | M_MCAST) || IN6_IS_ADDR_MULTICAST(b, oip6.dstOffset)) &&
      type !== ICMP6_PACKET_TOO_BIG && (type !== ICMP6_PARAM_PROB || code !== ICMP6_PARAMPROB_OPTION))
    return freeit(k, m, 'icmp6_error: not about multicast');
  if (IN6_IS_ADDR_UNSPECIFIED(b, oip6.srcOffset) || IN6_IS_ADDR_MULTICAST(b, oip6.srcOffset))
    return freeit(k, m, 'icmp6_error: source unspecified or multicast');
  const off = ip6_lasthdr(m, lasthdr);
  if (off >= 0 && lasthdr.nxt === IPPROTO_ICMPV6) {
    if (off + 8 > m.len) {
      st.inc(icp6s_tooshort);
      return freeit(k, m, 'icmp6_error: quoted ICMPv6 cut short');
    }
    const t = b[m.off + off]!;
    if (t < ICMP6_ECHO_REQUEST || t === ND_REDIRECT) {
      st.inc(icp6s_canterror);
      return freeit(k, m, 'icmp6_error: not about an ICMPv6 error');
    }
  }
  if (icmp6_ratelimit(k)) {
    st.inc(icp6s_toofreq);
    return freeit(k, m, 'icmp6_error: rate limited (net.inet6.icmp6.errppslimit)');
  }
  if (m.len >= ICMPV6_PLD_MAXLEN) m.truncate(ICMPV6_PLD_MAXLEN);
  const preplen = IP6_HDR_LEN + 8;
  if (!m.prepend(preplen)) return freeit(k, m, 'icmp6_error: no room');
  const nb = m.buf;
  const n = m.off;
  // New header: the quoted addresses, turned around by icmp6_reflect.
  nb.copyWithin(n, n + preplen, n + preplen + IP6_HDR_LEN);
  in6_clearscope(nb, n + preplen + 8);
  in6_clearscope(nb, n + preplen + 24);
  nb[n + IP6_HDR_LEN] = type;
  nb[n + IP6_HDR_LEN + 1] = code;
  put32(nb, n + IP6_HDR_LEN + 4, param >>> 0);
  m.ph_ifidx = 0;
  st.inc(icp6s_outhist + type);
  if (k.trace !== null) k.trace.caused(m, `icmp6_error: type ${type} code ${code}`);
  return m;
}

function freeit(k: Kernel, m: Mbuf, why: string): null {
  if (k.trace !== null) k.trace.drop(k, m, why);
  m.free();
  return null;
}

/** icmp6_error(): send an ICMPv6 error about m (consumed) back to its source. */
export function icmp6_error(k: Kernel, m: Mbuf, type: number, code: number, param: number): void {
  if (k.trace !== null) k.trace.fn(k, m, 'icmp6_error');
  const n = icmp6_do_error(k, m, type, code, param);
  if (n !== null && icmp6_reflect(k, n, IP6_HDR_LEN) === 0) icmp6_send(k, n);
}

/** icmp6_input(): m at the IPv6 header, ICMPv6 at off. */
export function icmp6_input(k: Kernel, m: Mbuf, off: number, _nxt: number, ifp: Ifnet): number {
  const st = k.stats.icmp6stat;
  if (k.trace !== null) k.trace.fn(k, m, 'icmp6_input', ifp.if_xname);
  const icmp6len = m.len - off;
  if (icmp6len < 8) {
    st.inc(icp6s_tooshort);
    freeit(k, m, 'icmp6_input: shorter than an ICMPv6 header');
    return IPPROTO_DONE;
  }
  if (in6_cksum(k, m, IPPROTO_ICMPV6, off, icmp6len) !== 0) {
    st.inc(icp6s_checksum);
    freeit(k, m, 'icmp6_input: bad checksum');
    return IPPROTO_DONE;
  }
  const b = m.buf;
  const p = m.off + off;
  const type = b[p]!;
  let code = b[p + 1]!;
  st.inc(icp6s_inhist + type);
  let deliver = false;
  let badcode = false;
  let badlen = false;
  switch (type) {
    case ICMP6_DST_UNREACH:
      switch (code) {
        case ICMP6_DST_UNREACH_NOROUTE: code = PRC_UNREACH_NET; break;
        case ICMP6_DST_UNREACH_ADMIN: code = PRC_UNREACH_PROTOCOL; break;
        case ICMP6_DST_UNREACH_ADDR: code = PRC_HOSTDEAD; break;
        case ICMP6_DST_UNREACH_BEYONDSCOPE: code = PRC_PARAMPROB; break;
        case ICMP6_DST_UNREACH_NOPORT: code = PRC_UNREACH_PORT; break;
        default: badcode = true;
      }
      deliver = !badcode;
      break;
    case ICMP6_PACKET_TOO_BIG:
      code = PRC_MSGSIZE;
      deliver = true;
      break;
    case ICMP6_TIME_EXCEEDED:
      if (code === ICMP6_TIME_EXCEED_TRANSIT) code = PRC_TIMXCEED_INTRANS;
      else if (code === ICMP6_TIME_EXCEED_REASSEMBLY) code = PRC_TIMXCEED_REASS;
      else badcode = true;
      deliver = !badcode;
      break;
    case ICMP6_PARAM_PROB:
      if (code === ICMP6_PARAMPROB_NEXTHEADER) code = PRC_UNREACH_PROTOCOL;
      else if (code === ICMP6_PARAMPROB_HEADER || code === ICMP6_PARAMPROB_OPTION) code = PRC_PARAMPROB;
      else badcode = true;
      deliver = !badcode;
      break;
    case ICMP6_ECHO_REQUEST: {
      if (code !== 0) {
        badcode = true;
        break;
      }
      const n = m.dup();
      if (n !== null) {
        n.buf[n.off + off] = ICMP6_ECHO_REPLY;
        n.buf[n.off + off + 1] = 0;
        st.inc(icp6s_reflect);
        st.inc(icp6s_outhist + ICMP6_ECHO_REPLY);
        if (k.trace !== null) k.trace.caused(n, 'icmp6_input: echo reply');
        if (icmp6_reflect(k, n, off) === 0) icmp6_send(k, n);
      }
      break;
    }
    case ICMP6_ECHO_REPLY:
      if (code !== 0) badcode = true;
      break;
    case MLD_LISTENER_QUERY:
    case MLD_LISTENER_REPORT:
      if (icmp6len < MLD_MINLEN) badlen = true;
      else mld6_input(k, m, off, ifp);
      break;
    case MLD_LISTENER_DONE:
      if (icmp6len < MLD_MINLEN) badlen = true;
      break;
    case ND_ROUTER_SOLICIT:
    case ND_ROUTER_ADVERT:
      if (code !== 0) badcode = true;
      else if ((type === ND_ROUTER_SOLICIT && icmp6len < 8) || (type === ND_ROUTER_ADVERT && icmp6len < 16)) badlen = true;
      else nd6_rtr_cache(k, m, off, icmp6len, type, ifp);
      break;
    case ND_NEIGHBOR_SOLICIT:
    case ND_NEIGHBOR_ADVERT: {
      if (code !== 0) {
        badcode = true;
        break;
      }
      if (icmp6len < 24) {
        badlen = true;
        break;
      }
      const n = m.dup();
      if (n !== null) {
        if (type === ND_NEIGHBOR_SOLICIT) nd6_ns_input(k, n, off, icmp6len, ifp);
        else nd6_na_input(k, n, off, icmp6len, ifp);
      }
      break;
    }
    case ND_REDIRECT:
      // Redirects are checked but do not change routes here.
      if (code !== 0) badcode = true;
      else if (icmp6len < 40) badlen = true;
      break;
    default:
      if (type < ICMP6_ECHO_REQUEST) {
        code = PRC_NCMDS;
        deliver = true;
      }
      break;
  }
  if (badcode) st.inc(icp6s_badcode);
  if (badlen) st.inc(icp6s_badlen);
  if (deliver && icmp6_notify_error(k, m, off, icmp6len, code, ifp)) return IPPROTO_DONE;
  return rip6_input(k, m, off, IPPROTO_ICMPV6, ifp);
}

/**
 * icmp6_notify_error(): an error about a datagram we sent: path MTU, then
 * the quoted protocol's ctlinput.  True when m was consumed.
 */
function icmp6_notify_error(k: Kernel, m: Mbuf, off: number, icmp6len: number, code: number, ifp: Ifnet): boolean {
  const st = k.stats.icmp6stat;
  if (icmp6len < 8 + IP6_HDR_LEN) {
    st.inc(icp6s_tooshort);
    freeit(k, m, 'icmp6_notify_error: quote shorter than an IPv6 header');
    return true;
  }
  const b = m.buf;
  const q = m.off + off + 8;
  const qlen = icmp6len - 8;
  const eip6 = ip6q.wrap(b, q, qlen);
  // Walk the quoted chain to the upper layer.
  let nxt = eip6.nextHeader;
  let eoff = IP6_HDR_LEN;
  while (nxt === IPPROTO_HOPOPTS || nxt === IPPROTO_DSTOPTS || nxt === IPPROTO_ROUTING || nxt === IPPROTO_AH || nxt === IPPROTO_FRAGMENT) {
    if (eoff + 8 > qlen) {
      st.inc(icp6s_tooshort);
      freeit(k, m, 'icmp6_notify_error: quoted chain cut short');
      return true;
    }
    const h = q + eoff;
    if (nxt === IPPROTO_FRAGMENT) {
      if ((get16(b, h + 2) & 0xfff8) !== 0) break;
      nxt = b[h]!;
      eoff += 8;
    } else {
      const l = nxt === IPPROTO_AH ? (b[h + 1]! + 2) << 2 : (b[h + 1]! + 1) << 3;
      nxt = b[h]!;
      eoff += l;
    }
  }
  const finaldst = k.inet6.addrScratch;
  finaldst.set(b.subarray(eip6.dstOffset, eip6.dstOffset + 16));
  in6_setscope(finaldst, 0, ifp.if_index);
  let mtu = 0;
  if (b[m.off + off] === ICMP6_PACKET_TOO_BIG) {
    mtu = get32(b, m.off + off + 4);
    icmp6_mtudisc_update(k, finaldst, mtu, ifp);
  }
  const ctl = k.inet6.pr_ctlinput[nxt];
  if (ctl !== undefined) ctl(k, code, finaldst, b, q, qlen, mtu);
  return false;
}

/**
 * icmp6_mtudisc_update(): a Packet Too Big lowers the path MTU of a
 * dynamic host route to its destination (never below IPV6_MMTU: RFC 8021).
 */
export function icmp6_mtudisc_update(k: Kernel, dst: Uint8Array, mtu: number, ifp: Ifnet): void {
  if (mtu < 1280) return;
  let rt = rt6_match(k, dst, 0, RT_RESOLVE);
  if (rt === null) return;
  if (!(rt.rt_flags & RTF_HOST) && rt.rt_flags & RTF_GATEWAY) {
    const r = rtrequest6(k, RTM_ADD, {
      dst, plen: 128, flags: RTF_GATEWAY | RTF_HOST | RTF_DYNAMIC, gateway: rt.rt_gateway, ifa: rt.rt_ifa,
      ifp: k.ifnets[rt.rt_ifidx] ?? ifp,
    }, rt.rt_priority);
    if (r.rt === null) return;
    rt = r.rt;
  }
  if (!(rt.rt_flags & RTF_HOST) || rt.rt_locks & RTV_MTU) return;
  if (rt.rt_mtu > mtu || rt.rt_mtu === 0) {
    const rifp = k.ifnets[rt.rt_ifidx];
    if (rifp !== undefined && mtu < rifp.if_mtu) {
      k.stats.icmp6stat.inc(icp6s_pmtuchg);
      rt.rt_mtu = mtu;
    }
  }
}

/**
 * icmp6_reflect(): turn m (ICMPv6 at off) around to its source, from the
 * address it was sent to when that is ours, else from an address chosen
 * for the way back.  Extension headers before the ICMPv6 header go.
 * 0, or an errno with m freed.
 */
export function icmp6_reflect(k: Kernel, m: Mbuf, off: number): number {
  if (off < IP6_HDR_LEN) {
    freeit(k, m, 'icmp6_reflect: too short');
    return 65; // EHOSTUNREACH
  }
  if (m.ph_loopcnt++ >= M_MAXLOOP) {
    freeit(k, m, 'icmp6_reflect: looping');
    return 62; // ELOOP
  }
  // a new packet (no pf reassembly tag: not refragmented to the request's sizes), in the same table
  const rtableid = m.ph_rtableid;
  const pff = m.pf_flags & PF_TAG_GENERATED;
  m.resethdr();
  m.pf_flags = pff;
  m.ph_rtableid = rtableid;
  if (off > IP6_HDR_LEN) {
    const l = off - IP6_HDR_LEN;
    m.buf.copyWithin(m.off + l, m.off, m.off + IP6_HDR_LEN);
    m.adj(l);
  }
  const b = m.buf;
  const ip6 = ip6v.wrap(b, m.off, m.len);
  ip6.nextHeader = IPPROTO_ICMPV6;
  const t = k.inet6.addrScratch2;
  t.set(b.subarray(ip6.dstOffset, ip6.dstOffset + 16));
  b.copyWithin(ip6.dstOffset, ip6.srcOffset, ip6.srcOffset + 16);
  let srcSet = false;
  const rt = rt6_match(k, t, 0, 0);
  if (rt6isvalid(rt) && rt.rt_flags & RTF_LOCAL && rt.rt_ifa !== null &&
      !(rt.rt_ifa.ia6_flags & (IN6_IFF_ANYCAST | IN6_IFF_TENTATIVE | IN6_IFF_DUPLICATED))) {
    b.set(t, ip6.srcOffset);
    srcSet = true;
  }
  if (!srcSet) {
    const r2 = rt6_match(k, b, ip6.dstOffset, RT_RESOLVE);
    if (!rt6isvalid(r2)) {
      freeit(k, m, 'icmp6_reflect: no route back');
      return 65;
    }
    const ia = in6_ifawithscope(k, k.ifnets[r2.rt_ifidx] ?? null, b, ip6.dstOffset) ?? r2.rt_ifa;
    if (ia === null) {
      freeit(k, m, 'icmp6_reflect: no source address');
      return 65;
    }
    b.set(ia.addr, ip6.srcOffset);
  }
  // Version 6, traffic class and flow label 0.
  b[m.off] = 0x60;
  b[m.off + 1] = 0;
  b[m.off + 2] = 0;
  b[m.off + 3] = 0;
  ip6.hopLimit = k.inet6.ip6_defhlim.value;
  return 0;
}

/** icmp6_send(): checksum and ip6_send(). */
export function icmp6_send(k: Kernel, m: Mbuf): void {
  const b = m.buf;
  const len = m.len - IP6_HDR_LEN;
  b[m.off + IP6_HDR_LEN + 2] = 0;
  b[m.off + IP6_HDR_LEN + 3] = 0;
  ip6v.wrap(b, m.off, m.len).payloadLength = len;
  const c = in6_cksum(k, m, IPPROTO_ICMPV6, IP6_HDR_LEN, len);
  b[m.off + IP6_HDR_LEN + 2] = c >>> 8;
  b[m.off + IP6_HDR_LEN + 3] = c & 0xff;
  ip6_output(k, m, 0, null);
}

