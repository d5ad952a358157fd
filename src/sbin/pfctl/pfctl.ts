/**
 * pfctl(8): the command-line front end, as sbin/pfctl/pfctl.c.  It parses
 * a ruleset (`-f FILE`, `-f -` for standard input) and, with `-n`, prints
 * what it would load under `-v`/`-vv`: macro and option echoes, tables,
 * queues and the normalized rules, with OpenBSD's texts and exit statuses.
 * Loading into a kernel (without -n) needs a pf device, which a lab
 * machine supplies; without one pfctl fails as it would without /dev/pf.
 */
import { readFileSync } from 'node:fs';
import { getopt } from '../../lib/getopt.js';
import type { Io, Tool } from '../../lib/io.js';
import {
  PFQS_DEFAULT,
  PFQS_FLOWQUEUE,
  PFQS_ROOTCLASS,
  type PfAnchor,
  type PfQueueSpec,
  type PfRule,
} from './pf_ruleset.js';
import { defaultPfctlEnv, protoByName, type PfctlEnv } from './pfctl_env.js';
import { parseIp4, parseIp6 } from '../../wire/addr.js';
import { AF_INET, AF_INET6 } from '../../sys/net/pf.js';
import {
  PF_OPT_DEBUG,
  PF_OPT_NOACTION,
  PF_OPT_NODNS,
  PF_OPT_OPTIMIZE,
  PF_OPT_PORTNAMES,
  PF_OPT_RECURSE,
  PF_OPT_USEDNS,
  PF_OPT_VERBOSE,
  PF_OPT_VERBOSE2,
  printQueuespec,
  printRule,
} from './pfctl_parser.js';
import { PfParser, expandLabelNr, type ParseResult } from './parse.js';
import { PF_OPTIMIZE_BASIC, PF_OPTIMIZE_PROFILE, PfOptState, pfctl_optimize_ruleset, type PfOptEnv } from './pfctl_optimize.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import {
  pf_clear_rules, pf_clear_src_nodes, pf_clear_states, pf_clear_status, pf_commit_queues, pf_find_anchor, pf_kill_src_nodes, pf_kill_state_id, pf_kill_states, pf_kill_states_label, pf_load, pf_open,
  pf_start, pf_stop, type PfKillAddr,
} from '../../sys/net/pf_ioctl.js';
import { PF_RESERVED_ANCHOR, parseTableEntry, maskWord } from '../../sys/net/pf_table.js';
import {
  PF_OPT_CLRRULECTRS, PF_OPT_SHOWALL, kernelPfctlEnv, loglevel_to_string, ruleForPrint, showAnchors, showIfaces, showLimits, showQueues, showRules, showSrcNodes, showStates,
  showStatus, showTimeouts,
} from './pfctl_kernel.js';
import { AddrAppender, pfctl_table } from './pfctl_table.js';
import { PF_OPT_DUMMYACTION } from './pfctl_parser.js';
import { Exit } from '../../lib/exit.js';

/** What pfctl needs from its surroundings. */
export interface PfctlHost {
  /** interfaces, names and users of the machine (default: the regress machine) */
  env?: PfctlEnv;
  /** reads a file by name (rulesets, includes, table files) */
  readFile?: (name: string) => string | null;
  /** the text of standard input, for `-f -` */
  readStdin?: () => string;
  /** the kernel whose pf this pfctl drives (without one, only -n works) */
  kernel?: Kernel;
}

const USAGE =
  'usage: pfctl [-deghNnPqrvz] [-a anchor] [-D macro=value] [-F modifier] [-f file]\n' +
  '\t[-i interface] [-K key] [-k key] [-L statefile] [-o level]\n' +
  '\t[-p device] [-S statefile] [-s modifier [-R id]]\n' +
  '\t[-t table -T command [address ...]] [-V rdomain] [-x level]\n';

function lookupOption(cmd: string, list: readonly string[], err: (s: string) => void): string | null {
  let item: string | null = null;
  if (cmd)
    for (const l of list)
      if (l.startsWith(cmd)) {
        if (item === null) item = l;
        else {
          err(`pfctl: ${cmd} is ambigious\n`);
          throw new Exit(1);
        }
      }
  return item;
}

/** strtonum(3): the number, or its error string ("invalid", "too small", "too large"). */
export function strtonum(s: string, min: bigint, max: bigint): bigint | string {
  // strtoll(): leading white space, a sign, decimal digits, nothing after
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)$/.exec(s);
  if (m === null || min > max) return 'invalid';
  const v = BigInt(m[1]!);
  if (v < min) return 'too small';
  if (v > max) return 'too large';
  return v;
}

const LONG_MAX = 0x7fffffffffffffffn;
const RT_TABLEID_MAX = 255n;
/** syslog's levels by name (string_to_loglevel() of -x's words) */
const LOG_LEVELS: Record<string, number> = { emerg: 0, alert: 1, crit: 2, error: 3, warning: 4, notice: 5, info: 6, debug: 7 };

function defaultReadFile(name: string): string | null {
  try {
    return readFileSync(name, 'latin1');
  } catch {
    return null;
  }
}

