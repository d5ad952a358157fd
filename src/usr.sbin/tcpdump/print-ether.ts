/**
 * Ethernet: OpenBSD's print-ether.c.  ether_tryprint() walks the header,
 * hands 802.3 frames (type <= 1500) to llc_print() and everything else to
 * ether_encap_print(), which knows IPv4, IPv6, ARP/RARP, 802.1Q and 802.1ad
 * tags ("802.1Q vid 42 pri 3 ", "QinQ svid 100 pri 1 "), 802.1ah PBB, EAPOL
 * and MAC control.  -e prints "SRC DST TYPE LEN: " first (TYPE as four hex
 * digits under -n, a name otherwise); an unknown type prints that header
 * anyway, followed by a hex dump of the payload.
 */

import {
  ETHER_HDR_LEN,
  ETHERTYPE_8021Q,
  ETHERTYPE_ARP,
  ETHERTYPE_EAPOL,
  ETHERTYPE_IP,
  ETHERTYPE_IPV6,
  ETHERTYPE_PBB,
  ETHERTYPE_QINQ,
  ETHERTYPE_REVARP,
} from '../../wire/ether.js';
import { default_print } from './print-hex.js';
import { arp_print } from './print-arp.js';
import { ip_print } from './print-ip.js';
import { ip6_print } from './print-ip6.js';
import { llc_print } from './print-llc.js';
import type { PrintState } from './print.js';

/** Types up to this are 802.3 lengths. */
const ETHERMTU = 1500;
/** 802.3x MAC control (PAUSE); not in the wire layer's list. */
const ETHERTYPE_FLOWCONTROL = 0x8808;

/** libpcap's eproto_db: ether type names printed when -n is not given. */
const EPROTO_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0200, 'pup'],
  [0x0600, 'xns'],
  [0x0800, 'ip'],
  [0x86dd, 'ip6'],
  [0x0806, 'arp'],
  [0x8035, 'rarp'],
  [0x88cc, 'lldp'],
  [0x8809, 'slow'],
  [0x0500, 'sprite'],
  [0x6001, 'mopdl'],
  [0x6002, 'moprc'],
  [0x6003, 'decnet'],
  [0x6004, 'lat'],
  [0x6007, 'sca'],
  [0x8038, 'lanbridge'],
  [0x805b, 'vexp'],
  [0x805c, 'vprod'],
  [0x809b, 'atalk'],
  [0x80f3, 'atalkarp'],
  [0x9000, 'loopback'],
  [0x803e, 'decdts'],
  [0x803c, 'decdns'],
]);

/** addrtoname.c etheraddr_string: ether_ntoa text, or the hardwired names without -n. */
export function etheraddr_print(st: PrintState, o: number): void {
  const b = st.buf;
  if (!st.nflag) {
    if (b[o] === 0xff && b[o + 1] === 0xff && b[o + 2] === 0xff && b[o + 3] === 0xff && b[o + 4] === 0xff && b[o + 5] === 0xff) {
      st.out.str('Broadcast');
      return;
    }
    if (b[o] === 0x01 && b[o + 1] === 0x80 && b[o + 2] === 0xc2 && b[o + 3] === 0 && b[o + 4] === 0 && b[o + 5] === 0x0e) {
      st.out.str('LLDP_Multicast');
      return;
    }
  }
  st.out.mac(b, o);
}

/** addrtoname.c etherproto_string. */
export function etherproto_print(st: PrintState, type: number): void {
  if (!st.nflag) {
    const name = EPROTO_NAMES.get(type);
    if (name !== undefined) {
      st.out.str(name);
      return;
    }
  }
  st.out.hex(type, 4);
}

