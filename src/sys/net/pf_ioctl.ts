/**
 * The pf device (sys/net/pf_ioctl.c): what pfctl asks of the kernel.
 * DIOCSTART/DIOCSTOP, loading a ruleset in one transaction (rules compiled
 * for evaluation with their skip steps, tables, `set` options), state
 * listing and killing, status and its reset, and the table ioctls
 * (DIOCRADDADDRS, DIOCRDELADDRS, DIOCRSETADDRS, DIOCRTSTADDRS...).  Each
 * returns 0 or an errno, as the ioctl would.
 *
 * The ruleset arrives in pfctl's typed rule model (sbin/pfctl/pf_ruleset.ts,
 * the struct pf_rule the ioctl copies in).
 */
import type { Kernel } from '../kern/kernel.js';
import type { Ifnet } from './if.js';
import type {
  PfAddrWrap, PfAnchor, PfOptions, PfPool, PfQueueSpec, PfRule, PfRuleAddr, PfTableDef,
} from '../../sbin/pfctl/pf_ruleset.js';
import {
  AF_INET, AF_INET6, KAddr, KAnchor, KPool, KRule, Pf, PF_ADDR_DYNIFTL, PF_ADDR_NONE, PF_ADDR_RANGE, PF_ADDR_TABLE,
  PF_LIMIT_NAMES, PF_LIMIT_STATES, PFTM_ADAPTIVE_END, PFTM_ADAPTIVE_START, PFTM_DEFAULTS, PFTM_MAX,
  pf_attach, pf_calc_skip_steps, pf_remove_state, pf_ruletab_gc, pf_states, pf_tagname2tag, type PfState,
} from './pf.js';
import { pfi_dynaddr_remove, pfi_dynaddr_setup } from './pf_if.js';
import {
  addrWords, PfrAddr, PfrPools, pfr_attach_table as pfr_attach_ktable, pfr_detach_table, pfr_ina_begin, pfr_ina_commit,
  pfr_ina_define, PFR_FLAG_ADDRSTOO, PFR_TFLAG_ACTIVE, PFRKE_COST, PFRKE_ROUTE, type PfrCtx, type PfrKtable,
} from './pf_table.js';
import { pflog_clone_create } from './if_pflog.js';
import { pf_calc_chksum } from './pf_chksum.js';
import { in6_pcblookup, in6_pcblookup_listen, in_pcblookup, in_pcblookup_listen } from '../netinet/in_pcb.js';
import { put32 } from '../../wire/bytes.js';
import { ip_forward } from '../netinet/ip_input.js';
import { ip6_forward } from '../netinet6/ip6_forward.js';
import { icmp6_error } from '../netinet6/icmp6.js';
import { in6_proto_cksum_out, ip6_fragment, ip6_send, ip6_send_if } from '../netinet6/ip6_output.js';
import { rt6_match, rt6isvalid } from './route6.js';
import type { PfPdesc, PfSocketOwner } from './pf.js';
import { pf_src_nodes_clear, pf_src_nodes_export, pf_src_nodes_kill, type PfSrcKill, type PfSrcNodeExport } from './pf_src.js';

export const EEXIST = 17;
export const ENOENT = 2;
export const EINVAL = 22;
export const EBUSY = 16;
export const ESRCH = 3;

/** The kernel's pf, made on first use (pfattach + pflog0), with the PCB lookup for user/group. */
export function pf_open(k: Kernel): Pf {
  const pf = pf_attach(k);
  if (pf.pflogifs[0] === undefined) pflog_clone_create(k, 0);
  if (pf.socketLookup === null) pf.socketLookup = pf_socket_lookup_inpcb;
  if (pf.netout === null) {
    pf.netout = {
      ip_forward: (k, m, ifp, flags) => ip_forward(k, m, ifp, flags),
      ip6_forward: (k, m, flags) => ip6_forward(k, m, null, flags),
      icmp6_error, ip6_send_if, rt6_match, rt6isvalid, ip6_send, in6_proto_cksum_out, ip6_fragment,
    };
  }
  return pf;
}

/** pf_socket_lookup_inpcb()'s IPv6 addresses (scratch: a lookup allocates nothing) */
const laddr6 = new Uint8Array(16);
const faddr6 = new Uint8Array(16);

function setAddr6(b: Uint8Array, w0: number, w1: number, w2: number, w3: number): Uint8Array {
  put32(b, 0, w0 >>> 0);
  put32(b, 4, w1 >>> 0);
  put32(b, 8, w2 >>> 0);
  put32(b, 12, w3 >>> 0);
  return b;
}

/**
 * pf_socket_lookup(): the socket a TCP/UDP packet belongs to, as
 * in_pcblookup() or in6_pcblookup() finds it, else a socket bound to the
 * local address and port (in_pcblookup_listen(), either direction: an
 * unconnected UDP socket's datagrams out, a listener's first packet in).
 */
