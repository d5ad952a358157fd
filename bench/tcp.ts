/**
 * bench/tcp: one bulk TCP connection between two packetflow machines
 * (ix(4) NICs, one unlimited-rate 1500-MTU cable, simulated time), against
 * the Linux kernel's TCP between two network namespaces over a veth pair
 * in the same run.  Prints Gbit/s of payload per second of wall time for
 * both and the ratio (packetflow / Linux).
 *
 * The packetflow figure covers the whole simulation: socket writes and
 * reads, tcp_output, ip_output, ARP, ether_output, ifq, the transmit ring,
 * the NIC cutting TSO segments into frames (headers and checksums of each
 * frame), the cable, the receive ring, LRO (every frame's checksums
 * checked), interrupts, ether_input, ip_input, tcp_input, ACKs back,
 * timers and the event queue.
 *
 * The drivers run with OpenBSD's defaults: ix has TSO (IFCAP_TSOv4) and
 * LRO (IFXF_LRO, "tcplro") on, em (`--nic=em`) has TSO and no LRO;
 * net.inet.tcp.tso is 1.  The per-frame figure divides CPU time by the
 * data frames that crossed the cable.
 *
 * The Linux side needs root, ip(8) and iperf3 (or OpenBSD nc as a
 * fallback); without them it says why and prints the packetflow figure
 * alone.  Namespaces are named pf-bench-tcp-a/b and removed afterwards.
 *
 *   npx tsx bench/tcp.ts [--no-linux] [--nic=ix|em] [MBYTES] [RUNS]
 */
import { tuneJit } from '../src/lib/jit.js';
import { performance } from 'node:perf_hooks';
import { spawn, spawnSync } from 'node:child_process';
import { World } from '../src/sys/kern/kern_clock.js';
import { Kernel } from '../src/sys/kern/kernel.js';
import { Cable } from '../src/sys/dev/cable.js';
import { Em } from '../src/sys/dev/em.js';
import { Ix } from '../src/sys/dev/ix.js';
import type { EtherNic } from '../src/sys/dev/nic.js';
import { if_addr_add, if_setflags_up } from '../src/sys/net/if.js';
import { ether_ifattach } from '../src/sys/net/if_ethersubr.js';
import { parseIp4 } from '../src/wire/addr.js';
import {
  socreate, sobind, solisten, soconnect, soaccept_next, sosend, soreceive, sosetopt, SOCK_STREAM,
  SOL_SOCKET, SO_RCVBUF, SO_SNDBUF, SO_WAKE_READ, SO_WAKE_WRITE, type Socket,
} from '../src/sys/kern/uipc_socket.js';
import { AF_INET, Sockaddr } from '../src/sys/netinet/in_pcb.js';

// what `packetflow` runs with (src/lib/jit.ts), set before the packet path is compiled
tuneJit();

const argv = process.argv.slice(2);
const NOLINUX = argv.includes('--no-linux');
const NIC = argv.includes('--nic=em') ? 'em' : 'ix';
const args = argv.filter((a) => !a.startsWith('--'));
const MBYTES = Number(args[0] ?? 1000);
const RUNS = Number(args[1] ?? 3);

function mkhost(world: World, name: string, addr: string, mac: string): Kernel {
  const k = new Kernel(world, { hostname: name });
  const nic = NIC === 'em' ? new Em(k, { lladdr: mac }) : new Ix(k, { lladdr: mac });
  ether_ifattach(nic.ifp);
  if_setflags_up(nic.ifp, true);
  if_addr_add(nic.ifp, parseIp4(addr), 0xffffff00);
  return k;
}

function sock(k: Kernel, buf: number): Socket {
  const so = socreate(k, AF_INET, SOCK_STREAM, 0);
  if (typeof so === 'number') throw new Error(`socreate: ${so}`);
  if (buf > 0) {
    sosetopt(so, SOL_SOCKET, SO_SNDBUF, buf);
    sosetopt(so, SOL_SOCKET, SO_RCVBUF, buf);
  }
  return so;
}

