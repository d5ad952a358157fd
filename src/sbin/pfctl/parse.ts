/**
 * The pf.conf parser, after OpenBSD's sbin/pfctl/parse.y: a lexer with
 * macro expansion, line continuation and include files, and a recursive
 * descent parser over the same grammar.  Semantic actions mirror parse.y's:
 * lists in a rule expand to their cross product (expand_rule), translation
 * and routing pools collapse into addresses or automatic tables, and each
 * expanded rule passes rule_consistent() or is reported and skipped.
 * Errors are reported as "file:line: message" on stderr and the parser
 * recovers at the next newline, as yacc's `ruleset error '\n'` does.
 */
import { createHash } from 'node:crypto';
import { formatIp6 } from '../../wire/addr.js';
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
  PFQS_ROOTCLASS,
  PFR_TFLAG_CONST,
  PFR_TFLAG_COUNTERS,
  PFR_TFLAG_PERSIST,
  PFRULE_AFTO,
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
  PFSTATE_SETPRIO,
  PFSTATE_SETTOS,
  PFTM_ADAPTIVE_END,
  PFTM_ADAPTIVE_START,
  PFTM_SRC_NODE,
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
  PF_FLUSH,
  PF_FLUSH_GLOBAL,
  PF_IN,
  PF_INOUT,
  PF_LOG,
  PF_LOG_ALL,
  PF_LOG_MATCHES,
  PF_LOG_USER,
  PF_MATCH,
  PF_NAT_PROXY_PORT_HIGH,
  PF_NAT_PROXY_PORT_LOW,
  PF_NOPFROUTE,
  PF_OP_EQ,
  PF_OP_GE,
  PF_OP_GT,
  PF_OP_IRG,
  PF_OP_LE,
  PF_OP_LT,
  PF_OP_NE,
  PF_OP_NONE,
  PF_OP_RRG,
  PF_OP_XRG,
  PF_OUT,
  PF_PASS,
  PF_POOL_BITMASK,
  PF_POOL_DYNTYPE,
  PF_POOL_LEASTSTATES,
  PF_POOL_NONE,
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
  PF_TIMEOUTS,
  PFTM_MAX,
  copyRule,
  newAddrWrap,
  newAnchor,
  newRule,
  type PfAddrWrap,
  type PfAnchor,
  type PfOptions,
  type PfPool,
  type PfQueueSc,
  type PfQueueSpec,
  type PfRule,
  type PfTableDef,
} from './pf_ruleset.js';
import { protoByName, type PfctlEnv } from './pfctl_env.js';
import { PF_OPTIMIZER_TABLE_PFX, PfOptState, pf_opt_table_name, type PfOptEnv } from './pfctl_optimize.js';
import {
  PF_OPT_NOACTION,
  PF_OPT_OPTIMIZE,
  PF_OPT_VERBOSE,
  PF_OPT_VERBOSE2,
  azero,
  copyNodeHost,
  geticmpcodebyname,
  geticmptypebyname,
  host,
  ifaExists,
  ifaIndextoname,
  ifaLookup,
  ifaNametoindex,
  newNodeHost,
  parseFlags,
  printTabledef,
  setIpmask,
  unmask,
  type HostCtx,
  type NodeHost,
  type TableInit,
} from './pfctl_parser.js';
import { AddrAppender, pfrTokens } from './pfctl_parser.js';
import type { PfrAddr } from '../../sys/net/pf_table.js';

/* ------------------------------------------------------------------ */
/* lexer                                                              */

const KEYWORDS: Record<string, string> = {};
for (const k of [
  'af-to', 'all', 'allow-opts', 'anchor', 'antispoof', 'any', 'bandwidth', 'binat-to', 'bitmask', 'block',
  'block-policy', 'burst', 'code', 'debug', 'default', 'delay', 'divert-packet', 'divert-reply', 'divert-to',
  'drop', 'dup-to', 'file', 'fingerprints', 'flags', 'floating', 'flows', 'flush', 'for', 'fragment', 'from',
  'global', 'group', 'hostid', 'icmp-type', 'icmp6-type', 'if-bound', 'in', 'include', 'inet', 'inet6', 'keep',
  'label', 'least-states', 'limit', 'load', 'log', 'loginterface', 'match', 'matches', 'max', 'max-mss',
  'max-pkt-rate', 'max-src-conn', 'max-src-conn-rate', 'max-src-nodes', 'max-src-states', 'min', 'min-ttl',
  'modulate', 'nat-to', 'no', 'no-df', 'no-route', 'no-sync', 'on', 'once', 'optimization', 'os', 'out',
  'overload', 'parent', 'pass', 'pflow', 'port', 'prio', 'probability', 'proto', 'qlimit', 'quantum', 'queue',
  'quick', 'random', 'random-id', 'rdomain', 'rdr-to', 'reassemble', 'received-on', 'reply-to', 'return',
  'return-icmp', 'return-icmp6', 'return-rst', 'round-robin', 'route', 'route-to', 'rtable', 'rule',
  'ruleset-optimization', 'scrub', 'set', 'skip', 'sloppy', 'source-hash', 'source-track', 'state',
  'state-defaults', 'state-policy', 'static-port', 'sticky-address', 'syncookies', 'synproxy', 'table', 'tag',
  'tagged', 'timeout', 'to', 'tos', 'ttl', 'urpf-failed', 'user', 'weight',
])
  KEYWORDS[k] = k.toUpperCase();
KEYWORDS['file'] = 'FILENAME';
KEYWORDS['max'] = 'MAXIMUM';
KEYWORDS['min'] = 'MINIMUM';

/** A token: a keyword (upper case), STRING, NUMBER, PORTBINARY, NE, LE, GE, ERROR, EOF or a character. */
export interface Token {
  t: string;
  s: string;
  n: number;
  line: number;
}

const EOF = -1;
const START_EXPAND = 1;
const DONE_EXPAND = 2;

interface PfFile {
  name: string;
  text: string;
  pos: number;
  lineno: number;
  unget: number[];
  eofReached: boolean;
  errors: number;
}

function isdigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isalnum(c: number): boolean {
  return isdigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
function isspace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}
function ispunct(c: number): boolean {
  return c > 32 && c < 127 && !isalnum(c);
}
function allowedToEndNumber(c: number): boolean {
  return isspace(c) || c === 41 || c === 44 || c === 47 || c === 125 || c === 61;
}
function allowedInString(c: number): boolean {
  return isalnum(c) || (ispunct(c) && !'(){}<>!=/#,'.includes(String.fromCharCode(c)));
}

/** Host-side services the parser needs besides the host database. */
export interface ParseContext {
  env: PfctlEnv;
  opts: number;
  /** the anchor the ruleset loads into (-a), "" for the main ruleset */
  anchorPath: string;
  /** contents of a named file (include, table files), or null if unreadable */
  readFile: (name: string) => string | null;
  out: (s: string) => void;
  err: (s: string) => void;
  /** -D macros; they override definitions in the file */
  cmdlineMacros: Map<string, string>;
  /** "load anchor" requests, shared by nested loads (loadanchorshead) */
  loadAnchors?: Array<{ anchorname: string; filename: string }>;
  /**
   * The queues defined so far (parse.y's global qspecs): the anchors that
   * "load anchor" reads later may assign packets to the main ruleset's queues.
   */
  qspecs?: PfQueueSpec[];
  /** pf->optimize as pfctl starts the parse (-o, or the default) */
  optimize?: number;
  /**
   * pfctl's optimizer state and the kernel hooks pf_opt_create_table()
   * needs: translation pools of several addresses become tables through it
   * (without it the temporary names of a pfctl -n stay).
   */
  opt?: { state: PfOptState; kernelTables?: PfOptEnv['kernelTables']; random?: PfOptEnv['random'] };
}

export interface ParseResult {
  errors: number;
  main: PfAnchor;
  tables: PfTableDef[];
  queues: PfQueueSpec[];
  options: PfOptions;
  optimize: number;
  /** pf->opts after the parse: PF_OPT_OPTIMIZE once `set ruleset-optimization` set it */
  opts: number;
}

/* ------------------------------------------------------------------ */
/* parse-time node types (parse.y's node_*)                          */

interface NodeIf {
  ifname: string;
  not: boolean;
  useRdomain: boolean;
  rdomain: number;
  ifaFlags: number;
  dynamic: boolean;
}
interface NodePort {
  port: [number, number];
  op: number;
}
interface NodeUid {
  id: [number, number];
  op: number;
}
interface NodeIcmp {
  type: number;
  code: number;
  proto: number;
}
interface Range {
  a: number;
  b: number;
  t: number;
}
interface Redirection {
  hosts: NodeHost[];
  rport: Range;
}
interface PoolOpts {
  marker: number;
  opts: number;
  type: number;
  staticport: boolean;
  key: [number, number, number, number] | null;
}
interface RedirSpec {
  rdr: Redirection | null;
  poolOpts: PoolOpts;
  binat: boolean;
  af: number;
}
interface StateOpt {
  type: number;
  n: number;
  m: number;
  name: string;
}
interface Peer {
  host: NodeHost[] | null;
  port: NodePort[] | null;
}
interface FromTo {
  src: Peer;
  dst: Peer;
  srcOs: string[] | null;
}

const POM_STICKYADDRESS = 0x02;

const FOM_FLAGS = 0x0001;
const FOM_ICMP = 0x0002;
const FOM_TOS = 0x0004;
const FOM_KEEP = 0x0008;
const FOM_MINTTL = 0x0020;
const FOM_MAXMSS = 0x0040;
const FOM_AFTO = 0x0080;
const FOM_SETTOS = 0x0100;
const FOM_SCRUB_TCP = 0x0200;
const FOM_SETPRIO = 0x0400;
const FOM_ONCE = 0x1000;
const FOM_PRIO = 0x2000;
const FOM_SETDELAY = 0x4000;

const SO_MAX = 0;
const SO_NOSYNC = 1;
const SO_SRCTRACK = 2;
const SO_MAX_SRC_STATES = 3;
const SO_MAX_SRC_CONN = 4;
const SO_MAX_SRC_CONN_RATE = 5;
const SO_MAX_SRC_NODES = 6;
const SO_OVERLOAD = 7;
const SO_STATELOCK = 8;
const SO_TIMEOUT = 9;
const SO_SLOPPY = 10;
const SO_PFLOW = 11;

const SRCTRACK = 1;
const SRCTRACK_GLOBAL = 2;
const SRCTRACK_RULE = 3;

interface FilterOpts {
  marker: number;
  uid: NodeUid[] | null;
  gid: NodeUid[] | null;
  rcv: NodeIf | null;
  flags: { b1: number; b2: number };
  icmpspec: NodeIcmp[] | null;
  tos: number;
  prob: number;
  keep: { action: number; options: StateOpt[] | null };
  fragment: boolean;
  allowopts: boolean;
  label: string | null;
  queues: { qname: string | null; pqname: string | null };
  tag: string | null;
  matchTag: string | null;
  matchTagNot: boolean;
  rtableid: number;
  prio: number;
  setPrio: [number, number];
  delay: number;
  divert: { addr: NodeHost[] | null; port: number; type: number };
  nat: RedirSpec;
  rdr: RedirSpec;
  rroute: RedirSpec;
  rt: number;
  nodf: boolean;
  minttl: number;
  settos: number;
  randomid: boolean;
  maxMss: number;
  pktrate: { limit: number; seconds: number };
}

function newPoolOpts(): PoolOpts {
  return { marker: 0, opts: 0, type: 0, staticport: false, key: null };
}
function newRedirSpec(): RedirSpec {
  return { rdr: null, poolOpts: newPoolOpts(), binat: false, af: 0 };
}
function newFilterOpts(): FilterOpts {
  return {
    marker: 0,
    uid: null,
    gid: null,
    rcv: null,
    flags: { b1: 0, b2: 0 },
    icmpspec: null,
    tos: 0,
    prob: 0,
    keep: { action: 0, options: null },
    fragment: false,
    allowopts: false,
    label: null,
    queues: { qname: null, pqname: null },
    tag: null,
    matchTag: null,
    matchTagNot: false,
    rtableid: -1,
    prio: 0,
    setPrio: [0, 0],
    delay: 0,
    divert: { addr: null, port: 0, type: PF_DIVERT_NONE },
    nat: newRedirSpec(),
    rdr: newRedirSpec(),
    rroute: newRedirSpec(),
    rt: 0,
    nodf: false,
    minttl: 0,
    settos: 0,
    randomid: false,
    maxMss: 0,
    pktrate: { limit: 0, seconds: 0 },
  };
}

/** YYERROR: abandon the statement (the message, if any, was printed). */
class YYError extends Error {}
/** A token the grammar does not allow here. */
class SyntaxErr extends Error {}

const TOS_WORDS: Record<string, number> = {
  af11: 0x28, af12: 0x30, af13: 0x38, af21: 0x48, af22: 0x50, af23: 0x58, af31: 0x68, af32: 0x70,
  af33: 0x78, af41: 0x88, af42: 0x90, af43: 0x98, critical: 0xa0, cs0: 0x00, cs1: 0x20, cs2: 0x40,
  cs3: 0x60, cs4: 0x80, cs5: 0xa0, cs6: 0xc0, cs7: 0xe0, ef: 0xb8, inetcontrol: 0xc0, lowdelay: 0x10,
  netcontrol: 0xe0, reliability: 0x04, throughput: 0x08,
};

const PF_LIMITS = ['states', 'src-nodes', 'frags', 'tables', 'table-entries', 'pktdelay-pkts', 'anchors'];

const HINTS: Record<string, Array<[string, number]>> = {
  normal: [['tcp.first', 120], ['tcp.opening', 30], ['tcp.established', 86400], ['tcp.closing', 900], ['tcp.finwait', 45], ['tcp.closed', 90], ['tcp.tsdiff', 30]],
  satellite: [['tcp.first', 180], ['tcp.opening', 35], ['tcp.established', 86400], ['tcp.closing', 905], ['tcp.finwait', 50], ['tcp.closed', 95], ['tcp.tsdiff', 60]],
  conservative: [['tcp.first', 3600], ['tcp.opening', 900], ['tcp.established', 432000], ['tcp.closing', 3600], ['tcp.finwait', 600], ['tcp.closed', 180], ['tcp.tsdiff', 60]],
  aggressive: [['tcp.first', 30], ['tcp.opening', 5], ['tcp.established', 18000], ['tcp.closing', 60], ['tcp.finwait', 30], ['tcp.closed', 30], ['tcp.tsdiff', 10]],
};
HINTS['high-latency'] = HINTS['satellite']!;

const LOGLEVELS: Record<string, number> = {
  emerg: 0, panic: 0, alert: 1, crit: 2, err: 3, error: 3, warning: 4, warn: 4, notice: 5, info: 6, debug: 7,
};

/** strtoul(s, &ep, 0) accepting the whole string, as atoul(); null when not a number. */
function atoul(s: string): number | null {
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return parseInt(s.slice(2), 16);
  if (/^0[0-7]*$/.test(s)) return parseInt(s, 8);
  if (/^[1-9][0-9]*$/.test(s)) return Number(s);
  return null;
}

/* ------------------------------------------------------------------ */

export class PfParser {
  private files: PfFile[] = [];
  private file!: PfFile;
  private expanding = false;
  private symbols = new Map<string, { val: string; used: boolean; persist: boolean }>();
  private tok: Token | null = null;
  /** yylval.lineno: line of the last token the lexer returned */
  private yyline = 1;
  /** yacc's yyerrflag: >0 suppresses "syntax error" right after a recovery */
  private errflag = 0;
  private readonly hctx: HostCtx;
  /** append_addr()'s state (static in pfctl_parser.c: one per pfctl run) */
  private readonly appender: AddrAppender;

  private blockpolicy = PFRULE_RETURN & 0;
  private returnicmpdefault = (3 << 8) | 3;
  private returnicmp6default = (1 << 8) | 4;
  private defaultStatelock = 0;
  private keepStateDefaults: StateOpt[] | null = null;

  private readonly anchors = new Map<string, PfAnchor>();
  private readonly main: PfAnchor;
  private anchor: PfAnchor;
  private astack: PfAnchor[] = [];
  private bn = 0;
  private alast: PfAnchor | null = null;

  readonly tables: PfTableDef[] = [];
  readonly queues: PfQueueSpec[];
  readonly options: PfOptions;
  optimize: number;
  /** `set ruleset-optimization` or -o already chose (PF_OPT_OPTIMIZE in pf->opts) */
  private optimizeChosen: boolean;
  private readonly optState: PfOptState;
  private reassemble = 1;

