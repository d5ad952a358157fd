/**
 * explain COUNTER | 'NETSTAT LINE': the Grep Inet Counter slide, done by
 * packetflow.  From `ips_cantforward` or `packets not forwardable` to the
 * counter's struct, its netstat -s line, and every place in packetflow's
 * source that increments it with the condition it sits under.  The index
 * of places is generated from the source (gen-explain.ts), not written by
 * hand.
 */
import type { Io } from '../lib/io.js';
import { STATS_LAYOUTS } from '../sys/kern/counters.gen.js';
import { ICMP6NAMES, ICMPNAMES, IP6NH, SECTIONS, type PluralKind } from '../usr.bin/netstat/netstat-format.gen.js';
import { EXPLAIN } from './explain.gen.js';
import type { Site } from './gen-explain.js';
import { PF_COUNTERS, pfCounter } from './pf-counters.js';

export interface CounterInfo {
  name: string;
  /** `struct ipstat (sys/netinet/ip_var.h)` or `packetflow etherstat`. */
  struct: string;
  /** netstat section. */
  section: string;
  /** The netstat -s line, with n for the value. */
  line: string;
  /** Where a counter netstat -s does not print is shown (kstat, netstat -i, pfctl -si). */
  shownBy?: string;
  sites: Site[];
  /**
   * A line netstat computes rather than reads (udp and rip6 `delivered`):
   * the first counter minus the others, as inet.c does.  Set only on the
   * pseudo entry for the line itself; its counters follow as their own
   * entries.
   */
  computed?: { plus: string; minus: string[] };
}

/** One printf conversion: `%lu`, `%s`, `%x`... */
const CONVERSION = /%[-0-9.]*[lqhz]*[a-z]/g;

/**
 * A netstat format line with `n` for every number.  `args` are the
 * item's arguments in conversion order (counter, plural kind): a kind 0
 * argument is a number; kinds 1-3 are plural(), plurales() and pluralys()
 * suffixes, rendered for `plural[i]` of the i-th suffix (all singular or
 * all plural when a boolean is given).  Without args (histogram and
 * computed lines) `%s` is a plural suffix unless `name` is given for it.
 */
function render(format: string, args: readonly (readonly [string, PluralKind])[] | null, plural: boolean | readonly boolean[], name = ''): string {
  let argi = 0;
  let suffix = 0;
  return format
    .replace(CONVERSION, (conv) => {
      const kind: PluralKind = args !== null ? (args[argi]?.[1] ?? 0) : conv === '%s' ? (name !== '' ? 0 : 1) : 0;
      argi++;
      if (kind === 0) return conv === '%s' ? name : 'n';
      const many = typeof plural === 'boolean' ? plural : (plural[suffix] ?? true);
      suffix++;
      if (kind === 1) return many ? 's' : '';
      if (kind === 2) return many ? 'es' : '';
      return many ? 'ies' : 'y';
    })
    .replace(/\t/g, '')
    .replace(/\n$/, '')
    .trim();
}

/** Every singular/plural combination of a line's suffixes (a line may have a count of one and bytes of many). */
function variants(format: string, args: readonly (readonly [string, PluralKind])[] | null): string[] {
  const k = (args ?? []).filter((a) => a[1] !== 0).length;
  if (k === 0 || k > 4) return [render(format, args, true), render(format, args, false)];
  const out: string[] = [];
  for (let bits = 0; bits < 1 << k; bits++) out.push(render(format, args, Array.from({ length: k }, (_, i) => ((bits >> i) & 1) === 1)));
  return out;
}

interface NetstatLine {
  section: string;
  counters: string[];
  /** The line with every suffix plural, as `netstat -s` prints it for big numbers. */
  many: string;
  /** Every suffix combination, for matching a pasted line. */
  all: string[];
  computed?: { plus: string; minus: string[] };
}

let linesCache: NetstatLine[] | null = null;

function netstatLines(): NetstatLine[] {
  if (linesCache !== null) return linesCache;
  const out: NetstatLine[] = [];
  for (const [sec, s] of Object.entries(SECTIONS)) {
    for (const it of s.items) {
      if (it.kind === 'counter') {
        const counters = [...new Set(it.args.map((a) => a[0]))];
        out.push({ section: sec, counters, many: render(it.format, it.args, true), all: variants(it.format, it.args) });
      } else if (it.kind === 'histogram') {
        const line = `${it.header.trim()} ${render(it.line, null, true, 'NAME')}`;
        // A bucket's line as netstat prints it (`echo reply: 5`) under the header.
        const names = it.names === 'icmpnames' ? ICMPNAMES : it.names === 'ip6nh' ? IP6NH : it.names === 'icmp6names' ? ICMP6NAMES : [];
        const buckets = names.filter((n) => !n.startsWith('#')).map((n) => `${it.header.trim()} ${render(it.line, null, true, n)}`);
        out.push({ section: sec, counters: [it.field], many: line, all: [line, ...buckets] });
      } else if (it.kind === 'computed') {
        const line = render(it.format, null, true);
        out.push({ section: sec, counters: [it.plus, ...it.minus], many: line, all: [line], computed: { plus: it.plus, minus: [...it.minus] } });
      }
    }
  }
  // pfctl -si's rows: `state-mismatch  n  n/s`, under their heading.
  for (const a of PF_COUNTERS) {
    a.labels.forEach((label, i) => {
      out.push({ section: 'pf', counters: [a.names[i]!], many: label, all: [label, `${label} n`, `${label} n n.n/s`, `${label} n n/s`] });
    });
  }
  linesCache = out;
  return out;
}