function pf_socket_lookup_inpcb(k: Kernel, af: number, proto: number, pd: PfPdesc): PfSocketOwner | null {
  if (af !== AF_INET && af !== AF_INET6) return null;
  const v6 = af === AF_INET6;
  const tbl = proto === 6 ? (v6 ? k.inet.tcb6table : k.inet.tcbtable) : proto === 17 ? (v6 ? k.inet.udb6table : k.inet.udbtable) : null;
  if (tbl === null) return null;
  // in: the local side is the destination; out: the source
  const inbound = pd.dir === 1;
  const lport = inbound ? pd.odport : pd.osport;
  const fport = inbound ? pd.osport : pd.odport;
  let inp;
  if (v6) {
    const laddr = inbound ? setAddr6(laddr6, pd.d0, pd.d1, pd.d2, pd.d3) : setAddr6(laddr6, pd.s0, pd.s1, pd.s2, pd.s3);
    const faddr = inbound ? setAddr6(faddr6, pd.s0, pd.s1, pd.s2, pd.s3) : setAddr6(faddr6, pd.d0, pd.d1, pd.d2, pd.d3);
    inp = in6_pcblookup(tbl, faddr, fport, laddr, lport, pd.rdomain);
    if (inp === null) inp = in6_pcblookup_listen(tbl, laddr, lport, null, pd.rdomain);
  } else {
    const laddr = (inbound ? pd.d0 : pd.s0) >>> 0;
    const faddr = (inbound ? pd.s0 : pd.d0) >>> 0;
    inp = in_pcblookup(tbl, faddr, fport, laddr, lport, pd.rdomain);
    if (inp === null) inp = in_pcblookup_listen(tbl, laddr, lport, null, pd.rdomain);
  }
  if (inp === null) return null;
  return { uid: inp.inp_socket.so_euid, gid: inp.inp_socket.so_egid, pid: inp.inp_socket.so_cpid };
}

/** DIOCSTART */
export function pf_start(k: Kernel): number {
  const pf = pf_open(k);
  if (pf.running) return EEXIST;
  pf.running = true;
  pf.since = k.world.now;
  return 0;
}

/** DIOCSTOP */
export function pf_stop(k: Kernel): number {
  const pf = pf_open(k);
  if (!pf.running) return ENOENT;
  pf.running = false;
  pf.since = k.world.now;
  return 0;
}

/** The table code's view of this pf (pfr_ktables, the pools, rulesets, clock), made once per kernel. */
const pfrCtxs = new WeakMap<Pf, PfrCtx>();
export function pfr_ctx(pf: Pf): PfrCtx {
  let c = pfrCtxs.get(pf);
  if (c === undefined) {
    c = {
      tables: pf.tables,
      pools: new PfrPools(),
      rulesetExists: (anchor) => pf_find_anchor(pf, anchor) !== null,
      rulesetCreate: (anchor) => void pf_find_or_create_anchor(pf, anchor),
      rulesetRemoveIfEmpty: () => pf_remove_empty_anchors(pf),
      now: () => Math.floor(pf.k.world.now / 1e9),
      tticket: new Map(),
    };
    pfrCtxs.set(pf, c);
  }
  return c;
}

/** vmstat -m's lines for the table pools: name, Requests, Releases, InUse. */
export function pfr_pool_stats(k: Kernel): Array<{ name: string; requests: number; releases: number; inuse: number }> {
  const c = pfr_ctx(pf_open(k));
  return [c.pools.ktable, ...c.pools.kentry].map((p) => ({ name: p.name, requests: p.nget, releases: p.nput, inuse: p.nout }));
}

/** pfr_attach_table() of a rule's address: the table of the rule's ruleset */
function pfr_attach_table(pf: Pf, anchor: string, name: string): PfrKtable {
  return pfr_attach_ktable(pfr_ctx(pf), anchor, name);
}

function compileAddr(pf: Pf, anchor: string, w: PfAddrWrap, af: number, into: KAddr): void {
  into.type = w.type;
  into.af = af;
  if (w.type === PF_ADDR_TABLE) into.table = pfr_attach_table(pf, anchor, w.tblname);
  else if (w.type === PF_ADDR_DYNIFTL) {
    into.ifname = w.ifname;
    into.iflags = w.iflags;
  } else if (w.type === PF_ADDR_RANGE) {
    into.a0 = addrWords(w.addr)[0];
    into.m0 = addrWords(w.mask)[0];
  } else {
    const a = addrWords(w.addr);
    const m = addrWords(w.mask);
    into.a0 = a[0];
    into.a1 = a[1];
    into.a2 = a[2];
    into.a3 = a[3];
    into.m0 = m[0];
    into.m1 = m[1];
    into.m2 = m[2];
    into.m3 = m[3];
  }
}

