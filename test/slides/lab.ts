/**
 * The talk's lab, built in code with the real tools: host a -- router --
 * host b on em(4) NICs and 1 Gbit/s cables, configured with ifconfig,
 * route and sysctl as an administrator would; `sh` runs a tool on a
 * machine and returns what it printed; `tcpdump` listens on an interface
 * with bpf and prints what it sees with packetflow's tcpdump printer
 * (-n, timestamps in virtual time).
 */
import assert from 'node:assert/strict';
import { World } from '../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../src/sys/kern/kernel.js';
import { TaskQueue } from '../../src/sys/kern/kern_task.js';
import type { Mbuf } from '../../src/sys/kern/uipc_mbuf.js';
import { Cable, type CableOptions } from '../../src/sys/dev/cable.js';
import { Em } from '../../src/sys/dev/em.js';
import { Ix } from '../../src/sys/dev/ix.js';
import type { EtherNic } from '../../src/sys/dev/nic.js';
import { loopattach } from '../../src/sys/net/if_loop.js';
import { bpf_listen, BPF_DIRECTION_IN, type BpfDesc } from '../../src/sys/net/bpf.js';
import type { Ifnet } from '../../src/sys/net/if.js';
import { ip_output } from '../../src/sys/netinet/ip_output.js';
import { Ipv4Packet } from '../../src/wire/ip4.js';
import { parseIp4 } from '../../src/wire/addr.js';
import { StringOutput, type Io } from '../../src/lib/io.js';
import { ifconfig } from '../../src/sbin/ifconfig/ifconfig.js';
import { route } from '../../src/sbin/route/route.js';
import { sysctl } from '../../src/sbin/sysctl/sysctl.js';
import { OutBuf, StringSink } from '../../src/usr.sbin/tcpdump/outbuf.js';
import { PrintState, printPacket, DLT_EN10MB } from '../../src/usr.sbin/tcpdump/print.js';

export type KTool = (k: Kernel, argv: readonly string[], io: Io) => number;

/** Run a tool on machine k; the status and stderr are checked, stdout returned. */
export function sh(k: Kernel, tool: KTool, ...argv: string[]): string {
  const out = new StringOutput();
  const err = new StringOutput();
  const status = tool(k, argv, { stdout: out, stderr: err });
  assert.equal(err.text(), '', `${argv.join(' ')}: stderr`);
  assert.equal(status, 0, `${argv.join(' ')}: status`);
  return out.text();
}

export interface Machine {
  k: Kernel;
  nics: EtherNic[];
}

/**
 * A machine with lo0 and the given NICs (attached in order: em0, em1...).
 * softnetLatency > 0 models a busy CPU: the softnet thread runs that many
 * ns after work is queued, so input queues fill meanwhile.
 */
export function machine(world: World, name: string, nics: Array<{ driver?: 'em' | 'ix'; lladdr: string; pci?: { bus: number; dev: number; fn: number } }>, softnetLatency = 0): Machine {
  const k = new Kernel(world, { hostname: name });
  if (softnetLatency > 0) (k as unknown as { softnet: TaskQueue }).softnet = new TaskQueue(world, 'softnet', softnetLatency);
  loopattach(k);
  sh(k, ifconfig, 'lo0', 'inet', '127.0.0.1');
  const list = nics.map((n) => {
    const o = n.pci !== undefined ? { lladdr: n.lladdr, pci: n.pci } : { lladdr: n.lladdr };
    return (n.driver ?? 'em') === 'em' ? new Em(k, o) : new Ix(k, o);
  });
  return { k, nics: list };
}

export function plug(world: World, a: EtherNic, b: EtherNic, opts: CableOptions = {}): Cable {
  return new Cable(world, opts).connect(a, b);
}

export interface SlideLab {
  world: World;
  a: Machine;
  router: Machine;
  b: Machine;
  c1: Cable;
  c2: Cable;
}

/**
 * hostA (192.0.2.10) -- em0 router em1 -- hostB (198.51.100.20); the
 * router's em1 is the talk's "Intel I210" with its lladdr.  `rate2` is
 * the rate of the router-to-b cable.
 */
