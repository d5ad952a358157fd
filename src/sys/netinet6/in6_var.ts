/**
 * IPv6 address predicates and structures (netinet6/in6.h, in6_var.h).
 *
 * Scoped addresses inside the kernel are KAME-style: a link-local or
 * interface/link-local multicast address carries the interface index in
 * bytes 2-3 (s6_addr16[1]), as OpenBSD keeps them in its routing table,
 * neighbor cache and (after ip6_input) in the packet header.  ip6_output
 * clears the index before a packet leaves on the wire; in6_cksum() leaves
 * it out of the pseudo header.  The tools print such addresses as
 * `fe80::1%em0`.
 */
import { formatIp6 } from '../../wire/addr.js';

export const AF_INET6 = 24;

// in6_ifaddr ia6_flags (netinet6/in6_var.h)
export const IN6_IFF_ANYCAST = 0x01;
export const IN6_IFF_TENTATIVE = 0x02;
export const IN6_IFF_DUPLICATED = 0x04;
export const IN6_IFF_DETACHED = 0x08;
export const IN6_IFF_DEPRECATED = 0x10;
export const IN6_IFF_AUTOCONF = 0x40;
export const IN6_IFF_TEMPORARY = 0x80;
export const IN6_IFF_NOTREADY = IN6_IFF_TENTATIVE | IN6_IFF_DUPLICATED;

export const ND6_INFINITE_LIFETIME = 0xffffffff;