/** Interface and queue counters: where they are printed. */
function ifCounterLine(name: string): [string, string] {
  if (name.startsWith('ifq_')) return ['struct ifqueue (sys/net/ifq.h), the transmit queue', `kstat IF:0:txq:N ${kstatKey(name, 'ifq_')}`];
  if (name.startsWith('ifiq_')) return ['struct ifiqueue (sys/net/ifq.h), the receive queue', `kstat IF:0:rxq:N ${kstatKey(name, 'ifiq_')}`];
  if (name.startsWith('if_')) return ['struct ifnet (sys/net/if_var.h)', 'netstat -i, netstat -I IF'];
  return ['driver counters', 'kstat IF:0:...'];
}

function kstatKey(name: string, prefix: string): string {
  const k = name.slice(prefix.length);
  return k === 'len' ? 'qlen' : k;
}

/** Every counter packetflow knows, OpenBSD's and its own. */
export function counterInfo(name: string): CounterInfo | null {
  const lines = netstatLines();
  for (const l of Object.values(STATS_LAYOUTS)) {
    const f = l.fields.find((x) => x.name === name);
    if (f === undefined) continue;
    const nl = lines.find((x) => x.computed === undefined && x.counters.includes(name));
    return { name, struct: `struct ${l.struct} (${l.header})`, section: l.proto, line: nl ? nl.many : '(not printed by netstat -s)', sites: EXPLAIN.sites[name] ?? [] };
  }
  const pf = pfCounter(name);
  if (pf !== null) {
    return {
      name, struct: `struct pf_status (sys/net/pfvar.h), ${pf.arr.array}[${pf.i}]`, section: 'pf', line: pf.arr.labels[pf.i]!,
      shownBy: `pfctl -${pf.arr.verbose ? 'v' : ''}si, "${pf.arr.section}": ${pf.arr.labels[pf.i]!}`, sites: EXPLAIN.sites[name] ?? [],
    };
  }
  const own = EXPLAIN.own[name];
  if (own !== undefined) {
    return { name, struct: `packetflow ${own[0]}`, section: own[0].replace(/stat$/, ''), line: `${own[1]} (netstat -s -X)`, sites: EXPLAIN.sites[name] ?? [] };
  }
  const sites = EXPLAIN.sites[name];
  if (sites !== undefined) {
    const [struct, line] = ifCounterLine(name);
    return { name, struct, section: 'interface', line, shownBy: line, sites };
  }
  return null;
}

/** A pasted line or a piece of one, as lines are compared: lower case, every number `n`, single spaces. */
function normalize(text: string): string {
  return text.toLowerCase().replace(/\d+/g, 'n').replace(/\s+/g, ' ').trim();
}

/**
 * The netstat lines a pasted text names: the lines it equals (numbers
 * and all, whatever they are, or without the leading count), else the
 * lines it is a part of, whole words only (`match` is no part of
 * `mismatches`).
 */
function linesFor(text: string): NetstatLine[] {
  const q = normalize(text);
  if (q === '' || q === 'n') return [];
  const lines = netstatLines();
  const exact = lines.filter((l) => l.all.some((v) => normalize(v) === q || normalize(v) === `n ${q}`));
  if (exact.length > 0) return exact;
  const words = new RegExp(`(^|[^a-z0-9-])${q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9-])`);
  return lines.filter((l) => l.all.some((v) => words.test(normalize(v))));
}

/** Counter names whose netstat line is, or contains, `text` (case-insensitive, numbers ignored). */
export function countersForLine(text: string): string[] {
  const q = normalize(text);
  const out: string[] = [];
  for (const l of linesFor(text)) for (const c of l.counters) if (!out.includes(c)) out.push(c);
  if (q === '' || q === 'n') return out;
  for (const [n, [, d]] of Object.entries(EXPLAIN.own)) if (normalize(d) === q && !out.includes(n)) out.push(n);
  return out;
}

/**
 * kstat's names for the queue counters (`kstat rxq`, `kstat txq`): `qdrops`
 * is ifiq_qdrops on a receive queue and ifq_qdrops on a transmit queue;
 * `rxq qdrops` or `txq qdrops` picks one.
 */
