/**
 * pf(4), the packet filter (sys/net/pf.c): pf_test() on the IPv4 and IPv6
 * paths, with OpenBSD's order: the state table first (pf_test_state),
 * the ruleset only on a miss (pf_test_rule), then the counters.
 *
 * - Rules are evaluated as pf_match_rule(): last match wins, `quick` stops,
 *   `match` rules collect actions (nat-to, rdr-to, log...), anchors nest,
 *   and skip steps jump over runs of rules that cannot match on the nine
 *   criteria (interface, direction, rdomain, af, proto, src/dst address,
 *   src/dst port).
 * - States have a wire key (the packet as on the wire) and a stack key (as
 *   the stack sees it); they differ when the state translates (nat-to,
 *   rdr-to).  Keys live in one hash table (O(1) lookups, no allocation per
 *   packet); states are also on a list in creation order (pfctl -ss) that
 *   the purge timer walks.  One state per key: a second state on an
 *   identical key fails with state-insert (OpenBSD chains them).
 * - TCP states track sequence windows (pf_tcp_track_full, Guido van
 *   Rooij's algorithm); packets outside are dropped as state-mismatch.
 * - Every REASON_SET counts in the reason counters `pfctl -si` prints.
 *
 * Addresses are four 32-bit words as struct pf_addr lays them out (IPv4 in
 * word 0), kept as int32 fields so they stay small integers.
 */
import type { Kernel } from '../kern/kernel.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import { MbufList, PF_TAG_GENERATED } from '../kern/uipc_mbuf.js';
import type { Ifnet } from './if.js';
import { Task } from '../kern/kern_task.js';
import type { Timeout } from '../kern/kern_timeout.js';
import { get16, get32, put16, put32 } from '../../wire/bytes.js';
import { adjust16, sum16, pseudoSum4 } from '../../wire/checksum.js';
import type { PfrKtable } from './pf_table.js';
import { pf_get_transaddr } from './pf_lb.js';
import { pf_normalize_ip, PfFragState } from './pf_norm.js';
import { pflog_packet } from './if_pflog.js';
import { ip_output } from '../netinet/ip_output.js';
import { icmp_error } from '../netinet/ip_icmp.js';

export const AF_INET = 2;
export const AF_INET6 = 24;

export const PF_INOUT = 0;
export const PF_IN = 1;
export const PF_OUT = 2;
export const PF_FWD = 3;

export const PF_PASS = 0;
export const PF_DROP = 1;
export const PF_SCRUB = 2;
export const PF_NOSCRUB = 3;
export const PF_NAT = 4;
export const PF_NONAT = 5;
export const PF_BINAT = 6;
export const PF_NOBINAT = 7;
export const PF_RDR = 8;
export const PF_NORDR = 9;
export const PF_MATCH = 12;

// reasons (PFRES_*)
export const PFRES_MATCH = 0;
export const PFRES_BADOFF = 1;
export const PFRES_FRAG = 2;
export const PFRES_SHORT = 3;
export const PFRES_NORM = 4;
export const PFRES_MEMORY = 5;
export const PFRES_TS = 6;
export const PFRES_CONGEST = 7;
export const PFRES_IPOPTIONS = 8;
export const PFRES_PROTCKSUM = 9;
export const PFRES_BADSTATE = 10;
export const PFRES_STATEINS = 11;
export const PFRES_MAXSTATES = 12;
export const PFRES_SRCLIMIT = 13;
export const PFRES_SYNPROXY = 14;
export const PFRES_TRANSLATE = 15;
export const PFRES_NOROUTE = 16;
export const PFRES_MAX = 17;
export const PFRES_NAMES = [
  'match', 'bad-offset', 'fragment', 'short', 'normalize', 'memory', 'bad-timestamp', 'congestion', 'ip-option',
  'proto-cksum', 'state-mismatch', 'state-insert', 'state-limit', 'src-limit', 'synproxy', 'translate', 'no-route',
];

// limit counters (LCNT_*)
export const LCNT_STATES = 0;
export const LCNT_MAX = 10;
export const LCNT_NAMES = [
  'max states per rule', 'max-src-states', 'max-src-nodes', 'max-src-conn', 'max-src-conn-rate',
  'overload table insertion', 'overload flush states', 'synfloods detected', 'syncookies sent', 'syncookies validated',
];
// state table counters (FCNT_*)
export const FCNT_STATE_SEARCH = 0;
export const FCNT_STATE_INSERT = 1;
export const FCNT_STATE_REMOVALS = 2;

// timeouts (PFTM_*)
export const PFTM_TCP_FIRST_PACKET = 0;
export const PFTM_TCP_OPENING = 1;
export const PFTM_TCP_ESTABLISHED = 2;
export const PFTM_TCP_CLOSING = 3;
export const PFTM_TCP_FIN_WAIT = 4;
export const PFTM_TCP_CLOSED = 5;
export const PFTM_UDP_FIRST_PACKET = 6;
export const PFTM_UDP_SINGLE = 7;
export const PFTM_UDP_MULTIPLE = 8;
export const PFTM_ICMP_FIRST_PACKET = 9;
export const PFTM_ICMP_ERROR_REPLY = 10;
export const PFTM_OTHER_FIRST_PACKET = 11;
export const PFTM_OTHER_SINGLE = 12;
export const PFTM_OTHER_MULTIPLE = 13;
export const PFTM_FRAG = 14;
export const PFTM_INTERVAL = 15;
export const PFTM_ADAPTIVE_START = 16;
export const PFTM_ADAPTIVE_END = 17;
export const PFTM_SRC_NODE = 18;
export const PFTM_TS_DIFF = 19;
export const PFTM_MAX = 20;
export const PFTM_PURGE = 21;
/** pf_default_rule.timeout */
export const PFTM_DEFAULTS = [120, 30, 86400, 900, 45, 90, 60, 30, 60, 20, 10, 60, 30, 60, 60, 10, 60000, 120000, 0, 30];

// limits (PF_LIMIT_*), in pfctl's order
export const PF_LIMIT_STATES = 0;
export const PF_LIMIT_SRC_NODES = 1;
export const PF_LIMIT_FRAGS = 2;
export const PF_LIMIT_TABLES = 3;
export const PF_LIMIT_TABLE_ENTRIES = 4;
export const PF_LIMIT_PKTDELAY_PKTS = 5;
export const PF_LIMIT_ANCHORS = 6;
export const PF_LIMIT_NAMES = ['states', 'src-nodes', 'frags', 'tables', 'table-entries', 'pktdelay-pkts', 'anchors'];
export const PF_LIMIT_DEFAULTS = [100000, 10000, 65536, 1000, 200000, 10000, 512];

// TCP states as pf tracks the peers (tcpstates[])
export const TCPS_CLOSED = 0;
export const TCPS_LISTEN = 1;
export const TCPS_SYN_SENT = 2;
export const TCPS_SYN_RECEIVED = 3;
export const TCPS_ESTABLISHED = 4;
export const TCPS_CLOSE_WAIT = 5;
export const TCPS_FIN_WAIT_1 = 6;
export const TCPS_CLOSING = 7;
export const TCPS_LAST_ACK = 8;
export const TCPS_FIN_WAIT_2 = 9;
export const TCPS_TIME_WAIT = 10;
export const TCPSTATES = [
  'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RCVD', 'ESTABLISHED', 'CLOSE_WAIT', 'FIN_WAIT_1', 'CLOSING', 'LAST_ACK',
  'FIN_WAIT_2', 'TIME_WAIT',
];
export const PFUDPS_NO_TRAFFIC = 0;
export const PFUDPS_SINGLE = 1;
export const PFUDPS_MULTIPLE = 2;
export const PFUDPS_NAMES = ['NO_TRAFFIC', 'SINGLE', 'MULTIPLE'];

// rule_flag bits pf looks at
const PFRULE_RETURNRST = 0x0001;
const PFRULE_FRAGMENT = 0x0002;
const PFRULE_RETURNICMP = 0x0004;
const PFRULE_RETURN = 0x0008;
export const PFRULE_IFBOUND = 0x00010000;
const PFRULE_STATESLOPPY = 0x00020000;
const PFRULE_ONCE = 0x00100000;
export const PFRULE_EXPIRED = 0x00400000;

export const PF_LOG = 0x01;
export const PF_LOG_ALL = 0x02;
export const PF_LOG_MATCHES = 0x10;

// address wrap types
export const PF_ADDR_ADDRMASK = 0;
export const PF_ADDR_NOROUTE = 1;
export const PF_ADDR_DYNIFTL = 2;
export const PF_ADDR_TABLE = 3;
export const PF_ADDR_RTLABEL = 4;
export const PF_ADDR_URPFFAILED = 5;
export const PF_ADDR_RANGE = 6;
export const PF_ADDR_NONE = 7;

export const PF_OP_IRG = 1;
export const PF_OP_EQ = 2;
export const PF_OP_NE = 3;
export const PF_OP_LT = 4;
export const PF_OP_LE = 5;
export const PF_OP_GT = 6;
export const PF_OP_GE = 7;
export const PF_OP_XRG = 8;
export const PF_OP_RRG = 9;

export const PF_VPROTO_FRAGMENT = 256;
/** pf_setup_pdesc(): a fragment was queued for reassembly (the packet is pf's now). */
export const PF_HELD = -3;

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_ICMPV6 = 58;
const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;
const PF_WSCALE_FLAG = 0x80;
const PF_WSCALE_MASK = 0x0f;
const TCP_MAXWIN = 65535;
const MAXACKWINDOW = 0xffff + 1500;

// skip step criteria (PF_SKIP_*)
export const PF_SKIP_IFP = 0;
export const PF_SKIP_DIR = 1;
export const PF_SKIP_RDOM = 2;
export const PF_SKIP_AF = 3;
export const PF_SKIP_PROTO = 4;
export const PF_SKIP_SRC_ADDR = 5;
export const PF_SKIP_DST_ADDR = 6;
export const PF_SKIP_SRC_PORT = 7;
export const PF_SKIP_DST_PORT = 8;
export const PF_SKIP_COUNT = 9;

// pf_test_rule results (PF_TEST_*)
const PF_TEST_FAIL = -1;
const PF_TEST_OK = 0;
const PF_TEST_QUICK = 1;

/** A rule address (struct pf_rule_addr) as the kernel evaluates it. */
export class KAddr {
  type = PF_ADDR_ADDRMASK;
  neg = false;
  a0 = 0; a1 = 0; a2 = 0; a3 = 0;
  m0 = 0; m1 = 0; m2 = 0; m3 = 0;
  /** af the address belongs to (0: any) */
  af = 0;
  table: PfrKtable | null = null;
  ifname = '';
  iflags = 0;
  portOp = 0;
  port0 = 0;
  port1 = 0;
}

/** A translation or routing pool (struct pf_pool). */
export class KPool {
  addr = new KAddr();
  ifname = '';
  proxyPort0 = 0;
  proxyPort1 = 0;
  opts = 0;
  /** round-robin position in a table pool */
  rrIndex = 0;
}

