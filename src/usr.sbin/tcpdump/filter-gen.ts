/**
 * Code generation for pcap-filter expressions, after libpcap's gencode.c.
 * Instead of BPF instructions it builds a small tree of tests (Block) over
 * arithmetic on packet loads (Arth); filter.ts turns the tree into one
 * JavaScript function.  Functions keep gencode.c's names so the two read
 * alike, and the order in which subtrees are combined (and therefore the
 * order packet bytes are read in) follows it too: as in BPF, a load past
 * the captured length rejects the whole packet.
 *
 * Like gencode.c, the generator carries link-layer offsets as mutable
 * state: "vlan" and "mpls" move every later network-layer offset by four
 * bytes, in the order the parser reduces primitives.
 */

import { parseIp6 } from '../../wire/addr.js';
import { bpfError } from './filter-lex.js';
import {
  IPPROTO_TCP,
  IPPROTO_UDP,
  PROTO_UNDEF,
  nameToEtherProto,
  nameToPort,
  nameToProto,
} from './filter-names.js';

// Data link types, with OpenBSD's numbering (net/bpf.h).
export const DLT_NULL = 0;
export const DLT_EN10MB = 1;
export const DLT_LOOP = 12;
export const DLT_ENC = 13;
export const DLT_RAW = 14;
export const DLT_PFLOG = 117;
/** pcap file link types that differ from OpenBSD's DLT numbers. */
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;

// Address qualifiers.
export const Q_HOST = 1;
export const Q_NET = 2;
export const Q_PORT = 3;
export const Q_GATEWAY = 4;
export const Q_PROTO = 5;
export const Q_PROTOCHAIN = 6;
export const Q_PORTRANGE = 7;

// Protocol qualifiers.
export const Q_LINK = 1;
export const Q_IP = 2;
export const Q_ARP = 3;
export const Q_RARP = 4;
export const Q_TCP = 5;
export const Q_UDP = 6;
export const Q_ICMP = 7;
export const Q_IGMP = 8;
export const Q_IGRP = 9;
export const Q_ATALK = 10;
export const Q_DECNET = 11;
export const Q_LAT = 12;
export const Q_SCA = 13;
export const Q_MOPRC = 14;
export const Q_MOPDL = 15;
export const Q_IPV6 = 16;
export const Q_ICMPV6 = 17;
export const Q_AH = 18;
export const Q_ESP = 19;
export const Q_PIM = 20;
export const Q_STP = 21;

// Direction qualifiers.
export const Q_SRC = 1;
export const Q_DST = 2;
export const Q_OR = 3;
export const Q_AND = 4;
export const Q_ADDR1 = 5;
export const Q_ADDR2 = 6;
export const Q_ADDR3 = 7;
export const Q_ADDR4 = 8;

export const Q_DEFAULT = 0;
export const Q_UNDEF = 255;

export interface Qual {
  proto: number;
  dir: number;
  addr: number;
}

export const QERR: Qual = { proto: Q_UNDEF, dir: Q_UNDEF, addr: Q_UNDEF };

const ETHERTYPE_IP = 0x0800;
const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_REVARP = 0x8035;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_ATALK = 0x809b;
const ETHERTYPE_DN = 0x6003;
const ETHERTYPE_LAT = 0x6004;
const ETHERTYPE_SCA = 0x6007;
const ETHERTYPE_MOPDL = 0x6001;
const ETHERTYPE_MOPRC = 0x6002;
const ETHERTYPE_8021Q = 0x8100;
const ETHERTYPE_8021AD = 0x88a8;
const ETHERTYPE_QINQ = 0x9100;
const ETHERTYPE_MPLS = 0x8847;
const LLCSAP_8021D = 0x42;
const ETHERMTU = 1500;

const AF_INET = 2;
/** AF_INET6 as OpenBSD/NetBSD, FreeBSD and Darwin write it into null/loop headers. */
const AF_INET6_ALL = [24, 28, 30];
const AF_INET6 = 24;

const IPPROTO_ICMP = 1;
const IPPROTO_IGMP = 2;
const IPPROTO_IGRP = 9;
const IPPROTO_ESP = 50;
const IPPROTO_AH = 51;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_PIM = 103;

// pfloghdr field offsets (net/if_pflog.h).
const PFLOG_AF = 1;
const PFLOG_ACTION = 2;
const PFLOG_REASON = 3;
const PFLOG_IFNAME = 4;
const PFLOG_RULESET = 20;
const PFLOG_RULENR = 36;
const PFLOG_SUBRULENR = 40;
const PFLOG_DIR = 60;
const IFNAMSIZ = 16;
const PFLOG_RULESET_NAME_SIZE = 16;

const PFRES_NAMES = [
  'match', 'bad-offset', 'fragment', 'short', 'normalize', 'memory', 'bad-timestamp', 'congestion',
  'ip-option', 'proto-cksum', 'state-mismatch', 'state-insert', 'state-limit', 'src-limit', 'synproxy',
  'translate', 'no-route',
];

export type AluOp = 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'and' | 'or' | 'xor' | 'lsh' | 'rsh';

/**
 * A 32-bit unsigned value.  A load reads `size` bytes (big endian) at
 * start + off + idx, where start is `base` (plus the variable network-layer
 * offset when `varNl`), and, when `tp`, plus four times the IPv4 header
 * length nibble found at that start.
 */
export type Arth =
  | { k: 'imm'; v: number }
  | { k: 'len' }
  | { k: 'rnd' }
  | { k: 'ld'; varNl: boolean; tp: boolean; base: number; off: number; size: 1 | 2 | 4; idx: Arth | null }
  | { k: 'alu'; op: AluOp; a: Arth; b: Arth }
  | { k: 'neg'; a: Arth };

/** A test.  `set` is BPF's jset: (a & b) != 0. */
export type Block =
  | { k: 'const'; v: boolean }
  | { k: 'and'; a: Block; b: Block }
  | { k: 'or'; a: Block; b: Block }
  | { k: 'not'; a: Block }
  | { k: 'cmp'; op: 'eq' | 'gt' | 'ge' | 'set'; a: Arth; b: Arth }
  | { k: 'protochain'; v6: boolean; base: number; proto: number };

/** An arithmetic value and the protocol checks that must hold before it is loaded (gencode's struct arth). */
export interface ArthExpr {
  a: Arth;
  b: Block | null;
}

