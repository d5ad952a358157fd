/**
 * bench/pf: what pf costs on a forwarding router.
 *
 * 1. Forwarding 64-byte frames (46-byte UDP datagrams) em0 -> em1 through a
 *    whole router kernel (ipv4_input, pf_test(IN), ip_forward, ip_output,
 *    pf_test(OUT), ARP, ether_output, em transmit, cable) with pf off, then
 *    with pf on and 100000 established states (50000 flows, a state per
 *    direction), every packet a state hit.  Mpps of wall time and the ratio.
 * 2. First packets against 10000 rules that do not match (each rule a
 *    different source network, so skip steps cannot jump) before a final
 *    `pass ... no state`: ns per rule evaluated.
 * 3. Heap per state (after a full GC, with --expose-gc).
 * 4. GC pauses (perf_hooks 'gc' entries) while 100000 states churn: new
 *    flows keep arriving while the purge timer expires the old ones.
 *
 *   npx tsx --expose-gc bench/pf.ts [PACKETS]
 */
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { World } from '../src/sys/kern/kern_clock.js';
import { Kernel } from '../src/sys/kern/kernel.js';
import { Cable } from '../src/sys/dev/cable.js';
import { Em } from '../src/sys/dev/em.js';
import { if_addr_add, if_setflags_up, type Ifnet } from '../src/sys/net/if.js';
import { ether_ifattach } from '../src/sys/net/if_ethersubr.js';
import { maskFromLen4, parseIp4 } from '../src/wire/addr.js';
import { ipv4_input } from '../src/sys/netinet/ip_input.js';
import { pfctlKernel } from '../src/sbin/pfctl/pfctl.js';
import { StringOutput } from '../src/lib/io.js';
import { pf_clear_states } from '../src/sys/net/pf_ioctl.js';

const PACKETS = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 1_000_000);
const gc = (globalThis as { gc?: () => void }).gc;

let mac = 0;
function nic(k: Kernel, addr: string): Ifnet {
  mac++;
  const e = new Em(k, { lladdr: `02:00:00:00:00:${mac.toString(16).padStart(2, '0')}` });
  ether_ifattach(e.ifp);
  if_setflags_up(e.ifp, true);
  const [a, len] = addr.split('/');
  if_addr_add(e.ifp, parseIp4(a!), maskFromLen4(Number(len)));
  return e.ifp;
}

const world = new World({ seed: 1 });
const r = new Kernel(world, { hostname: 'router' });
const em0 = nic(r, '192.0.2.1/24');
const em1 = nic(r, '198.51.100.1/24');
const b = new Kernel(world, { hostname: 'sink' });
const sink = nic(b, '198.51.100.20/24');
new Cable(world, {}).connect(em1.if_softc as Em, sink.if_softc as Em);
r.sysctl.set('net.inet.ip.forwarding', 1);
b.sysctl.set('net.inet.icmp.errppslimit', 0);

function pfctl(argv: string[], conf = ''): string {
  const stdout = new StringOutput();
  const stderr = new StringOutput();
  pfctlKernel(r, argv, { stdout, stderr }, { readFile: () => conf });
  return stdout.text() + stderr.text();
}

/** A 46-byte UDP datagram of flow f (source address and port vary). */
function datagram(f: number, out: Uint8Array): void {
  out.fill(0);
  out[0] = 0x45;
  out[3] = 46;
  out[8] = 64;
  out[9] = 17;
  const src = (parseIp4('192.0.2.0') + 2 + (f % 200)) >>> 0;
  out[12] = src >>> 24;
  out[13] = (src >>> 16) & 255;
  out[14] = (src >>> 8) & 255;
  out[15] = src & 255;
  out.set([198, 51, 100, 20], 16);
  let s = 0;
  for (let i = 0; i < 20; i += 2) s += (out[i]! << 8) | out[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  out[10] = (~s >>> 8) & 255;
  out[11] = ~s & 255;
  const port = 1024 + Math.floor(f / 200);
  out[20] = port >>> 8;
  out[21] = port & 255;
  out[23] = 9;
  out[25] = 26;
}

const dgrams: Uint8Array[] = [];
function flows(n: number): void {
  while (dgrams.length < n) {
    const d = new Uint8Array(46);
    datagram(dgrams.length, d);
    dgrams.push(d);
  }
}

/** Inject n packets of flows [0, nflows) into em0, draining the world as it goes; Mpps. */
function run(n: number, nflows: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const m = r.mbufs.get(46)!;
    m.setBytes(dgrams[i % nflows]!);
    m.ph_ifidx = em0.if_index;
    ipv4_input(em0, m);
    if ((i & 255) === 255) world.runFor(200_000);
  }
  world.runFor(1e6);
  return n / ((performance.now() - t0) * 1e3);
}

