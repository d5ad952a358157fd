/**
 * A lab: one World (clock, events, seeded randomness) and the machines of a
 * topology, each a Kernel with lo0 and its em(4)/ix(4) NICs, joined by
 * cables.  Building a lab does what a machine's boot and /etc/hostname.*
 * would: attach the NICs (dmesg lines), configure addresses (bringing the
 * interfaces up, gratuitous ARP), configure IPv6 where the topology has
 * inet6 addresses (lo0 and those interfaces, with their link-local
 * addresses and DAD), add routes, set sysctls, load /etc/pf.conf into pf
 * and enable it (rc's pf=YES); then one second of virtual time passes so
 * boot traffic has settled (DAD of the boot addresses is done then).
 *
 * A machine's tap and vxlan interfaces are attached to the host
 * (dev/attach.ts); while they are, the world runs in real time and no
 * settling second is run.  Lab.load() opens what they need first (VXLAN
 * sockets are bound asynchronously); close() detaches them, so the
 * process can exit.
 */
import { World, type ClockMode } from '../sys/kern/kern_clock.js';
import { Kernel } from '../sys/kern/kernel.js';
import { CounterBlock } from '../sys/kern/counters.js';
import { Cable } from '../sys/dev/cable.js';
import { Em } from '../sys/dev/em.js';
import { Ix } from '../sys/dev/ix.js';
import type { EtherNic } from '../sys/dev/nic.js';
import { if_addr_add, if_setflags_up, type Ifnet } from '../sys/net/if.js';
import { loopattach } from '../sys/net/if_loop.js';
import { rt_route_add } from '../sys/net/rtsock.js';
import type { Tracer } from '../sys/kern/kern_trace.js';
import { maskFromLen4 } from '../wire/addr.js';
import { in6_ifattach, in6_update_ifa } from '../sys/netinet6/in6.js';
import { rt6_route_add } from '../sys/net/route6.js';
import { StringOutput } from '../lib/io.js';
import { pfctlKernel } from '../sbin/pfctl/pfctl.js';
import { HostAttachments, type AttachSpec } from '../sys/dev/attach.js';
import type { HostLink } from '../sys/dev/hostlink.js';
import { tap_available } from '../sys/dev/tap.js';
import { parseTopology, TopologyError, TopologyErrors, type LabSpec, type MachineSpec, type NicSpec } from './topology.js';

export class Machine {
  readonly nics = new Map<string, EtherNic>();
  /** Interfaces attached to the host (tap0, vxlan0). */
  readonly links = new Map<string, HostLink>();
  /** The machine's files: topology `files`, shell redirections (`netstat -ss >before`). */
  readonly files = new Map<string, string>();
  constructor(
    readonly name: string,
    readonly k: Kernel,
    readonly spec: MachineSpec,
  ) {}

  get hostname(): string {
    return this.k.hostname;
  }

  /** The ifnet of a NIC or an attachment. */
  ifp(name: string): Ifnet | undefined {
    return (this.nics.get(name) ?? this.links.get(name))?.ifp;
  }

  /** Interface names, lo0 first. */
  interfaces(): string[] {
    return this.k.ifnets.filter((i): i is Ifnet => i !== undefined).map((i) => i.if_xname);
  }
}

export interface LabOptions {
  mode?: ClockMode;
  /** Skip the settling second after boot (tests that look at boot traffic). */
  noSettle?: boolean;
  /** Where tap/vxlan interfaces attach, VXLAN sockets opened (Lab.load() makes it). */
  attachments?: HostAttachments;
}

export class Lab {
  readonly world: World;
  readonly machines = new Map<string, Machine>();
  readonly cables: Cable[] = [];
  /** The lab's attachments to the host (empty without tap/vxlan interfaces). */
  readonly attachments: HostAttachments;

  constructor(
    readonly spec: LabSpec,
    opts: LabOptions = {},
  ) {
    this.world = new World({ seed: spec.seed, mode: opts.mode ?? 'simulated' });
    this.attachments = opts.attachments ?? new HostAttachments();
    try {
      this.boot(opts);
    } catch (e) {
      // Nothing may stay attached (sockets, TAP fds) when the lab fails to boot.
      void this.attachments.close();
      throw e;
    }
  }

