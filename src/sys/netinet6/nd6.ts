/**
 * The neighbor cache (sys/netinet6/nd6.c).  As in OpenBSD, neighbors are
 * host routes in the IPv6 table, cloned from the connected route
 * (RTF_CLONED|RTF_LLINFO), each with a struct llinfo_nd6: its state
 * (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE), the solicitations asked
 * so far, the packets waiting for the address (LN_HOLD_QUEUE each,
 * LN_HOLD_TOTAL in all) and the source they were sent from.  rt_expire
 * is when the entry's state timer fires; nd6_timer() runs at the
 * earliest of them (armed only while entries exist) and
 * nd6_llinfo_timer() moves the state on:
 *
 *   INCOMPLETE: another multicast NS every RETRANS_TIMER (1 s) until
 *     nd6_mmaxtries, then ICMPv6 address unreachable for the held packets
 *     and the entry goes;
 *   REACHABLE -> STALE after the interface's reachable time; STALE is
 *     collected after nd6_gctimer (1 day);
 *   STALE -> DELAY when a packet is sent (nd6_resolve), DELAY -> PROBE
 *     after nd6_delay (5 s) with a unicast NS, PROBE retries every second
 *     until nd6_umaxtries, then the entry goes.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { IFF_RUNNING } from '../net/if.js';
import { M_MCAST, MbufList, type Mbuf } from '../kern/uipc_mbuf.js';
import {
  AF_LINK, EAGAIN, EHOSTDOWN, EHOSTUNREACH, EINVAL, ENETDOWN, RT_RESOLVE, RTF_ANNOUNCE, RTF_CACHED, RTF_CLONING,
  RTF_GATEWAY, RTF_LLINFO, RTF_LOCAL, RTF_MPLS, RTF_MULTICAST, RTF_REJECT, RTF_STATIC, RTM_ADD, RTM_DELETE,
  RTM_INVALIDATE, RTM_RESOLVE,
} from '../net/route.js';
import { rt6_deletemsg, rt6_getll, rt6_match, rt6isvalid, type Rtentry6 } from '../net/route6.js';
import { ether_encap_output } from '../net/if_ethersubr.js';
import { ETHERTYPE_IPV6 } from '../../wire/ether.js';
import { getuptime } from '../netinet/if_ether.js';
import { ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, ND_NEIGHBOR_SOLICIT, ND_REDIRECT, ND_ROUTER_ADVERT, ND_ROUTER_SOLICIT } from '../../wire/icmp6.js';
import { in6ifa_ifpwithaddr } from './in6.js';
import { IN6_ARE_ADDR_EQUAL, IN6_IS_ADDR_UNSPECIFIED, in6_clearscope } from './in6_var.js';
import { formatIp6 } from '../../wire/addr.js';
import { nd6_ns_output } from './nd6_nbr.js';
import { icmp6_error } from './icmp6.js';
import {
  ip6x_nd_holddrops, ip6x_nd_holdtotal, ip6x_nd_invalidated, ip6x_nd_noinfo, ip6x_nd_rejected, ip6x_odown,
} from './inet6.js';

export const ND6_LLINFO_PURGE = -3;
export const ND6_LLINFO_NOSTATE = -2;
export const ND6_LLINFO_INCOMPLETE = 0;
export const ND6_LLINFO_REACHABLE = 1;
export const ND6_LLINFO_STALE = 2;
export const ND6_LLINFO_DELAY = 3;
export const ND6_LLINFO_PROBE = 4;

export const LN_HOLD_QUEUE = 10;
export const LN_HOLD_TOTAL = 100;
/** ms */
export const REACHABLE_TIME = 30000;
/** ms */
export const RETRANS_TIMER = 1000;
/** Garbage collection of STALE entries: 1 day. */
export const nd6_gctimer = 60 * 60 * 24;

/** struct llinfo_nd6 */
export class LlinfoNd6 {
  readonly ln_mq = new MbufList();
  ln_state = ND6_LLINFO_NOSTATE;
  ln_asked = 0;
  ln_router = false;
  ln_byhint = 0;
  /** Source of the packet that started the resolution. */
  readonly ln_saddr6 = new Uint8Array(16);
  constructor(readonly ln_rt: Rtentry6) {}
}

