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
 * Trace point names are OpenBSD's function names (`ether_input`,
 * `ip_forward`, `bpf_mtap_ether`...), so a journey reads like the talk.
 */
import type { Mbuf } from './uipc_mbuf.js';

export type TraceKind = 'fn' | 'branch' | 'counter' | 'tap' | 'bytes' | 'drop';

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

export class Tracer {
  readonly events: TraceEvent[] = [];
  readonly journeys: Journey[] = [];
  /** The journey of the packet being processed, for events that carry no packet (counters). */
  current: Journey | null = null;
  /** Stop recording after this many events, so a runaway trace cannot eat the memory. */
  limit = 1_000_000;
  /** Events that did not fit under the limit. */
  lost = 0;

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
    this.current = j;
    return j;
  }

  /** A packet created because of the packet being processed (reply, error, fragment, ARP request). */
  caused(m: Mbuf, cause: string): void {
    m.trace = this.journey(cause, this.current);
  }

  fn(h: TraceHost, m: Mbuf | null, name: string, ifname = '', detail = ''): void {
    this.record(h, m, 'fn', name, ifname, detail);
  }

  branch(h: TraceHost, m: Mbuf | null, text: string, detail = ''): void {
    this.record(h, m, 'branch', text, '', detail);
  }

  drop(h: TraceHost, m: Mbuf | null, reason: string, detail = ''): void {
    this.record(h, m, 'drop', reason, '', detail);
  }

  tap(h: TraceHost, m: Mbuf | null, name: string, ifname: string, dir: 'IN' | 'OUT'): void {
    this.record(h, m, 'tap', name, ifname, dir);
  }

  bytes(h: TraceHost, m: Mbuf | null, what: string): void {
    this.record(h, m, 'bytes', what, '', '');
  }

  /** A counter bumped while processing the current packet (CounterBlock calls this). */
  counter(h: TraceHost, name: string, n: number): void {
    this.record(h, null, 'counter', name, '', n === 1 ? '' : `+${n}`);
  }

  private record(h: TraceHost, m: Mbuf | null, kind: TraceKind, name: string, ifname: string, detail: string): void {
    const j = this.of(m);
    if (this.events.length >= this.limit) {
      this.lost++;
      return;
    }
    this.events.push({ t: h.world.now, host: h.hostname, journey: j === null ? 0 : j.id, kind, name, ifname, detail });
  }
}
