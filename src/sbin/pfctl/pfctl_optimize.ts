/**
 * pfctl's ruleset optimizer, as sbin/pfctl/pfctl_optimize.c: `-o basic`
 * (the default), `-o profile` and `set ruleset-optimization`.
 *
 * A ruleset is cut into superblocks: runs of adjacent rules whose order
 * does not matter because they share every field that decides what a
 * match does (action, quick, log, state, tags, queues, translation, ...).
 * Rules with a label, a probability, state limits, per-rule source
 * tracking or an anchor call stand alone, and an interface group is a
 * break of its own (its members may change at run time).  Inside each
 * superblock the optimizer then
 *   1. removes rules that repeat another rule or match a subset of what it
 *      matches,
 *   2. folds rules that differ only in one address into one rule on an
 *      automatic table once TABLE_THRESHOLD of them agree
 *      (`__automatic_<id>_<n>`, const, defined in the anchor being loaded),
 *   3. reorders the rules so that the kernel's skip steps jump further, or,
 *      under `profile`, orders the quick rules by the packets their twins
 *      in the running ruleset matched.
 *
 * Equality is OpenBSD's: the C code compares struct pf_rule with memcmp()
 * after zeroing the fields a pass may ignore; here every field of PfRule
 * has the class pf_rule_desc gives it (fields it does not list always
 * count), see FIELD_CLASS.
 */
import {
  PF_ADDR_ADDRMASK,
  PF_ADDR_DYNIFTL,
  PF_ADDR_NOROUTE,
  PF_ADDR_TABLE,
  PF_ADDR_URPFFAILED,
  PF_INOUT,
  PF_OP_NONE,
  PFR_TFLAG_CONST,
  PFRULE_RULESRCTRACK,
  copyAddrWrap,
  copyRule,
  newAddrWrap,
  type PfAddrWrap,
  type PfRule,
  type PfRuleset,
  type PfTableDef,
} from './pf_ruleset.js';
import { PF_OPT_NOACTION, PF_OPT_VERBOSE, newNodeHost, printTabledef, unmask, type NodeHost } from './pfctl_parser.js';

/* pf->optimize bits (pfctl_parser.h) */
export const PF_OPTIMIZE_BASIC = 0x0001;
export const PF_OPTIMIZE_PROFILE = 0x0002;

/** The size at which a table becomes faster than individual rules. */
export const TABLE_THRESHOLD = 6;
export const PF_OPTIMIZER_TABLE_PFX = '__automatic_';

const PF_SKIP_COUNT = 9;

/* pf_rule_desc classes, in the C order (comparable_rule zeroes the classes >= its argument) */
const BARRIER = 0;
const BREAK = 1;
const NOMERGE = 2;
const COMBINED = 3;
const DC = 4;
const NEVER = 5;
/** a field pf_rule_desc does not list: never zeroed, so it always counts */
const UNLISTED = 99;

/**
 * The class of every PfRule field.  The fields exclude_supersets() looks
 * at (ifname, direction, flags, flagset, proto, af, the ports, negations
 * and addresses of src and dst) are handled apart, in CRule.
 */
export const FIELD_CLASS: Readonly<Record<string, number>> = {
  nr: DC,
  action: BREAK,
  direction: NOMERGE,
  log: BREAK,
  logif: BREAK,
  quick: BREAK,
  ifname: NOMERGE, // interface groups are handled in superblock_inclusive()
  ifnot: NOMERGE,
  onrdomain: NOMERGE,
  rcvIfname: UNLISTED,
  rcvifnot: UNLISTED,
  af: NOMERGE,
  naf: NOMERGE,
  proto: NOMERGE,
  type: NOMERGE,
  code: NOMERGE,
  src: COMBINED, // addr COMBINED; port, portOp, neg NOMERGE; weight unlisted
  dst: COMBINED,
  osFingerprint: NOMERGE,
  uid: NOMERGE,
  gid: NOMERGE,
  flags: NOMERGE,
  flagset: NOMERGE,
  tos: NOMERGE,
  setTos: NEVER,
  prio: UNLISTED,
  setPrio: UNLISTED,
  delay: UNLISTED,
  keepState: BREAK,
  ruleFlag: BREAK,
  scrubFlags: UNLISTED,
  minTtl: NEVER,
  maxMss: NEVER,
  returnTtl: BREAK,
  returnIcmp: NOMERGE,
  returnIcmp6: NOMERGE,
  maxStates: BARRIER,
  maxSrcNodes: BARRIER,
  maxSrcStates: BARRIER,
  maxSrcConn: BARRIER,
  maxSrcConnRate: BARRIER,
  pktrate: UNLISTED,
  overloadTblname: BREAK,
  flush: BREAK,
  timeout: NOMERGE,
  prob: BARRIER,
  allowOpts: BREAK,
  label: BARRIER,
  tagname: BREAK,
  matchTagname: NOMERGE,
  matchTagNot: NOMERGE,
  qname: BREAK,
  pqname: BREAK,
  rtableid: BREAK,
  divert: UNLISTED,
  nat: BREAK,
  rdr: BREAK,
  route: BREAK,
  rt: BREAK,
  anchor: BARRIER,
};

