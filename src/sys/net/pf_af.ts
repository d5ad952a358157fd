/**
 * pf's address family translation, `af-to` (NAT64 and NAT46, sys/net/pf.c's
 * pf_translate_af, pf_change_icmp_af, pf_translate_icmp_af and
 * pf_lb.c's pf_get_transaddr_af), and pf_route6, route-to/reply-to/dup-to
 * on the IPv6 path.
 *
 * af-to, as OpenBSD does it:
 * - only on inbound rules, with a source address in the other family
 *   (`af-to inet from 192.0.2.1`); the destination is the original one's
 *   low bits: an IPv4 address embedded in the IPv6 destination at the
 *   rule's `to` prefix (RFC 6052: /32, /40, /48, /56, /64, /96), or put
 *   in the optional `to` prefix of the af-to (IPv4 into an IPv6 /96 by
 *   default, the prefix of the `from` address).
 * - the state has two keys of different families: the wire key as the
 *   packet arrived, and the stack key as the translated packet leaves
 *   (destination at index 0, translated source at 1: an outbound key of
 *   the other family), with ICMP and ICMPv6 swapped.  Both are inbound:
 *   the replies arrive on the other family's interface and find the stack
 *   key; packets going out never match an af-to state (PFSTATE_AFTO).
 * - the packet leaves pf_test(IN) translated (the IP header replaced,
 *   TTL/hop limit and TOS/traffic class kept, IPv4 DF set, TCP/UDP ports
 *   and checksums fixed for the new pseudo-header, ICMP and ICMPv6 types
 *   and codes mapped as RFC 7915, an error's quoted packet translated too)
 *   and goes straight to ip_forward/ip6_forward, tagged PF_TAG_GENERATED:
 *   it does not go up the original family's stack (pf_test returns null
 *   with pf.taken).
 * - drops are counted: `translate` when the packet cannot be translated
 *   (no address or port, a fragment, an ICMP type RFC 7915 drops),
 *   `proto-cksum` for an ICMP error with a bad checksum, `memory`, and
 *   ips_cantforward/ip6s_cantforward when the other family does not
 *   forward.
 *
 * As in OpenBSD, the state's peers and packet counters go by the
 * packet's direction only (pd->dir == st->direction), and both ways of an
 * af-to state are inbound: a UDP or other af-to state stays
 * SINGLE:NO_TRAFFIC and all its packets count in the first column; only
 * full TCP tracking takes the family for the way (PF_REVERSED_KEY,
 * pf_afto_reversed).
 * An ICMP error's checksum is verified and then computed again (OpenBSD
 * adjusts it incrementally); TCP, UDP and echo checksums are adjusted
 * incrementally (RFC 1624), as OpenBSD does.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Mbuf, MbufList } from '../kern/uipc_mbuf.js';
import { M_ICMP_CSUM_OUT, M_TCP_CSUM_OUT, M_UDP_CSUM_OUT, PF_TAG_GENERATED } from '../kern/uipc_mbuf.js';
import type { KRule, Pf, PfPdesc } from './pf.js';
import {
  AF_INET, AF_INET6, K_A, K_B, K_META, K_PORTS, PF_DUPTO, PF_IN, PF_OUT, PF_REPLYTO, PF_VPROTO_FRAGMENT, PFRES_MEMORY,
  PFRES_NOROUTE, PFRES_PROTCKSUM, PFRES_TRANSLATE, REASON_SET, SC_N, SC_RTADDR, SC_RTADDR6, SC_RTIF, ST_DIR, ST_N, pf_find_key, pf_key_set,
  pf_test,
} from './pf.js';
import { PF_SN_NAT, PF_SN_RDR, pf_map_addr_sticky } from './pf_src.js';
import { pf_refragment6 } from './pf_norm.js';
import { pf_translate_af_traced } from './pf_trace.js';
import { get16, get32, put16, put32 } from '../../wire/bytes.js';
import { pseudoSum6, sum16 } from '../../wire/checksum.js';
import type { Ifnet } from './if.js';
import { IFF_LOOPBACK } from './if.js';
import { IP_ALLOWBROADCAST, IP_FORWARDING, IP_FORWARDING_IPSEC, IP_REDIRECT, ip_randomid } from '../netinet/ip_output.js';
import { RT_RESOLVE, RTF_GATEWAY } from './route.js';
import type { Rtentry6 } from './route6.js';
import { ip6s_cantforward, ip6s_cantfrag, ip6s_noroute, ips_cantforward } from '../kern/counters.gen.js';

// ip6_output() flags (netinet6/ip6_var.h)
const IPV6_FORWARDING = 0x02;
const IPV6_REDIRECT = 0x08;
const IPV6_FORWARDING_IPSEC = 0x10;

/**
 * The network layer functions pf_af calls, set on the kernel's pf by
 * pf_open() (pf_ioctl.ts): imported here, ip_input and netinet6 would
 * close import cycles through the protocols (pf.ts is imported by them).
 */
