/**
 * The interop harness: a packetflow kernel in this process, Linux network
 * namespaces as its peers, joined by real attachments (dev/vxlan over
 * loopback UDP, dev/tap).  See shared/reference/linux-interop.md for why
 * each step is done the way it is.
 *
 * Rules it enforces:
 * - Namespace names carry this process's id (pfi<pid>x<n>); leftovers of
 *   dead processes are swept at setup; teardown deletes ours always (also
 *   on exit), and kills the processes we started, by their id.
 * - Only loopback and addresses inside our namespaces; documentation ranges.
 * - Every command runs with a time bound (run() kills it after timeoutMs).
 * - Setup verifies itself with one ping from the kernel and fails loudly
 *   naming the likely cause.
 * - Nothing here blocks the event loop while the kernel talks to packetflow
 *   (packetflow answers from this very process): commands are async.
 *
 * Importing this file has no side effects (node --test runs every file
 * under test/ as a test file).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { World } from '../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../src/sys/kern/kernel.js';
import { loopattach } from '../../src/sys/net/if_loop.js';
import { if_addr_add } from '../../src/sys/net/if.js';
import { rt_route_add } from '../../src/sys/net/rtsock.js';
import { ip_output } from '../../src/sys/netinet/ip_output.js';
import { Ipv4Packet, IPPROTO_ICMP } from '../../src/wire/ip4.js';
import { IcmpPacket, ICMP_ECHO, ICMP_ECHOREPLY } from '../../src/wire/icmp.js';
import { parseIp4, maskFromLen4, formatMac } from '../../src/wire/addr.js';
import { get16 } from '../../src/wire/bytes.js';
import { VxlanSocket, Vxlan, vxlan_attach } from '../../src/sys/dev/vxlan.js';
import { Tap, tap_attach, tap_available } from '../../src/sys/dev/tap.js';
import type { HostLink } from '../../src/sys/dev/hostlink.js';
import { ROOT } from '../helpers/root.js';

export const PY = '/usr/bin/python3';
export const VXLAN_HELPER = `${ROOT}/native/netlink/vxlan.py`;
/** Namespace names: pfi<pid>x<n> (short: interface names in them are short too). */
export const PREFIX = `pfi${process.pid}x`;

// ---- skipping ----

function which(tool: string): string | null {
  for (const d of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin']) {
    if (existsSync(`${d}/${tool}`)) return `${d}/${tool}`;
  }
  return null;
}

let scapyOk: boolean | null = null;

/**
 * null when the interop suite can run here, else why not (the tests skip
 * with this message; CI runs as root, so there they run).
 */
export function interopSkip(): string | null {
  if (process.platform !== 'linux') return 'interop: needs Linux network namespaces (skipped)';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    return 'interop: needs root for network namespaces, VXLAN and TAP devices (skipped; CI runs it as root)';
  }
  for (const t of ['ip', 'bridge', 'ping']) if (which(t) === null) return `interop: ${t} not installed (skipped)`;
  if (!existsSync(PY)) return `interop: ${PY} not found; the rtnetlink helper needs it (skipped)`;
  return null;
}

/** interopSkip(), or why one of these tools is missing ("scapy" means python3-scapy). */
export function needTools(...tools: string[]): string | null {
  const base = interopSkip();
  if (base !== null) return base;
  for (const t of tools) {
    if (t === 'scapy') {
      if (scapyOk === null) {
        try {
          execFileSync(PY, ['-c', 'import scapy.all'], { stdio: 'ignore', timeout: 30000 });
          scapyOk = true;
        } catch {
          scapyOk = false;
        }
      }
      if (!scapyOk) return 'interop: python3-scapy not installed (apt-get install python3-scapy) (skipped)';
    } else if (which(t) === null) return `interop: ${t} not installed (skipped)`;
  }
  return null;
}

/** Why TAP tests cannot run here, or null. */
export function tapSkip(): string | null {
  const base = interopSkip();
  if (base !== null) return base;
  const why = tap_available();
  return why === null ? null : `interop over TAP: ${why} (skipped)`;
}

// ---- commands ----

export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Every child we started and have not seen exit, by pid. */
const children = new Map<number, ChildProcess>();

/** Run a command, bounded in time; never rejects. */
export function run(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string | Uint8Array } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    if (child.pid !== undefined) children.set(child.pid, child);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 20000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => err.push(Buffer.from(String(e))));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (child.pid !== undefined) children.delete(child.pid);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), timedOut });
    });
    child.stdin.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** run(), throwing with the command and its stderr when it fails. */
