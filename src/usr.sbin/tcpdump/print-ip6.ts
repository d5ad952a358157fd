/**
 * IPv6: OpenBSD's print-ip6.c with the extension header printers of
 * print-ip6opts.c ("HBH ", "DSTOPT ", options with -v), print-rt6.c
 * ("srcrt (len=2, type=0, segleft=1, [0]ADDR)") and print-frag6.c
 * ("frag (0xID:LEN@OFF[+]) "; a non-first fragment ends the walk).
 * "SRC > DST: " is printed here unless the first header is TCP, UDP or AH
 * (those print the addresses with ports themselves).  After the payload:
 * " [class 0x..]", " [flowlabel 0x..]", " [hlim N]" when hlim <= 1, and with
 * -v " (len N, hlim N)".
 *
 * Not decoded (as OpenBSD does): PIM, OSPF6, GRE, EtherIP and CARP print
 * "ip-proto-N LEN".
 */

import { ah_print, esp_print } from './print-esp.js';
import { icmp6_print } from './print-icmp6.js';
import { ip_print } from './print-ip.js';
import { tcp_print } from './print-tcp.js';
import { udp_print } from './print-udp.js';
import type { PrintState } from './print.js';

const IPPROTO_HOPOPTS = 0;
const IPPROTO_IPV4 = 4;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_IPV6 = 41;
const IPPROTO_ROUTING = 43;
const IPPROTO_FRAGMENT = 44;
const IPPROTO_ESP = 50;
const IPPROTO_AH = 51;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_NONE = 59;
const IPPROTO_DSTOPTS = 60;

export function ip6_print(st: PrintState, bp: number, length: number): void {
  const out = st.out;
  const b = st.buf;
  if (bp + 40 > st.snapend) {
    out.str('[|ip6]');
    return;
  }
  if (length < 40) {
    out.str('truncated-ip6 ');
    out.dec(length);
    return;
  }
  if (b[bp]! >>> 4 !== 6) {
    out.str('bad-ip6-version ');
    out.dec(b[bp]! >>> 4);
    return;
  }
  let hlen = 40;
  const len = (b[bp + 4]! << 8) | b[bp + 5]!;
  if (length < len + hlen) {
    out.str('truncated-ip6 - ');
    out.dec(len + hlen - length);
    out.str(' bytes missing!');
  }
  let cp = bp;
  let nh = b[bp + 6]!;
  walk: while (cp + hlen <= st.snapend) {
    cp += hlen;
    if (
      cp === bp + 40 &&
      nh !== IPPROTO_TCP &&
      nh !== IPPROTO_UDP &&
      nh !== IPPROTO_AH &&
      (st.vflag || (nh !== IPPROTO_IPV4 && nh !== IPPROTO_IPV6))
    ) {
      out.ip6(b, bp + 8);
      out.str(' > ');
      out.ip6(b, bp + 24);
      out.str(': ');
    }
    // Length left for the upper layer, from the payload length.
    const rest = len + 40 - (cp - bp);
    switch (nh) {
      case IPPROTO_HOPOPTS:
        hlen = opthdr_print(st, cp, 'HBH ', '[|HBH]');
        nh = st.byteAt(cp);
        break;
      case IPPROTO_DSTOPTS:
        hlen = opthdr_print(st, cp, 'DSTOPT ', '[|DSTOPT]');
        nh = st.byteAt(cp);
        break;
      case IPPROTO_FRAGMENT:
        hlen = frag6_print(st, cp, bp);
        if (st.snapend < cp + hlen) break walk;
        nh = b[cp]!;
        break;
      case IPPROTO_ROUTING:
        hlen = rt6_print(st, cp);
        nh = st.byteAt(cp);
        break;
      case IPPROTO_TCP:
        tcp_print(st, cp, rest, bp);
        break walk;
      case IPPROTO_UDP:
        udp_print(st, cp, rest, bp);
        break walk;
      case IPPROTO_ESP:
        esp_print(st, cp, rest, bp);
        break walk;
      case IPPROTO_AH:
        ah_print(st, cp, rest, bp);
        break walk;
      case IPPROTO_ICMPV6:
        icmp6_print(st, cp, rest, bp);
        break walk;
      case IPPROTO_IPV6:
        ip6_print(st, cp, len);
        if (!st.vflag) out.str(' (encap)');
        break walk;
      case IPPROTO_IPV4:
        ip_print(st, cp, len);
        if (!st.vflag) out.str(' (encap)');
        break walk;
      case IPPROTO_NONE:
        out.str('no next header');
        break walk;
      default:
        // The C code prints the first next-header value here, not the current one.
        out.str('ip-proto-');
        out.dec(b[bp + 6]!);
        out.ch(32);
        out.dec(len);
        break walk;
    }
    if (hlen === 0) break;
  }
  const flow = ((b[bp]! << 24) | (b[bp + 1]! << 16) | (b[bp + 2]! << 8) | b[bp + 3]!) >>> 0;
  if (flow & 0x0ff00000) {
    out.str(' [class 0x');
    out.hex((flow & 0x0ff00000) >>> 20);
    out.ch(93);
  }
  if (flow & 0x000fffff) {
    out.str(' [flowlabel 0x');
    out.hex(flow & 0x000fffff);
    out.ch(93);
  }
  const hlim = b[bp + 7]!;
  if (hlim <= 1) {
    out.str(' [hlim ');
    out.dec(hlim);
    out.ch(93);
  }
  if (st.vflag) {
    out.str(' (len ');
    out.dec(len);
    if (hlim > 1) {
      out.str(', hlim ');
      out.dec(hlim);
    }
    out.ch(41);
  }
}