export interface PfNetOutput {
  ip_forward(k: Kernel, m: Mbuf, ifp: Ifnet, flags: number): void;
  ip6_forward(k: Kernel, m: Mbuf, flags: number): void;
  icmp6_error(k: Kernel, m: Mbuf, type: number, code: number, param: number): void;
  ip6_send_if(k: Kernel, ifp: Ifnet, m: Mbuf, nexthop: Uint8Array, nho: number, rt: Rtentry6 | null): number;
  rt6_match(k: Kernel, b: Uint8Array, o: number, flags: number): Rtentry6 | null;
  rt6isvalid(rt: Rtentry6 | null): boolean;
  /** the IPv6 segments pf_send_tcp builds (synproxy) */
  ip6_send(k: Kernel, m: Mbuf): void;
  /** the checksums a locally generated packet pf_route6 takes still owes */
  in6_proto_cksum_out(k: Kernel, m: Mbuf): void;
  /** pf_refragment6's fragments */
  ip6_fragment(k: Kernel, m0: Mbuf, ml: MbufList, hlen: number, nextproto: number, mtu: number): number;
}

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;
const IPV6_DEFHLIM = 64;

/** The state translates between families (its keys have different af); packets out never match it. */
export const PFSTATE_AFTO = 0x8000;

/** Per-kernel scratch of the translation (no allocation per packet). */
export class PfAfScratch {
  /** address bytes: the source of an embedding, its prefix, the result */
  readonly s = new Uint8Array(16);
  readonly p = new Uint8Array(16);
  readonly d = new Uint8Array(16);
  // an ICMP error's translation, from pf_icmp_error_afto to pf_translate_af
  /** quoted IP header and its transport header (absolute offsets), protocol, TTL, total length */
  qip = 0;
  qth = 0;
  qproto = 0;
  qttl = 0;
  qtot = 0;
  /** the quoted packet's new addresses (four words each) and ports (ICMP echo: qsport is the id) */
  qs0 = 0; qs1 = 0; qs2 = 0; qs3 = 0;
  qd0 = 0; qd1 = 0; qd2 = 0; qd3 = 0;
  qsport = 0;
  qdport = 0;
  /** pf_route6's next hop */
  readonly nh = new Uint8Array(16);
  /** the outer ICMP header's new type, code and bytes 4..7 */
  itype = 0;
  icode = 0;
  irest = 0;
}

/** ICMP and ICMPv6 swap across families. */
export function pf_afto_proto(p: number): number {
  return p === IPPROTO_ICMP ? IPPROTO_ICMPV6 : p === IPPROTO_ICMPV6 ? IPPROTO_ICMP : p;
}

/* ------------------------------------------------------------------ */
/* addresses (inet_nat64.c)                                            */

/** The length of a contiguous netmask given as four words (no allocation: one per new af-to state). */
export function maskLen(m0: number, m1: number, m2: number, m3: number): number {
  // Math.clz32(~w): the leading ones of w (32 when all are)
  if ((m0 | 0) !== -1) return Math.clz32(~m0);
  if ((m1 | 0) !== -1) return 32 + Math.clz32(~m1);
  if ((m2 | 0) !== -1) return 64 + Math.clz32(~m2);
  return 96 + Math.clz32(~m3);
}

/** inet_nat64_mask(): the low bits of src under the prefix pfx/plen. */
function nat64_mask(src: number, pfx: number, plen: number): number {
  if (plen === 0) return src | 0;
  if (plen > 32) plen = 32;
  const m = -1 << (32 - plen);
  return (src & ~m) | (pfx & m);
}

function putWords(b: Uint8Array, w0: number, w1: number, w2: number, w3: number): void {
  put32(b, 0, w0 >>> 0);
  put32(b, 4, w1 >>> 0);
  put32(b, 8, w2 >>> 0);
  put32(b, 12, w3 >>> 0);
}

/** inet_nat64_inet(): the IPv4 address embedded in s at prefix length plen (RFC 6052); null when plen is not one. */
function nat64_inet(s: Uint8Array, p: Uint8Array, plen: number): number | null {
  switch (plen) {
    case 32: case 40: case 48: case 56: case 64: case 96: {
      let i = plen >>> 3;
      let v = 0;
      for (let j = 0; j < 4; j++) {
        if (i === 8) i++;
        v = (v << 8) | s[i++]!;
      }
      return v | 0;
    }
    default:
      if (plen < 96 || plen > 128) return null;
      return nat64_mask(get32(s, 12), get32(p, 12), 32 - (128 - plen));
  }
}

/** inet_nat64_inet6(): IPv4 address v embedded in the prefix p/plen, into d; false when plen is not one. */
function nat64_inet6(v: number, p: Uint8Array, plen: number, d: Uint8Array): boolean {
  d.set(p);
  switch (plen) {
    case 32: case 40: case 48: case 56: case 64: case 96: {
      let i = plen >>> 3;
      d[8] = 0;
      for (let j = 0; j < 4; j++) {
        if (i === 8) i++;
        d[i++] = (v >>> (24 - 8 * j)) & 0xff;
      }
      return true;
    }
    default:
      if (plen < 96 || plen > 128) return false;
      put32(d, 12, nat64_mask(v, get32(p, 12), 32 - (128 - plen)) >>> 0);
      return true;
  }
}

/** Is the stack key (naf) with this translated source port taken? */
function afKeyTaken(pf: Pf, pd: PfPdesc, d: Uint8Array, dport: number, port: number): boolean {
  const n = pf.naddr;
  pf_key_set(pf.sk, 0, pd.naf, pf_afto_proto(pd.proto), pd.rdomain,
    get32(d, 0) | 0, get32(d, 4) | 0, get32(d, 8) | 0, get32(d, 12) | 0, dport, n[0]!, n[1]!, n[2]!, n[3]!, port);
  return pf_find_key(pf) >= 0;
}