/** Parse a ruleset text as pfctl_rules() does (without loading it). */
export function parseRuleset(
  text: string,
  opts: {
    filename?: string;
    env?: PfctlEnv;
    flags?: number;
    anchor?: string;
    macros?: Map<string, string>;
    readFile?: (name: string) => string | null;
  } = {},
): { result: ParseResult; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const p = new PfParser({
    env: opts.env ?? defaultPfctlEnv(),
    opts: opts.flags ?? PF_OPT_NOACTION,
    anchorPath: opts.anchor ?? '',
    readFile: opts.readFile ?? defaultReadFile,
    out: (s) => (stdout += s),
    err: (s) => (stderr += s),
    cmdlineMacros: opts.macros ?? new Map(),
  });
  const result = p.parse(opts.filename ?? '-', text);
  return { result, stdout, stderr };
}

/* ---- queues (pfctl_check_qassignments, pfctl_load_queues) ---- */

interface QItem {
  qs: PfQueueSpec;
  children: QItem[];
  matches: number;
}

/** pfctl_check_qassignments() and pfctl_load_queues(): the queues in the order they are added to the kernel, or null. */
function loadQueues(
  queues: PfQueueSpec[], rules: PfRule[], opts: number, out: (s: string) => void, err: (s: string) => void,
): PfQueueSpec[] | null {
  const roots: QItem[] = [];
  const specs: QItem[] = [];
  for (const q of queues) (q.parent ? specs : roots).push({ qs: { ...q }, children: [], matches: 0 });
  const findChild = (qi: QItem): number => {
    let flags = qi.qs.flags;
    for (const p of specs) {
      if (p.qs.parent !== qi.qs.qname) continue;
      if (p.qs.ifname && p.qs.ifname !== qi.qs.ifname) continue;
      if (++p.matches > 10000) {
        err('pfctl: pfctl_find_childqs: excessive matches, loop?\n');
        throw new Exit(1);
      }
      const q = qi.children.find((c) => c.qs.qname === p.qs.qname);
      if (!q) qi.children.push({ qs: { ...p.qs }, children: [], matches: 0 });
      else {
        if (q.qs.ifname && p.qs.ifname) {
          err(`pfctl: queue ${q.qs.qname} on ${q.qs.ifname} respecified\n`);
          throw new Exit(1);
        }
        if (!q.qs.ifname && !p.qs.ifname) {
          err(`pfctl: queue ${q.qs.qname} respecified\n`);
          throw new Exit(1);
        }
        if (!q.qs.ifname) q.qs = { ...p.qs };
      }
    }
    for (const c of qi.children) flags |= findChild(c);
    if (qi.children.length) {
      if (qi.qs.flags & PFQS_DEFAULT) {
        err(`pfctl: default queue ${qi.qs.qname} is not a leaf queue\n`);
        throw new Exit(1);
      }
      if (qi.qs.flags & PFQS_FLOWQUEUE) {
        err(`pfctl: flow queue ${qi.qs.qname} is not a leaf queue\n`);
        throw new Exit(1);
      }
    }
    return flags;
  };
  for (const qi of roots) {
    const flags = findChild(qi);
    if (!(qi.qs.flags & PFQS_ROOTCLASS) && qi.children.length) {
      err(
        qi.qs.flags & PFQS_FLOWQUEUE
          ? `pfctl: root queue ${qi.qs.qname} doesn't support hierarchy\n`
          : `pfctl: no bandwidth was specified for root queue ${qi.qs.qname}\n`,
      );
      throw new Exit(1);
    }
    if (qi.qs.flags & PFQS_ROOTCLASS && !(flags & PFQS_DEFAULT)) {
      err('pfctl: no default queue specified\n');
      throw new Exit(1);
    }
  }
  let errs = 0;
  const leafCheck = (qname: string): boolean => {
    if (!qname) return false;
    for (const qi of [...roots, ...specs])
      if (qi.qs.qname === qname && qi.children.length) {
        out(`queue ${qname}: packets must be assigned to leaf queues only\n`);
        return true;
      }
    return false;
  };
  const walk = (rs: PfRule[]): void => {
    for (const r of rs) {
      if (r.anchor) walk(r.anchor.ruleset.rules);
      if (leafCheck(r.qname) || leafCheck(r.pqname)) errs++;
    }
  };
  walk(rules);
  if (errs) return null;
  for (const qi of specs) {
    if (qi.matches === 0) {
      err(`pfctl: queue ${qi.qs.qname}: parent ${qi.qs.parent} not found\n`);
      throw new Exit(1);
    }
    const { realtime: rt, linkshare: ls, upperlimit: ul } = qi.qs;
    if (rt.m1.percent || rt.m2.percent || ls.m1.percent || ls.m2.percent || ul.m1.percent || ul.m2.percent) {
      err('pfctl: only absolute bandwidth specs for now\n');
      throw new Exit(1);
    }
    if (qi.qs.parent && ls.m1.absolute === 0 && ls.m2.absolute === 0) {
      err(`pfctl: queue ${qi.qs.qname}: no bandwidth was specified\n`);
      throw new Exit(1);
    }
  }
  const loaded: PfQueueSpec[] = [];
  const load = (qi: QItem): void => {
    loaded.push(qi.qs);
    if (opts & PF_OPT_VERBOSE) out(printQueuespec(qi.qs));
    for (const c of qi.children) {
      c.qs.ifname = qi.qs.ifname;
      load(c);
    }
  };
  for (const qi of roots) load(qi);
  return loaded;
}

/* ---- rules (pfctl_load_ruleset) ---- */

