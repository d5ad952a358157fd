/**
 * ICMP: OpenBSD's print-icmp.c.  "SRC > DST: icmp: echo request", with -v
 * "echo request (id:c52b seq:0)" and the checksum note; errors name what
 * failed ("192.0.2.1 udp port 9 unreachable", "... unreachable - need to
 * frag (mtu 1400)", "redirect X to host Y", "time exceeded in-transit"), and
 * with -vv the quoted datagram follows after " for ", printed by ip_print.
 * The C code formats the message into a buffer and prints it only once every
 * field it needs was captured, so a short capture prints just "[|icmp]".
 */

import { IPPROTO_TCP, IPPROTO_UDP } from '../../wire/ip4.js';
import { checksum } from '../../wire/checksum.js';
import { in_cksum_shouldbe, ip_addrs, ip_print } from './print-ip.js';
import type { PrintState } from './print.js';

const ICMP_ECHOREPLY = 0;
const ICMP_UNREACH = 3;
const ICMP_REDIRECT = 5;
const ICMP_ECHO = 8;
const ICMP_ROUTERADVERT = 9;
const ICMP_TIMXCEED = 11;
const ICMP_PARAMPROB = 12;
const ICMP_MASKREPLY = 18;

const ICMP_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'echo reply'],
  [4, 'source quench'],
  [8, 'echo request'],
  [10, 'router solicitation'],
  [13, 'time stamp request'],
  [14, 'time stamp reply'],
  [15, 'information request'],
  [16, 'information reply'],
  [17, 'address mask request'],
]);

/** Unreachable codes other than protocol, port and need-frag: text before and after the address. */
const UNREACH: readonly (readonly [string, string] | undefined)[] = [
  ['net ', ' unreachable'],
  ['host ', ' unreachable'],
  undefined,
  undefined,
  undefined,
  ['', ' unreachable - source route failed'],
  ['net ', ' unreachable - unknown'],
  ['host ', ' unreachable - unknown'],
  ['', ' unreachable - source host isolated'],
  ['net ', ' unreachable - admin prohibited'],
  ['host ', ' unreachable - admin prohibited'],
  ['net ', ' unreachable - tos prohibited'],
  ['host ', ' unreachable - tos prohibited'],
  ['host ', ' unreachable - admin prohibited filter'],
  ['host ', ' unreachable - host precedence violation'],
  ['host ', ' unreachable - precedence cutoff'],
];

const REDIRECT = ['redirect ', 'redirect ', 'redirect-tos ', 'redirect-tos '];
const REDIRECT_TO = [' to net ', ' to host ', ' to net ', ' to net '];

function isInfoType(t: number): boolean {
  return t === 0 || t === 8 || t === 9 || t === 10 || (t >= 13 && t <= 18);
}

function get16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function icmp_print(st: PrintState, bp: number, length: number, ip: number): void {
  const out = st.out;
  const b = st.buf;
  const end = st.snapend;
  ip_addrs(st, ip);
  out.str(': ');
  if (bp + 2 > end) {
    out.str('[|icmp]');
    return;
  }
  const type = b[bp]!;
  const code = b[bp + 1]!;
  if (st.qflag) {
    out.str('icmp: ');
    out.dec(type);
    out.ch(32);
    out.dec(code);
  } else if (!icmp_body(st, bp, type, code)) {
    out.str('[|icmp]');
    return;
  }
  if (st.vflag && bp + length <= end) {
    const sum = checksum(b, bp, length);
    if (sum !== 0) {
      const field = get16(b, bp + 2);
      out.str(' [bad icmp cksum ');
      out.hex(field);
      out.str('! -> ');
      out.hex(in_cksum_shouldbe(field, sum));
      out.ch(93);
    } else out.str(' [icmp cksum ok]');
  }
  if (st.vflag > 1 && !isInfoType(type) && bp + 28 <= end) {
    out.str(' for ');
    ip_print(st, bp + 8, get16(b, bp + 10));
  }
}

