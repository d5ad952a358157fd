/**
 * One kernel per machine (DESIGN.md §3): everything on the packet path of
 * a lab machine hangs off its Kernel, nothing is module-global.  Lab
 * machines share a World (clock, event queue, root random source).
 *
 * Ownership of the parts: net/ (interfaces, queues, bpf, drivers) fills
 * `ifnets`; netinet/ (ARP, routing, IPv4, ICMP) lives in `inet`.
 */
import type { World } from './kern_clock.js';
import type { Random } from './random.js';
import { MbufPool } from './uipc_mbuf.js';
import { KernelStats } from './counters.js';
import { TaskQueue } from './kern_task.js';
import { Sysctl } from './kern_sysctl.js';
import type { Ifnet, InIfaddr } from '../net/if.js';
import type { Mbuf } from './uipc_mbuf.js';
import { KstatTree } from './kern_kstat.js';
import { Inet } from '../netinet/inet.js';
import { Inet6 } from '../netinet6/inet6.js';
import type { Tracer } from './kern_trace.js';
import type { Pf } from '../net/pf.js';

export interface KernelOptions {
  hostname: string;
  /** Packets the mbuf pool may hold at once (default 65536). */
  mbufLimit?: number;
}

export class Kernel {
  readonly hostname: string;
  readonly world: World;
  /** This machine's random stream: ISNs, IP ids, ephemeral ports. */
  readonly random: Random;
  readonly mbufs: MbufPool;
  readonly stats = new KernelStats();
  readonly sysctl = new Sysctl();
  /** The softnet task queue: interface input queues are processed here. */
  readonly softnet: TaskQueue;
  /** Interfaces by index; index 0 is never used, as in OpenBSD. */
  readonly ifnets: Array<Ifnet | undefined> = [undefined];
  /** kstat(4): interface queue statistics and driver kstats. */
  readonly kstats = new KstatTree();
  /**
   * Called after an IPv4 address was added to or removed from an interface
   * (ifconfig inet/alias/-alias/delete): netinet adds or removes the
   * connected and local routes here.
   */
  readonly if_addrhooks: Array<(ifp: Ifnet, ia: InIfaddr, added: boolean) => void> = [];
  /**
   * Called after an IPv6 address was added to, changed on or removed from an
   * interface (if_addrhooks_run() of in6_update_ifa / in6_purgeaddr): pf
   * refills its dynamic-address tables here.
   */
  readonly if_addrhooks6: Array<(ifp: Ifnet) => void> = [];
  /**
   * Network-layer input by address family (AF_INET 2, AF_INET6 24), for
   * if_input_local() (lo0 and packets to ourselves): netinet registers
   * ipv4_input here.
   */
  readonly af_input: Array<((ifp: Ifnet, m: Mbuf) => void) | undefined> = [];
  /** Called after an interface went up/down or its link changed (rt_if_track). */
  readonly if_linkstatehooks: Array<(ifp: Ifnet) => void> = [];
  /** Kernel messages, as dmesg prints them. */
  readonly msgbuf: string[] = [];
  /** IPv4: ARP, routes, input, forwarding, output, ICMP. */
  readonly inet: Inet;
  /** IPv6: neighbor discovery, routes, input, forwarding, output, ICMPv6 (netinet6/). */
  readonly inet6: Inet6;
  /**
   * The journey tracer while a journey is recorded, else null.  Trace
   * points on the packet path test it: `if (k.trace !== null) k.trace.fn(k, m, 'ip_input')`.
   */
  trace: Tracer | null = null;
  /** pf(4), once pfctl or the lab attached it (pf_attach); null: no pf_test at all. */
  pf: Pf | null = null;

  constructor(world: World, opts: KernelOptions) {
    this.hostname = opts.hostname;
    this.world = world;
    this.random = world.random.fork(`kernel:${opts.hostname}`);
    this.mbufs = new MbufPool({ limit: opts.mbufLimit ?? 65536 });
    this.softnet = new TaskQueue(world, 'softnet');
    this.inet = new Inet(this);
    this.inet6 = new Inet6(this);
  }

  /** The interface called `name`, as ifunit() finds it. */
  ifunit(name: string): Ifnet | undefined {
    for (const ifp of this.ifnets) if (ifp !== undefined && ifp.if_xname === name) return ifp;
    return undefined;
  }

  /** Attaches an interface at the next free index and returns that index. */
  if_attach(ifp: Ifnet): number {
    const index = this.ifnets.length;
    this.ifnets.push(ifp);
    return index;
  }

  /** Softnet threads (net_tq): lo gets one queue per thread.  One here. */
  readonly softnet_count = 1;
  private readonly units = new Map<string, number>();
  private pcibus = 0;

  /** The next unit number of a driver: em0, em1, ... */
  dv_unit(driver: string): number {
    const n = this.units.get(driver) ?? 0;
    this.units.set(driver, n + 1);
    return n;
  }

  /** A new PCI bus number for a NIC attached without a location (pci1, pci2, ...). */
  pci_newbus(): number {
    return ++this.pcibus;
  }

  /** Starts (or with null, stops) recording journeys, counters included. */
  setTracer(t: Tracer | null): void {
    // One tracer per world: its events start with no packet in hand (kern_trace.ts).
    const w = this.world;
    if (t !== null) w.trace = t;
    else if (w.trace === this.trace) w.trace = null;
    this.trace = t;
    // Each block records its bumps itself: no closure per bump.
    for (const b of this.stats.blocks()) {
      b.tracer = t;
      b.traceHost = t === null ? null : this;
      b.traceBase = t === null ? 0 : t.counterBase(b);
    }
  }

  /** printf(9) to the message buffer. */
  printf(line: string): void {
    this.msgbuf.push(line);
  }
}
