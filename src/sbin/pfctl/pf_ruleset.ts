/**
 * The pf rule data model, as pfctl builds it and the kernel's pf will later
 * evaluate it: rules with typed address wraps, ports, pools and options,
 * rulesets grouped in anchors, and table definitions.  Field names follow
 * OpenBSD's struct pf_rule (sys/net/pfvar.h) so the evaluation code and the
 * printer read like the C they mirror.  Addresses are 16-byte arrays laid
 * out like struct pf_addr (an IPv4 address in the first 4 bytes).
 */

/* address families (OpenBSD numbering) */
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_LINK = 18;
export const AF_INET6 = 24;

/* directions */
export const PF_INOUT = 0;
export const PF_IN = 1;
export const PF_OUT = 2;

/* actions */
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

/* port and id operators */
export const PF_OP_NONE = 0;
export const PF_OP_IRG = 1;
export const PF_OP_EQ = 2;
export const PF_OP_NE = 3;
export const PF_OP_LT = 4;
export const PF_OP_LE = 5;
export const PF_OP_GT = 6;
export const PF_OP_GE = 7;
export const PF_OP_XRG = 8;
export const PF_OP_RRG = 9;

/* address wrap types */
export const PF_ADDR_ADDRMASK = 0;
export const PF_ADDR_NOROUTE = 1;
export const PF_ADDR_DYNIFTL = 2;
export const PF_ADDR_TABLE = 3;
export const PF_ADDR_RTLABEL = 4;
export const PF_ADDR_URPFFAILED = 5;
export const PF_ADDR_RANGE = 6;
export const PF_ADDR_NONE = 7;

/* dynamic interface address flags */
export const PFI_AFLAG_NETWORK = 0x01;
export const PFI_AFLAG_BROADCAST = 0x02;
export const PFI_AFLAG_PEER = 0x04;
export const PFI_AFLAG_MODEMASK = 0x07;
export const PFI_AFLAG_NOALIAS = 0x08;

/* route types */
export const PF_NOPFROUTE = 0;
export const PF_ROUTETO = 1;
export const PF_DUPTO = 2;
export const PF_REPLYTO = 3;

/* pool types and options */
export const PF_POOL_NONE = 0;
export const PF_POOL_BITMASK = 1;
export const PF_POOL_RANDOM = 2;
export const PF_POOL_SRCHASH = 3;
export const PF_POOL_ROUNDROBIN = 4;
export const PF_POOL_LEASTSTATES = 5;
export const PF_POOL_TYPEMASK = 0x0f;
export const PF_POOL_STICKYADDR = 0x20;
export const PF_NAT_PROXY_PORT_LOW = 50001;
export const PF_NAT_PROXY_PORT_HIGH = 65535;

export function PF_POOL_DYNTYPE(o: number): boolean {
  const t = o & PF_POOL_TYPEMASK;
  return t === PF_POOL_ROUNDROBIN || t === PF_POOL_LEASTSTATES || t === PF_POOL_RANDOM || t === PF_POOL_SRCHASH;
}

/* log flags */
export const PF_LOG = 0x01;
export const PF_LOG_ALL = 0x02;
export const PF_LOG_USER = 0x04;
export const PF_LOG_FORCE = 0x08;
export const PF_LOG_MATCHES = 0x10;

/* state handling */
export const PF_STATE_NORMAL = 1;
export const PF_STATE_MODULATE = 2;
export const PF_STATE_SYNPROXY = 3;

/* rule_flag */
export const PFRULE_DROP = 0x0000;
export const PFRULE_RETURNRST = 0x0001;
export const PFRULE_FRAGMENT = 0x0002;
export const PFRULE_RETURNICMP = 0x0004;
export const PFRULE_RETURN = 0x0008;
export const PFRULE_NOSYNC = 0x0010;
export const PFRULE_SRCTRACK = 0x0020;
export const PFRULE_RULESRCTRACK = 0x0040;
export const PFRULE_SETDELAY = 0x0080;
export const PFRULE_IFBOUND = 0x00010000;
export const PFRULE_STATESLOPPY = 0x00020000;
export const PFRULE_PFLOW = 0x00040000;
export const PFRULE_ONCE = 0x00100000;
export const PFRULE_AFTO = 0x00200000;
export const PFRULE_EXPIRED = 0x00400000;

