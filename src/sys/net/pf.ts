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
import { M_TCP_CSUM_OUT, M_TCP_TSO, MbufList, PF_TAG_GENERATED, PF_TAG_REFRAGMENTED } from '../kern/uipc_mbuf.js';
import { tcp_delayed_cksum, tcp_if_output_tso } from '../netinet/tcp_tso.js';
import { IFF_LOOPBACK } from './if.js';
import type { Ifnet } from './if.js';
import { Task } from '../kern/kern_task.js';
import { TIME_ZERO, type Timeout } from '../kern/kern_timeout.js';
import type { World } from '../kern/kern_clock.js';
import { get16, get32, put16, put32 } from '../../wire/bytes.js';
import { adjust16, sum16, pseudoSum4 } from '../../wire/checksum.js';
import type { PfrKtable } from './pf_table.js';
import { PFR_OP_BLOCK, PFR_OP_MATCH, PFR_OP_PASS, pfr_update_stats } from './pf_table.js';
import type { PfiDynaddr } from './pf_if.js';
import { pf_get_transaddr, pf_postprocess_addr, PF_POOL_LEASTSTATES, PF_POOL_TYPEMASK } from './pf_lb.js';
import { pf_afto_how, pf_change_ap_traced, pf_icmp_error_before, pf_icmp_error_traced } from './pf_trace.js';
import {
  PfSrcTree, type PfSrcNode, PF_SN_NONE, PF_SN_ROUTE, pf_insert_src_node, pf_map_addr_sticky, pf_src_connlimit,
  pf_src_counters, pf_src_csfailed, pf_src_link_state, pf_src_trace_limit, pf_src_tree_remove_state,
} from './pf_src.js';
import {
  PF_SYNPROXY_DROP, pf_modulate_sack, pf_send_tcp_full, pf_synproxy, pf_synproxy_create, pf_synproxy_remove, pf_tcp_modulate,
} from './pf_synproxy.js';
import { pf_normalize_ip, pf_normalize_ip6, pf_normalize_ip_rf, pf_refragment6, PfFragState } from './pf_norm.js';
import { IP_RF } from '../../wire/ip4.js';
import {
  type PfNetOutput, PFSTATE_AFTO, PfAfScratch, pf_afrt, pf_afto_proto, pf_afto_reversed, pf_afto_state, pf_icmp_error_afto, pf_route6,
} from './pf_af.js';
import { pflog_packet } from './if_pflog.js';
import { pf_walk_header, pf_walk_header6 } from './pf_walk.js';
import { ip_output } from '../netinet/ip_output.js';
import { icmp_error } from '../netinet/ip_icmp.js';
import { ip_fragment, if_output } from '../netinet/ip_output.js';
import { RTF_GATEWAY, RT_RESOLVE, rt_match, rtisvalid } from './route.js';
import { ips_cantfrag, ips_fragmented, ips_noroute } from '../kern/counters.gen.js';

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
/** synproxy's states of the source peer (PF_TCPS_PROXY_SRC, PF_TCPS_PROXY_DST: TCP_NSTATES + 0, + 1) */
export const PF_TCPS_PROXY_SRC = 11;
export const PF_TCPS_PROXY_DST = 12;
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
const PFRULE_SRCTRACK = 0x0020;
const PFRULE_STATESLOPPY = 0x00020000;
const PFRULE_ONCE = 0x00100000;
export const PFRULE_EXPIRED = 0x00400000;

export const PF_LOG = 0x01;
export const PF_LOG_ALL = 0x02;
/** log (user): the pflog header names the local socket's owner */
export const PF_LOG_USER = 0x04;
/** log whatever the rule says (a drop pf decided before or beyond the rules) */
export const PF_LOG_FORCE = 0x08;
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

/** rule.rt: route-to, dup-to, reply-to */
export const PF_ROUTETO = 1;
export const PF_DUPTO = 2;
export const PF_REPLYTO = 3;

const IPPROTO_ICMP = 1;
const IPPROTO_IGMP = 2;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_AH = 51;
const IPPROTO_ICMPV6 = 58;
const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;
const PF_STATE_SYNPROXY = 3;
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
  /** PF_ADDR_DYNIFTL: its pfi_dynaddr (pf_if.ts) */
  dyn: PfiDynaddr | null = null;
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
  /** round-robin position in an address range */
  rrIndex = 0;
  /** pf_poolhashkey as pfctl gives it (key32[], the words of the hex key) */
  key0 = 0;
  key1 = 0;
  key2 = 0;
  key3 = 0;
  /** rpool->counter: the pool's current address (words) */
  readonly counter = new Int32Array(4);
  /** rpool->tblidx: the table entry the counter is in */
  tblidx = 0;
  /** what pfr_pool_get() last found: its entry's states and weight, the entry's prefix length */
  states = 0;
  weight = 0;
  curweight = 0;
  net = 0;
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
  /** allow-opts: packets with IPv4 options or IPv6 option headers may pass */
  allowOpts = false;
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
  route = new KPool();
  /** PF_ROUTETO, PF_DUPTO, PF_REPLYTO (0: none) */
  rt = 0;
  /** nat-to / rdr-to / route-to given */
  natSet = false;
  rdrSet = false;
  routeSet = false;
  // source tracking limits
  /** overload <table> [flush [global]] (PF_FLUSH, PF_FLUSH_GLOBAL) */
  overloadTbl: PfrKtable | null = null;
  flush = 0;
  maxSrcNodes = 0;
  maxSrcStates = 0;
  maxSrcConn = 0;
  maxSrcConnRateLimit = 0;
  maxSrcConnRateSeconds = 0;
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
  src_nodes = 0;
  /** states whose least-states nat-to or rdr-to pool is this rule's (a match rule's: it stays in pf.ruletab for them) */
  pool_states = 0;
  /** uptime second a `once` rule expired */
  exptime = 0;
  /** its number in pf.ruletab once a state refers to it; -1 none */
  gidx = -1;
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

/*
 * The state table keeps no object per state: states, their keys and the
 * hash table live in typed arrays indexed by a state number (struct of
 * arrays), so a state hit reads a few cache lines and allocates nothing,
 * and states churning create no garbage for the collector.  Free state
 * numbers are kept on a stack and reused.  PfState, PfStateKey and
 * PfStatePeer below are views made on demand for pfctl and tests.
 */

// A state is a record of ST_N int32 words (256 bytes) in one array: its
// wire key (K_* words at 0), its hot fields (ST_*, from 16) and its stack
// key (at K_STACK).  A state hit reads the key and the fields it finds
// through it in neighbouring cache lines of one page, which the CPU fetches
// together; the cold fields are a record of SC_N words elsewhere.
// per-state hot fields (ST_*)
export const ST_DIR = 16;
export const ST_TIMEOUT = 17;
export const ST_EXPIRE = 18;
export const ST_LOG = 19;
export const ST_FLAGS = 20;
/** 0: free, 1: wire key only (the stack key is the same), 2: wire and stack keys */
export const ST_NKEYS = 21;
/** the interface index it is bound to; 0: floating */
export const ST_KIF = 22;
/** the rule and anchor rule (pf.ruletab index; anchor + 1, 0 none) */
export const ST_RULE = 23;
const ST_ANCHOR = 24;
export const ST_HALFOPEN = 25;
/** struct pf_state_peer src and dst (PR_* fields) */
export const ST_SRC = 26;
export const ST_DST = 33;
/** packets[2], bytes[2] as float64 (word 40 = float64 20 of the record) */
const ST_CNT = 40;
/** the stack key's offset in the record (the wire key's is 0) */
const K_STACK = 48;
export const ST_N = 64;
export const PR_SEQLO = 0;
export const PR_SEQHI = 1;
export const PR_SEQDIFF = 2;
export const PR_MAXWIN = 3;
export const PR_MSS = 4;
export const PR_STATE = 5;
export const PR_WSCALE = 6;
// float64 fields in the record (SF_*, from ST_CNT / 2)
const SF_PKTS0 = 0;
const SF_PKTS1 = 1;
const SF_BYTES0 = 2;
const SF_BYTES1 = 3;
// cold fields (SC_*), stride SC_N
const SC_PREV = 0;
const SC_NEXT = 1;
export const SC_CREATION = 2;
/** route-to/reply-to/dup-to: the next hop (IPv4 word) and the kind (st->rt: PF_ROUTETO..., 0: none) */
export const SC_RTADDR = 3;
export const SC_RTIF = 4;
/** af-to: the other family (0 none) */
export const SC_NAF = 5;
/** src.tcp_est: the state counts as an established connection of its source node */
export const SC_TCPEST = 6;
/** the rule (pf.ruletab number + 1, 0 none) whose least-states nat-to pool gave the state its source (natrule or a match rule) */
export const SC_NATPL = 7;
/** route-to/reply-to/dup-to over IPv6: words 1..3 of the next hop (word 0 in SC_RTADDR) */
export const SC_RTADDR6 = 8;
/** the source nodes (pf_src.ts), one word per type PF_SN_NONE..PF_SN_ROUTE: node number + 1, 0 none */
export const SC_SN = 12;
/** as SC_NATPL for the rdr-to pool */
export const SC_RDRPL = 11;
/** st->natrule: the number of the rule whose nat-to (or af-to) made the stack key, + 1 (0: none); for journeys */
export const SC_NATRULE = 16;
/** the same for its rdr-to (a match rule may do one, the pass rule the other) */
export const SC_RDRRULE = 17;
export const SC_N = 18;
// state key fields (K_*), K_N words (64 bytes): the wire key of state s is key 2s, its stack key 2s + 1 (2s when the same),
// both in the state's record (PfStateStore.ko())
/** af | proto << 8 | rdomain << 16 */
export const K_META = 0;
/** addr[0], four words */
export const K_A = 1;
/** addr[1], four words */
export const K_B = 5;
/** port[0] << 16 | port[1] */
export const K_PORTS = 9;
const K_HASH = 10;
/** sk_reverse: the key of the other direction's state (number + 1, 0 none), a hint checked on use */
const K_REV = 11;
export const K_N = 16;

/** the state's rule said allow-opts: its packets may carry IP options */
export const PFSTATE_ALLOWOPTS = 0x0001;
const PFSTATE_SLOPPY = 0x0800;
// packetflow's own state flags (above OpenBSD's; PFSTATE_AFTO 0x8000 is in pf_af.ts)
/** the state has source nodes: pf_counters_inc and pf_remove_state look at them only then */
export const PFSTATE_SRCNODE = 0x4000;
/** the state is in the synproxy handshake: pf_test_fast4 leaves its packets to pf_synproxy */
export const PFSTATE_SYNPROXY = 0x10000;
/** the state routes its packets (st->rt: route-to, reply-to, dup-to): pf_test_fast4 leaves them to pf_route */
export const PFSTATE_ROUTE = 0x20000;
/** the state has match rules (st->match_rules, in PfStateStore.match_rules): pf_test_fast4 leaves its packets to the general path */
export const PFSTATE_MATCHRULES = 0x40000;
/** the state's rule names a table (from <t>, to <t>): pf_counters_inc counts its packets there (pfr_update_stats) */
export const PFSTATE_TABLES = 0x80000;

/** struct pf_state_key, as a view of the key store. */
export class PfStateKey {
  constructor(
    readonly pf: Pf,
    readonly kx: number,
  ) {}
  private w(i: number): number {
    return this.pf.st.kd[this.pf.st.ko(this.kx) + i]!;
  }
  get af(): number { return this.w(K_META) & 0xff; }
  get proto(): number { return (this.w(K_META) >>> 8) & 0xff; }
  get rdomain(): number { return this.w(K_META) >>> 16; }
  get a00(): number { return this.w(K_A); }
  get a01(): number { return this.w(K_A + 1); }
  get a02(): number { return this.w(K_A + 2); }
  get a03(): number { return this.w(K_A + 3); }
  get a10(): number { return this.w(K_B); }
  get a11(): number { return this.w(K_B + 1); }
  get a12(): number { return this.w(K_B + 2); }
  get a13(): number { return this.w(K_B + 3); }
  get port0(): number { return this.w(K_PORTS) >>> 16; }
  get port1(): number { return this.w(K_PORTS) & 0xffff; }
}

/** struct pf_state_peer, as a view. */
export class PfStatePeer {
  constructor(
    readonly pf: Pf,
    readonly o: number,
  ) {}
  get seqlo(): number { return this.pf.st.si[this.o + PR_SEQLO]! >>> 0; }
  get seqhi(): number { return this.pf.st.si[this.o + PR_SEQHI]! >>> 0; }
  get seqdiff(): number { return this.pf.st.si[this.o + PR_SEQDIFF]! >>> 0; }
  get max_win(): number { return this.pf.st.si[this.o + PR_MAXWIN]!; }
  get mss(): number { return this.pf.st.si[this.o + PR_MSS]!; }
  get state(): number { return this.pf.st.si[this.o + PR_STATE]!; }
  get wscale(): number { return this.pf.st.si[this.o + PR_WSCALE]!; }
}

/** struct pf_state, as a view of state number idx (valid while the state lives). */
export class PfState {
  constructor(
    readonly pf: Pf,
    readonly idx: number,
  ) {}
  private i(f: number): number {
    return this.pf.st.si[this.idx * ST_N + f]!;
  }
  private c(f: number): number {
    return this.pf.st.sc[this.idx * SC_N + f]!;
  }
  private f(f: number): number {
    return this.pf.st.sf[(this.idx * ST_N + ST_CNT) / 2 + f]!;
  }
  get key_wire(): PfStateKey { return new PfStateKey(this.pf, this.idx * 2); }
  get key_stack(): PfStateKey { return new PfStateKey(this.pf, this.idx * 2 + (this.i(ST_NKEYS) === 2 ? 1 : 0)); }
  /** the keys differ (the state translates) */
  get translates(): boolean { return this.i(ST_NKEYS) === 2; }
  get rule(): KRule { return this.pf.ruletab[this.i(ST_RULE)]!; }
  get anchor(): KRule | null { return this.i(ST_ANCHOR) === 0 ? null : this.pf.ruletab[this.i(ST_ANCHOR) - 1]!; }
  /** The interface it is bound to; null: floating (printed as "all"). */
  get kif(): Ifnet | null { return this.i(ST_KIF) === 0 ? null : (this.pf.k.ifnets[this.i(ST_KIF)] ?? null); }
  get direction(): number { return this.i(ST_DIR); }
  get src(): PfStatePeer { return new PfStatePeer(this.pf, this.idx * ST_N + ST_SRC); }
  get dst(): PfStatePeer { return new PfStatePeer(this.pf, this.idx * ST_N + ST_DST); }
  get creation(): number { return this.c(SC_CREATION); }
  get expire(): number { return this.i(ST_EXPIRE); }
  get timeout(): number { return this.i(ST_TIMEOUT); }
  get packets0(): number { return this.f(SF_PKTS0); }
  get packets1(): number { return this.f(SF_PKTS1); }
  get bytes0(): number { return this.f(SF_BYTES0); }
  get bytes1(): number { return this.f(SF_BYTES1); }
  get id(): number { return this.pf.st.sid[this.idx]!; }
  get log(): number { return this.i(ST_LOG); }
  get state_flags(): number { return this.i(ST_FLAGS); }
  /** route-to's next hop (IPv4 word), or null */
  get rt_addr(): number | null { return this.c(SC_RTIF) !== 0 ? this.c(SC_RTADDR) : null; }
  /** route-to's IPv6 next hop (four words), or null */
  get rt_addr6(): [number, number, number, number] | null {
    return this.c(SC_RTIF) !== 0 ? [this.c(SC_RTADDR), this.c(SC_RTADDR6), this.c(SC_RTADDR6 + 1), this.c(SC_RTADDR6 + 2)] : null;
  }
  /** st->rt: PF_ROUTETO, PF_DUPTO, PF_REPLYTO or 0 */
  get rt(): number { return this.c(SC_RTIF); }
  get naf(): number { return this.c(SC_NAF); }
  /** it has source nodes (pfsync's PFSYNC_FLAG_SRCNODE: -vss prints ", source-track") */
  get src_nodes(): boolean { return (this.i(ST_FLAGS) & PFSTATE_SRCNODE) !== 0; }
}

/** Bits of a hash table entry that hold the key number + 1 (keys 2s and 2s + 1 of up to 2^21 states). */
const HT_KBITS = 23;
const HT_KX = (1 << HT_KBITS) - 1;
/** the fingerprint bits of an entry (the hash's top bits) */
const HT_FP = ~HT_KX;

