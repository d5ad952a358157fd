/**
 * `netstat -s`: the protocol statistics printer.  OpenBSD writes one
 * function per protocol in inet.c and inet6.c; here one table-driven printer
 * walks the generated tables (netstat-format.gen.ts) and keeps their C
 * semantics: printf conversions on C-typed values (a u_int32_t wraps at
 * 2^32, %u prints 32 bits), the plural helpers, the `-ss` guards, computed
 * `delivered` lines in unsigned arithmetic, histograms of nonzero buckets.
 */
import { STATS_LAYOUTS, cvalue, type CWidth, type StatsLayout } from '../../sys/kern/counters.js';
import type { ExtraBlock } from './packetflow.js';
import { ICMP6NAMES, ICMPNAMES, IP6NH, SECTIONS, type NetstatItem, type NetstatSection, type PluralKind } from './netstat-format.gen.js';

/** A counter block as the stats sysctl would copy it out: values laid out as STATS_LAYOUTS[proto]. */
export interface StatsBlock {
  readonly v: Float64Array;
}

/**
 * What netstat reads from a kernel.  The future Kernel implements it; so
 * does sys/kern/counters.ts KernelStats.
 */
export interface NetstatSource {
  /**
   * The counter block of a netstat section (`ip`, `ipencap`, `rip6`...).
   * `undefined`: the kernel has no such counters yet; the section prints
   * zeros, as OpenBSD does for a protocol that is idle.  `null`: the sysctl
   * fails with ENOPROTOOPT (protocol not in this kernel) and the section,
   * header included, is skipped silently.
   */
  counters(proto: string): StatsBlock | null | undefined;
  /** if_indextoname(3), for the ip6 `two or more mbuf` lines; undefined prints "(null)". */
  ifIndexToName?(ifidx: number): string | undefined;
  /** packetflow's own counter blocks (`ether`, `arp`), printed by `netstat -s -X`. */
  extraCounters?(proto: string): ExtraBlock | undefined;
}

const TWO64 = 1n << 64n;

/** A C printf argument: a value already read with its C width, or a string. */
type Arg = number | string;

function plural(n: number, kind: PluralKind): string {
  switch (kind) {
    case 1:
      return n !== 1 ? 's' : '';
    case 2:
      return n !== 1 ? 'es' : '';
    default:
      return n !== 1 ? 'ies' : 'y';
  }
}

/** %u: the low 32 bits, as the C ABI passes a 64-bit value to a 32-bit conversion. */
function u32(v: number): string {
  return String(cvalue(v, 'u32'));
}

/** %lu/%llu: an unsigned 64-bit value; a negative one is what C's wraparound gives. */
function u64(v: number): string {
  if (v >= 0) return String(v);
  return (TWO64 + BigInt(v)).toString();
}

/** The printf(3) subset netstat's formats use: %s %u %d %x %lu %llu %lld. */
export function cprintf(format: string, args: readonly Arg[]): string {
  let out = '';
  let a = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    let j = pct + 1;
    let longs = 0;
    while (format[j] === 'l') {
      longs++;
      j++;
    }
    const conv = format[j];
    const arg = args[a++];
    switch (conv) {
      case 's':
        out += arg === undefined ? '(null)' : String(arg);
        break;
      case 'u':
        out += longs === 0 ? u32(arg as number) : u64(arg as number);
        break;
      case 'd':
        out += String(arg);
        break;
      case 'x':
        out += (arg as number).toString(16);
        break;
      case '%':
        out += '%';
        a--;
        break;
      default:
        throw new Error(`cprintf: unsupported conversion in ${JSON.stringify(format)}`);
    }
    i = j + 1;
  }
  return out;
}

/** Name lookups into a layout, built once per layout. */
const fieldCache = new Map<StatsLayout, Map<string, { id: number; width: CWidth }>>();