/* scrub_flags */
export const PFSTATE_NODF = 0x0020;
export const PFSTATE_SETTOS = 0x0040;
export const PFSTATE_RANDOMID = 0x0080;
export const PFSTATE_SCRUB_TCP = 0x0100;
export const PFSTATE_SETPRIO = 0x0200;
export const PFSTATE_SCRUBMASK = PFSTATE_NODF | PFSTATE_RANDOMID | PFSTATE_SCRUB_TCP;
export const PFSTATE_SETMASK = PFSTATE_SETTOS | PFSTATE_SETPRIO;

export const PF_FLUSH = 0x01;
export const PF_FLUSH_GLOBAL = 0x02;
export const PF_PRIO_ZERO = 0xff;
export const PF_TH_ALL = 0xff;
export const PF_OSFP_ANY = 0;

/* divert types */
export const PF_DIVERT_NONE = 0;
export const PF_DIVERT_TO = 1;
export const PF_DIVERT_REPLY = 2;
export const PF_DIVERT_PACKET = 3;

/* table flags */
export const PFR_TFLAG_PERSIST = 0x01;
export const PFR_TFLAG_CONST = 0x02;
export const PFR_TFLAG_COUNTERS = 0x40;

/* queue flags */
export const PFQS_FLOWQUEUE = 0x0001;
export const PFQS_ROOTCLASS = 0x0002;
export const PFQS_DEFAULT = 0x1000;

/* timeouts, in OpenBSD's PFTM order */
export const PFTM_TCP_FIRST_PACKET = 0;
export const PFTM_ADAPTIVE_START = 16;
export const PFTM_ADAPTIVE_END = 17;
export const PFTM_SRC_NODE = 18;
export const PFTM_MAX = 20;

/** Timeout names in the order pfctl lists them, with their PFTM index. */
export const PF_TIMEOUTS: ReadonlyArray<readonly [string, number]> = [
  ['tcp.first', 0],
  ['tcp.opening', 1],
  ['tcp.established', 2],
  ['tcp.closing', 3],
  ['tcp.finwait', 4],
  ['tcp.closed', 5],
  ['tcp.tsdiff', 19],
  ['udp.first', 6],
  ['udp.single', 7],
  ['udp.multiple', 8],
  ['icmp.first', 9],
  ['icmp.error', 10],
  ['other.first', 11],
  ['other.single', 12],
  ['other.multiple', 13],
  ['frag', 14],
  ['interval', 15],
  ['adaptive.start', 16],
  ['adaptive.end', 17],
  ['src.track', 18],
];

/** A 128-bit address as struct pf_addr lays it out. */
export type PfAddr = Uint8Array;

export function newAddr(): PfAddr {
  return new Uint8Array(16);
}

/** struct pf_addr_wrap: what an address field of a rule or pool holds. */
export interface PfAddrWrap {
  type: number;
  addr: PfAddr;
  /** netmask, or the range end for PF_ADDR_RANGE */
  mask: PfAddr;
  /** interface name (PF_ADDR_DYNIFTL) */
  ifname: string;
  /** table name (PF_ADDR_TABLE) */
  tblname: string;
  /** route label name (PF_ADDR_RTLABEL) */
  rtlabelname: string;
  iflags: number;
  /** addresses in the table (-1: not known); 0 until loaded */
  tblcnt: number;
  /** addresses of the dynamic interface; 0 until loaded */
  dyncnt: number;
}

export function newAddrWrap(type = PF_ADDR_ADDRMASK): PfAddrWrap {
  return { type, addr: newAddr(), mask: newAddr(), ifname: '', tblname: '', rtlabelname: '', iflags: 0, tblcnt: 0, dyncnt: 0 };
}

export function copyAddrWrap(a: PfAddrWrap): PfAddrWrap {
  return { ...a, addr: a.addr.slice(), mask: a.mask.slice() };
}

