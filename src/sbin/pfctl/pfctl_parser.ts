/**
 * pfctl's helpers around the parser, as sbin/pfctl/pfctl_parser.c and
 * pf_print_state.c: host name resolution into address nodes, netmask
 * arithmetic, ICMP type and code names, TCP flag letters, and the printers
 * that turn rules, pools, tables and queues back into normalized pf.conf
 * text (what `pfctl -nv` and `pfctl -sr` show).  Printers return strings.
 */
import { formatIp6, parseIp6 } from '../../wire/addr.js';
import { AF_INET as KAF_INET, AF_INET6 as KAF_INET6, addrWords, PfrAddr, PFRKE_COST, PFRKE_ROUTE } from '../../sys/net/pf_table.js';
import {
  AF_INET,
  AF_INET6,
  PFI_AFLAG_BROADCAST,
  PFI_AFLAG_MODEMASK,
  PFI_AFLAG_NETWORK,
  PFI_AFLAG_NOALIAS,
  PFI_AFLAG_PEER,
  PFQS_DEFAULT,
  PFQS_FLOWQUEUE,
  PFR_TFLAG_CONST,
  PFR_TFLAG_COUNTERS,
  PFR_TFLAG_PERSIST,
  PFRULE_AFTO,
  PFRULE_EXPIRED,
  PFRULE_FRAGMENT,
  PFRULE_IFBOUND,
  PFRULE_NOSYNC,
  PFRULE_ONCE,
  PFRULE_PFLOW,
  PFRULE_RETURN,
  PFRULE_RETURNICMP,
  PFRULE_RETURNRST,
  PFRULE_RULESRCTRACK,
  PFRULE_SETDELAY,
  PFRULE_SRCTRACK,
  PFRULE_STATESLOPPY,
  PFSTATE_NODF,
  PFSTATE_RANDOMID,
  PFSTATE_SCRUB_TCP,
  PFSTATE_SCRUBMASK,
  PFSTATE_SETMASK,
  PFSTATE_SETPRIO,
  PFSTATE_SETTOS,
  PF_ADDR_ADDRMASK,
  PF_ADDR_DYNIFTL,
  PF_ADDR_NONE,
  PF_ADDR_NOROUTE,
  PF_ADDR_RANGE,
  PF_ADDR_RTLABEL,
  PF_ADDR_TABLE,
  PF_ADDR_URPFFAILED,
  PF_DIVERT_NONE,
  PF_DIVERT_PACKET,
  PF_DIVERT_REPLY,
  PF_DIVERT_TO,
  PF_DROP,
  PF_DUPTO,
  PF_FLUSH_GLOBAL,
  PF_IN,
  PF_LOG,
  PF_LOG_ALL,
  PF_LOG_MATCHES,
  PF_LOG_USER,
  PF_MATCH,
  PF_NAT_PROXY_PORT_HIGH,
  PF_NAT_PROXY_PORT_LOW,
  PF_OP_EQ,
  PF_OP_GE,
  PF_OP_GT,
  PF_OP_IRG,
  PF_OP_LE,
  PF_OP_LT,
  PF_OP_NE,
  PF_OP_RRG,
  PF_OP_XRG,
  PF_OUT,
  PF_PASS,
  PF_POOL_BITMASK,
  PF_POOL_LEASTSTATES,
  PF_POOL_RANDOM,
  PF_POOL_ROUNDROBIN,
  PF_POOL_SRCHASH,
  PF_POOL_STICKYADDR,
  PF_POOL_TYPEMASK,
  PF_PRIO_ZERO,
  PF_REPLYTO,
  PF_ROUTETO,
  PF_STATE_MODULATE,
  PF_STATE_NORMAL,
  PF_STATE_SYNPROXY,
  PF_TH_ALL,
  PF_TIMEOUTS,
  PFTM_MAX,
  newAddrWrap,
  type PfAddr,
  type PfAddrWrap,
  type PfPool,
  type PfQueueSc,
  type PfQueueSpec,
  type PfRule,
  type PfRuleAddr,
} from './pf_ruleset.js';
import { protoName, type PfctlEnv } from './pfctl_env.js';

/* pfctl option bits (pfctl_parser.h) */
export const PF_OPT_VERBOSE = 0x00004;
export const PF_OPT_NOACTION = 0x00008;
export const PF_OPT_QUIET = 0x00010;
export const PF_OPT_USEDNS = 0x00040;
export const PF_OPT_VERBOSE2 = 0x00080;
export const PF_OPT_DUMMYACTION = 0x00100;
export const PF_OPT_DEBUG = 0x00200;
export const PF_OPT_OPTIMIZE = 0x00800;
export const PF_OPT_NODNS = 0x01000;
export const PF_OPT_RECURSE = 0x04000;
export const PF_OPT_PORTNAMES = 0x08000;

/** struct node_host: one address a host specification expanded to. */
export interface NodeHost {
  addr: PfAddrWrap;
  af: number;
  not: boolean;
  ifindex: number;
  ifname: string | null;
  weight: number;
  ifaFlags: number;
}

export function newNodeHost(): NodeHost {
  return { addr: newAddrWrap(), af: 0, not: false, ifindex: 0, ifname: null, weight: 0, ifaFlags: 0 };
}

export function copyNodeHost(h: NodeHost): NodeHost {
  return { ...h, addr: { ...h.addr, addr: h.addr.addr.slice(), mask: h.addr.mask.slice() } };
}

/* ---- netmasks ---- */

function word(a: PfAddr, j: number): number {
  return ((a[4 * j]! << 24) | (a[4 * j + 1]! << 16) | (a[4 * j + 2]! << 8) | a[4 * j + 3]!) >>> 0;
}