/** The state store and its hash table (open addressing, linear probing). */
export class PfStateStore {
  cap = 0;
  /** the state records (ST_N words each: keys and hot fields) */
  si = new Int32Array(0);
  /** float64 view of si (the counters) */
  sf = new Float64Array(0);
  sc = new Int32Array(0);
  sid = new Float64Array(0);
  /** the keys: si itself (a key's words at ko()) */
  kd = this.si;
  free = new Int32Array(0);
  nfree = 0;
  /**
   * the hash table: one word per slot, 0 empty, else the key number + 1 in
   * the low HT_KBITS bits and the top bits of the key's hash (a fingerprint:
   * a probe reads another key only when they agree) above; 4 bytes a slot,
   * so the table a state hit probes at random stays small
   */
  ht = new Int32Array(1024);
  hmask = 1023;
  hcount = 0;
  head = -1;
  tail = -1;
  /**
   * st->match_rules of the states that have any (PFSTATE_MATCHRULES), by
   * state number: few states have them and their number varies, so they
   * stay out of the records and a state without any costs nothing here
   */
  readonly match_rules = new Map<number, KRule[]>();

  /**
   * Whether alloc() can give a state: false once the table is at the most
   * its hash slots can number (key numbers have HT_KBITS bits), which pf
   * meets as a failed pool_get().
   */
  canAlloc(): boolean {
    return this.nfree !== 0 || 2 * (this.cap === 0 ? 1024 : 2 * this.cap) <= HT_KX;
  }

  /** A free state number, its fields zeroed (check canAlloc() first). */
  alloc(): number {
    if (this.nfree === 0) this.grow();
    const s = this.free[--this.nfree]!;
    this.si.fill(0, s * ST_N, s * ST_N + ST_N);
    this.sc.fill(0, s * SC_N, s * SC_N + SC_N);
    return s;
  }

  release(s: number): void {
    this.si[s * ST_N + ST_NKEYS] = 0;
    this.free[this.nfree++] = s;
  }

  private grow(): void {
    const old = this.cap;
    const cap = old === 0 ? 1024 : old * 2;
    if (2 * cap > HT_KX) throw new RangeError(`pf: state table full (${old} states)`);
    const si = new Int32Array(cap * ST_N);
    si.set(this.si);
    this.si = si;
    this.kd = si;
    this.sf = new Float64Array(si.buffer);
    const sc = new Int32Array(cap * SC_N);
    sc.set(this.sc);
    this.sc = sc;
    const sid = new Float64Array(cap);
    sid.set(this.sid);
    this.sid = sid;
    const free = new Int32Array(cap);
    free.set(this.free.subarray(0, this.nfree));
    this.free = free;
    // lowest numbers first
    for (let s = cap - 1; s >= old; s--) this.free[this.nfree++] = s;
    this.cap = cap;
  }

  /** The key equal to q (hash h), or -1. */
  find(q: Int32Array, h: number): number {
    return this.lookup(q[K_META]!, q[K_A]!, q[K_A + 1]!, q[K_A + 2]!, q[K_A + 3]!, q[K_B]!, q[K_B + 1]!, q[K_B + 2]!,
      q[K_B + 3]!, q[K_PORTS]!, h);
  }

  /** The key with these words (hash h), or -1. */
  lookup(meta: number, a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number,
    ports: number, h: number): number {
    const ht = this.ht;
    const mask = this.hmask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = ht[i]!;
      if (v === 0) return -1;
      if (((v ^ h) & HT_FP) === 0) {
        const kx = (v & HT_KX) - 1;
        if (pf_key_eq(this.kd, this.ko(kx), meta, a0, a1, a2, a3, b0, b1, b2, b3, ports)) return kx;
      }
    }
  }

  /** lookup() of an IPv4 key (addresses' words 1..3 zero), the comparison written out for pf_test_fast4. */
  lookup4(meta: number, a0: number, b0: number, ports: number, h: number): number {
    const ht = this.ht;
    const kd = this.kd;
    const mask = this.hmask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = ht[i]!;
      if (v === 0) return -1;
      if (((v ^ h) & HT_FP) === 0) {
        const kx = (v & HT_KX) - 1;
        const o = (kx >> 1) * ST_N + (kx & 1) * K_STACK;
        if (kd[o + K_A] === a0 && kd[o + K_B] === b0 && kd[o + K_PORTS] === ports && kd[o + K_META] === meta &&
            (kd[o + K_A + 1]! | kd[o + K_A + 2]! | kd[o + K_A + 3]! | kd[o + K_B + 1]! | kd[o + K_B + 2]! | kd[o + K_B + 3]!) === 0)
          return kx;
      }
    }
  }

  /** Key kx is in the table (its state lives and has it). */
  live(kx: number): boolean {
    const n = this.si[(kx >> 1) * ST_N + ST_NKEYS]!;
    return n > (kx & 1);
  }

  /**
   * The offset of key kx in kd: the wire key (2s) at the start of state s's record, the stack key (2s + 1) at K_STACK.
   * (Key and state numbers are small non-negative int32s: `>> 1`, not `>>> 1`, whose uint32 result
   * V8 may carry as a float64 through the index arithmetic.)
   */
  ko(kx: number): number {
    return (kx >> 1) * ST_N + (kx & 1) * K_STACK;
  }

  /** Put key kx (written, with its hash) in the table. */
  insert(kx: number): void {
    if ((this.hcount + 1) * 2 > this.hmask + 1) this.rehash((this.hmask + 1) * 2);
    const h = this.kd[this.ko(kx) + K_HASH]!;
    const ht = this.ht;
    const mask = this.hmask;
    let i = h & mask;
    while (ht[i] !== 0) i = (i + 1) & mask;
    ht[i] = (h & HT_FP) | (kx + 1);
    this.hcount++;
  }

  /** The home slot of table entry v (its key's hash, masked). */
  private home(v: number): number {
    return this.kd[this.ko((v & HT_KX) - 1) + K_HASH]! & this.hmask;
  }

  /** Take key kx out of the table (backward-shift deletion: no tombstones). */
  remove(kx: number): void {
    const ht = this.ht;
    const mask = this.hmask;
    const h = this.kd[this.ko(kx) + K_HASH]!;
    const e = (h & HT_FP) | (kx + 1);
    let i = h & mask;
    while (ht[i] !== e) {
      if (ht[i] === 0) return;
      i = (i + 1) & mask;
    }
    for (let j = (i + 1) & mask; ht[j] !== 0; j = (j + 1) & mask) {
      const home = this.home(ht[j]!);
      // move j back to i unless its home lies cyclically in (i, j]
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        ht[i] = ht[j]!;
        i = j;
      }
    }
    ht[i] = 0;
    this.hcount--;
  }

  private rehash(n: number): void {
    const old = this.ht;
    const ht = new Int32Array(n);
    const mask = n - 1;
    const kd = this.kd;
    for (let j = 0; j < old.length; j++) {
      const v = old[j]!;
      if (v === 0) continue;
      let i = kd[this.ko((v & HT_KX) - 1) + K_HASH]! & mask;
      while (ht[i] !== 0) i = (i + 1) & mask;
      ht[i] = v;
    }
    this.ht = ht;
    this.hmask = mask;
  }
}

/** The hash of the key at kd[o] (K_* layout). */
export function pf_hashkey(kd: Int32Array, o: number): number {
  return pf_hash(kd[o + K_META]!, kd[o + K_A]!, kd[o + K_A + 1]!, kd[o + K_A + 2]!, kd[o + K_A + 3]!, kd[o + K_B]!,
    kd[o + K_B + 1]!, kd[o + K_B + 2]!, kd[o + K_B + 3]!, kd[o + K_PORTS]!);
}

/** The hash of a key's words (meta, addr[0], addr[1], ports); IPv4 keys hash words 0 only. */
function pf_hash(meta: number, a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number,
  b3: number, ports: number): number {
  let h = Math.imul(meta ^ 0x2545f491, 0x9e3779b1);
  h = Math.imul(h ^ a0, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ b0, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ ports, 0x85ebca6b);
  if ((meta & 0xff) !== AF_INET) {
    h = Math.imul(h ^ (h >>> 15) ^ a1 ^ (b1 << 7), 0xc2b2ae35);
    h = Math.imul(h ^ (h >>> 13) ^ a2 ^ (b2 << 7), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 15) ^ a3 ^ (b3 << 7), 0xc2b2ae35);
  }
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return h ^ (h >>> 15);
}

/** The key at kd[o] has these words. */
function pf_key_eq(kd: Int32Array, o: number, meta: number, a0: number, a1: number, a2: number, a3: number, b0: number,
  b1: number, b2: number, b3: number, ports: number): boolean {
  return kd[o + K_A] === a0 && kd[o + K_B] === b0 && kd[o + K_PORTS] === ports && kd[o + K_META] === meta &&
    kd[o + K_A + 1] === a1 && kd[o + K_A + 2] === a2 && kd[o + K_A + 3] === a3 &&
    kd[o + K_B + 1] === b1 && kd[o + K_B + 2] === b2 && kd[o + K_B + 3] === b3;
}

/** Fill a key (kd at o): family, protocol, rdomain and the two sides. */
export function pf_key_set(kd: Int32Array, o: number, af: number, proto: number, rdomain: number,
  a0: number, a1: number, a2: number, a3: number, p0: number,
  b0: number, b1: number, b2: number, b3: number, p1: number): void {
  kd[o + K_META] = af | (proto << 8) | (rdomain << 16);
  kd[o + K_A] = a0; kd[o + K_A + 1] = a1; kd[o + K_A + 2] = a2; kd[o + K_A + 3] = a3;
  kd[o + K_B] = b0; kd[o + K_B + 1] = b1; kd[o + K_B + 2] = b2; kd[o + K_B + 3] = b3;
  kd[o + K_PORTS] = (p0 << 16) | p1;
  kd[o + K_HASH] = pf_hashkey(kd, o);
  kd[o + K_REV] = 0;
}

/** pf_find_state_all()-like: the state whose key equals pf.sk (filled by pf_key_set), or -1. */
export function pf_find_key(pf: Pf): number {
  const q = pf.sk;
  const kx = pf.st.find(q, q[K_HASH]!);
  return kx < 0 ? -1 : kx >>> 1;
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
  /** IPv4 options or IPv6 option headers (PF_OPT_*, pf_walk.ts) */
  badopts = 0;
  /** IPv6: the fragment header's index (0: not a fragment), the last extension header before it (0: none), the jumbo payload length */
  fragoff = 0;
  extoff = 0;
  jumbolen = 0;
  // socket lookup (user/group)
  lookup_done = false;
  lookup_uid = -1;
  lookup_gid = -1;
  /** the process that made the socket (so_cpid); NO_PID when no socket was found */
  lookup_pid = PF_NO_PID;
}

/** The owner of the local socket of a packet (pf_socket_lookup's answer). */
export interface PfSocketOwner {
  uid: number;
  gid: number;
  pid: number;
}

/** pfloghdr's pid when no socket is known (PID_MAX + 1) */
export const PF_NO_PID = 99999 + 1;

/**
 * The PCB layer's answer to "whose socket is this packet for/from": called
 * with the local address/port and remote address/port (words 0 of IPv4).
 * Set by in_pcb once sockets exist; null: user/group never match.
 */
