/**
 * IPsec headers: esp_print and ah_print of OpenBSD's print-ipsec.c.
 * ESP: "esp spi 0x10000861 seq 1 len 40" (ip_print/ip6_print put
 * "SRC > DST: " in front); AH: "ah SRC > DST spi 0x... seq N len N", with
 * -v the protected payload in " [ ... ]".  Decryption (tcpdump -E) is not
 * supported.
 */

import { IPPROTO_AH, IPPROTO_ESP, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IPIP, IPPROTO_TCP, IPPROTO_UDP } from '../../wire/ip4.js';
import { icmp6_print } from './print-icmp6.js';
import { icmp_print } from './print-icmp.js';
import { ip_print } from './print-ip.js';
import { tcp_print } from './print-tcp.js';
import { udp_print } from './print-udp.js';
import type { PrintState } from './print.js';

function get32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function esp_print(st: PrintState, bp: number, len: number, _ip: number): void {
  const out = st.out;
  // The C code checks only the IP length; the capture is checked too, so nothing past it is read.
  if (len < 8 || bp + 8 > st.snapend) {
    out.str('[|esp]');
    return;
  }
  out.str('esp spi 0x');
  out.hex(get32(st.buf, bp), 8);
  out.str(' seq ');
  out.dec(get32(st.buf, bp + 4));
  out.str(' len ');
  out.dec(len);
}

export function ah_print(st: PrintState, bp: number, len: number, ip: number): void {
  const out = st.out;
  const b = st.buf;
  out.str('ah ');
  if (b[ip]! >>> 4 === 6) {
    out.ip6(b, ip + 8);
    out.str(' > ');
    out.ip6(b, ip + 24);
  } else {
    out.ip4at(b, ip + 12);
    out.str(' > ');
    out.ip4at(b, ip + 16);
  }
  if (len < 12 || bp + 12 > st.snapend) {
    out.str('[|ah]');
    return;
  }
  out.str(' spi 0x');
  out.hex(get32(b, bp + 4), 8);
  out.str(' seq ');
  out.dec(get32(b, bp + 8));
  out.str(' len ');
  out.dec(len);
  if (!st.vflag) return;
  out.str(' [ ');
  const pl_len = (b[bp + 1]! + 2) << 2;
  if (len <= pl_len) out.str('truncated');
  else {
    const p = bp + pl_len;
    const n = len - pl_len;
    const nxt = b[bp]!;
    switch (nxt) {
      case IPPROTO_IPIP:
        ip_print(st, p, n);
        break;
      case IPPROTO_ICMP:
        icmp_print(st, p, n, ip);
        break;
      case IPPROTO_ICMPV6:
        icmp6_print(st, p, n, ip);
        break;
      case IPPROTO_TCP:
        tcp_print(st, p, n, ip);
        break;
      case IPPROTO_UDP:
        udp_print(st, p, n, ip);
        break;
      case IPPROTO_ESP:
        esp_print(st, p, n, ip);
        break;
      case IPPROTO_AH:
        ah_print(st, p, n, ip);
        break;
      default:
        out.str('ip-proto-');
        out.dec(nxt);
        out.str(' len ');
        out.dec(n);
        break;
    }
  }
  out.str(' ]');
}