  constructor(private readonly ctx: ParseContext) {
    this.hctx = { env: ctx.env, opts: ctx.opts, warn: (m) => ctx.err(m) };
    this.appender = new AddrAppender(this.hctx);
    this.queues = ctx.qspecs ?? [];
    this.optimize = ctx.optimize ?? 0;
    this.optimizeChosen = (ctx.opts & PF_OPT_OPTIMIZE) !== 0;
    this.optState = ctx.opt?.state ?? new PfOptState();
    const name = ctx.anchorPath.includes('/') ? ctx.anchorPath.slice(ctx.anchorPath.lastIndexOf('/') + 1) : ctx.anchorPath;
    this.main = newAnchor(name, ctx.anchorPath, null);
    this.anchor = this.main;
    this.astack = [this.main];
    for (const [k, v] of ctx.cmdlineMacros) this.symbols.set(k, { val: v, used: false, persist: true });
    this.options = {
      timeout: new Array<number>(PFTM_MAX).fill(0),
      timeoutSet: new Array<boolean>(PFTM_MAX).fill(false),
      limit: new Map(),
      loginterface: null,
      hostid: 0,
      debug: 3,
      reassemble: 1,
      blockPolicy: 0,
      statePolicy: 0,
      skip: [],
      syncookies: 0,
      syncookiesWat: [0, 0],
    };
  }

  get verbose(): boolean {
    return (this.ctx.opts & PF_OPT_VERBOSE) !== 0;
  }

  /* ---- files and characters ---- */

  private pushfile(name: string, text: string, top: boolean): PfFile {
    const f: PfFile = { name, text, pos: 0, lineno: top ? 1 : 0, unget: [], eofReached: false, errors: 0 };
    this.files.push(f);
    return f;
  }

  private popfile(): boolean {
    const f = this.files.pop()!;
    const prev = this.files[this.files.length - 1];
    if (prev) {
      prev.errors += f.errors;
      this.file = prev;
      return true;
    }
    return false;
  }

  private igetc(): number {
    for (;;) {
      const f = this.file;
      let c: number;
      if (f.unget.length) c = f.unget.pop()!;
      else if (f.pos < f.text.length) c = f.text.charCodeAt(f.pos++);
      else c = EOF;
      if (c === START_EXPAND) this.expanding = true;
      else if (c === DONE_EXPAND) this.expanding = false;
      else return c;
    }
  }

  private lgetc(quotec: number): number {
    let c: number;
    if (quotec) {
      if ((c = this.igetc()) === EOF) {
        this.yyerror('reached end of file while parsing quoted string');
        if (this.files.length === 1 || !this.popfile()) return EOF;
        return quotec;
      }
      return c;
    }
    while ((c = this.igetc()) === 92) {
      const next = this.igetc();
      if (next !== 10) {
        c = next;
        break;
      }
      this.yyline = this.file.lineno;
      this.file.lineno++;
    }
    if (c === EOF) {
      if (!this.file.eofReached) {
        this.file.eofReached = true;
        return 10;
      }
      while (c === EOF) {
        if (this.files.length === 1 || !this.popfile()) return EOF;
        c = this.igetc();
      }
    }
    return c;
  }

  private lungetc(c: number): void {
    if (c === EOF) return;
    this.file.unget.push(c);
  }

  private findeol(): Token {
    for (;;) {
      const c = this.lgetc(0);
      if (c === 10) {
        this.file.lineno++;
        break;
      }
      if (c === EOF) break;
    }
    return this.mk('ERROR');
  }

  private mk(t: string, s = '', n = 0): Token {
    return { t, s, n, line: this.yyline };
  }

  /** yylex() */
  private yylex(): Token {
    for (;;) {
      let c: number;
      while ((c = this.lgetc(0)) === 32 || c === 9);
      this.yyline = this.file.lineno;
      if (c === 35) while ((c = this.lgetc(0)) !== 10 && c !== EOF);
      if (c === 36 && !this.expanding) {
        let name = '';
        for (;;) {
          if ((c = this.lgetc(0)) === EOF) return this.mk('EOF');
          if (name.length + 1 >= 8096 - 1) {
            this.yyerror('string too long');
            return this.findeol();
          }
          if (isalnum(c) || c === 95) {
            name += String.fromCharCode(c);
            continue;
          }
          this.lungetc(c);
          break;
        }
        const sym = this.symbols.get(name);
        if (!sym) {
          this.yyerror(`macro '${name}' not defined`);
          return this.findeol();
        }
        sym.used = true;
        this.lungetc(DONE_EXPAND);
        for (let i = sym.val.length - 1; i >= 0; i--) this.lungetc(sym.val.charCodeAt(i));
        this.lungetc(START_EXPAND);
        continue;
      }
      let buf = '';
      switch (c) {
        case 39:
        case 34: {
          const quotec = c;
          for (;;) {
            if ((c = this.lgetc(quotec)) === EOF) return this.mk('EOF');
            if (c === 10) {
              this.file.lineno++;
              continue;
            } else if (c === 92) {
              const next = this.lgetc(quotec);
              if (next === EOF) return this.mk('EOF');
              if (next === quotec || next === 32 || next === 9) c = next;
              else if (next === 10) {
                this.file.lineno++;
                continue;
              } else this.lungetc(next);
            } else if (c === quotec) break;
            else if (c === 0) {
              this.yyerror('syntax error');
              return this.findeol();
            }
            if (buf.length + 1 >= 8096 - 1) {
              this.yyerror('string too long');
              return this.findeol();
            }
            buf += String.fromCharCode(c);
          }
          return this.mk('STRING', buf);
        }
        case 33: {
          const next = this.lgetc(0);
          if (next === 61) return this.mk('NE');
          this.lungetc(next);
          break;
        }
        case 60: {
          const next = this.lgetc(0);
          if (next === 62) return this.mk('PORTBINARY', '', PF_OP_XRG);
          if (next === 61) return this.mk('LE');
          this.lungetc(next);
          break;
        }
        case 62: {
          const next = this.lgetc(0);
          if (next === 60) return this.mk('PORTBINARY', '', PF_OP_IRG);
          if (next === 61) return this.mk('GE');
          this.lungetc(next);
          break;
        }
      }
      if (c === 45 || isdigit(c)) {
        const chars: number[] = [];
        do {
          chars.push(c);
          if (chars.length >= 8096) {
            this.yyerror('string too long');
            return this.findeol();
          }
        } while ((c = this.lgetc(0)) !== EOF && isdigit(c));
        this.lungetc(c);
        const onlyMinus = chars.length === 1 && chars[0] === 45;
        if (!onlyMinus && (c === EOF || allowedToEndNumber(c))) {
          const s = String.fromCharCode(...chars);
          const v = Number(s);
          if (!/^-?\d+$/.test(s)) {
            this.yyerror(`"${s}" invalid number: invalid`);
            return this.findeol();
          }
          if (BigInt(s) > 9223372036854775807n) {
            this.yyerror(`"${s}" invalid number: too large`);
            return this.findeol();
          }
          if (BigInt(s) < -9223372036854775808n) {
            this.yyerror(`"${s}" invalid number: too small`);
            return this.findeol();
          }
          return this.mk('NUMBER', s, v);
        }
        for (let i = chars.length - 1; i >= 1; i--) this.lungetc(chars[i]!);
        c = chars[0]!;
        if (c === 45) return this.mk('-');
      }
      if (isalnum(c) || c === 58 || c === 95) {
        do {
          buf += String.fromCharCode(c);
          if (buf.length >= 8096) {
            this.yyerror('string too long');
            return this.findeol();
          }
        } while ((c = this.lgetc(0)) !== EOF && allowedInString(c));
        this.lungetc(c);
        const kw = KEYWORDS[buf];
        return kw ? this.mk(kw, buf) : this.mk('STRING', buf);
      }
      if (c === 10) {
        this.yyline = this.file.lineno;
        this.file.lineno++;
      }
      if (c === EOF) return this.mk('EOF');
      return this.mk(String.fromCharCode(c));
    }
  }

  /** All tokens of a text, for tests and tools (macros from ctx apply). */
  tokenize(text: string): Token[] {
    this.file = this.pushfile('stdin', text, true);
    const out: Token[] = [];
    for (;;) {
      const t = this.yylex();
      out.push(t);
      if (t.t === 'EOF') return out;
    }
  }

  /* ---- token stream ---- */

  private peek(): Token {
    if (!this.tok) this.tok = this.yylex();
    return this.tok;
  }
  private is(t: string): boolean {
    return this.peek().t === t;
  }
  private next(): Token {
    const t = this.peek();
    this.tok = null;
    if (this.errflag > 0) this.errflag--;
    return t;
  }
  private accept(t: string): Token | null {
    return this.is(t) ? this.next() : null;
  }
  private expect(t: string): Token {
    if (!this.is(t)) throw new SyntaxErr();
    return this.next();
  }

  private yyerror(msg: string): void {
    this.file.errors++;
    this.ctx.err(`${this.file.name}:${this.yyline}: ${msg}\n`);
  }

  /** yyerror() then YYERROR */
  private fail(msg: string): never {
    this.yyerror(msg);
    throw new YYError();
  }

  /* ---- the ruleset ---- */

  parse(filename: string, text: string): ParseResult {
    this.file = this.pushfile(filename === '-' ? 'stdin' : filename, text, true);
    this.statements(false);
    const errors = this.files[0]!.errors;
    for (const [name, sym] of this.symbols)
      if (this.ctx.opts & PF_OPT_VERBOSE2 && !sym.used) this.ctx.err(`warning: macro '${name}' not used\n`);
    return {
      errors,
      main: this.main,
      tables: this.tables,
      queues: this.queues,
      options: this.options,
      optimize: this.optimize,
      opts: this.ctx.opts | (this.optimizeChosen ? PF_OPT_OPTIMIZE : 0),
    };
  }

  /** ruleset / pfa_anchorlist; returns at EOF or, inside braces, before '}'. */
  private statements(inBrace: boolean): void {
    for (;;) {
      const t = this.peek();
      if (t.t === 'EOF') return;
      if (inBrace && t.t === '}') return;
      try {
        this.statement(inBrace);
      } catch (e) {
        if (!(e instanceof YYError) && !(e instanceof SyntaxErr)) throw e;
        // pfa_anchorlist has no error rule: yacc unwinds to the top level
        // and parses the rest of the brace's lines as top-level lines
        if (inBrace) throw e;
        if (e instanceof SyntaxErr) {
          if (this.errflag === 0) this.yyerror('syntax error');
          else this.file.errors++;
        }
        this.file.errors++;
        this.errflag = 3;
        this.recover();
      }
    }
  }

  /** Discard tokens up to and including the next newline. */
  private recover(): void {
    for (;;) {
      const t = this.peek();
      this.tok = null;
      if (t.t === '\n') {
        this.errflag--;
        return;
      }
      if (t.t === 'EOF') {
        this.tok = t;
        return;
      }
    }
  }

  private statement(inBrace: boolean): void {
    const t = this.peek();
    switch (t.t) {
      case '\n':
        this.next();
        return;
      case 'INCLUDE':
        this.include();
        return;
      case 'PASS':
      case 'BLOCK':
      case 'MATCH':
        this.pfrule();
        break;
      case 'ANCHOR':
        this.anchorrule();
        break;
      case 'TABLE':
        this.tabledef();
        break;
      case 'SET':
        if (inBrace) throw new SyntaxErr();
        this.option();
        break;
      case 'LOAD':
        if (inBrace) throw new SyntaxErr();
        this.loadrule();
        break;
      case 'QUEUE':
        if (inBrace) throw new SyntaxErr();
        this.queuespec();
        break;
      case 'ANTISPOOF':
        if (inBrace) throw new SyntaxErr();
        this.antispoof();
        break;
      case 'STRING':
        if (inBrace) throw new SyntaxErr();
        this.varset();
        break;
      default:
        throw new SyntaxErr();
    }
    this.expect('\n');
  }

  private include(): void {
    this.next();
    const name = this.expect('STRING').s;
    const text = this.ctx.readFile(name);
    if (text === null) {
      this.ctx.err(`pfctl: pushfile: ${name}: No such file or directory\n`);
      this.fail(`failed to include file ${name}`);
    }
    if (!this.is('\n') && this.peek().t !== 'EOF') throw new SyntaxErr();
    // the include's own newline stays with the including file
    this.file = this.pushfile(name, text, false);
    this.lungetc(10);
    this.tok = null;
    this.expect('\n');
  }

  /* ---- macros ---- */

  private varset(): void {
    const name = this.next().s;
    this.expect('=');
    const parts: string[] = [];
    while (this.is('STRING') || this.is('NUMBER')) parts.push(this.next().s);
    if (parts.length === 0) throw new SyntaxErr();
    const val = parts.join(' ');
    if (this.verbose) this.ctx.out(`${name} = "${val}"\n`);
    for (let i = 1; i < name.length; i++) if (isspace(name.charCodeAt(i))) this.fail('macro name cannot contain whitespace');
    const old = this.symbols.get(name);
    if (old && old.persist) return;
    this.symbols.delete(name);
    this.symbols.set(name, { val, used: false, persist: false });
  }

  /* ---- options ---- */

  private setTimeout(name: string, seconds: number, quiet: boolean): boolean {
    const t = PF_TIMEOUTS.find(([n]) => n.toLowerCase() === name.toLowerCase());
    if (!t) {
      this.ctx.err('pfctl: Bad timeout name.\n');
      return false;
    }
    this.options.timeout[t[1]] = seconds;
    this.options.timeoutSet[t[1]] = true;
    if (this.verbose && !quiet) this.ctx.out(`set timeout ${name} ${seconds}\n`);
    return true;
  }

  private timeoutSpec(): void {
    const name = this.expect('STRING').s;
    const n = this.expect('NUMBER').n;
    if (n < 0 || n > 0xffffffff) this.fail('only positive values permitted');
    if (!this.setTimeout(name, n, false)) this.fail(`unknown timeout ${name}`);
  }

  private limitSpec(): void {
    const name = this.expect('STRING').s;
    const n = this.expect('NUMBER').n;
    if (n < 0 || n > 0xffffffff) this.fail('only positive values permitted');
    const l = PF_LIMITS.find((x) => x === name.toLowerCase());
    if (!l) {
      this.ctx.err('pfctl: Bad pool name.\n');
      this.fail(`unable to set limit ${name} ${n}`);
    }
    this.options.limit.set(l, n);
    if (this.verbose) this.ctx.out(`set limit ${name} ${n}\n`);
  }

  private optnl(): void {
    while (this.accept('\n'));
  }