  private boot(opts: LabOptions): void {
    const spec = this.spec;
    const errors: TopologyError[] = [];
    for (const ms of spec.machines) {
      const k = new Kernel(this.world, { hostname: ms.hostname });
      const lo = loopattach(k);
      if_addr_add(lo, 0x7f000001, 0xff000000);
      const m = new Machine(ms.name, k, ms);
      for (const ns of ms.nics) {
        if (ns.attach !== undefined) {
          const link = attachOne(this.attachments, k, ns.attach, spec.file, ms, ns, errors);
          if (link !== null) {
            if (ns.description !== undefined) link.ifp.if_description = ns.description;
            m.links.set(ns.name, link);
          }
          continue;
        }
        const opts = {
          lladdr: ns.lladdr!,
          name: ns.name,
          ...(ns.pci !== undefined ? { pci: { bus: ns.pci[0], dev: ns.pci[1], fn: ns.pci[2] } } : {}),
          ...(ns.queues !== undefined ? { queues: ns.queues } : {}),
          ...(ns.txslots !== undefined ? { txSlots: ns.txslots } : {}),
          ...(ns.rxslots !== undefined ? { rxSlots: ns.rxslots } : {}),
        };
        const nic = ns.driver === 'ix' ? new Ix(k, opts) : new Em(k, opts);
        if (ns.description !== undefined) nic.ifp.if_description = ns.description;
        m.nics.set(ns.name, nic);
      }
      for (const [path, text] of ms.files) m.files.set(path, text);
      this.machines.set(ms.name, m);
    }
    // Cables first, so interfaces come up with link and announce their addresses.
    for (const cs of spec.cables) {
      const a = this.machines.get(cs.a.machine)!.nics.get(cs.a.nic)!;
      const b = this.machines.get(cs.b.machine)!.nics.get(cs.b.nic)!;
      const c = new Cable(this.world, { rate: cs.rate, delay: cs.delay, loss: cs.loss, duplicate: cs.duplicate, reorder: cs.reorder, name: cs.name });
      c.connect(a, b);
      this.cables.push(c);
    }
    for (const m of this.machines.values()) {
      const ms = m.spec;
      for (const ns of ms.nics) {
        const ifp = m.ifp(ns.name);
        if (ifp === undefined) continue; // an attachment that failed: reported
        if (ns.up) if_setflags_up(ifp, true);
        for (const a of ns.inet) if_addr_add(ifp, a.addr, maskFromLen4(a.plen));
      }
      // IPv6 as OpenBSD enables it: on lo0 and on the interfaces given an inet6 address.
      const v6 = ms.nics.some((ns) => ns.inet6.length > 0);
      if (v6) in6_ifattach(m.k, lo0Of(m.k));
      for (const ns of ms.nics) {
        const ifp = m.ifp(ns.name);
        if (ifp === undefined) continue;
        for (const a of ns.inet6) {
          const r = in6_update_ifa(m.k, ifp, a.addr, a.plen);
          if (typeof r === 'number') errors.push(new TopologyError(spec.file, ms.line, `machine ${ms.name}: nic ${ns.name}: inet6 ${a.text}: error ${r}`));
        }
      }
      m.k.softnet.latency = ms.softnetLatency;
      if (ms.kind === 'router') m.k.sysctl.set('net.inet.ip.forwarding', 1);
      if (ms.kind === 'router' && v6) m.k.sysctl.set('net.inet6.ip6.forwarding', 1);
      for (const [name, value, line] of ms.sysctl) {
        const e = m.k.sysctl.set(name, value);
        if (e === 'ENOENT') errors.push(new TopologyError(spec.file, line, `machine ${ms.name}: sysctl ${name}: no such variable`));
        else if (e !== null) errors.push(new TopologyError(spec.file, line, `machine ${ms.name}: sysctl ${name}: ${e === 'EPERM' ? 'read-only' : `value ${value} out of range`}`));
      }
      for (const r of ms.routes) {
        const e = r.gateway6 !== undefined ? rt6_route_add(m.k, r.dest6!, r.plen, r.gateway6) : rt_route_add(m.k, r.dest, r.plen, r.gateway);
        if (e !== 0 && e !== 17) errors.push(new TopologyError(spec.file, ms.line, `machine ${ms.name}: route ${r.text}: error ${e}`));
      }
      if (ms.files.has(PF_CONF)) {
        const e = pfBoot(m);
        if (e !== null) {
          // pfctl names the line in pf.conf; the topology line is that line of the block.
          const at = /^\/etc\/pf\.conf:(\d+):/.exec(e);
          const key = ms.fileLines.get(PF_CONF) ?? ms.line;
          errors.push(new TopologyError(spec.file, at ? key + Number(at[1]) : key, `machine ${ms.name}: ${e}`));
        }
      }
    }
    if (errors.length > 0) throw new TopologyErrors(errors);
    // With IPv6, boot is over when DAD (a retransmit timer, 1 s) and the
    // unsolicited MLD reports (up to MLD_V1_MAX_RI, 10 s) are.
    const v6 = spec.machines.some((ms) => ms.nics.some((ns) => ns.inet6.length > 0));
    if (!opts.noSettle && this.world.mode === 'simulated') this.world.runFor(v6 ? BOOT_SETTLE_INET6 : BOOT_SETTLE);
  }

