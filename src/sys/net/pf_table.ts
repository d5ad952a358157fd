/**
 * pf tables (sys/net/pf_table.c): named sets of addresses and networks,
 * matched by longest prefix, where a negated entry (`!192.0.2.1`) that is
 * the most specific match makes the address not match.
 *
 * OpenBSD keeps a radix tree per family.  Here a table keeps one hash map
 * per prefix length in use (keyed by the masked address, IPv4 as the
 * number itself, IPv6 by a hash of its four words), and a lookup probes the
 * lengths in use from the longest down: O(number of distinct lengths),
 * allocation-free.  Addresses are four 32-bit words (struct pf_addr), an
 * IPv4 address in word 0.
 */
import { formatIp4, formatIp6, parseIp6 } from '../../wire/addr.js';
import type { KPool } from './pf.js';

export const AF_INET = 2;
export const AF_INET6 = 24;

export const PFR_TFLAG_PERSIST = 0x01;
export const PFR_TFLAG_CONST = 0x02;
export const PFR_TFLAG_ACTIVE = 0x04;
export const PFR_TFLAG_INACTIVE = 0x08;
export const PFR_TFLAG_REFERENCED = 0x10;
export const PFR_TFLAG_REFDANCHOR = 0x20;
export const PFR_TFLAG_COUNTERS = 0x40;

export const PFR_TFLAG_USRMASK = 0x43;
export const PFR_TFLAG_SETMASK = 0x3c;
export const PFR_TFLAG_ALLMASK = 0x7f;

/** pfr_kentry types (PFRKE_*): the pool each entry comes from */
export const PFRKE_PLAIN = 0;
export const PFRKE_ROUTE = 1;
export const PFRKE_COST = 2;
export const PFRKE_MAX = 3;

export const PFRKE_FLAG_NOT = 0x01;
export const PFRKE_FLAG_MARK = 0x02;

/** feedback of the address ioctls (PFR_FB_*) */
export const PFR_FB_NONE = 0;
export const PFR_FB_MATCH = 1;
export const PFR_FB_ADDED = 2;
export const PFR_FB_DELETED = 3;
export const PFR_FB_CHANGED = 4;
export const PFR_FB_CLEARED = 5;
export const PFR_FB_DUPLICATE = 6;
export const PFR_FB_NOTMATCH = 7;
export const PFR_FB_CONFLICT = 8;
export const PFR_FB_NOCOUNT = 9;

/** the columns of the table and entry counters (pfrkt_packets[dir][op], pfrkc_packets[dir][op]) */
export const PFR_OP_BLOCK = 0;
export const PFR_OP_MATCH = 1;
export const PFR_OP_PASS = 2;
/** PFR_OP_ADDR_MAX: an entry's counters have the first three */
export const PFR_OP_ADDR_MAX = 3;
/** passed by a rule, yet the address is not in the table as the rule says (the table's fourth column only) */
export const PFR_OP_XPASS = 3;
export const PFR_OP_TABLE_MAX = 4;

/** ioctl flags (PFR_FLAG_*) */
export const PFR_FLAG_DUMMY = 0x02;
export const PFR_FLAG_FEEDBACK = 0x04;
export const PFR_FLAG_CLSTATS = 0x08;
export const PFR_FLAG_ADDRSTOO = 0x10;
export const PFR_FLAG_REPLACE = 0x20;
export const PFR_FLAG_ALLRSETS = 0x40;

/** struct pfr_kentry (and its route/cost variants: type, weight, interface) */
export class PfrKentry {
  /**
   * pfrke_counters' packets[dir][op] (the first six) and bytes[dir][op] (the
   * next six), PFR_OP_BLOCK..PFR_OP_PASS; null until something counts here
   * (DIOCRGETASTATS then says PFR_FB_NOCOUNT)
   */
  counters: Float64Array | null = null;
  /** PFRKE_FLAG_MARK, kept apart from `not` */
  mark = false;
  /** virtual time (s) its counters were cleared */
  tzero = 0;
  /** pfrke_fb, while an ioctl works on it */
  fb = PFR_FB_NONE;
  /** pfrke_counters->states: the states a least-states pool gave it */
  states = 0;
  constructor(
    readonly af: number,
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
    readonly net: number,
    public not: boolean,
    readonly type = PFRKE_PLAIN,
    public weight = 0,
    readonly ifname = '',
  ) {}

  /** "192.0.2.0/24", "!2001:db8::1" */
  text(): string {
    return (this.not ? '!' : '') + this.addrText() + (this.net < (this.af === AF_INET ? 32 : 128) ? `/${this.net}` : '');
  }

  addrText(): string {
    return wordsText(this.af, this.w0, this.w1, this.w2, this.w3);
  }
}

/** inet_ntop() of an address in words */
export function wordsText(af: number, w0: number, w1: number, w2: number, w3: number): string {
  if (af === AF_INET) return formatIp4(w0 >>> 0);
  const b = new Uint8Array(16);
  const w = [w0, w1, w2, w3];
  for (let i = 0; i < 4; i++) {
    b[i * 4] = w[i]! >>> 24;
    b[i * 4 + 1] = (w[i]! >>> 16) & 255;
    b[i * 4 + 2] = (w[i]! >>> 8) & 255;
    b[i * 4 + 3] = w[i]! & 255;
  }
  return formatIp6(b, 0);
}

/** The 32-bit mask of word i of a prefix of `net` bits. */
export function maskWord(net: number, i: number): number {
  const bits = net - i * 32;
  if (bits <= 0) return 0;
  if (bits >= 32) return -1;
  return (~0 << (32 - bits)) | 0;
}