/** the fields kept apart in CRule (exclude_supersets() rewrites them) */
const SPLIT = new Set(['ifname', 'direction', 'flags', 'flagset', 'proto', 'af', 'src', 'dst']);
const REST_FIELDS = Object.keys(FIELD_CLASS).filter((f) => !SPLIT.has(f));

/* ---- pfctl's process-wide optimizer state (the C statics) ---- */

/**
 * What outlives one ruleset in a pfctl run: add_opt_table()'s counter of
 * temporary table names (the parser's translation pools share it), the
 * number pf_opt_create_table() gives the next kernel table, and its
 * table_buffer/table_identifier.
 */
export class PfOptState {
  /** add_opt_table()'s tablenum: temporary names __automatic_<n> */
  tmpTablenum = 0;
  /** pf_opt_create_table()'s tablenum */
  tablenum = 0;
  /** table_identifier: the random part of the kernel table names */
  tableIdentifier = 0;
  /** table_buffer: the kernel's table names (lower case), fetched on first use */
  tableBuffer: Set<string> | null = null;
}

/** What the optimizer needs from pfctl and the kernel. */
export interface PfOptEnv {
  state: PfOptState;
  /** pf->opts */
  opts: number;
  /** pf->optimize */
  optimize: number;
  out: (s: string) => void;
  err: (s: string) => void;
  /** pf->astack[0]->path: the anchor being loaded, where the tables go */
  anchorPath: string;
  /** pfctl_define_table() in the load's transaction */
  defineTable: (def: PfTableDef) => void;
  /** pfr_get_tables(PFR_FLAG_ALLRSETS): every table name the kernel has */
  kernelTables: () => string[];
  /** arc4random() */
  random: () => number;
  /**
   * DIOCGETRULES/DIOCGETRULE on the main filter ruleset, for -o profile:
   * its rules and the packets each matched; null when there is no pf device.
   */
  activeRules: () => Array<{ rule: PfRule; packets: number }> | null;
}

/** struct pf_opt_tbl */
export interface PfOptTbl {
  name: string;
  rulecount: number;
  generated: boolean;
  /** pt_buf: the addresses */
  entries: PfTableDef['entries'];
  /** pt_nodes: the same, for print_tabledef under -v */
  nodes: NodeHost[];
}

/** struct pf_opt_rule */
interface Por {
  rule: PfRule;
  srcTbl: PfOptTbl | null;
  dstTbl: PfOptTbl | null;
  profileCount: number;
  /** the skip list of each dimension this rule is in (reorder_rules) */
  skip: Array<SkipStep | null>;
}

function newPor(rule: PfRule, profileCount = 0): Por {
  return { rule, srcTbl: null, dstTbl: null, profileCount, skip: new Array<SkipStep | null>(PF_SKIP_COUNT).fill(null) };
}

/** struct pf_skip_step */
interface SkipStep {
  count: number;
  rules: Por[];
  /** taken out of its dimension's lists */
  removed: boolean;
}

/** struct superblock */
interface Superblock {
  rules: Por[];
  profiled: Superblock | null;
  skipsteps: SkipStep[][];
}

function newSuperblock(): Superblock {
  const skipsteps: SkipStep[][] = [];
  for (let i = 0; i < PF_SKIP_COUNT; i++) skipsteps.push([]);
  return { rules: [], profiled: null, skipsteps };
}

/* ---- tables ---- */

