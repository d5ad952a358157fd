/**
 * Neighbor solicitation and advertisement (sys/netinet6/nd6_nbr.c, RFC
 * 4861 §7): nd6_ns_input / nd6_ns_output, nd6_na_input / nd6_na_output,
 * and duplicate address detection of our tentative addresses (RFC 4862
 * §5.4): net.inet6.ip6.dad_count solicitations from ::, one every
 * RETRANS_TIMER; an NA for the address, or an NS from someone else doing
 * DAD for it, marks it duplicated ("DAD detected duplicate IPv6 address"
 * in dmesg), else it becomes usable.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { IFF_RUNNING, IFF_UP } from '../net/if.js';
import { M_MCAST, type Mbuf } from '../kern/uipc_mbuf.js';
import type { Timeout } from '../kern/kern_timeout.js';
import { RTF_ANNOUNCE, RTF_REJECT } from '../net/route.js';
import { formatIp6 } from '../../wire/addr.js';
import { Ipv6Packet, IP6_HDR_LEN } from '../../wire/ip6.js';
import { IPPROTO_ICMPV6 } from '../../wire/ip4.js';
import {
  Icmpv6Packet, ND_NA_FLAG_OVERRIDE, ND_NA_FLAG_ROUTER, ND_NA_FLAG_SOLICITED, ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT, ND_OPT_MTU, ND_OPT_PREFIX_INFORMATION, ND_OPT_SOURCE_LINKADDR, ND_OPT_TARGET_LINKADDR,
} from '../../wire/icmp6.js';
import {
  icp6s_badna, icp6s_badns, icp6s_nd_badopt, icp6s_nd_toomanyopt, icp6s_outhist,
} from '../kern/counters.gen.js';
import {
  In6Ifaddr, IN6_ARE_ADDR_EQUAL, IN6_IFF_ANYCAST, IN6_IFF_DUPLICATED, IN6_IFF_TENTATIVE, IN6_IS_ADDR_MULTICAST,
  IN6_IS_ADDR_UNSPECIFIED, in6_clearscope, in6_setscope,
} from './in6_var.js';
import {
  in6_cksum, in6_ifawithscope, in6ifa_ifpwithaddr, in6addr_linklocal_allnodes, in6_solicited_node,
} from './in6.js';
import {
  LlinfoNd6, ND6_LLINFO_INCOMPLETE, ND6_LLINFO_PERMANENT, ND6_LLINFO_REACHABLE, ND6_LLINFO_STALE, nd6_cache_lladdr,
  nd6_gctimer, nd6_llinfo_settimer, nd6_lookup, nd6_output_held,
} from './nd6.js';
import { ip6_output, IPV6_UNSPECSRC } from './ip6_output.js';
import { ip6x_dad_dup, ip6x_na_incomplete_nolladdr, ip6x_na_nocache, ip6x_na_ours, ip6x_ns_notarget } from './inet6.js';

/** Most ND options looked at in one message (nd6_maxndopt). */
export const nd6_maxndopt = 10;

/** struct nd_opts, reduced: offsets (in the packet buffer) of the options used, -1 when absent. */
export class NdOpts {
  src_lladdr = -1;
  tgt_lladdr = -1;
  mtu = -1;
  pi_first = -1;
  reset(): void {
    this.src_lladdr = this.tgt_lladdr = this.mtu = this.pi_first = -1;
  }
}
const ndopts = new NdOpts();
const ip6v = new Ipv6Packet();
const icv = new Icmpv6Packet();

/**
 * nd6_options(): find the options of an ND message in b[p, end).  False
 * when one is malformed (icp6s_nd_badopt counted).  Duplicates of a
 * single-instance option are ignored; past nd6_maxndopt options the rest
 * is ignored (icp6s_nd_toomanyopt).
 */
