/**
 * pf source tracking (the pf_src_node code of sys/net/pf.c and pf_lb.c):
 * a source node counts, per rule and source address, the states and the
 * established TCP connections that source holds, so a rule can limit them
 * (`max-src-nodes`, `max-src-states`, `max-src-conn`, `max-src-conn-rate`
 * with `overload <table> [flush [global]]`), and remembers the address a
 * pool gave that source (`sticky-address`) so later states of the same
 * source get the same one.
 *
 * As OpenBSD does it:
 * - A node is keyed by (rule, type, family, address); the types are
 *   PF_SN_NONE (the rule's own tracking, made for `source-track` and the
 *   max-src-* options) and PF_SN_NAT, PF_SN_RDR, PF_SN_ROUTE (sticky pool
 *   addresses).  `source-track global` keys by rule as well, as OpenBSD
 *   has done since the rule pointer joined the key.
 * - pf_insert_src_node() runs before the state is made: a new node counts
 *   against max-src-nodes (LCNT_SRCNODES) and `set limit src-nodes` (the
 *   pool's hard limit, no limit counter), an existing one against
 *   max-src-states (LCNT_SRCSTATES); either failure drops the packet with
 *   src-limit.
 * - When a TCP state becomes established both ways, pf_src_connlimit()
 *   counts the connection and checks max-src-conn (LCNT_SRCCONN) and the
 *   connection rate (LCNT_SRCCONNRATE); over a limit the source goes into
 *   the overload table (LCNT_OVERLOAD_TABLE), its states are flushed
 *   (LCNT_OVERLOAD_FLUSH) when the rule says so, and the state itself is
 *   killed (src-limit).
 * - A node whose last state went expires `src.track` seconds later (the
 *   rule's, else the global timeout); pf_purge removes expired nodes every
 *   `set timeout interval` seconds (10 by default), counting from one
 *   second after pf was enabled.
 *
 * A state refers to its nodes by number (one word per type in its cold
 * record) and carries PFSTATE_SRCNODE in its flags, so the state-hit path
 * looks no further for states without source tracking.  Nodes live in a
 * hash table keyed by numbers (no strings, nothing allocated per lookup);
 * a node object is allocated when a new source is first tracked and reused
 * after it is removed.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Timeout } from '../kern/kern_timeout.js';
import type { Ifnet } from './if.js';
import type { KPool, KRule, Pf, PfPdesc } from './pf.js';
import {
  AF_INET, K_A, K_B, K_META, PF_IN, PF_OUT, PFSTATE_SRCNODE, PFTM_PURGE, PFTM_INTERVAL, PFTM_SRC_NODE,
  SC_N, SC_SN, SC_TCPEST, ST_DIR, ST_FLAGS, ST_N, ST_RULE, ST_SRC, ST_DST, ST_TIMEOUT, PR_STATE,
  ST_HALFOPEN, PF_LIMIT_SRC_NODES, pf_rule_ref, pf_states_each,
} from './pf.js';
import { PF_POOL_LEASTSTATES, pf_map_addr, pf_map_addr_log, pf_map_addr_states_increase } from './pf_lb.js';
import { PfrAddr, PfrKentry, pfr_insert_kentry } from './pf_table.js';

/** enum pf_sn_types */
export const PF_SN_NONE = 0;
export const PF_SN_NAT = 1;
export const PF_SN_RDR = 2;
export const PF_SN_ROUTE = 3;
export const PF_SN_MAX = 4;

// limit counters (LCNT_*) source tracking bumps
const LCNT_SRCSTATES = 1;
const LCNT_SRCNODES = 2;
const LCNT_SRCCONN = 3;
const LCNT_SRCCONNRATE = 4;
const LCNT_OVERLOAD_TABLE = 5;
const LCNT_OVERLOAD_FLUSH = 6;
// source tracking table counters (SCNT_*)
const SCNT_SRC_NODE_SEARCH = 0;
const SCNT_SRC_NODE_INSERT = 1;
const SCNT_SRC_NODE_REMOVALS = 2;

