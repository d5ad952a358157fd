/**
 * pfctl against a kernel: what pfctl.c, pfctl_table.c and pf_print_state.c
 * print from the pf device.  -s rules (with -v/-vv/-g counters and skip
 * steps, anchors recursed with -a 'x/*'), -s states (print_state), -s info
 * (print_status), -s labels, -s timeouts, -s memory, with OpenBSD's
 * formats and messages (the tables' -s Tables and -T are pfctl_table.ts).
 */
import type { Kernel } from '../../sys/kern/kernel.js';
import type { KAnchor, KRule, Pf, PfState, PfStateKey } from '../../sys/net/pf.js';
import type { Ifnet } from '../../sys/net/if.js';
import {
  AF_INET, AF_INET6, LCNT_NAMES, PF_LIMIT_NAMES, PF_OUT, PF_TCPS_PROXY_DST, PF_TCPS_PROXY_SRC, PFRES_NAMES, PFUDPS_NAMES,
  pf_state_expires, pf_states, TCPSTATES,
} from '../../sys/net/pf.js';
import { pf_find_anchor, pf_get_queues, pf_get_src_nodes, pf_open, pfi_kif_members, pfi_update_status } from '../../sys/net/pf_ioctl.js';
import { PF_SN_NAT, PF_SN_RDR, PF_SN_ROUTE, type PfSrcNodeExport } from '../../sys/net/pf_src.js';
import { PF_RESERVED_ANCHOR, PFR_TFLAG_ACTIVE, type PfrKtable } from '../../sys/net/pf_table.js';
import { formatIp4, formatIp6 } from '../../wire/addr.js';
import {
  PF_TIMEOUTS, PF_ADDR_TABLE, PF_ADDR_DYNIFTL, PFQS_FLOWQUEUE, PFQS_ROOTCLASS, PFRULE_EXPIRED, PFI_AFLAG_BROADCAST, PFI_AFLAG_NETWORK, PFI_AFLAG_NOALIAS, PFI_AFLAG_PEER, copyRule,
  type PfAddrWrap, type PfAnchor, type PfRule,
} from './pf_ruleset.js';
import { in6_ifaddrs } from '../../sys/netinet6/in6.js';
import { PF_OPT_DEBUG, PF_OPT_PORTNAMES, PF_OPT_VERBOSE, PF_OPT_VERBOSE2, printQueuespec, printRule } from './pfctl_parser.js';
import { ctime } from './pfctl_table.js';
import { IFF_BROADCAST, IFF_LOOPBACK, IFF_POINTOPOINT, defaultPfctlEnv, protoName, type PfctlEnv, type PfIface } from './pfctl_env.js';

export const PF_OPT_SHOWALL = 0x00400;
export const PF_OPT_CLRRULECTRS = 0x00020;
/** syslog.h's prioritynames, in its order: loglevel_to_string() names a level by the first entry with it */
const PRIORITYNAMES: ReadonlyArray<[string, number]> = [
  ['alert', 1], ['crit', 2], ['debug', 7], ['emerg', 0], ['err', 3], ['error', 3], ['info', 6], ['notice', 5], ['panic', 0], ['warn', 4],
  ['warning', 4],
];

/** loglevel_to_string() */
export function loglevel_to_string(level: number): string {
  for (const [n, v] of PRIORITYNAMES) if (v === level) return n;
  return 'unknown';
}

/** The machine facts pfctl sees on a kernel: its interfaces and addresses, OpenBSD's /etc files. */
export function kernelPfctlEnv(k: Kernel): PfctlEnv {
  const env = defaultPfctlEnv();
  const ifs: PfIface[] = [];
  for (const ifp of k.ifnets) {
    if (ifp === undefined) continue;
    let flags = ifp.if_flags;
    if (ifp.if_xname.startsWith('lo')) flags |= IFF_LOOPBACK;
    ifs.push({
      name: ifp.if_xname,
      index: ifp.if_index,
      flags: flags & (IFF_BROADCAST | IFF_LOOPBACK | IFF_POINTOPOINT | 0x1 | 0x8000),
      groups: [...ifp.if_groups],
      addrs: ifp.if_addrs.map((ia) => ({
        af: AF_INET,
        addr: a4(ia.addr),
        mask: a4(ia.mask),
        bcast: ifp.if_flags & IFF_BROADCAST ? a4(ia.broadaddr) : null,
        peer: ifp.if_flags & IFF_POINTOPOINT ? a4(ia.broadaddr) : null,
        scope: 0,
      })),
    });
  }
  env.interfaces = ifs;
  return env;
}

function a4(v: number): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = v >>> 24;
  b[1] = (v >>> 16) & 255;
  b[2] = (v >>> 8) & 255;
  b[3] = v & 255;
  return b;
}

