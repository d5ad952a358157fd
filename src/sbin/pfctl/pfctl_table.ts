/**
 * The table commands of pfctl (sbin/pfctl/pfctl_table.c, with the address
 * buffer of pfctl_radix.c and append_addr() of pfctl_parser.c):
 * `-t TABLE -T kill|flush|add|delete|replace|show|test|zero|expire`, the
 * addresses from the command line and/or `-f FILE` (`-f -`: standard
 * input), `-F Tables` and `-s Tables`.  Each command is the ioctl
 * pfctl_table.c makes (the pfr_* functions of sys/net/pf_table.ts), with
 * its messages: counts on stderr ("3/3 addresses added.", " (dummy)" under
 * -n), `-v` feedback lines on stdout (`A`, `D`, `C`, `X`, `M`... before
 * each address), `-vv` every address and per-address statistics.
 */
import type { Kernel } from '../../sys/kern/kernel.js';
import { pf_open, pfr_ctx } from '../../sys/net/pf_ioctl.js';
import {
  AF_INET6, PFR_FB_MATCH, PFR_FB_NOCOUNT, PFR_FB_NONE, PFR_FLAG_ADDRSTOO, PFR_FLAG_ALLRSETS, PFR_FLAG_DUMMY,
  PFR_FLAG_FEEDBACK, PFR_FLAG_REPLACE, PFR_TFLAG_ACTIVE, PFR_TFLAG_CONST, PFR_TFLAG_COUNTERS, PFR_TFLAG_INACTIVE,
  PFR_TFLAG_PERSIST, PFR_TFLAG_REFDANCHOR, PFR_TFLAG_REFERENCED, PFRKE_COST, PfrAddr, pfr_add_addrs, pfr_add_tables,
  pfr_clr_addrs, pfr_clr_astats, pfr_clr_tables, pfr_clr_tstats, pfr_del_addrs, pfr_del_tables, pfr_get_astats, pfr_get_tables, pfr_set_addrs,
  pfr_tst_addrs, wordsText, ENOENT, EINVAL, ESRCH, EPERM, EBUSY, type PfrCtx, type PfrKtable, type PfrTable,
} from '../../sys/net/pf_table.js';
import { AddrAppender, pfrTokens, PF_OPT_DEBUG, PF_OPT_DUMMYACTION, PF_OPT_NOACTION, PF_OPT_QUIET, PF_OPT_RECURSE, PF_OPT_VERBOSE, PF_OPT_VERBOSE2 } from './pfctl_parser.js';
import type { PfctlEnv } from './pfctl_env.js';

export { AddrAppender };

export const PF_OPT_SHOWALL_T = 0x00400;

/** pf_strerror() */
export function pf_strerror(e: number): string {
  switch (e) {
    case ESRCH:
      return 'Table does not exist';
    case EINVAL:
    case ENOENT:
      return 'Anchor does not exist';
    case EPERM:
      return 'Operation not permitted';
    case EBUSY:
      return 'Device busy';
    default:
      return `errno ${e}`;
  }
}

export interface PfctlTableIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: PfctlEnv;
  /** the text of a -f file ("-": standard input), null when it cannot be read */
  readFile: (name: string) => string | null;
  appender: AddrAppender;
}

const FB = [' ', 'M', 'A', 'D', 'C', 'Z', 'X', ' ', 'Y', ' '];