export function ND6_LLINFO_PERMANENT(ln: LlinfoNd6): boolean {
  return ln.ln_rt.rt_expire === 0;
}

/** nd6_llinfo_settimer(): the entry's state timer fires secs from now. */
export function nd6_llinfo_settimer(k: Kernel, ln: LlinfoNd6, secs: number): void {
  const st = k.inet6;
  const expire = getuptime(k) + secs;
  ln.ln_rt.rt_expire = expire;
  if (!st.nd6_timer_to.pending || expire < st.nd6_timer_next) {
    st.nd6_timer_next = expire;
    st.nd6_timer_to.addSec(secs);
  }
}

/** nd6_timer(): run the state timers that are due, re-arm for the next one. */
export function nd6_timer(k: Kernel): void {
  const st = k.inet6;
  const uptime = getuptime(k);
  let expire = uptime + nd6_gctimer;
  const i_am_router = st.ip6_forwarding.value !== 0;
  for (const ln of st.nd6_list.slice()) {
    const rt = ln.ln_rt;
    if (rt.rt_llinfo !== ln) continue;
    if (rt.rt_expire && rt.rt_expire <= uptime) {
      if (!nd6_llinfo_timer(k, rt, i_am_router)) {
        if (rt.rt_expire && rt.rt_expire < expire) expire = rt.rt_expire;
      }
    } else if (rt.rt_expire && rt.rt_expire < expire) expire = rt.rt_expire;
  }
  let secs = expire - uptime;
  if (secs < 1) secs = 1;
  if (st.nd6_list.length > 0) {
    st.nd6_timer_next = uptime + secs;
    st.nd6_timer_to.addSec(secs);
  }
}

/** nd6_llinfo_timer(): one entry's timer fired; true when the entry is gone. */
export function nd6_llinfo_timer(k: Kernel, rt: Rtentry6, i_am_router: boolean): boolean {
  const st = k.inet6;
  let ln = rt.rt_llinfo as LlinfoNd6 | null;
  if (!(rt.rt_flags & RTF_LLINFO) || ln === null) return false;
  const ifp = k.ifnets[rt.rt_ifidx];
  if (ifp === undefined) return true;
  const dst = rt.rt_dst;
  switch (ln.ln_state) {
    case ND6_LLINFO_INCOMPLETE:
      if (ln.ln_asked < st.nd6_mmaxtries.value) {
        ln.ln_asked++;
        nd6_llinfo_settimer(k, ln, RETRANS_TIMER / 1000);
        nd6_ns_output(k, ifp, null, dst, ln.ln_saddr6, false);
      } else {
        const n = ln.ln_mq.len;
        for (let m = ln.ln_mq.dequeue(); m !== null; m = ln.ln_mq.dequeue()) {
          // Fake rcvif so the ICMP error tells the sender where it failed.
          m.ph_ifidx = rt.rt_ifidx;
          if (k.trace !== null) k.trace.branch(k, m, 'nd6_llinfo_timer: INCOMPLETE, nd6_mmaxtries reached → address unreachable');
          icmp6_error(k, m, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, 0);
        }
        st.ln_hold_total -= n;
        nd6_free(k, rt, ifp, i_am_router);
        ln = null;
      }
      break;
    case ND6_LLINFO_REACHABLE:
      if (!ND6_LLINFO_PERMANENT(ln)) {
        ln.ln_state = ND6_LLINFO_STALE;
        nd6_llinfo_settimer(k, ln, nd6_gctimer);
      }
      break;
    case ND6_LLINFO_STALE:
    case ND6_LLINFO_PURGE:
      if (!ND6_LLINFO_PERMANENT(ln)) {
        nd6_free(k, rt, ifp, i_am_router);
        ln = null;
      }
      break;
    case ND6_LLINFO_DELAY:
      ln.ln_asked = 1;
      ln.ln_state = ND6_LLINFO_PROBE;
      nd6_llinfo_settimer(k, ln, RETRANS_TIMER / 1000);
      nd6_ns_output(k, ifp, dst, dst, ln.ln_saddr6, false);
      break;
    case ND6_LLINFO_PROBE:
      if (ln.ln_asked < st.nd6_umaxtries.value) {
        ln.ln_asked++;
        nd6_llinfo_settimer(k, ln, RETRANS_TIMER / 1000);
        nd6_ns_output(k, ifp, dst, dst, ln.ln_saddr6, false);
      } else {
        nd6_free(k, rt, ifp, i_am_router);
        ln = null;
      }
      break;
  }
  return ln === null;
}