/** Number of leading one bits of a netmask. */
export function unmask(m: PfAddr): number {
  let b = 0;
  let j = 0;
  while (j < 4 && word(m, j) === 0xffffffff) {
    b += 32;
    j++;
  }
  if (j < 4) {
    const tmp = word(m, j);
    for (let i = 31; i >= 0 && tmp & (1 << i); --i) b++;
  }
  return b;
}

/** PF_AZERO(): false for an unknown family, as the macro is. */
export function azero(a: PfAddr, af: number): boolean {
  if (af !== AF_INET && af !== AF_INET6) return false;
  const n = af === AF_INET ? 4 : 16;
  for (let i = 0; i < n; i++) if (a[i] !== 0) return false;
  return true;
}

/** set_ipmask(): a prefix of `bb` bits (-1: a host mask), masking the address. */
export function setIpmask(h: NodeHost, bb: number): void {
  let b = bb === -1 ? (h.af === AF_INET ? 32 : 128) : bb & 0xff;
  const m = h.addr.mask;
  m.fill(0);
  let i = 0;
  while (b >= 8 && i < 16) {
    m[i++] = 0xff;
    b -= 8;
  }
  if (b > 0 && i < 16) m[i] = (0xff << (8 - b)) & 0xff;
  if (h.addr.type === PF_ADDR_ADDRMASK) for (let k = 0; k < 16; k++) h.addr.addr[k]! &= m[k]!;
}

/* ---- addresses ---- */

export function formatAddr(af: number, a: PfAddr): string {
  if (af === AF_INET) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  if (af === AF_INET6) return formatIp6(a, 0);
  return '?';
}

/** print_addr() */
export function printAddr(addr: PfAddrWrap, af: number, verbose: boolean): string {
  let s: string;
  switch (addr.type) {
    case PF_ADDR_DYNIFTL:
      s = `(${addr.ifname}`;
      if (addr.iflags & PFI_AFLAG_NETWORK) s += ':network';
      if (addr.iflags & PFI_AFLAG_BROADCAST) s += ':broadcast';
      if (addr.iflags & PFI_AFLAG_PEER) s += ':peer';
      if (addr.iflags & PFI_AFLAG_NOALIAS) s += ':0';
      if (verbose) s += addr.dyncnt <= 0 ? ':*' : `:${addr.dyncnt}`;
      s += ')';
      break;
    case PF_ADDR_TABLE:
      if (!verbose) return `<${addr.tblname}>`;
      return addr.tblcnt === -1 ? `<${addr.tblname}:*>` : `<${addr.tblname}:${addr.tblcnt}>`;
    case PF_ADDR_RANGE:
      return `${formatAddr(af, addr.addr)} - ${formatAddr(af, addr.mask)}`;
    case PF_ADDR_ADDRMASK:
      s = azero(addr.addr, AF_INET6) && azero(addr.mask, AF_INET6) ? 'any' : formatAddr(af, addr.addr);
      break;
    case PF_ADDR_NOROUTE:
      return 'no-route';
    case PF_ADDR_URPFFAILED:
      return 'urpf-failed';
    case PF_ADDR_RTLABEL:
      return `route "${addr.rtlabelname}"`;
    default:
      return '?';
  }
  if (!(azero(addr.addr, AF_INET6) && azero(addr.mask, AF_INET6))) {
    const bits = unmask(addr.mask);
    if (bits < (af === AF_INET ? 32 : 128)) s += `/${bits}`;
  }
  return s;
}

/* ---- ICMP names ---- */

export interface IcmpType {
  name: string;
  type: number;
}
export interface IcmpCode {
  name: string;
  type: number;
  code: number;
}

export const ICMP_TYPES: IcmpType[] = [
  ['echoreq', 8], ['echorep', 0], ['unreach', 3], ['squench', 4], ['redir', 5], ['althost', 6],
  ['routeradv', 9], ['routersol', 10], ['timex', 11], ['paramprob', 12], ['timereq', 13],
  ['timerep', 14], ['inforeq', 15], ['inforep', 16], ['maskreq', 17], ['maskrep', 18], ['trace', 30],
  ['dataconv', 31], ['mobredir', 32], ['ipv6-where', 33], ['ipv6-here', 34], ['mobregreq', 35],
  ['mobregrep', 36], ['skip', 39], ['photuris', 40],
].map(([name, type]) => ({ name: name as string, type: type as number }));

export const ICMP6_TYPES: IcmpType[] = [
  ['unreach', 1], ['toobig', 2], ['timex', 3], ['paramprob', 4], ['echoreq', 128], ['echorep', 129],
  ['groupqry', 130], ['listqry', 130], ['grouprep', 131], ['listenrep', 131], ['groupterm', 132],
  ['listendone', 132], ['routersol', 133], ['routeradv', 134], ['neighbrsol', 135], ['neighbradv', 136],
  ['redir', 137], ['routrrenum', 138], ['wrureq', 139], ['wrurep', 140], ['fqdnreq', 139],
  ['fqdnrep', 140], ['niqry', 139], ['nirep', 140], ['mtraceresp', 200], ['mtrace', 201],
  ['listenrepv2', 143],
].map(([name, type]) => ({ name: name as string, type: type as number }));

export const ICMP_CODES: IcmpCode[] = [
  ['net-unr', 3, 0], ['host-unr', 3, 1], ['proto-unr', 3, 2], ['port-unr', 3, 3], ['needfrag', 3, 4],
  ['srcfail', 3, 5], ['net-unk', 3, 6], ['host-unk', 3, 7], ['isolate', 3, 8], ['net-prohib', 3, 9],
  ['host-prohib', 3, 10], ['net-tos', 3, 11], ['host-tos', 3, 12], ['filter-prohib', 3, 13],
  ['host-preced', 3, 14], ['cutoff-preced', 3, 15], ['redir-net', 5, 0], ['redir-host', 5, 1],
  ['redir-tos-net', 5, 2], ['redir-tos-host', 5, 3], ['normal-adv', 9, 0], ['common-adv', 9, 16],
  ['transit', 11, 0], ['reassemb', 11, 1], ['badhead', 12, 0], ['optmiss', 12, 1], ['badlen', 12, 2],
  ['unknown-ind', 40, 1], ['auth-fail', 40, 2], ['decrypt-fail', 40, 3],
].map(([name, type, code]) => ({ name: name as string, type: type as number, code: code as number }));

