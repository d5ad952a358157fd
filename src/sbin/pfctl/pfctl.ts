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
import { defaultPfctlEnv, type PfctlEnv } from './pfctl_env.js';
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

/** What pfctl needs from its surroundings. */
export interface PfctlHost {
  /** interfaces, names and users of the machine (default: the regress machine) */
  env?: PfctlEnv;
  /** reads a file by name (rulesets, includes, table files) */
  readFile?: (name: string) => string | null;
  /** the text of standard input, for `-f -` */
  readStdin?: () => string;
}

const USAGE =
  'usage: pfctl [-deghNnPqrvz] [-a anchor] [-D macro=value] [-F modifier] [-f file]\n' +
  '\t[-i interface] [-K key] [-k key] [-L statefile] [-o level]\n' +
  '\t[-p device] [-S statefile] [-s modifier [-R id]]\n' +
  '\t[-t table -T command [address ...]] [-V rdomain] [-x level]\n';

class Exit extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

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

function loadQueues(queues: PfQueueSpec[], rules: PfRule[], opts: number, out: (s: string) => void, err: (s: string) => void): boolean {
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
  if (errs) return false;
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
  const load = (qi: QItem): void => {
    if (opts & PF_OPT_VERBOSE) out(printQueuespec(qi.qs));
    for (const c of qi.children) {
      c.qs.ifname = qi.qs.ifname;
      load(c);
    }
  };
  for (const qi of roots) load(qi);
  return true;
}

/* ---- rules (pfctl_load_ruleset) ---- */

function indent(depth: number, on: boolean): string {
  return on ? '  '.repeat(depth) : '';
}

function loadRuleset(a: PfAnchor, depth: number, opts: number, env: PfctlEnv, out: (s: string) => void): void {
  const verbose = (opts & PF_OPT_VERBOSE) !== 0;
  let brace = false;
  if (depth) {
    if (a.ruleset.rules.length) {
      brace = true;
      if (verbose) out(' {\n');
    } else if (verbose) out('\n');
  }
  let rno = 0;
  for (const r of a.ruleset.rules) {
    expandLabelNr(r, rno++);
    const name = r.anchor ? (r.anchor.match ? r.anchor.name : r.anchor.path) : '';
    if (verbose) out(indent(depth, !(opts & PF_OPT_VERBOSE2)) + printRule(r, name, opts, env));
    if (r.anchor) loadRuleset(r.anchor, depth + 1, opts, env, out);
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
          case 'e':
          case 'z':
          case 'L':
          case 'k':
          case 'K':
            mode = 'rw';
            break;
          case 'F':
            if (!lookupOption(a, ['rules', 'Sources', 'states', 'info', 'Tables', 'osfp', 'Reset', 'all'], err)) {
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
            tblcmdopt = a;
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
      if (!(opts & PF_OPT_NOACTION)) {
        err('pfctl: /dev/pf: No such file or directory\n');
        return 1;
      }
      void optiopt;
      void PF_OPT_PORTNAMES;
      if (rulesopt !== null) {
        const readFile = hostOpts.readFile ?? defaultReadFile;
        let text: string | null;
        if (rulesopt === '-') text = hostOpts.readStdin ? hostOpts.readStdin() : readFileSync(0, 'latin1');
        else text = readFile(rulesopt);
        if (text === null) {
          err(`pfctl: pushfile: ${rulesopt}: No such file or directory\n`);
          err('pfctl: cannot open the main config file!: No such file or directory\n');
          throw new Exit(1);
        }
        const env = hostOpts.env ?? defaultPfctlEnv();
        const loadAnchors: Array<{ anchorname: string; filename: string }> = [];
        let cmdline = macros;
        const rules = (name: string, body: string, anchor: string): boolean => {
          const p = new PfParser({ env, opts, anchorPath: anchor, readFile, out, err, cmdlineMacros: cmdline, loadAnchors });
          // parse_config() frees every macro, -D ones included, when it is done
          cmdline = new Map();
          const res = p.parse(name, body);
          if (res.errors) return false;
          if (!anchor && !loadQueues(res.queues, res.main.ruleset.rules, opts, out, err)) return false;
          loadRuleset(res.main, 0, opts, env, out);
          return true;
        };
        if (!rules(rulesopt, text, anchorname)) throw new Exit(1);
        // pfctl_load_anchors(): files named by "load anchor", in order
        for (let i = 0; i < loadAnchors.length; i++) {
          const la = loadAnchors[i]!;
          if (opts & PF_OPT_VERBOSE) err(`\nLoading anchor ${la.anchorname} from ${la.filename}\n`);
          const body = readFile(la.filename);
          if (body === null) {
            err(`pfctl: pushfile: ${la.filename}: No such file or directory\n`);
            err('pfctl: cannot open the main config file!: No such file or directory\n');
          }
          if (body === null || !rules(la.filename, body, la.anchorname)) {
            err('pfctl: load anchors\n');
            throw new Exit(1);
          }
        }
      }
      return 0;
    } catch (e) {
      if (e instanceof Exit) return e.status;
      throw e;
    }
  };
}

/** pfctl with the default host: files from disk, the regress machine's facts. */
export const pfctl: Tool = makePfctl();