/** nd6_invalidate(): forget the link-layer address and held packets. */
export function nd6_invalidate(k: Kernel, rt: Rtentry6): void {
  const ln = rt.rt_llinfo as LlinfoNd6 | null;
  if (ln === null) return;
  const n = ln.ln_mq.purge();
  k.inet6.ln_hold_total -= n;
  k.inet6.ip6xstat.add(ip6x_nd_invalidated, n);
  rt.rt_gwalen = 0;
  ln.ln_state = ND6_LLINFO_INCOMPLETE;
  ln.ln_asked = 0;
}

/** nd6_free(): an entry that timed out or was deleted; cached next hops stay (invalidated). */
export function nd6_free(k: Kernel, rt: Rtentry6, _ifp: Ifnet, _i_am_router: boolean): void {
  nd6_invalidate(k, rt);
  if (!(rt.rt_flags & (RTF_STATIC | RTF_CACHED))) rt6_deletemsg(k, rt);
  else {
    const ln = rt.rt_llinfo as LlinfoNd6 | null;
    if (ln !== null) {
      // A cached next hop waits, incomplete, for the next packet.
      ln.ln_state = ND6_LLINFO_NOSTATE;
      rt.rt_expire = getuptime(k);
    }
  }
}

/**
 * nd6_lookup(): the neighbor entry of an address (scope embedded) on ifp,
 * cloned from the connected route when create is set.
 */
export function nd6_lookup(k: Kernel, addr: Uint8Array, o: number, create: boolean, ifp: Ifnet | null): Rtentry6 | null {
  const rt = rt6_match(k, addr, o, create ? RT_RESOLVE : 0);
  if (rt === null) return null;
  if (rt.rt_flags & RTF_GATEWAY || !(rt.rt_flags & RTF_LLINFO) || rt.rt_gwfamily !== AF_LINK) return null;
  if (!IN6_ARE_ADDR_EQUAL(rt.rt_dst, 0, addr, o)) return null;
  if (ifp !== null && rt.rt_ifidx !== ifp.if_index) return null;
  return rt;
}

/** nd6_is_addr_neighbor(): addr is on a link of ifp. */
export function nd6_is_addr_neighbor(k: Kernel, addr: Uint8Array, o: number, ifp: Ifnet): boolean {
  const rt = rt6_match(k, addr, o, 0);
  return rt !== null && rt.rt_ifidx === ifp.if_index && !(rt.rt_flags & RTF_GATEWAY) && (rt.rt_flags & (RTF_CLONING | RTF_LLINFO)) !== 0;
}