/** struct pf_rule, compiled from pfctl's rule for evaluation. */
export class KRule {
  nr = 0;
  action = PF_PASS;
  direction = 0;
  log = 0;
  logif = 0;
  quick = false;
  ifname = '';
  ifnot = false;
  onrdomain = -1;
  rcvIfname = '';
  rcvifnot = false;
  af = 0;
  naf = 0;
  proto = 0;
  type = 0;
  code = 0;
  src = new KAddr();
  dst = new KAddr();
  uidOp = 0;
  uid0 = 0;
  uid1 = 0;
  gidOp = 0;
  gid0 = 0;
  gid1 = 0;
  flags = 0;
  flagset = 0;
  tos = 0;
  prio = 0;
  keepState = 0;
  ruleFlag = 0;
  returnTtl = 0;
  returnIcmp = 0;
  returnIcmp6 = 0;
  maxStates = 0;
  timeout: Int32Array = new Int32Array(PFTM_MAX);
  prob = 0;
  tag = 0;
  matchTag = 0;
  matchTagNot = false;
  rtableid = -1;
  label = '';
  nat = new KPool();
  rdr = new KPool();
  /** nat-to / rdr-to given */
  natSet = false;
  rdrSet = false;
  /** The called anchor, for anchor rules. */
  anchor: KAnchor | null = null;
  /** skip[PF_SKIP_*]: the next rule that may match when this criterion fails; null is the end. */
  readonly skip: Array<KRule | null> = new Array<KRule | null>(PF_SKIP_COUNT).fill(null);
  next: KRule | null = null;
  // counters
  evaluations = 0;
  packets0 = 0;
  packets1 = 0;
  bytes0 = 0;
  bytes1 = 0;
  states_cur = 0;
  states_tot = 0;
  /** pfctl's rule, kept for printing (pfctl -sr). */
  src_rule: unknown = null;
}

/** struct pf_anchor with its active ruleset. */
export class KAnchor {
  rules: KRule[] = [];
  readonly children = new Map<string, KAnchor>();
  /** pfctl's anchor, kept for printing. */
  src_anchor: unknown = null;
  constructor(
    readonly name: string,
    readonly path: string,
  ) {}
}

/** struct pf_state_key */
export class PfStateKey {
  af = 0;
  proto = 0;
  rdomain = 0;
  a00 = 0; a01 = 0; a02 = 0; a03 = 0;
  a10 = 0; a11 = 0; a12 = 0; a13 = 0;
  port0 = 0;
  port1 = 0;
  hash = 0;
  /** hash chain */
  hnext: PfStateKey | null = null;
  state: PfState | null = null;
}

/** struct pf_state_peer */
export class PfStatePeer {
  seqlo = 0;
  seqhi = 0;
  seqdiff = 0;
  max_win = 0;
  mss = 0;
  state = 0;
  wscale = 0;
}

/** struct pf_state */
export class PfState {
  key_wire!: PfStateKey;
  key_stack!: PfStateKey;
  rule!: KRule;
  anchor: KRule | null = null;
  /** The interface it is bound to; null: floating (printed as "all"). */
  kif: Ifnet | null = null;
  direction = 0;
  readonly src = new PfStatePeer();
  readonly dst = new PfStatePeer();
  /** uptime seconds */
  creation = 0;
  expire = 0;
  timeout = 0;
  packets0 = 0;
  packets1 = 0;
  bytes0 = 0;
  bytes1 = 0;
  id = 0;
  log = 0;
  state_flags = 0;
  /** counted in states_halfopen */
  halfopen = false;
  prev: PfState | null = null;
  next: PfState | null = null;
}

/** struct pf_pdesc: what pf knows of the packet being tested (one per kernel, reused). */
export class PfPdesc {
  m!: Mbuf;
  kif!: Ifnet;
  af = 0;
  naf = 0;
  dir = 0;
  sidx = 0;
  didx = 0;
  rdomain = 0;
  proto = 0;
  virtual_proto = 0;
  /** IP header at buf[ipoff] */
  ipoff = 0;
  /** transport header at buf[thoff] (an absolute index) */
  thoff = 0;
  /** transport header length */
  hdrlen = 0;
  /** packet length from the IP header */
  tot_len = 0;
  /** payload length */
  p_len = 0;
  tos = 0;
  ttl = 0;
  // addresses as seen (words), and after match translation (ns/nd)
  s0 = 0; s1 = 0; s2 = 0; s3 = 0;
  d0 = 0; d1 = 0; d2 = 0; d3 = 0;
  ns0 = 0; ns1 = 0; ns2 = 0; ns3 = 0;
  nd0 = 0; nd1 = 0; nd2 = 0; nd3 = 0;
  osport = 0;
  odport = 0;
  nsport = 0;
  ndport = 0;
  // TCP
  th_flags = 0;
  th_seq = 0;
  th_ack = 0;
  th_win = 0;
  // ICMP
  icmptype = 0;
  icmpcode = 0;
  icmp_id = 0;
  icmp_dir = 0;
  /** virtual type of an ICMP query (its request type) */
  icmptype_v = 0;
  state_icmp = false;
  pflog = 0;
  destchg = false;
  // socket lookup (user/group)
  lookup_done = false;
  lookup_uid = -1;
  lookup_gid = -1;
}

/** The owner of the local socket of a packet (pf_socket_lookup's answer). */
export interface PfSocketOwner {
  uid: number;
  gid: number;
}

/**
 * The PCB layer's answer to "whose socket is this packet for/from": called
 * with the local address/port and remote address/port (words 0 of IPv4).
 * Set by in_pcb once sockets exist; null: user/group never match.
 */
export type PfSocketLookup = (k: Kernel, af: number, proto: number, pd: PfPdesc) => PfSocketOwner | null;

/** The state hash table. */
class PfStateTable {
  buckets: Array<PfStateKey | null> = new Array<PfStateKey | null>(1024).fill(null);
  mask = 1023;
  count = 0;

  find(sk: PfStateKey): PfStateKey | null {
    for (let k: PfStateKey | null = this.buckets[sk.hash & this.mask]!; k !== null; k = k.hnext) {
      if (
        k.hash === sk.hash && k.a00 === sk.a00 && k.a10 === sk.a10 && k.port0 === sk.port0 && k.port1 === sk.port1 &&
        k.proto === sk.proto && k.af === sk.af && k.rdomain === sk.rdomain && k.a01 === sk.a01 && k.a02 === sk.a02 &&
        k.a03 === sk.a03 && k.a11 === sk.a11 && k.a12 === sk.a12 && k.a13 === sk.a13
      )
        return k;
    }
    return null;
  }

  insert(sk: PfStateKey): void {
    if (this.count >= this.buckets.length) this.grow();
    const i = sk.hash & this.mask;
    sk.hnext = this.buckets[i]!;
    this.buckets[i] = sk;
    this.count++;
  }

  remove(sk: PfStateKey): void {
    const i = sk.hash & this.mask;
    let p: PfStateKey | null = this.buckets[i]!;
    if (p === sk) {
      this.buckets[i] = sk.hnext;
      this.count--;
      sk.hnext = null;
      return;
    }
    while (p !== null && p.hnext !== sk) p = p.hnext;
    if (p !== null) {
      p.hnext = sk.hnext;
      this.count--;
    }
    sk.hnext = null;
  }

  private grow(): void {
    const old = this.buckets;
    const n = old.length * 2;
    this.buckets = new Array<PfStateKey | null>(n).fill(null);
    this.mask = n - 1;
    for (let k of old) {
      while (k !== null) {
        const nx = k.hnext;
        const i = k.hash & this.mask;
        k.hnext = this.buckets[i]!;
        this.buckets[i] = k;
        k = nx;
      }
    }
  }

  clear(): void {
    this.buckets = new Array<PfStateKey | null>(1024).fill(null);
    this.mask = 1023;
    this.count = 0;
  }
}

export function pf_hashkey(sk: PfStateKey): number {
  let h = Math.imul(sk.af ^ (sk.proto << 8) ^ (sk.rdomain << 16), 0x9e3779b1);
  h = Math.imul(h ^ sk.a00, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ sk.a10, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ ((sk.port0 << 16) | sk.port1), 0x85ebca6b);
  if (sk.af !== AF_INET) {
    h = Math.imul(h ^ sk.a01 ^ (sk.a11 << 7), 0xc2b2ae35);
    h = Math.imul(h ^ sk.a02 ^ (sk.a12 << 7), 0x85ebca6b);
    h = Math.imul(h ^ sk.a03 ^ (sk.a13 << 7), 0xc2b2ae35);
  }
  return (h ^ (h >>> 16)) | 0;
}

/** Per-kernel pf: status, counters, rules, tables, states. */
export class Pf {
  running = false;
  /** virtual ns of the last enable/disable */
  since = 0;
  /** syslog level (LOG_ERR 3) */
  debug = 3;
  hostid = 0;
  /** set reassemble yes (default) */
  reass = 1;
  /** set state-policy if-bound */
  ifbound = false;
  loginterface = '';
  /** md5 of the loaded ruleset (pfctl -si -v) */
  checksum: Uint8Array = new Uint8Array(16);
  readonly counters = new Float64Array(PFRES_MAX);
  readonly lcounters = new Float64Array(LCNT_MAX);
  readonly fcounters = new Float64Array(3);
  readonly scounters = new Float64Array(3);
  /** fragment cache counters (searches, inserts, removals) */
  readonly ncounters = new Float64Array(3);
  /** [af6][out][blocked], loginterface only */
  readonly pcounters = new Float64Array(8);
  readonly bcounters = new Float64Array(4);
  states = 0;
  states_halfopen = 0;
  readonly limits = PF_LIMIT_DEFAULTS.slice();
  readonly timeouts = Int32Array.from(PFTM_DEFAULTS);
  /** interfaces pf skips (set skip on) */
  skip = new Set<string>();
  main = new KAnchor('', '');
  /** tables by "anchor/name" */
  readonly tables = new Map<string, PfrKtable>();
  /** the default rule: pass all, no state (nr -1) */
  readonly default_rule = new KRule();
  readonly statetbl = new PfStateTable();
  /** state list in creation order */
  state_head: PfState | null = null;
  state_tail: PfState | null = null;
  private stateid = 0;
  creatorid = 0;
  readonly pd = new PfPdesc();
  readonly searchKey = new PfStateKey();
  /** pf_get_transaddr's address scratch */
  readonly naddr = new Int32Array(4);
  /** pflog_packet's header + packet buffer */
  logbuf = new Uint8Array(2048);
  readonly purge: Timeout<Kernel>;
  readonly frag: PfFragState;
  /** the next unit's pflog interfaces (pflog0...) */
  readonly pflogifs: Array<Ifnet | undefined> = [];
  /** packets pf_send_tcp built, sent by a task (ip_send) */
  readonly sendq = new MbufList();
  readonly sendTask: Task<Kernel>;
  socketLookup: PfSocketLookup | null = null;
  /** tag names to ids (pf_tagname2tag) */
  readonly tagnames = new Map<string, number>();
  // evaluation context (one packet at a time)
  ctx_rm: KRule | null = null;
  ctx_am: KRule | null = null;
  ctx_a: KRule | null = null;
  ctx_nr: KRule | null = null;
  ctx_tag = 0;
  ctx_log = 0;
  ctx_rtableid = -1;
  ctx_reason = 0;
  /** the rule already logged for this packet */
  ctx_logged: KRule | null = null;
  /** the state pf_test_rule() created */
  ctx_state: PfState | null = null;
  /** rules evaluated for the last rule test (bench: ns per rule) */
  evals = 0;

