/**
 * Journeys: what OpenBSD cannot show.  While a Tracer is attached to a
 * kernel (`k.trace`), every trace point on the packet path records an
 * event for the packet it handles: the function entered, a branch taken
 * and why, a counter bumped, a bpf tap passed, a change of the bytes.
 *
 * Zero cost when off: each trace point is `if (k.trace !== null) ...`,
 * one field test.  Packets carry their journey in `m.trace`; a packet
 * caused by another (a reply, an ICMP error, an ARP request, a fragment)
 * starts a journey whose parent is the cause's.
 *
 * Cheap when on: an event is a row of parallel arrays (typed arrays for
 * the numbers, plain arrays for references to strings that already exist:
 * function names, interface names, constant texts), grown by doubling.
 * Nothing is formatted when recording.  The texts of an event recorded
 * with arguments (name and detail, each on its own) are formats whose
 * placeholders are filled from the arguments when the event is read
 * (`events`, the renderer): %d a number, %a an IPv4 address, %x four hex
 * digits, %m a MAC address given as a 48-bit number, %s a string argument,
 * %% a percent sign.  Trace points pass numbers, not template literals:
 * `tr.bytes(k, m, 'ip_forward: ttl %d → %d', ttl, ttl - 1)`.  Texts of
 * calls without arguments are taken as they are.
 *
 * Trace point names are OpenBSD's function names (`ether_input`,
 * `ip_forward`, `bpf_mtap_ether`...), so a journey reads like the talk.
 */
import type { Mbuf } from './uipc_mbuf.js';

export type TraceKind = 'fn' | 'branch' | 'counter' | 'tap' | 'bytes' | 'drop';

const K_FN = 0;
const K_BRANCH = 1;
const K_COUNTER = 2;
const K_TAP = 3;
const K_BYTES = 4;
const K_DROP = 5;
const KINDS: readonly TraceKind[] = ['fn', 'branch', 'counter', 'tap', 'bytes', 'drop'];

export interface TraceEvent {
  /** Virtual time, ns. */
  readonly t: number;
  readonly host: string;
  /** Journey id (0: no packet in hand, e.g. a timer). */
  readonly journey: number;
  readonly kind: TraceKind;
  /** Function name, counter name (`ips_cantforward`), tap name, or the branch text. */
  readonly name: string;
  /** Interface the event happened on, when there is one. */
  readonly ifname: string;
  /** More words: why a branch was taken, the tap direction, the bytes that changed. */
  readonly detail: string;
}

/** One packet's journey: an id and, for packets caused by another, the cause. */
export class Journey {
  constructor(
    readonly id: number,
    readonly parent: Journey | null,
    /** What started it: "ping 10.0.2.2", "icmp_error: time exceeded", "arp request"... */
    readonly cause: string,
  ) {}
}

/** What a trace point needs to know of its kernel: a name and the clock. */
export interface TraceHost {
  readonly hostname: string;
  readonly world: { readonly now: number };
}

/** A counter block as the tracer sees it: names are looked up when the event is read. */
export interface TraceCounters {
  nameOf(id: number): string;
}

