/**
 * The line-rate harness of bench/forward and bench/pf: a router kernel
 * with em0 (192.0.2.1/24) and em1 (198.51.100.1/24), forwarding on; a
 * generator port sends 64-byte frames into em0 at the cable's line rate
 * (1 Gbit/s, 1.488 Mpps of virtual time), a sink port on em1 counts the
 * IPv4 frames that leave and answers the router's ARP request.  Also the
 * measuring helpers both use: CPU seconds, heap after a full GC, GC
 * entries from perf_hooks.
 */
import { tuneJit } from '../src/lib/jit.js';
import { PerformanceObserver } from 'node:perf_hooks';
import { World } from '../src/sys/kern/kern_clock.js';
import { Kernel } from '../src/sys/kern/kernel.js';
import { Timeout } from '../src/sys/kern/kern_timeout.js';
import { Cable, type CablePort } from '../src/sys/dev/cable.js';
import { Em } from '../src/sys/dev/em.js';
import { if_addr_add, if_setflags_up } from '../src/sys/net/if.js';
import { parseIp4, parseMac } from '../src/wire/addr.js';

// what `packetflow` runs with (src/lib/jit.ts), set before the packet path is compiled
tuneJit();

/**
 * Frames a run sends before it is measured: V8 settles the packet path's
 * optimized code over the first million frames or so (with 200000 the
 * first runs measured 10-15 % below later ones in the same process), and
 * the rings, cables, ARP and state tables fill.
 */
export const WARMUP = 2_000_000;

/** Bytes of every frame, FCS not included. */
export const FRAME = 60;

export const GEN_MAC = parseMac('02:00:00:00:01:01')!;
export const SINK_MAC = parseMac('02:00:00:00:02:02')!;
export const R0_MAC = parseMac('02:00:00:00:00:01')!;
export const R1_MAC = parseMac('02:00:00:00:00:02')!;
/** The sink's address, every frame's destination. */
export const DST = parseIp4('198.51.100.20');

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** A FRAME-byte frame from the generator to em0: UDP from src:sport to DST port 9, IP id `id`, TTL 64. */
export function udpFrame(src: number, sport: number, id: number): Uint8Array {
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
  b[ip + 4] = id >> 8;
  b[ip + 5] = id & 0xff;
  b[ip + 8] = 64;
  b[ip + 9] = 17;
  put32(b, ip + 12, src);
  put32(b, ip + 16, DST);
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (b[ip + i]! << 8) | b[ip + i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  b[ip + 10] = c >> 8;
  b[ip + 11] = c & 0xff;
  const udp = ip + 20;
  b[udp] = sport >> 8;
  b[udp + 1] = sport & 0xff;
  b[udp + 3] = 9;
  b[udp + 5] = tot - 20;
  return b;
}

/** Frames the generator commits to its wire per event (at line rate, each after the one before). */
const TRAIN = 64;

/** Sends frames round-robin at the cable's line rate, `left` of them, a train per event. */
export class Generator implements CablePort {
  cable: Cable | null = null;
  left = 0;
  next = 0;
  frames: Uint8Array[] = [];
  readonly tick: Timeout<Generator>;
  constructor(world: World) {
    this.tick = new Timeout<Generator>(world, Generator.send, this);
  }
  cable_rx(): void {}
  cable_link(c: Cable | null): void {
    this.cable = c;
  }
  /** Sends n of `frames`, going on round-robin where the last start left off when they are the same frames. */
  start(frames: Uint8Array[], n: number): void {
    if (frames !== this.frames) {
      this.frames = frames;
      this.next = 0;
    }
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
export class Sink implements CablePort {
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

export interface Lab {
  world: World;
  router: Kernel;
  gen: Generator;
  sink: Sink;
}

/** The router between generator and sink, after a virtual second to bring the links up. */
export function lab(): Lab {
  const world = new World({ seed: 1 });
  const router = new Kernel(world, { hostname: 'router' });
  const em0 = new Em(router, { lladdr: R0_MAC });
  const em1 = new Em(router, { lladdr: R1_MAC });
  if_setflags_up(em0.ifp, true);
  if_setflags_up(em1.ifp, true);
  if_addr_add(em0.ifp, parseIp4('192.0.2.1'), 0xffffff00);
  if_addr_add(em1.ifp, parseIp4('198.51.100.1'), 0xffffff00);
  router.sysctl.set('net.inet.ip.forwarding', 1);
  const gen = new Generator(world);
  const sink = new Sink();
  new Cable(world, { name: 'in' }).connect(gen, em0);
  new Cable(world, { name: 'out' }).connect(em1, sink);
  world.runFor(1e9);
  return { world, router, gen, sink };
}

/**
 * Sends n of `frames` and runs the whole simulation in slices of 1 ms
 * virtual until they are through and the router is idle again; `everySlice`
 * runs between slices (bench/forward drops its tracer's events there).
 */
export function drive(l: Lab, frames: Uint8Array[], n: number, everySlice: (() => void) | null = null): void {
  l.gen.start(frames, n);
  const w = l.world;
  const slice = 1_000_000;
  const end = w.now + Math.ceil((n * l.gen.cable!.txtime(FRAME)) / slice) * slice + 10 * slice;
  while (w.now < end) {
    w.runFor(slice);
    if (everySlice !== null) everySlice();
  }
}

/**
 * CPU seconds of this process (user + system): on a shared machine wall
 * time counts the time other processes held the CPU, CPU time does not.
 */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** node's gc(), there with --expose-gc. */
export const gc = (globalThis as { gc?: () => void }).gc;

/** Heap in use after a full GC (when gc is exposed); with arrayBuffers, typed arrays' storage outside the JS heap too. */
export function heapAfterGc(arrayBuffers = false): number {
  if (gc !== undefined) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return arrayBuffers ? m.heapUsed + m.arrayBuffers : m.heapUsed;
}

/** Let the PerformanceObserver deliver pending GC entries. */
export function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 10));
}

/** GC entries since observe(): how many, their total time, the longest and its kind (ms). */
export class GcWatch {
  count = 0;
  time = 0;
  max = 0;
  maxKind = 0;
  private readonly obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      this.count++;
      this.time += e.duration;
      if (e.duration > this.max) {
        this.max = e.duration;
        this.maxKind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
      }
    }
  });
  observe(): void {
    this.obs.observe({ entryTypes: ['gc'] });
  }
  disconnect(): void {
    this.obs.disconnect();
  }
}
