/**
 * pf address pools and port selection (sys/net/pf_lb.c): pf_map_addr()
 * picks a translation address from a pool (an address/netmask, an
 * interface's address, a table walked round-robin), pf_get_sport() a free
 * source port for nat-to (50001:65535 unless the rule says otherwise,
 * starting at a random point and searching up, then down, as OpenBSD),
 * pf_get_transaddr() applies a rule's nat-to and rdr-to to the packet
 * description (through pf_map_addr_sticky(), pf_src.ts: a sticky-address
 * pool gives a source the address it had).
 */
import type { Pf, PfPdesc, KRule, KPool } from './pf.js';
import {
  AF_INET, K_A, K_B, K_META, PF_IN, SC_N, SC_NATPL, SC_RDRPL, SC_RTADDR, SC_RTADDR6, ST_DIR, ST_N, ST_NKEYS, ST_RULE, PF_ADDR_ADDRMASK, PF_ADDR_DYNIFTL, PF_ADDR_RANGE, PF_ADDR_TABLE, pf_find_key, pf_key_set,
} from './pf.js';
import { pf_get_transaddr_af } from './pf_af.js';
import { in_baddynamic } from '../netinet/in_pcb.js';
import { PF_SN_NAT, PF_SN_RDR, pf_map_addr_sticky } from './pf_src.js';
import type { PfrKtable } from './pf_table.js';
import { maskWord, pf_addr_inc, pfr_ktable_select_active, pfr_pool_get, pfr_states_decrease, pfr_states_increase, wordsText } from './pf_table.js';

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMP = 1;
export const PF_POOL_TYPEMASK = 0x0f;
const PF_POOL_BITMASK = 1;
const PF_POOL_ROUNDROBIN = 4;
const PF_POOL_RANDOM = 2;
const PF_POOL_SRCHASH = 3;
export const PF_POOL_LEASTSTATES = 5;

/** bswap32 of a word: between an address word and its bytes read little-endian */
function bswap32(x: number): number {
  return ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24)) | 0;
}

/* SipHash-2-4 on 32-bit halves: v[2i] the high word of v_i, v[2i+1] the low */
const sipV = new Uint32Array(8);

function sipAdd(a: number, b: number): void {
  const lo = (sipV[a + 1]! + sipV[b + 1]!) >>> 0;
  const carry = lo < sipV[a + 1]! ? 1 : 0;
  sipV[a] = (sipV[a]! + sipV[b]! + carry) >>> 0;
  sipV[a + 1] = lo;
}

function sipRotl(a: number, n: number): void {
  const h = sipV[a]!;
  const l = sipV[a + 1]!;
  if (n === 32) {
    sipV[a] = l;
    sipV[a + 1] = h;
  } else if (n < 32) {
    sipV[a] = (h << n) | (l >>> (32 - n));
    sipV[a + 1] = (l << n) | (h >>> (32 - n));
  } else {
    sipV[a] = (l << (n - 32)) | (h >>> (64 - n));
    sipV[a + 1] = (h << (n - 32)) | (l >>> (64 - n));
  }
}

function sipXor(a: number, b: number): void {
  sipV[a] = sipV[a]! ^ sipV[b]!;
  sipV[a + 1] = sipV[a + 1]! ^ sipV[b + 1]!;
}

function sipRound(): void {
  sipAdd(0, 2); sipRotl(2, 13); sipXor(2, 0); sipRotl(0, 32);
  sipAdd(4, 6); sipRotl(6, 16); sipXor(6, 4);
  sipAdd(0, 6); sipRotl(6, 21); sipXor(6, 0);
  sipAdd(4, 2); sipRotl(2, 17); sipXor(2, 4); sipRotl(4, 32);
}

function sipBlock(hi: number, lo: number): void {
  sipV[6] = sipV[6]! ^ hi;
  sipV[7] = sipV[7]! ^ lo;
  sipRound();
  sipRound();
  sipV[0] = sipV[0]! ^ hi;
  sipV[1] = sipV[1]! ^ lo;
}

/** The result of the last pf_hash() (the 64-bit SipHash), high and low words. */
export const pfHashRes = new Uint32Array(2);

/**
 * SipHash24 of up to two 64-bit little-endian message words (m1, m2 taken
 * when n >= 1, 2) and a final block (len, tail), keyed by k0 = k0h:k0l,
 * k1 = k1h:k1l.  The result lands in pfHashRes.
 */