function compileRuleAddr(pf: Pf, anchor: string, ra: PfRuleAddr, af: number, into: KAddr): void {
  compileAddr(pf, anchor, ra.addr, af, into);
  if (ra.addr.type === PF_ADDR_DYNIFTL) pfi_dynaddr_setup(pf, pfr_ctx(pf), into, ra.addr.ifname, ra.addr.iflags, ra.addr.mask, af);
  into.neg = ra.neg;
  into.portOp = ra.portOp;
  into.port0 = ra.port[0];
  into.port1 = ra.port[1];
}

function compilePool(pf: Pf, anchor: string, p: PfPool, af: number, into: KPool): boolean {
  if (p.addr.type === PF_ADDR_NONE) return false;
  compileAddr(pf, anchor, p.addr, af, into.addr);
  // an all-zero address/mask with no interface is an unused pool
  if (p.addr.type === 0 && into.addr.a0 === 0 && into.addr.m0 === 0 && into.addr.a1 === 0 && p.ifname === '' && into.addr.m3 === 0)
    return false;
  // (if): the interface's _pf table, followed as its addresses change (pf_addr_setup of a pool: the rule's family)
  if (p.addr.type === PF_ADDR_DYNIFTL) {
    pfi_dynaddr_setup(pf, pfr_ctx(pf), into.addr, p.addr.ifname, p.addr.iflags, p.addr.mask, af);
    // its mask (v.a.mask): af-to takes a prefix length from a pool's
    const m = addrWords(p.addr.mask);
    into.addr.m0 = m[0];
    into.addr.m1 = m[1];
    into.addr.m2 = m[2];
    into.addr.m3 = m[3];
  }
  into.ifname = p.ifname;
  into.proxyPort0 = p.proxyPort[0];
  into.proxyPort1 = p.proxyPort[1];
  into.opts = p.opts;
  into.key0 = p.key[0] | 0;
  into.key1 = p.key[1] | 0;
  into.key2 = p.key[2] | 0;
  into.key3 = p.key[3] | 0;
  return true;
}

/**
 * Compile pfctl's rules of an anchor (recursively) into the kernel's.
 * Inline (brace) anchors are compiled with it; an anchor a rule names
 * (`anchor "one"`) is the live anchor at that path, made when missing, as
 * pf_anchor_setup() finds or creates the ruleset: what is loaded into it
 * before or after (`pfctl -a regress/one -f ...`, `load anchor`) stays.
 */
function compileAnchor(pf: Pf, src: PfAnchor, path = src.path): KAnchor {
  const ka = new KAnchor(src.name, path);
  ka.src_anchor = src;
  let nr = 0;
  for (const r of src.ruleset.rules) {
    const kr = compileRule(pf, path, r);
    kr.nr = nr++;
    ka.rules.push(kr);
    if (r.anchor === null) continue;
    if (r.anchor.ref === true) {
      // anchorRefsValid() checked every path before the load began
      kr.anchor = pf_find_or_create_anchor(pf, pf_anchor_path(path, r.anchor.path)!);
      continue;
    }
    kr.anchor = compileAnchor(pf, r.anchor, inlinePath(path, r.anchor.name));
    ka.children.set(r.anchor.name, kr.anchor);
  }
  pf_calc_skip_steps(ka.rules);
  return ka;
}

/**
 * Where pfctl_load_rule() puts an inline anchor: under its caller, by
 * name.  (pfctl parses a nested brace anchor into a holding ruleset, so
 * the path pfctl gave it can be "_1/_2" rather than "regress/_1/_2".)
 */
function inlinePath(caller: string, name: string): string {
  return caller === '' ? name : `${caller}/${name}`;
}

/** The kernel paths of the inline anchors of a load, by the paths pfctl gave them. */
function inlinePaths(src: PfAnchor, path: string, into: Map<string, string>): Map<string, string> {
  for (const r of src.ruleset.rules) {
    if (r.anchor === null || r.anchor.ref === true) continue;
    const p = inlinePath(path, r.anchor.name);
    into.set(r.anchor.path, p);
    inlinePaths(r.anchor, p, into);
  }
  return into;
}

/**
 * pf_anchor_setup()'s path: a name with a leading '/' is absolute, others
 * are relative to the calling ruleset, each leading "../" one level up; a
 * trailing "/*" (wildcard) calls the children and is not part of the path.
 * Null when "../" climbs above the main ruleset.
 */
export function pf_anchor_path(caller: string, name: string): string | null {
  let path: string;
  if (name.startsWith('/')) path = name.slice(1);
  else {
    path = caller;
    while (name.startsWith('../')) {
      if (path === '') return null;
      const i = path.lastIndexOf('/');
      path = i >= 0 ? path.slice(0, i) : '';
      name = name.slice(3);
    }
    path = path === '' ? name : `${path}/${name}`;
  }
  if (path.endsWith('/*')) path = path.slice(0, -2);
  // An anchor rule cannot call the main ruleset (`anchor "/"`).
  return path === '' ? null : path;
}