function hash6(w0: number, w1: number, w2: number, w3: number): number {
  let h = Math.imul(w0 ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ w1 ^ (h >>> 13), 0xc2b2ae35);
  h = Math.imul(h ^ w2 ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ w3 ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** struct pfr_ktable */
export class PfrKtable {
  flags = 0;
  /** Entries per prefix length: IPv4 lengths 0..32 at [len], IPv6 at [33 + len]. */
  private readonly byLen: Array<Map<number, PfrKentry | PfrKentry[]> | undefined> = new Array(33 + 129);
  /** Prefix lengths in use, longest first, per family. */
  private lens4: number[] = [];
  private lens6: number[] = [];
  cnt = 0;
  match = 0;
  nomatch = 0;
  /** Rules referring to it (PFR_REFCNT_RULE). */
  refcntRule = 0;
  /** Tables of anchors whose root it is (PFR_REFCNT_ANCHOR). */
  refcntAnchor = 0;
  /** pfrkt_nflags: the flags a setflags pass gives it */
  nflags = 0;
  /** the table of the same name in the main ruleset, for a table of an anchor */
  root: PfrKtable | null = null;
  /** the inactive copy a ruleset transaction fills (pfr_ina_define) */
  shadow: PfrKtable | null = null;
  /** cost (weighted) entries in it */
  refcntcost = 0;
  /** the pools its entries come from (set by pfr_create_ktable) */
  pools: PfrPools | null = null;
  /** Virtual time (s) the counters were cleared. */
  tzero = 0;
  /** entries() in walk order, kept until an entry is added or removed (pool walks read it per new state) */
  private walk: readonly PfrKentry[] | null = null;
  /** pfrkt_packets[dir][op], pfrkt_bytes[dir][op] (PFR_OP_TABLE_MAX columns a direction) */
  readonly packets = new Float64Array(2 * PFR_OP_TABLE_MAX);
  readonly bytes = new Float64Array(2 * PFR_OP_TABLE_MAX);

  constructor(
    readonly name: string,
    readonly anchor: string,
  ) {}

  /**
   * The entries in the order rn_walktree() visits a radix tree's leaves:
   * IPv4 before IPv6, by address, and for one address (a duplicated key)
   * the host first, then the longer prefixes.
   */
  entries(): readonly PfrKentry[] {
    if (this.walk !== null) return this.walk;
    const out: PfrKentry[] = [];
    for (const m of this.byLen) {
      if (m === undefined) continue;
      for (const v of m.values()) {
        if (Array.isArray(v)) out.push(...v);
        else out.push(v);
      }
    }
    out.sort((a, b) => a.af - b.af || cmpU(a.w0, b.w0) || cmpU(a.w1, b.w1) || cmpU(a.w2, b.w2) || cmpU(a.w3, b.w3) || b.net - a.net);
    this.walk = out;
    return out;
  }

  private slot(af: number, net: number): number {
    return af === AF_INET ? net : 33 + net;
  }

  private key(af: number, w0: number, w1: number, w2: number, w3: number, net: number): number {
    if (af === AF_INET) return w0 & maskWord(net, 0);
    return hash6(w0 & maskWord(net, 0), w1 & maskWord(net, 1), w2 & maskWord(net, 2), w3 & maskWord(net, 3));
  }

  /** The entry for exactly this network, or null (pfr_lookup_addr with exact). */
  lookupExact(af: number, w0: number, w1: number, w2: number, w3: number, net: number): PfrKentry | null {
    const m = this.byLen[this.slot(af, net)];
    if (m === undefined) return null;
    const v = m.get(this.key(af, w0, w1, w2, w3, net));
    if (v === undefined) return null;
    if (!Array.isArray(v)) return v.af === af && same(v, w0, w1, w2, w3, net) ? v : null;
    for (const e of v) if (e.af === af && same(e, w0, w1, w2, w3, net)) return e;
    return null;
  }

  /** Adds an entry; false when that network is already there. */
  add(e: PfrKentry): boolean {
    if (this.lookupExact(e.af, e.w0, e.w1, e.w2, e.w3, e.net) !== null) return false;
    const s = this.slot(e.af, e.net);
    let m = this.byLen[s];
    if (m === undefined) {
      m = new Map();
      this.byLen[s] = m;
      const lens = e.af === AF_INET ? this.lens4 : this.lens6;
      lens.push(e.net);
      lens.sort((a, b) => b - a);
    }
    const k = this.key(e.af, e.w0, e.w1, e.w2, e.w3, e.net);
    const v = m.get(k);
    if (v === undefined) m.set(k, e);
    else if (Array.isArray(v)) v.push(e);
    else m.set(k, [v, e]);
    this.cnt++;
    this.walk = null;
    return true;
  }

  /** Removes the entry for this network; false when it is not there. */
  remove(af: number, w0: number, w1: number, w2: number, w3: number, net: number): boolean {
    const e = this.lookupExact(af, w0, w1, w2, w3, net);
    if (e === null) return false;
    const s = this.slot(af, net);
    const m = this.byLen[s]!;
    const k = this.key(af, w0, w1, w2, w3, net);
    const v = m.get(k)!;
    if (Array.isArray(v)) {
      v.splice(v.indexOf(e), 1);
      if (v.length === 1) m.set(k, v[0]!);
    } else m.delete(k);
    if (m.size === 0) {
      this.byLen[s] = undefined;
      if (af === AF_INET) this.lens4 = this.lens4.filter((l) => l !== net);
      else this.lens6 = this.lens6.filter((l) => l !== net);
    }
    this.cnt--;
    this.walk = null;
    return true;
  }

  clear(): number {
    const n = this.cnt;
    this.byLen.fill(undefined);
    this.lens4 = [];
    this.lens6 = [];
    this.cnt = 0;
    this.walk = null;
    return n;
  }

  /** The longest-prefix entry covering the address, negated or not, or null. */
  lookup(af: number, w0: number, w1: number, w2: number, w3: number): PfrKentry | null {
    const lens = af === AF_INET ? this.lens4 : this.lens6;
    for (let i = 0; i < lens.length; i++) {
      const net = lens[i]!;
      const m = this.byLen[this.slot(af, net)]!;
      const v = m.get(this.key(af, w0, w1, w2, w3, net));
      if (v === undefined) continue;
      if (!Array.isArray(v)) {
        if (af === AF_INET || covers(v, w0, w1, w2, w3)) return v;
        continue;
      }
      for (let j = 0; j < v.length; j++) if (covers(v[j]!, w0, w1, w2, w3)) return v[j]!;
    }
    return null;
  }

  /** pfr_match_addr(): the address is in the table (its best entry is not negated). */
  matchAddr(af: number, w0: number, w1: number, w2: number, w3: number): boolean {
    // pfr_ktable_select_active(): an inactive anchor table uses its root
    if ((this.flags & PFR_TFLAG_ACTIVE) === 0) return this.root !== null && (this.root.flags & PFR_TFLAG_ACTIVE) !== 0 && this.root.matchAddr(af, w0, w1, w2, w3);
    const e = this.lookup(af, w0, w1, w2, w3);
    const ok = e !== null && !e.not;
    if (ok) this.match++;
    else this.nomatch++;
    return ok;
  }

  /** The contents of two tables trade places (pfr_commit_ktable's SWAP of the radix heads and counts). */
  swapEntries(o: PfrKtable): void {
    const b = this.byLen.slice();
    for (let i = 0; i < b.length; i++) {
      this.byLen[i] = o.byLen[i];
      o.byLen[i] = b[i];
    }
    const l4 = this.lens4;
    const l6 = this.lens6;
    this.lens4 = o.lens4;
    this.lens6 = o.lens6;
    o.lens4 = l4;
    o.lens6 = l6;
    const c = this.cnt;
    this.cnt = o.cnt;
    o.cnt = c;
  }
}

function cmpU(a: number, b: number): number {
  return (a >>> 0) - (b >>> 0);
}

function same(e: PfrKentry, w0: number, w1: number, w2: number, w3: number, net: number): boolean {
  return (
    e.net === net &&
    (e.w0 & maskWord(net, 0)) === (w0 & maskWord(net, 0)) &&
    (e.w1 & maskWord(net, 1)) === (w1 & maskWord(net, 1)) &&
    (e.w2 & maskWord(net, 2)) === (w2 & maskWord(net, 2)) &&
    (e.w3 & maskWord(net, 3)) === (w3 & maskWord(net, 3))
  );
}

function covers(e: PfrKentry, w0: number, w1: number, w2: number, w3: number): boolean {
  const n = e.net;
  return (
    ((e.w0 ^ w0) & maskWord(n, 0)) === 0 &&
    ((e.w1 ^ w1) & maskWord(n, 1)) === 0 &&
    ((e.w2 ^ w2) & maskWord(n, 2)) === 0 &&
    ((e.w3 ^ w3) & maskWord(n, 3)) === 0
  );
}

/** Words of a struct pf_addr (16 bytes). */
export function addrWords(a: Uint8Array): [number, number, number, number] {
  const w = (i: number): number => (a[i]! << 24) | (a[i + 1]! << 16) | (a[i + 2]! << 8) | a[i + 3]!;
  return [w(0), w(4), w(8), w(12)];
}

/**
 * Parses a table entry as pfctl -T add takes it: `[!]addr[/len]`.  Returns
 * null when it is not an address (pfctl resolves host names; we do not).
 */
export function parseTableEntry(s: string): PfrKentry | null {
  let not = false;
  if (s.startsWith('!')) {
    not = true;
    s = s.slice(1);
  }
  const slash = s.indexOf('/');
  const a = slash >= 0 ? s.slice(0, slash) : s;
  let net: number;
  if (!a.includes(':')) {
    const parts = a.split('.');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
    const v = parts.reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0);
    net = slash >= 0 ? Number(s.slice(slash + 1)) : 32;
    if (!Number.isInteger(net) || net < 0 || net > 32) return null;
    return new PfrKentry(AF_INET, v & maskWord(net, 0), 0, 0, 0, net, not);
  }
  const b = parseIp6Words(a);
  if (b === null) return null;
  net = slash >= 0 ? Number(s.slice(slash + 1)) : 128;
  if (!Number.isInteger(net) || net < 0 || net > 128) return null;
  return new PfrKentry(AF_INET6, b[0] & maskWord(net, 0), b[1] & maskWord(net, 1), b[2] & maskWord(net, 2), b[3] & maskWord(net, 3), net, not);
}

function parseIp6Words(s: string): [number, number, number, number] | null {
  const b = parseIp6(s);
  if (b === null) return null;
  return addrWords(b);
}

/* ---- the table ioctls (pfr_*), as sys/net/pf_table.c ---- */

/** struct pfr_addr: one address as the ioctls copy it in and out. */
export class PfrAddr {
  af = 0;
  w0 = 0;
  w1 = 0;
  w2 = 0;
  w3 = 0;
  net = 0;
  not = false;
  fback = PFR_FB_NONE;
  type = PFRKE_PLAIN;
  weight = 0;
  ifname = '';
  states = 0;

  static of(e: { af: number; w0: number; w1: number; w2: number; w3: number; net: number; not: boolean }): PfrAddr {
    const a = new PfrAddr();
    a.af = e.af;
    a.w0 = e.w0;
    a.w1 = e.w1;
    a.w2 = e.w2;
    a.w3 = e.w3;
    a.net = e.net;
    a.not = e.not;
    return a;
  }

  clone(): PfrAddr {
    return Object.assign(new PfrAddr(), this);
  }
}

/** struct pfr_astats */
export interface PfrAstats {
  a: PfrAddr;
  packets: number[];
  bytes: number[];
  tzero: number;
}

/** struct pfr_table */
export interface PfrTable {
  name: string;
  anchor: string;
  flags: number;
}

/** pool(9) counters of one pool, as vmstat -m prints them (Requests, Releases, InUse). */
export class PfrPool {
  nget = 0;
  nput = 0;
  constructor(readonly name: string) {}
  get nout(): number {
    return this.nget - this.nput;
  }
}

/** The pools pf_table.c allocates from (pfr_initialize()). */
export class PfrPools {
  readonly ktable = new PfrPool('pfrktable');
  readonly kentry = [new PfrPool('pfrke_plain'), new PfrPool('pfrke_route'), new PfrPool('pfrke_cost')];
}

/**
 * What the table code needs from the rest of pf: the tables (the
 * pfr_ktables tree, by "anchor/name"), the pools, the rulesets (anchors:
 * whether one exists, making one), the clock.
 */
export interface PfrCtx {
  readonly tables: Map<string, PfrKtable>;
  readonly pools: PfrPools;
  rulesetExists(anchor: string): boolean;
  rulesetCreate(anchor: string): void;
  /** pf_remove_if_empty_ruleset() when a table of an anchor is gone */
  rulesetRemoveIfEmpty(anchor: string): void;
  /** gettime(): seconds */
  now(): number;
  /** the transaction ticket of each anchor's tables (rs->tticket, rs->topen) */
  readonly tticket: Map<string, { ticket: number; open: boolean }>;
}

export const ESRCH = 3;
export const ENOENT = 2;
export const EPERM = 1;
export const EINVAL = 22;
export const EBUSY = 16;
export const NO_ADDRESSES = -1;
export const PF_RESERVED_ANCHOR = '_pf';

function tkey(anchor: string, name: string): string {
  return anchor + '/' + name;
}

/** RB order of the tables tree: by name, then anchor (pfr_ktable_compare). */
export function pfr_ktables_sorted(c: PfrCtx): PfrKtable[] {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...c.tables.values()].sort((a, b) => cmp(a.name, b.name) || cmp(a.anchor, b.anchor));
}

