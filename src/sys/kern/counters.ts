/**
 * Protocol statistics counters, as OpenBSD's counters_inc(9) blocks: one
 * block per stats struct per kernel, indexed by the generated ids of
 * counters.gen.ts (which equal OpenBSD's `enum ipstat_counters` etc.), so
 * the increment site reads like the C: `k.stats.ipstat.inc(ips_cantforward)`.
 *
 * Values live in a Float64Array: exact integers up to 2^53, past the 2^32
 * where a C u_int32_t wraps (the printer applies the C width, see cvalue()).
 * Gauges such as tcps_sc_entry_count are set() rather than incremented.
 */
import { STATS_LAYOUTS, type CWidth, type StatsField, type StatsLayout, type StatsProto } from './counters.gen.js';
import type { Tracer, TraceHost } from './kern_trace.js';

export { STATS_LAYOUTS, type CWidth, type StatsField, type StatsLayout, type StatsProto };

export class CounterBlock {
  readonly v: Float64Array;
  private byName: Map<string, StatsField> | undefined;
  /**
   * Set while a journey is traced (Kernel.setTracer): every bump is
   * recorded for the kernel `traceHost`, a direct call (null otherwise:
   * one test per bump).
   */
  tracer: Tracer | null = null;
  traceHost: TraceHost | null = null;
  /** The tracer's code of this block's counters (Tracer.counterBase): a bump is recorded as traceBase | id. */
  traceBase = 0;
  /** Or told of every bump by a function (blocks outside KernelStats, e.g. the lab's). */
  onBump: ((block: CounterBlock, id: number, n: number) => void) | null = null;

  constructor(readonly layout: StatsLayout) {
    this.v = new Float64Array(layout.ncounters);
  }

  get proto(): string {
    return this.layout.proto;
  }

  inc(id: number): void {
    this.v[id]++;
    if (this.tracer !== null) this.tracer.ctr(this.traceHost!, this.traceBase | id);
    else if (this.onBump !== null) this.onBump(this, id, 1);
  }

  /**
   * inc() whose trace event the caller recorded, in a segment with its own
   * (an interned counter event, kern_trace.ts): nothing recorded here.
   */
  bump(id: number): void {
    this.v[id]++;
    if (this.tracer === null && this.onBump !== null) this.onBump(this, id, 1);
  }

  add(id: number, n: number): void {
    this.v[id] += n;
    if (n === 0) return;
    if (this.tracer !== null) this.tracer.ctrn(this.traceHost!, this.traceBase | id, n);
    else if (this.onBump !== null) this.onBump(this, id, n);
  }

  /** The OpenBSD name of counter `id` (arrays: name[index]). */
  nameOf(id: number): string {
    for (const f of this.layout.fields) {
      const n = f.count;
      if (id >= f.id && id < f.id + n) return n === 1 ? f.name : `${f.name}[${id - f.id}]`;
    }
    return `#${id}`;
  }

  /** Decrement, for the few gauges C decrements (e.g. SYN cache entries). */
  dec(id: number): void {
    this.v[id]--;
  }

  set(id: number, n: number): void {
    this.v[id] = n;
  }

  get(id: number): number {
    return this.v[id]!;
  }

  zero(): void {
    this.v.fill(0);
  }

  /** A copy of the values (what the stats sysctl would copy out). */
  snapshot(): Float64Array {
    return this.v.slice();
  }

  /** A field by its OpenBSD name, for tools and tests (not the packet path). */
  field(name: string): StatsField | undefined {
    if (!this.byName) {
      this.byName = new Map();
      for (const f of this.layout.fields) this.byName.set(f.name, f);
    }
    return this.byName.get(name);
  }

  /** The id of a field by name (arrays: the first bucket); throws when unknown. */
  id(name: string): number {
    const f = this.field(name);
    if (!f) throw new Error(`${this.layout.struct}: no counter ${name}`);
    return f.id;
  }

  /** The value of a scalar field, or of bucket `index` of an array, by name. */
  value(name: string, index = 0): number {
    return this.v[this.id(name) + index]!;
  }
}

/**
 * The value a C struct field of this width holds after the same arithmetic:
 * a u_int32_t wraps at 2^32.  u64 and i64 are exact up to 2^53.
 */
export function cvalue(v: number, w: CWidth): number {
  if (w === 'u32') {
    if (v >= 0 && v < 4294967296) return v;
    const r = v % 4294967296;
    return r < 0 ? r + 4294967296 : r;
  }
  return v;
}

/**
 * All protocol stats blocks of one kernel, named after OpenBSD's variables
 * (`ipstat`, `tcpstat`, ...).  Also a NetstatSource (see usr.bin/netstat).
 */
export class KernelStats {
  readonly ipstat = new CounterBlock(STATS_LAYOUTS.ip);
  readonly icmpstat = new CounterBlock(STATS_LAYOUTS.icmp);
  readonly igmpstat = new CounterBlock(STATS_LAYOUTS.igmp);
  readonly ipipstat = new CounterBlock(STATS_LAYOUTS.ipencap);
  readonly tcpstat = new CounterBlock(STATS_LAYOUTS.tcp);
  readonly udpstat = new CounterBlock(STATS_LAYOUTS.udp);
  readonly ipsecstat = new CounterBlock(STATS_LAYOUTS.ipsec);
  readonly espstat = new CounterBlock(STATS_LAYOUTS.esp);
  readonly ahstat = new CounterBlock(STATS_LAYOUTS.ah);
  readonly etheripstat = new CounterBlock(STATS_LAYOUTS.etherip);
  readonly ipcompstat = new CounterBlock(STATS_LAYOUTS.ipcomp);
  readonly carpstats = new CounterBlock(STATS_LAYOUTS.carp);
  readonly pfsyncstats = new CounterBlock(STATS_LAYOUTS.pfsync);
  readonly divstat = new CounterBlock(STATS_LAYOUTS.divert);
  readonly pflowstats = new CounterBlock(STATS_LAYOUTS.pflow);
  readonly ip6stat = new CounterBlock(STATS_LAYOUTS.ip6);
  readonly icmp6stat = new CounterBlock(STATS_LAYOUTS.icmp6);
  readonly rip6stat = new CounterBlock(STATS_LAYOUTS.rip6);

  private readonly byProto = new Map<string, CounterBlock>();

  constructor() {
    for (const b of this.blocks()) this.byProto.set(b.proto, b);
  }

  /** Every block, in netstat order. */
  blocks(): CounterBlock[] {
    return [
      this.ipstat, this.icmpstat, this.igmpstat, this.ipipstat, this.tcpstat, this.udpstat,
      this.ipsecstat, this.espstat, this.ahstat, this.etheripstat, this.ipcompstat,
      this.carpstats, this.pfsyncstats, this.divstat, this.pflowstats,
      this.ip6stat, this.icmp6stat, this.rip6stat,
    ];
  }

  /** The block of a netstat section name (`ip`, `ipencap`, `rip6`...). */
  counters(proto: string): CounterBlock | undefined {
    return this.byProto.get(proto);
  }

  zero(): void {
    for (const b of this.byProto.values()) b.zero();
  }
}