/** Every anchor the rules of src (and of its inline anchors) name has a path; pf_anchor_setup() fails the load otherwise. */
function anchorRefsValid(src: PfAnchor, path: string): boolean {
  for (const r of src.ruleset.rules) {
    if (r.anchor === null) continue;
    if (r.anchor.ref === true) {
      if (pf_anchor_path(path, r.anchor.path) === null) return false;
    } else if (!anchorRefsValid(r.anchor, inlinePath(path, r.anchor.name))) return false;
  }
  return true;
}

/** The live anchor at a path, made (with its parents) when missing. */
function pf_find_or_create_anchor(pf: Pf, path: string): KAnchor {
  let cur = pf.main;
  if (path === '') return cur;
  for (const p of path.split('/')) {
    let c = cur.children.get(p);
    if (c === undefined) {
      c = new KAnchor(p, cur.path ? `${cur.path}/${p}` : p);
      cur.children.set(p, c);
    }
    cur = c;
  }
  return cur;
}

function compileRule(pf: Pf, anchor: string, r: PfRule): KRule {
  const k = new KRule();
  k.src_rule = r;
  k.action = r.action;
  k.direction = r.direction;
  k.log = r.log;
  k.logif = r.logif;
  k.quick = r.quick;
  k.ifname = r.ifname;
  k.ifnot = r.ifnot;
  k.onrdomain = r.onrdomain;
  k.rcvIfname = r.rcvIfname;
  k.rcvifnot = r.rcvifnot;
  k.af = r.af;
  k.naf = r.naf;
  k.proto = r.proto;
  k.type = r.type;
  k.code = r.code;
  compileRuleAddr(pf, anchor, r.src, r.af, k.src);
  compileRuleAddr(pf, anchor, r.dst, r.af, k.dst);
  k.uidOp = r.uid.op;
  k.uid0 = r.uid.id[0];
  k.uid1 = r.uid.id[1];
  k.gidOp = r.gid.op;
  k.gid0 = r.gid.id[0];
  k.gid1 = r.gid.id[1];
  k.flags = r.flags;
  k.flagset = r.flagset;
  k.tos = r.tos;
  k.prio = r.prio;
  k.keepState = r.keepState;
  k.ruleFlag = r.ruleFlag;
  k.allowOpts = r.allowOpts;
  k.returnTtl = r.returnTtl;
  k.returnIcmp = r.returnIcmp;
  k.returnIcmp6 = r.returnIcmp6;
  k.maxStates = r.maxStates;
  for (let i = 0; i < PFTM_MAX && i < r.timeout.length; i++) k.timeout[i] = r.timeout[i]!;
  k.prob = r.prob;
  if (r.tagname) k.tag = pf_tagname2tag(pf, r.tagname);
  if (r.matchTagname) {
    k.matchTag = pf_tagname2tag(pf, r.matchTagname);
    k.matchTagNot = r.matchTagNot;
  }
  k.rtableid = r.rtableid;
  k.label = r.label;
  k.natSet = compilePool(pf, anchor, r.nat, r.af, k.nat);
  k.rdrSet = compilePool(pf, anchor, r.rdr, r.af, k.rdr);
  k.routeSet = compilePool(pf, anchor, r.route, r.af, k.route);
  k.rt = r.rt;
  // overload <table>: attached (and made active) like a table the rule refers to
  if (r.overloadTblname) {
    k.overloadTbl = pfr_attach_table(pf, anchor, r.overloadTblname);
    k.overloadTbl.flags |= PFR_TFLAG_ACTIVE;
  }
  k.flush = r.flush;
  k.maxSrcNodes = r.maxSrcNodes;
  k.maxSrcStates = r.maxSrcStates;
  k.maxSrcConn = r.maxSrcConn;
  k.maxSrcConnRateLimit = r.maxSrcConnRate.limit;
  k.maxSrcConnRateSeconds = r.maxSrcConnRate.seconds;
  if (k.logif !== 0 && pf.pflogifs[k.logif] === undefined) pflog_clone_create(pf.k, k.logif);
  return k;
}

/** What one pfctl -f load carries (parse.ts's ParseResult). */
export interface PfLoad {
  main: PfAnchor;
  tables: PfTableDef[];
  options: PfOptions;
}

/**
 * DIOCXBEGIN..DIOCXCOMMIT of a whole pf.conf: tables, options, the rules
 * of the main ruleset (anchor "") or of the named anchor.
 */