/**
 * pf_get_transaddr_af(): the addresses and ports of the packet in the
 * other family pd.naf (pd.ns*, pd.nd*, nsport, ndport); -1 when there are
 * none (the caller counts `translate`).
 */
export function pf_get_transaddr_af(pf: Pf, r: KRule, pd: PfPdesc): number {
  if (!r.natSet) return -1;
  // a fragment (IPv6 ones are not reassembled) or an ICMP error without its state: nothing to translate with
  if (pd.virtual_proto === PF_VPROTO_FRAGMENT || pd.state_icmp) return -1;
  const x = pf.afs;
  const naf = pd.naf;
  const oaf = pd.af;
  let icmpq = false;
  let ndport = pd.ndport;
  if (pd.proto === IPPROTO_ICMPV6 || pd.proto === IPPROTO_ICMP) {
    // queries: echo only (RFC 7915 drops the others)
    if (pd.icmptype !== (oaf === AF_INET6 ? 128 : 8)) return -1;
    ndport = naf === AF_INET ? 8 : 128;
    icmpq = true;
  }
  const n = pf.naddr;
  // the source: the nat pool's address in the other family (pf_get_sport's pf_map_addr); a sticky-address pool
  // remembers it by the packet's source taken as an address of the other family, as pf_lb.c does (from IPv6 to
  // IPv4: its first 32 bits)
  n.fill(0);
  pd.af = naf;
  let ok = pf_map_addr_sticky(pf, r, r.nat, PF_SN_NAT, pd, n, pd.ns0, pd.ns1, pd.ns2, pd.ns3);
  pd.af = oaf;
  if (!ok) return -1;
  const s0 = n[0]!;
  const s1 = n[1]!;
  const s2 = n[2]!;
  const s3 = n[3]!;
  // then the destination (its key is what the source port search looks up); a sticky rdr-to pool remembers it
  // by the translated source
  const d = x.d;
  if (r.rdrSet) {
    n.fill(0);
    pd.af = naf;
    ok = pf_map_addr_sticky(pf, r, r.rdr, PF_SN_RDR, pd, n, s0, s1, s2, s3);
    pd.af = oaf;
    if (!ok) return -1;
    if (r.rdr.proxyPort0 !== 0 && !icmpq) ndport = r.rdr.proxyPort0;
    if (naf === AF_INET) {
      // the low bits of the IPv6 destination under the IPv4 prefix
      d.fill(0);
      put32(d, 0, nat64_mask(pd.nd3, n[0]!, maskLen(r.rdr.addr.m0, 0, 0, 0)) >>> 0);
    } else {
      putWords(x.p, n[0]!, n[1]!, n[2]!, n[3]!);
      if (!nat64_inet6(pd.nd0, x.p, maskLen(r.rdr.addr.m0, r.rdr.addr.m1, r.rdr.addr.m2, r.rdr.addr.m3), d)) return -1;
    }
  } else if (naf === AF_INET) {
    // the IPv4 address embedded at the rule's destination prefix (96 below /32)
    let plen = maskLen(r.dst.m0, r.dst.m1, r.dst.m2, r.dst.m3);
    if (plen < 32) plen = 96;
    putWords(x.s, pd.nd0, pd.nd1, pd.nd2, pd.nd3);
    const v = nat64_inet(x.s, x.s, plen);
    if (v === null) return -1;
    d.fill(0);
    put32(d, 0, v >>> 0);
  }
  n[0] = s0;
  n[1] = s1;
  n[2] = s2;
  n[3] = s3;
  if (!r.rdrSet && naf === AF_INET6) {
    // IPv4 destination under the prefix of the source address (at most /96)
    let plen = maskLen(r.nat.addr.m0, r.nat.addr.m1, r.nat.addr.m2, r.nat.addr.m3);
    if (plen > 96) plen = 96;
    putWords(x.p, n[0]!, n[1]!, n[2]!, n[3]!);
    if (!nat64_inet6(pd.nd0, x.p, plen, d)) return -1;
  }
  // the source port (the echo id), as pf_get_sport: random start, up then down
  let lo = r.nat.proxyPort0;
  let hi = r.nat.proxyPort1;
  let nport = -1;
  if (icmpq) {
    lo = 1;
    hi = 65535;
  } else if (pd.proto !== IPPROTO_TCP && pd.proto !== IPPROTO_UDP) lo = hi = 0;
  if (lo === 0 && hi === 0) {
    if (!afKeyTaken(pf, pd, d, ndport, pd.nsport)) nport = pd.nsport;
  } else if (lo === hi) {
    if (!afKeyTaken(pf, pd, d, ndport, lo)) nport = lo;
  } else {
    if (lo > hi) {
      const t = lo;
      lo = hi;
      hi = t;
    }
    const cut = pf.k.random.arc4random_uniform(1 + hi - lo) + lo;
    for (let p = cut; p <= hi && nport < 0; p++) if (!afKeyTaken(pf, pd, d, ndport, p)) nport = p;
    for (let p = cut - 1; p >= lo && nport < 0; p--) if (!afKeyTaken(pf, pd, d, ndport, p)) nport = p;
  }
  if (nport < 0) {
    if (pf.debug >= 5) pf.k.printf(`pf: af-to NAT proxy port allocation (${r.nat.proxyPort0}-${r.nat.proxyPort1}) failed`);
    return -1;
  }
  pf.ctx_nr = r;
  if (r.natSet) pf.ctx_natpl = r;
  if (r.rdrSet) pf.ctx_rdrpl = r;
  pd.ns0 = n[0]!;
  pd.ns1 = n[1]!;
  pd.ns2 = n[2]!;
  pd.ns3 = n[3]!;
  pd.nsport = nport;
  pd.nd0 = get32(d, 0) | 0;
  pd.nd1 = get32(d, 4) | 0;
  pd.nd2 = get32(d, 8) | 0;
  pd.nd3 = get32(d, 12) | 0;
  pd.ndport = ndport;
  return 0;
}

