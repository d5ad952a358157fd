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
 * Cheap when on: the events are records in one Int32Array, a few words
 * each; nothing is formatted when recording.  A trace point's texts are
 * interned once, at module load, into an event code (`traceEvent`): the
 * kind, the name, the detail and the interface flag are the code, so an
 * event is its code and its arguments, `tr.ev2(k, m, T_TTL, ttl, ttl - 1)`.
 * The code's type carries the argument words its formats read
 * (`TraceCode<2>`, counted from the literal formats when compiling), and
 * ev2 takes only a TraceCode<2>: a trace point passing more or fewer words
 * than its event reads (the log out of step) does not compile.
 * A fixed sequence of events of one function (`ifiq_input` then its bpf
 * tap) can be one code (`traceSegment`, up to five argument words),
 * expanded when read: a trace point that knows the events after it come
 * next (ip_output's function, route and checksum change) records them
 * together, one record for the common path.  What events
 * share is written when it changes, not per event: a context record (time,
 * journey, host) before an event whose context differs from the event
 * before it (within a packet's passage through a machine, events share
 * all three), an interface record before an event on another interface.
 * A counter bump is one word: its block and id; a counter bumped right
 * after an event can be in its segment (`traceEvent('counter', name)`),
 * bumped then with CounterBlock.bump(), which records nothing.  Trace points that are
 * not on a hot path pass their texts as they are (`fn`, `branch`, `drop`,
 * `tap`, `bytes`), recorded as references.
 *
 * The texts of events with arguments are formats whose placeholders are
 * filled from the arguments when the event is read (`events`, the
 * renderer): %d a number, %a an IPv4 address, %x four hex digits, %m a MAC
 * address (a 48-bit number; interned events take it as two words, macHi()
 * and macLo()), %s a string argument (interned events: the interface name
 * given), %% a percent sign.  Interned events' numbers are 32-bit
 * integers.
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
/** Flag of a kind: the event's texts are formats of its arguments. */
const K_ARGS = 8;
/** Flags of a kind: the event has an interface name, a detail. */
const K_IF = 16;
const K_DETAIL = 32;
const K_KIND = 7;
const KINDS: readonly TraceKind[] = ['fn', 'branch', 'counter', 'tap', 'bytes', 'drop'];

// The first word of a record: a tag below FIRST_EVENT, an interned event's
// code below CTR_BASE, else a counter bumped by one.
/** [R_CTX, journey id]; wide: time; refs: host.  The events after it have this context. */
const R_CTX = 1;
/** [R_IF]; refs: interface name of the interned events after it. */
const R_IF = 2;
/** [R_DYN, kind and flags]; refs: name, ifname (K_IF), detail (K_DETAIL), s and s2 (K_ARGS); wide: a, b, c (K_ARGS). */
const R_DYN = 3;
/** [R_CTRN, counter code]; wide: n.  A counter bumped by n. */
const R_CTRN = 4;
/** [R_CTRS]; refs: name; wide: n.  A counter given by name. */
const R_CTRS = 5;
/** [R_J, journey id]: a context record whose time and host are the last one's. */
const R_J = 6;
const FIRST_EVENT = 16;
/** Counter codes: (block index + 1) << 16 | counter id. */
const CTR_BASE = 0x10000;
/** Words a record and the context and interface records before it take at most. */
const MAXREC = 16;
/** Argument words of a segment at most (ev4/evi4 and ev5 take more than three; a record cont5() continued, nine). */
const SEGWORDS = 9;
/** Rows a word of a record stands for at most (a segment of k events has at least k / RMAX words). */
const RMAX = 4;

/** An interned event (or a segment of them). */
interface EventDesc {
  /** Kind and flags (K_*). */
  readonly k: number;
  readonly name: string;
  readonly detail: string;
  /** Argument words, and the numbers they make: 'n' one word, 'm' two (a MAC address). */
  readonly words: number;
  readonly types: string;
  /** Rows the event counts for the limit (a segment: its events'). */
  readonly rows: number;
  /** A segment's events, null for one event. */
  readonly seg: readonly number[] | null;
}

declare const arity: unique symbol;
/**
 * An interned event's code (traceEvent, traceSegment), branded with its
 * argument words: ev2 and evi2 take only a TraceCode<2>, so a trace point
 * cannot pass more or fewer words than its formats read (the log would get
 * out of step).  A number at run time: the brand costs nothing.
 */
export type TraceCode<N extends number> = number & { readonly [arity]: N };

/** Words the placeholders of format F read, as a tuple: %d %a %x one, %m two; number[] for a format not known when compiling. */
type FormatWords<F extends string, A extends unknown[] = []> = string extends F
  ? number[]
  : F extends `${string}%${infer P}${infer R}`
    ? P extends 'd' | 'a' | 'x'
      ? FormatWords<R, [...A, 0]>
      : P extends 'm'
        ? FormatWords<R, [...A, 0, 0]>
        : FormatWords<R, A>
    : A;
type Longer<A extends unknown[], B extends unknown[]> = A extends [...B, ...unknown[]] ? A['length'] : B['length'];
/** Argument words of an interned event (the longer of its formats; a tap's detail is its direction). */
export type TraceArity<K extends TraceKind, N extends string, D extends string> = K extends 'tap' ? 0 : Longer<FormatWords<N>, FormatWords<D>>;
type Words<N extends number, A extends unknown[] = []> = number extends N ? never : A['length'] extends N ? A : Words<N, [...A, 0]>;
/** Argument words of a segment: its events', in order. */
export type SegmentArity<C extends readonly unknown[], A extends unknown[] = []> = C extends readonly [infer H, ...infer R]
  ? H extends TraceCode<infer N>
    ? SegmentArity<R, [...A, ...Words<N>]>
    : never
  : A['length'];

const events: EventDesc[] = [];
const interned = new Map<string, number>();

/** Number placeholders of a format, in order: 'n' (%d %a %x) or 'm' (%m). */
function placeholders(f: string): string {
  let t = '';
  for (let i = f.indexOf('%'); i >= 0 && i + 1 < f.length; i = f.indexOf('%', i + 2)) {
    const p = f[i + 1];
    if (p === 'd' || p === 'a' || p === 'x') t += 'n';
    else if (p === 'm') t += 'm';
  }
  return t;
}

/**
 * The code of an event: its kind, its name and detail (formats of its
 * arguments when they have placeholders; a tap's detail is its direction,
 * IN or OUT), and whether it names an interface (`ifname`, given when
 * recording; a format's %s is that name too).  Called at module load: the
 * same texts give the same code.
 */
export function traceEvent<const K extends TraceKind, const N extends string, const D extends string = ''>(kind: K, name: N, detail: D = '' as D, ifname = kind === 'fn' || kind === 'tap'): TraceCode<TraceArity<K, N, D>> {
  const key = `${kind}\0${name}\0${detail}\0${ifname ? 1 : 0}`;
  const had = interned.get(key);
  if (had !== undefined) return had as TraceCode<TraceArity<K, N, D>>;
  const kn = KINDS.indexOf(kind);
  if (kn < 0) throw new Error(`traceEvent: no interned ${kind} events`);
  // A counter as an event of a segment: its name alone (bumped with CounterBlock.bump()).
  if (kn === K_COUNTER && (detail !== '' || ifname || name.includes('%'))) throw new Error(`traceEvent: counter ${name}: a name alone`);
  const tn = kn === K_TAP ? '' : placeholders(name);
  const td = kn === K_TAP ? '' : placeholders(detail);
  if (tn !== '' && td !== '' && !(tn.startsWith(td) || td.startsWith(tn))) throw new Error(`traceEvent: ${name} and ${detail} take different arguments`);
  const types = tn.length >= td.length ? tn : td;
  if (types.length > 3) throw new Error(`traceEvent: ${name}: at most three numbers`);
  const hasArgs = kn !== K_TAP && (name.includes('%') || detail.includes('%'));
  const k = kn | (ifname ? K_IF : 0) | (detail !== '' ? K_DETAIL : 0) | (hasArgs ? K_ARGS : 0);
  const words = types.length + (types.split('m').length - 1);
  return intern(key, { k, name, detail, words, types, rows: 1, seg: null }) as TraceCode<TraceArity<K, N, D>>;
}

/** One code for events always recorded together, in this order; its arguments are theirs, in order. */
export function traceSegment<const C extends readonly TraceCode<number>[]>(...codes: C): TraceCode<SegmentArity<C>> {
  const key = `seg\0${codes.join(',')}`;
  const had = interned.get(key);
  if (had !== undefined) return had as TraceCode<SegmentArity<C>>;
  let words = 0;
  for (const c of codes) {
    const e = events[c - FIRST_EVENT];
    if (e === undefined || e.seg !== null) throw new Error('traceSegment: events only');
    words += e.words;
  }
  if (codes.length > RMAX * (1 + words)) throw new Error('traceSegment: too many events for its words');
  if (words > SEGWORDS) throw new Error(`traceSegment: at most ${SEGWORDS} argument words`);
  return intern(key, { k: 0, name: '', detail: '', words, types: '', rows: codes.length, seg: codes }) as TraceCode<SegmentArity<C>>;
}

function intern(key: string, e: EventDesc): number {
  const code = FIRST_EVENT + events.length;
  if (code >= CTR_BASE) throw new Error('traceEvent: too many events');
  events.push(e);
  interned.set(key, code);
  return code;
}

/** The events of a segment code (an event's code: itself). */
export function traceParts(code: number): readonly number[] {
  return events[code - FIRST_EVENT]!.seg ?? [code];
}

/** An interned event's argument words. */
export function traceWords(code: number): number {
  return events[code - FIRST_EVENT]!.words;
}

/** An interned event's name and detail (a tap's: its direction). */
export function traceTexts(code: number): { name: string; detail: string } {
  const e = events[code - FIRST_EVENT]!;
  return { name: e.name, detail: e.detail };
}

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

/** What an interned event needs to know of its interface: the name (compared as the object: cheaper than strings). */
export interface TraceIf {
  readonly if_xname: string;
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

/** The first two of 6 bytes at b[o], the first word of an interned event's %m. */
export function macHi(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** The last four of 6 bytes at b[o], the second word of an interned event's %m. */
export function macLo(b: Uint8Array, o: number): number {
  return (b[o + 2]! << 24) | (b[o + 3]! << 16) | (b[o + 4]! << 8) | b[o + 5]!;
}

const INITIAL = 4096;
/** The journey of no context yet: equal to no packet's journey. */
const NOJ = new Journey(0, null, '');

export class Tracer {
  /** Every journey object made so far, by id - 1 (reused after clear()). */
  private readonly made: Journey[] = [];
  /** Journeys started since clear(): made[0..nj). */
  private nj = 0;
  private cur: Journey | null = null;
  /** Stop recording after this many rows (events and context records), so a runaway trace cannot eat the memory. */
  get limit(): number {
    return this.lim;
  }
  set limit(v: number) {
    this.lim = v;
    this.wedge = -1;
  }
  /** Events that did not fit under the limit. */
  lost = 0;

  // The records, see the module comment.
  private log = new Int32Array(INITIAL);
  private pos = 0;
  /** Times of the context records, and the arguments of records given as texts. */
  private wide = new Float64Array(INITIAL / 4);
  private nwide = 0;
  /** Hosts of the context records, interface names, texts and their string arguments. */
  private readonly refs: unknown[] = [];
  private nref = 0;
  private lim = 1_000_000;
  /**
   * Past this position a record takes the slow path (slow()): the log's
   * room, or rows near the limit (each word stands for RMAX rows at most).
   */
  private wedge = -1;
  /** Rows before position rowsPos (counted by rowsAt()). */
  private rowsPos = 0;
  private rowsN = 0;
  /** Context of the last record: time, journey, host; interface of the last interned event. */
  private ctxT = -1;
  private ctxJ: Journey | null = NOJ;
  private ctxH: TraceHost | null = null;
  private ctxIf: TraceIf | null = null;
  /**
   * What a record may take the fast path with: its host (null: take the
   * slow path), its packet's journey (NOJ for none), its interface.  Valid
   * only while the packet in hand is the last record's journey: whatever
   * changes the time, the packet in hand or the context clears fastH.
   */
  private fastH: TraceHost | null = null;
  private fastJ: Journey = NOJ;
  private fastIf: TraceIf | null = null;
  /** Where the record evi4c() recorded last ends (cont5() continues it there), -1 when none. */
  private cont = -1;
  /** A segment's argument words for pieces(): the fourth and fifth are put here by the methods that take them. */
  private readonly more = new Int32Array(SEGWORDS + 3);
  /** Blocks of the counters recorded, by index (counterBase()). */
  private readonly blocks: TraceCounters[] = [];
  /** Name of the world's event being run (a timer names the journeys it starts), '' when none. */
  private entry = '';
  /** The journey that armed that event (read when it starts: a timer re-arms itself as it runs). */
  private entryCause: Journey | null = null;
  /** Position of the journey word of this event's context record before it had a packet in hand (a timer's own), -1 when none. */
  private orphan = -1;
  /** Events read so far (`events` formats each once) and the reading position. */
  private readonly read: TraceEvent[] = [];
  private rpos = 0;
  private rref = 0;
  private rwide = 0;
  private rT = 0;
  private rJ = 0;
  private rH: TraceHost | null = null;
  private rIf = '';

  /** Journeys started since clear(), by id - 1. */
  get journeys(): Journey[] {
    return this.made.slice(0, this.nj);
  }

  /**
   * The journey of the packet being processed, for events that carry no
   * packet (counters).  The world clears it around each of its events
   * (enter/leave), so nothing is credited to a packet processed earlier.
   */
  get current(): Journey | null {
    return this.cur;
  }
  set current(j: Journey | null) {
    if (j !== this.cur) {
      this.cur = j;
      this.fastH = null;
    }
  }

  /** Rows recorded (events and their context records). */
  get length(): number {
    return this.rowsAt(this.pos);
  }

  /** The events, formatted (each event once, when first read). */
  get events(): readonly TraceEvent[] {
    const log = this.log;
    let p = this.rpos;
    const end = this.pos;
    while (p < end) {
      const c = log[p]!;
      if (c >= CTR_BASE) {
        const blk = this.blocks[(c >>> 16) - 1]!;
        this.push(K_COUNTER, blk.nameOf(c & 0xffff), '', '');
        p++;
      } else if (c >= FIRST_EVENT) {
        const e = events[c - FIRST_EVENT]!;
        p++;
        if (e.seg === null) p = this.readEvent(e, p);
        else for (const s of e.seg) p = this.readEvent(events[s - FIRST_EVENT]!, p);
      } else if (c === R_J) {
        this.rJ = log[p + 1]!;
        p += 2;
      } else if (c === R_CTX) {
        this.rJ = log[p + 1]!;
        this.rT = this.wide[this.rwide++]!;
        this.rH = this.refs[this.rref++] as TraceHost;
        p += 2;
      } else if (c === R_IF) {
        this.rIf = this.refs[this.rref++] as string;
        p++;
      } else if (c === R_DYN) {
        this.readDyn(log[p + 1]!);
        p += 2;
      } else if (c === R_CTRN) {
        const blk = this.blocks[(log[p + 1]! >>> 16) - 1]!;
        const n = this.wide[this.rwide++]!;
        this.push(K_COUNTER, blk.nameOf(log[p + 1]! & 0xffff), '', n === 1 ? '' : `+${n}`);
        p += 2;
      } else if (c === R_CTRS) {
        const name = this.refs[this.rref++] as string;
        const n = this.wide[this.rwide++]!;
        this.push(K_COUNTER, name, '', n === 1 ? '' : `+${n}`);
        p++;
      } else throw new Error(`Tracer: bad record ${c} at ${p}`);
    }
    this.rpos = p;
    return this.read;
  }

  /** Forget every event and journey (a long run drops what it has looked at). */
  clear(): void {
    // Records are overwritten in place; what refs still reference (kernels,
    // counter blocks, constant strings) lives on anyway.
    this.pos = 0;
    this.nwide = 0;
    this.nref = 0;
    this.wedge = -1;
    this.rowsPos = 0;
    this.rowsN = 0;
    this.read.length = 0;
    this.rpos = 0;
    this.rref = 0;
    this.rwide = 0;
    this.rIf = '';
    this.nj = 0;
    this.cur = null;
    this.ctxJ = NOJ;
    this.ctxT = -1;
    this.ctxH = null;
    this.ctxIf = null;
    this.fastH = null;
    this.orphan = -1;
    this.cont = -1;
  }

  /** The world runs an event (World.fire): no packet is in hand yet. */
  enter(e: { readonly name: string; readonly armedBy: object | null }): void {
    this.cur = null;
    this.fastH = null;
    this.entry = e.name;
    this.entryCause = e.armedBy as Journey | null;
    this.orphan = -1;
  }

  /** The event is over: what runs between events (a command) has no packet in hand. */
  leave(): void {
    this.cur = null;
    this.fastH = null;
    this.entry = '';
    this.entryCause = null;
  }

  /** The world's clock moved without an event (World.runTo): the next record looks at the time. */
  stale(): void {
    this.fastH = null;
  }

  /** What a timer armed now is armed by (World.schedule): the packet in hand, else the cause of the running event. */
  armer(): Journey | null {
    return this.cur ?? this.entryCause;
  }

  /**
   * A new journey (ids count from 1), optionally caused by `parent`.  The
   * objects of journeys dropped by clear() are reused: one per packet, they
   * would be young objects stored into old ones (mbufs, this tracer), a
   * write barrier's slow path and a scavenge's work each.
   */
  journey(cause: string, parent: Journey | null = null): Journey {
    const n = this.nj;
    let j = this.made[n];
    if (j === undefined) {
      j = new Journey(n + 1, parent, cause);
      this.made.push(j);
    } else {
      j.parent = parent;
      j.cause = cause;
    }
    this.nj = n + 1;
    return j;
  }

  /**
   * The journey of m, starting one if m has none: a packet that appears
   * while another is being processed is caused by it.
   */
  of(m: Mbuf | null, cause = 'packet'): Journey | null {
    if (m === null) return this.cur;
    let j = m.trace as Journey | null;
    if (j === null) {
      j = this.begin(cause, this.cur);
      m.trace = j;
    }
    this.current = j;
    return j;
  }

  /** A packet created because of the packet being processed (reply, error, fragment, ARP request). */
  caused(m: Mbuf, cause: string): void {
    m.trace = this.begin(cause, this.cur);
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
    if (r - 1 >= this.rpos && r < this.pos) {
      this.log[r] = j.id;
      this.ctxJ = j;
      this.fastH = null;
    }
    this.orphan = -1;
    return j;
  }

  // ---- interned events (traceEvent): the hot trace points ----
  // Each checks that the record can go where the last one went (same host,
  // same journey, same interface, room) and writes its words; anything
  // else takes slow(), which writes the context and interface records.

  /** An interned event without interface or arguments. */
  ev(h: TraceHost, m: Mbuf | null, code: TraceCode<0>): void {
    let p = this.pos;
    if (h !== this.fastH || p > this.wedge || (m !== null && m.trace !== this.fastJ)) {
      p = this.slow(h, m, code, null, 0, 0, 0);
      if (p < 0) return;
    }
    this.log[p] = code;
    this.pos = p + 1;
  }

  /** An interned event of one argument word. */
  ev1(h: TraceHost, m: Mbuf | null, code: TraceCode<1>, a: number): void {
    let p = this.pos;
    if (h !== this.fastH || p > this.wedge || (m !== null && m.trace !== this.fastJ)) {
      p = this.slow(h, m, code, null, a, 0, 0);
      if (p < 0) return;
    }
    const log = this.log;
    log[p] = code;
    log[p + 1] = a;
    this.pos = p + 2;
  }

  /** An interned event of two argument words. */
  ev2(h: TraceHost, m: Mbuf | null, code: TraceCode<2>, a: number, b: number): void {
    let p = this.pos;
    if (h !== this.fastH || p > this.wedge || (m !== null && m.trace !== this.fastJ)) {
      p = this.slow(h, m, code, null, a, b, 0);
      if (p < 0) return;
    }
    const log = this.log;
    log[p] = code;
    log[p + 1] = a;
    log[p + 2] = b;
    this.pos = p + 3;
  }

  /** An interned event of three argument words. */
  ev3(h: TraceHost, m: Mbuf | null, code: TraceCode<3>, a: number, b: number, c: number): void {
    let p = this.pos;
    if (h !== this.fastH || p > this.wedge || (m !== null && m.trace !== this.fastJ)) {
      p = this.slow(h, m, code, null, a, b, c);
      if (p < 0) return;
    }
    const log = this.log;
    log[p] = code;
    log[p + 1] = a;
    log[p + 2] = b;
    log[p + 3] = c;
    this.pos = p + 4;
  }

  /** An interned event (a segment) of four argument words. */
  ev4(h: TraceHost, m: Mbuf | null, code: TraceCode<4>, a: number, b: number, c: number, d: number): void {
    let p = this.pos;
    if (h !== this.fastH || p > this.wedge || (m !== null && m.trace !== this.fastJ)) {
      p = this.slow45(h, m, code, null, a, b, c, d, 0);
      if (p < 0) return;
    }
    const log = this.log;
    log[p] = code;
    log[p + 1] = a;
    log[p + 2] = b;
    log[p + 3] = c;
    log[p + 4] = d;
    this.pos = p + 5;
  }

  /** An interned event of five argument words (two MAC addresses and a number). */
  ev5(h: TraceHost, m: Mbuf | null, code: TraceCode<5>, a: number, b: number, c: number, d: number, e: number): void {
    let p = this.pos;
    if (h !== this.fastH || p > this.wedge || (m !== null && m.trace !== this.fastJ)) {
      p = this.slow45(h, m, code, null, a, b, c, d, e);
      if (p < 0) return;
    }
    const log = this.log;
    log[p] = code;
    log[p + 1] = a;
    log[p + 2] = b;
    log[p + 3] = c;
    log[p + 4] = d;
    log[p + 5] = e;
    this.pos = p + 6;
  }

  /** An interned event on interface ifp, without arguments. */
  evi(h: TraceHost, m: Mbuf | null, code: TraceCode<0>, ifp: TraceIf): void {
    let p = this.pos;
    if (h !== this.fastH || ifp !== this.fastIf || p > this.wedge || (m !== null && m.trace !== this.fastJ)) {
      p = this.slow(h, m, code, ifp, 0, 0, 0);
      if (p < 0) return;
    }
    this.log[p] = code;
    this.pos = p + 1;
  }

  /** An interned event on interface ifp, of one argument word. */
  evi1(h: TraceHost, m: Mbuf | null, code: TraceCode<1>, ifp: TraceIf, a: number): void {
    let p = this.pos;
    if (h !== this.fastH || ifp !== this.fastIf || p > this.wedge || (m !== null && m.trace !== this.fastJ)) {
      p = this.slow(h, m, code, ifp, a, 0, 0);
      if (p < 0) return;
    }
    const log = this.log;
    log[p] = code;
    log[p + 1] = a;
    this.pos = p + 2;
  }

  /** An interned event on interface ifp, of two argument words. */
  evi2(h: TraceHost, m: Mbuf | null, code: TraceCode<2>, ifp: TraceIf, a: number, b: number): void {
    let p = this.pos;
    if (h !== this.fastH || ifp !== this.fastIf || p > this.wedge || (m !== null && m.trace !== this.fastJ)) {
      p = this.slow(h, m, code, ifp, a, b, 0);
      if (p < 0) return;
    }
    const log = this.log;
    log[p] = code;
    log[p + 1] = a;
    log[p + 2] = b;
    this.pos = p + 3;
  }

  /** An interned event on interface ifp, of three argument words. */
  evi3(h: TraceHost, m: Mbuf | null, code: TraceCode<3>, ifp: TraceIf, a: number, b: number, c: number): void {
    let p = this.pos;
    if (h !== this.fastH || ifp !== this.fastIf || p > this.wedge || (m !== null && m.trace !== this.fastJ)) {
      p = this.slow(h, m, code, ifp, a, b, c);
      if (p < 0) return;
    }
    const log = this.log;
    log[p] = code;
    log[p + 1] = a;
    log[p + 2] = b;
    log[p + 3] = c;
    this.pos = p + 4;
  }

  /** An interned event (a segment) on interface ifp, of four argument words. */
  evi4(h: TraceHost, m: Mbuf | null, code: TraceCode<4>, ifp: TraceIf, a: number, b: number, c: number, d: number): void {
    let p = this.pos;
    if (h !== this.fastH || ifp !== this.fastIf || p > this.wedge || (m !== null && m.trace !== this.fastJ)) {
      p = this.slow45(h, m, code, ifp, a, b, c, d, 0);
      if (p < 0) return;
    }
    const log = this.log;
    log[p] = code;
    log[p + 1] = a;
    log[p + 2] = b;
    log[p + 3] = c;
    log[p + 4] = d;
    this.pos = p + 5;
  }

  // The first record of a packet's passage through a layer (the receive
  // interrupt, softnet's input, the start routine, ip_output on the
  // interface out): its journey or interface is usually not the last
  // record's.  These switch them here (switched()) where the methods above
  // take slow(), a call; only a few trace points use them, so the inlining
  // budget of the others is not spent on it.

  /** evi() for the first record of a passage: another journey or interface than the last record's switched inline. */
  evin(h: TraceHost, m: Mbuf, code: TraceCode<0>, ifp: TraceIf): void {
    let p = this.pos;
    const j = m.trace as Journey | null;
    if (h !== this.fastH || p > this.wedge || j === null) {
      p = this.slow(h, m, code, ifp, 0, 0, 0);
      if (p < 0) return;
    } else if (j !== this.fastJ || ifp !== this.fastIf) p = this.switched(p, j, ifp);
    this.log[p] = code;
    this.pos = p + 1;
  }

  /** evi2() for the first record of a passage (as evin()). */
  evin2(h: TraceHost, m: Mbuf, code: TraceCode<2>, ifp: TraceIf, a: number, b: number): void {
    let p = this.pos;
    const j = m.trace as Journey | null;
    if (h !== this.fastH || p > this.wedge || j === null) {
      p = this.slow(h, m, code, ifp, a, b, 0);
      if (p < 0) return;
    } else if (j !== this.fastJ || ifp !== this.fastIf) p = this.switched(p, j, ifp);
    const log = this.log;
    log[p] = code;
    log[p + 1] = a;
    log[p + 2] = b;
    this.pos = p + 3;
  }

  /** evi3() for the first record of a passage (as evin()). */
  evin3(h: TraceHost, m: Mbuf, code: TraceCode<3>, ifp: TraceIf, a: number, b: number, c: number): void {
    let p = this.pos;
    const j = m.trace as Journey | null;
    if (h !== this.fastH || p > this.wedge || j === null) {
      p = this.slow(h, m, code, ifp, a, b, c);
      if (p < 0) return;
    } else if (j !== this.fastJ || ifp !== this.fastIf) p = this.switched(p, j, ifp);
    const log = this.log;
    log[p] = code;
    log[p + 1] = a;
    log[p + 2] = b;
    log[p + 3] = c;
    this.pos = p + 4;
  }

  // A record the next trace point may continue: arpresolve's cached
  // answer, then ether_encap's header (ether_output calls one after the
  // other), one record when nothing else was recorded between them.

  /** evi4() of a record that cont5() may continue. */
  evi4c(h: TraceHost, m: Mbuf, code: TraceCode<4>, ifp: TraceIf, a: number, b: number, c: number, d: number): void {
    let p = this.pos;
    if (h !== this.fastH || ifp !== this.fastIf || p > this.wedge || m.trace !== this.fastJ) {
      p = this.slow45(h, m, code, ifp, a, b, c, d, 0);
      if (p < 0) return;
    }
    const log = this.log;
    log[p] = code;
    log[p + 1] = a;
    log[p + 2] = b;
    log[p + 3] = c;
    log[p + 4] = d;
    this.pos = p + 5;
    this.cont = p + 5;
  }

  /**
   * Five argument words that continue the record of `prev` evi4c() made
   * last, when nothing was recorded or read since and the packet, host
   * and room are still the fast path's: its code becomes `code` (prev's
   * events, then `alone`'s), these words follow its own.  Else a record of
   * `alone`, as ev5().
   */
  cont5(h: TraceHost, m: Mbuf, prev: TraceCode<4>, code: TraceCode<9>, alone: TraceCode<5>, a: number, b: number, c: number, d: number, e: number): void {
    const p = this.pos;
    const log = this.log;
    if (p !== this.cont || h !== this.fastH || p > this.wedge || m.trace !== this.fastJ || log[p - 5] !== prev || this.rowsPos > p - 5 || this.rpos > p - 5) {
      this.ev5(h, m, alone, a, b, c, d, e);
      return;
    }
    log[p - 5] = code;
    log[p] = a;
    log[p + 1] = b;
    log[p + 2] = c;
    log[p + 3] = d;
    log[p + 4] = e;
    this.pos = p + 5;
    this.cont = -1;
  }

  // Events with a bpf tap (an interned tap, or a segment that ends with
  // one): their own methods, so that a tracer that shows what the tap saw
  // (the lab's) can take them apart.

  /** An interned tap (or segment ending with one) on interface ifp, without arguments. */
  tapi(h: TraceHost, m: Mbuf, code: TraceCode<0>, ifp: TraceIf): void {
    this.evi(h, m, code, ifp);
  }

  /** A segment ending with a tap on interface ifp, of one argument word. */
  tapi1(h: TraceHost, m: Mbuf, code: TraceCode<1>, ifp: TraceIf, a: number): void {
    this.evi1(h, m, code, ifp, a);
  }

  /** A segment ending with a tap on interface ifp, of two argument words. */
  tapi2(h: TraceHost, m: Mbuf, code: TraceCode<2>, ifp: TraceIf, a: number, b: number): void {
    // The receive interrupt's and the start routine's record, each the first of its packet there.
    this.evin2(h, m, code, ifp, a, b);
  }

  /** The code of counters of block b: its counters' are this | id (CounterBlock.traceBase). */
  counterBase(b: TraceCounters): number {
    let i = this.blocks.indexOf(b);
    if (i < 0) i = this.blocks.push(b) - 1;
    if (i + 1 >= 0x8000) throw new Error('Tracer: too many counter blocks');
    return (i + 1) << 16;
  }

  /** A counter bumped by one while processing the current packet: code is counterBase(block) | id. */
  ctr(h: TraceHost, code: number): void {
    let p = this.pos;
    if (h !== this.fastH || p > this.wedge) {
      p = this.slow(h, null, code, null, 0, 0, 0);
      if (p < 0) return;
    }
    this.log[p] = code;
    this.pos = p + 1;
  }

  /** A counter bumped by n (code as for ctr()). */
  ctrn(h: TraceHost, code: number, n: number): void {
    if (n === 1) {
      this.ctr(h, code);
      return;
    }
    const p = this.slow(h, null, R_CTRN, null, 0, 0, 0);
    if (p < 0) return;
    this.log[p] = R_CTRN;
    this.log[p + 1] = code;
    this.putWide(n);
    this.pos = p + 2;
  }

  // ---- events given as texts (see the module comment) ----

  /** A function entered; with a given, detail is a format of a, b, c, s, s2. */
  fn(h: TraceHost, m: Mbuf | null, name: string, ifname = '', detail = '', a = NaN, b = 0, c = 0, s = '', s2 = ''): void {
    this.dyn(h, m, K_FN | K_IF | K_DETAIL, name, ifname, detail, a, b, c, s, s2);
  }

  /** A branch taken; with a given, text and detail are formats. */
  branch(h: TraceHost, m: Mbuf | null, text: string, detail = '', a = NaN, b = 0, c = 0, s = '', s2 = ''): void {
    this.dyn(h, m, K_BRANCH | K_DETAIL, text, '', detail, a, b, c, s, s2);
  }

  /** The packet dropped, and why; with a given, reason and detail are formats. */
  drop(h: TraceHost, m: Mbuf | null, reason: string, detail = '', a = NaN, b = 0, c = 0, s = '', s2 = ''): void {
    this.dyn(h, m, K_DROP | K_DETAIL, reason, '', detail, a, b, c, s, s2);
  }

  tap(h: TraceHost, m: Mbuf | null, name: string, ifname: string, dir: 'IN' | 'OUT'): void {
    this.tapAt(h, m, name, ifname, dir);
  }

  /** A change of the packet's bytes; what is a format when a is given. */
  bytes(h: TraceHost, m: Mbuf | null, what: string, a = NaN, b = 0, c = 0, s = '', s2 = ''): void {
    this.dyn(h, m, K_BYTES, what, '', '', a, b, c, s, s2);
  }

  /** A counter bumped while processing the current packet, by name. */
  counter(h: TraceHost, name: string, n: number): void {
    const p = this.slow(h, null, R_CTRS, null, 0, 0, 0);
    if (p < 0) return;
    this.log[p] = R_CTRS;
    this.refs[this.nref++] = name;
    this.putWide(n);
    this.pos = p + 1;
  }

  /** A counter bumped, as block and id. */
  counterOf(h: TraceHost, block: TraceCounters, id: number, n: number): void {
    this.ctrn(h, this.counterBase(block) | id, n);
  }

  /** A tap recorded with its detail (the direction) as a reference: the reference's index, -1 when not recorded. */
  protected tapAt(h: TraceHost, m: Mbuf | null, name: string, ifname: string, dir: string): number {
    const p = this.slow(h, m, R_DYN, null, 0, 0, 0);
    if (p < 0) return -1;
    this.log[p] = R_DYN;
    this.log[p + 1] = K_TAP | K_IF | K_DETAIL;
    const r = this.nref;
    this.refs[r] = name;
    this.refs[r + 1] = ifname;
    this.refs[r + 2] = dir;
    this.nref = r + 3;
    this.pos = p + 2;
    return r + 2;
  }

  /** Replace the reference at index r (a tracer that learns more after recording, e.g. a tap's tcpdump line). */
  protected setRef(r: number, v: string): void {
    if (r >= 0 && r < this.nref) this.refs[r] = v;
  }

  private dyn(h: TraceHost, m: Mbuf | null, k: number, name: string, ifname: string, detail: string, a: number, b: number, c: number, s: string, s2: string): void {
    const p = this.slow(h, m, R_DYN, null, 0, 0, 0);
    if (p < 0) return;
    const args = a === a;
    this.log[p] = R_DYN;
    this.log[p + 1] = args ? k | K_ARGS : k;
    const refs = this.refs;
    let r = this.nref;
    refs[r++] = name;
    if (k & K_IF) refs[r++] = ifname;
    if (k & K_DETAIL) refs[r++] = detail;
    if (args) {
      refs[r++] = s;
      refs[r++] = s2;
      this.putWide(a);
      this.putWide(b);
      this.putWide(c);
    }
    this.nref = r;
    this.pos = p + 2;
  }

  private putWide(v: number): void {
    if (this.nwide === this.wide.length) {
      const w = new Float64Array(this.wide.length * 2);
      w.set(this.wide);
      this.wide = w;
    }
    this.wide[this.nwide++] = v;
  }

  /**
   * Where a record of `code` goes when the fast path cannot tell: the
   * packet's journey (started if it has none), a context record when the
   * time, journey or host changed, an interface record when ifp (not
   * null) is not the last one, room, and the limit (an event is recorded
   * while the rows before it are fewer than limit - 1, as one row at a
   * time).  The position of the record, or -1 when it is not recorded (a
   * segment across the limit records its events one by one, here).
   */
  private slow(h: TraceHost, m: Mbuf | null, code: number, ifp: TraceIf | null, a: number, b: number, c: number): number {
    // One function, over V8's default 460-byte inlining limit: inlined
    // into each trace point, it spent the callers' budget on a path a few
    // records take (src/lib/jit.ts's larger limit inlines it, as cold code).
    let p = this.pos;
    if (h === this.fastH && p <= this.wedge && (m === null || m.trace !== null)) {
      // The same host at the same time: another packet's journey, another interface.
      p = this.switched(p, m === null ? this.fastJ : (m.trace as Journey), ifp);
      this.pos = p;
      return p;
    }
    // The time or host may differ from the last record's, or the room is near its end.
    let j: Journey | null;
    if (m !== null) {
      j = m.trace as Journey | null;
      if (j === null) j = this.of(m);
      else if (j !== this.cur) this.cur = j;
    } else j = this.cur;
    const now = h.world.now;
    const ctx = now !== this.ctxT || j !== this.ctxJ || h !== this.ctxH;
    if (p > this.wedge) {
      if (p + MAXREC >= this.log.length) this.grow();
      const rows = this.rowsAt(p);
      const k = code >= FIRST_EVENT && code < CTR_BASE ? events[code - FIRST_EVENT]!.rows : 1;
      if (rows + 1 >= this.lim) {
        this.lost += k;
        this.wedge = -1;
        return -1;
      }
      if (rows + (ctx ? 1 : 0) + k >= this.lim) {
        // Near the limit: one row at a time, each event of a segment on its own.
        this.wedge = -1;
        if (k === 1) return this.place(p, now, j, h, ctx, ifp);
        this.pieces(h, m, code, ifp, a, b, c);
        return -1;
      }
      this.wedge = Math.min(this.log.length - MAXREC, p + Math.floor((this.lim - rows - 2) / RMAX) - MAXREC);
    }
    return this.place(p, now, j, h, ctx, ifp);
  }

  /**
   * The journey and interface records before a record at p of journey j
   * on ifp (null: none), when the fast path's host, time and room hold;
   * the record's position.
   */
  private switched(p: number, j: Journey, ifp: TraceIf | null): number {
    const log = this.log;
    if (j !== this.fastJ) {
      log[p] = R_J;
      log[p + 1] = j.id;
      p += 2;
      this.cur = j;
      this.ctxJ = j;
      this.fastJ = j;
      this.orphan = -1;
    }
    if (ifp !== null && ifp !== this.ctxIf) {
      this.ctxIf = ifp;
      this.fastIf = ifp;
      log[p] = R_IF;
      this.refs[this.nref++] = ifp.if_xname;
      p++;
    }
    return p;
  }

  /** slow() for a record of four or five argument words: the fourth and fifth kept for pieces(). */
  private slow45(h: TraceHost, m: Mbuf | null, code: number, ifp: TraceIf | null, a: number, b: number, c: number, d: number, e: number): number {
    this.more[3] = d;
    this.more[4] = e;
    return this.slow(h, m, code, ifp, a, b, c);
  }

  /** The context and interface records before a record at p; the record's position. */
  private place(p: number, now: number, j: Journey | null, h: TraceHost, ctx: boolean, ifp: TraceIf | null): number {
    const log = this.log;
    if (ctx) {
      this.ctxT = now;
      this.ctxJ = j;
      this.ctxH = h;
      log[p] = R_CTX;
      log[p + 1] = j === null ? 0 : j.id;
      this.orphan = j === null ? p + 1 : -1;
      this.putWide(now);
      this.refs[this.nref++] = h;
      p += 2;
    }
    if (ifp !== null && ifp !== this.ctxIf) {
      this.ctxIf = ifp;
      log[p] = R_IF;
      this.refs[this.nref++] = ifp.if_xname;
      p++;
    }
    this.fastH = h;
    this.fastJ = j ?? NOJ;
    this.fastIf = this.ctxIf;
    this.pos = p;
    return p;
  }

  /** A segment's events recorded one by one (near the limit). */
  private pieces(h: TraceHost, m: Mbuf | null, code: number, ifp: TraceIf | null, a: number, b: number, c: number): void {
    // Words past the third are in `more` (ev4, evi4, ev5 put them there before slow()).
    const args = this.more;
    args[0] = a;
    args[1] = b;
    args[2] = c;
    let w = 0;
    for (const s of events[code - FIRST_EVENT]!.seg!) {
      const n = events[s - FIRST_EVENT]!.words;
      const p = this.slow(h, m, s, ifp, args[w]!, args[w + 1]!, args[w + 2]!);
      if (p >= 0) {
        const log = this.log;
        log[p] = s;
        for (let i = 0; i < n; i++) log[p + 1 + i] = args[w + i]!;
        this.pos = p + 1 + n;
      }
      w += n;
    }
  }

  /** Rows (events and context records) of the records before position p. */
  private rowsAt(p: number): number {
    const log = this.log;
    let q = this.rowsPos;
    let rows = this.rowsN;
    while (q < p) {
      const c = log[q]!;
      if (c >= CTR_BASE) {
        rows++;
        q++;
      } else if (c >= FIRST_EVENT) {
        const e = events[c - FIRST_EVENT]!;
        rows += e.rows;
        q += 1 + e.words;
      } else if (c === R_IF) q++;
      else if (c === R_CTRS) {
        rows++;
        q++;
      } else {
        // R_CTX, R_J, R_DYN, R_CTRN: two words, one row.
        rows++;
        q += 2;
      }
    }
    this.rowsPos = q;
    this.rowsN = rows;
    return rows;
  }

  private grow(): void {
    const log = new Int32Array(this.log.length * 2);
    log.set(this.log);
    this.log = log;
  }

  /** Event e of interned record words at p, formatted in the context read last; the position after its words. */
  private readEvent(e: EventDesc, p: number): number {
    const log = this.log;
    let a = 0;
    let b = 0;
    let c = 0;
    const t = e.types;
    for (let i = 0; i < t.length; i++) {
      let v: number;
      if (t[i] === 'm') {
        v = log[p]! * 0x100000000 + (log[p + 1]! >>> 0);
        p += 2;
      } else v = log[p++]!;
      if (i === 0) a = v;
      else if (i === 1) b = v;
      else c = v;
    }
    const kind = e.k & K_KIND;
    const ifname = e.k & K_IF ? this.rIf : '';
    let name = e.name;
    let detail = e.k & K_DETAIL ? e.detail : '';
    if (e.k & K_ARGS) {
      name = traceFormat(name, a, b, c, this.rIf, '');
      if (kind !== K_TAP) detail = traceFormat(detail, a, b, c, this.rIf, '');
    }
    this.push(kind, name, ifname, detail);
    return p;
  }

  /** A record given as texts, kind and flags k, formatted in the context read last. */
  private readDyn(k: number): void {
    const refs = this.refs;
    const kind = k & K_KIND;
    let name = refs[this.rref++] as string;
    const ifname = k & K_IF ? (refs[this.rref++] as string) : '';
    let detail = k & K_DETAIL ? (refs[this.rref++] as string) : '';
    if (k & K_ARGS) {
      const s = refs[this.rref++] as string;
      const s2 = refs[this.rref++] as string;
      const w = this.wide;
      const a = w[this.rwide]!;
      const b = w[this.rwide + 1]!;
      const c = w[this.rwide + 2]!;
      this.rwide += 3;
      name = traceFormat(name, a, b, c, s, s2);
      if (kind !== K_TAP) detail = traceFormat(detail, a, b, c, s, s2);
    }
    this.push(kind, name, ifname, detail);
  }

  private push(kind: number, name: string, ifname: string, detail: string): void {
    this.read.push({ t: this.rT, host: this.rH!.hostname, journey: this.rJ, kind: KINDS[kind]!, name, ifname, detail });
  }
}
