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
/** A context row: time, journey and host of the events after it. */
const K_CTX = 6;
/** Flag of a kind: the event's texts are formats of its arguments. */
const K_ARGS = 8;
/** Flags of a kind: the event has an interface name, a detail. */
const K_IF = 16;
const K_DETAIL = 32;
const K_KIND = 7;
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

/**
 * One packet's journey: an id and, for packets caused by another, the
 * cause.  The tracer reuses the object of id n after clear() (see
 * Tracer.journey), so read a journey before clearing its tracer.
 */
export class Journey {
  constructor(
    readonly id: number,
    public parent: Journey | null,
    /** What started it: "ping 10.0.2.2", "icmp_error: time exceeded", "arp request"... */
    public cause: string,
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
  /** Every journey object made so far, by id - 1 (reused after clear()). */
  private readonly made: Journey[] = [];
  /**
   * The journey of the packet being processed, for events that carry no
   * packet (counters).  The world clears it around each of its events
   * (enter/leave), so nothing is credited to a packet processed earlier.
   */
  current: Journey | null = null;
  /** Stop recording after this many events, so a runaway trace cannot eat the memory. */
  get limit(): number {
    return this.lim;
  }
  set limit(v: number) {
    this.lim = v;
    this.edge = Math.min(this.cap, v);
  }
  /** Events that did not fit under the limit. */
  lost = 0;

  // The events: one row each, plus a context row (time, journey, host)
  // before an event whose context differs from the row before: within a
  // packet's passage through a machine, events share all three.
  private n = 0;
  private cap = 0;
  private lim = 1_000_000;
  /** Rows past which row() takes the slow path: min(cap, limit). */
  private edge = 0;
  /** Kind; K_ARGS set when the texts are formats. */
  private ek = new Uint8Array(0);
  /** Arguments; context rows: time, journey id. */
  private ea = new Float64Array(0);
  private eb = new Float64Array(0);
  private ec = new Float64Array(0);
  /** Name; context rows: null (the host is in eh). */
  private ename: string[] = [];
  private eif: string[] = [];
  private edetail: string[] = [];
  private es: string[] = [];
  private es2: string[] = [];
  private eh: Array<TraceHost | null> = [];
  private eblock: Array<TraceCounters | null> = [];
  private ctxT = -1;
  private ctxJ: Journey | null = null;
  private ctxH: TraceHost | null = null;
  /** Name of the world's event being run (a timer names the journeys it starts), '' when none. */
  private entry = '';
  /** The journey that armed that event (read when it starts: a timer re-arms itself as it runs). */
  private entryCause: Journey | null = null;
  /** Context row of this event's events before it had a packet in hand (a timer's own), -1 when none. */
  private orphan = -1;
  /** Events read so far (`events` formats each once), the row of each, and the reading position. */
  private readonly read: TraceEvent[] = [];
  private readonly readRow: number[] = [];
  private rowsRead = 0;
  private rT = 0;
  private rJ = 0;
  private rH: TraceHost | null = null;

  /** Rows recorded (events and their context rows). */
  get length(): number {
    return this.n;
  }

  /** The events, formatted (each event once, when first read). */
  get events(): readonly TraceEvent[] {
    for (let i = this.rowsRead; i < this.n; i++) {
      const k = this.ek[i]!;
      if (k === K_CTX) {
        this.rT = this.ea[i]!;
        this.rJ = this.eb[i]!;
        this.rH = this.eh[i]!;
      } else {
        this.read.push(this.event(i));
        this.readRow.push(i);
      }
    }
    this.rowsRead = this.n;
    return this.read;
  }

  /** Forget every event and journey (a long run drops what it has looked at). */
  clear(): void {
    // Rows are overwritten in place; what they still reference (kernels,
    // counter blocks, constant strings) lives on anyway.
    this.n = 0;
    this.read.length = 0;
    this.readRow.length = 0;
    this.rowsRead = 0;
    this.journeys.length = 0;
    this.current = null;
    this.ctxJ = null;
    this.ctxT = -1;
    this.orphan = -1;
  }

  /** The world runs an event (World.fire): no packet is in hand yet. */
  enter(e: { readonly name: string; readonly armedBy: object | null }): void {
    this.current = null;
    this.entry = e.name;
    this.entryCause = e.armedBy as Journey | null;
    this.orphan = -1;
  }

  /** The event is over: what runs between events (a command) has no packet in hand. */
  leave(): void {
    this.current = null;
    this.entry = '';
    this.entryCause = null;
  }

  /** What a timer armed now is armed by (World.schedule): the packet in hand, else the cause of the running event. */
  armer(): Journey | null {
    return this.current ?? this.entryCause;
  }

  /**
   * A new journey (ids count from 1), optionally caused by `parent`.  The
   * objects of journeys dropped by clear() are reused: one per packet, they
   * would be young objects stored into old ones (mbufs, this tracer), a
   * write barrier's slow path and a scavenge's work each.
   */
  journey(cause: string, parent: Journey | null = null): Journey {
    const n = this.journeys.length;
    let j = this.made[n];
    if (j === undefined) {
      j = new Journey(n + 1, parent, cause);
      this.made.push(j);
    } else {
      j.parent = parent;
      j.cause = cause;
    }
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
      j = this.begin(cause, this.current);
      m.trace = j;
    }
    // Stored only when it changes: storing a young object into an old one costs a write barrier.
    if (this.current !== j) this.current = j;
    return j;
  }

