/**
 * UDP: OpenBSD's print-udp.c.  "SRC.SPORT > DST.DPORT: udp LEN", LEN being
 * the payload length; with -v a checksum note comes first ("[udp sum ok] ",
 * "[bad udp cksum X! -> Y] ", "[no udp cksum] ").  The two numbers of a bad
 * checksum are printed as OpenBSD on a little-endian machine prints them:
 * byte-swapped, because the C code prints the raw 16-bit words.
 * WireGuard (recognised by its message type and length on any port) is
 * decoded as print-wg.c does.
 *
 * Not decoded: the application protocols OpenBSD picks by port (DNS, NTP,
 * DHCP, SNMP, RIP, TFTP, IKE, L2TP, RADIUS, VXLAN, GENEVE, ...), and NFS/RPC;
 * they print as "udp LEN".
 */

import { IPPROTO_UDP } from '../../wire/ip4.js';
import { get32le } from '../../wire/bytes.js';
import { sum16 } from '../../wire/checksum.js';

import type { PrintState } from './print.js';

function swap16(v: number): number {
  return ((v & 0xff) << 8) | (v >>> 8);
}

function addrs(st: PrintState, ip: number, v6: boolean): void {
  if (v6) {
    st.out.ip6(st.buf, ip + 8);
    st.out.str(' > ');
    st.out.ip6(st.buf, ip + 24);
  } else {
    st.out.ip4at(st.buf, ip + 12);
    st.out.str(' > ');
    st.out.ip4at(st.buf, ip + 16);
  }
}

/** `iph` is the IPv4 or IPv6 header in front (the version nibble tells which). */
export function udp_print(st: PrintState, bp: number, length: number, iph: number): void {
  const out = st.out;
  const b = st.buf;
  const ipv = b[iph]! >>> 4;
  const v6 = ipv === 6;
  if (bp + 8 > st.snapend) {
    if (ipv === 4 || v6) {
      addrs(st, iph, v6);
      out.str(': ');
    }
    out.str('[|udp]');
    return;
  }
  if (length < 8) {
    if (ipv === 4 || v6) {
      addrs(st, iph, v6);
      out.str(': ');
    }
    out.str('truncated-udp ');
    out.dec(length);
    return;
  }
  const sport = (b[bp]! << 8) | b[bp + 1]!;
  const dport = (b[bp + 2]! << 8) | b[bp + 3]!;
  const ulen = (b[bp + 4]! << 8) | b[bp + 5]!;
  if (ipv === 4 || v6) {
    if (v6) out.ip6(b, iph + 8);
    else out.ip4at(b, iph + 12);
    out.ch(46);
    out.dec(sport);
    out.str(' > ');
    if (v6) out.ip6(b, iph + 24);
    else out.ip4at(b, iph + 16);
    out.ch(46);
    out.dec(dport);
  } else {
    out.str('udp ');
    out.dec(sport);
    out.str(' > ');
    out.dec(dport);
  }
  out.str(': ');
  if (length < ulen) {
    out.str(' truncated-udp - ');
    out.dec(ulen - length);
    out.str(' bytes missing!');
  }
  const udplen = length;
  length -= 8;
  const cp = bp + 8;
  if (st.vflag && (ipv === 4 || v6) && cp + length <= st.snapend) {
    const usum = (b[bp + 6]! << 8) | b[bp + 7]!;
    if (usum === 0) out.str(v6 ? '[invalid udp cksum 0] ' : '[no udp cksum] ');
    else {
      // The C code's pseudo-header: both addresses, the 16-bit length from the IP layer, the protocol.
      let s = v6 ? sum16(b, iph + 8, 32) : sum16(b, iph + 12, 8);
      s += udplen + IPPROTO_UDP + sport + dport + ulen;
      const sum = ~sum16(b, cp, length, s) & 0xffff;
      if (sum === usum) out.str('[udp sum ok] ');
      else {
        out.str('[bad udp cksum ');
        out.hex(swap16(usum), 4);
        out.str('! -> ');
        out.hex(swap16(sum), 4);
        out.str('] ');
      }
    }
  }
  if (!st.qflag && wg_match(st, cp, length)) {
    wg_print(st, cp, length);
    return;
  }
  out.str('udp ');
  out.dec(length);
}

const WG_INITIATION = 1;
const WG_RESPONSE = 2;
const WG_COOKIE = 3;
const WG_DATA = 4;

/** print-wg.c wg_match: WireGuard may run on any port, so it is told by type and length. */
function wg_match(st: PrintState, bp: number, length: number): number {
  if (length < 4 || st.snapend - bp < 4) return 0;
  const type = get32le(st.buf, bp);
  if (type === WG_INITIATION && length === 148) return WG_INITIATION;
  if (type === WG_RESPONSE && length === 92) return WG_RESPONSE;
  if (type === WG_COOKIE && length === 64) return WG_COOKIE;
  if (type === WG_DATA && length >= 32) return WG_DATA;
  return 0;
}

function wg_print(st: PrintState, bp: number, length: number): void {
  const out = st.out;
  const b = st.buf;
  const caplen = st.snapend - bp;
  switch (wg_match(st, bp, length)) {
    case WG_INITIATION:
      out.str('[wg] initiation ');
      if (caplen < 8) break;
      out.str('from 0x');
      out.hex(get32le(b, bp + 4), 8);
      return;
    case WG_RESPONSE:
      out.str('[wg] response ');
      if (caplen < 12) break;
      out.str('from 0x');
      out.hex(get32le(b, bp + 4), 8);
      out.str(' to 0x');
      out.hex(get32le(b, bp + 8), 8);
      return;
    case WG_COOKIE:
      out.str('[wg] cookie ');
      if (caplen < 8) break;
      out.str(' to 0x');
      out.hex(get32le(b, bp + 4), 8);
      return;
    default: {
      const datalength = length - 32;
      if (datalength !== 0) {
        out.str('[wg] data length ');
        out.dec(datalength);
        out.ch(32);
      } else out.str('[wg] keepalive ');
      if (caplen < 16) break;
      out.str('to 0x');
      out.hex(get32le(b, bp + 4), 8);
      out.str(' nonce ');
      const lo = get32le(b, bp + 8);
      const hi = get32le(b, bp + 12);
      if (hi < 0x200000) out.dec(hi * 4294967296 + lo);
      else out.str(((BigInt(hi) << 32n) | BigInt(lo)).toString());
      return;
    }
  }
  out.str('[|wg]');
}