  constructor(readonly k: Kernel) {
    this.default_rule.nr = -1;
    this.default_rule.action = PF_PASS;
    this.hostid = k.random.arc4random() >>> 0;
    this.creatorid = this.hostid;
    this.purge = k.world.timeout<Kernel>(pf_purge_timeout, k);
    this.frag = new PfFragState();
    this.sendTask = new Task<Kernel>(pf_send_task, k);
  }

  /** getuptime() */
  uptime(): number {
    return Math.floor(this.k.world.now / 1e9);
  }

  nextStateId(): number {
    return ++this.stateid;
  }

  table(name: string, anchor = ''): PfrKtable | undefined {
    return this.tables.get(anchor + '/' + name);
  }
}

/** pfattach(): the kernel's pf (created on first use). */
export function pf_attach(k: Kernel): Pf {
  const kk = k as Kernel & { pf: Pf | null };
  if (kk.pf === null || kk.pf === undefined) kk.pf = new Pf(k);
  return kk.pf;
}

/** REASON_SET(): record the reason and count it. */
function REASON_SET(pf: Pf, x: number): void {
  pf.ctx_reason = x;
  if (x < PFRES_MAX) pf.counters[x]++;
}

/* ------------------------------------------------------------------ */
/* pf_test                                                             */

/**
 * pf_test(): filter one packet.  m starts at the IP header.  Returns the
 * packet to continue with (possibly another mbuf after reassembly), or null
 * when pf dropped it (freed, counted) or kept it (a fragment waiting).
 */
export function pf_test(k: Kernel, af: number, fwdir: number, ifp: Ifnet, m: Mbuf): Mbuf | null {
  const pf = (k as Kernel & { pf: Pf | null }).pf;
  if (pf === null || pf === undefined || !pf.running) return m;
  if ((m.pf_flags & PF_TAG_GENERATED) !== 0) return m;
  if (pf.skip.size !== 0 && pf_skip_if(pf, ifp)) return m;
  const dir = fwdir === PF_FWD ? PF_OUT : fwdir;
  if (k.trace !== null) k.trace.fn(k, m, 'pf_test', ifp.if_xname, dir === PF_IN ? 'in' : 'out');
  const pd = pf.pd;
  pf.ctx_reason = PFRES_MATCH;
  let action = pf_setup_pdesc(pf, pd, af, dir, ifp, m);
  if (action === PF_HELD) return null;
  if (action !== PF_PASS) {
    if (k.trace !== null) k.trace.drop(k, m, `pf_test: ${PFRES_NAMES[pf.ctx_reason]}`, 'pf_setup_pdesc');
    pd.m.free();
    return null;
  }
  m = pd.m;

  let s: PfState | null = null;
  let r: KRule;
  let a: KRule | null;
  pf.ctx_log = 0;
  if (pd.virtual_proto === PF_VPROTO_FRAGMENT) {
    // Fragments that were not reassembled: rules only (no state).
    action = pf_test_rule(pf, pd);
    r = pf.ctx_rm ?? pf.default_rule;
    a = pf.ctx_am;
  } else {
    s = pf_test_state(pf, pd);
    action = pf.ctx_reason === -2 ? PF_PASS : PF_DROP;
    if (s === null) {
      action = pf_test_rule(pf, pd);
      r = pf.ctx_rm ?? pf.default_rule;
      a = pf.ctx_am;
      s = pf.ctx_state;
      pf.ctx_state = null;
      if (k.trace !== null)
        k.trace.branch(k, m, `pf_test: ${r.nr < 0 ? 'default rule' : `rule ${r.nr}`} ${action === PF_PASS ? 'pass' : 'block'}`,
          s !== null ? 'state created' : '');
    } else {
      r = s.rule;
      a = s.anchor;
      if ((s.log & PF_LOG_ALL) !== 0) pd.pflog |= s.log;
      if (k.trace !== null)
        k.trace.branch(k, m, `pf_test: state ${action === PF_PASS ? 'match' : PFRES_NAMES[pf.ctx_reason === -2 ? 0 : pf.ctx_reason]}`,
          `rule ${r.nr}`);
    }
  }

  // pflog: log (all) on states, forced logging
  if (pd.pflog !== 0 && s !== null && (r.log & PF_LOG_ALL) !== 0 && pf.ctx_logged !== r) {
    pflog_packet(pf, pd, action === PF_PASS ? PFRES_MATCH : pf.ctx_reason, r, a, action === PF_PASS ? r.action : PF_DROP);
  }
  pf.ctx_logged = null;
  pf_counters_inc(pf, action, pd, s, r, a);
  if (action !== PF_PASS) {
    if (k.trace !== null) k.trace.drop(k, m, 'pf_test: block', `rule ${r.nr}`);
    pd.m.free();
    return null;
  }
  return pd.m;
}


function pf_skip_if(pf: Pf, ifp: Ifnet): boolean {
  if (pf.skip.has(ifp.if_xname)) return true;
  for (let i = 0; i < ifp.if_groups.length; i++) if (pf.skip.has(ifp.if_groups[i]!)) return true;
  return false;
}

/* ------------------------------------------------------------------ */
/* pf_setup_pdesc                                                      */

function pf_setup_pdesc(pf: Pf, pd: PfPdesc, af: number, dir: number, ifp: Ifnet, m: Mbuf): number {
  pd.m = m;
  pd.kif = ifp;
  pd.af = af;
  pd.naf = af;
  pd.dir = dir;
  pd.sidx = dir === PF_IN ? 0 : 1;
  pd.didx = dir === PF_IN ? 1 : 0;
  pd.rdomain = ifp.if_rdomain;
  pd.pflog = 0;
  pd.destchg = false;
  pd.lookup_done = false;
  pd.state_icmp = false;
  pd.osport = pd.odport = 0;
  pd.hdrlen = 0;
  const b = m.buf;
  const o = m.off;
  pd.ipoff = o;
  let off: number;
  if (af === AF_INET) {
    if (m.len < 20) {
      REASON_SET(pf, PFRES_SHORT);
      return PF_DROP;
    }
    const hl = (b[o]! & 15) << 2;
    if (hl < 20 || hl > m.len) {
      REASON_SET(pf, PFRES_SHORT);
      return PF_DROP;
    }
    const ipoff = get16(b, o + 6);
    if ((ipoff & 0x3fff) !== 0) {
      // a fragment: reassemble (pf_normalize_ip) or filter as one
      if (pf.reass !== 0) {
        const r = pf_normalize_ip(pf, pd);
        if (r !== PF_PASS) return r;
        return pf_setup_pdesc(pf, pd, af, dir, ifp, pd.m);
      }
    }
    pd.tot_len = get16(b, o + 2);
    if (pd.tot_len > m.len) pd.tot_len = m.len;
    pd.tos = b[o + 1]! & 0xfc;
    pd.ttl = b[o + 8]!;
    pd.proto = b[o + 9]!;
    pd.s0 = get32(b, o + 12) | 0;
    pd.d0 = get32(b, o + 16) | 0;
    pd.s1 = pd.s2 = pd.s3 = pd.d1 = pd.d2 = pd.d3 = 0;
    off = o + hl;
    if ((ipoff & 0x1fff) !== 0 || (ipoff & 0x2000) !== 0) {
      pd.virtual_proto = PF_VPROTO_FRAGMENT;
      pd.thoff = off;
      pd.p_len = pd.tot_len - hl;
      copyNs(pd);
      return PF_PASS;
    }
  } else {
    if (m.len < 40) {
      REASON_SET(pf, PFRES_SHORT);
      return PF_DROP;
    }
    pd.tot_len = 40 + get16(b, o + 4);
    if (pd.tot_len > m.len) pd.tot_len = m.len;
    pd.tos = ((get16(b, o) >>> 4) & 0xfc) | 0;
    pd.ttl = b[o + 7]!;
    pd.proto = b[o + 6]!;
    pd.s0 = get32(b, o + 8) | 0;
    pd.s1 = get32(b, o + 12) | 0;
    pd.s2 = get32(b, o + 16) | 0;
    pd.s3 = get32(b, o + 20) | 0;
    pd.d0 = get32(b, o + 24) | 0;
    pd.d1 = get32(b, o + 28) | 0;
    pd.d2 = get32(b, o + 32) | 0;
    pd.d3 = get32(b, o + 36) | 0;
    off = o + 40;
    // Extension headers: hop-by-hop, routing, destination options are skipped; a fragment is filtered as one.
    let nxt = pd.proto;
    for (let n = 0; n < 8; n++) {
      if (nxt === 0 || nxt === 43 || nxt === 60) {
        if (off + 8 > o + pd.tot_len) {
          REASON_SET(pf, PFRES_SHORT);
          return PF_DROP;
        }
        nxt = b[off]!;
        off += (b[off + 1]! + 1) << 3;
      } else if (nxt === 44) {
        pd.proto = b[off]!;
        pd.virtual_proto = PF_VPROTO_FRAGMENT;
        pd.thoff = off + 8;
        pd.p_len = o + pd.tot_len - pd.thoff;
        copyNs(pd);
        return PF_PASS;
      } else break;
    }
    pd.proto = nxt;
  }
  pd.virtual_proto = pd.proto;
  pd.thoff = off;
  const end = o + pd.tot_len;
  switch (pd.proto) {
    case IPPROTO_TCP: {
      if (off + 20 > end) {
        REASON_SET(pf, PFRES_SHORT);
        return PF_DROP;
      }
      const thl = (b[off + 12]! >>> 4) << 2;
      if (thl < 20 || off + thl > end) {
        REASON_SET(pf, PFRES_SHORT);
        return PF_DROP;
      }
      pd.hdrlen = thl;
      pd.osport = get16(b, off);
      pd.odport = get16(b, off + 2);
      pd.th_seq = get32(b, off + 4);
      pd.th_ack = get32(b, off + 8);
      pd.th_flags = b[off + 13]!;
      pd.th_win = get16(b, off + 14);
      pd.p_len = end - off - thl;
      break;
    }
    case IPPROTO_UDP: {
      if (off + 8 > end) {
        REASON_SET(pf, PFRES_SHORT);
        return PF_DROP;
      }
      pd.hdrlen = 8;
      pd.osport = get16(b, off);
      pd.odport = get16(b, off + 2);
      const ulen = get16(b, off + 4);
      if (pd.odport === 0 || ulen > end - off || ulen < 8) {
        REASON_SET(pf, PFRES_SHORT);
        return PF_DROP;
      }
      pd.p_len = end - off - 8;
      break;
    }
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6: {
      if (off + 8 > end) {
        REASON_SET(pf, PFRES_SHORT);
        return PF_DROP;
      }
      pd.hdrlen = 8;
      pd.icmptype = b[off]!;
      pd.icmpcode = b[off + 1]!;
      pd.icmp_id = get16(b, off + 4);
      pd.p_len = end - off - 8;
      pf_icmp_mapping(pd, pd.icmptype);
      if (pd.icmp_dir === PF_IN) {
        pd.osport = pd.icmp_id;
        pd.odport = pd.icmptype_v;
      } else {
        pd.osport = pd.icmptype_v;
        pd.odport = pd.icmp_id;
      }
      break;
    }
    default:
      pd.p_len = end - off;
      break;
  }
  copyNs(pd);
  return PF_PASS;
}

function copyNs(pd: PfPdesc): void {
  pd.ns0 = pd.s0; pd.ns1 = pd.s1; pd.ns2 = pd.s2; pd.ns3 = pd.s3;
  pd.nd0 = pd.d0; pd.nd1 = pd.d1; pd.nd2 = pd.d2; pd.nd3 = pd.d3;
  pd.nsport = pd.osport;
  pd.ndport = pd.odport;
}


