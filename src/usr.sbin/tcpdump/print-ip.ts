/**
 * IPv4: OpenBSD's print-ip.c.  ip_print() checks the header, hands the
 * first fragment's payload to the transport printer (which prints the
 * addresses itself, with ports where it has them), then appends the
 * fragment note " (frag ID:LEN@OFF[+])", " (DF)", " [tos 0x..]",
 * " [ttl N]" when ttl <= 1, and with -v " (ttl N, id N, len N[, bad ip cksum
 * X! -> Y][, optlen=N OPTIONS])".  Also IGMP (igmp_print, except the DVMRP
 * and PIM bodies), IP-in-IP and IPv6-in-IP.
 *
 * Protocols OpenBSD decodes but this port does not (IGRP, OSPF, GRE, mobile
 * IP, EtherIP, IPComp, CARP/VRRP, pfsync) print as "ip-proto-N LEN".
 */

import { checksum } from '../../wire/checksum.js';
import {
  IP_DF,
  IP_MF,
  IPOPT_EOL,
  IPOPT_LSRR,
  IPOPT_NOP,
  IPOPT_RR,
  IPOPT_SECURITY,
  IPOPT_SSRR,
  IPOPT_TS,
  IPPROTO_AH,
  IPPROTO_ESP,
  IPPROTO_ICMP,
  IPPROTO_IGMP,
  IPPROTO_IPIP,
  IPPROTO_IPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from '../../wire/ip4.js';
import { ah_print, esp_print } from './print-esp.js';
import { icmp_print } from './print-icmp.js';
import { ip6_print } from './print-ip6.js';
import { tcp_print } from './print-tcp.js';
import { udp_print } from './print-udp.js';
import type { PrintState } from './print.js';

/** Sun's ND protocol, which ip_print still names. */
const IPPROTO_ND = 77;

/** An IPv4 address from 4 bytes; bytes past the capture read as 0 (C would print what lies there). */
export function ipaddr_print(st: PrintState, o: number): void {
  if (o + 4 <= st.snapend) st.out.ip4at(st.buf, o);
  else st.out.ip4(((st.byteAt(o) << 24) | (st.byteAt(o + 1) << 16) | (st.byteAt(o + 2) << 8) | st.byteAt(o + 3)) >>> 0);
}

/** "SRC > DST" of the IPv4 header at `ip`. */
export function ip_addrs(st: PrintState, ip: number): void {
  st.out.ip4at(st.buf, ip + 12);
  st.out.str(' > ');
  st.out.ip4at(st.buf, ip + 16);
}

/** in_cksum_shouldbe(): what the checksum field should have held, from the field and the sum over the data. */
export function in_cksum_shouldbe(field: number, computed: number): number {
  let s = field + computed;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s;
}

export function ip_print(st: PrintState, bp: number, length: number): void {
  const out = st.out;
  const b = st.buf;
  if (bp + 20 > st.snapend) {
    out.str('[|ip]');
    return;
  }
  if (b[bp]! >>> 4 !== 4) {
    out.str('bad-ip-version ');
    out.dec(b[bp]! >>> 4);
    return;
  }
  const ipLen = (b[bp + 2]! << 8) | b[bp + 3]!;
  let len = ipLen;
  if (length < len) {
    out.str('truncated-ip - ');
    out.dec(len - length);
    out.str(' bytes missing!');
    len = length;
  }
  const hlen = (b[bp]! & 15) * 4;
  if (hlen < 20 || hlen > len) {
    out.str('bad-hlen ');
    out.dec(hlen);
    return;
  }
  len -= hlen;
  const off = (b[bp + 6]! << 8) | b[bp + 7]!;
  const p = b[bp + 9]!;
  if ((off & 0x1fff) === 0) {
    const cp = bp + hlen;
    if (cp > st.snapend) {
      out.str('[|ip]');
      return;
    }
    switch (p) {
      case IPPROTO_TCP:
        tcp_print(st, cp, len, bp);
        break;
      case IPPROTO_UDP:
        udp_print(st, cp, len, bp);
        break;
      case IPPROTO_ICMP:
        icmp_print(st, cp, len, bp);
        break;
      case IPPROTO_ND:
        ip_addrs(st, bp);
        out.str(': nd ');
        out.dec(len);
        break;
      case IPPROTO_IGMP:
        igmp_print(st, cp, len, bp);
        break;
      case IPPROTO_IPIP:
        if (st.vflag) {
          ip_addrs(st, bp);
          out.str(': ');
        }
        ip_print(st, cp, len);
        if (!st.vflag) {
          out.str(' (encap)');
          return;
        }
        break;
      case IPPROTO_IPV6:
        if (st.vflag) {
          ip_addrs(st, bp);
          out.str(': ');
        }
        ip6_print(st, cp, len);
        if (!st.vflag) {
          out.str(' (encap)');
          return;
        }
        break;
      case IPPROTO_ESP:
        ip_addrs(st, bp);
        out.str(': ');
        esp_print(st, cp, len, bp);
        break;
      case IPPROTO_AH:
        ah_print(st, cp, len, bp);
        break;
      default:
        ip_addrs(st, bp);
        out.str(': ip-proto-');
        out.dec(p);
        out.ch(32);
        out.dec(len);
        break;
    }
  }
  // Fragments: id:size@offset, "+" on all but the last.
  if (off & 0x3fff) {
    if (off & 0x1fff) {
      ip_addrs(st, bp);
      out.ch(58);
    }
    out.str(' (frag ');
    out.dec((b[bp + 4]! << 8) | b[bp + 5]!);
    out.ch(58);
    out.dec(len);
    out.ch(64);
    out.dec((off & 0x1fff) * 8);
    if (off & IP_MF) out.ch(43);
    out.ch(41);
  }
  if (off & IP_DF) out.str(' (DF)');
  const tos = b[bp + 1]!;
  if (tos) {
    out.str(' [tos 0x');
    out.hex(tos);
    if (tos & 3) {
      out.str(' (');
      if (tos & 2) out.ch(69);
      if (tos & 1) out.ch(67);
      out.ch(41);
    }
    out.ch(93);
  }
  const ttl = b[bp + 8]!;
  if (ttl <= 1) {
    out.str(' [ttl ');
    out.dec(ttl);
    out.ch(93);
  }
  if (st.vflag) {
    let sep = false;
    out.str(' (');
    if (ttl > 1) {
      out.str('ttl ');
      out.dec(ttl);
      sep = true;
    }
    if ((off & 0x3fff) === 0) {
      if (sep) out.str(', ');
      out.str('id ');
      out.dec((b[bp + 4]! << 8) | b[bp + 5]!);
      sep = true;
    }
    if (sep) out.str(', ');
    out.str('len ');
    out.dec(ipLen);
    if (bp + hlen <= st.snapend) {
      const sum = checksum(b, bp, hlen);
      if (sum !== 0) {
        const field = (b[bp + 10]! << 8) | b[bp + 11]!;
        out.str(', bad ip cksum ');
        out.hex(field);
        out.str('! -> ');
        out.hex(in_cksum_shouldbe(field, sum));
      }
    }
    if (hlen > 20) {
      out.str(', optlen=');
      out.dec(hlen - 20);
      ip_optprint(st, bp + 20, hlen - 20);
    }
    out.ch(41);
  }
}

/** The options of -v: " NOP", " EOL", " RR{N}= RR{...}", " IPOPT-N{LEN}". */
function ip_optprint(st: PrintState, cp: number, length: number): void {
  const out = st.out;
  const b = st.buf;
  let len: number;
  for (; length > 0; cp += len, length = (length - len) >>> 0) {
    if (cp + 2 > st.snapend) {
      out.str('[|ip]');
      return;
    }
    const tt = b[cp]!;
    len = tt === IPOPT_NOP || tt === IPOPT_EOL ? 1 : b[cp + 1]!;
    if (len <= 0) {
      out.str('[|ip op len ');
      out.dec(len);
      out.ch(93);
      return;
    }
    if (cp + 1 >= st.snapend || cp + len > st.snapend) {
      out.str('[|ip]');
      return;
    }
    switch (tt) {
      case IPOPT_EOL:
        out.str(' EOL');
        if (length > 1) {
          out.ch(45);
          out.dec(length - 1);
        }
        return;
      case IPOPT_NOP:
        out.str(' NOP');
        break;
      case IPOPT_TS:
        out.str(' TS{');
        out.dec(len);
        out.ch(125);
        break;
      case IPOPT_SECURITY:
        out.str(' SECURITY{');
        out.dec(len);
        out.ch(125);
        break;
      case IPOPT_RR:
        out.str(' RR{');
        out.dec(len);
        out.str('}=');
        ip_printroute(st, 'RR', cp, len);
        break;
      case IPOPT_SSRR:
        ip_printroute(st, 'SSRR', cp, len);
        break;
      case IPOPT_LSRR:
        ip_printroute(st, 'LSRR', cp, len);
        break;
      default:
        out.str(' IPOPT-');
        out.dec(tt);
        out.ch(123);
        out.dec(len);
        out.ch(125);
        break;
    }
  }
}

/** The recorded route of an RR, LSRR or SSRR option, "#" before the address the pointer names. */
function ip_printroute(st: PrintState, type: string, cp: number, length: number): void {
  const out = st.out;
  const ptr = (st.byteAt(cp + 2) - 1) >>> 0;
  out.ch(32);
  out.str(type);
  out.ch(123);
  if ((length + 1) & 3) {
    out.str(' [bad length ');
    out.dec(length);
    out.ch(93);
  }
  if (ptr < 3 || (ptr + 1) & 3 || ptr > length + 1) {
    out.str(' [bad ptr ');
    out.dec(st.byteAt(cp + 2));
    out.ch(93);
  }
  let sep = 0;
  let len = 3;
  for (; len < length; len += 4) {
    if (ptr === len) sep = 35;
    if (sep) out.ch(sep);
    ipaddr_print(st, cp + len);
    sep = 32;
  }
  if (ptr === len) out.ch(35);
  out.ch(125);
}

function igmp_print(st: PrintState, bp: number, len: number, ip: number): void {
  const out = st.out;
  const b = st.buf;
  ip_addrs(st, ip);
  out.str(': ');
  if (bp + 8 > st.snapend) {
    out.str('[|igmp]');
    return;
  }
  const t = b[bp]!;
  switch (t) {
    case 0x11:
      out.str('igmp query');
      if (b[bp + 4] | b[bp + 5] | b[bp + 6] | b[bp + 7]) {
        out.str(' [gaddr ');
        out.ip4at(b, bp + 4);
        out.ch(93);
      }
      if (len !== 8) {
        out.str(' [len ');
        out.dec(len);
        out.ch(93);
      }
      break;
    case 0x12:
      out.str('igmp report ');
      out.ip4at(b, bp + 4);
      if (len !== 8) {
        out.str(' [len ');
        out.dec(len);
        out.ch(93);
      }
      break;
    case 0x16:
      out.str('igmp nreport ');
      out.ip4at(b, bp + 4);
      break;
    case 0x17:
      out.str('igmp leave ');
      out.ip4at(b, bp + 4);
      break;
    case 0x13:
      out.str('igmp dvmrp');
      if (len < 8) {
        out.str(' [len ');
        out.dec(len);
        out.ch(93);
      }
      break;
    case 0x14:
      out.str('igmp pim');
      break;
    case 0x1e:
    case 0x1f: {
      // struct tr_query after the 8-byte header; qid/ttl are a bitfield read in little-endian order.
      out.str(t === 0x1e ? 'mresp ' : 'mtrace ');
      out.dec(st.byteAt(bp + 20) | (st.byteAt(bp + 21) << 8) | (st.byteAt(bp + 22) << 16));
      out.str(': ');
      ipaddr_print(st, bp + 8);
      out.str(' to ');
      ipaddr_print(st, bp + 12);
      out.str(' reply-to ');
      ipaddr_print(st, bp + 16);
      if ((st.byteAt(bp + 16) & 0xf0) === 0xe0) {
        out.str(' with-ttl ');
        out.dec(st.byteAt(bp + 23));
      }
      break;
    }
    default:
      out.str('igmp-');
      out.dec(t & 0xf);
      break;
  }
  if (t >>> 4 !== 1) {
    out.str(' [v');
    out.dec(t >>> 4);
    out.ch(93);
  }
  if (bp + len > st.snapend) {
    out.str('[|igmp]');
    return;
  }
  if (st.vflag && checksum(b, bp, len) !== 0) {
    out.str(' bad igmp cksum ');
    out.hex((b[bp + 2]! << 8) | b[bp + 3]!);
    out.ch(33);
  }
}