export async function must(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')}: ${r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}

/** A long-running child (tcpdump, nc -l): killed by its pid at teardown. */
export class Proc {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  constructor(cmd: string, args: readonly string[], private readonly limitMs = 60000) {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    if (child.pid !== undefined) children.set(child.pid, child);
    child.stdout!.on('data', (b: Buffer) => (this.stdout += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (this.stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), this.limitMs);
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (child.pid !== undefined) children.delete(child.pid);
        resolve({ code, signal });
      });
    });
  }
  /** Stop it (by pid) and wait for it. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    await this.exited;
  }
}

// ---- namespaces ----

/** Our namespaces still alive, deleted at exit if teardown did not run. */
const liveNamespaces = new Set<string>();
let exitHook = false;
let nsSeq = 0;

function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const c of children.values()) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
    for (const ns of liveNamespaces) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 5000 });
      } catch {
        /* already gone */
      }
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Delete namespaces left by interop runs whose process is gone. */
export async function sweep(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { timeoutMs: 5000 });
  const swept: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^(pfi(\d+)x\d+)\b/.exec(line.trim());
    if (m === null) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || alive(pid)) continue;
    await run('ip', ['netns', 'del', m[1]!], { timeoutMs: 5000 });
    swept.push(m[1]!);
  }
  return swept;
}

export class Netns {
  private constructor(readonly name: string) {}