  private option(): void {
    this.next();
    const t = this.next();
    switch (t.t) {
      case 'REASSEMBLE': {
        let yes: boolean;
        if (this.accept('NO')) yes = false;
        else {
          const s = this.expect('STRING').s;
          if (s !== 'yes') this.fail(`invalid value '${s}', expected 'yes' or 'no'`);
          yes = true;
        }
        const nodf = !!this.accept('NO-DF');
        this.reassemble = yes ? 1 | (nodf ? 2 : 0) : 0;
        this.options.reassemble = this.reassemble;
        if (this.verbose) this.ctx.out(`set reassemble ${yes ? 'yes' : 'no'} ${nodf ? 'no-df' : ''}\n`);
        return;
      }
      case 'OPTIMIZATION': {
        const s = this.expect('STRING').s;
        const hint = HINTS[s.toLowerCase()];
        if (!hint) {
          this.ctx.err('pfctl: invalid state timeouts optimization\n');
          this.fail(`unknown optimization ${s}`);
        }
        for (const [n, v] of hint) this.setTimeout(n, v, true);
        if (this.verbose) this.ctx.out(`set optimization ${s}\n`);
        return;
      }
      case 'RULESET-OPTIMIZATION': {
        const s = this.stringList();
        let v: number;
        if (s === 'none') v = 0;
        else if (s === 'basic') v = 1;
        else if (s === 'profile') v = 3;
        else this.fail(`unknown ruleset-optimization ${s}`);
        if (!this.optimizeChosen) {
          this.optimizeChosen = true;
          this.optimize = v;
        }
        return;
      }
      case 'TIMEOUT':
        if (this.accept('{')) {
          this.optnl();
          this.timeoutSpec();
          this.optnl();
          while (!this.is('}')) {
            this.accept(',');
            this.timeoutSpec();
            this.optnl();
          }
          this.next();
        } else this.timeoutSpec();
        return;
      case 'LIMIT':
        if (this.accept('{')) {
          this.optnl();
          this.limitSpec();
          this.optnl();
          while (!this.is('}')) {
            this.accept(',');
            this.limitSpec();
            this.optnl();
          }
          this.next();
        } else this.limitSpec();
        return;
      case 'LOGINTERFACE': {
        const s = this.accept('ALL') ? 'all' : this.expect('STRING').s;
        this.options.loginterface = s === 'none' ? null : s;
        if (this.verbose) this.ctx.out(`set loginterface ${s}\n`);
        return;
      }
      case 'HOSTID': {
        const n = this.number();
        if (n === 0 || n > 0xffffffff) this.fail('hostid must be non-zero');
        this.options.hostid = n;
        if (this.verbose) this.ctx.out(`set hostid 0x${n.toString(16).padStart(8, '0')}\n`);
        return;
      }
      case 'BLOCK-POLICY':
        if (this.accept('DROP')) {
          if (this.verbose) this.ctx.out('set block-policy drop\n');
          this.blockpolicy = 0;
        } else {
          this.expect('RETURN');
          if (this.verbose) this.ctx.out('set block-policy return\n');
          this.blockpolicy = PFRULE_RETURN;
        }
        this.options.blockPolicy = this.blockpolicy;
        return;
      case 'FINGERPRINTS': {
        const s = this.expect('STRING').s;
        if (this.verbose) this.ctx.out(`set fingerprints "${s}"\n`);
        return;
      }
      case 'STATE-POLICY': {
        let v: number;
        if (this.accept('IF-BOUND')) v = PFRULE_IFBOUND;
        else {
          this.expect('FLOATING');
          v = 0;
        }
        if (this.verbose) this.ctx.out(v ? 'set state-policy if-bound\n' : 'set state-policy floating\n');
        this.defaultStatelock = v;
        this.options.statePolicy = v;
        return;
      }
      case 'DEBUG': {
        const s = this.accept('DEBUG') ? 'debug' : this.stringList();
        let level: number | undefined;
        if (/^\d/.test(s)) level = /^\d+$/.test(s) && Number(s) <= 7 ? Number(s) : undefined;
        else level = LOGLEVELS[s.toLowerCase()];
        if (level === undefined) {
          this.ctx.err(`pfctl: unknown debug level "${s}"\n`);
          this.fail(`error setting debuglevel ${s}`);
        }
        this.options.debug = level;
        if (this.verbose) this.ctx.out(`set debug ${s}\n`);
        return;
      }
      case 'SKIP': {
        const ifs = this.interface_();
        this.expandSkipInterface(ifs);
        return;
      }
      case 'STATE-DEFAULTS': {
        const l = this.stateOptList();
        if (this.keepStateDefaults !== null) this.fail('cannot redefine state-defaults');
        this.keepStateDefaults = l;
        return;
      }
      case 'SYNCOOKIES': {
        const s = this.expect('STRING').s;
        let val: number;
        if (s === 'never') val = 0;
        else if (s === 'always') val = 1;
        else if (s === 'adaptive') val = 2;
        else this.fail('illegal value for syncookies');
        let w: { hi: number; lo: number } | null = null;
        if (this.accept('(')) {
          w = { hi: 0, lo: 0 };
          for (;;) {
            const k = this.expect('STRING').s;
            const v = this.expect('STRING').s;
            const m = /^([0-9.]+)%$/.exec(v);
            if (!m) throw new YYError();
            const pct = Number(m[1]);
            if (pct <= 0 || pct > 100) this.fail('illegal percentage value');
            if (k === 'start') w.hi = pct;
            else if (k === 'end') w.lo = pct;
            else this.fail('illegal syncookie option');
            if (this.accept(')')) break;
            this.accept(',');
          }
        }
        if (val !== 2 && w) {
          this.ctx.err('pfctl: syncookies start/end only apply to adaptive\n');
          this.fail('error setting syncookies');
        }
        let watSet = false;
        if (val === 2 && w) {
          if (!w.hi) w.hi = 25;
          if (!w.lo) w.lo = Math.floor(w.hi / 2);
          if (w.lo >= w.hi) {
            this.ctx.err('pfctl: start must be higher than end\n');
            this.fail('error setting syncookies');
          }
          this.options.syncookiesWat = [Math.floor(w.lo), Math.floor(w.hi)];
          watSet = true;
        }
        if (this.verbose) {
          if (val === 0) this.ctx.out('set syncookies never\n');
          else if (val === 1) this.ctx.out('set syncookies always\n');
          else if (watSet)
            this.ctx.out(
              `set syncookies adaptive (start ${this.options.syncookiesWat[1]}%, end ${this.options.syncookiesWat[0]}%)\n`,
            );
          else this.ctx.out('set syncookies adaptive\n');
        }
        this.options.syncookies = val;
        return;
      }
      default:
        throw new SyntaxErr();
    }
  }

  /** `string: STRING string | STRING` (consecutive strings joined by spaces) */
  private stringList(): string {
    const parts = [this.expect('STRING').s];
    while (this.is('STRING')) parts.push(this.next().s);
    return parts.join(' ');
  }

  private number(): number {
    if (this.is('NUMBER')) return this.next().n;
    const s = this.expect('STRING').s;
    const v = atoul(s);
    if (v === null) this.fail(`${s} is not a number`);
    return v;
  }

  private expandSkipInterface(ifs: NodeIf[] | null): void {
    if (!ifs || (ifs.length === 1 && !ifs[0]!.not && ifs[0]!.ifname === 'none')) {
      if (this.verbose) this.ctx.out('set skip on none\n');
      this.options.skip = [];
      return;
    }
    let errs = 0;
    if (this.verbose) this.ctx.out('set skip on {');
    for (const i of ifs) {
      if (this.verbose) this.ctx.out(` ${i.ifname}`);
      if (i.not) {
        this.yyerror('skip on ! <interface> is not supported');
        errs++;
      } else if (i.useRdomain) {
        this.yyerror('skip on rdomain <num> is not supported');
        errs++;
      } else this.options.skip.push(i.ifname);
    }
    if (this.verbose) this.ctx.out(' }\n');
    if (errs) this.fail('error setting skip interface(s)');
  }

  /* ---- tables ---- */

  private tabledef(): void {
    this.next();
    this.expect('<');
    const name = this.expect('STRING').s;
    this.expect('>');
    let flags = 0;
    let initAddr = false;
    const nodes: TableInit[] = [];
    for (;;) {
      if (this.is('STRING')) {
        const s = this.next().s;
        if (s === 'const') flags |= PFR_TFLAG_CONST;
        else if (s === 'persist') flags |= PFR_TFLAG_PERSIST;
        else if (s === 'counters') flags |= PFR_TFLAG_COUNTERS;
        else this.fail(`invalid table option '${s}'`);
      } else if (this.accept('{')) {
        this.optnl();
        if (this.accept('}')) {
          initAddr = true;
          continue;
        }
        const hosts = this.tableHostList();
        this.expect('}');
        for (const n of hosts) {
          switch (n.addr.type) {
            case PF_ADDR_ADDRMASK:
              continue;
            case PF_ADDR_RANGE:
              this.fail('address ranges are not permitted inside tables');
            // eslint-disable-next-line no-fallthrough
            case PF_ADDR_DYNIFTL:
              this.fail('dynamic addresses are not permitted inside tables');
            // eslint-disable-next-line no-fallthrough
            case PF_ADDR_TABLE:
              this.fail('tables cannot contain tables');
            // eslint-disable-next-line no-fallthrough
            case PF_ADDR_NOROUTE:
              this.fail('"no-route" is not permitted inside tables');
            // eslint-disable-next-line no-fallthrough
            case PF_ADDR_URPFFAILED:
              this.fail('"urpf-failed" is not permitted inside tables');
            // eslint-disable-next-line no-fallthrough
            default:
              this.fail(`unknown address type ${n.addr.type}`);
          }
        }
        nodes.push({ file: null, hosts });
        initAddr = true;
      } else if (this.accept('FILENAME')) {
        nodes.push({ file: this.expect('STRING').s, hosts: [] });
        initAddr = true;
      } else break;
    }
    if (name.length >= 32) this.fail(`table name too long, max ${31} chars`);
    this.processTabledef(name, flags, initAddr, nodes);
  }

  private processTabledef(name: string, flags: number, initAddr: boolean, nodes: TableInit[]): void {
    const def: PfTableDef = { name, anchor: this.anchor.path, flags, initAddr, entries: [], files: [] };
    for (const ti of nodes) {
      if (ti.file !== null) {
        const text = this.ctx.readFile(ti.file);
        if (text === null) this.fail(`cannot load "${ti.file}": No such file or directory`);
        def.files.push(ti.file);
        // pfr_buf_load(): append_addr() per word, whose `weight N` weighs the address before
        const b: PfrAddr[] = [];
        let ev = 0;
        for (const word of pfrTokens(text)) {
          ev = this.appender.append(b, word, false);
          if (ev === -1) break;
        }
        if (ev !== 0) this.fail(`file "${ti.file}" contains bad data`);
        for (const a of b) {
          const addr = new Uint8Array(16);
          const w = a.af === AF_INET ? [a.w0] : [a.w0, a.w1, a.w2, a.w3];
          w.forEach((x, i) => {
            addr[i * 4] = x >>> 24;
            addr[i * 4 + 1] = (x >>> 16) & 255;
            addr[i * 4 + 2] = (x >>> 8) & 255;
            addr[i * 4 + 3] = x & 255;
          });
          def.entries.push({ af: a.af, addr, net: a.net, not: a.not, ifname: a.ifname || null, weight: a.weight });
        }
      }
      for (const h of ti.hosts) def.entries.push(this.tableEntry(h, false));
    }
    if (this.verbose) this.ctx.out(printTabledef(name, flags, initAddr, nodes));
    this.tables.push(def);
  }

  private tableEntry(h: NodeHost, not: boolean): PfTableDef['entries'][number] {
    return { af: h.af, addr: h.addr.addr.slice(), net: unmask(h.addr.mask), not: h.not !== not, ifname: h.ifname, weight: h.weight };
  }

  private tableHostList(): NodeHost[] {
    const out: NodeHost[] = [];
    for (;;) {
      out.push(...this.tablespec());
      this.optnl();
      if (this.is('}')) return out;
      this.accept(',');
    }
  }

  private tablespec(): NodeHost[] {
    if (this.accept('{')) {
      this.optnl();
      const l = this.tableHostList();
      this.expect('}');
      return l;
    }
    const h = this.xhost();
    const w = this.optweight();
    if (w > 0) for (const n of h) n.weight = w;
    return h;
  }

  private optweight(): number {
    if (!this.accept('WEIGHT')) return 0;
    const n = this.expect('NUMBER').n;
    if (n < 1 || n > 65535) this.fail('weight out of range');
    return n;
  }

  /* ---- hosts ---- */

  private not(): boolean {
    return !!this.accept('!');
  }

  /** ipspec: ANY | xhost | '{' host_list '}' ; null means any */
  private ipspec(): NodeHost[] | null {
    if (this.accept('ANY')) return null;
    if (this.accept('{')) {
      this.optnl();
      let list: NodeHost[] | null = [];
      let first = true;
      for (;;) {
        const h = this.ipspec();
        this.optnl();
        if (first) list = h;
        else if (list === null || h === null) list = null;
        else list.push(...h);
        first = false;
        if (this.accept('}')) return list;
        this.accept(',');
      }
    }
    return this.xhost();
  }

  private xhost(): NodeHost[] {
    const not = this.not();
    if (this.accept('NO-ROUTE')) {
      const h = newNodeHost();
      h.addr.type = PF_ADDR_NOROUTE;
      h.not = not;
      return [h];
    }
    if (this.accept('URPF-FAILED')) {
      const h = newNodeHost();
      h.addr.type = PF_ADDR_URPFFAILED;
      h.not = not;
      return [h];
    }
    const hs = this.host();
    for (const n of hs) n.not = not;
    return hs;
  }

  private hostOrFail(s: string): NodeHost[] {
    const h = host(this.hctx, s);
    if (!h) this.fail('could not parse host specification');
    return h;
  }

  private host(): NodeHost[] {
    const t = this.peek();
    if (t.t === 'STRING') {
      this.next();
      if (this.accept('-')) {
        const e = this.expect('STRING').s;
        const b = host(this.hctx, t.s);
        const en = b ? host(this.hctx, e) : null;
        if (!b || !en) this.fail('could not parse host specification');
        const b0 = b[0]!;
        const e0 = en[0]!;
        if (
          b0.af !== e0.af ||
          b0.addr.type !== PF_ADDR_ADDRMASK ||
          e0.addr.type !== PF_ADDR_ADDRMASK ||
          unmask(b0.addr.mask) !== (b0.af === AF_INET ? 32 : 128) ||
          unmask(e0.addr.mask) !== (e0.af === AF_INET ? 32 : 128) ||
          b.length > 1 ||
          b0.not ||
          en.length > 1 ||
          e0.not
        )
          this.fail('invalid address range');
        b0.addr.mask.set(e0.addr.addr);
        b0.addr.type = PF_ADDR_RANGE;
        return [b0];
      }
      if (this.accept('/')) {
        const n = this.expect('NUMBER').s;
        return this.hostOrFail(`${t.s}/${n}`);
      }
      return this.hostOrFail(t.s);
    }
    if (t.t === 'NUMBER') {
      this.next();
      this.expect('/');
      const n = this.expect('NUMBER').s;
      return this.hostOrFail(`${t.s}/${n}`);
    }
    if (t.t === '(') {
      const h = this.dynaddr();
      if (this.accept('/')) {
        const n = this.expect('NUMBER').n;
        if (n < 0 || n > 128) this.fail('bit number too big');
        setIpmask(h, n);
      }
      return [h];
    }
    if (t.t === '<') {
      this.next();
      const name = this.expect('STRING').s;
      this.expect('>');
      if (name.length >= 32) this.fail(`table name '${name}' too long`);
      const h = newNodeHost();
      h.addr.type = PF_ADDR_TABLE;
      h.addr.tblname = name;
      return [h];
    }
    if (t.t === 'ROUTE') {
      this.next();
      const name = this.expect('STRING').s;
      const h = newNodeHost();
      h.addr.type = PF_ADDR_RTLABEL;
      h.addr.rtlabelname = name;
      return [h];
    }
    throw new SyntaxErr();
  }

  private dynaddr(): NodeHost {
    this.expect('(');
    const op = this.expect('STRING').s;
    this.expect(')');
    if (!/^[A-Za-z]/.test(op)) this.fail(`invalid interface name '${op}'`);
    let s = op;
    let flags = 0;
    for (let p = s.lastIndexOf(':'); p >= 0; p = s.lastIndexOf(':')) {
      const m = s.slice(p + 1);
      if (m === 'network') flags |= PFI_AFLAG_NETWORK;
      else if (m === 'broadcast') flags |= PFI_AFLAG_BROADCAST;
      else if (m === 'peer') flags |= PFI_AFLAG_PEER;
      else if (m === '0') flags |= PFI_AFLAG_NOALIAS;
      else this.fail(`interface ${s} has bad modifier`);
      s = s.slice(0, p);
    }
    if (flags & (flags - 1) & PFI_AFLAG_MODEMASK) this.fail('illegal combination of interface modifiers');
    const h = newNodeHost();
    h.af = 0;
    setIpmask(h, 128);
    h.addr.type = PF_ADDR_DYNIFTL;
    h.addr.iflags = flags;
    h.addr.ifname = s;
    return h;
  }

  /* ---- ports, ids, protocols ---- */

  private getservice(n: string): number {
    const v = atoul(n);
    if (v !== null) {
      if (v > 65535) this.fail(`illegal port value ${v}`);
      return v;
    }
    const p = this.ctx.env.services.tcp.get(n) ?? this.ctx.env.services.udp.get(n);
    if (p === undefined) this.fail(`unknown port ${n}`);
    return p;
  }

  private parseport(port: string, range: boolean, star: boolean): Range {
    const p = port.indexOf(':');
    if (p < 0) return { a: this.getservice(port), b: 0, t: PF_OP_NONE };
    if (star && port.slice(p + 1) === '*') return { a: this.getservice(port.slice(0, p)), b: 0, t: PF_OP_IRG };
    if (range) {
      const a = this.getservice(port.slice(0, p));
      const b = this.getservice(port.slice(p + 1));
      if (a === b) return { a, b: 0, t: PF_OP_NONE };
      return { a, b, t: PF_OP_RRG };
    }
    this.fail(`port is invalid: ${port}`);
  }

  private numberstring(): string {
    const t = this.peek();
    if (t.t === 'NUMBER' || t.t === 'STRING') return this.next().s;
    throw new SyntaxErr();
  }

  private unaryop(): number | null {
    const m: Record<string, number> = { '=': PF_OP_EQ, NE: PF_OP_NE, LE: PF_OP_LE, '<': PF_OP_LT, GE: PF_OP_GE, '>': PF_OP_GT };
    const op = m[this.peek().t];
    if (op === undefined) return null;
    this.next();
    return op;
  }