/**
 * pf_icmp_mapping(): queries and replies map to (direction, virtual type)
 * so a request and its reply share a state; errors set state_icmp.
 */
function pf_icmp_mapping(pd: PfPdesc, type: number): void {
  pd.icmp_dir = PF_IN;
  pd.icmptype_v = type;
  pd.state_icmp = false;
  if (pd.af === AF_INET) {
    switch (type) {
      case 8: // echo
      case 13: // tstamp
      case 15: // ireq
      case 17: // maskreq
      case 10: // router solicit
        pd.icmptype_v = type === 10 ? 10 : type;
        return;
      case 0:
        pd.icmp_dir = PF_OUT;
        pd.icmptype_v = 8;
        return;
      case 14:
        pd.icmp_dir = PF_OUT;
        pd.icmptype_v = 13;
        return;
      case 16:
        pd.icmp_dir = PF_OUT;
        pd.icmptype_v = 15;
        return;
      case 18:
        pd.icmp_dir = PF_OUT;
        pd.icmptype_v = 17;
        return;
      case 3: case 4: case 5: case 11: case 12:
        pd.state_icmp = true;
        pd.icmp_dir = PF_OUT;
        return;
      default:
        return;
    }
  }
  switch (type) {
    case 128:
      return;
    case 129:
      pd.icmp_dir = PF_OUT;
      pd.icmptype_v = 128;
      return;
    case 1: case 2: case 3: case 4:
      pd.state_icmp = true;
      pd.icmp_dir = PF_OUT;
      return;
    default:
      return;
  }
}

/* ------------------------------------------------------------------ */
/* state lookup                                                        */

/** Fill the search key from the packet as it is (pf_test_state's key). */
function pf_pkt_key(pf: Pf, pd: PfPdesc): PfStateKey {
  const sk = pf.searchKey;
  sk.af = pd.af;
  sk.proto = pd.proto;
  sk.rdomain = pd.rdomain;
  if (pd.sidx === 0) {
    sk.a00 = pd.s0; sk.a01 = pd.s1; sk.a02 = pd.s2; sk.a03 = pd.s3;
    sk.a10 = pd.d0; sk.a11 = pd.d1; sk.a12 = pd.d2; sk.a13 = pd.d3;
    sk.port0 = pd.osport;
    sk.port1 = pd.odport;
  } else {
    sk.a10 = pd.s0; sk.a11 = pd.s1; sk.a12 = pd.s2; sk.a13 = pd.s3;
    sk.a00 = pd.d0; sk.a01 = pd.d1; sk.a02 = pd.d2; sk.a03 = pd.d3;
    sk.port1 = pd.osport;
    sk.port0 = pd.odport;
  }
  sk.hash = pf_hashkey(sk);
  return sk;
}

/** pf_find_state(): the state of key sk for a packet in direction dir on kif, or null. */
function pf_find_state(pf: Pf, pd: PfPdesc, sk: PfStateKey): PfState | null {
  pf.fcounters[FCNT_STATE_SEARCH]++;
  const key = pf.statetbl.find(sk);
  if (key === null) return null;
  const s = key.state;
  if (s === null || s.timeout === PFTM_PURGE) return null;
  if (s.kif !== null && s.kif !== pd.kif) return null;
  if (key !== (pd.dir === PF_IN ? s.key_wire : s.key_stack)) return null;
  return s;
}

/**
 * pf_test_state(): the state of the packet and what it says.  Returns the
 * state (null: no state, go to the rules); pf.ctx_reason is -2 when the
 * packet passes, else the reason it is dropped.
 */
function pf_test_state(pf: Pf, pd: PfPdesc): PfState | null {
  if (pd.state_icmp) return pf_test_state_icmp_error(pf, pd);
  const s = pf_find_state(pf, pd, pf_pkt_key(pf, pd));
  if (s === null) return null;
  let src: PfStatePeer, dst: PfStatePeer;
  if (pd.dir === s.direction) {
    src = s.src;
    dst = s.dst;
  } else {
    src = s.dst;
    dst = s.src;
  }
  const now = pf.uptime();
  switch (pd.proto) {
    case IPPROTO_TCP:
      if ((pd.th_flags & (TH_SYN | TH_ACK)) === TH_SYN && dst.state >= TCPS_FIN_WAIT_2 && src.state >= TCPS_FIN_WAIT_2) {
        // a new connection reusing the ports of a closed one: drop the old state
        s.timeout = PFTM_PURGE;
        pf_remove_state(pf, s);
        return null;
      }
      if ((s.state_flags & 0x0800) !== 0) pf_tcp_track_sloppy(pf, pd, s, src, dst, now);
      else if (pf_tcp_track_full(pf, pd, s, src, dst, now) === PF_DROP) return s;
      break;
    case IPPROTO_UDP:
    default:
      if (src.state < PFUDPS_SINGLE) src.state = PFUDPS_SINGLE;
      if (dst.state === PFUDPS_SINGLE) dst.state = PFUDPS_MULTIPLE;
      s.expire = now;
      if (pd.proto === IPPROTO_UDP)
        s.timeout = src.state === PFUDPS_MULTIPLE && dst.state === PFUDPS_MULTIPLE ? PFTM_UDP_MULTIPLE : PFTM_UDP_SINGLE;
      else if (pd.proto === IPPROTO_ICMP || pd.proto === IPPROTO_ICMPV6) s.timeout = PFTM_ICMP_ERROR_REPLY;
      else s.timeout = src.state === PFUDPS_MULTIPLE && dst.state === PFUDPS_MULTIPLE ? PFTM_OTHER_MULTIPLE : PFTM_OTHER_SINGLE;
      break;
  }
  // translate, if the state does
  if (s.key_wire !== s.key_stack) {
    const nk = pd.didx === 1 ? s.key_stack : s.key_wire;
    pf_translate_to_key(pf, pd, nk, pd.sidx, pd.didx);
  }
  pf.ctx_reason = -2;
  return s;
}

/** Rewrite the packet's addresses and ports to those of key nk (sidx: the source's index in the key). */
function pf_translate_to_key(pf: Pf, pd: PfPdesc, nk: PfStateKey, sidx: number, didx: number): void {
  void pf;
  if (sidx === 0) {
    if (pd.s0 !== nk.a00 || pd.s1 !== nk.a01 || pd.s2 !== nk.a02 || pd.s3 !== nk.a03 || pd.osport !== nk.port0)
      pf_change_ap(pd, 0, nk.a00, nk.a01, nk.a02, nk.a03, nk.port0);
    if (pd.d0 !== nk.a10 || pd.d1 !== nk.a11 || pd.d2 !== nk.a12 || pd.d3 !== nk.a13 || pd.odport !== nk.port1) {
      pd.destchg = true;
      pf_change_ap(pd, 1, nk.a10, nk.a11, nk.a12, nk.a13, nk.port1);
    }
  } else {
    if (pd.s0 !== nk.a10 || pd.s1 !== nk.a11 || pd.s2 !== nk.a12 || pd.s3 !== nk.a13 || pd.osport !== nk.port1)
      pf_change_ap(pd, 0, nk.a10, nk.a11, nk.a12, nk.a13, nk.port1);
    if (pd.d0 !== nk.a00 || pd.d1 !== nk.a01 || pd.d2 !== nk.a02 || pd.d3 !== nk.a03 || pd.odport !== nk.port0) {
      pd.destchg = true;
      pf_change_ap(pd, 1, nk.a00, nk.a01, nk.a02, nk.a03, nk.port0);
    }
  }
  void didx;
}

/* ------------------------------------------------------------------ */
/* checksum-preserving rewrites (RFC 1624)                             */

function adj32(sum: number, o: number, n: number): number {
  return adjust16(adjust16(sum, (o >>> 16) & 0xffff, (n >>> 16) & 0xffff), o & 0xffff, n & 0xffff);
}

/**
 * pf_change_ap(): set the source (which 0) or destination (1) address and
 * port of the packet, fixing the IP, TCP/UDP and ICMP checksums in place.
 */
export function pf_change_ap(pd: PfPdesc, which: number, w0: number, w1: number, w2: number, w3: number, port: number): void {
  const b = pd.m.buf;
  const o = pd.ipoff;
  const t = pd.thoff;
  const proto = pd.virtual_proto;
  let tsumOff = -1;
  if (proto === IPPROTO_TCP) tsumOff = t + 16;
  else if (proto === IPPROTO_UDP) tsumOff = get16(b, t + 6) !== 0 ? t + 6 : -1;
  else if (proto === IPPROTO_ICMPV6) tsumOff = t + 2;
  let tsum = tsumOff >= 0 ? get16(b, tsumOff) : 0;
  if (pd.af === AF_INET) {
    const ao = o + (which === 0 ? 12 : 16);
    const old = get32(b, ao);
    if ((old | 0) !== w0) {
      put32(b, ao, w0 >>> 0);
      put16(b, o + 10, adj32(get16(b, o + 10), old, w0 >>> 0));
      if (tsumOff >= 0) tsum = adj32(tsum, old, w0 >>> 0);
    }
    if (which === 0) pd.s0 = w0;
    else pd.d0 = w0;
  } else {
    const ao = o + (which === 0 ? 8 : 24);
    const nw = [w0, w1, w2, w3];
    for (let i = 0; i < 4; i++) {
      const old = get32(b, ao + i * 4);
      const n = nw[i]! >>> 0;
      if (old !== n) {
        put32(b, ao + i * 4, n);
        if (tsumOff >= 0) tsum = adj32(tsum, old, n);
      }
    }
    if (which === 0) {
      pd.s0 = w0; pd.s1 = w1; pd.s2 = w2; pd.s3 = w3;
    } else {
      pd.d0 = w0; pd.d1 = w1; pd.d2 = w2; pd.d3 = w3;
    }
  }
  if (proto === IPPROTO_TCP || proto === IPPROTO_UDP) {
    const po = t + (which === 0 ? 0 : 2);
    const op = get16(b, po);
    if (op !== port) {
      put16(b, po, port);
      if (tsumOff >= 0) tsum = adjust16(tsum, op, port);
    }
    if (which === 0) pd.osport = port;
    else pd.odport = port;
  } else if (proto === IPPROTO_ICMP || proto === IPPROTO_ICMPV6) {
    // the query id is the "port" of the side that chose it
    const idSide = pd.icmp_dir === PF_IN ? 0 : 1;
    if (which === idSide) {
      const op = get16(b, t + 4);
      if (op !== port) {
        put16(b, t + 4, port);
        if (proto === IPPROTO_ICMP) put16(b, t + 2, adjust16(get16(b, t + 2), op, port));
        else tsum = adjust16(tsum, op, port);
        pd.icmp_id = port;
      }
      if (which === 0) pd.osport = port;
      else pd.odport = port;
    }
  }
  if (tsumOff >= 0) {
    if (proto === IPPROTO_UDP && tsum === 0) tsum = 0xffff;
    put16(b, tsumOff, tsum);
  }
}

/* ------------------------------------------------------------------ */
/* TCP window tracking                                                 */