export function pfr_lookup_table(c: PfrCtx, t: { name: string; anchor: string }): PfrKtable | null {
  return c.tables.get(tkey(t.anchor, t.name)) ?? null;
}

/** pfr_create_ktable(): a table from the pfrktable pool, attached to its ruleset when asked. */
export function pfr_create_ktable(c: PfrCtx, t: PfrTable, tzero: number, attachruleset: boolean): PfrKtable {
  const kt = new PfrKtable(t.name, t.anchor);
  kt.flags = t.flags;
  kt.pools = c.pools;
  c.pools.ktable.nget++;
  if (attachruleset) c.rulesetCreate(t.anchor);
  kt.tzero = tzero;
  return kt;
}

/** pfr_destroy_ktable() */
export function pfr_destroy_ktable(c: PfrCtx, kt: PfrKtable, flushaddr: boolean): void {
  if (flushaddr) for (const e of kt.entries()) pfr_destroy_kentry(c, e);
  if (kt.shadow !== null) pfr_destroy_ktable(c, kt.shadow, flushaddr);
  kt.shadow = null;
  c.pools.ktable.nput++;
}

/** pfr_create_kentry(): an entry from the pool of its type. */
export function pfr_create_kentry(c: PfrCtx, ad: PfrAddr): PfrKentry {
  c.pools.kentry[ad.type]!.nget++;
  // implicit weights
  if (ad.weight === 0) ad.weight = 1;
  return new PfrKentry(
    ad.af, ad.w0, ad.w1, ad.w2, ad.w3, ad.net, ad.not, ad.type, ad.type === PFRKE_COST ? ad.weight : 0,
    ad.type !== PFRKE_PLAIN ? ad.ifname : '',
  );
}

export function pfr_destroy_kentry(c: PfrCtx, ke: PfrKentry): void {
  c.pools.kentry[ke.type]!.nput++;
}

/** pfr_validate_addr() */
function pfr_validate_addr(ad: PfrAddr): boolean {
  const bits = ad.af === AF_INET ? 32 : ad.af === AF_INET6 ? 128 : -1;
  if (bits < 0 || ad.net > bits || ad.net < 0) return false;
  const w = [ad.w0, ad.w1, ad.w2, ad.w3];
  for (let i = 0; i < 4; i++) if ((w[i]! & ~maskWord(ad.net, i)) !== 0) return false;
  if (ad.af === AF_INET && (ad.w1 | ad.w2 | ad.w3) !== 0) return false;
  if (ad.fback !== PFR_FB_NONE) return false;
  if (ad.type >= PFRKE_MAX) return false;
  return true;
}

function addrNetwork(ad: { af: number; net: number }): boolean {
  return ad.net < (ad.af === AF_INET ? 32 : 128);
}

/** pfr_lookup_addr(): exact: the entry for just this network (a host not covered by a network). */
export function pfr_lookup_addr(kt: PfrKtable, ad: { af: number; w0: number; w1: number; w2: number; w3: number; net: number }, exact: boolean): PfrKentry | null {
  if (addrNetwork(ad)) return kt.lookupExact(ad.af, ad.w0, ad.w1, ad.w2, ad.w3, ad.net);
  const ke = kt.lookup(ad.af, ad.w0, ad.w1, ad.w2, ad.w3);
  if (exact && ke !== null && addrNetwork(ke)) return null;
  return ke;
}

/** pfr_copyout_addr() */
export function pfr_copyout_addr(ke: PfrKentry | null): PfrAddr {
  const ad = new PfrAddr();
  if (ke === null) return ad;
  ad.af = ke.af;
  ad.net = ke.net;
  ad.type = ke.type;
  ad.not = ke.not;
  ad.w0 = ke.w0;
  ad.w1 = ke.w1;
  ad.w2 = ke.w2;
  ad.w3 = ke.w3;
  // the least-states count, which lives in the counters
  if (ke.counters !== null) ad.states = ke.states;
  if (ke.type === PFRKE_COST) ad.weight = ke.weight;
  if (ke.type !== PFRKE_PLAIN) ad.ifname = ke.ifname;
  return ad;
}

/** pfr_walktree's PFRW_ENQUEUE / PFRW_SWEEP: an SLIST built by inserting at the head (reverse walk order). */
function pfr_enqueue_addrs(kt: PfrKtable, unmarkedOnly: boolean): PfrKentry[] {
  const q: PfrKentry[] = [];
  for (const e of kt.entries()) if (!unmarkedOnly || !e.mark) q.unshift(e);
  return q;
}

function pfr_mark_addrs(kt: PfrKtable): void {
  for (const e of kt.entries()) e.mark = false;
}

function pfr_insert_kentries(kt: PfrKtable, q: PfrKentry[], tzero: number): void {
  for (const p of q) {
    if (!kt.add(p)) break;
    p.tzero = tzero;
    if (p.type === PFRKE_COST) kt.refcntcost++;
  }
}

function pfr_remove_kentries(c: PfrCtx, kt: PfrKtable, q: PfrKentry[]): void {
  for (const p of q) {
    kt.remove(p.af, p.w0, p.w1, p.w2, p.w3, p.net);
    if (p.type === PFRKE_COST) kt.refcntcost--;
  }
  for (const p of q) pfr_destroy_kentry(c, p);
}