/* ------------------------------------------------------------------ */
/* states                                                              */

/** The key of af-to state s in the family other than af: its offset in kd. */
function otherKey(pf: Pf, s: number, af: number): number {
  const o = pf.st.ko(2 * s);
  return (pf.st.kd[o + K_META]! & 0xff) === af ? pf.st.ko(2 * s + 1) : o;
}

/** The packet goes the state's way (its src peer sends): for af-to states, by the family it arrived in. */
export function pf_afto_reversed(pf: Pf, pd: PfPdesc, s: number): boolean {
  return (pf.st.kd[pf.st.ko(2 * s) + K_META]! & 0xff) !== pd.af;
}

/**
 * A packet of af-to state s (inbound, either family): its addresses and
 * ports in the other family, from the other key (index 1 the source, 0
 * the destination: both keys are inbound).
 */
export function pf_afto_state(pf: Pf, pd: PfPdesc, s: number): void {
  const kd = pf.st.kd;
  const o = otherKey(pf, s, pd.af);
  pd.naf = kd[o + K_META]! & 0xff;
  pd.nd0 = kd[o + K_A]!;
  pd.nd1 = kd[o + K_A + 1]!;
  pd.nd2 = kd[o + K_A + 2]!;
  pd.nd3 = kd[o + K_A + 3]!;
  pd.ns0 = kd[o + K_B]!;
  pd.ns1 = kd[o + K_B + 1]!;
  pd.ns2 = kd[o + K_B + 2]!;
  pd.ns3 = kd[o + K_B + 3]!;
  pd.ndport = kd[o + K_PORTS]! >>> 16;
  pd.nsport = kd[o + K_PORTS]! & 0xffff;
}

/**
 * An ICMP error about a packet of af-to state s (found from the quoted
 * header at ip2, its transport header at t2): the outer type and code in
 * the other family, the quoted packet's addresses and ports as it was
 * there, the outer addresses (from IPv4, the error's source is kept in
 * the low 32 bits of the IPv6 source, as OpenBSD keeps traceroute
 * working).  Returns s; pf.ctx_reason -2 (pass) or `translate`.
 */
export function pf_icmp_error_afto(pf: Pf, pd: PfPdesc, s: number, ip2: number, t2: number, p2: number): number {
  const x = pf.afs;
  const b = pd.m.buf;
  if (!pf_icmp_af_type(x, pd.af, pd.icmptype, pd.icmpcode, get32(b, pd.thoff + 4))) {
    REASON_SET(pf, PFRES_TRANSLATE);
    return s;
  }
  const kd = pf.st.kd;
  const o = otherKey(pf, s, pd.af);
  const naf = kd[o + K_META]! & 0xff;
  x.qip = ip2;
  x.qth = t2;
  x.qproto = p2;
  if (pd.af === AF_INET) {
    x.qttl = b[ip2 + 8]!;
    x.qtot = get16(b, ip2 + 2);
  } else {
    x.qttl = b[ip2 + 7]!;
    x.qtot = 40 + get16(b, ip2 + 4);
  }
  // the quoted packet went out the other way: its source at index 0 of the other key
  x.qs0 = kd[o + K_A]!; x.qs1 = kd[o + K_A + 1]!; x.qs2 = kd[o + K_A + 2]!; x.qs3 = kd[o + K_A + 3]!;
  x.qd0 = kd[o + K_B]!; x.qd1 = kd[o + K_B + 1]!; x.qd2 = kd[o + K_B + 2]!; x.qd3 = kd[o + K_B + 3]!;
  const ports = kd[o + K_PORTS]!;
  if (p2 === IPPROTO_ICMP || p2 === IPPROTO_ICMPV6) {
    // the echo id is the requester's port: the quoted source of a request, the destination of a reply
    const req = b[t2] === (pd.af === AF_INET ? 8 : 128);
    x.qsport = req ? ports >>> 16 : ports & 0xffff;
    x.qdport = 0;
  } else {
    x.qsport = ports >>> 16;
    x.qdport = ports & 0xffff;
  }
  pd.naf = naf;
  pd.ns0 = x.qd0; pd.ns1 = x.qd1; pd.ns2 = x.qd2; pd.ns3 = x.qd3;
  if (naf === AF_INET6) pd.ns3 = pd.s0;
  pd.nd0 = x.qs0; pd.nd1 = x.qs1; pd.nd2 = x.qs2; pd.nd3 = x.qs3;
  pf.ctx_reason = -2;
  return s;
}

/**
 * pf_translate_icmp_af(): type, code and bytes 4..7 of an ICMP message
 * of family af in the other family (RFC 7915), into x; false when it has
 * no translation.
 */