function sipHash24(k0h: number, k0l: number, k1h: number, k1l: number,
  n: number, m1h: number, m1l: number, m2h: number, m2l: number, bh: number, bl: number): void {
  sipV[0] = k0h ^ 0x736f6d65; sipV[1] = k0l ^ 0x70736575;
  sipV[2] = k1h ^ 0x646f7261; sipV[3] = k1l ^ 0x6e646f6d;
  sipV[4] = k0h ^ 0x6c796765; sipV[5] = k0l ^ 0x6e657261;
  sipV[6] = k1h ^ 0x74656462; sipV[7] = k1l ^ 0x79746573;
  if (n >= 1) sipBlock(m1h, m1l);
  if (n >= 2) sipBlock(m2h, m2l);
  sipBlock(bh, bl);
  sipV[5] = sipV[5]! ^ 0xff;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  pfHashRes[0] = sipV[0]! ^ sipV[2]! ^ sipV[4]! ^ sipV[6]!;
  pfHashRes[1] = sipV[1]! ^ sipV[3]! ^ sipV[5]! ^ sipV[7]!;
}

/**
 * pf_hash(): SipHash24 of the address (its bytes, 4 or 16) keyed by the
 * pool's key (key32[] as an amd64 kernel holds it: k0 = key32[1]:key32[0]),
 * into hash (words) and pfHashRes (the 64-bit result).
 */
export function pf_hash(pool: KPool, af: number, s0: number, s1: number, s2: number, s3: number, hash: Int32Array): void {
  const k0h = pool.key1 >>> 0, k0l = pool.key0 >>> 0, k1h = pool.key3 >>> 0, k1l = pool.key2 >>> 0;
  if (af === AF_INET) {
    sipHash24(k0h, k0l, k1h, k1l, 0, 0, 0, 0, 0, 0x04000000, bswap32(s0) >>> 0);
    hash[0] = bswap32(pfHashRes[1]!);
    return;
  }
  sipHash24(k0h, k0l, k1h, k1l, 2, bswap32(s1) >>> 0, bswap32(s0) >>> 0, bswap32(s3) >>> 0, bswap32(s2) >>> 0, 0x10000000, 0);
  // the 64-bit result fills two words, flipped for the other two
  hash[0] = bswap32(pfHashRes[1]!);
  hash[1] = bswap32(pfHashRes[0]!);
  hash[2] = bswap32(~pfHashRes[0]!);
  hash[3] = bswap32(~pfHashRes[1]!);
}

/** 64-bit pfHashRes modulo cnt (cnt < 2^26) */
function pfHashMod(cnt: number): number {
  return ((pfHashRes[0]! % cnt) * (0x100000000 % cnt) + (pfHashRes[1]! % cnt)) % cnt;
}

export const PF_POOL_NONE = 0;

/** PF_POOL_DYNTYPE(): pool types that take a table or an interface's addresses. */
function PF_POOL_DYNTYPE(opts: number): boolean {
  const t = opts & PF_POOL_TYPEMASK;
  return t === PF_POOL_ROUNDROBIN || t === PF_POOL_LEASTSTATES || t === PF_POOL_RANDOM || t === PF_POOL_SRCHASH;
}

/** pf_poolmask(): the pool address's network bits, the other address's host bits. */
function pf_poolmask(af: number, a: KPool['addr'], h0: number, h1: number, h2: number, h3: number, out: Int32Array): void {
  out[0] = (a.a0 & a.m0) | (h0 & ~a.m0);
  if (af === AF_INET) {
    out[1] = out[2] = out[3] = 0;
    return;
  }
  out[1] = (a.a1 & a.m1) | (h1 & ~a.m1);
  out[2] = (a.a2 & a.m2) | (h2 & ~a.m2);
  out[3] = (a.a3 & a.m3) | (h3 & ~a.m3);
}

const poolHash = new Int32Array(4);

/**
 * pf_map_addr(): the pool's address for a new state of source s (words),
 * or false when the pool has none.  A table or an interface's addresses
 * are walked as pfr_pool_get() does (pf_table.ts).  init is pf_get_sport's
 * init_addr (nat-to), null for the other pools: a network's random pick
 * is random only while it is zero, else the next address after the
 * pool's counter, as OpenBSD's.
 */