function indent(depth: number, on: boolean): string {
  return on ? '  '.repeat(depth) : '';
}

function loadRuleset(a: PfAnchor, depth: number, opts: number, env: PfctlEnv, out: (s: string) => void, opt: PfOptEnv | null): void {
  const verbose = (opts & PF_OPT_VERBOSE) !== 0;
  let brace = false;
  if (depth) {
    if (a.ruleset.rules.length) {
      brace = true;
      if (verbose) out(' {\n');
    } else if (verbose) out('\n');
  }
  if (opt !== null && opt.optimize) pfctl_optimize_ruleset(opt, a.ruleset);
  let rno = 0;
  for (const r of a.ruleset.rules) {
    expandLabelNr(r, rno++);
    const name = r.anchor ? (r.anchor.match ? r.anchor.name : r.anchor.path) : '';
    if (verbose) out(indent(depth, !(opts & PF_OPT_VERBOSE2)) + printRule(r, name, opts, env));
    if (r.anchor) loadRuleset(r.anchor, depth + 1, opts, env, out, opt);
    else if (verbose) out('\n');
  }
  if (brace && verbose) out(indent(depth - 1, verbose) + '}\n');
}

/** Build a pfctl bound to a host (files, standard input, machine facts). */
export function makePfctl(hostOpts: PfctlHost = {}): Tool {
  return (argv: readonly string[], io: Io): number => {
    const out = (s: string): void => io.stdout.write(s);
    const err = (s: string): void => io.stderr.write(s);
    const usage = (): never => {
      err(USAGE);
      throw new Exit(1);
    };
    try {
      if (argv.length < 1) usage();
      const g = getopt(argv, 'a:dD:eqf:F:ghi:k:K:L:Nno:Pp:R:rS:s:t:T:vV:x:z');
      if (g.error) {
        err(`pfctl: ${g.error}\n`);
        usage();
      }
      let opts = 0;
      let anchoropt: string | null = null;
      let rulesopt: string | null = null;
      let optiopt: string | null = null;
      let showopt: string | null = null;
      let tableopt: string | null = null;
      let tblcmdopt: string | null = null;
      let clearopt: string | null = null;
      let ifaceopt: string | null = null;
      let shownr = -1;
      let rdomain = 0;
      let debugopt: string | null = null;
      let pfDevice = '/dev/pf';
      const stateKill: string[] = [];
      const srcNodeKill: string[] = [];
      let enable = false;
      let disable = false;
      let quiet = false;
      let mode = 'r';
      const macros = new Map<string, string>();
      for (const [c, arg] of g.opts) {
        const a = arg ?? '';
        switch (c) {
          case 'a':
            anchoropt = a;
            break;
          case 'D': {
            const eq = a.lastIndexOf('=');
            if (eq < 0) err(`pfctl: could not parse macro definition ${a}\n`);
            else macros.set(a.slice(0, eq), a.slice(eq + 1));
            break;
          }
          case 'd':
            disable = true;
            mode = 'rw';
            break;
          case 'e':
            enable = true;
            mode = 'rw';
            break;
          case 'k':
            if (stateKill.length >= 2) {
              err('pfctl: can only specify -k twice\n');
              usage();
            }
            stateKill.push(a);
            mode = 'rw';
            break;
          case 'i':
            ifaceopt = a;
            break;
          case 'q':
            quiet = true;
            break;
          case 'K':
            if (srcNodeKill.length >= 2) {
              err('pfctl: can only specify -K twice\n');
              usage();
            }
            srcNodeKill.push(a);
            mode = 'rw';
            break;
          case 'z':
            opts |= PF_OPT_CLRRULECTRS;
            mode = 'rw';
            break;
          case 'L':
            mode = 'rw';
            break;
          case 'p':
            pfDevice = a;
            break;
          case 'V': {
            const v = strtonum(a, 0n, RT_TABLEID_MAX);
            if (typeof v === 'string') {
              err(`pfctl: Invalid rdomain: ${v}\n`);
              usage();
            }
            rdomain = Number(v);
            break;
          }
          case 'x':
            debugopt = lookupOption(a, ['debug', 'info', 'notice', 'warning', 'error', 'crit', 'alert', 'emerg'], err);
            if (debugopt === null) {
              err(`pfctl: Unknown debug level '${a}'\n`);
              usage();
            }
            mode = 'rw';
            break;
          case 'F':
            clearopt = lookupOption(a, ['rules', 'Sources', 'states', 'info', 'Tables', 'osfp', 'Reset', 'all'], err);
            if (!clearopt) {
              err(`pfctl: Unknown flush modifier '${a}'\n`);
              usage();
            }
            mode = 'rw';
            break;
          case 'N':
            opts |= PF_OPT_NODNS;
            break;
          case 'n':
            opts |= PF_OPT_NOACTION;
            break;
          case 'r':
            opts |= PF_OPT_USEDNS;
            break;
          case 'R': {
            const v = strtonum(a, -1n, LONG_MAX);
            if (typeof v === 'string') {
              err(`pfctl: invalid rule id: ${v}\n`);
              usage();
            }
            shownr = Number(v);
            break;
          }
          case 'f':
            rulesopt = a;
            mode = 'rw';
            break;
          case 'g':
            opts |= PF_OPT_DEBUG;
            break;
          case 'o':
            optiopt = lookupOption(a, ['none', 'basic', 'profile'], err);
            if (optiopt === null) {
              err(`pfctl: Unknown optimization '${a}'\n`);
              usage();
            }
            opts |= PF_OPT_OPTIMIZE;
            break;
          case 'P':
            opts |= PF_OPT_PORTNAMES;
            break;
          case 's':
            showopt = lookupOption(
              a,
              ['queue', 'rules', 'Anchors', 'Sources', 'states', 'info', 'Interfaces', 'labels', 'timeouts', 'memory', 'Tables', 'osfp', 'all'],
              err,
            );
            if (showopt === null) {
              err(`pfctl: Unknown show modifier '${a}'\n`);
              usage();
            }
            break;
          case 't':
            tableopt = a;
            break;
          case 'T':
            tblcmdopt = lookupOption(a, ['kill', 'flush', 'add', 'delete', 'replace', 'show', 'test', 'zero', 'expire'], err);
            if (tblcmdopt === null) {
              err(`pfctl: Unknown table command '${a}'\n`);
              usage();
            }
            break;
          case 'v':
            if (opts & PF_OPT_VERBOSE) opts |= PF_OPT_VERBOSE2;
            opts |= PF_OPT_VERBOSE;
            break;
          case 'h':
            usage();
            break;
          default:
            break;
        }
      }
      if (opts & PF_OPT_NODNS && opts & PF_OPT_USEDNS) {
        err('pfctl: -N and -r are mutually exclusive\n');
        throw new Exit(1);
      }
      if ((tblcmdopt === null) !== (tableopt === null)) usage();
      if (tblcmdopt === null && g.rest.length) {
        err(`pfctl: unknown command line argument: ${g.rest[0]} ...\n`);
        usage();
      }
      let anchorname = '';
      if (anchoropt !== null) {
        if (anchoropt === '') {
          err('pfctl: anchor name must not be empty\n');
          throw new Exit(1);
        }
        if (mode === 'r' && showopt === null && tblcmdopt === null) {
          err('pfctl: anchors apply to -f, -F, -s, and -T only\n');
          usage();
        }
        if (mode === 'rw' && tblcmdopt === null && (anchoropt[0] === '_' || anchoropt.includes('/_'))) {
          err("pfctl: anchor names beginning with '_' cannot be modified from the command line\n");
          throw new Exit(1);
        }
        let ao = anchoropt;
        if (ao.endsWith('*')) {
          ao = ao.length >= 2 && ao[ao.length - 2] === '/' ? ao.slice(0, -2) : ao.slice(0, -1);
          opts |= PF_OPT_RECURSE;
        }
        anchorname = ao;
      }
      // the pf device: the kernel's /dev/pf (-p names another, which does not exist)
      const k = pfDevice === '/dev/pf' ? (hostOpts.kernel ?? null) : null;
      if (!(opts & PF_OPT_NOACTION) && k === null) {
        err(`pfctl: ${pfDevice}: No such file or directory\n`);
        return 1;
      }
      if (opts & PF_OPT_NOACTION) {
        // -n: nothing is enabled, disabled, shown, flushed or set (the table commands and -f run dry)
        enable = false;
        disable = false;
        clearopt = null;
        showopt = null;
        debugopt = null;
      }
      // the optimization level: basic unless -o says otherwise (the last -o counts)
      let optimize = PF_OPTIMIZE_BASIC;
      if (optiopt !== null) {
        if (optiopt[0] === 'n') optimize = 0;
        else if (optiopt[0] === 'b') optimize |= PF_OPTIMIZE_BASIC;
        else optimize |= PF_OPTIMIZE_PROFILE;
      }
      void mode;
      let exitVal = 0;
      const kenv = hostOpts.env ?? (k !== null ? kernelPfctlEnv(k) : undefined);
      const appender = new AddrAppender({ env: kenv ?? defaultPfctlEnv(), opts, warn: err });
      const readFile = hostOpts.readFile ?? defaultReadFile;
      const readInput = (name: string): string | null =>
        name === '-' ? (hostOpts.readStdin ? hostOpts.readStdin() : readFileSync(0, 'latin1')) : readFile(name);
      const tio = { out, err, env: kenv ?? defaultPfctlEnv(), readFile: readInput, appender };
      if (k !== null) {
        pf_open(k);
        if (quiet) opts |= PF_OPT_QUIET_K;
        // -n with a pf device: table commands ask the kernel for a dry run
        if (opts & PF_OPT_NOACTION) opts |= PF_OPT_DUMMYACTION;
        if (disable && !(opts & PF_OPT_NOACTION)) {
          if (pf_stop(k) !== 0) {
            err('pfctl: pf not enabled\n');
            throw new Exit(1);
          }
          if (!quiet) err('pf disabled\n');
        }
        if (showopt !== null) pfctlShow(k, kenv!, showopt, anchorname, opts, ifaceopt, out, tio, shownr);
        // -z alone: pfctl_show_rules(PFCTL_SHOW_NOTHING) reads the anchor's rules with PF_GET_CLR_CNTR
        if (opts & PF_OPT_CLRRULECTRS && showopt === null && showRules(k, kenv!, anchorname, opts, false, false, () => {}, 0, undefined, -1, true) !== 0)
          err('pfctl: Anchor does not exist\n');
        if (clearopt !== null && !(opts & PF_OPT_NOACTION)) pfctlClear(k, clearopt, anchorname, ifaceopt, quiet, err, opts, tio);
        if (stateKill.length > 0 && !(opts & PF_OPT_NOACTION)) {
          if (stateKill[0] === 'label') pfctlLabelKill(k, stateKill, ifaceopt, quiet, err, rdomain);
          else if (stateKill[0] === 'id') pfctlIdKill(k, stateKill, quiet, err);
          else if (stateKill[0] === 'key') pfctlKeyKill(k, tio.env, stateKill, ifaceopt, quiet, err, rdomain);
          else pfctlKill(k, stateKill, ifaceopt, quiet, err, rdomain);
        }
        if (srcNodeKill.length > 0 && !(opts & PF_OPT_NOACTION)) pfctlKillSrcNodes(k, srcNodeKill, quiet, err);
        if (tblcmdopt !== null) {
          if (tableopt!.length >= 32) usage();
          exitVal = pfctl_table(k, g.rest, tableopt, tblcmdopt, rulesopt, anchorname, opts, tio) & 0xff;
          rulesopt = null;
        }
      }
      if (rulesopt !== null) {
        const text = readInput(rulesopt);
        // pfctl_rules(): parse_config() failing (a syntax error, or the file
        // not opening) rolls the transaction back after this message; with
        // -n nothing was begun and pfctl exits 1 silently
        const notLoaded = (o: number): void => {
          if (!(o & PF_OPT_NOACTION)) err('pfctl: Syntax error in config file: pf rules not loaded\n');
        };
        if (text === null) {
          err(`pfctl: pushfile: ${rulesopt}: No such file or directory\n`);
          err('pfctl: cannot open the main config file!: No such file or directory\n');
          notLoaded(opts);
          throw new Exit(1);
        }
        const env = kenv ?? defaultPfctlEnv();
        const loadAnchors: Array<{ anchorname: string; filename: string }> = [];
        const qspecs: PfQueueSpec[] = [];
        let cmdline = macros;
        // the optimizer's statics live as long as this pfctl; its random
        // identifiers come from a stream of their own (the kernel's stays as it is)
        const optState = new PfOptState();
        const rnd = k !== null ? k.random.fork('pfctl') : null;
        const kernelTables = (): string[] => (k !== null ? [...pf_open(k).tables.values()].map((t) => t.name) : []);
        const random = (): number => (rnd !== null ? rnd.arc4random() : 0);
        const rules = (name: string, body: string, anchor: string, opts: number, optimize: number): ParseResult | null => {
          const p = new PfParser({
            env, opts, anchorPath: anchor, readFile, out, err, cmdlineMacros: cmdline, loadAnchors, qspecs, optimize,
            opt: { state: optState, kernelTables, random },
          });
          // parse_config() frees every macro, -D ones included, when it is done
          cmdline = new Map();
          const res = p.parse(name, body);
          if (res.errors) {
            notLoaded(opts);
            return null;
          }
          const queues = anchor ? null : loadQueues(res.queues, res.main.ruleset.rules, opts, out, err);
          if (!anchor && queues === null) {
            if (!(opts & PF_OPT_NOACTION)) err('pfctl: Unable to load queues into kernel\n');
            return null;
          }
          const opt: PfOptEnv = {
            state: optState,
            opts: res.opts,
            optimize: res.optimize,
            out,
            err,
            anchorPath: anchor,
            defineTable: (def) => res.tables.push(def),
            kernelTables,
            random,
            activeRules: () => {
              if (k === null) return null;
              const pf = pf_open(k);
              return pf.main.rules.map((kr) => ({ rule: ruleForPrint(pf, kr), packets: kr.packets0 + kr.packets1 }));
            },
          };
          loadRuleset(res.main, 0, res.opts, env, out, opt);
          if (k !== null && !(opts & PF_OPT_NOACTION)) {
            if (pf_load(k, res, anchor) !== 0) {
              err('pfctl: DIOCADDRULE: Invalid argument\n');
              throw new Exit(1);
            }
            // the main ruleset's transaction commits its queues (none replaces them all)
            if (queues !== null) pf_commit_queues(k, queues);
          }
          return res;
        };
        const main = rules(rulesopt, text, anchorname, opts, optimize);
        if (main === null) throw new Exit(1);
        // pfctl_load_anchors() loads them with the main ruleset's pf->opts and pf->optimize
        const laOpts = main.opts;
        const laOptimize = main.optimize;
        // pfctl_load_anchors(): files named by "load anchor", in order
        for (let i = 0; i < loadAnchors.length; i++) {
          const la = loadAnchors[i]!;
          if (opts & PF_OPT_VERBOSE) err(`\nLoading anchor ${la.anchorname} from ${la.filename}\n`);
          const body = readFile(la.filename);
          if (body === null) {
            err(`pfctl: pushfile: ${la.filename}: No such file or directory\n`);
            err('pfctl: cannot open the main config file!: No such file or directory\n');
            notLoaded(laOpts);
          }
          if (body === null || rules(la.filename, body, la.anchorname, laOpts, laOptimize) === null) {
            err('pfctl: load anchors\n');
            throw new Exit(1);
          }
        }
      }
      if (k !== null && enable && !(opts & PF_OPT_NOACTION)) {
        if (pf_start(k) !== 0) {
          err('pfctl: pf already enabled\n');
          throw new Exit(1);
        }
        if (!quiet) err('pf enabled\n');
      }
      if (k !== null && debugopt !== null) {
        // pfctl_debug(): DIOCSETDEBUG, the level by its syslog name
        const level = LOG_LEVELS[debugopt]!;
        pf_open(k).debug = level;
        if (!quiet) err(`debug level set to '${loglevel_to_string(level)}'\n`);
      }
      return exitVal;
    } catch (e) {
      if (e instanceof Exit) return e.status;
      throw e;
    }
  };
}