export const TRUE: Block = { k: 'const', v: true };
export const FALSE: Block = { k: 'const', v: false };

export function gen_and(a: Block, b: Block): Block {
  return { k: 'and', a, b };
}

export function gen_or(a: Block, b: Block): Block {
  return { k: 'or', a, b };
}

export function gen_not(a: Block): Block {
  return { k: 'not', a };
}

function imm(v: number): Arth {
  return { k: 'imm', v: v >>> 0 };
}

function hex(n: number): string {
  return (n >>> 0).toString(16);
}

/** __pcap_atoin(): dotted decimal text to an address and the number of bits given. */
function atoin(s: string): { addr: number; len: number } {
  let addr = 0;
  let len = 0;
  let i = 0;
  while (true) {
    let n = 0;
    while (i < s.length && s[i] !== '.') n = (Math.imul(n, 10) + s.charCodeAt(i++) - 0x30) >>> 0;
    addr = ((addr << 8) | (n & 0xff)) >>> 0;
    len += 8;
    if (i >= s.length) return { addr, len };
    i++;
  }
}

/** pcap_ether_aton(): "a:b:c:d:e:f" (hex octets) to six bytes. */
export function etherAton(s: string): Uint8Array {
  const out = new Uint8Array(6);
  const parts = s.split(':');
  for (let i = 0; i < 6; i++) out[i] = parseInt(parts[i]!, 16) & 0xff;
  return out;
}

export interface GenOptions {
  /** Network mask for "ip broadcast"; OpenBSD's tcpdump passes 0 when reading a file. */
  netmask: number;
}

/** The generator for one expression and link type (gencode.c's file-level state). */
export class Gen {
  readonly linktype: number;
  private offLinktype: number;
  private offNl: number;
  private readonly variableNl: boolean;
  private mplsStack = 0;
  private readonly netmask: number;

  constructor(linktype: number, opts: GenOptions) {
    this.netmask = opts.netmask >>> 0;
    if (linktype === LINKTYPE_RAW) linktype = DLT_RAW;
    if (linktype === LINKTYPE_LOOP) linktype = DLT_LOOP;
    this.linktype = linktype;
    this.variableNl = false;
    switch (linktype) {
      case DLT_EN10MB:
        this.offLinktype = 12;
        this.offNl = 14;
        break;
      case DLT_NULL:
      case DLT_LOOP:
        this.offLinktype = 0;
        this.offNl = 4;
        break;
      case DLT_ENC:
        this.offLinktype = -1;
        this.offNl = 12;
        break;
      case DLT_RAW:
        this.offLinktype = 0;
        this.offNl = 0;
        break;
      case DLT_PFLOG:
        this.offLinktype = 0;
        this.offNl = 0;
        this.variableNl = true;
        break;
      default:
        bpfError(`unknown data link type 0x${hex(linktype)}`);
    }
  }

  /** Does the code need the variable network-layer offset (pflog)? */
  get usesVariableNl(): boolean {
    return this.variableNl;
  }

  // ---- loads and comparisons ----

  private ld(off: number, size: 1 | 2 | 4): Arth {
    return { k: 'ld', varNl: false, tp: false, base: 0, off, size, idx: null };
  }

  /** A load relative to the network layer. */
  private ldNl(off: number, size: 1 | 2 | 4): Arth {
    return this.variableNl
      ? { k: 'ld', varNl: true, tp: false, base: 0, off, size, idx: null }
      : { k: 'ld', varNl: false, tp: false, base: 0, off: this.offNl + off, size, idx: null };
  }

  /** A load relative to the end of the IPv4 header (ldxb 4*([nl]&0xf)). */
  private ldTp(off: number, size: 1 | 2 | 4, idx: Arth | null = null): Arth {
    return { k: 'ld', varNl: this.variableNl, tp: true, base: this.variableNl ? 0 : this.offNl, off, size, idx };
  }

  private masked(a: Arth, mask: number): Arth {
    return (mask >>> 0) === 0xffffffff ? a : { k: 'alu', op: 'and', a, b: imm(mask) };
  }

  gen_cmp(offset: number, size: 1 | 2 | 4, v: number): Block {
    return { k: 'cmp', op: 'eq', a: this.ld(offset, size), b: imm(v) };
  }

  gen_cmp_gt(offset: number, size: 1 | 2 | 4, v: number): Block {
    return { k: 'cmp', op: 'gt', a: this.ld(offset, size), b: imm(v) };
  }

  gen_mcmp(offset: number, size: 1 | 2 | 4, v: number, mask: number): Block {
    return { k: 'cmp', op: 'eq', a: this.masked(this.ld(offset, size), mask), b: imm(v) };
  }

  gen_cmp_nl(offset: number, size: 1 | 2 | 4, v: number): Block {
    return { k: 'cmp', op: 'eq', a: this.ldNl(offset, size), b: imm(v) };
  }

  gen_mcmp_nl(offset: number, size: 1 | 2 | 4, v: number, mask: number): Block {
    if ((mask >>> 0) === 0) return TRUE;
    return { k: 'cmp', op: 'eq', a: this.masked(this.ldNl(offset, size), mask), b: imm(v) };
  }

  gen_bcmp(offset: number, bytes: Uint8Array): Block {
    let size = bytes.length;
    let b: Block | null = null;
    const add = (t: Block): void => {
      b = b ? gen_and(b, t) : t;
    };
    while (size >= 4) {
      const p = size - 4;
      add(this.gen_cmp(offset + p, 4, ((bytes[p]! << 24) | (bytes[p + 1]! << 16) | (bytes[p + 2]! << 8) | bytes[p + 3]!) >>> 0));
      size -= 4;
    }
    while (size >= 2) {
      const p = size - 2;
      add(this.gen_cmp(offset + p, 2, (bytes[p]! << 8) | bytes[p + 1]!));
      size -= 2;
    }
    if (size > 0) add(this.gen_cmp(offset, 1, bytes[0]!));
    return b ?? TRUE;
  }

  // ---- link layer ----

