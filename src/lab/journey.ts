/**
 * The journey of a packet, rendered: `trace CMD` attaches a LabTracer to
 * every machine and cable of the lab, runs CMD, and prints for every
 * packet the command sent and every packet they caused (ARP requests and
 * replies, echo replies, ICMP errors, fragments) the machines it crossed,
 * on each the ordered function path in OpenBSD's names, the branches taken
 * and why, the counters bumped, the bpf taps passed (with what tcpdump
 * shows there) and the changes of its bytes.
 *
 * LabTracer differs from the kernel's Tracer in two ways: a packet that
 * starts without a journey is a new root named by the command (packets
 * caused by another call Tracer.caused() on the packet path), unless a
 * kernel timer sends it: then it is the timer's (`tcp_timer_rexmt`),
 * linked to the journey that armed the timer, as in the kernel's Tracer.
 * And the first tap of a journey records the packet's tcpdump line as its
 * summary.
 */
import { Tracer, traceParts, traceTexts, traceWords, type Journey, type TraceCode, type TraceEvent, type TraceHost, type TraceIf } from '../sys/kern/kern_trace.js';
import type { Mbuf } from '../sys/kern/uipc_mbuf.js';
import { OutBuf } from '../usr.sbin/tcpdump/outbuf.js';
import { PrintState, printPacket, DLT_EN10MB, LINKTYPE_RAW } from '../usr.sbin/tcpdump/print.js';

export class LabTracer extends Tracer {
  /** tcpdump line of each journey's packet, by journey id. */
  readonly summaries = new Map<number, string>();
  private readonly ps = new PrintState({ nflag: true, tflag: 0, thiszone: 0 });
  private text = '';
  private readonly out = new OutBuf((b, n) => {
    this.text += Buffer.from(b.buffer, b.byteOffset, n).toString('latin1');
  });

  constructor(readonly rootCause: string) {
    super();
  }

  override of(m: Mbuf | null, cause = 'packet'): Journey | null {
    if (m !== null && m.trace === null) {
      const j = this.begin(this.rootCause || cause, null);
      m.trace = j;
      this.current = j;
      return j;
    }
    return super.of(m, cause);
  }

  override tap(h: TraceHost, m: Mbuf | null, name: string, ifname: string, dir: 'IN' | 'OUT'): void {
    const r = this.tapAt(h, m, name, ifname, dir);
    if (m === null) return;
    // The bytes are only here now: the tcpdump line is made when recording.
    const line = this.print(m, name === 'bpf_mtap_ether' ? DLT_EN10MB : LINKTYPE_RAW);
    const j = m.trace as Journey | null;
    if (j !== null && !this.summaries.has(j.id)) this.summaries.set(j.id, line);
    if (r >= 0) this.setRef(r, `${dir} ${line}`);
  }

  // Interned taps and the segments that end with one: their other events
  // as they are, the tap as tap() (for its tcpdump line).
  override tapi(h: TraceHost, m: Mbuf, code: TraceCode<0>, ifp: TraceIf): void {
    this.tapOf(h, m, code, ifp, 0, 0);
  }

  override tapi1(h: TraceHost, m: Mbuf, code: TraceCode<1>, ifp: TraceIf, a: number): void {
    this.tapOf(h, m, code, ifp, a, 0);
  }

  override tapi2(h: TraceHost, m: Mbuf, code: TraceCode<2>, ifp: TraceIf, a: number, b: number): void {
    this.tapOf(h, m, code, ifp, a, b);
  }

  private tapOf(h: TraceHost, m: Mbuf, code: number, ifp: TraceIf, a: number, b: number): void {
    const parts = traceParts(code);
    const tap = parts[parts.length - 1]!;
    // The segment's other events take the words their own formats read, in order (known only now: casts).
    let used = 0;
    for (let i = 0; i < parts.length - 1; i++) {
      const e = parts[i]!;
      const w = traceWords(e);
      const x = used === 0 ? a : b;
      if (w === 0) this.evi(h, m, e as TraceCode<0>, ifp);
      else if (w === 1) this.evi1(h, m, e as TraceCode<1>, ifp, x);
      else this.evi2(h, m, e as TraceCode<2>, ifp, a, b);
      used += w;
    }
    const t = traceTexts(tap);
    this.tap(h, m, t.name, ifp.if_xname, t.detail as 'IN' | 'OUT');
  }