/** struct pf_rule_addr: address plus port match of one side. */
export interface PfRuleAddr {
  addr: PfAddrWrap;
  port: [number, number];
  neg: boolean;
  portOp: number;
  weight: number;
}

/** struct pf_pool: translation or routing target. */
export interface PfPool {
  addr: PfAddrWrap;
  ifname: string;
  key: [number, number, number, number];
  proxyPort: [number, number];
  portOp: number;
  opts: number;
}

/** A zeroed pool, as memset() leaves it (expand_rule sets PF_ADDR_NONE when unused). */
export function newPool(): PfPool {
  return {
    addr: newAddrWrap(PF_ADDR_ADDRMASK),
    ifname: '',
    key: [0, 0, 0, 0],
    proxyPort: [0, 0],
    portOp: 0,
    opts: 0,
  };
}

export interface PfRuleUid {
  id: [number, number];
  op: number;
}

/** struct pf_rule, the parts pfctl sets and pf evaluates. */
export interface PfRule {
  nr: number;
  action: number;
  direction: number;
  log: number;
  logif: number;
  quick: boolean;
  ifname: string;
  ifnot: boolean;
  onrdomain: number;
  rcvIfname: string;
  rcvifnot: boolean;
  af: number;
  naf: number;
  proto: number;
  type: number;
  code: number;
  src: PfRuleAddr;
  dst: PfRuleAddr;
  osFingerprint: string | null;
  uid: PfRuleUid;
  gid: PfRuleUid;
  flags: number;
  flagset: number;
  tos: number;
  setTos: number;
  prio: number;
  setPrio: [number, number];
  delay: number;
  keepState: number;
  ruleFlag: number;
  scrubFlags: number;
  minTtl: number;
  maxMss: number;
  returnTtl: number;
  returnIcmp: number;
  returnIcmp6: number;
  maxStates: number;
  maxSrcNodes: number;
  maxSrcStates: number;
  maxSrcConn: number;
  maxSrcConnRate: { limit: number; seconds: number };
  pktrate: { limit: number; seconds: number };
  overloadTblname: string;
  flush: number;
  timeout: number[];
  prob: number;
  allowOpts: boolean;
  label: string;
  tagname: string;
  matchTagname: string;
  matchTagNot: boolean;
  qname: string;
  pqname: string;
  rtableid: number;
  divert: { type: number; addr: PfAddr; port: number };
  nat: PfPool;
  rdr: PfPool;
  route: PfPool;
  rt: number;
  /** called anchor, for anchor rules */
  anchor: PfAnchor | null;
}

function newRuleAddr(): PfRuleAddr {
  return { addr: newAddrWrap(), port: [0, 0], neg: false, portOp: 0, weight: 0 };
}

export function newRule(): PfRule {
  return {
    nr: 0,
    action: PF_PASS,
    direction: PF_INOUT,
    log: 0,
    logif: 0,
    quick: false,
    ifname: '',
    ifnot: false,
    onrdomain: -1,
    rcvIfname: '',
    rcvifnot: false,
    af: 0,
    naf: 0,
    proto: 0,
    type: 0,
    code: 0,
    src: newRuleAddr(),
    dst: newRuleAddr(),
    osFingerprint: null,
    uid: { id: [0, 0], op: 0 },
    gid: { id: [0, 0], op: 0 },
    flags: 0,
    flagset: 0,
    tos: 0,
    setTos: 0,
    prio: 0,
    setPrio: [0, 0],
    delay: 0,
    keepState: 0,
    ruleFlag: 0,
    scrubFlags: 0,
    minTtl: 0,
    maxMss: 0,
    returnTtl: 0,
    returnIcmp: 0,
    returnIcmp6: 0,
    maxStates: 0,
    maxSrcNodes: 0,
    maxSrcStates: 0,
    maxSrcConn: 0,
    maxSrcConnRate: { limit: 0, seconds: 0 },
    pktrate: { limit: 0, seconds: 0 },
    overloadTblname: '',
    flush: 0,
    timeout: new Array<number>(PFTM_MAX).fill(0),
    prob: 0,
    allowOpts: false,
    label: '',
    tagname: '',
    matchTagname: '',
    matchTagNot: false,
    qname: '',
    pqname: '',
    rtableid: -1,
    divert: { type: PF_DIVERT_NONE, addr: newAddr(), port: 0 },
    nat: newPool(),
    rdr: newPool(),
    route: newPool(),
    rt: 0,
    anchor: null,
  };
}

