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

export const AF_INET = 2;
export const AF_INET6 = 24;

export const PFR_TFLAG_PERSIST = 0x01;
export const PFR_TFLAG_CONST = 0x02;
export const PFR_TFLAG_ACTIVE = 0x04;
export const PFR_TFLAG_INACTIVE = 0x08;
export const PFR_TFLAG_REFERENCED = 0x10;
export const PFR_TFLAG_REFDANCHOR = 0x20;
export const PFR_TFLAG_COUNTERS = 0x40;

/** struct pfr_kentry */
export class PfrKentry {
  packets = 0;
  bytes = 0;
  constructor(
    readonly af: number,
    readonly w0: number,
    readonly w1: number,
    readonly w2: number,
    readonly w3: number,
    readonly net: number,
    readonly not: boolean,
  ) {}

  /** "192.0.2.0/24", "!2001:db8::1" */
  text(): string {
    return (this.not ? '!' : '') + this.addrText() + (this.net < (this.af === AF_INET ? 32 : 128) ? `/${this.net}` : '');
  }

  addrText(): string {
    if (this.af === AF_INET) return formatIp4(this.w0 >>> 0);
    const b = new Uint8Array(16);
    const w = [this.w0, this.w1, this.w2, this.w3];
    for (let i = 0; i < 4; i++) {
      b[i * 4] = w[i]! >>> 24;
      b[i * 4 + 1] = (w[i]! >>> 16) & 255;
      b[i * 4 + 2] = (w[i]! >>> 8) & 255;
      b[i * 4 + 3] = w[i]! & 255;
    }
    return formatIp6(b, 0);
  }
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
  refcntAnchor = 0;
  /** Virtual time (s) the counters were cleared. */
  tzero = 0;
  readonly packets = new Float64Array(2 * 4);
  readonly bytes = new Float64Array(2 * 4);

  constructor(
    readonly name: string,
    readonly anchor: string,
  ) {}

  /** The entries in insertion order is not kept: sorted by family, address, length (as a radix walk). */
  entries(): PfrKentry[] {
    const out: PfrKentry[] = [];
    for (const m of this.byLen) {
      if (m === undefined) continue;
      for (const v of m.values()) {
        if (Array.isArray(v)) out.push(...v);
        else out.push(v);
      }
    }
    out.sort((a, b) => a.af - b.af || cmpU(a.w0, b.w0) || cmpU(a.w1, b.w1) || cmpU(a.w2, b.w2) || cmpU(a.w3, b.w3) || a.net - b.net);
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
    return true;
  }

  clear(): number {
    const n = this.cnt;
    this.byLen.fill(undefined);
    this.lens4 = [];
    this.lens6 = [];
    this.cnt = 0;
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
    const e = this.lookup(af, w0, w1, w2, w3);
    const ok = e !== null && !e.not;
    if (ok) this.match++;
    else this.nomatch++;
    return ok;
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