/** add_opt_table(): add one address of a rule (or a translation pool) to a table. */
export function add_opt_table(
  env: Pick<PfOptEnv, 'state' | 'opts'>,
  tbl: PfOptTbl | null,
  af: number,
  addr: PfAddrWrap,
  weight: number,
  ifname: string | null,
): PfOptTbl {
  if (tbl === null) {
    // a temporary name until pf_opt_create_table() picks the kernel's
    tbl = { name: `${PF_OPTIMIZER_TABLE_PFX}${env.state.tmpTablenum++}`, rulecount: 0, generated: false, entries: [], nodes: [] };
  }
  tbl.entries.push({ af, addr: addr.addr.slice(), net: unmask(addr.mask), not: false, ifname, weight });
  if (env.opts & PF_OPT_VERBOSE) {
    const h = newNodeHost();
    h.af = af;
    h.addr = copyAddrWrap(addr);
    h.ifname = ifname;
    h.weight = weight;
    tbl.nodes.push(h);
  }
  tbl.rulecount++;
  return tbl;
}

/** the kernel hooks pf_opt_create_table() uses */
export type PfOptTableEnv = Pick<PfOptEnv, 'state' | 'anchorPath' | 'defineTable' | 'kernelTables' | 'random'>;

/**
 * The naming half of pf_opt_create_table(): a name after an identifier no
 * kernel table uses yet, `__automatic_<id>_<n>`.
 */
export function pf_opt_table_name(env: Pick<PfOptEnv, 'state' | 'kernelTables' | 'random'>): string {
  const st = env.state;
  if (st.tableBuffer === null) {
    st.tableBuffer = new Set(env.kernelTables().map((n) => n.toLowerCase()));
    st.tableIdentifier = env.random() >>> 0;
  }
  let name: string;
  for (;;) {
    name = `${PF_OPTIMIZER_TABLE_PFX}${st.tableIdentifier.toString(16)}_${st.tablenum}`;
    if (!st.tableBuffer.has(name.toLowerCase())) break;
    st.tableIdentifier = env.random() >>> 0; // collision: try again
  }
  st.tablenum++;
  return name;
}

/** pf_opt_create_table(): name the table and define it, const, in the anchor being loaded. */
export function pf_opt_create_table(env: PfOptTableEnv, tbl: PfOptTbl): void {
  tbl.name = pf_opt_table_name(env);
  env.defineTable({ name: tbl.name, anchor: env.anchorPath, flags: PFR_TFLAG_CONST, initAddr: true, entries: tbl.entries, files: [] });
}

/* ---- comparable rules ---- */

function valueKey(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Uint8Array) return Array.prototype.join.call(v, '.');
  if (Array.isArray(v)) return '[' + v.map(valueKey).join(',') + ']';
  if (typeof v === 'object') {
    // an anchor compares by identity in C; its path names it here
    if ('ruleset' in v && 'path' in v) return '@' + String((v as { path: string }).path);
    let s = '{';
    for (const k of Object.keys(v).sort()) s += k + ':' + valueKey((v as Record<string, unknown>)[k]) + ';';
    return s + '}';
  }
  return String(v);
}

/** one side of a comparable rule */
interface CAddr {
  addr: PfAddrWrap;
  /** the whole address wrap as an interned key (memcmp of pf_addr_wrap) */
  wid: number;
  /** an address/mask whose mask is zero (any) */
  anyMask: boolean;
  /** unmask() of the mask */
  bits: number;
  neg: boolean;
  portOp: number;
  port0: number;
  port1: number;
}

/** comparable_rule()'s result: a rule with the ignored fields zeroed */
interface CRule {
  /** the other fields, as an interned key */
  rest: number;
  ifname: string;
  direction: number;
  flags: number;
  flagset: number;
  proto: number;
  af: number;
  src: CAddr;
  dst: CAddr;
}

const ZERO_WRAP = newAddrWrap(PF_ADDR_ADDRMASK);
let ZERO_ID = -1;
const restCache = new WeakMap<PfRule, Map<number, number>>();
/** the keys of the fields outside CRule, interned (emptied per ruleset) */
const restIds = new Map<string, number>();

