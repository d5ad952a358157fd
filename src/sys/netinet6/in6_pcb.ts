/**
 * The IPv6 half of the PCB layer (sys/netinet6/in6_pcb.c), plugged into
 * the hooks of netinet/in_pcb.ts (k.inet.pcbconf): in6_pcbaddrisavail's
 * "is this address ours" check, in6_pcbconnect with source selection
 * (in6_pcbselsrc: the bound address, else RFC 6724 through the route's
 * interface), and the scope handling of socket addresses: a link-local
 * address carries its interface in sin6_scope_id outside the kernel and
 * embedded in bytes 2-3 inside (in6_embedscope / in6_recoverscope).
 */
import type { Kernel } from '../kern/kernel.js';
import { RT_RESOLVE } from '../net/route.js';
import { rt6isvalid } from '../net/route6.js';
import { EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT } from '../sys/errno.js';
import {
  in6_pcblookup, in_pcbbind, in_pcbrehash, type Inpcb, type Sockaddr,
} from '../netinet/in_pcb.js';
import { AF_INET6, IN6_IS_ADDR_MULTICAST, IN6_IS_ADDR_UNSPECIFIED, IN6_IS_SCOPE_EMBED, in6_getscope, in6_setscope } from './in6_var.js';
import { in6_ifawithscope, in6_isours } from './in6.js';
import { Route6 } from './inet6.js';
import { route6_mpath } from './ip6_output.js';
import { rt6_match } from '../net/route6.js';

/**
 * in6_embedscope(): the kernel form of sin6's address in out: a scoped
 * address gets sin6_scope_id in bytes 2-3.  0 or an errno.
 */
export function in6_embedscope(out: Uint8Array, sin6: Sockaddr): number {
  out.set(sin6.addr6);
  if (IN6_IS_SCOPE_EMBED(out, 0) && sin6.scope_id !== 0) in6_setscope(out, 0, sin6.scope_id);
  return 0;
}

/** in6_recoverscope(): the embedded scope back into sin6_scope_id. */
export function in6_recoverscope(sin6: Sockaddr): void {
  const a = sin6.addr6;
  if (IN6_IS_SCOPE_EMBED(a, 0)) {
    sin6.scope_id = in6_getscope(a, 0);
    a[2] = 0;
    a[3] = 0;
  } else sin6.scope_id = 0;
}

/** The Route6 a PCB caches for its foreign address. */
export function in6_pcbroute(inp: Inpcb): Route6 {
  return inp.inp_route6 ?? (inp.inp_route6 = new Route6());
}

/**
 * in6_pcbselsrc(): the source address towards dst (scope embedded) into
 * out: the bound address, else the one RFC 6724 picks for the route's
 * interface.  0 or an errno.
 */
export function in6_pcbselsrc(inp: Inpcb, dst: Uint8Array, out: Uint8Array): number {
  if (!IN6_IS_ADDR_UNSPECIFIED(inp.inp_laddr6, 0)) {
    out.set(inp.inp_laddr6);
    return 0;
  }
  const k = inp.inp_table.kernel;
  let oifp = null;
  if (IN6_IS_ADDR_MULTICAST(dst, 0)) {
    const zone = in6_getscope(dst, 0);
    if (zone !== 0) oifp = k.ifnets[zone] ?? null;
  } else {
    const rt = route6_mpath(k, in6_pcbroute(inp), dst, 0);
    if (rt6isvalid(rt)) oifp = k.ifnets[rt.rt_ifidx] ?? null;
  }
  const ia = in6_ifawithscope(k, oifp, dst, 0);
  if (ia === null) return EADDRNOTAVAIL;
  out.set(ia.addr);
  return 0;
}

const faddr = new Uint8Array(16);
const laddr = new Uint8Array(16);

/**
 * in6_pcbconnect(): connect an IPv6 PCB to sin6: embed the scope, pick
 * the source, bind an ephemeral port when unbound, refuse a duplicate
 * 4-tuple.
 */
export function in6_pcbconnect(inp: Inpcb, sin6: Sockaddr): number {
  if (sin6.family !== AF_INET6) return EAFNOSUPPORT;
  if (sin6.port === 0) return EADDRNOTAVAIL;
  const error = in6_embedscope(faddr, sin6);
  if (error) return error;
  if (IN6_IS_ADDR_UNSPECIFIED(faddr, 0)) return EADDRNOTAVAIL;
  inp.inp_route6 = null;
  const e = in6_pcbselsrc(inp, faddr, laddr);
  if (e) return e;
  const table = inp.inp_table;
  if (in6_pcblookup(table, faddr, sin6.port, laddr, inp.inp_lport, inp.inp_rtableid) !== null) return EADDRINUSE;
  if (IN6_IS_ADDR_UNSPECIFIED(inp.inp_laddr6, 0)) {
    if (inp.inp_lport === 0) {
      const err = in_pcbbind(inp, null, laddr);
      if (err) return err;
      if (in6_pcblookup(table, faddr, sin6.port, laddr, inp.inp_lport, inp.inp_rtableid) !== null) {
        inp.inp_lport = 0;
        in_pcbrehash(inp);
        return EADDRINUSE;
      }
    }
    inp.inp_laddr6.set(laddr);
  }
  inp.inp_faddr6.set(faddr);
  inp.inp_fport = sin6.port;
  in_pcbrehash(inp);
  return 0;
}

/** The route a connected IPv6 PCB uses (in_pcbrtentry for AF_INET6). */
export function in6_pcbrtentry(inp: Inpcb): ReturnType<typeof rt6_match> {
  if (IN6_IS_ADDR_UNSPECIFIED(inp.inp_faddr6, 0)) return null;
  const k = inp.inp_table.kernel;
  const rt = route6_mpath(k, in6_pcbroute(inp), inp.inp_faddr6, 0);
  return rt6isvalid(rt) ? rt : rt6_match(k, inp.inp_faddr6, 0, RT_RESOLVE);
}

/** Scope check of a bind address: ours and usable (in6_pcbaddrisavail). */
export function in6_ifaddr_check(k: Kernel, addr6: Uint8Array): boolean {
  return in6_isours(k, addr6, 0);
}

/** Fill the IPv6 hooks of the PCB layer. */
export function in6_pcbinit(k: Kernel): void {
  const c = k.inet.pcbconf;
  c.in6_ifaddr_check = (a) => in6_ifaddr_check(k, a);
  c.in6_pcbconnect = in6_pcbconnect;
}