  /** A packet created because of the packet being processed (reply, error, fragment, ARP request). */
  caused(m: Mbuf, cause: string): void {
    m.trace = this.begin(cause, this.current);
  }

  /** A frame from outside the trace (the wire, the host): it keeps the sender's journey, or starts its own. */
  input(m: Mbuf, cause: string): void {
    if (m.trace === null) m.trace = this.journey(cause, null);
  }

  /**
   * The journey of a new packet: caused by parent; with no packet in hand
   * in a kernel timer, the timer's (`tcp_timer_rexmt`), caused by the
   * journey that armed it, and the timer's own events so far move into it.
   */
  protected begin(cause: string, parent: Journey | null): Journey {
    if (parent !== null || this.entry === '') return this.journey(cause, parent);
    const j = this.journey(this.entry, this.entryCause);
    const r = this.orphan;
    if (r >= this.rowsRead && r < this.n) {
      this.eb[r] = j.id;
      this.ctxJ = j;
    }
    this.orphan = -1;
    return j;
  }

  /** A function entered; with a given, detail is a format of a, b, c, s, s2. */
  fn(h: TraceHost, m: Mbuf | null, name: string, ifname = '', detail = '', a = NaN, b = 0, c = 0, s = '', s2 = ''): void {
    const i = this.record(h, m, K_FN | K_IF | K_DETAIL, name, a, b, c, s, s2);
    if (i >= 0) {
      this.eif[i] = ifname;
      this.edetail[i] = detail;
    }
  }

  /** A branch taken; with a given, text and detail are formats. */
  branch(h: TraceHost, m: Mbuf | null, text: string, detail = '', a = NaN, b = 0, c = 0, s = '', s2 = ''): void {
    const i = this.record(h, m, K_BRANCH | K_DETAIL, text, a, b, c, s, s2);
    if (i >= 0) this.edetail[i] = detail;
  }

  /** The packet dropped, and why; with a given, reason and detail are formats. */
  drop(h: TraceHost, m: Mbuf | null, reason: string, detail = '', a = NaN, b = 0, c = 0, s = '', s2 = ''): void {
    const i = this.record(h, m, K_DROP | K_DETAIL, reason, a, b, c, s, s2);
    if (i >= 0) this.edetail[i] = detail;
  }

  tap(h: TraceHost, m: Mbuf | null, name: string, ifname: string, dir: 'IN' | 'OUT'): void {
    const i = this.row(h, m, K_TAP | K_IF | K_DETAIL, name);
    if (i >= 0) {
      this.eif[i] = ifname;
      this.edetail[i] = dir;
    }
  }

  /** A change of the packet's bytes; what is a format when a is given. */
  bytes(h: TraceHost, m: Mbuf | null, what: string, a = NaN, b = 0, c = 0, s = '', s2 = ''): void {
    this.record(h, m, K_BYTES, what, a, b, c, s, s2);
  }

  // The same events by arity, for the hot trace points (the forwarding
  // path): no defaulted arguments, and only what the event has is stored.
  // The formats take exactly the arguments given (see the module comment).

  /** fn() without detail. */
  fn0(h: TraceHost, m: Mbuf | null, name: string, ifname: string): void {
    const i = this.row(h, m, K_FN | K_IF, name);
    if (i >= 0) this.eif[i] = ifname;
  }

  /** fn() with a plain detail. */
  fnd(h: TraceHost, m: Mbuf | null, name: string, ifname: string, detail: string): void {
    const i = this.row(h, m, K_FN | K_IF | K_DETAIL, name);
    if (i >= 0) {
      this.eif[i] = ifname;
      this.edetail[i] = detail;
    }
  }