  private portItem(): NodePort {
    const op = this.unaryop();
    if (op !== null) {
      const r = this.parseport(this.numberstring(), true, false);
      if (r.t) this.fail("':' cannot be used with an other port operator");
      return { port: [r.a, r.b], op };
    }
    const r = this.parseport(this.numberstring(), true, false);
    if (this.is('PORTBINARY')) {
      const bop = this.next().n;
      const r2 = this.parseport(this.numberstring(), true, false);
      if (r.t || r2.t) this.fail("':' cannot be used with an other port operator");
      const np: NodePort = { port: [r.a, r2.a], op: bop };
      if (validateRange(bop, r.a, r2.a)) this.fail('invalid port range');
      return np;
    }
    if (r.t) {
      if (validateRange(PF_OP_RRG, r.a, r.b)) this.fail('invalid port range');
      return { port: [r.a, r.b], op: PF_OP_RRG };
    }
    return { port: [r.a, r.b], op: PF_OP_EQ };
  }

  private portspec(): NodePort[] {
    if (this.accept('{')) {
      this.optnl();
      const l: NodePort[] = [];
      for (;;) {
        l.push(this.portItem());
        this.optnl();
        if (this.accept('}')) return l;
        this.accept(',');
      }
    }
    return [this.portItem()];
  }

  private ugid(kind: 'user' | 'group'): number {
    const t = this.peek();
    if (t.t === 'STRING') {
      this.next();
      if (t.s === 'unknown') return -1;
      const v = (kind === 'user' ? this.ctx.env.users : this.ctx.env.groups).get(t.s);
      if (v === undefined) this.fail(`unknown ${kind} ${t.s}`);
      return v;
    }
    if (t.t === 'NUMBER') {
      this.next();
      if (t.n < 0 || t.n >= 0xffffffff) this.fail(`illegal ${kind === 'user' ? 'uid' : 'gid'} value ${t.s}`);
      return t.n;
    }
    throw new SyntaxErr();
  }

  private ugidItem(kind: 'user' | 'group'): NodeUid {
    const op = this.unaryop();
    if (op !== null) {
      const v = this.ugid(kind);
      if (v === -1 && op !== PF_OP_EQ && op !== PF_OP_NE) this.fail(`${kind} unknown requires operator = or !=`);
      return { id: [v, v], op };
    }
    const v = this.ugid(kind);
    if (this.is('PORTBINARY')) {
      const bop = this.next().n;
      const v2 = this.ugid(kind);
      if (v === -1 || v2 === -1) this.fail(`${kind} unknown requires operator = or !=`);
      return { id: [v, v2], op: bop };
    }
    return { id: [v, v], op: PF_OP_EQ };
  }

  private ugids(kind: 'user' | 'group'): NodeUid[] {
    if (this.accept('{')) {
      this.optnl();
      const l: NodeUid[] = [];
      for (;;) {
        l.push(this.ugidItem(kind));
        this.optnl();
        if (this.accept('}')) return l;
        this.accept(',');
      }
    }
    return [this.ugidItem(kind)];
  }

  private protoItem(): number {
    const t = this.peek();
    let pr: number;
    if (t.t === 'STRING') {
      this.next();
      const p = protoByName(this.ctx.env, t.s);
      if (p === null) this.fail(`unknown protocol ${t.s}`);
      pr = p;
    } else if (t.t === 'NUMBER') {
      this.next();
      if (t.n < 0 || t.n > 255) this.fail('protocol outside range');
      pr = t.n;
    } else throw new SyntaxErr();
    if ((pr & 255) === 0) this.fail('proto 0 cannot be used');
    return pr & 255;
  }

  private proto(): number[] | null {
    if (!this.accept('PROTO')) return null;
    if (this.accept('{')) {
      this.optnl();
      const l: number[] = [];
      for (;;) {
        l.push(this.protoItem());
        this.optnl();
        if (this.accept('}')) return l;
        this.accept(',');
      }
    }
    return [this.protoItem()];
  }

  /* ---- interfaces ---- */

  private ifItem(): NodeIf {
    const t = this.peek();
    if (t.t === 'STRING') {
      this.next();
      if (t.s.length >= 16) this.fail('interface name too long');
      const n = ifaExists(this.ctx.env, t.s);
      return { ifname: t.s, not: false, useRdomain: false, rdomain: 0, ifaFlags: n ? n.flags : 0, dynamic: false };
    }
    if (t.t === 'ANY') {
      this.next();
      return { ifname: 'any', not: false, useRdomain: false, rdomain: 0, ifaFlags: 0, dynamic: false };
    }
    if (t.t === 'RDOMAIN') {
      this.next();
      const n = this.expect('NUMBER').n;
      if (n < 0 || n > 255) this.yyerror(`rdomain ${n} outside range`);
      return { ifname: '', not: false, useRdomain: true, rdomain: n, ifaFlags: 0, dynamic: false };
    }
    throw new SyntaxErr();
  }

  private ifItemNot(): NodeIf {
    const not = this.not();
    const i = this.ifItem();
    i.not = not;
    return i;
  }

  private interface_(): NodeIf[] | null {
    if (!this.accept('ON')) return null;
    if (this.accept('{')) {
      this.optnl();
      const l: NodeIf[] = [];
      for (;;) {
        l.push(this.ifItemNot());
        this.optnl();
        if (this.accept('}')) return l;
        this.accept(',');
      }
    }
    return [this.ifItemNot()];
  }

  private af(): number {
    if (this.accept('INET')) return AF_INET;
    if (this.accept('INET6')) return AF_INET6;
    return 0;
  }

  /* ---- from/to ---- */

  private ipportspec(): Peer {
    if (this.accept('PORT')) return { host: null, port: this.portspec() };
    const h = this.ipspec();
    if (this.accept('PORT')) return { host: h, port: this.portspec() };
    return { host: h, port: null };
  }

  private fromto(): FromTo {
    if (this.accept('ALL')) return { src: { host: null, port: null }, dst: { host: null, port: null }, srcOs: null };
    const src = this.accept('FROM') ? this.ipportspec() : { host: null, port: null };
    let srcOs: string[] | null = null;
    if (this.accept('OS')) {
      if (this.accept('{')) {
        this.optnl();
        srcOs = [];
        for (;;) {
          srcOs.push(this.expect('STRING').s);
          this.optnl();
          if (this.accept('}')) break;
          this.accept(',');
        }
      } else srcOs = [this.expect('STRING').s];
    }
    let dst: Peer = { host: null, port: null };
    if (this.accept('TO')) {
      dst = this.ipportspec();
      if (dst.host && dst.host.some((h) => h.addr.type === PF_ADDR_URPFFAILED))
        this.fail('"urpf-failed" is not permitted in a destination address');
    }
    return { src, dst, srcOs };
  }

  /* ---- filter options ---- */

  private icmpItem(v6: boolean): NodeIcmp {
    const af = v6 ? AF_INET6 : AF_INET;
    const kw = v6 ? 'icmp6' : 'icmp';
    const t = this.peek();
    let type: number;
    if (t.t === 'STRING') {
      this.next();
      const p = geticmptypebyname(t.s, af);
      if (!p) this.fail(`unknown ${kw}-type ${t.s}`);
      type = p.type + 1;
    } else if (t.t === 'NUMBER') {
      this.next();
      if (t.n < 0 || t.n > 255) this.fail(`illegal ${kw}-type ${t.s}`);
      type = t.n + 1;
    } else throw new SyntaxErr();
    let code = 0;
    if (this.accept('CODE')) {
      const c = this.peek();
      if (c.t === 'STRING') {
        this.next();
        const p = geticmpcodebyname(type - 1, c.s, af);
        if (!p) this.fail(`unknown ${kw}-code ${c.s}`);
        code = p.code + 1;
      } else if (c.t === 'NUMBER') {
        this.next();
        if (c.n < 0 || c.n > 255) this.fail(`illegal icmp-code ${c.s}`);
        code = c.n + 1;
      } else throw new SyntaxErr();
    }
    return { type, code, proto: v6 ? 58 : 1 };
  }

  private icmpspec(v6: boolean): NodeIcmp[] {
    if (this.accept('{')) {
      this.optnl();
      const l: NodeIcmp[] = [];
      for (;;) {
        l.push(this.icmpItem(v6));
        this.optnl();
        if (this.accept('}')) return l;
        this.accept(',');
      }
    }
    return [this.icmpItem(v6)];
  }

  private tos(): number {
    const t = this.peek();
    if (t.t === 'NUMBER') {
      this.next();
      if (t.n < 0 || t.n > 255) this.fail(`illegal tos value ${t.s}`);
      return t.n;
    }
    const s = this.expect('STRING').s;
    let v = 256;
    const w = TOS_WORDS[s.toLowerCase()];
    if (w !== undefined) v = w;
    else if (s[0] === '0' && s[1] === 'x') v = /^0x[0-9a-fA-F]+$/.test(s) ? parseInt(s.slice(2), 16) : 256;
    if (v < 0 || v > 255) this.fail(`illegal tos value ${s}`);
    return v;
  }

  private stateOptItem(): StateOpt {
    const t = this.next();
    const pos = (n: number): void => {
      if (n < 0 || n > 0xffffffff) this.fail('only positive values permitted');
    };
    switch (t.t) {
      case 'MAXIMUM': {
        const n = this.expect('NUMBER').n;
        pos(n);
        return { type: SO_MAX, n, m: 0, name: '' };
      }
      case 'NO-SYNC':
        return { type: SO_NOSYNC, n: 0, m: 0, name: '' };
      case 'MAX-SRC-STATES': {
        const n = this.expect('NUMBER').n;
        pos(n);
        return { type: SO_MAX_SRC_STATES, n, m: 0, name: '' };
      }
      case 'MAX-SRC-CONN': {
        const n = this.expect('NUMBER').n;
        pos(n);
        return { type: SO_MAX_SRC_CONN, n, m: 0, name: '' };
      }
      case 'MAX-SRC-CONN-RATE': {
        const n = this.expect('NUMBER').n;
        this.expect('/');
        const m = this.expect('NUMBER').n;
        pos(n);
        pos(m);
        return { type: SO_MAX_SRC_CONN_RATE, n, m, name: '' };
      }
      case 'OVERLOAD': {
        this.expect('<');
        const name = this.expect('STRING').s;
        this.expect('>');
        let flush = 0;
        if (this.accept('FLUSH')) flush = this.accept('GLOBAL') ? PF_FLUSH | PF_FLUSH_GLOBAL : PF_FLUSH;
        if (name.length >= 32) this.fail(`table name '${name}' too long`);
        return { type: SO_OVERLOAD, n: flush, m: 0, name };
      }
      case 'MAX-SRC-NODES': {
        const n = this.expect('NUMBER').n;
        pos(n);
        return { type: SO_MAX_SRC_NODES, n, m: 0, name: '' };
      }
      case 'SOURCE-TRACK': {
        let n = SRCTRACK;
        if (this.accept('GLOBAL')) n = SRCTRACK_GLOBAL;
        else if (this.accept('RULE')) n = SRCTRACK_RULE;
        return { type: SO_SRCTRACK, n, m: 0, name: '' };
      }
      case 'IF-BOUND':
        return { type: SO_STATELOCK, n: PFRULE_IFBOUND, m: 0, name: '' };
      case 'FLOATING':
        return { type: SO_STATELOCK, n: 0, m: 0, name: '' };
      case 'SLOPPY':
        return { type: SO_SLOPPY, n: 0, m: 0, name: '' };
      case 'PFLOW':
        return { type: SO_PFLOW, n: 0, m: 0, name: '' };
      case 'STRING': {
        const n = this.expect('NUMBER').n;
        pos(n);
        const tm = PF_TIMEOUTS.find(([nm]) => nm === t.s);
        if (!tm) this.fail(`illegal timeout name ${t.s}`);
        if (!tm[0].includes('.')) this.fail(`illegal state timeout ${t.s}`);
        return { type: SO_TIMEOUT, n: tm[1], m: n, name: tm[0] };
      }
      default:
        throw new SyntaxErr();
    }
  }

  private stateOptList(): StateOpt[] {
    const l = [this.stateOptItem()];
    for (;;) {
      if (this.accept(',')) {
        l.push(this.stateOptItem());
        continue;
      }
      const t = this.peek().t;
      if (t === ')' || t === '\n' || t === 'EOF') return l;
      l.push(this.stateOptItem());
    }
  }

  private keep(): { action: number; options: StateOpt[] | null } {
    const t = this.next();
    if (t.t === 'NO') {
      this.expect('STATE');
      return { action: 0, options: null };
    }
    const action = t.t === 'KEEP' ? PF_STATE_NORMAL : t.t === 'MODULATE' ? PF_STATE_MODULATE : PF_STATE_SYNPROXY;
    this.expect('STATE');
    let options: StateOpt[] | null = null;
    if (this.accept('(')) {
      options = this.stateOptList();
      this.expect(')');
    }
    return { action, options };
  }

  private scrubOpts(fo: FilterOpts): void {
    let nodf = false;
    let randomid = false;
    let reass = false;
    let marker = 0;
    let minttl = 0;
    let maxmss = 0;
    for (;;) {
      const t = this.next();
      switch (t.t) {
        case 'NO-DF':
          if (nodf) this.fail('no-df cannot be respecified');
          nodf = true;
          break;
        case 'MIN-TTL': {
          const n = this.expect('NUMBER');
          if (marker & FOM_MINTTL) this.fail('min-ttl cannot be respecified');
          if (n.n < 0 || n.n > 255) this.fail(`illegal min-ttl value ${n.s}`);
          marker |= FOM_MINTTL;
          minttl = n.n;
          break;
        }
        case 'MAX-MSS': {
          const n = this.expect('NUMBER');
          if (marker & FOM_MAXMSS) this.fail('max-mss cannot be respecified');
          if (n.n < 0 || n.n > 65535) this.fail(`illegal max-mss value ${n.s}`);
          marker |= FOM_MAXMSS;
          maxmss = n.n;
          break;
        }
        case 'REASSEMBLE': {
          const s = this.expect('STRING').s;
          if (s.toLowerCase() !== 'tcp') this.fail(`scrub reassemble supports only tcp, not '${s}'`);
          if (reass) this.fail('reassemble tcp cannot be respecified');
          reass = true;
          break;
        }
        case 'RANDOM-ID':
          if (randomid) this.fail('random-id cannot be respecified');
          randomid = true;
          break;
        default:
          throw new SyntaxErr();
      }
      if (this.is(')')) break;
      this.accept(',');
    }
    fo.nodf = nodf;
    fo.minttl = minttl;
    fo.randomid = randomid;
    fo.maxMss = maxmss;
    if (reass) fo.marker |= FOM_SCRUB_TCP;
    fo.marker |= marker;
  }

  private qname(): { qname: string; pqname: string | null } {
    const find = (q: string): void => {
      if (!this.queues.some((x) => x.qname === q)) this.fail(`queue ${q} is not defined`);
    };
    if (this.accept('(')) {
      const q = this.expect('STRING').s;
      if (this.accept(')')) {
        find(q);
        return { qname: q, pqname: null };
      }
      this.accept(',');
      const p = this.expect('STRING').s;
      this.expect(')');
      find(q);
      find(p);
      return { qname: q, pqname: p };
    }
    const q = this.expect('STRING').s;
    find(q);
    return { qname: q, pqname: null };
  }

  private prioSpec(): [number, number] {
    this.expect('PRIO');
    if (this.accept('(')) {
      const a = this.expect('NUMBER').n;
      this.accept(',');
      const b = this.expect('NUMBER').n;
      this.expect(')');
      if (a < 0 || a > 7 || b < 0 || b > 7) this.fail('prio must be 0 - 7');
      return [a, b];
    }
    const n = this.expect('NUMBER').n;
    if (n < 0 || n > 7) this.fail('prio must be 0 - 7');
    return [n, n];
  }

  private filterSet(fo: FilterOpts): void {
    const t = this.peek().t;
    if (t === 'PRIO') {
      const p = this.prioSpec();
      if (fo.marker & FOM_SETPRIO) this.fail('prio cannot be redefined');
      fo.marker |= FOM_SETPRIO;
      fo.setPrio = p;
    } else if (t === 'QUEUE') {
      this.next();
      const q = this.qname();
      if (fo.queues.qname) this.fail('queue cannot be redefined');
      fo.queues = q;
    } else if (t === 'TOS') {
      this.next();
      const v = this.tos();
      if (fo.marker & FOM_SETTOS) this.fail('tos cannot be respecified');
      fo.marker |= FOM_SETTOS;
      fo.settos = v;
    } else if (t === 'DELAY') {
      this.next();
      const n = this.expect('NUMBER');
      if (fo.delay) this.fail('delay cannot be respecified');
      if (n.n < 0 || n.n > 0xffff) this.fail(`illegal delay value ${n.s} (0-${0xffff})`);
      fo.marker |= FOM_SETDELAY;
      fo.delay = n.n;
    } else throw new SyntaxErr();
  }

