/**
 * ARP and RARP over Ethernet: OpenBSD's print-arp.c.
 * "arp who-has 192.0.2.254 tell 192.0.2.1", "arp reply 192.0.2.254 is-at
 * 02:00:00:00:00:02"; a hardware address in the ARP body that differs from
 * the Ethernet header's is added in parentheses.
 */

import { ARPHRD_ETHER, ARPOP_REPLY, ARPOP_REQUEST, ARPOP_REVREPLY, ARPOP_REVREQUEST } from '../../wire/arp.js';
import { ETHERTYPE_IP, ETHERTYPE_TRAIL } from '../../wire/ether.js';
import { default_print } from './print-hex.js';
import { etheraddr_print } from './print-ether.js';
import type { PrintState } from './print.js';

const ARP_LEN = 28;

function same6(b: Uint8Array, x: number, y: number): boolean {
  for (let i = 0; i < 6; i++) if (b[x + i] !== b[y + i]) return false;
  return true;
}

export function arp_print(st: PrintState, ap: number, length: number, caplen: number): void {
  const out = st.out;
  const b = st.buf;
  if (ap + ARP_LEN > st.snapend) {
    out.str('[|arp]');
    return;
  }
  if (length < ARP_LEN) {
    out.str('truncated-arp');
    default_print(st, ap, length);
    return;
  }
  const hrd = (b[ap]! << 8) | b[ap + 1]!;
  const pro = (b[ap + 2]! << 8) | b[ap + 3]!;
  const hln = b[ap + 4]!;
  const pln = b[ap + 5]!;
  const op = (b[ap + 6]! << 8) | b[ap + 7]!;
  const sha = ap + 8;
  const spa = ap + 14;
  const tha = ap + 18;
  const tpa = ap + 24;
  if ((pro !== ETHERTYPE_IP && pro !== ETHERTYPE_TRAIL) || hln !== 6 || pln !== 4) {
    out.str('arp-#');
    out.dec(op);
    out.str(' for proto #');
    out.dec(pro);
    out.str(' (');
    out.dec(pln);
    out.str(') hardware #');
    out.dec(hrd);
    out.str(' (');
    out.dec(hln);
    out.ch(41);
    return;
  }
  if (pro === ETHERTYPE_TRAIL) out.str('trailer-');
  const eh = st.packetp;
  switch (op) {
    case ARPOP_REQUEST:
      out.str('arp who-has ');
      out.ip4at(b, tpa);
      if (b[tha] | b[tha + 1] | b[tha + 2] | b[tha + 3] | b[tha + 4] | b[tha + 5]) {
        out.str(' (');
        etheraddr_print(st, tha);
        out.ch(41);
      }
      out.str(' tell ');
      out.ip4at(b, spa);
      if (!same6(b, eh + 6, sha)) {
        out.str(' (');
        etheraddr_print(st, sha);
        out.ch(41);
      }
      break;
    case ARPOP_REPLY:
      out.str('arp reply ');
      out.ip4at(b, spa);
      if (!same6(b, eh + 6, sha)) {
        out.str(' (');
        etheraddr_print(st, sha);
        out.ch(41);
      }
      out.str(' is-at ');
      etheraddr_print(st, sha);
      if (!same6(b, eh, tha)) {
        out.str(' (');
        etheraddr_print(st, tha);
        out.ch(41);
      }
      break;
    case ARPOP_REVREQUEST:
      out.str('rarp who-is ');
      etheraddr_print(st, tha);
      out.str(' tell ');
      etheraddr_print(st, sha);
      break;
    case ARPOP_REVREPLY:
      out.str('rarp reply ');
      etheraddr_print(st, tha);
      out.str(' at ');
      out.ip4at(b, tpa);
      break;
    default:
      out.str('arp-#');
      out.dec(op);
      default_print(st, ap, caplen);
      return;
  }
  if (hrd !== ARPHRD_ETHER) {
    out.str(' hardware #');
    out.dec(hrd);
  }
}