export function IN6_IS_ADDR_UNSPECIFIED(b: Uint8Array, o = 0): boolean {
  for (let i = 0; i < 16; i++) if (b[o + i] !== 0) return false;
  return true;
}
export function IN6_IS_ADDR_LOOPBACK(b: Uint8Array, o = 0): boolean {
  for (let i = 0; i < 15; i++) if (b[o + i] !== 0) return false;
  return b[o + 15] === 1;
}
export function IN6_IS_ADDR_MULTICAST(b: Uint8Array, o = 0): boolean {
  return b[o] === 0xff;
}
export function IN6_IS_ADDR_LINKLOCAL(b: Uint8Array, o = 0): boolean {
  return b[o] === 0xfe && (b[o + 1]! & 0xc0) === 0x80;
}
export function IN6_IS_ADDR_SITELOCAL(b: Uint8Array, o = 0): boolean {
  return b[o] === 0xfe && (b[o + 1]! & 0xc0) === 0xc0;
}
export function IN6_IS_ADDR_MC_LINKLOCAL(b: Uint8Array, o = 0): boolean {
  return b[o] === 0xff && (b[o + 1]! & 0x0f) === 0x02;
}
export function IN6_IS_ADDR_MC_INTFACELOCAL(b: Uint8Array, o = 0): boolean {
  return b[o] === 0xff && (b[o + 1]! & 0x0f) === 0x01;
}
export function IN6_IS_ADDR_V4MAPPED(b: Uint8Array, o = 0): boolean {
  for (let i = 0; i < 10; i++) if (b[o + i] !== 0) return false;
  return b[o + 10] === 0xff && b[o + 11] === 0xff;
}
/** ::a.b.c.d, except :: and ::1. */
export function IN6_IS_ADDR_V4COMPAT(b: Uint8Array, o = 0): boolean {
  for (let i = 0; i < 12; i++) if (b[o + i] !== 0) return false;
  if (b[o + 12] === 0 && b[o + 13] === 0 && b[o + 14] === 0 && (b[o + 15] === 0 || b[o + 15] === 1)) return false;
  return true;
}
/** Link-local unicast, link-local or interface-local multicast: the scope index lives in bytes 2-3. */
export function IN6_IS_SCOPE_EMBED(b: Uint8Array, o = 0): boolean {
  return IN6_IS_ADDR_LINKLOCAL(b, o) || IN6_IS_ADDR_MC_LINKLOCAL(b, o) || IN6_IS_ADDR_MC_INTFACELOCAL(b, o);
}
export function IN6_ARE_ADDR_EQUAL(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  for (let i = 0; i < 16; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/** The embedded scope index (s6_addr16[1]) of a scoped address, else 0. */
export function in6_getscope(b: Uint8Array, o = 0): number {
  return IN6_IS_SCOPE_EMBED(b, o) ? (b[o + 2]! << 8) | b[o + 3]! : 0;
}
/** in6_setscope(): embed ifidx into a scoped address (no-op for others). */
export function in6_setscope(b: Uint8Array, o: number, ifidx: number): void {
  if (!IN6_IS_SCOPE_EMBED(b, o)) return;
  b[o + 2] = (ifidx >>> 8) & 0xff;
  b[o + 3] = ifidx & 0xff;
}
/** in6_clearscope() */
export function in6_clearscope(b: Uint8Array, o = 0): void {
  if (!IN6_IS_SCOPE_EMBED(b, o)) return;
  b[o + 2] = 0;
  b[o + 3] = 0;
}

/** Scope of an address, for source selection (RFC 4007 values). */
export function in6_addrscope(b: Uint8Array, o = 0): number {
  if (IN6_IS_ADDR_MULTICAST(b, o)) return b[o + 1]! & 0x0f;
  if (IN6_IS_ADDR_LINKLOCAL(b, o) || IN6_IS_ADDR_LOOPBACK(b, o)) return 2;
  if (IN6_IS_ADDR_SITELOCAL(b, o)) return 5;
  return 14;
}

/** in6_addr2scopeid(): the zone of an address as seen from interface ifidx. */
export function in6_addr2scopeid(ifidx: number, b: Uint8Array, o = 0): number {
  if (IN6_IS_SCOPE_EMBED(b, o) || IN6_IS_ADDR_LOOPBACK(b, o)) return ifidx;
  return 0;
}

/** Bits two addresses share from the left (in6_matchlen). */
export function in6_matchlen(a: Uint8Array, ao: number, b: Uint8Array, bo: number): number {
  for (let i = 0; i < 16; i++) {
    const x = a[ao + i]! ^ b[bo + i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return 128;
}

/** Whether a/plen covers b. */
export function in6_prefix_match(a: Uint8Array, ao: number, b: Uint8Array, bo: number, plen: number): boolean {
  return in6_matchlen(a, ao, b, bo) >= plen;
}

/** Mask addr in place to plen bits. */
export function in6_prefix_mask(b: Uint8Array, o: number, plen: number): void {
  for (let i = 0; i < 16; i++) {
    const bits = plen - i * 8;
    if (bits >= 8) continue;
    b[o + i] = bits <= 0 ? 0 : b[o + i]! & ((0xff << (8 - bits)) & 0xff);
  }
}

/** A scoped address as the tools print it: `fe80::1%em0`. */
export function in6_fmtscoped(b: Uint8Array, o: number, ifname: (idx: number) => string | undefined): string {
  const scope = in6_getscope(b, o);
  if (scope === 0) return formatIp6(b, o);
  const t = b.slice(o, o + 16);
  t[2] = 0;
  t[3] = 0;
  return `${formatIp6(t, 0)}%${ifname(scope) ?? String(scope)}`;
}

/** struct in6_ifaddr: an IPv6 address of an interface. */
export class In6Ifaddr {
  /** The address, scope embedded. */
  readonly addr = new Uint8Array(16);
  /** Destination of a point-to-point link (unused on Ethernet). */
  readonly dstaddr = new Uint8Array(16);
  prefixlen = 64;
  ia6_flags = 0;
  /** Lifetimes in seconds (ND6_INFINITE_LIFETIME: forever), from ifconfig vltime/pltime or an RA. */
  vltime = ND6_INFINITE_LIFETIME;
  pltime = ND6_INFINITE_LIFETIME;
  /** Uptime (s) the lifetimes count from. */
  ia6_updatetime = 0;
  /** Order of configuration across both families (ifconfig lists addresses in this order). */
  seq = 0;
  constructor(readonly ifidx: number) {}
}

/** struct in6_multi: a group joined on an interface (scope embedded). */
export class In6Multi {
  readonly addr = new Uint8Array(16);
  refcnt = 1;
  /** MLD: the report timer is running. */
  timerPending = false;
  /** MLD: we sent the last report for this group (so we send the Done). */
  iamlastreporter = false;
  /** MLD state: reports still to send unsolicited. */
  state = 0;
  /** The MLD report timer (mld6.ts), made on first use. */
  mld: unknown = null;
  constructor(readonly ifidx: number) {}
}

/** Per-interface ND state (struct nd_ifinfo). */
export class NdIfinfo {
  /** ms */
  basereachable = 30000;
  /** ms, ND_COMPUTE_RTIME(basereachable) */
  reachable = 30;
  /** ms */
  retrans = 1000;
  recalctm = 60 * 120;
  /** Link MTU from RAs (0: the interface's). */
  linkmtu = 0;
}