function pf_icmp_af_type(x: PfAfScratch, af: number, type: number, code: number, rest: number): boolean {
  let ptr = -1;
  let mtu = rest >>> 0;
  if (af === AF_INET6) {
    switch (type) {
      case 128: type = 8; break;
      case 129: type = 0; break;
      case 1: // destination unreachable
        type = 3;
        if (code === 0 || code === 2 || code === 3) code = 1;
        else if (code === 1) code = 10;
        else if (code === 4) code = 3;
        else return false;
        break;
      case 2: // packet too big: need fragmentation, the IPv4 MTU
        type = 3;
        code = 4;
        mtu = (mtu - 20) >>> 0;
        break;
      case 3:
        type = 11;
        break;
      case 4: // parameter problem
        if (code === 0) {
          type = 12;
          code = 0;
          const p = mtu;
          if (p === 0) ptr = 0;
          else if (p === 1) ptr = 1;
          else if (p === 4 || p === 5) ptr = 2;
          else if (p === 6) ptr = 9;
          else if (p === 7) ptr = 8;
          else if (p >= 8 && p < 24) ptr = 12;
          else if (p >= 24 && p < 40) ptr = 16;
          else return false;
        } else if (code === 1) {
          type = 3;
          code = 2;
        } else return false;
        break;
      default:
        return false;
    }
    x.irest = ptr >= 0 ? (ptr << 24) >>> 0 : mtu;
  } else {
    mtu = rest & 0xffff;
    switch (type) {
      case 8: type = 128; break;
      case 0: type = 129; break;
      case 3: // unreachable
        type = 1;
        switch (code) {
          case 0: case 1: case 6: case 7: case 8: case 11: case 12:
            code = 0;
            break;
          case 3:
            code = 4;
            break;
          case 9: case 10: case 13: case 15:
            code = 1;
            break;
          case 2: // protocol unreachable: parameter problem at the next header
            type = 4;
            code = 1;
            ptr = 6;
            break;
          case 4: // need fragmentation: packet too big, the IPv6 MTU
            type = 2;
            code = 0;
            mtu = (mtu + 20) & 0xffff;
            break;
          default:
            return false;
        }
        break;
      case 11:
        type = 3;
        break;
      case 12: {
        type = 4;
        if (code !== 0 && code !== 2) return false;
        code = 0;
        const p = rest >>> 24;
        if (p === 0 || p === 1) ptr = p;
        else if (p === 2 || p === 3) ptr = 4;
        else if (p === 8) ptr = 7;
        else if (p === 9) ptr = 6;
        else if (p >= 12 && p < 16) ptr = 8;
        else if (p >= 16 && p < 20) ptr = 24;
        else return false;
        break;
      }
      default:
        return false;
    }
    x.irest = ptr >= 0 ? ptr : ((rest & 0xffff0000) | mtu) >>> 0;
  }
  x.itype = type;
  x.icode = code;
  return true;
}

/* ------------------------------------------------------------------ */
/* the packet                                                          */

/** One's complement: add a 32-bit word as two 16-bit ones. */
function addw(acc: number, w: number): number {
  return acc + (w >>> 16) + (w & 0xffff);
}

/** One's complement: subtract a 32-bit word. */
function subw(acc: number, w: number): number {
  const n = ~w >>> 0;
  return acc + (n >>> 16) + (n & 0xffff);
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return acc;
}

/** Write the new network header of family naf at m.off (payload dlen, protocol proto) from pd.ns/nd. */
function writeHeader(k: Kernel, pd: PfPdesc, b: Uint8Array, o: number, naf: number, proto: number, dlen: number): void {
  if (naf === AF_INET) {
    b[o] = 0x45;
    b[o + 1] = pd.tos;
    put16(b, o + 2, 20 + dlen);
    put16(b, o + 4, ip_randomid(k));
    put16(b, o + 6, 0x4000);
    b[o + 8] = pd.ttl;
    b[o + 9] = proto;
    put16(b, o + 10, 0);
    put32(b, o + 12, pd.ns0 >>> 0);
    put32(b, o + 16, pd.nd0 >>> 0);
    put16(b, o + 10, ~sum16(b, o, 20) & 0xffff);
  } else {
    put32(b, o, (0x60000000 | (pd.tos << 20)) >>> 0);
    put16(b, o + 4, dlen);
    b[o + 6] = proto;
    b[o + 7] = pd.ttl === 0 || pd.ttl > IPV6_DEFHLIM ? IPV6_DEFHLIM : pd.ttl;
    put32(b, o + 8, pd.ns0 >>> 0);
    put32(b, o + 12, pd.ns1 >>> 0);
    put32(b, o + 16, pd.ns2 >>> 0);
    put32(b, o + 20, pd.ns3 >>> 0);
    put32(b, o + 24, pd.nd0 >>> 0);
    put32(b, o + 28, pd.nd1 >>> 0);
    put32(b, o + 32, pd.nd2 >>> 0);
    put32(b, o + 36, pd.nd3 >>> 0);
  }
}

/** A quoted header of family naf at o (the quoted packet's new addresses in x). */
function writeQuoted(k: Kernel, x: PfAfScratch, b: Uint8Array, o: number, naf: number, qhl: number): void {
  const proto = pf_afto_proto(x.qproto);
  if (naf === AF_INET) {
    b[o] = 0x45;
    b[o + 1] = 0;
    put16(b, o + 2, (20 + x.qtot - qhl) & 0xffff);
    put16(b, o + 4, ip_randomid(k));
    put16(b, o + 6, 0x4000);
    b[o + 8] = x.qttl;
    b[o + 9] = proto;
    put16(b, o + 10, 0);
    put32(b, o + 12, x.qs0 >>> 0);
    put32(b, o + 16, x.qd0 >>> 0);
    put16(b, o + 10, ~sum16(b, o, 20) & 0xffff);
  } else {
    put32(b, o, 0x60000000);
    put16(b, o + 4, (x.qtot - qhl) & 0xffff);
    b[o + 6] = proto;
    b[o + 7] = x.qttl === 0 || x.qttl > IPV6_DEFHLIM ? IPV6_DEFHLIM : x.qttl;
    put32(b, o + 8, x.qs0 >>> 0);
    put32(b, o + 12, x.qs1 >>> 0);
    put32(b, o + 16, x.qs2 >>> 0);
    put32(b, o + 20, x.qs3 >>> 0);
    put32(b, o + 24, x.qd0 >>> 0);
    put32(b, o + 28, x.qd1 >>> 0);
    put32(b, o + 32, x.qd2 >>> 0);
    put32(b, o + 36, x.qd3 >>> 0);
  }
}