function restKey(r: PfRule, type: number): number {
  let m = restCache.get(r);
  if (m === undefined) restCache.set(r, (m = new Map()));
  let id = m.get(type);
  if (id === undefined) {
    let s = '';
    for (const f of REST_FIELDS) s += (FIELD_CLASS[f]! >= type && FIELD_CLASS[f] !== UNLISTED ? '' : valueKey(r[f as keyof PfRule])) + '\x01';
    // the weights of the two sides are not listed either
    s += r.src.weight + '\x01' + r.dst.weight;
    id = restIds.get(s);
    if (id === undefined) restIds.set(s, (id = restIds.size));
    m.set(type, id);
  }
  return id;
}

/** the key of an address wrap, interned with the rest keys */
function wrapId(w: PfAddrWrap): number {
  const s = `w${w.type}|${w.addr.join('.')}|${w.mask.join('.')}|${w.ifname}|${w.tblname}|${w.rtlabelname}|${w.iflags}|${w.tblcnt}|${w.dyncnt}`;
  let id = restIds.get(s);
  if (id === undefined) restIds.set(s, (id = restIds.size));
  return id;
}

function comparable_rule(r: PfRule, type: number): CRule {
  const nm = NOMERGE >= type;
  const side = (a: PfRule['src']): CAddr => {
    const addr = COMBINED >= type ? ZERO_WRAP : a.addr;
    return {
      addr,
      wid: wrapId(addr),
      anyMask: maskIsZero(addr.mask),
      bits: unmask(addr.mask),
      neg: nm ? false : a.neg,
      portOp: nm ? 0 : a.portOp,
      port0: nm ? 0 : a.port[0],
      port1: nm ? 0 : a.port[1],
    };
  };
  return {
    rest: restKey(r, type),
    ifname: nm ? '' : r.ifname,
    direction: nm ? 0 : r.direction,
    flags: nm ? 0 : r.flags,
    flagset: nm ? 0 : r.flagset,
    proto: nm ? 0 : r.proto,
    af: nm ? 0 : r.af,
    src: side(r.src),
    dst: side(r.dst),
  };
}

function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

function wrapEq(a: PfAddrWrap, b: PfAddrWrap): boolean {
  return (
    a === b ||
    (a.type === b.type &&
      bytesEq(a.addr, b.addr) &&
      bytesEq(a.mask, b.mask) &&
      a.ifname === b.ifname &&
      a.tblname === b.tblname &&
      a.rtlabelname === b.rtlabelname &&
      a.iflags === b.iflags &&
      a.tblcnt === b.tblcnt &&
      a.dyncnt === b.dyncnt)
  );
}

function caddrEq(a: CAddr, b: CAddr): boolean {
  return a.neg === b.neg && a.portOp === b.portOp && a.port0 === b.port0 && a.port1 === b.port1 && a.wid === b.wid;
}

function crEq(a: CRule, b: CRule): boolean {
  return (
    a.rest === b.rest &&
    a.ifname === b.ifname &&
    a.direction === b.direction &&
    a.flags === b.flags &&
    a.flagset === b.flagset &&
    a.proto === b.proto &&
    a.af === b.af &&
    caddrEq(a.src, b.src) &&
    caddrEq(a.dst, b.dst)
  );
}

function maskIsZero(m: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (m[i] !== 0) return false;
  return true;
}

/** sub's address lies inside super's network */
function addrInside(sup: PfAddrWrap, sub: PfAddrWrap): boolean {
  for (let i = 0; i < 16; i++) if (sup.addr[i] !== (sub.addr[i]! & sup.mask[i]!)) return false;
  return true;
}

/* ---- skip step comparators ---- */

function addrKey(a: PfRule['src']): string | null {
  const w = a.addr;
  const neg = a.neg ? '!' : '';
  switch (w.type) {
    case PF_ADDR_ADDRMASK:
      if (w.addr.every((x) => x === 0)) return null;
      return `m${neg}${w.addr.join('.')}/${w.mask.join('.')}`;
    case PF_ADDR_DYNIFTL:
      return `d${neg}${w.ifname}:${w.iflags}/${w.mask.join('.')}`;
    case PF_ADDR_NOROUTE:
    case PF_ADDR_URPFFAILED:
      return `${w.type}${neg}`;
    case PF_ADDR_TABLE:
      return `t${neg}${w.tblname}`;
  }
  return null;
}

function portKey(a: PfRule['src']): string | null {
  return a.portOp === PF_OP_NONE ? null : `${a.portOp}:${a.port[0]}:${a.port[1]}`;
}

