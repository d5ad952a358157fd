/**
 * Real attachments from a description (topology files, scripts): one call
 * per interface, VXLAN sockets shared by local address and port.
 *
 *   tap0:   { driver: 'tap', device: 'pf0' }
 *   vxlan0: { driver: 'vxlan', vni: 42, remote: '127.0.0.1:4790', local: '127.0.0.1:0' }
 *
 * The kernel's world becomes realtime with the first attachment (see
 * hostlink.ts); HostAttachments.close() detaches everything and closes the
 * sockets, after which the world is simulated again.
 */
import type { Kernel } from '../kern/kernel.js';
import type { HostLink, HostLinkOptions } from './hostlink.js';
import { VxlanSocket, vxlan_attach } from './vxlan.js';
import { tap_attach } from './tap.js';

export interface TapSpec extends HostLinkOptions {
  driver: 'tap';
  /** The Linux interface to create (default pf%d). */
  device?: string;
}

export interface VxlanSpec extends HostLinkOptions {
  driver: 'vxlan';
  vni: number;
  /** "address:port" of the other end (a Linux vxlan device's dstport). */
  remote: string;
  /** "address:port" to bind (default 127.0.0.1:0, any free port). */
  local?: string;
}

export type AttachSpec = TapSpec | VxlanSpec;

/** "a.b.c.d:port" or "[v6]:port". */
export function parseHostPort(s: string): { address: string; port: number } | null {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(s) ?? /^([0-9.]+):(\d+)$/.exec(s);
  if (m === null) return null;
  const port = Number(m[2]);
  if (port > 65535) return null;
  return { address: m[1]!, port };
}

/** Sockets are shared by the local address:port asked for ("default" without one). */
function socketKey(spec: VxlanSpec): string {
  return spec.local ?? 'default';
}

/** The attachments of a lab: sockets shared by local address and port. */
export class HostAttachments {
  readonly links: HostLink[] = [];
  private readonly sockets = new Map<string, VxlanSocket>();
  /** Sockets opened by open() for specs with an explicit port 0 (one each). */
  private readonly own = new Map<VxlanSpec, VxlanSocket>();

  /** Attach one interface to k as spec describes; errors name the interface. */
  async attach(k: Kernel, spec: AttachSpec): Promise<HostLink> {
    await this.open([spec]);
    return this.attachNow(k, spec);
  }

  /**
   * Open the VXLAN sockets the specs need, so that attachNow() can attach
   * them synchronously (a lab attaches while it boots).  Errors name the
   * interface: `vxlan0: local 127.0.0.1:4790: bind EADDRINUSE`.
   */
  async open(specs: readonly AttachSpec[]): Promise<void> {
    for (const spec of specs) {
      if (spec.driver !== 'vxlan') continue;
      const what = spec.name ?? spec.driver;
      const remote = parseHostPort(spec.remote);
      if (remote === null || remote.port === 0) throw new Error(`${what}: remote ${spec.remote}: expected address:port`);
      const local = parseHostPort(spec.local ?? '127.0.0.1:0');
      if (local === null) throw new Error(`${what}: local ${spec.local ?? ''}: expected address:port`);
      // Links without `local` share one socket; an explicit port 0 gets a socket of its own.
      const own = spec.local !== undefined && local.port === 0;
      if (own ? this.own.has(spec) : this.sockets.has(socketKey(spec))) continue;
      let sock: VxlanSocket;
      try {
        sock = await VxlanSocket.open(local);
      } catch (e) {
        throw new Error(`${what}: local ${spec.local ?? '127.0.0.1:0'}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      if (own) this.own.set(spec, sock);
      else this.sockets.set(socketKey(spec), sock);
    }
  }

  /** Attach one interface now (its VXLAN socket opened by open()). */
  attachNow(k: Kernel, spec: AttachSpec): HostLink {
    const what = spec.name ?? spec.driver;
    if (spec.driver === 'tap') {
      const t = tap_attach(k, spec);
      this.links.push(t);
      return t;
    }
    const remote = parseHostPort(spec.remote);
    if (remote === null || remote.port === 0) throw new Error(`${what}: remote ${spec.remote}: expected address:port`);
    const sock = this.own.get(spec) ?? this.sockets.get(socketKey(spec));
    if (sock === undefined) throw new Error(`${what}: no socket: call open() first`);
    const v = vxlan_attach(k, { ...spec, socket: sock, remotePort: remote.port, remoteAddress: remote.address });
    this.links.push(v);
    return v;
  }

  /** The VXLAN sockets in use (their ports are what the Linux side sends to). */
  get vxlanSockets(): VxlanSocket[] {
    return [...new Set([...this.sockets.values(), ...this.own.values()])];
  }

  /** Detach every link and close the sockets. */
  async close(): Promise<void> {
    for (const l of this.links) l.detach();
    this.links.length = 0;
    for (const s of this.vxlanSockets) await s.close();
    this.sockets.clear();
    this.own.clear();
  }
}
