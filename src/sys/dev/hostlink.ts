/**
 * What the real attachments (dev/vxlan: VXLAN over a host UDP socket,
 * dev/tap: a Linux TAP device) have in common: an Ethernet interface of a
 * packetflow kernel whose wire is a Linux interface.  It is a pseudo
 * device, as OpenBSD's tap(4) and vxlan(4) are: no DMA rings and no
 * modelled line rate; the start routine hands each frame to the host at
 * once (bpf OUT tap first, as em_start does) and frames from the host go
 * through ifiq_input() (bpf IN tap, input queue, softnet) like a NIC's.
 *
 * Time: a world with a real attachment runs in realtime mode (wall clock),
 * switched on when the first attachment of the world comes and back to
 * simulated when the last one goes (hostlink_world_acquire/release).
 * Frames from the host arrive in libuv callbacks; they are gathered and
 * handed to the kernel once per event-loop turn (setImmediate), with the
 * world's clock brought up to the wall clock before and the resulting
 * softnet work run at once after, so a reply leaves in the same turn
 * rather than after the next timer tick (Node's timers have 1 ms grain).
 *
 * Every frame lost here names its reason in the kstat "hostlink" of the
 * interface (kstat vxlan0:0:hostlink:0): rx_down (interface not running),
 * rx_oversize (longer than the MTU allows), rx_nombuf (mbuf pool
 * exhausted), tx_errors (the host refused the frame).
 */
import type { Kernel } from '../kern/kernel.js';
import type { World } from '../kern/kern_clock.js';
import { MbufList } from '../kern/uipc_mbuf.js';
import {
  Ifnet, IFT_ETHER, IFF_BROADCAST, IFF_SIMPLEX, IFF_MULTICAST, IFF_RUNNING, IFXF_CLONED, IFXF_MPSAFE,
  LINK_STATE_DOWN, LINK_STATE_FULL_DUPLEX, LINK_STATE_UNKNOWN, if_addgroup, if_linkstate, if_setflags_up,
} from '../net/if.js';
import type { IfQueue } from '../net/ifq.js';
import { ifq_dequeue, ifq_init_maxlen, ifiq_input, ifq_purge } from '../net/ifq.js';
import { bpf_mtap_ether, bpfattach, BPF_DIRECTION_OUT, DLT_EN10MB } from '../net/bpf.js';
import { ether_ifattach } from '../net/if_ethersubr.js';
import { kstat_kv, KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS, type Kstat, type KstatKv } from '../kern/kern_kstat.js';
import { formatMac, parseMac } from '../../wire/addr.js';

const ETHER_HDR_LEN = 14;
const ETHER_VLAN_ENCAP_LEN = 4;
/** Largest MTU a host link takes (Linux allows 65535 on tap and vxlan). */
export const HOSTLINK_HARDMTU = 65535 - ETHER_HDR_LEN - ETHER_VLAN_ENCAP_LEN;

/** The host side of a link: where frames go. */
export interface HostWire {
  /** Hand one frame to the host; 0, or an errno when the host refused it. */
  transmit(buf: Uint8Array, off: number, len: number): number;
  /** Release the host's resources (socket, fd). */
  close(): void;
}

export interface HostLinkOptions {
  /** Link-layer address; default a locally administered one from the kernel's random stream. */
  lladdr?: string | Uint8Array;
  /** Interface name; default the driver name and the next free unit (vxlan0, tap0). */
  name?: string;
  /** MTU (default 1500, as the Linux side's default). */
  mtu?: number;
  /** Bring the interface up at attach (default true). */
  up?: boolean;
}

/** Attachments per world, to switch realtime mode on and off. */
const attached = new WeakMap<World, number>();

/**
 * A real attachment arrived: the world runs in realtime mode from now on.
 * A world that was simulated is switched (its virtual time continues from
 * where it was, paced by the wall clock).
 */
export function hostlink_world_acquire(world: World): void {
  const n = attached.get(world) ?? 0;
  attached.set(world, n + 1);
  if (world.mode !== 'realtime') world.setMode('realtime');
  if (!world.isRunning) world.start();
}

/** The last real attachment left: the world stops and is simulated again. */
export function hostlink_world_release(world: World): void {
  const n = (attached.get(world) ?? 1) - 1;
  if (n > 0) {
    attached.set(world, n);
    return;
  }
  attached.delete(world);
  world.setMode('simulated');
}

/** Real attachments of a world now. */
export function hostlink_count(world: World): number {
  return attached.get(world) ?? 0;
}

