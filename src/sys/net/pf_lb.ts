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
  AF_INET, PF_ADDR_ADDRMASK, PF_ADDR_DYNIFTL, PF_ADDR_RANGE, PF_ADDR_TABLE, pf_find_key, pf_key_set,
} from './pf.js';
import { pf_get_transaddr_af } from './pf_af.js';
import { PF_SN_NAT, PF_SN_RDR, pf_map_addr_sticky } from './pf_src.js';
import type { PfrKtable } from './pf_table.js';

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMP = 1;
const PF_POOL_TYPEMASK = 0x0f;
const PF_POOL_BITMASK = 1;
const PF_POOL_ROUNDROBIN = 4;
const PF_POOL_RANDOM = 2;
const PF_POOL_SRCHASH = 3;
const PF_POOL_LEASTSTATES = 5;

/** The pool's chosen address (words), or false when the pool has none. */
export function pf_map_addr(pf: Pf, pool: KPool, pd: PfPdesc, out: Int32Array): boolean {
  const a = pool.addr;
  switch (a.type) {
    case PF_ADDR_ADDRMASK: {
      const type = pool.opts & PF_POOL_TYPEMASK;
      if (pd.af === AF_INET && a.m0 !== -1 && (type === PF_POOL_ROUNDROBIN || type === PF_POOL_RANDOM)) {
        // a network: walk or pick its host addresses
        const size = (~a.m0 >>> 0) + 1;
        const n = type === PF_POOL_RANDOM ? pf.k.random.arc4random_uniform(size) : pool.rrIndex++ % size;
        out[0] = (a.a0 & a.m0) | n;
      } else if (pd.af === AF_INET && type === PF_POOL_BITMASK) out[0] = (a.a0 & a.m0) | (pd.ns0 & ~a.m0);
      else {
        out[0] = a.a0;
        out[1] = a.a1;
        out[2] = a.a2;
        out[3] = a.a3;
      }
      return true;
    }
    case PF_ADDR_DYNIFTL: {
      // the interface's addresses as its _pf table has them now (pf_if.ts)
      const dyn = a.dyn;
      if (dyn === null) return false;
      const type = pool.opts & PF_POOL_TYPEMASK;
      if (type === PF_POOL_ROUNDROBIN || type === PF_POOL_RANDOM || type === PF_POOL_SRCHASH || type === PF_POOL_LEASTSTATES)
        return pf_map_table(pool, dyn.kt, pd, out, true);
      if (pd.af === AF_INET) {
        if (dyn.acnt4 < 1) return false;
        const m = dyn.addr4[1]!;
        out[0] = type === PF_POOL_BITMASK ? (dyn.addr4[0]! & m) | (pd.ns0 & ~m) : dyn.addr4[0]!;
        out[1] = out[2] = out[3] = 0;
      } else {
        if (dyn.acnt6 < 1) return false;
        const d = dyn.addr6;
        if (type === PF_POOL_BITMASK) {
          out[0] = (d[0]! & d[4]!) | (pd.ns0 & ~d[4]!);
          out[1] = (d[1]! & d[5]!) | (pd.ns1 & ~d[5]!);
          out[2] = (d[2]! & d[6]!) | (pd.ns2 & ~d[6]!);
          out[3] = (d[3]! & d[7]!) | (pd.ns3 & ~d[7]!);
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
      if (a.table === null) return false;
      return pf_map_table(pool, a.table, pd, out, false);
    }
    case PF_ADDR_RANGE: {
      const size = (a.m0 >>> 0) - (a.a0 >>> 0) + 1;
      out[0] = ((a.a0 >>> 0) + (pool.rrIndex++ % size)) | 0;
      return true;
    }
  }
  return false;
}

/**
 * An address of table kt, taken in turn (pfr_pool_get): a pool's table,
 * or its interface's _pf table (dyn), whose IPv6 link-local addresses it
 * never takes.
 */
function pf_map_table(pool: KPool, kt: PfrKtable, pd: PfPdesc, out: Int32Array, dyn: boolean): boolean {
  const e = kt.entries().filter((x) => x.af === pd.af && !x.not && !(dyn && x.af !== AF_INET && (x.w0 >>> 22) === 0x3fa));
  if (e.length === 0) return false;
  const x = e[pool.rrIndex++ % e.length]!;
  out[0] = x.w0;
  out[1] = x.w1;
  out[2] = x.w2;
  out[3] = x.w3;
  return true;
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
  const cut = pf.k.random.arc4random_uniform(1 + hi - lo) + lo;
  for (let p = cut; p <= hi && p <= 0xffff; p++) if (!keyTaken(pf, pd, naddr, p)) return p;
  for (let p = cut - 1; p >= lo && p <= 0xffff; p--) if (!keyTaken(pf, pd, naddr, p)) return p;
  return -1;
}

/**
 * pf_get_transaddr(): apply r's nat-to (new source) and rdr-to (new
 * destination) to pd.ns and pd.nd.  -1 when no address or port is free.
 */
export function pf_get_transaddr(pf: Pf, r: KRule, pd: PfPdesc): number {
  if (pd.naf !== pd.af) return pf_get_transaddr_af(pf, r, pd);
  const naddr = pf.naddr;
  if (r.natSet) {
    naddr.fill(0);
    if (!pf_map_addr_sticky(pf, r, r.nat, PF_SN_NAT, pd, naddr, pd.ns0, pd.ns1, pd.ns2, pd.ns3)) return -1;
    const nport = pf_get_sport(pf, pd, naddr, r.nat.proxyPort0, r.nat.proxyPort1);
    if (nport < 0) {
      if (pf.debug >= 5) pf.k.printf(`pf: NAT proxy port allocation (${r.nat.proxyPort0}-${r.nat.proxyPort1}) failed`);
      return -1;
    }
    pf.ctx_nr = r;
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
    pd.nd0 = naddr[0]!;
    pd.nd1 = naddr[1]!;
    pd.nd2 = naddr[2]!;
    pd.nd3 = naddr[3]!;
    if (nport !== 0 && pd.proto !== IPPROTO_ICMP) pd.ndport = nport;
  }
  return 0;
}