/**
 * skip_comparitors[] as keys: two rules share a skip step when their keys
 * are equal, and a rule whose key is null (no interface, any direction,
 * address or protocol, ...) shares it with none.
 */
const SKIP_KEY: ReadonlyArray<(r: PfRule) => string | null> = [
  (r) => (r.ifname === '' ? null : `${r.ifnot ? '!' : ''}${r.ifname}`), // ifp
  (r) => (r.direction === 0 ? null : String(r.direction)), // dir
  (r) => (r.onrdomain === -1 ? null : `${r.ifnot ? '!' : ''}${r.onrdomain}`), // rdomain
  (r) => (r.af === 0 ? null : String(r.af)), // af
  (r) => (r.proto === 0 ? null : String(r.proto)), // proto
  (r) => addrKey(r.src), // saddr
  (r) => addrKey(r.dst), // daddr
  (r) => portKey(r.src), // sport
  (r) => portKey(r.dst), // dport
];

/* ---- the optimizer ---- */

/**
 * pfctl_optimize_ruleset(): optimize one ruleset in place (pfctl_load_ruleset
 * calls it for every ruleset it loads while pf->optimize is set).
 */
export function pfctl_optimize_ruleset(env: PfOptEnv, rs: PfRuleset): void {
  if (rs.rules.length === 0) return;
  env.state.tableBuffer = null; // memset(&table_buffer): re-read per ruleset
  restIds.clear(); // the rules below are fresh copies: no cached key refers to an old id
  ZERO_ID = wrapId(ZERO_WRAP);
  const queue: Por[] = rs.rules.map((r) => newPor(copyRule(r)));
  const superblocks = construct_superblocks(queue);
  if (env.optimize & PF_OPTIMIZE_PROFILE) {
    if (!load_feedback_profile(env, superblocks)) {
      // the C code loses the rules it had moved into superblocks
      rs.rules = [];
      return;
    }
  }
  for (let i = 0; i < superblocks.length; i++) {
    const n = superblocks.length;
    optimize_superblock(env, superblocks, superblocks[i]!);
    // reorder_rules() puts the blocks it splits off before this one
    i += superblocks.length - n;
  }
  const rules: PfRule[] = [];
  for (const block of superblocks)
    for (const por of block.rules) {
      por.rule.nr = rules.length;
      rules.push(por.rule);
    }
  rs.rules = rules;
}

function optimize_superblock(env: PfOptEnv, superblocks: Superblock[], block: Superblock): void {
  // there will be a lot of 1-rule superblocks
  if (block.rules.length < 2) return;
  remove_identical_rules(block);
  combine_rules(env, block);
  if (env.optimize & PF_OPTIMIZE_PROFILE && block.rules[0]!.rule.quick && block.profiled !== null) block_feedback(block);
  else reorder_rules(superblocks, block, 0);
}

/**
 * exclude_supersets(sup, copy of sub) followed by the memcmp(): does sup
 * match everything sub matches?  (Without the copies: the rulesets this
 * runs on may have thousands of rules in one superblock.)
 */
function covers(a: CRule, b: CRule): boolean {
  if (a.rest !== b.rest) return false;
  if (a.ifname !== (a.ifname === '' ? '' : b.ifname)) return false;
  if (a.direction !== (a.direction === PF_INOUT ? PF_INOUT : b.direction)) return false;
  let flags = b.flags;
  let flagset = b.flagset;
  if ((a.proto === 0 || a.proto === b.proto) && a.flags === 0 && a.flagset === 0 && (b.flags || b.flagset)) {
    flags = a.flags;
    flagset = a.flagset;
  }
  if (a.flags !== flags || a.flagset !== flagset) return false;
  if (a.proto !== (a.proto === 0 ? 0 : b.proto)) return false;
  if (!coversSide(a.src, b.src, a.af === b.af) || !coversSide(a.dst, b.dst, a.af === b.af)) return false;
  return a.af === (a.af === 0 ? 0 : b.af);
}

function coversSide(a: CAddr, b: CAddr, sameAf: boolean): boolean {
  if (a.neg !== b.neg) return false;
  if (a.portOp === 0) {
    if (a.port0 !== 0 || a.port1 !== 0) return false;
  } else if (a.portOp !== b.portOp || a.port0 !== b.port0 || a.port1 !== b.port1) return false;
  if (a.addr.type === PF_ADDR_ADDRMASK && !a.neg && !b.neg && a.anyMask) return a.wid === ZERO_ID; // sub's becomes zero
  if (a.addr.type === PF_ADDR_ADDRMASK && b.addr.type === PF_ADDR_ADDRMASK && sameAf && a.bits < b.bits && addrInside(a.addr, b.addr))
    return true; // sub's address is a subset of super's address/mask
  return a.wid === b.wid;
}