/** pfctl's quiet flag (PF_OPT_QUIET) for the kernel commands */
const PF_OPT_QUIET_K = 0x00010;

/** The -s modes against the kernel (pfctl_show_*). */
function pfctlShow(
  k: Kernel, env: PfctlEnv, showopt: string, anchor: string, opts: number, iface: string | null, out: (s: string) => void,
  tio: Parameters<typeof pfctl_table>[7], shownr: number,
): void {
  let first = true;
  const title = (t: string): void => {
    if (!first) out('\n');
    first = false;
    out(t + '\n');
  };
  const wildcard = (opts & PF_OPT_RECURSE) !== 0;
  switch (showopt[0]) {
    case 'A':
      if (showAnchors(k, anchor, opts, out) !== 0) {
        tio.err('pfctl: Anchor does not exist\n');
        throw new Exit(1);
      }
      break;
    case 'q':
      showQueues(k, iface, opts, out, title);
      break;
    case 'I':
      showIfaces(k, iface, opts, out, title);
      break;
    case 'o':
      // pfctl_show_fingerprints(): packetflow's kernel has no OS fingerprints (no pf.os is loaded), so nothing
      break;
    case 'r':
    case 'l':
      // DIOCGETRULES on a missing anchor: EINVAL, warned (pfctl goes on, exit 0)
      if (showRules(k, env, anchor, opts, showopt[0] === 'l', wildcard, out, 0, title, shownr) !== 0) tio.err('pfctl: Anchor does not exist\n');
      break;
    case 's':
      showStates(k, env, iface, opts, out, title, shownr);
      break;
    case 'S':
      showSrcNodes(k, opts, out, title);
      break;
    case 'i':
      showStatus(k, opts, out);
      break;
    case 't':
      showTimeouts(k, opts, out, title);
      break;
    case 'm':
      showLimits(k, opts, out, title);
      break;
    case 'T':
      // pfctl_show_tables(): exit(1) when the anchor has no tables to list; -a 'x/*' each anchor's (pfctl_recurse)
      if (opts & PF_OPT_RECURSE) {
        pfctlRecurse(k, anchor, true, tio, (a) => {
          if (pfctl_table(k, [], null, '-s', null, a, opts, tio) === -1) throw new Exit(1);
        });
      } else if (pfctl_table(k, [], null, '-s', null, anchor, opts, tio) === -1) throw new Exit(1);
      break;
    case 'a': {
      const o = opts | PF_OPT_SHOWALL;
      showRules(k, env, anchor, o, false, false, out, 0, title);
      showQueues(k, iface, o, out, title);
      showStates(k, env, iface, o, out, title);
      showSrcNodes(k, o, out, title);
      title('INFO:');
      showStatus(k, o, out);
      showRules(k, env, anchor, o, true, false, out, 0, title);
      showTimeouts(k, o, out, title);
      showLimits(k, o, out, title);
      if (pfctl_table(k, [], null, '-s', null, anchor, o, { ...tio, out: (s) => (s === 'TABLES:\n' ? title('TABLES:') : out(s)) }) === -1)
        throw new Exit(1);
      // pfctl_show_fingerprints(): "OS FINGERPRINTS:" and the count only when the kernel has some (none here)
      break;
    }
  }
}