  static async create(opts: { ipv6?: boolean } = {}): Promise<Netns> {
    installExitHook();
    const name = `${PREFIX}${nsSeq++}`;
    await must('ip', ['netns', 'add', name], { timeoutMs: 5000 });
    liveNamespaces.add(name);
    const ns = new Netns(name);
    await must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    if (!opts.ipv6) {
      // No router solicitations, MLD or DAD noise unless the test wants IPv6.
      await ns.must('sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    return ns;
  }

  /** Run a command in the namespace (bounded, never rejects). */
  run(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string | Uint8Array } = {}): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  must(cmd: string, args: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
    return must('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  /** A long-running command in the namespace. */
  spawn(cmd: string, args: readonly string[], limitMs = 60000): Proc {
    return new Proc('ip', ['netns', 'exec', this.name, cmd, ...args], limitMs);
  }

  async delete(): Promise<void> {
    if (!liveNamespaces.has(this.name)) return;
    liveNamespaces.delete(this.name);
    await run('ip', ['netns', 'del', this.name], { timeoutMs: 5000 });
  }
}

// ---- the packetflow side ----

export function ip(s: string): number {
  const a = parseIp4(s);
  if (a < 0) throw new Error(`bad address ${s}`);
  return a;
}

/** A free UDP port on this machine (checked by binding 0.0.0.0:port). */
async function freeUdpPort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => {
        s.close();
        resolve(false);
      });
      s.bind(port, '0.0.0.0', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error('no free UDP port for the kernel side of VXLAN');
}

export type LinkKind = 'vxlan' | 'tap';

/** One packetflow interface and the Linux interface at its other end. */
export interface KernelLink {
  kind: LinkKind;
  ns: Netns;
  /** The Linux interface, inside ns. */
  dev: string;
  /** The packetflow interface. */
  link: HostLink;
  pfAddr: string;
  nsAddr: string;
  /** The Linux interface's MAC. */
  nsMac: string;
  /** packetflow's MAC. */
  pfMac: string;
  /** VXLAN: the kernel's dstport. */
  kernelPort?: number;
}

export interface PeerOptions {
  kind?: LinkKind;
  /** packetflow's address on the link, "192.0.2.1/24". */
  pfAddr: string;
  /** The kernel's address on the link. */
  nsAddr: string;
  /** Set a default route in the namespace via packetflow. */
  defaultRoute?: boolean;
  ipv6?: boolean;
  /** Use this namespace instead of a new one (a second link into the same kernel). */
  ns?: Netns;
  /** Skip the verifying ping (when packetflow is not supposed to answer). */
  noVerify?: boolean;
}

let macSeq = 0;

/** A packetflow kernel in a realtime world and its kernel peers. */
export class InteropLab {
  readonly world = new World({ seed: 1 });
  readonly k: Kernel;
  readonly links: KernelLink[] = [];
  readonly namespaces: Netns[] = [];
  private sock: VxlanSocket | null = null;
  private kernelPort = 0;
  private vniSeq = 0;
  private readonly procs: Proc[] = [];
  /** Exceptions thrown by the kernel while running (a crash would be one). */
  readonly errors: unknown[] = [];

  constructor(hostname = 'pf') {
    this.k = new Kernel(this.world, { hostname });
    const lo = loopattach(this.k);
    if_addr_add(lo, ip('127.0.0.1'), 0xff000000);
    this.world.onerror = (e) => {
      this.errors.push(e);
    };
  }

  static async create(hostname = 'pf'): Promise<InteropLab> {
    await sweep();
    return new InteropLab(hostname);
  }

  private async vxlanSocket(): Promise<VxlanSocket> {
    if (this.sock === null) {
      this.sock = await VxlanSocket.open({ address: '127.0.0.1' });
      this.kernelPort = await freeUdpPort();
    }
    return this.sock;
  }

  /** A namespace whose interface is linked to a new packetflow interface. */
  async addPeer(opts: PeerOptions): Promise<KernelLink> {
    const kind = opts.kind ?? 'vxlan';
    const ns = opts.ns ?? (await Netns.create({ ipv6: opts.ipv6 }));
    if (opts.ns === undefined) this.namespaces.push(ns);
    const n = ++macSeq;
    const pfMac = `02:00:5e:10:${(process.pid & 0xff).toString(16).padStart(2, '0')}:${n.toString(16).padStart(2, '0')}`;
    const nsMac = `02:00:5e:20:${(process.pid & 0xff).toString(16).padStart(2, '0')}:${n.toString(16).padStart(2, '0')}`;
    let dev: string;
    let link: HostLink;
    let kernelPort: number | undefined;
    if (kind === 'vxlan') {
      const sock = await this.vxlanSocket();
      // VNIs unique per process: the kernel's VXLAN sockets are shared by port.
      const vni = ((process.pid & 0xffff) << 8) | (++this.vniSeq & 0xff);
      dev = `vx${this.vniSeq}`;
      kernelPort = this.kernelPort;
      await must(PY, [VXLAN_HELPER, 'add', dev, '--vni', String(vni), '--port', String(kernelPort), '--remote-port', String(sock.port),
        '--netns', ns.name, '--lladdr', nsMac], { timeoutMs: 10000 });
      link = vxlan_attach(this.k, { socket: sock, vni, remotePort: kernelPort, lladdr: pfMac });
    } else {
      const why = tap_available();
      if (why !== null) throw new Error(`tap: ${why}`);
      const name = `${PREFIX}t${n}`.slice(0, 15);
      const t = tap_attach(this.k, { device: name, lladdr: pfMac });
      link = t;
      dev = `tp${n}`;
      await must('ip', ['link', 'set', t.device, 'netns', ns.name]);
      await ns.must('ip', ['link', 'set', t.device, 'name', dev]);
      await ns.must('ip', ['link', 'set', dev, 'address', nsMac]);
      await ns.must('ip', ['link', 'set', dev, 'up']);
    }
    const [pa, plen] = opts.pfAddr.split('/');
    if_addr_add(link.ifp, ip(pa!), maskFromLen4(Number(plen ?? 24)));
    await ns.must('ip', ['addr', 'add', opts.nsAddr, 'dev', dev]);
    if (opts.defaultRoute) await ns.must('ip', ['route', 'add', 'default', 'via', pa!]);
    const kl: KernelLink = { kind, ns, dev, link, pfAddr: pa!, nsAddr: opts.nsAddr.split('/')[0]!, nsMac, pfMac, kernelPort };
    this.links.push(kl);
    if (!opts.noVerify) await this.verify(kl);
    return kl;
  }

  /**
   * One ping from the kernel to packetflow; on failure, an error naming
   * where the frames stopped.
   */
  async verify(l: KernelLink): Promise<void> {
    const r = await l.ns.run('ping', ['-c', '1', '-W', '3', l.pfAddr], { timeoutMs: 8000 });
    if (r.code === 0) return;
    const link = l.link;
    let cause: string;
    if (l.kind === 'vxlan') {
      const s = (link as Vxlan).socket;
      if (s.vxs_ipackets === 0) {
        cause = `the kernel sent no UDP to packetflow's socket ${s.address}:${s.port}: local bypass is still on ` +
          '(IFLA_VXLAN_LOCALBYPASS=0 needs Linux >= 6.3) or the default FDB entry is missing';
      } else if (link.rx_frames === 0) {
        cause = `datagrams arrived but none for this link (vxs_novni ${s.vxs_novni}, vxs_badflags ${s.vxs_badflags})`;
      } else if (link.tx_frames === 0) {
        cause = `packetflow received ${link.rx_frames} frames and sent none (ARP or ICMP not answered: check ${link.ifp.if_xname}'s address)`;
      } else {
        cause = `packetflow sent ${link.tx_frames} frames to 127.0.0.1:${l.kernelPort} and the kernel took none: ` +
          'learning on (replies go to the sender port) or the wrong dstport';
      }
    } else {
      cause = link.rx_frames === 0 ? 'no frame from the TAP device reached packetflow' :
        link.tx_frames === 0 ? `packetflow received ${link.rx_frames} frames and sent none` :
        `packetflow sent ${link.tx_frames} frames into the TAP device and the kernel answered none`;
    }
    throw new Error(`interop setup: ${l.ns.name} cannot ping packetflow at ${l.pfAddr} over ${l.kind}: ${cause}\n${r.stdout}${r.stderr}`);
  }

  /** A route in packetflow's kernel. */
  route(dst: string, mask: string, gw: string): void {
    rt_route_add(this.k, ip(dst), ip(mask), ip(gw));
  }

  spawn(ns: Netns, cmd: string, args: readonly string[], limitMs = 60000): Proc {
    const p = ns.spawn(cmd, args, limitMs);
    this.procs.push(p);
    return p;
  }

  /**
   * packetflow pings dst `count` times (one request every intervalMs) and
   * resolves with the replies that came back within timeoutMs.
   */
  pfPing(dst: string, count = 3, opts: { intervalMs?: number; timeoutMs?: number; size?: number } = {}): Promise<number> {
    const k = this.k;
    const d = ip(dst);
    const ident = (Math.random() * 0xffff) | 0;
    const datalen = opts.size ?? 56;
    const seen = new Set<number>();
    return new Promise((resolve) => {
      const icv = new IcmpPacket();
      const listener = (buf: Uint8Array, off: number, len: number, hlen: number): void => {
        if (len - hlen < 8) return;
        icv.wrap(buf, off + hlen, len - hlen);
        if (icv.type === ICMP_ECHOREPLY && icv.id === ident) seen.add(get16(buf, off + hlen + 6));
      };
      k.inet.icmpListeners.add(listener);
      let sent = 0;
      const send = (): void => {
        const len = 28 + datalen;
        const m = k.mbufs.get(len)!;
        m.append(len);
        m.buf.fill(0, m.off, m.off + len);
        const iph = new Ipv4Packet(m.buf, m.off, len);
        iph.version = 4;
        iph.ihl = 5;
        iph.totalLength = len;
        iph.ttl = 64;
        iph.protocol = IPPROTO_ICMP;
        iph.dst = d;
        const icp = new IcmpPacket(m.buf, m.off + 20, 8 + datalen);
        icp.type = ICMP_ECHO;
        icp.id = ident;
        icp.seq = sent;
        for (let i = 0; i < datalen; i++) m.buf[m.off + 28 + i] = i & 0xff;
        icp.fillChecksum();
        this.world.syncNow();
        ip_output(k, m, 0, null);
        this.world.syncNow();
        sent++;
        if (sent < count) setTimeout(send, opts.intervalMs ?? 100);
      };
      send();
      const deadline = Date.now() + (opts.timeoutMs ?? 5000);
      const poll = (): void => {
        if (seen.size >= count || Date.now() > deadline) {
          k.inet.icmpListeners.delete(listener);
          resolve(seen.size);
        } else setTimeout(poll, 20);
      };
      poll();
    });
  }

  /** Stop everything we started, delete the namespaces, release the world. */
  async teardown(): Promise<void> {
    for (const p of this.procs) await p.stop('SIGKILL');
    for (const l of this.links) l.link.detach();
    if (this.sock !== null) await this.sock.close();
    this.sock = null;
    for (const ns of this.namespaces) await ns.delete();
    this.world.stop();
  }
}

/** A MAC as ifconfig prints it. */
export function macOf(link: HostLink): string {
  return formatMac(link.ifp.if_lladdr, 0);
}

export { Tap, Vxlan };