const PF_THRESHOLD_MULT = 1000;
/** rule.flush */
export const PF_FLUSH = 0x01;
export const PF_FLUSH_GLOBAL = 0x02;
/** pool options */
const PF_POOL_TYPEMASK = 0x0f;
const PF_POOL_NONE = 0;
export const PF_POOL_STICKYADDR = 0x20;
const TCPS_CLOSED = 0;
const LOG_NOTICE = 5;

/** struct pf_src_node */
export class PfSrcNode {
  /** number in PfSrcTree.nodes (a state's SC_SN word is idx + 1) */
  idx = 0;
  /** next node in the same hash chain */
  hnext: PfSrcNode | null = null;
  hash = 0;
  rule!: KRule;
  type = 0;
  af = 0;
  /** af-to's other family of raddr (0: the same) */
  naf = 0;
  a0 = 0; a1 = 0; a2 = 0; a3 = 0;
  /** the pool address given to this source (sticky-address); all zero: none */
  r0 = 0; r1 = 0; r2 = 0; r3 = 0;
  kif: Ifnet | null = null;
  states = 0;
  /** established TCP connections */
  conn = 0;
  // struct pf_threshold conn_rate
  conn_rate_limit = 0;
  conn_rate_seconds = 0;
  conn_rate_count = 0;
  conn_rate_last = 0;
  /** getuptime() it was made */
  creation = 0;
  /** getuptime() it expires once it has no states (0: not set) */
  expire = 0;
  packets0 = 0;
  packets1 = 0;
  bytes0 = 0;
  bytes1 = 0;
  /** true while in the tree */
  live = false;
}

/** The source tracking tree (tree_src_tracking): nodes by number and a hash table on the key. */
export class PfSrcTree {
  readonly nodes: Array<PfSrcNode | null> = [];
  readonly hash = new Map<number, PfSrcNode>();
  /** pf_status.src_nodes */
  count = 0;
  private readonly freeIdx: number[] = [];
  private readonly pool: PfSrcNode[] = [];
  /** pf_purge's timer (made on first use) */
  purge: Timeout<Kernel> | null = null;
  /** which limit the last refused node hit (for journeys) */
  why = '';

  /** A fresh node with a number. */
  alloc(): PfSrcNode {
    const sn = this.pool.pop() ?? new PfSrcNode();
    const idx = this.freeIdx.pop();
    if (idx !== undefined) {
      sn.idx = idx;
      this.nodes[idx] = sn;
    } else {
      sn.idx = this.nodes.length;
      this.nodes.push(sn);
    }
    return sn;
  }

  /** Give a node back (out of the hash table already). */
  release(sn: PfSrcNode): void {
    this.nodes[sn.idx] = null;
    this.freeIdx.push(sn.idx);
    sn.live = false;
    sn.hnext = null;
    sn.kif = null;
    sn.states = sn.conn = sn.expire = sn.creation = 0;
    sn.packets0 = sn.packets1 = sn.bytes0 = sn.bytes1 = 0;
    sn.r0 = sn.r1 = sn.r2 = sn.r3 = 0;
    sn.naf = 0;
    this.pool.push(sn);
  }
}

function snHash(gidx: number, type: number, af: number, a0: number, a1: number, a2: number, a3: number): number {
  let h = Math.imul(gidx ^ (type << 24) ^ (af << 16), 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ a0, 0x85ebca6b);
  if (af !== AF_INET) {
    h = Math.imul(h ^ (h >>> 13) ^ a1, 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 15) ^ a2, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13) ^ a3, 0xc2b2ae35);
  }
  return h ^ (h >>> 16);
}

/** RB_FIND(pf_src_tree): the node of (rule, type, af, address), or null. */
export function pf_find_src_node(pf: Pf, r: KRule, type: number, af: number, a0: number, a1: number, a2: number, a3: number): PfSrcNode | null {
  if (r.gidx < 0) return null;
  const h = snHash(r.gidx, type, af, a0, a1, a2, a3);
  for (let sn = pf.src_nodes.hash.get(h) ?? null; sn !== null; sn = sn.hnext) {
    if (sn.hash === h && sn.rule === r && sn.type === type && sn.af === af && sn.a0 === a0 &&
        (af === AF_INET || (sn.a1 === a1 && sn.a2 === a2 && sn.a3 === a3)))
      return sn;
  }
  return null;
}

