/**
 * Generates src/lab/explain.gen.ts: for every counter, each place in
 * packetflow's source that increments it (file:line, the function, the
 * condition it sits under), found by reading the source as the Grep Inet
 * Counter slide does by hand.  Also lists the places that free a packet
 * without counting why (drop sites without a counter).
 *
 *   npx tsx src/lab/gen-explain.ts        (rewrite explain.gen.ts)
 *
 * test/lab/explain.test.ts fails when the generated file is stale, when a
 * counter of an implemented protocol has no increment site, or when a new
 * drop site has no counter.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STATS_LAYOUTS } from '../sys/kern/counters.gen.js';
import { PF_COUNTERS } from './pf-counters.js';

export interface Site {
  file: string;
  line: number;
  fn: string;
  cond: string;
  /** How the site changes the counter when it does not increment it: a gauge set to a value, or decremented. */
  op?: 'set' | 'dec';
}

export interface ExplainIndex {
  /** Counter name -> increment sites. */
  sites: Record<string, Site[]>;
  /** packetflow's own counters: name -> [block, description] (from the *_NAMES arrays' comments). */
  own: Record<string, [string, string]>;
  /** Places that free a packet with no counter in the same branch. */
  uncounted: Site[];
}

/** Directories whose code is the packet path and its tools. */
const SCAN = ['sys', 'sbin/ping'];

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.gen.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
}

function indentOf(l: string): number {
  return /^\s*/.exec(l)![0].length;
}

/** The text inside the balanced parentheses that start at s[i] === '(' (across lines). */
function balanced(lines: string[], li: number, ci: number): string {
  let depth = 0;
  let out = '';
  for (let l = li; l < lines.length && l < li + 6; l++) {
    const s = lines[l]!;
    for (let c = l === li ? ci : 0; c < s.length; c++) {
      const ch = s[c]!;
      if (ch === '(') {
        depth++;
        if (depth === 1) continue;
      }
      if (ch === ')') {
        depth--;
        if (depth === 0) return out.replace(/\s+/g, ' ').trim();
      }
      if (depth > 0) out += ch;
    }
    out += ' ';
  }
  return out.replace(/\s+/g, ' ').trim();
}

