/**
 * ICMPv6: OpenBSD's print-icmp6.c.  ip6_print has printed "SRC > DST: "
 * already; this prints "icmp6: echo request" (-v adds " (id:1234 seq:1)"),
 * the errors ("icmp6: 2001:db8::2 udp port 2 unreachable", "icmp6: too big
 * 1280", ...), neighbour discovery ("icmp6: neighbor sol: who has X",
 * "icmp6: neighbor adv: tgt is X", router solicitation/advertisement,
 * redirect, with their options under -v), MLD v1 and v2, router renumbering
 * and node information ("who-are-you"), then with -v the checksum note.
 * Unlike print-icmp.c, text is printed as it goes, so a short capture can
 * end in "[|icmp6]" after a partial message, as OpenBSD's does.
 */

import { IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../../wire/ip4.js';
import { checksum, pseudoSum6 } from '../../wire/checksum.js';
import { etheraddr_print } from './print-ether.js';
import { in_cksum_shouldbe } from './print-ip.js';
import type { PrintState } from './print.js';

/** Marker for a field that was not captured (the C code's goto trunc). */
const TRUNC = false;

const scratch6 = new Uint8Array(16);

function get16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function get32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function icmp6_print(st: PrintState, bp: number, length: number, ip6: number): void {
  const out = st.out;
  const b = st.buf;
  if (!icmp6_body(st, bp, length, ip6)) {
    out.str('[|icmp6]');
    return;
  }
  if (st.vflag && bp + length <= st.snapend) {
    const sum = checksum(b, bp, length, pseudoSum6(b, ip6 + 8, ip6 + 24, IPPROTO_ICMPV6, length));
    if (sum !== 0) {
      const field = get16(b, bp + 2);
      out.str(' [bad icmp6 cksum ');
      out.hex(field);
      out.str('! -> ');
      out.hex(in_cksum_shouldbe(field, sum));
      out.ch(93);
    } else out.str(' [icmp6 cksum ok]');
  }
}

function icmp6_body(st: PrintState, bp: number, length: number, ip6: number): boolean {
  const out = st.out;
  const b = st.buf;
  const ep = st.snapend;
  const oip = bp + 8;
  const plen = get16(b, ip6 + 4);
  const icmp6len = plen ? plen + 40 - (bp - ip6) : ep - bp;
  if (bp + 2 > ep) return TRUNC;
  const type = b[bp]!;
  const code = b[bp + 1]!;
  switch (type) {
    case 1: // destination unreachable
      if (oip + 40 > ep) return TRUNC;
      switch (code) {
        case 0:
          out.str('icmp6: ');
          out.ip6(b, oip + 24);
          out.str(' unreachable route');
          break;
        case 1:
          out.str('icmp6: ');
          out.ip6(b, oip + 24);
          out.str(' unreachable prohibited');
          break;
        case 2:
          out.str('icmp6: ');
          out.ip6(b, oip + 24);
          out.str(' beyond scope of source address ');
          out.ip6(b, oip + 8);
          break;
        case 3:
          out.str('icmp6: ');
          out.ip6(b, oip + 24);
          out.str(' unreachable address');
          break;
        case 4: {
          if (oip + 44 > ep) return TRUNC;
          const dport = get16(b, oip + 42);
          const nxt = b[oip + 6]!;
          out.str('icmp6: ');
          out.ip6(b, oip + 24);
          if (nxt === IPPROTO_TCP || nxt === IPPROTO_UDP) {
            out.str(nxt === IPPROTO_TCP ? ' tcp port ' : ' udp port ');
            out.dec(dport);
          } else {
            out.str(' protocol ');
            out.dec(nxt);
            out.str(' port ');
            out.dec(dport);
          }
          out.str(' unreachable');
          break;
        }
        default:
          out.str('icmp6: ');
          out.ip6(b, oip + 24);
          out.str(' unreachable code-#');
          out.dec(code);
          break;
      }
      break;
    case 2: // packet too big
      if (bp + 8 > ep) return TRUNC;
      out.str('icmp6: too big ');
      out.dec(get32(b, bp + 4));
      break;
    case 3: // time exceeded
      if (oip + 40 > ep) return TRUNC;
      if (code === 0) {
        out.str('icmp6: time exceeded in-transit for ');
        out.ip6(b, oip + 24);
      } else if (code === 1) out.str('icmp6: ip6 reassembly time exceeded');
      else {
        out.str('icmp6: time exceeded code-#');
        out.dec(code);
      }
      break;
    case 4: // parameter problem
      if (oip + 40 > ep) return TRUNC;
      if (code <= 2) {
        out.str(
          code === 0
            ? 'icmp6: parameter problem erroneous - octet '
            : code === 1
              ? 'icmp6: parameter problem next header - octet '
              : 'icmp6: parameter problem option - octet ',
        );
        out.dec(get32(b, bp + 4));
      } else {
        out.str('icmp6: parameter problem code-#');
        out.dec(code);
      }
      break;
    case 128:
    case 129:
      out.str(type === 128 ? 'icmp6: echo request' : 'icmp6: echo reply');
      if (st.vflag) {
        if (bp + 8 > ep) return TRUNC;
        out.str(' (id:');
        out.hex(get16(b, bp + 4), 4);
        out.str(' seq:');
        out.dec(get16(b, bp + 6));
        out.ch(41);
      }
      break;
    case 130: // MLD query
      out.str('icmp6: multicast listener query ');
      if (length === 24) mld6_print(st, bp);
      else if (length >= 28) {
        out.str('v2 ');
        mldv2_query_print(st, bp, length);
        break;
      } else {
        out.str('unknown-version (len ');
        out.dec(length);
        out.str(') ');
      }
      break;
    case 131:
      out.str('icmp6: multicast listener report ');
      mld6_print(st, bp);
      break;
    case 132:
      out.str('icmp6: multicast listener done ');
      mld6_print(st, bp);
      break;
    case 133: // router solicitation
      out.str('icmp6: router solicitation ');
      if (st.vflag) icmp6_opt_print(st, bp + 8, icmp6len - 8);
      break;
    case 134: {
      // router advertisement
      out.str('icmp6: router advertisement');
      if (st.vflag) {
        if (bp + 16 > ep) return TRUNC;
        const flags = b[bp + 5]!;
        out.str('(chlim=');
        out.dec(b[bp + 4]!);
        out.str(', ');
        if (flags & 0x80) out.ch(77);
        if (flags & 0x40) out.ch(79);
        if (flags & 0xc0) out.str(', ');
        pref_print(st, flags);
        out.str('router_ltime=');
        out.dec(get16(b, bp + 6));
        out.str(', reachable_time=');
        out.dec(get32(b, bp + 8));
        out.str(', retrans_time=');
        out.dec(get32(b, bp + 12));
        out.ch(41);
        icmp6_opt_print(st, bp + 16, icmp6len - 16);
      }
      break;
    }
    case 135: // neighbour solicitation
      if (bp + 24 > ep) return TRUNC;
      out.str('icmp6: neighbor sol: who has ');
      out.ip6(b, bp + 8);
      if (st.vflag) icmp6_opt_print(st, bp + 24, icmp6len - 24);
      break;
    case 136: {
      // neighbour advertisement
      if (bp + 24 > ep) return TRUNC;
      out.str('icmp6: neighbor adv: tgt is ');
      out.ip6(b, bp + 8);
      if (st.vflag) {
        const flags = b[bp + 4]!;
        if (flags & 0xe0) {
          out.ch(40);
          if (flags & 0x80) out.ch(82);
          if (flags & 0x40) out.ch(83);
          if (flags & 0x20) out.ch(79);
          out.ch(41);
        }
        icmp6_opt_print(st, bp + 24, icmp6len - 24);
      }
      break;
    }
    case 137: // redirect
      if (bp + 40 > ep) return TRUNC;
      out.str('icmp6: redirect ');
      out.ip6(b, bp + 24);
      out.str(' to ');
      out.ip6(b, bp + 8);
      if (st.vflag) icmp6_opt_print(st, bp + 40, icmp6len - 40);
      break;
    case 138: // router renumbering
      if (code === 0) out.str('icmp6: router renum command');
      else if (code === 1) out.str('icmp6: router renum result');
      else {
        out.str('icmp6: router renum code-#');
        out.dec(code);
      }
      break;
    case 139: {
      // who-are-you request / FQDN query
      const siz = ep - (bp + 8);
      if (siz === 4) out.str('icmp6: who-are-you request');
      else {
        out.str('icmp6: FQDN request');
        if (st.vflag) {
          if (siz < 8) {
            out.str('?(icmp6_data ');
            out.dec(siz);
            out.str(' bytes)');
          } else if (8 < siz) {
            out.str('?(extra ');
            out.dec(siz - 8);
            out.str(' bytes)');
          }
        }
      }
      break;
    }
    case 140:
      wru_reply_print(st, bp, code);
      break;
    case 143:
      out.str('multicast listener report v2');
      mldv2_report_print(st, bp, length);
      break;
    default:
      out.str('icmp6: type-#');
      out.dec(type);
      break;
  }
  return true;
}

function pref_print(st: PrintState, flags: number): void {
  switch (flags & 0x18) {
    case 0x08:
      st.out.str('pref=high, ');
      break;
    case 0x00:
      st.out.str('pref=medium, ');
      break;
    case 0x18:
      st.out.str('pref=low, ');
      break;
    default:
      st.out.str('pref=rsv, ');
      break;
  }
}

function isprint(c: number): boolean {
  return c >= 0x20 && c < 0x7f;
}

/** Node information reply, guessed to be who-are-you or FQDN as the C code guesses. */
function wru_reply_print(st: PrintState, bp: number, code: number): void {
  const out = st.out;
  const ep = st.snapend;
  const buf = bp + 8;
  const namelen = st.byteAt(buf + 12);
  const avail = ep - buf - 13;
  let mode = 0; // 0 unknown, 1 who-are-you, 2 FQDN
  if (namelen === avail) mode = 2;
  else if (code === 1) mode = 2;
  if (mode === 0) {
    for (let cp = buf + 4; cp < ep; cp++) if (!isprint(st.buf[cp]!)) mode = 2;
  }
  if (mode === 0 && Math.abs(namelen - avail) > 2) mode = 1;
  if (mode === 0) mode = 2;
  let cp: number;
  if (mode === 1) {
    cp = buf + 4;
    out.str('icmp6: who-are-you reply("');
  } else {
    cp = buf + 13;
    out.str('icmp6: FQDN reply("');
  }
  for (; cp < ep; cp++) {
    const c = st.buf[cp]!;
    if (isprint(c)) out.ch(c);
    else {
      out.ch(92);
      out.dec0(((c >>> 6) & 7) * 100 + ((c >>> 3) & 7) * 10 + (c & 7), 3);
    }
  }
  out.ch(34);
  if (st.vflag) {
    out.str(mode === 2 ? ',FQDN' : ',WRU');
    if (mode === 2) {
      const ttl = (st.byteAt(buf + 8) << 24) | (st.byteAt(buf + 9) << 16) | (st.byteAt(buf + 10) << 8) | st.byteAt(buf + 11);
      if (code === 1) out.str(',TTL=unknown');
      else if (ttl < 0) {
        out.str(',TTL=');
        out.dec(ttl);
        out.str(':invalid');
      } else {
        out.str(',TTL=');
        out.dec(ttl);
      }
      if (namelen !== avail) {
        out.str(',invalid namelen:');
        out.dec(namelen);
        out.ch(47);
        out.dec(avail >>> 0);
      }
    }
  }
  out.ch(41);
}

/** Neighbour discovery options; the C code recurses once per option, this loops. */
function icmp6_opt_print(st: PrintState, bp: number, resid: number): void {
  const out = st.out;
  const b = st.buf;
  const ep = st.snapend;
  for (;;) {
    if (bp + 2 > ep) return;
    if (resid <= 0) return;
    const olen = b[bp + 1]!;
    if (olen === 0 || bp + (olen << 3) > ep) {
      out.str('[ndp opt]');
      return;
    }
    const otype = b[bp]!;
    let step = olen;
    switch (otype) {
      case 1:
      case 2:
        out.str(otype === 1 ? '(src lladdr: ' : '(tgt lladdr: ');
        etheraddr_print(st, bp + 2);
        if (olen !== 1) out.ch(33);
        out.ch(41);
        break;
      case 3: {
        // prefix information
        if (bp + 32 > ep) {
          out.str('[ndp opt]');
          return;
        }
        const flags = b[bp + 3]!;
        out.str('(prefix info: ');
        if (flags & 0x80) out.ch(76);
        if (flags & 0x40) out.ch(65);
        if (flags) out.ch(32);
        out.str('valid_ltime=');
        lifetime_print(st, get32(b, bp + 4));
        out.str(', preferred_ltime=');
        lifetime_print(st, get32(b, bp + 8));
        out.str(', prefix=');
        out.ip6(b, bp + 16);
        out.ch(47);
        out.dec(b[bp + 2]!);
        if (olen !== 4) out.ch(33);
        out.ch(41);
        break;
      }
      case 4:
        out.str('(redirect)');
        break;
      case 5:
        if (bp + 8 > ep) {
          out.str('[ndp opt]');
          return;
        }
        out.str('(mtu: mtu=');
        out.dec(get32(b, bp + 4));
        if (olen !== 1) out.ch(33);
        out.ch(41);
        break;
      case 24: {
        // route information
        if (bp + 8 > ep) {
          out.str('[ndp opt]');
          return;
        }
        out.str('(route-info: ');
        scratch6.fill(0);
        if (olen === 2) {
          if (bp + 16 > ep) {
            out.str('[ndp opt]');
            return;
          }
          scratch6.set(b.subarray(bp + 8, bp + 16));
        } else if (olen === 3) {
          if (bp + 24 > ep) {
            out.str('[ndp opt]');
            return;
          }
          scratch6.set(b.subarray(bp + 8, bp + 24));
        } else if (olen !== 1) {
          out.str('[ndp opt]');
          return;
        }
        out.ip6(scratch6, 0);
        out.ch(47);
        out.dec(b[bp + 2]!);
        out.str(', ');
        pref_print(st, b[bp + 3]!);
        out.str('lifetime=');
        out.dec(get32(b, bp + 4));
        out.str('s)');
        break;
      }
      case 25: {
        // recursive DNS servers
        out.str('(rdnss: ');
        if (bp + 8 > ep) {
          out.str('[ndp opt]');
          return;
        }
        out.str('lifetime=');
        out.dec(get32(b, bp + 4));
        out.ch(115);
        if (olen < 3) out.ch(33);
        else {
          const n = (olen - 1) >>> 1;
          for (let i = 0; i < n; i++) {
            const a = bp + 8 + 16 * i;
            if (a + 16 > ep) {
              out.str('[ndp opt]');
              return;
            }
            out.str(', addr=');
            out.ip6(b, a);
          }
        }
        out.ch(41);
        break;
      }
      case 31:
        out.str('(dnssl: opt_len=');
        out.dec(olen);
        out.ch(41);
        break;
      default:
        out.str('(unknown opt_type=');
        out.dec(otype);
        out.str(', opt_len=');
        out.dec(olen);
        out.ch(41);
        if (step === 0) step = 1;
        break;
    }
    bp += step << 3;
    resid -= step << 3;
  }
}

function lifetime_print(st: PrintState, v: number): void {
  if (v === 0xffffffff) st.out.str('infinity');
  else st.out.dec(v);
}

function mld6_print(st: PrintState, bp: number): void {
  if (bp + 24 > st.snapend) return;
  st.out.str('max resp delay: ');
  st.out.dec(get16(st.buf, bp + 4));
  st.out.str(' addr: ');
  st.out.ip6(st.buf, bp + 8);
}

function swap16(v: number): number {
  return ((v & 0xff) << 8) | (v >>> 8);
}

/** The MLDv2 printers end their own truncated output; the checksum note may still follow. */
function mld_trunc(st: PrintState): void {
  st.out.str('[|icmp6]');
}

function mldv2_query_print(st: PrintState, bp: number, len: number): void {
  const out = st.out;
  const b = st.buf;
  const ep = st.snapend;
  if (len < 28) {
    out.str(' [invalid len ');
    out.dec(len);
    out.ch(93);
    return;
  }
  if (bp + 6 > ep) return mld_trunc(st);
  const mrc = get16(b, bp + 4);
  let mrd = mrc;
  if (mrc & 0x8000) {
    // MLD_MRC_MANT/EXP swap bytes again in the C code: the value is read twice converted.
    const x = swap16(mrc);
    mrd = ((x & 0x0fff) | 0x1000) << (((x >>> 12) & 7) + 3);
  }
  if (st.vflag) {
    out.str(' [max resp delay=');
    out.dec(mrd);
    out.ch(93);
  }
  if (bp + 24 > ep) return mld_trunc(st);
  out.str(' [gaddr ');
  out.ip6(b, bp + 8);
  if (st.vflag) {
    if (bp + 26 > ep) return mld_trunc(st);
    const qrv = b[bp + 24]!;
    if (qrv & 8) out.str(' sflag');
    if (qrv & 7) {
      out.str(' robustness=');
      out.dec(qrv & 7);
    }
    const qqic = b[bp + 25]!;
    out.str(' qqi=');
    out.dec(qqic & 0x80 ? ((qqic & 0x0f) | 0x10) << (((qqic >>> 4) & 7) + 3) : qqic);
  }
  if (bp + 28 > ep) return mld_trunc(st);
  const nsrcs = get16(b, bp + 26);
  if (nsrcs > 0) {
    if (len < 28 + nsrcs * 16) out.str(' [invalid number of sources]');
    else if (st.vflag > 1) {
      out.str(' {');
      for (let i = 0; i < nsrcs; i++) {
        const a = bp + 28 + 16 * i;
        if (a + 16 > ep) return mld_trunc(st);
        out.ch(32);
        out.ip6(b, a);
      }
      out.str(' }');
    } else {
      out.str(', ');
      out.dec(nsrcs);
      out.str(' source(s)');
    }
  }
  out.ch(93);
}

const MLDV2_REPORT_TYPES = ['', 'is_in', 'is_ex', 'to_in', 'to_ex', 'allow', 'block'];

function mldv2_report_print(st: PrintState, bp: number, len: number): void {
  const out = st.out;
  const b = st.buf;
  const ep = st.snapend;
  if (len < 8) {
    out.str(' [invalid len ');
    out.dec(len);
    out.ch(93);
    return;
  }
  if (bp + 8 > ep) return mld_trunc(st);
  const ngroups = get16(b, bp + 6);
  out.str(', ');
  out.dec(ngroups);
  out.str(' group record(s)');
  if (st.vflag > 0) {
    let group = 8;
    for (let i = 0; i < ngroups; i++) {
      if (len < group + 20) {
        out.str(' [invalid number of groups]');
        return;
      }
      if (bp + group + 4 + 16 > ep) return mld_trunc(st);
      out.str(' [gaddr ');
      out.ip6(b, bp + group + 4);
      out.ch(32);
      const rt = b[bp + group]!;
      if (rt >= 1 && rt <= 6) out.str(MLDV2_REPORT_TYPES[rt]!);
      else {
        out.str(' [v2-report-#');
        out.dec(rt);
        out.ch(93);
      }
      const nsrcs = get16(b, bp + group + 2);
      if (len < group + 20 + nsrcs * 16) {
        out.str(' [invalid number of sources ');
        out.dec(nsrcs);
        out.ch(93);
        return;
      }
      if (st.vflag === 1) {
        out.str(', ');
        out.dec(nsrcs);
        out.str(' source(s)');
      } else {
        out.str(' {');
        for (let j = 0; j < nsrcs; j++) {
          const a = bp + group + 20 + 16 * j;
          if (a + 16 > ep) return mld_trunc(st);
          out.ch(32);
          out.ip6(b, a);
        }
        out.str(' }');
      }
      group += 20 + nsrcs * 16;
      out.ch(93);
    }
  }
}