/** pf_init_threshold() */
function pf_init_threshold(sn: PfSrcNode, limit: number, seconds: number, now: number): void {
  sn.conn_rate_limit = limit * PF_THRESHOLD_MULT;
  sn.conn_rate_seconds = seconds;
  sn.conn_rate_count = 0;
  sn.conn_rate_last = now;
}

/** pf_add_threshold(): decay the count over `seconds`, then add one connection. */
function pf_add_threshold(sn: PfSrcNode, now: number): void {
  const diff = now - sn.conn_rate_last;
  if (diff >= sn.conn_rate_seconds) sn.conn_rate_count = 0;
  else sn.conn_rate_count -= Math.floor((sn.conn_rate_count * diff) / sn.conn_rate_seconds);
  sn.conn_rate_count += PF_THRESHOLD_MULT;
  sn.conn_rate_last = now;
}

/**
 * pf_insert_src_node(): find or make the node of type `type` for the
 * source a (pf.ctx_sns[type] is the node in and out, as OpenBSD's *sn).
 * raddr: the pool address to remember (sticky-address), else null.
 * 0 on success, -1 when a limit refuses it (the caller drops with src-limit).
 */
export function pf_insert_src_node(pf: Pf, r: KRule, type: number, af: number,
  a0: number, a1: number, a2: number, a3: number, raddr: Int32Array | null, kif: Ifnet | null): number {
  const sns = pf.ctx_sns;
  let sn: PfSrcNode | null = sns[type]!;
  if (sn === null) {
    pf.scounters[SCNT_SRC_NODE_SEARCH]++;
    sn = pf_find_src_node(pf, r, type, af, a0, a1, a2, a3);
  }
  if (sn === null) {
    const tree = pf.src_nodes;
    if (r.maxSrcNodes !== 0 && r.src_nodes >= r.maxSrcNodes) {
      pf.lcounters[LCNT_SRCNODES]++;
      tree.why = 'max-src-nodes';
      return -1;
    }
    // pool_get() fails at the pool's hard limit (set limit src-nodes)
    if (tree.count >= pf.limits[PF_LIMIT_SRC_NODES]!) {
      tree.why = 'src-nodes limit';
      return -1;
    }
    const now = pf.uptime();
    sn = tree.alloc();
    pf_init_threshold(sn, r.maxSrcConnRateLimit, r.maxSrcConnRateSeconds, now);
    sn.type = type;
    sn.af = af;
    sn.rule = r;
    sn.a0 = a0;
    sn.a1 = af === AF_INET ? 0 : a1;
    sn.a2 = af === AF_INET ? 0 : a2;
    sn.a3 = af === AF_INET ? 0 : a3;
    if (raddr !== null) {
      sn.r0 = raddr[0]!;
      sn.r1 = af === AF_INET ? 0 : raddr[1]!;
      sn.r2 = af === AF_INET ? 0 : raddr[2]!;
      sn.r3 = af === AF_INET ? 0 : raddr[3]!;
    }
    const gidx = pf_rule_ref(pf, r);
    sn.hash = snHash(gidx, type, af, sn.a0, sn.a1, sn.a2, sn.a3);
    sn.hnext = tree.hash.get(sn.hash) ?? null;
    tree.hash.set(sn.hash, sn);
    sn.live = true;
    sn.creation = now;
    r.src_nodes++;
    sn.kif = kif;
    pf.scounters[SCNT_SRC_NODE_INSERT]++;
    tree.count++;
    pf_src_purge_arm(pf);
  } else if (r.maxSrcStates !== 0 && sn.states >= r.maxSrcStates) {
    sns[type] = sn;
    pf.lcounters[LCNT_SRCSTATES]++;
    pf.src_nodes.why = 'max-src-states';
    return -1;
  }
  sns[type] = sn;
  return 0;
}

