/**
 * IPv4 addresses of interfaces (sys/netinet/in.c): the routes an address
 * brings when configured (in_ifinit: the connected cloning route, the
 * broadcast host route, the local route whose RTM_ADD sends the gratuitous
 * ARP) and removes when it goes, plus the address predicates of in.h.
 *
 * The ifconfig side edits ifp.if_addrs and then calls in_ifaddr_change(ifp);
 * in_control_add()/in_control_delete() do both, for code and tests.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet, InIfaddr } from '../net/if.js';
import { IFF_BROADCAST, IFF_LOOPBACK, IFF_POINTOPOINT } from '../net/if.js';
import {
  RTF_BROADCAST, RTF_CLONING, RTF_CONNECTED, RTF_HOST, RTF_LLINFO, RTF_LOCAL, rt_ifa_add, rt_ifa_del,
} from '../net/route.js';

export const INADDR_ANY = 0;
export const INADDR_BROADCAST = 0xffffffff;
export const IN_LOOPBACKNET = 127;

/** 224.0.0.1, all hosts (compare with a >>> 0: addresses may come as int32). */
export const INADDR_ALLHOSTS_GROUP = 0xe0000001;

/** IN_LOCAL_GROUP(): 224.0.0.0/24, never forwarded (a u32 or an int32). */
export function IN_LOCAL_GROUP(a: number): boolean {
  return (a & 0xffffff00) >>> 0 === 0xe0000000;
}

export function IN_MULTICAST(a: number): boolean {
  return (a & 0xf0000000) >>> 0 === 0xe0000000;
}
export function IN_EXPERIMENTAL(a: number): boolean {
  return (a & 0xf0000000) >>> 0 === 0xf0000000;
}

/** in_canforward(): not multicast, class E, 0/8 or 127/8. */
export function in_canforward(a: number): boolean {
  if (IN_MULTICAST(a) || IN_EXPERIMENTAL(a)) return false;
  if ((a & 0x80000000) === 0) {
    const net = a >>> 24;
    if (net === 0 || net === IN_LOOPBACKNET) return false;
  }
  return true;
}

/** ifa_ifwithaddr(): the interface address equal to addr, on any interface. */
export function ifa_ifwithaddr(k: Kernel, addr: number): InIfaddr | null {
  for (const ifp of k.ifnets) {
    if (ifp === undefined) continue;
    for (const ia of ifp.if_addrs) if (ia.addr === addr >>> 0) return ia;
  }
  return null;
}

/** The interface holding an address object. */
export function ifa_ifp(k: Kernel, ia: InIfaddr): Ifnet | null {
  for (const ifp of k.ifnets) if (ifp !== undefined && ifp.if_addrs.includes(ia)) return ifp;
  return null;
}

/** ifa_ifwithnet(): the address whose subnet holds addr. */
export function ifa_ifwithnet(k: Kernel, addr: number): { ifp: Ifnet; ia: InIfaddr } | null {
  for (const ifp of k.ifnets) {
    if (ifp === undefined) continue;
    for (const ia of ifp.if_addrs) {
      if (((ia.addr & ia.mask) >>> 0) === ((addr & ia.mask) >>> 0)) return { ifp, ia };
    }
  }
  return null;
}

/** What in_ifinit() installed for one address (to remove exactly that later). */
interface Installed {
  ia: InIfaddr;
  addr: number;
  mask: number;
  broadaddr: number;
}

function netOf(x: Installed): number {
  return (x.addr & x.mask) >>> 0;
}