  gen_linktype(proto: number): Block {
    if ((this.offLinktype === -1 || this.mplsStack > 0) && (proto === ETHERTYPE_IP || proto === ETHERTYPE_IPV6)) {
      return TRUE;
    }
    switch (this.linktype) {
      case DLT_EN10MB:
        if (proto <= ETHERMTU) {
          // an LLC SAP value
          const b0 = gen_not(this.gen_cmp_gt(this.offLinktype, 2, ETHERMTU));
          return gen_and(b0, this.gen_cmp(this.offLinktype + 2, 1, proto));
        }
        return this.gen_cmp(this.offLinktype, 2, proto);
      case DLT_LOOP:
      case DLT_ENC:
      case DLT_NULL: {
        // DLT_LOOP holds the address family in network order, the others in host (little endian) order.
        const word = (af: number): number =>
          this.linktype === DLT_LOOP ? af : (((af & 0xff) << 24) | ((af >>> 8) & 0xff) << 16) >>> 0;
        if (proto === ETHERTYPE_IP) return this.gen_cmp(0, 4, word(AF_INET));
        if (proto === ETHERTYPE_IPV6) {
          let b = this.gen_cmp(0, 4, word(AF_INET6_ALL[0]!));
          for (let i = 1; i < AF_INET6_ALL.length; i++) b = gen_or(b, this.gen_cmp(0, 4, word(AF_INET6_ALL[i]!)));
          return b;
        }
        return FALSE;
      }
      case DLT_RAW: {
        const ipv = proto === ETHERTYPE_IP ? 4 : proto === ETHERTYPE_IPV6 ? 6 : 0;
        if (!ipv) return FALSE;
        return { k: 'cmp', op: 'eq', a: { k: 'alu', op: 'rsh', a: this.ld(this.offLinktype, 1), b: imm(4) }, b: imm(ipv) };
      }
      case DLT_PFLOG:
        if (proto === ETHERTYPE_IP) return this.gen_cmp(PFLOG_AF, 1, AF_INET);
        if (proto === ETHERTYPE_IPV6) return this.gen_cmp(PFLOG_AF, 1, AF_INET6);
        return FALSE;
    }
    return this.gen_cmp(this.offLinktype, 2, proto);
  }

  private dirError(): never {
    return bpfError(`direction not supported on linktype 0x${hex(this.linktype)}`);
  }

  gen_hostop(addr: number, mask: number, dir: number, proto: number, srcOff: number, dstOff: number): Block {
    let offset: number;
    switch (dir) {
      case Q_SRC:
        offset = srcOff;
        break;
      case Q_DST:
        offset = dstOff;
        break;
      case Q_AND:
        return gen_and(
          this.gen_hostop(addr, mask, Q_SRC, proto, srcOff, dstOff),
          this.gen_hostop(addr, mask, Q_DST, proto, srcOff, dstOff),
        );
      case Q_OR:
      case Q_DEFAULT:
        return gen_or(
          this.gen_hostop(addr, mask, Q_SRC, proto, srcOff, dstOff),
          this.gen_hostop(addr, mask, Q_DST, proto, srcOff, dstOff),
        );
      default:
        return this.dirError();
    }
    return gen_and(this.gen_linktype(proto), this.gen_mcmp_nl(offset, 4, addr & mask, mask));
  }

  gen_hostop6(addr: Uint8Array, mask: Uint8Array, dir: number, proto: number, srcOff: number, dstOff: number): Block {
    let offset: number;
    switch (dir) {
      case Q_SRC:
        offset = srcOff;
        break;
      case Q_DST:
        offset = dstOff;
        break;
      case Q_AND:
        return gen_and(
          this.gen_hostop6(addr, mask, Q_SRC, proto, srcOff, dstOff),
          this.gen_hostop6(addr, mask, Q_DST, proto, srcOff, dstOff),
        );
      case Q_OR:
      case Q_DEFAULT:
        return gen_or(
          this.gen_hostop6(addr, mask, Q_SRC, proto, srcOff, dstOff),
          this.gen_hostop6(addr, mask, Q_DST, proto, srcOff, dstOff),
        );
      default:
        return this.dirError();
    }
    const w = (b: Uint8Array, i: number): number =>
      ((b[4 * i]! << 24) | (b[4 * i + 1]! << 16) | (b[4 * i + 2]! << 8) | b[4 * i + 3]!) >>> 0;
    let b1 = this.gen_mcmp_nl(offset + 12, 4, w(addr, 3), w(mask, 3));
    b1 = gen_and(this.gen_mcmp_nl(offset + 8, 4, w(addr, 2), w(mask, 2)), b1);
    b1 = gen_and(this.gen_mcmp_nl(offset + 4, 4, w(addr, 1), w(mask, 1)), b1);
    b1 = gen_and(this.gen_mcmp_nl(offset, 4, w(addr, 0), w(mask, 0)), b1);
    return gen_and(this.gen_linktype(proto), b1);
  }

  gen_ehostop(eaddr: Uint8Array, dir: number): Block {
    switch (dir) {
      case Q_SRC:
        return this.gen_bcmp(6, eaddr);
      case Q_DST:
        return this.gen_bcmp(0, eaddr);
      case Q_AND:
        return gen_and(this.gen_ehostop(eaddr, Q_SRC), this.gen_ehostop(eaddr, Q_DST));
      case Q_DEFAULT:
      case Q_OR:
        return gen_or(this.gen_ehostop(eaddr, Q_SRC), this.gen_ehostop(eaddr, Q_DST));
      default:
        return this.dirError();
    }
  }

  gen_host(addr: number, mask: number, proto: number, dir: number): Block {
    switch (proto) {
      case Q_DEFAULT: {
        const b = gen_or(this.gen_host(addr, mask, Q_IP, dir), this.gen_host(addr, mask, Q_ARP, dir));
        return gen_or(b, this.gen_host(addr, mask, Q_RARP, dir));
      }
      case Q_IP:
        return this.gen_hostop(addr, mask, dir, ETHERTYPE_IP, 12, 16);
      case Q_RARP:
        return this.gen_hostop(addr, mask, dir, ETHERTYPE_REVARP, 14, 24);
      case Q_ARP:
        return this.gen_hostop(addr, mask, dir, ETHERTYPE_ARP, 14, 24);
      case Q_TCP:
        return bpfError("'tcp' modifier applied to host");
      case Q_UDP:
        return bpfError("'udp' modifier applied to host");
      case Q_ICMP:
        return bpfError("'icmp' modifier applied to host");
      case Q_IGMP:
        return bpfError("'igmp' modifier applied to host");
      case Q_IGRP:
        return bpfError("'igrp' modifier applied to host");
      case Q_PIM:
        return bpfError("'pim' modifier applied to host");
      case Q_STP:
        return bpfError("'stp' modifier applied to host");
      case Q_ATALK:
        return bpfError('ATALK host filtering not implemented');
      case Q_DECNET:
        return bpfError('DECNET host filtering not implemented');
      case Q_SCA:
        return bpfError('SCA host filtering not implemented');
      case Q_LAT:
        return bpfError('LAT host filtering not implemented');
      case Q_MOPDL:
        return bpfError('MOPDL host filtering not implemented');
      case Q_MOPRC:
        return bpfError('MOPRC host filtering not implemented');
      case Q_IPV6:
        return bpfError("'ip6' modifier applied to ip host");
      case Q_ICMPV6:
        return bpfError("'icmp6' modifier applied to host");
      case Q_AH:
        return bpfError("'ah' modifier applied to host");
      case Q_ESP:
        return bpfError("'esp' modifier applied to host");
      default:
        return this.dirError();
    }
  }