/** Journeys: which source limit refused the state of rule r. */
export function pf_src_trace_limit(pf: Pf, r: KRule): void {
  const k = pf.k;
  if (k.trace !== null) k.trace.branch(k, pf.pd.m, `pf_test: ${pf.src_nodes.why} reached → drop`, `rule ${r.nr}, src-limit`);
}

/** pf_remove_src_node(): remove a node that has no states and has expired. */
export function pf_remove_src_node(pf: Pf, sn: PfSrcNode): void {
  if (!sn.live || sn.states > 0 || sn.expire > pf.uptime()) return;
  sn.rule.src_nodes--;
  const tree = pf.src_nodes;
  // unlink from its hash chain
  let p = tree.hash.get(sn.hash) ?? null;
  if (p === sn) {
    if (sn.hnext !== null) tree.hash.set(sn.hash, sn.hnext);
    else tree.hash.delete(sn.hash);
  } else {
    while (p !== null && p.hnext !== sn) p = p.hnext;
    if (p !== null) p.hnext = sn.hnext;
  }
  pf.scounters[SCNT_SRC_NODE_REMOVALS]++;
  tree.count--;
  tree.release(sn);
}

/** The node of type `type` state s refers to, or null (pf_get_src_node). */
export function pf_get_src_node(pf: Pf, s: number, type: number): PfSrcNode | null {
  const v = pf.st.sc[s * SC_N + SC_SN + type]!;
  return v === 0 ? null : pf.src_nodes.nodes[v - 1] ?? null;
}

/**
 * After pf_create_state() made state s: link it to the nodes pf.ctx_sns
 * holds (each counts one more state).
 */
export function pf_src_link_state(pf: Pf, s: number): void {
  const sns = pf.ctx_sns;
  const sc = pf.st.sc;
  let any = false;
  for (let i = 0; i < PF_SN_MAX; i++) {
    const sn = sns[i]!;
    if (sn === null) continue;
    sc[s * SC_N + SC_SN + i] = sn.idx + 1;
    sn.states++;
    any = true;
  }
  if (any) pf.st.si[s * ST_N + ST_FLAGS] |= PFSTATE_SRCNODE;
}

/** pf_create_state()'s csfailed: nodes made for a state that was not made go again (unless still used). */
export function pf_src_csfailed(pf: Pf): void {
  const sns = pf.ctx_sns;
  for (let i = 0; i < PF_SN_MAX; i++) {
    const sn = sns[i]!;
    if (sn !== null) pf_remove_src_node(pf, sn);
  }
}

/** The expiry of a node whose last state went: src.track seconds (the rule's, else the global timeout). */
function srcNodeExpire(pf: Pf, r: KRule): number {
  return pf.uptime() + (r.timeout[PFTM_SRC_NODE] || pf.timeouts[PFTM_SRC_NODE]!);
}

/**
 * pf_src_tree_remove_state(): state s lets go of its nodes (a node left
 * without states starts expiring; an established connection is uncounted).
 */
export function pf_src_tree_remove_state(pf: Pf, s: number): void {
  const sc = pf.st.sc;
  const si = pf.st.si;
  const r = pf.ruletab[si[s * ST_N + ST_RULE]!]!;
  const est = sc[s * SC_N + SC_TCPEST] !== 0;
  for (let i = PF_SN_MAX - 1; i >= 0; i--) {
    const v = sc[s * SC_N + SC_SN + i]!;
    if (v === 0) continue;
    sc[s * SC_N + SC_SN + i] = 0;
    const sn = pf.src_nodes.nodes[v - 1];
    if (sn === null || sn === undefined) continue;
    if (est) --sn.conn;
    if (--sn.states === 0) sn.expire = srcNodeExpire(pf, r);
  }
  si[s * ST_N + ST_FLAGS] &= ~PFSTATE_SRCNODE;
}