export const ICMP6_CODES: IcmpCode[] = [
  ['admin-unr', 1, 1], ['noroute-unr', 1, 0], ['beyond-unr', 1, 2], ['addr-unr', 1, 3],
  ['port-unr', 1, 4], ['transit', 3, 0], ['reassemb', 3, 1], ['badhead', 4, 0], ['nxthdr', 4, 1],
  ['redironlink', 137, 0], ['redirrouter', 137, 1],
].map(([name, type, code]) => ({ name: name as string, type: type as number, code: code as number }));

export function geticmptypebynumber(type: number, af: number): IcmpType | null {
  return (af !== AF_INET6 ? ICMP_TYPES : ICMP6_TYPES).find((t) => t.type === type) ?? null;
}
export function geticmptypebyname(w: string, af: number): IcmpType | null {
  return (af !== AF_INET6 ? ICMP_TYPES : ICMP6_TYPES).find((t) => t.name === w) ?? null;
}
export function geticmpcodebynumber(type: number, code: number, af: number): IcmpCode | null {
  return (af !== AF_INET6 ? ICMP_CODES : ICMP6_CODES).find((c) => c.type === type && c.code === code) ?? null;
}
export function geticmpcodebyname(type: number, w: string, af: number): IcmpCode | null {
  return (af !== AF_INET6 ? ICMP_CODES : ICMP6_CODES).find((c) => c.type === type && c.name === w) ?? null;
}

/* ---- TCP flags ---- */

const TCPFLAGS = 'FSRPAUEW';

/** parse_flags(): letters to bits; -1 for an unknown letter; empty means all. */
export function parseFlags(s: string): number {
  let f = 0;
  for (const ch of s) {
    const q = TCPFLAGS.indexOf(ch);
    if (q < 0) return -1;
    f |= 1 << q;
  }
  return f ? f : PF_TH_ALL;
}

export function printFlags(f: number): string {
  let s = '';
  for (let i = 0; i < 8; i++) if (f & (1 << i)) s += TCPFLAGS[i];
  return s;
}

/* ---- rule printing ---- */

function printOp(op: number, a1: string, a2: string): string {
  switch (op) {
    case PF_OP_IRG:
      return ` ${a1} >< ${a2}`;
    case PF_OP_XRG:
      return ` ${a1} <> ${a2}`;
    case PF_OP_EQ:
      return ` = ${a1}`;
    case PF_OP_NE:
      return ` != ${a1}`;
    case PF_OP_LT:
      return ` < ${a1}`;
    case PF_OP_LE:
      return ` <= ${a1}`;
    case PF_OP_GT:
      return ` > ${a1}`;
    case PF_OP_GE:
      return ` >= ${a1}`;
    case PF_OP_RRG:
      return ` ${a1}:${a2}`;
    default:
      return '';
  }
}

function printPort(op: number, p1: number, p2: number, proto: string, opts: number, env: PfctlEnv): string {
  let name: string | null = null;
  if (opts & PF_OPT_PORTNAMES && (op === PF_OP_EQ || op === PF_OP_NE)) {
    const m = proto === 'tcp' ? env.services.tcp : env.services.udp;
    for (const [n, p] of m) if (p === p1) {
      name = n;
      break;
    }
  }
  return ' port' + printOp(op, name ?? String(p1), String(p2));
}

function printUgid(op: number, i1: number, i2: number, t: string): string {
  const a1 = String(i1 >>> 0);
  const a2 = String(i2 >>> 0);
  if (i1 === -1 && (op === PF_OP_EQ || op === PF_OP_NE)) return ` ${t}` + printOp(op, 'unknown', a2);
  return ` ${t}` + printOp(op, a1, a2);
}

function isAny(a: PfRuleAddr): boolean {
  return a.addr.type === PF_ADDR_ADDRMASK && azero(a.addr.addr, AF_INET6) && azero(a.addr.mask, AF_INET6);
}

function printFromto(r: PfRule, opts: number, env: PfctlEnv): string {
  const verbose = (opts & (PF_OPT_VERBOSE2 | PF_OPT_DEBUG)) !== 0;
  const { src, dst } = r;
  if (isAny(src) && isAny(dst) && !src.neg && !dst.neg && !src.portOp && !dst.portOp && r.osFingerprint === null)
    return ' all';
  const proto = r.proto === 6 ? 'tcp' : 'udp';
  let s = ' from ';
  if (src.neg) s += '! ';
  s += printAddr(src.addr, r.af, verbose);
  if (src.portOp) s += printPort(src.portOp, src.port[0], src.port[1], proto, opts, env);
  if (r.osFingerprint !== null) s += ` os "${r.osFingerprint}"`;
  s += ' to ';
  if (dst.neg) s += '! ';
  s += printAddr(dst.addr, r.af, verbose);
  if (dst.portOp) s += printPort(dst.portOp, dst.port[0], dst.port[1], proto, opts, env);
  return s;
}

export const PF_POOL_ROUTE = 0;
export const PF_POOL_NAT = 1;
export const PF_POOL_RDR = 2;

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