export function pf_load(k: Kernel, load: PfLoad, anchor = ''): number {
  const pf = pf_open(k);
  // DIOCADDRULE: an anchor call above the main ruleset (`anchor "../x"` at the top) is EINVAL, before anything changes.
  if (!anchorRefsValid(load.main, anchor)) return EINVAL;
  const c = pfr_ctx(pf);
  const before = pf_rules_all(pf);
  // the tables' transaction (DIOCXBEGIN, DIOCRINADEFINE per table; committed after the rules)
  // an inline anchor's tables belong to its kernel path
  const paths = inlinePaths(load.main, load.main.path, new Map());
  const tanchor = (td: PfTableDef): string => paths.get(td.anchor) ?? (td.anchor || anchor);
  const anchors = [...new Set([anchor, ...load.tables.map(tanchor)])];
  const tickets = new Map<string, number>();
  for (const a of anchors) tickets.set(a, pfr_ina_begin(c, a, 0).ticket);
  for (const td of load.tables) {
    const a = tanchor(td);
    const addrs = td.entries.map((e) => {
      const ad = PfrAddr.of({ af: e.af, ...wordsOf(e.addr), net: e.net, not: e.not });
      // append_addr_host(): an interface route entry, or a weighted one
      if (e.ifname !== null) {
        ad.ifname = e.ifname;
        ad.type = PFRKE_ROUTE;
      }
      if (e.weight > 0) {
        ad.weight = e.weight;
        ad.type = PFRKE_COST;
      }
      return ad;
    });
    pfr_ina_define(c, { name: td.name, anchor: a, flags: td.flags }, addrs, tickets.get(a)!, td.initAddr ? PFR_FLAG_ADDRSTOO : 0);
  }
  const ka = compileAnchor(pf, load.main);
  if (anchor === '') {
    // Anchors loaded on their own (-a) stay when the main ruleset is replaced.
    for (const [n, c] of pf.main.children) if (!ka.children.has(n)) ka.children.set(n, c);
    pf.main = ka;
    const o = load.options;
    for (let i = 0; i < PFTM_MAX; i++) pf.timeouts[i] = o.timeoutSet[i] ? o.timeout[i]! : PFTM_DEFAULTS[i]!;
    for (let i = 0; i < PF_LIMIT_NAMES.length; i++) {
      const v = o.limit.get(PF_LIMIT_NAMES[i]!);
      if (v !== undefined) pf.limits[i] = v;
    }
    // pfctl_load_options(): a states limit scales the adaptive timeouts unless set
    const lim = o.limit.get('states');
    if (lim !== undefined && !o.timeoutSet[PFTM_ADAPTIVE_START] && !o.timeoutSet[PFTM_ADAPTIVE_END]) {
      pf.timeouts[PFTM_ADAPTIVE_START] = Math.floor(lim / 10) * 6;
      pf.timeouts[PFTM_ADAPTIVE_END] = Math.floor(lim / 10) * 12;
    }
    void PF_LIMIT_STATES;
    pf.loginterface = o.loginterface ?? '';
    if (o.hostid !== 0) pf.hostid = o.hostid;
    pf.debug = o.debug;
    pf.reass = o.reassemble;
    pf.skip = new Set(o.skip);
    pf.checksum = pf_calc_chksum(ka.rules);
  } else {
    // an anchor: find (or make) it under the main ruleset
    const cur = pf_find_or_create_anchor(pf, anchor);
    cur.rules = ka.rules;
    cur.src_anchor = ka.src_anchor;
    for (const [n, c] of ka.children) cur.children.set(n, c);
    // anchor rules calling it now see the new rules
    relink(pf.main, anchor, cur);
  }
  const live = new Set<KRule>();
  const walk = (a: KAnchor): void => {
    for (const r of a.rules) live.add(r);
    for (const c of a.children.values()) walk(c);
  };
  walk(pf.main);
  pf_ruletab_gc(pf, live);
  // pf_commit_rules(): the rules replaced let go of their tables, then the tables commit
  pf_rules_detach_gone(pf, before, live);
  for (const a of anchors) pfr_ina_commit(c, a, tickets.get(a)!);
  pf_remove_empty_anchors(pf);
  return 0;
}

function wordsOf(a: Uint8Array): { w0: number; w1: number; w2: number; w3: number } {
  const w = addrWords(a);
  return { w0: w[0], w1: w[1], w2: w[2], w3: w[3] };
}

/** Every rule of every ruleset. */
function pf_rules_all(pf: Pf): Set<KRule> {
  const all = new Set<KRule>();
  const walk = (a: KAnchor): void => {
    for (const r of a.rules) all.add(r);
    for (const ch of a.children.values()) walk(ch);
  };
  walk(pf.main);
  return all;
}

/** pf_rm_rule()'s part for tables: a removed rule detaches the tables its addresses name. */
function pf_rule_detach(pf: Pf, r: KRule): void {
  const c = pfr_ctx(pf);
  for (const a of [r.src, r.dst, r.nat.addr, r.rdr.addr, r.route.addr]) {
    if (a.type === PF_ADDR_DYNIFTL) pfi_dynaddr_remove(pf, c, a);
    else if (a.type === PF_ADDR_TABLE && a.table !== null) {
      pfr_detach_table(c, a.table);
      a.table = null;
    }
  }
  if (r.overloadTbl !== null) {
    pfr_detach_table(c, r.overloadTbl);
    r.overloadTbl = null;
  }
}