interface Result {
  bytes: number;
  wallMs: number;
  /** CPU time of this process (user + system) during the run: steadier than wall time on a loaded machine. */
  cpuMs: number;
  virtMs: number;
  segs: number;
  /** Frames a sent on the cable (data and the rest). */
  frames: number;
  rexmit: number;
}

function packetflow(total: number, sockbuf: number): Result {
  const world = new World({ seed: 1 });
  const a = mkhost(world, 'a', '192.0.2.1', '02:00:00:00:00:01');
  const b = mkhost(world, 'b', '192.0.2.2', '02:00:00:00:00:02');
  const na = a.ifnets[1]!.if_softc as EtherNic;
  const cable = new Cable(world, { rate: Infinity, delay: 0 }).connect(na, b.ifnets[1]!.if_softc as EtherNic);
  world.runFor(1e6);
  const l = sock(b, sockbuf);
  sobind(l, Sockaddr.in(0, 5201));
  solisten(l, 5);
  const c = sock(a, sockbuf);
  soconnect(c, Sockaddr.in(parseIp4('192.0.2.2'), 5201));
  world.runFor(1e8);
  const s = soaccept_next(l);
  if (s === null) throw new Error('no connection');
  const src = new Uint8Array(256 * 1024);
  for (let i = 0; i < src.length; i++) src[i] = i * 7;
  const dst = new Uint8Array(256 * 1024);
  let sent = 0;
  let recvd = 0;
  const write = (): void => {
    while (sent < total) {
      const n = sosend(c, null, src, 0, Math.min(src.length, total - sent));
      if (n <= 0) break;
      sent += n;
    }
  };
  const read = (): void => {
    for (;;) {
      const n = soreceive(s, dst, 0, dst.length, null);
      if (n <= 0) break;
      recvd += n;
    }
  };
  c.so_upcall = (_so, what) => {
    if (what & SO_WAKE_WRITE) write();
  };
  s.so_upcall = (_so, what) => {
    if (what & SO_WAKE_READ) read();
  };
  const v0 = world.now;
  const f0 = cable.stats(na).frames;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  write();
  while (recvd < total) {
    if (world.runFor(1e7) === 0 && world.idle) throw new Error(`stalled at ${recvd} of ${total}`);
  }
  const t1 = performance.now();
  const c1 = process.cpuUsage(c0);
  const st = a.stats.tcpstat;
  return { bytes: recvd, wallMs: t1 - t0, cpuMs: (c1.user + c1.system) / 1000, virtMs: (world.now - v0) / 1e6, segs: st.value('tcps_sndpack'), frames: cable.stats(na).frames - f0, rexmit: st.value('tcps_sndrexmitpack') };
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

function sh(cmd: string): { ok: boolean; out: string } {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  return { ok: r.status === 0, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

const NSA = 'pf-bench-tcp-a';
const NSB = 'pf-bench-tcp-b';

function cleanup(): void {
  sh(`ip netns del ${NSA} 2>/dev/null; ip netns del ${NSB} 2>/dev/null`);
}

/** Linux TCP over veth between two namespaces: Gbit/s, or a reason it could not run. */
async function linux(total: number): Promise<{ gbps: number; tool: string } | string> {
  if (process.getuid?.() !== 0) return 'not root: Linux baseline skipped';
  if (!has('ip')) return 'ip(8) not found: Linux baseline skipped';
  const tool = has('iperf3') ? 'iperf3' : has('nc') ? 'nc' : '';
  if (tool === '') return 'neither iperf3 nor nc found: Linux baseline skipped';
  cleanup();
  try {
    for (const c of [
      `ip netns add ${NSA}`, `ip netns add ${NSB}`,
      `ip link add pfbt0 netns ${NSA} type veth peer name pfbt1 netns ${NSB}`,
      `ip -n ${NSA} addr add 192.0.2.1/24 dev pfbt0`, `ip -n ${NSB} addr add 192.0.2.2/24 dev pfbt1`,
      `ip -n ${NSA} link set pfbt0 mtu 1500 up`, `ip -n ${NSB} link set pfbt1 mtu 1500 up`,
      `ip -n ${NSA} link set lo up`, `ip -n ${NSB} link set lo up`,
    ]) {
      const r = sh(c);
      if (!r.ok) return `${c}: ${r.out.trim()} (Linux baseline skipped)`;
    }
    if (tool === 'iperf3') {
      const srv = spawn('ip', ['netns', 'exec', NSB, 'iperf3', '-s', '-1', '-B', '192.0.2.2'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 500));
      const r = sh(`ip netns exec ${NSA} iperf3 -c 192.0.2.2 -n ${total} -J`);
      srv.kill();
      if (!r.ok) return `iperf3 failed: ${r.out.slice(0, 200)}`;
      const j = JSON.parse(r.out) as { end: { sum_received: { bits_per_second: number } } };
      return { gbps: j.end.sum_received.bits_per_second / 1e9, tool };
    }
    const srv = spawn('ip', ['netns', 'exec', NSB, 'sh', '-c', 'exec nc -l 192.0.2.2 5201 > /dev/null'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 500));
    const t0 = performance.now();
    const r = sh(`ip netns exec ${NSA} sh -c 'head -c ${total} /dev/zero | nc -N 192.0.2.2 5201'`);
    const t1 = performance.now();
    await new Promise<void>((res) => {
      if (srv.exitCode !== null) res();
      else srv.on('exit', () => res());
      setTimeout(() => {
        srv.kill();
        res();
      }, 5000);
    });
    if (!r.ok) return `nc failed: ${r.out.slice(0, 200)}`;
    return { gbps: (total * 8) / ((t1 - t0) / 1000) / 1e9, tool: 'nc (head /dev/zero | nc: the pipe limits it)' };
  } finally {
    cleanup();
  }
}

async function main(): Promise<void> {
  const total = MBYTES * 1e6;
  // Warm-up, then the measured runs.
  packetflow(Math.min(total, 50e6), 0);
  let best: Result | null = null;
  for (let i = 0; i < RUNS; i++) {
    const r = packetflow(total, 0);
    const gbps = (r.bytes * 8) / (r.wallMs / 1000) / 1e9;
    console.log(`packetflow run ${i + 1}: ${(r.bytes / 1e6).toFixed(0)} MB in ${r.wallMs.toFixed(0)} ms wall (${r.virtMs.toFixed(1)} ms virtual, ${r.cpuMs.toFixed(0)} ms CPU), ${gbps.toFixed(2)} Gbit/s (${((r.bytes * 8) / (r.cpuMs / 1000) / 1e9).toFixed(2)} per CPU second), ${r.frames} frames a→b (${((r.cpuMs * 1000) / r.frames).toFixed(2)} µs CPU each; 10 Gbit/s needs ${((r.bytes / r.frames) * 8 / 10e3).toFixed(2)}), ${r.segs} data segments sent (TSO), ${r.rexmit} retransmitted`);
    if (best === null || r.wallMs < best.wallMs) best = r;
  }
  const pf = (best!.bytes * 8) / (best!.wallMs / 1000) / 1e9;
  const pfc = (best!.bytes * 8) / (best!.cpuMs / 1000) / 1e9;
  console.log(`packetflow TCP (${NIC}, TSO${NIC === 'ix' ? ' + LRO' : ''}): ${pf.toFixed(2)} Gbit/s of payload (best of ${RUNS}; ${pfc.toFixed(2)} per CPU second)`);
  if (NOLINUX) return;
  const lx = await linux(total);
  if (typeof lx === 'string') {
    console.log(lx);
    return;
  }
  console.log(`Linux TCP over veth (${lx.tool}): ${lx.gbps.toFixed(2)} Gbit/s`);
  console.log(`ratio packetflow / Linux: ${(pf / lx.gbps).toFixed(3)}`);
}

void main();