/** in_ifinit(): routes of a new address. */
function in_ifinit(k: Kernel, ifp: Ifnet, x: Installed): void {
  const ia = x.ia;
  if (!(ifp.if_flags & (IFF_LOOPBACK | IFF_POINTOPOINT))) {
    rt_ifa_add(k, ifp, ia, RTF_CLONING | RTF_CONNECTED, netOf(x));
    if (ifp.if_flags & IFF_BROADCAST && x.broadaddr !== 0 && x.mask !== 0xffffffff)
      rt_ifa_add(k, ifp, ia, RTF_HOST | RTF_BROADCAST, x.broadaddr);
  }
  // rt_ifa_addlocal(): the RTM_ADD of an RTF_LOCAL|RTF_LLINFO route announces the address.
  let flags = RTF_HOST | RTF_LOCAL;
  if (!(ifp.if_flags & (IFF_LOOPBACK | IFF_POINTOPOINT))) flags |= RTF_LLINFO;
  rt_ifa_add(k, ifp, ia, flags, x.addr);
}

function in_purgeaddr(k: Kernel, ifp: Ifnet, x: Installed): void {
  let flags = RTF_HOST | RTF_LOCAL;
  if (!(ifp.if_flags & (IFF_LOOPBACK | IFF_POINTOPOINT))) flags |= RTF_LLINFO;
  const ia = { addr: x.addr, mask: x.mask, broadaddr: x.broadaddr };
  rt_ifa_del(k, ifp, ia, flags, x.addr);
  if (!(ifp.if_flags & (IFF_LOOPBACK | IFF_POINTOPOINT))) {
    if (ifp.if_flags & IFF_BROADCAST && x.broadaddr !== 0 && x.mask !== 0xffffffff)
      rt_ifa_del(k, ifp, ia, RTF_HOST | RTF_BROADCAST, x.broadaddr);
    rt_ifa_del(k, ifp, ia, RTF_CLONING | RTF_CONNECTED, netOf(x));
  }
}

/**
 * in_ifaddr_change(): bring the routing table in line with ifp.if_addrs
 * (addresses added, removed or changed since the last call).
 */
export function in_ifaddr_change(ifp: Ifnet): void {
  const k = ifp.kernel;
  const inet = k.inet;
  let cur = inet.installed.get(ifp.if_index) as Installed[] | undefined;
  if (cur === undefined) {
    cur = [];
    inet.installed.set(ifp.if_index, cur);
  }
  // Removed or changed addresses first.
  for (const x of cur.slice()) {
    const ia = x.ia;
    const still = ifp.if_addrs.includes(ia) && ia.addr === x.addr && ia.mask === x.mask && ia.broadaddr === x.broadaddr;
    if (!still) {
      in_purgeaddr(k, ifp, x);
      cur.splice(cur.indexOf(x), 1);
    }
  }
  for (const ia of ifp.if_addrs) {
    if (cur.some((x) => x.ia === ia)) continue;
    const x: Installed = { ia, addr: ia.addr >>> 0, mask: ia.mask >>> 0, broadaddr: ia.broadaddr >>> 0 };
    cur.push(x);
    in_ifinit(k, ifp, x);
  }
}

/** The broadcast address of addr/mask. */
export function in_broadcast_of(addr: number, mask: number): number {
  return ((addr & mask) | ~mask) >>> 0;
}

/** SIOCAIFADDR: add (or change) an address on ifp; returns it. */
export function in_control_add(ifp: Ifnet, addr: number, mask: number, broadaddr?: number): InIfaddr {
  let ia = ifp.if_addrs.find((a) => a.addr === addr >>> 0);
  const broad = broadaddr ?? (ifp.if_flags & IFF_BROADCAST ? in_broadcast_of(addr, mask) : 0);
  if (ia === undefined) {
    ia = { addr: addr >>> 0, mask: mask >>> 0, broadaddr: broad };
    ifp.if_addrs.push(ia);
  } else {
    ia.mask = mask >>> 0;
    ia.broadaddr = broad;
  }
  in_ifaddr_change(ifp);
  return ia;
}

/** SIOCDIFADDR: remove an address; false when ifp does not have it. */
export function in_control_delete(ifp: Ifnet, addr: number): boolean {
  const i = ifp.if_addrs.findIndex((a) => a.addr === addr >>> 0);
  if (i < 0) return false;
  ifp.if_addrs.splice(i, 1);
  in_ifaddr_change(ifp);
  return true;
}