  gen_host6(addr: Uint8Array, mask: Uint8Array, proto: number, dir: number): Block {
    switch (proto) {
      case Q_DEFAULT:
      case Q_IPV6:
        return this.gen_hostop6(addr, mask, dir, ETHERTYPE_IPV6, 8, 24);
      case Q_IP:
        return bpfError("'ip' modifier applied to ip6 host");
      case Q_RARP:
        return bpfError("'rarp' modifier applied to ip6 host");
      case Q_ARP:
        return bpfError("'arp' modifier applied to ip6 host");
      case Q_DECNET:
        return bpfError("'decnet' modifier applied to ip6 host");
      default:
        // the same texts as for IPv4 hosts
        return this.gen_host(0, 0, proto, dir);
    }
  }

  // ---- protocols ----

  gen_proto_abbrev(proto: number): Block {
    switch (proto) {
      case Q_TCP:
        return gen_or(this.gen_proto(IPPROTO_TCP, Q_IPV6, Q_DEFAULT), this.gen_proto(IPPROTO_TCP, Q_IP, Q_DEFAULT));
      case Q_UDP:
        return gen_or(this.gen_proto(IPPROTO_UDP, Q_IPV6, Q_DEFAULT), this.gen_proto(IPPROTO_UDP, Q_IP, Q_DEFAULT));
      case Q_ICMP:
        return this.gen_proto(IPPROTO_ICMP, Q_IP, Q_DEFAULT);
      case Q_IGMP:
        return this.gen_proto(IPPROTO_IGMP, Q_IP, Q_DEFAULT);
      case Q_IGRP:
        return this.gen_proto(IPPROTO_IGRP, Q_IP, Q_DEFAULT);
      case Q_PIM:
        return gen_or(this.gen_proto(IPPROTO_PIM, Q_IPV6, Q_DEFAULT), this.gen_proto(IPPROTO_PIM, Q_IP, Q_DEFAULT));
      case Q_IP:
        return this.gen_linktype(ETHERTYPE_IP);
      case Q_ARP:
        return this.gen_linktype(ETHERTYPE_ARP);
      case Q_RARP:
        return this.gen_linktype(ETHERTYPE_REVARP);
      case Q_LINK:
        return bpfError('link layer applied in wrong context');
      case Q_ATALK:
        return this.gen_linktype(ETHERTYPE_ATALK);
      case Q_DECNET:
        return this.gen_linktype(ETHERTYPE_DN);
      case Q_SCA:
        return this.gen_linktype(ETHERTYPE_SCA);
      case Q_LAT:
        return this.gen_linktype(ETHERTYPE_LAT);
      case Q_MOPDL:
        return this.gen_linktype(ETHERTYPE_MOPDL);
      case Q_MOPRC:
        return this.gen_linktype(ETHERTYPE_MOPRC);
      case Q_STP:
        return this.gen_linktype(LLCSAP_8021D);
      case Q_IPV6:
        return this.gen_linktype(ETHERTYPE_IPV6);
      case Q_ICMPV6:
        return this.gen_proto(IPPROTO_ICMPV6, Q_IPV6, Q_DEFAULT);
      case Q_AH:
        return gen_or(this.gen_proto(IPPROTO_AH, Q_IPV6, Q_DEFAULT), this.gen_proto(IPPROTO_AH, Q_IP, Q_DEFAULT));
      case Q_ESP:
        return gen_or(this.gen_proto(IPPROTO_ESP, Q_IPV6, Q_DEFAULT), this.gen_proto(IPPROTO_ESP, Q_IP, Q_DEFAULT));
      default:
        return bpfError('syntax error in filter expression');
    }
  }

  /** Not an IPv4 fragment other than the first: (ip[6:2] & 0x1fff) == 0. */
  gen_ipfrag(): Block {
    return gen_not({ k: 'cmp', op: 'set', a: this.ldNl(6, 2), b: imm(0x1fff) });
  }

  gen_proto(v: number, proto: number, dir: number): Block {
    if (dir !== Q_DEFAULT) bpfError("direction applied to 'proto'");
    switch (proto) {
      case Q_DEFAULT:
        return gen_or(this.gen_proto(v, Q_IP, dir), this.gen_proto(v, Q_IPV6, dir));
      case Q_IP:
        return gen_and(this.gen_linktype(ETHERTYPE_IP), this.gen_cmp_nl(9, 1, v));
      case Q_IPV6:
        return gen_and(this.gen_linktype(ETHERTYPE_IPV6), this.gen_cmp_nl(6, 1, v));
      case Q_LINK:
        return this.gen_linktype(v);
      case Q_ARP:
        return bpfError('arp does not encapsulate another protocol');
      case Q_RARP:
        return bpfError('rarp does not encapsulate another protocol');
      case Q_ATALK:
        return bpfError('atalk encapsulation is not specifiable');
      case Q_DECNET:
        return bpfError('decnet encapsulation is not specifiable');
      case Q_SCA:
        return bpfError('sca does not encapsulate another protocol');
      case Q_LAT:
        return bpfError('lat does not encapsulate another protocol');
      case Q_MOPRC:
        return bpfError('moprc does not encapsulate another protocol');
      case Q_MOPDL:
        return bpfError('mopdl does not encapsulate another protocol');
      case Q_UDP:
        return bpfError("'udp proto' is bogus");
      case Q_TCP:
        return bpfError("'tcp proto' is bogus");
      case Q_ICMP:
        return bpfError("'icmp proto' is bogus");
      case Q_IGMP:
        return bpfError("'igmp proto' is bogus");
      case Q_IGRP:
        return bpfError("'igrp proto' is bogus");
      case Q_PIM:
        return bpfError("'pim proto' is bogus");
      case Q_STP:
        return bpfError("'stp proto' is bogus");
      case Q_ICMPV6:
        return bpfError("'icmp6 proto' is bogus");
      case Q_AH:
        return bpfError("'ah proto' is bogus");
      case Q_ESP:
        return bpfError("'esp proto' is bogus");
      default:
        return bpfError('syntax error in filter expression');
    }
  }