/** pfr_clean_node_mask(): take entries back out of a scratch table */
function pfr_clean_node_mask(kt: PfrKtable, q: PfrKentry[]): void {
  for (const p of q) kt.remove(p.af, p.w0, p.w1, p.w2, p.w3, p.net);
}

function pfr_clstats_kentries(q: readonly PfrKentry[], tzero: number, negchange: boolean): void {
  for (const p of q) {
    if (negchange) p.not = !p.not;
    // the counters go, and the least-states count OpenBSD keeps in them
    p.counters = null;
    p.states = 0;
    p.tzero = tzero;
  }
}

function pfr_validate_table(t: PfrTable, allowedflags: number, noReserved: boolean): boolean {
  if (t.name === '' || t.name.length >= 32) return false;
  if (noReserved && t.anchor === PF_RESERVED_ANCHOR) return false;
  if ((t.flags & ~allowedflags) !== 0) return false;
  return true;
}

function activeTable(c: PfrCtx, t: PfrTable): PfrKtable | number {
  const kt = pfr_lookup_table(c, t);
  if (kt === null || (kt.flags & PFR_TFLAG_ACTIVE) === 0) return ESRCH;
  return kt;
}

/** DIOCRCLRADDRS */
export function pfr_clr_addrs(c: PfrCtx, t: PfrTable, flags: number): { rv: number; ndel: number } {
  if (!pfr_validate_table(t, 0, false)) return { rv: EINVAL, ndel: 0 };
  const kt = activeTable(c, t);
  if (typeof kt === 'number') return { rv: kt, ndel: 0 };
  if ((kt.flags & PFR_TFLAG_CONST) !== 0) return { rv: EPERM, ndel: 0 };
  const q = pfr_enqueue_addrs(kt, false);
  if ((flags & PFR_FLAG_DUMMY) === 0) pfr_remove_kentries(c, kt, q);
  return { rv: 0, ndel: q.length };
}

/**
 * DIOCRADDADDRS.  Entries are made only for addresses the table does not
 * have yet (as pf_table.c did until it moved the allocations ahead of its
 * locks; this kernel has no locks to allocate outside of): a scratch table
 * (tmpkt) catches duplicates within the request.
 */
export function pfr_add_addrs(c: PfrCtx, t: PfrTable, addrs: PfrAddr[], flags: number): { rv: number; nadd: number } {
  if (!pfr_validate_table(t, 0, false)) return { rv: EINVAL, nadd: 0 };
  const kt = activeTable(c, t);
  if (typeof kt === 'number') return { rv: kt, nadd: 0 };
  if ((kt.flags & PFR_TFLAG_CONST) !== 0) return { rv: EPERM, nadd: 0 };
  const tzero = c.now();
  const tmpkt = pfr_create_ktable(c, { name: '', anchor: '', flags: 0 }, 0, false);
  const workq: PfrKentry[] = [];
  let xadd = 0;
  const bad = (rv: number): { rv: number; nadd: number } => {
    pfr_clean_node_mask(tmpkt, workq);
    for (const p of workq) pfr_destroy_kentry(c, p);
    if (flags & PFR_FLAG_FEEDBACK) for (const a of addrs) a.fback = PFR_FB_NONE;
    pfr_destroy_ktable(c, tmpkt, false);
    return { rv, nadd: 0 };
  };
  for (const ad of addrs) {
    if (!pfr_validate_addr(ad)) return bad(EINVAL);
    const p = pfr_lookup_addr(kt, ad, true);
    const q = pfr_lookup_addr(tmpkt, ad, true);
    let fb = PFR_FB_NONE;
    if (flags & PFR_FLAG_FEEDBACK) {
      if (q !== null) fb = PFR_FB_DUPLICATE;
      else if (p === null) fb = PFR_FB_ADDED;
      else if (p.not !== ad.not) fb = PFR_FB_CONFLICT;
    }
    if (p === null && q === null) {
      const ke = pfr_create_kentry(c, ad);
      if (!tmpkt.add(ke)) {
        pfr_destroy_kentry(c, ke);
        fb = PFR_FB_NONE;
      } else {
        workq.unshift(ke);
        xadd++;
      }
    }
    if (flags & PFR_FLAG_FEEDBACK) ad.fback = fb;
  }
  pfr_clean_node_mask(tmpkt, workq);
  if ((flags & PFR_FLAG_DUMMY) === 0) pfr_insert_kentries(kt, workq.slice().reverse(), tzero);
  else for (const p of workq) pfr_destroy_kentry(c, p);
  pfr_destroy_ktable(c, tmpkt, false);
  return { rv: 0, nadd: xadd };
}

/** DIOCRDELADDRS */
export function pfr_del_addrs(c: PfrCtx, t: PfrTable, addrs: PfrAddr[], flags: number): { rv: number; ndel: number } {
  if (!pfr_validate_table(t, 0, false)) return { rv: EINVAL, ndel: 0 };
  const kt = activeTable(c, t);
  if (typeof kt === 'number') return { rv: kt, ndel: 0 };
  if ((kt.flags & PFR_TFLAG_CONST) !== 0) return { rv: EPERM, ndel: 0 };
  for (const ad of addrs) if (!pfr_validate_addr(ad)) return { rv: EINVAL, ndel: 0 };
  // marks off on the entries this request may touch (full scan or per address: the same here)
  pfr_mark_addrs(kt);
  const workq: PfrKentry[] = [];
  let xdel = 0;
  for (const ad of addrs) {
    const p = pfr_lookup_addr(kt, ad, true);
    if (flags & PFR_FLAG_FEEDBACK) {
      if (p === null) ad.fback = PFR_FB_NONE;
      else if (p.not !== ad.not) ad.fback = PFR_FB_CONFLICT;
      else if (p.mark) ad.fback = PFR_FB_DUPLICATE;
      else ad.fback = PFR_FB_DELETED;
    }
    if (p !== null && p.not === ad.not && !p.mark) {
      p.mark = true;
      workq.unshift(p);
      xdel++;
    }
  }
  if ((flags & PFR_FLAG_DUMMY) === 0) pfr_remove_kentries(c, kt, workq);
  return { rv: 0, ndel: xdel };
}

/**
 * DIOCRSETADDRS: the table becomes exactly addrs.  With feedback and room
 * (size2), the deleted entries follow the request's addresses in the
 * returned list; without room, size2 says how much is needed and nothing
 * changes (pfctl grows its buffer and asks again).
 */
export function pfr_set_addrs(
  c: PfrCtx, t: PfrTable, addrs: PfrAddr[], size2: number, flags: number, ignoreFlags = 0,
): { rv: number; nadd: number; ndel: number; nchange: number; size2: number; deleted: PfrAddr[] } {
  const res = { rv: 0, nadd: 0, ndel: 0, nchange: 0, size2, deleted: [] as PfrAddr[] };
  if (!pfr_validate_table(t, ignoreFlags, false)) return { ...res, rv: EINVAL };
  const kt = activeTable(c, t);
  if (typeof kt === 'number') return { ...res, rv: kt };
  if ((kt.flags & PFR_TFLAG_CONST) !== 0) return { ...res, rv: EPERM };
  const tzero = c.now();
  const tmpkt = pfr_create_ktable(c, { name: '', anchor: '', flags: 0 }, 0, false);
  pfr_mark_addrs(kt);
  const addq: PfrKentry[] = [];
  const changeq: PfrKentry[] = [];
  let xadd = 0;
  let xchange = 0;
  const bad = (rv: number): typeof res => {
    pfr_clean_node_mask(tmpkt, addq);
    for (const p of addq) pfr_destroy_kentry(c, p);
    if (flags & PFR_FLAG_FEEDBACK) for (const a of addrs) a.fback = PFR_FB_NONE;
    pfr_destroy_ktable(c, tmpkt, false);
    return { ...res, rv };
  };
  for (const ad of addrs) {
    if (!pfr_validate_addr(ad)) return bad(EINVAL);
    let fb = PFR_FB_NONE;
    const p = pfr_lookup_addr(kt, ad, true);
    if (p !== null) {
      if (p.mark) fb = PFR_FB_DUPLICATE;
      else {
        p.mark = true;
        if (p.not !== ad.not) {
          changeq.unshift(p);
          fb = PFR_FB_CHANGED;
          xchange++;
        }
      }
    } else if (pfr_lookup_addr(tmpkt, ad, true) !== null) fb = PFR_FB_DUPLICATE;
    else {
      const ke = pfr_create_kentry(c, ad);
      if (!tmpkt.add(ke)) pfr_destroy_kentry(c, ke);
      else {
        addq.unshift(ke);
        fb = PFR_FB_ADDED;
        xadd++;
      }
    }
    if (flags & PFR_FLAG_FEEDBACK) ad.fback = fb;
  }
  const delq = pfr_enqueue_addrs(kt, true);
  const xdel = delq.length;
  if ((flags & PFR_FLAG_FEEDBACK) && size2 !== 0) {
    if (size2 < addrs.length + xdel) {
      res.size2 = addrs.length + xdel;
      return bad(0);
    }
    for (const p of delq) {
      const ad = pfr_copyout_addr(p);
      ad.fback = PFR_FB_DELETED;
      res.deleted.push(ad);
    }
  }
  pfr_clean_node_mask(tmpkt, addq);
  if ((flags & PFR_FLAG_DUMMY) === 0) {
    pfr_insert_kentries(kt, addq.slice().reverse(), tzero);
    pfr_remove_kentries(c, kt, delq);
    pfr_clstats_kentries(changeq, tzero, true);
  } else for (const p of addq) pfr_destroy_kentry(c, p);
  if ((flags & PFR_FLAG_FEEDBACK) && size2 !== 0) res.size2 = addrs.length + xdel;
  pfr_destroy_ktable(c, tmpkt, false);
  return { ...res, nadd: xadd, ndel: xdel, nchange: xchange };
}