  private redirspec(): NodeHost[] {
    if (this.accept('{')) {
      this.optnl();
      const l: NodeHost[] = [];
      let first = true;
      for (;;) {
        const h = this.host();
        const w = this.optweight();
        if (first && h[0]!.addr.type !== PF_ADDR_ADDRMASK) this.fail('only addresses can be listed for redirection pools ');
        first = false;
        if (w > 0) for (const n of h) n.weight = w;
        l.push(...h);
        this.optnl();
        if (this.accept('}')) return l;
        this.accept(',');
      }
    }
    const h = this.host();
    const w = this.optweight();
    if (w > 0) for (const n of h) n.weight = w;
    return h;
  }

  private redirpool(): Redirection {
    const hosts = this.redirspec();
    if (this.accept('PORT')) {
      const r = this.parseport(this.numberstring(), true, true);
      return { hosts, rport: r };
    }
    return { hosts, rport: { a: 0, b: 0, t: 0 } };
  }

  private poolOpts(): PoolOpts {
    const po = newPoolOpts();
    for (;;) {
      const t = this.peek().t;
      const setType = (ty: number): void => {
        this.next();
        if (po.type) this.fail('pool type cannot be redefined');
        po.type = ty;
      };
      if (t === 'BITMASK') setType(PF_POOL_BITMASK);
      else if (t === 'RANDOM') setType(PF_POOL_RANDOM);
      else if (t === 'ROUND-ROBIN') setType(PF_POOL_ROUNDROBIN);
      else if (t === 'LEAST-STATES') setType(PF_POOL_LEASTSTATES);
      else if (t === 'SOURCE-HASH') {
        this.next();
        let key: [number, number, number, number];
        if (this.is('STRING')) {
          const s = this.stringList();
          if (s.startsWith('0x')) {
            if (s.length !== 34) this.fail('hex key must be 128 bits (32 hex digits) long');
            if (!/^0x[0-9a-fA-F]{32}$/.test(s)) this.fail('invalid hex key');
            key = [0, 1, 2, 3].map((i) => parseInt(s.slice(2 + 8 * i, 10 + 8 * i), 16)) as [number, number, number, number];
          } else {
            const d = createHash('md5').update(s).digest();
            key = [0, 1, 2, 3].map((i) => d.readUInt32BE(4 * i)) as [number, number, number, number];
          }
        } else {
          // arc4random() four times: the machine's seeded stream pfctl forks, when it runs on one
          const rnd = this.ctx.opt?.random;
          key = [0, 1, 2, 3].map(() => (rnd !== undefined ? rnd() : Math.random() * 0x100000000) >>> 0) as [number, number, number, number];
        }
        if (po.type) this.fail('pool type cannot be redefined');
        po.type = PF_POOL_SRCHASH;
        po.key = key;
      } else if (t === 'STATIC-PORT') {
        this.next();
        if (po.staticport) this.fail('static-port cannot be redefined');
        po.staticport = true;
      } else if (t === 'STICKY-ADDRESS') {
        this.next();
        if (po.marker & POM_STICKYADDRESS) this.fail('sticky-address cannot be redefined');
        po.marker |= POM_STICKYADDRESS;
        po.opts |= PF_POOL_STICKYADDR;
      } else return po;
    }
  }

  private routespec(fo: FilterOpts): void {
    const hosts = this.redirspec();
    const po = this.poolOpts();
    if (fo.rt !== PF_NOPFROUTE) this.fail('cannot respecify route-to/reply-to/dup-to');
    fo.rroute.rdr = { hosts, rport: { a: 0, b: 0, t: 0 } };
    fo.rroute.poolOpts = po;
  }

  private filterOpts(): FilterOpts {
    const fo = newFilterOpts();
    for (;;) {
      const t = this.peek().t;
      switch (t) {
        case 'USER': {
          this.next();
          const l = this.ugids('user');
          fo.uid = fo.uid ? [...l, ...fo.uid] : l;
          break;
        }
        case 'GROUP': {
          this.next();
          const l = this.ugids('group');
          fo.gid = fo.gid ? [...l, ...fo.gid] : l;
          break;
        }
        case 'FLAGS': {
          this.next();
          let b1 = 0;
          let b2 = 0;
          if (this.accept('ANY')) {
            /* flags any */
          } else {
            const flag = (): number => {
              const s = this.expect('STRING').s;
              const f = parseFlags(s);
              if (f < 0) this.fail(`bad flags ${s}`);
              return f;
            };
            if (this.accept('/')) b2 = flag();
            else {
              b1 = flag();
              this.expect('/');
              b2 = flag();
            }
          }
          if (fo.marker & FOM_FLAGS) this.fail('flags cannot be redefined');
          fo.marker |= FOM_FLAGS;
          fo.flags.b1 |= b1;
          fo.flags.b2 |= b2;
          break;
        }
        case 'ICMP-TYPE':
        case 'ICMP6-TYPE': {
          this.next();
          const l = this.icmpspec(t === 'ICMP6-TYPE');
          if (fo.marker & FOM_ICMP) this.fail('icmp-type cannot be redefined');
          fo.marker |= FOM_ICMP;
          fo.icmpspec = l;
          break;
        }
        case 'PRIO': {
          this.next();
          const n = this.expect('NUMBER').n;
          if (fo.marker & FOM_PRIO) this.fail('prio cannot be redefined');
          if (n < 0 || n > 7) this.fail('prio must be 0 - 7');
          fo.marker |= FOM_PRIO;
          fo.prio = n;
          break;
        }
        case 'TOS': {
          this.next();
          const v = this.tos();
          if (fo.marker & FOM_TOS) this.fail('tos cannot be redefined');
          fo.marker |= FOM_TOS;
          fo.tos = v;
          break;
        }
        case 'NO':
        case 'KEEP':
        case 'MODULATE':
        case 'SYNPROXY': {
          const k = this.keep();
          if (fo.marker & FOM_KEEP) this.fail('modulate or keep cannot be redefined');
          fo.marker |= FOM_KEEP;
          fo.keep = k;
          break;
        }
        case 'FRAGMENT':
          this.next();
          fo.fragment = true;
          break;
        case 'ALLOW-OPTS':
          this.next();
          fo.allowopts = true;
          break;
        case 'LABEL': {
          this.next();
          const s = this.expect('STRING').s;
          if (fo.label !== null) this.fail('label cannot be redefined');
          fo.label = s;
          break;
        }
        case 'QUEUE': {
          this.next();
          const q = this.qname();
          if (fo.queues.qname) this.fail('queue cannot be redefined');
          fo.queues = q;
          break;
        }
        case 'TAG':
          this.next();
          fo.tag = this.stringList();
          break;
        case '!':
        case 'TAGGED':
        case 'RECEIVED-ON': {
          const not = this.not();
          if (this.accept('TAGGED')) {
            fo.matchTag = this.stringList();
            fo.matchTagNot = not;
          } else {
            this.expect('RECEIVED-ON');
            const i = this.ifItem();
            if (fo.rcv) this.fail('cannot respecify received-on');
            fo.rcv = i;
            fo.rcv.not = not;
          }
          break;
        }
        case 'PROBABILITY': {
          this.next();
          const pt = this.peek();
          let p: number;
          if (pt.t === 'NUMBER') {
            this.next();
            p = pt.n;
          } else {
            const s = this.expect('STRING').s;
            const m = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(%?)$/.exec(s);
            if (!m) this.fail(`invalid probability: ${s}`);
            p = Number(m[1]);
            if (m[2]) p *= 0.01;
          }
          const v = Math.floor(p * 4294967295 + 0.5);
          if (v < 0 || v > 4294967295) this.fail(`invalid probability: ${fmtG(p * 100)}%`);
          fo.prob = v === 0 ? 1 : v;
          break;
        }
        case 'RTABLE': {
          this.next();
          const n = this.expect('NUMBER');
          if (n.n < 0 || n.n > 255) this.fail('invalid rtable id');
          fo.rtableid = n.n;
          break;
        }
        case 'DIVERT-TO': {
          this.next();
          const s = this.expect('STRING').s;
          this.expect('PORT');
          const r = this.parseport(this.numberstring(), false, false);
          if (fo.divert.type !== PF_DIVERT_NONE) this.fail('more than one divert option');
          fo.divert.type = PF_DIVERT_TO;
          const h = host(this.hctx, s);
          if (!h) this.fail(`could not parse divert address: ${s}`);
          fo.divert.addr = h;
          fo.divert.port = r.a;
          if (!r.a) this.fail(`invalid divert port: ${r.a}`);
          break;
        }
        case 'DIVERT-REPLY':
          this.next();
          if (fo.divert.type !== PF_DIVERT_NONE) this.fail('more than one divert option');
          fo.divert.type = PF_DIVERT_REPLY;
          break;
        case 'DIVERT-PACKET': {
          this.next();
          this.expect('PORT');
          const r = this.parseport(this.numberstring(), false, false);
          if (fo.divert.type !== PF_DIVERT_NONE) this.fail('more than one divert option');
          fo.divert.type = PF_DIVERT_PACKET;
          if (this.reassemble & 1) fo.marker |= FOM_SCRUB_TCP;
          fo.divert.port = r.a;
          if (!r.a) this.fail(`invalid divert port: ${r.a}`);
          break;
        }
        case 'SCRUB':
          this.next();
          this.expect('(');
          this.scrubOpts(fo);
          this.expect(')');
          break;
        case 'NAT-TO':
        case 'BINAT-TO': {
          this.next();
          const rp = this.redirpool();
          const po = this.poolOpts();
          if (fo.nat.rdr) this.fail('cannot respecify nat-to/binat-to');
          fo.nat.rdr = rp;
          fo.nat.poolOpts = po;
          if (t === 'BINAT-TO') {
            fo.nat.binat = true;
            fo.nat.poolOpts.staticport = true;
          }
          break;
        }
        case 'AF-TO': {
          this.next();
          const af = this.af();
          this.expect('FROM');
          const rp = this.redirpool();
          const po = this.poolOpts();
          let rp2: Redirection | null = null;
          let po2: PoolOpts | null = null;
          if (this.accept('TO')) {
            rp2 = this.redirpool();
            po2 = this.poolOpts();
          }
          if (fo.nat.rdr) this.fail('cannot respecify af-to');
          if (af === 0) this.fail(rp2 ? 'no address family specified' : 'no target address family specified');
          if (rp2 && ((rp.hosts[0]!.af && rp.hosts[0]!.af !== af) || (rp2.hosts[0]!.af && rp2.hosts[0]!.af !== af)))
            this.fail('af-to addresses must be in the target address family');
          fo.nat.af = af;
          fo.nat.rdr = rp;
          fo.nat.poolOpts = po;
          if (rp2) {
            fo.rdr.af = af;
            fo.rdr.rdr = rp2;
            fo.nat.poolOpts = po2!;
          } else {
            fo.rdr.rdr = { hosts: [], rport: { a: 0, b: 0, t: 0 } };
            fo.rdr.poolOpts = newPoolOpts();
          }
          fo.marker |= FOM_AFTO;
          break;
        }
        case 'RDR-TO': {
          this.next();
          const rp = this.redirpool();
          const po = this.poolOpts();
          if (fo.rdr.rdr) this.fail('cannot respecify rdr-to');
          fo.rdr.rdr = rp;
          fo.rdr.poolOpts = po;
          break;
        }
        case 'ROUTE-TO':
        case 'REPLY-TO':
        case 'DUP-TO':
          this.next();
          this.routespec(fo);
          fo.rt = t === 'ROUTE-TO' ? PF_ROUTETO : t === 'REPLY-TO' ? PF_REPLYTO : PF_DUPTO;
          break;
        case 'ONCE':
          this.next();
          fo.marker |= FOM_ONCE;
          break;
        case 'MAX-PKT-RATE': {
          this.next();
          const a = this.expect('NUMBER').n;
          this.expect('/');
          const b = this.expect('NUMBER').n;
          if (a < 0 || a > 0xffffffff || b < 0 || b > 0xffffffff) this.fail('only positive values permitted');
          if (fo.pktrate.limit) this.fail('cannot respecify max-pkt-rate');
          fo.pktrate = { limit: a, seconds: b };
          break;
        }
        case 'SET':
          this.next();
          if (this.accept('(')) {
            for (;;) {
              this.filterSet(fo);
              if (this.accept(')')) break;
              this.accept(',');
            }
          } else this.filterSet(fo);
          break;
        default:
          return fo;
      }
    }
  }

  /* ---- rules ---- */

  private logopts(): { log: number; logif: number } {
    let log = 0;
    let logif = 0;
    for (;;) {
      const t = this.next();
      if (t.t === 'ALL') log |= PF_LOG_ALL;
      else if (t.t === 'MATCHES') log |= PF_LOG_MATCHES;
      else if (t.t === 'USER') log |= PF_LOG_USER;
      else if (t.t === 'TO') {
        const s = this.stringList();
        if (!s.startsWith('pflog')) this.fail(`${s}: should be a pflog interface`);
        const rest = s.slice(5);
        if (!/^\d+$/.test(rest)) this.fail(`${s}: invalid`);
        const i = Number(rest);
        if (i > 255) this.fail(`${s}: too large`);
        if (i) logif = i;
      } else throw new SyntaxErr();
      if (this.accept(')')) return { log, logif };
      this.accept(',');
    }
  }

  private log(): { log: number; logif: number } | null {
    if (!this.accept('LOG')) return null;
    if (this.accept('(')) {
      const o = this.logopts();
      return { log: PF_LOG | o.log, logif: o.logif };
    }
    return { log: PF_LOG, logif: 0 };
  }

  private logquick(): { log: number; logif: number; quick: boolean } {
    let quick = false;
    if (this.accept('QUICK')) quick = true;
    const l = this.log();
    if (!quick && this.accept('QUICK')) quick = true;
    return { log: l ? l.log : 0, logif: l ? l.logif : 0, quick };
  }

  private dir(): number {
    if (this.accept('IN')) return PF_IN;
    if (this.accept('OUT')) return PF_OUT;
    return PF_INOUT;
  }

  private blockspec(): { b2: number; w: number; w2: number } {
    const t = this.peek().t;
    const reticmp = (v6: boolean): number => {
      const x = this.peek();
      const icmptype = v6 ? this.returnicmp6default >> 8 : this.returnicmpdefault >> 8;
      if (x.t === 'NUMBER') {
        this.next();
        if (x.n < 0 || x.n > 255) this.fail(`invalid icmp code ${x.s}`);
        return (icmptype << 8) | x.n;
      }
      const s = this.expect('STRING').s;
      let v = atoul(s);
      if (v === null) {
        const p = geticmpcodebyname(icmptype, s, v6 ? AF_INET6 : AF_INET);
        if (!p) this.fail(`unknown icmp code ${s}`);
        v = p.code;
      }
      if (v > 255) this.fail(`invalid icmp code ${v}`);
      return (icmptype << 8) | v;
    };
    switch (t) {
      case 'DROP':
        this.next();
        return { b2: 0, w: 0, w2: 0 };
      case 'RETURN-RST':
        this.next();
        if (this.accept('(')) {
          this.expect('TTL');
          const n = this.expect('NUMBER');
          this.expect(')');
          if (n.n < 0 || n.n > 255) this.fail(`illegal ttl value ${n.s}`);
          return { b2: PFRULE_RETURNRST, w: n.n, w2: 0 };
        }
        return { b2: PFRULE_RETURNRST, w: 0, w2: 0 };
      case 'RETURN-ICMP':
        this.next();
        if (this.accept('(')) {
          const a = reticmp(false);
          if (this.accept(')')) return { b2: PFRULE_RETURNICMP, w: a, w2: this.returnicmpdefault };
          this.accept(',');
          const b = reticmp(true);
          this.expect(')');
          return { b2: PFRULE_RETURNICMP, w: a, w2: b };
        }
        return { b2: PFRULE_RETURNICMP, w: this.returnicmpdefault, w2: this.returnicmp6default };
      case 'RETURN-ICMP6':
        this.next();
        if (this.accept('(')) {
          const b = reticmp(true);
          this.expect(')');
          return { b2: PFRULE_RETURNICMP, w: this.returnicmpdefault, w2: b };
        }
        return { b2: PFRULE_RETURNICMP, w: this.returnicmpdefault, w2: this.returnicmp6default };
      case 'RETURN':
        this.next();
        return { b2: PFRULE_RETURN, w: this.returnicmpdefault, w2: this.returnicmp6default };
      default:
        return { b2: this.blockpolicy, w: this.returnicmpdefault, w2: this.returnicmp6default };
    }
  }