/** print_pool() */
export function printPool(pool: PfPool, p1: number, p2: number, af: number, id: number, verbose: boolean): string {
  let s = '';
  if (pool.ifname) {
    if (!azero(pool.addr.addr, af)) s += printAddr(pool.addr, af, verbose) + '@';
    s += pool.ifname;
  } else s += printAddr(pool.addr, af, verbose);
  if (id === PF_POOL_NAT) {
    if ((p1 !== PF_NAT_PROXY_PORT_LOW || p2 !== PF_NAT_PROXY_PORT_HIGH) && (p1 !== 0 || p2 !== 0))
      s += p1 === p2 ? ` port ${p1}` : ` port ${p1}:${p2}`;
  } else if (id === PF_POOL_RDR) {
    if (p1) {
      s += ` port ${p1}`;
      if (p2 && p2 !== p1) s += `:${p2}`;
    }
  }
  switch (pool.opts & PF_POOL_TYPEMASK) {
    case PF_POOL_BITMASK:
      s += ' bitmask';
      break;
    case PF_POOL_RANDOM:
      s += ' random';
      break;
    case PF_POOL_SRCHASH:
      s += ` source-hash 0x${pool.key.map(hex8).join('')}`;
      break;
    case PF_POOL_ROUNDROBIN:
      s += ' round-robin';
      break;
    case PF_POOL_LEASTSTATES:
      s += ' least-states';
      break;
  }
  if (pool.opts & PF_POOL_STICKYADDR) s += ' sticky-address';
  if (id === PF_POOL_NAT && p1 === 0 && p2 === 0) s += ' static-port';
  return s;
}

const ACTIONTYPES = ['pass', 'block', 'scrub', 'no scrub', 'nat', 'no nat', 'binat', 'no binat', 'rdr', 'no rdr', '', '', 'match'];
const ANCHORTYPES = ['anchor', 'anchor', 'anchor', 'anchor', 'nat-anchor', 'nat-anchor', 'binat-anchor', 'binat-anchor', 'rdr-anchor', 'rdr-anchor'];

/** "%f" with trailing zeros (and a bare point) removed. */
function trimFloat(x: number): string {
  let s = x.toFixed(6);
  s = s.replace(/0+$/, '');
  if (s.endsWith('.')) s = s.slice(0, -1);
  return s;
}