/** Optimization pass #1: remove rules that repeat (or are a subset of) another. */
function remove_identical_rules(block: Superblock): void {
  const rules = block.rules;
  const cr = rules.map((p) => comparable_rule(p.rule, DC));
  for (let i = 0; i < rules.length; i++) {
    for (let j = i + 1; j < rules.length; ) {
      if (covers(cr[i]!, cr[j]!)) {
        // the later rule adds nothing to the earlier one
        rules.splice(j, 1);
        cr.splice(j, 1);
      } else if (covers(cr[j]!, cr[i]!)) {
        // the earlier rule adds nothing to the later one
        rules.splice(i, 1);
        cr.splice(i, 1);
        i--;
        break;
      } else j++;
    }
  }
}

function addrs_equal(a: PfRule['src'], b: PfRule['src']): boolean {
  return a.neg === b.neg && wrapEq(a.addr, b.addr);
}

function addrs_combineable(a: PfRule['src'], b: PfRule['src']): boolean {
  if (a.addr.type !== PF_ADDR_ADDRMASK || b.addr.type !== PF_ADDR_ADDRMASK) return false;
  return a.neg === b.neg && a.portOp === b.portOp && a.port[0] === b.port[0] && a.port[1] === b.port[1];
}


/** Optimization pass #2: fold rules that differ in one address into a rule on a table. */
function combine_rules(env: PfOptEnv, block: Superblock): void {
  const rules = block.rules;
  // rules_combineable() compares these: the addresses zeroed
  const cc = rules.map((p) => comparable_rule(p.rule, COMBINED));
  const rules_combineable = (i: number, j: number): boolean => crEq(cc[i]!, cc[j]!);
  for (let i = 0; i < rules.length; i++) {
    const p1 = rules[i]!;
    for (let j = i + 1; j < rules.length; ) {
      const p2 = rules[j]!;
      const srcEq = addrs_equal(p1.rule.src, p2.rule.src);
      const dstEq = addrs_equal(p1.rule.dst, p2.rule.dst);
      let removed = false;
      if (
        srcEq &&
        !dstEq &&
        p1.srcTbl === null &&
        p2.dstTbl === null &&
        p2.srcTbl === null &&
        rules_combineable(i, j) &&
        addrs_combineable(p1.rule.dst, p2.rule.dst)
      ) {
        if (p1.dstTbl === null) p1.dstTbl = add_opt_table(env, null, p1.rule.af, p1.rule.dst.addr, p1.rule.dst.weight, null);
        add_opt_table(env, p1.dstTbl, p1.rule.af, p2.rule.dst.addr, p2.rule.dst.weight, null);
        if (p1.dstTbl.rulecount >= TABLE_THRESHOLD) {
          rules.splice(j, 1);
          cc.splice(j, 1);
          removed = true;
        } else p2.dstTbl = p1.dstTbl;
      } else if (
        !srcEq &&
        dstEq &&
        p1.dstTbl === null &&
        p2.srcTbl === null &&
        p2.dstTbl === null &&
        rules_combineable(i, j) &&
        addrs_combineable(p1.rule.src, p2.rule.src)
      ) {
        if (p1.srcTbl === null) p1.srcTbl = add_opt_table(env, null, p1.rule.af, p1.rule.src.addr, p1.rule.src.weight, null);
        add_opt_table(env, p1.srcTbl, p1.rule.af, p2.rule.src.addr, p2.rule.src.weight, null);
        if (p1.srcTbl.rulecount >= TABLE_THRESHOLD) {
          rules.splice(j, 1);
          cc.splice(j, 1);
          removed = true;
        } else p2.srcTbl = p1.srcTbl;
      }
      if (!removed) j++;
    }
  }

  // name the tables that made it and put them in the rules
  for (let i = 0; i < rules.length; i++) {
    const p1 = rules[i]!;
    for (const side of ['src', 'dst'] as const) {
      const tbl = side === 'src' ? p1.srcTbl : p1.dstTbl;
      if (tbl === null || tbl.rulecount < TABLE_THRESHOLD) continue;
      if (tbl.generated) {
        // this rule is included in a table
        rules.splice(i--, 1);
        break;
      }
      tbl.generated = true;
      if ((env.opts & PF_OPT_NOACTION) === 0) pf_opt_create_table(env, tbl);
      if (env.opts & PF_OPT_VERBOSE) env.out(printTabledef(tbl.name, PFR_TFLAG_CONST, true, [{ file: null, hosts: tbl.nodes }]));
      const w = newAddrWrap(PF_ADDR_TABLE);
      w.tblname = tbl.name;
      p1.rule.src.addr = side === 'src' ? w : p1.rule.src.addr;
      p1.rule.dst.addr = side === 'dst' ? w : p1.rule.dst.addr;
    }
  }
}