  /** A lab from a topology file's text (synchronous: no vxlan interfaces; see load()). */
  static fromYaml(text: string, file = 'lab.yaml', opts: LabOptions = {}): Lab {
    return new Lab(parseTopology(text, file), opts);
  }

  /**
   * A lab from a topology (text or parsed), with its tap and vxlan
   * interfaces attached to the host.  Errors name the topology line:
   *
   *   lab.yaml:9: machine r1: nic tap0: TAP unavailable: creating a TAP device needs root (CAP_NET_ADMIN)
   *   lab.yaml:12: machine r1: nic vxlan0: local 127.0.0.1:4790: bind EADDRINUSE 127.0.0.1:4790
   */
  static async load(topology: string | LabSpec, file = 'lab.yaml', opts: LabOptions = {}): Promise<Lab> {
    const spec = typeof topology === 'string' ? parseTopology(topology, file) : topology;
    const errors: TopologyError[] = [];
    const vx: AttachSpec[] = [];
    for (const ms of spec.machines) {
      for (const ns of ms.nics) {
        if (ns.attach === undefined) continue;
        if (ns.attach.driver === 'tap') {
          const why = tap_available();
          if (why !== null) errors.push(new TopologyError(spec.file, ns.line, `machine ${ms.name}: nic ${ns.name}: TAP unavailable: ${why}`));
        } else vx.push(ns.attach);
      }
    }
    if (errors.length > 0) throw new TopologyErrors(errors);
    const att = opts.attachments ?? new HostAttachments();
    for (const ms of spec.machines) {
      for (const ns of ms.nics) {
        if (ns.attach?.driver !== 'vxlan') continue;
        try {
          await att.open([ns.attach]);
        } catch (e) {
          errors.push(new TopologyError(spec.file, ns.line, `machine ${ms.name}: nic ${ns.name}: ${attachMessage(e, ns.name)}`));
        }
      }
    }
    if (errors.length > 0) {
      await att.close();
      throw new TopologyErrors(errors);
    }
    return new Lab(spec, { ...opts, attachments: att });
  }

  /** Whether the lab has interfaces attached to the host (it then runs in real time). */
  get attached(): boolean {
    return this.attachments.links.length > 0;
  }

  /**
   * Detach the host attachments (closing their sockets and TAP devices) and
   * stop the clock: nothing of the lab keeps the process alive after.
   */
  async close(): Promise<void> {
    await this.attachments.close();
    this.world.stop();
  }

  machine(name: string): Machine | undefined {
    const m = this.machines.get(name);
    if (m !== undefined) return m;
    for (const x of this.machines.values()) if (x.hostname === name) return x;
    return undefined;
  }

