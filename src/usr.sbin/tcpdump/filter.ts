/**
 * The pcap-filter(7) compiler: an expression is compiled once, for one link
 * type, into a predicate over captured packets,
 *
 *   match(buf, off, caplen, wirelen): boolean
 *
 * with libpcap's semantics (OpenBSD's grammar and generator, see
 * filter-parse.ts and filter-gen.ts).  The test tree is turned into the
 * source of one JavaScript function with every offset and constant written
 * in, and built once with `new Function`: matching allocates nothing and
 * runs at BPF-like speed.  As in BPF, a load past `caplen` (or a division
 * by zero) rejects the packet, whatever the rest of the expression says.
 *
 * Where OpenBSD's libpcap and current libpcap differ, we take current
 * libpcap's side in these places (and say so in tests):
 * - comparisons are plain unsigned ones; OpenBSD's gen_relation() still
 *   compares by subtraction against 0x80000000, so there "a > b" also holds
 *   when a == b, and "a <= b" does not;
 * - "vlan" stacks (each one moves later offsets by 4 more) and accepts the
 *   0x8100, 0x88a8 and 0x9100 tag types, where OpenBSD shifts once and only
 *   knows 0x8100;
 * - "portrange", the '%' and '^' operators, "icmp6[...]", the icmp6-* and
 *   tcp-ece/tcp-cwr names, and "ip6 proto <name>" exist.
 * We do not imitate the optimizer's removal of loads whose outcome cannot
 * change the result: such a load past caplen still rejects the packet.
 *
 * Errors (syntax, unknown names, misapplied qualifiers) come back as a
 * FilterError whose message is worded as OpenBSD's libpcap words it; the
 * tcpdump tool prints it as "tcpdump: <message>".  Nothing here throws at
 * the caller.
 */

import type { Arth, Block } from './filter-gen.js';
import { DLT_EN10MB, Gen, gen_and, gen_not, gen_or } from './filter-gen.js';
import { FilterError, tokenize } from './filter-lex.js';
import { Parser } from './filter-parse.js';

export { FilterError } from './filter-lex.js';
export {
  DLT_EN10MB,
  DLT_ENC,
  DLT_LOOP,
  DLT_NULL,
  DLT_PFLOG,
  DLT_RAW,
  LINKTYPE_LOOP,
  LINKTYPE_RAW,
} from './filter-gen.js';

export type MatchFn = (buf: Uint8Array, off: number, caplen: number, wirelen: number) => boolean;

export interface Filter {
  readonly expression: string;
  readonly linktype: number;
  /** True when the packet passes the filter. */
  readonly match: MatchFn;
  /** The generated function body, for -d style debugging and tests. */
  readonly source: string;
}

export interface FilterOptions {
  /** Run the optimizer's check (tcpdump without -O): an expression no packet can pass is an error. */
  optimize?: boolean;
  /** Netmask for "ip broadcast" (OpenBSD's tcpdump uses 0 when reading files); 0xffffffff means unknown. */
  netmask?: number;
}

export function isFilterError(x: unknown): x is FilterError {
  return x instanceof FilterError;
}

/** Compile `expression` for packets of `linktype` (DLT_EN10MB, DLT_RAW, DLT_NULL, DLT_LOOP, DLT_ENC, DLT_PFLOG). */
export function compileFilter(expression: string, linktype: number = DLT_EN10MB, opts: FilterOptions = {}): Filter | FilterError {
  try {
    const gen = new Gen(linktype, { netmask: opts.netmask ?? 0 });
    const toks = tokenize(expression);
    const parsed = new Parser(toks, gen).parseProg();
    if (parsed === null) return { expression, linktype, match: matchAll, source: 'return true;' };
    const root = simplify(parsed);
    if ((opts.optimize ?? true) && !satisfiable(root)) return new FilterError('expression rejects all packets');
    const source = emit(root, gen.usesVariableNl);
    const build = new Function('pc', `return function match(b, off, caplen, wirelen) {\n${source}\n};`);
    const match = build(protochain) as MatchFn;
    return { expression, linktype, match, source };
  } catch (e) {
    if (e instanceof FilterError) return e;
    return new FilterError(e instanceof Error ? e.message : String(e));
  }
}

const matchAll: MatchFn = () => true;

// ---- simplification ----

/**
 * Fold constant tests.  Only folds that keep BPF's reject-on-short-read
 * behaviour: "x and false" is false either way, but "x or true" still
 * reads x (and may reject the packet), so it stays.
 */
function simplify(b: Block): Block {
  switch (b.k) {
    case 'and': {
      const a = simplify(b.a);
      if (a.k === 'const') return a.v ? simplify(b.b) : a;
      const c = simplify(b.b);
      if (c.k === 'const') return c.v ? a : c;
      return gen_and(a, c);
    }
    case 'or': {
      const a = simplify(b.a);
      if (a.k === 'const') return a.v ? a : simplify(b.b);
      const c = simplify(b.b);
      if (c.k === 'const' && !c.v) return a;
      return gen_or(a, c);
    }
    case 'not': {
      const a = simplify(b.a);
      if (a.k === 'const') return { k: 'const', v: !a.v };
      if (a.k === 'not') return a.a;
      return gen_not(a);
    }
    default:
      return b;
  }
}