function pf_rules_detach_gone(pf: Pf, before: Set<KRule>, live: Set<KRule>): void {
  for (const r of before) if (!live.has(r)) pf_rule_detach(pf, r);
}

function relink(a: KAnchor, path: string, target: KAnchor): void {
  for (const r of a.rules) {
    if (r.anchor === null) continue;
    if (r.anchor.path === path) r.anchor = target;
    else relink(r.anchor, path, target);
  }
}

/** The anchor at a path ('' is the main ruleset), or null. */
export function pf_find_anchor(pf: Pf, path: string): KAnchor | null {
  if (path === '') return pf.main;
  let cur: KAnchor | undefined = pf.main;
  for (const p of path.split('/')) {
    cur = cur.children.get(p);
    if (cur === undefined) return null;
  }
  return cur;
}

/** A queue of the active set as DIOCGETQSTATS returns it: the spec with its qids. */
export interface PfQueue {
  qs: PfQueueSpec;
  qid: number;
  parent_qid: number;
}

const pfQueues = new WeakMap<Pf, PfQueue[]>();

/**
 * DIOCADDQUEUE for each queue (in pfctl_load_queue()'s order, the
 * interface given down from the root) and the commit of the main
 * ruleset's transaction: the queues replace the active set.  A queue's
 * qid is pf_qname2qid()'s, a number per name from 1; parent_qid is its
 * parent's.  (packetflow has no HFSC or FQ-CoDel scheduler: the queues
 * are kept and shown, packets do not pass through them.)
 */
export function pf_commit_queues(k: Kernel, queues: readonly PfQueueSpec[]): void {
  const ids = new Map<string, number>();
  const qid = (name: string): number => {
    let id = ids.get(name);
    if (id === undefined) ids.set(name, (id = ids.size + 1));
    return id;
  };
  pfQueues.set(
    pf_open(k),
    queues.map((qs) => ({ qs: { ...qs }, qid: qid(qs.qname), parent_qid: qs.parent ? qid(qs.parent) : 0 })),
  );
}

/** DIOCGETQUEUES / DIOCGETQSTATS: the active queues, in the order they were added. */
export function pf_get_queues(k: Kernel): readonly PfQueue[] {
  return pfQueues.get(pf_open(k)) ?? [];
}

/** Flush the rules of an anchor (pfctl -F rules). */
export function pf_clear_rules(k: Kernel, anchor = ''): number {
  const pf = pf_open(k);
  const a = pf_find_anchor(pf, anchor);
  if (a === null) return 0;
  const before = pf_rules_all(pf);
  // the anchor's own rules go; anchors below it keep theirs
  a.rules = [];
  pf_rules_detach_gone(pf, before, pf_rules_all(pf));
  pf_remove_empty_anchors(pf);
  return 0;
}

/**
 * pf_remove_if_empty_ruleset(), wherever a ruleset may have emptied: an
 * anchor with no rules, no anchors below it, no tables and no anchor rule
 * calling it is removed, and then its parent is looked at again (children
 * first, so an emptied chain goes up to the first anchor still in use).
 */
export function pf_remove_empty_anchors(pf: Pf): void {
  const called = new Set<KAnchor>();
  const calls = (a: KAnchor): void => {
    for (const r of a.rules) if (r.anchor !== null) called.add(r.anchor);
    for (const c of a.children.values()) calls(c);
  };
  calls(pf.main);
  const tables = new Set<string>();
  for (const t of pf.tables.values()) tables.add(t.anchor);
  const sweep = (a: KAnchor): void => {
    for (const [name, c] of a.children) {
      sweep(c);
      if (c.rules.length === 0 && c.children.size === 0 && !called.has(c) && !tables.has(c.path)) a.children.delete(name);
    }
  };
  sweep(pf.main);
}

/**
 * Whether state s is on interface ifname ('' any): st->kif->pfik_name, which
 * for a floating state is pfi_all's, "all" (DIOCCLRSTATES and the general
 * DIOCKILLSTATES compare the name; only its exact-key path leaves pfi_all out).
 */
function onKif(s: { kif: { if_xname: string } | null }, ifname: string): boolean {
  return ifname === '' || (s.kif === null ? 'all' : s.kif.if_xname) === ifname;
}

/** DIOCCLRSTATES: remove all states (on one interface); returns how many. */
export function pf_clear_states(k: Kernel, ifname = ''): number {
  const pf = pf_open(k);
  let n = 0;
  for (const s of pf_states(pf)) {
    if (onKif(s, ifname)) {
      pf_remove_state(pf, s.idx);
      n++;
    }
  }
  return n;
}