/** pf_state_rm_src_node(): state s lets go of node sn (its states count drops, nothing expires). */
function pf_state_rm_src_node(pf: Pf, s: number, sn: PfSrcNode): void {
  const sc = pf.st.sc;
  let left = false;
  for (let i = 0; i < PF_SN_MAX; i++) {
    const v = sc[s * SC_N + SC_SN + i]!;
    if (v === 0) continue;
    if (v === sn.idx + 1) {
      sc[s * SC_N + SC_SN + i] = 0;
      sn.states--;
    } else left = true;
  }
  if (!left) pf.st.si[s * ST_N + ST_FLAGS] &= ~PFSTATE_SRCNODE;
}

/** pf_counters_inc()'s share for the nodes of state s (out: the packet goes out). */
export function pf_src_counters(pf: Pf, s: number, out: boolean, len: number): void {
  const sc = pf.st.sc;
  for (let i = 0; i < PF_SN_MAX; i++) {
    const v = sc[s * SC_N + SC_SN + i]!;
    if (v === 0) continue;
    const sn = pf.src_nodes.nodes[v - 1];
    if (sn === null || sn === undefined) continue;
    if (out) {
      sn.packets1++;
      sn.bytes1 += len;
    } else {
      sn.packets0++;
      sn.bytes0 += len;
    }
  }
}

/** pf_update_state_timeout(PURGE) + pf_set_protostate(BOTH, CLOSED): the state goes at the next purge. */
function pf_kill_state_later(pf: Pf, s: number): void {
  const si = pf.st.si;
  const b = s * ST_N;
  si[b + ST_TIMEOUT] = PFTM_PURGE;
  si[b + ST_SRC + PR_STATE] = TCPS_CLOSED;
  si[b + ST_DST + PR_STATE] = TCPS_CLOSED;
  // pf_set_protostate(): a closed state is no longer half-open
  if (si[b + ST_HALFOPEN] !== 0) {
    si[b + ST_HALFOPEN] = 0;
    pf.states_halfopen--;
  }
}

/**
 * pf_src_connlimit(): state s became an established connection of its
 * source.  Counts it on the PF_SN_NONE node and checks max-src-conn and
 * max-src-conn-rate; over a limit, the source goes into the overload table
 * (its states flushed if the rule says so) and state s is killed.  True
 * when the packet is to be dropped (src-limit).
 */
export function pf_src_connlimit(pf: Pf, s: number): boolean {
  const sn = pf_get_src_node(pf, s, PF_SN_NONE);
  if (sn === null) return false;
  const now = pf.uptime();
  sn.conn++;
  pf.st.sc[s * SC_N + SC_TCPEST] = 1;
  pf_add_threshold(sn, now);
  const r = pf.ruletab[pf.st.si[s * ST_N + ST_RULE]!]!;
  let bad = 0;
  if (r.maxSrcConn !== 0 && r.maxSrcConn < sn.conn) {
    pf.lcounters[LCNT_SRCCONN]++;
    bad++;
  }
  if (r.maxSrcConnRateLimit !== 0 && sn.conn_rate_count > sn.conn_rate_limit) {
    pf.lcounters[LCNT_SRCCONNRATE]++;
    bad++;
  }
  if (bad === 0) return false;
  const k = pf.k;
  if (k.trace !== null)
    k.trace.branch(k, pf.pd.m, `pf_src_connlimit: ${r.maxSrcConn !== 0 && r.maxSrcConn < sn.conn ? `max-src-conn ${r.maxSrcConn}` : `max-src-conn-rate ${r.maxSrcConnRateLimit}/${r.maxSrcConnRateSeconds}`} reached → ${r.overloadTbl !== null ? `overload <${r.overloadTbl.name}>${r.flush !== 0 ? ', flush, ' : ', '}` : ''}state killed`, 'src-limit');
  if (r.overloadTbl !== null) {
    pf.lcounters[LCNT_OVERLOAD_TABLE]++;
    const af = pf.st.kd[pf.st.ko(2 * s) + K_META]! & 0xff;
    let log = '';
    if (pf.debug >= LOG_NOTICE) log = `pf: pf_src_connlimit: blocking address ${pf_host_text(af, sn.a0, sn.a1, sn.a2, sn.a3)}`;
    // pfr_insert_kentry(): a host entry, unless it is there already
    const t = r.overloadTbl;
    const net = af === AF_INET ? 32 : 128;
    pfr_insert_kentry(t, PfrAddr.of({ af, w0: sn.a0, w1: sn.a1, w2: sn.a2, w3: sn.a3, net, not: false }), pf.uptime());
    if (r.flush !== 0) {
      pf.lcounters[LCNT_OVERLOAD_FLUSH]++;
      const kd = pf.st.kd;
      const dir = pf.st.si[s * ST_N + ST_DIR]!;
      // states from this source: (only those of the same rule unless flush global)
      const killed = pf_states_each(pf, (o) => {
        const w = pf.st.ko(2 * o);
        if ((kd[w + K_META]! & 0xff) !== af) return false;
        const base = dir === PF_OUT ? w + K_B : dir === PF_IN ? w + K_A : -1;
        if (base < 0 || kd[base] !== sn.a0) return false;
        if (af !== AF_INET && (kd[base + 1] !== sn.a1 || kd[base + 2] !== sn.a2 || kd[base + 3] !== sn.a3)) return false;
        if ((r.flush & PF_FLUSH_GLOBAL) === 0 && pf.ruletab[pf.st.si[o * ST_N + ST_RULE]!] !== r) return false;
        pf_kill_state_later(pf, o);
        return true;
      });
      if (log !== '') log += `, ${killed} states killed`;
    }
    if (log !== '') k.printf(log);
  }
  // kill this state
  pf_kill_state_later(pf, s);
  return true;
}