  /** fn() whose detail is a format of one number. */
  fn1(h: TraceHost, m: Mbuf | null, name: string, ifname: string, detail: string, a: number): void {
    const i = this.row(h, m, K_FN | K_IF | K_DETAIL | K_ARGS, name);
    if (i >= 0) {
      this.eif[i] = ifname;
      this.edetail[i] = detail;
      this.ea[i] = a;
    }
  }

  /** fn() whose detail is a format of two numbers. */
  fn2(h: TraceHost, m: Mbuf | null, name: string, ifname: string, detail: string, a: number, b: number): void {
    const i = this.row(h, m, K_FN | K_IF | K_DETAIL | K_ARGS, name);
    if (i >= 0) {
      this.eif[i] = ifname;
      this.edetail[i] = detail;
      this.ea[i] = a;
      this.eb[i] = b;
    }
  }

  /** fn() whose detail is a format of three numbers. */
  fn3(h: TraceHost, m: Mbuf | null, name: string, ifname: string, detail: string, a: number, b: number, c: number): void {
    const i = this.row(h, m, K_FN | K_IF | K_DETAIL | K_ARGS, name);
    if (i >= 0) {
      this.eif[i] = ifname;
      this.edetail[i] = detail;
      this.ea[i] = a;
      this.eb[i] = b;
      this.ec[i] = c;
    }
  }

  /** fn() whose detail is a format of a number and a string. */
  fn1s(h: TraceHost, m: Mbuf | null, name: string, ifname: string, detail: string, a: number, s: string): void {
    const i = this.row(h, m, K_FN | K_IF | K_DETAIL | K_ARGS, name);
    if (i >= 0) {
      this.eif[i] = ifname;
      this.edetail[i] = detail;
      this.ea[i] = a;
      this.es[i] = s;
    }
  }

  /** branch() without detail, text as is. */
  branch0(h: TraceHost, m: Mbuf | null, text: string): void {
    this.row(h, m, K_BRANCH, text);
  }

  /** branch() without detail, text a format of one number. */
  branch1(h: TraceHost, m: Mbuf | null, text: string, a: number): void {
    const i = this.row(h, m, K_BRANCH | K_ARGS, text);
    if (i >= 0) this.ea[i] = a;
  }

  /** branch() without detail, text a format of two numbers. */
  branch2(h: TraceHost, m: Mbuf | null, text: string, a: number, b: number): void {
    const i = this.row(h, m, K_BRANCH | K_ARGS, text);
    if (i >= 0) {
      this.ea[i] = a;
      this.eb[i] = b;
    }
  }

  /** branch() without detail, text a format of two numbers and two strings. */
  branch2ss(h: TraceHost, m: Mbuf | null, text: string, a: number, b: number, s: string, s2: string): void {
    const i = this.row(h, m, K_BRANCH | K_ARGS, text);
    if (i >= 0) {
      this.ea[i] = a;
      this.eb[i] = b;
      this.es[i] = s;
      this.es2[i] = s2;
    }
  }

  /** bytes() with a format of two numbers. */
  bytes2(h: TraceHost, m: Mbuf | null, what: string, a: number, b: number): void {
    const i = this.row(h, m, K_BYTES | K_ARGS, what);
    if (i >= 0) {
      this.ea[i] = a;
      this.eb[i] = b;
    }
  }

  /** bytes() with a format of three numbers. */
  bytes3(h: TraceHost, m: Mbuf | null, what: string, a: number, b: number, c: number): void {
    const i = this.row(h, m, K_BYTES | K_ARGS, what);
    if (i >= 0) {
      this.ea[i] = a;
      this.eb[i] = b;
      this.ec[i] = c;
    }
  }

  /** A counter bumped while processing the current packet, by name. */
  counter(h: TraceHost, name: string, n: number): void {
    const i = this.row(h, null, K_COUNTER, name);
    if (i >= 0) {
      this.ea[i] = n;
      this.eblock[i] = null;
    }
  }

  /** A counter bumped, as block and id (CounterBlock calls this; the name is looked up when read). */
  counterOf(h: TraceHost, block: TraceCounters, id: number, n: number): void {
    const i = this.row(h, null, K_COUNTER, '');
    if (i >= 0) {
      this.ea[i] = n;
      this.eb[i] = id;
      this.eblock[i] = block;
    }
  }