/**
 * Can any packet pass?  libpcap's optimizer proves some expressions
 * unsatisfiable ("ip and arp", "5 > 5") and pcap_compile() then fails with
 * "expression rejects all packets".  We explore the paths through the tree
 * remembering the outcome of equality tests on the same value (the same
 * bytes of the same packet), within a step budget; when the budget runs
 * out, the expression is assumed satisfiable.
 */
function satisfiable(root: Block): boolean {
  let budget = 20000;
  const keys = new Map<Arth, string>();
  const keyOf = (a: Arth): string | null => {
    if (hasRnd(a)) return null;
    let k = keys.get(a);
    if (k === undefined) {
      k = JSON.stringify(a);
      keys.set(a, k);
    }
    return k;
  };
  // facts: key -> known value (number) or set of excluded values
  type Facts = Map<string, number | Set<number>>;
  type K = (r: boolean, f: Facts) => boolean;
  const walk = (b: Block, f: Facts, k: K): boolean => {
    if (--budget < 0) return true;
    switch (b.k) {
      case 'const':
        return k(b.v, f);
      case 'and':
        return walk(b.a, f, (r, f1) => (r ? walk(b.b, f1, k) : k(false, f1)));
      case 'or':
        return walk(b.a, f, (r, f1) => (r ? k(true, f1) : walk(b.b, f1, k)));
      case 'not':
        return walk(b.a, f, (r, f1) => k(!r, f1));
      case 'cmp': {
        if (b.op === 'eq' && b.b.k === 'imm') {
          const key = keyOf(b.a);
          if (key !== null) {
            const v = b.b.v;
            const known = f.get(key);
            if (typeof known === 'number') return k(known === v, f);
            if (known instanceof Set && known.has(v)) return k(false, f);
            const ft = new Map(f);
            ft.set(key, v);
            if (k(true, ft)) return true;
            const ff = new Map(f);
            const ex = new Set(known instanceof Set ? known : []);
            ex.add(v);
            ff.set(key, ex);
            return k(false, ff);
          }
        }
        return k(true, f) || k(false, f);
      }
      case 'protochain':
        return k(true, f) || k(false, f);
    }
  };
  try {
    return walk(root, new Map(), (r) => r);
  } catch (e) {
    // a very long expression can outgrow the stack: assume it can match
    if (e instanceof RangeError) return true;
    throw e;
  }
}

function hasRnd(a: Arth): boolean {
  switch (a.k) {
    case 'rnd':
      return true;
    case 'ld':
      return a.idx !== null && hasRnd(a.idx);
    case 'alu':
      return hasRnd(a.a) || hasRnd(a.b);
    case 'neg':
      return hasRnd(a.a);
    default:
      return false;
  }
}

// ---- JavaScript emission ----

/** Past any captured length: makes the following bounds check fail. */
const FAR = '4294967296';

class Emitter {
  private temps = 0;
  temp(): string {
    return `u${this.temps++}`;
  }

  get tempCount(): number {
    return this.temps;
  }

  block(b: Block): string {
    switch (b.k) {
      case 'const':
        return b.v ? 'true' : 'false';
      case 'and':
      case 'or': {
        // "a or b or c" is a left-deep tree; flatten it (&& and || associate),
        // so that long lists do not nest parentheses thousands deep
        const rights: Block[] = [];
        let n: Block = b;
        while (n.k === b.k) {
          rights.push(n.b);
          n = n.a;
        }
        const parts = [this.block(n)];
        for (let i = rights.length - 1; i >= 0; i--) parts.push(this.block(rights[i]!));
        return `(${parts.join(b.k === 'and' ? ' && ' : ' || ')})`;
      }
      case 'not':
        return `!${this.block(b.a)}`;
      case 'cmp': {
        const x = this.arth(b.a);
        const y = this.arth(b.b);
        switch (b.op) {
          case 'eq':
            return `(${x} === ${y})`;
          case 'gt':
            return `(${x} > ${y})`;
          case 'ge':
            return `(${x} >= ${y})`;
          case 'set':
            return `((${x} & ${y}) !== 0)`;
        }
        break;
      }
      case 'protochain':
        return `((t = pc(b, off, caplen, ${b.base}, ${b.v6}, ${b.proto})) < 0 ? (bad = 1, false) : t === 1)`;
    }
    return 'false';
  }

  /** An expression for the byte offset at which a load's `start` lies (relative to `off`). */
  private start(a: Extract<Arth, { k: 'ld' }>): string {
    let s = a.varNl ? `(nl + ${a.base})` : `${a.base}`;
    if (a.tp) {
      const at = a.varNl ? `(nl + ${a.base})` : `${a.base}`;
      s = `(caplen > ${at} ? ${at} + ((b[off + ${at}] & 15) << 2) : (bad = 1, ${FAR}))`;
    }
    return s;
  }