export function nd6_options(k: Kernel, b: Uint8Array, p: number, end: number, o: NdOpts = ndopts): boolean {
  o.reset();
  let n = 0;
  while (p < end) {
    if (end - p < 2) {
      k.stats.icmp6stat.inc(icp6s_nd_badopt);
      return false;
    }
    const type = b[p]!;
    const olen = b[p + 1]! << 3;
    if (olen === 0 || p + olen > end) {
      k.stats.icmp6stat.inc(icp6s_nd_badopt);
      return false;
    }
    switch (type) {
      case ND_OPT_SOURCE_LINKADDR:
        if (o.src_lladdr < 0) o.src_lladdr = p;
        break;
      case ND_OPT_TARGET_LINKADDR:
        if (o.tgt_lladdr < 0) o.tgt_lladdr = p;
        break;
      case ND_OPT_MTU:
        if (o.mtu < 0) o.mtu = p;
        break;
      case ND_OPT_PREFIX_INFORMATION:
        if (o.pi_first < 0) o.pi_first = p;
        break;
      default:
        // Unknown options are skipped (RFC 4861 §4.6).
        break;
    }
    p += olen;
    if (++n > nd6_maxndopt) {
      k.stats.icmp6stat.inc(icp6s_nd_toomanyopt);
      break;
    }
  }
  return true;
}

/** The link-layer address of an SLLAO/TLLAO at p, when it fits an Ethernet address (else -1). */
function lladdrOf(b: Uint8Array, p: number): number {
  if (p < 0) return -1;
  // ((if_addrlen + 2 + 7) & ~7) == 8 for Ethernet.
  return b[p + 1] === 1 ? p + 2 : -2;
}

/** nd6_ns_input(): a neighbor solicitation (m at the IPv6 header, ICMPv6 at off). */
export function nd6_ns_input(k: Kernel, m: Mbuf, off: number, icmp6len: number, ifp: Ifnet): void {
  const st = k.inet6;
  const b = m.buf;
  const ip6 = ip6v.wrap(b, m.off, m.len);
  const saddr = ip6.srcOffset;
  const daddr = ip6.dstOffset;
  const nsp = m.off + off;
  const taddr = st.addrScratch;
  taddr.set(b.subarray(nsp + 8, nsp + 24));
  in6_setscope(taddr, 0, ifp.if_index);
  const bad = (why: string): void => {
    k.stats.icmp6stat.inc(icp6s_badns);
    if (k.trace !== null) k.trace.drop(k, m, `nd6_ns_input: ${why}`);
    m.free();
  };
  if (ip6.hopLimit !== 255) return bad('hop limit not 255');
  const dad = IN6_IS_ADDR_UNSPECIFIED(b, saddr);
  if (dad) {
    // DAD: to the solicited-node group of the target.
    if (!(b[daddr] === 0xff && b[daddr + 1] === 0x02 && b[daddr + 11] === 1 && b[daddr + 12] === 0xff)) return bad('DAD to a non solicited-node address');
  }
  if (IN6_IS_ADDR_MULTICAST(taddr, 0)) return bad('multicast target');
  if (!nd6_options(k, b, nsp + 24, m.off + off + icmp6len)) {
    if (k.trace !== null) k.trace.drop(k, m, 'nd6_ns_input: bad option');
    m.free();
    return;
  }
  const ll = lladdrOf(b, ndopts.src_lladdr);
  if (ll === -2) return bad('link-layer address length mismatch');
  if (dad && ll >= 0) return bad('bad DAD packet (link-layer address option)');
  // The target must be one of our addresses, or one we publish.
  const ia = in6ifa_ifpwithaddr(k, ifp, taddr, 0);
  let proxy = false;
  if (ia === null) {
    const rt = nd6_lookup(k, taddr, 0, false, ifp);
    if (rt !== null && rt.rt_flags & RTF_ANNOUNCE) proxy = true;
  }
  if (ia === null && !proxy) {
    st.ip6xstat.inc(ip6x_ns_notarget);
    if (k.trace !== null) k.trace.drop(k, m, 'nd6_ns_input: target not ours');
    m.free();
    return;
  }
  if (ia !== null) {
    if (ia.ia6_flags & IN6_IFF_DUPLICATED) {
      st.ip6xstat.inc(ip6x_ns_notarget);
      m.free();
      return;
    }
    if (IN6_ARE_ADDR_EQUAL(ia.addr, 0, b, saddr)) {
      k.printf(`nd6_ns_input: duplicate IP6 address ${formatIp6(b, saddr)}`);
      st.ip6xstat.inc(ip6x_na_ours);
      m.free();
      return;
    }
    if (ia.ia6_flags & IN6_IFF_TENTATIVE) {
      // Someone else solicits our tentative address.
      if (dad) nd6_dad_ns_input(k, ia);
      else st.ip6xstat.inc(ip6x_ns_notarget);
      m.free();
      return;
    }
  }
  const anycast = ia !== null && (ia.ia6_flags & IN6_IFF_ANYCAST) !== 0;
  const router = st.ip6_forwarding.value !== 0 ? ND_NA_FLAG_ROUTER : 0;
  const flags = (anycast || proxy ? 0 : ND_NA_FLAG_OVERRIDE) | router;
  const tgt = taddr.slice();
  if (dad) {
    m.free();
    nd6_na_output(k, ifp, in6addr_linklocal_allnodes, tgt, flags, true);
    return;
  }
  const src = b.slice(saddr, saddr + 16);
  nd6_cache_lladdr(k, ifp, src, 0, ll >= 0 ? b : null, ll, ND_NEIGHBOR_SOLICIT, 0);
  m.free();
  nd6_na_output(k, ifp, src, tgt, flags | ND_NA_FLAG_SOLICITED, true);
}