/** nd6_rtrequest(): neighbor state of routes as they are added, cloned and deleted. */
export function nd6_rtrequest(k: Kernel, ifp: Ifnet, req: number, rt: Rtentry6): void {
  if (rt.rt_flags & (RTF_GATEWAY | RTF_MULTICAST | RTF_MPLS)) return;
  const st = k.inet6;
  switch (req) {
    case RTM_ADD:
    case RTM_RESOLVE: {
      if (req === RTM_ADD) {
        if (rt.rt_flags & RTF_CLONING) {
          rt.rt_expire = 0;
          break;
        }
        if (rt.rt_flags & RTF_LOCAL && rt.rt_llinfo === null) rt.rt_expire = 0;
      }
      if (rt.rt_gwfamily !== AF_LINK || rt.rt_llinfo !== null) break;
      const ln = new LlinfoNd6(rt);
      rt.rt_llinfo = ln;
      rt.rt_flags |= RTF_LLINFO;
      st.nd6_list.unshift(ln);
      if (req === RTM_ADD) ln.ln_state = ND6_LLINFO_REACHABLE;
      else {
        ln.ln_state = ND6_LLINFO_NOSTATE;
        nd6_llinfo_settimer(k, ln, 0);
      }
      // Our own addresses (and published ones) are permanent.
      if (in6ifa_ifpwithaddr(k, ifp, rt.rt_dst, 0) !== null || rt.rt_flags & RTF_ANNOUNCE) {
        ln.ln_state = ND6_LLINFO_REACHABLE;
        rt.rt_expire = 0;
      }
      break;
    }
    case RTM_DELETE: {
      const ln = rt.rt_llinfo as LlinfoNd6 | null;
      if (ln === null) break;
      const i = st.nd6_list.indexOf(ln);
      if (i >= 0) st.nd6_list.splice(i, 1);
      rt.rt_expire = 0;
      rt.rt_llinfo = null;
      rt.rt_flags &= ~RTF_LLINFO;
      const n = ln.ln_mq.purge();
      st.ln_hold_total -= n;
      st.ip6xstat.add(ip6x_nd_invalidated, n);
      if (st.nd6_list.length === 0) st.nd6_timer_to.del();
      break;
    }
    case RTM_INVALIDATE:
      if (!(rt.rt_flags & RTF_LOCAL)) nd6_invalidate(k, rt);
      break;
  }
}

/**
 * nd6_cache_lladdr(): learn a neighbor's link-layer address from an NS,
 * RS, RA or redirect (RFC 4861 §7.2.3 and the table in nd6.c).
 */
export function nd6_cache_lladdr(
  k: Kernel, ifp: Ifnet, from: Uint8Array, fo: number, lladdr: Uint8Array | null, llo: number, type: number, code: number,
): void {
  if (IN6_IS_ADDR_UNSPECIFIED(from, fo)) return;
  let rt = nd6_lookup(k, from, fo, false, ifp);
  let is_newentry: boolean;
  if (rt === null) {
    rt = nd6_lookup(k, from, fo, true, ifp);
    is_newentry = true;
  } else {
    if (rt.rt_flags & (RTF_STATIC | RTF_LOCAL)) return;
    is_newentry = false;
  }
  if (rt === null) return;
  const ln = rt.rt_llinfo as LlinfoNd6 | null;
  if (ln === null) return;
  const olladdr = rt.rt_gwalen !== 0;
  let llchange = false;
  if (olladdr && lladdr !== null) {
    for (let i = 0; i < 6; i++) if (rt.rt_gwll[i] !== lladdr[llo + i]) llchange = true;
  }
  if (llchange) {
    k.printf(`ndp info overwritten for ${fmt(from, fo)} by ${mac(lladdr!, llo)} on ${ifp.if_xname}`);
  }
  if (lladdr !== null) {
    rt.rt_gwll.set(lladdr.subarray(llo, llo + 6));
    rt.rt_gwalen = 6;
  }
  let do_update = false;
  let newstate = 0;
  if (!is_newentry) {
    if ((!olladdr && lladdr !== null) || (olladdr && lladdr !== null && llchange)) {
      do_update = true;
      newstate = ND6_LLINFO_STALE;
    }
  } else {
    do_update = true;
    newstate = lladdr === null ? ND6_LLINFO_NOSTATE : ND6_LLINFO_STALE;
  }
  if (do_update) {
    ln.ln_state = newstate;
    if (ln.ln_state === ND6_LLINFO_STALE) {
      nd6_llinfo_settimer(k, ln, nd6_gctimer);
      nd6_output_held(k, ifp, rt, ln);
    } else if (ln.ln_state === ND6_LLINFO_INCOMPLETE) nd6_llinfo_settimer(k, ln, 0);
  }
  switch (type & 0xff) {
    case ND_NEIGHBOR_SOLICIT:
      if (is_newentry) ln.ln_router = false;
      break;
    case ND_REDIRECT:
      if (code === 1) ln.ln_router = true;
      else if (is_newentry) ln.ln_router = false;
      break;
    case ND_ROUTER_SOLICIT:
      ln.ln_router = false;
      break;
    case ND_ROUTER_ADVERT:
      if ((!is_newentry && (olladdr || lladdr !== null)) || (is_newentry && lladdr !== null)) ln.ln_router = true;
      break;
  }
}