function copyRuleAddr(a: PfRuleAddr): PfRuleAddr {
  return { addr: copyAddrWrap(a.addr), port: [a.port[0], a.port[1]], neg: a.neg, portOp: a.portOp, weight: a.weight };
}

function copyPool(p: PfPool): PfPool {
  return { ...p, addr: copyAddrWrap(p.addr), key: [...p.key], proxyPort: [p.proxyPort[0], p.proxyPort[1]] };
}

/** A deep copy, as the C code's struct assignment gives (the anchor is shared). */
export function copyRule(r: PfRule): PfRule {
  return {
    ...r,
    src: copyRuleAddr(r.src),
    dst: copyRuleAddr(r.dst),
    uid: { id: [r.uid.id[0], r.uid.id[1]], op: r.uid.op },
    gid: { id: [r.gid.id[0], r.gid.id[1]], op: r.gid.op },
    setPrio: [r.setPrio[0], r.setPrio[1]],
    maxSrcConnRate: { ...r.maxSrcConnRate },
    pktrate: { ...r.pktrate },
    timeout: r.timeout.slice(),
    divert: { ...r.divert, addr: r.divert.addr.slice() },
    nat: copyPool(r.nat),
    rdr: copyPool(r.rdr),
    route: copyPool(r.route),
  };
}

/** A ruleset: the rules of one anchor, in order. */
export interface PfRuleset {
  rules: PfRule[];
  anchor: PfAnchor;
}

/** struct pf_anchor: a named, nestable ruleset. */
export interface PfAnchor {
  name: string;
  path: string;
  parent: PfAnchor | null;
  children: Map<string, PfAnchor>;
  ruleset: PfRuleset;
  /** number of rules pfctl put in it (pf_anchor.match) */
  match: number;
  /**
   * An anchor named by a rule without braces (`anchor "one"`): a reference
   * the kernel resolves relative to the calling ruleset (pf_anchor_setup);
   * its path is the name as written.
   */
  ref?: boolean;
}

export function newAnchor(name: string, path: string, parent: PfAnchor | null): PfAnchor {
  const a = { name, path, parent, children: new Map(), match: 0 } as unknown as PfAnchor;
  a.ruleset = { rules: [], anchor: a };
  return a;
}

/** One entry of a table definition: an address with an optional negation. */
export interface PfTableEntry {
  af: number;
  addr: PfAddr;
  net: number;
  not: boolean;
  ifname: string | null;
  weight: number;
}

/** A table as a ruleset defines it. */
export interface PfTableDef {
  name: string;
  anchor: string;
  flags: number;
  initAddr: boolean;
  entries: PfTableEntry[];
  files: string[];
}

/** struct pf_queue_bwspec */
export interface PfQueueBw {
  absolute: number;
  percent: number;
}

/** struct pf_queue_scspec */
export interface PfQueueSc {
  m1: PfQueueBw;
  d: number;
  m2: PfQueueBw;
}

/** struct pf_queuespec */
export interface PfQueueSpec {
  qname: string;
  parent: string;
  ifname: string;
  realtime: PfQueueSc;
  linkshare: PfQueueSc;
  upperlimit: PfQueueSc;
  flowqueue: { flows: number; quantum: number; target: number; interval: number };
  flags: number;
  qlimit: number;
}

/** The global options a pf.conf sets ("set ..."). */
export interface PfOptions {
  timeout: number[];
  timeoutSet: boolean[];
  limit: Map<string, number>;
  loginterface: string | null;
  hostid: number;
  debug: number;
  reassemble: number;
  blockPolicy: number;
  statePolicy: number;
  skip: string[];
  syncookies: number;
  syncookiesWat: [number, number];
}

/** Everything one pf.conf load produces. */
export interface PfConfig {
  main: PfAnchor;
  tables: PfTableDef[];
  queues: PfQueueSpec[];
  options: PfOptions;
}