// resolve ARP first
flows(50000);
run(10, 1);
world.runFor(1e9);

// 1. forwarding, pf off vs pf on with 100000 states
run(PACKETS / 4, 50000);
const off = run(PACKETS, 50000);
pfctl(['-f', 'pf.conf'], 'set limit states 200000\npass\n');
pfctl(['-e']);
run(50000, 50000);
const pf = r.pf!;
const states = pf.states;
run(PACKETS / 4, 50000);
const on = run(PACKETS, 50000);
console.log(`forward, pf off:                  ${off.toFixed(3)} Mpps`);
console.log(`forward, pf on, ${states} states: ${on.toFixed(3)} Mpps (${((on / off) * 100).toFixed(1)}% of pf off)`);

// 3. heap per state
if (gc) {
  pf_clear_states(r);
  gc();
  const h0 = process.memoryUsage().heapUsed;
  run(50000, 50000);
  gc();
  const h1 = process.memoryUsage().heapUsed;
  console.log(`state memory:                     ${((h1 - h0) / pf.states).toFixed(0)} bytes per state (${pf.states} states)`);
} else console.log('state memory:                     (run with --expose-gc)');

// 2. first packets against 10000 rules
let conf = 'set limit states 200000\n';
for (let i = 0; i < 10000; i++) conf += `block in proto udp from 10.${i >> 8}.${i & 255}.0/24 to any port 9\n`;
conf += 'pass no state\n';
pfctl(['-F', 'states']);
pfctl(['-f', 'pf.conf'], conf);
const FIRST = Math.max(2000, Math.floor(PACKETS / 200));
const evals0 = pf.main.rules.reduce((s, x) => s + x.evaluations, 0);
const t0 = performance.now();
run(FIRST, 50000);
const dt = performance.now() - t0;
const evals = pf.main.rules.reduce((s, x) => s + x.evaluations, 0) - evals0;
const perPkt = evals / (FIRST * 2);
console.log(`first packet, 10001 rules:        ${((dt * 1e6) / evals).toFixed(2)} ns per rule evaluated (${perPkt.toFixed(0)} rules per pf_test, ${((FIRST / dt) * 1e3).toFixed(0)} pps)`);

// 4. GC pauses while 100000 states churn
pfctl(['-f', 'pf.conf'], 'set limit states 300000\nset timeout { udp.first 4, udp.single 4, udp.multiple 4, interval 1 }\npass\n');
pfctl(['-F', 'states']);
flows(200000);
let maxPause = 0;
let maxKind = 0;
let pauses = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    pauses++;
    if (e.duration > maxPause) {
      maxPause = e.duration;
      maxKind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
    }
  }
});
obs.observe({ entryTypes: ['gc'] });
let peak = 0;
for (let round = 0; round < 8; round++) {
  // 25000 new flows (50000 states) per virtual second; older ones expire
  const base = (round * 25000) % 200000;
  for (let i = 0; i < 25000; i++) {
    const m = r.mbufs.get(46)!;
    m.setBytes(dgrams[base + i]!);
    m.ph_ifidx = em0.if_index;
    ipv4_input(em0, m);
    if ((i & 255) === 255) world.runFor(200_000);
  }
  world.runFor(1e9);
  if (pf.states > peak) peak = pf.states;
}
await new Promise((res) => setTimeout(res, 50));
obs.disconnect();
console.log(`churn (peak ${peak} states):          ${pauses} GCs, longest pause ${maxPause.toFixed(2)} ms (kind ${maxKind}: 1 minor, 2 major, 4 incremental, 8 weakcb)`);