/**
 * nd6_ns_output(): solicit taddr (scope embedded) on ifp: to daddr
 * (unicast NUD) or the target's solicited-node group; from :: when dad,
 * else from saddr when it is ours on ifp, else a selected address.
 */
export function nd6_ns_output(k: Kernel, ifp: Ifnet, daddr: Uint8Array | null, taddr: Uint8Array, saddr: Uint8Array | null, dad: boolean): void {
  if (!(ifp.if_flags & IFF_UP) || !(ifp.if_flags & IFF_RUNNING)) return;
  const st = k.inet6;
  const len = IP6_HDR_LEN + 24 + (dad ? 0 : 8);
  const m = k.mbufs.get(len);
  if (m === null) return;
  m.append(len);
  const b = m.buf;
  b.fill(0, m.off, m.off + len);
  const ip6 = ip6v.wrap(b, m.off, len);
  ip6.version = 6;
  ip6.nextHeader = IPPROTO_ICMPV6;
  ip6.hopLimit = 255;
  const dst = ip6.dstOffset;
  if (daddr !== null) b.set(daddr.subarray(0, 16), dst);
  else in6_solicited_node(taddr, 0, ifp.if_index, b, dst);
  if (IN6_IS_ADDR_MULTICAST(b, dst)) m.m_flags |= M_MCAST;
  let withll = !dad;
  if (!dad) {
    let src: Uint8Array | null = null;
    if (saddr !== null && !IN6_IS_ADDR_UNSPECIFIED(saddr, 0)) {
      const ia = in6ifa_ifpwithaddr(k, ifp, saddr, 0);
      if (ia !== null && !(ia.ia6_flags & (IN6_IFF_TENTATIVE | IN6_IFF_DUPLICATED))) src = ia.addr;
    }
    if (src === null) {
      const ia = in6_ifawithscope(k, ifp, b, dst);
      if (ia === null) {
        // No usable source yet (all tentative): solicit from :: as a DAD probe would.
        withll = false;
      } else src = ia.addr;
    }
    if (src !== null) b.set(src, ip6.srcOffset);
  }
  const plen = withll ? 32 : 24;
  m.truncate(IP6_HDR_LEN + plen);
  ip6.payloadLength = plen;
  const icp = icv.wrap(b, m.off + IP6_HDR_LEN, plen);
  icp.type = ND_NEIGHBOR_SOLICIT;
  b.set(taddr.subarray(0, 16), icp.off + 8);
  in6_clearscope(b, icp.off + 8);
  if (withll) {
    b[icp.off + 24] = ND_OPT_SOURCE_LINKADDR;
    b[icp.off + 25] = 1;
    b.set(ifp.if_lladdr.subarray(0, 6), icp.off + 26);
  }
  icp.checksum = in6_cksum(k, m, IPPROTO_ICMPV6, IP6_HDR_LEN, plen);
  k.stats.icmp6stat.inc(icp6s_outhist + ND_NEIGHBOR_SOLICIT);
  if (k.trace !== null) k.trace.caused(m, dad ? 'nd6_dad_ns_output' : 'nd6_ns_output');
  void st;
  ip6_output(k, m, dad ? IPV6_UNSPECSRC : 0, null, ifp, 255);
}