/** -F modifier */
function pfctlClear(
  k: Kernel, clearopt: string, anchor: string, iface: string | null, quiet: boolean, err: (s: string) => void, opts: number,
  tio: Parameters<typeof pfctl_table>[7],
): void {
  const say = (s: string): void => {
    if (!quiet) err(s);
  };
  const rules = (): void => {
    pf_clear_rules(k, anchor);
    say('rules cleared\n');
  };
  const states = (): void => say(`${pf_clear_states(k, iface ?? '')} states cleared\n`);
  const stats = (): void => {
    pf_clear_status(k, iface ?? '');
    say(`pf: statistics cleared${iface !== null ? ` for interface ${iface}` : ''}\n`);
  };
  // pfctl_clear_tables(): exit(1) when it fails
  const tables = (): void => {
    if (pfctl_table(k, [], null, '-F', null, anchor, opts, tio) === -1) throw new Exit(1);
  };
  // -a 'x/*': pfctl_recurse() over x and every anchor below it, each quietly
  const recurse = (opts & PF_OPT_RECURSE) !== 0;
  const qopts = opts | PF_OPT_QUIET_K | PF_OPT_IGNFAIL;
  const clearRulesOf = (a: string): void => void pf_clear_rules(k, a);
  const clearTablesOf = (a: string): void => void pfctl_table(k, [], null, '-F', null, a, qopts, tio);
  switch (clearopt[0]) {
    case 'r':
      if (recurse) pfctlRecurse(k, anchor, false, tio, clearRulesOf);
      else rules();
      break;
    case 's':
      states();
      break;
    case 'S':
      pf_clear_src_nodes(k);
      say('source tracking entries cleared\n');
      break;
    case 'i':
      stats();
      break;
    case 'T':
      if (recurse) pfctlRecurse(k, anchor, false, tio, clearTablesOf);
      else tables();
      break;
    case 'a':
      if (iface !== null) {
        err("pfctl: don't specify an interface with -Fall\n");
        err(USAGE);
        throw new Exit(1);
      }
      if (recurse) {
        pfctlRecurse(k, anchor, false, tio, (a) => {
          clearTablesOf(a);
          clearRulesOf(a);
        });
      } else {
        tables();
        rules();
      }
      if (!anchor) {
        states();
        pf_clear_src_nodes(k);
        say('source tracking entries cleared\n');
        stats();
        say('pf: OS fingerprints cleared\n');
        say('pf: interface flags reset\n');
      }
      break;
    case 'o':
      say('pf: OS fingerprints cleared\n');
      break;
    case 'R':
      say('pf: interface flags reset\n');
      break;
  }
}

