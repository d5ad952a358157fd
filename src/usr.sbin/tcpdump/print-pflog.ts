/**
 * print-pflog.c: packets logged by pf(4) to pflog(4).  The pfloghdr in
 * front says which rule (`rule 3`, `rule 0.anchor.2`, `def` for the
 * default rule), why (`match`, `state-mismatch`...), what (pass, block,
 * match...), which way and on which interface; -e prints it, then the IPv4
 * or IPv6 packet follows as usual.
 */
import { default_print } from './print-hex.js';
import { ip_print } from './print-ip.js';
import { ip6_print } from './print-ip6.js';
import type { PrintState } from './print.js';
import { formatIp4, formatIp6 } from '../../wire/addr.js';

const MIN_PFLOG_HDRLEN = 45;
const PF_REASONS = [
  'match', 'bad-offset', 'fragment', 'short', 'normalize', 'memory', 'bad-timestamp', 'congestion', 'ip-option',
  'proto-cksum', 'state-mismatch', 'state-insert', 'state-limit', 'src-limit', 'synproxy', 'translate', 'no-route',
];
const ACTIONS: Record<number, string> = { 0: 'pass', 1: 'block', 2: 'scrub', 4: 'nat', 5: 'nat', 6: 'binat', 7: 'binat', 8: 'rdr', 9: 'rdr', 12: 'match' };

function cstr(st: PrintState, off: number, size: number): string {
  let s = '';
  for (let i = 0; i < size; i++) {
    const c = st.byteAt(off + i);
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/** inet_ntop() of the header's address at o and its port at po, "?" for a family it does not know */
function ntop(st: PrintState, af: number, o: number, po: number): string {
  const port = (st.buf[po]! << 8) | st.buf[po + 1]!;
  if (af === 2) return `${formatIp4(u32(st, o))}:${port}`;
  if (af === 24) return `${formatIp6(st.buf, o)}:${port}`;
  return '?';
}

function u32(st: PrintState, o: number): number {
  return ((st.byteAt(o) << 24) | (st.byteAt(o + 1) << 16) | (st.byteAt(o + 2) << 8) | st.byteAt(o + 3)) >>> 0;
}

function le32(st: PrintState, o: number): number {
  return (st.byteAt(o) | (st.byteAt(o + 1) << 8) | (st.byteAt(o + 2) << 16) | (st.byteAt(o + 3) << 24)) >>> 0;
}

export function pflog_if_print(st: PrintState, p: number, caplen: number, length: number): void {
  const out = st.out;
  if (caplen < 1) {
    out.str('[|pflog]');
    out.nl();
    return;
  }
  const hlen = st.buf[p]!;
  if (hlen < MIN_PFLOG_HDRLEN) {
    out.str('[pflog: invalid header length!]');
    out.nl();
    return;
  }
  const hdrlen = (hlen + 3) & 0xfc;
  if (caplen < hdrlen) {
    out.str('[|pflog]');
    out.nl();
    return;
  }
  st.packetp = p;
  if (st.eflag) {
    out.str('rule ');
    const rulenr = u32(st, p + 36);
    if (rulenr === 0xffffffff) out.str('def');
    else {
      out.dec(rulenr);
      const ruleset = cstr(st, p + 20, 16);
      if (ruleset) {
        out.str(`.${ruleset}`);
        const sub = u32(st, p + 40);
        if (sub === 0xffffffff) out.str('.def');
        else {
          out.ch(46);
          out.dec(sub);
        }
      }
    }
    const reason = st.buf[p + 3]!;
    out.str(reason < PF_REASONS.length ? `/(${PF_REASONS[reason]}) ` : `/(unkn ${reason}) `);
    if (st.vflag) out.str(`[uid ${le32(st, p + 52)}, pid ${le32(st, p + 56)}] `);
    out.str(ACTIONS[st.buf[p + 2]!] ?? '');
    out.str(` ${st.buf[p + 60] === 2 ? 'out' : 'in'} on ${cstr(st, p + 4, 16)}: `);
    if (st.vflag && le32(st, p + 48) !== 100000) out.str(`[uid ${le32(st, p + 44)}, pid ${le32(st, p + 48)}] `);
    // the addresses and ports pf translated the packet to, in the address family it left in (naf)
    if (st.vflag && st.buf[p + 61] !== 0) {
      const naf = st.buf[p + 62]!;
      out.str(`[rewritten: src ${ntop(st, naf, p + 64, p + 96)}, dst ${ntop(st, naf, p + 80, p + 98)}] `);
    }
  }
  const af = st.buf[p + 1]!;
  const n = length - hdrlen;
  if (af === 2) ip_print(st, p + hdrlen, n);
  else if (af === 24) ip6_print(st, p + hdrlen, n);
  else out.str(`unknown-af ${af}`);
  if (st.xflag && (af === 2 || af === 24)) default_print(st, p + hdrlen, caplen - hdrlen);
  out.nl();
}