/** nd6_na_input(): a neighbor advertisement. */
export function nd6_na_input(k: Kernel, m: Mbuf, off: number, icmp6len: number, ifp: Ifnet): void {
  const st = k.inet6;
  const b = m.buf;
  const ip6 = ip6v.wrap(b, m.off, m.len);
  const nap = m.off + off;
  const flags = b[nap + 4]!;
  const is_router = (flags & ND_NA_FLAG_ROUTER) !== 0;
  const is_solicited = (flags & ND_NA_FLAG_SOLICITED) !== 0;
  const is_override = (flags & ND_NA_FLAG_OVERRIDE) !== 0;
  const taddr = st.addrScratch;
  taddr.set(b.subarray(nap + 8, nap + 24));
  in6_setscope(taddr, 0, ifp.if_index);
  const bad = (why: string): void => {
    k.stats.icmp6stat.inc(icp6s_badna);
    if (k.trace !== null) k.trace.drop(k, m, `nd6_na_input: ${why}`);
    m.free();
  };
  const drop = (counter: number, why: string): void => {
    st.ip6xstat.inc(counter);
    if (k.trace !== null) k.trace.drop(k, m, `nd6_na_input: ${why}`);
    m.free();
  };
  if (ip6.hopLimit !== 255) return bad('hop limit not 255');
  if (IN6_IS_ADDR_MULTICAST(taddr, 0)) return bad('multicast target');
  if (IN6_IS_ADDR_MULTICAST(b, ip6.dstOffset) && is_solicited) return bad('solicited NA to multicast');
  if (!nd6_options(k, b, nap + 24, m.off + off + icmp6len)) {
    m.free();
    return;
  }
  const ll = lladdrOf(b, ndopts.tgt_lladdr);
  const ia = in6ifa_ifpwithaddr(k, ifp, taddr, 0);
  if (ia !== null && ia.ia6_flags & IN6_IFF_TENTATIVE) {
    nd6_dad_na_input(k, ia);
    m.free();
    return;
  }
  if (ia !== null) {
    k.printf(`nd6_na_input: duplicate IP6 address ${formatIp6(b, nap + 8)}`);
    return drop(ip6x_na_ours, 'advertisement for our own address');
  }
  if (ll === -2) return bad('link-layer address length mismatch');
  const rt = nd6_lookup(k, taddr, 0, false, ifp);
  const ln = rt === null ? null : (rt.rt_llinfo as LlinfoNd6 | null);
  if (rt === null || ln === null) return drop(ip6x_na_nocache, 'no neighbor entry');
  if (ln.ln_state === ND6_LLINFO_INCOMPLETE) {
    if (ll < 0) return drop(ip6x_na_incomplete_nolladdr, 'incomplete entry and no target link-layer address');
    rt.rt_gwll.set(b.subarray(ll, ll + 6));
    rt.rt_gwalen = 6;
    if (is_solicited) {
      ln.ln_state = ND6_LLINFO_REACHABLE;
      ln.ln_byhint = 0;
      if (!ND6_LLINFO_PERMANENT(ln)) nd6_llinfo_settimer(k, ln, st.nd(ifp).reachable);
    } else {
      ln.ln_state = ND6_LLINFO_STALE;
      nd6_llinfo_settimer(k, ln, nd6_gctimer);
    }
    ln.ln_router = is_router;
  } else {
    let llchange = false;
    if (ll >= 0) {
      if (rt.rt_gwalen) {
        for (let i = 0; i < 6; i++) if (rt.rt_gwll[i] !== b[ll + i]) llchange = true;
      } else llchange = true;
    }
    if (!is_override && ll >= 0 && llchange) {
      // Keep the address we know; a REACHABLE entry becomes STALE.
      if (ln.ln_state === ND6_LLINFO_REACHABLE) {
        ln.ln_state = ND6_LLINFO_STALE;
        nd6_llinfo_settimer(k, ln, nd6_gctimer);
      }
      m.free();
      return;
    }
    if (llchange) k.printf(`ndp info overwritten for ${formatIp6(b, nap + 8)} on ${ifp.if_xname}`);
    if (ll >= 0) {
      rt.rt_gwll.set(b.subarray(ll, ll + 6));
      rt.rt_gwalen = 6;
    }
    if (is_solicited) {
      ln.ln_state = ND6_LLINFO_REACHABLE;
      ln.ln_byhint = 0;
      if (!ND6_LLINFO_PERMANENT(ln)) nd6_llinfo_settimer(k, ln, st.nd(ifp).reachable);
    } else if (ll >= 0 && llchange) {
      ln.ln_state = ND6_LLINFO_STALE;
      nd6_llinfo_settimer(k, ln, nd6_gctimer);
    }
    ln.ln_router = is_router;
  }
  rt.rt_flags &= ~RTF_REJECT;
  ln.ln_asked = 0;
  m.free();
  nd6_output_held(k, ifp, rt, ln);
}