/** DIOCRTSTADDRS: feedback MATCH/NOTMATCH/NONE per address; with REPLACE, the matching entry replaces it. */
export function pfr_tst_addrs(c: PfrCtx, t: PfrTable, addrs: PfrAddr[], flags: number): { rv: number; nmatch: number } {
  if (!pfr_validate_table(t, 0, false)) return { rv: EINVAL, nmatch: 0 };
  const kt = activeTable(c, t);
  if (typeof kt === 'number') return { rv: kt, nmatch: 0 };
  let xmatch = 0;
  for (let i = 0; i < addrs.length; i++) {
    let ad = addrs[i]!;
    if (!pfr_validate_addr(ad)) return { rv: EINVAL, nmatch: 0 };
    if (addrNetwork(ad)) return { rv: EINVAL, nmatch: 0 };
    const p = pfr_lookup_addr(kt, ad, false);
    if (flags & PFR_FLAG_REPLACE) {
      ad = pfr_copyout_addr(p);
      addrs[i] = ad;
    }
    ad.fback = p === null ? PFR_FB_NONE : p.not ? PFR_FB_NOTMATCH : PFR_FB_MATCH;
    if (p !== null && !p.not) xmatch++;
  }
  return { rv: 0, nmatch: xmatch };
}

/** DIOCRGETADDRS */
export function pfr_get_addrs(c: PfrCtx, t: PfrTable): { rv: number; addrs: PfrAddr[] } {
  if (!pfr_validate_table(t, 0, false)) return { rv: EINVAL, addrs: [] };
  const kt = activeTable(c, t);
  if (typeof kt === 'number') return { rv: kt, addrs: [] };
  return { rv: 0, addrs: kt.entries().map((e) => pfr_copyout_addr(e)) };
}

/** DIOCRGETASTATS: per entry, its counters, or NOCOUNT feedback when it has none (yet) */
export function pfr_get_astats(c: PfrCtx, t: PfrTable): { rv: number; astats: PfrAstats[] } {
  if (!pfr_validate_table(t, 0, false)) return { rv: EINVAL, astats: [] };
  const kt = activeTable(c, t);
  if (typeof kt === 'number') return { rv: kt, astats: [] };
  const n = 2 * PFR_OP_ADDR_MAX;
  return {
    rv: 0,
    astats: kt.entries().map((e) => {
      const a = pfr_copyout_addr(e);
      const k = e.counters;
      if (k === null) a.fback = PFR_FB_NOCOUNT;
      return { a, packets: k === null ? new Array<number>(n).fill(0) : [...k.subarray(0, n)],
        bytes: k === null ? new Array<number>(n).fill(0) : [...k.subarray(n)], tzero: e.tzero };
    }),
  };
}

function pfr_table_count(c: PfrCtx, filter: PfrTable, flags: number): number {
  if (flags & PFR_FLAG_ALLRSETS) return c.tables.size;
  if (filter.anchor !== '' && !c.rulesetExists(filter.anchor)) return -1;
  let n = 0;
  for (const kt of c.tables.values()) if (kt.anchor === filter.anchor) n++;
  return n;
}

function pfr_skip_table(filter: PfrTable, kt: PfrKtable, flags: number): boolean {
  if (flags & PFR_FLAG_ALLRSETS) return false;
  return filter.anchor !== kt.anchor;
}

/** pfr_insert_ktable(): into the tree; an anchor table holds its root (REFDANCHOR) */
function pfr_insert_ktable(c: PfrCtx, kt: PfrKtable): void {
  c.tables.set(tkey(kt.anchor, kt.name), kt);
  if (kt.root !== null && kt.root.refcntAnchor++ === 0) pfr_setflags_ktable(c, kt.root, kt.root.flags | PFR_TFLAG_REFDANCHOR);
}

/** pfr_setflags_ktable(): a table without reason to exist goes; an inactive one loses its entries */
export function pfr_setflags_ktable(c: PfrCtx, kt: PfrKtable, newf: number): void {
  if (!(newf & PFR_TFLAG_REFERENCED) && !(newf & PFR_TFLAG_REFDANCHOR) && !(newf & PFR_TFLAG_PERSIST)) newf &= ~PFR_TFLAG_ACTIVE;
  if (!(newf & PFR_TFLAG_ACTIVE)) newf &= ~PFR_TFLAG_USRMASK;
  if (!(newf & PFR_TFLAG_SETMASK)) {
    c.tables.delete(tkey(kt.anchor, kt.name));
    if (kt.root !== null && --kt.root.refcntAnchor === 0) pfr_setflags_ktable(c, kt.root, kt.root.flags & ~PFR_TFLAG_REFDANCHOR);
    pfr_destroy_ktable(c, kt, true);
    if (kt.anchor !== '') c.rulesetRemoveIfEmpty(kt.anchor);
    return;
  }
  if (!(newf & PFR_TFLAG_ACTIVE) && kt.cnt > 0) pfr_remove_kentries(c, kt, pfr_enqueue_addrs(kt, false));
  if (!(newf & PFR_TFLAG_INACTIVE) && kt.shadow !== null) {
    pfr_destroy_ktable(c, kt.shadow, true);
    kt.shadow = null;
  }
  kt.flags = newf;
}

function pfr_setflags_ktables(c: PfrCtx, q: PfrKtable[]): void {
  for (const p of q) pfr_setflags_ktable(c, p, p.nflags);
}

function pfr_clstats_ktable(kt: PfrKtable, tzero: number, recurse: boolean): void {
  if (recurse) pfr_clstats_kentries(kt.entries(), tzero, false);
  kt.packets.fill(0);
  kt.bytes.fill(0);
  kt.match = kt.nomatch = 0;
  kt.tzero = tzero;
}

/** DIOCRCLRTABLES: the tables of an anchor lose ACTIVE (those only rules refer to stay, inactive) */
export function pfr_clr_tables(c: PfrCtx, filter: PfrTable, flags: number): { rv: number; ndel: number } {
  if (pfr_table_count(c, filter, flags) < 0) return { rv: ENOENT, ndel: 0 };
  const workq: PfrKtable[] = [];
  for (const p of pfr_ktables_sorted(c)) {
    if (pfr_skip_table(filter, p, flags)) continue;
    if (p.anchor === PF_RESERVED_ANCHOR) continue;
    if (!(p.flags & PFR_TFLAG_ACTIVE)) continue;
    p.nflags = p.flags & ~PFR_TFLAG_ACTIVE;
    workq.unshift(p);
  }
  if (!(flags & PFR_FLAG_DUMMY)) pfr_setflags_ktables(c, workq);
  return { rv: 0, ndel: workq.length };
}