const PF_OPT_IGNFAIL = 0x10000;

/**
 * pfctl_recurse(): pfctl_get_anchors() lists the anchor given (its
 * dirname only when longer than one character, as the code has it) and
 * every anchor below it, depth first by name, each put at the head of
 * the list, so the deepest last; for flushes "Removing:" and each name
 * ("/" for the main ruleset) go to standard output first.  A missing
 * anchor ends pfctl ("Anchor does not exist").
 */
function pfctlRecurse(k: Kernel, anchor: string, callshow: boolean, tio: Parameters<typeof pfctl_table>[7], fn: (anchor: string) => void): void {
  const pf = pf_open(k);
  let root = '';
  if (anchor !== '') {
    const i = anchor.lastIndexOf('/');
    const dir = i > 0 ? anchor.slice(0, i) : '.';
    const base = anchor.slice(i + 1);
    root = dir[0] !== '.' && dir.length > 1 ? `${dir}/${base}` : base;
  }
  const list = [root];
  const walk = (path: string): void => {
    const a = pf_find_anchor(pf, path);
    if (a === null) {
      tio.err('pfctl: Anchor does not exist\n');
      throw new Exit(1);
    }
    for (const name of [...a.children.keys()].sort()) {
      if (name === PF_RESERVED_ANCHOR) continue;
      const sub = path !== '' ? `${path}/${name}` : name;
      list.push(sub);
      walk(sub);
    }
  };
  walk(anchor);
  list.reverse();
  if (!callshow) tio.out('Removing:\n');
  for (const a of list) {
    if (!callshow) tio.out(`  ${a === '' ? '/' : a}\n`);
    fn(a);
  }
}