/**
 * nd6_na_output(): advertise taddr (scope embedded) to daddr; to :: means
 * all-nodes and unsolicited.  With tlladdr, our MAC goes in a TLLAO.
 */
export function nd6_na_output(k: Kernel, ifp: Ifnet, daddr: Uint8Array, taddr: Uint8Array, flags: number, tlladdr: boolean): void {
  if (!(ifp.if_flags & IFF_RUNNING)) return;
  const len = IP6_HDR_LEN + 24 + (tlladdr ? 8 : 0);
  const m = k.mbufs.get(len);
  if (m === null) return;
  m.append(len);
  const b = m.buf;
  b.fill(0, m.off, m.off + len);
  const ip6 = ip6v.wrap(b, m.off, len);
  ip6.version = 6;
  ip6.nextHeader = IPPROTO_ICMPV6;
  ip6.hopLimit = 255;
  ip6.payloadLength = len - IP6_HDR_LEN;
  const dst = ip6.dstOffset;
  if (IN6_IS_ADDR_UNSPECIFIED(daddr, 0)) {
    b.set(in6addr_linklocal_allnodes, dst);
    flags &= ~ND_NA_FLAG_SOLICITED;
  } else b.set(daddr.subarray(0, 16), dst);
  in6_setscope(b, dst, ifp.if_index);
  if (IN6_IS_ADDR_MULTICAST(b, dst)) m.m_flags |= M_MCAST;
  const ia = in6_ifawithscope(k, ifp, b, dst);
  if (ia === null) {
    m.free();
    return;
  }
  b.set(ia.addr, ip6.srcOffset);
  const icp = icv.wrap(b, m.off + IP6_HDR_LEN, len - IP6_HDR_LEN);
  icp.type = ND_NEIGHBOR_ADVERT;
  b[icp.off + 4] = flags;
  b.set(taddr.subarray(0, 16), icp.off + 8);
  in6_clearscope(b, icp.off + 8);
  if (tlladdr) {
    b[icp.off + 24] = ND_OPT_TARGET_LINKADDR;
    b[icp.off + 25] = 1;
    b.set(ifp.if_lladdr.subarray(0, 6), icp.off + 26);
  }
  icp.checksum = in6_cksum(k, m, IPPROTO_ICMPV6, IP6_HDR_LEN, len - IP6_HDR_LEN);
  k.stats.icmp6stat.inc(icp6s_outhist + ND_NEIGHBOR_ADVERT);
  if (k.trace !== null) k.trace.caused(m, 'nd6_na_output');
  ip6_output(k, m, 0, null, ifp, 255);
}

// ---- duplicate address detection ----

/** struct dadq */
export class Dadq {
  dad_count = 0;
  dad_ns_ocount = 0;
  dad_ns_icount = 0;
  dad_na_icount = 0;
  dad_ns_tcount = 0;
  timer: Timeout<Dadq> | null = null;
  constructor(readonly ia: In6Ifaddr, readonly k: Kernel) {}
}

function nd6_dad_find(k: Kernel, ia: In6Ifaddr): Dadq | null {
  for (const dp of k.inet6.dadq) if (dp.ia === ia) return dp;
  return null;
}

/** nd6_dad_start(): probe a tentative address. */
export function nd6_dad_start(k: Kernel, ia: In6Ifaddr): void {
  const st = k.inet6;
  if (!(ia.ia6_flags & IN6_IFF_TENTATIVE)) return;
  if (st.ip6_dad_count.value === 0 || ia.ia6_flags & IN6_IFF_ANYCAST) {
    ia.ia6_flags &= ~IN6_IFF_TENTATIVE;
    return;
  }
  if (nd6_dad_find(k, ia) !== null) return;
  const dp = new Dadq(ia, k);
  dp.dad_count = st.ip6_dad_count.value;
  dp.timer = k.world.timeout<Dadq>(nd6_dad_timer, dp);
  st.dadq.push(dp);
  st.ip6_dad_pending.value = st.dadq.length;
  nd6_dad_ns_output(k, dp);
  dp.timer.addMsec(st.nd(ia.ifidx).retrans);
}