/** "icmp: TEXT"; false (nothing printed) when a field it needs was not captured. */
function icmp_body(st: PrintState, bp: number, type: number, code: number): boolean {
  const out = st.out;
  const b = st.buf;
  const end = st.snapend;
  switch (type) {
    case ICMP_ECHOREPLY:
    case ICMP_ECHO:
      if (st.vflag) {
        if (bp + 8 > end) return false;
        out.str(type === ICMP_ECHO ? 'icmp: echo request (id:' : 'icmp: echo reply (id:');
        out.hex(get16(b, bp + 4), 4);
        out.str(' seq:');
        out.dec(get16(b, bp + 6));
        out.ch(41);
      } else out.str(type === ICMP_ECHO ? 'icmp: echo request' : 'icmp: echo reply');
      return true;
    case ICMP_UNREACH: {
      if (bp + 28 > end) return false;
      const dst = bp + 24;
      switch (code) {
        case 2:
          out.str('icmp: ');
          out.ip4at(b, dst);
          out.str(' protocol ');
          out.dec(b[bp + 17]!);
          out.str(' unreachable');
          return true;
        case 3: {
          const oip = bp + 8;
          const ouh = oip + (b[oip]! & 15) * 4;
          if (ouh + 4 > end) return false;
          const dport = get16(b, ouh + 2);
          const p = b[oip + 9]!;
          out.str('icmp: ');
          out.ip4at(b, dst);
          if (p === IPPROTO_TCP || p === IPPROTO_UDP) {
            out.str(p === IPPROTO_TCP ? ' tcp port ' : ' udp port ');
            out.dec(dport);
          } else {
            out.str(' protocol ');
            out.dec(p);
            out.str(' port ');
            out.dec(dport);
          }
          out.str(' unreachable');
          return true;
        }
        case 4: {
          const mtu = get16(b, bp + 6);
          out.str('icmp: ');
          out.ip4at(b, dst);
          out.str(' unreachable - need to frag');
          if (mtu) {
            out.str(' (mtu ');
            out.dec(mtu);
            out.ch(41);
          }
          return true;
        }
        default: {
          const f = UNREACH[code];
          out.str('icmp: ');
          if (f) {
            out.str(f[0]);
            out.ip4at(b, dst);
            out.str(f[1]);
          } else {
            out.ch(35);
            out.dec(code);
            out.ch(32);
            out.ip4at(b, dst);
            out.str(' unreachable');
          }
          return true;
        }
      }
    }
    case ICMP_REDIRECT:
      if (bp + 28 > end) return false;
      out.str('icmp: ');
      if (code < 4) out.str(REDIRECT[code]!);
      else {
        out.str('redirect-#');
        out.dec(code);
        out.ch(32);
      }
      out.ip4at(b, bp + 24);
      out.str(code < 4 ? REDIRECT_TO[code]! : ' to net ');
      out.ip4at(b, bp + 4);
      return true;
    case ICMP_ROUTERADVERT: {
      if (bp + 8 > end) return false;
      const num = b[bp + 4]!;
      const size = b[bp + 5]!;
      // The C code never advances to the next entry: every entry it prints is the first.
      if (size === 2 && num > 0 && bp + 16 > end) return false;
      out.str('icmp: router advertisement lifetime ');
      const lifetime = get16(b, bp + 6);
      if (lifetime < 60) out.dec(lifetime);
      else if (lifetime < 3600) {
        out.dec(Math.floor(lifetime / 60));
        out.ch(58);
        out.dec0(lifetime % 60, 2);
      } else {
        out.dec(Math.floor(lifetime / 3600));
        out.ch(58);
        out.dec0(Math.floor((lifetime % 3600) / 60), 2);
        out.ch(58);
        out.dec0(lifetime % 60, 2);
      }
      out.ch(32);
      out.dec(num);
      out.ch(58);
      if (size !== 2) {
        out.str(' [size ');
        out.dec(size);
        out.ch(93);
        return true;
      }
      for (let i = 0; i < num; i++) {
        out.str(' {');
        out.ip4at(b, bp + 8);
        out.ch(32);
        out.dec((get16(b, bp + 12) * 65536 + get16(b, bp + 14)) >>> 0);
        out.ch(125);
      }
      return true;
    }
    case ICMP_TIMXCEED:
      if (bp + 28 > end) return false;
      if (code === 0) out.str('icmp: time exceeded in-transit');
      else if (code === 1) out.str('icmp: ip reassembly time exceeded');
      else {
        out.str('icmp: time exceeded-#');
        out.dec(code);
      }
      return true;
    case ICMP_PARAMPROB:
      if (code === 1) out.str('icmp: requested option absent');
      else if (code === 2) {
        // Read without a capture check in the C code.
        out.str('icmp: bad length ');
        out.dec(st.byteAt(bp + 4));
      } else {
        if (bp + 5 > end) return false;
        out.str('icmp: parameter problem - octet ');
        out.dec(b[bp + 4]!);
      }
      return true;
    case ICMP_MASKREPLY:
      if (bp + 12 > end) return false;
      out.str('icmp: address mask is 0x');
      out.hex((get16(b, bp + 8) * 65536 + get16(b, bp + 10)) >>> 0, 8);
      return true;
    default: {
      const name = ICMP_NAMES.get(type);
      out.str('icmp: ');
      if (name !== undefined) out.str(name);
      else {
        out.str('type-#');
        out.dec(type);
      }
      return true;
    }
  }
}