export type PfSocketLookup = (k: Kernel, af: number, proto: number, pd: PfPdesc) => PfSocketOwner | null;

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
  /** the states (a list in creation order, pfctl -ss), their keys and hash table */
  readonly st = new PfStateStore();
  private stateid = 0;
  creatorid = 0;
  readonly pd = new PfPdesc();
  /** source tracking nodes (tree_src_tracking, pf_src.ts) */
  readonly src_nodes = new PfSrcTree();
  /** the source nodes the packet being tested found or made, by type (ctx.sns) */
  readonly ctx_sns: Array<PfSrcNode | null> = [null, null, null, null];
  /** the last state test ended in PF_SYNPROXY_DROP (pf_synproxy.ts) */
  ctx_synproxy = false;
  /** rules that states refer to, by KRule.gidx (a state keeps its rule's number) */
  readonly ruletab: Array<KRule | null> = [];
  ruletabFree: number[] = [];
  /** the search key (K_* layout) */
  readonly sk = new Int32Array(K_N);
  /** pf_get_transaddr's address scratch */
  readonly naddr = new Int32Array(4);
  /** pf_send_tcp's addresses (pf_synproxy.ts): the source at byte 0, the destination at 16 (IPv4: their first 4 bytes) */
  readonly tcpaddr = new Uint8Array(32);
  /** af-to's scratch (pf_af.ts) */
  readonly afs = new PfAfScratch();
  /** the network layer af-to and pf_route6 send with (set by pf_open) */
  netout: PfNetOutput | null = null;
  /** pflog_packet's header + packet buffer */
  logbuf = new Uint8Array(2048);
  readonly purge: Timeout<Kernel>;
  readonly frag: PfFragState;
  /** the fragments pf_refragment6 makes */
  readonly fragList = new MbufList();
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
  /** the last rule whose nat-to / rdr-to translated the packet (pf_postprocess_addr's natpl, rdrpl) */
  ctx_natpl: KRule | null = null;
  ctx_rdrpl: KRule | null = null;
  ctx_tag = 0;
  ctx_log = 0;
  /** the match rules the packet matched so far (ctx.rules), for log (matches) */
  ctx_matches: KRule[] = [];
  ctx_nmatches = 0;
  ctx_rtableid = -1;
  ctx_reason = 0;
  /** the rule already logged for this packet */
  ctx_logged: KRule | null = null;
  /** the state pf_test_rule() created */
  ctx_state = -1;
  /** the last pf_test passed its packet but pf_route took it (route-to/reply-to) */
  taken = false;
  /** rules evaluated for the last rule test (bench: ns per rule) */
  evals = 0;
  /**
   * pf_prefetch() reads ahead from this many hash slots on (a 64 KB table,
   * twice a level-1 data cache; below, the slots stay in cache and reading
   * ahead would only add the hashing; measured: it pays from 10000 states on)
   */
  prefetch_slots = 16384;
  /** pf_prefetch()'s scratch (the hashes) and the fold of what it read */
  readonly pfh = new Int32Array(PF_PREFETCH_N);
  prefetched = 0;
  /** the kernel's clock (k.world) */
  private readonly world: World;
  // uptime()'s second and the clock span [upStart, upEnd) it covers
  private upSec = 0;
  private upStart = TIME_ZERO;
  private upEnd = TIME_ZERO;

  constructor(readonly k: Kernel) {
    this.world = k.world;
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
    // the second of the last call, while the clock is still in it (no division per packet)
    const now = this.world.now;
    if (now < this.upEnd && now >= this.upStart) return this.upSec;
    const sec = Math.floor(now / 1e9);
    this.upSec = sec;
    this.upStart = sec * 1e9;
    this.upEnd = this.upStart + 1e9;
    return sec;
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
export function REASON_SET(pf: Pf, x: number): void {
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
  if (pf.skip.size !== 0 && pf_skip_if(pf, ifp)) return m;
  // pf's own packets; a fragment pf_refragment6 made passes once
  if ((m.pf_flags & (PF_TAG_GENERATED | PF_TAG_REFRAGMENTED)) !== 0) {
    if ((m.pf_flags & PF_TAG_GENERATED) === 0) m.pf_flags &= ~PF_TAG_REFRAGMENTED;
    return m;
  }
  const dir = fwdir === PF_FWD ? PF_OUT : fwdir;
  pf.taken = false;
  pf.ctx_reason = PFRES_MATCH;
  if (af === AF_INET && k.trace === null) {
    const f = pf_test_fast4(pf, pf.pd, dir, ifp, m);
    if (f !== PF_FAST_NONE) return f === PF_PASS ? m : null;
  }
  return pf_test_general(k, pf, af, fwdir, ifp, m);
}

/**
 * pf_test() past its entry checks and pf_test_fast4(): the general path.
 * (Apart so that pf_test() stays small enough for V8 to inline into
 * ip_input and ip_output whatever the general path grows to.)
 */
function pf_test_general(k: Kernel, pf: Pf, af: number, fwdir: number, ifp: Ifnet, m: Mbuf): Mbuf | null {
  const dir = fwdir === PF_FWD ? PF_OUT : fwdir;
  if (k.trace !== null) k.trace.fn(k, m, 'pf_test', ifp.if_xname, dir === PF_IN ? 'in' : 'out');
  const pd = pf.pd;
  let action = pf_setup_pdesc(pf, pd, af, dir, ifp, m);
  if (action === PF_HELD) {
    // pf_reassemble()'s PF_PASS with *m0 NULL: kept, not refused (no error for ip_output)
    pf.taken = true;
    return null;
  }
  if (action !== PF_PASS) {
    // PF_LOG_FORCE: logged by the default rule with the reason
    if (pf.pflogifs.length !== 0) pflog_packet(pf, pd, pf.ctx_reason, pf.default_rule, null, PF_DROP);
    if (k.trace !== null) k.trace.drop(k, m, `pf_test: ${PFRES_NAMES[pf.ctx_reason]}`, 'pf_setup_pdesc');
    pd.m.free();
    return null;
  }
  // pf_normalize_ip() after pf_setup_pdesc, for a datagram that is no fragment (fragments: pf_setup_pdesc)
  if (af === AF_INET && (pd.m.buf[pd.m.off + 6]! & (IP_RF >> 8)) !== 0 && pd.virtual_proto !== PF_VPROTO_FRAGMENT) pf_normalize_ip_rf(pf, pd.m);
  m = pd.m;

  let s = -1;
  let r: KRule;
  let a: KRule | null;
  /** the packet matched a state (it did not create one) */
  let fromState = false;
  pf.ctx_log = 0;
  if (pd.virtual_proto === PF_VPROTO_FRAGMENT) {
    // Fragments that were not reassembled: rules only (no state); one not passed counts as a fragment
    action = pf_test_rule(pf, pd);
    r = pf.ctx_rm ?? pf.default_rule;
    a = pf.ctx_am;
    if (action !== PF_PASS) REASON_SET(pf, PFRES_FRAG);
  } else if (pd.virtual_proto === (pd.af === AF_INET ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
    // ICMP of the other family
    action = PF_DROP;
    REASON_SET(pf, PFRES_NORM);
    r = pf.default_rule;
    a = null;
    if (k.trace !== null) k.trace.branch(k, m, 'pf_test: ICMP of the other address family → normalize');
  } else {
    s = pf_test_state(pf, pd);
    action = pf.ctx_reason === -2 ? PF_PASS : PF_DROP;
    if (action === PF_DROP && pf.ctx_synproxy) {
      pf.ctx_synproxy = false;
      action = PF_SYNPROXY_DROP;
    }
    if (s < 0) {
      action = pf_test_rule(pf, pd);
      r = pf.ctx_rm ?? pf.default_rule;
      a = pf.ctx_am;
      s = pf.ctx_state;
      pf.ctx_state = -1;
      if (k.trace !== null)
        k.trace.branch(k, m, `pf_test: ${r.nr < 0 ? 'default rule' : `rule ${r.nr}`} ${action === PF_PASS ? 'pass' : action === PF_SYNPROXY_DROP ? 'synproxy' : 'block'}`,
          s >= 0 ? 'state created' : '');
    } else {
      fromState = true;
      const st = pf.st;
      const si = st.si;
      r = pf.ruletab[si[s * ST_N + ST_RULE]!]!;
      const an = si[s * ST_N + ST_ANCHOR]!;
      a = an === 0 ? null : pf.ruletab[an - 1]!;
      const log = si[s * ST_N + ST_LOG]!;
      if ((log & PF_LOG_ALL) !== 0) pd.pflog |= log;
      if (k.trace !== null)
        k.trace.branch(k, m, `pf_test: state ${action === PF_PASS ? 'match' : PFRES_NAMES[pf.ctx_reason === -2 ? 0 : pf.ctx_reason]}`,
          `rule ${r.nr}`);
    }
  }

  // IP options on a state's packet: its rule must have said allow-opts (pf_test_rule checked a new state's; not af-to's, PF_AFRT)
  if (pd.badopts !== 0 && action === PF_PASS && s >= 0 && pd.naf === pd.af &&
      (pf.st.si[s * ST_N + ST_FLAGS]! & PFSTATE_ALLOWOPTS) === 0) {
    action = PF_DROP;
    REASON_SET(pf, PFRES_IPOPTIONS);
    pd.pflog |= PF_LOG_FORCE;
    if (k.trace !== null) k.trace.branch(k, m, 'pf_test: IP options, the state does not allow-opts', `rule ${r.nr}`);
  }
  // pflog: forced logging (a drop for ip options) with the reason, log (all) on states
  if ((pd.pflog & PF_LOG_FORCE) !== 0) {
    pflog_packet(pf, pd, pf.ctx_reason, r, a, r.nr < 0 && pf.ctx_reason !== PFRES_MATCH ? PF_DROP : r.action);
  } else if (pd.pflog !== 0 && s >= 0 && (r.log & PF_LOG_ALL) !== 0 && pf.ctx_logged !== r) {
    // the header has the rule's action (pflog_packet: only the default rule says drop), the reason why
    const reason = action === PF_PASS ? PFRES_MATCH : pf.ctx_reason;
    pflog_packet(pf, pd, reason, r, a, r.nr < 0 && reason !== PFRES_MATCH ? PF_DROP : r.action);
  }
  if (pd.pflog !== 0 && s >= 0 && (pf.st.si[s * ST_N + ST_FLAGS]! & PFSTATE_MATCHRULES) !== 0)
    pf_log_match_rules(pf, pd, s, action === PF_PASS ? PFRES_MATCH : pf.ctx_reason, a);
  pf.ctx_logged = null;
  pf_counters_inc(pf, action, pd, s, r, a);
  if (action === PF_SYNPROXY_DROP) {
    // pf answered (or is opening the connection) itself: the packet goes, but pf passed it (no error for ip_output)
    if (k.trace !== null) k.trace.drop(k, m, 'pf_test: synproxy → packet consumed', `rule ${r.nr}`);
    pd.m.free();
    pf.taken = true;
    return null;
  }
  if (action !== PF_PASS) {
    if (k.trace !== null) k.trace.drop(k, m, 'pf_test: block', `rule ${r.nr}`);
    pd.m.free();
    return null;
  }
  if (pd.naf !== pd.af) {
    // PF_AFRT: translated and forwarded in the other family, taken
    pf_afrt(pf, pd, k.trace !== null ? pf_afto_how(pf, pd, s, fromState) : '');
    pf.taken = true;
    return null;
  }
  // pf_mbuf_link_state_key(): the OUT pass starts from the state's stack key
  if (s >= 0 && pd.dir === PF_IN) pd.m.pf_statekey = pf.st.si[s * ST_N + ST_NKEYS] === 2 ? 2 * s + 1 : 2 * s;
  if (s >= 0 && pf.st.sc[s * SC_N + SC_RTIF] !== 0) {
    const n = pd.af === AF_INET ? pf_route(pf, pd, s) : pf_route6(pf, pd, s);
    if (n === null) {
      // passed, but pf_route took it: not an error for ip_output
      pf.taken = true;
      return null;
    }
    // dup-to: the original goes on
    pd.m = n;
  }
  // a forwarded datagram pf reassembled leaves as fragments again
  if (fwdir === PF_FWD && pd.m.pf_ftag !== null && pd.af === AF_INET6 && pf.reass !== 0) {
    pf_refragment6(pf, pd.m, null, null, null);
    pf.taken = true;
    return null;
  }
  return pd.m;
}

/** pf_test_fast4(): not the common case, the general path decides. */
export const PF_FAST_NONE = -1;
/** state flags the fast path knows (any other takes the general path); allow-opts changes nothing for its packets (no options) */
const PF_FAST_FLAGS = PFSTATE_SLOPPY | PFSTATE_ALLOWOPTS | PFSTATE_TABLES;

/**
 * pf_test_fast4(): pf_test() for the common case, an IPv4 TCP or UDP
 * packet (no IP options, not a fragment) that matches a state which
 * neither translates nor routes nor logs nor has match rules, with no
 * tracer: the header is read once, straight into the key, and only what
 * the state code reads is written to pd.  Whatever else it meets (a short
 * or odd header, no state, another kind of state, a TCP SYN reusing a
 * closed state's ports) it leaves to the general path (PF_FAST_NONE)
 * before counting, tracking or changing the state, with two exceptions,
 * both pf_find_state()'s own first steps on an outbound packet: it clears
 * m.pf_statekey (the link serves one lookup) and, when the key it found by
 * hash is the exact opposite of the linked one, links the two
 * (sk_reverse).  Both are harmless: the link is only a hint, checked
 * against the packet's key and the key's liveness before use, and the
 * general path then finds the same key by hash and would link it the same
 * way.  Its effects are the general path's for such a packet: the same
 * search and state/rule counters, TCP window tracking and reasons, state
 * updates and mbuf link; PF_PASS or PF_DROP (the packet freed).
 */
export function pf_test_fast4(pf: Pf, pd: PfPdesc, dir: number, ifp: Ifnet, m: Mbuf): number {
  const b = m.buf;
  const o = m.off;
  const mlen = m.len;
  // no options; RF (pf_normalize_ip clears it), MF and the offset all zero
  if (mlen < 20 || (b[o]! & 15) !== 5 || ((b[o + 6]! & 0xbf) | b[o + 7]!) !== 0) return PF_FAST_NONE;
  const tot = (b[o + 2]! << 8) | b[o + 3]!;
  // shorter than its IP length: pf_setup_pdesc drops it (short)
  if (tot > mlen) return PF_FAST_NONE;
  const proto = b[o + 9]!;
  const t = o + 20;
  const end = o + tot;
  if (t + 8 > end || (proto !== IPPROTO_UDP && proto !== IPPROTO_TCP)) return PF_FAST_NONE;
  let thl = 8;
  if (proto === IPPROTO_UDP) {
    const ulen = (b[t + 4]! << 8) | b[t + 5]!;
    if ((b[t + 2]! | b[t + 3]!) === 0 || ulen > end - t || ulen < 8) return PF_FAST_NONE;
  } else {
    if (t + 20 > end) return PF_FAST_NONE;
    thl = (b[t + 12]! >>> 4) << 2;
    if (thl < 20 || t + thl > end) return PF_FAST_NONE;
  }
  const src = (b[o + 12]! << 24) | (b[o + 13]! << 16) | (b[o + 14]! << 8) | b[o + 15]!;
  const dst = (b[o + 16]! << 24) | (b[o + 17]! << 16) | (b[o + 18]! << 8) | b[o + 19]!;
  const sport = (b[t]! << 8) | b[t + 1]!;
  const dport = (b[t + 2]! << 8) | b[t + 3]!;
  const meta = AF_INET | (proto << 8) | (ifp.if_rdomain << 16);
  // the key as pf_find_state() makes it: inbound source first
  const a0 = dir === PF_IN ? src : dst;
  const b0 = dir === PF_IN ? dst : src;
  const ports = dir === PF_IN ? (sport << 16) | dport : (dport << 16) | sport;
  const st = pf.st;
  const kd = st.kd;
  let kx = -1;
  let pk = -1;
  if (dir === PF_OUT) {
    pk = m.pf_statekey;
    if (pk >= 0) {
      m.pf_statekey = -1;
      if (pk >= 2 * st.cap) pk = -1;
      else {
        const rev = kd[st.ko(pk) + K_REV]! - 1;
        // st.live(rev) and pf_key_eq(), written out (the first words first: a miss fails there)
        const ro = st.ko(rev);
        if (rev >= 0 && kd[ro + K_A] === a0 && kd[ro + K_B] === b0 && kd[ro + K_PORTS] === ports && kd[ro + K_META] === meta &&
            (kd[ro + K_A + 1]! | kd[ro + K_A + 2]! | kd[ro + K_A + 3]! | kd[ro + K_B + 1]! | kd[ro + K_B + 2]! | kd[ro + K_B + 3]!) === 0 &&
            st.si[(rev >> 1) * ST_N + ST_NKEYS]! > (rev & 1)) kx = rev;
      }
    }
  }
  if (kx < 0) {
    kx = st.lookup4(meta, a0, b0, ports, pf_hash(meta, a0, 0, 0, 0, b0, 0, 0, 0, ports));
    if (kx < 0) return PF_FAST_NONE;
    if (pk >= 0 && st.live(pk)) pf_state_key_link_reverse(st, kx, pk);
  }
  const s = kx >> 1;
  const si = st.si;
  const sb = s * ST_N;
  const kif = si[sb + ST_KIF]!;
  if (si[sb + ST_NKEYS] !== 1 || si[sb + ST_TIMEOUT] === PFTM_PURGE || (kif !== 0 && kif !== ifp.if_index) ||
      (si[sb + ST_LOG]! & PF_LOG_ALL) !== 0 || (si[sb + ST_FLAGS]! & ~PF_FAST_FLAGS) !== 0)
    return PF_FAST_NONE;
  let sp: number, dp: number;
  if (dir === si[sb + ST_DIR]) {
    sp = sb + ST_SRC;
    dp = sb + ST_DST;
  } else {
    sp = sb + ST_DST;
    dp = sb + ST_SRC;
  }
  const now = pf.uptime();
  let action = PF_PASS;
  if (proto === IPPROTO_TCP) {
    const flags = b[t + 13]!;
    // a new connection on a closed state's ports: pf_test_state() removes the state, the rules decide
    if ((flags & (TH_SYN | TH_ACK)) === TH_SYN && si[dp + PR_STATE]! >= TCPS_FIN_WAIT_2 && si[sp + PR_STATE]! >= TCPS_FIN_WAIT_2)
      return PF_FAST_NONE;
    // what the window tracking reads
    pf_fast4_pdesc(pd, dir, ifp, m, tot);
    pd.proto = pd.virtual_proto = IPPROTO_TCP;
    pd.rdomain = ifp.if_rdomain;
    pd.ipoff = o;
    pd.thoff = t;
    pd.hdrlen = thl;
    pd.p_len = end - t - thl;
    pd.s0 = src;
    pd.d0 = dst;
    pd.osport = sport;
    pd.odport = dport;
    pd.th_flags = flags;
    pd.th_seq = (b[t + 4]! << 24) | (b[t + 5]! << 16) | (b[t + 6]! << 8) | b[t + 7]!;
    pd.th_ack = (b[t + 8]! << 24) | (b[t + 9]! << 16) | (b[t + 10]! << 8) | b[t + 11]!;
    pd.th_win = (b[t + 14]! << 8) | b[t + 15]!;
    pf.fcounters[FCNT_STATE_SEARCH]++;
    if ((si[sb + ST_FLAGS]! & PFSTATE_SLOPPY) !== 0) action = pf_tcp_track_sloppy(pf, pd, s, sp, dp, now);
    else action = pf_tcp_track_full(pf, pd, s, sp, dp, now);
  } else {
    pf.fcounters[FCNT_STATE_SEARCH]++;
    if (si[sp + PR_STATE]! < PFUDPS_SINGLE) si[sp + PR_STATE] = PFUDPS_SINGLE;
    if (si[dp + PR_STATE] === PFUDPS_SINGLE) si[dp + PR_STATE] = PFUDPS_MULTIPLE;
    si[sb + ST_EXPIRE] = now;
    si[sb + ST_TIMEOUT] = si[sp + PR_STATE] === PFUDPS_MULTIPLE && si[dp + PR_STATE] === PFUDPS_MULTIPLE ?
      PFTM_UDP_MULTIPLE : PFTM_UDP_SINGLE;
  }
  const r = pf.ruletab[si[sb + ST_RULE]!]!;
  const an = si[sb + ST_ANCHOR]!;
  pf.ctx_logged = null;
  // a state whose rule names a table: pfr_update_stats() in pf_counters_inc()
  if (action !== PF_PASS || pf.loginterface !== '' || (si[sb + ST_FLAGS]! & PFSTATE_TABLES) !== 0) {
    if (proto !== IPPROTO_TCP) pf_fast4_pdesc(pd, dir, ifp, m, tot);
    pf_counters_inc(pf, action, pd, s, r, an === 0 ? null : pf.ruletab[an - 1]!);
  } else {
    // pf_counters_inc() of a passed packet on a state with neither source nodes, af-to, match rules nor tables
    const ki = dir === PF_OUT ? 2 : 0;
    ifp.pfik_packets[ki]++;
    ifp.pfik_bytes[ki] += tot;
    if (dir === PF_OUT) {
      r.packets1++;
      r.bytes1 += tot;
    } else {
      r.packets0++;
      r.bytes0 += tot;
    }
    if (an !== 0) {
      const a = pf.ruletab[an - 1]!;
      if (dir === PF_OUT) {
        a.packets1++;
        a.bytes1 += tot;
      } else {
        a.packets0++;
        a.bytes0 += tot;
      }
    }
    const sf = st.sf;
    const co = (sb + ST_CNT) >> 1;
    if (dir === si[sb + ST_DIR]) {
      sf[co + SF_PKTS0]++;
      sf[co + SF_BYTES0] += tot;
    } else {
      sf[co + SF_PKTS1]++;
      sf[co + SF_BYTES1] += tot;
    }
  }
  if (action !== PF_PASS) {
    m.free();
    return PF_DROP;
  }
  if (dir === PF_IN) m.pf_statekey = kx;
  return PF_PASS;
}

/** Frames pf_prefetch() takes at a time (its scratch). */
const PF_PREFETCH_N = 32;

/**
 * pf_prefetch(): start the state lookups of a batch of received frames
 * together, before the stack takes them one by one (if_input_process()).
 * A state hit's first access, its hash slot, is at a random place of a
 * table that with many states is far beyond the caches, whatever order the
 * flows come in; one packet at a time, each waits for its own miss.  Here
 * the hash of every IPv4 TCP or UDP frame's inbound key is computed first,
 * PF_PREFETCH_N frames at a time, then their slots are read in one tight
 * loop, so the misses overlap (only when the table is large enough to
 * miss: pf.prefetch_slots).  (The key and the state a slot names are
 * not read ahead: they depend on the slot, and reading them here stalled
 * on it.)  It only reads, and folds what it read into pf.prefetched so the
 * loads are not optimized away: a wrong guess (a frame pf skips, an
 * options header, a slot of another key) costs a load, never a different
 * decision.
 */
export function pf_prefetch(pf: Pf, ifp: Ifnet, ml: MbufList): void {
  const st = pf.st;
  // a table this small stays in cache: reading ahead would only add the hashing
  if (st.hmask + 1 < pf.prefetch_slots) return;
  const hs = pf.pfh;
  const meta0 = AF_INET | (ifp.if_rdomain << 16);
  let acc = 0;
  let n = 0;
  for (let m = ml.head; m !== null; m = m.m_nextpkt) {
    const b = m.buf;
    const e = m.off;
    const o = e + 14;
    // Ethernet, IPv4 without options: the key pf_test_fast4() will look up
    if (m.len >= 38 && b[e + 12] === 0x08 && b[e + 13] === 0x00 && b[o] === 0x45) {
      const proto = b[o + 9]!;
      if (proto === IPPROTO_UDP || proto === IPPROTO_TCP) {
        const t = o + 20;
        hs[n++] = pf_hash(meta0 | (proto << 8),
          (b[o + 12]! << 24) | (b[o + 13]! << 16) | (b[o + 14]! << 8) | b[o + 15]!, 0, 0, 0,
          (b[o + 16]! << 24) | (b[o + 17]! << 16) | (b[o + 18]! << 8) | b[o + 19]!, 0, 0, 0,
          (b[t]! << 24) | (b[t + 1]! << 16) | (b[t + 2]! << 8) | b[t + 3]!);
      }
    }
    if (n === PF_PREFETCH_N || (n !== 0 && m.m_nextpkt === null)) {
      const ht = st.ht;
      const mask = st.hmask;
      for (let i = 0; i < n; i++) acc ^= ht[hs[i]! & mask]!;
      n = 0;
    }
  }
  // a small integer: a field that stays a Smi, no heap number
  pf.prefetched = acc & 0xffff;
}

/** The pd fields pf_counters_inc() and the TCP state code read, for pf_test_fast4. */
function pf_fast4_pdesc(pd: PfPdesc, dir: number, ifp: Ifnet, m: Mbuf, tot: number): void {
  pd.m = m;
  pd.kif = ifp;
  pd.af = pd.naf = AF_INET;
  pd.dir = dir;
  pd.sidx = dir === PF_IN ? 0 : 1;
  pd.didx = dir === PF_IN ? 1 : 0;
  pd.tot_len = tot;
}

/**
 * pf_route(): send the packet of state s to its route-to/reply-to next hop
 * (the packet is taken: null), or a copy to its dup-to next hop (the
 * original goes on).  Replies of a route-to state and the creating
 * direction of a reply-to state are not rerouted.
 */
function pf_route(pf: Pf, pd: PfPdesc, s: number): Mbuf | null {
  const k = pf.k;
  const m = pd.m;
  const sc = pf.st.sc;
  const rtype = sc[s * SC_N + SC_RTIF]!;
  const dup = rtype === PF_DUPTO;
  const dir = pd.dir;
  if (m.pf_routed++ > 3) {
    // a routing loop through route-to rules
    if (k.trace !== null) k.trace.drop(k, m, 'pf_route: routed more than 3 times');
    m.free();
    return null;
  }
  let m0: Mbuf;
  if (dup) {
    const c = m.dup();
    if (c === null) return m;
    m0 = c;
    if (k.trace !== null) k.trace.caused(m0, 'pf_route: dup-to');
  } else {
    if ((rtype === PF_REPLYTO) === (pf.st.si[s * ST_N + ST_DIR] === dir)) return m;
    m0 = m;
  }
  const rtaddr = sc[s * SC_N + SC_RTADDR]!;
  if (k.trace !== null) k.trace.fn(k, m0, 'pf_route', '', rtype === PF_DUPTO ? 'dup-to' : rtype === PF_REPLYTO ? 'reply-to' : 'route-to');
  const b = m0.buf;
  const o = m0.off;
  if (dir === PF_IN) {
    if (b[o + 8]! <= 1) {
      if (!dup) pf_route_icmp(k, m0, 11, 0, 0);
      else m0.free();
      return dup ? m : null;
    }
    b[o + 8]!--;
  }
  const rt = rt_match(k, rtaddr, RT_RESOLVE, m0.ph_rtableid);
  if (!rtisvalid(rt)) {
    k.stats.ipstat.inc(ips_noroute);
    if (k.trace !== null) k.trace.drop(k, m0, 'pf_route: no route to the next hop, ips_noroute');
    if (!dup) pf_route_icmp(k, m0, 3, 1, 0);
    else m0.free();
    return dup ? m : null;
  }
  const ifp = k.ifnets[rt.rt_ifidx];
  if (ifp === undefined) {
    // the route's interface went away: no route for the route-to action (as pf_route6)
    REASON_SET(pf, PFRES_NOROUTE);
    if (k.trace !== null) k.trace.drop(k, m0, 'pf_route: the route\'s interface is gone, no-route');
    m0.free();
    return dup ? m : null;
  }
  // a locally generated packet may have the loopback source: give it the route's address
  if (b[o + 12] === 127 && (ifp.if_flags & IFF_LOOPBACK) === 0 && rt.rt_ifa !== null) {
    pf_route_src(m0, rt.rt_ifa.addr | 0);
    if (k.trace !== null) k.trace.branch(k, m0, 'pf_route: loopback source → the address of the route');
  }
  if (!dup && dir === PF_IN) {
    // the packet leaves by another interface: pf_test(OUT) there
    const n = pf_test(k, AF_INET, PF_OUT, ifp, m0);
    if (n === null) return null;
    m0 = n;
  }
  const nb = m0.buf;
  const no = m0.off;
  const hlen = (nb[no]! & 15) << 2;
  put16(nb, no + 10, 0);
  put16(nb, no + 10, ~sum16(nb, no, hlen) & 0xffff);
  const nexthop = rt.rt_flags & RTF_GATEWAY ? rt.rt_gwaddr | 0 : rtaddr;
  // if_output_tso() with the interface's MTU: a TSO segment is cut (or left to the NIC), a delayed TCP checksum done
  const mtu = ifp.if_mtu;
  if (m0.csum_flags & (M_TCP_TSO | M_TCP_CSUM_OUT)) {
    if (m0.csum_flags & M_TCP_TSO && tcp_if_output_tso(k, ifp, m0, nexthop, rt, mtu) >= 0) return dup ? m : null;
    tcp_delayed_cksum(k, m0);
  }
  const len = get16(nb, no + 2);
  if (len <= mtu) {
    if_output(k, ifp, m0, nexthop, rt);
  } else if (nb[no + 6]! & 0x40) {
    k.stats.ipstat.inc(ips_cantfrag);
    if (!dup) pf_route_icmp(k, m0, 3, 4, ifp.if_mtu);
    else m0.free();
  } else {
    const ml = k.inet.fragList;
    if (ip_fragment(k, m0, ml, ifp, mtu, hlen) === 0) {
      for (let f = ml.dequeue(); f !== null; f = ml.dequeue()) {
        if (if_output(k, ifp, f, nexthop, rt) !== 0) {
          ml.purge();
          break;
        }
      }
      k.stats.ipstat.inc(ips_fragmented);
    }
  }
  return dup ? m : null;
}


/** pf_send_icmp() of pf_route: the error about m0 (freed) is pf's own, no rule sees it (PF_TAG_GENERATED). */
function pf_route_icmp(k: Kernel, m0: Mbuf, type: number, code: number, mtu: number): void {
  m0.pf_flags |= PF_TAG_GENERATED;
  icmp_error(k, m0, type, code, 0, mtu);
}

/**
 * pf_route()'s new source for a packet that had the loopback one: the
 * IPv4 header checksum is redone by the caller; a TCP or UDP checksum the
 * stack already computed follows the pseudo-header (a delayed one is done
 * later, on the new source).
 */
function pf_route_src(m: Mbuf, src: number): void {
  const b = m.buf;
  const o = m.off;
  const osrc = get32(b, o + 12) | 0;
  put32(b, o + 12, src >>> 0);
  if ((get16(b, o + 6) & 0x1fff) !== 0) return;
  const t = o + ((b[o]! & 15) << 2);
  const proto = b[o + 9];
  if (proto === IPPROTO_TCP && (m.csum_flags & M_TCP_CSUM_OUT) === 0 && t + 20 <= o + m.len)
    put16(b, t + 16, adj32(get16(b, t + 16), osrc, src));
  else if (proto === IPPROTO_UDP && t + 8 <= o + m.len && get16(b, t + 6) !== 0)
    put16(b, t + 6, adj32(get16(b, t + 6), osrc, src) || 0xffff);
}

function pf_skip_if(pf: Pf, ifp: Ifnet): boolean {
  if (pf.skip.has(ifp.if_xname)) return true;
  for (let i = 0; i < ifp.if_groups.length; i++) if (pf.skip.has(ifp.if_groups[i]!)) return true;
  return false;
}

/* ------------------------------------------------------------------ */
/* pf_setup_pdesc                                                      */

function pf_setup_pdesc(pf: Pf, pd: PfPdesc, af: number, dir: number, ifp: Ifnet, m: Mbuf, reassembled = false): number {
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
  pd.badopts = 0;
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
    const iplen = get16(b, o + 2);
    if (hl < 20 || hl > m.len || hl > iplen || m.len < iplen) {
      REASON_SET(pf, PFRES_SHORT);
      return PF_DROP;
    }
    // options, IGMP, AH: pf_walk_header (pf_walk.ts)
    const p = b[o + 9]!;
    if ((hl !== 20 || p === IPPROTO_IGMP || p === IPPROTO_AH) &&
        pf_walk_header(pf, pd, b, o, hl, o + (iplen < m.len ? iplen : m.len)) !== PF_PASS)
      return PF_DROP;
    const ipoff = get16(b, o + 6);
    if ((ipoff & 0x3fff) !== 0) {
      // a fragment: reassemble (pf_normalize_ip) or filter as one; the datagram is described anew
      if (!reassembled) {
        const r = pf_normalize_ip(pf, pd);
        if (r !== PF_PASS) return r;
        if (pd.m !== m) return pf_setup_pdesc(pf, pd, af, dir, ifp, pd.m, true);
      }
    }
    pd.tot_len = iplen;
    pd.tos = b[o + 1]! & 0xfc;
    pd.ttl = b[o + 8]!;
    pd.s0 = get32(b, o + 12) | 0;
    pd.d0 = get32(b, o + 16) | 0;
    pd.s1 = pd.s2 = pd.s3 = pd.d1 = pd.d2 = pd.d3 = 0;
    if (hl === 20 && p !== IPPROTO_AH) {
      pd.proto = p;
      off = o + hl;
    } else off = pd.thoff;
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
    if (m.len < pd.tot_len) {
      REASON_SET(pf, PFRES_SHORT);
      return PF_DROP;
    }
    pd.tos = ((get16(b, o) >>> 4) & 0xfc) | 0;
    pd.ttl = b[o + 7]!;
    pd.s0 = get32(b, o + 8) | 0;
    pd.s1 = get32(b, o + 12) | 0;
    pd.s2 = get32(b, o + 16) | 0;
    pd.s3 = get32(b, o + 20) | 0;
    pd.d0 = get32(b, o + 24) | 0;
    pd.d1 = get32(b, o + 28) | 0;
    pd.d2 = get32(b, o + 32) | 0;
    pd.d3 = get32(b, o + 36) | 0;
    // the extension headers (pf_walk.ts)
    if (pf_walk_header6(pf, pd, b, o, o + pd.tot_len) !== PF_PASS) return PF_DROP;
    // jumbograms are not supported
    if (pd.jumbolen !== 0) {
      REASON_SET(pf, PFRES_NORM);
      return PF_DROP;
    }
    off = pd.thoff;
    if (pd.fragoff !== 0) {
      // a fragment: reassemble (pf_normalize_ip6) or filter as one
      if (!reassembled && pf.reass !== 0) {
        const r = pf_normalize_ip6(pf, pd);
        if (r !== PF_PASS) return r;
        return pf_setup_pdesc(pf, pd, af, dir, ifp, pd.m, true);
      }
      pd.virtual_proto = PF_VPROTO_FRAGMENT;
      pd.p_len = o + pd.tot_len - off;
      copyNs(pd);
      return PF_PASS;
    }
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
      pd.th_seq = get32(b, off + 4) | 0;
      pd.th_ack = get32(b, off + 8) | 0;
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
      // MLD and neighbor solicitations/advertisements: pf looks at their address (24 bytes)
      if (pd.proto === IPPROTO_ICMPV6 && (pd.icmptype === 130 || pd.icmptype === 131 || pd.icmptype === 135 || pd.icmptype === 136) &&
          off + 24 > end) {
        REASON_SET(pf, PFRES_SHORT);
        return PF_DROP;
      }
      pf_icmp_mapping(pd, pd.icmptype, b, off);
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


/** The fake id OpenBSD gives MLD and ND messages: the address's eight 16-bit words xored. */
function pf_icmp_addr_id(b: Uint8Array, o: number): number {
  let h = 0;
  for (let i = 0; i < 16; i += 2) h ^= (b[o + i]! << 8) | b[o + i + 1]!;
  return h;
}

/**
 * pf_icmp_mapping(): queries and replies map to (direction, virtual type,
 * virtual id, in pd.icmp_id) so a request and its reply share a state;
 * errors set state_icmp, and so does an ND neighbor advertisement (it
 * never creates a state).  Types without a reply get their own states,
 * inbound, id 0.
 */
function pf_icmp_mapping(pd: PfPdesc, type: number, b: Uint8Array, off: number): void {
  pd.icmp_dir = PF_IN;
  pd.icmptype_v = type;
  pd.state_icmp = false;
  if (pd.af === AF_INET) {
    switch (type) {
      case 8: // echo, tstamp, ireq, maskreq and their replies: the query's id
      case 13:
      case 15:
      case 17:
        return;
      case 0: case 14: case 16: case 18:
        pd.icmp_dir = PF_OUT;
        pd.icmptype_v = type === 0 ? 8 : type - 1;
        return;
      case 37: // IPv6 where-are-you, mobile registration, router solicitation: nothing sane to match on
      case 35:
      case 10:
        pd.icmp_id = 0;
        return;
      case 38: case 36: case 9:
        pd.icmp_dir = PF_OUT;
        pd.icmptype_v = type === 9 ? 10 : type - 1;
        pd.icmp_id = 0;
        return;
      case 3: case 4: case 5: case 11: case 12:
        pd.state_icmp = true;
        pd.icmp_dir = PF_OUT;
        return;
      default:
        pd.icmp_id = 0;
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
    case 130: // MLD query and report: one state per multicast address, inbound
    case 131:
      pd.icmptype_v = 130;
      pd.icmp_id = pf_icmp_addr_id(b, off + 8);
      return;
    case 139: // who-are-you, mtrace
    case 200:
      pd.icmp_id = 0;
      return;
    case 140: case 201:
      pd.icmp_dir = PF_OUT;
      pd.icmptype_v = type - 1;
      pd.icmp_id = 0;
      return;
    case 135: // neighbor solicitation: one state per target
      pd.icmp_id = pf_icmp_addr_id(b, off + 8);
      return;
    case 136: // an advertisement may be unsolicited: it never creates a state
      pd.icmp_dir = PF_OUT;
      pd.icmptype_v = 135;
      pd.icmp_id = pf_icmp_addr_id(b, off + 8);
      pd.state_icmp = true;
      return;
    case 1: case 2: case 3: case 4:
      pd.state_icmp = true;
      pd.icmp_dir = PF_OUT;
      return;
    default:
      pd.icmp_id = 0;
      return;
  }
}

/* ------------------------------------------------------------------ */
/* state lookup                                                        */

/**
 * pf_find_state(): the state of the packet for direction dir on kif, or -1.
 * An outbound packet that pf_test(IN) linked to a state key (m.pf_statekey)
 * starts from that key's reverse (sk_reverse), the key of the other
 * direction's state, when it is the packet's key: no hash lookup; else the
 * key found links to it for the next packets.
 */
function pf_find_state(pf: Pf, pd: PfPdesc): number {
  const meta = pd.af | (pd.proto << 8) | (pd.rdomain << 16);
  let a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number, ports: number;
  if (pd.sidx === 0) {
    a0 = pd.s0; a1 = pd.s1; a2 = pd.s2; a3 = pd.s3;
    b0 = pd.d0; b1 = pd.d1; b2 = pd.d2; b3 = pd.d3;
    ports = (pd.osport << 16) | pd.odport;
  } else {
    a0 = pd.d0; a1 = pd.d1; a2 = pd.d2; a3 = pd.d3;
    b0 = pd.s0; b1 = pd.s1; b2 = pd.s2; b3 = pd.s3;
    ports = (pd.odport << 16) | pd.osport;
  }
  pf.fcounters[FCNT_STATE_SEARCH]++;
  const st = pf.st;
  const kd = st.kd;
  let kx = -1;
  let pk = -1;
  if (pd.dir === PF_OUT) {
    pk = pd.m.pf_statekey;
    if (pk >= 0) {
      // pf_pkt_addr_changed(): the link serves this lookup only
      pd.m.pf_statekey = -1;
      if (pk >= 2 * st.cap) pk = -1;
      else {
        const rev = kd[st.ko(pk) + K_REV]! - 1;
        if (rev >= 0 && st.live(rev) && pf_key_eq(kd, st.ko(rev), meta, a0, a1, a2, a3, b0, b1, b2, b3, ports)) kx = rev;
      }
    }
  }
  if (kx < 0) {
    kx = st.lookup(meta, a0, a1, a2, a3, b0, b1, b2, b3, ports, pf_hash(meta, a0, a1, a2, a3, b0, b1, b2, b3, ports));
    if (kx < 0) return -1;
    if (pk >= 0 && st.live(pk)) pf_state_key_link_reverse(st, kx, pk);
  }
  const s = kx >>> 1;
  const si = st.si;
  const b = s * ST_N;
  if (si[b + ST_TIMEOUT] === PFTM_PURGE) return -1;
  const kif = si[b + ST_KIF]!;
  if (kif !== 0 && kif !== pd.kif.if_index) return -1;
  // inbound packets match the wire key, outbound ones the stack key; af-to states: inbound ones, either key
  if (si[b + ST_NKEYS] === 2 &&
      ((si[b + ST_FLAGS]! & PFSTATE_AFTO) !== 0 ? pd.dir !== PF_IN : (kx & 1) !== (pd.dir === PF_IN ? 0 : 1))) return -1;
  return s;
}

/** pf_state_key_link_reverse(): link keys kx and pk both ways when they are exact opposites (pf_compare_state_keys). */
function pf_state_key_link_reverse(st: PfStateStore, kx: number, pk: number): void {
  const kd = st.kd;
  const o = st.ko(kx);
  const p = st.ko(pk);
  const ports = kd[o + K_PORTS]!;
  if (kd[p + K_META] !== kd[o + K_META] || kd[p + K_PORTS] !== ((ports << 16) | (ports >>> 16))) return;
  for (let i = 0; i < 4; i++) if (kd[p + K_A + i] !== kd[o + K_B + i] || kd[p + K_B + i] !== kd[o + K_A + i]) return;
  kd[o + K_REV] = pk + 1;
  kd[p + K_REV] = kx + 1;
}

/**
 * pf_test_state(): the state of the packet and what it says.  Returns the
 * state (-1: no state, go to the rules); pf.ctx_reason is -2 when the
 * packet passes, else the reason it is dropped.
 */
function pf_test_state(pf: Pf, pd: PfPdesc): number {
  if (pd.state_icmp) return pf_test_state_icmp_error(pf, pd);
  const s = pf_find_state(pf, pd);
  if (s < 0) return -1;
  const si = pf.st.si;
  const b = s * ST_N;
  let src: number, dst: number;
  // the peers by direction only, as OpenBSD: both ways of an af-to state are inbound (its UDP/other states stay SINGLE:NO_TRAFFIC)
  if (pd.dir === si[b + ST_DIR]) {
    src = b + ST_SRC;
    dst = b + ST_DST;
  } else {
    src = b + ST_DST;
    dst = b + ST_SRC;
  }
  const now = pf.uptime();
  switch (pd.proto) {
    case IPPROTO_TCP:
      // synproxy: pf is still in the handshake with either side
      if (si[b + ST_SRC + PR_STATE]! >= PF_TCPS_PROXY_SRC && pf_synproxy(pf, pd, s) !== PF_PASS) return s;
      if ((pd.th_flags & (TH_SYN | TH_ACK)) === TH_SYN && si[dst + PR_STATE]! >= TCPS_FIN_WAIT_2 && si[src + PR_STATE]! >= TCPS_FIN_WAIT_2) {
        // a new connection reusing the ports of a closed one: drop the old state
        pf_remove_state(pf, s);
        return -1;
      }
      if ((si[b + ST_FLAGS]! & PFSTATE_SLOPPY) !== 0) {
        if (pf_tcp_track_sloppy(pf, pd, s, src, dst, now) === PF_DROP) return s;
      } else if ((si[b + ST_FLAGS]! & PFSTATE_AFTO) !== 0 && pf_afto_reversed(pf, pd, s)) {
        // PF_REVERSED_KEY: full TCP tracking of an af-to state takes the family for the way
        if (pf_tcp_track_full(pf, pd, s, dst, src, now) === PF_DROP) return s;
      } else if (pf_tcp_track_full(pf, pd, s, src, dst, now) === PF_DROP) return s;
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      // pf_test_state_icmp(): a query or its reply renews the state; ICMP peers have no state levels (0:0)
      si[b + ST_EXPIRE] = now;
      si[b + ST_TIMEOUT] = PFTM_ICMP_ERROR_REPLY;
      break;
    case IPPROTO_UDP:
    default: {
      if (si[src + PR_STATE]! < PFUDPS_SINGLE) si[src + PR_STATE] = PFUDPS_SINGLE;
      if (si[dst + PR_STATE] === PFUDPS_SINGLE) si[dst + PR_STATE] = PFUDPS_MULTIPLE;
      si[b + ST_EXPIRE] = now;
      const multiple = si[src + PR_STATE] === PFUDPS_MULTIPLE && si[dst + PR_STATE] === PFUDPS_MULTIPLE;
      if (pd.proto === IPPROTO_UDP) si[b + ST_TIMEOUT] = multiple ? PFTM_UDP_MULTIPLE : PFTM_UDP_SINGLE;
      else si[b + ST_TIMEOUT] = multiple ? PFTM_OTHER_MULTIPLE : PFTM_OTHER_SINGLE;
      break;
    }
  }
  // translate, if the state does (af-to: pf_test translates the whole packet after the counters)
  if (si[b + ST_NKEYS] === 2) {
    if ((si[b + ST_FLAGS]! & PFSTATE_AFTO) !== 0) pf_afto_state(pf, pd, s);
    else pf_translate_to_key(pf, pd, pf.st.ko(pd.didx === 1 ? 2 * s + 1 : 2 * s), pf.st.kd, pd.sidx, s, true);
  }
  pf.ctx_reason = -2;
  return s;
}

/**
 * Rewrite the packet's addresses and ports to those of the key at kd[o]
 * (sidx: the source's index in the key) of state s; fromState: by the
 * state (a later packet), not the rule creating it (for the journey).
 */
function pf_translate_to_key(pf: Pf, pd: PfPdesc, o: number, kd: Int32Array, sidx: number, s: number, fromState: boolean): void {
  const ports = kd[o + K_PORTS]!;
  const sa = sidx === 0 ? o + K_A : o + K_B;
  const da = sidx === 0 ? o + K_B : o + K_A;
  const sp = sidx === 0 ? ports >>> 16 : ports & 0xffff;
  const dp = sidx === 0 ? ports & 0xffff : ports >>> 16;
  if (pd.s0 !== kd[sa] || pd.s1 !== kd[sa + 1] || pd.s2 !== kd[sa + 2] || pd.s3 !== kd[sa + 3] || pd.osport !== sp) {
    if (pf.k.trace !== null) pf_change_ap_traced(pf, pd, 0, kd[sa]!, kd[sa + 1]!, kd[sa + 2]!, kd[sa + 3]!, sp, s, fromState);
    else pf_change_ap(pd, 0, kd[sa]!, kd[sa + 1]!, kd[sa + 2]!, kd[sa + 3]!, sp);
  }
  if (pd.d0 !== kd[da] || pd.d1 !== kd[da + 1] || pd.d2 !== kd[da + 2] || pd.d3 !== kd[da + 3] || pd.odport !== dp) {
    pd.destchg = true;
    if (pf.k.trace !== null) pf_change_ap_traced(pf, pd, 1, kd[da]!, kd[da + 1]!, kd[da + 2]!, kd[da + 3]!, dp, s, fromState);
    else pf_change_ap(pd, 1, kd[da]!, kd[da + 1]!, kd[da + 2]!, kd[da + 3]!, dp);
  }
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
    for (let i = 0; i < 4; i++) {
      const old = get32(b, ao + i * 4);
      const n = (i === 0 ? w0 : i === 1 ? w1 : i === 2 ? w2 : w3) >>> 0;
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
      // only echo, timestamp, information and mask queries carry their id in the header (MLD and ND ids are made up)
      const v = pd.icmptype_v;
      if (op !== port && (v === 128 || (proto === IPPROTO_ICMP && (v === 8 || v === 13 || v === 15 || v === 17)))) {
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

/**
 * pf_tcp_track_full(): Guido van Rooij's window tracking.  src and dst are
 * the offsets of the sending and receiving peers in pf.st.si; sequence
 * numbers are int32 and compared by their difference, as SEQ_GEQ does.
 */
function pf_tcp_track_full(pf: Pf, pd: PfPdesc, s: number, src: number, dst: number, now: number): number {
  const si = pf.st.si;
  const flags = pd.th_flags;
  let win = pd.th_win;
  let sws: number, dws: number;
  if (si[src + PR_WSCALE] !== 0 && si[dst + PR_WSCALE] !== 0 && (flags & TH_SYN) === 0) {
    sws = si[src + PR_WSCALE]! & PF_WSCALE_MASK;
    dws = si[dst + PR_WSCALE]! & PF_WSCALE_MASK;
  } else sws = dws = 0;
  let seq = pd.th_seq;
  const orig_seq = seq;
  let ack: number, end: number, data_end: number;
  if (si[src + PR_SEQLO] === 0) {
    // first packet from this end
    ack = pd.th_ack;
    end = (seq + pd.p_len) | 0;
    if (flags & TH_SYN) {
      end = (end + 1) | 0;
      if (si[dst + PR_WSCALE]! & PF_WSCALE_FLAG) {
        const ws = pf_get_wscale(pd);
        si[src + PR_WSCALE] = ws;
        if (ws & PF_WSCALE_FLAG) {
          sws = ws & PF_WSCALE_MASK;
          win = (win + (1 << sws) - 1) >>> sws;
          dws = si[dst + PR_WSCALE]! & PF_WSCALE_MASK;
        } else {
          si[dst + PR_MAXWIN] = Math.min(TCP_MAXWIN, si[dst + PR_MAXWIN]! << (si[dst + PR_WSCALE]! & PF_WSCALE_MASK));
          si[dst + PR_WSCALE] = 0;
        }
      }
    }
    data_end = end;
    if (flags & TH_FIN) end = (end + 1) | 0;
    si[src + PR_SEQLO] = seq;
    if (si[src + PR_STATE]! < TCPS_SYN_SENT) si[src + PR_STATE] = TCPS_SYN_SENT;
    const w = Math.max(1, si[dst + PR_MAXWIN]! << dws);
    if (si[src + PR_SEQHI] === 1 || SEQ_GEQ((end + w) | 0, si[src + PR_SEQHI]!)) si[src + PR_SEQHI] = (end + w) | 0;
    if (win > si[src + PR_MAXWIN]!) si[src + PR_MAXWIN] = win;
  } else {
    ack = (pd.th_ack - si[dst + PR_SEQDIFF]!) | 0;
    // modulated sequence numbers (synproxy): the packet carries the peer's view
    if (si[src + PR_SEQDIFF] !== 0) pf_tcp_modulate(pd, (seq + si[src + PR_SEQDIFF]!) | 0, ack);
    end = (seq + pd.p_len) | 0;
    if (flags & TH_SYN) end = (end + 1) | 0;
    data_end = end;
    if (flags & TH_FIN) end = (end + 1) | 0;
  }
  if ((flags & TH_ACK) === 0) ack = si[dst + PR_SEQLO]!;
  else if ((ack === 0 && (flags & (TH_ACK | TH_RST)) === (TH_ACK | TH_RST)) || si[dst + PR_STATE]! < TCPS_SYN_SENT)
    ack = si[dst + PR_SEQLO]!;
  if (seq === end) {
    // no data: ease the sequencing restrictions
    seq = si[src + PR_SEQLO]!;
    data_end = end = seq;
  }
  const src_seqlo = si[src + PR_SEQLO]!;
  const ackskew = (si[dst + PR_SEQLO]! - ack) | 0;
  if (si[dst + PR_SEQDIFF] !== 0 && pd.hdrlen > 20) pf_modulate_sack(pd, si[dst + PR_SEQDIFF]!);
  const dwin = si[dst + PR_MAXWIN]! << dws;
  if (
    SEQ_GEQ(si[src + PR_SEQHI]!, data_end) &&
    SEQ_GEQ(seq, (src_seqlo - dwin) | 0) &&
    ackskew >= -MAXACKWINDOW &&
    ackskew <= MAXACKWINDOW << sws &&
    ((flags & TH_RST) === 0 || orig_seq === src_seqlo || orig_seq === ((src_seqlo + 1) | 0) || ((orig_seq + 1) | 0) === src_seqlo)
  ) {
    if (si[src + PR_MAXWIN]! < win) si[src + PR_MAXWIN] = win;
    if (SEQ_GT(end, src_seqlo)) si[src + PR_SEQLO] = end;
    const ww = win << sws;
    if (SEQ_GEQ((ack + ww) | 0, si[dst + PR_SEQHI]!)) si[dst + PR_SEQHI] = (ack + Math.max(ww, 1)) | 0;
    if (flags & TH_SYN && si[src + PR_STATE]! < TCPS_SYN_SENT) si[src + PR_STATE] = TCPS_SYN_SENT;
    if (flags & TH_FIN && si[src + PR_STATE]! < TCPS_CLOSING) si[src + PR_STATE] = TCPS_CLOSING;
    if (flags & TH_ACK) {
      if (si[dst + PR_STATE] === TCPS_SYN_SENT) {
        si[dst + PR_STATE] = TCPS_ESTABLISHED;
        if (si[src + PR_STATE] === TCPS_ESTABLISHED && pf_src_established(pf, s)) return PF_DROP;
      } else if (si[dst + PR_STATE] === TCPS_CLOSING) si[dst + PR_STATE] = TCPS_FIN_WAIT_2;
    }
    if (flags & TH_RST) si[src + PR_STATE] = si[dst + PR_STATE] = TCPS_TIME_WAIT;
    pf_tcp_timeout(pf, s, src, dst, now);
    return PF_PASS;
  }
  if (
    (si[dst + PR_STATE]! < TCPS_SYN_SENT || si[dst + PR_STATE]! >= TCPS_FIN_WAIT_2 || si[src + PR_STATE]! >= TCPS_FIN_WAIT_2) &&
    SEQ_GEQ((si[src + PR_SEQHI]! + MAXACKWINDOW) | 0, data_end) &&
    SEQ_GEQ(seq, (src_seqlo - MAXACKWINDOW) | 0)
  ) {
    // shotgunned SYNs, a connection picked up late, or funky packets after the close
    if (si[src + PR_MAXWIN]! < win) si[src + PR_MAXWIN] = win;
    if (SEQ_GT(end, src_seqlo)) si[src + PR_SEQLO] = end;
    const ww = win << sws;
    if (SEQ_GEQ((ack + ww) | 0, si[dst + PR_SEQHI]!)) si[dst + PR_SEQHI] = (ack + Math.max(ww, 1)) | 0;
    if (flags & TH_FIN && si[src + PR_STATE]! < TCPS_CLOSING) si[src + PR_STATE] = TCPS_CLOSING;
    if (flags & TH_RST) si[src + PR_STATE] = si[dst + PR_STATE] = TCPS_TIME_WAIT;
    pf_halfopen_update(pf, s);
    return PF_PASS;
  }
  const b = s * ST_N;
  if (si[b + ST_DST + PR_STATE] === TCPS_SYN_SENT && si[b + ST_SRC + PR_STATE] === TCPS_SYN_SENT) {
    // a mismatch during the handshake: reset the sender
    const r = pf.ruletab[si[s * ST_N + ST_RULE]!]!;
    if (!(flags & TH_RST)) pf_send_tcp(pf, r, pd, pd.odport, pd.osport, pd.th_ack, 0, TH_RST, r.returnTtl, pd.rdomain);
    si[src + PR_SEQLO] = 0;
    si[src + PR_SEQHI] = 1;
    si[src + PR_MAXWIN] = 1;
  }
  REASON_SET(pf, PFRES_BADSTATE);
  return PF_DROP;
}

/** The TCP state's timeout from its peers' states (and the half-open count). */
function pf_tcp_timeout(pf: Pf, s: number, src: number, dst: number, now: number): void {
  const si = pf.st.si;
  const b = s * ST_N;
  pf_halfopen_update(pf, s);
  si[b + ST_EXPIRE] = now;
  const ss = si[src + PR_STATE]!;
  const ds = si[dst + PR_STATE]!;
  let t: number;
  if (ss >= TCPS_FIN_WAIT_2 && ds >= TCPS_FIN_WAIT_2) t = PFTM_TCP_CLOSED;
  else if (ss >= TCPS_CLOSING && ds >= TCPS_CLOSING) t = PFTM_TCP_FIN_WAIT;
  else if (ss < TCPS_ESTABLISHED || ds < TCPS_ESTABLISHED) t = PFTM_TCP_OPENING;
  else if (ss >= TCPS_CLOSING || ds >= TCPS_CLOSING) t = PFTM_TCP_CLOSING;
  else t = PFTM_TCP_ESTABLISHED;
  si[b + ST_TIMEOUT] = t;
}

/** pf_tcp_track_sloppy(): states only, no windows (keep state (sloppy)). */
function pf_tcp_track_sloppy(pf: Pf, pd: PfPdesc, s: number, src: number, dst: number, now: number): number {
  const si = pf.st.si;
  const flags = pd.th_flags;
  if (flags & TH_SYN && si[src + PR_STATE]! < TCPS_SYN_SENT) si[src + PR_STATE] = TCPS_SYN_SENT;
  if (flags & TH_FIN && si[src + PR_STATE]! < TCPS_CLOSING) si[src + PR_STATE] = TCPS_CLOSING;
  if (flags & TH_ACK) {
    const ss = si[src + PR_STATE]!;
    const ds = si[dst + PR_STATE]!;
    if (ds === TCPS_SYN_SENT) {
      si[dst + PR_STATE] = TCPS_ESTABLISHED;
      if (ss === TCPS_ESTABLISHED && pf_src_established(pf, s)) return PF_DROP;
    } else if (ds === TCPS_CLOSING) si[dst + PR_STATE] = TCPS_FIN_WAIT_2;
    else if (ss === TCPS_SYN_SENT && ds < TCPS_SYN_SENT) {
      si[src + PR_STATE] = si[dst + PR_STATE] = TCPS_ESTABLISHED;
      if (pf_src_established(pf, s)) return PF_DROP;
    } else if (ss === TCPS_CLOSING && ds === TCPS_ESTABLISHED) si[dst + PR_STATE] = TCPS_FIN_WAIT_2;
  }
  if (flags & TH_RST) si[src + PR_STATE] = si[dst + PR_STATE] = TCPS_TIME_WAIT;
  pf_tcp_timeout(pf, s, src, dst, now);
  return PF_PASS;
}

/**
 * A TCP state just became established both ways: with source nodes, count
 * the connection against max-src-conn / max-src-conn-rate (pf_src_connlimit).
 * True when the packet is dropped (src-limit; the state was killed).
 */
export function pf_src_established(pf: Pf, s: number): boolean {
  if ((pf.st.si[s * ST_N + ST_FLAGS]! & PFSTATE_SRCNODE) === 0 || !pf_src_connlimit(pf, s)) return false;
  REASON_SET(pf, PFRES_SRCLIMIT);
  return true;
}

/**
 * pf_set_protostate()'s bookkeeping of half-open TCP states (pf_status's
 * states_halfopen, pfctl -si's "half-open tcp"): a TCP state counts from its
 * creation until its source peer has established or closed; other
 * protocols never count.
 */
function pf_halfopen_update(pf: Pf, s: number): void {
  const si = pf.st.si;
  const b = s * ST_N;
  const ss = si[b + ST_SRC + PR_STATE]!;
  const ho = ((pf.st.kd[pf.st.ko(2 * s) + K_META]! >>> 8) & 0xff) === IPPROTO_TCP && ss !== TCPS_CLOSED && ss < TCPS_ESTABLISHED ? 1 : 0;
  if (ho !== si[b + ST_HALFOPEN]) {
    si[b + ST_HALFOPEN] = ho;
    pf.states_halfopen += ho !== 0 ? 1 : -1;
  }
}

/* ------------------------------------------------------------------ */
/* ICMP errors: find the state of the quoted packet                    */

/**
 * pf_test_state_icmp() for an ICMP or ICMPv6 error: the state of the packet
 * it quotes, looked up as if the quoted packet were going the error's way
 * (pd2.dir = pd.dir with source and destination swapped, so an error
 * coming in matches the wire key and one going out the stack key).  A
 * translating state puts the quoted packet and the outer addresses back
 * as its other side sees them, fixing the ICMP checksum for each change;
 * like OpenBSD, the quoted IP header's checksum is left as it was and a
 * quoted UDP checksum becomes 0.  Returns the state (-1: none, the rules
 * decide); pf.ctx_reason -2 when the error passes.
 */
function pf_test_state_icmp_error(pf: Pf, pd: PfPdesc): number {
  const b = pd.m.buf;
  const v4 = pd.af === AF_INET;
  const ip2 = pd.thoff + 8;
  const end = pd.ipoff + pd.tot_len;
  let p2: number, t2: number, sa: number, da: number;
  if (v4) {
    if (ip2 + 20 > end) return -1;
    // errors never quote a fragment that is not the first
    if ((get16(b, ip2 + 6) & 0x1fff) !== 0) {
      pf.counters[PFRES_FRAG]++;
      return -1;
    }
    const hl2 = (b[ip2]! & 15) << 2;
    if (hl2 < 20) return -1;
    p2 = b[ip2 + 9]!;
    t2 = ip2 + hl2;
    sa = ip2 + 12;
    da = ip2 + 16;
  } else {
    if (ip2 + 40 > end) return -1;
    p2 = b[ip2 + 6]!;
    t2 = ip2 + 40;
    for (let n = 0; n < 8 && (p2 === 0 || p2 === 43 || p2 === 60); n++) {
      if (t2 + 8 > end) return -1;
      p2 = b[t2]!;
      t2 += (b[t2 + 1]! + 1) << 3;
    }
    sa = ip2 + 8;
    da = ip2 + 24;
  }
  // the error is about a packet sent to its source's host: the outer destination is the quoted source
  if (!pf_quoted_is(b, sa, v4, pd.d0, pd.d1, pd.d2, pd.d3)) return -1;
  let sp = 0;
  let dp = 0;
  let idir = PF_IN;
  let echo = false;
  if (p2 === IPPROTO_TCP || p2 === IPPROTO_UDP) {
    if (t2 + 8 > end) return -1;
    sp = get16(b, t2);
    dp = get16(b, t2 + 2);
  } else if (p2 === IPPROTO_ICMP || p2 === IPPROTO_ICMPV6) {
    // a quoted ICMP query or reply: its state's virtual id and type (pf_icmp_mapping)
    if ((p2 === IPPROTO_ICMP) !== v4) {
      REASON_SET(pf, PFRES_NORM);
      return -1;
    }
    if (t2 + 8 > end) return -1;
    const ty = b[t2]!;
    let vt: number;
    if (v4) {
      if (ty === 8 || ty === 13 || ty === 15 || ty === 17) vt = ty;
      else if (ty === 0 || ty === 14 || ty === 16 || ty === 18) {
        vt = ty === 0 ? 8 : ty - 1;
        idir = PF_OUT;
      } else return -1;
      echo = vt === 8;
    } else {
      if (ty === 128) vt = 128;
      else if (ty === 129) {
        vt = 128;
        idir = PF_OUT;
      } else return -1;
      echo = true;
    }
    const id = get16(b, t2 + 4);
    sp = idir === PF_IN ? id : vt;
    dp = idir === PF_IN ? vt : id;
  }
  const st = pf.st;
  const si = st.si;
  const kd = st.kd;
  const meta = pd.af | (p2 << 8) | (pd.rdomain << 16);
  const s0 = get32(b, sa) | 0, d0 = get32(b, da) | 0;
  const s1 = v4 ? 0 : get32(b, sa + 4) | 0, s2 = v4 ? 0 : get32(b, sa + 8) | 0, s3 = v4 ? 0 : get32(b, sa + 12) | 0;
  const d1 = v4 ? 0 : get32(b, da + 4) | 0, d2 = v4 ? 0 : get32(b, da + 8) | 0, d3 = v4 ? 0 : get32(b, da + 12) | 0;
  pf.fcounters[FCNT_STATE_SEARCH]++;
  let kx: number;
  if (pd.dir === PF_IN) {
    const ports = (dp << 16) | sp;
    kx = st.lookup(meta, d0, d1, d2, d3, s0, s1, s2, s3, ports, pf_hash(meta, d0, d1, d2, d3, s0, s1, s2, s3, ports));
  } else {
    // pf_pkt_addr_changed(): a link from pf_test(IN) serves no lookup of an error's quote
    pd.m.pf_statekey = -1;
    const ports = (sp << 16) | dp;
    kx = st.lookup(meta, s0, s1, s2, s3, d0, d1, d2, d3, ports, pf_hash(meta, s0, s1, s2, s3, d0, d1, d2, d3, ports));
  }
  if (kx < 0) return -1;
  const s = kx >>> 1;
  const sb = s * ST_N;
  if (si[sb + ST_TIMEOUT] === PFTM_PURGE) return -1;
  const kif = si[sb + ST_KIF]!;
  if (kif !== 0 && kif !== pd.kif.if_index) return -1;
  if ((si[sb + ST_FLAGS]! & PFSTATE_AFTO) !== 0) return pd.dir === PF_IN ? pf_icmp_error_afto(pf, pd, s, ip2, t2, p2) : -1;
  const translates = si[sb + ST_NKEYS] === 2;
  // inbound the wire key, outbound the stack key
  if (translates && (kx & 1) !== (pd.dir === PF_IN ? 0 : 1)) return -1;
  const sloppy = (si[sb + ST_FLAGS]! & PFSTATE_SLOPPY) !== 0;
  let ck = get16(b, pd.thoff + 2);
  if (p2 === IPPROTO_TCP) {
    // the quoted sequence number must be one the sender's side of the state could have sent
    const src = pd.dir === si[sb + ST_DIR] ? sb + ST_DST : sb + ST_SRC;
    const dst = pd.dir === si[sb + ST_DIR] ? sb + ST_SRC : sb + ST_DST;
    const dws = si[src + PR_WSCALE] !== 0 && si[dst + PR_WSCALE] !== 0 ? si[dst + PR_WSCALE]! & PF_WSCALE_MASK : 0;
    const oseq = get32(b, t2 + 4);
    const seq = (oseq - si[src + PR_SEQDIFF]!) | 0;
    if (si[src + PR_SEQDIFF] !== 0) {
      put32(b, t2 + 4, seq >>> 0);
      ck = adj32(ck, oseq, seq >>> 0);
      put16(b, pd.thoff + 2, ck);
    }
    const inWindow = sloppy || (SEQ_GEQ(si[src + PR_SEQHI]!, seq) && SEQ_GEQ(seq, (si[src + PR_SEQLO]! - (si[dst + PR_MAXWIN]! << dws)) | 0));
    if (!inWindow) {
      REASON_SET(pf, PFRES_BADSTATE);
      return s;
    }
  } else if ((p2 === IPPROTO_ICMP || p2 === IPPROTO_ICMPV6) && !sloppy) {
    // the quoted query went the state's way, its reply the other (pf_icmp_state_lookup, inner)
    if ((si[sb + ST_DIR] !== pd.dir ? PF_IN : PF_OUT) !== idir) {
      pf.ctx_reason = PFRES_MATCH;
      return s;
    }
  }
  if (translates) {
    const o = st.ko(pd.didx === 1 ? 2 * s + 1 : 2 * s);
    // the key's index of the quoted source: pd2.sidx, 1 for an error coming in
    const nsa = pd.dir === PF_IN ? o + K_B : o + K_A;
    const nda = pd.dir === PF_IN ? o + K_A : o + K_B;
    const kp = kd[o + K_PORTS]!;
    const hi = kp >>> 16;
    const lo = kp & 0xffff;
    const nsp = pd.dir === PF_IN ? lo : hi;
    const ndp = pd.dir === PF_IN ? hi : lo;
    const icmp = p2 === IPPROTO_ICMP || p2 === IPPROTO_ICMPV6;
    const tcpudp = p2 === IPPROTO_TCP || p2 === IPPROTO_UDP;
    // the id is the port of the side that chose it (iidx)
    const nid = idir === PF_IN ? nsp : ndp;
    // where the quoted ports (or the echo id) are, for the trace's record (-1: none)
    const spo = tcpudp ? t2 : icmp && echo && idir === PF_IN ? t2 + 4 : -1;
    const dpo = tcpudp ? t2 + 2 : icmp && echo && idir !== PF_IN ? t2 + 4 : -1;
    const was = v4 && pf.k.trace !== null ? pf_icmp_error_before(pd, ip2, spo, dpo) : null;
    if (!pf_quoted_is(b, sa, v4, kd[nsa]!, kd[nsa + 1]!, kd[nsa + 2]!, kd[nsa + 3]!) ||
        (tcpudp && sp !== nsp) || (icmp && echo && get16(b, t2 + 4) !== nid)) {
      if (tcpudp) ck = pf_quoted_port(b, t2, ck, nsp);
      else if (icmp && echo) ck = pf_quoted_port(b, t2 + 4, ck, nid);
      ck = pf_quoted_addr(b, sa, v4, ck, kd, nsa);
      ck = pf_outer_addr(pd, 1, ck, kd, nsa);
    }
    if (!pf_quoted_is(b, da, v4, kd[nda]!, kd[nda + 1]!, kd[nda + 2]!, kd[nda + 3]!)) pd.destchg = true;
    if (!pf_quoted_is(b, da, v4, kd[nda]!, kd[nda + 1]!, kd[nda + 2]!, kd[nda + 3]!) || (tcpudp && dp !== ndp)) {
      if (tcpudp) ck = pf_quoted_port(b, t2 + 2, ck, ndp);
      ck = pf_quoted_addr(b, da, v4, ck, kd, nda);
      ck = pf_outer_addr(pd, 0, ck, kd, nda);
    }
    // the quoted UDP checksum no longer holds: 0, as pf leaves it
    if (p2 === IPPROTO_UDP) ck = pf_quoted_port(b, t2 + 6, ck, 0);
    put16(b, pd.thoff + 2, ck);
    if (was !== null) pf_icmp_error_traced(pf, pd, s, ip2, spo, dpo, was);
  }
  pf.ctx_reason = -2;
  return s;
}

/** The quoted address at b[o] is (w0..w3). */
function pf_quoted_is(b: Uint8Array, o: number, v4: boolean, w0: number, w1: number, w2: number, w3: number): boolean {
  if ((get32(b, o) | 0) !== w0) return false;
  return v4 || ((get32(b, o + 4) | 0) === w1 && (get32(b, o + 8) | 0) === w2 && (get32(b, o + 12) | 0) === w3);
}

/** Set the 16-bit field at b[o] inside the quote to v; returns the ICMP checksum ck adjusted. */
function pf_quoted_port(b: Uint8Array, o: number, ck: number, v: number): number {
  const old = get16(b, o);
  if (old === v) return ck;
  put16(b, o, v);
  return adjust16(ck, old, v);
}

/** Set the quoted address at b[o] to the key's at kd[ka]; returns the ICMP checksum ck adjusted (pf_cksum_fixup_a). */
function pf_quoted_addr(b: Uint8Array, o: number, v4: boolean, ck: number, kd: Int32Array, ka: number): number {
  const n = v4 ? 1 : 4;
  for (let i = 0; i < n; i++) {
    const old = get32(b, o + 4 * i);
    const w = kd[ka + i]! >>> 0;
    if (old === w) continue;
    put32(b, o + 4 * i, w);
    ck = adj32(ck, old, w);
  }
  return ck;
}

/**
 * pf_translate_a() of the error's own source (which 0) or destination (1)
 * to the key's address at kd[ka]: the IPv4 header checksum, or for ICMPv6
 * the pseudo-header in the checksum ck (returned).
 */
function pf_outer_addr(pd: PfPdesc, which: number, ck: number, kd: Int32Array, ka: number): number {
  const b = pd.m.buf;
  if (pd.af === AF_INET) {
    const ao = pd.ipoff + (which === 0 ? 12 : 16);
    const old = get32(b, ao);
    const w = kd[ka]! >>> 0;
    if (old !== w) {
      put32(b, ao, w);
      put16(b, pd.ipoff + 10, adj32(get16(b, pd.ipoff + 10), old, w));
    }
    if (which === 0) pd.s0 = w | 0;
    else pd.d0 = w | 0;
    return ck;
  }
  ck = pf_quoted_addr(b, pd.ipoff + (which === 0 ? 8 : 24), false, ck, kd, ka);
  if (which === 0) {
    pd.s0 = kd[ka]!; pd.s1 = kd[ka + 1]!; pd.s2 = kd[ka + 2]!; pd.s3 = kd[ka + 3]!;
  } else {
    pd.d0 = kd[ka]!; pd.d1 = kd[ka + 1]!; pd.d2 = kd[ka + 2]!; pd.d3 = kd[ka + 3]!;
  }
  return ck;
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
      // the `_pf` table pfi_dynaddr_setup() keeps (pf_if.ts)
      if (aw.table !== null) mismatch = (aw.af !== 0 && aw.af !== af) || !aw.table.matchAddr(af, x0, x1, x2, x3);
      else mismatch = !pfi_match_addr(pf, aw, af, x0);
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
      // `once`: the first packet that matches expires the rule (pfctl -vvsr shows "# expired")
      if ((r.ruleFlag & PFRULE_ONCE) !== 0) {
        r.ruleFlag |= PFRULE_EXPIRED;
        r.exptime = pf.uptime();
      }
      if (r.action === PF_MATCH) {
        pf.ctx_matches[pf.ctx_nmatches++] = r;
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
      if ((pf.ctx_log & PF_LOG_MATCHES) !== 0) pf_log_matches(pf, pd, r, pf.ctx_a);
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
  pf_socket_lookup_once(pf, pd);
  return uid ? pd.lookup_uid : pd.lookup_gid;
}

/** The socket lookup, once per packet (pd->lookup.done); true when the packet's local socket was found. */
export function pf_socket_lookup_once(pf: Pf, pd: PfPdesc): boolean {
  if (!pd.lookup_done) {
    pd.lookup_done = true;
    pd.lookup_uid = -1;
    pd.lookup_gid = -1;
    pd.lookup_pid = PF_NO_PID;
    if (pf.socketLookup !== null) {
      const o = pf.socketLookup(pf.k, pd.af, pd.proto, pd);
      if (o !== null) {
        pd.lookup_uid = o.uid;
        pd.lookup_gid = o.gid;
        pd.lookup_pid = o.pid;
      }
    }
  }
  return pd.lookup_pid !== PF_NO_PID;
}

/**
 * pf_log_matches(): a rule matched after a log (matches) match rule: log
 * it, once for each such match rule, to that rule's pflog interface (the
 * rule with log (matches) itself was logged when it matched).  Like
 * OpenBSD, the rule that decides is logged when it matches and again
 * when pf_test_rule is done with it.
 */
function pf_log_matches(pf: Pf, pd: PfPdesc, rm: KRule, am: KRule | null): void {
  if ((rm.log & PF_LOG_MATCHES) !== 0) return;
  // ctx.rules is a list built at its head: the latest match rule first
  for (let i = pf.ctx_nmatches - 1; i >= 0; i--) {
    const t = pf.ctx_matches[i]!;
    if ((t.log & PF_LOG_MATCHES) !== 0) pflog_packet(pf, pd, PFRES_MATCH, rm, am, rm.action, t);
  }
}

/**
 * pf_test()'s logging of a state's match rules: those with log (all) log
 * its every packet (the packet that made the state logged them as they
 * matched), with the state's anchor rule, as OpenBSD.
 */
function pf_log_match_rules(pf: Pf, pd: PfPdesc, s: number, reason: number, a: KRule | null): void {
  const rules = pf.st.match_rules.get(s);
  if (rules === undefined) return;
  for (const mr of rules) if ((mr.log & PF_LOG_ALL) !== 0) pflog_packet(pf, pd, reason, mr, a, mr.action);
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
  pf.ctx_natpl = null;
  pf.ctx_rdrpl = null;
  pf.ctx_tag = 0;
  pf.ctx_log = 0;
  pf.ctx_nmatches = 0;
  pf.ctx_rtableid = -1;
  pf.evals = 0;
  pf.ctx_state = -1;
  const sns = pf.ctx_sns;
  sns[0] = sns[1] = sns[2] = sns[3] = null;
  const rv = pf_match_rule(pf, pd, pf.main.rules);
  if (rv === PF_TEST_FAIL) return PF_DROP;
  const r = pf.ctx_rm ?? pf.default_rule;
  const a = pf.ctx_am;
  pf_rule_to_actions(pf, r);
  if (r.naf !== 0 && r.naf !== pd.af) pd.naf = r.naf;
  if (pf_get_transaddr(pf, r, pd) === -1) {
    REASON_SET(pf, PFRES_TRANSLATE);
    return PF_DROP;
  }
  REASON_SET(pf, PFRES_MATCH);
  if (r.log !== 0) {
    pflog_packet(pf, pd, PFRES_MATCH, r, a, r.action);
    pf.ctx_logged = r;
  }
  if ((pf.ctx_log & PF_LOG_MATCHES) !== 0) pf_log_matches(pf, pd, r, a);
  if (pd.virtual_proto !== PF_VPROTO_FRAGMENT && r.action === PF_DROP &&
      (r.ruleFlag & (PFRULE_RETURNRST | PFRULE_RETURNICMP | PFRULE_RETURN)) !== 0) {
    if (pd.proto === IPPROTO_TCP && (r.ruleFlag & (PFRULE_RETURNRST | PFRULE_RETURN)) !== 0 && (pd.th_flags & TH_RST) === 0) {
      let ack = (pd.th_seq + pd.p_len) >>> 0;
      if (pf_check_tcp_cksum(pd)) REASON_SET(pf, PFRES_PROTCKSUM);
      else {
        if (pd.th_flags & TH_SYN) ack = (ack + 1) >>> 0;
        if (pd.th_flags & TH_FIN) ack = (ack + 1) >>> 0;
        pf_send_tcp(pf, r, pd, pd.odport, pd.osport, pd.th_ack, ack, TH_RST | TH_ACK, r.returnTtl, pd.rdomain);
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
  // IP options (pf_walk.ts) pass only by an allow-opts rule
  if (r.action === PF_PASS && pd.badopts !== 0 && !r.allowOpts) {
    REASON_SET(pf, PFRES_IPOPTIONS);
    pd.pflog |= PF_LOG_FORCE;
    const k = pf.k;
    if (k.trace !== null) k.trace.branch(k, pd.m, 'pf_test_rule: IP options, the rule does not allow-opts', `rule ${r.nr}`);
    return PF_DROP;
  }
  if (pd.virtual_proto !== PF_VPROTO_FRAGMENT && !pd.state_icmp && r.keepState !== 0) {
    const s = pf_create_state(pf, pd, r, a);
    if (s < 0) return PF_DROP;
    pf.ctx_state = s;
    // synproxy state: pf answers the client's SYN itself
    if (r.keepState === PF_STATE_SYNPROXY && pd.proto === IPPROTO_TCP && (pd.th_flags & (TH_SYN | TH_ACK)) === TH_SYN &&
        pd.dir === PF_IN && pd.naf === pd.af)
      return pf_synproxy_create(pf, pd, s, r);
    if (pf.st.si[s * ST_N + ST_NKEYS] === 2 && pd.naf === pd.af)
      pf_translate_to_key(pf, pd, pf.st.ko(pd.dir === PF_IN ? 2 * s + 1 : 2 * s), pf.st.kd, pd.sidx, s, false);
  } else if (pd.naf === pd.af && (pd.ns0 !== pd.s0 || pd.nd0 !== pd.d0 || pd.nsport !== pd.osport || pd.ndport !== pd.odport ||
             pd.ns1 !== pd.s1 || pd.nd1 !== pd.d1 || pd.ns2 !== pd.s2 || pd.nd2 !== pd.d2 || pd.ns3 !== pd.s3 || pd.nd3 !== pd.d3)) {
    // no state: translate this packet only
    if (pf.k.trace !== null) {
      pf_change_ap_traced(pf, pd, 0, pd.ns0, pd.ns1, pd.ns2, pd.ns3, pd.nsport, -1, false);
      pf_change_ap_traced(pf, pd, 1, pd.nd0, pd.nd1, pd.nd2, pd.nd3, pd.ndport, -1, false);
    } else {
      pf_change_ap(pd, 0, pd.ns0, pd.ns1, pd.ns2, pd.ns3, pd.nsport);
      pf_change_ap(pd, 1, pd.nd0, pd.nd1, pd.nd2, pd.nd3, pd.ndport);
    }
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

/** pf_create_state(): a new state for the packet; -1 when it could not be made (reason set). */
function pf_create_state(pf: Pf, pd: PfPdesc, r: KRule, a: KRule | null): number {
  // source-track / max-src-*: the source's node (pf_insert_src_node), before the state
  if ((r.ruleFlag & PFRULE_SRCTRACK) !== 0 &&
      pf_insert_src_node(pf, r, PF_SN_NONE, pd.af, pd.s0, pd.s1, pd.s2, pd.s3, null, null) !== 0) {
    REASON_SET(pf, PFRES_SRCLIMIT);
    if (pf.k.trace !== null) pf_src_trace_limit(pf, r);
    return -1;
  }
  if (r.maxStates !== 0 && r.states_cur >= r.maxStates) {
    pf.lcounters[LCNT_STATES]++;
    REASON_SET(pf, PFRES_MAXSTATES);
    return -1;
  }
  if (pf.states >= pf.limits[PF_LIMIT_STATES]! || !pf.st.canAlloc()) {
    // pool_get() of the state pool fails at its hard limit (or with no memory left)
    REASON_SET(pf, PFRES_MEMORY);
    pf_src_csfailed(pf);
    return -1;
  }
  const st = pf.st;
  const s = st.alloc();
  const kd = st.kd;
  // pf_state_key_setup(): wire = as the packet arrived, stack = translated
  const o1 = st.ko(2 * s);
  const o2 = st.ko(2 * s + 1);
  if (pd.sidx === 0)
    pf_key_set(kd, o1, pd.af, pd.proto, pd.rdomain, pd.s0, pd.s1, pd.s2, pd.s3, pd.osport, pd.d0, pd.d1, pd.d2, pd.d3, pd.odport);
  else
    pf_key_set(kd, o1, pd.af, pd.proto, pd.rdomain, pd.d0, pd.d1, pd.d2, pd.d3, pd.odport, pd.s0, pd.s1, pd.s2, pd.s3, pd.osport);
  let nkeys = 1;
  if (pd.naf !== pd.af) {
    // af-to: the stack key in the other family, inbound there (destination at 0, the translated source at 1)
    nkeys = 2;
    pf_key_set(kd, o2, pd.naf, pf_afto_proto(pd.proto), pd.rdomain,
      pd.nd0, pd.nd1, pd.nd2, pd.nd3, pd.ndport, pd.ns0, pd.ns1, pd.ns2, pd.ns3, pd.nsport);
  } else if (pd.ns0 !== pd.s0 || pd.ns1 !== pd.s1 || pd.ns2 !== pd.s2 || pd.ns3 !== pd.s3 || pd.nsport !== pd.osport ||
      pd.nd0 !== pd.d0 || pd.nd1 !== pd.d1 || pd.nd2 !== pd.d2 || pd.nd3 !== pd.d3 || pd.ndport !== pd.odport) {
    nkeys = 2;
    if (pd.sidx === 0)
      pf_key_set(kd, o2, pd.af, pd.proto, pd.rdomain, pd.ns0, pd.ns1, pd.ns2, pd.ns3, pd.nsport, pd.nd0, pd.nd1, pd.nd2, pd.nd3, pd.ndport);
    else
      pf_key_set(kd, o2, pd.af, pd.proto, pd.rdomain, pd.nd0, pd.nd1, pd.nd2, pd.nd3, pd.ndport, pd.ns0, pd.ns1, pd.ns2, pd.ns3, pd.nsport);
    // the wire key is the packet as it is on the wire: for an outbound packet, the translated one
    if (pd.dir !== PF_IN) swapKeys(kd, o1, o2);
  }
  const si = st.si;
  const b = s * ST_N;
  si[b + ST_RULE] = pf_rule_ref(pf, r);
  si[b + ST_ANCHOR] = a === null ? 0 : pf_rule_ref(pf, a) + 1;
  pf_state_pools(pf, s);
  si[b + ST_KIF] = pf.ifbound || (r.ruleFlag & PFRULE_IFBOUND) !== 0 ? pd.kif.if_index : 0;
  si[b + ST_NKEYS] = nkeys;
  si[b + ST_DIR] = pd.dir;
  si[b + ST_LOG] = r.log | pf.ctx_log;
  if ((r.ruleFlag & PFRULE_STATESLOPPY) !== 0) si[b + ST_FLAGS] |= PFSTATE_SLOPPY;
  if (r.allowOpts) si[b + ST_FLAGS] |= PFSTATE_ALLOWOPTS;
  if (r.src.type === PF_ADDR_TABLE || r.dst.type === PF_ADDR_TABLE) si[b + ST_FLAGS] |= PFSTATE_TABLES;
  if (pd.naf !== pd.af) {
    si[b + ST_FLAGS] |= PFSTATE_AFTO;
    st.sc[s * SC_N + SC_NAF] = pd.naf;
  }
  if (nkeys === 2) {
    if (pf.ctx_natpl !== null) st.sc[s * SC_N + SC_NATRULE] = pf.ctx_natpl.nr + 1;
    if (pf.ctx_rdrpl !== null) st.sc[s * SC_N + SC_RDRRULE] = pf.ctx_rdrpl.nr + 1;
  }
  const now = pf.uptime();
  st.sc[s * SC_N + SC_CREATION] = now;
  si[b + ST_EXPIRE] = now;
  const src = b + ST_SRC;
  const dst = b + ST_DST;
  switch (pd.proto) {
    case IPPROTO_TCP: {
      si[src + PR_SEQLO] = pd.th_seq;
      let seqhi = (pd.th_seq + pd.p_len + 1) | 0;
      let ws = 0;
      if (pd.th_flags & TH_SYN) {
        seqhi = (seqhi + 1) | 0;
        ws = pf_get_wscale(pd);
      }
      si[src + PR_WSCALE] = ws;
      let maxwin = Math.max(pd.th_win, 1);
      if (ws & PF_WSCALE_MASK) maxwin = (maxwin + (1 << (ws & PF_WSCALE_MASK)) - 1) >>> (ws & PF_WSCALE_MASK);
      si[src + PR_MAXWIN] = maxwin;
      if (pd.th_flags & TH_FIN) seqhi = (seqhi + 1) | 0;
      si[src + PR_SEQHI] = seqhi;
      si[dst + PR_SEQHI] = 1;
      si[dst + PR_MAXWIN] = 1;
      si[src + PR_STATE] = TCPS_SYN_SENT;
      si[dst + PR_STATE] = TCPS_CLOSED;
      si[b + ST_TIMEOUT] = PFTM_TCP_FIRST_PACKET;
      break;
    }
    case IPPROTO_UDP:
      si[src + PR_STATE] = PFUDPS_SINGLE;
      si[dst + PR_STATE] = PFUDPS_NO_TRAFFIC;
      si[b + ST_TIMEOUT] = PFTM_UDP_FIRST_PACKET;
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      si[b + ST_TIMEOUT] = PFTM_ICMP_FIRST_PACKET;
      break;
    default:
      si[src + PR_STATE] = PFUDPS_SINGLE;
      si[dst + PR_STATE] = PFUDPS_NO_TRAFFIC;
      si[b + ST_TIMEOUT] = PFTM_OTHER_FIRST_PACKET;
      break;
  }
  // pf_set_rt_ifp(): the route pool's next hop, kept for the life of the state
  if (r.rt !== 0 && r.routeSet) {
    const na = pf.naddr;
    na.fill(0);
    if (!pf_map_addr_sticky(pf, r, r.route, PF_SN_ROUTE, pd, na, pd.s0, pd.s1, pd.s2, pd.s3)) {
      st.release(s);
      REASON_SET(pf, PFRES_NOROUTE);
      pf_src_csfailed(pf);
      return -1;
    }
    st.sc[s * SC_N + SC_RTADDR] = na[0]!;
    if (pd.af === AF_INET6) {
      st.sc[s * SC_N + SC_RTADDR6] = na[1]!;
      st.sc[s * SC_N + SC_RTADDR6 + 1] = na[2]!;
      st.sc[s * SC_N + SC_RTADDR6 + 2] = na[3]!;
    }
    st.sc[s * SC_N + SC_RTIF] = r.rt;
    si[b + ST_FLAGS] |= PFSTATE_ROUTE;
  }
  pf_src_link_state(pf, s);
  if (!pf_state_insert(pf, s)) {
    if ((si[b + ST_FLAGS]! & PFSTATE_SRCNODE) !== 0) pf_src_tree_remove_state(pf, s);
    st.release(s);
    REASON_SET(pf, PFRES_STATEINS);
    pf_src_csfailed(pf);
    return -1;
  }
  r.states_cur++;
  r.states_tot++;
  if (a !== null) {
    a.states_cur++;
    a.states_tot++;
  }
  if (pf.ctx_nmatches !== 0) pf_state_match_rules(pf, s);
  return s;
}

/**
 * The state is responsible for the match rules the packet met (st->match_rules,
 * the last one first as OpenBSD's list): they count its states (states_cur
 * only, as STATE_INC_COUNTERS) and its packets, and log them if log (all).
 */
function pf_state_match_rules(pf: Pf, s: number): void {
  const n = pf.ctx_nmatches;
  const rules = new Array<KRule>(n);
  for (let i = 0; i < n; i++) {
    const mr = pf.ctx_matches[n - 1 - i]!;
    rules[i] = mr;
    mr.states_cur++;
  }
  pf.st.match_rules.set(s, rules);
  pf.st.si[s * ST_N + ST_FLAGS] |= PFSTATE_MATCHRULES;
}

/** pf_free_state()'s part for the match rules: they count the state no more. */
function pf_state_match_rules_free(pf: Pf, s: number): void {
  const rules = pf.st.match_rules.get(s);
  if (rules === undefined) return;
  for (const mr of rules) mr.states_cur--;
  pf.st.match_rules.delete(s);
}

/** The rules whose least-states nat-to and rdr-to pools counted the new state s: pf_postprocess_addr gives it back to them. */
function pf_state_pools(pf: Pf, s: number): void {
  const np = pf.ctx_natpl;
  const rp = pf.ctx_rdrpl;
  const sc = pf.st.sc;
  if (np !== null && (np.nat.opts & PF_POOL_TYPEMASK) === PF_POOL_LEASTSTATES) {
    sc[s * SC_N + SC_NATPL] = pf_rule_ref(pf, np) + 1;
    np.pool_states++;
  }
  if (rp !== null && (rp.rdr.opts & PF_POOL_TYPEMASK) === PF_POOL_LEASTSTATES) {
    sc[s * SC_N + SC_RDRPL] = pf_rule_ref(pf, rp) + 1;
    rp.pool_states++;
  }
}

/** The number of rule r in pf.ruletab (given on first use). */
export function pf_rule_ref(pf: Pf, r: KRule): number {
  if (r.gidx < 0) {
    const f = pf.ruletabFree.pop();
    if (f !== undefined) {
      r.gidx = f;
      pf.ruletab[f] = r;
    } else {
      r.gidx = pf.ruletab.length;
      pf.ruletab.push(r);
    }
  }
  return r.gidx;
}

/** After a ruleset load: rules no state refers to any more leave pf.ruletab (live: the loaded rules). */
export function pf_ruletab_gc(pf: Pf, live: Set<KRule>): void {
  for (let i = 0; i < pf.ruletab.length; i++) {
    const r = pf.ruletab[i];
    if (r === null || r === undefined || r.states_cur > 0 || r.src_nodes > 0 || r.pool_states > 0 || live.has(r) || r === pf.default_rule) continue;
    r.gidx = -1;
    pf.ruletab[i] = null;
    pf.ruletabFree.push(i);
  }
}

function swapKeys(kd: Int32Array, o1: number, o2: number): void {
  for (let i = 0; i < K_N; i++) {
    const t = kd[o1 + i]!;
    kd[o1 + i] = kd[o2 + i]!;
    kd[o2 + i] = t;
  }
}

/** pf_state_insert(): put the keys of state s (written) in the table and the state on the list. */
export function pf_state_insert(pf: Pf, s: number): boolean {
  const st = pf.st;
  const si = st.si;
  const nkeys = si[s * ST_N + ST_NKEYS]!;
  for (let k = 0; k < nkeys; k++) {
    const o = st.ko(2 * s + k);
    const q = pf.sk;
    for (let i = 0; i < K_N; i++) q[i] = st.kd[o + i]!;
    const kx = st.find(q, q[K_HASH]!);
    if (kx >= 0) {
      const other = kx >>> 1;
      if (si[other * ST_N + ST_TIMEOUT] !== PFTM_PURGE) return false;
      pf_remove_state(pf, other);
    }
  }
  for (let k = 0; k < nkeys; k++) st.insert(2 * s + k);
  const sc = st.sc;
  sc[s * SC_N + SC_PREV] = st.tail;
  sc[s * SC_N + SC_NEXT] = -1;
  if (st.tail >= 0) sc[st.tail * SC_N + SC_NEXT] = s;
  else st.head = s;
  st.tail = s;
  st.sid[s] = pf.nextStateId();
  pf.states++;
  pf.fcounters[FCNT_STATE_INSERT]++;
  pf_halfopen_update(pf, s);
  if (!pf.purge.pending) pf.purge.addSec(1);
  return true;
}

/** pf_remove_state() + pf_free_state(): unlink the keys, take it off the list, free its number. */
export function pf_remove_state(pf: Pf, s: number): void {
  const st = pf.st;
  const si = st.si;
  const b = s * ST_N;
  const nkeys = si[b + ST_NKEYS]!;
  if (nkeys === 0) return;
  // load balancing: least-states pools count one state less
  pf_postprocess_addr(pf, s);
  // a synproxy still opening the server side: reset the client
  if (si[b + ST_SRC + PR_STATE] === PF_TCPS_PROXY_DST) pf_synproxy_remove(pf, s);
  for (let k = 0; k < nkeys; k++) st.remove(2 * s + k);
  const sc = st.sc;
  const prev = sc[s * SC_N + SC_PREV]!;
  const next = sc[s * SC_N + SC_NEXT]!;
  if (prev >= 0) sc[prev * SC_N + SC_NEXT] = next;
  else st.head = next;
  if (next >= 0) sc[next * SC_N + SC_PREV] = prev;
  else st.tail = prev;
  si[b + ST_TIMEOUT] = PFTM_PURGE;
  if (si[b + ST_HALFOPEN] !== 0) {
    si[b + ST_HALFOPEN] = 0;
    pf.states_halfopen--;
  }
  pf.ruletab[si[b + ST_RULE]!]!.states_cur--;
  if (si[b + ST_ANCHOR] !== 0) pf.ruletab[si[b + ST_ANCHOR]! - 1]!.states_cur--;
  if ((si[b + ST_FLAGS]! & PFSTATE_SRCNODE) !== 0) pf_src_tree_remove_state(pf, s);
  if ((si[b + ST_FLAGS]! & PFSTATE_MATCHRULES) !== 0) pf_state_match_rules_free(pf, s);
  pf.states--;
  pf.fcounters[FCNT_STATE_REMOVALS]++;
  st.release(s);
}

/** pf_state_expires(): the uptime second state s expires, with adaptive timeouts. */
export function pf_state_expires(pf: Pf, s: number): number {
  const si = pf.st.si;
  const t = si[s * ST_N + ST_TIMEOUT]!;
  if (t === PFTM_PURGE) return pf.uptime();
  const r = pf.ruletab[si[s * ST_N + ST_RULE]!]!;
  let timeout = r.timeout[t] || pf.timeouts[t]!;
  const start = r.timeout[PFTM_ADAPTIVE_START] || pf.timeouts[PFTM_ADAPTIVE_START]!;
  if (start !== 0) {
    const end = r.timeout[PFTM_ADAPTIVE_END] || pf.timeouts[PFTM_ADAPTIVE_END]!;
    const states = r.timeout[PFTM_ADAPTIVE_START] ? r.states_cur : pf.states;
    if (end !== 0 && states > start && start < end) {
      if (states >= end) return pf.uptime();
      timeout = Math.floor((timeout * (end - states)) / (end - start));
    }
  }
  return si[s * ST_N + ST_EXPIRE]! + timeout;
}

/** pf_purge_timeout(): once a second, expire states, source nodes and fragments. */
export function pf_purge_timeout(k: Kernel): void {
  const pf = (k as Kernel & { pf: Pf }).pf;
  const now = pf.uptime();
  const st = pf.st;
  for (let s = st.head; s >= 0; ) {
    const nx = st.sc[s * SC_N + SC_NEXT]!;
    if (pf_state_expires(pf, s) <= now) pf_remove_state(pf, s);
    s = nx;
  }
  pf.frag.expire(pf, now);
  if (pf.states > 0 || pf.frag.count > 0) pf.purge.addSec(1);
}

/** Call fn for every state (creation order); returns how many times it said true (control path: flush, kill). */
export function pf_states_each(pf: Pf, fn: (s: number) => boolean): number {
  const sc = pf.st.sc;
  let n = 0;
  for (let s = pf.st.head; s >= 0; ) {
    const nx = sc[s * SC_N + SC_NEXT]!;
    if (fn(s)) n++;
    s = nx;
  }
  return n;
}

/** All states, in creation order (pfctl -ss), as views. */
export function pf_states(pf: Pf): PfState[] {
  const out: PfState[] = [];
  const sc = pf.st.sc;
  for (let s = pf.st.head; s >= 0; s = sc[s * SC_N + SC_NEXT]!) out.push(new PfState(pf, s));
  return out;
}

/* ------------------------------------------------------------------ */
/* counters                                                            */

function pf_counters_inc(pf: Pf, action: number, pd: PfPdesc, s: number, r: KRule, a: KRule | null): void {
  const len = pd.tot_len;
  const ki = (pd.af === AF_INET6 ? 4 : 0) + (pd.dir === PF_OUT ? 2 : 0) + (action !== PF_PASS ? 1 : 0);
  pd.kif.pfik_packets[ki]++;
  pd.kif.pfik_bytes[ki] += len;
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
    if (s >= 0) {
      const flags = pf.st.si[s * ST_N + ST_FLAGS]!;
      if ((flags & PFSTATE_SRCNODE) !== 0) pf_src_counters(pf, s, pd.dir === PF_OUT, len);
      const sf = pf.st.sf;
      const o = (s * ST_N + ST_CNT) >> 1;
      const si = pf.st.si;
      // by direction only, as OpenBSD: all packets of an af-to state count in the first column
      if (pd.dir === si[s * ST_N + ST_DIR]) {
        sf[o + SF_PKTS0]++;
        sf[o + SF_BYTES0] += len;
      } else {
        sf[o + SF_PKTS1]++;
        sf[o + SF_BYTES1] += len;
      }
      if ((flags & PFSTATE_MATCHRULES) !== 0) pf_match_rules_counters(pf, pd, s, len);
      if ((flags & PFSTATE_TABLES) !== 0) pf_table_stats(pf, pd, s, r);
    } else if (r.src.type === PF_ADDR_TABLE || r.dst.type === PF_ADDR_TABLE) pf_table_stats(pf, pd, s, r);
  }
}

/**
 * pf_counters_inc() for the match rules of state s: each counts the packet,
 * in the column of its direction relative to the state's (OpenBSD's
 * dirndx there: not in/out as for the state's rule), and its tables count
 * the state's addresses.
 */
function pf_match_rules_counters(pf: Pf, pd: PfPdesc, s: number, len: number): void {
  const rules = pf.st.match_rules.get(s);
  if (rules === undefined) return;
  const fwd = pd.dir === pf.st.si[s * ST_N + ST_DIR];
  for (const mr of rules) {
    if (fwd) {
      mr.packets0++;
      mr.bytes0 += len;
    } else {
      mr.packets1++;
      mr.bytes1 += len;
    }
    if (mr.src.type === PF_ADDR_TABLE || mr.dst.type === PF_ADDR_TABLE) pf_table_stats(pf, pd, s, mr);
  }
}

/**
 * pfr_update_stats() of rule r's tables (src, dst) for the packet: a state's
 * packets count the addresses of its first packet as the state keeps them
 * (the stack key of an inbound state, the wire key of an outbound one), a
 * packet without state its own.
 */
function pf_table_stats(pf: Pf, pd: PfPdesc, s: number, r: KRule): void {
  const op = r.action === PF_DROP ? PFR_OP_BLOCK : r.action === PF_MATCH ? PFR_OP_MATCH : PFR_OP_PASS;
  const out = pd.dir === PF_OUT;
  const len = pd.tot_len;
  if (s < 0) {
    if (r.src.type === PF_ADDR_TABLE && r.src.table !== null)
      pfr_update_stats(r.src.table, pd.af, pd.s0, pd.s1, pd.s2, pd.s3, out, len, op, r.src.neg);
    if (r.dst.type === PF_ADDR_TABLE && r.dst.table !== null)
      pfr_update_stats(r.dst.table, pd.af, pd.d0, pd.d1, pd.d2, pd.d3, out, len, op, r.dst.neg);
    return;
  }
  const st = pf.st;
  const sin = st.si[s * ST_N + ST_DIR] === PF_IN;
  // st->key[dir == PF_IN]: the inbound state's stack key, the outbound one's wire key
  const o = st.ko(sin && st.si[s * ST_N + ST_NKEYS] === 2 ? 2 * s + 1 : 2 * s);
  const kd = st.kd;
  const af = kd[o + K_META]! & 0xff;
  // addr[dir == PF_OUT] is the source
  const so = o + (sin ? K_A : K_B);
  const dso = o + (sin ? K_B : K_A);
  if (r.src.type === PF_ADDR_TABLE && r.src.table !== null)
    pfr_update_stats(r.src.table, af, kd[so]!, kd[so + 1]!, kd[so + 2]!, kd[so + 3]!, out, len, op, r.src.neg);
  if (r.dst.type === PF_ADDR_TABLE && r.dst.table !== null)
    pfr_update_stats(r.dst.table, af, kd[dso]!, kd[dso + 1]!, kd[dso + 2]!, kd[dso + 3]!, out, len, op, r.dst.neg);
}

/* ------------------------------------------------------------------ */
/* block return                                                        */

/**
 * pf_send_tcp(): a RST back to the packet's source, from its destination,
 * sent after the current packet (pf_send_tcp_full: as OpenBSD's
 * pf_build_tcp makes it; IPv4 with TOS lowdelay and DF, IPv6 with the
 * default hop limit).
 */
export function pf_send_tcp(pf: Pf, r: KRule, pd: PfPdesc, sport: number, dport: number,
  seq: number, ack: number, flags: number, ttl: number, rdomain: number): void {
  void r;
  const a = pf.tcpaddr;
  put32(a, 0, pd.d0 >>> 0);
  put32(a, 16, pd.s0 >>> 0);
  if (pd.af === AF_INET6) {
    put32(a, 4, pd.d1 >>> 0);
    put32(a, 8, pd.d2 >>> 0);
    put32(a, 12, pd.d3 >>> 0);
    put32(a, 20, pd.s1 >>> 0);
    put32(a, 24, pd.s2 >>> 0);
    put32(a, 28, pd.s3 >>> 0);
  } else if (pd.af !== AF_INET) return;
  pf_send_tcp_full(pf, pd.af, sport, dport, seq, ack, flags, 0, 0, ttl, true, rdomain, 'pf_send_tcp: RST');
}

/** ip_send()'s and ip6_send()'s task: the packets pf built. */
function pf_send_task(k: Kernel): void {
  const pf = (k as Kernel & { pf: Pf }).pf;
  for (let m = pf.sendq.dequeue(); m !== null; m = pf.sendq.dequeue()) {
    if (m.buf[m.off]! >> 4 === 6) pf.netout!.ip6_send(k, m);
    else ip_output(k, m, 0, null);
  }
}

/** pf_send_icmp(): an ICMP or ICMPv6 error about the packet, as icmp_error() or icmp6_error() sends it. */
function pf_send_icmp(pf: Pf, pd: PfPdesc, type: number, code: number): void {
  const m0 = pd.m.dup();
  if (m0 === null) return;
  m0.pf_flags |= PF_TAG_GENERATED;
  // the copy is the blocked packet itself for its journey: the error made of it is caused by that
  if (pf.k.trace !== null) {
    m0.trace = pd.m.trace;
    pf.k.trace.fn(pf.k, m0, 'pf_send_icmp', pd.kif.if_xname);
  }
  if (pd.af === AF_INET) icmp_error(pf.k, m0, type, code, 0, 0);
  else pf.netout!.icmp6_error(pf.k, m0, type, code, 0);
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
