/**
 * pf_if.c's dynamic addresses: a rule address `(if)` keeps the addresses
 * of the interface (or of a group's members, or of every interface for
 * `self`) in a table of the reserved anchor `_pf`, named after the spec
 * ("lo", "lo:network", "lo:0", "lo/24"...).  pfi_dynaddr_setup() attaches
 * and fills it when a rule is loaded, pfi_kifaddr_update() refills every
 * such table when an interface address (IPv4 or IPv6) changes, pfi_dynaddr_remove()
 * detaches it when the rule goes (the table goes with its last rule).
 * The rule matches against the table (pf_mismatch), and `pfctl -a _pf -t
 * NAME -T show` prints it.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from './if.js';
import type { KAddr, Pf } from './pf.js';
import {
  PF_RESERVED_ANCHOR, PFR_TFLAG_ACTIVE, PFR_TFLAG_ALLMASK, PfrAddr, addrWords, maskWord, pfr_attach_table, pfr_detach_table,
  pfr_set_addrs, type PfrCtx, type PfrKtable,
} from './pf_table.js';
import { in6_ifaddrs } from '../netinet6/in6.js';

const AF_INET = 2;
const AF_INET6 = 24;
const IFF_BROADCAST = 0x2;
const IFF_POINTOPOINT = 0x10;
export const PFI_AFLAG_NETWORK = 0x01;
export const PFI_AFLAG_BROADCAST = 0x02;
export const PFI_AFLAG_PEER = 0x04;
export const PFI_AFLAG_NOALIAS = 0x08;

/**
 * struct pfi_dynaddr: one rule address's view of its table, with what
 * pfr_dynaddr_update() keeps of it for pools (pf_map_addr): the number of
 * IPv4 and IPv6 entries (of the rule's family, both when it has none)
 * and the first of each, the lowest address, as rn_walktree() meets it.
 */
export class PfiDynaddr {
  acnt4 = 0;
  acnt6 = 0;
  /** pfid_addr4/pfid_mask4: words 0 of addr and mask */
  readonly addr4 = new Int32Array(2);
  /** pfid_addr6 (words 0-3), pfid_mask6 (words 4-7) */
  readonly addr6 = new Int32Array(8);
  constructor(
    readonly kt: PfrKtable,
    readonly ifname: string,
    readonly net: number,
    readonly iflags: number,
    readonly af: number,
  ) {}
}

interface PfiState {
  dynaddrs: Set<PfiDynaddr>;
  hooked: boolean;
}

const states = new WeakMap<Pf, PfiState>();
const dyns = new WeakMap<KAddr, PfiDynaddr>();

function pfi_state(pf: Pf): PfiState {
  let s = states.get(pf);
  if (s === undefined) {
    s = { dynaddrs: new Set(), hooked: false };
    states.set(pf, s);
  }
  return s;
}

/** pfi_unmask(): the prefix length of a 16-byte mask. */
function pfi_unmask(m: Uint8Array): number {
  let b = 0;
  for (let i = 0; i < 16; i++) {
    const x = m[i]!;
    if (x === 0xff) {
      b += 8;
      continue;
    }
    for (let v = x; (v & 0x80) !== 0; v = (v << 1) & 0xff) b++;
    break;
  }
  return b;
}

/** The table name of a dynamic address spec, as pfi_dynaddr_setup() builds it. */
export function pfi_dynaddr_tblname(ifname: string, iflags: number, net: number): string {
  let s = ifname;
  if (iflags & PFI_AFLAG_NETWORK) s += ':network';
  if (iflags & PFI_AFLAG_BROADCAST) s += ':broadcast';
  if (iflags & PFI_AFLAG_PEER) s += ':peer';
  if (iflags & PFI_AFLAG_NOALIAS) s += ':0';
  if (net !== 128) s += `/${net}`;
  return s;
}

/**
 * pfi_dynaddr_setup(): attach the `_pf` table of the address (ifname,
 * iflags, mask) to the rule address `into`, filled from the interfaces now.
 */
export function pfi_dynaddr_setup(pf: Pf, c: PfrCtx, into: KAddr, ifname: string, iflags: number, mask: Uint8Array, af: number): void {
  let net = pfi_unmask(mask);
  if (af === AF_INET && net === 32) net = 128;
  const kt = pfr_attach_table(c, PF_RESERVED_ANCHOR, pfi_dynaddr_tblname(ifname, iflags, net));
  kt.flags |= PFR_TFLAG_ACTIVE;
  const dyn = new PfiDynaddr(kt, ifname, net, iflags, af);
  into.table = kt;
  into.dyn = dyn;
  dyns.set(into, dyn);
  const st = pfi_state(pf);
  st.dynaddrs.add(dyn);
  if (!st.hooked) {
    st.hooked = true;
    pf.k.if_addrhooks.push(() => pfi_kifaddr_update(pf, c));
    pf.k.if_addrhooks6.push(() => pfi_kifaddr_update(pf, c));
  }
  pfi_table_update(pf.k, c, dyn);
}

/** pfi_dynaddr_remove(): the rule address lets go of its table. */
export function pfi_dynaddr_remove(pf: Pf, c: PfrCtx, aw: KAddr): void {
  const dyn = dyns.get(aw);
  if (dyn === undefined) return;
  dyns.delete(aw);
  pfi_state(pf).dynaddrs.delete(dyn);
  aw.table = null;
  aw.dyn = null;
  pfr_detach_table(c, dyn.kt);
}