function condOfLine(lines: string[], li: number): string | null {
  const s = lines[li]!;
  const m = /\b(if|while) \(/.exec(s);
  if (m) return balanced(lines, li, m.index + m[0].length - 1);
  const c = /^\s*case (.+):/.exec(s);
  if (c) return `case ${c[1]}`;
  return null;
}

function enclosingFn(lines: string[], li: number): string {
  for (let l = li; l >= 0; l--) {
    const s = lines[l]!;
    const f = /^(?:export )?(?:async )?function (\w+)/.exec(s) ?? /^ {2}(?:private |static |override |public )*(\w+)\(.*\)(?::.*)? \{$/.exec(s) ?? /^(?:export )?const (\w+) = \(/.exec(s);
    if (f) return f[1]!;
  }
  return '';
}

/** The conditions a line sits under, innermost first, joined with " ← ". */
function conditions(lines: string[], li: number): string {
  const out: string[] = [];
  const own = condOfLine(lines, li);
  const site = lines[li]!;
  if (own !== null && (/^\s*case /.test(site) || site.indexOf('(') < site.search(/\.(inc|bump|add)\(|\+\+|\.free\(/))) out.push(own);
  let ind = indentOf(site);
  for (let l = li - 1; l >= 0 && ind > 0 && out.length < 3; l--) {
    const s = lines[l]!;
    if (s.trim() === '') continue;
    const i = indentOf(s);
    if (i >= ind) continue;
    ind = i;
    if (/^(export )?(async )?function |^ {2}[a-z_]\w*\(.*\{$/.test(s)) break;
    const t = s.trim();
    if (t.startsWith('} else {') || t === 'else {') {
      // The else of the if at this indentation above.
      for (let q = l - 1; q >= 0; q--) {
        if (indentOf(lines[q]!) === i && /\bif \(/.test(lines[q]!)) {
          out.push(`not (${condOfLine(lines, q)})`);
          break;
        }
      }
      continue;
    }
    const c = condOfLine(lines, l);
    if (c !== null && /^(\} else )?(if|while|case)\b|^\}? ?else if/.test(t)) out.push(c);
  }
  return out.join(' ← ') || 'always';
}

/** The line a function starts on (its `function name(` or method line), at or above li. */
function fnStart(lines: string[], li: number): number {
  for (let l = li; l >= 0; l--) {
    const s = lines[l]!;
    if (/^(?:export )?(?:async )?function (\w+)/.test(s) || /^ {2}(?:private |static |override |public )*(\w+)\(.*\)(?::.*)? \{$/.test(s) || /^(?:export )?const (\w+) = \(/.test(s)) return l;
  }
  return 0;
}

/** The comma-separated pieces of `text` at parenthesis depth 0. */
function splitArgs(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    if (ch === ')' || ch === ']' || ch === '}') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/** A function that counts the counter one of its parameters names (REASON_SET(pf, x), icmp6_errcount's c...). */
interface Helper {
  /** The file that defines it: calls count there and where the name is imported. */
  file: string;
  param: number;
  op: Site['op'];
}

export function scanSources(srcRoot: string): ExplainIndex {
  const files: string[] = [];
  for (const d of SCAN) walk(join(srcRoot, d), files);
  files.sort();
  const known = new Set<string>();
  for (const l of Object.values(STATS_LAYOUTS)) for (const f of l.fields) known.add(f.name);
  for (const a of PF_COUNTERS) for (const n of a.names) known.add(n);
  const own: Record<string, [string, string]> = {};
  const texts = new Map<string, string>();
  // packetflow's own blocks: `export const XSTAT_NAMES = [ 'name', // comment`.
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    texts.set(f, text);
    const re = /export const (\w+)_NAMES = \[([\s\S]*?)\] as const;/g;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const block = m[1]!.toLowerCase();
      for (const line of m[2]!.split('\n')) {
        const x = /'(\w+)',\s*(?:\/\/\s*(.*))?/.exec(line);
        if (x) {
          own[x[1]!] = [block, (x[2] ?? '').trim()];
          known.add(x[1]!);
        }
      }
    }
  }
  const ids = (text: string): string[] => (text.match(/\b(?:[a-z][a-z0-9]*_\w+|[A-Z]+_[A-Z0-9_]+)\b/g) ?? []).filter((x) => known.has(x));
  // Functions that count through a parameter, found pass by pass until no new one shows up (a helper may call a helper).
  const helpers = new Map<string, Helper>();
  for (;;) {
    const before = helpers.size;
    const ix = scanPass(files, texts, srcRoot, ids, helpers);
    if (helpers.size === before) return { sites: ix.sites, own, uncounted: ix.uncounted };
  }
}

function scanPass(files: string[], texts: Map<string, string>, srcRoot: string, ids: (t: string) => string[], helpers: Map<string, Helper>): { sites: Record<string, Site[]>; uncounted: Site[] } {
  const sites: Record<string, Site[]> = {};
  const uncounted: Site[] = [];
  const helperNames = [...helpers.keys()];
  for (const f of files) {
    const rel = relative(join(srcRoot, '..'), f).split('\\').join('/');
    const text = texts.get(f)!;
    const lines = text.split('\n');
    const site = (li: number, op: Site['op']): Site => {
      const s: Site = { file: rel, line: li + 1, fn: enclosingFn(lines, li), cond: conditions(lines, li) };
      if (op !== undefined) s.op = op;
      return s;
    };
    const add = (name: string, s: Site): void => {
      const l = (sites[name] ??= []);
      if (!l.some((x) => x.file === s.file && x.line === s.line && x.op === s.op)) l.push(s);
    };
    // The helpers this file may call: its own and those it imports.
    const callable = helperNames.filter((n) => helpers.get(n)!.file === rel || new RegExp(`import [^;]*\\b${n}\\b[^;]*;`).test(text));
    const callRe = callable.length > 0 ? new RegExp(`\\b(${callable.join('|')})\\(`, 'g') : null;
    /** A counter id expression at line i: the counters it names, or what its variable or parameter was given. */
    const resolve = (i: number, arg: string, op: Site['op']): void => {
      const named = ids(arg);
      if (named.length > 0) {
        for (const id of named) add(id, site(i, op));
        return;
      }
      const v = /^\s*([A-Za-z_]\w*)\s*$/.exec(arg)?.[1];
      if (v === undefined) return;
      const start = fnStart(lines, i);
      const fm = /^(?:export )?(?:async )?function (\w+)\s*\(/.exec(lines[start]!.trim());
      if (fm !== null) {
        const params = splitArgs(balanced(lines, start, lines[start]!.indexOf('('))).map((p) => p.replace(/[?]?:.*$/, '').trim());
        const pi = params.indexOf(v);
        if (pi >= 0) {
          if (!helpers.has(fm[1]!)) helpers.set(fm[1]!, { file: rel, param: pi, op });
          return;
        }
      }
      // A local variable: each assignment of a counter to it is where that counter is chosen.
      const asg = new RegExp(`\\b${v}\\s*=(?!=)`);
      for (let l = start; l < i; l++) {
        const t = lines[l]!;
        const m = asg.exec(t);
        if (m === null || /^\s*(\/\/|\*)/.test(t)) continue;
        for (const id of ids(t.slice(m.index))) add(id, site(l, op));
      }
    };
    for (let i = 0; i < lines.length; i++) {
      const s = lines[i]!;
      if (/^\s*(\/\/|\*|\/\*)/.test(s)) continue;
      const re = /\.(inc|bump|add|dec|set)\(([^;]*?)\)(?:;|$| \}|,)/g;
      for (let m = re.exec(s); m !== null; m = re.exec(s)) {
        const op = m[1] === 'dec' ? 'dec' : m[1] === 'set' ? 'set' : undefined;
        const arg = splitArgs(m[2]!)[0]!;
        // .set()/.dec() of anything but a stats block's counter (a Map's set) names no counter.
        if (op !== undefined && ids(arg).length === 0 && !/stat|\bst\b/.test(s.slice(0, m.index))) continue;
        resolve(i, arg, op);
      }
      // pf's counter arrays: pf.counters[x]++, pf.lcounters[LCNT_SRCCONN]++ ...
      const pfa = /\.(?:counters|fcounters|scounters|lcounters|ncounters)\[([^\]]+)\](?:\+\+| \+= )/g;
      for (let m = pfa.exec(s); m !== null; m = pfa.exec(s)) resolve(i, m[1]!, undefined);
      // Calls of functions that count what a parameter names.
      if (callRe !== null) {
        callRe.lastIndex = 0;
        for (let m = callRe.exec(s); m !== null; m = callRe.exec(s)) {
          if (/function\s+$/.test(s.slice(0, m.index))) continue;
          const h = helpers.get(m[1]!)!;
          const arg = splitArgs(balanced(lines, i, m.index + m[0].length - 1))[h.param];
          if (arg !== undefined) resolve(i, arg, h.op);
        }
      }
      // Interface and queue counters: ifq_qdrops++, if_ierrors++, rx.missed++ ...
      const fld = /\.((?:if|ifq|ifiq)_\w+|missed|rx_oversize|rx_nombuf)(\+\+| \+= )/g;
      for (let m = fld.exec(s); m !== null; m = fld.exec(s)) add(m[1]!, site(i, undefined));
      // A packet freed: is there a counter in the same branch (from the branch's opening line)?
      if (/\bm\.free\(\)|\bn\.free\(\)|\bdm\.free\(\)|freeit\(n\)/.test(s) && rel.startsWith('src/sys/')) {
        let counted = false;
        const ind = indentOf(s);
        for (let l = i; l >= 0 && l > i - 12; l--) {
          const t = lines[l]!;
          if (/\.(inc|bump|add)\(|(_\w+|missed)(\+\+| \+= )|return freeit|\.drop\(/.test(t)) {
            counted = true;
            break;
          }
          if (l < i && indentOf(t) < ind && t.trim() !== '') break;
        }
        if (!counted && !/\/\/ not a drop/.test(s)) uncounted.push(site(i, undefined));
      }
    }
  }
  return { sites, uncounted };
}

export function renderModule(ix: ExplainIndex): string {
  const sortObj = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `// Generated by src/lab/gen-explain.ts from packetflow's source.
// Do not edit: run \`npx tsx src/lab/gen-explain.ts\` instead.
import type { ExplainIndex } from './gen-explain.js';

export const EXPLAIN: ExplainIndex = ${JSON.stringify({ sites: sortObj(ix.sites), own: sortObj(ix.own), uncounted: ix.uncounted }, null, 1)};
`;
}

/** The source root next to this file (src/, or dist/src when compiled). */
export function srcRootFromHere(): string {
  return join(fileURLToPath(new URL('.', import.meta.url)), '..');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = srcRootFromHere();
  writeFileSync(join(root, 'lab', 'explain.gen.ts'), renderModule(scanSources(root)));
}