/** print_rule(): one rule as normalized pf.conf text, without the newline. */
export function printRule(r: PfRule, anchorCall: string, opts: number, env: PfctlEnv): string {
  const verbose = (opts & (PF_OPT_VERBOSE2 | PF_OPT_DEBUG)) !== 0;
  if (r.ruleFlag & PFRULE_EXPIRED && !verbose) return '';
  let s = '';
  if (verbose) s += `@${r.nr} `;
  if (anchorCall) {
    if (r.action >= ANCHORTYPES.length) s += `anchor(${r.action})`;
    else {
      const slash = anchorCall.lastIndexOf('/');
      const bare = slash >= 0 ? anchorCall[slash + 1] === '_' : anchorCall[0] === '_';
      s += bare ? ANCHORTYPES[r.action] : `${ANCHORTYPES[r.action]} "${anchorCall}"`;
    }
  } else s += r.action >= ACTIONTYPES.length ? `action(${r.action})` : ACTIONTYPES[r.action];
  if (r.action === PF_DROP) {
    if (r.ruleFlag & PFRULE_RETURN) s += ' return';
    else if (r.ruleFlag & PFRULE_RETURNRST) s += r.returnTtl ? ` return-rst(ttl ${r.returnTtl})` : ' return-rst';
    else if (r.ruleFlag & PFRULE_RETURNICMP) {
      const ic = geticmpcodebynumber(r.returnIcmp >> 8, r.returnIcmp & 255, AF_INET);
      const ic6 = geticmpcodebynumber(r.returnIcmp6 >> 8, r.returnIcmp6 & 255, AF_INET6);
      const n4 = ic ? ic.name : String(r.returnIcmp & 255);
      const n6 = ic6 ? ic6.name : String(r.returnIcmp6 & 255);
      if (r.af === AF_INET) s += ` return-icmp(${n4})`;
      else if (r.af === AF_INET6) s += ` return-icmp6(${n6})`;
      else s += ` return-icmp(${n4}, ${n6})`;
    } else s += ' drop';
  }
  if (r.direction === PF_IN) s += ' in';
  else if (r.direction === PF_OUT) s += ' out';
  if (r.log) {
    s += ' log';
    if (r.log & ~PF_LOG || r.logif) {
      const parts: string[] = [];
      if (r.log & PF_LOG_ALL) parts.push('all');
      if (r.log & PF_LOG_MATCHES) parts.push('matches');
      if (r.log & PF_LOG_USER) parts.push('user');
      if (r.logif) parts.push(`to pflog${r.logif}`);
      s += ` (${parts.join(', ')})`;
    }
  }
  if (r.quick) s += ' quick';
  if (r.ifname) s += r.ifnot ? ` on ! ${r.ifname}` : ` on ${r.ifname}`;
  if (r.onrdomain >= 0) s += r.ifnot ? ` on ! rdomain ${r.onrdomain}` : ` on rdomain ${r.onrdomain}`;
  if (r.af) s += r.af === AF_INET ? ' inet' : ' inet6';
  if (r.proto) {
    const n = protoName(env, r.proto);
    s += n !== null ? ` proto ${n}` : ` proto ${r.proto}`;
  }
  s += printFromto(r, opts, env);
  if (r.rcvIfname) s += ` ${r.rcvifnot ? '!' : ''}received-on ${r.rcvIfname}`;
  if (r.uid.op) s += printUgid(r.uid.op, r.uid.id[0], r.uid.id[1], 'user');
  if (r.gid.op) s += printUgid(r.gid.op, r.gid.id[0], r.gid.id[1], 'group');
  if (r.flags || r.flagset) s += ` flags ${printFlags(r.flags)}/${printFlags(r.flagset)}`;
  else if (
    (r.action === PF_PASS || r.action === PF_MATCH) &&
    (!r.proto || r.proto === 6) &&
    !(r.ruleFlag & PFRULE_FRAGMENT) &&
    !anchorCall &&
    r.keepState
  )
    s += ' flags any';
  if (r.type) {
    const it = geticmptypebynumber(r.type - 1, r.af);
    s += r.af !== AF_INET6 ? ' icmp-type' : ' icmp6-type';
    s += it ? ` ${it.name}` : ` ${r.type - 1}`;
    if (r.code) {
      const ic = geticmpcodebynumber(r.type - 1, r.code - 1, r.af);
      s += ic ? ` code ${ic.name}` : ` code ${r.code - 1}`;
    }
  }
  if (r.tos) s += ` tos 0x${r.tos.toString(16).padStart(2, '0')}`;
  if (r.prio) s += ` prio ${r.prio === PF_PRIO_ZERO ? 0 : r.prio}`;
  if (r.pktrate.limit) s += ` max-pkt-rate ${r.pktrate.limit}/${r.pktrate.seconds}`;
  if (r.scrubFlags & PFSTATE_SETMASK || r.qname || r.ruleFlag & PFRULE_SETDELAY) {
    const parts: string[] = [];
    if (r.scrubFlags & PFSTATE_SETPRIO)
      parts.push(r.setPrio[0] === r.setPrio[1] ? `prio ${r.setPrio[0]}` : `prio(${r.setPrio[0]}, ${r.setPrio[1]})`);
    if (r.qname) parts.push(r.pqname ? `queue(${r.qname}, ${r.pqname})` : `queue ${r.qname}`);
    if (r.scrubFlags & PFSTATE_SETTOS) parts.push(`tos 0x${r.setTos.toString(16).padStart(2, '0')}`);
    if (r.ruleFlag & PFRULE_SETDELAY) parts.push(`delay ${r.delay}`);
    s += ` set (${parts.join(', ')})`;
  }
  let ropts =
    r.maxStates ||
    r.maxSrcNodes ||
    r.maxSrcStates ||
    r.ruleFlag & (PFRULE_NOSYNC | PFRULE_SRCTRACK | PFRULE_IFBOUND | PFRULE_STATESLOPPY | PFRULE_PFLOW)
      ? 1
      : 0;
  for (let i = 0; !ropts && i < PFTM_MAX; ++i) if (r.timeout[i]) ropts = 1;
  if (!r.keepState && r.action === PF_PASS && !anchorCall) s += ' no state';
  else if (r.keepState === PF_STATE_NORMAL && ropts) s += ' keep state';
  else if (r.keepState === PF_STATE_MODULATE) s += ' modulate state';
  else if (r.keepState === PF_STATE_SYNPROXY) s += ' synproxy state';
  if (r.prob) s += ` probability ${trimFloat((r.prob * 100.0) / 4294967296.0)}%`;
  if (ropts) {
    const parts: string[] = [];
    if (r.maxStates) parts.push(`max ${r.maxStates}`);
    if (r.ruleFlag & PFRULE_NOSYNC) parts.push('no-sync');
    if (r.ruleFlag & PFRULE_SRCTRACK)
      parts.push('source-track' + (r.ruleFlag & PFRULE_RULESRCTRACK ? ' rule' : ' global'));
    if (r.maxSrcStates) parts.push(`max-src-states ${r.maxSrcStates}`);
    if (r.maxSrcConn) parts.push(`max-src-conn ${r.maxSrcConn}`);
    if (r.maxSrcConnRate.limit) parts.push(`max-src-conn-rate ${r.maxSrcConnRate.limit}/${r.maxSrcConnRate.seconds}`);
    if (r.maxSrcNodes) parts.push(`max-src-nodes ${r.maxSrcNodes}`);
    if (r.overloadTblname) {
      let o = `overload <${r.overloadTblname}>`;
      if (r.flush) o += ' flush';
      if (r.flush & PF_FLUSH_GLOBAL) o += ' global';
      parts.push(o);
    }
    if (r.ruleFlag & PFRULE_IFBOUND) parts.push('if-bound');
    if (r.ruleFlag & PFRULE_STATESLOPPY) parts.push('sloppy');
    if (r.ruleFlag & PFRULE_PFLOW) parts.push('pflow');
    for (let i = 0; i < PFTM_MAX; ++i)
      if (r.timeout[i]) {
        const t = PF_TIMEOUTS.find(([, n]) => n === i);
        parts.push(`${t ? t[0] : 'inv.timeout'} ${r.timeout[i]}`);
      }
    s += ` (${parts.join(', ')})`;
  }
  if (r.ruleFlag & PFRULE_FRAGMENT) s += ' fragment';
  if (r.scrubFlags & PFSTATE_SCRUBMASK || r.minTtl || r.maxMss) {
    const parts: string[] = [];
    if (r.scrubFlags & PFSTATE_NODF) parts.push('no-df');
    if (r.scrubFlags & PFSTATE_RANDOMID) parts.push('random-id');
    if (r.minTtl) parts.push(`min-ttl ${r.minTtl}`);
    if (r.scrubFlags & PFSTATE_SCRUB_TCP) parts.push('reassemble tcp');
    if (r.maxMss) parts.push(`max-mss ${r.maxMss}`);
    s += ` scrub (${parts.join(' ')})`;
  }
  if (r.allowOpts) s += ' allow-opts';
  if (r.label) s += ` label "${r.label}"`;
  if (r.ruleFlag & PFRULE_ONCE) s += ' once';
  if (r.tagname) s += ` tag ${r.tagname}`;
  if (r.matchTagname) s += (r.matchTagNot ? ' !' : '') + ` tagged ${r.matchTagname}`;
  if (r.rtableid !== -1) s += ` rtable ${r.rtableid}`;
  switch (r.divert.type) {
    case PF_DIVERT_NONE:
      break;
    case PF_DIVERT_TO:
      s += ` divert-to ${formatAddr(r.af, r.divert.addr)} port ${r.divert.port}`;
      break;
    case PF_DIVERT_REPLY:
      s += ' divert-reply';
      break;
    case PF_DIVERT_PACKET:
      s += ` divert-packet port ${r.divert.port}`;
      break;
    default:
      s += ' divert ???';
  }
  const paf = r.naf ? r.naf : r.af;
  if (!anchorCall && r.nat.addr.type !== PF_ADDR_NONE && r.ruleFlag & PFRULE_AFTO) {
    s += ` af-to ${r.naf === AF_INET ? 'inet' : 'inet6'} from `;
    s += printPool(r.nat, r.nat.proxyPort[0], r.nat.proxyPort[1], paf, PF_POOL_NAT, verbose);
    if (r.rdr.addr.type !== PF_ADDR_NONE)
      s += ' to ' + printPool(r.rdr, r.rdr.proxyPort[0], r.rdr.proxyPort[1], paf, PF_POOL_RDR, verbose);
  } else if (!anchorCall && r.nat.addr.type !== PF_ADDR_NONE) {
    s += ' nat-to ' + printPool(r.nat, r.nat.proxyPort[0], r.nat.proxyPort[1], paf, PF_POOL_NAT, verbose);
  } else if (!anchorCall && r.rdr.addr.type !== PF_ADDR_NONE) {
    s += ' rdr-to ' + printPool(r.rdr, r.rdr.proxyPort[0], r.rdr.proxyPort[1], r.af, PF_POOL_RDR, verbose);
  }
  if (r.rt) {
    if (r.rt === PF_ROUTETO) s += ' route-to';
    else if (r.rt === PF_REPLYTO) s += ' reply-to';
    else if (r.rt === PF_DUPTO) s += ' dup-to';
    s += ' ' + printPool(r.route, 0, 0, r.af, PF_POOL_ROUTE, verbose);
  }
  if (r.ruleFlag & PFRULE_EXPIRED) s += ' # expired';
  return s;
}