export function pf_map_addr(pf: Pf, pool: KPool, pd: PfPdesc, out: Int32Array,
  s0: number, s1: number, s2: number, s3: number, init: Int32Array | null = null): boolean {
  const a = pool.addr;
  const af = pd.af;
  const type = pool.opts & PF_POOL_TYPEMASK;
  switch (a.type) {
    case PF_ADDR_ADDRMASK: {
      const c = pool.counter;
      if (type === PF_POOL_RANDOM) {
        // a network's host bits: random (pf_rand_addr) from the last word up, or the counter's next
        if (init !== null && pf_azero(init, af)) {
          pf_rand_counter(pf, a, af, c);
          pf_poolmask(af, a, c[0]!, c[1]!, c[2]!, c[3]!, out);
          init.set(out);
        } else {
          pf_addr_inc(c, af);
          pf_poolmask(af, a, c[0]!, c[1]!, c[2]!, c[3]!, out);
        }
      } else if (type === PF_POOL_ROUNDROBIN) {
        // a single host is itself; a network walks its host bits from 0 (the network's own address)
        if (pf_azero(c, af)) {
          if (a.m0 === -1 && (af === AF_INET || (a.m1 === -1 && a.m2 === -1 && a.m3 === -1))) {
            hostOf(a, af, out);
            return true;
          }
        } else if (pf_match_addr(a, c, af)) return false;
        pf_poolmask(af, a, c[0]!, c[1]!, c[2]!, c[3]!, out);
        if (init !== null && pf_azero(init, af)) copyCounter(pool, af, init);
        pf_addr_inc(c, af);
      } else if (type === PF_POOL_BITMASK) pf_poolmask(af, a, s0, s1, s2, s3, out);
      else if (type === PF_POOL_SRCHASH) {
        pf_hash(pool, af, s0, s1, s2, s3, poolHash);
        pf_poolmask(af, a, poolHash[0]!, poolHash[1]!, poolHash[2]!, poolHash[3]!, out);
      } else hostOf(a, af, out);
      return true;
    }
    case PF_ADDR_DYNIFTL: {
      // the interface's addresses as its _pf table has them now (pf_if.ts)
      const dyn = a.dyn;
      if (dyn === null) return false;
      if (PF_POOL_DYNTYPE(pool.opts)) return pf_map_table(pf, pool, dyn.kt, af, out, s0, s1, s2, s3, true);
      if (af === AF_INET) {
        if (dyn.acnt4 < 1) return false;
        const m = dyn.addr4[1]!;
        out[0] = type === PF_POOL_BITMASK ? (dyn.addr4[0]! & m) | (s0 & ~m) : dyn.addr4[0]!;
        out[1] = out[2] = out[3] = 0;
      } else {
        if (dyn.acnt6 < 1) return false;
        const d = dyn.addr6;
        if (type === PF_POOL_BITMASK) {
          out[0] = (d[0]! & d[4]!) | (s0 & ~d[4]!);
          out[1] = (d[1]! & d[5]!) | (s1 & ~d[5]!);
          out[2] = (d[2]! & d[6]!) | (s2 & ~d[6]!);
          out[3] = (d[3]! & d[7]!) | (s3 & ~d[7]!);
        } else {
          out[0] = d[0]!;
          out[1] = d[1]!;
          out[2] = d[2]!;
          out[3] = d[3]!;
        }
      }
      return true;
    }
    case PF_ADDR_TABLE: {
      if (a.table === null || !PF_POOL_DYNTYPE(pool.opts)) return false;
      return pf_map_table(pf, pool, a.table, af, out, s0, s1, s2, s3, false);
    }
    case PF_ADDR_RANGE: {
      const size = (a.m0 >>> 0) - (a.a0 >>> 0) + 1;
      out[0] = ((a.a0 >>> 0) + (pool.rrIndex++ % size)) | 0;
      return true;
    }
  }
  return false;
}

function hostOf(a: KPool['addr'], af: number, out: Int32Array): void {
  out[0] = a.a0;
  out[1] = af === AF_INET ? 0 : a.a1;
  out[2] = af === AF_INET ? 0 : a.a2;
  out[3] = af === AF_INET ? 0 : a.a3;
}

/** PF_AZERO() */
function pf_azero(w: Int32Array, af: number): boolean {
  return w[0] === 0 && (af === AF_INET || (w[1] === 0 && w[2] === 0 && w[3] === 0));
}