  private pfrule(): void {
    const at = this.next();
    let action: number;
    let bs = { b2: 0, w: 0, w2: 0 };
    if (at.t === 'PASS') action = PF_PASS;
    else if (at.t === 'MATCH') action = PF_MATCH;
    else {
      action = PF_DROP;
      bs = this.blockspec();
    }
    const dir = this.dir();
    const lq = this.logquick();
    const ifs = this.interface_();
    const af = this.af();
    const protos = this.proto();
    const ft = this.fromto();
    const fo = this.filterOpts();

    const r = newRule();
    r.action = action;
    if (bs.b2 === PFRULE_RETURNRST) {
      r.ruleFlag |= PFRULE_RETURNRST;
      r.returnTtl = bs.w;
    } else if (bs.b2 === PFRULE_RETURNICMP || bs.b2 === PFRULE_RETURN) {
      r.ruleFlag |= bs.b2;
      r.returnIcmp = bs.w;
      r.returnIcmp6 = bs.w2;
    }
    r.direction = dir;
    r.log = lq.log;
    r.logif = lq.logif;
    r.quick = lq.quick;
    r.af = af;
    this.filteroptsToRule(r, fo);
    if (fo.flags.b1 || fo.flags.b2 || ft.srcOs) {
      if (protos !== null && !protos.includes(6)) {
        if (fo.flags.b1 || fo.flags.b2) this.yyerror('flags only apply to tcp');
        if (ft.srcOs) this.yyerror('OS fingerprinting only apply to tcp');
        throw new YYError();
      }
    }
    r.keepState = fo.keep.action;
    let o = fo.keep.options;
    if (!r.keepState && !r.action && !(fo.marker & FOM_KEEP)) {
      r.keepState = PF_STATE_NORMAL;
      o = this.keepStateDefaults;
    }
    let srctrack = 0;
    let statelock = false;
    let adaptive = false;
    for (const so of o ?? []) {
      switch (so.type) {
        case SO_MAX:
          if (r.maxStates) this.fail("state option 'max' multiple definitions");
          r.maxStates = so.n;
          break;
        case SO_NOSYNC:
          if (r.ruleFlag & PFRULE_NOSYNC) this.fail("state option 'sync' multiple definitions");
          r.ruleFlag |= PFRULE_NOSYNC;
          break;
        case SO_SRCTRACK:
          if (srctrack) this.fail("state option 'source-track' multiple definitions");
          srctrack = so.n;
          r.ruleFlag |= PFRULE_SRCTRACK;
          break;
        case SO_MAX_SRC_STATES:
          if (r.maxSrcStates) this.fail("state option 'max-src-states' multiple definitions");
          if (so.n === 0) this.fail("'max-src-states' must be > 0");
          r.maxSrcStates = so.n;
          r.ruleFlag |= PFRULE_SRCTRACK;
          break;
        case SO_OVERLOAD:
          if (r.overloadTblname) this.fail("multiple 'overload' table definitions");
          r.overloadTblname = so.name;
          r.flush = so.n;
          break;
        case SO_MAX_SRC_CONN:
          if (r.maxSrcConn) this.fail("state option 'max-src-conn' multiple definitions");
          if (so.n === 0) this.fail("'max-src-conn' must be > 0");
          r.maxSrcConn = so.n;
          r.ruleFlag |= PFRULE_SRCTRACK | PFRULE_RULESRCTRACK;
          break;
        case SO_MAX_SRC_CONN_RATE:
          if (r.maxSrcConnRate.limit) this.fail("state option 'max-src-conn-rate' multiple definitions");
          if (!so.n || !so.m) this.fail("'max-src-conn-rate' values must be > 0");
          if (so.n > Math.floor(0xffffffff / 1000)) this.fail(`'max-src-conn-rate' maximum rate must be < ${Math.floor(0xffffffff / 1000)}`);
          r.maxSrcConnRate = { limit: so.n, seconds: so.m };
          r.ruleFlag |= PFRULE_SRCTRACK | PFRULE_RULESRCTRACK;
          break;
        case SO_MAX_SRC_NODES:
          if (r.maxSrcNodes) this.fail("state option 'max-src-nodes' multiple definitions");
          if (so.n === 0) this.fail("'max-src-nodes' must be > 0");
          r.maxSrcNodes = so.n;
          r.ruleFlag |= PFRULE_SRCTRACK | PFRULE_RULESRCTRACK;
          break;
        case SO_STATELOCK:
          if (statelock) this.fail('state locking option: multiple definitions');
          statelock = true;
          r.ruleFlag |= so.n;
          break;
        case SO_SLOPPY:
          if (r.ruleFlag & PFRULE_STATESLOPPY) this.fail('state sloppy option: multiple definitions');
          r.ruleFlag |= PFRULE_STATESLOPPY;
          break;
        case SO_PFLOW:
          if (r.ruleFlag & PFRULE_PFLOW) this.fail('state pflow option: multiple definitions');
          r.ruleFlag |= PFRULE_PFLOW;
          break;
        case SO_TIMEOUT:
          if (so.n === PFTM_ADAPTIVE_START || so.n === PFTM_ADAPTIVE_END) adaptive = true;
          if (r.timeout[so.n]) this.fail(`state timeout ${so.name} multiple definitions`);
          r.timeout[so.n] = so.m;
          break;
      }
    }
    if (!r.action && !r.flags && !r.flagset && !fo.fragment && !(fo.marker & FOM_FLAGS) && r.keepState) {
      r.flags = parseFlags('S');
      r.flagset = parseFlags('SA');
    }
    if (!adaptive && r.maxStates) {
      r.timeout[PFTM_ADAPTIVE_START] = Math.floor(r.maxStates / 10) * 6;
      r.timeout[PFTM_ADAPTIVE_END] = Math.floor(r.maxStates / 10) * 12;
    }
    if (r.ruleFlag & PFRULE_SRCTRACK) {
      if (srctrack === SRCTRACK_GLOBAL && r.maxSrcNodes) this.fail("'max-src-nodes' is incompatible with 'source-track global'");
      if (srctrack === SRCTRACK_GLOBAL && r.maxSrcConn) this.fail("'max-src-conn' is incompatible with 'source-track global'");
      if (srctrack === SRCTRACK_GLOBAL && r.maxSrcConnRate.seconds)
        this.fail("'max-src-conn-rate' is incompatible with 'source-track global'");
      if (r.timeout[PFTM_SRC_NODE]! < r.maxSrcConnRate.seconds) r.timeout[PFTM_SRC_NODE] = r.maxSrcConnRate.seconds;
      r.ruleFlag |= PFRULE_SRCTRACK;
      if (srctrack === SRCTRACK_RULE) r.ruleFlag |= PFRULE_RULESRCTRACK;
    }
    if (r.keepState && !statelock) r.ruleFlag |= this.defaultStatelock;
    r.af = decideAf(ft.src.host, r.af);
    r.af = decideAf(ft.dst.host, r.af);
    if (fo.rt) {
      if (fo.rt !== PF_DUPTO && !r.direction) this.fail('direction must be explicit with rules that specify routing');
      r.rt = fo.rt;
    }
    this.expandDivertspec(r, fo);
    this.expandRule(r, false, ifs, fo.nat, fo.rdr, fo.rroute, protos, ft.srcOs, ft.src.host, ft.src.port, ft.dst.host, ft.dst.port, fo.uid, fo.gid, fo.rcv, fo.icmpspec);
  }

  private expandDivertspec(r: PfRule, fo: FilterOpts): void {
    const ds = fo.divert;
    switch (ds.type) {
      case PF_DIVERT_NONE:
        return;
      case PF_DIVERT_TO: {
        if (r.direction === PF_OUT) this.fail('divert-to used with outgoing rule');
        const addrs = ds.addr!;
        if (r.af) {
          const n = addrs.find((h) => h.af === r.af);
          if (!n) this.fail('divert-to address family mismatch');
          r.divert.addr = n.addr.addr.slice();
        } else {
          r.af = addrs[0]!.af;
          r.divert.addr = addrs[0]!.addr.addr.slice();
        }
        r.divert.port = ds.port;
        r.divert.type = ds.type;
        return;
      }
      case PF_DIVERT_REPLY:
        if (r.direction === PF_IN) this.fail('divert-reply used with incoming rule');
        r.divert.type = ds.type;
        return;
      case PF_DIVERT_PACKET:
        r.divert.port = ds.port;
        r.divert.type = ds.type;
        return;
    }
  }

  private filteroptsToRule(r: PfRule, o: FilterOpts): void {
    if (o.marker & FOM_ONCE) {
      if ((r.action !== PF_PASS && r.action !== PF_DROP) || r.anchor) this.fail("'once' only applies to pass/block rules");
      r.ruleFlag |= PFRULE_ONCE;
    }
    r.keepState = o.keep.action;
    r.pktrate = { ...o.pktrate };
    r.prob = o.prob;
    r.rtableid = o.rtableid;
    r.tos = o.tos;
    if (o.nodf) r.scrubFlags |= PFSTATE_NODF;
    if (o.randomid) r.scrubFlags |= PFSTATE_RANDOMID;
    if (o.minttl) r.minTtl = o.minttl;
    if (o.maxMss) r.maxMss = o.maxMss;
    if (o.tag !== null) {
      if (o.tag.length >= 64) this.fail(`tag too long, max ${63} chars`);
      r.tagname = o.tag;
    }
    if (o.matchTag !== null) {
      if (o.matchTag.length >= 64) this.fail(`tag too long, max ${63} chars`);
      r.matchTagname = o.matchTag;
    }
    r.matchTagNot = o.matchTagNot;
    if (o.label !== null) {
      if (o.label.length >= 64) this.fail(`rule label too long (max ${63} chars)`);
      r.label = o.label;
    }
    if (o.marker & FOM_AFTO) r.ruleFlag |= PFRULE_AFTO;
    if (o.marker & FOM_AFTO && r.direction !== PF_IN) this.fail('af-to can only be used with direction in');
    if (o.marker & FOM_AFTO && o.rt) this.fail('af-to cannot be used together with route-to, reply-to, dup-to');
    if (o.marker & FOM_SCRUB_TCP) r.scrubFlags |= PFSTATE_SCRUB_TCP;
    if (o.marker & FOM_SETDELAY) {
      r.delay = o.delay;
      r.ruleFlag |= PFRULE_SETDELAY;
    }
    if (o.marker & FOM_SETTOS) {
      r.scrubFlags |= PFSTATE_SETTOS;
      r.setTos = o.settos;
    }
    if (o.marker & FOM_PRIO) r.prio = o.prio ? o.prio : PF_PRIO_ZERO;
    if (o.marker & FOM_SETPRIO) {
      r.setPrio = [o.setPrio[0], o.setPrio[1]];
      r.scrubFlags |= PFSTATE_SETPRIO;
    }
    r.flags = o.flags.b1;
    r.flagset = o.flags.b2;
    if ((o.flags.b1 & o.flags.b2) !== o.flags.b1) this.fail('flags always false');
    if (o.queues.qname) r.qname = o.queues.qname;
    if (o.queues.pqname) r.pqname = o.queues.pqname;
    if (o.fragment) r.ruleFlag |= PFRULE_FRAGMENT;
    r.allowOpts = o.allowopts;
  }

  /* ---- anchors ---- */

  private findOrCreateAnchor(path: string): PfAnchor {
    let a = this.anchors.get(path);
    if (!a) {
      const slash = path.lastIndexOf('/');
      const parent = slash >= 0 ? this.findOrCreateAnchor(path.slice(0, slash)) : null;
      a = newAnchor(slash >= 0 ? path.slice(slash + 1) : path, path, parent);
      if (parent) parent.children.set(a.name, a);
      this.anchors.set(path, a);
    }
    return a;
  }

  private anchorrule(): void {
    this.next();
    const name = this.anchorname();
    const dir = this.dir();
    const quick = !!this.accept('QUICK');
    const ifs = this.interface_();
    const af = this.af();
    const protos = this.proto();
    const ft = this.fromto();
    const fo = this.filterOpts();
    // The rule's action runs only once yacc has matched the whole rule: a
    // stray token (`anchor 23 on lo0`: a number is no anchor name) is a
    // syntax error, not the action's "must specify a name".
    const la = this.peek().t;
    if (la !== '{' && la !== '\n' && la !== 'EOF') throw new SyntaxErr();
    let brace = false;
    if (this.accept('{')) {
      brace = true;
      this.bn++;
      const holding = this.findOrCreateAnchor(`_${this.bn}`);
      this.astack.push(holding);
      this.anchor = holding;
      this.expect('\n');
      this.statements(true);
      this.expect('}');
      this.alast = this.anchor;
      this.astack.pop();
      this.anchor = this.astack[this.astack.length - 1]!;
    }

    const r = newRule();
    if (brace) {
      const alast = this.alast!;
      if (name && name.includes('/')) this.fail("anchor paths containing '/' cannot be used for inline anchors.");
      const base = this.anchor.path;
      const nm = name ?? alast.name;
      const path = base ? `${base}/${nm}` : nm;
      const target = this.findOrCreateAnchor(path);
      if (alast !== target) {
        if (target.match) this.fail(`inline anchor '${target.name}' already exists`);
        for (const rr of alast.ruleset.rules) {
          target.ruleset.rules.push(rr);
          target.match++;
        }
        alast.ruleset.rules = [];
        alast.match = 0;
        for (const t of this.tables) if (t.anchor === alast.path) t.anchor = target.path;
      }
      r.anchor = target;
      this.alast = target;
    } else {
      if (!name) this.fail('anchors without explicit rules must specify a name');
      const slash = name.lastIndexOf('/');
      if (slash >= 0 && slash === name.length - 1) this.fail(`anchorrule: bad anchor name ${name}`);
      r.anchor = newAnchor(slash >= 0 ? name.slice(slash + 1) : name, name, null);
      r.anchor.ref = true;
    }
    r.direction = dir;
    r.quick = quick;
    r.af = af;
    if (fo.flags.b1 || fo.flags.b2 || ft.srcOs) {
      if (protos !== null && !protos.includes(6)) {
        if (fo.flags.b1 || fo.flags.b2) this.yyerror('flags only apply to tcp');
        if (ft.srcOs) this.yyerror('OS fingerprinting only applies to tcp');
        throw new YYError();
      }
    }
    this.filteroptsToRule(r, fo);
    if (fo.keep.action) this.fail('cannot specify state handling on anchors');
    if (fo.rt) this.fail('cannot specify route handling on anchors');
    r.af = decideAf(ft.src.host, r.af);
    r.af = decideAf(ft.dst.host, r.af);
    this.expandRule(r, false, ifs, null, null, null, protos, ft.srcOs, ft.src.host, ft.src.port, ft.dst.host, ft.dst.port, fo.uid, fo.gid, fo.rcv, fo.icmpspec);
  }

  private loadrule(): void {
    this.next();
    this.expect('ANCHOR');
    const name = this.anchorname();
    this.expect('FROM');
    const filename = this.stringList();
    if (name === null) this.fail('anchor name is missing');
    const anchorname = this.anchor.name ? `${this.anchor.path}/${name}` : name;
    this.ctx.loadAnchors?.push({ anchorname, filename });
  }

  /** anchorname: STRING (checked) | empty */
  private anchorname(): string | null {
    if (!this.is('STRING')) return null;
    const name = this.next().s;
    if (name === '') this.fail('anchor name must not be empty');
    if (this.anchor.path.length + 1 + name.length >= 1024) this.fail(`anchor name is longer than ${1023}`);
    if (name[0] === '_' || name.includes('/_')) this.fail("anchor names beginning with '_' are reserved for internal use");
    return name;
  }

  /* ---- antispoof ---- */