/** The -e header: "SRC DST TYPE LEN: ". */
export function ether_print(st: PrintState, p: number, length: number): void {
  const out = st.out;
  if (st.qflag) {
    if (p + 12 > st.snapend) {
      out.str('[|ether] ');
      return;
    }
    etheraddr_print(st, p + 6);
    out.ch(32);
    etheraddr_print(st, p);
    out.ch(32);
    out.dec(length);
    out.str(': ');
    return;
  }
  if (p + 14 > st.snapend) {
    out.str('[|ether] ');
    return;
  }
  etheraddr_print(st, p + 6);
  out.ch(32);
  etheraddr_print(st, p);
  out.ch(32);
  etherproto_print(st, (st.buf[p + 12]! << 8) | st.buf[p + 13]!);
  out.ch(32);
  out.dec(length);
  out.str(': ');
}

/** DLT_EN10MB: the whole line for one frame. */
export function ether_if_print(st: PrintState, p: number, length: number): void {
  ether_tryprint(st, p, length, true);
}

export function ether_tryprint(st: PrintState, p: number, length: number, first_header: boolean): void {
  const out = st.out;
  let caplen = st.snapend - p;
  if (caplen < ETHER_HDR_LEN) {
    out.str('[|ether]');
  } else {
    if (st.eflag) ether_print(st, p, length);
    st.packetp = p;
    length = (length - ETHER_HDR_LEN) >>> 0;
    caplen -= ETHER_HDR_LEN;
    const ep = p;
    p += ETHER_HDR_LEN;
    const ether_type = (st.buf[ep + 12]! << 8) | st.buf[ep + 13]!;
    st.extracted_ethertype = 0;
    if (ether_type <= ETHERMTU) {
      // 802.3: try the LLC header and what it carries.
      if (!llc_print(st, p, length, caplen, ep + 6, ep)) {
        if (!st.eflag) ether_print(st, ep, length);
        if (st.extracted_ethertype) {
          out.str('(LLC ');
          etherproto_print(st, st.extracted_ethertype);
          out.str(') ');
        }
        if (!st.xflag && !st.qflag) {
          if (st.eflag) default_print(st, st.packetp, st.snapend - st.packetp);
          else default_print(st, p, caplen);
        }
      }
    } else if (!ether_encap_print(st, ether_type, p, length, caplen)) {
      // Unknown type: the link header, then the payload in hex.
      if (!st.eflag) ether_print(st, ep, length + ETHER_HDR_LEN);
      if (!st.xflag && !st.qflag) {
        if (st.eflag) default_print(st, st.packetp, st.snapend - st.packetp);
        else default_print(st, p, caplen);
      }
    }
    if (st.xflag && first_header) {
      if (st.eflag) default_print(st, st.packetp, st.snapend - st.packetp);
      else default_print(st, p, caplen);
    }
  }
  if (first_header) out.nl();
}

/**
 * Print what an ether type carries; false when the type is not one this
 * printer knows (the caller then dumps the frame).
 */
export function ether_encap_print(st: PrintState, ethertype: number, p: number, length: number, caplen: number): boolean {
  const out = st.out;
  const b = st.buf;
  for (;;) {
    st.extracted_ethertype = ethertype;
    switch (ethertype) {
      case ETHERTYPE_IP:
        ip_print(st, p, length);
        return true;
      case ETHERTYPE_IPV6:
        ip6_print(st, p, length);
        return true;
      case ETHERTYPE_ARP:
      case ETHERTYPE_REVARP:
        arp_print(st, p, length, caplen);
        return true;
      case ETHERTYPE_8021Q:
      case ETHERTYPE_QINQ: {
        out.str(ethertype === ETHERTYPE_QINQ ? 'QinQ s' : '802.1Q ');
        // The C code reads the tag without a capture check; stop at the capture instead.
        if (caplen < 4) {
          out.str('[|vlan]');
          return true;
        }
        const tag = (b[p]! << 8) | b[p + 1]!;
        let pri = tag >>> 13;
        if (pri <= 1) pri = pri ? 0 : 1;
        out.str('vid ');
        out.dec(tag & 0xfff);
        out.str(' pri ');
        out.dec(pri);
        out.str(tag & 0x1000 ? ' dei ' : ' ');
        ethertype = (b[p + 2]! << 8) | b[p + 3]!;
        p += 4;
        length = (length - 4) >>> 0;
        caplen -= 4;
        if (ethertype > ETHERMTU) continue;
        st.extracted_ethertype = 0;
        if (!llc_print(st, p, length, caplen, p - 18, p - 12)) {
          if (!st.eflag) ether_print(st, p - 18, length + 4);
          if (st.extracted_ethertype) {
            out.str('(LLC ');
            etherproto_print(st, st.extracted_ethertype);
            out.str(') ');
          }
          if (!st.xflag && !st.qflag) default_print(st, p - 18, caplen + 4);
        }
        return true;
      }
      case ETHERTYPE_EAPOL:
        ether_eapol_print(st, p, length, caplen);
        return true;
      case ETHERTYPE_PBB:
        ether_pbb_print(st, p, length, caplen);
        return true;
      case ETHERTYPE_FLOWCONTROL:
        ether_macctl(st, p, length);
        return true;
      default:
        return false;
    }
  }
}