/** Optimization pass #3: reorder the rules so that the skip steps jump further. */
function reorder_rules(superblocks: Superblock[], block: Superblock, depth: number): void {
  // the best-case skip steps: each rule joins the list of rules it shares a field with
  for (let i = 0; i < PF_SKIP_COUNT; i++) {
    const lists = block.skipsteps[i]!;
    const byKey = new Map<string, SkipStep>();
    for (const por of block.rules) {
      const key = SKIP_KEY[i]!(por.rule);
      let sl = key === null ? undefined : byKey.get(key);
      if (sl === undefined) {
        sl = { count: 0, rules: [], removed: false };
        lists.push(sl);
        if (key !== null) byKey.set(key, sl);
      }
      por.skip[i] = sl;
      skip_append(lists, sl, por);
    }
  }
  const ruleCount = block.rules.length;

  // ignore the fields all rules share and those no two rules share
  let largest = 0;
  for (let i = 0; i < PF_SKIP_COUNT; i++) {
    const sl = block.skipsteps[i]![0]!;
    if (sl.count === ruleCount || sl.count === 1) sl.count = 0;
    else if (sl.count > largest) largest = sl.count;
  }
  if (largest === 0) {
    // no commonality in the superblock to build skip steps on
    clearSkipsteps(block);
    return;
  }

  // rebuild the superblock's rule list in a better skip step order
  const head = block.rules;
  const placed = new Set<Por>();
  block.rules = [];
  while (placed.size < head.length) {
    largest = 1;
    let largestList = -1;
    for (let i = 0; i < PF_SKIP_COUNT; i++) {
      const sl = block.skipsteps[i]![0];
      if (sl !== undefined && sl.count > largest) {
        largest = sl.count;
        largestList = i;
      }
    }
    if (largest <= 1) {
      // nothing useful left: the remaining rules keep their order
      for (const por of head)
        if (!placed.has(por)) {
          placed.add(por);
          block.rules.push(por);
        }
    } else {
      // put the rules sharing that field next to each other
      const sl = block.skipsteps[largestList]!.shift()!;
      sl.removed = true;
      let newblock: Superblock;
      if (sl.count > 2) {
        // there may be more commonality among them: a superblock of their own
        newblock = newSuperblock();
        superblocks.splice(superblocks.indexOf(block), 0, newblock);
      } else newblock = block;
      for (const por of sl.rules) {
        placed.add(por);
        newblock.rules.push(por);
        remove_from_skipsteps(block, por);
      }
      sl.rules = [];
      if (newblock !== block) reorder_rules(superblocks, newblock, depth + 1);
    }
  }
  clearSkipsteps(block);
}

function clearSkipsteps(block: Superblock): void {
  for (let i = 0; i < PF_SKIP_COUNT; i++) block.skipsteps[i] = [];
}

/** skip_append(): add a rule to a skip list, keeping the lists sorted by size */
function skip_append(lists: SkipStep[], sl: SkipStep, por: Por): void {
  sl.count++;
  sl.rules.push(por);
  if (sl.count === 1) return; // a new list, at the end: nothing before it is smaller
  let k = lists.indexOf(sl);
  while (k > 0 && lists[k - 1]!.count < sl.count) {
    lists[k] = lists[k - 1]!;
    lists[k - 1] = sl;
    k--;
  }
}