/** if_output_mq(): send the packets held for a neighbor that got its address. */
export function nd6_output_held(k: Kernel, ifp: Ifnet, rt: Rtentry6, ln: LlinfoNd6): void {
  const n = ln.ln_mq.len;
  if (n === 0) return;
  const held = k.inet6.fragList.len === 0 ? k.inet6.fragList : new MbufList();
  for (let m = ln.ln_mq.dequeue(); m !== null; m = ln.ln_mq.dequeue()) held.enqueue(m);
  k.inet6.ln_hold_total -= n;
  for (let m = held.dequeue(); m !== null; m = held.dequeue()) ether_output6(ifp, m, rt.rt_dst, 0, rt);
}

/**
 * nd6_resolve(): the destination MAC of an IPv6 packet into desten.  0:
 * send; EAGAIN: held (or dropped, counted) while resolving; other errors:
 * the packet was freed.
 */
export function nd6_resolve(k: Kernel, ifp: Ifnet, rt0: Rtentry6 | null, m: Mbuf, dst: Uint8Array, dsto: number, desten: Uint8Array): number {
  const st = k.inet6;
  if (m.m_flags & M_MCAST) {
    // ETHER_MAP_IPV6_MULTICAST
    desten[0] = 0x33;
    desten[1] = 0x33;
    desten[2] = dst[dsto + 12]!;
    desten[3] = dst[dsto + 13]!;
    desten[4] = dst[dsto + 14]!;
    desten[5] = dst[dsto + 15]!;
    return 0;
  }
  const uptime = getuptime(k);
  const rt = rt0 === null ? null : rt6_getll(rt0);
  if (rt === null || (rt.rt_flags & RTF_REJECT && (rt.rt_expire === 0 || rt.rt_expire > uptime))) {
    st.ip6xstat.inc(ip6x_nd_rejected);
    if (k.trace !== null) k.trace.drop(k, m, 'nd6_resolve: no neighbor route');
    m.free();
    return rt === rt0 ? EHOSTDOWN : EHOSTUNREACH;
  }
  const ln = rt.rt_llinfo as LlinfoNd6 | null;
  if (!(rt.rt_flags & RTF_LLINFO) || rt.rt_gwfamily !== AF_LINK || ln === null) {
    st.ip6xstat.inc(ip6x_nd_noinfo);
    if (k.trace !== null) k.trace.drop(k, m, 'nd6_resolve: route contains no ND information');
    m.free();
    return EINVAL;
  }
  // Most recently used first.
  const li = st.nd6_list.indexOf(ln);
  if (li > 0) {
    st.nd6_list.splice(li, 1);
    st.nd6_list.unshift(ln);
  }
  if (ln.ln_state === ND6_LLINFO_STALE) {
    ln.ln_asked = 0;
    ln.ln_state = ND6_LLINFO_DELAY;
    nd6_llinfo_settimer(k, ln, st.nd6_delay.value);
  }
  if (ln.ln_state > ND6_LLINFO_INCOMPLETE) {
    if (rt.rt_gwalen !== 6) {
      st.ip6xstat.inc(ip6x_nd_noinfo);
      m.free();
      return EINVAL;
    }
    desten.set(rt.rt_gwll);
    return 0;
  }
  if (ln.ln_state === ND6_LLINFO_NOSTATE) ln.ln_state = ND6_LLINFO_INCOMPLETE;
  if (m.len >= 40) ln.ln_saddr6.set(m.buf.subarray(m.off + 8, m.off + 24));
  if (k.trace !== null) k.trace.branch(k, m, 'nd6_resolve: INCOMPLETE → held for neighbor solicitation');
  if (++st.ln_hold_total <= LN_HOLD_TOTAL) {
    if (ln.ln_mq.len >= LN_HOLD_QUEUE) {
      ln.ln_mq.dequeue()!.free();
      st.ln_hold_total--;
      st.ip6xstat.inc(ip6x_nd_holddrops);
    }
    ln.ln_mq.enqueue(m);
  } else {
    const n = ln.ln_mq.purge();
    st.ln_hold_total -= n + 1;
    st.ip6xstat.add(ip6x_nd_holdtotal, n + 1);
    m.free();
  }
  if (!ND6_LLINFO_PERMANENT(ln) && ln.ln_asked === 0) {
    ln.ln_asked++;
    nd6_llinfo_settimer(k, ln, RETRANS_TIMER / 1000);
    const saddr = st.addrScratch;
    saddr.set(ln.ln_saddr6);
    nd6_ns_output(k, ifp, null, dst.subarray(dsto, dsto + 16), saddr, false);
  }
  return EAGAIN;
}