/** An address and mask in words, for DIOCKILLSTATES. */
export interface PfKillAddr {
  af: number;
  addr: [number, number, number, number];
  mask: [number, number, number, number];
  /** the port (port_op PF_OP_EQ), any when absent */
  port?: number;
}

function killMatch(sel: PfKillAddr | null, af: number, w0: number, w1: number, w2: number, w3: number): boolean {
  if (sel === null) return true;
  if (sel.af !== af) return false;
  const x = [w0, w1, w2, w3];
  for (let i = 0; i < (af === AF_INET ? 1 : 4); i++) if (((x[i]! ^ sel.addr[i]!) & sel.mask[i]!) !== 0) return false;
  return true;
}

/**
 * DIOCKILLSTATES by label (psk_label): the states whose rule has that
 * label, on the interface if one is given, in the rdomain.
 */
export function pf_kill_states_label(k: Kernel, label: string, ifname = '', rdomain = 0): number {
  const pf = pf_open(k);
  let n = 0;
  for (const s of pf_states(pf)) {
    if (s.key_stack.rdomain !== rdomain || !onKif(s, ifname)) continue;
    if (s.rule.label === '' || s.rule.label !== label) continue;
    pf_remove_state(pf, s.idx);
    n++;
  }
  return n;
}

/** DIOCKILLSTATES by id (psk_pfcmp): the state with that id and creator (0: this host's), 1 if found. */
export function pf_kill_state_id(k: Kernel, id: bigint, creatorid: number): number {
  const pf = pf_open(k);
  const cid = creatorid === 0 ? pf.hostid : creatorid;
  if ((cid >>> 0) !== (pf.creatorid >>> 0)) return 0;
  for (const s of pf_states(pf)) {
    if (BigInt(s.id) === id) {
      pf_remove_state(pf, s.idx);
      return 1;
    }
  }
  return 0;
}

/**
 * DIOCKILLSTATES: remove the states whose source matches src and
 * destination dst (an inbound state's wire key, an outbound state's stack
 * key: the addresses as its creator saw them), of protocol proto (0: any),
 * ports where given.
 */
export function pf_kill_states(k: Kernel, src: PfKillAddr | null, dst: PfKillAddr | null, ifname = '', rdomain = 0, proto = 0): number {
  const pf = pf_open(k);
  let n = 0;
  for (const s of pf_states(pf)) {
    const out = s.direction === 2;
    const sk = out ? s.key_stack : s.key_wire;
    const sa: [number, number, number, number] = out ? [sk.a10, sk.a11, sk.a12, sk.a13] : [sk.a00, sk.a01, sk.a02, sk.a03];
    const da: [number, number, number, number] = out ? [sk.a00, sk.a01, sk.a02, sk.a03] : [sk.a10, sk.a11, sk.a12, sk.a13];
    const sp = out ? sk.port1 : sk.port0;
    const dp = out ? sk.port0 : sk.port1;
    // psk_rdomain (pfctl -V, default 0) must be the state's
    if (sk.rdomain === rdomain && onKif(s, ifname) &&
        (proto === 0 || sk.proto === proto) &&
        killMatch(src, sk.af, ...sa) && killMatch(dst, sk.af, ...da) &&
        (src?.port === undefined || src.port === sp) && (dst?.port === undefined || dst.port === dp)) {
      pf_remove_state(pf, s.idx);
      n++;
    }
  }
  return n;
}

/**
 * DIOCCLRSTATUS: with an interface (or group) name only its kifs'
 * counters (pfi_update_status(name, NULL)); without, pf's counters, the
 * state table's, source tracking's and the fragment cache's, and `since`
 * (the limit counters and the interfaces' counters stay, as in OpenBSD).
 */
export function pf_clear_status(k: Kernel, ifname = ''): void {
  const pf = pf_open(k);
  if (ifname !== '') {
    const now = Math.floor(k.world.now / 1e9);
    for (const ifp of pfi_kif_members(k, ifname)) {
      ifp.pfik_packets.fill(0);
      ifp.pfik_bytes.fill(0);
      ifp.pfik_tzero = now;
    }
    return;
  }
  pf.counters.fill(0);
  pf.fcounters.fill(0);
  pf.scounters.fill(0);
  pf.ncounters.fill(0);
  pf.since = k.world.now;
}

/** The interfaces of a kif: the interface of that name, or the members of the group. */
export function pfi_kif_members(k: Kernel, name: string): Ifnet[] {
  const ifp = k.ifunit(name);
  if (ifp !== undefined) return [ifp];
  return k.ifnets.filter((i): i is Ifnet => i !== undefined && i.if_groups.includes(name));
}

/**
 * pfi_update_status(name, &status): the loginterface's counters for
 * pfctl -si, summed over the kif's interfaces: packets [inet6][out][blocked],
 * bytes [inet6][out] (passed and blocked).
 */