export function slideLab(opts: { forwarding?: boolean; rate2?: number; seed?: number; softnetLatency?: number } = {}): SlideLab {
  const world = new World({ seed: opts.seed ?? 1 });
  const a = machine(world, 'a', [{ lladdr: '02:00:00:00:0a:00' }]);
  const router = machine(world, 'router', [{ lladdr: '0c:c4:7a:78:f3:54' }, { lladdr: '0c:c4:7a:78:f3:55' }], opts.softnetLatency ?? 0);
  const b = machine(world, 'b', [{ lladdr: '02:00:00:00:0b:00' }]);
  const c1 = plug(world, a.nics[0]!, router.nics[0]!);
  const c2 = plug(world, router.nics[1]!, b.nics[0]!, opts.rate2 !== undefined ? { rate: opts.rate2 } : {});
  sh(a.k, ifconfig, 'em0', 'inet', '192.0.2.10/24');
  sh(a.k, route, '-q', 'add', 'default', '192.0.2.1');
  sh(router.k, ifconfig, 'em0', 'inet', '192.0.2.1/24');
  sh(router.k, ifconfig, 'em1', 'inet', '198.51.100.3/24', 'description', 'Intel I210');
  sh(b.k, ifconfig, 'em0', 'inet', '198.51.100.20/24');
  sh(b.k, route, '-q', 'add', 'default', '198.51.100.3');
  sh(router.k, sysctl, `net.inet.ip.forwarding=${opts.forwarding === false ? 0 : 1}`);
  world.runFor(1e9);
  return { world, a, router, b, c1, c2 };
}

export function ip(s: string): number {
  const v = parseIp4(s);
  assert.ok(v >= 0, s);
  return v;
}

/**
 * A datagram of `len` bytes (IP header included) with protocol `proto`
 * from machine k to dst, sent through ip_output as a raw socket would.
 */
export function datagram(k: Kernel, dst: number, proto: number, len = 64, ttl = 64, port = 0): Mbuf {
  const m = k.mbufs.get(len)!;
  m.append(len);
  m.buf.fill(0, m.off, m.off + len);
  const iph = new Ipv4Packet(m.buf, m.off, len);
  iph.version = 4;
  iph.ihl = 5;
  iph.totalLength = len;
  iph.ttl = ttl;
  iph.protocol = proto;
  iph.dst = dst;
  if (proto === 17 && len >= 28) {
    // UDP from port 49152 to `port` (no checksum), for flows and for finding a packet in a dump.
    const u = m.off + 20;
    m.buf[u] = 0xc0;
    m.buf[u + 2] = port >> 8;
    m.buf[u + 3] = port & 0xff;
    m.buf[u + 4] = (len - 20) >> 8;
    m.buf[u + 5] = (len - 20) & 0xff;
  }
  return m;
}

export function send(k: Kernel, m: Mbuf): number {
  return ip_output(k, m, 0, null);
}

/** A live `tcpdump -n -i IF` (optionally -e): lines as printed, timestamps in virtual time (UTC). */
export interface Dump {
  readonly d: BpfDesc;
  /** The lines so far, with their direction (in or out). */
  lines(): string[];
  dirs: string[];
}

export function tcpdump(ifp: Ifnet, opts: { eflag?: boolean } = {}): Dump {
  const sink = new StringSink();
  const out = new OutBuf(sink.sink);
  const st = new PrintState({ nflag: true, eflag: opts.eflag ?? false, thiszone: 0 });
  const dirs: string[] = [];
  const d = bpf_listen(ifp, (buf, off, caplen, wirelen, ts, dir) => {
    printPacket(out, st, DLT_EN10MB, Math.floor(ts / 1e9), ts % 1e9, buf, off, caplen, wirelen);
    out.flush();
    dirs.push(dir === BPF_DIRECTION_IN ? 'in' : 'out');
  });
  return {
    d,
    dirs,
    lines: () => sink.text().split('\n').filter((l) => l !== ''),
  };
}
