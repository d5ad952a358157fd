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
 *    pf_test(OUT).  Mpps of both and the ratio, best of RUNS windows of
 *    PACKETS frames through one router after its warm-up.  Each mode runs
 *    in a child process of its own, as a router runs with pf on or off:
 *    one process running both gives V8 the feedback of both, and its pf
 *    on runs measured 10-15 % below a process of their own.
 * 2. First packets against 10000 rules that do not match (each rule a
 *    different source network, so skip steps cannot jump) before a final
 *    `pass ... no state`: ns per rule evaluated.
 * 3. Heap per state (after a full GC; needs --expose-gc).
 * 4. GC pauses (perf_hooks 'gc' entries): the longest during the state-hit
 *    runs, and while 100000+ states churn (25000 new flows per virtual
 *    second at line rate, states expiring after 4 s): a first cycle while
 *    the state table grows, then PFBENCH_CHURN (64) virtual seconds.
 *
 *   node --expose-gc dist/bench/pf.js [PACKETS] [RUNS]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Kernel } from '../src/sys/kern/kernel.js';
import { parseIp4 } from '../src/wire/addr.js';
import { pfctlKernel } from '../src/sbin/pfctl/pfctl.js';
import { StringOutput } from '../src/lib/io.js';
import { pf_clear_states } from '../src/sys/net/pf_ioctl.js';
import { FCNT_STATE_INSERT, FCNT_STATE_SEARCH } from '../src/sys/net/pf.js';
import { GcWatch, WARMUP, cpuSeconds, drive, gc, heapAfterGc, lab, settle, udpFrame } from './harness.js';
import { jitSettings } from '../src/lib/jit.js';

const args = process.argv.slice(2);
const nums = args.filter((a) => !a.startsWith('--'));
const PACKETS = Number(nums[0] ?? 2_000_000);
const RUNS = Number(nums[1] ?? 5);
const FLOWS = 50000;

const SRC_NET = parseIp4('192.0.2.0');

/** The frame of flow f: UDP from 192.0.2.(2 + f % 200) port 1024 + f / 200 to 198.51.100.20:9. */
function frame(f: number): Uint8Array {
  return udpFrame((SRC_NET + 2 + (f % 200)) >>> 0, 1024 + Math.floor(f / 200), 0);
}

function pfctl(k: Kernel, argv: string[], conf = ''): string {
  const stdout = new StringOutput();
  const stderr = new StringOutput();
  pfctlKernel(k, argv, { stdout, stderr }, { readFile: () => conf });
  return stdout.text() + stderr.text();
}

const watch = new GcWatch();
watch.observe();

/** Resets the longest-pause record; returns it (ms), the count and total time of GCs in fn, after settle(). */
async function gcWindow(fn: () => void): Promise<{ max: number; kind: number; n: number; time: number }> {
  await settle();
  watch.max = 0;
  watch.maxKind = 0;
  const n0 = watch.count;
  const t0 = watch.time;
  fn();
  await settle();
  return { max: watch.max, kind: watch.maxKind, n: watch.count - n0, time: watch.time - t0 };
}

const frames: Uint8Array[] = [];
for (let f = 0; f < FLOWS; f++) frames.push(frame(f));

interface RateResult {
  mpps: number;
  states: number;
  gcMax: number;
}

/**
 * The best of RUNS windows of PACKETS frames through one router (pf on
 * with a state per flow and direction when `pf`): Mpps per CPU second,
 * and the longest GC pause in the windows.  One router for all windows,
 * as a router runs for long: a lab built for each run left V8 the type
 * feedback of the labs before it (each lab's objects and closures are new
 * call targets), and later runs measured up to 8 % below the second.
 */