/** pf_print_host() for log lines. */
function pf_host_text(af: number, a0: number, a1: number, a2: number, a3: number): string {
  return new PfrKentry(af, a0, a1, a2, a3, af === AF_INET ? 32 : 128, false).addrText();
}

/**
 * pf_map_addr() with sticky-address (pf_map_addr_sticky): a source that
 * has a node for this rule and pool type gets the address it had (while
 * that address is still in the pool); otherwise the pool picks one and a
 * sticky pool remembers it in a new node.  saddr: the source as the pool
 * sees it.  False when the pool has no address (or the node is refused).
 */
export function pf_map_addr_sticky(pf: Pf, r: KRule, pool: KPool, type: number, pd: PfPdesc, out: Int32Array,
  s0: number, s1: number, s2: number, s3: number, init: Int32Array | null = null): boolean {
  const sns = pf.ctx_sns;
  const af = pd.af;
  if (sns[type] === null && (pool.opts & PF_POOL_STICKYADDR) !== 0 && (pool.opts & PF_POOL_TYPEMASK) !== PF_POOL_NONE) {
    pf.scounters[SCNT_SRC_NODE_SEARCH]++;
    const sn = pf_find_src_node(pf, r, type, af, s0, s1, s2, s3);
    if (sn !== null) {
      sns[type] = sn;
      const zero = sn.r0 === 0 && sn.r1 === 0 && sn.r2 === 0 && sn.r3 === 0;
      if (zero || pf_pool_has(pool, af, sn.r0, sn.r1, sn.r2, sn.r3)) {
        if (!zero) {
          out[0] = sn.r0;
          out[1] = sn.r1;
          out[2] = sn.r2;
          out[3] = sn.r3;
          // a least-states pool counts the state on the address the node keeps
          if ((pool.opts & PF_POOL_TYPEMASK) === PF_POOL_LEASTSTATES && pf_map_addr_states_increase(pool, af, out) === -1) return false;
        }
        return true;
      }
      // stale: the address left the pool; forget the node
      if (sn.states !== 0) pf_states_each(pf, (o) => {
        pf_state_rm_src_node(pf, o, sn);
        return false;
      });
      sn.expire = 1;
      pf_remove_src_node(pf, sn);
      sns[type] = null;
    }
  }
  if (!pf_map_addr(pf, pool, pd, out, s0, s1, s2, s3, init)) return false;
  if ((pool.opts & PF_POOL_STICKYADDR) !== 0) {
    const old = sns[type];
    if (old !== null && old !== undefined) {
      pf_remove_src_node(pf, old);
      sns[type] = null;
    }
    if (pf_insert_src_node(pf, r, type, af, s0, s1, s2, s3, out, null) !== 0) return false;
  }
  if (pf.debug >= 6 && (pool.opts & PF_POOL_TYPEMASK) !== PF_POOL_NONE) pf_map_addr_log(pf, pool, af, out);
  return true;
}