/** print_addrx() */
export function printAddrx(ad: PfrAddr, rad: PfrAddr | null): string {
  const fback = rad !== null ? rad.fback : ad.fback;
  const ch = fback < FB.length ? FB[fback]! : '?';
  const hostnet = ad.af === AF_INET6 ? 128 : 32;
  let s = `${ch} ${ad.not ? '!' : ' '}${ad.af === 0 ? '{error}' : wordsText(ad.af, ad.w0, ad.w1, ad.w2, ad.w3)}`;
  if (ad.net < hostnet) s += `/${ad.net}`;
  if (rad !== null && fback !== PFR_FB_NONE) {
    s += `\t${rad.not ? '!' : ' '}${rad.af === 0 ? '{error}' : wordsText(rad.af, rad.w0, rad.w1, rad.w2, rad.w3)}`;
    if (rad.net < hostnet) s += `/${rad.net}`;
  }
  if (rad !== null && fback === PFR_FB_NONE) s += '\t nomatch';
  if (ad.ifname !== '') s += `@${ad.ifname}`;
  return s + '\n';
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ctime(3) in UTC */
export function ctime(t: number): string {
  const d = new Date(t * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${d.getUTCFullYear()}\n`;
}

const STATS_TEXT = [['In/Block:', 'In/Match:', 'In/Pass:', 'In/XPass:'], ['Out/Block:', 'Out/Match:', 'Out/Pass:', 'Out/XPass:']];

function statLine(name: string, packets: number, bytes: number): string {
  return `\t${name.padEnd(12)} [ Packets: ${String(packets).padEnd(18)} Bytes: ${String(bytes).padEnd(18)} ]\n`;
}

/** print_table() */
function printTable(t: PfrKtable, verbose: boolean, debug: boolean): string {
  if (!debug && !(t.flags & PFR_TFLAG_ACTIVE)) return '';
  let s = '';
  if (verbose) s += tableFlags(t.flags) + '\t';
  s += t.name;
  if (t.anchor !== '') s += `@${t.anchor}`;
  return s + '\n';
}

export function tableFlags(f: number): string {
  return (f & PFR_TFLAG_CONST ? 'c' : '-') + (f & PFR_TFLAG_PERSIST ? 'p' : '-') + (f & PFR_TFLAG_ACTIVE ? 'a' : '-') +
    (f & PFR_TFLAG_INACTIVE ? 'i' : '-') + (f & PFR_TFLAG_REFERENCED ? 'r' : '-') + (f & PFR_TFLAG_REFDANCHOR ? 'h' : '-') +
    (f & PFR_TFLAG_COUNTERS ? 'C' : '-');
}

/** print_tstats() */
function printTstats(t: PfrKtable, debug: boolean): string {
  if (!debug && !(t.flags & PFR_TFLAG_ACTIVE)) return '';
  let s = printTable(t, true, true);
  s += `\tAddresses:   ${t.cnt}\n`;
  s += `\tCleared:     ${ctime(t.tzero)}`;
  s += `\tReferences:  [ Anchors: ${String(t.refcntAnchor).padEnd(18)} Rules: ${String(t.refcntRule).padEnd(18)} ]\n`;
  s += `\tEvaluations: [ NoMatch: ${String(t.nomatch).padEnd(18)} Match: ${String(t.match).padEnd(18)} ]\n`;
  for (let d = 0; d < 2; d++) for (let o = 0; o < 4; o++) s += statLine(STATS_TEXT[d]![o]!, t.packets[d * 4 + o]!, t.bytes[d * 4 + o]!);
  return s;
}

/**
 * pfctl_table(): one table command; returns pfctl's exit value (0, 2 when
 * a test did not match everything, -1 on error).
 */
export function pfctl_table(
  k: Kernel, argv: readonly string[], tname: string | null, command: string, file: string | null, anchor: string, opts: number,
  io: PfctlTableIo,
): number {
  const c = pfr_ctx(pf_open(k));
  let flags = 0;
  if (opts & PF_OPT_NOACTION) flags |= PFR_FLAG_DUMMY;
  const table: PfrTable = { name: tname ?? '', anchor, flags: 0 };
  const kcall = (): boolean => !(opts & PF_OPT_NOACTION) || (opts & PF_OPT_DUMMYACTION) !== 0;
  const xprintf = (s: string): void => {
    if (opts & PF_OPT_QUIET) return;
    io.err(s + (opts & PF_OPT_DUMMYACTION ? ' (dummy).\n' : opts & PF_OPT_NOACTION ? ' (syntax only).\n' : '.\n'));
  };
  /** RVTEST(): true when the call failed (and was reported) */
  const failed = (rv: number): boolean => {
    if (rv === 0) return false;
    if (!(opts & PF_OPT_RECURSE)) io.err(`pfctl: ${pf_strerror(rv)}.\n`);
    return true;
  };
  const loadAddr = (b: PfrAddr[], nonetwork: boolean): boolean => {
    let ev = 0;
    for (const a of argv) {
      ev = io.appender.append(b, a, nonetwork);
      if (ev === -1) return false;
    }
    if (ev === 1) {
      io.err(`pfctl: failed to decode ${argv[argv.length - 1]}\n`);
      return false;
    }
    if (file === null) return true;
    const text = io.readFile(file);
    if (text === null) {
      io.err(`pfctl: cannot load ${file}: No such file or directory\n`);
      return false;
    }
    ev = 0;
    for (const w of pfrTokens(text)) {
      ev = io.appender.append(b, w, nonetwork);
      if (ev === -1) break;
    }
    if (ev !== 0) {
      io.err(`pfctl: cannot load ${file}\n`);
      return false;
    }
    return true;
  };
  /** CREATE_TABLE: make the table persistent-created when missing; true means return 0 (-n made it) */
  const createTable = (): boolean | null => {
    warnDuplicateTables(c, table.name, table.anchor, io.err);
    if (kcall()) {
      const r = pfr_add_tables(c, [{ ...table, flags: PFR_TFLAG_PERSIST }], flags);
      if (r.rv !== 0 && r.rv !== EPERM) {
        io.err(`pfctl: ${pf_strerror(r.rv)}.\n`);
        return null;
      }
      if (r.nadd) {
        xprintf(`${r.nadd} table created`);
        if (opts & PF_OPT_NOACTION) return true;
      }
    }
    return false;
  };
  const feedback = (b: PfrAddr[]): void => {
    if (!(opts & PF_OPT_VERBOSE)) return;
    for (const a of b) if (opts & PF_OPT_VERBOSE2 || a.fback !== PFR_FB_NONE) io.out(printAddrx(a, null));
  };
  const verboseFlags = (): void => {
    if (opts & PF_OPT_VERBOSE) flags |= PFR_FLAG_FEEDBACK;
  };

  switch (command) {
    case '-F': {
      if (!kcall()) return 0;
      const r = pfr_clr_tables(c, table, flags);
      if (failed(r.rv)) return -1;
      xprintf(`${r.ndel} tables deleted`);
      return 0;
    }
    case '-s': {
      if (!kcall()) return 0;
      const r = pfr_get_tables(c, table, flags);
      if (failed(r.rv)) return -1;
      if (opts & PF_OPT_SHOWALL_T && r.tables.length > 0) io.out('TABLES:\n');
      for (const t of r.tables)
        io.out(opts & PF_OPT_VERBOSE2 ? printTstats(t, (opts & PF_OPT_DEBUG) !== 0) : printTable(t, (opts & PF_OPT_VERBOSE) !== 0, (opts & PF_OPT_DEBUG) !== 0));
      return 0;
    }
    case 'kill': {
      if (!kcall()) return 0;
      const r = pfr_del_tables(c, [table], flags);
      if (failed(r.rv)) return -1;
      xprintf(`${r.ndel} table deleted`);
      return 0;
    }
    case 'flush': {
      if (!kcall()) return 0;
      const r = pfr_clr_addrs(c, table, flags);
      if (failed(r.rv)) return -1;
      xprintf(`${r.ndel} addresses deleted`);
      return 0;
    }
    case 'add': {
      const b: PfrAddr[] = [];
      if (!loadAddr(b, false)) return -1;
      const ct = createTable();
      if (ct === null) return -1;
      if (ct) return 0;
      verboseFlags();
      let nadd = 0;
      if (kcall()) {
        const r = pfr_add_addrs(c, table, b, flags);
        if (failed(r.rv)) return -1;
        nadd = r.nadd;
      }
      xprintf(`${nadd}/${b.length} addresses added`);
      feedback(b);
      return 0;
    }
    case 'delete': {
      const b: PfrAddr[] = [];
      if (!loadAddr(b, false)) return -1;
      verboseFlags();
      let ndel = 0;
      if (kcall()) {
        const r = pfr_del_addrs(c, table, b, flags);
        if (failed(r.rv)) return -1;
        ndel = r.ndel;
      }
      xprintf(`${ndel}/${b.length} addresses deleted`);
      feedback(b);
      return 0;
    }
    case 'replace': {
      let b: PfrAddr[] = [];
      if (!loadAddr(b, false)) return -1;
      const ct = createTable();
      if (ct === null) return -1;
      if (ct) return 0;
      verboseFlags();
      let nadd = 0;
      let ndel = 0;
      let nchange = 0;
      if (kcall()) {
        // the buffer's room (pfr_buf_grow: 64 entries at first, doubled as it fills)
        let msize = 64;
        while (msize < b.length) msize *= 2;
        const orig = b.map((a) => a.clone());
        for (;;) {
          const r = pfr_set_addrs(c, table, b, msize, flags);
          if (failed(r.rv)) return -1;
          if (r.size2 <= msize) {
            nadd = r.nadd;
            ndel = r.ndel;
            nchange = r.nchange;
            b = b.concat(r.deleted);
            break;
          }
          msize = r.size2;
          b = orig.map((a) => a.clone());
        }
      }
      if (nadd) xprintf(`${nadd} addresses added`);
      if (ndel) xprintf(`${ndel} addresses deleted`);
      if (nchange) xprintf(`${nchange} addresses changed`);
      if (!nadd && !ndel && !nchange) xprintf('no changes');
      feedback(b);
      return 0;
    }
    case 'show': {
      if (!kcall()) return 0;
      const r = pfr_get_astats(c, table);
      if (failed(r.rv)) return -1;
      for (const as of r.astats) {
        if (!(opts & PF_OPT_VERBOSE)) {
          io.out(printAddrx(as.a, null));
          continue;
        }
        // print_astats()
        const a = as.a;
        let s = printAddrx(a, null);
        s += `\tCleared:     ${ctime(as.tzero)}`;
        if (a.states) s += `\tActive States:      ${a.states}\n`;
        if (a.type === PFRKE_COST) s += `\tWeight:             ${a.weight}\n`;
        if (a.ifname !== '') s += `\tInterface:          ${a.ifname}\n`;
        if (a.fback !== PFR_FB_NOCOUNT)
          for (let d = 0; d < 2; d++) for (let o = 0; o < 3; o++) s += statLine(STATS_TEXT[d]![o]!, as.packets[d * 3 + o]!, as.bytes[d * 3 + o]!);
        io.out(s);
      }
      return 0;
    }
    case 'test': {
      const b: PfrAddr[] = [];
      if (!loadAddr(b, true)) return -1;
      let b2: PfrAddr[] = [];
      if (opts & PF_OPT_VERBOSE2) {
        flags |= PFR_FLAG_REPLACE;
        b2 = b.map((a) => a.clone());
      }
      let nmatch = 0;
      if (kcall()) {
        const r = pfr_tst_addrs(c, table, b, flags);
        if (failed(r.rv)) return -1;
        nmatch = r.nmatch;
      }
      xprintf(`${nmatch}/${b.length} addresses match`);
      if (opts & PF_OPT_VERBOSE && !(opts & PF_OPT_VERBOSE2)) for (const a of b) if (a.fback === PFR_FB_MATCH) io.out(printAddrx(a, null));
      if (opts & PF_OPT_VERBOSE2) for (let i = 0; i < b.length; i++) io.out(printAddrx(b2[i]!, b[i]!));
      return nmatch < b.length ? 2 : 0;
    }
    case 'zero': {
      if (argv.length > 0 || file !== null) {
        const b: PfrAddr[] = [];
        if (!loadAddr(b, false)) return -1;
        verboseFlags();
        let nzero = 0;
        if (kcall()) {
          const r = pfr_clr_astats(c, table, b, flags);
          if (failed(r.rv)) return -1;
          nzero = r.nzero;
        }
        xprintf(`${nzero}/${b.length} addresses cleared`);
        feedback(b);
        return 0;
      }
      flags |= PFR_FLAG_ADDRSTOO;
      let nzero = 0;
      if (kcall()) {
        const r = pfr_clr_tstats(c, [table], flags);
        if (failed(r.rv)) return -1;
        nzero = r.nzero;
      }
      xprintf(`${nzero} table/stats cleared`);
      return 0;
    }
    case 'expire': {
      // addresses whose statistics were cleared more than N seconds ago go
      if (argv.length !== 1 || file !== null) return -1;
      const lifetime = /^\d+$/.test(argv[0]!) ? Number(argv[0]) : NaN;
      if (!(lifetime >= 0 && lifetime <= 0xffffffff)) {
        io.err(`pfctl: expiry time: invalid\n`);
        return 1;
      }
      let b: PfrAddr[] = [];
      if (kcall()) {
        const r = pfr_get_astats(c, table);
        if (failed(r.rv)) return -1;
        b = r.astats.filter((as) => c.now() - as.tzero > lifetime).map((as) => {
          as.a.fback = PFR_FB_NONE;
          return as.a;
        });
      }
      verboseFlags();
      let ndel = 0;
      if (kcall()) {
        const r = pfr_del_addrs(c, table, b, flags);
        if (failed(r.rv)) return -1;
        ndel = r.ndel;
      }
      xprintf(`${ndel}/${b.length} addresses expired`);
      feedback(b);
      return 0;
    }
    default:
      io.err(`pfctl: pfctl_table: unknown command '${command}'\n`);
      return 0;
  }
}

/** warn_duplicate_tables(): the name is a table of another anchor too */
function warnDuplicateTables(c: PfrCtx, name: string, anchor: string, err: (s: string) => void): void {
  const r = pfr_get_tables(c, { name: '', anchor: '', flags: 0 }, PFR_FLAG_ALLRSETS);
  for (const t of r.tables) {
    if (!(t.flags & PFR_TFLAG_ACTIVE) || t.anchor === anchor) continue;
    if (t.name === name) err(`pfctl: warning: table <${name}> already defined in anchor "${t.anchor !== '' ? t.anchor : '/'}"\n`);
  }
}