  /** What tcpdump -n would print for the packet (without timestamp). */
  print(m: Mbuf, dlt: number): string {
    this.text = '';
    printPacket(this.out, this.ps, dlt, 0, 0, m.buf, m.off, m.len, m.len);
    this.out.flush();
    return this.text.replace(/\n$/, '').replace(/\n/g, ' ');
  }
}

export interface JourneyHop {
  host: string;
  /** Virtual time of the first and last event here, seconds. */
  t0: number;
  t1: number;
  /** The function path, in order, with taps as `bpf_mtap_ether(IN)`. */
  path: string[];
  events: Array<{ t: number; kind: string; name: string; ifname: string; detail: string }>;
}

export interface JourneyData {
  id: number;
  /** The journey that caused this one (null: sent by the command). */
  parent: number | null;
  cause: string;
  /** Machine where it was caused. */
  origin: string;
  /** tcpdump's line for the packet at its first tap. */
  packet: string;
  hops: JourneyHop[];
  /** Journeys this one caused. */
  caused: number[];
  /** The packet's fate: where it ended. */
  fate: string;
}

export interface TraceData {
  command: string;
  machine: string;
  journeys: JourneyData[];
  lost: number;
}

/** Group a tracer's events into journeys and hops. */
export function journeyData(t: LabTracer, command: string, machine: string): TraceData {
  const byId = new Map<number, JourneyData>();
  for (const j of t.journeys) {
    byId.set(j.id, { id: j.id, parent: j.parent?.id ?? null, cause: j.cause, origin: '', packet: t.summaries.get(j.id) ?? '', hops: [], caused: [], fate: '' });
  }
  for (const j of byId.values()) if (j.parent !== null) byId.get(j.parent)?.caused.push(j.id);
  /** The direction of the last pf_test on a hop, as its path names it. */
  const pfDir = new Map<JourneyHop, string>();
  for (const e of t.events) {
    const j = byId.get(e.journey);
    if (j === undefined) continue;
    let hop = j.hops[j.hops.length - 1];
    if (hop === undefined || hop.host !== e.host) {
      hop = { host: e.host, t0: e.t / 1e9, t1: e.t / 1e9, path: [], events: [] };
      j.hops.push(hop);
    }
    hop.t1 = e.t / 1e9;
    let name = e.name;
    if (e.kind === 'fn') {
      const fn = pathName(e.name, e.detail);
      if (e.name === 'pf_test') pfDir.set(hop, fn);
      if (hop.path[hop.path.length - 1] !== fn) hop.path.push(fn);
    } else if (e.kind === 'drop' && e.name.startsWith('pf_test:')) {
      // pf's drops as the path reads: pf_test(IN): block, rule 2.
      name = `${pfDir.get(hop) ?? 'pf_test'}:${e.name.slice('pf_test:'.length)}${e.detail ? `, ${e.detail}` : ''}`;
    }
    if (e.kind === 'tap') hop.path.push(`${e.name}(${e.detail.slice(0, e.detail.startsWith('OUT') ? 3 : 2)})`);
    hop.events.push({ t: e.t / 1e9, kind: e.kind, name, ifname: e.ifname, detail: e.detail });
  }
  for (const j of byId.values()) {
    // A hop with no function (a cable that lost, held back or duplicated the frame) reads as what happened there.
    for (const h of j.hops) {
      if (h.path.length > 0) continue;
      for (const e of h.events) h.path.push(e.kind === 'drop' ? `✗ ${e.name}` : e.kind === 'branch' ? `↳ ${e.name}` : e.name);
    }
    j.origin = j.hops[0]?.host ?? '';
    j.fate = fate(j);
  }
  // Journeys with no events (a packet freed before any trace point) are left out.
  const journeys = [...byId.values()].filter((j) => j.hops.length > 0);
  return { command, machine, journeys, lost: t.lost };
}

/**
 * A function as the path names it: pf_test with its direction, as the
 * talk writes pf_test(IN) and pf_test(OUT) (a forwarded packet meets pf
 * as OUT, as pf_test() turns PF_FWD into PF_OUT).
 */