/** Is address a (af) still one of the pool's? */
function pf_pool_has(pool: KPool, af: number, a0: number, a1: number, a2: number, a3: number): boolean {
  const a = pool.addr;
  if (a.table !== null) return a.table.lookupExact(af, a0, a1, a2, a3, af === AF_INET ? 32 : 128) !== null || a.table.matchAddr(af, a0, a1, a2, a3);
  if (a.type === 6 /* PF_ADDR_RANGE */) return af === AF_INET && a0 >>> 0 >= a.a0 >>> 0 && a0 >>> 0 <= a.m0 >>> 0;
  if (a.type !== 0 /* PF_ADDR_ADDRMASK */) return true;
  if (((a0 ^ a.a0) & a.m0) !== 0) return false;
  return af === AF_INET || (((a1 ^ a.a1) & a.m1) === 0 && ((a2 ^ a.a2) & a.m2) === 0 && ((a3 ^ a.a3) & a.m3) === 0);
}

/* ------------------------------------------------------------------ */
/* pf_purge: expired nodes go, every `set timeout interval` seconds     */

/** Arm pf_purge for the first node: its runs fall on pf's start + 1 s + n * interval. */
function pf_src_purge_arm(pf: Pf): void {
  const tree = pf.src_nodes;
  if (tree.purge === null) tree.purge = pf.k.world.timeout<Kernel>(pf_purge, pf.k);
  if (tree.purge.pending) return;
  const interval = Math.max(1, pf.timeouts[PFTM_INTERVAL]!) * 1e9;
  const first = pf.since + 1e9;
  const now = pf.k.world.now;
  const n = now < first ? 0 : Math.floor((now - first) / interval) + 1;
  tree.purge.at(first + n * interval);
}

/** pf_purge(): remove the expired source nodes; again in `interval` seconds while nodes are left. */
export function pf_purge(k: Kernel): void {
  const pf = (k as Kernel & { pf: Pf }).pf;
  pf_purge_expired_src_nodes(pf);
  if (pf.src_nodes.count > 0) pf.src_nodes.purge!.addSec(Math.max(1, pf.timeouts[PFTM_INTERVAL]!));
}

/** pf_purge_expired_src_nodes() */
export function pf_purge_expired_src_nodes(pf: Pf): void {
  const nodes = pf.src_nodes.nodes;
  const now = pf.uptime();
  for (let i = 0; i < nodes.length; i++) {
    const sn = nodes[i];
    if (sn !== null && sn !== undefined && sn.states === 0 && sn.expire <= now) pf_remove_src_node(pf, sn);
  }
}

/* ------------------------------------------------------------------ */
/* the ioctls                                                          */

/** A node as DIOCGETSRCNODES copies it out: ages relative, the rate decayed to now, the rule by number. */
export interface PfSrcNodeExport {
  af: number;
  naf: number;
  type: number;
  addr: [number, number, number, number];
  raddr: [number, number, number, number];
  states: number;
  conn: number;
  conn_rate_count: number;
  conn_rate_seconds: number;
  /** seconds since it was made */
  creation: number;
  /** seconds until it expires (0: expired or not expiring) */
  expire: number;
  packets: [number, number];
  bytes: [number, number];
  /** rule number (-1: none) */
  rule: number;
}