function afDrop(pf: Pf, m: Mbuf, reason: number, why: string): false {
  REASON_SET(pf, reason);
  if (pf.k.trace !== null) pf.k.trace.drop(pf.k, m, `pf_translate_af: ${why}`);
  m.free();
  return false;
}

/**
 * pf_translate_af(): replace the network header of pd.m by one of family
 * pd.naf (pd.ns/nd), translating the transport header; false when the
 * packet was dropped (counted, freed).
 */
export function pf_translate_af(pf: Pf, pd: PfPdesc): boolean {
  const k = pf.k;
  const m = pd.m;
  const af = pd.af;
  const naf = pd.naf;
  const proto = pd.proto;
  const nproto = pf_afto_proto(proto);
  m.truncate(pd.ipoff - m.off + pd.tot_len);
  const ohl = pd.thoff - pd.ipoff;
  const dlen = pd.tot_len - ohl;
  const nhl = naf === AF_INET ? 20 : 40;
  let b = m.buf;
  const t = pd.thoff;
  if (pd.state_icmp) return pf_translate_icmp_error_af(pf, pd, ohl, dlen, nhl);
  let csum = -1;
  if (proto === IPPROTO_TCP) csum = t + 16;
  else if (proto === IPPROTO_UDP) csum = get16(b, t + 6) !== 0 ? t + 6 : -1;
  else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) csum = t + 2;
  let acc = csum >= 0 ? ~get16(b, csum) & 0xffff : 0;
  const o = pd.ipoff;
  // uncover the old pseudo-header (ICMP has none; TCP/UDP's length and protocol sum the same in both)
  if (csum >= 0 && proto !== IPPROTO_ICMP) {
    if (af === AF_INET) acc = subw(subw(acc, get32(b, o + 12)), get32(b, o + 16));
    else for (let i = 8; i < 40; i += 4) acc = subw(acc, get32(b, o + i));
    if (proto === IPPROTO_ICMPV6) acc = subw(subw(acc, IPPROTO_ICMPV6), dlen);
  }
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
    const sp = get16(b, t);
    const dp = get16(b, t + 2);
    put16(b, t, pd.nsport);
    put16(b, t + 2, pd.ndport);
    acc = addw(subw(acc, (sp << 16) | dp), ((pd.nsport << 16) | pd.ndport) >>> 0);
  } else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    // echo request/reply: the type in the other family, the id of the state
    const ty = b[t]!;
    const nty = proto === IPPROTO_ICMP ? (ty === 8 ? 128 : ty === 0 ? 129 : -1) : ty === 128 ? 8 : ty === 129 ? 0 : -1;
    if (nty < 0) return afDrop(pf, m, PFRES_TRANSLATE, `icmp type ${ty} has no translation`);
    const id = get16(b, t + 4);
    const nid = pd.icmp_dir === PF_IN ? pd.nsport : pd.ndport;
    const w0 = get16(b, t);
    b[t] = nty;
    put16(b, t + 4, nid);
    acc = addw(subw(acc, (w0 << 16) | id), ((get16(b, t) << 16) | nid) >>> 0);
  }
  // the new header
  m.adj(ohl);
  if (!m.prepend(nhl)) return afDrop(pf, m, PFRES_MEMORY, 'no room for the header');
  b = m.buf;
  const no = m.off;
  writeHeader(k, pd, b, no, naf, nproto, dlen);
  const nt = no + nhl;
  if (csum >= 0) {
    // cover the new pseudo-header
    if (nproto !== IPPROTO_ICMP) {
      if (naf === AF_INET) acc = addw(addw(acc, get32(b, no + 12)), get32(b, no + 16));
      else for (let i = 8; i < 40; i += 4) acc = addw(acc, get32(b, no + i));
      if (nproto === IPPROTO_ICMPV6) acc = addw(addw(acc, IPPROTO_ICMPV6), dlen);
    }
    let c = ~fold(acc) & 0xffff;
    if (nproto === IPPROTO_UDP && c === 0) c = 0xffff;
    put16(b, nt + (csum - t), c);
  } else if (nproto === IPPROTO_UDP && naf === AF_INET6) {
    // UDP over IPv6 must be checksummed
    put16(b, nt + 6, 0);
    let c = ~sum16(b, nt, dlen, pseudoSum6(b, no + 8, no + 24, IPPROTO_UDP, dlen)) & 0xffff;
    if (c === 0) c = 0xffff;
    put16(b, nt + 6, c);
  }
  m.csum_flags = 0;
  pd.ipoff = no;
  pd.thoff = nt;
  pd.tot_len = nhl + dlen;
  return true;
}