  /**
   * The protocol after any IPv6 extension headers (hop-by-hop, routing,
   * fragment, destination options) and AH, as gencode.c's gen_protochain
   * means to walk them.
   */
  gen_protochain(v: number, proto: number, dir: number): Block {
    if (this.variableNl) bpfError("'gen_protochain' not supported for variable DLTs");
    switch (proto) {
      case Q_DEFAULT:
        return gen_or(this.gen_protochain(v, Q_IP, dir), this.gen_protochain(v, Q_IPV6, dir));
      case Q_IP:
        return gen_and(this.gen_linktype(ETHERTYPE_IP), { k: 'protochain', v6: false, base: this.offNl, proto: v });
      case Q_IPV6:
        return gen_and(this.gen_linktype(ETHERTYPE_IPV6), { k: 'protochain', v6: true, base: this.offNl, proto: v });
      default:
        return bpfError("bad protocol applied for 'protochain'");
    }
  }

  // ---- ports ----

  private portAtom(off: number, v: number): Block {
    return { k: 'cmp', op: 'eq', a: this.ldTp(off, 2), b: imm(v) };
  }

  private portAtom6(off: number, v: number): Block {
    return this.gen_cmp_nl(40 + off, 2, v);
  }

  private rangeAtom(ld: Arth, lo: number, hi: number): Block {
    if (lo > hi) [lo, hi] = [hi, lo];
    const b1: Block = { k: 'cmp', op: 'ge', a: ld, b: imm(lo) };
    const b2: Block = gen_not({ k: 'cmp', op: 'gt', a: ld, b: imm(hi) });
    return gen_and(b1, b2);
  }

  private dirAtoms(dir: number, atom: (off: number) => Block): Block {
    switch (dir) {
      case Q_SRC:
        return atom(0);
      case Q_DST:
        return atom(2);
      case Q_OR:
      case Q_DEFAULT:
        return gen_or(atom(0), atom(2));
      case Q_AND:
        return gen_and(atom(0), atom(2));
      default:
        return this.dirError();
    }
  }

  private portop(proto: number, dir: number, atom: (off: number) => Block): Block {
    const b0 = gen_and(this.gen_cmp_nl(9, 1, proto), this.gen_ipfrag());
    return gen_and(b0, this.dirAtoms(dir, atom));
  }

  private portop6(proto: number, dir: number, atom: (off: number) => Block): Block {
    return gen_and(this.gen_cmp_nl(6, 1, proto), this.dirAtoms(dir, atom));
  }

  /** IPv6 then IPv4 TCP/UDP port tests, as gen_ncode() orders them. */
  private ports(ipProto: number, dir: number, atom4: (off: number) => Block, atom6: (off: number) => Block): Block {
    const both = (op: (p: number) => Block): Block =>
      ipProto === PROTO_UNDEF ? gen_or(op(IPPROTO_TCP), op(IPPROTO_UDP)) : op(ipProto);
    const b6 = gen_and(this.gen_linktype(ETHERTYPE_IPV6), both((p) => this.portop6(p, dir, atom6)));
    const b4 = gen_and(this.gen_linktype(ETHERTYPE_IP), both((p) => this.portop(p, dir, atom4)));
    return gen_or(b6, b4);
  }

  gen_port(port: number, ipProto: number, dir: number): Block {
    return this.ports(
      ipProto,
      dir,
      (off) => this.portAtom(off, port),
      (off) => this.portAtom6(off, port),
    );
  }

  gen_portrange(lo: number, hi: number, ipProto: number, dir: number): Block {
    return this.ports(
      ipProto,
      dir,
      (off) => this.rangeAtom(this.ldTp(off, 2), lo, hi),
      (off) => this.rangeAtom(this.ldNl(40 + off, 2), lo, hi),
    );
  }

  private portProto(proto: number, what: string): number {
    if (proto === Q_UDP) return IPPROTO_UDP;
    if (proto === Q_TCP) return IPPROTO_TCP;
    if (proto === Q_DEFAULT) return PROTO_UNDEF;
    return bpfError(`illegal qualifier of '${what}'`);
  }

  /** A service name to its port for `proto` (Q_TCP, Q_UDP or Q_DEFAULT); the protocol to test. */
  private lookupPort(name: string, proto: number, unknown: string): { port: number; proto: number } {
    const p = nameToPort(name);
    if (!p) return bpfError(unknown);
    let real = p.proto;
    if (proto === Q_UDP) {
      if (real === IPPROTO_TCP) bpfError(`port '${name}' is tcp`);
      real = IPPROTO_UDP;
    }
    if (proto === Q_TCP) {
      if (real === IPPROTO_UDP) bpfError(`port '${name}' is udp`);
      real = IPPROTO_TCP;
    }
    return { port: p.port, proto: real };
  }

  // ---- identifiers: gen_scode, gen_ncode, gen_mcode, gen_mcode6, gen_ecode ----