/** Fill a trace format's placeholders (see the module comment). */
export function traceFormat(f: string, a: number, b: number, c: number, s: string, s2: string): string {
  let i = f.indexOf('%');
  if (i < 0) return f;
  let out = '';
  let from = 0;
  let ni = 0;
  let si = 0;
  while (i >= 0 && i + 1 < f.length) {
    out += f.slice(from, i);
    const p = f[i + 1];
    if (p === '%') out += '%';
    else if (p === 's') out += si++ === 0 ? s : s2;
    else {
      const v = ni === 0 ? a : ni === 1 ? b : c;
      ni++;
      if (p === 'd') out += String(v);
      else if (p === 'a') out += `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
      else if (p === 'x') out += (v >>> 0).toString(16).padStart(4, '0');
      else if (p === 'm') {
        let mac = '';
        for (let k = 5; k >= 0; k--) mac += (k < 5 ? ':' : '') + (Math.floor(v / 2 ** (8 * k)) & 0xff).toString(16).padStart(2, '0');
        out += mac;
      } else {
        out += f.slice(i, i + 2);
        ni--;
      }
    }
    from = i + 2;
    i = f.indexOf('%', from);
  }
  return out + f.slice(from);
}

/** 6 bytes at b[o] as one number (exact: 48 bits), for %m. */
export function macNum(b: Uint8Array, o = 0): number {
  return (b[o]! * 0x10000 + ((b[o + 1]! << 8) | b[o + 2]!)) * 0x1000000 + ((b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!);
}

const INITIAL = 1024;

export class Tracer {
  readonly journeys: Journey[] = [];
  /** The journey of the packet being processed, for events that carry no packet (counters). */
  current: Journey | null = null;
  /** Stop recording after this many events, so a runaway trace cannot eat the memory. */
  limit = 1_000_000;
  /** Events that did not fit under the limit. */
  lost = 0;

  // The events, one row per event.
  private n = 0;
  private cap = 0;
  private et = new Float64Array(0);
  private ej = new Int32Array(0);
  private ek = new Uint8Array(0);
  /** 1: name/detail is a format filled from the arguments. */
  private ef = new Uint8Array(0);
  private ea = new Float64Array(0);
  private eb = new Float64Array(0);
  private ec = new Float64Array(0);
  private eh: TraceHost[] = [];
  private ename: string[] = [];
  private eif: string[] = [];
  private edetail: string[] = [];
  private es: string[] = [];
  private es2: string[] = [];
  private eblock: Array<TraceCounters | null> = [];
  /** Events read so far (`events` formats each once). */
  private readonly read: TraceEvent[] = [];

  /** Events recorded (and not cleared). */
  get length(): number {
    return this.n;
  }

  /** The events, formatted (each event once, when first read). */
  get events(): readonly TraceEvent[] {
    const r = this.read;
    for (let i = r.length; i < this.n; i++) r.push(this.event(i));
    return r;
  }

  /** Forget every event and journey (a long run drops what it has looked at). */
  clear(): void {
    // Rows are overwritten in place; what they still reference (kernels,
    // counter blocks, constant strings) lives on anyway.
    this.n = 0;
    this.read.length = 0;
    this.journeys.length = 0;
    this.current = null;
  }

  /** A new journey (ids count from 1), optionally caused by `parent`. */
  journey(cause: string, parent: Journey | null = null): Journey {
    const j = new Journey(this.journeys.length + 1, parent, cause);
    this.journeys.push(j);
    return j;
  }

  /**
   * The journey of m, starting one if m has none: a packet that appears
   * while another is being processed is caused by it.
   */
  of(m: Mbuf | null, cause = 'packet'): Journey | null {
    if (m === null) return this.current;
    let j = m.trace as Journey | null;
    if (j === null) {
      j = this.journey(cause, this.current);
      m.trace = j;
    }
    // Stored only when it changes: storing a young object into an old one costs a write barrier.
    if (this.current !== j) this.current = j;
    return j;
  }

  /** A packet created because of the packet being processed (reply, error, fragment, ARP request). */
  caused(m: Mbuf, cause: string): void {
    m.trace = this.journey(cause, this.current);
  }

  /** A function entered; with a given, detail is a format of a, b, c, s, s2. */
  fn(h: TraceHost, m: Mbuf | null, name: string, ifname = '', detail = '', a = NaN, b = 0, c = 0, s = '', s2 = ''): void {
    this.record(h, m, K_FN, name, ifname, detail, a, b, c, s, s2);
  }

  /** A branch taken; with a given, text and detail are formats. */
  branch(h: TraceHost, m: Mbuf | null, text: string, detail = '', a = NaN, b = 0, c = 0, s = '', s2 = ''): void {
    this.record(h, m, K_BRANCH, text, '', detail, a, b, c, s, s2);
  }

  /** The packet dropped, and why; with a given, reason and detail are formats. */
  drop(h: TraceHost, m: Mbuf | null, reason: string, detail = '', a = NaN, b = 0, c = 0, s = '', s2 = ''): void {
    this.record(h, m, K_DROP, reason, '', detail, a, b, c, s, s2);
  }

  tap(h: TraceHost, m: Mbuf | null, name: string, ifname: string, dir: 'IN' | 'OUT'): void {
    this.record(h, m, K_TAP, name, ifname, dir, NaN, 0, 0, '', '');
  }

  /** A change of the packet's bytes; what is a format when a is given. */
  bytes(h: TraceHost, m: Mbuf | null, what: string, a = NaN, b = 0, c = 0, s = '', s2 = ''): void {
    this.record(h, m, K_BYTES, what, '', '', a, b, c, s, s2);
  }

  /** A counter bumped while processing the current packet, by name. */
  counter(h: TraceHost, name: string, n: number): void {
    this.record(h, null, K_COUNTER, name, '', '', n, 0, 0, '', '');
  }

  /** A counter bumped, as block and id (CounterBlock calls this; the name is looked up when read). */
  counterOf(h: TraceHost, block: TraceCounters, id: number, n: number): void {
    const i = this.record(h, null, K_COUNTER, '', '', '', n, id, 0, '', '');
    if (i >= 0) this.eblock[i] = block;
  }

  /** Replace the detail of event i (a tracer that learns more after recording, e.g. a tap's tcpdump line). */
  protected setDetail(i: number, detail: string): void {
    if (i >= 0 && i < this.n) {
      this.edetail[i] = detail;
      if (i < this.read.length) this.read[i] = this.event(i);
    }
  }

  /** Index of the last event recorded, -1 when none. */
  protected get last(): number {
    return this.n - 1;
  }

  /** Record one event; its index, or -1 when over the limit. */
  private record(h: TraceHost, m: Mbuf | null, kind: number, name: string, ifname: string, detail: string, a: number, b: number, c: number, s: string, s2: string): number {
    const j = this.of(m);
    const i = this.n;
    if (i >= this.limit) {
      this.lost++;
      return -1;
    }
    if (i === this.cap) this.grow();
    this.et[i] = h.world.now;
    this.ej[i] = j === null ? 0 : j.id;
    this.ek[i] = kind;
    this.ef[i] = a === a ? 1 : 0;
    this.ea[i] = a;
    this.eb[i] = b;
    this.ec[i] = c;
    this.eh[i] = h;
    this.ename[i] = name;
    this.eif[i] = ifname;
    this.edetail[i] = detail;
    this.es[i] = s;
    this.es2[i] = s2;
    this.n = i + 1;
    return i;
  }

  private grow(): void {
    const cap = this.cap === 0 ? INITIAL : this.cap * 2;
    const f64 = (o: Float64Array): Float64Array<ArrayBuffer> => {
      const x = new Float64Array(cap);
      x.set(o);
      return x;
    };
    this.et = f64(this.et);
    this.ea = f64(this.ea);
    this.eb = f64(this.eb);
    this.ec = f64(this.ec);
    const ej = new Int32Array(cap);
    ej.set(this.ej);
    this.ej = ej;
    const ek = new Uint8Array(cap);
    ek.set(this.ek);
    this.ek = ek;
    const ef = new Uint8Array(cap);
    ef.set(this.ef);
    this.ef = ef;
    for (const arr of [this.ename, this.eif, this.edetail, this.es, this.es2]) for (let i = this.cap; i < cap; i++) arr.push('');
    for (let i = this.cap; i < cap; i++) {
      this.eh.push(undefined as unknown as TraceHost);
      this.eblock.push(null);
    }
    this.cap = cap;
  }

  /** Event i, formatted. */
  private event(i: number): TraceEvent {
    const kind = this.ek[i]!;
    let name = this.ename[i]!;
    let detail = this.edetail[i]!;
    const a = this.ea[i]!;
    if (kind === K_COUNTER) {
      const blk = this.eblock[i];
      if (blk !== null && blk !== undefined) name = blk.nameOf(this.eb[i]!);
      detail = a === 1 ? '' : `+${a}`;
    } else if (this.ef[i] === 1) {
      const b = this.eb[i]!;
      const c = this.ec[i]!;
      const s = this.es[i]!;
      const s2 = this.es2[i]!;
      name = traceFormat(name, a, b, c, s, s2);
      if (kind !== K_TAP) detail = traceFormat(detail, a, b, c, s, s2);
    }
    return { t: this.et[i]!, host: this.eh[i]!.hostname, journey: this.ej[i]!, kind: KINDS[kind]!, name, ifname: this.eif[i]!, detail };
  }
}