/** 802.1ah provider backbone bridging: the I-TAG, then the customer frame. */
function ether_pbb_print(st: PrintState, p: number, length: number, caplen: number): void {
  const out = st.out;
  if (caplen < 4) {
    out.str('[|pbb] ');
    return;
  }
  const b = st.buf;
  const itag = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  let pri = itag >>> 29;
  if (pri <= 1) pri = pri ? 0 : 1;
  const res = (itag >>> 24) & 7;
  out.str('802.1Q ivid ');
  out.dec(itag & 0xffffff);
  out.str(' pri ');
  out.dec(pri);
  out.ch(32);
  if (itag & (1 << 28)) out.str('dei ');
  if (itag & (1 << 27)) out.str('uca ');
  if (res) {
    out.str('res ');
    out.dec(res);
    out.str('! ');
  }
  ether_tryprint(st, p + 4, (length - 4) >>> 0, false);
}

function ether_macctl(st: PrintState, p: number, length: number): void {
  const out = st.out;
  out.str('MACCTL');
  // The C code checks the wire length only; the capture is checked here too.
  if (length < 2 || p + 2 > st.snapend) {
    out.str('[|MACCTL]');
    return;
  }
  const op = (st.buf[p]! << 8) | st.buf[p + 1]!;
  if (op === 0x0001) {
    out.str(' PAUSE');
    if (length - 2 < 2 || p + 4 > st.snapend) {
      out.str('[|MACCTL]');
      return;
    }
    out.str(' quanta ');
    out.dec(512 * ((st.buf[p + 2]! << 8) | st.buf[p + 3]!));
  } else {
    out.str(' unknown-opcode(0x');
    out.hex(op, 4);
    out.ch(41);
  }
}

const EAPOL_TYPES = [
  ' EAP',
  ' Start',
  ' Logoff',
  ' Key',
  '',
  ' MKA',
  ' Announcement (Generic)',
  ' Announcement (Specific)',
  ' Announcement Req',
];

function ether_eapol_print(st: PrintState, p: number, length: number, caplen: number): void {
  const out = st.out;
  out.str('EAPOL');
  if (caplen < 4) {
    out.str(' [|eapol] ');
    return;
  }
  const b = st.buf;
  const version = b[p]!;
  const type = b[p + 1]!;
  const hlen = (b[p + 2]! << 8) | b[p + 3]!;
  length = (length - 4) >>> 0;
  if (st.vflag) {
    out.str(' (v');
    out.dec(version);
    out.str(', len ');
    out.dec(hlen);
    out.ch(41);
  }
  if (length < hlen) {
    out.str(' truncated-eapol - ');
    out.dec(hlen - length);
    out.str(' bytes missing!');
  }
  if (type < EAPOL_TYPES.length && type !== 4) out.str(EAPOL_TYPES[type]!);
  else {
    out.str(' unknown (');
    out.dec(type);
    out.ch(41);
  }
}
