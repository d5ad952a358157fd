/**
 * Router solicitations and advertisements.  OpenBSD's kernel only checks
 * them and learns the sender's link-layer address (nd6_rtr_cache); the
 * daemons do the rest: slaacd(8) configures addresses and the default
 * route from advertisements on interfaces marked `inet6 autoconf`
 * (IFXF_AUTOCONF6), rad(8) sends advertisements.  Both are folded in
 * here so a lab needs no daemons:
 *
 * - an RA on an AUTOCONF6 interface: a default route via the router
 *   (router lifetime > 0), and for each prefix with the A flag and length
 *   64 an address prefix + EUI-64 (autoconf, with the lifetimes);
 * - rad_start(k, ifp, config): unsolicited RAs to ff02::1 every interval
 *   and one in answer to each RS, from the link-local address.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { IFF_RUNNING, IFXF_AUTOCONF6 } from '../net/if.js';
import { M_MCAST, type Mbuf } from '../kern/uipc_mbuf.js';
import { icp6s_badra, icp6s_badrs, icp6s_outhist } from '../kern/counters.gen.js';
import { get16, get32, put16, put32 } from '../../wire/bytes.js';
import { IP6_HDR_LEN } from '../../wire/ip6.js';
import { IPPROTO_ICMPV6 } from '../../wire/ip4.js';
import {
  ND_OPT_MTU, ND_OPT_PI_FLAG_AUTO, ND_OPT_PI_FLAG_ONLINK, ND_OPT_PREFIX_INFORMATION, ND_OPT_SOURCE_LINKADDR,
  ND_ROUTER_ADVERT, ND_ROUTER_SOLICIT,
} from '../../wire/icmp6.js';
import { RTF_GATEWAY, RTF_STATIC, RTM_ADD } from '../net/route.js';
import { rtrequest6, rtrequest6_delete } from '../net/route6.js';
import { IN6_IFF_AUTOCONF, IN6_IFF_DUPLICATED, IN6_IFF_TENTATIVE, IN6_IS_ADDR_LINKLOCAL, in6_setscope } from './in6_var.js';
import {
  in6_addmulti, in6_cksum, in6_get_hw_ifid, in6_update_ifa, in6addr_linklocal_allnodes,
  in6addr_linklocal_allrouters, in6ifa_ifpforlinklocal,
} from './in6.js';
import { nd6_cache_lladdr } from './nd6.js';
import { nd6_options } from './nd6_nbr.js';
import { ip6_output } from './ip6_output.js';
import { ip6x_ra_ignored, type RadConfig } from './inet6.js';

/** nd6_rtr_cache(): an RS or RA (not consumed). */
export function nd6_rtr_cache(k: Kernel, m: Mbuf, off: number, icmp6len: number, type: number, ifp: Ifnet): void {
  const st = k.stats.icmp6stat;
  const b = m.buf;
  const src = m.off + 8;
  const hlim = b[m.off + 7]!;
  const p = m.off + off;
  if (type === ND_ROUTER_SOLICIT) {
    if (hlim !== 255) {
      st.inc(icp6s_badrs);
      return;
    }
    const opts = ndo;
    if (!nd6_options(k, b, p + 8, p + icmp6len, opts)) return;
    const ll = opts.src_lladdr >= 0 && b[opts.src_lladdr + 1] === 1 ? opts.src_lladdr + 2 : -1;
    if (ll >= 0) nd6_cache_lladdr(k, ifp, b, src, b, ll, ND_ROUTER_SOLICIT, 0);
    const rad = k.inet6.rad[ifp.if_index];
    if (rad !== undefined) rad_send(k, ifp, rad);
    return;
  }
  if (hlim !== 255 || !IN6_IS_ADDR_LINKLOCAL(b, src)) {
    st.inc(icp6s_badra);
    return;
  }
  const opts = ndo;
  if (!nd6_options(k, b, p + 16, p + icmp6len, opts)) return;
  const ll = opts.src_lladdr >= 0 && b[opts.src_lladdr + 1] === 1 ? opts.src_lladdr + 2 : -1;
  nd6_cache_lladdr(k, ifp, b, src, ll >= 0 ? b : null, ll, ND_ROUTER_ADVERT, 0);
  if (!(ifp.if_xflags & IFXF_AUTOCONF6) || k.inet6.ip6_forwarding.value !== 0) {
    k.inet6.ip6xstat.inc(ip6x_ra_ignored);
    return;
  }
  slaac_ra(k, m, off, icmp6len, ifp);
}

const ndo = new (class {
  src_lladdr = -1;
  tgt_lladdr = -1;
  mtu = -1;
  pi_first = -1;
  reset(): void {
    this.src_lladdr = this.tgt_lladdr = this.mtu = this.pi_first = -1;
  }
})();