function fieldsOf(layout: StatsLayout): Map<string, { id: number; width: CWidth }> {
  let m = fieldCache.get(layout);
  if (!m) {
    m = new Map();
    for (const f of layout.fields) m.set(f.name, { id: f.id, width: f.width });
    fieldCache.set(layout, m);
  }
  return m;
}

/** The block of a protocol the kernel has no counters for yet. */
const ZEROS = new Float64Array(Math.max(...Object.values(STATS_LAYOUTS).map((l) => l.ncounters)));

class SectionPrinter {
  private readonly fields: Map<string, { id: number; width: CWidth }>;
  private readonly v: Float64Array;

  constructor(
    layout: StatsLayout,
    block: StatsBlock | undefined,
    private readonly sflag: number,
    private readonly source: NetstatSource,
  ) {
    this.fields = fieldsOf(layout);
    this.v = block?.v ?? ZEROS;
    if (this.v.length < layout.ncounters) throw new Error(`netstat: ${layout.struct} block has ${this.v.length} counters, expected ${layout.ncounters}`);
  }

  private id(name: string): number {
    const f = this.fields.get(name);
    if (!f) throw new Error(`netstat: no counter ${name}`);
    return f.id;
  }

  /** The field as the C struct holds it. */
  private value(name: string): number {
    const f = this.fields.get(name);
    if (!f) throw new Error(`netstat: no counter ${name}`);
    return cvalue(this.v[f.id]!, f.width);
  }

  print(section: NetstatSection): string {
    let out = `${section.name}:\n`;
    for (const item of section.items) out += this.item(item);
    return out;
  }

  private item(it: NetstatItem): string {
    switch (it.kind) {
      case 'counter': {
        if (this.sflag > 1 && it.guard.every((g) => this.value(g) === 0)) return '';
        const args = it.args.map(([f, k]) => (k === 0 ? this.value(f) : plural(this.value(f), k)));
        return cprintf(it.format, args);
      }
      case 'computed': {
        let d = this.value(it.plus);
        for (const m of it.minus) d -= this.value(m);
        if (d === 0 && this.sflag > 1) return '';
        return cprintf(it.format, [d]);
      }
      case 'literal':
        return it.text;
      case 'histogram': {
        const base = this.id(it.field);
        let out = '';
        for (let i = 0; i < it.buckets; i++) {
          const n = this.v[base + i]!;
          if (n === 0) continue;
          if (out === '') out = it.header;
          out += cprintf(it.line, [this.bucketName(it.names, i), n]);
        }
        return out;
      }
      case 'scopes': {
        let out = '';
        for (const [field, header] of it.fields) {
          const base = this.id(field);
          let first = true;
          for (let i = 0; i < it.buckets; i++) {
            const n = this.v[base + i]!;
            if (n === 0) continue;
            if (first) {
              out += header;
              first = false;
            }
            const fmt = it.byScope[i];
            out += fmt !== undefined ? cprintf(fmt, [n, plural(n, 1)]) : cprintf(it.other, [n, i]);
          }
        }
        return out;
      }
    }
  }

  private bucketName(table: string, i: number): string {
    switch (table) {
      case 'icmpnames':
        return ICMPNAMES[i] ?? `#${i}`;
      case 'ip6nh':
        return IP6NH[i] ?? `#${i}`;
      case 'icmp6names':
        return ICMP6NAMES[i] ?? `#${i}`;
      default:
        return this.source.ifIndexToName?.(i) ?? '(null)';
    }
  }
}

/**
 * One section of `netstat -s` (sflag 1) or `-ss` (sflag 2), as the
 * `<proto>_stats()` function of inet.c/inet6.c prints it; '' when the
 * source says the protocol is not in the kernel.
 */
export function protoStats(proto: string, source: NetstatSource, sflag: number): string {
  const section = SECTIONS[proto];
  const layout = (STATS_LAYOUTS as Record<string, StatsLayout>)[proto];
  if (!section || !layout) throw new Error(`netstat: no section ${proto}`);
  const block = source.counters(proto);
  if (block === null) return '';
  return new SectionPrinter(layout, block, sflag, source).print(section);
}