/**
 * DIOCRADDTABLES.  A table is made (with the root table of its name in the
 * main ruleset, for an anchor's table) only when missing, as pf_table.c
 * did before it moved its allocations ahead of its locks.
 */
export function pfr_add_tables(c: PfrCtx, tbls: PfrTable[], flags: number): { rv: number; nadd: number } {
  const tzero = c.now();
  const addq: PfrKtable[] = [];
  const changeq: PfrKtable[] = [];
  let xadd = 0;
  for (const t of tbls) {
    if (!pfr_validate_table(t, PFR_TFLAG_USRMASK, false)) {
      for (const p of addq) pfr_destroy_ktable(c, p, false);
      return { rv: EINVAL, nadd: 0 };
    }
    const key = { name: t.name, anchor: t.anchor, flags: t.flags | PFR_TFLAG_ACTIVE };
    const p = pfr_lookup_table(c, key);
    if (p === null) {
      if (addq.some((q) => q.name === key.name && q.anchor === key.anchor)) continue;
      const n = pfr_create_ktable(c, key, tzero, true);
      addq.unshift(n);
      xadd++;
      if (key.anchor === '') continue;
      const rkey = { name: key.name, anchor: '', flags: 0 };
      const r = pfr_lookup_table(c, rkey) ?? addq.find((q) => q.name === rkey.name && q.anchor === '') ?? null;
      if (r !== null) {
        n.root = r;
        continue;
      }
      const nr = pfr_create_ktable(c, rkey, 0, true);
      addq.unshift(nr);
      n.root = nr;
    } else if (!(p.flags & PFR_TFLAG_ACTIVE)) {
      if (changeq.includes(p)) continue;
      p.nflags = (p.flags & ~PFR_TFLAG_USRMASK) | key.flags;
      changeq.unshift(p);
      xadd++;
    }
  }
  if (!(flags & PFR_FLAG_DUMMY)) {
    for (const p of addq) pfr_insert_ktable(c, p);
    pfr_setflags_ktables(c, changeq);
  } else for (const p of addq) pfr_destroy_ktable(c, p, false);
  return { rv: 0, nadd: xadd };
}

/** DIOCRDELTABLES */
export function pfr_del_tables(c: PfrCtx, tbls: PfrTable[], flags: number): { rv: number; ndel: number } {
  const workq: PfrKtable[] = [];
  for (const t of tbls) {
    if (!pfr_validate_table(t, 0, false)) return { rv: EINVAL, ndel: 0 };
    const p = pfr_lookup_table(c, t);
    if (p !== null && p.flags & PFR_TFLAG_ACTIVE && !workq.includes(p)) {
      p.nflags = p.flags & ~PFR_TFLAG_ACTIVE;
      workq.unshift(p);
    }
  }
  if (!(flags & PFR_FLAG_DUMMY)) pfr_setflags_ktables(c, workq);
  return { rv: 0, ndel: workq.length };
}

/** DIOCRGETTABLES (and DIOCRGETTSTATS: the same tables) */
export function pfr_get_tables(c: PfrCtx, filter: PfrTable, flags: number): { rv: number; tables: PfrKtable[] } {
  if (pfr_table_count(c, filter, flags) < 0) return { rv: ENOENT, tables: [] };
  return { rv: 0, tables: pfr_ktables_sorted(c).filter((p) => !pfr_skip_table(filter, p, flags)) };
}

/** DIOCRCLRTSTATS */
export function pfr_clr_tstats(c: PfrCtx, tbls: PfrTable[], flags: number): { rv: number; nzero: number } {
  const workq: PfrKtable[] = [];
  for (const t of tbls) {
    if (!pfr_validate_table(t, 0, false)) return { rv: EINVAL, nzero: 0 };
    const p = pfr_lookup_table(c, t);
    if (p !== null) workq.push(p);
  }
  if (!(flags & PFR_FLAG_DUMMY)) for (const p of workq) pfr_clstats_ktable(p, c.now(), (flags & PFR_FLAG_ADDRSTOO) !== 0);
  return { rv: 0, nzero: workq.length };
}

/** DIOCXBEGIN of the tables of an anchor (pfr_ina_begin): inactive copies of an earlier try go */
export function pfr_ina_begin(c: PfrCtx, anchor: string, flags: number): { rv: number; ticket: number; ndel: number } {
  c.rulesetCreate(anchor);
  const workq: PfrKtable[] = [];
  for (const p of pfr_ktables_sorted(c)) {
    if (!(p.flags & PFR_TFLAG_INACTIVE) || p.anchor !== anchor) continue;
    p.nflags = p.flags & ~PFR_TFLAG_INACTIVE;
    workq.unshift(p);
  }
  let ticket = 0;
  if (!(flags & PFR_FLAG_DUMMY)) {
    pfr_setflags_ktables(c, workq);
    const tt = c.tticket.get(anchor) ?? { ticket: 0, open: false };
    tt.ticket++;
    tt.open = true;
    c.tticket.set(anchor, tt);
    ticket = tt.ticket;
  }
  return { rv: 0, ticket, ndel: workq.length };
}

/**
 * DIOCRINADEFINE: a table a ruleset defines.  Its addresses go to a shadow
 * table that the commit merges in; the table itself (and, for an anchor,
 * its root in the main ruleset) is made when missing.
 */
export function pfr_ina_define(
  c: PfrCtx, tbl: PfrTable, addrs: PfrAddr[], ticket: number, flags: number,
): { rv: number; nadd: number; naddr: number } {
  if (addrs.length > 0 && !(flags & PFR_FLAG_ADDRSTOO)) return { rv: EINVAL, nadd: 0, naddr: 0 };
  if (!pfr_validate_table(tbl, PFR_TFLAG_USRMASK, false)) return { rv: EINVAL, nadd: 0, naddr: 0 };
  const tt = c.tticket.get(tbl.anchor);
  if (tt === undefined || !tt.open || tt.ticket !== ticket) return { rv: EBUSY, nadd: 0, naddr: 0 };
  const t = { ...tbl, flags: tbl.flags | PFR_TFLAG_INACTIVE };
  const tableq: PfrKtable[] = [];
  let xadd = 0;
  let xaddr = 0;
  let kt = pfr_lookup_table(c, t);
  if (kt === null) {
    kt = pfr_create_ktable(c, t, 0, true);
    tableq.unshift(kt);
    xadd++;
    if (t.anchor !== '') {
      const rkey = { name: t.name, anchor: '', flags: 0 };
      const rt = pfr_lookup_table(c, rkey);
      if (rt !== null) kt.root = rt;
      else {
        const nrt = pfr_create_ktable(c, rkey, 0, true);
        tableq.unshift(nrt);
        kt.root = nrt;
      }
    }
  } else if (!(kt.flags & PFR_TFLAG_INACTIVE)) xadd++;
  const shadow = pfr_create_ktable(c, t, 0, false);
  const addrq: PfrKentry[] = [];
  for (const ad of addrs) {
    if (!pfr_validate_addr(ad)) {
      pfr_clean_node_mask(shadow, addrq);
      pfr_destroy_ktable(c, shadow, false);
      for (const p of tableq) pfr_destroy_ktable(c, p, false);
      for (const p of addrq) pfr_destroy_kentry(c, p);
      return { rv: EINVAL, nadd: 0, naddr: 0 };
    }
    if (pfr_lookup_addr(shadow, ad, true) !== null) continue;
    const p = pfr_create_kentry(c, ad);
    if (!shadow.add(p)) {
      pfr_destroy_kentry(c, p);
      continue;
    }
    addrq.unshift(p);
    xaddr++;
    if (p.type === PFRKE_COST) kt.refcntcost++;
  }
  if (!(flags & PFR_FLAG_DUMMY)) {
    if (kt.shadow !== null) pfr_destroy_ktable(c, kt.shadow, true);
    kt.flags |= PFR_TFLAG_INACTIVE;
    for (const p of tableq) pfr_insert_ktable(c, p);
    shadow.cnt = flags & PFR_FLAG_ADDRSTOO ? xaddr : NO_ADDRESSES;
    kt.shadow = shadow;
  } else {
    pfr_clean_node_mask(shadow, addrq);
    pfr_destroy_ktable(c, shadow, false);
    for (const p of tableq) pfr_destroy_ktable(c, p, false);
    for (const p of addrq) pfr_destroy_kentry(c, p);
  }
  return { rv: 0, nadd: xadd, naddr: xaddr };
}