  gen_scode(name: string, q: Qual): Block {
    const { proto, dir } = q;
    switch (q.addr) {
      case Q_NET:
        // no networks(5) database here
        return bpfError(`unknown network '${name}'`);
      case Q_DEFAULT:
      case Q_HOST:
        if (proto === Q_LINK) {
          if (this.linktype === DLT_EN10MB) return bpfError(`unknown ether host '${name}'`);
          return bpfError('only ethernet/FDDI supports link-level host name');
        }
        if (proto === Q_DECNET) return bpfError(`decnet name support not included, '${name}' cannot be translated`);
        // tcpdump -n: host names are never resolved
        return bpfError(`unknown host '${name}'`);
      case Q_PORT: {
        if (proto !== Q_DEFAULT && proto !== Q_UDP && proto !== Q_TCP) bpfError("illegal qualifier of 'port'");
        const p = this.lookupPort(name, proto, `unknown port '${name}'`);
        return this.gen_port(p.port, p.proto, dir);
      }
      case Q_PORTRANGE: {
        if (proto !== Q_DEFAULT && proto !== Q_UDP && proto !== Q_TCP) bpfError("illegal qualifier of 'portrange'");
        const dash = name.indexOf('-');
        const one = (s: string): { port: number; proto: number } => {
          if (/^[0-9]+$/.test(s)) {
            const n = Number(s);
            if (n > 65535) bpfError(`illegal port number ${n} > 65535`);
            return { port: n, proto: this.portProto(proto, 'portrange') };
          }
          return this.lookupPort(s, proto, `unknown port in range '${name}'`);
        };
        if (dash <= 0 || dash === name.length - 1) {
          const p = one(name);
          return this.gen_portrange(p.port, p.port, p.proto, dir);
        }
        const lo = one(name.slice(0, dash));
        const hi = one(name.slice(dash + 1));
        const real = lo.proto === hi.proto ? lo.proto : PROTO_UNDEF;
        return this.gen_portrange(lo.port, hi.port, real, dir);
      }
      case Q_GATEWAY:
        return bpfError("'gateway' not supported in this configuration");
      case Q_PROTO:
      case Q_PROTOCHAIN: {
        const v = this.lookupProto(name, proto);
        if (v < 0) return bpfError(`unknown protocol: ${name}`);
        return q.addr === Q_PROTO ? this.gen_proto(v, proto, dir) : this.gen_protochain(v, proto, dir);
      }
      default:
        return bpfError('syntax error in filter expression');
    }
  }

  private lookupProto(name: string, proto: number): number {
    switch (proto) {
      case Q_DEFAULT:
      case Q_IP:
      case Q_IPV6: {
        const v = nameToProto(name);
        if (v === PROTO_UNDEF) bpfError(`unknown ip proto '${name}'`);
        return v;
      }
      case Q_LINK: {
        const v = nameToEtherProto(name);
        if (v === PROTO_UNDEF) bpfError(`unknown ether proto '${name}'`);
        return v;
      }
      default:
        return PROTO_UNDEF;
    }
  }

  /** A bare number (s null) or a partial or full dotted address. */
  gen_ncode(s: string | null, v: number, q: Qual): Block {
    const { proto, dir } = q;
    let vlen = 32;
    if (s !== null) ({ addr: v, len: vlen } = atoin(s));
    switch (q.addr) {
      case Q_DEFAULT:
      case Q_HOST:
      case Q_NET: {
        if (proto === Q_DECNET) return bpfError('DECNET host filtering not implemented');
        if (proto === Q_LINK) return bpfError('illegal link layer address');
        let mask = 0xffffffff;
        v >>>= 0;
        if (s === null && q.addr === Q_NET) {
          // promote a short net number: "net 10" is 10.0.0.0/8
          while (v && (v & 0xff000000) === 0) {
            v = (v << 8) >>> 0;
            mask = (mask << 8) >>> 0;
          }
        } else if (vlen < 32) {
          // a short dotted address: "host 10.1" is 10.1.0.0/16
          v = (v << (32 - vlen)) >>> 0;
          mask = (mask << (32 - vlen)) >>> 0;
        }
        return this.gen_host(v, mask, proto, dir);
      }
      case Q_PORT:
        return this.gen_port(v, this.portProto(proto, 'port'), dir);
      case Q_PORTRANGE:
        if (v > 65535) bpfError(`illegal port number ${v} > 65535`);
        return this.gen_portrange(v, v, this.portProto(proto, 'portrange'), dir);
      case Q_GATEWAY:
        return bpfError("'gateway' requires a name");
      case Q_PROTO:
        return this.gen_proto(v, proto, dir);
      case Q_PROTOCHAIN:
        return this.gen_protochain(v, proto, dir);
      default:
        return bpfError('syntax error in filter expression');
    }
  }

  /** "net a.b.c.d/len" (s2 null) or "net a.b.c.d mask m.m.m.m". */
  gen_mcode(s1: string, s2: string | null, masklen: number, q: Qual): Block {
    const { addr: n0, len: nlen } = atoin(s1);
    const n = nlen >= 32 ? n0 : (n0 << (32 - nlen)) >>> 0;
    let m: number;
    if (s2 !== null) {
      const { addr: m0, len: mlen } = atoin(s2);
      m = mlen >= 32 ? m0 : (m0 << (32 - mlen)) >>> 0;
      if ((n & ~m) >>> 0 !== 0) bpfError(`non-network bits set in "${s1} mask ${s2}"`);
    } else {
      if (masklen > 32) bpfError('mask length must be <= 32');
      m = masklen === 0 ? 0 : (0xffffffff << (32 - masklen)) >>> 0;
      if ((n & ~m) >>> 0 !== 0) bpfError(`non-network bits set in "${s1}/${masklen}"`);
    }
    if (q.addr !== Q_NET) return bpfError('Mask syntax for networks only');
    return this.gen_host(n, m, q.proto, q.dir);
  }

  gen_mcode6(s1: string, masklen: number, q: Qual): Block {
    const addr = parseIp6(s1);
    if (!addr) return bpfError(`invalid ip6 address ${s1}`);
    if (masklen > 128) bpfError('mask length must be <= 128');
    const mask = new Uint8Array(16);
    for (let i = 0; i < 16; i++) {
      const bits = Math.max(0, Math.min(8, masklen - 8 * i));
      mask[i] = (0xff << (8 - bits)) & 0xff;
    }
    for (let i = 0; i < 16; i++) {
      if (addr[i]! & ~mask[i]! & 0xff) bpfError(`non-network bits set in "${s1}/${masklen}"`);
    }
    switch (q.addr) {
      case Q_DEFAULT:
      case Q_HOST:
        if (masklen !== 128) bpfError('Mask syntax for networks only');
        return this.gen_host6(addr, mask, q.proto, q.dir);
      case Q_NET:
        return this.gen_host6(addr, mask, q.proto, q.dir);
      default:
        return bpfError('invalid qualifier against IPv6 address');
    }
  }

  gen_ecode(eaddr: Uint8Array, q: Qual): Block {
    if ((q.addr === Q_HOST || q.addr === Q_DEFAULT) && q.proto === Q_LINK && this.linktype === DLT_EN10MB) {
      return this.gen_ehostop(eaddr, q.dir);
    }
    return bpfError('ethernet address used in non-ether expression');
  }

  // ---- arithmetic ----

  gen_loadi(v: number): ArthExpr {
    return { a: imm(v), b: null };
  }