  private load(at: string, size: 1 | 2 | 4): string {
    const p = (i: number): string => `b[off + ${at}${i ? ` + ${i}` : ''}]`;
    if (size === 1) return p(0);
    if (size === 2) return `(${p(0)} << 8 | ${p(1)})`;
    return `((${p(0)} << 24 | ${p(1)} << 16 | ${p(2)} << 8 | ${p(3)}) >>> 0)`;
  }

  arth(a: Arth): string {
    switch (a.k) {
      case 'imm':
        return String(a.v);
      case 'len':
        return 'wirelen';
      case 'rnd':
        return '((Math.random() * 4294967296) >>> 0)';
      case 'neg':
        return `((0 - ${this.arth(a.a)}) >>> 0)`;
      case 'ld': {
        if (!a.varNl && !a.tp && a.idx === null) {
          const at = a.base + a.off;
          return `(caplen >= ${at + a.size} ? ${this.load(String(at), a.size)} : (bad = 1, 0))`;
        }
        let addr = this.start(a);
        if (a.off) addr = `${addr} + ${a.off}`;
        if (a.idx) addr = `${addr} + ${this.arth(a.idx)}`;
        return `((t = ${addr}) + ${a.size} <= caplen ? ${this.load('t', a.size)} : (bad = 1, 0))`;
      }
      case 'alu': {
        const x = this.arth(a.a);
        const y = this.arth(a.b);
        switch (a.op) {
          case 'add':
            return `((${x} + ${y}) >>> 0)`;
          case 'sub':
            return `((${x} - ${y}) >>> 0)`;
          case 'mul':
            return `(Math.imul(${x}, ${y}) >>> 0)`;
          case 'and':
            return `((${x} & ${y}) >>> 0)`;
          case 'or':
            return `((${x} | ${y}) >>> 0)`;
          case 'xor':
            return `((${x} ^ ${y}) >>> 0)`;
          case 'div':
          case 'mod': {
            const u = this.temp();
            const v = this.temp();
            const r = a.op === 'div' ? `Math.floor(${u} / ${v})` : `(${u} % ${v})`;
            // BPF rejects the packet on a division by zero at run time
            return `((${u} = ${x}), (${v} = ${y}) === 0 ? (bad = 1, 0) : ${r} >>> 0)`;
          }
          case 'lsh':
          case 'rsh': {
            if (a.b.k === 'imm') {
              if (a.b.v >= 32) return `(${x}, 0)`;
              return a.op === 'lsh' ? `((${x} << ${a.b.v}) >>> 0)` : `(${x} >>> ${a.b.v})`;
            }
            const u = this.temp();
            const v = this.temp();
            const r = a.op === 'lsh' ? `(${u} << ${v}) >>> 0` : `${u} >>> ${v}`;
            return `((${u} = ${x}), (${v} = ${y}) >= 32 ? 0 : ${r})`;
          }
        }
      }
    }
    return '0';
  }
}

function emit(root: Block, varNl: boolean): string {
  const e = new Emitter();
  const expr = e.block(root);
  const lines = ["'use strict';", 'let bad = 0, t = 0;'];
  for (let i = 0; i < e.tempCount; i++) lines.push(`let u${i} = 0;`);
  if (varNl) {
    // pflog: the header length byte, rounded up to 4, locates the network layer
    lines.push('if (caplen < 1) return false;', 'const nl = (b[off] + 3) & 0xfc;');
  }
  lines.push(`const r = ${expr};`, 'return r && bad === 0;');
  return lines.join('\n');
}

/**
 * Walk the IPv4 or IPv6 header chain at `base` (relative to `off`) for
 * protocol `proto`: 1 when found, 0 when not, -1 when the walk leaves the
 * captured bytes.  Generated filters call it as `pc`.
 */
function protochain(b: Uint8Array, off: number, caplen: number, base: number, v6: boolean, proto: number): number {
  let nxt: number;
  let x: number;
  if (v6) {
    if (caplen < base + 40) return -1;
    nxt = b[off + base + 6]!;
    x = 40;
  } else {
    if (caplen < base + 20) return -1;
    nxt = b[off + base + 9]!;
    x = (b[off + base]! & 15) << 2;
  }
  for (let hops = 0; hops < 64; hops++) {
    if (nxt === proto) return 1;
    if (nxt === 59) return 0; // no next header
    let len: number;
    if (v6 && (nxt === 0 || nxt === 60 || nxt === 43 || nxt === 44)) {
      if (caplen < base + x + 2) return -1;
      len = (b[off + base + x + 1]! + 1) << 3;
    } else if (nxt === 51) {
      if (caplen < base + x + 2) return -1;
      len = (b[off + base + x + 1]! + 2) << 2;
    } else {
      return 0;
    }
    nxt = b[off + base + x]!;
    x += len;
  }
  return 0;
}