/** DIOCXROLLBACK of an anchor's tables */
export function pfr_ina_rollback(c: PfrCtx, anchor: string, ticket: number): void {
  const tt = c.tticket.get(anchor);
  if (tt === undefined || !tt.open || tt.ticket !== ticket) return;
  const workq: PfrKtable[] = [];
  for (const p of pfr_ktables_sorted(c)) {
    if (!(p.flags & PFR_TFLAG_INACTIVE) || p.anchor !== anchor) continue;
    p.nflags = p.flags & ~PFR_TFLAG_INACTIVE;
    workq.unshift(p);
  }
  pfr_setflags_ktables(c, workq);
  tt.open = false;
}

/** DIOCXCOMMIT of an anchor's tables (pfr_ina_commit) */
export function pfr_ina_commit(c: PfrCtx, anchor: string, ticket: number): { rv: number; nadd: number; nchange: number } {
  const tt = c.tticket.get(anchor);
  if (tt === undefined || !tt.open || tt.ticket !== ticket) return { rv: EBUSY, nadd: 0, nchange: 0 };
  const workq: PfrKtable[] = [];
  let xadd = 0;
  let xchange = 0;
  for (const p of pfr_ktables_sorted(c)) {
    if (!(p.flags & PFR_TFLAG_INACTIVE) || p.anchor !== anchor) continue;
    workq.unshift(p);
    if (p.flags & PFR_TFLAG_ACTIVE) xchange++;
    else xadd++;
  }
  const tzero = c.now();
  for (const p of workq) pfr_commit_ktable(c, p, tzero);
  tt.open = false;
  return { rv: 0, nadd: xadd, nchange: xchange };
}

function pfr_commit_ktable(c: PfrCtx, kt: PfrKtable, tzero: number): void {
  const shadow = kt.shadow!;
  if (shadow.cnt === NO_ADDRESSES) {
    if (!(kt.flags & PFR_TFLAG_ACTIVE)) pfr_clstats_ktable(kt, tzero, true);
  } else if (kt.flags & PFR_TFLAG_ACTIVE) {
    // kt might hold addresses: merge
    const addrq = pfr_enqueue_addrs(shadow, false);
    pfr_mark_addrs(kt);
    const addq: PfrKentry[] = [];
    const changeq: PfrKentry[] = [];
    const garbageq: PfrKentry[] = [];
    pfr_clean_node_mask(shadow, addrq);
    for (const p of addrq) {
      const q = pfr_lookup_addr(kt, p, true);
      if (q !== null) {
        if (q.not !== p.not) changeq.unshift(q);
        q.mark = true;
        garbageq.unshift(p);
      } else {
        p.tzero = tzero;
        addq.unshift(p);
      }
    }
    const delq = pfr_enqueue_addrs(kt, true);
    pfr_insert_kentries(kt, addq, tzero);
    pfr_remove_kentries(c, kt, delq);
    pfr_clstats_kentries(changeq, tzero, true);
    for (const p of garbageq) pfr_destroy_kentry(c, p);
  } else {
    // kt holds no addresses: take the shadow's
    kt.swapEntries(shadow);
    pfr_clstats_ktable(kt, tzero, true);
  }
  const nflags = ((shadow.flags & PFR_TFLAG_USRMASK) | (kt.flags & PFR_TFLAG_SETMASK) | PFR_TFLAG_ACTIVE) & ~PFR_TFLAG_INACTIVE;
  pfr_destroy_ktable(c, shadow, false);
  kt.shadow = null;
  pfr_setflags_ktable(c, kt, nflags);
}

/** pfr_attach_table(): the table a rule of an anchor names, made (with its root) when missing */
export function pfr_attach_table(c: PfrCtx, anchor: string, name: string): PfrKtable {
  let kt = pfr_lookup_table(c, { name, anchor });
  if (kt === null) {
    kt = pfr_create_ktable(c, { name, anchor, flags: 0 }, c.now(), true);
    if (anchor !== '') {
      let rt = pfr_lookup_table(c, { name, anchor: '' });
      if (rt === null) {
        rt = pfr_create_ktable(c, { name, anchor: '', flags: 0 }, 0, true);
        pfr_insert_ktable(c, rt);
      }
      kt.root = rt;
    }
    pfr_insert_ktable(c, kt);
  }
  if (kt.refcntRule++ === 0) pfr_setflags_ktable(c, kt, kt.flags | PFR_TFLAG_REFERENCED);
  return kt;
}

/** pfr_detach_table() */
export function pfr_detach_table(c: PfrCtx, kt: PfrKtable): void {
  if (kt.refcntRule <= 0) return;
  if (--kt.refcntRule === 0) pfr_setflags_ktable(c, kt, kt.flags & ~PFR_TFLAG_REFERENCED);
}

/** DIOCRCLRASTATS: clear the counters of some entries */
export function pfr_clr_astats(c: PfrCtx, t: PfrTable, addrs: PfrAddr[], flags: number): { rv: number; nzero: number } {
  if (!pfr_validate_table(t, 0, false)) return { rv: EINVAL, nzero: 0 };
  const kt = activeTable(c, t);
  if (typeof kt === 'number') return { rv: kt, nzero: 0 };
  const workq: PfrKentry[] = [];
  for (const ad of addrs) {
    if (!pfr_validate_addr(ad)) {
      if (flags & PFR_FLAG_FEEDBACK) for (const a of addrs) a.fback = PFR_FB_NONE;
      return { rv: EINVAL, nzero: 0 };
    }
    const p = pfr_lookup_addr(kt, ad, true);
    if (flags & PFR_FLAG_FEEDBACK) ad.fback = p !== null ? PFR_FB_CLEARED : PFR_FB_NONE;
    if (p !== null) workq.push(p);
  }
  if (!(flags & PFR_FLAG_DUMMY)) pfr_clstats_kentries(workq, c.now(), false);
  return { rv: 0, nzero: workq.length };
}

/**
 * pfr_insert_kentry(): one host or network into a table at once (the
 * overload table of max-src-conn), unless it is there already.
 */
export function pfr_insert_kentry(kt: PfrKtable, ad: PfrAddr, tzero: number): void {
  if (pfr_lookup_addr(kt, ad, true) !== null) return;
  if (kt.pools !== null) kt.pools.kentry[ad.type]!.nget++;
  const p = new PfrKentry(ad.af, ad.w0, ad.w1, ad.w2, ad.w3, ad.net, ad.not, ad.type, ad.type === PFRKE_COST ? ad.weight || 1 : 0);
  if (!kt.add(p)) return;
  p.tzero = tzero;
  if (p.type === PFRKE_COST) kt.refcntcost++;
}

/**
 * pfr_update_stats(): a packet of a rule that names table kt counts against
 * the table, and against the address's entry when the table keeps counters
 * (op: PFR_OP_BLOCK, PFR_OP_MATCH or PFR_OP_PASS, the rule's action; notrule:
 * the rule said !<table>).  An address the table does not hold as the rule
 * said (it changed since the state was made) counts as XPASS, on the table only.
 */
export function pfr_update_stats(kt0: PfrKtable, af: number, w0: number, w1: number, w2: number, w3: number,
  out: boolean, len: number, op: number, notrule: boolean): void {
  const kt = pfr_ktable_select_active(kt0);
  if (kt === null) return;
  const ke = kt.lookup(af, w0, w1, w2, w3);
  if ((ke === null || ke.not) !== notrule) op = PFR_OP_XPASS;
  const d = out ? 1 : 0;
  kt.packets[d * PFR_OP_TABLE_MAX + op]++;
  kt.bytes[d * PFR_OP_TABLE_MAX + op] += len;
  if (ke !== null && op !== PFR_OP_XPASS && (kt.flags & PFR_TFLAG_COUNTERS) !== 0) {
    const k = pfr_kentry_counters(ke);
    k[d * PFR_OP_ADDR_MAX + op]++;
    k[2 * PFR_OP_ADDR_MAX + d * PFR_OP_ADDR_MAX + op] += len;
  }
}