/** "addr[/len]" as pfctl_addrprefix() reads it for -k. */
function killAddr(s: string): PfKillAddr | null {
  const e = parseTableEntry(s);
  if (e === null) return null;
  return {
    af: e.af,
    addr: [e.w0, e.w1, e.w2, e.w3],
    mask: [maskWord(e.net, 0), maskWord(e.net, 1), maskWord(e.net, 2), maskWord(e.net, 3)],
  };
}

/** -k host [-k host]: pfctl_net_kill_states() */
function pfctlKill(k: Kernel, kill: string[], iface: string | null, quiet: boolean, err: (s: string) => void, rdomain: number): void {
  const src = killAddr(kill[0]!);
  if (src === null) {
    err(`pfctl: no IP address found for ${kill[0]}\n`);
    throw new Exit(1);
  }
  let dst: PfKillAddr | null = null;
  let dests = 0;
  if (kill.length > 1) {
    dst = killAddr(kill[1]!);
    if (dst === null) {
      err(`pfctl: no IP address found for ${kill[1]}\n`);
      throw new Exit(1);
    }
    dests = 1;
  }
  const killed = pf_kill_states(k, src, dst, iface ?? '', rdomain);
  if (!quiet) err(`killed ${killed} states from 1 sources and ${dests} destinations\n`);
}

/** -k label -k NAME: pfctl_label_kill_states() */
function pfctlLabelKill(k: Kernel, kill: string[], iface: string | null, quiet: boolean, err: (s: string) => void, rdomain: number): void {
  if (kill.length !== 2 || kill[1] === '') {
    err('pfctl: no label specified\n');
    err(USAGE);
    throw new Exit(1);
  }
  if (kill[1]!.length >= 64) {
    err(`pfctl: label too long: ${kill[1]}\n`);
    throw new Exit(1);
  }
  const killed = pf_kill_states_label(k, kill[1]!, iface ?? '', rdomain);
  if (!quiet) err(`killed ${killed} states\n`);
}

/** -k id -k ID[/CREATORID] (hexadecimal, as -vvss prints them): pfctl_id_kill_states() */
function pfctlIdKill(k: Kernel, kill: string[], quiet: boolean, err: (s: string) => void): void {
  const fail = (msg: string): never => {
    err(`pfctl: ${msg}\n`);
    err(USAGE);
    throw new Exit(1);
  };
  if (kill.length !== 2 || kill[1] === '') fail('no id specified');
  // sscanf("%llx/%x"), then "%llx": leading hex digits (an optional 0x), the rest ignored
  const m = /^\s*(?:0[xX])?([0-9a-fA-F]+)(?:\/\s*(?:0[xX])?([0-9a-fA-F]+))?/.exec(kill[1]!);
  if (m === null) fail('wrong id format specified');
  const id = BigInt.asUintN(64, BigInt('0x' + m![1]!));
  const creatorid = m![2] !== undefined ? Number(BigInt.asUintN(32, BigInt('0x' + m![2]))) : 0;
  if (id === 0n) fail('cannot kill id 0');
  const killed = pf_kill_state_id(k, id, creatorid);
  if (!quiet) err(`killed ${killed} states\n`);
}

