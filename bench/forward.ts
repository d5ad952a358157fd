/**
 * bench/forward: one router forwarding 64-byte IPv4 frames (60 bytes plus
 * FCS on the wire) from em0 to em1 in simulated time, tracing off, against
 * a bare forwarding loop over the same frames in the same run (check the
 * Ethernet and IPv4 headers, verify the header checksum, decrement the TTL
 * with an incremental checksum update, copy the frame out behind a new
 * Ethernet header).  Prints Mpps for both and the ratio (router / bare).
 *
 * The router is a whole kernel: em(4) receive ring and moderated
 * interrupts, ifiq_input, softnet, ether_input, ipv4_input, ip_forward,
 * ip_output, ARP lookup, ether_output, ifq, em_start, transmit ring and the
 * cables.  A traffic generator port sends at the 1 Gbit/s line rate
 * (1.488 Mpps of virtual time); a sink port counts what arrives and
 * answers the router's ARP request.  The router's rate is frames forwarded
 * per CPU second for the whole simulation, generator, cables and event
 * queue included (CPU time, not wall time: the machine may be shared).
 *
 * It also measures what the forwarding path allocates: heap growth after a
 * full GC and the number of GCs during the measured run (node exposes the
 * GC with --expose-gc; without it only the counts are reported).
 *
 *   node --expose-gc dist/bench/forward.js [--trace] [PACKETS] [RUNS]
 *
 * --trace also runs the router with a journey Tracer attached
 * (k.setTracer) in each run, and reports the cost of tracing as the ratio
 * of the two rates (tracing off / tracing on; the target is at most 1.5);
 * its events are dropped every millisecond of virtual time so the run
 * measures recording, not memory growth.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { World } from '../src/sys/kern/kern_clock.js';
import { Kernel } from '../src/sys/kern/kernel.js';
import { Timeout } from '../src/sys/kern/kern_timeout.js';
import { Tracer } from '../src/sys/kern/kern_trace.js';
import { Cable, type CablePort } from '../src/sys/dev/cable.js';
import { Em } from '../src/sys/dev/em.js';
import { if_addr_add, if_setflags_up } from '../src/sys/net/if.js';
import { parseIp4, parseMac } from '../src/wire/addr.js';

const args = process.argv.slice(2);
const TRACE = args.includes('--trace');
const nums = args.filter((a) => !a.startsWith('--'));
const PACKETS = Number(nums[0] ?? (TRACE ? 1_000_000 : 3_000_000));
const RUNS = Number(nums[1] ?? 3);
const FRAME = 60;
const FLOWS = 256;

const GEN_MAC = parseMac('02:00:00:00:01:01')!;
const SINK_MAC = parseMac('02:00:00:00:02:02')!;
const R0_MAC = parseMac('02:00:00:00:00:01')!;
const R1_MAC = parseMac('02:00:00:00:00:02')!;
const SRC = parseIp4('192.0.2.10');
const DST = parseIp4('198.51.100.20');

/** FLOWS frames of 60 bytes: UDP from 192.0.2.10 to 198.51.100.20, source port by flow. */
function makeFrames(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let f = 0; f < FLOWS; f++) {
    const b = new Uint8Array(FRAME);
    b.set(R0_MAC, 0);
    b.set(GEN_MAC, 6);
    b[12] = 0x08;
    b[13] = 0x00;
    const ip = 14;
    b[ip] = 0x45;
    const tot = FRAME - 14;
    b[ip + 2] = tot >> 8;
    b[ip + 3] = tot & 0xff;
    b[ip + 4] = f >> 8;
    b[ip + 5] = f & 0xff;
    b[ip + 8] = 64;
    b[ip + 9] = 17;
    put32(b, ip + 12, SRC);
    put32(b, ip + 16, DST);
    let s = 0;
    for (let i = 0; i < 20; i += 2) s += (b[ip + i]! << 8) | b[ip + i + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    const c = ~s & 0xffff;
    b[ip + 10] = c >> 8;
    b[ip + 11] = c & 0xff;
    const udp = ip + 20;
    b[udp] = 0x40;
    b[udp + 1] = f;
    b[udp + 2] = 0x00;
    b[udp + 3] = 9;
    b[udp + 5] = tot - 20;
    frames.push(b);
  }
  return frames;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** Frames the generator commits to its wire per event (at line rate, each after the one before). */
const TRAIN = 64;

/** Sends the frames round-robin at the cable's line rate, `left` of them, a train per event. */
class Generator implements CablePort {
  cable: Cable | null = null;
  left = 0;
  next = 0;
  readonly tick: Timeout<Generator>;
  constructor(
    world: World,
    readonly frames: Uint8Array[],
  ) {
    this.tick = new Timeout<Generator>(world, Generator.send, this);
  }
  cable_rx(): void {}
  cable_link(c: Cable | null): void {
    this.cable = c;
  }
  start(n: number): void {
    this.left = n;
    this.tick.after(0);
  }
  private static send(g: Generator): void {
    const c = g.cable;
    if (g.left === 0 || c === null) return;
    // Start times relative to now: small integers, no heap number per frame.
    let after = 0;
    for (let k = 0; k < TRAIN && g.left > 0; k++) {
      g.left--;
      const f = g.frames[g.next]!;
      if (++g.next === g.frames.length) g.next = 0;
      after += c.transmitIn(g, f, 0, f.length, null, null, after);
    }
    g.tick.at(g.tick.world.now + after);
  }
}

/** Counts IPv4 frames; answers ARP requests for its address. */
class Sink implements CablePort {
  cable: Cable | null = null;
  frames = 0;
  private readonly reply = new Uint8Array(42);
  cable_link(c: Cable | null): void {
    this.cable = c;
  }
  /** IPv4 frames are counted when the cable hands them over, ahead of their arrival. */
  cable_rx_ahead(buf: Uint8Array, off: number): Uint8Array | null {
    if (buf[off + 12] !== 0x08 || buf[off + 13] !== 0x00) return null;
    this.frames++;
    return buf;
  }
  cable_rx(buf: Uint8Array, off: number, len: number): void {
    if (buf[off + 12] === 0x08 && buf[off + 13] === 0x00) {
      this.frames++;
      return;
    }
    // ARP request (op 1) for DST: reply from SINK_MAC.
    if (len < 42 || buf[off + 12] !== 0x08 || buf[off + 13] !== 0x06 || buf[off + 21] !== 1) return;
    const r = this.reply;
    r.set(buf.subarray(off + 6, off + 12), 0);
    r.set(SINK_MAC, 6);
    r.set(buf.subarray(off + 12, off + 20), 12);
    r[21] = 2;
    r.set(SINK_MAC, 22);
    r.set(buf.subarray(off + 38, off + 42), 28);
    r.set(buf.subarray(off + 22, off + 32), 32);
    this.cable!.transmit(this, r, 0, 42);
  }
}

interface Lab {
  world: World;
  router: Kernel;
  gen: Generator;
  sink: Sink;
}

function lab(frames: Uint8Array[]): Lab {
  const world = new World({ seed: 1 });
  const router = new Kernel(world, { hostname: 'router' });
  const em0 = new Em(router, { lladdr: R0_MAC });
  const em1 = new Em(router, { lladdr: R1_MAC });
  if_setflags_up(em0.ifp, true);
  if_setflags_up(em1.ifp, true);
  if_addr_add(em0.ifp, parseIp4('192.0.2.1'), 0xffffff00);
  if_addr_add(em1.ifp, parseIp4('198.51.100.1'), 0xffffff00);
  router.sysctl.set('net.inet.ip.forwarding', 1);
  const gen = new Generator(world, frames);
  const sink = new Sink();
  new Cable(world, { name: 'in' }).connect(gen, em0);
  new Cable(world, { name: 'out' }).connect(em1, sink);
  world.runFor(1e9);
  return { world, router, gen, sink };
}

/** Runs until the generator has sent everything and the router is idle again. */
function drive(l: Lab, n: number, tracer: Tracer | null): void {
  l.gen.start(n);
  const w = l.world;
  // Whole simulation in slices of 1 ms virtual; the tracer's events are
  // dropped between slices when tracing.
  const slice = 1_000_000;
  const end = w.now + Math.ceil((n * l.gen.cable!.txtime(FRAME)) / slice) * slice + 10 * slice;
  while (w.now < end) {
    w.runFor(slice);
    if (tracer !== null) tracer.clear();
  }
}

interface RouterResult {
  mpps: number;
  forwarded: number;
  heapPerPacket: number;
  gcs: number;
  gcMs: number;
}

let gcCount = 0;
let gcTime = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    gcTime += e.duration;
  }
});
obs.observe({ entryTypes: ['gc'] });

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * CPU seconds of this process (user + system): on a shared machine wall
 * time counts the time other processes held the CPU, CPU time does not.
 */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function heapAfterGc(): number {
  if (gc !== undefined) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

/** Let the PerformanceObserver deliver pending GC entries. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 10));
}

async function routerRun(frames: Uint8Array[], traced: boolean): Promise<RouterResult> {
  const l = lab(frames);
  const tracer = traced ? new Tracer() : null;
  if (tracer !== null) l.router.setTracer(tracer);
  // Warm up: JIT, rings, cable storage, ARP.
  drive(l, Math.min(200_000, PACKETS), tracer);
  const before = l.sink.frames;
  const h0 = heapAfterGc();
  await settle();
  const g0 = gcCount;
  const gt0 = gcTime;
  const t0 = cpuSeconds();
  drive(l, PACKETS, tracer);
  const dt = cpuSeconds() - t0;
  await settle();
  const gcs = gcCount - g0;
  const gcMs = gcTime - gt0;
  const h1 = heapAfterGc();
  const forwarded = l.sink.frames - before;
  if (forwarded !== PACKETS) {
    const st = l.router.stats.ipstat;
    throw new Error(`router forwarded ${forwarded} of ${PACKETS} (ips_forward ${st.value('ips_forward')})`);
  }
  return { mpps: forwarded / dt / 1e6, forwarded, heapPerPacket: (h1 - h0) / forwarded, gcs, gcMs };
}

/** The bare loop: same checks and rewrite as the router, no kernel around it. */
function bareRun(frames: Uint8Array[]): number {
  const out = new Uint8Array(2048);
  let forwarded = 0;
  const pass = (n: number): void => {
    let next = 0;
    for (let i = 0; i < n; i++) {
      const b = frames[next]!;
      if (++next === frames.length) next = 0;
      const len = b.length;
      if (len < 34 || b[12] !== 0x08 || b[13] !== 0x00) continue;
      if (b[0] !== R0_MAC[0] || b[1] !== R0_MAC[1] || b[2] !== R0_MAC[2] || b[3] !== R0_MAC[3] || b[4] !== R0_MAC[4] || b[5] !== R0_MAC[5]) continue;
      const ip = 14;
      const vhl = b[ip]!;
      if (vhl >> 4 !== 4) continue;
      const hlen = (vhl & 0xf) << 2;
      if (hlen < 20 || len < ip + hlen) continue;
      const tot = (b[ip + 2]! << 8) | b[ip + 3]!;
      if (tot < hlen || len < ip + tot) continue;
      let s = 0;
      for (let j = 0; j < hlen; j += 2) s += (b[ip + j]! << 8) | b[ip + j + 1]!;
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      if (s !== 0xffff) continue;
      const ttl = b[ip + 8]!;
      if (ttl <= 1) continue;
      // Copy out behind a new Ethernet header, then TTL and checksum (RFC 1624).
      // (the whole frame array in one copy, as the router's cable and NIC do: no view per packet)
      out.set(b, 0);
      out.set(SINK_MAC, 0);
      out.set(R1_MAC, 6);
      out[ip + 8] = ttl - 1;
      let c = ((out[ip + 10]! << 8) | out[ip + 11]!) + 0x100;
      c = (c & 0xffff) + (c >>> 16);
      out[ip + 10] = c >> 8;
      out[ip + 11] = c & 0xff;
      forwarded++;
    }
  };
  pass(200_000);
  forwarded = 0;
  const t0 = cpuSeconds();
  pass(PACKETS);
  const dt = cpuSeconds() - t0;
  if (forwarded !== PACKETS) throw new Error(`bare loop forwarded ${forwarded} of ${PACKETS}`);
  return forwarded / dt / 1e6;
}

const frames = makeFrames();
let best: RouterResult | null = null;
let bestTraced: RouterResult | null = null;
let bestBare = 0;
for (let r = 0; r < RUNS; r++) {
  const res = await routerRun(frames, false);
  if (best === null || res.mpps > best.mpps) best = res;
  if (TRACE) {
    const tres = await routerRun(frames, true);
    if (bestTraced === null || tres.mpps > bestTraced.mpps) bestTraced = tres;
  }
  bestBare = Math.max(bestBare, bareRun(frames));
}
obs.disconnect();
const heap = (x: RouterResult): string =>
  `${gc === undefined ? 'n/a (run with --expose-gc)' : `${x.heapPerPacket.toFixed(3)} bytes/packet retained`}, ${x.gcs} GCs (${x.gcMs.toFixed(1)} ms) during the measured run`;
const b = best!;
console.log(`forward: ${PACKETS} 64-byte frames em0 -> em1, best of ${RUNS} runs`);
console.log(`  router     ${b.mpps.toFixed(3)} Mpps (tracing off)`);
console.log(`  bare loop  ${bestBare.toFixed(3)} Mpps`);
console.log(`  ratio      ${(b.mpps / bestBare).toFixed(4)} (router / bare)`);
console.log(`  heap       ${heap(b)}`);
if (bestTraced !== null) {
  const t = bestTraced;
  console.log(`  traced     ${t.mpps.toFixed(3)} Mpps (tracing on)`);
  console.log(`  trace cost ${(b.mpps / t.mpps).toFixed(3)}x (tracing off / tracing on, target <= 1.5)`);
  console.log(`  heap       ${heap(t)} (traced)`);
}