function pad(s: string, w: number, left = false): string {
  return left ? s.padEnd(w) : s.padStart(w);
}

function hms(t: number): string {
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const s = t % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

/* ---- -s rules / -s labels ---- */

/**
 * pfi_dynaddr's address count (p.dyncnt): the addresses pfi_instance_add()
 * would take from the interface for the rule's af and modifiers (:network
 * skips IPv6 link-local, :broadcast IPv4 on broadcast interfaces only,
 * :peer point-to-point only, :0 the first of each family).
 */
function pfi_dyncnt(k: Kernel, ifname: string, af: number, iflags: number): number {
  const ifp = k.ifunit(ifname);
  if (ifp === undefined) return 0;
  if ((iflags & PFI_AFLAG_BROADCAST) !== 0 && (ifp.if_flags & IFF_BROADCAST) === 0) return 0;
  if ((iflags & PFI_AFLAG_PEER) !== 0 && (ifp.if_flags & IFF_POINTOPOINT) === 0) return 0;
  let n = 0;
  if (af === 0 || af === AF_INET) n += Math.min(ifp.if_addrs.length, iflags & PFI_AFLAG_NOALIAS ? 1 : Infinity);
  if ((af === 0 || af === AF_INET6) && (iflags & PFI_AFLAG_BROADCAST) === 0) {
    let n6 = 0;
    for (const ia of in6_ifaddrs(k, ifp)) {
      if ((iflags & PFI_AFLAG_NETWORK) !== 0 && ia.addr[0] === 0xfe && (ia.addr[1]! & 0xc0) === 0x80) continue;
      n6++;
    }
    n += Math.min(n6, iflags & PFI_AFLAG_NOALIAS ? 1 : Infinity);
  }
  return n;
}

/** DIOCGETRULE's copyout of an address: table and interface counts filled in. */
function addrForPrint(pf: Pf, w: PfAddrWrap, kt: PfrKtable | null, af: number): void {
  if (w.type === PF_ADDR_TABLE) {
    // pf_tbladdr_copyout(): an inactive anchor table counts its root's entries
    let t = kt;
    if (t !== null && (t.flags & PFR_TFLAG_ACTIVE) === 0 && t.root !== null) t = t.root;
    w.tblcnt = t !== null && (t.flags & PFR_TFLAG_ACTIVE) !== 0 ? t.cnt : -1;
  } else if (w.type === PF_ADDR_DYNIFTL) w.dyncnt = pfi_dyncnt(pf.k, w.ifname, af, w.iflags);
}

/** A kernel rule as pfctl reads it back (DIOCGETRULE): its tables' counts filled in. */
export function ruleForPrint(pf: Pf, kr: KRule): PfRule {
  const r = copyRule(kr.src_rule as PfRule);
  r.ruleFlag |= kr.ruleFlag & PFRULE_EXPIRED;
  addrForPrint(pf, r.src.addr, kr.src.table, r.af);
  addrForPrint(pf, r.dst.addr, kr.dst.table, r.af);
  addrForPrint(pf, r.nat.addr, kr.nat.addr.table, r.af);
  addrForPrint(pf, r.rdr.addr, kr.rdr.addr.table, r.af);
  addrForPrint(pf, r.route.addr, kr.route.addr.table, r.af);
  return r;
}

function printRuleCounters(kr: KRule, opts: number, out: (s: string) => void): void {
  if (opts & PF_OPT_DEBUG) {
    const t = ['i', 'd', 'r', 'f', 'p', 'sa', 'da', 'sp', 'dp'];
    let s = '  [ Skip steps: ';
    for (let i = 0; i < t.length; i++) {
      const sk = kr.skip[i]!;
      const nr = sk === null ? -1 : sk.nr;
      if (nr === kr.nr + 1) continue;
      s += `${t[i]}=${nr === -1 ? 'end' : nr} `;
    }
    out(s + ']\n');
    const r = kr.src_rule as PfRule;
    out(`  [ queue: qname=${r.qname} qid=0 pqname=${r.pqname} pqid=0 ]\n`);
  }
  if (opts & PF_OPT_VERBOSE) {
    out(
      `  [ Evaluations: ${String(kr.evaluations).padEnd(8)}  Packets: ${String(kr.packets0 + kr.packets1).padEnd(8)}  ` +
        `Bytes: ${String(kr.bytes0 + kr.bytes1).padEnd(10)}  States: ${String(kr.states_cur).padEnd(6)}]\n`,
    );
    if (!(opts & PF_OPT_DEBUG)) out(`  [ Inserted: uid 0 pid 0 State Creations: ${String(kr.states_tot).padEnd(6)}]\n`);
  }
}

/** pfctl_show_rules(): the rules of an anchor (recursively with wildcard or for unnamed brace anchors). */
export function showRules(
  k: Kernel, env: PfctlEnv, path: string, opts: number, labels: boolean, wildcard: boolean, out: (s: string) => void,
  depth = 0, title: (t: string) => void = (t) => out(t + '\n'), shownr = -1, nothing = false,
): number {
  const pf = pf_open(k);
  const a = pf_find_anchor(pf, path);
  if (a === null) return -1;
  // (pfctl_show_rules() counts its DIOCGETRULES as a header: the title even for no rules)
  if ((opts & PF_OPT_SHOWALL) && !labels && depth === 0) title('FILTER RULES:');
  if ((opts & PF_OPT_SHOWALL) && labels && depth === 0 && a.rules.some((r) => r.label)) title('LABEL COUNTERS:');
  const clr = (opts & PF_OPT_CLRRULECTRS) !== 0;
  for (const kr of a.rules) {
    showRule(kr);
    // -z: DIOCGETRULE with PF_GET_CLR_CNTR hands the rule out, then zeroes its counters (those -R skips too)
    if (clr) {
      kr.evaluations = 0;
      kr.packets0 = kr.packets1 = 0;
      kr.bytes0 = kr.bytes1 = 0;
      kr.states_tot = 0;
    }
  }
  return 0;

  function showRule(kr: KRule): void {
    // -R: only the rule of that number (the anchors it calls in full)
    if (nothing || (shownr !== -1 && kr.nr !== shownr)) return;
    if (labels) {
      if (kr.label)
        out(`${kr.label} ${kr.evaluations} ${kr.packets0 + kr.packets1} ${kr.bytes0 + kr.bytes1} ${kr.packets0} ${kr.bytes0} ${kr.packets1} ${kr.bytes1} ${kr.states_tot}\n`);
      if (kr.anchor !== null && wildcard) showRules(k, env, kr.anchor.path, opts, labels, wildcard, out, depth + 1, title);
      return;
    }
    const r = ruleForPrint(pf, kr);
    // expired `once` rules show with -vv or -g only
    if ((r.ruleFlag & PFRULE_EXPIRED) !== 0 && !(opts & (PF_OPT_VERBOSE2 | PF_OPT_DEBUG)) && kr.anchor === null) return;
    let call = '';
    if (kr.anchor !== null) {
      // the anchor as the rule names it: a reference as written, an inline one by its name or path
      const sa = (kr.src_rule as { anchor: PfAnchor | null } | null)?.anchor ?? (kr.anchor.src_anchor as PfAnchor | null);
      call = sa !== null ? (sa.match ? sa.name : sa.path) : kr.anchor.path;
      // (what pf_anchor_copyout() gives back: a reference keeps its relative,
      // absolute or wildcard form at every depth, an inline anchor is its name)
      if ((wildcard || depth > 0) && sa?.ref !== true) call = kr.anchor.name;
    }
    r.nr = kr.nr;
    out((opts & PF_OPT_VERBOSE ? '' : '  '.repeat(depth)) + printRule(r, call, opts, env));
    const last = kr.anchor !== null ? kr.anchor.path.split('/').pop()! : '';
    if (kr.anchor !== null && (last.startsWith('_') || wildcard)) {
      out(' {\n');
      printRuleCounters(kr, opts, out);
      showRules(k, env, kr.anchor.path, opts, labels, wildcard, out, depth + 1, title);
      out((opts & PF_OPT_VERBOSE ? '' : '  '.repeat(depth)) + '}\n');
    } else {
      out('\n');
      printRuleCounters(kr, opts, out);
    }
  }
}

/* ---- -s states ---- */

function hostText(
  af: number, w0: number, w1: number, w2: number, w3: number, port: number, rdomain: number, svc: ReadonlyMap<string, number> | null = null,
): string {
  let s = rdomain !== 0 ? `(${rdomain}) ` : '';
  if (af === AF_INET) s += formatIp4(w0 >>> 0);
  else {
    const b = new Uint8Array(16);
    const w = [w0, w1, w2, w3];
    for (let i = 0; i < 4; i++) {
      b[i * 4] = w[i]! >>> 24;
      b[i * 4 + 1] = (w[i]! >>> 16) & 255;
      b[i * 4 + 2] = (w[i]! >>> 8) & 255;
      b[i * 4 + 3] = w[i]! & 255;
    }
    s += formatIp6(b, 0);
  }
  if (port !== 0) {
    // -P: getservbyport(), the first name of the port in /etc/services
    let ps = String(port);
    if (svc !== null) {
      for (const [n, p] of svc) {
        if (p === port) {
          ps = n;
          break;
        }
      }
    }
    s += af === AF_INET ? `:${ps}` : `[${ps}]`;
  }
  return s;
}

function keyHost(sk: PfStateKey, i: number, port: number, svc: ReadonlyMap<string, number> | null): string {
  return i === 0
    ? hostText(sk.af, sk.a00, sk.a01, sk.a02, sk.a03, port, sk.rdomain, svc)
    : hostText(sk.af, sk.a10, sk.a11, sk.a12, sk.a13, port, sk.rdomain, svc);
}

function keyEq(a: PfStateKey, b: PfStateKey, i: number, pa: number, pb: number): boolean {
  if (a.af !== b.af || a.rdomain !== b.rdomain || pa !== pb) return false;
  return i === 0
    ? a.a00 === b.a00 && a.a01 === b.a01 && a.a02 === b.a02 && a.a03 === b.a03
    : a.a10 === b.a10 && a.a11 === b.a11 && a.a12 === b.a12 && a.a13 === b.a13;
}

/** print_state() */
export function printState(pf: Pf, s: PfState, env: PfctlEnv, opts: number): string {
  const out = s.direction === PF_OUT;
  const sk = out ? s.key_stack : s.key_wire;
  const nk = out ? s.key_wire : s.key_stack;
  const src = out ? s.src : s.dst;
  const dst = out ? s.dst : s.src;
  const proto = sk.proto;
  const icmp = proto === 1 || proto === 58;
  // ICMP: the id side of the other key shows the same id
  const skp0 = icmp && out ? nk.port0 : sk.port0;
  const skp1 = icmp && !out ? nk.port1 : sk.port1;
  // af-to: the keys' families differ; the other key's sides show crossed, the arrow points out
  const afto = s.key_wire.af !== s.key_stack.af;
  const svc = opts & PF_OPT_PORTNAMES ? (proto === 6 ? env.services.tcp : proto === 17 ? env.services.udp : null) : null;
  let line = `${s.kif === null ? 'all' : s.kif.if_xname} ${protoName(env, proto) ?? String(proto)} `;
  line += keyHost(nk, 1, nk.port1, svc);
  if (!keyEq(nk, sk, 1, nk.port1, skp1)) line += ` (${afto ? keyHost(sk, 0, skp0, svc) : keyHost(sk, 1, skp1, svc)})`;
  // route-to/reply-to's next hop, after this side's host (in) or the peer's (out)
  const rta = s.rt_addr6;
  const rtz = rta === null || (rta[0] === 0 && rta[1] === 0 && rta[2] === 0 && rta[3] === 0);
  if (!out && !rtz) line += ` {${hostText(sk.af, rta![0], rta![1], rta![2], rta![3], 0, 0)}}`;
  line += out || afto ? ' -> ' : ' <- ';
  line += keyHost(nk, 0, nk.port0, svc);
  if (!keyEq(nk, sk, 0, nk.port0, skp0)) line += ` (${afto ? keyHost(sk, 1, skp1, svc) : keyHost(sk, 0, skp0, svc)})`;
  if (out && !rtz) line += ` {${hostText(nk.af, rta![0], rta![1], rta![2], rta![3], 0, 0)}}`;
  line += '    ';
  if (proto === 6) {
    if (src.state <= 10 && dst.state <= 10) line += `   ${TCPSTATES[src.state]}:${TCPSTATES[dst.state]}\n`;
    else if (src.state === PF_TCPS_PROXY_SRC || dst.state === PF_TCPS_PROXY_SRC) line += '   PROXY:SRC\n';
    else if (src.state === PF_TCPS_PROXY_DST || dst.state === PF_TCPS_PROXY_DST) line += '   PROXY:DST\n';
    else line += `   <BAD STATE LEVELS ${src.state}:${dst.state}>\n`;
  } else if (!icmp && src.state < 3 && dst.state < 3) line += `   ${PFUDPS_NAMES[src.state]}:${PFUDPS_NAMES[dst.state]}\n`;
  else line += `   ${src.state}:${dst.state}\n`;
  if (opts & PF_OPT_VERBOSE) {
    if (proto === 6) {
      const seq = (p: typeof src): string =>
        p.seqdiff ? `[${p.seqlo} + ${(p.seqhi - p.seqlo) >>> 0}](+${p.seqdiff})` : `[${p.seqlo} + ${(p.seqhi - p.seqlo) >>> 0}]`;
      let l = '   ' + seq(src);
      if (src.wscale && dst.wscale) l += ` wscale ${src.wscale & 0x0f}`;
      l += '  ' + seq(dst);
      if (src.wscale && dst.wscale) l += ` wscale ${dst.wscale & 0x0f}`;
      line += l + '\n';
    }
    const now = pf.uptime();
    const age = now - s.creation;
    let exp = pf_state_expires(pf, s.idx) - now;
    if (exp < 0) exp = 0;
    line += `   age ${hms(age)}, expires in ${hms(exp)}, ${s.packets0}:${s.packets1} pkts, ${s.bytes0}:${s.bytes1} bytes`;
    if (s.anchor !== null) line += `, anchor ${s.anchor.nr}`;
    if (s.rule.nr >= 0) line += `, rule ${s.rule.nr}`;
    if (s.state_flags & 0x0800) line += ', sloppy';
    if (s.src_nodes) line += ', source-track';
    line += '\n';
  }
  if (opts & PF_OPT_VERBOSE2) {
    line += `   id: ${s.id.toString(16).padStart(16, '0')} creatorid: ${(pf.creatorid >>> 0).toString(16).padStart(8, '0')}\n`;
  }
  return line;
}

/** pfctl_show_states(): -i one interface's, -R the states a rule made (the title counts every state of the interface). */
export function showStates(
  k: Kernel, env: PfctlEnv, iface: string | null, opts: number, out: (s: string) => void,
  title: (t: string) => void = (t) => out(t + '\n'), shownr = -1,
): void {
  const pf = pf_open(k);
  let first = true;
  for (const s of pf_states(pf)) {
    if (iface !== null && (s.kif === null || s.kif.if_xname !== iface)) continue;
    if (first && opts & PF_OPT_SHOWALL) title('STATES:');
    first = false;
    if (shownr < 0 || s.rule.nr === shownr) out(printState(pf, s, env, opts));
  }
}

/* ---- -s Sources ---- */

/** print_src_node() */
export function printSrcNode(sn: PfSrcNodeExport, opts: number): string {
  const [a0, a1, a2, a3] = sn.addr;
  let line = hostText(sn.af, a0, a1, a2, a3, 0, 0);
  const [r0, r1, r2, r3] = sn.raddr;
  if (r0 !== 0 || (sn.af !== AF_INET && (r1 !== 0 || r2 !== 0 || r3 !== 0))) {
    if (sn.type === PF_SN_NAT) line += ' nat-to ';
    else if (sn.type === PF_SN_RDR) line += ' rdr-to ';
    else if (sn.type === PF_SN_ROUTE) line += ' route-to ';
    else line += ` ??? (${sn.type}) `;
    line += hostText(sn.naf !== 0 ? sn.naf : sn.af, r0, r1, r2, r3, 0, 0);
  }
  const c = sn.conn_rate_count;
  line += ` ( states ${sn.states}, connections ${sn.conn}, rate ${Math.floor(c / 1000)}.${Math.floor((c % 1000) / 100)}/${sn.conn_rate_seconds}s )\n`;
  if (opts & PF_OPT_VERBOSE) {
    line += `   age ${hms(sn.creation)}`;
    if (sn.states === 0) line += `, expires in ${hms(sn.expire)}`;
    line += `, ${sn.packets[0] + sn.packets[1]} pkts, ${sn.bytes[0] + sn.bytes[1]} bytes`;
    if (sn.rule !== -1) line += `, rule ${sn.rule}`;
    line += '\n';
  }
  return line;
}

/** pfctl_show_src_nodes() */
export function showSrcNodes(k: Kernel, opts: number, out: (s: string) => void, title: (t: string) => void = (t) => out(t + '\n')): void {
  const nodes = pf_get_src_nodes(k);
  if (nodes.length > 0 && opts & PF_OPT_SHOWALL) title('SOURCE TRACKING NODES:');
  for (const sn of nodes) out(printSrcNode(sn, opts));
}

/* ---- -s info ---- */

export function showStatus(k: Kernel, opts: number, out: (s: string) => void): void {
  const pf = pf_open(k);
  const runtime = Math.floor((k.world.now - pf.since) / 1e9);
  let status = `Status: ${pf.running ? 'Enabled' : 'Disabled'}`;
  if (runtime > 0) {
    const day = Math.floor(runtime / 86400);
    status += ` for ${day} days ${hms(runtime % 86400)}`;
  }
  out(pad(status, 44, true) + pad(`Debug: ${loglevel_to_string(pf.debug)}`, 15) + '\n\n');
  if (opts & PF_OPT_VERBOSE) {
    out(`Hostid:   0x${(pf.hostid >>> 0).toString(16).padStart(8, '0')}\n`);
    out(`Checksum: 0x${[...pf.checksum].map((b) => b.toString(16).padStart(2, '0')).join('')}\n\n`);
  }
  if (pf.loginterface !== '') {
    const n = (v: number): string => String(v);
    const { pcounters, bcounters } = pfi_update_status(k, pf.loginterface);
    out(`Interface Stats for ${pad(pf.loginterface, 16, true)} ${pad('IPv4', 5)} ${pad('IPv6', 16)}\n`);
    out(`  ${pad('Bytes In', 25, true)} ${pad(n(bcounters[0]!), 14)} ${pad(n(bcounters[2]!), 16)}\n`);
    out(`  ${pad('Bytes Out', 25, true)} ${pad(n(bcounters[1]!), 14)} ${pad(n(bcounters[3]!), 16)}\n`);
    out('  Packets In\n');
    out(`    ${pad('Passed', 23, true)} ${pad(n(pcounters[0]!), 14)} ${pad(n(pcounters[4]!), 16)}\n`);
    out(`    ${pad('Blocked', 23, true)} ${pad(n(pcounters[1]!), 14)} ${pad(n(pcounters[5]!), 16)}\n`);
    out('  Packets Out\n');
    out(`    ${pad('Passed', 23, true)} ${pad(n(pcounters[2]!), 14)} ${pad(n(pcounters[6]!), 16)}\n`);
    out(`    ${pad('Blocked', 23, true)} ${pad(n(pcounters[3]!), 14)} ${pad(n(pcounters[7]!), 16)}\n\n`);
  }
  const rate = (v: number): string => (runtime > 0 ? pad((v / runtime).toFixed(1), 14) + '/s' : pad('', 14));
  const row = (name: string, v: number): void => out(`  ${pad(name, 25, true)} ${pad(String(v), 14)} ${rate(v)}\n`);
  const fc = ['searches', 'inserts', 'removals'];
  out(`${pad('State Table', 27, true)} ${pad('Total', 14)} ${pad('Rate', 16)}\n`);
  out(`  ${pad('current entries', 25, true)} ${pad(String(pf.states), 14)} ${pad('', 14)}\n`);
  out(`  ${pad('half-open tcp', 25, true)} ${pad(String(pf.states_halfopen), 14)} ${pad('', 14)}\n`);
  for (let i = 0; i < 3; i++) row(fc[i]!, pf.fcounters[i]!);
  if (opts & PF_OPT_VERBOSE) {
    out('Source Tracking Table\n');
    out(`  ${pad('current entries', 25, true)} ${pad(String(pf.src_nodes.count), 14)} ${pad('', 14)}\n`);
    for (let i = 0; i < 3; i++) row(fc[i]!, pf.scounters[i]!);
    out('Fragments\n');
    out(`  ${pad('current entries', 25, true)} ${pad(String(pf.frag.count), 14)} ${pad('', 14)}\n`);
    for (let i = 0; i < 3; i++) row(fc[i]!, pf.ncounters[i]!);
  }
  out('Counters\n');
  for (let i = 0; i < PFRES_NAMES.length; i++) row(PFRES_NAMES[i]!, pf.counters[i]!);
  if (opts & PF_OPT_VERBOSE) {
    out('Limit Counters\n');
    for (let i = 0; i < LCNT_NAMES.length; i++) row(LCNT_NAMES[i]!, pf.lcounters[i]!);
    const lim = pf.limits[0]!;
    out('Adaptive Syncookies Watermarks\n');
    out(`  ${pad('start', 25, true)} ${pad(String(Math.floor((lim * 25) / 100)), 14)} states\n`);
    out(`  ${pad('end', 25, true)} ${pad(String(Math.floor((lim * 25) / 200)), 14)} states\n`);
  }
}

export function showTimeouts(k: Kernel, opts: number, out: (s: string) => void, title: (t: string) => void = (t) => out(t + '\n')): void {
  const pf = pf_open(k);
  if (opts & PF_OPT_SHOWALL) title('TIMEOUTS:');
  for (const [name, i] of PF_TIMEOUTS) {
    out(`${pad(name, 20, true)} ${pad(String(pf.timeouts[i]), 10)}${i === 16 || i === 17 ? ' states' : 's'}\n`);
  }
}

export function showLimits(k: Kernel, opts: number, out: (s: string) => void, title: (t: string) => void = (t) => out(t + '\n')): void {
  const pf = pf_open(k);
  if (opts & PF_OPT_SHOWALL) title('LIMITS:');
  for (let i = 0; i < PF_LIMIT_NAMES.length; i++) {
    const v = pf.limits[i]!;
    out(`${pad(PF_LIMIT_NAMES[i]!, 13, true)} ${v >= 0xffffffff ? 'unlimited' : `hard limit ${pad(String(v), 8)}`}\n`);
  }
}

/* ---- tables ---- */



/* ---- -s Anchors ---- */

/**
 * pfctl_show_anchors(): pfctl_walk_anchors() from the anchor given with
 * -a (the main ruleset without), every anchor below it, depth first, each
 * ruleset's children in the kernel's order (by name); the reserved anchor
 * `_pf` is left out.  pfctl_walk_show() prints "  path/name" (or "  name"
 * at the top), and anchors whose path (or, at the top, name) starts with
 * '_' only with -v.  Null when the anchor does not exist (DIOCGETRULESETS:
 * EINVAL, "Anchor does not exist").
 */
export function showAnchors(k: Kernel, anchor: string, opts: number, out: (s: string) => void): number {
  const pf = pf_open(k);
  const verbose = (opts & PF_OPT_VERBOSE) !== 0;
  const walk = (path: string): number => {
    const a = pf_find_anchor(pf, path);
    if (a === null) return -1;
    for (const name of [...a.children.keys()].sort(strcmp)) {
      if (name === PF_RESERVED_ANCHOR) continue;
      if (path !== '') {
        if (path[0] !== '_' || verbose) out(`  ${path}/${name}\n`);
      } else if (name[0] !== '_' || verbose) out(`  ${name}\n`);
      if (walk(path !== '' ? `${path}/${name}` : name) !== 0) return -1;
    }
    return 0;
  };
  return walk(anchor);
}

function strcmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/* ---- -s Interfaces ---- */

/** The interface pf knows (struct pfi_kif): an interface, a group, or a name only rules or `set skip` give. */
export interface PfiKifView {
  name: string;
  /** the interface itself (null for groups and names without one) */
  ifp: Ifnet | null;
  skip: boolean;
  states: number;
  rules: number;
}

/**
 * The kernel's pfi_kif tree as DIOCIGETIFACES walks it (by name): `all`,
 * every interface and interface group, and the names rules, queues and
 * `set skip on` refer to that are neither (pfi_kif_get() made them).
 * References count the states bound to the kif (floating states are
 * bound to `all`) and the rules (and queues) that name it.
 */
export function pfi_kifs(k: Kernel): PfiKifView[] {
  const pf = pf_open(k);
  const kifs = new Map<string, PfiKifView>();
  const kif = (name: string, ifp: Ifnet | null = null): PfiKifView => {
    let v = kifs.get(name);
    if (v === undefined) kifs.set(name, (v = { name, ifp, skip: false, states: 0, rules: 0 }));
    if (ifp !== null) v.ifp = ifp;
    return v;
  };
  kif('all');
  for (const ifp of k.ifnets) {
    if (ifp === undefined) continue;
    kif(ifp.if_xname, ifp);
    for (const g of ifp.if_groups) kif(g);
  }
  for (const name of pf.skip) kif(name);
  const seen = new Set<KRule>();
  const walk = (a: KAnchor): void => {
    for (const r of a.rules) {
      if (seen.has(r)) continue;
      seen.add(r);
      // pf_kif_setup() of the rule's interfaces, pfi_dynaddr_setup() of its (if) addresses
      for (const name of [r.ifname, r.rcvIfname, r.nat.ifname, r.rdr.ifname, r.route.ifname]) if (name !== '') kif(name).rules++;
      for (const ad of [r.src, r.dst, r.nat.addr, r.rdr.addr, r.route.addr]) {
        if (ad.type === PF_ADDR_DYNIFTL && ad.ifname !== '') kif(ad.ifname === 'self' ? 'all' : ad.ifname).rules++;
      }
      if (r.anchor !== null) walk(r.anchor);
    }
    for (const c of a.children.values()) walk(c);
  };
  walk(pf.main);
  for (const q of pf_get_queues(k)) kif(q.qs.ifname).rules++;
  for (const s of pf_states(pf)) kif(s.kif === null ? 'all' : s.kif.if_xname).states++;
  // pfi_set_flags(): `set skip on NAME` marks NAME and, for a group, its members
  for (const v of kifs.values()) {
    if (pf.skip.has(v.name)) v.skip = true;
    else if (v.ifp !== null) for (const g of v.ifp.if_groups) if (pf.skip.has(g) && !/[0-9]$/.test(g)) v.skip = true;
  }
  return [...kifs.values()].sort((a, b) => strcmp(a.name, b.name));
}

/** pfi_skip_if(): is the kif left out by the -i filter (a name, or a group its interface is in)? */
function pfi_skip_if(filter: string | null, p: PfiKifView): boolean {
  if (filter === null || filter === '') return false;
  if (p.name === filter) return false;
  if (filter.length >= 16) return true;
  if (/[0-9]$/.test(filter)) return true;
  if (p.ifp === null) return true;
  return !p.ifp.if_groups.includes(filter);
}

const ISTATS_TEXT = ['In4/Pass:', 'In4/Block:', 'Out4/Pass:', 'Out4/Block:', 'In6/Pass:', 'In6/Block:', 'Out6/Pass:', 'Out6/Block:'];
const NO_COUNTERS = new Float64Array(8);
/** When the kifs that are no interface were made (pfi_kif_alloc()); `all` at boot. */
const kifTzero = new WeakMap<Pf, Map<string, number>>();

/**
 * pfctl_show_ifaces(): one name a line; -v adds " (skip)", -vv
 * print_iface()'s Cleared time, references and the packets and bytes pf
 * counted on the interface by [inet|inet6][in|out][pass|block] (a
 * group's or a name's own kif counts none: packets are counted on the
 * interface they are on).
 */
export function showIfaces(k: Kernel, filter: string | null, opts: number, out: (s: string) => void, title: (t: string) => void): void {
  const pf = pf_open(k);
  let tz = kifTzero.get(pf);
  if (tz === undefined) kifTzero.set(pf, (tz = new Map([['all', 0]])));
  const now = Math.floor(k.world.now / 1e9);
  if (opts & PF_OPT_SHOWALL) title('INTERFACES:');
  for (const p of pfi_kifs(k)) {
    if (pfi_skip_if(filter, p)) continue;
    out(p.name + (opts & PF_OPT_VERBOSE && p.skip ? ' (skip)' : '') + '\n');
    if (!(opts & PF_OPT_VERBOSE2)) continue;
    let tzero: number;
    if (p.ifp !== null) tzero = p.ifp.pfik_tzero;
    else {
      // a group's kif came with its first member; a name rules gave, with them (here: when first listed)
      let t = tz.get(p.name);
      if (t === undefined) {
        const members = pfi_kif_members(k, p.name);
        t = members.length > 0 ? Math.min(...members.map((i) => i.pfik_tzero)) : now;
        tz.set(p.name, t);
      }
      tzero = t;
    }
    out(`\tCleared:     ${ctime(tzero)}`);
    out(`\tReferences:  [ States:  ${String(p.states).padEnd(18)} Rules: ${String(p.rules).padEnd(18)} ]\n`);
    const packets = p.ifp !== null ? p.ifp.pfik_packets : NO_COUNTERS;
    const bytes = p.ifp !== null ? p.ifp.pfik_bytes : NO_COUNTERS;
    for (let i = 0; i < 8; i++) {
      out(`\t${ISTATS_TEXT[i]!.padEnd(12)} [ Packets: ${String(packets[i]).padEnd(18)} Bytes: ${String(bytes[i]).padEnd(18)} ]\n`);
    }
  }
}

/* ---- -s queue ---- */

/**
 * pfctl_show_queues(): print_queuespec() of each queue the kernel has
 * (those of -i's interface only), "QUEUES:" first under -s all; -v adds
 * the queue's counters (no packet passes packetflow's queues: zeros, and
 * the queue limit HFSC or FQ-CoDel would give it), -g the qids.
 */
export function showQueues(k: Kernel, iface: string | null, opts: number, out: (s: string) => void, title: (t: string) => void): void {
  let dotitle = (opts & PF_OPT_SHOWALL) !== 0;
  for (const q of pf_get_queues(k)) {
    if (iface !== null && q.qs.ifname !== iface) continue;
    if (dotitle) {
      title('QUEUES:');
      dotitle = false;
    }
    out(printQueuespec(q.qs));
    if (opts & PF_OPT_VERBOSE) {
      out(`  [ pkts: ${'0'.padStart(10)}  bytes: ${'0'.padStart(10)}  dropped pkts: ${'0'.padStart(6)} bytes: ${'0'.padStart(6)} ]\n`);
      if (q.parent_qid === 0 && q.qs.flags & PFQS_FLOWQUEUE && !(q.qs.flags & PFQS_ROOTCLASS)) {
        // fq_codel: qlimit 1024 unless the queue says
        const qlimit = q.qs.qlimit > 0 ? q.qs.qlimit : 1024;
        out(`  [ qlength: ${'0'.padStart(3)}/${String(qlimit).padStart(3)}  avg delay: 0.000ms std-dev: 0.000ms  flows: ${'0'.padStart(3)} ]\n`);
      } else {
        // hfsc_class_create(): HFSC_DEFAULT_QLIMIT 50
        const qlimit = q.qs.qlimit > 0 ? q.qs.qlimit : 50;
        out(`  [ qlength: ${'0'.padStart(3)}/${String(qlimit).padStart(3)} ]\n`);
      }
    }
    if (opts & PF_OPT_DEBUG) out(`  [ qid=${q.qid} parent_qid=${q.parent_qid} ifname=${q.qs.ifname}]\n`);
  }
}
