/**
 * bench/pf: what pf costs on a forwarding router, on the line-rate
 * harness of bench/forward.ts (a generator port sends 64-byte frames at
 * 1 Gbit/s into em0 of a whole router kernel, a sink port counts what
 * leaves em1 and answers ARP; rates are frames forwarded per CPU second of
 * the whole simulation).
 *
 * 1. Forwarding with pf off, then with pf on (`pass`) and 100000
 *    established states (50000 UDP flows, a state per direction: em0 in
 *    and em1 out), every packet a state hit at pf_test(IN) and
 *    pf_test(OUT).  Mpps of both and the ratio, best of RUNS.
 * 2. First packets against 10000 rules that do not match (each rule a
 *    different source network, so skip steps cannot jump) before a final
 *    `pass ... no state`: ns per rule evaluated.
 * 3. Heap per state (after a full GC; needs --expose-gc).
 * 4. GC pauses (perf_hooks 'gc' entries): the longest during the state-hit
 *    runs, and while 100000+ states churn (25000 new flows per virtual
 *    second at line rate, states expiring after 4 s).
 *
 *   node --expose-gc dist/bench/pf.js [PACKETS] [RUNS]
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { World } from '../src/sys/kern/kern_clock.js';
import { Kernel } from '../src/sys/kern/kernel.js';
import { Timeout } from '../src/sys/kern/kern_timeout.js';
import { Cable, type CablePort } from '../src/sys/dev/cable.js';
import { Em } from '../src/sys/dev/em.js';
import { if_addr_add, if_setflags_up } from '../src/sys/net/if.js';
import { parseIp4, parseMac } from '../src/wire/addr.js';
import { pfctlKernel } from '../src/sbin/pfctl/pfctl.js';
import { StringOutput } from '../src/lib/io.js';
import { pf_clear_states } from '../src/sys/net/pf_ioctl.js';

const args = process.argv.slice(2);
const nums = args.filter((a) => !a.startsWith('--'));
const PACKETS = Number(nums[0] ?? 2_000_000);
const RUNS = Number(nums[1] ?? 3);
const FRAME = 60;
const FLOWS = 50000;

const GEN_MAC = parseMac('02:00:00:00:01:01')!;
const SINK_MAC = parseMac('02:00:00:00:02:02')!;
const R0_MAC = parseMac('02:00:00:00:00:01')!;
const R1_MAC = parseMac('02:00:00:00:00:02')!;
const DST = parseIp4('198.51.100.20');

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** A 60-byte frame of flow f: UDP from 192.0.2.(2 + f % 200) port 1024 + f / 200 to 198.51.100.20:9. */
function frame(f: number): Uint8Array {
  const b = new Uint8Array(FRAME);
  b.set(R0_MAC, 0);
  b.set(GEN_MAC, 6);
  b[12] = 0x08;
  const ip = 14;
  b[ip] = 0x45;
  const tot = FRAME - 14;
  b[ip + 3] = tot;
  b[ip + 8] = 64;
  b[ip + 9] = 17;
  put32(b, ip + 12, (parseIp4('192.0.2.0') + 2 + (f % 200)) >>> 0);
  put32(b, ip + 16, DST);
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (b[ip + i]! << 8) | b[ip + i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  b[ip + 10] = c >> 8;
  b[ip + 11] = c & 0xff;
  const udp = ip + 20;
  const port = 1024 + Math.floor(f / 200);
  b[udp] = port >> 8;
  b[udp + 1] = port & 0xff;
  b[udp + 3] = 9;
  b[udp + 5] = tot - 20;
  return b;
}

const TRAIN = 64;

/** Sends frames[first ..] round-robin at the cable's line rate, a train per event (bench/forward's generator). */
class Generator implements CablePort {
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
    let start = g.tick.world.now;
    for (let k = 0; k < TRAIN && g.left > 0; k++) {
      g.left--;
      const f = g.frames[g.next]!;
      if (++g.next === g.frames.length) g.next = 0;
      start += c.transmitAt(g, f, 0, f.length, null, null, start);
    }
    g.tick.at(start);
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

function lab(): Lab {
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

function pfctl(k: Kernel, argv: string[], conf = ''): string {
  const stdout = new StringOutput();
  const stderr = new StringOutput();
  pfctlKernel(k, argv, { stdout, stderr }, { readFile: () => conf });
  return stdout.text() + stderr.text();
}

/** Sends n frames and runs until they are through (the world's clock ends on a 1 ms slice). */
function drive(l: Lab, frames: Uint8Array[], n: number): void {
  l.gen.start(frames, n);
  const w = l.world;
  const slice = 1_000_000;
  const end = w.now + Math.ceil((n * l.gen.cable!.txtime(FRAME)) / slice) * slice + 10 * slice;
  while (w.now < end) w.runFor(slice);
}

let gcCount = 0;
let gcMax = 0;
let gcMaxKind = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcCount++;
    if (e.duration > gcMax) {
      gcMax = e.duration;
      gcMaxKind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
    }
  }
});
obs.observe({ entryTypes: ['gc'] });
const gc = (globalThis as { gc?: () => void }).gc;
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 10));
}
function heapAfterGc(): number {
  if (gc !== undefined) {
    gc();
    gc();
  }
  // typed arrays (the state store) live outside the JS heap
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
/** Resets the longest-pause record; returns it (ms) after settle(). */
async function gcWindow(fn: () => void): Promise<{ max: number; kind: number; n: number }> {
  await settle();
  gcMax = 0;
  gcMaxKind = 0;
  const n0 = gcCount;
  fn();
  await settle();
  return { max: gcMax, kind: gcMaxKind, n: gcCount - n0 };
}

const frames: Uint8Array[] = [];
for (let f = 0; f < FLOWS; f++) frames.push(frame(f));

/** Mpps (per CPU second) of PACKETS frames through a router; pf on with a state per flow and direction when `pf`. */
async function routerRun(pf: boolean): Promise<{ mpps: number; states: number; gcMax: number }> {
  const l = lab();
  if (pf) {
    pfctl(l.router, ['-f', 'pf.conf'], 'set limit states 200000\npass\n');
    pfctl(l.router, ['-e']);
  }
  drive(l, frames, Math.max(FLOWS, Math.min(200_000, PACKETS)));
  const before = l.sink.frames;
  heapAfterGc();
  let dt = 0;
  const g = await gcWindow(() => {
    const t0 = cpuSeconds();
    drive(l, frames, PACKETS);
    dt = cpuSeconds() - t0;
  });
  const forwarded = l.sink.frames - before;
  if (forwarded !== PACKETS) throw new Error(`router forwarded ${forwarded} of ${PACKETS}`);
  const states = pf ? l.router.pf!.states : 0;
  const hits = pf ? l.router.pf!.fcounters[1]! : 0;
  if (pf && hits !== 2 * FLOWS) throw new Error(`${hits} states inserted, expected ${2 * FLOWS}: not every packet a state hit`);
  if (process.env.PFBENCH_DEBUG) console.log(`  (pf ${pf}: ${(forwarded / dt / 1e6).toFixed(3)} Mpps, ${g.n} GCs, longest ${g.max.toFixed(2)} ms kind ${g.kind})`);
  return { mpps: forwarded / dt / 1e6, states, gcMax: g.max };
}

let off = 0;
let on = 0;
let states = 0;
let hitPause = 0;
for (let r = 0; r < RUNS; r++) {
  off = Math.max(off, (await routerRun(false)).mpps);
  const res = await routerRun(true);
  states = res.states;
  hitPause = Math.max(hitPause, res.gcMax);
  on = Math.max(on, res.mpps);
}
console.log(`pf: ${PACKETS} 64-byte frames em0 -> em1 at line rate, best of ${RUNS} runs (Mpps per CPU second)`);
console.log(`  forward, pf off                ${off.toFixed(3)} Mpps`);
console.log(`  forward, pf on, ${states} states ${on.toFixed(3)} Mpps (ratio ${(on / off).toFixed(3)} of pf off; longest GC pause ${hitPause.toFixed(2)} ms)`);

// 3. heap per state
const l = lab();
pfctl(l.router, ['-f', 'pf.conf'], 'set limit states 300000\npass\n');
pfctl(l.router, ['-e']);
drive(l, frames, 1000);
const pf = l.router.pf!;
if (gc !== undefined) {
  pf_clear_states(l.router);
  const h0 = heapAfterGc();
  drive(l, frames, FLOWS);
  const h1 = heapAfterGc();
  console.log(`  state memory                   ${((h1 - h0) / pf.states).toFixed(0)} bytes per state (${pf.states} states)`);
} else console.log('  state memory                   (run with --expose-gc)');

// 2. first packets against 10000 rules
let conf = 'set limit states 200000\n';
for (let i = 0; i < 10000; i++) conf += `block in proto udp from 10.${i >> 8}.${i & 255}.0/24 to any port 9\n`;
conf += 'pass no state\n';
pfctl(l.router, ['-F', 'states']);
pfctl(l.router, ['-f', 'pf.conf'], conf);
const FIRST = Math.max(5000, Math.floor(PACKETS / 200));
drive(l, frames, 1000);
const evalsOf = (): number => pf.main.rules.reduce((s, x) => s + x.evaluations, 0);
const e0 = evalsOf();
const t0 = cpuSeconds();
drive(l, frames, FIRST);
const dt = cpuSeconds() - t0;
const evals = evalsOf() - e0;
console.log(`  first packet, 10001 rules      ${((dt * 1e9) / evals).toFixed(2)} ns per rule evaluated (${(evals / (FIRST * 2)).toFixed(0)} rules per pf_test, ${(FIRST / dt).toFixed(0)} pps)`);

// 4. GC pauses while states churn
pfctl(l.router, ['-f', 'pf.conf'], 'set limit states 300000\nset timeout { udp.first 4, udp.single 4, udp.multiple 4, interval 1 }\npass\n');
pfctl(l.router, ['-F', 'states']);
const churn: Uint8Array[] = [];
for (let f = 0; f < 200000; f++) churn.push(frame(f));
// flows in chunks of 25000, one chunk per virtual second
const chunks: Uint8Array[][] = [];
for (let c = 0; c < 8; c++) chunks.push(churn.slice(c * 25000, (c + 1) * 25000));
let peak = 0;
const ch = await gcWindow(() => {
  for (let round = 0; round < 16; round++) {
    const t = l.world.now;
    drive(l, chunks[round % 8]!, 25000);
    l.world.runFor(Math.max(0, t + 1e9 - l.world.now));
    if (pf.states > peak) peak = pf.states;
  }
});
obs.disconnect();
console.log(`  churn (peak ${peak} states)     ${ch.n} GCs, longest pause ${ch.max.toFixed(2)} ms (kind ${ch.kind}: 1 minor, 2 major, 4 incremental, 8 weakcb)`);