/** pf_match_addr(0, ...): is b in the network a? */
function pf_match_addr(a: KPool['addr'], b: Int32Array, af: number): boolean {
  if ((a.a0 & a.m0) !== (b[0]! & a.m0)) return false;
  return af === AF_INET ||
    ((a.a1 & a.m1) === (b[1]! & a.m1) && (a.a2 & a.m2) === (b[2]! & a.m2) && (a.a3 & a.m3) === (b[3]! & a.m3));
}

/**
 * pf_rand_addr() into the counter: each word's host bits at random,
 * arc4random_uniform(~mask + 1) in 32 bits (a word of host bits only
 * wraps to a bound of 0, and arc4random_uniform gives 0), from the last
 * word up to the first that is all network.
 */
function pf_rand_counter(pf: Pf, a: KPool['addr'], af: number, c: Int32Array): void {
  for (let i = af === AF_INET ? 0 : 3; i >= 0; i--) {
    const m = i === 0 ? a.m0 : i === 1 ? a.m1 : i === 2 ? a.m2 : a.m3;
    if (af !== AF_INET && m === -1) break;
    c[i] = pf.k.random.arc4random_uniform(((~m >>> 0) + 1) >>> 0) | 0;
  }
}

function counterZero(pool: KPool): void {
  pool.counter.fill(0);
}

function copyCounter(pool: KPool, af: number, out: Int32Array): void {
  const c = pool.counter;
  out[0] = c[0]!;
  out[1] = af === AF_INET ? 0 : c[1]!;
  out[2] = af === AF_INET ? 0 : c[2]!;
  out[3] = af === AF_INET ? 0 : c[3]!;
}

const faddr = new Int32Array(4);

/**
 * pf_map_addr() of a table pool (a table, or an interface's _pf table):
 * random takes the arc4random_uniform(cnt)-th entry, source-hash the
 * entry the source's hash picks, round-robin each address of each entry
 * in turn (into networks), least-states the address with the fewest
 * states, counted in its entry (pfr_states_increase()).
 */
function pf_map_table(pf: Pf, pool: KPool, kt0: PfrKtable, af: number, out: Int32Array,
  s0: number, s1: number, s2: number, s3: number, dyn: boolean): boolean {
  const type = pool.opts & PF_POOL_TYPEMASK;
  switch (type) {
    case PF_POOL_RANDOM:
    case PF_POOL_SRCHASH: {
      const kt = pfr_ktable_select_active(kt0);
      if (kt === null) return false;
      const cnt = kt.cnt;
      if (type === PF_POOL_SRCHASH) pf_hash(pool, af, s0, s1, s2, s3, poolHash);
      if (cnt === 0) pool.tblidx = 0;
      else pool.tblidx = type === PF_POOL_RANDOM ? pf.k.random.arc4random_uniform(cnt) : pfHashMod(cnt);
      counterZero(pool);
      if (!pfr_pool_get(pool, kt0, af, dyn)) return false;
      copyCounter(pool, af, out);
      return true;
    }
    case PF_POOL_ROUNDROBIN: {
      if (!pfr_pool_get(pool, kt0, af, dyn)) {
        // the counter's address may have left the table: start over
        counterZero(pool);
        if (!pfr_pool_get(pool, kt0, af, dyn)) return false;
      }
      const kt = pfr_ktable_select_active(kt0);
      if (kt !== null && kt.refcntcost > 0) {
        // weighted: pass over the entries lighter than the current weight
        for (;;) {
          if (!pfr_pool_get(pool, kt0, af, dyn)) return false;
          if (pool.weight >= pool.curweight) break;
          pf_addr_inc(pool.counter, af);
        }
      }
      copyCounter(pool, af, out);
      pf_addr_inc(pool.counter, af);
      return true;
    }
    case PF_POOL_LEASTSTATES: {
      if (!pfr_pool_get(pool, kt0, af, dyn)) {
        counterZero(pool);
        if (!pfr_pool_get(pool, kt0, af, dyn)) return false;
      }
      const kt = pfr_ktable_select_active(kt0);
      const weighted = kt !== null && kt.refcntcost > 0;
      let states = pool.states;
      let weight = pool.weight;
      let load = weighted ? Math.floor((65535 * pool.states) / pool.weight) : states;
      copyCounter(pool, af, faddr);
      copyCounter(pool, af, out);
      // once around the table for the address with the fewest states
      do {
        pf_addr_inc(pool.counter, af);
        if (!pfr_pool_get(pool, kt0, af, dyn)) return false;
        const cload = weighted ? Math.floor((65535 * pool.states) / pool.weight) : pool.states;
        if (cload < load) {
          states = pool.states;
          weight = pool.weight;
          load = cload;
          copyCounter(pool, af, out);
        }
      } while (!sameUnderNet(af, faddr, pool.counter, pool.net) && states > 0);
      if (pf_map_addr_states_increase(pool, af, out) === -1) {
        if (pf.debug >= 7) pf.k.printf(`pf: pf_map_addr_states_increase: selected address ${hostText(af, out)}. Failed to increase count!`);
        return false;
      }
      // what the log line tells (pf_map_addr's states and weight)
      pool.states = states;
      pool.weight = weight;
      return true;
    }
  }
  return false;
}