/** The little-endian (amd64) order of pf_addr_compare() on network-order words. */
function leWord(w: number): number {
  return (((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | ((w >>> 24) & 0xff)) >>> 0;
}

function snCompare(a: PfSrcNode, b: PfSrcNode): number {
  if (a.rule !== b.rule) return a.rule.nr - b.rule.nr || a.rule.gidx - b.rule.gidx;
  if (a.type !== b.type) return a.type - b.type;
  if (a.af !== b.af) return a.af - b.af;
  const wa = a.af === AF_INET ? [a.a0] : [a.a3, a.a2, a.a1, a.a0];
  const wb = b.af === AF_INET ? [b.a0] : [b.a3, b.a2, b.a1, b.a0];
  for (let i = 0; i < wa.length; i++) {
    const x = leWord(wa[i]!);
    const y = leWord(wb[i]!);
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** DIOCGETSRCNODES: the nodes in the tree's order. */
export function pf_src_nodes_export(pf: Pf): PfSrcNodeExport[] {
  const secs = pf.uptime();
  const list = pf.src_nodes.nodes.filter((n): n is PfSrcNode => n !== null && n !== undefined).sort(snCompare);
  return list.map((n) => {
    let count = n.conn_rate_count;
    const diff = secs - n.conn_rate_last;
    if (diff >= n.conn_rate_seconds) count = 0;
    else count -= Math.floor((n.conn_rate_count * diff) / n.conn_rate_seconds);
    return {
      af: n.af,
      naf: n.naf,
      type: n.type,
      addr: [n.a0, n.a1, n.a2, n.a3],
      raddr: [n.r0, n.r1, n.r2, n.r3],
      states: n.states,
      conn: n.conn,
      conn_rate_count: count >>> 0,
      conn_rate_seconds: n.conn_rate_seconds,
      creation: secs - n.creation,
      expire: n.expire > secs ? n.expire - secs : 0,
      packets: [n.packets0, n.packets1],
      bytes: [n.bytes0, n.bytes1],
      rule: n.rule.nr,
    };
  });
}

/** DIOCCLRSRCNODES: every state lets go of its nodes, and all nodes go. */
export function pf_src_nodes_clear(pf: Pf): void {
  pf_states_each(pf, (s) => {
    if ((pf.st.si[s * ST_N + ST_FLAGS]! & PFSTATE_SRCNODE) !== 0) pf_src_tree_remove_state(pf, s);
    return false;
  });
  for (const n of pf.src_nodes.nodes) if (n !== null && n !== undefined) n.expire = 1;
  pf_purge_expired_src_nodes(pf);
}

/** An address and mask for DIOCKILLSRCNODES (words; a zero mask matches anything; the family is not compared, as OpenBSD). */
export interface PfSrcKill {
  addr: [number, number, number, number];
  mask: [number, number, number, number];
}

function matchAddr(k: PfSrcKill, af: number, w0: number, w1: number, w2: number, w3: number): boolean {
  if (((k.addr[0] ^ w0) & k.mask[0]) !== 0) return false;
  if (af === AF_INET) return true;
  return ((k.addr[1] ^ w1) & k.mask[1]) === 0 && ((k.addr[2] ^ w2) & k.mask[2]) === 0 && ((k.addr[3] ^ w3) & k.mask[3]) === 0;
}

/**
 * DIOCKILLSRCNODES: the nodes whose source matches src and whose pool
 * address matches dst lose their states' links and go; returns how many.
 */
export function pf_src_nodes_kill(pf: Pf, src: PfSrcKill, dst: PfSrcKill): number {
  let killed = 0;
  for (const sn of pf.src_nodes.nodes) {
    if (sn === null || sn === undefined) continue;
    if (matchAddr(src, sn.af, sn.a0, sn.a1, sn.a2, sn.a3) && matchAddr(dst, sn.af, sn.r0, sn.r1, sn.r2, sn.r3)) {
      if (sn.states !== 0) pf_states_each(pf, (s) => {
        pf_state_rm_src_node(pf, s, sn);
        return false;
      });
      sn.expire = 1;
      killed++;
    }
  }
  if (killed > 0) pf_purge_expired_src_nodes(pf);
  return killed;
}