function pathName(name: string, detail: string): string {
  if (name === 'pf_test' && (detail === 'in' || detail === 'out')) return `pf_test(${detail.toUpperCase()})`;
  return name;
}

function fate(j: JourneyData): string {
  const last = j.hops[j.hops.length - 1];
  if (last === undefined) return '';
  const evs = last.events;
  for (let i = evs.length - 1; i >= 0; i--) {
    const e = evs[i]!;
    if (e.kind === 'drop') return `dropped on ${last.host}: ${e.name}`;
  }
  const fns = last.path;
  const lastFn = fns[fns.length - 1] ?? '';
  // tcp_input kept it: consumed, as its last branch says (a RST that closed
  // the connection, the ACK of the last FIN, of a handshake), else delivered
  if (fns.includes('tcp_input')) {
    for (let i = evs.length - 1; i >= 0; i--) {
      const e = evs[i]!;
      if (e.kind === 'branch' && e.name.startsWith('tcp_input:')) return `consumed on ${last.host}: ${e.name}`;
    }
    return `delivered on ${last.host}`;
  }
  if (lastFn.startsWith('bpf_mtap_ether(OUT)') || /_start$/.test(lastFn)) return `left ${last.host} on the wire, not seen again`;
  if (evs.some((e) => e.kind === 'fn' && (e.name === 'rip_input' || e.name === 'in_arpinput' || e.name === 'icmp_input'))) return `delivered on ${last.host}`;
  if (evs.some((e) => e.kind === 'branch' && e.name.includes('held in la_mq'))) return `held on ${last.host} (ARP)`;
  return `ended on ${last.host} after ${lastFn}`;
}

function secs(t: number): string {
  return t.toFixed(6);
}

/** The journeys as text, in the talk's names. */
export function renderJourneys(d: TraceData): string {
  const out: string[] = [];
  const n = d.journeys.length;
  out.push(`trace: ${d.command} (on ${d.machine}): ${n} packet${n === 1 ? '' : 's'}`);
  for (const j of d.journeys) {
    out.push('');
    const from = j.parent === null ? `sent by ${d.command.split(' ')[0]}` : `caused by #${j.parent} on ${j.origin}: ${j.cause}`;
    out.push(`#${j.id} ${j.packet || j.cause}`);
    out.push(`   ${from}`);
    for (const h of j.hops) {
      out.push(`   ${h.host}  [${secs(h.t0)}s${h.t1 !== h.t0 ? ` .. ${secs(h.t1)}s` : ''}]`);
      out.push(`     ${h.path.join(' → ')}`);
      for (const e of h.events) {
        switch (e.kind) {
          case 'fn':
            out.push(`       ${e.name}${e.ifname ? ` ${e.ifname}` : ''}${e.detail ? `: ${e.detail}` : ''}`);
            break;
          case 'branch':
            out.push(`         ↳ ${e.name}`);
            break;
          case 'drop':
            out.push(`         ✗ ${e.name}`);
            break;
          case 'counter':
            out.push(`         + ${e.name}${e.detail ? ` ${e.detail}` : ''}`);
            break;
          case 'tap':
            out.push(`         ◉ ${e.name}(${e.detail.startsWith('OUT') ? 'OUT' : 'IN'}) ${e.ifname}: ${e.detail.replace(/^(IN|OUT) /, '')}`);
            break;
          case 'bytes':
            out.push(`         Δ ${e.name}`);
            break;
        }
      }
    }
    if (j.caused.length > 0) out.push(`   caused: ${j.caused.map((c) => `#${c}`).join(', ')}`);
    out.push(`   fate: ${j.fate}`);
  }
  if (d.lost > 0) out.push(`\n(${d.lost} events not recorded: trace limit reached)`);
  return out.join('\n') + '\n';
}

/** Only the function paths, one line per machine per packet (trace -s). */
export function renderPaths(d: TraceData): string {
  const out: string[] = [];
  for (const j of d.journeys) {
    out.push(`#${j.id}${j.parent !== null ? ` (from #${j.parent})` : ''} ${j.packet || j.cause}`);
    for (const h of j.hops) out.push(`  ${h.host}: ${h.path.join(' → ')}`);
    if (j.fate.startsWith('dropped')) out.push(`  ${j.fate}`);
  }
  return out.join('\n') + '\n';
}

export type { TraceEvent };