/** A table initializer element: a list of hosts or a file name. */
export interface TableInit {
  file: string | null;
  hosts: NodeHost[];
}

/** print_tabledef() */
export function printTabledef(name: string, flags: number, addrs: boolean, nodes: TableInit[]): string {
  let s = `table <${name}>`;
  if (flags & PFR_TFLAG_CONST) s += ' const';
  if (flags & PFR_TFLAG_PERSIST) s += ' persist';
  if (flags & PFR_TFLAG_COUNTERS) s += ' counters';
  for (let i = 0; i < nodes.length; i++) {
    const ti = nodes[i]!;
    if (ti.file !== null) {
      s += ` file "${ti.file}"`;
      continue;
    }
    s += ' {';
    for (;;) {
      for (const h of nodes[i]!.hosts) {
        s += h.not ? ' !' : ' ';
        s += printAddr(h.addr, h.af, false);
        if (h.ifname) s += `@${h.ifname}`;
      }
      const nti = nodes[i + 1];
      if (nti !== undefined && nti.file === null) i++;
      else break;
    }
    s += ' }';
  }
  if (addrs && nodes.length === 0) s += ' { }';
  return s + '\n';
}

function printBwspec(prefix: string, bw: { absolute: number; percent: number }): string {
  if (bw.percent) return `${prefix}${bw.percent}%`;
  if (bw.absolute) {
    let rate = bw.absolute;
    const unit = ' KMG';
    let i = 0;
    for (; rate >= 1000 && i <= 3 && rate % 1000 === 0; i++) rate /= 1000;
    return `${prefix}${rate}${unit[i] ?? ''}`;
  }
  return '';
}

function printScspec(prefix: string, sc: PfQueueSc): string {
  let s = printBwspec(prefix, sc.m2);
  if (sc.d) s += ` burst ${printBwspec('', sc.m1)} for ${sc.d}ms`;
  return s;
}

/** print_queuespec() */
export function printQueuespec(q: PfQueueSpec): string {
  let s = `queue ${q.qname}`;
  if (q.parent) s += ` parent ${q.parent}`;
  else if (q.ifname) s += ` on ${q.ifname}`;
  if (q.flags & PFQS_FLOWQUEUE) {
    s += ` flows ${q.flowqueue.flows}`;
    if (q.flowqueue.quantum > 0) s += ` quantum ${q.flowqueue.quantum}`;
    if (q.flowqueue.interval > 0) s += ` interval ${Math.floor(q.flowqueue.interval / 1000000)}ms`;
    if (q.flowqueue.target > 0) s += ` target ${Math.floor(q.flowqueue.target / 1000000)}ms`;
  }
  if (q.linkshare.m1.absolute || q.linkshare.m2.absolute) {
    s += printScspec(' bandwidth ', q.linkshare);
    s += printScspec(', min ', q.realtime);
    s += printScspec(', max ', q.upperlimit);
  }
  if (q.flags & PFQS_DEFAULT) s += ' default';
  if (q.qlimit) s += ` qlimit ${q.qlimit}`;
  return s + '\n';
}

/* ---- host resolution (host(), host_if(), host_ip(), host_dns(), ifa_*) ---- */

/** Parse a dotted quad strictly (as getaddrinfo with AI_NUMERICHOST). */
function parseQuad(s: string): PfAddr | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const a = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const v = Number(m[i + 1]);
    if (v > 255) return null;
    a[i] = v;
  }
  return a;
}

/** inet_net_pton(AF_INET) without the bits: "10", "10.1", "10.1.2" and dotted quads. */
function parseNet4(s: string): PfAddr | null {
  if (!/^\d{1,3}(\.\d{1,3}){0,3}$/.test(s)) return null;
  const a = new Uint8Array(16);
  const parts = s.split('.');
  for (let i = 0; i < parts.length; i++) {
    const v = Number(parts[i]);
    if (v > 255) return null;
    a[i] = v;
  }
  return a;
}

