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

/** The attachments of a lab: sockets shared by local address and port. */
export class HostAttachments {
  readonly links: HostLink[] = [];
  private readonly sockets = new Map<string, VxlanSocket>();

  /** Attach one interface to k as spec describes; errors name the interface. */
  async attach(k: Kernel, spec: AttachSpec): Promise<HostLink> {
    const what = spec.name ?? spec.driver;
    if (spec.driver === 'tap') {
      const t = tap_attach(k, spec);
      this.links.push(t);
      return t;
    }
    const remote = parseHostPort(spec.remote);
    if (remote === null || remote.port === 0) throw new Error(`${what}: remote ${spec.remote}: expected address:port`);
    const local = parseHostPort(spec.local ?? '127.0.0.1:0');
    if (local === null) throw new Error(`${what}: local ${spec.local ?? ''}: expected address:port`);
    // Links without `local` share one socket; an explicit port 0 gets a socket of its own.
    const key = spec.local === undefined ? 'default' : `${local.address}:${local.port}`;
    let sock = local.port === 0 && spec.local !== undefined ? undefined : this.sockets.get(key);
    if (sock === undefined) {
      sock = await VxlanSocket.open(local);
      this.sockets.set(spec.local === undefined ? key : `${sock.address}:${sock.port}`, sock);
    }
    const v = vxlan_attach(k, { ...spec, socket: sock, remotePort: remote.port, remoteAddress: remote.address });
    this.links.push(v);
    return v;
  }

  /** The VXLAN sockets in use (their ports are what the Linux side sends to). */
  get vxlanSockets(): VxlanSocket[] {
    return [...new Set(this.sockets.values())];
  }

  /** Detach every link and close the sockets. */
  async close(): Promise<void> {
    for (const l of this.links) l.detach();
    this.links.length = 0;
    for (const s of new Set(this.sockets.values())) await s.close();
    this.sockets.clear();
  }
}