/**
 * -k key -k "PROTO HOST:PORT DIR HOST:PORT": pfctl_key_kill_states(), a
 * state's key as -ss prints it (an IPv6 host as ADDR[PORT]); with <- the
 * second host is the source.  The states whose source and destination
 * (the wire key of an inbound state, the stack key of an outbound one)
 * are those, on the interface (-i) and in the rdomain (-V).
 */
function pfctlKeyKill(k: Kernel, env: PfctlEnv, kill: string[], iface: string | null, quiet: boolean, err: (s: string) => void, rdomain: number): void {
  const errx = (msg: string): never => {
    err(`pfctl: ${msg}\n`);
    throw new Exit(1);
  };
  if (kill.length !== 2 || kill[1] === '') {
    err('pfctl: no key specified\n');
    err(USAGE);
    throw new Exit(1);
  }
  const tokens = kill[1]!.split(/[ \t]/).filter((t) => t !== '');
  if (tokens.length !== 4) errx('pfctl_key_kill_states: key must be "protocol host1:port1 direction host2:port2" format');
  const proto = protoByName(env, tokens[0]!);
  if (proto === null) errx(`invalid protocol: ${tokens[0]}`);
  let sidx: number;
  if (tokens[2] === '->') sidx = 1;
  else if (tokens[2] === '<-') sidx = 3;
  else errx(`invalid direction: ${tokens[2]}`);
  const didx = sidx! === 1 ? 3 : 1;
  const src = keyHost(env, tokens[sidx!]!);
  if (src === null) errx(`invalid host: ${tokens[sidx!]}`);
  const dst = keyHost(env, tokens[didx]!);
  if (dst === null) errx(`invalid host: ${tokens[didx]}`);
  const killed = pf_kill_states(k, src, dst, iface ?? '', rdomain, proto!);
  if (!quiet) err(`killed ${killed} states\n`);
}

/** pfctl_parse_host(): ADDR[PORT] (IPv6) or ADDR:PORT (IPv4), numeric addresses, a port number or udp service name. */
function keyHost(env: PfctlEnv, s: string): PfKillAddr | null {
  const b = s.indexOf('[');
  const e = s.lastIndexOf(']');
  let node: string;
  let serv: string;
  let af: number;
  if (b >= 0 && e >= 0) {
    node = s.slice(0, b);
    serv = e > b ? s.slice(b + 1, e) : '';
    af = AF_INET6;
  } else if (s.includes(':')) {
    node = s.slice(0, s.indexOf(':'));
    serv = s.slice(s.indexOf(':') + 1);
    af = AF_INET;
  } else return null;
  const port = /^\d+$/.test(serv) ? Number(serv) : env.services.udp.get(serv);
  if (port === undefined || port > 65535) return null;
  const a = af === AF_INET ? parseIp4(node) : -1;
  const a6 = af === AF_INET6 ? parseIp6(node) : null;
  if (af === AF_INET ? a < 0 : a6 === null) return null;
  const w = af === AF_INET ? [a | 0, 0, 0, 0] : [0, 4, 8, 12].map((i) => ((a6![i]! << 24) | (a6![i + 1]! << 16) | (a6![i + 2]! << 8) | a6![i + 3]!) | 0);
  return { af, addr: [w[0]!, w[1]!, w[2]!, w[3]!], mask: [-1, -1, -1, -1], port };
}

/** -K host [-K host]: pfctl_kill_src_nodes() (a second -K matches the nodes' pool addresses) */
function pfctlKillSrcNodes(k: Kernel, kill: string[], quiet: boolean, err: (s: string) => void): void {
  const src = killAddr(kill[0]!);
  if (src === null) {
    err(`pfctl: no IP address found for ${kill[0]}\n`);
    throw new Exit(1);
  }
  let dst = { af: src.af, addr: [0, 0, 0, 0] as [number, number, number, number], mask: [0, 0, 0, 0] as [number, number, number, number] };
  let dests = 0;
  if (kill.length > 1) {
    const d = killAddr(kill[1]!);
    if (d === null) {
      err(`pfctl: no IP address found for ${kill[1]}\n`);
      throw new Exit(1);
    }
    // only destinations of the source's family
    if (d.af === src.af) {
      dst = d;
      dests = 1;
    }
  }
  const killed = kill.length > 1 && dests === 0 ? 0 : pf_kill_src_nodes(k, src, dst);
  if (!quiet) err(`killed ${killed} src nodes from 1 sources and ${dests} destinations\n`);
}

/** pfctl bound to a kernel, for the lab shell: `(k, argv, io) => status`. */
export function pfctlKernel(k: Kernel, argv: readonly string[], io: Io, host: Omit<PfctlHost, 'kernel'> = {}): number {
  return makePfctl({ ...host, kernel: k })(argv, io) as number;
}

/** pfctl with the default host: files from disk, the regress machine's facts. */
export const pfctl: Tool = makePfctl();