  /** Replace the detail of row i (a tracer that learns more after recording, e.g. a tap's tcpdump line). */
  protected setDetail(i: number, detail: string): void {
    if (i < 0 || i >= this.n || this.ek[i] === K_CTX) return;
    this.edetail[i] = detail;
    this.ek[i] = this.ek[i]! | K_DETAIL;
    if (i < this.rowsRead) {
      const e = this.readRow.lastIndexOf(i);
      if (e >= 0) this.read[e] = { ...this.read[e]!, detail };
    }
  }

  /** Row of the last event recorded, -1 when none. */
  protected get last(): number {
    return this.n - 1;
  }

  /** row() with the arguments stored when a is given (the API with defaulted arguments). */
  private record(h: TraceHost, m: Mbuf | null, kind: number, name: string, a: number, b: number, c: number, s: string, s2: string): number {
    if (a !== a) return this.row(h, m, kind, name);
    const i = this.row(h, m, kind | K_ARGS, name);
    if (i >= 0) {
      this.ea[i] = a;
      this.eb[i] = b;
      this.ec[i] = c;
      this.es[i] = s;
      this.es2[i] = s2;
    }
    return i;
  }

  /**
   * Record one event's kind and name (and a context row before it when the
   * context changed); its row, or -1 when over the limit.  Kept small (the
   * rare cases are calls) so that trace points can inline it.
   */
  private row(h: TraceHost, m: Mbuf | null, kind: number, name: string): number {
    let j = this.current;
    if (m !== null) {
      const mj = m.trace as Journey | null;
      if (mj === null) j = this.of(m);
      else if (mj !== j) j = this.current = mj;
    }
    let i = this.n;
    if (i + 2 > this.edge && !this.room(i)) return -1;
    const now = h.world.now;
    if (now !== this.ctxT || j !== this.ctxJ || h !== this.ctxH) i = this.context(i, now, j, h);
    this.ek[i] = kind;
    this.ename[i] = name;
    this.n = i + 1;
    return i;
  }

  /** Room for an event and its context row: false (counted lost) over the limit. */
  private room(i: number): boolean {
    if (i + 1 >= this.lim) {
      this.lost++;
      return false;
    }
    this.grow();
    return true;
  }

  /** The context row at i; the event's row comes after it. */
  private context(i: number, now: number, j: Journey | null, h: TraceHost): number {
    this.ctxT = now;
    if (this.ctxJ !== j) this.ctxJ = j;
    if (this.ctxH !== h) this.ctxH = h;
    this.ek[i] = K_CTX;
    this.ea[i] = now;
    this.eb[i] = j === null ? 0 : j.id;
    this.eh[i] = h;
    this.orphan = j === null ? i : -1;
    return i + 1;
  }

  private grow(): void {
    const cap = this.cap === 0 ? INITIAL : this.cap * 2;
    const f64 = (o: Float64Array): Float64Array<ArrayBuffer> => {
      const x = new Float64Array(cap);
      x.set(o);
      return x;
    };
    this.ea = f64(this.ea);
    this.eb = f64(this.eb);
    this.ec = f64(this.ec);
    const ek = new Uint8Array(cap);
    ek.set(this.ek);
    this.ek = ek;
    for (const arr of [this.ename, this.eif, this.edetail, this.es, this.es2]) for (let i = this.cap; i < cap; i++) arr.push('');
    for (let i = this.cap; i < cap; i++) {
      this.eh.push(null);
      this.eblock.push(null);
    }
    this.cap = cap;
    this.edge = Math.min(cap, this.lim);
  }

  /** Event of row i, formatted, in the context read last. */
  private event(i: number): TraceEvent {
    const k = this.ek[i]!;
    const kind = k & K_KIND;
    let name = this.ename[i]!;
    let detail = k & K_DETAIL ? this.edetail[i]! : '';
    const ifname = k & K_IF ? this.eif[i]! : '';
    const a = this.ea[i]!;
    if (kind === K_COUNTER) {
      const blk = this.eblock[i];
      if (blk !== null && blk !== undefined) name = blk.nameOf(this.eb[i]!);
      detail = a === 1 ? '' : `+${a}`;
    } else if (k & K_ARGS) {
      const b = this.eb[i]!;
      const c = this.ec[i]!;
      const s = this.es[i]!;
      const s2 = this.es2[i]!;
      name = traceFormat(name, a, b, c, s, s2);
      if (kind !== K_TAP) detail = traceFormat(detail, a, b, c, s, s2);
    }
    return { t: this.rT, host: this.rH!.hostname, journey: this.rJ, kind: KINDS[kind]!, name, ifname, detail };
  }
}