  gen_loadlen(): ArthExpr {
    return { a: { k: 'len' }, b: null };
  }

  gen_loadrnd(): ArthExpr {
    return { a: { k: 'rnd' }, b: null };
  }

  gen_load(proto: number, index: ArthExpr, size: number): ArthExpr {
    if (size !== 1 && size !== 2 && size !== 4) bpfError('data size must be 1, 2, or 4');
    const sz = size as 1 | 2 | 4;
    const idx = index.a.k === 'imm' && index.a.v === 0 ? null : index.a;
    const fold = (a: Arth): Arth => {
      // a constant index folds into the offset
      if (a.k === 'ld' && a.idx && a.idx.k === 'imm') return { ...a, off: a.off + a.idx.v, idx: null };
      return a;
    };
    switch (proto) {
      case Q_LINK:
        return { a: fold({ k: 'ld', varNl: false, tp: false, base: 0, off: 0, size: sz, idx }), b: index.b };
      case Q_IP:
      case Q_ARP:
      case Q_RARP:
      case Q_ATALK:
      case Q_DECNET:
      case Q_SCA:
      case Q_LAT:
      case Q_MOPRC:
      case Q_MOPDL:
      case Q_IPV6: {
        const ld = this.ldNl(0, sz);
        const a = fold({ ...(ld as Extract<Arth, { k: 'ld' }>), idx });
        const b = this.gen_proto_abbrev(proto);
        return { a, b: index.b ? gen_and(index.b, b) : b };
      }
      case Q_TCP:
      case Q_UDP:
      case Q_ICMP:
      case Q_IGMP:
      case Q_IGRP:
      case Q_PIM: {
        const a = fold(this.ldTp(0, sz, idx));
        let b = gen_and(this.gen_proto_abbrev(proto), this.gen_ipfrag());
        if (index.b) b = gen_and(index.b, b);
        // transport loads assume IPv4 (its header length decides where the header starts)
        b = gen_and(this.gen_proto_abbrev(Q_IP), b);
        return { a, b };
      }
      case Q_ICMPV6: {
        // libpcap: icmp6[x] assumes no extension headers
        const ld = this.ldNl(40, sz);
        const a = fold({ ...(ld as Extract<Arth, { k: 'ld' }>), idx });
        let b = this.gen_proto_abbrev(Q_IPV6);
        if (index.b) b = gen_and(index.b, b);
        b = gen_and(b, this.gen_cmp_nl(6, 1, IPPROTO_ICMPV6));
        return { a, b };
      }
      default:
        return bpfError('unsupported index operation');
    }
  }

  gen_arth(op: AluOp, a0: ArthExpr, a1: ArthExpr): ArthExpr {
    if (a1.a.k === 'imm' && a1.a.v === 0) {
      if (op === 'div') bpfError('division by zero');
      if (op === 'mod') bpfError('modulus by zero');
    }
    if (a0.a.k === 'imm' && a1.a.k === 'imm') return { a: imm(foldAlu(op, a0.a.v, a1.a.v)), b: a0.b };
    // As in gencode.c, only the left operand's protocol checks are kept.
    return { a: { k: 'alu', op, a: a0.a, b: a1.a }, b: a0.b };
  }

  gen_neg(a: ArthExpr): ArthExpr {
    if (a.a.k === 'imm') return { a: imm(-a.a.v), b: a.b };
    return { a: { k: 'neg', a: a.a }, b: a.b };
  }

  /**
   * code: '>' (jgt), '>=' (jge) or '=' (jeq); reversed for the irelops
   * '<=', '<' and '!='.  Comparisons are unsigned, as in current libpcap.
   */
  gen_relation(code: 'gt' | 'ge' | 'eq', a0: ArthExpr, a1: ArthExpr, reversed: boolean): Block {
    let b: Block;
    if (a0.a.k === 'imm' && a1.a.k === 'imm') {
      const x = a0.a.v;
      const y = a1.a.v;
      b = (code === 'gt' ? x > y : code === 'ge' ? x >= y : x === y) ? TRUE : FALSE;
    } else {
      b = { k: 'cmp', op: code, a: a0.a, b: a1.a };
    }
    if (reversed) b = gen_not(b);
    const tmp = a0.b ? (a1.b ? gen_and(a0.b, a1.b) : a0.b) : a1.b;
    return tmp ? gen_and(tmp, b) : b;
  }

  gen_less(n: number): Block {
    return gen_not({ k: 'cmp', op: 'gt', a: { k: 'len' }, b: imm(n) });
  }

  gen_greater(n: number): Block {
    return { k: 'cmp', op: 'ge', a: { k: 'len' }, b: imm(n) };
  }

  /** The old "byte idx op val" primitive, on absolute packet offsets. */
  gen_byteop(op: string, idx: number, val: number): Block {
    const ld = this.ld(idx, 1);
    switch (op) {
      case '=':
        return { k: 'cmp', op: 'eq', a: ld, b: imm(val) };
      case '<':
        return gen_not({ k: 'cmp', op: 'ge', a: ld, b: imm(val) });
      case '>':
        return { k: 'cmp', op: 'gt', a: ld, b: imm(val) };
      case '|':
        return gen_not({ k: 'cmp', op: 'eq', a: { k: 'alu', op: 'or', a: ld, b: imm(val) }, b: imm(0) });
      default:
        return gen_not({ k: 'cmp', op: 'eq', a: { k: 'alu', op: 'and', a: ld, b: imm(val) }, b: imm(0) });
    }
  }

  // ---- other primitives ----

  gen_broadcast(proto: number): Block {
    switch (proto) {
      case Q_DEFAULT:
      case Q_LINK:
        if (this.linktype === DLT_EN10MB) return this.gen_ehostop(new Uint8Array([255, 255, 255, 255, 255, 255]), Q_DST);
        return bpfError('not a broadcast link');
      case Q_IP: {
        if (this.netmask === 0xffffffff) bpfError("netmask not known, so 'ip broadcast' not supported");
        const hostmask = ~this.netmask >>> 0;
        const b1 = this.gen_mcmp_nl(16, 4, 0, hostmask);
        const b2 = this.gen_mcmp_nl(16, 4, hostmask, hostmask);
        return gen_and(this.gen_linktype(ETHERTYPE_IP), gen_or(b1, b2));
      }
    }
    return bpfError('only ether/ip broadcast filters supported');
  }