  /** The kernels, in topology order. */
  kernels(): Kernel[] {
    return [...this.machines.values()].map((m) => m.k);
  }

  /** Attach (or with null, detach) a journey tracer to every machine and cable. */
  setTracer(t: Tracer | null): void {
    for (const k of this.kernels()) {
      k.setTracer(t);
      const hook = t === null ? null : (b: CounterBlock, id: number, n: number): void => t.counter(k, b.nameOf(id), n);
      for (const b of extraCounterBlocks(k)) b.onBump = hook;
    }
    for (const c of this.cables) c.trace = t;
  }
}

/** An attachment's error without the driver's own prefix ("tap: ", "vxlan0: "). */
function attachMessage(e: unknown, ifname: string): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(new RegExp(`^(${ifname}|tap|vxlan): `), '');
}

/** Attach one tap/vxlan interface while the lab boots; failures become topology errors. */
function attachOne(att: HostAttachments, k: Kernel, a: AttachSpec, file: string, ms: MachineSpec, ns: NicSpec, errors: TopologyError[]): HostLink | null {
  try {
    return att.attachNow(k, a);
  } catch (e) {
    const msg = attachMessage(e, ns.name);
    const hint = /call open\(\) first/.test(msg) ? 'vxlan interfaces need Lab.load() (the socket is bound asynchronously)' : msg;
    errors.push(new TopologyError(file, ns.line, `machine ${ms.name}: nic ${ns.name}: ${hint}`));
    return null;
  }
}

/** Virtual time a lab runs after boot before it is handed over: IPv4 only, and with IPv6. */
export const BOOT_SETTLE = 1e9;
export const BOOT_SETTLE_INET6 = 11e9;

/** The file rc(8) loads into pf at boot. */
export const PF_CONF = '/etc/pf.conf';

function lo0Of(k: Kernel): Ifnet {
  return k.ifnets.find((i): i is Ifnet => i !== undefined && i.if_xname === 'lo0')!;
}

/**
 * rc(8) with pf=YES: `pfctl -f /etc/pf.conf` then `pfctl -e`, with the
 * machine's files.  Returns pfctl's complaint, or null.
 */
export function pfBoot(m: Machine): string | null {
  const out = new StringOutput();
  const err = new StringOutput();
  const io = { stdout: out, stderr: err };
  const host = { readFile: (n: string) => m.files.get(n) ?? null };
  if (pfctlKernel(m.k, ['-f', PF_CONF], io, host) !== 0) {
    const lines = err.text().trim().split('\n');
    return lines.filter((l) => l.startsWith(`${PF_CONF}:`)).join('; ') || `pfctl -f ${PF_CONF}: ${lines.join('; ')}`;
  }
  if (pfctlKernel(m.k, ['-q', '-e'], io, host) !== 0) return `pfctl -e: ${err.text().trim()}`;
  return null;
}

/**
 * Counter blocks a kernel keeps outside k.stats (packetflow's etherstat,
 * arpstat, and those later modules hang off k.inet and friends): found by
 * looking one level into the kernel's parts, so new blocks are traced
 * without a list to keep up to date.
 */
export function extraCounterBlocks(k: Kernel): CounterBlock[] {
  const seen = new Set<CounterBlock>(k.stats.blocks());
  const out: CounterBlock[] = [];
  const look = (o: unknown, depth: number): void => {
    if (o === null || typeof o !== 'object') return;
    for (const v of Object.values(o as Record<string, unknown>)) {
      if (v instanceof CounterBlock) {
        if (!seen.has(v)) {
          seen.add(v);
          out.push(v);
        }
      } else if (depth > 0 && v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Kernel) && !(v instanceof Map)) look(v, depth - 1);
    }
  };
  for (const key of Object.keys(k) as Array<keyof Kernel>) {
    if (key === 'world' || key === 'ifnets' || key === 'stats') continue;
    look(k[key], 1);
  }
  return out;
}

/** Every counter block of a kernel: OpenBSD's (k.stats) and packetflow's own. */
export function allCounterBlocks(k: Kernel): CounterBlock[] {
  return [...k.stats.blocks(), ...extraCounterBlocks(k)];
}