/** remove_from_skipsteps(): take a placed rule out of the other skip lists */
function remove_from_skipsteps(block: Superblock, por: Por): void {
  for (let i = 0; i < PF_SKIP_COUNT; i++) {
    const lists = block.skipsteps[i]!;
    const first = lists[0];
    if (first === undefined || first.count <= 1) continue;
    const sk = por.skip[i];
    if (sk === null || sk === undefined || sk.removed) continue;
    const at = sk.rules.indexOf(por);
    if (at < 0) continue;
    sk.rules.splice(at, 1);
    sk.count--;
    // does this change the sorting order?
    let k = lists.indexOf(sk);
    while (k + 1 < lists.length && lists[k + 1]!.count > sk.count) {
      lists[k] = lists[k + 1]!;
      lists[k + 1] = sk;
      k++;
    }
  }
}

/** Optimization pass #4: order the quick rules by what their twins in the running ruleset matched. */
function block_feedback(block: Superblock): void {
  for (const por1 of block.profiled!.rules) {
    const a = comparable_rule(por1.rule, DC);
    for (const por2 of block.rules) {
      if (por2.profileCount) continue;
      if (crEq(a, comparable_rule(por2.rule, DC))) {
        por2.profileCount = por1.profileCount;
        break;
      }
    }
  }
  block.profiled = null;
  const queue = block.rules;
  block.rules = [];
  for (const por1 of queue) {
    const at = block.rules.findIndex((por2) => por1.profileCount > por2.profileCount);
    if (at < 0) block.rules.push(por1);
    else block.rules.splice(at, 0, por1);
  }
}

/** load_feedback_profile(): pair our superblocks with those of the running ruleset. */
function load_feedback_profile(env: PfOptEnv, superblocks: Superblock[]): boolean {
  const active = env.activeRules();
  if (active === null) {
    env.err('pfctl: Bad file descriptor\n'); // ioctl() without a pf device
    return false;
  }
  const prof = construct_superblocks(
    active.map((x) => newPor(copyRule(x.rule), x.packets)),
  );
  for (let i = 0; i < superblocks.length && i < prof.length; i++) {
    const a = comparable_rule(superblocks[i]!.rules[0]!.rule, BREAK);
    const b = comparable_rule(prof[i]!.rules[0]!.rule, BREAK);
    if (!crEq(a, b)) break; // the superblocks stop lining up
    superblocks[i]!.profiled = prof[i]!;
  }
  return true;
}

/** construct_superblocks(): cut the flat ruleset into superblocks */
function construct_superblocks(queue: Por[]): Superblock[] {
  const superblocks: Superblock[] = [];
  let block: Superblock | null = null;
  for (const por of queue) {
    if (block === null || !superblock_inclusive(block, por)) {
      block = newSuperblock();
      superblocks.push(block);
    }
    block.rules.push(por);
  }
  return superblocks;
}

/** the fields whose presence puts a rule in a superblock of its own */
function hasBarrier(r: PfRule): boolean {
  return (
    r.label !== '' ||
    r.prob !== 0 ||
    r.maxStates !== 0 ||
    r.maxSrcNodes !== 0 ||
    r.maxSrcStates !== 0 ||
    r.maxSrcConn !== 0 ||
    r.maxSrcConnRate.limit !== 0 ||
    r.maxSrcConnRate.seconds !== 0 ||
    r.anchor !== null
  );
}

/** interface_group(): real interfaces end in a digit, groups do not */
function interface_group(ifname: string): boolean {
  if (!ifname) return false;
  const c = ifname.charCodeAt(ifname.length - 1);
  return !(c >= 48 && c <= 57);
}

/** superblock_inclusive(): may this rule join the superblock? */
function superblock_inclusive(block: Superblock, por: Por): boolean {
  if (hasBarrier(por.rule)) return false;
  // per-rule source tracking is a hard break too
  if (por.rule.ruleFlag & PFRULE_RULESRCTRACK) return false;
  // an interface group may gain members at run time: a break unless both name it
  const first = block.rules[0]!.rule;
  if (interface_group(por.rule.ifname) || interface_group(first.ifname)) {
    if (por.rule.ifname.toLowerCase() !== first.ifname.toLowerCase()) return false;
  }
  return crEq(comparable_rule(first, NOMERGE), comparable_rule(por.rule, NOMERGE));
}

/** For tests: every PfRule field has a class. */
export function unclassifiedFields(r: PfRule): string[] {
  return Object.keys(r).filter((k) => !(k in FIELD_CLASS));
}