/**
 * An ICMP error in the other family: the outer header, the ICMP header
 * (type, code, MTU or pointer from pf_icmp_error_afto), the quoted header
 * and the quoted ports or echo type and id; the checksum is verified
 * first and computed again.
 */
function pf_translate_icmp_error_af(pf: Pf, pd: PfPdesc, ohl: number, dlen: number, nhl: number): boolean {
  const k = pf.k;
  const m = pd.m;
  const x = pf.afs;
  let b = m.buf;
  const o = pd.ipoff;
  const t = pd.thoff;
  const init = pd.af === AF_INET6 ? pseudoSum6(b, o + 8, o + 24, IPPROTO_ICMPV6, dlen) : 0;
  if (sum16(b, t, dlen, init) !== 0xffff) return afDrop(pf, m, PFRES_PROTCKSUM, 'bad icmp checksum');
  const qt = x.qth;
  const end = o + pd.tot_len;
  if (x.qproto === IPPROTO_TCP || x.qproto === IPPROTO_UDP) {
    if (qt + 4 <= end) {
      put16(b, qt, x.qsport);
      put16(b, qt + 2, x.qdport);
    }
  } else if (x.qproto === IPPROTO_ICMP || x.qproto === IPPROTO_ICMPV6) {
    if (qt + 8 <= end) {
      const ty = b[qt]!;
      b[qt] = x.qproto === IPPROTO_ICMP ? (ty === 8 ? 128 : 129) : ty === 128 ? 8 : 0;
      put16(b, qt + 4, x.qsport);
    }
  }
  const qhl = qt - x.qip;
  const nqhl = pd.naf === AF_INET ? 20 : 40;
  const front = qt - m.off;
  const rest = m.len - front;
  void ohl;
  m.adj(front);
  if (!m.prepend(nhl + 8 + nqhl)) return afDrop(pf, m, PFRES_MEMORY, 'no room for the headers');
  b = m.buf;
  const no = m.off;
  const ndlen = 8 + nqhl + rest;
  const nproto = pd.naf === AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
  writeHeader(k, pd, b, no, pd.naf, nproto, ndlen);
  const nt = no + nhl;
  b[nt] = x.itype;
  b[nt + 1] = x.icode;
  put16(b, nt + 2, 0);
  put32(b, nt + 4, x.irest);
  writeQuoted(k, x, b, nt + 8, pd.naf, qhl);
  const ps = pd.naf === AF_INET6 ? pseudoSum6(b, no + 8, no + 24, IPPROTO_ICMPV6, ndlen) : 0;
  put16(b, nt + 2, ~sum16(b, nt, ndlen, ps) & 0xffff);
  m.csum_flags = 0;
  pd.ipoff = no;
  pd.thoff = nt;
  pd.tot_len = nhl + ndlen;
  return true;
}

/**
 * The PF_AFRT action of pf_test(): translate the packet and forward it
 * in the other family (ip_forward/ip6_forward, as an inbound packet of
 * that family would be; pf does not see it again: PF_TAG_GENERATED).
 * how names the af-to in a journey (pf_afto_how; with a tracer only).
 */
export function pf_afrt(pf: Pf, pd: PfPdesc, how: string): void {
  const k = pf.k;
  if (k.trace !== null) {
    k.trace.fn(k, pd.m, 'pf_translate_af', pd.kif.if_xname, pd.naf === AF_INET ? 'af-to inet' : 'af-to inet6');
    if (!pf_translate_af_traced(pf, pd, how)) return;
  } else if (!pf_translate_af(pf, pd)) return;
  const m = pd.m;
  const net = pf.netout!;
  m.pf_flags |= PF_TAG_GENERATED;
  if (pd.naf === AF_INET) {
    const fw = k.inet.ipforwarding.value;
    if (fw === 0) {
      k.stats.ipstat.inc(ips_cantforward);
      if (k.trace !== null) k.trace.drop(k, m, 'pf_translate_af: net.inet.ip.forwarding is 0, ips_cantforward');
      m.free();
      return;
    }
    let flags = IP_REDIRECT | IP_FORWARDING;
    if (fw === 2) flags |= IP_FORWARDING_IPSEC;
    if (k.inet.ipdirectedbcast.value !== 0) flags |= IP_ALLOWBROADCAST;
    if (k.trace !== null)
      k.trace.branch(k, m, 'pf_translate_af: now %a → %a, ip_forward', '', pd.ns0 >>> 0, pd.nd0 >>> 0);
    net.ip_forward(k, m, pd.kif, flags);
  } else {
    const fw = k.inet6.ip6_forwarding.value;
    if (fw === 0) {
      k.stats.ip6stat.inc(ip6s_cantforward);
      if (k.trace !== null) k.trace.drop(k, m, 'pf_translate_af: net.inet6.ip6.forwarding is 0, ip6s_cantforward');
      m.free();
      return;
    }
    let flags = IPV6_REDIRECT | IPV6_FORWARDING;
    if (fw === 2) flags |= IPV6_FORWARDING_IPSEC;
    if (k.trace !== null) k.trace.branch(k, m, 'pf_translate_af: now IPv6, ip6_forward');
    net.ip6_forward(k, m, flags);
  }
}

/* ------------------------------------------------------------------ */
/* route-to, reply-to, dup-to over IPv6                                */

/** IN6_IS_ADDR_LOOPBACK(): ::1 at b[o]. */
function isLoopback6(b: Uint8Array, o: number): boolean {
  for (let i = 0; i < 15; i++) if (b[o + i] !== 0) return false;
  return b[o + 15] === 1;
}