/** pfi_kifaddr_update(): an interface address changed; refill every dynamic table. */
export function pfi_kifaddr_update(pf: Pf, c: PfrCtx): void {
  for (const dyn of pfi_state(pf).dynaddrs) pfi_table_update(pf.k, c, dyn);
}

/** The interfaces a kif names: the interface, else a group's members; `self` is every interface. */
function pfi_kif_ifps(k: Kernel, name: string): Ifnet[] {
  const out: Ifnet[] = [];
  const one = k.ifunit(name);
  if (one !== undefined && name !== 'self') return [one];
  for (const ifp of k.ifnets) {
    if (ifp === undefined) continue;
    if (name === 'self' || ifp.if_groups.includes(name)) out.push(ifp);
  }
  return out;
}

/** pfi_table_update(): the table becomes the addresses pfi_instance_add() takes. */
function pfi_table_update(k: Kernel, c: PfrCtx, dyn: PfiDynaddr): void {
  const buf: PfrAddr[] = [];
  for (const ifp of pfi_kif_ifps(k, dyn.ifname)) pfi_instance_add(k, ifp, dyn.net, dyn.iflags, buf);
  pfr_set_addrs(c, { name: dyn.kt.name, anchor: PF_RESERVED_ANCHOR, flags: 0 }, buf, 0, 0, PFR_TFLAG_ALLMASK);
  pfr_dynaddr_update(dyn.kt, dyn);
}

/** pfr_dynaddr_update(): count the table's entries of the address's family and keep the first of each. */
function pfr_dynaddr_update(kt: PfrKtable, dyn: PfiDynaddr): void {
  dyn.acnt4 = dyn.acnt6 = 0;
  for (const e of kt.entries()) {
    if (e.af === AF_INET) {
      if (dyn.af === AF_INET6 || dyn.acnt4++ > 0) continue;
      dyn.addr4[0] = e.w0;
      dyn.addr4[1] = maskWord(e.net, 0);
    } else {
      if (dyn.af === AF_INET || dyn.acnt6++ > 0) continue;
      const a = dyn.addr6;
      a[0] = e.w0;
      a[1] = e.w1;
      a[2] = e.w2;
      a[3] = e.w3;
      for (let i = 0; i < 4; i++) a[4 + i] = maskWord(e.net, i);
    }
  }
}

function a4(v: number): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = v >>> 24;
  b[1] = (v >>> 16) & 255;
  b[2] = (v >>> 8) & 255;
  b[3] = v & 255;
  return b;
}

/** pfi_instance_add(): one interface's addresses, honouring :network :broadcast :peer :0 and /net. */
function pfi_instance_add(k: Kernel, ifp: Ifnet, net: number, flags: number, buf: PfrAddr[]): void {
  if ((flags & PFI_AFLAG_BROADCAST) !== 0 && (ifp.if_flags & IFF_BROADCAST) === 0) return;
  if ((flags & PFI_AFLAG_PEER) !== 0 && (ifp.if_flags & IFF_POINTOPOINT) === 0) return;
  for (const ia of ifp.if_addrs) {
    let net2 = net;
    if (net2 === 128 && (flags & PFI_AFLAG_NETWORK) !== 0) net2 = pfi_unmask(a4(ia.mask));
    if (net2 > 32) net2 = 32;
    const sa = flags & (PFI_AFLAG_BROADCAST | PFI_AFLAG_PEER) ? ia.broadaddr : ia.addr;
    pfi_address_add(a4(sa), AF_INET, net2, buf);
    if (flags & PFI_AFLAG_NOALIAS) break;
  }
  if (flags & PFI_AFLAG_BROADCAST) return;
  for (const ia of in6_ifaddrs(k, ifp)) {
    const ll = ia.addr[0] === 0xfe && (ia.addr[1]! & 0xc0) === 0x80;
    if ((flags & PFI_AFLAG_NETWORK) !== 0 && ll) continue;
    let net2 = net;
    if (net2 === 128 && (flags & PFI_AFLAG_NETWORK) !== 0) net2 = ia.prefixlen;
    const a = new Uint8Array(flags & PFI_AFLAG_PEER ? ia.dstaddr : ia.addr);
    // IN6_IS_SCOPE_EMBED: the embedded scope is not part of the address
    if (ll || (a[0] === 0xff && ((a[1]! & 0x0f) === 1 || (a[1]! & 0x0f) === 2))) a[2] = a[3] = 0;
    pfi_address_add(a, 24 /* AF_INET6 */, net2, buf);
    if (flags & PFI_AFLAG_NOALIAS) break;
  }
}

/** pfi_address_add(): the address masked to its prefix. */
function pfi_address_add(a: Uint8Array, af: number, net: number, buf: PfrAddr[]): void {
  if (af === AF_INET && net > 32) net = 128;
  const plen = af === AF_INET && net === 128 ? 32 : net;
  const w = addrWords(a);
  const p = new PfrAddr();
  p.af = af;
  p.net = af === AF_INET ? Math.min(plen, 32) : plen;
  p.w0 = w[0] & maskWord(plen, 0);
  p.w1 = af === AF_INET ? 0 : w[1] & maskWord(plen, 1);
  p.w2 = af === AF_INET ? 0 : w[2] & maskWord(plen, 2);
  p.w3 = af === AF_INET ? 0 : w[3] & maskWord(plen, 3);
  buf.push(p);
}