  gen_multicast(proto: number): Block {
    switch (proto) {
      case Q_DEFAULT:
      case Q_LINK:
        if (this.linktype === DLT_EN10MB) return { k: 'cmp', op: 'set', a: this.ld(0, 1), b: imm(1) };
        break;
      case Q_IP:
        return gen_and(this.gen_linktype(ETHERTYPE_IP), { k: 'cmp', op: 'ge', a: this.ldNl(16, 1), b: imm(224) });
      case Q_IPV6:
        return gen_and(this.gen_linktype(ETHERTYPE_IPV6), this.gen_cmp_nl(24, 1, 255));
    }
    return bpfError('only IP multicast filters supported on ethernet/FDDI');
  }

  gen_inbound(dir: number): Block {
    if (this.linktype === DLT_PFLOG) return this.gen_cmp(PFLOG_DIR, 1, dir === 0 ? 1 : 2);
    return bpfError(`inbound/outbound not supported on linktype 0x${hex(this.linktype)}`);
  }

  /** 802.1Q/802.1ad tag (any of the three TPIDs libpcap knows), optionally with a VLAN id. */
  gen_vlan(vlanNum: number): Block {
    if (this.variableNl) bpfError("'vlan' not supported for variable DLTs");
    if (vlanNum > 4095) bpfError(`invalid VLAN number : ${vlanNum}`);
    if (this.linktype !== DLT_EN10MB) bpfError(`no VLAN support for data link type ${this.linktype}`);
    let b0 = gen_or(
      gen_or(this.gen_cmp(this.offLinktype, 2, ETHERTYPE_8021Q), this.gen_cmp(this.offLinktype, 2, ETHERTYPE_8021AD)),
      this.gen_cmp(this.offLinktype, 2, ETHERTYPE_QINQ),
    );
    if (vlanNum >= 0) b0 = gen_and(b0, this.gen_mcmp(this.offNl, 2, vlanNum, 0x0fff));
    // Every later test looks past this tag.
    this.offLinktype += 4;
    this.offNl += 4;
    return b0;
  }

  gen_mpls(label: number): Block {
    if (label > 0xfffff) bpfError(`invalid MPLS label : ${label}`);
    if (this.variableNl) bpfError("'mpls' not supported for variable DLTs");
    // Inside a label stack the previous entry must not have the bottom-of-stack bit.
    let b0 = this.mplsStack > 0 ? this.gen_mcmp(this.offNl - 2, 1, 0, 1) : this.gen_linktype(ETHERTYPE_MPLS);
    if (label >= 0) b0 = gen_and(b0, this.gen_mcmp(this.offNl, 4, (label << 12) >>> 0, 0xfffff000));
    this.offNl += 4;
    this.offLinktype += 4;
    this.mplsStack++;
    return b0;
  }

  gen_sample(rate: number): Block {
    if (rate < 2) bpfError(`sample ${rate} is too low`);
    if (rate > 1 << 20) bpfError(`sample ${rate} is too high`);
    return gen_not({ k: 'cmp', op: 'gt', a: { k: 'rnd' }, b: imm(Math.floor(0x100000000 / rate)) });
  }

  // ---- pflog(4) header fields ----

  private pflogOnly(what: string): void {
    if (this.linktype !== DLT_PFLOG) bpfError(`${what} not supported on linktype 0x${hex(this.linktype)}`);
  }

  gen_pf_ifname(ifname: string): Block {
    this.pflogOnly('ifname');
    if (ifname.length >= IFNAMSIZ) bpfError(`ifname interface names can only be ${IFNAMSIZ - 1} characters`);
    return this.gen_bcmp(PFLOG_IFNAME, new Uint8Array([...Buffer.from(ifname, 'latin1'), 0]));
  }

  gen_pf_ruleset(ruleset: string): Block {
    this.pflogOnly('ruleset');
    if (ruleset.length >= PFLOG_RULESET_NAME_SIZE) {
      bpfError(`ruleset names can only be ${PFLOG_RULESET_NAME_SIZE - 1} characters`);
    }
    return this.gen_bcmp(PFLOG_RULESET, new Uint8Array(Buffer.from(ruleset, 'latin1')));
  }

  gen_pf_rnr(rnr: number): Block {
    this.pflogOnly('rnr');
    return this.gen_cmp(PFLOG_RULENR, 4, rnr);
  }

  gen_pf_srnr(srnr: number): Block {
    this.pflogOnly('srnr');
    return this.gen_cmp(PFLOG_SUBRULENR, 4, srnr);
  }

  gen_pf_reason(reason: number): Block {
    this.pflogOnly('reason');
    return this.gen_cmp(PFLOG_REASON, 1, reason);
  }

  gen_pf_action(action: number): Block {
    this.pflogOnly('action');
    return this.gen_cmp(PFLOG_ACTION, 1, action);
  }
}

/** A PF reason name (case-insensitive) to its number. */
export function pfReason(name: string): number {
  const i = PFRES_NAMES.indexOf(name.toLowerCase());
  if (i < 0) bpfError('unknown PF reason');
  return i;
}

/** A PF action name to its number (pfvar.h's PF_PASS, PF_DROP, ...). */
export function pfAction(name: string): number {
  switch (name.toLowerCase()) {
    case 'pass':
    case 'accept':
      return 0;
    case 'drop':
    case 'block':
      return 1;
    case 'scrub':
      return 2;
    case 'nat':
      return 4;
    case 'binat':
      return 6;
    case 'rdr':
      return 8;
    case 'match':
      return 12;
    default:
      return bpfError('unknown PF action');
  }
}

/** BPF ALU semantics on unsigned 32-bit values (division by zero is caught before). */
export function foldAlu(op: AluOp, a: number, b: number): number {
  switch (op) {
    case 'add':
      return (a + b) >>> 0;
    case 'sub':
      return (a - b) >>> 0;
    case 'mul':
      return Math.imul(a, b) >>> 0;
    case 'div':
      return b === 0 ? 0 : Math.floor(a / b) >>> 0;
    case 'mod':
      return b === 0 ? 0 : a % b >>> 0;
    case 'and':
      return (a & b) >>> 0;
    case 'or':
      return (a | b) >>> 0;
    case 'xor':
      return (a ^ b) >>> 0;
    case 'lsh':
      return b >= 32 ? 0 : (a << b) >>> 0;
    case 'rsh':
      return b >= 32 ? 0 : a >>> b;
  }
}