  private antispoof(): void {
    this.next();
    const lq = this.logquick();
    this.expect('FOR');
    const ifs: NodeIf[] = [];
    const one = (): NodeIf => {
      if (this.accept('(')) {
        const i = this.ifItem();
        this.expect(')');
        i.dynamic = true;
        return i;
      }
      return this.ifItem();
    };
    if (this.accept('{')) {
      this.optnl();
      for (;;) {
        ifs.push(one());
        this.optnl();
        if (this.accept('}')) break;
        this.accept(',');
      }
    } else ifs.push(one());
    const af = this.af();
    let label: string | null = null;
    let rtableid = -1;
    for (;;) {
      if (this.accept('LABEL')) {
        const s = this.expect('STRING').s;
        if (label !== null) this.fail('label cannot be redefined');
        label = s;
      } else if (this.accept('RTABLE')) {
        const n = this.expect('NUMBER').n;
        if (n < 0 || n > 255) this.fail('invalid rtable id');
        rtableid = n;
      } else break;
    }
    const base = (): PfRule => {
      const r = newRule();
      r.action = PF_DROP;
      r.direction = PF_IN;
      r.log = lq.log;
      r.logif = lq.logif;
      r.quick = lq.quick;
      r.af = af;
      if (label !== null) {
        if (label.length >= 64) this.fail(`rule label too long (max ${63} chars)`);
        r.label = label;
      }
      r.rtableid = rtableid;
      return r;
    };
    for (const i of ifs) {
      let r = base();
      const j: NodeIf = { ...i, not: true, dynamic: false };
      let h: NodeHost[] | null;
      let hh: NodeHost[] | null = null;
      if (i.dynamic) {
        const d = newNodeHost();
        d.addr.type = PF_ADDR_DYNIFTL;
        setIpmask(d, 128);
        d.addr.ifname = i.ifname;
        hh = [copyNodeHost(d)];
        d.addr.iflags = PFI_AFLAG_NETWORK;
        h = [d];
      } else {
        h = ifaLookup(this.ctx.env, j.ifname, PFI_AFLAG_NETWORK);
        if (h.length === 0) h = null;
      }
      if (h) this.expandRule(r, false, [j], null, null, null, null, null, h, null, null, null, null, null, null, null);
      if ((i.ifaFlags & 0x8) === 0) {
        r = base();
        if (hh) h = hh;
        else {
          h = ifaLookup(this.ctx.env, i.ifname, 0);
          if (h.length === 0) h = null;
        }
        if (h) this.expandRule(r, false, null, null, null, null, null, null, h, null, null, null, null, null, null, null);
      }
    }
  }

  /* ---- queues ---- */

  private bandwidth(): { absolute: number; percent: number } {
    const t = this.peek();
    if (t.t === 'NUMBER') {
      this.next();
      if (t.n < 0) this.fail('bandwidth number too big');
      return { absolute: t.n, percent: 0 };
    }
    const s = this.expect('STRING').s;
    const m = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(.*)$/.exec(s);
    let bps = m ? Number(m[1]) : 0;
    let unit = m ? m[2]! : s;
    let percent = 0;
    if (unit.length > 1 && ['Bit', 'B', 'bit', 'b'].includes(unit.slice(1))) unit = unit[0]!;
    if (unit === '' || unit === 'b') {
      /* bits per second */
    } else if (unit === 'K') bps *= 1000;
    else if (unit === 'M') bps *= 1000 * 1000;
    else if (unit === 'G') bps *= 1000 * 1000 * 1000;
    else if (unit === '%') {
      if (bps < 0 || bps > 100) this.fail('bandwidth spec out of range');
      percent = bps;
      bps = 0;
    } else this.fail(`unknown unit "${unit}"`);
    if (bps < 0) this.fail('bandwidth number too big');
    return { absolute: Math.floor(bps), percent: Math.floor(percent) };
  }

  private scspec(): PfQueueSc {
    const m2 = this.bandwidth();
    if (this.accept('BURST')) {
      const m1 = this.bandwidth();
      this.expect('FOR');
      const s = this.expect('STRING').s;
      const mm = /^(\d+)ms$/.exec(s);
      if (!mm) this.fail('time in scspec must be in ms');
      if (m1.percent || m2.percent) this.fail('no bandwidth in % yet');
      return { m1, d: Number(mm[1]), m2 };
    }
    if (m2.percent) this.fail('no bandwidth in % yet');
    return { m1: { absolute: 0, percent: 0 }, d: 0, m2 };
  }

  private queuespec(): void {
    this.next();
    const qname = this.expect('STRING').s;
    const ifs = this.interface_();
    const zero = (): PfQueueSc => ({ m1: { absolute: 0, percent: 0 }, d: 0, m2: { absolute: 0, percent: 0 } });
    let marker = 0;
    let flags = 0;
    let parent: string | null = null;
    let qlimit = 0;
    let linkshare = zero();
    let realtime = zero();
    let upperlimit = zero();
    const fq = { flows: 0, quantum: 0, target: 0, interval: 0 };
    let any = false;
    for (;;) {
      const t = this.peek().t;
      if (t === 'BANDWIDTH') {
        this.next();
        const ls = this.scspec();
        let rt = zero();
        let ul = zero();
        for (let k = 0; k < 2; k++) {
          const save = this.peek().t;
          if (save !== ',' && save !== 'MINIMUM' && save !== 'MAXIMUM') break;
          if (save === ',') this.next();
          if (this.accept('MINIMUM')) rt = this.scspec();
          else if (this.accept('MAXIMUM')) ul = this.scspec();
          else throw new SyntaxErr();
        }
        if (marker & 0x01) this.fail('bandwidth cannot be respecified');
        marker |= 0x01;
        linkshare = ls;
        realtime = rt;
        upperlimit = ul;
      } else if (t === 'PARENT') {
        this.next();
        const p = this.expect('STRING').s;
        if (marker & 0x02) this.fail('parent cannot be respecified');
        marker |= 0x02;
        parent = p;
      } else if (t === 'DEFAULT') {
        this.next();
        if (marker & 0x04) this.fail('default cannot be respecified');
        marker |= 0x04;
        flags |= PFQS_DEFAULT;
      } else if (t === 'QLIMIT') {
        this.next();
        const n = this.expect('NUMBER').n;
        if (marker & 0x08) this.fail('qlimit cannot be respecified');
        if (n < 0 || n > 65535) this.fail('qlimit out of range: max 65535');
        marker |= 0x08;
        qlimit = n;
      } else if (t === 'FLOWS') {
        this.next();
        const n = this.expect('NUMBER').n;
        if (marker & 0x10) this.fail('number of flows cannot be respecified');
        if (n < 1 || n > 32767) this.fail('number of flows out of range: max 32767');
        marker |= 0x10;
        flags |= PFQS_FLOWQUEUE;
        fq.flows = n;
      } else if (t === 'QUANTUM') {
        this.next();
        const n = this.expect('NUMBER').n;
        if (marker & 0x20) this.fail('quantum cannot be respecified');
        if (n < 1 || n > 65535) this.fail('quantum out of range: max 65535');
        marker |= 0x20;
        fq.quantum = n;
      } else break;
      any = true;
    }
    if (!any || !this.is('\n')) throw new SyntaxErr();
    if (ifs === null && parent === null) this.fail('root queue without interface');
    if (ifs !== null) {
      const n = this.ctx.env.interfaces.find((i) => i.name === ifs[0]!.ifname);
      if (!n) this.fail('not an interface');
    }
    for (const i of ifs ?? [null]) {
      if (!parent && marker & 0x01) flags |= PFQS_ROOTCLASS;
      if (!(marker & 0x01) && !(marker & 0x10)) this.fail('no bandwidth or flow specification');
      const q: PfQueueSpec = {
        qname,
        parent: parent ?? '',
        ifname: i ? i.ifname : '',
        realtime,
        linkshare,
        upperlimit,
        flowqueue: { ...fq },
        flags,
        qlimit,
      };
      if (this.anchor.name) {
        this.ctx.out('must not have queue definitions in an anchor\n');
        this.fail('cannot add queue');
      }
      if (!q.parent && this.queues.some((x) => !x.parent && x.ifname === q.ifname)) {
        this.ctx.out(`A root queue is already defined on ${q.ifname}\n`);
        this.fail('cannot add queue');
      }
      this.queues.push(q);
    }
  }

  /* ---- expansion (expand_rule and its helpers) ---- */

  private addOptTable(tbl: { name: string; hosts: NodeHost[] } | null, h: NodeHost): { name: string; hosts: NodeHost[] } {
    // add_opt_table(): the optimizer's counter names it for now
    if (!tbl) tbl = { name: `${PF_OPTIMIZER_TABLE_PFX}${this.optState.tmpTablenum++}`, hosts: [] };
    const n = copyNodeHost(h);
    n.not = false;
    tbl.hosts.push(n);
    return tbl;
  }

  private collapseRedirspec(which: 'nat' | 'rdr' | 'route', r: PfRule, rs: RedirSpec | null, routing: boolean): number {
    const rpool: PfPool = r[which];
    if (!rs || !rs.rdr || rs.rdr.hosts.length === 0) {
      rpool.addr = newAddrWrap(PF_ADDR_NONE);
      return 0;
    }
    if (r.ruleFlag & PFRULE_AFTO) r.naf = rs.af;
    let af = 0;
    let naddr = 0;
    let hprev: NodeHost | null = null;
    let tbl: { name: string; hosts: NodeHost[] } | null = null;
    const kind = routing ? 'routing' : 'translation';
    for (const h of rs.rdr.hosts) {
      if (routing && h.addr.type === PF_ADDR_DYNIFTL && h.addr.iflags !== PFI_AFLAG_PEER) {
        this.yyerror('route spec requires :peer with dynamic interface addresses');
        return 1;
      }
      if (rs.af && !r.af && !af) {
        if (r.naf === AF_INET6) af = AF_INET;
        else if (r.naf === AF_INET) af = AF_INET6;
        else af = rs.af;
      }
      if (h.af && !r.naf) {
        if (r.af && r.af !== h.af) continue;
        if (!r.af && af && af !== h.af) {
          this.yyerror(`${kind} spec contains addresses with different address families`);
          return 1;
        }
      } else if (h.af) {
        if (rs.af && rs.af !== h.af) {
          this.yyerror(`${kind} spec contains addresses that don't match target address family`);
          return 1;
        }
      }
      if (!r.af && !af) af = h.af;
      if (naddr === 0) {
        rpool.addr = { ...h.addr, addr: h.addr.addr.slice(), mask: h.addr.mask.slice() };
        if (h.ifname) {
          this.yyerror(`@if not permitted for ${kind}`);
          return 1;
        }
        hprev = h;
      } else {
        if (rs.poolOpts.type && !PF_POOL_DYNTYPE(rs.poolOpts.type)) {
          this.yyerror('pool type is not valid for multiple translation or routing addresses');
          return 1;
        }
        if (
          hprev &&
          hprev.addr.type !== PF_ADDR_ADDRMASK &&
          hprev.addr.type !== PF_ADDR_NONE &&
          h.addr.type !== PF_ADDR_ADDRMASK &&
          h.addr.type !== PF_ADDR_NONE
        ) {
          this.yyerror('multiple tables or dynamic interfaces not supported for translation or routing');
          return 1;
        }
        if (h.ifname) {
          this.yyerror(`@if not permitted for ${kind}`);
          return 1;
        }
        if (hprev) {
          rpool.ifname = '';
          tbl = this.addOptTable(tbl, hprev);
          hprev = null;
        }
        tbl = this.addOptTable(tbl, h);
      }
      naddr++;
    }
    if (!r.af && af) r.af = af;
    if (!naddr) {
      this.yyerror(`af mismatch in ${kind} spec`);
      return 1;
    }
    if (tbl) {
      // pf_opt_create_table(): a kernel load names it after an unused identifier
      const o = this.ctx.opt;
      if (!(this.ctx.opts & PF_OPT_NOACTION) && o?.kernelTables && o.random)
        tbl.name = pf_opt_table_name({ state: o.state, kernelTables: o.kernelTables, random: o.random });
      if (this.verbose)
        this.ctx.out(printTabledef(tbl.name, PFR_TFLAG_CONST, true, tbl.hosts.map((h) => ({ file: null, hosts: [h] }))));
      rpool.addr = newAddrWrap(PF_ADDR_TABLE);
      rpool.addr.tblname = tbl.name;
      // pf_opt_create_table(): the pool's addresses become a const table in the kernel
      this.tables.push({
        name: tbl.name, anchor: this.anchor.path, flags: PFR_TFLAG_CONST, initAddr: true,
        entries: tbl.hosts.map((h) => this.tableEntry(h, false)), files: [],
      });
    }
    return 0;
  }

  private applyRedirspec(which: 'nat' | 'rdr' | 'route', r: PfRule, rs: RedirSpec | null, isrdr: number, np: NodePort): number {
    if (!rs || !rs.rdr) return 0;
    const rpool = r[which];
    rpool.proxyPort[0] = rs.rdr.rport.a;
    if (isrdr) {
      if (!rs.rdr.rport.b && rs.rdr.rport.t) {
        rpool.proxyPort[1] = (rs.rdr.rport.a + (np.port[1] - np.port[0])) & 0xffff;
      } else {
        if (validateRange(rs.rdr.rport.t, rs.rdr.rport.a, rs.rdr.rport.b)) {
          this.yyerror('invalid rdr-to port range');
          return 1;
        }
        rpool.portOp = rs.rdr.rport.t;
        rpool.proxyPort[1] = rs.rdr.rport.b;
      }
    } else {
      rpool.proxyPort[1] = rs.rdr.rport.b;
      if (!rpool.proxyPort[0] && !rpool.proxyPort[1]) {
        rpool.proxyPort[0] = PF_NAT_PROXY_PORT_LOW;
        rpool.proxyPort[1] = PF_NAT_PROXY_PORT_HIGH;
      } else if (!rpool.proxyPort[1]) rpool.proxyPort[1] = rpool.proxyPort[0];
    }
    rpool.opts = rs.poolOpts.type;
    if ((rpool.opts & PF_POOL_TYPEMASK) === PF_POOL_NONE && (rpool.addr.type === PF_ADDR_TABLE || dynifMultiaddr(rpool.addr)))
      rpool.opts |= PF_POOL_ROUNDROBIN;
    if (!PF_POOL_DYNTYPE(rpool.opts)) {
      const tb = rs.rdr.hosts.find((h) => h.addr.type === PF_ADDR_TABLE);
      if (tb) {
        this.yyerror('tables are not supported by pool type');
        return 1;
      }
      const al = rs.rdr.hosts.find((h) => dynifMultiaddr(h.addr));
      if (al) {
        this.yyerror(`interface (${al.addr.ifname}) is not supported by pool type`);
        return 1;
      }
    }
    if (rs.poolOpts.key) rpool.key = [...rs.poolOpts.key];
    if (rs.poolOpts.opts) rpool.opts |= rs.poolOpts.opts;
    if (rs.poolOpts.staticport) {
      if (isrdr) {
        this.yyerror("the 'static-port' option is only valid with nat rules");
        return 1;
      }
      if (rpool.proxyPort[0] !== PF_NAT_PROXY_PORT_LOW && rpool.proxyPort[1] !== PF_NAT_PROXY_PORT_HIGH) {
        this.yyerror("the 'static-port' option can't be used when specifying a port range");
        return 1;
      }
      rpool.proxyPort[0] = 0;
      rpool.proxyPort[1] = 0;
    }
    return 0;
  }

  private checkNetmask(h: NodeHost, af: number): number {
    if (h.addr.type === PF_ADDR_TABLE) return 0;
    const m = h.addr.mask;
    if (af === AF_INET && m.subarray(4).some((b) => b !== 0)) {
      this.ctx.err(`netmask ${unmask(m)} invalid for IPv4 address\n`);
      return 1;
    }
    return 0;
  }