/**
 * ether_output() for IPv6: resolve the next hop (dst, scope embedded)
 * with nd6_resolve and queue the frame.  0 when sent or held.
 */
export function ether_output6(ifp: Ifnet, m: Mbuf, dst: Uint8Array, dsto: number, rt: Rtentry6 | null): number {
  const k = ifp.kernel;
  if (k.trace !== null) k.trace.fn(k, m, 'ether_output', ifp.if_xname);
  if (!(ifp.if_flags & IFF_RUNNING)) {
    k.inet6.ip6xstat.inc(ip6x_odown);
    if (k.trace !== null) k.trace.drop(k, m, 'ether_output: interface not running');
    m.free();
    return ENETDOWN;
  }
  const desten = k.inet6.desten;
  const error = nd6_resolve(k, ifp, rt, m, dst, dsto, desten);
  if (error !== 0) return error === EAGAIN ? 0 : error;
  return ether_encap_output(k, ifp, m, desten, ETHERTYPE_IPV6);
}

/** ndp -d: delete the neighbor entry of addr (scope embedded); an errno. */
export function nd6_delete(k: Kernel, addr: Uint8Array): number {
  const rt = k.inet6.rtable.lookup(addr, 128);
  if (rt === null || !(rt.rt_flags & RTF_LLINFO) || rt.rt_gwfamily !== AF_LINK) return 3; // ESRCH
  if (rt.rt_flags & RTF_LOCAL) return 0;
  nd6_invalidate(k, rt);
  rt6_deletemsg(k, rt);
  return 0;
}

/** The neighbor entries (RTF_LLINFO host routes), as ndp -a lists them. */
export function nd6_entries(k: Kernel): Rtentry6[] {
  return k.inet6.rtable.entries().filter((rt) => rt.rt_flags & RTF_LLINFO && rt.rt_gwfamily === AF_LINK && rt.rt_plen === 128);
}

/** SIOCGNBRINFO_IN6: what ndp prints about an entry. */
export function nd6_nbrinfo(rt: Rtentry6): { state: number; asked: number; isrouter: boolean; expire: number } {
  const ln = rt.rt_llinfo as LlinfoNd6 | null;
  return {
    state: ln?.ln_state ?? ND6_LLINFO_NOSTATE,
    asked: ln?.ln_asked ?? 0,
    isrouter: ln?.ln_router ?? false,
    expire: rt.rt_expire,
  };
}

/** ndp -s: a static (permanent) neighbor entry; an errno. */
export function nd6_add_static(k: Kernel, ifp: Ifnet, addr: Uint8Array, lladdr: Uint8Array, proxy: boolean): number {
  const rt = nd6_lookup(k, addr, 0, true, ifp);
  if (rt === null) return EHOSTUNREACH;
  rt.rt_gwll.set(lladdr.subarray(0, 6));
  rt.rt_gwalen = 6;
  rt.rt_flags |= RTF_STATIC;
  if (proxy) rt.rt_flags |= RTF_ANNOUNCE;
  const ln = rt.rt_llinfo as LlinfoNd6 | null;
  if (ln !== null) {
    ln.ln_state = ND6_LLINFO_REACHABLE;
    rt.rt_expire = 0;
  }
  return 0;
}

export function nd6_valid(rt: Rtentry6 | null): boolean {
  return rt6isvalid(rt);
}

function fmt(b: Uint8Array, o: number): string {
  const t = b.slice(o, o + 16);
  in6_clearscope(t, 0);
  return formatIp6(t, 0);
}

function mac(b: Uint8Array, o: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + b[o + i]!.toString(16).padStart(2, '0');
  return s;
}