/** What slaacd would do with an advertisement. */
function slaac_ra(k: Kernel, m: Mbuf, off: number, icmp6len: number, ifp: Ifnet): void {
  const b = m.buf;
  const p = m.off + off;
  const lifetime = get16(b, p + 6);
  const router = b.slice(m.off + 8, m.off + 24);
  const any = new Uint8Array(16);
  if (lifetime > 0) {
    rtrequest6(k, RTM_ADD, { dst: any, plen: 0, flags: RTF_GATEWAY | RTF_STATIC, gateway: router, ifp, ifa: null }, 0);
  } else rtrequest6_delete(k, any, 0, { gateway: router });
  const end = p + icmp6len;
  for (let o = p + 16; o + 2 <= end && b[o + 1] !== 0; o += b[o + 1]! << 3) {
    if (b[o] === ND_OPT_MTU && b[o + 1] === 1) {
      const mtu = get32(b, o + 4);
      if (mtu >= 1280 && mtu <= ifp.if_hardmtu) k.inet6.nd(ifp).linkmtu = mtu;
    }
    if (b[o] !== ND_OPT_PREFIX_INFORMATION || b[o + 1] !== 4) continue;
    const plen = b[o + 2]!;
    const flags = b[o + 3]!;
    const vltime = get32(b, o + 4);
    const pltime = get32(b, o + 8);
    if (!(flags & ND_OPT_PI_FLAG_AUTO) || plen !== 64 || pltime > vltime) continue;
    const a = b.slice(o + 16, o + 32);
    if (IN6_IS_ADDR_LINKLOCAL(a, 0)) continue;
    in6_get_hw_ifid(ifp.if_lladdr, a);
    in6_update_ifa(k, ifp, a, plen, { flags: IN6_IFF_AUTOCONF, vltime, pltime });
  }
}

/** rad(8): advertise on ifp (prefixes, lifetime, interval) from now on. */
export function rad_start(k: Kernel, ifp: Ifnet, cfg: Omit<RadConfig, 'timer'>): RadConfig {
  const prev = k.inet6.rad[ifp.if_index];
  prev?.timer?.del();
  const rad: RadConfig = { ...cfg, timer: null };
  k.inet6.rad[ifp.if_index] = rad;
  const rtrs = in6addr_linklocal_allrouters.slice();
  in6_setscope(rtrs, 0, ifp.if_index);
  in6_addmulti(k, rtrs, ifp);
  const t = k.world.timeout<RadConfig>(() => {
    rad_send(k, ifp, rad);
    t.addSec(rad.interval);
  }, rad);
  rad.timer = t;
  t.addSec(1);
  return rad;
}

export function rad_stop(k: Kernel, ifp: Ifnet): void {
  const rad = k.inet6.rad[ifp.if_index];
  rad?.timer?.del();
  k.inet6.rad[ifp.if_index] = undefined;
}

/** One router advertisement to all-nodes. */
export function rad_send(k: Kernel, ifp: Ifnet, rad: RadConfig): void {
  if (!(ifp.if_flags & IFF_RUNNING)) return;
  const ia = in6ifa_ifpforlinklocal(k, ifp, IN6_IFF_TENTATIVE | IN6_IFF_DUPLICATED);
  if (ia === null) return;
  const olen = 8 + (rad.mtu ? 8 : 0) + 32 * rad.prefixes.length;
  const len = IP6_HDR_LEN + 16 + olen;
  const m = k.mbufs.get(len);
  if (m === null) return;
  m.append(len);
  const b = m.buf;
  const o = m.off;
  b.fill(0, o, o + len);
  b[o] = 0x60;
  put16(b, o + 4, len - IP6_HDR_LEN);
  b[o + 6] = IPPROTO_ICMPV6;
  b[o + 7] = 255;
  b.set(ia.addr, o + 8);
  b.set(in6addr_linklocal_allnodes, o + 24);
  in6_setscope(b, o + 24, ifp.if_index);
  const p = o + IP6_HDR_LEN;
  b[p] = ND_ROUTER_ADVERT;
  b[p + 4] = 64;
  put16(b, p + 6, rad.lifetime);
  let q = p + 16;
  b[q] = ND_OPT_SOURCE_LINKADDR;
  b[q + 1] = 1;
  b.set(ifp.if_lladdr.subarray(0, 6), q + 2);
  q += 8;
  if (rad.mtu) {
    b[q] = ND_OPT_MTU;
    b[q + 1] = 1;
    put32(b, q + 4, rad.mtu);
    q += 8;
  }
  for (const pi of rad.prefixes) {
    b[q] = ND_OPT_PREFIX_INFORMATION;
    b[q + 1] = 4;
    b[q + 2] = pi.plen;
    b[q + 3] = ND_OPT_PI_FLAG_ONLINK | ND_OPT_PI_FLAG_AUTO;
    put32(b, q + 4, pi.vltime);
    put32(b, q + 8, pi.pltime);
    b.set(pi.prefix.subarray(0, 16), q + 16);
    q += 32;
  }
  m.m_flags |= M_MCAST;
  const c = in6_cksum(k, m, IPPROTO_ICMPV6, IP6_HDR_LEN, len - IP6_HDR_LEN);
  put16(b, p + 2, c);
  k.stats.icmp6stat.inc(icp6s_outhist + ND_ROUTER_ADVERT);
  if (k.trace !== null) k.trace.caused(m, 'rad: router advertisement');
  ip6_output(k, m, 0, null, ifp, 255);
}