async function routerRuns(pf: boolean): Promise<RateResult> {
  const l = lab();
  if (pf) {
    pfctl(l.router, ['-f', 'pf.conf'], 'set limit states 200000\npass\n');
    pfctl(l.router, ['-e']);
  }
  // warm up: a state per flow and direction, then the JIT (harness.ts WARMUP)
  drive(l, frames, Math.max(FLOWS, Math.min(WARMUP, PACKETS)));
  const best: RateResult = { mpps: 0, states: 0, gcMax: 0 };
  for (let r = 0; r < RUNS; r++) {
    const before = l.sink.frames;
    const hits0 = pf ? l.router.pf!.fcounters[FCNT_STATE_SEARCH]! : 0;
    heapAfterGc(true);
    let dt = 0;
    const g = await gcWindow(() => {
      const t0 = cpuSeconds();
      drive(l, frames, PACKETS);
      dt = cpuSeconds() - t0;
    });
    const forwarded = l.sink.frames - before;
    if (forwarded !== PACKETS) throw new Error(`router forwarded ${forwarded} of ${PACKETS}`);
    if (pf) {
      // every packet found its state at pf_test(IN) and pf_test(OUT), none was inserted
      const p = l.router.pf!;
      if (p.fcounters[FCNT_STATE_SEARCH]! - hits0 !== 2 * PACKETS) throw new Error('not every packet a state search at IN and OUT');
      if (p.fcounters[FCNT_STATE_INSERT]! !== 2 * FLOWS) throw new Error(`${p.fcounters[FCNT_STATE_INSERT]} states inserted, expected ${2 * FLOWS}: not every packet a state hit`);
    }
    const mpps = forwarded / dt / 1e6;
    if (process.env.PFBENCH_DEBUG) process.stderr.write(`  (pf ${pf}: run ${r + 1} ${mpps.toFixed(3)} Mpps, ${g.n} GCs, longest ${g.max.toFixed(2)} ms kind ${g.kind})\n`);
    best.mpps = Math.max(best.mpps, mpps);
    best.gcMax = Math.max(best.gcMax, g.max);
  }
  best.states = pf ? l.router.pf!.states : 0;
  return best;
}

const MODE = args.find((a) => a.startsWith('--mode='))?.slice('--mode='.length);
if (MODE !== undefined) {
  // a child: one mode, the result as JSON on stdout
  const best = await routerRuns(MODE === 'on');
  watch.disconnect();
  process.stdout.write(JSON.stringify(best) + '\n');
  process.exit(0);
}