/** hbhopt_print / dstopt_print: the header's length in bytes (0 if even that was not captured). */
function opthdr_print(st: PrintState, cp: number, name: string, trunc: string): number {
  const out = st.out;
  if (cp + 2 > st.snapend) {
    out.str(trunc);
    return 0;
  }
  const optlen = (st.buf[cp + 1]! + 1) << 3;
  if (cp + optlen > st.snapend) {
    out.str(trunc);
    return optlen;
  }
  out.str(name);
  if (st.vflag) ip6_opt_print(st, cp + 2, optlen - 2);
  return optlen;
}

/** print-ip6opts.c ip6_opt_print: the options of a hop-by-hop or destination header. */
function ip6_opt_print(st: PrintState, bp: number, len: number): void {
  const out = st.out;
  const b = st.buf;
  let optlen: number;
  for (let i = 0; i < len; i += optlen) {
    const t = b[bp + i]!;
    switch (t) {
      case 0: // Pad1
        optlen = 1;
        break;
      case 1: // PadN
        if (len - i < 2) {
          out.str('(padn: trunc)[trunc] ');
          return;
        }
        optlen = b[bp + i + 1]! + 2;
        break;
      case 0x05: // router alert
        if (len - i < 4) {
          out.str('(rtalert: trunc)[trunc] ');
          return;
        }
        if (b[bp + i + 1] !== 2) {
          out.str('(rtalert: invalid len ');
          out.dec(b[bp + i + 1]!);
          out.str(')[trunc] ');
          return;
        }
        out.str('(rtalert: 0x');
        out.hex((b[bp + i + 2]! << 8) | b[bp + i + 3]!, 4);
        out.str(') ');
        optlen = 4;
        break;
      case 0xc2: // jumbo payload
        if (len - i < 6) {
          out.str('(jumbo: trunc)[trunc] ');
          return;
        }
        if (b[bp + i + 1] !== 4) {
          out.str('(jumbo: invalid len ');
          out.dec(b[bp + i + 1]!);
          out.str(')[trunc] ');
          return;
        }
        out.str('(jumbo: ');
        out.dec(((b[bp + i + 2]! << 24) | (b[bp + i + 3]! << 16) | (b[bp + i + 4]! << 8) | b[bp + i + 5]!) >>> 0);
        out.str(') ');
        optlen = 6;
        break;
      default:
        if (len - i < 2) {
          out.str('(type ');
          out.dec(t);
          out.str(': trunc)[trunc] ');
          return;
        }
        out.str('(type 0x');
        out.hex(t, 2);
        out.str(': len=');
        out.dec(b[bp + i + 1]!);
        out.str(') ');
        optlen = b[bp + i + 1]! + 2;
        break;
    }
  }
}

/** print-frag6.c: the bytes the next header needs to go on (65535: stop walking). */
function frag6_print(st: PrintState, bp: number, ip6: number): number {
  const out = st.out;
  const b = st.buf;
  if (bp + 8 > st.snapend) {
    out.str('[|frag]');
    return 65535;
  }
  const offlg = (b[bp + 2]! << 8) | b[bp + 3]!;
  const off = offlg & 0xfff8;
  out.str('frag (0x');
  out.hex(((b[bp + 4]! << 24) | (b[bp + 5]! << 16) | (b[bp + 6]! << 8) | b[bp + 7]!) >>> 0, 8);
  out.ch(58);
  out.dec(40 + ((b[ip6 + 4]! << 8) | b[ip6 + 5]!) - (bp - ip6) - 8);
  out.ch(64);
  out.dec(off);
  if (offlg & 1) out.ch(43);
  out.ch(41);
  // A later fragment has no upper-layer header to decode.
  if (off !== 0) return 65535;
  out.ch(32);
  return 8;
}

/** print-rt6.c: the routing header. */
function rt6_print(st: PrintState, bp: number): number {
  const out = st.out;
  const b = st.buf;
  const ep = st.snapend;
  if (bp + 4 > ep) return rt6_trunc(st);
  const len = b[bp + 1]!;
  const type = b[bp + 2]!;
  out.str('srcrt (len=');
  out.dec(len);
  out.str(', type=');
  out.dec(type);
  out.str(', segleft=');
  out.dec(b[bp + 3]!);
  if (type === 0) {
    if (bp + 8 > ep) return rt6_trunc(st);
    const rsv = ((b[bp + 4]! << 24) | (b[bp + 5]! << 16) | (b[bp + 6]! << 8) | b[bp + 7]!) >>> 0;
    if (rsv || st.vflag) {
      out.str(', rsv=0x');
      out.hex(rsv);
    }
    if (len % 2 === 1) return rt6_trunc(st);
    const n = len >>> 1;
    for (let i = 0; i < n; i++) {
      const addr = bp + 8 + 16 * i;
      if (addr > ep - 16) return rt6_trunc(st);
      out.str(', [');
      out.dec(i);
      out.ch(93);
      out.ip6(b, addr);
    }
    out.ch(41);
    return (len + 1) << 3;
  }
  if (bp + ((len + 1) << 3) > ep) return rt6_trunc(st);
  out.ch(41);
  return (len + 1) << 3;
}

function rt6_trunc(st: PrintState): number {
  st.out.str(', [|srcrt]');
  return 65535;
}