export function pfi_update_status(k: Kernel, name: string): { pcounters: Float64Array; bcounters: Float64Array } {
  const pcounters = new Float64Array(8);
  const bcounters = new Float64Array(4);
  for (const ifp of pfi_kif_members(k, name)) {
    for (let i = 0; i < 8; i++) {
      pcounters[i] += ifp.pfik_packets[i]!;
      bcounters[i >> 1] += ifp.pfik_bytes[i]!;
    }
  }
  return { pcounters, bcounters };
}

/** The states, for DIOCGETSTATES. */
export function pf_get_states(k: Kernel): PfState[] {
  return pf_states(pf_open(k));
}

/* ---- tables: the pfr_* ioctls are in pf_table.ts, on pfr_ctx(pf) ---- */

/** DIOCGETSRCNODES: the source nodes as pfctl -sS prints them. */
export function pf_get_src_nodes(k: Kernel): PfSrcNodeExport[] {
  return pf_src_nodes_export(pf_open(k));
}

/** DIOCCLRSRCNODES: states let go of their source nodes, and the nodes go. */
export function pf_clear_src_nodes(k: Kernel): void {
  pf_src_nodes_clear(pf_open(k));
}

/** DIOCKILLSRCNODES: remove the nodes whose source matches src and pool address matches dst; returns how many. */
export function pf_kill_src_nodes(k: Kernel, src: PfSrcKill, dst: PfSrcKill): number {
  return pf_src_nodes_kill(pf_open(k), src, dst);
}

/* ---- DIOCCHANGERULE ---- */

export const PF_CHANGE_ADD_HEAD = 1;
export const PF_CHANGE_ADD_TAIL = 2;
export const PF_CHANGE_ADD_BEFORE = 3;
export const PF_CHANGE_ADD_AFTER = 4;
export const PF_CHANGE_REMOVE = 5;
export const PF_CHANGE_GET_TICKET = 6;

/** rules.active.version of each ruleset: the ticket DIOCCHANGERULE checks */
const rulesetVersions = new WeakMap<KAnchor, number>();

/**
 * DIOCCHANGERULE: one rule into (or out of) a live ruleset.  GET_TICKET
 * returns the ruleset's next version; a change must bring it back (a
 * change made meanwhile makes it stale: EINVAL).  ADD_HEAD/ADD_TAIL insert
 * before the first or after the last rule, ADD_BEFORE/ADD_AFTER around
 * rule number nr, REMOVE takes rule nr out; the rules are renumbered and
 * the skip steps recomputed.
 */
export function pf_change_rule(
  k: Kernel, anchor: string, action: number, ticket: number, nr: number, rule: PfRule | null,
): { rv: number; ticket: number } {
  const pf = pf_open(k);
  if (action < PF_CHANGE_ADD_HEAD || action > PF_CHANGE_GET_TICKET) return { rv: EINVAL, ticket: 0 };
  const rs = pf_find_anchor(pf, anchor);
  if (action === PF_CHANGE_GET_TICKET) {
    if (rs === null) return { rv: EINVAL, ticket: 0 };
    const v = (rulesetVersions.get(rs) ?? 0) + 1;
    rulesetVersions.set(rs, v);
    return { rv: 0, ticket: v };
  }
  if (action !== PF_CHANGE_REMOVE && rule === null) return { rv: EINVAL, ticket: 0 };
  if (rs === null) return { rv: EINVAL, ticket: 0 };
  if (ticket !== (rulesetVersions.get(rs) ?? 0)) return { rv: EINVAL, ticket: 0 };
  const newrule = action !== PF_CHANGE_REMOVE ? compileRule(pf, anchor, rule!) : null;
  if (newrule !== null && newrule.rt !== 0 && newrule.direction === 0) {
    pf_rule_detach(pf, newrule);
    return { rv: EINVAL, ticket: 0 };
  }
  let at: number;
  if (action === PF_CHANGE_ADD_HEAD) at = rs.rules.length > 0 ? 0 : -1;
  else if (action === PF_CHANGE_ADD_TAIL) at = rs.rules.length - 1;
  else {
    at = rs.rules.findIndex((r) => r.nr === nr);
    if (at < 0) {
      if (newrule !== null) pf_rule_detach(pf, newrule);
      return { rv: EINVAL, ticket: 0 };
    }
  }
  const rules = rs.rules.slice();
  if (action === PF_CHANGE_REMOVE) pf_rule_detach(pf, rules.splice(at, 1)[0]!);
  else if (at < 0) rules.push(newrule!);
  else if (action === PF_CHANGE_ADD_HEAD || action === PF_CHANGE_ADD_BEFORE) rules.splice(at, 0, newrule!);
  else rules.splice(at + 1, 0, newrule!);
  rules.forEach((r, i) => (r.nr = i));
  rulesetVersions.set(rs, (rulesetVersions.get(rs) ?? 0) + 1);
  pf_calc_skip_steps(rules);
  rs.rules = rules;
  return { rv: 0, ticket: 0 };
}