/** pf_map_addr_states_increase(): one more state on a table pool's address; -1 when it is no host entry. */
export function pf_map_addr_states_increase(pool: KPool, af: number, a: Int32Array): number {
  const kt = pool.addr.type === PF_ADDR_TABLE ? pool.addr.table : pool.addr.type === PF_ADDR_DYNIFTL && pool.addr.dyn !== null ? pool.addr.dyn.kt : null;
  if (kt === null) return 0;
  return pfr_states_increase(kt, af, a) === -1 ? -1 : 0;
}

function hostText(af: number, a: Int32Array): string {
  return wordsText(af, a[0]!, a[1]!, a[2]!, a[3]!);
}

/** "pf: pf_map_addr: selected address ..." at debug level info (LOG_INFO). */
export function pf_map_addr_log(pf: Pf, pool: KPool, af: number, a: Int32Array): void {
  const type = pool.opts & PF_POOL_TYPEMASK;
  let s = `pf: pf_map_addr: selected address ${hostText(af, a)}`;
  if (type === PF_POOL_LEASTSTATES) s += ` with state count ${pool.states}`;
  const kt = pool.addr.type === PF_ADDR_TABLE ? pool.addr.table : pool.addr.type === PF_ADDR_DYNIFTL && pool.addr.dyn !== null ? pool.addr.dyn.kt : null;
  if (kt !== null && kt.refcntcost > 0) s += ` with weight ${pool.weight}`;
  pf.k.printf(s);
}

/** pf_match_addr(0, a, mask of prefix net, b): a and b agree on the first net bits. */
function sameUnderNet(af: number, a: Int32Array, b: Int32Array, net: number): boolean {
  if (((a[0]! ^ b[0]!) & maskWord(net, 0)) !== 0) return false;
  if (af === AF_INET) return true;
  return ((a[1]! ^ b[1]!) & maskWord(net, 1)) === 0 && ((a[2]! ^ b[2]!) & maskWord(net, 2)) === 0 && ((a[3]! ^ b[3]!) & maskWord(net, 3)) === 0;
}

const postAddr = new Int32Array(4);

/** A state's key address (kx: its key's index, side 0 or 1) into postAddr. */
function stateKeyAddr(pf: Pf, kx: number, side: number): void {
  const o = pf.st.ko(kx) + (side === 0 ? K_A : K_B);
  const kd = pf.st.kd;
  postAddr[0] = kd[o]!;
  postAddr[1] = kd[o + 1]!;
  postAddr[2] = kd[o + 2]!;
  postAddr[3] = kd[o + 3]!;
}

/** pf_pool_states_decrease_addr(): a least-states table pool's address has one state less. */
function pf_pool_states_decrease_addr(pf: Pf, pool: KPool, af: number, a: Int32Array): void {
  const kt = pool.addr.type === PF_ADDR_TABLE ? pool.addr.table : pool.addr.type === PF_ADDR_DYNIFTL && pool.addr.dyn !== null ? pool.addr.dyn.kt : null;
  if (kt === null) return;
  const n = pfr_states_decrease(kt, af, a);
  if (n === -1) {
    if (pf.debug >= 7) pf.k.printf(`pf: pf_pool_states_decrease_addr: selected address ${hostText(af, a)}. Failed to decrease count!`);
  } else if (pf.debug >= 6) pf.k.printf(`pf: pf_pool_states_decrease_addr: selected address ${hostText(af, a)} decreased state count to ${n}`);
}