/** The rate of one mode, measured by a child process of this bench (its own JIT, as a router runs with pf on or off). */
function rateIn(mode: 'on' | 'off'): RateResult {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), `--mode=${mode}`, String(PACKETS), String(RUNS)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench/pf --mode=${mode} failed (status ${r.status})`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as RateResult;
}

const offRes = rateIn('off');
const onRes = rateIn('on');
const off = offRes.mpps;
const on = onRes.mpps;
const states = onRes.states;
const hitPause = onRes.gcMax;
console.log(`pf: ${PACKETS} 64-byte frames em0 -> em1 at line rate, best of ${RUNS} runs (Mpps per CPU second); ${jitSettings()}`);
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
  const h0 = heapAfterGc(true);
  drive(l, frames, FLOWS);
  const h1 = heapAfterGc(true);
  console.log(`  state memory                   ${((h1 - h0) / pf.states).toFixed(0)} bytes per state (${pf.states} states)`);
} else console.log('  state memory                   (run with --expose-gc)');

// 2. first packets against 10000 rules
let conf = 'set limit states 200000\n';
for (let i = 0; i < 10000; i++) conf += `block in proto udp from 10.${i >> 8}.${i & 255}.0/24 to any port 9\n`;
conf += 'pass no state\n';
pfctl(l.router, ['-F', 'states']);
// -o none: these rules are to be evaluated one by one (the optimizer's
// default, basic, would fold them into one rule on a table)
pfctl(l.router, ['-o', 'none', '-f', 'pf.conf'], conf);
const FIRST = Math.max(5000, Math.floor(PACKETS / 200));
drive(l, frames, 1000);
const evalsOf = (): number => pf.main.rules.reduce((s, x) => s + x.evaluations, 0);
const e0 = evalsOf();
const t0 = cpuSeconds();
drive(l, frames, FIRST);
const dt = cpuSeconds() - t0;
const evals = evalsOf() - e0;
console.log(`  first packet, 10001 rules      ${((dt * 1e9) / evals).toFixed(2)} ns per rule evaluated (${(evals / (FIRST * 2)).toFixed(0)} rules per pf_test, ${(FIRST / dt).toFixed(0)} pps)`);

// 4. GC pauses while states churn: 25000 new flows per virtual second into a
// ruleset whose states expire after 4 s.  The flows' frames are rewritten in
// place each second (the bench keeps 25000 frames, not one per flow, so its
// own heap does not grow with the run).  A first cycle (8 s, 200000 flows)
// lets the state table grow to its working size; its pauses are reported
// apart.  Then CHURN seconds are measured after a full GC: count, longest,
// total.
pfctl(l.router, ['-f', 'pf.conf'], 'set limit states 300000\nset timeout { udp.first 4, udp.single 4, udp.multiple 4, interval 1 }\npass\n');
pfctl(l.router, ['-F', 'states']);
const CHURN = Number(process.env.PFBENCH_CHURN ?? 64);
// the 50000 frames of the runs above are not needed any more (13 MB of the bench's heap)
frames.length = 0;
const chunk: Uint8Array[] = [];
for (let i = 0; i < 25000; i++) chunk.push(frame(i));
/** Rewrites chunk[i] as the frame of flow base + i (source address and port, IP checksum). */
function refill(base: number): void {
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i]!;
    const f = base + i;
    const src = (SRC_NET + 2 + (f % 200)) >>> 0;
    const sport = 1024 + Math.floor(f / 200);
    b[26] = src >>> 24;
    b[27] = (src >>> 16) & 0xff;
    b[28] = (src >>> 8) & 0xff;
    b[29] = src & 0xff;
    b[34] = sport >>> 8;
    b[35] = sport & 0xff;
    b[24] = b[25] = 0;
    let sum = 0;
    for (let j = 14; j < 34; j += 2) sum += (b[j]! << 8) | b[j + 1]!;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    b[24] = (~sum >>> 8) & 0xff;
    b[25] = ~sum & 0xff;
  }
}
let peak = 0;
let low = Infinity;
/** One virtual second of churn: the next 25000 of 200000 flows. */
function churnSecond(round: number): void {
  const t = l.world.now;
  refill((round % 8) * 25000);
  drive(l, chunk, 25000);
  l.world.runFor(Math.max(0, t + 1e9 - l.world.now));
}
heapAfterGc();
const grow = await gcWindow(() => {
  for (let round = 0; round < 8; round++) churnSecond(round);
});
const cap = pf.st.cap;
heapAfterGc();
if (process.env.PFBENCH_DEBUG) console.log(`-- measured churn starts, heap ${(process.memoryUsage().heapUsed / 1048576).toFixed(1)} MB`);
const ch = await gcWindow(() => {
  for (let round = 8; round < 8 + CHURN; round++) {
    churnSecond(round);
    if (pf.states > peak) peak = pf.states;
    if (pf.states < low) low = pf.states;
  }
});
watch.disconnect();
if (cap !== pf.st.cap) throw new Error(`the state table grew during the measured churn (${cap} -> ${pf.st.cap})`);
console.log(`  churn, table growing to ${cap}   ${grow.n} GCs, longest pause ${grow.max.toFixed(2)} ms (kind ${grow.kind})`);
console.log(`  churn, ${CHURN} s (${low}-${peak} states) ${ch.n} GCs, longest pause ${ch.max.toFixed(2)} ms (kind ${ch.kind}), ${ch.time.toFixed(2)} ms in all (kinds: 1 minor, 4 major, 8 incremental, 16 weakcb)`);