function parseV6(env: PfctlEnv, s: string): { addr: PfAddr; scope: number } | null {
  if (!s.includes(':')) return null;
  const pct = s.indexOf('%');
  let scope = 0;
  if (pct >= 0) {
    const ifn = s.slice(pct + 1);
    const ifp = env.interfaces.find((i) => i.name === ifn);
    if (ifp) scope = ifp.index;
    else if (/^\d+$/.test(ifn)) scope = Number(ifn);
    else return null;
  }
  const addr = parseIp6(pct >= 0 ? s.slice(0, pct) : s);
  return addr ? { addr, scope } : null;
}

export interface HostCtx {
  env: PfctlEnv;
  opts: number;
  /** stderr lines (fprintf(stderr) in host()) */
  warn: (msg: string) => void;
}

function ifaIsGroup(env: PfctlEnv, name: string): boolean {
  return env.interfaces.some((i) => i.groups.includes(name));
}

/** ifa_exists(): an interface or interface group of that name. */
export function ifaExists(env: PfctlEnv, name: string): { flags: number } | null {
  if (ifaIsGroup(env, name)) return { flags: 0 };
  const i = env.interfaces.find((x) => x.name === name);
  return i ? { flags: i.flags } : null;
}

export function ifaNametoindex(env: PfctlEnv, name: string): number {
  return env.interfaces.find((x) => x.name === name)?.index ?? 0;
}

export function ifaIndextoname(env: PfctlEnv, index: number): string | null {
  if (!index) return null;
  return env.interfaces.find((x) => x.index === index)?.name ?? null;
}

function ifaSkipIf(filter: string | null, ifname: string): boolean {
  if (filter === null || !filter) return false;
  if (ifname === filter) return false;
  const n = filter.length;
  if (n < 1 || n >= 16) return true;
  const last = filter[n - 1]!;
  if (last >= '0' && last <= '9') return true;
  if (!ifname.startsWith(filter)) return true;
  const c = ifname[n];
  return c === undefined || c < '0' || c > '9';
}

/** ifa_lookup(): the addresses of an interface, group or "self". */
export function ifaLookup(env: PfctlEnv, name: string, flags: number): NodeHost[] {
  if (ifaIsGroup(env, name)) {
    const out: NodeHost[] = [];
    for (const i of env.interfaces) if (i.groups.includes(name)) out.push(...ifaLookup(env, i.name, flags));
    return out;
  }
  const filter = name === 'self' ? null : name;
  const out: NodeHost[] = [];
  for (const i of env.interfaces) {
    let got4 = false;
    let got6 = false;
    for (const p of i.addrs) {
      if (ifaSkipIf(filter, i.name)) continue;
      if (flags & PFI_AFLAG_BROADCAST && (p.af !== AF_INET || !(i.flags & 0x2) || !p.bcast || azero(p.bcast, AF_INET)))
        continue;
      if (flags & PFI_AFLAG_PEER && !(i.flags & 0x10)) continue;
      if (flags & PFI_AFLAG_NETWORK && p.scope > 0) continue;
      if (flags & PFI_AFLAG_NOALIAS && p.af === AF_INET && got4) continue;
      if (flags & PFI_AFLAG_NOALIAS && p.af === AF_INET6 && got6) continue;
      if (p.af === AF_INET) got4 = true;
      else got6 = true;
      const n = newNodeHost();
      n.af = p.af;
      const src = flags & PFI_AFLAG_BROADCAST ? p.bcast : flags & PFI_AFLAG_PEER ? p.peer : p.addr;
      if (src) n.addr.addr.set(src);
      setIpmask(n, flags & PFI_AFLAG_NETWORK ? unmask(p.mask) : -1);
      n.ifindex = p.scope;
      out.push(n);
    }
  }
  return out;
}

function hostIf(ctx: HostCtx, s: string, mask: number): NodeHost[] | null {
  let ps = s;
  let flags = 0;
  for (let p = ps.lastIndexOf(':'); p >= 0; p = ps.lastIndexOf(':')) {
    const mod = ps.slice(p + 1);
    if (mod === 'network') flags |= PFI_AFLAG_NETWORK;
    else if (mod === 'broadcast') flags |= PFI_AFLAG_BROADCAST;
    else if (mod === 'peer') flags |= PFI_AFLAG_PEER;
    else if (mod === '0') flags |= PFI_AFLAG_NOALIAS;
    else return null;
    ps = ps.slice(0, p);
  }
  if (flags & (flags - 1) & PFI_AFLAG_MODEMASK) {
    ctx.warn('illegal combination of interface modifiers\n');
    return null;
  }
  if (flags & (PFI_AFLAG_NETWORK | PFI_AFLAG_BROADCAST) && mask > -1) {
    ctx.warn('network or broadcast lookup, but extra netmask given\n');
    return null;
  }
  if (ifaExists(ctx.env, ps) || ps === 'self') {
    const h = ifaLookup(ctx.env, ps, flags);
    if (mask > -1) for (const n of h) setIpmask(n, mask);
    return h.length ? h : null;
  }
  return null;
}

function hostIp(ctx: HostCtx, s: string, mask: number): NodeHost[] | null {
  const h = newNodeHost();
  const q = parseQuad(s);
  const v6 = q ? null : parseV6(ctx.env, s);
  if (q) {
    h.af = AF_INET;
    h.addr.addr.set(q);
  } else if (v6) {
    h.af = AF_INET6;
    h.addr.addr.set(v6.addr);
    h.ifindex = v6.scope;
  } else {
    if (mask === -1) return null;
    const n = parseNet4(s);
    if (!n) return null;
    h.af = AF_INET;
    h.addr.addr.set(n);
  }
  setIpmask(h, mask);
  return [h];
}