/** The entry's counters, made on first use (pool_get(pfr_kcounters_pl)). */
function pfr_kentry_counters(ke: PfrKentry): Float64Array {
  if (ke.counters === null) ke.counters = new Float64Array(4 * PFR_OP_ADDR_MAX);
  return ke.counters;
}

/* ---- table pools (pfr_pool_get and the least-states counters) ---- */

/** pfr_ktable_select_active(): the table, or an inactive anchor table's active root; null when neither is active. */
export function pfr_ktable_select_active(kt: PfrKtable): PfrKtable | null {
  if ((kt.flags & PFR_TFLAG_ACTIVE) !== 0) return kt;
  if (kt.root !== null && (kt.root.flags & PFR_TFLAG_ACTIVE) !== 0) return kt.root;
  return null;
}

/** pf_addr_inc(): the address (words) plus one. */
export function pf_addr_inc(a: Int32Array, af: number): void {
  if (af === AF_INET) {
    a[0] = (a[0]! + 1) | 0;
    return;
  }
  for (let i = 3; i >= 0; i--) {
    a[i] = (a[i]! + 1) | 0;
    if (a[i] !== 0) break;
  }
}

/** pfr_kentry_byidx(): the idx-th entry of family af in walk order, negated entries left out. */
function pfr_kentry_byidx(list: readonly PfrKentry[], idx: number, af: number): PfrKentry | null {
  for (const e of list) {
    if (e.af !== af || e.not) continue;
    if (idx-- === 0) return e;
  }
  return null;
}

/** IN6_IS_ADDR_LINKLOCAL of words (fe80::/10) */
function pfr_islinklocal(af: number, w0: number): boolean {
  return af !== AF_INET && (w0 >>> 22) === 0x3fa;
}

/** pfr_gcd() */
function pfr_gcd(m: number, n: number): number {
  while (m > 0) {
    const t = n % m;
    n = m;
    m = t;
  }
  return n;
}

const poolAddr = new Int32Array(4);

/**
 * pfr_pool_get(): from the pool's counter (an address inside its tblidx-th
 * entry, or zero) the next address the table holds: the counter itself
 * when still inside that entry and not inside a nested (more specific)
 * entry, else the first such address of the following entries, looping
 * to the first once.  An interface's table (dyn) never gives an IPv6
 * link-local address.  Leaves the address in pool.counter, its entry's
 * index, states, weight and prefix length in the pool; false when the
 * table has none (pfrkt_nomatch, else pfrkt_match, counts it).
 */
export function pfr_pool_get(pool: KPool, kt0: PfrKtable, af: number, dyn: boolean): boolean {
  const kt = pfr_ktable_select_active(kt0);
  if (kt === null) return false;
  const list = kt.entries();
  const counter = pool.counter;
  const addr = poolAddr;
  let idx = pool.tblidx;
  let useCounter = false;
  if (idx < 0 || idx >= kt.cnt) idx = 0;
  else useCounter = true;
  const startidx = idx;
  let loop = 0;
  const full = af === AF_INET ? 32 : 128;
  for (;;) {
    // _next_block
    if (loop !== 0 && startidx === idx) {
      kt.nomatch++;
      return false;
    }
    let ke = pfr_kentry_byidx(list, idx, af);
    if (ke === null) {
      // no such index: loop to the first entry
      if (loop !== 0 || (ke = pfr_kentry_byidx(list, 0, af)) === null) {
        kt.nomatch++;
        return false;
      }
      idx = 0;
      loop++;
    }
    // the current weight of weighted round-robin
    if (idx === 0 && useCounter && kt.refcntcost > 0) {
      let gcd = 0;
      let max = 0;
      for (const e of list) {
        const w = e.type === PFRKE_COST ? e.weight : 1;
        gcd = gcd === 0 ? w : pfr_gcd(w, gcd);
        if (max < w) max = w;
      }
      pool.curweight -= gcd;
      if (pool.curweight < 1) pool.curweight = max;
    }
    const net = ke.net;
    const zero = counter[0] === 0 && (af === AF_INET || (counter[1] === 0 && counter[2] === 0 && counter[3] === 0));
    if (useCounter && !zero) {
      // is the counter inside this entry?  If not, the next entry
      if (!pfr_in_entry(ke, af, counter)) {
        idx++;
        useCounter = false;
        continue;
      }
      addr.set(counter);
    } else {
      // the entry's first address
      addr[0] = ke.w0;
      addr[1] = af === AF_INET ? 0 : ke.w1;
      addr[2] = af === AF_INET ? 0 : ke.w2;
      addr[3] = af === AF_INET ? 0 : ke.w3;
    }
    if (net === full) {
      // a host: nothing nested in it
      if (dyn && pfr_islinklocal(af, addr[0]!)) {
        idx++;
        continue;
      }
      pfr_pool_found(pool, kt, ke, idx, addr);
      return true;
    }
    // a network: its first address no nested entry covers, else the next entry
    for (;;) {
      const ke2 = kt.lookup(af, addr[0]!, addr[1]!, addr[2]!, addr[3]!);
      if (ke2 === ke && !(dyn && pfr_islinklocal(af, addr[0]!))) {
        pfr_pool_found(pool, kt, ke, idx, addr);
        return true;
      }
      // _next_entry: past the nested entry (a link-local address of an interface: past its entry)
      const n2 = ke2 === null ? full : ke2.net;
      for (let i = 0; i < (af === AF_INET ? 1 : 4); i++) addr[i] = addr[i]! | ~maskWord(n2, i);
      pf_addr_inc(addr, af);
      // past the end of the address space (a 0/0 entry whose addresses nested entries all cover): the next entry
      const wrapped = addr[0] === 0 && (af === AF_INET || (addr[1] === 0 && addr[2] === 0 && addr[3] === 0));
      if (wrapped || !pfr_in_entry(ke, af, addr)) break;
    }
    idx++;
    useCounter = false;
  }
}

/** pf_match_addr(0, entry's address, its mask, x) */
function pfr_in_entry(ke: PfrKentry, af: number, x: Int32Array): boolean {
  const net = ke.net;
  return ((x[0]! ^ ke.w0) & maskWord(net, 0)) === 0 &&
    (af === AF_INET || (((x[1]! ^ ke.w1) & maskWord(net, 1)) === 0 && ((x[2]! ^ ke.w2) & maskWord(net, 2)) === 0 && ((x[3]! ^ ke.w3) & maskWord(net, 3)) === 0));
}

function pfr_pool_found(pool: KPool, kt: PfrKtable, ke: PfrKentry, idx: number, addr: Int32Array): void {
  pool.counter.set(addr);
  pool.tblidx = idx;
  kt.match++;
  pool.states = ke.states;
  pool.net = ke.net;
  pool.weight = ke.type === PFRKE_COST ? ke.weight : 1;
}

/** pfr_kentry_byaddr(kt, a, af, exact): the host entry holding the address, or null. */
function pfr_kentry_byaddr(kt0: PfrKtable, af: number, a: Int32Array): PfrKentry | null {
  const kt = pfr_ktable_select_active(kt0);
  if (kt === null) return null;
  const ke = kt.lookup(af, a[0]!, a[1]!, a[2]!, a[3]!);
  if (ke === null || ke.net !== (af === AF_INET ? 32 : 128)) return null;
  return ke;
}

/** pfr_states_increase(): one more state on the address's entry; -1 when no host entry holds it. */
export function pfr_states_increase(kt: PfrKtable, af: number, a: Int32Array): number {
  const ke = pfr_kentry_byaddr(kt, af, a);
  if (ke === null) return -1;
  // OpenBSD keeps the count in pfrke_counters (-T zero clears it with them): the entry has counters from then on
  pfr_kentry_counters(ke);
  return ++ke.states;
}

/** pfr_states_decrease(): one state less on the address's entry; -1 when no host entry holds it. */
export function pfr_states_decrease(kt: PfrKtable, af: number, a: Int32Array): number {
  const ke = pfr_kentry_byaddr(kt, af, a);
  if (ke === null) return -1;
  pfr_kentry_counters(ke);
  if (ke.states > 0) ke.states--;
  return ke.states;
}
