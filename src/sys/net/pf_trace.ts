/**
 * pf's rewrites of a packet in its journey (kern_trace.ts): which rule's
 * nat-to, rdr-to or af-to, the addresses and ports before and after, the
 * checksums fixed, each a Δ as the stack's other byte changes are.  Out of
 * line: pf calls these instead of the plain rewrite only while a tracer
 * is attached (`k.trace !== null`), so the untraced path pays one field
 * test.  binat-to is two rules once pfctl has expanded it, a nat-to out
 * and an rdr-to in, and shows as those.
 */
import type { Pf, PfPdesc } from './pf.js';
import { AF_INET, SC_N, SC_NAF, SC_NATRULE, SC_RDRRULE, ST_DIR, ST_N, ST_RULE, pf_change_ap } from './pf.js';
import { pf_translate_af } from './pf_af.js';
import { get16, get32, put32 } from '../../wire/bytes.js';
import { formatIp6 } from '../../wire/addr.js';

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;

function hex4(v: number): string {
  return '0x' + v.toString(16).padStart(4, '0');
}

function ntoa4(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

const a6 = new Uint8Array(16);

/** An address of family af at b[o], as pfctl -ss prints it. */
function addrAt(af: number, b: Uint8Array, o: number): string {
  return af === AF_INET ? ntoa4(get32(b, o)) : formatIp6(b, o);
}

/** An address given as pf's four words (IPv4: the first). */
function addrOf(af: number, w0: number, w1: number, w2: number, w3: number): string {
  if (af === AF_INET) return ntoa4(w0 >>> 0);
  put32(a6, 0, w0 >>> 0);
  put32(a6, 4, w1 >>> 0);
  put32(a6, 8, w2 >>> 0);
  put32(a6, 12, w3 >>> 0);
  return formatIp6(a6, 0);
}

/** An address with its port, as pfctl -ss: 10.0.1.2:80, 2001:db8::1[80]. */
function withPort(af: number, a: string, port: number): string {
  return af === AF_INET ? `${a}:${port}` : `${a}[${port}]`;
}

/** The transport checksum's field name and offset from the transport header (-1: none). */
function tsumOf(proto: number): { name: string; off: number } {
  if (proto === IPPROTO_TCP) return { name: 'th_sum', off: 16 };
  if (proto === IPPROTO_UDP) return { name: 'uh_sum', off: 6 };
  if (proto === IPPROTO_ICMP) return { name: 'icmp_cksum', off: 2 };
  if (proto === IPPROTO_ICMPV6) return { name: 'icmp6_cksum', off: 2 };
  return { name: '', off: -1 };
}

/** ", name 0x1234 → 0x5678" when the field changed. */
function sumChange(name: string, o: number, n: number): string {
  return o === n ? '' : `, ${name} ${hex4(o)} → ${hex4(n)}`;
}

/**
 * Who asked for a rewrite of the source (which 0) or destination (1):
 * "rule 3 nat-to" for the packet that created the state (or one with no
 * state, s < 0), "state (rule 3 nat-to)" for the later ones the same way,
 * "state (rule 3 nat-to), reply" for those coming back, whose destination
 * the nat-to's source becomes again (and whose source an rdr-to's
 * destination).
 */
function translator(pf: Pf, pd: PfPdesc, which: number, s: number, fromState: boolean): string {
  if (s < 0) return `rule ${(which === 0 ? pf.ctx_natpl : pf.ctx_rdrpl)?.nr ?? -1} ${which === 0 ? 'nat-to' : 'rdr-to'}`;
  const forward = pd.dir === pf.st.si[s * ST_N + ST_DIR];
  const nat = (which === 0) === forward;
  let nr = pf.st.sc[s * SC_N + (nat ? SC_NATRULE : SC_RDRRULE)]! - 1;
  if (nr < 0) nr = pf.ruletab[pf.st.si[s * ST_N + ST_RULE]!]?.nr ?? -1;
  const what = `rule ${nr} ${nat ? 'nat-to' : 'rdr-to'}`;
  if (!fromState) return what;
  return forward ? `state (${what})` : `state (${what}), reply`;
}

/**
 * pf_change_ap() recorded: the source (which 0) or destination of the
 * packet set to the address w0..w3 and port, s the state (-1: none),
 * fromState whether the state's translation applies (not a rule's, for
 * the packet creating it).
 */
export function pf_change_ap_traced(pf: Pf, pd: PfPdesc, which: number, w0: number, w1: number, w2: number, w3: number, port: number,
  s: number, fromState: boolean): void {
  const b = pd.m.buf;
  const o = pd.ipoff;
  const t = pd.thoff;
  const af = pd.af;
  const proto = pd.virtual_proto;
  const ao = af === AF_INET ? o + (which === 0 ? 12 : 16) : o + (which === 0 ? 8 : 24);
  const ports = proto === IPPROTO_TCP || proto === IPPROTO_UDP;
  const icmp = proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6;
  const oaddr = addrAt(af, b, ao);
  const oport = ports ? get16(b, t + (which === 0 ? 0 : 2)) : 0;
  const oid = icmp ? get16(b, t + 4) : 0;
  const oipsum = af === AF_INET ? get16(b, o + 10) : 0;
  const ts = tsumOf(proto);
  const otsum = ts.off >= 0 ? get16(b, t + ts.off) : 0;
  pf_change_ap(pd, which, w0, w1, w2, w3, port);
  const naddr = addrOf(af, w0, w1, w2, w3);
  const nport = ports ? get16(b, t + (which === 0 ? 0 : 2)) : 0;
  const nid = icmp ? get16(b, t + 4) : 0;
  if (naddr === oaddr && nport === oport && nid === oid) return;
  const side = which === 0 ? 'src' : 'dst';
  const ends = ports ? `${withPort(af, oaddr, oport)} → ${withPort(af, naddr, nport)}` : `${oaddr} → ${naddr}`;
  const id = nid !== oid ? `, ${proto === IPPROTO_ICMP ? 'icmp_id' : 'icmp6_id'} ${oid} → ${nid}` : '';
  const sums = (af === AF_INET ? sumChange('ip_sum', oipsum, get16(b, o + 10)) : '') +
    (ts.off >= 0 ? sumChange(ts.name, otsum, get16(b, t + ts.off)) : '');
  const k = pf.k;
  k.trace!.bytes(k, pd.m, `pf_translate: ${translator(pf, pd, which, s, fromState)}: ${side} ${ends}${id}${sums}`);
}

/** An IPv4 ICMP error's fields pf_test_state_icmp_error may rewrite, as they came. */
export interface PfIcmpErrorWas {
  src: number;
  dst: number;
  ipsum: number;
  icsum: number;
  qsrc: number;
  qdst: number;
  qsport: number;
  qdport: number;
}

/** The fields of the ICMP error in pd before its translation (qspo, qdpo: the quoted ports or echo id, -1 none). */
export function pf_icmp_error_before(pd: PfPdesc, ip2: number, qspo: number, qdpo: number): PfIcmpErrorWas {
  const b = pd.m.buf;
  const o = pd.ipoff;
  return {
    src: get32(b, o + 12), dst: get32(b, o + 16), ipsum: get16(b, o + 10), icsum: get16(b, pd.thoff + 2),
    qsrc: get32(b, ip2 + 12), qdst: get32(b, ip2 + 16),
    qsport: qspo >= 0 ? get16(b, qspo) : 0, qdport: qdpo >= 0 ? get16(b, qdpo) : 0,
  };
}

/** "10.0.1.2:80 → 10.0.2.2:8080" of a quoted endpoint (po: where its port or id is, -1 none), '' when unchanged. */
function quotedChange(b: Uint8Array, ao: number, po: number, oa: number, op: number): string {
  const na = get32(b, ao);
  const np = po >= 0 ? get16(b, po) : 0;
  if (na === oa && np === op) return '';
  return po >= 0 ? `${ntoa4(oa)}:${op} → ${ntoa4(na)}:${np}` : `${ntoa4(oa)} → ${ntoa4(na)}`;
}

/**
 * The translation of an ICMP error about a packet of translating state s
 * (pf_test_state_icmp_error): the outer addresses and the quoted packet's
 * as the state's other side has them, the checksums that followed.
 */
export function pf_icmp_error_traced(pf: Pf, pd: PfPdesc, s: number, ip2: number, qspo: number, qdpo: number, was: PfIcmpErrorWas): void {
  const b = pd.m.buf;
  const o = pd.ipoff;
  const parts: string[] = [];
  const src = get32(b, o + 12);
  const dst = get32(b, o + 16);
  if (src !== was.src) parts.push(`src ${ntoa4(was.src)} → ${ntoa4(src)}`);
  if (dst !== was.dst) parts.push(`dst ${ntoa4(was.dst)} → ${ntoa4(dst)}`);
  const qs = quotedChange(b, ip2 + 12, qspo, was.qsrc, was.qsport);
  if (qs !== '') parts.push(`quoted src ${qs}`);
  const qd = quotedChange(b, ip2 + 16, qdpo, was.qdst, was.qdport);
  if (qd !== '') parts.push(`quoted dst ${qd}`);
  if (parts.length === 0) return;
  const sums = sumChange('ip_sum', was.ipsum, get16(b, o + 10)) + sumChange('icmp_cksum', was.icsum, get16(b, pd.thoff + 2));
  // named by the translation of its destination (a reply's to a nat-to), else of its source (a reply's to an rdr-to)
  const k = pf.k;
  k.trace!.bytes(k, pd.m, `pf_translate: ${translator(pf, pd, dst !== was.dst ? 1 : 0, s, true)}, icmp error: ${parts.join(', ')}${sums}`);
}

/** The IP version's header, as the Δ names it. */
function header(af: number): string {
  return af === AF_INET ? 'IPv4 header (20 bytes)' : 'IPv6 header (40 bytes)';
}

/**
 * pf_translate_af() recorded: the packet's network header replaced by
 * one of the other family, its addresses, ports or echo id, ICMP type
 * and checksum.  how: "rule 2 af-to inet" or "state (rule 2 af-to inet)".
 * Returns pf_translate_af's answer (false: dropped, recorded there).
 */
export function pf_translate_af_traced(pf: Pf, pd: PfPdesc, how: string): boolean {
  const m = pd.m;
  let b = m.buf;
  const af = pd.af;
  const proto = pd.proto;
  const o = pd.ipoff;
  const t = pd.thoff;
  const ports = proto === IPPROTO_TCP || proto === IPPROTO_UDP;
  const icmp = proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6;
  const osrc = addrAt(af, b, af === AF_INET ? o + 12 : o + 8);
  const odst = addrAt(af, b, af === AF_INET ? o + 16 : o + 24);
  const osport = ports ? get16(b, t) : 0;
  const odport = ports ? get16(b, t + 2) : 0;
  const otype = icmp ? b[t]! : 0;
  const oid = icmp ? get16(b, t + 4) : 0;
  const ots = tsumOf(proto);
  const otsum = ots.off >= 0 ? get16(b, t + ots.off) : 0;
  if (!pf_translate_af(pf, pd)) return false;
  b = pd.m.buf;
  const naf = pd.naf;
  const no = pd.ipoff;
  const nt = pd.thoff;
  const nproto = naf === AF_INET ? b[no + 9]! : b[no + 6]!;
  const nsrc = addrAt(naf, b, naf === AF_INET ? no + 12 : no + 8);
  const ndst = addrAt(naf, b, naf === AF_INET ? no + 16 : no + 24);
  let what = ports
    ? `src ${withPort(af, osrc, osport)} → ${withPort(naf, nsrc, get16(b, nt))}, dst ${withPort(af, odst, odport)} → ${withPort(naf, ndst, get16(b, nt + 2))}`
    : `src ${osrc} → ${nsrc}, dst ${odst} → ${ndst}`;
  what += `, ${header(af)} → ${header(naf)}`;
  if (icmp) {
    const tn = (p: number): string => (p === IPPROTO_ICMP ? 'icmp_type' : 'icmp6_type');
    what += `, ${tn(proto)} ${otype} → ${tn(nproto)} ${b[nt]!}`;
    const nid = get16(b, nt + 4);
    if (nid !== oid) what += `, ${proto === IPPROTO_ICMP ? 'icmp_id' : 'icmp6_id'} ${oid} → ${nid}`;
  }
  const nts = tsumOf(nproto);
  if (ots.off >= 0 && nts.off >= 0) what += `, ${ots.name} ${hex4(otsum)} → ${nts.name} ${hex4(get16(b, nt + nts.off))}`;
  const k = pf.k;
  k.trace!.bytes(k, pd.m, `pf_translate_af: ${how}: ${what}`);
  return true;
}

/**
 * How pf_afrt names the af-to of state s in a journey: "rule 2 af-to
 * inet", "state (rule 2 af-to inet)" for a later packet (fromState), with
 * ", reply" for one going back to the rule's family.
 */
export function pf_afto_how(pf: Pf, pd: PfPdesc, s: number, fromState: boolean): string {
  // the af-to rule is the state's (af-to is a pass rule's)
  const nr = s >= 0 ? pf.ruletab[pf.st.si[s * ST_N + ST_RULE]!]?.nr ?? -1 : pf.ctx_nr?.nr ?? -1;
  // the family the rule translates to (the state's stack key's)
  const to = s >= 0 ? pf.st.sc[s * SC_N + SC_NAF]! : pd.naf;
  const what = `rule ${nr} af-to ${to === AF_INET ? 'inet' : 'inet6'}`;
  if (!fromState) return what;
  return to === pd.naf ? `state (${what})` : `state (${what}), reply`;
}