export class HostLink {
  readonly kernel: Kernel;
  readonly ifp: Ifnet;
  readonly driver: string;
  wire: HostWire | null = null;
  /** Frames from the host handed to ifiq_input, and the drops (see above). */
  rx_frames = 0;
  rx_down = 0;
  rx_oversize = 0;
  rx_nombuf = 0;
  tx_frames = 0;
  tx_errors = 0;
  readonly ks: Kstat;

  /** Frames received in this event-loop turn, handed over by flush(). */
  private readonly ml = new MbufList();
  private flushPending = false;
  private readonly flushFn = (): void => this.flush();
  private detached = false;

  /**
   * tracksLink: the driver reports a link state (tap(4) goes active when its
   * device is open); vxlan(4) never sets one, so it stays unknown and
   * ifconfig prints no status line for it.
   */
  constructor(
    kernel: Kernel,
    driver: string,
    opts: HostLinkOptions,
    describe: (name: string, lladdr: string) => string,
    private readonly tracksLink = true,
  ) {
    this.kernel = kernel;
    this.driver = driver;
    let lladdr: Uint8Array | null;
    if (opts.lladdr === undefined) {
      lladdr = new Uint8Array(6);
      kernel.random.arc4random_buf(lladdr);
      lladdr[0] = (lladdr[0]! & 0xfc) | 0x02;
    } else lladdr = typeof opts.lladdr === 'string' ? parseMac(opts.lladdr) : opts.lladdr;
    if (lladdr === null || lladdr.length !== 6) throw new Error(`${driver}: bad lladdr`);
    const name = opts.name ?? `${driver}${kernel.dv_unit(driver)}`;
    const ifp = new Ifnet(kernel, name, IFT_ETHER, lladdr);
    this.ifp = ifp;
    ifp.if_flags = IFF_BROADCAST | IFF_SIMPLEX | IFF_MULTICAST;
    ifp.if_xflags = IFXF_MPSAFE | IFXF_CLONED;
    ifp.if_hardmtu = HOSTLINK_HARDMTU;
    ifp.if_mtu = opts.mtu ?? 1500;
    ifp.if_softc = this;
    ifq_init_maxlen(ifp.if_snd, 1024);
    ifp.if_qstart = (ifq) => this.start(ifq);
    ifp.if_init = (p) => {
      p.if_flags |= IFF_RUNNING;
    };
    ifp.if_stop = (p) => {
      p.if_flags &= ~IFF_RUNNING;
    };
    ifp.if_link_state = tracksLink ? LINK_STATE_DOWN : LINK_STATE_UNKNOWN;
    ether_ifattach(ifp);
    // A cloned interface joins the group named after its driver (if_clone_create).
    if_addgroup(ifp, driver);
    bpfattach(ifp, DLT_EN10MB);
    this.ks = kernel.kstats.create(
      name,
      0,
      'hostlink',
      0,
      [
        kstat_kv('rx_frames', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
        kstat_kv('rx_down', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
        kstat_kv('rx_oversize', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
        kstat_kv('rx_nombuf', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
        kstat_kv('tx_frames', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
        kstat_kv('tx_errors', KSTAT_KV_T_COUNTER64, KSTAT_KV_U_PACKETS),
      ],
      (kd: KstatKv[]) => {
        kd[0]!.value = this.rx_frames;
        kd[1]!.value = this.rx_down;
        kd[2]!.value = this.rx_oversize;
        kd[3]!.value = this.rx_nombuf;
        kd[4]!.value = this.tx_frames;
        kd[5]!.value = this.tx_errors;
      },
    );
    kernel.printf(describe(name, formatMac(lladdr, 0)));
    this.up = opts.up ?? true;
    this.startName = `${driver}_start`;
    this.inputName = `${driver}_input`;
  }

  private readonly up: boolean;
  /** Trace point names: vxlan_start/vxlan_input, tap_start/tap_input. */
  private readonly startName: string;
  private readonly inputName: string;
  /** What the journeys call the other end ("the host"; vxlan: its address and port). */
  hostName = 'the host';

  /** Plug the host side in: link up, the world goes realtime. */
  protected plug(wire: HostWire): void {
    const ifp = this.ifp;
    this.wire = wire;
    hostlink_world_acquire(this.kernel.world);
    if (this.tracksLink) {
      ifp.if_link_state = LINK_STATE_FULL_DUPLEX;
      ifp.if_lastchange = this.kernel.world.now;
      if_linkstate(ifp);
    }
    if (this.up) if_setflags_up(ifp, true);
  }

  /**
   * Unplug (and close) the host side: link down, and the world is released
   * (simulated again when this was its last attachment).  The interface
   * stays, as a NIC stays after its cable is pulled.
   */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    const w = this.wire;
    this.wire = null;
    if (w !== null) w.close();
    this.ml.purge();
    const ifp = this.ifp;
    for (const ifq of ifp.if_ifqs) ifq_purge(ifq);
    if (this.tracksLink) {
      ifp.if_link_state = LINK_STATE_DOWN;
      ifp.if_lastchange = this.kernel.world.now;
      if_linkstate(ifp);
    }
    hostlink_world_release(this.kernel.world);
  }

  get isAttached(): boolean {
    return !this.detached && this.wire !== null;
  }

  /** The start routine: every queued frame to the host, bpf OUT tap first. */
  start(ifq: IfQueue): void {
    const ifp = this.ifp;
    const wire = this.wire;
    if (wire === null) {
      ifq_purge(ifq);
      return;
    }
    const k = this.kernel;
    for (let m = ifq_dequeue(ifq); m !== null; m = ifq_dequeue(ifq)) {
      const tr = k.trace;
      if (tr !== null) {
        tr.fn(k, m, this.startName, ifp.if_xname, '%d bytes to %s', m.len, 0, 0, this.hostName);
        tr.tap(k, m, 'bpf_mtap_ether', ifp.if_xname, 'OUT');
      }
      if (ifp.if_bpf !== null) bpf_mtap_ether(ifp.if_bpf, m, BPF_DIRECTION_OUT);
      if (wire.transmit(m.buf, m.off, m.len) === 0) this.tx_frames++;
      else {
        this.tx_errors++;
        ifp.if_oerrors++;
        if (tr !== null) tr.drop(k, m, '%s: the host refused the frame → tx_errors, if_oerrors', '', 0, 0, 0, this.startName);
      }
      m.free();
    }
  }

  /**
   * A frame from the host (bytes valid during the call only).  It is
   * copied into an mbuf and handed to the kernel at the end of this
   * event-loop turn.
   */
  input(buf: Uint8Array, off: number, len: number): void {
    const ifp = this.ifp;
    const k = this.kernel;
    if ((ifp.if_flags & IFF_RUNNING) === 0 || this.detached) {
      this.rx_down++;
      if (k.trace !== null) this.rxdrop('%s: interface not running → rx_down');
      return;
    }
    if (len > ifp.if_mtu + ETHER_HDR_LEN + ETHER_VLAN_ENCAP_LEN) {
      this.rx_oversize++;
      ifp.if_ierrors++;
      if (k.trace !== null) this.rxdrop('%s: frame longer than the MTU allows → rx_oversize, if_ierrors');
      return;
    }
    const m = k.mbufs.get(len);
    if (m === null || !m.setBytes(buf, off, len)) {
      if (m !== null) m.free();
      this.rx_nombuf++;
      ifp.if_iqdrops++;
      if (k.trace !== null) this.rxdrop('%s: mbuf pool exhausted → rx_nombuf, if_iqdrops');
      return;
    }
    const tr = k.trace;
    if (tr !== null) {
      m.trace = tr.journey(this.journeyCause);
      tr.fn(k, m, this.inputName, ifp.if_xname, '%d bytes from %s', len, 0, 0, this.hostName);
    }
    this.rx_frames++;
    this.ml.enqueue(m);
    if (!this.flushPending) {
      this.flushPending = true;
      setImmediate(this.flushFn);
    }
  }

  /** A frame from the host dropped before it became a packet: a journey of its own (why: a format of the interface name). */
  private rxdrop(why: string): void {
    const tr = this.kernel.trace!;
    tr.current = tr.journey(this.journeyCause);
    tr.drop(this.kernel, null, why, '', 0, 0, 0, this.ifp.if_xname);
  }

  /** What journeys of frames from the host are called. */
  private get journeyCause(): string {
    return this.causeText ??= `frame from ${this.hostName}`;
  }
  private causeText: string | undefined;

  /** Hand this turn's frames to ifiq_input and run the kernel up to now. */
  flush(): void {
    this.flushPending = false;
    const world = this.kernel.world;
    try {
      world.syncNow();
      if (this.ml.head !== null) ifiq_input(this.ifp.if_rcv, this.ml);
      world.syncNow();
    } catch (e) {
      // A kernel bug must not take the host process down unnoticed: report
      // it as the world's pump does (World.onerror), else rethrow.
      this.ml.purge();
      if (world.onerror === undefined) throw e;
      world.onerror(e);
    }
  }
}
