/**
 * IEEE 802.2 LLC: OpenBSD's print-llc.c.  SNAP frames with an ether type go
 * back to ether_encap_print(); everything else prints the SAPs and the
 * control field ("sap 42 > sap 42 ui/C len=35"-style, with the MAC addresses
 * in front unless -e printed them already).
 *
 * Not decoded here (OpenBSD hands them to printers this port lacks): IPX,
 * ISO CLNS, spanning tree and CDP; they print as plain LLC frames.
 */

import { default_print } from './print-hex.js';
import { etheraddr_print, ether_encap_print } from './print-ether.js';
import type { PrintState } from './print.js';

const LLC_U_FMT = 3;
const LLC_GSAP = 1;
const LLC_S_FMT = 1;
const LLC_U_POLL = 0x10;
const LLC_XID_FI = 0x81;
const LLC_XID = 0xaf;
const LLCSAP_SNAP = 0xaa;
const LLC_UI = 0x03;

const LLCSAP_NAMES: ReadonlyMap<number, string> = new Map([
  [0x00, 'null'],
  [0x02, '802.1b-gsap'],
  [0x03, '802.1b-isap'],
  [0x06, 'ip-sap'],
  [0x0e, 'proway-nm'],
  [0x42, '802.1d'],
  [0x4e, 'eia-rs511'],
  [0x7e, 'x.25/llc2'],
  [0x8e, 'proway'],
  [0xfe, 'iso-clns'],
  [0xff, 'global'],
]);

const CMD_NAMES: ReadonlyMap<number, string> = new Map([
  [0x03, 'ui'],
  [0xe3, 'test'],
  [0xaf, 'xid'],
  [0x63, 'ua'],
  [0x43, 'disc'],
  [0x0f, 'dm'],
  [0x6f, 'sabme'],
  [0x87, 'frmr'],
]);

const S_NAMES = ['rr', 'rej', 'rnr', '03'];

function llcsap_print(st: PrintState, sap: number): void {
  const name = st.nflag ? undefined : LLCSAP_NAMES.get(sap);
  if (name !== undefined) st.out.str(name);
  else {
    st.out.str('sap ');
    st.out.hex(sap, 2);
  }
}

/** True when the frame was printed. */
export function llc_print(st: PrintState, p: number, length: number, caplen: number, esrc: number, edst: number): boolean {
  const out = st.out;
  const b = st.buf;
  if (caplen < 3) {
    out.str('[|llc]');
    default_print(st, p, caplen);
    return false;
  }
  const dsap = b[p]!;
  const ssap = b[p + 1]!;
  const llcu = b[p + 2]!;

  if (ssap === LLCSAP_SNAP && dsap === LLCSAP_SNAP && llcu === LLC_UI) {
    if (caplen < 8) {
      out.str('[|llc-snap]');
      default_print(st, p, caplen);
      return false;
    }
    if (st.vflag) {
      out.str('snap ');
      protoid_print(st, p + 3);
      out.ch(32);
    }
    const et = (b[p + 6]! << 8) | b[p + 7]!;
    if (ether_encap_print(st, et, p + 8, (length - 8) >>> 0, caplen - 8)) return true;
  }

  if ((ssap & ~LLC_GSAP) === dsap) {
    if (!st.eflag) {
      etheraddr_print(st, esrc);
      out.str(' > ');
      etheraddr_print(st, edst);
      out.ch(32);
    }
    llcsap_print(st, dsap);
    out.ch(32);
  } else {
    if (st.eflag) {
      llcsap_print(st, ssap & ~LLC_GSAP);
      out.str(' > ');
      llcsap_print(st, dsap);
      out.ch(32);
    } else {
      etheraddr_print(st, esrc);
      out.ch(32);
      llcsap_print(st, ssap & ~LLC_GSAP);
      out.str(' > ');
      etheraddr_print(st, edst);
      out.ch(32);
      llcsap_print(st, dsap);
      out.ch(32);
    }
  }

  const f = 'CRPF'.charCodeAt(((ssap & LLC_GSAP) | ((llcu & LLC_U_POLL) >>> 3)) & 3);
  if ((llcu & LLC_U_FMT) === LLC_U_FMT) {
    const m = CMD_NAMES.get(llcu & 0xef);
    if (m !== undefined) out.str(m);
    else out.hex(llcu & 0xef, 2);
    out.ch(47);
    out.ch(f);
    if (caplen < 6) {
      default_print(st, p, caplen);
      return false;
    }
    p += 3;
    length -= 3;
    if ((llcu & ~LLC_U_POLL) === LLC_XID && b[p] === LLC_XID_FI) {
      out.str(': ');
      out.hex(b[p + 1]!, 2);
      out.ch(32);
      out.hex(b[p + 2]!, 2);
      length -= 3;
    }
  } else {
    if (caplen < 4) {
      default_print(st, p, caplen);
      return false;
    }
    const is = (b[p + 2]! << 8) | b[p + 3]!;
    if ((llcu & LLC_S_FMT) === LLC_S_FMT) {
      out.str(S_NAMES[(is >>> 10) & 3]!);
      out.str(' (r=');
      out.dec((is >>> 1) & 0x7f);
    } else {
      out.str('I (s=');
      out.dec((is >>> 9) & 0x7f);
      out.str(',r=');
      out.dec((is >>> 1) & 0x7f);
    }
    out.ch(44);
    out.ch(f);
    out.ch(41);
    length -= 4;
  }
  out.str(' len=');
  out.dec(length | 0);
  return true;
}

/** addrtoname.c protoid_string: five octets as "%x:%x:..." (or an ether type name for org 0:0:0 without -n). */
function protoid_print(st: PrintState, o: number): void {
  const b = st.buf;
  const out = st.out;
  if (!st.nflag && b[o] === 0 && b[o + 1] === 0 && b[o + 2] === 0) {
    const t = (b[o + 3]! << 8) | b[o + 4]!;
    if (t === 0x0800 || t === 0x86dd || t === 0x0806 || t === 0x8035) {
      out.str(t === 0x0800 ? 'ip' : t === 0x86dd ? 'ip6' : t === 0x0806 ? 'arp' : 'rarp');
      return;
    }
  }
  for (let i = 0; i < 5; i++) {
    if (i) out.ch(58);
    out.hex(b[o + i]!);
  }
}