export function countersForKstat(text: string): string[] {
  const m = /^(?:(rxq|txq)\s+)?([a-z]+)$/.exec(text.trim());
  if (m === null) return [];
  const key = m[2] === 'qlen' ? 'len' : m[2]!;
  const out: string[] = [];
  if (m[1] !== 'rxq' && EXPLAIN.sites[`ifq_${key}`] !== undefined) out.push(`ifq_${key}`);
  if (m[1] !== 'txq' && EXPLAIN.sites[`ifiq_${key}`] !== undefined) out.push(`ifiq_${key}`);
  return out;
}

/** The entries for a computed line: its own, then one per counter it is computed from. */
function computedInfos(l: NetstatLine): CounterInfo[] {
  const c = l.computed!;
  const name = l.many.replace(/^n /, '');
  const head: CounterInfo = { name, struct: `computed by netstat from struct ${(STATS_LAYOUTS as Readonly<Record<string, { struct: string } | undefined>>)[l.section]?.struct ?? l.section}`, section: l.section, line: l.many, sites: [], computed: c };
  return [head, ...l.counters.map(counterInfo).filter((x): x is CounterInfo => x !== null)];
}

export function explainText(info: CounterInfo): string {
  if (info.computed !== undefined) {
    const c = info.computed;
    return [
      `${info.name}: ${info.struct}, netstat section "${info.section}"`,
      `  netstat: ${info.line}`,
      `  = ${[c.plus, ...c.minus].join(' - ')}`,
      '  (no counter of its own: these are explained below)',
    ].join('\n') + '\n';
  }
  const out = [`${info.name}: ${info.struct}${info.shownBy !== undefined ? '' : `, netstat section "${info.section}"`}`, info.shownBy !== undefined ? `  shown by: ${info.shownBy}` : `  netstat: ${info.line}`];
  const inc = info.sites.filter((s) => s.op === undefined);
  const dec = info.sites.filter((s) => s.op === 'dec');
  const set = info.sites.filter((s) => s.op === 'set');
  const places = (n: number): string => `${n} place${n === 1 ? '' : 's'}`;
  const list = (ss: Site[]): void => {
    for (const s of ss) out.push(`    ${s.file}:${s.line} ${s.fn}()\n        when ${s.cond}`);
  };
  if (info.sites.length === 0) out.push('  incremented nowhere in packetflow yet');
  if (inc.length > 0) {
    out.push(`  incremented in ${places(inc.length)}:`);
    list(inc);
  }
  if (dec.length > 0) {
    out.push(`  decremented in ${places(dec.length)}:`);
    list(dec);
  }
  if (set.length > 0) {
    out.push(`  ${inc.length === 0 && dec.length === 0 ? 'a value, not a count: ' : ''}set in ${places(set.length)}:`);
    list(set);
  }
  return out.join('\n') + '\n';
}

/** A query that is part of several different lines: list them, as grep would, and explain none. */
function candidatesText(q: string, ls: NetstatLine[]): string {
  const out = [`${q}: part of ${ls.length} lines; explain one of them or its counter:`];
  for (const l of ls) out.push(`  ${l.section}: ${l.many} (${l.counters.join(', ')})`);
  return out.join('\n') + '\n';
}

export function explainCommand(argv: readonly string[], io: Io): number {
  const json = argv[0] === '--json';
  const words = json ? argv.slice(1) : argv;
  if (words.length === 0) {
    io.stderr.write("usage: explain [--json] counter | 'netstat line' | kstat key\n");
    return 1;
  }
  const q = words.join(' ');
  const infos: CounterInfo[] = [];
  const add = (i: CounterInfo | null): void => {
    if (i !== null && !infos.some((x) => x.name === i.name && x.section === i.section)) infos.push(i);
  };
  if (/^(?:[a-z][a-z0-9]*|[A-Z]+)_\w+$/.test(q)) add(counterInfo(q));
  else {
    for (const n of countersForKstat(q)) add(counterInfo(n));
    if (infos.length === 0) {
      const ls = linesFor(q);
      // Part of lines that differ: which one was meant is the user's to say.
      if (new Set(ls.map((l) => normalize(l.many))).size > 1 && !ls.some((l) => l.all.some((v) => normalize(v) === normalize(q) || normalize(v) === `n ${normalize(q)}`))) {
        io.stdout.write(candidatesText(q, ls));
        return 0;
      }
      for (const l of ls) {
        if (l.computed !== undefined) for (const i of computedInfos(l)) add(i);
        else for (const n of l.counters) add(counterInfo(n));
      }
      for (const n of countersForLine(q)) add(counterInfo(n));
    }
  }
  if (infos.length === 0) {
    io.stderr.write(`explain: ${q}: no such counter or netstat line\n`);
    return 1;
  }
  if (json) io.stdout.write(JSON.stringify(infos, null, 2) + '\n');
  else io.stdout.write(infos.map(explainText).join('\n'));
  return 0;
}