/**
 * pf_postprocess_addr(): a state going away gives back what least-states
 * pools counted for it: the translated source to the pool of the rule
 * whose nat-to made it, the translated destination to the rdr-to's (the
 * state's rule or a match rule before it: the last that translated), the
 * next hop to the state's rule's route-to pool.
 */
export function pf_postprocess_addr(pf: Pf, s: number): void {
  const si = pf.st.si;
  const sc = pf.st.sc;
  const b = s * ST_N;
  const r = pf.ruletab[si[b + ST_RULE]!];
  const np = sc[s * SC_N + SC_NATPL]!;
  const rp = sc[s * SC_N + SC_RDRPL]!;
  const route = r !== undefined && r !== null && r.routeSet && (r.route.opts & PF_POOL_TYPEMASK) === PF_POOL_LEASTSTATES;
  if (np === 0 && rp === 0 && !route) return;
  const inbound = si[b + ST_DIR] === PF_IN;
  // the stack key (in) or the wire key (out) holds the translated addresses
  const kx = inbound ? 2 * s + (si[b + ST_NKEYS] === 2 ? 1 : 0) : 2 * s;
  const af = pf.st.kd[pf.st.ko(kx) + K_META]! & 0xff;
  if (np !== 0) {
    const nr = pf.ruletab[np - 1]!;
    stateKeyAddr(pf, kx, inbound ? 0 : 1);
    pf_pool_states_decrease_addr(pf, nr.nat, af, postAddr);
    nr.pool_states--;
  }
  if (rp !== 0) {
    const rr = pf.ruletab[rp - 1]!;
    stateKeyAddr(pf, kx, inbound ? 1 : 0);
    pf_pool_states_decrease_addr(pf, rr.rdr, af, postAddr);
    rr.pool_states--;
  }
  if (route) {
    postAddr[0] = sc[s * SC_N + SC_RTADDR]!;
    postAddr[1] = af === AF_INET ? 0 : sc[s * SC_N + SC_RTADDR6]!;
    postAddr[2] = af === AF_INET ? 0 : sc[s * SC_N + SC_RTADDR6 + 1]!;
    postAddr[3] = af === AF_INET ? 0 : sc[s * SC_N + SC_RTADDR6 + 2]!;
    pf_pool_states_decrease_addr(pf, r.route, af, postAddr);
  }
}

/** Is the wire key (naddr:nport as the translated source) already taken? */
function keyTaken(pf: Pf, pd: PfPdesc, n: Int32Array, nport: number): boolean {
  // a nat-to source on an outbound packet sits at index 1 (sidx), the peer at 0
  if (pd.sidx === 0)
    pf_key_set(pf.sk, 0, pd.af, pd.proto, pd.rdomain, n[0]!, n[1]!, n[2]!, n[3]!, nport, pd.nd0, pd.nd1, pd.nd2, pd.nd3, pd.ndport);
  else
    pf_key_set(pf.sk, 0, pd.af, pd.proto, pd.rdomain, pd.nd0, pd.nd1, pd.nd2, pd.nd3, pd.ndport, n[0]!, n[1]!, n[2]!, n[3]!, nport);
  return pf_find_key(pf) >= 0;
}

/** pf_get_sport(): a free source port in [low, high] for naddr; -1 when none. */
function pf_get_sport(pf: Pf, pd: PfPdesc, naddr: Int32Array, low: number, high: number): number {
  let lo = low;
  let hi = high;
  if (pd.proto === IPPROTO_ICMP) {
    // echo ids are the ports of ICMP queries
    if (pd.odport !== 8 && pd.osport !== 8) return pd.nsport;
    lo = 1;
    hi = 65535;
  } else if (pd.proto !== IPPROTO_TCP && pd.proto !== IPPROTO_UDP) {
    return keyTaken(pf, pd, naddr, 0) ? -1 : 0;
  }
  if (lo === 0 && hi === 0) return keyTaken(pf, pd, naddr, pd.nsport) ? -1 : pd.nsport;
  if (lo === hi) return keyTaken(pf, pd, naddr, lo) ? -1 : lo;
  if (lo > hi) {
    const t = lo;
    lo = hi;
    hi = t;
  }
  // from a random port up, then down; never a port in_pcbbind would not pick (baddynamic)
  const cut = pf.k.random.arc4random_uniform(1 + hi - lo) + lo;
  const proto = pd.proto;
  for (let p = cut; p <= hi && p <= 0xffff; p++) if (!keyTaken(pf, pd, naddr, p) && !in_baddynamic(pf.k, p, proto)) return p;
  for (let p = cut - 1; p >= lo && p <= 0xffff; p--) if (!keyTaken(pf, pd, naddr, p) && !in_baddynamic(pf.k, p, proto)) return p;
  return -1;
}

