/**
 * Loopback link types: null_if_print and loop_if_print of OpenBSD's
 * print-null.c.  A 4-byte address family precedes the packet: in host byte
 * order for DLT_NULL (little-endian here, as written on amd64; a value that
 * only makes sense swapped is swapped, as libpcap does), in network byte
 * order for OpenBSD's DLT_LOOP.  Families are OpenBSD's (AF_INET 2,
 * AF_INET6 24, AF_LINK 18, AF_MPLS 33); the AF_INET6 numbers of Linux (10),
 * FreeBSD (28) and macOS (30) are decoded too.  -e prints nothing more under
 * -n, as in the C code.
 */

import { default_print } from './print-hex.js';
import { ether_tryprint } from './print-ether.js';
import { ip_print } from './print-ip.js';
import { ip6_print } from './print-ip6.js';
import type { PrintState } from './print.js';

const NULL_HDRLEN = 4;
const AF_INET = 2;
const AF_NS = 6;
const AF_LINK = 18;
const AF_INET6 = 24;
const AF_MPLS = 33;

export function null_if_print(st: PrintState, p: number, caplen: number, length: number): void {
  if (caplen < NULL_HDRLEN) {
    st.out.str('[|null]');
    st.out.nl();
    return;
  }
  const b = st.buf;
  let family = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  if ((family & 0xffff0000) !== 0 && (family & 0xffff) === 0) family = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  family_print(st, p, caplen, length, family);
}

export function loop_if_print(st: PrintState, p: number, caplen: number, length: number): void {
  if (caplen < NULL_HDRLEN) {
    st.out.str('[|null]');
    st.out.nl();
    return;
  }
  const b = st.buf;
  family_print(st, p, caplen, length, ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0);
}

function family_print(st: PrintState, p: number, caplen: number, length: number, family: number): void {
  const out = st.out;
  st.packetp = p;
  length = (length - NULL_HDRLEN) >>> 0;
  if (family === 10 || family === 28 || family === 30) family = AF_INET6;
  if (st.eflag && (!st.nflag || family === AF_LINK)) {
    switch (family) {
      case AF_INET:
        out.str('ip: ');
        break;
      case AF_INET6:
        out.str('ip6: ');
        break;
      case AF_NS:
        out.str('ns: ');
        break;
      case AF_LINK:
        break;
      case AF_MPLS:
        out.str('mpls: ');
        break;
      default:
        out.str('AF ');
        out.dec(family);
        out.str(': ');
        break;
    }
  }
  switch (family) {
    case AF_INET:
      ip_print(st, p + NULL_HDRLEN, length);
      break;
    case AF_INET6:
      ip6_print(st, p + NULL_HDRLEN, length);
      break;
    case AF_LINK:
      // An Ethernet frame follows (as on OpenBSD's bridge and pair interfaces).
      ether_tryprint(st, p + NULL_HDRLEN, length, false);
      break;
  }
  if (st.xflag) default_print(st, p + NULL_HDRLEN, caplen - NULL_HDRLEN);
  out.nl();
}