function hostDns(ctx: HostCtx, s: string, mask: number, numeric: boolean): NodeHost[] | null {
  let ps = s;
  let noalias = false;
  if (ps.endsWith(':0')) {
    noalias = true;
    ps = ps.slice(0, -2);
  }
  let addrs: string[] | undefined;
  if (numeric) {
    if (parseQuad(ps) || parseV6(ctx.env, ps)) addrs = [ps];
  } else addrs = ctx.env.hosts.get(ps) ?? (parseQuad(ps) || parseV6(ctx.env, ps) ? [ps] : undefined);
  if (!addrs || addrs.length === 0) return null;
  const out: NodeHost[] = [];
  let got4 = false;
  let got6 = false;
  for (const a of addrs) {
    const q = parseQuad(a);
    const v6 = q ? null : parseV6(ctx.env, a);
    if (!q && !v6) continue;
    if (noalias) {
      if (q) {
        if (got4) continue;
        got4 = true;
      } else {
        if (got6) continue;
        got6 = true;
      }
    }
    const n = newNodeHost();
    if (q) {
      n.af = AF_INET;
      n.addr.addr.set(q);
    } else {
      n.af = AF_INET6;
      n.addr.addr.set(v6!.addr);
      n.ifindex = v6!.scope;
    }
    setIpmask(n, mask);
    out.push(n);
  }
  return out.length ? out : null;
}

/** host(): a host specification (address, network, interface, name) to nodes, or null. */
export function host(ctx: HostCtx, s: string): NodeHost[] | null {
  let mask = -1;
  let ps = s;
  const slash = ps.indexOf('/');
  if (slash >= 0) {
    const t = ps.slice(slash + 1);
    if (!/^-?\d+$/.test(t)) {
      ctx.warn(`netmask is invalid: ${ps.slice(slash)}\n`);
      return null;
    }
    const v = Number(t);
    if (v < 0 || v > 128) {
      ctx.warn(`netmask is ${v < 0 ? 'too small' : 'too large'}: ${ps.slice(slash)}\n`);
      return null;
    }
    mask = v;
    ps = ps.slice(0, slash);
  }
  const h =
    hostIf(ctx, ps, mask) ?? hostIp(ctx, ps, mask) ?? hostDns(ctx, ps, mask, (ctx.opts & PF_OPT_NODNS) !== 0);
  if (h === null || h.length === 0) {
    ctx.warn(`no IP address found for ${s}\n`);
    return null;
  }
  for (const n of h) {
    n.addr.type = PF_ADDR_ADDRMASK;
    n.weight = 0;
  }
  return h;
}

export { PFR_TFLAG_CONST };

/* ---- table address buffers (append_addr(), pfr_next_token()) ---- */

/**
 * append_addr(): its state lives as long as the pfctl process (the static
 * `previous`, `expect` of pfctl_parser.c): a `weight N` token gives its
 * weight to the last address appended before it, even one from an earlier
 * file or argument list.
 */
export class AddrAppender {
  private previous = 0;
  private expect = false;

  constructor(private readonly hctx: HostCtx) {}

  /** 0 appended, 1 expects a weight next, -1 failed (host() said why). */
  append(b: PfrAddr[], s: string, test: boolean): number {
    if (s === 'weight') {
      this.expect = true;
      return 1;
    }
    if (this.expect) {
      const n = /^\d+$/.test(s) ? Number(s) : NaN;
      if (!(n >= 1 && n <= 65535)) {
        this.hctx.warn(`failed to convert weight ${s}\n`);
        return -1;
      }
      if (this.previous !== -1)
        for (let i = 1; i <= b.length; i++)
          if (i >= this.previous) {
            b[i - 1]!.weight = n;
            b[i - 1]!.type = PFRKE_COST;
          }
      this.expect = false;
      return 0;
    }
    let r = s;
    let not = false;
    while (r.startsWith('!')) {
      not = !not;
      r = r.slice(1);
    }
    const hs = host(this.hctx, r);
    if (hs === null) return -1;
    const rv = appendAddrHost(b, hs, test, not);
    this.previous = b.length;
    return rv;
  }
}

/** append_addr_host() */
export function appendAddrHost(
  b: PfrAddr[], hs: Array<{ af: number; not: boolean; ifname: string | null; weight: number; addr: { addr: Uint8Array; mask: Uint8Array } }>,
  test: boolean, not: boolean,
): number {
  for (const n of hs) {
    const a = new PfrAddr();
    a.not = n.not !== not;
    a.af = n.af;
    a.net = unmaskBytes(n.addr.mask);
    if (n.ifname) {
      a.ifname = n.ifname;
      a.type = PFRKE_ROUTE;
    }
    if (n.weight > 0) {
      a.weight = n.weight;
      a.type = PFRKE_COST;
    }
    const w = addrWords(n.addr.addr);
    const bits = n.af === KAF_INET ? 32 : n.af === KAF_INET6 ? 128 : -1;
    if (bits < 0) return -1;
    a.w0 = w[0];
    if (n.af === KAF_INET6) {
      a.w1 = w[1];
      a.w2 = w[2];
      a.w3 = w[3];
    }
    if ((test && (not || a.net !== bits)) || a.net > bits) return -1;
    b.push(a);
  }
  return 0;
}

function unmaskBytes(m: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < 16; i++) {
    let v = m[i]!;
    if (v === 0xff) {
      n += 8;
      continue;
    }
    while (v & 0x80) {
      n++;
      v = (v << 1) & 0xff;
    }
    break;
  }
  return n;
}

/** pfr_next_token(): words of a file, `#` to the end of the line a comment */
export function pfrTokens(text: string): string[] {
  return text.replace(/#[^\n]*/g, ' ').split(/\s+/).filter((w) => w !== '');
}

