/**
 * IPv6 interface addresses (sys/netinet6/in6.c, in6_ifattach.c): adding
 * and removing addresses with the routes they bring (the connected
 * cloning route, the local route, the interface's multicast routes), the
 * groups they join (all-nodes, solicited-node), duplicate address
 * detection of new addresses, link-local addresses from the MAC
 * (modified EUI-64), source address selection, and in6_cksum().
 *
 * OpenBSD enables IPv6 on an interface when an IPv6 address is first
 * configured on it (or `inet6 eui64`/`autoconf`): in6_ifattach() then adds
 * the link-local address.  inet6_enable(k) does it for every Ethernet
 * interface and lo0 (::1, fe80::1%lo0) of a kernel, and for interfaces
 * that come up later: a lab's "IPv6 everywhere".
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from '../net/if.js';
import { IFF_LOOPBACK, IFF_MULTICAST, IFF_POINTOPOINT, IFF_UP, IFT_ETHER, IFT_LOOP, if_setflags_up } from '../net/if.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import { sum16 } from '../../wire/checksum.js';
import { EADDRNOTAVAIL, EINVAL, RTF_CLONING, RTF_CONNECTED, RTF_HOST, RTF_LLINFO, RTF_LOCAL, RTF_MPATH, RTF_MULTICAST } from '../net/route.js';
import { rt6_ifa_add, rt6_ifa_del } from '../net/route6.js';
import {
  In6Ifaddr, In6Multi, IN6_ARE_ADDR_EQUAL, IN6_IFF_ANYCAST, IN6_IFF_DEPRECATED, IN6_IFF_DETACHED,
  IN6_IFF_DUPLICATED, IN6_IFF_TENTATIVE, IN6_IS_ADDR_LINKLOCAL, IN6_IS_ADDR_LOOPBACK, IN6_IS_ADDR_MULTICAST, IN6_IS_SCOPE_EMBED,
  in6_addrscope, in6_getscope, in6_matchlen, in6_prefix_match, in6_setscope, ND6_INFINITE_LIFETIME,
} from './in6_var.js';
import { nd6_dad_start, nd6_dad_stop } from './nd6_nbr.js';
import { mld6_start_listening, mld6_stop_listening } from './mld6.js';
import { getuptime } from '../netinet/if_ether.js';
import { rtable_loifp } from '../netinet/ip_output.js';

/** ff02::1, ff01::1, ::1 and fe80::1 (no scope). */
export const in6addr_linklocal_allnodes = new Uint8Array([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
export const in6addr_intfacelocal_allnodes = new Uint8Array([0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
export const in6addr_linklocal_allrouters = new Uint8Array([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
export const in6addr_loopback = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
export const in6addr_any = new Uint8Array(16);

/** The solicited-node group of addr for ifidx (ff02::1:ffXX:XXXX%if) into out. */
export function in6_solicited_node(addr: Uint8Array, o: number, ifidx: number, out: Uint8Array, oo = 0): void {
  out.fill(0, oo, oo + 16);
  out[oo] = 0xff;
  out[oo + 1] = 0x02;
  out[oo + 11] = 0x01;
  out[oo + 12] = 0xff;
  out[oo + 13] = addr[o + 13]!;
  out[oo + 14] = addr[o + 14]!;
  out[oo + 15] = addr[o + 15]!;
  in6_setscope(out, oo, ifidx);
}

/** A scoped copy of a constant group for ifidx. */
function scoped(a: Uint8Array, ifidx: number): Uint8Array {
  const c = a.slice();
  in6_setscope(c, 0, ifidx);
  return c;
}

/** in6_hasmulti(): ifp has joined the group at b[o..] (scope embedded). */
export function in6_hasmulti(k: Kernel, b: Uint8Array, o: number, ifp: Ifnet): boolean {
  const l = k.inet6.multi[ifp.if_index];
  if (l === undefined) return false;
  for (const m of l) if (IN6_ARE_ADDR_EQUAL(m.addr, 0, b, o)) return true;
  return false;
}

/** in6_addmulti(): join a group (refcounted); MLD announces new groups. */
export function in6_addmulti(k: Kernel, group: Uint8Array, ifp: Ifnet): In6Multi {
  const l = k.inet6.multi[ifp.if_index] ?? (k.inet6.multi[ifp.if_index] = []);
  for (const m of l) {
    if (IN6_ARE_ADDR_EQUAL(m.addr, 0, group, 0)) {
      m.refcnt++;
      return m;
    }
  }
  const m = new In6Multi(ifp.if_index);
  m.addr.set(group.subarray(0, 16));
  l.push(m);
  mld6_start_listening(k, m);
  return m;
}

/** in6_delmulti() */
export function in6_delmulti(k: Kernel, group: Uint8Array, ifp: Ifnet): void {
  const l = k.inet6.multi[ifp.if_index];
  if (l === undefined) return;
  const i = l.findIndex((m) => IN6_ARE_ADDR_EQUAL(m.addr, 0, group, 0));
  if (i < 0) return;
  const m = l[i]!;
  if (--m.refcnt > 0) return;
  l.splice(i, 1);
  mld6_stop_listening(k, m);
}

/** in6ifa_ifpwithaddr(): our address equal to b[o..] on ifp. */
export function in6ifa_ifpwithaddr(k: Kernel, ifp: Ifnet, b: Uint8Array, o: number): In6Ifaddr | null {
  for (const ia of k.inet6.addrs(ifp)) if (IN6_ARE_ADDR_EQUAL(ia.addr, 0, b, o)) return ia;
  return null;
}

/** ifa_ifwithaddr() for IPv6: our address equal to b[o..] on any interface. */
export function in6ifa_ifwithaddr(k: Kernel, b: Uint8Array, o: number): In6Ifaddr | null {
  for (const l of k.inet6.ifaddrs) {
    if (l === undefined) continue;
    for (const ia of l) if (IN6_ARE_ADDR_EQUAL(ia.addr, 0, b, o)) return ia;
  }
  return null;
}

/** in6ifa_ifpforlinklocal(): ifp's link-local address without the given flags. */
export function in6ifa_ifpforlinklocal(k: Kernel, ifp: Ifnet, ignflags: number): In6Ifaddr | null {
  for (const ia of k.inet6.addrs(ifp)) {
    if (IN6_IS_ADDR_LINKLOCAL(ia.addr, 0) && (ia.ia6_flags & ignflags) === 0) return ia;
  }
  return null;
}

/**
 * in6_update_ifa() / SIOCAIFADDR_IN6: add (or update the prefix length
 * and lifetimes of) an address.  addr is taken without scope; link-local
 * addresses get ifp's index embedded.  Returns the address or an errno.
 */
export function in6_update_ifa(
  k: Kernel,
  ifp: Ifnet,
  addr: Uint8Array,
  plen: number,
  opts: { flags?: number; vltime?: number; pltime?: number; nodad?: boolean } = {},
): In6Ifaddr | number {
  if (plen < 0 || plen > 128 || IN6_IS_ADDR_MULTICAST(addr, 0)) return EINVAL;
  if (IN6_IS_ADDR_LINKLOCAL(addr, 0) && plen !== 64 && !(ifp.if_flags & IFF_LOOPBACK)) return EINVAL;
  const a = addr.slice(0, 16);
  in6_setscope(a, 0, ifp.if_index);
  if (!k.inet6.attached[ifp.if_index] && !IN6_IS_ADDR_LINKLOCAL(a, 0)) in6_ifattach(k, ifp);
  const list = k.inet6.addrs(ifp);
  let ia = in6ifa_ifpwithaddr(k, ifp, a, 0);
  const isnew = ia === null;
  if (ia !== null) {
    if (ia.prefixlen !== plen) {
      in6_purgeroutes(k, ifp, ia);
      ia.prefixlen = plen;
      in6_ifinit(k, ifp, ia);  in6_addrhooks_run(k, ifp);
    }
  } else {
    ia = new In6Ifaddr(ifp.if_index);
    ia.addr.set(a);
    ia.prefixlen = plen;
    list.push(ia);
  }
  ia.ia6_flags = (ia.ia6_flags & (IN6_IFF_TENTATIVE | IN6_IFF_DUPLICATED)) | (opts.flags ?? 0);
  ia.vltime = opts.vltime ?? ND6_INFINITE_LIFETIME;
  ia.pltime = opts.pltime ?? ND6_INFINITE_LIFETIME;
  ia.ia6_updatetime = getuptime(k);
  if (ia.pltime === 0) ia.ia6_flags |= IN6_IFF_DEPRECATED;
  if (!isnew) return ia;
  // The interface comes up with its first address (ether_ioctl(SIOCSIFADDR)).
  if (!(ifp.if_flags & IFF_UP)) if_setflags_up(ifp, true);
  if (ifp.if_flags & IFF_MULTICAST) {
    const g = k.inet6.addrScratch2;
    in6_solicited_node(ia.addr, 0, ifp.if_index, g);
    in6_addmulti(k, g.slice(), ifp);
  }
  const dad = !(ifp.if_flags & IFF_LOOPBACK) && ifp.if_type === IFT_ETHER && !opts.nodad && !(ia.ia6_flags & IN6_IFF_ANYCAST);
  if (dad) ia.ia6_flags |= IN6_IFF_TENTATIVE;
  in6_ifinit(k, ifp, ia);
  if (dad) nd6_dad_start(k, ia);
  in6_addrhooks_run(k, ifp);
  return ia;
}

/** if_addrhooks_run() for IPv6: the interface's IPv6 addresses changed. */
function in6_addrhooks_run(k: Kernel, ifp: Ifnet): void {
  const hooks = k.if_addrhooks6;
  for (let i = 0; i < hooks.length; i++) hooks[i]!(ifp);
}

/** in6_ifinit(): the connected and local routes of an address (loopback interfaces get no connected route). */
function in6_ifinit(k: Kernel, ifp: Ifnet, ia: In6Ifaddr): void {
  if (ia.prefixlen < 128 && !(ifp.if_flags & (IFF_POINTOPOINT | IFF_LOOPBACK))) {
    // RTF_MPATH: the same prefix may be connected on several interfaces (the flag stays only then).
    const f = (ifp.if_type === IFT_ETHER ? RTF_CLONING | RTF_CONNECTED : RTF_CONNECTED) | RTF_MPATH;
    rt6_ifa_add(k, ifp, ia, f, ia.addr, ia.prefixlen);
  }
  let flags = RTF_HOST | RTF_LOCAL;
  if (ifp.if_type === IFT_ETHER) flags |= RTF_LLINFO;
  rt6_ifa_add(k, ifp, ia, flags, ia.addr, 128);
}

function in6_purgeroutes(k: Kernel, ifp: Ifnet, ia: In6Ifaddr): void {
  let flags = RTF_HOST | RTF_LOCAL;
  if (ifp.if_type === IFT_ETHER) flags |= RTF_LLINFO;
  rt6_ifa_del(k, ifp, flags, ia.addr, 128);
  if (ia.prefixlen < 128 && !(ifp.if_flags & (IFF_POINTOPOINT | IFF_LOOPBACK))) {
    // Another address may still hold the prefix.
    const others = k.inet6.addrs(ifp).some((o) => o !== ia && o.prefixlen === ia.prefixlen && in6_prefix_match(o.addr, 0, ia.addr, 0, ia.prefixlen));
    if (!others) {
      const f = ifp.if_type === IFT_ETHER ? RTF_CLONING | RTF_CONNECTED : RTF_CONNECTED;
      rt6_ifa_del(k, ifp, f, ia.addr, ia.prefixlen);
    }
  }
}

/** in6_purgeaddr() / SIOCDIFADDR_IN6: remove an address (addr without scope). */
export function in6_purgeaddr(k: Kernel, ifp: Ifnet, addr: Uint8Array): number {
  const a = addr.slice(0, 16);
  in6_setscope(a, 0, ifp.if_index);
  const list = k.inet6.addrs(ifp);
  const i = list.findIndex((x) => IN6_ARE_ADDR_EQUAL(x.addr, 0, a, 0));
  if (i < 0) return EADDRNOTAVAIL;
  const ia = list[i]!;
  nd6_dad_stop(k, ia);
  in6_purgeroutes(k, ifp, ia);
  list.splice(i, 1);
  if (ifp.if_flags & IFF_MULTICAST) {
    const g = k.inet6.addrScratch2;
    in6_solicited_node(ia.addr, 0, ifp.if_index, g);
    in6_delmulti(k, g.slice(), ifp);
  }
  in6_addrhooks_run(k, ifp);
  return 0;
}

/** ifconfig IF -inet6: every IPv6 address goes, link-local included, and IPv6 is off on IF. */
export function in6_ifdetach(k: Kernel, ifp: Ifnet): void {
  const list = k.inet6.addrs(ifp);
  while (list.length > 0) {
    const b = list[list.length - 1]!.addr.slice();
    b[2] = IN6_IS_SCOPE_EMBED(b, 0) ? 0 : b[2]!;
    if (IN6_IS_SCOPE_EMBED(b, 0)) b[3] = 0;
    in6_purgeaddr(k, ifp, b);
  }
  for (const g of [in6addr_intfacelocal_allnodes, in6addr_linklocal_allnodes]) {
    const s = scoped(g, ifp.if_index);
    rt6_ifa_del(k, ifp, RTF_MULTICAST, s, 32);
    in6_delmulti(k, s, ifp);
  }
  k.inet6.attached[ifp.if_index] = false;
}

/** The modified EUI-64 interface identifier of a MAC into out[8..16). */
export function in6_get_hw_ifid(mac: Uint8Array, out: Uint8Array): void {
  out[8] = mac[0]! ^ 0x02;
  out[9] = mac[1]!;
  out[10] = mac[2]!;
  out[11] = 0xff;
  out[12] = 0xfe;
  out[13] = mac[3]!;
  out[14] = mac[4]!;
  out[15] = mac[5]!;
}

/**
 * in6_ifattach(): enable IPv6 on ifp: lo0 gets ::1 and fe80::1 (other lo
 * interfaces fe80::1 only), Ethernet a
 * link-local address from its MAC; both join the all-nodes groups and get
 * the interface-local and link-local multicast routes.
 */
export function in6_ifattach(k: Kernel, ifp: Ifnet): void {
  const st = k.inet6;
  if (st.attached[ifp.if_index]) return;
  if (ifp.if_type !== IFT_ETHER && ifp.if_type !== IFT_LOOP) return;
  st.attached[ifp.if_index] = true;
  st.nd(ifp).reachable = nd_compute_rtime(k, st.nd(ifp).basereachable);
  if (ifp.if_flags & IFF_MULTICAST) {
    in6_addmulti(k, scoped(in6addr_linklocal_allnodes, ifp.if_index), ifp);
    in6_addmulti(k, scoped(in6addr_intfacelocal_allnodes, ifp.if_index), ifp);
  }
  const ll = new Uint8Array(16);
  ll[0] = 0xfe;
  ll[1] = 0x80;
  if (ifp.if_flags & IFF_LOOPBACK) {
    // ::1 only on the routing domain's default loopback (rtable_loindex).
    if (rtable_loifp(k) === ifp) in6_update_ifa(k, ifp, in6addr_loopback, 128);
    ll[15] = 1;
  } else in6_get_hw_ifid(ifp.if_lladdr, ll);
  const ia = in6_update_ifa(k, ifp, ll, 64);
  if (typeof ia !== 'number' && ifp.if_flags & IFF_MULTICAST) {
    rt6_ifa_add(k, ifp, ia, RTF_MULTICAST, scoped(in6addr_intfacelocal_allnodes, ifp.if_index), 32);
    rt6_ifa_add(k, ifp, ia, RTF_MULTICAST, scoped(in6addr_linklocal_allnodes, ifp.if_index), 32);
  }
}

/** ND_COMPUTE_RTIME(): a random reachable time, 0.5 to 1.5 times the base (ms), in seconds. */
export function nd_compute_rtime(k: Kernel, x: number): number {
  return Math.floor((512 * (x >> 10) + (k.random.arc4random() & (1024 * (x >> 10) - 1))) / 1000);
}

/** Link hook: with inet6_enable(), interfaces coming up get IPv6. */
export function in6_if_up(ifp: Ifnet): void {
  const k = ifp.kernel;
  if (!k.inet6.autoattach || !(ifp.if_flags & IFF_UP)) return;
  in6_ifattach(k, ifp);
}

/** Enable IPv6 on every Ethernet and loopback interface of k, now and as they come up. */
export function inet6_enable(k: Kernel): void {
  k.inet6.autoattach = true;
  for (const ifp of k.ifnets) if (ifp !== undefined && ifp.if_flags & IFF_UP) in6_ifattach(k, ifp);
}

/** Whether an address may be used as a source (not tentative, duplicated, anycast or detached). */
function usable(ia: In6Ifaddr): boolean {
  return (ia.ia6_flags & (IN6_IFF_TENTATIVE | IN6_IFF_DUPLICATED | IN6_IFF_ANYCAST | IN6_IFF_DETACHED)) === 0;
}

/**
 * in6_ifawithscope(): the source address for dst leaving through oifp
 * (RFC 6724 rules in OpenBSD's order: same address, appropriate scope,
 * avoid deprecated, outgoing interface, longest matching prefix).
 * Tentative addresses are never candidates, as in OpenBSD; unlike
 * OpenBSD's, lo0's ::1 and fe80::1%lo0 are not candidates for another
 * interface either (OpenBSD checks only the destination's zone, so during
 * DAD it could pick them), so null means "no usable source yet".
 */
export function in6_ifawithscope(k: Kernel, oifp: Ifnet | null, dst: Uint8Array, dsto: number): In6Ifaddr | null {
  const dscope = in6_addrscope(dst, dsto);
  const dzone = in6_getscope(dst, dsto);
  let best: In6Ifaddr | null = null;
  let bestScope = 0;
  let bestMatch = -1;
  for (const l of k.inet6.ifaddrs) {
    if (l === undefined) continue;
    for (const ia of l) {
      if (!usable(ia)) continue;
      const ascope = in6_addrscope(ia.addr, 0);
      // A scoped address serves only its own zone.
      if (IN6_IS_SCOPE_EMBED(ia.addr, 0) && dzone !== 0 && ia.ifidx !== dzone) continue;
      if (IN6_IS_SCOPE_EMBED(ia.addr, 0) && dzone === 0 && oifp !== null && ia.ifidx !== oifp.if_index) continue;
      // ::1 never leaves the node (RFC 4291 2.5.3): while every address of
      // oifp is still tentative, selection fails instead of falling back to it.
      if (oifp !== null && !(oifp.if_flags & IFF_LOOPBACK) && IN6_IS_ADDR_LOOPBACK(ia.addr, 0)) continue;
      if (IN6_ARE_ADDR_EQUAL(ia.addr, 0, dst, dsto)) return ia;
      if (best === null) {
        best = ia;
        bestScope = ascope;
        bestMatch = in6_matchlen(ia.addr, 0, dst, dsto);
        continue;
      }
      // Rule 2: appropriate scope.
      if (ascope !== bestScope) {
        if (bestScope < ascope) {
          if (bestScope < dscope) replace();
          continue;
        }
        if (ascope < dscope) continue;
        replace();
        continue;
      }
      // Rule 3: avoid deprecated.
      const dep = (ia.ia6_flags & IN6_IFF_DEPRECATED) !== 0;
      const bdep = (best.ia6_flags & IN6_IFF_DEPRECATED) !== 0;
      if (dep !== bdep) {
        if (bdep) replace();
        continue;
      }
      // Rule 5: the outgoing interface.
      if (oifp !== null && (ia.ifidx === oifp.if_index) !== (best.ifidx === oifp.if_index)) {
        if (ia.ifidx === oifp.if_index) replace();
        continue;
      }
      // Rule 8: longest matching prefix.
      const ml = in6_matchlen(ia.addr, 0, dst, dsto);
      if (ml > bestMatch) replace();
      function replace(): void {
        best = ia;
        bestScope = ascope;
        bestMatch = in6_matchlen(ia.addr, 0, dst, dsto);
      }
    }
  }
  return best;
}

/**
 * in6_cksum(): the checksum of the upper-layer data at m.off+off (len
 * bytes) with the IPv6 pseudo header of the packet's addresses, scope
 * indexes left out.  0 on a packet that verifies; the field value when
 * the checksum field was zeroed before.
 */
export function in6_cksum(k: Kernel, m: Mbuf, nxt: number, off: number, len: number): number {
  const p = k.inet6.pseudo;
  const b = m.buf;
  p.set(b.subarray(m.off + 8, m.off + 40));
  if (IN6_IS_SCOPE_EMBED(p, 0)) p[2] = p[3] = 0;
  if (IN6_IS_SCOPE_EMBED(p, 16)) p[18] = p[19] = 0;
  let s = nxt + (len >>> 16) + (len & 0xffff);
  s = sum16(p, 0, 32, s);
  return ~sum16(b, m.off + off, len, s) & 0xffff;
}

/** The addresses of ifp in ifconfig's order (for tools). */
export function in6_ifaddrs(k: Kernel, ifp: Ifnet): readonly In6Ifaddr[] {
  return k.inet6.ifaddrs[ifp.if_index] ?? [];
}

/** True when addr (scope embedded) is one of ours and usable, for tools and pcbs. */
export function in6_isours(k: Kernel, b: Uint8Array, o: number): boolean {
  const ia = in6ifa_ifwithaddr(k, b, o);
  return ia !== null && usable(ia);
}