/**
 * pf_route6(): send the packet of state s to its route-to/reply-to next
 * hop (taken: null), or a copy to its dup-to next hop (the original goes
 * on).  Inbound packets lose a hop (time exceeded at the end), take pf_test
 * OUT on the new interface; no route is answered with destination
 * unreachable (ip6s_noroute), a packet over the link MTU with packet too
 * big (ip6s_cantfrag): IPv6 routers do not fragment.
 */
export function pf_route6(pf: Pf, pd: PfPdesc, s: number): Mbuf | null {
  const k = pf.k;
  const m = pd.m;
  const net = pf.netout!;
  const sc = pf.st.sc;
  const rtype = sc[s * SC_N + SC_RTIF]!;
  const dup = rtype === PF_DUPTO;
  const dir = pd.dir;
  if (m.pf_routed++ > 3) {
    // a routing loop through route-to rules
    if (k.trace !== null) k.trace.drop(k, m, 'pf_route6: routed more than 3 times');
    m.free();
    return null;
  }
  let m0: Mbuf;
  if (dup) {
    const c = m.dup();
    if (c === null) return m;
    m0 = c;
    if (k.trace !== null) k.trace.caused(m0, 'pf_route6: dup-to');
  } else {
    if ((rtype === PF_REPLYTO) === (pf.st.si[s * ST_N + ST_DIR] === dir)) return m;
    m0 = m;
  }
  if (k.trace !== null) k.trace.fn(k, m0, 'pf_route6', '', dup ? 'dup-to' : rtype === PF_REPLYTO ? 'reply-to' : 'route-to');
  const b = m0.buf;
  const o = m0.off;
  if (dir === PF_IN) {
    if (b[o + 7]! <= 1) {
      if (!dup) {
        m0.pf_flags |= PF_TAG_GENERATED;
        if (k.trace !== null) k.trace.branch(k, m0, 'pf_route6: hop limit exceeded → time exceeded');
        net.icmp6_error(k, m0, 3, 0, 0);
      } else m0.free(); // not a drop: the copy of dup-to is not sent
      return dup ? m : null;
    }
    b[o + 7]!--;
  }
  const nh = pf.afs.nh;
  put32(nh, 0, sc[s * SC_N + SC_RTADDR]! >>> 0);
  put32(nh, 4, sc[s * SC_N + SC_RTADDR6]! >>> 0);
  put32(nh, 8, sc[s * SC_N + SC_RTADDR6 + 1]! >>> 0);
  put32(nh, 12, sc[s * SC_N + SC_RTADDR6 + 2]! >>> 0);
  const rt = net.rt6_match(k, nh, 0, RT_RESOLVE);
  if (rt === null || !net.rt6isvalid(rt)) {
    k.stats.ip6stat.inc(ip6s_noroute);
    if (k.trace !== null) k.trace.drop(k, m0, 'pf_route6: no route to the next hop, ip6s_noroute');
    if (!dup) {
      m0.pf_flags |= PF_TAG_GENERATED;
      net.icmp6_error(k, m0, 1, 0, 0);
    } else m0.free();
    return dup ? m : null;
  }
  const ifp = k.ifnets[rt.rt_ifidx];
  if (ifp === undefined) {
    // the route's interface went away: no route for the route-to action
    REASON_SET(pf, PFRES_NOROUTE);
    if (k.trace !== null) k.trace.drop(k, m0, 'pf_route6: the route\'s interface is gone, no-route');
    m0.free();
    return dup ? m : null;
  }
  // a locally generated packet may have the loopback source: give it the route's address (ip6_output lets it out of lo0)
  if (!(ifp.if_flags & IFF_LOOPBACK) && rt.rt_ifa !== null && isLoopback6(b, o + 8)) {
    b.set(rt.rt_ifa.addr, o + 8);
    if (k.trace !== null) k.trace.branch(k, m0, 'pf_route6: loopback source → the address of the route');
  }
  if (!dup && dir === PF_IN) {
    // the packet leaves by another interface: pf_test(OUT) there
    const n = pf_test(k, AF_INET6, PF_OUT, ifp, m0);
    if (n === null) return null;
    m0 = n;
  }
  const gw = rt.rt_flags & RTF_GATEWAY;
  // a datagram pf reassembled leaves as the fragments it came in
  if (m0.pf_ftag !== null) {
    pf_refragment6(pf, m0, ifp, gw ? rt.rt_gateway : nh, rt);
    return dup ? m : null;
  }
  if (m0.len > ifp.if_mtu) {
    k.stats.ip6stat.inc(ip6s_cantfrag);
    if (k.trace !== null) k.trace.drop(k, m0, `pf_route6: ${m0.len} bytes > mtu ${ifp.if_mtu} → packet too big, ip6s_cantfrag`);
    if (!dup) {
      m0.pf_flags |= PF_TAG_GENERATED;
      net.icmp6_error(k, m0, 2, 0, ifp.if_mtu);
    } else m0.free();
    return dup ? m : null;
  }
  // checksums the stack left to the output path (if_output_tso: after the source rewrite above)
  if (m0.csum_flags & (M_ICMP_CSUM_OUT | M_TCP_CSUM_OUT | M_UDP_CSUM_OUT)) net.in6_proto_cksum_out(k, m0);
  net.ip6_send_if(k, ifp, m0, gw ? rt.rt_gateway : nh, 0, rt);
  return dup ? m : null;
}