function SEQ_GEQ(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
function SEQ_GT(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/** pf_get_wscale(): the window scale option of a SYN, with PF_WSCALE_FLAG. */
function pf_get_wscale(pd: PfPdesc): number {
  const b = pd.m.buf;
  let p = pd.thoff + 20;
  const end = pd.thoff + pd.hdrlen;
  let wscale = 0;
  while (p < end) {
    const kind = b[p]!;
    if (kind === 0) break;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) break;
    const olen = b[p + 1]!;
    if (olen < 2) break;
    if (kind === 3 && olen >= 3 && p + 2 < end) {
      wscale = b[p + 2]!;
      if (wscale > 14) wscale = 14;
      wscale |= PF_WSCALE_FLAG;
    }
    p += olen;
  }
  return wscale;
}

function pf_tcp_track_full(pf: Pf, pd: PfPdesc, s: PfState, src: PfStatePeer, dst: PfStatePeer, now: number): number {
  const flags = pd.th_flags;
  let win = pd.th_win;
  let sws: number, dws: number;
  if (src.wscale && dst.wscale && !(flags & TH_SYN)) {
    sws = src.wscale & PF_WSCALE_MASK;
    dws = dst.wscale & PF_WSCALE_MASK;
  } else sws = dws = 0;
  let seq = pd.th_seq;
  const orig_seq = seq;
  let ack: number, end: number, data_end: number;
  if (src.seqlo === 0) {
    // first packet from this end
    ack = pd.th_ack;
    end = (seq + pd.p_len) >>> 0;
    if (flags & TH_SYN) {
      end = (end + 1) >>> 0;
      if (dst.wscale & PF_WSCALE_FLAG) {
        src.wscale = pf_get_wscale(pd);
        if (src.wscale & PF_WSCALE_FLAG) {
          sws = src.wscale & PF_WSCALE_MASK;
          win = (win + (1 << sws) - 1) >>> sws;
          dws = dst.wscale & PF_WSCALE_MASK;
        } else {
          dst.max_win = Math.min(TCP_MAXWIN, dst.max_win << (dst.wscale & PF_WSCALE_MASK));
          dst.wscale = 0;
        }
      }
    }
    data_end = end;
    if (flags & TH_FIN) end = (end + 1) >>> 0;
    src.seqlo = seq;
    if (src.state < TCPS_SYN_SENT) src.state = TCPS_SYN_SENT;
    const w = Math.max(1, dst.max_win << dws);
    if (src.seqhi === 1 || SEQ_GEQ((end + w) >>> 0, src.seqhi)) src.seqhi = (end + w) >>> 0;
    if (win > src.max_win) src.max_win = win;
  } else {
    ack = (pd.th_ack - dst.seqdiff) >>> 0;
    end = (seq + pd.p_len) >>> 0;
    if (flags & TH_SYN) end = (end + 1) >>> 0;
    data_end = end;
    if (flags & TH_FIN) end = (end + 1) >>> 0;
  }
  if ((flags & TH_ACK) === 0) ack = dst.seqlo;
  else if ((ack === 0 && (flags & (TH_ACK | TH_RST)) === (TH_ACK | TH_RST)) || dst.state < TCPS_SYN_SENT) ack = dst.seqlo;
  if (seq === end) {
    // no data: ease the sequencing restrictions
    seq = src.seqlo;
    data_end = end = seq;
  }
  const ackskew = (dst.seqlo - ack) | 0;
  const dwin = (dst.max_win << dws) >>> 0;
  if (
    SEQ_GEQ(src.seqhi, data_end) &&
    SEQ_GEQ(seq, (src.seqlo - dwin) >>> 0) &&
    ackskew >= -MAXACKWINDOW &&
    ackskew <= MAXACKWINDOW << sws &&
    ((flags & TH_RST) === 0 || orig_seq === src.seqlo || orig_seq === ((src.seqlo + 1) >>> 0) || ((orig_seq + 1) >>> 0) === src.seqlo)
  ) {
    if (src.max_win < win) src.max_win = win;
    if (SEQ_GT(end, src.seqlo)) src.seqlo = end;
    const ww = (win << sws) >>> 0;
    if (SEQ_GEQ((ack + ww) >>> 0, dst.seqhi)) dst.seqhi = (ack + Math.max(ww, 1)) >>> 0;
    if (flags & TH_SYN && src.state < TCPS_SYN_SENT) src.state = TCPS_SYN_SENT;
    if (flags & TH_FIN && src.state < TCPS_CLOSING) src.state = TCPS_CLOSING;
    if (flags & TH_ACK) {
      if (dst.state === TCPS_SYN_SENT) {
        dst.state = TCPS_ESTABLISHED;
        if (src.state === TCPS_ESTABLISHED || s.src.state === TCPS_ESTABLISHED) void 0;
      } else if (dst.state === TCPS_CLOSING) dst.state = TCPS_FIN_WAIT_2;
    }
    if (flags & TH_RST) src.state = dst.state = TCPS_TIME_WAIT;
    pf_halfopen_update(pf, s);
    s.expire = now;
    if (src.state >= TCPS_FIN_WAIT_2 && dst.state >= TCPS_FIN_WAIT_2) s.timeout = PFTM_TCP_CLOSED;
    else if (src.state >= TCPS_CLOSING && dst.state >= TCPS_CLOSING) s.timeout = PFTM_TCP_FIN_WAIT;
    else if (src.state < TCPS_ESTABLISHED || dst.state < TCPS_ESTABLISHED) s.timeout = PFTM_TCP_OPENING;
    else if (src.state >= TCPS_CLOSING || dst.state >= TCPS_CLOSING) s.timeout = PFTM_TCP_CLOSING;
    else s.timeout = PFTM_TCP_ESTABLISHED;
    return PF_PASS;
  }
  if (
    (dst.state < TCPS_SYN_SENT || dst.state >= TCPS_FIN_WAIT_2 || src.state >= TCPS_FIN_WAIT_2) &&
    SEQ_GEQ((src.seqhi + MAXACKWINDOW) >>> 0, data_end) &&
    SEQ_GEQ(seq, (src.seqlo - MAXACKWINDOW) >>> 0)
  ) {
    // shotgunned SYNs, a connection picked up late, or funky packets after the close
    if (src.max_win < win) src.max_win = win;
    if (SEQ_GT(end, src.seqlo)) src.seqlo = end;
    const ww = (win << sws) >>> 0;
    if (SEQ_GEQ((ack + ww) >>> 0, dst.seqhi)) dst.seqhi = (ack + Math.max(ww, 1)) >>> 0;
    if (flags & TH_FIN && src.state < TCPS_CLOSING) src.state = TCPS_CLOSING;
    if (flags & TH_RST) src.state = dst.state = TCPS_TIME_WAIT;
    pf_halfopen_update(pf, s);
    return PF_PASS;
  }
  if (s.dst.state === TCPS_SYN_SENT && s.src.state === TCPS_SYN_SENT) {
    // a mismatch during the handshake: reset the sender
    if (!(flags & TH_RST)) pf_send_tcp(pf, s.rule, pd.af, pd.d0, pd.s0, pd.odport, pd.osport, pd.th_ack, 0, TH_RST, s.rule.returnTtl, pd.rdomain);
    src.seqlo = 0;
    src.seqhi = 1;
    src.max_win = 1;
  }
  REASON_SET(pf, PFRES_BADSTATE);
  return PF_DROP;
}

/** pf_tcp_track_sloppy(): states only, no windows (keep state (sloppy)). */
function pf_tcp_track_sloppy(pf: Pf, pd: PfPdesc, s: PfState, src: PfStatePeer, dst: PfStatePeer, now: number): void {
  const flags = pd.th_flags;
  if (flags & TH_SYN && src.state < TCPS_SYN_SENT) src.state = TCPS_SYN_SENT;
  if (flags & TH_FIN && src.state < TCPS_CLOSING) src.state = TCPS_CLOSING;
  if (flags & TH_ACK) {
    if (dst.state === TCPS_SYN_SENT) {
      dst.state = TCPS_ESTABLISHED;
    } else if (dst.state === TCPS_CLOSING) dst.state = TCPS_FIN_WAIT_2;
    else if (src.state === TCPS_SYN_SENT && dst.state < TCPS_SYN_SENT) src.state = dst.state = TCPS_ESTABLISHED;
    else if (src.state === TCPS_CLOSING && dst.state === TCPS_ESTABLISHED) dst.state = TCPS_FIN_WAIT_2;
  }
  if (flags & TH_RST) src.state = dst.state = TCPS_TIME_WAIT;
  pf_halfopen_update(pf, s);
  s.expire = now;
  if (src.state >= TCPS_FIN_WAIT_2 && dst.state >= TCPS_FIN_WAIT_2) s.timeout = PFTM_TCP_CLOSED;
  else if (src.state >= TCPS_CLOSING && dst.state >= TCPS_CLOSING) s.timeout = PFTM_TCP_FIN_WAIT;
  else if (src.state < TCPS_ESTABLISHED || dst.state < TCPS_ESTABLISHED) s.timeout = PFTM_TCP_OPENING;
  else if (src.state >= TCPS_CLOSING || dst.state >= TCPS_CLOSING) s.timeout = PFTM_TCP_CLOSING;
  else s.timeout = PFTM_TCP_ESTABLISHED;
}


/** pf_set_protostate()'s bookkeeping of half-open TCP states. */
function pf_halfopen_update(pf: Pf, s: PfState): void {
  const ho = s.src.state < TCPS_ESTABLISHED || s.dst.state < TCPS_ESTABLISHED;
  if (ho !== s.halfopen) {
    s.halfopen = ho;
    pf.states_halfopen += ho ? 1 : -1;
  }
}

/* ------------------------------------------------------------------ */
/* ICMP errors: find the state of the quoted packet                    */

function pf_test_state_icmp_error(pf: Pf, pd: PfPdesc): PfState | null {
  if (pd.af !== AF_INET) return null;
  const b = pd.m.buf;
  const ip2 = pd.thoff + 8;
  const end = pd.ipoff + pd.tot_len;
  if (ip2 + 20 > end) return null;
  const hl2 = (b[ip2]! & 15) << 2;
  if (hl2 < 20 || ip2 + hl2 + 8 > end) return null;
  const p2 = b[ip2 + 9]!;
  const isrc = get32(b, ip2 + 12) | 0;
  const idst = get32(b, ip2 + 16) | 0;
  const t2 = ip2 + hl2;
  let sport: number, dport: number;
  let iicmpIn = false;
  if (p2 === IPPROTO_TCP || p2 === IPPROTO_UDP) {
    sport = get16(b, t2);
    dport = get16(b, t2 + 2);
  } else if (p2 === IPPROTO_ICMP) {
    const ty = b[t2]!;
    if (ty !== 8 && ty !== 0) return null;
    // the quoted packet is one we passed: its id/type as its state saw them
    iicmpIn = ty === 8;
    if (iicmpIn) {
      sport = get16(b, t2 + 4);
      dport = 8;
    } else {
      sport = 8;
      dport = get16(b, t2 + 4);
    }
  } else return null;
  // The quoted packet travelled the other way: its source is our destination.
  const sk = pf.searchKey;
  sk.af = AF_INET;
  sk.proto = p2;
  sk.rdomain = pd.rdomain;
  sk.a01 = sk.a02 = sk.a03 = sk.a11 = sk.a12 = sk.a13 = 0;
  // as the quoted packet would have been keyed going in the opposite direction
  if (pd.dir === PF_IN) {
    sk.a10 = isrc; sk.port1 = sport;
    sk.a00 = idst; sk.port0 = dport;
  } else {
    sk.a00 = isrc; sk.port0 = sport;
    sk.a10 = idst; sk.port1 = dport;
  }
  sk.hash = pf_hashkey(sk);
  pf.fcounters[FCNT_STATE_SEARCH]++;
  const key = pf.statetbl.find(sk);
  if (key === null || key.state === null) return null;
  const s = key.state;
  if (s.kif !== null && s.kif !== pd.kif) return null;
  const odir = pd.dir === PF_IN ? PF_OUT : PF_IN;
  if (key !== (odir === PF_IN ? s.key_wire : s.key_stack)) return null;
  if (s.key_wire !== s.key_stack) {
    // translate the quoted header and the outer address back
    const nk = pd.didx === 1 ? s.key_stack : s.key_wire;
    const qsrcIdx = odir === PF_IN ? 0 : 1;
    const na = qsrcIdx === 0 ? nk.a00 : nk.a10;
    const np = qsrcIdx === 0 ? nk.port0 : nk.port1;
    const ipsum = get16(b, ip2 + 10);
    const icsum0 = get16(b, pd.thoff + 2);
    let icsum = icsum0;
    if (isrc !== na) {
      put32(b, ip2 + 12, na >>> 0);
      put16(b, ip2 + 10, adj32(ipsum, isrc >>> 0, na >>> 0));
      icsum = adj32(icsum, isrc >>> 0, na >>> 0);
      icsum = adjust16(icsum, ipsum, get16(b, ip2 + 10));
    }
    if (p2 !== IPPROTO_ICMP && sport !== np) {
      put16(b, t2, np);
      icsum = adjust16(icsum, sport, np);
    } else if (p2 === IPPROTO_ICMP && iicmpIn && sport !== np) {
      put16(b, t2 + 4, np);
      icsum = adjust16(icsum, sport, np);
    }
    if (icsum !== icsum0) put16(b, pd.thoff + 2, icsum);
    // outer destination becomes the quoted packet's (translated) source
    if (pd.d0 !== na) {
      const od = get32(b, pd.ipoff + 16);
      put32(b, pd.ipoff + 16, na >>> 0);
      put16(b, pd.ipoff + 10, adj32(get16(b, pd.ipoff + 10), od, na >>> 0));
      pd.d0 = na;
      pd.destchg = true;
    }
  }
  pf.ctx_reason = -2;
  return s;
}

/* ------------------------------------------------------------------ */
/* the ruleset                                                         */

function pf_match_port(op: number, a1: number, a2: number, p: number): boolean {
  switch (op) {
    case PF_OP_IRG:
      return p > a1 && p < a2;
    case PF_OP_XRG:
      return p < a1 || p > a2;
    case PF_OP_RRG:
      return p >= a1 && p <= a2;
    case PF_OP_EQ:
      return p === a1;
    case PF_OP_NE:
      return p !== a1;
    case PF_OP_LT:
      return p < a1;
    case PF_OP_LE:
      return p <= a1;
    case PF_OP_GT:
      return p > a1;
    case PF_OP_GE:
      return p >= a1;
  }
  return false;
}

function pf_match_uid(op: number, a1: number, a2: number, u: number): boolean {
  if (u === -1 && op !== PF_OP_EQ && op !== PF_OP_NE) return false;
  return pf_match_port(op, a1, a2, u);
}

/** PF_MISMATCHAW(): true when address x (af) does not match the rule address. */
function pf_mismatch(pf: Pf, aw: KAddr, af: number, x0: number, x1: number, x2: number, x3: number): boolean {
  let mismatch: boolean;
  switch (aw.type) {
    case PF_ADDR_ADDRMASK:
      if (aw.m0 === 0 && aw.m1 === 0 && aw.m2 === 0 && aw.m3 === 0) mismatch = false;
      else if (aw.af !== 0 && aw.af !== af) mismatch = true;
      else if (af === AF_INET) mismatch = ((x0 ^ aw.a0) & aw.m0) !== 0;
      else mismatch = ((x0 ^ aw.a0) & aw.m0) !== 0 || ((x1 ^ aw.a1) & aw.m1) !== 0 || ((x2 ^ aw.a2) & aw.m2) !== 0 || ((x3 ^ aw.a3) & aw.m3) !== 0;
      break;
    case PF_ADDR_TABLE:
      mismatch = aw.table === null || !aw.table.matchAddr(af, x0, x1, x2, x3);
      break;
    case PF_ADDR_RANGE:
      if (af !== AF_INET) mismatch = true;
      else {
        const x = x0 >>> 0;
        mismatch = x < aw.a0 >>> 0 || x > aw.m0 >>> 0;
      }
      break;
    case PF_ADDR_DYNIFTL:
      mismatch = !pfi_match_addr(pf, aw, af, x0);
      break;
    case PF_ADDR_NOROUTE:
    case PF_ADDR_URPFFAILED:
    case PF_ADDR_RTLABEL:
      mismatch = false;
      break;
    case PF_ADDR_NONE:
    default:
      mismatch = true;
      break;
  }
  return mismatch !== aw.neg;
}

/** pfi_match_addr(): x is an address (or in a network) of the interface aw names. */
function pfi_match_addr(pf: Pf, aw: KAddr, af: number, x0: number): boolean {
  if (af !== AF_INET) return false;
  const ifp = pf.k.ifunit(aw.ifname);
  if (ifp === undefined) return false;
  const net = (aw.iflags & 0x01) !== 0;
  for (let i = 0; i < ifp.if_addrs.length; i++) {
    const ia = ifp.if_addrs[i]!;
    if (net) {
      if (((x0 ^ ia.addr) & ia.mask) === 0) return true;
    } else if ((x0 >>> 0) === ia.addr >>> 0) return true;
  }
  return false;
}

/** pfi_kif_match(): the rule's interface (or group) is the packet's. */
function pfi_kif_match(name: string, ifp: Ifnet): boolean {
  if (name === ifp.if_xname || name === 'all') return true;
  const g = ifp.if_groups;
  for (let i = 0; i < g.length; i++) if (g[i] === name) return true;
  return false;
}

/**
 * pf_match_rule(): walk a ruleset.  Sets pf.ctx_rm/ctx_am to the last
 * matching pass/block rule; returns PF_TEST_QUICK, PF_TEST_OK or PF_TEST_FAIL.
 */
function pf_match_rule(pf: Pf, pd: PfPdesc, rules: KRule[]): number {
  let r: KRule | null = rules.length > 0 ? rules[0]! : null;
  const af = pd.af;
  while (r !== null) {
    if ((r.ruleFlag & PFRULE_EXPIRED) !== 0) {
      r = r.next;
      continue;
    }
    r.evaluations++;
    pf.evals++;
    if (r.ifname !== '' && pfi_kif_match(r.ifname, pd.kif) === r.ifnot) {
      r = r.skip[PF_SKIP_IFP]!;
      continue;
    }
    if (r.direction !== 0 && r.direction !== pd.dir) {
      r = r.skip[PF_SKIP_DIR]!;
      continue;
    }
    if (r.onrdomain >= 0 && (r.onrdomain === pd.rdomain) === r.ifnot) {
      r = r.skip[PF_SKIP_RDOM]!;
      continue;
    }
    if (r.af !== 0 && r.af !== af) {
      r = r.skip[PF_SKIP_AF]!;
      continue;
    }
    if (r.proto !== 0 && r.proto !== pd.proto) {
      r = r.skip[PF_SKIP_PROTO]!;
      continue;
    }
    if (pf_mismatch(pf, r.src, af, pd.ns0, pd.ns1, pd.ns2, pd.ns3)) {
      r = r.skip[PF_SKIP_SRC_ADDR]!;
      continue;
    }
    if (pf_mismatch(pf, r.dst, af, pd.nd0, pd.nd1, pd.nd2, pd.nd3)) {
      r = r.skip[PF_SKIP_DST_ADDR]!;
      continue;
    }
    switch (pd.virtual_proto) {
      case PF_VPROTO_FRAGMENT:
        if (r.src.portOp !== 0 || r.dst.portOp !== 0 || (pd.proto === IPPROTO_TCP && r.flagset !== 0) ||
            r.type !== 0 || r.code !== 0 || r.uidOp !== 0 || r.gidOp !== 0) {
          r = r.next;
          continue;
        }
        break;
      case IPPROTO_TCP:
      case IPPROTO_UDP:
        if (pd.virtual_proto === IPPROTO_TCP && (r.flagset & pd.th_flags) !== r.flags) {
          r = r.next;
          continue;
        }
        if (r.src.portOp !== 0 && !pf_match_port(r.src.portOp, r.src.port0, r.src.port1, pd.nsport)) {
          r = r.skip[PF_SKIP_SRC_PORT]!;
          continue;
        }
        if (r.dst.portOp !== 0 && !pf_match_port(r.dst.portOp, r.dst.port0, r.dst.port1, pd.ndport)) {
          r = r.skip[PF_SKIP_DST_PORT]!;
          continue;
        }
        if (r.uidOp !== 0 && !pf_match_uid(r.uidOp, r.uid0, r.uid1, pf_socket_lookup(pf, pd, true))) {
          r = r.next;
          continue;
        }
        if (r.gidOp !== 0 && !pf_match_uid(r.gidOp, r.gid0, r.gid1, pf_socket_lookup(pf, pd, false))) {
          r = r.next;
          continue;
        }
        break;
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6:
        if ((r.type !== 0 && r.type !== pd.icmptype + 1) || (r.code !== 0 && r.code !== pd.icmpcode + 1)) {
          r = r.next;
          continue;
        }
        // don't create states on replies
        if (r.keepState !== 0 && !pd.state_icmp && (r.ruleFlag & PFRULE_STATESLOPPY) === 0 && pd.icmp_dir !== PF_IN) {
          r = r.next;
          continue;
        }
        break;
      default:
        break;
    }
    if ((r.ruleFlag & PFRULE_FRAGMENT) !== 0 && pd.virtual_proto !== PF_VPROTO_FRAGMENT) {
      r = r.next;
      continue;
    }
    if (r.tos !== 0 && r.tos !== pd.tos) {
      r = r.next;
      continue;
    }
    if (r.prob !== 0 && r.prob <= pf.k.random.arc4random_uniform(0xfffffffe) + 1) {
      r = r.next;
      continue;
    }
    if (r.matchTag !== 0 && (pd.m.pf_tag === r.matchTag) === r.matchTagNot) {
      r = r.next;
      continue;
    }
    if (r.rcvIfname !== '') {
      const rcv = pf.k.ifnets[pd.m.ph_ifidx];
      if ((rcv !== undefined && pfi_kif_match(r.rcvIfname, rcv)) === r.rcvifnot) {
        r = r.next;
        continue;
      }
    }
    if (r.prio !== 0 && (r.prio === 0xff ? 0 : r.prio) !== pd.m.pf_prio) {
      r = r.next;
      continue;
    }
    // the rule matches
    if (r.tag !== 0) pf.ctx_tag = r.tag;
    if (r.anchor === null) {
      if (r.action === PF_MATCH) {
        pf_rule_to_actions(pf, r);
        if (pf_get_transaddr(pf, r, pd) === -1) {
          REASON_SET(pf, PFRES_TRANSLATE);
          return PF_TEST_FAIL;
        }
        if (r.log !== 0) {
          REASON_SET(pf, PFRES_MATCH);
          pflog_packet(pf, pd, PFRES_MATCH, r, pf.ctx_a, PF_MATCH);
        }
      } else {
        pf.ctx_rm = r;
        pf.ctx_am = pf.ctx_a;
      }
      if ((r.ruleFlag & PFRULE_ONCE) !== 0) void 0;
      if (r.quick) return PF_TEST_QUICK;
    } else {
      const saved = pf.ctx_a;
      pf.ctx_a = r;
      const before = pf.ctx_rm;
      const rv = pf_match_rule(pf, pd, r.anchor.rules);
      pf.ctx_a = saved;
      if (rv === PF_TEST_FAIL) return rv;
      if (rv === PF_TEST_QUICK) return rv;
      // a quick anchor stops when a rule inside matched
      if (r.quick && pf.ctx_rm !== before) return PF_TEST_QUICK;
    }
    r = r.next;
  }
  return PF_TEST_OK;
}

/** pf_socket_lookup(): the uid (or gid) owning the local socket, -1 when unknown. */
function pf_socket_lookup(pf: Pf, pd: PfPdesc, uid: boolean): number {
  if (!pd.lookup_done) {
    pd.lookup_done = true;
    pd.lookup_uid = -1;
    pd.lookup_gid = -1;
    if (pf.socketLookup !== null) {
      const o = pf.socketLookup(pf.k, pd.af, pd.proto, pd);
      if (o !== null) {
        pd.lookup_uid = o.uid;
        pd.lookup_gid = o.gid;
      }
    }
  }
  return uid ? pd.lookup_uid : pd.lookup_gid;
}

/** pf_rule_to_actions(): what a match rule adds (log, tag, rtable). */
function pf_rule_to_actions(pf: Pf, r: KRule): void {
  if (r.log !== 0) pf.ctx_log |= r.log;
  if (r.rtableid >= 0) pf.ctx_rtableid = r.rtableid;
}

/** pf_test_rule(): evaluate the ruleset for a packet without state; may create one. */
function pf_test_rule(pf: Pf, pd: PfPdesc): number {
  pf.ctx_rm = null;
  pf.ctx_am = null;
  pf.ctx_a = null;
  pf.ctx_nr = null;
  pf.ctx_tag = 0;
  pf.ctx_log = 0;
  pf.ctx_rtableid = -1;
  pf.evals = 0;
  pf.ctx_state = null;
  const rv = pf_match_rule(pf, pd, pf.main.rules);
  if (rv === PF_TEST_FAIL) return PF_DROP;
  const r = pf.ctx_rm ?? pf.default_rule;
  const a = pf.ctx_am;
  pf_rule_to_actions(pf, r);
  if (pf_get_transaddr(pf, r, pd) === -1) {
    REASON_SET(pf, PFRES_TRANSLATE);
    return PF_DROP;
  }
  REASON_SET(pf, PFRES_MATCH);
  if (r.log !== 0) {
    pflog_packet(pf, pd, PFRES_MATCH, r, a, r.action);
    pf.ctx_logged = r;
  }
  if (pd.virtual_proto !== PF_VPROTO_FRAGMENT && r.action === PF_DROP &&
      (r.ruleFlag & (PFRULE_RETURNRST | PFRULE_RETURNICMP | PFRULE_RETURN)) !== 0) {
    if (pd.proto === IPPROTO_TCP && (r.ruleFlag & (PFRULE_RETURNRST | PFRULE_RETURN)) !== 0 && (pd.th_flags & TH_RST) === 0) {
      let ack = (pd.th_seq + pd.p_len) >>> 0;
      if (pf_check_tcp_cksum(pd)) REASON_SET(pf, PFRES_PROTCKSUM);
      else {
        if (pd.th_flags & TH_SYN) ack = (ack + 1) >>> 0;
        if (pd.th_flags & TH_FIN) ack = (ack + 1) >>> 0;
        pf_send_tcp(pf, r, pd.af, pd.d0, pd.s0, pd.odport, pd.osport, pd.th_ack, ack, TH_RST | TH_ACK, r.returnTtl, pd.rdomain);
      }
    } else if ((pd.proto !== IPPROTO_ICMP || icmpInfoType(pd.icmptype)) && pd.af === AF_INET && r.returnIcmp !== 0) {
      pf_send_icmp(pf, pd, r.returnIcmp >> 8, r.returnIcmp & 255);
    } else if ((pd.proto !== IPPROTO_ICMPV6 || (pd.icmptype >= 128 && pd.icmptype !== 137)) && pd.af === AF_INET6 && r.returnIcmp6 !== 0) {
      pf_send_icmp(pf, pd, r.returnIcmp6 >> 8, r.returnIcmp6 & 255);
    }
  }
  if (r.action === PF_DROP) return PF_DROP;
  if (pf.ctx_tag !== 0) pd.m.pf_tag = pf.ctx_tag;
  if (pf.ctx_rtableid >= 0) pd.m.ph_rtableid = pf.ctx_rtableid;
  if (pd.virtual_proto !== PF_VPROTO_FRAGMENT && !pd.state_icmp && r.keepState !== 0) {
    const s = pf_create_state(pf, pd, r, a);
    if (s === null) return PF_DROP;
    pf.ctx_state = s;
    if (s.key_wire !== s.key_stack) {
      const sk = pd.dir === PF_IN ? s.key_stack : s.key_wire;
      pf_translate_to_key(pf, pd, sk, pd.sidx, pd.didx);
    }
  } else if (pd.ns0 !== pd.s0 || pd.nd0 !== pd.d0 || pd.nsport !== pd.osport || pd.ndport !== pd.odport ||
             pd.ns1 !== pd.s1 || pd.nd1 !== pd.d1 || pd.ns2 !== pd.s2 || pd.nd2 !== pd.d2 || pd.ns3 !== pd.s3 || pd.nd3 !== pd.d3) {
    // no state: translate this packet only
    const ns = [pd.ns0, pd.ns1, pd.ns2, pd.ns3, pd.nsport];
    const nd = [pd.nd0, pd.nd1, pd.nd2, pd.nd3, pd.ndport];
    pf_change_ap(pd, 0, ns[0]!, ns[1]!, ns[2]!, ns[3]!, ns[4]!);
    pf_change_ap(pd, 1, nd[0]!, nd[1]!, nd[2]!, nd[3]!, nd[4]!);
    pd.destchg = true;
  }
  return PF_PASS;
}

function icmpInfoType(t: number): boolean {
  return t === 0 || t === 8 || t === 9 || t === 10 || t === 13 || t === 14 || t === 15 || t === 16 || t === 17 || t === 18;
}

/** pf_check_tcp_cksum(): true when the TCP checksum is bad. */
function pf_check_tcp_cksum(pd: PfPdesc): boolean {
  if (pd.af !== AF_INET) return false;
  const b = pd.m.buf;
  const len = pd.ipoff + pd.tot_len - pd.thoff;
  const ps = pseudoSum4(get32(b, pd.ipoff + 12), get32(b, pd.ipoff + 16), IPPROTO_TCP, len);
  return sum16(b, pd.thoff, len, ps) !== 0xffff;
}

/* ------------------------------------------------------------------ */
/* states                                                              */

function newKey(af: number, proto: number, rdomain: number): PfStateKey {
  const k = new PfStateKey();
  k.af = af;
  k.proto = proto;
  k.rdomain = rdomain;
  return k;
}

function setKeyAddr(k: PfStateKey, idx: number, w0: number, w1: number, w2: number, w3: number, port: number): void {
  if (idx === 0) {
    k.a00 = w0; k.a01 = w1; k.a02 = w2; k.a03 = w3;
    k.port0 = port;
  } else {
    k.a10 = w0; k.a11 = w1; k.a12 = w2; k.a13 = w3;
    k.port1 = port;
  }
}

/** pf_create_state(): a new state for the packet; null when it could not be made (reason set). */
function pf_create_state(pf: Pf, pd: PfPdesc, r: KRule, a: KRule | null): PfState | null {
  if (r.maxStates !== 0 && r.states_cur >= r.maxStates) {
    pf.lcounters[LCNT_STATES]++;
    REASON_SET(pf, PFRES_MAXSTATES);
    return null;
  }
  if (pf.states >= pf.limits[PF_LIMIT_STATES]!) {
    // pool_get() of the state pool fails at its hard limit
    REASON_SET(pf, PFRES_MEMORY);
    return null;
  }
  // pf_state_key_setup(): wire = as the packet arrived, stack = translated
  const sk1 = newKey(pd.af, pd.proto, pd.rdomain);
  setKeyAddr(sk1, pd.sidx, pd.s0, pd.s1, pd.s2, pd.s3, pd.osport);
  setKeyAddr(sk1, pd.didx, pd.d0, pd.d1, pd.d2, pd.d3, pd.odport);
  sk1.hash = pf_hashkey(sk1);
  let sk2 = sk1;
  if (pd.ns0 !== pd.s0 || pd.ns1 !== pd.s1 || pd.ns2 !== pd.s2 || pd.ns3 !== pd.s3 || pd.nsport !== pd.osport ||
      pd.nd0 !== pd.d0 || pd.nd1 !== pd.d1 || pd.nd2 !== pd.d2 || pd.nd3 !== pd.d3 || pd.ndport !== pd.odport) {
    sk2 = newKey(pd.af, pd.proto, pd.rdomain);
    setKeyAddr(sk2, pd.sidx, pd.ns0, pd.ns1, pd.ns2, pd.ns3, pd.nsport);
    setKeyAddr(sk2, pd.didx, pd.nd0, pd.nd1, pd.nd2, pd.nd3, pd.ndport);
    sk2.hash = pf_hashkey(sk2);
  }
  const s = new PfState();
  s.rule = r;
  s.anchor = a;
  s.direction = pd.dir;
  s.log = r.log | pf.ctx_log;
  if ((r.ruleFlag & PFRULE_STATESLOPPY) !== 0) s.state_flags |= 0x0800;
  s.kif = pf.ifbound || (r.ruleFlag & PFRULE_IFBOUND) !== 0 ? pd.kif : null;
  if (pd.dir === PF_IN) {
    s.key_wire = sk1;
    s.key_stack = sk2;
  } else {
    s.key_stack = sk1;
    s.key_wire = sk2;
  }
  const now = pf.uptime();
  s.creation = now;
  s.expire = now;
  switch (pd.proto) {
    case IPPROTO_TCP: {
      s.src.seqlo = pd.th_seq;
      s.src.seqhi = (pd.th_seq + pd.p_len + 1) >>> 0;
      if (pd.th_flags & TH_SYN) {
        s.src.seqhi = (s.src.seqhi + 1) >>> 0;
        s.src.wscale = pf_get_wscale(pd);
      }
      s.src.max_win = Math.max(pd.th_win, 1);
      if (s.src.wscale & PF_WSCALE_MASK) {
        const win = s.src.max_win + (1 << (s.src.wscale & PF_WSCALE_MASK));
        s.src.max_win = (win - 1) >>> (s.src.wscale & PF_WSCALE_MASK);
      }
      if (pd.th_flags & TH_FIN) s.src.seqhi = (s.src.seqhi + 1) >>> 0;
      s.dst.seqhi = 1;
      s.dst.max_win = 1;
      s.src.state = TCPS_SYN_SENT;
      s.dst.state = TCPS_CLOSED;
      s.timeout = PFTM_TCP_FIRST_PACKET;
      break;
    }
    case IPPROTO_UDP:
      s.src.state = PFUDPS_SINGLE;
      s.dst.state = PFUDPS_NO_TRAFFIC;
      s.timeout = PFTM_UDP_FIRST_PACKET;
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      s.timeout = PFTM_ICMP_FIRST_PACKET;
      break;
    default:
      s.src.state = PFUDPS_SINGLE;
      s.dst.state = PFUDPS_NO_TRAFFIC;
      s.timeout = PFTM_OTHER_FIRST_PACKET;
      break;
  }
  if (!pf_state_insert(pf, s)) {
    REASON_SET(pf, PFRES_STATEINS);
    return null;
  }
  r.states_cur++;
  r.states_tot++;
  if (a !== null) {
    a.states_cur++;
    a.states_tot++;
  }
  return s;
}

/** pf_state_insert(): attach the keys and put the state on the list. */
export function pf_state_insert(pf: Pf, s: PfState): boolean {
  const tbl = pf.statetbl;
  const w = tbl.find(s.key_wire);
  if (w !== null) {
    if (w.state !== null && w.state.timeout !== PFTM_PURGE) return false;
    if (w.state !== null) pf_remove_state(pf, w.state);
  }
  if (s.key_stack !== s.key_wire) {
    const st = tbl.find(s.key_stack);
    if (st !== null) {
      if (st.state !== null && st.state.timeout !== PFTM_PURGE) return false;
      if (st.state !== null) pf_remove_state(pf, st.state);
    }
  }
  s.key_wire.state = s;
  tbl.insert(s.key_wire);
  if (s.key_stack !== s.key_wire) {
    s.key_stack.state = s;
    tbl.insert(s.key_stack);
  }
  if (s.id === 0) s.id = pf.nextStateId();
  s.prev = pf.state_tail;
  s.next = null;
  if (pf.state_tail !== null) pf.state_tail.next = s;
  else pf.state_head = s;
  pf.state_tail = s;
  pf.states++;
  pf.fcounters[FCNT_STATE_INSERT]++;
  pf_halfopen_update(pf, s);
  if (!pf.purge.pending) pf.purge.addSec(1);
  return true;
}

/** pf_remove_state() + pf_free_state(): unlink the keys, take it off the list. */
export function pf_remove_state(pf: Pf, s: PfState): void {
  if (s.key_wire.state === s) {
    pf.statetbl.remove(s.key_wire);
    s.key_wire.state = null;
  }
  if (s.key_stack !== s.key_wire && s.key_stack.state === s) {
    pf.statetbl.remove(s.key_stack);
    s.key_stack.state = null;
  }
  if (s.prev !== null) s.prev.next = s.next;
  else if (pf.state_head === s) pf.state_head = s.next;
  else return;
  if (s.next !== null) s.next.prev = s.prev;
  else pf.state_tail = s.prev;
  s.prev = s.next = null;
  s.timeout = PFTM_PURGE;
  if (s.halfopen) {
    s.halfopen = false;
    pf.states_halfopen--;
  }
  s.rule.states_cur--;
  if (s.anchor !== null) s.anchor.states_cur--;
  pf.states--;
  pf.fcounters[FCNT_STATE_REMOVALS]++;
}

/** pf_state_expires(): the uptime second the state expires, with adaptive timeouts. */
export function pf_state_expires(pf: Pf, s: PfState): number {
  if (s.timeout === PFTM_PURGE) return pf.uptime();
  let timeout = s.rule.timeout[s.timeout] || pf.timeouts[s.timeout]!;
  const start = s.rule.timeout[PFTM_ADAPTIVE_START] || pf.timeouts[PFTM_ADAPTIVE_START]!;
  if (start !== 0) {
    const end = s.rule.timeout[PFTM_ADAPTIVE_END] || pf.timeouts[PFTM_ADAPTIVE_END]!;
    const states = s.rule.timeout[PFTM_ADAPTIVE_START] ? s.rule.states_cur : pf.states;
    if (end !== 0 && states > start && start < end) {
      if (states >= end) return pf.uptime();
      timeout = Math.floor((timeout * (end - states)) / (end - start));
    }
  }
  return s.expire + timeout;
}

/** pf_purge_timeout(): once a second, expire states and fragments. */
export function pf_purge_timeout(k: Kernel): void {
  const pf = (k as Kernel & { pf: Pf }).pf;
  const now = pf.uptime();
  let s = pf.state_head;
  while (s !== null) {
    const nx = s.next;
    if (pf_state_expires(pf, s) <= now) pf_remove_state(pf, s);
    s = nx;
  }
  pf.frag.expire(pf, now);
  if (pf.states > 0 || pf.frag.count > 0) pf.purge.addSec(1);
}

/** All states, in creation order (pfctl -ss). */
export function pf_states(pf: Pf): PfState[] {
  const out: PfState[] = [];
  for (let s = pf.state_head; s !== null; s = s.next) out.push(s);
  return out;
}

/* ------------------------------------------------------------------ */
/* counters                                                            */

function pf_counters_inc(pf: Pf, action: number, pd: PfPdesc, s: PfState | null, r: KRule, a: KRule | null): void {
  const len = pd.tot_len;
  if (pf.loginterface !== '' && pd.kif.if_xname === pf.loginterface) {
    const i = (pd.af === AF_INET6 ? 4 : 0) + (pd.dir === PF_OUT ? 2 : 0);
    pf.pcounters[i + (action !== PF_PASS ? 1 : 0)]++;
    pf.bcounters[(pd.af === AF_INET6 ? 2 : 0) + (pd.dir === PF_OUT ? 1 : 0)] += len;
  }
  if (action === PF_PASS || r.action === PF_DROP) {
    if (pd.dir === PF_OUT) {
      r.packets1++;
      r.bytes1 += len;
    } else {
      r.packets0++;
      r.bytes0 += len;
    }
    if (a !== null) {
      if (pd.dir === PF_OUT) {
        a.packets1++;
        a.bytes1 += len;
      } else {
        a.packets0++;
        a.bytes0 += len;
      }
    }
    if (s !== null) {
      if (pd.dir === s.direction) {
        s.packets0++;
        s.bytes0 += len;
      } else {
        s.packets1++;
        s.bytes1 += len;
      }
    }
  }
}

/* ------------------------------------------------------------------ */
/* block return                                                        */

/**
 * pf_send_tcp(): build a TCP segment (a RST) from src to dst and send it
 * after the current packet (ip_send: a softnet task).  IPv4 only.
 */
export function pf_send_tcp(pf: Pf, r: KRule, af: number, saddr: number, daddr: number, sport: number, dport: number,
  seq: number, ack: number, flags: number, ttl: number, rdomain: number): void {
  if (af !== AF_INET) return;
  const k = pf.k;
  const len = 40;
  const m = k.mbufs.get(len);
  if (m === null) return;
  m.append(len);
  const b = m.buf;
  const o = m.off;
  b.fill(0, o, o + len);
  b[o] = 0x45;
  put16(b, o + 2, len);
  b[o + 8] = ttl !== 0 ? ttl : k.inet.ipdefttl.value;
  b[o + 9] = IPPROTO_TCP;
  put32(b, o + 12, saddr >>> 0);
  put32(b, o + 16, daddr >>> 0);
  const t = o + 20;
  put16(b, t, sport);
  put16(b, t + 2, dport);
  put32(b, t + 4, seq >>> 0);
  put32(b, t + 8, ack >>> 0);
  b[t + 12] = 5 << 4;
  b[t + 13] = flags;
  const ps = pseudoSum4(saddr >>> 0, daddr >>> 0, IPPROTO_TCP, 20);
  put16(b, t + 16, ~sum16(b, t, 20, ps) & 0xffff);
  m.pf_flags |= PF_TAG_GENERATED;
  m.ph_rtableid = rdomain;
  void r;
  if (k.trace !== null) k.trace.caused(m, 'pf_send_tcp: RST');
  pf.sendq.enqueue(m);
  k.softnet.add(pf.sendTask);
}

/** ip_send()'s task: the packets pf built. */
function pf_send_task(k: Kernel): void {
  const pf = (k as Kernel & { pf: Pf }).pf;
  for (let m = pf.sendq.dequeue(); m !== null; m = pf.sendq.dequeue()) ip_output(k, m, 0, null);
}

/** pf_send_icmp(): an ICMP error about the packet, as icmp_error() sends it. */
function pf_send_icmp(pf: Pf, pd: PfPdesc, type: number, code: number): void {
  if (pd.af !== AF_INET) return;
  const m0 = pd.m.dup();
  if (m0 === null) return;
  m0.pf_flags |= PF_TAG_GENERATED;
  if (pf.k.trace !== null) pf.k.trace.caused(m0, 'pf_send_icmp');
  icmp_error(pf.k, m0, type, code, 0, 0);
}

/** pf_tagname2tag() */
export function pf_tagname2tag(pf: Pf, name: string): number {
  let t = pf.tagnames.get(name);
  if (t === undefined) {
    t = pf.tagnames.size + 1;
    pf.tagnames.set(name, t);
  }
  return t;
}

/* ------------------------------------------------------------------ */
/* skip steps                                                          */

function addrEq(a: KAddr, b: KAddr): boolean {
  return a.type === b.type && a.neg === b.neg && a.a0 === b.a0 && a.a1 === b.a1 && a.a2 === b.a2 && a.a3 === b.a3 &&
    a.m0 === b.m0 && a.m1 === b.m1 && a.m2 === b.m2 && a.m3 === b.m3 && a.table === b.table && a.ifname === b.ifname &&
    a.iflags === b.iflags;
}

function skipCompare(i: number, a: KRule, b: KRule): boolean {
  switch (i) {
    case PF_SKIP_IFP:
      return a.ifname === b.ifname && a.ifnot === b.ifnot;
    case PF_SKIP_DIR:
      return a.direction === b.direction;
    case PF_SKIP_RDOM:
      return a.onrdomain === b.onrdomain && a.ifnot === b.ifnot;
    case PF_SKIP_AF:
      return a.af === b.af;
    case PF_SKIP_PROTO:
      return a.proto === b.proto;
    case PF_SKIP_SRC_ADDR:
      return addrEq(a.src, b.src);
    case PF_SKIP_DST_ADDR:
      return addrEq(a.dst, b.dst);
    case PF_SKIP_SRC_PORT:
      return a.src.portOp === b.src.portOp && a.src.port0 === b.src.port0 && a.src.port1 === b.src.port1;
    case PF_SKIP_DST_PORT:
      return a.dst.portOp === b.dst.portOp && a.dst.port0 === b.dst.port0 && a.dst.port1 === b.dst.port1;
  }
  return false;
}

/** pf_calc_skip_steps(): link rules and fill their skip steps. */
export function pf_calc_skip_steps(rules: KRule[]): void {
  for (let i = 0; i < rules.length; i++) rules[i]!.next = rules[i + 1] ?? null;
  const head: number[] = new Array<number>(PF_SKIP_COUNT).fill(0);
  for (let n = 0; n < rules.length; n++) {
    const cur = rules[n]!;
    for (let i = 0; i < PF_SKIP_COUNT; i++) {
      const h = rules[head[i]!]!;
      if (!skipCompare(i, h, cur)) {
        for (let j = head[i]!; j < n; j++) rules[j]!.skip[i] = cur;
        head[i] = n;
      }
    }
  }
  for (let i = 0; i < PF_SKIP_COUNT; i++) for (let j = head[i]!; j < rules.length; j++) rules[j]!.skip[i] = null;
}