  private ruleConsistent(r: PfRule): number {
    let problems = 0;
    const e = (m: string): void => {
      this.yyerror(m);
      problems++;
    };
    if (r.proto !== 6 && r.osFingerprint !== null) e('os only applies to tcp');
    if (r.proto !== 6 && r.proto !== 17 && (r.src.portOp || r.dst.portOp)) e('port only applies to tcp/udp');
    if (r.proto !== 6 && r.proto !== 17 && r.uid.op) e('user only applies to tcp/udp');
    if (r.proto !== 6 && r.proto !== 17 && r.gid.op) e('group only applies to tcp/udp');
    if (r.proto !== 1 && r.proto !== 58 && (r.type || r.code)) e('icmp-type/code only applies to icmp');
    if (!r.af && (r.type || r.code)) e('must indicate address family with icmp-type/code');
    if (r.ruleFlag & PFRULE_AFTO && r.af === r.naf) e('must indicate different address family with af-to');
    if (r.overloadTblname && r.maxSrcConn === 0 && r.maxSrcConnRate.seconds === 0)
      e("'overload' requires 'max-src-conn' or 'max-src-conn-rate'");
    if ((r.proto === 1 && r.af === AF_INET6) || (r.proto === 58 && r.af === AF_INET))
      e(`proto ${r.proto === 1 ? 'icmp' : 'icmp6'} doesn't match address family ${r.af === AF_INET ? 'inet' : 'inet6'}`);
    if (r.allowOpts && r.action !== PF_PASS) e('allow-opts can only be specified for pass rules');
    if (r.ruleFlag & PFRULE_FRAGMENT && (r.src.portOp || r.dst.portOp || r.flagset || r.type || r.code))
      e('fragments can be filtered only on IP header fields');
    if (r.ruleFlag & PFRULE_RETURNRST && r.proto !== 6) e('return-rst can only be applied to TCP rules');
    if (r.maxSrcNodes && !(r.ruleFlag & PFRULE_RULESRCTRACK)) e("max-src-nodes requires 'source-track rule'");
    if (r.action !== PF_PASS && r.keepState) e('keep state is great, but only for pass rules');
    if (r.rt && !r.keepState) e('route-to, reply-to and dup-to require keep state');
    if (r.ruleFlag & PFRULE_STATESLOPPY && (r.keepState === PF_STATE_MODULATE || r.keepState === PF_STATE_SYNPROXY))
      e('sloppy state matching cannot be used with synproxy state or modulate state');
    if (r.keepState === PF_STATE_SYNPROXY && r.direction !== PF_IN)
      this.ctx.err(`${this.file.name}:${this.yyline}: warning: synproxy used for inbound rules only, ignored for outbound\n`);
    if ((r.nat.addr.type !== PF_ADDR_NONE || r.rdr.addr.type !== PF_ADDR_NONE) && r.action !== PF_MATCH && !r.keepState)
      e('nat-to and rdr-to require keep state');
    if (r.direction === PF_INOUT && (r.nat.addr.type !== PF_ADDR_NONE || r.rdr.addr.type !== PF_ADDR_NONE))
      e('nat-to and rdr-to require a direction');
    if (r.af === AF_INET6 && r.scrubFlags & (PFSTATE_NODF | PFSTATE_RANDOMID))
      e('address family inet6 does not support scrub options no-df, random-id');
    if (r.action === PF_MATCH) {
      if (r.divert.type !== PF_DIVERT_NONE) e('divert is not supported on match rules');
      if (r.rt) e('route-to, reply-to and dup-to are not supported on match rules');
      if (r.ruleFlag & PFRULE_AFTO) e('af-to is not supported on match rules');
    } else if (r.action === PF_DROP) {
      if (r.rt) e('route-to, reply-to and dup-to are not supported on block rules');
    }
    return -problems;
  }

  private expandRule(
    r: PfRule,
    keeprule: boolean,
    interfaces: NodeIf[] | null,
    nat: RedirSpec | null,
    rdr: RedirSpec | null,
    rroute: RedirSpec | null,
    protos: number[] | null,
    srcOses: string[] | null,
    srcHosts: NodeHost[] | null,
    srcPorts: NodePort[] | null,
    dstHosts: NodeHost[] | null,
    dstPorts: NodePort[] | null,
    uids: NodeUid[] | null,
    gids: NodeUid[] | null,
    rcv: NodeIf | null,
    icmpTypes: NodeIcmp[] | null,
  ): void {
    void keeprule;
    const af = r.af;
    let added = 0;
    let error = 0;
    const label = r.label;
    const tagname = r.tagname;
    const matchTagname = r.matchTagname;
    const flags = r.flags;
    const flagset = r.flagset;
    const keepState = r.keepState;
    const dir = r.direction;
    const ifl: NodeIf[] = interfaces ?? [{ ifname: '', not: false, useRdomain: false, rdomain: 0, ifaFlags: 0, dynamic: false }];
    const pl: number[] = protos ?? [0];
    const il: NodeIcmp[] = icmpTypes ?? [{ type: 0, code: 0, proto: 0 }];
    const shl: NodeHost[] = srcHosts ?? [newNodeHost()];
    const dhl: NodeHost[] = dstHosts ?? [newNodeHost()];
    const spl: NodePort[] = srcPorts ?? [{ port: [0, 0], op: 0 }];
    const dpl: NodePort[] = dstPorts ?? [{ port: [0, 0], op: 0 }];
    const osl: Array<string | null> = srcOses ?? [null];
    const ul: NodeUid[] = uids ?? [{ id: [0, 0], op: 0 }];
    const gl: NodeUid[] = gids ?? [{ id: [0, 0], op: 0 }];
    const env = this.ctx.env;

    for (let ii = 0; ii < ifl.length; ii++)
      for (let pi = 0; pi < pl.length; pi++)
        for (let ci = 0; ci < il.length; ci++)
          for (let si = 0; si < shl.length; si++)
            for (let di = 0; di < dhl.length; di++)
              for (let spi = 0; spi < spl.length; spi++)
                for (let dpi = 0; dpi < dpl.length; dpi++)
                  for (let oi = 0; oi < osl.length; oi++)
                    for (let ui = 0; ui < ul.length; ui++)
                      for (let gi = 0; gi < gl.length; gi++) {
                        const iface = ifl[ii]!;
                        const proto = pl[pi]!;
                        const icmp = il[ci]!;
                        let srcHost = shl[si]!;
                        let dstHost = dhl[di]!;
                        const srcPort = spl[spi]!;
                        const dstPort = dpl[dpi]!;
                        const srcOs = osl[oi]!;
                        const uid = ul[ui]!;
                        const gid = gl[gi]!;
                        r.af = af;
                        error += this.collapseRedirspec('rdr', r, rdr, false);
                        error += this.collapseRedirspec('nat', r, nat, false);
                        error += this.collapseRedirspec('route', r, rroute, true);
                        if (
                          (srcHost.addr.type === PF_ADDR_ADDRMASK && srcHost.ifname) ||
                          (dstHost.addr.type === PF_ADDR_ADDRMASK && dstHost.ifname)
                        ) {
                          this.yyerror('@if syntax not permitted in from or to');
                          error++;
                        }
                        if (
                          (r.af && srcHost.af && r.af !== srcHost.af) ||
                          (r.af && dstHost.af && r.af !== dstHost.af) ||
                          (srcHost.af && dstHost.af && srcHost.af !== dstHost.af) ||
                          (srcHost.ifindex && dstHost.ifindex && srcHost.ifindex !== dstHost.ifindex) ||
                          (srcHost.ifindex && iface.ifname && srcHost.ifindex !== ifaNametoindex(env, iface.ifname)) ||
                          (dstHost.ifindex && iface.ifname && dstHost.ifindex !== ifaNametoindex(env, iface.ifname))
                        )
                          continue;
                        if (!r.af && srcHost.af) r.af = srcHost.af;
                        else if (!r.af && dstHost.af) r.af = dstHost.af;
                        if (iface.ifname) r.ifname = iface.ifname;
                        else r.ifname = ifaIndextoname(env, srcHost.ifindex) ?? ifaIndextoname(env, dstHost.ifindex) ?? '';
                        r.onrdomain = iface.useRdomain ? iface.rdomain : -1;
                        const lbl = (s: string): string =>
                          expandLabel(s, r.ifname, r.af, srcHost, srcPort, dstHost, dstPort, proto, env);
                        r.label = lbl(label);
                        r.tagname = lbl(tagname);
                        r.matchTagname = lbl(matchTagname);
                        const osrch = srcHost;
                        const odsth = dstHost;
                        if (srcHost.addr.type === PF_ADDR_DYNIFTL) srcHost = genDynnode(srcHost, r.af);
                        if (dstHost.addr.type === PF_ADDR_DYNIFTL) dstHost = genDynnode(dstHost, r.af);
                        error += this.checkNetmask(srcHost, r.af);
                        error += this.checkNetmask(dstHost, r.af);
                        r.ifnot = iface.not;
                        r.proto = proto;
                        r.src.addr = { ...srcHost.addr, addr: srcHost.addr.addr.slice(), mask: srcHost.addr.mask.slice() };
                        r.src.neg = srcHost.not;
                        r.src.port = [srcPort.port[0], srcPort.port[1]];
                        r.src.portOp = srcPort.op;
                        r.dst.addr = { ...dstHost.addr, addr: dstHost.addr.addr.slice(), mask: dstHost.addr.mask.slice() };
                        r.dst.neg = dstHost.not;
                        r.dst.port = [dstPort.port[0], dstPort.port[1]];
                        r.dst.portOp = dstPort.op;
                        r.uid = { id: [uid.id[0], uid.id[1]], op: uid.op };
                        r.gid = { id: [gid.id[0], gid.id[1]], op: gid.op };
                        if (rcv) {
                          r.rcvIfname = rcv.ifname;
                          r.rcvifnot = rcv.not;
                        }
                        r.type = icmp.type;
                        r.code = icmp.code;
                        if ((keepState === PF_STATE_MODULATE || keepState === PF_STATE_SYNPROXY) && r.proto && r.proto !== 6)
                          r.keepState = PF_STATE_NORMAL;
                        else r.keepState = keepState;
                        if (r.proto && r.proto !== 6) {
                          r.flags = 0;
                          r.flagset = 0;
                        } else {
                          r.flags = flags;
                          r.flagset = flagset;
                        }
                        if (icmp.proto && r.proto !== icmp.proto) {
                          this.yyerror('icmp-type mismatch');
                          error++;
                        }
                        r.osFingerprint = srcOs;
                        if (srcOs !== null && this.ctx.opts & PF_OPT_VERBOSE2)
                          this.ctx.err(`warning: unknown '${srcOs}' OS fingerprint\n`);
                        if (nat && nat.rdr && nat.binat) {
                          if (srcHost.addr.type === PF_ADDR_TABLE) {
                            this.yyerror(`invalid use of table <${srcHost.addr.tblname}> as the source address of a binat-to rule`);
                            error++;
                          } else if (dynifMultiaddr(srcHost.addr)) {
                            this.yyerror(`invalid use of interface (${srcHost.addr.ifname}) as the source address of a binat-to rule`);
                            error++;
                          } else if (
                            (r.src.addr.type !== PF_ADDR_ADDRMASK && r.src.addr.type !== PF_ADDR_DYNIFTL) ||
                            (r.nat.addr.type !== PF_ADDR_ADDRMASK && r.nat.addr.type !== PF_ADDR_DYNIFTL)
                          ) {
                            this.yyerror('binat-to requires a specified source and redirect address');
                            error++;
                          }
                          if (dynifMultiaddr(r.src.addr) || dynifMultiaddr(r.nat.addr)) {
                            this.yyerror('dynamic interfaces must be used with :0 in a binat-to rule');
                            error++;
                          }
                          if (azero(r.src.addr.mask, af) || azero(r.nat.addr.mask, af)) {
                            this.yyerror('source and redir addresess must have a matching network mask in binat-rule');
                            error++;
                          }
                          if (r.nat.addr.type === PF_ADDR_TABLE) {
                            this.yyerror('tables cannot be used as the redirect address of a binat-to rule');
                            error++;
                          }
                          if (r.direction !== PF_INOUT) {
                            this.yyerror('binat-to cannot be specified with a direction');
                            error++;
                          }
                          r.direction = PF_OUT;
                        }
                        error += this.applyRedirspec('nat', r, nat, 0, dstPort);
                        error += this.applyRedirspec('rdr', r, rdr, 1, dstPort);
                        error += this.applyRedirspec('route', r, rroute, 2, dstPort);
                        if (this.ruleConsistent(r) < 0 || error) this.yyerror('skipping rule due to errors');
                        else {
                          const a = this.astack[this.astack.length - 1]!;
                          r.nr = a.match++;
                          this.anchor.ruleset.rules.push(copyRule(r));
                          added++;
                        }
                        r.direction = dir;
                        if (!error && nat && nat.rdr && nat.binat) {
                          const rb = copyRule(r);
                          rb.direction = PF_IN;
                          const srch = copyNodeHost(srcHost);
                          srch.ifname = null;
                          const dsth = newNodeHost();
                          dsth.addr = { ...rb.nat.addr, addr: rb.nat.addr.addr.slice(), mask: rb.nat.addr.mask.slice() };
                          const binat: RedirSpec = {
                            rdr: { hosts: [srch], rport: { ...nat.rdr.rport } },
                            poolOpts: { ...nat.poolOpts, staticport: false },
                            binat: false,
                            af: 0,
                          };
                          this.expandRule(
                            rb, true, ifl.slice(ii), null, binat, null, pl.slice(pi), osl.slice(oi) as string[],
                            dhl.slice(di), dpl.slice(dpi), [dsth], spl.slice(spi), ul.slice(ui), gl.slice(gi), rcv, il.slice(ci),
                          );
                        }
                        srcHost = osrch;
                        dstHost = odsth;
                      }
    if (!added) this.yyerror('rule expands to no valid combination');
  }
}

function fmtG(x: number): string {
  return String(Number(x.toPrecision(6)));
}

function validateRange(op: number, a: number, b: number): boolean {
  return (op === PF_OP_RRG && a > b) || (op === PF_OP_IRG && a >= b) || (op === PF_OP_XRG && a > b);
}

function decideAf(n: NodeHost[] | null, af: number): number {
  if (af !== 0 || n === null || n.length === 0) return af;
  const a = n[0]!.af;
  for (const h of n) if (h.af !== a) return 0;
  return a;
}

function dynifMultiaddr(a: PfAddrWrap): boolean {
  return a.type === PF_ADDR_DYNIFTL && (!(a.iflags & PFI_AFLAG_NOALIAS) || !/[0-9]$/.test(a.ifname));
}

function genDynnode(h: NodeHost, af: number): NodeHost {
  const n = copyNodeHost(h);
  n.ifname = null;
  if (af === AF_INET && unmask(n.addr.mask) > 32) setIpmask(n, 32);
  return n;
}

function labelAddr(af: number, h: NodeHost): string {
  let tmp: string;
  switch (h.addr.type) {
    case PF_ADDR_DYNIFTL:
      tmp = `(${h.addr.ifname})`;
      break;
    case PF_ADDR_TABLE:
      tmp = `<${h.addr.tblname}>`;
      break;
    case PF_ADDR_NOROUTE:
      tmp = 'no-route';
      break;
    case PF_ADDR_URPFFAILED:
      tmp = 'urpf-failed';
      break;
    case PF_ADDR_ADDRMASK:
      if (!af || (azero(h.addr.addr, af) && azero(h.addr.mask, af))) tmp = 'any';
      else {
        const a = af === AF_INET ? Array.from(h.addr.addr.subarray(0, 4)).join('.') : fmt6(h.addr.addr);
        const bits = unmask(h.addr.mask);
        tmp = (af === AF_INET && bits < 32) || (af === AF_INET6 && bits < 128) ? `${a}/${bits}` : a;
      }
      break;
    default:
      tmp = '?';
  }
  return h.not ? `! ${tmp}` : tmp;
}

function fmt6(a: Uint8Array): string {
  return formatIp6(a, 0);
}

function labelPort(p: NodePort): string {
  const a1 = String(p.port[0]);
  const a2 = String(p.port[1]);
  switch (p.op) {
    case PF_OP_IRG:
      return `${a1}><${a2}`;
    case PF_OP_XRG:
      return `${a1}<>${a2}`;
    case PF_OP_EQ:
      return a1;
    case PF_OP_NE:
      return `!=${a1}`;
    case PF_OP_LT:
      return `<${a1}`;
    case PF_OP_LE:
      return `<=${a1}`;
    case PF_OP_GT:
      return `>${a1}`;
    case PF_OP_GE:
      return `>=${a1}`;
    default:
      return '';
  }
}

/** expand_label(): substitute $if, $srcaddr, ... in a label, tag or tagged name. */
function expandLabel(
  label: string,
  ifname: string,
  af: number,
  src: NodeHost,
  sport: NodePort,
  dst: NodeHost,
  dport: NodePort,
  proto: number,
  env: PfctlEnv,
): string {
  let s = label;
  const rep = (name: string, v: () => string): void => {
    if (s.includes(name)) s = s.split(name).join(v());
  };
  rep('$if', () => (ifname ? ifname : 'any'));
  rep('$srcaddr', () => labelAddr(af, src));
  rep('$dstaddr', () => labelAddr(af, dst));
  rep('$srcport', () => labelPort(sport));
  rep('$dstport', () => labelPort(dport));
  rep('$proto', () => env.protocols.get(proto)?.[0] ?? String(proto));
  return s;
}

/** pfctl_expand_label_nr(): $nr becomes the rule's number in its ruleset. */
export function expandLabelNr(r: PfRule, rno: number): void {
  const n = String(rno);
  if (r.label.includes('$nr')) r.label = r.label.split('$nr').join(n);
  if (r.tagname.includes('$nr')) r.tagname = r.tagname.split('$nr').join(n);
  if (r.matchTagname.includes('$nr')) r.matchTagname = r.matchTagname.split('$nr').join(n);
}

export { PF_ADDR_RTLABEL };