/** nd6_dad_stop(): the address goes away during DAD. */
export function nd6_dad_stop(k: Kernel, ia: In6Ifaddr): void {
  const dp = nd6_dad_find(k, ia);
  if (dp !== null) nd6_dad_destroy(k, dp);
}

function nd6_dad_destroy(k: Kernel, dp: Dadq): void {
  const st = k.inet6;
  dp.timer?.del();
  const i = st.dadq.indexOf(dp);
  if (i >= 0) st.dadq.splice(i, 1);
  st.ip6_dad_pending.value = st.dadq.length;
}

function nd6_dad_ns_output(k: Kernel, dp: Dadq): void {
  const ifp = k.ifnets[dp.ia.ifidx];
  if (ifp === undefined) return;
  dp.dad_ns_tcount++;
  if (!(ifp.if_flags & IFF_UP) || !(ifp.if_flags & IFF_RUNNING)) return;
  dp.dad_ns_tcount = 0;
  dp.dad_ns_ocount++;
  nd6_ns_output(k, ifp, null, dp.ia.addr, null, true);
}

/** DAD_MAXTRY: timer runs without a transmission before DAD gives up. */
const DAD_MAXTRY = 15;

export function nd6_dad_timer(dp: Dadq): void {
  const k = dp.k;
  const ia = dp.ia;
  if (ia.ia6_flags & IN6_IFF_DUPLICATED || !(ia.ia6_flags & IN6_IFF_TENTATIVE)) {
    nd6_dad_destroy(k, dp);
    return;
  }
  if (dp.dad_ns_tcount > DAD_MAXTRY) {
    nd6_dad_destroy(k, dp);
    return;
  }
  if (dp.dad_ns_ocount < dp.dad_count) {
    nd6_dad_ns_output(k, dp);
    dp.timer!.addMsec(k.inet6.nd(ia.ifidx).retrans);
    return;
  }
  if (dp.dad_na_icount || dp.dad_ns_icount) nd6_dad_duplicated(k, dp);
  else {
    ia.ia6_flags &= ~IN6_IFF_TENTATIVE;
    nd6_dad_destroy(k, dp);
  }
}

function addrName(ia: In6Ifaddr): string {
  const t = ia.addr.slice();
  in6_clearscope(t, 0);
  return formatIp6(t, 0);
}

/** nd6_dad_duplicated(): the address is someone else's. */
export function nd6_dad_duplicated(k: Kernel, dp: Dadq): void {
  const ia = dp.ia;
  const ifname = k.ifnets[ia.ifidx]?.if_xname ?? '?';
  const a = addrName(ia);
  k.printf(`${ifname}: DAD detected duplicate IPv6 address ${a}: NS in/out=${dp.dad_ns_icount}/${dp.dad_ns_ocount}, NA in=${dp.dad_na_icount}`);
  ia.ia6_flags &= ~IN6_IFF_TENTATIVE;
  ia.ia6_flags |= IN6_IFF_DUPLICATED;
  k.inet6.ip6xstat.inc(ip6x_dad_dup);
  k.printf(`${ifname}: DAD complete for ${a} - duplicate found`);
  k.printf(`${ifname}: manual intervention required`);
  nd6_dad_destroy(k, dp);
}

/** An NS from :: for our tentative address: someone else is doing DAD for it. */
export function nd6_dad_ns_input(k: Kernel, ia: In6Ifaddr): void {
  const dp = nd6_dad_find(k, ia);
  if (dp === null || dp.dad_ns_ocount === 0) {
    const d = dp ?? new Dadq(ia, k);
    nd6_dad_duplicated(k, d);
    return;
  }
  dp.dad_ns_icount++;
}

/** An NA for our tentative address: it is taken. */
export function nd6_dad_na_input(k: Kernel, ia: In6Ifaddr): void {
  const dp = nd6_dad_find(k, ia) ?? new Dadq(ia, k);
  dp.dad_na_icount++;
  nd6_dad_duplicated(k, dp);
}