/**
 * Most addresses pf_get_sport_pool() tries after the first.  OpenBSD's
 * loop ends when the pool comes round to its first address, which a
 * random table pool may never do.
 */
const PF_SPORT_MAXADDRS = 256;

/**
 * pf_get_sport()'s loop over r's nat-to pool: a free port for naddr; out
 * of ports there, a random, round-robin or least-states pool gives its next
 * address (naddr), until it comes round to the first (init_addr).  -1 when
 * none is free.
 */
function pf_get_sport_pool(pf: Pf, r: KRule, pd: PfPdesc, naddr: Int32Array): number {
  const type = r.nat.opts & PF_POOL_TYPEMASK;
  for (let tries = 0; ; tries++) {
    const nport = pf_get_sport(pf, pd, naddr, r.nat.proxyPort0, r.nat.proxyPort1);
    if (nport >= 0) return nport;
    if ((type !== PF_POOL_RANDOM && type !== PF_POOL_ROUNDROBIN && type !== PF_POOL_LEASTSTATES) || tries === PF_SPORT_MAXADDRS) return -1;
    if (!pf_map_addr_sticky(pf, r, r.nat, PF_SN_NAT, pd, naddr, pd.ns0, pd.ns1, pd.ns2, pd.ns3, initAddr)) return -1;
    if (naddr[0] === initAddr[0] && (pd.af === AF_INET ||
        (naddr[1] === initAddr[1] && naddr[2] === initAddr[2] && naddr[3] === initAddr[3]))) return -1;
  }
}

/** pf_get_sport()'s init_addr: the first address the nat-to pool gave */
const initAddr = new Int32Array(4);

/**
 * pf_get_transaddr(): apply r's nat-to (new source) and rdr-to (new
 * destination) to pd.ns and pd.nd.  -1 when no address or port is free.
 */
export function pf_get_transaddr(pf: Pf, r: KRule, pd: PfPdesc): number {
  if (pd.naf !== pd.af) return pf_get_transaddr_af(pf, r, pd);
  const naddr = pf.naddr;
  if (r.natSet) {
    naddr.fill(0);
    initAddr.fill(0);
    if (!pf_map_addr_sticky(pf, r, r.nat, PF_SN_NAT, pd, naddr, pd.ns0, pd.ns1, pd.ns2, pd.ns3, initAddr)) return -1;
    const nport = pf_get_sport_pool(pf, r, pd, naddr);
    if (nport < 0) {
      if (pf.debug >= 5) pf.k.printf(`pf: NAT proxy port allocation (${r.nat.proxyPort0}-${r.nat.proxyPort1}) failed`);
      return -1;
    }
    pf.ctx_nr = r;
    pf.ctx_natpl = r;
    pd.ns0 = naddr[0]!;
    pd.ns1 = naddr[1]!;
    pd.ns2 = naddr[2]!;
    pd.ns3 = naddr[3]!;
    pd.nsport = nport;
  }
  if (r.rdrSet) {
    naddr.fill(0);
    if (!pf_map_addr_sticky(pf, r, r.rdr, PF_SN_RDR, pd, naddr, pd.ns0, pd.ns1, pd.ns2, pd.ns3)) return -1;
    let nport = 0;
    if (r.rdr.proxyPort1 !== 0) {
      let t = ((pd.ndport - r.dst.port0) % (r.rdr.proxyPort1 - r.rdr.proxyPort0 + 1)) + r.rdr.proxyPort0;
      if (t > 65535) t -= 65535;
      nport = t;
    } else if (r.rdr.proxyPort0 !== 0) nport = r.rdr.proxyPort0;
    pf.ctx_nr = r;
    pf.ctx_rdrpl = r;
    pd.nd0 = naddr[0]!;
    pd.nd1 = naddr[1]!;
    pd.nd2 = naddr[2]!;
    pd.nd3 = naddr[3]!;
    if (nport !== 0 && pd.proto !== IPPROTO_ICMP) pd.ndport = nport;
  }
  return 0;
}
