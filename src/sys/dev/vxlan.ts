/**
 * vxlan: a packetflow Ethernet interface whose wire is VXLAN (RFC 7348)
 * over a host UDP socket, so that its other end is a Linux vxlan device
 * (or another packetflow process, on this machine or another).
 *
 * Unlike OpenBSD's vxlan(4), which encapsulates through its own kernel's
 * UDP, the encapsulation here happens outside the lab: each datagram on the
 * host socket is an 8-byte VXLAN header (flags 0x08, 24-bit VNI) and one
 * Ethernet frame without FCS.  One VxlanSocket carries many links, told
 * apart by VNI; each link sends to its own remote address and port (for a
 * Linux vxlan device: its dstport, never the source port it sent from).
 *
 * The Linux side needs local bypass and learning off and a default FDB
 * entry pointing at this socket: native/netlink/vxlan.py creates it.
 *
 * Datagrams the socket cannot deliver are counted in the socket's
 * counters: vxs_short (shorter than the header), vxs_badflags (I flag
 * clear), vxs_novni (no link with that VNI).
 */
import { createSocket, type Socket, type SocketOptions, type RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';
import type { Kernel } from '../kern/kernel.js';
import { HostLink, type HostLinkOptions, type HostWire } from './hostlink.js';

export const VXLAN_HDR_LEN = 8;
/** The I flag: the VNI is valid. */
export const VXLAN_F_I = 0x08;
/** IANA's VXLAN port (the Linux default is 8472). */
export const VXLAN_PORT = 4789;

export interface VxlanSocketOptions {
  /** Local address to bind (default 127.0.0.1). */
  address?: string;
  /** Local port (default 0: any free port). */
  port?: number;
}

/** One host UDP socket shared by VXLAN links, demultiplexed by VNI. */
export class VxlanSocket {
  readonly address: string;
  readonly port: number;
  /** Datagrams received, and those dropped (see the file comment). */
  vxs_ipackets = 0;
  vxs_short = 0;
  vxs_badflags = 0;
  vxs_novni = 0;
  /** Datagrams sent, and send errors reported by the host. */
  vxs_opackets = 0;
  vxs_oerrors = 0;
  /** The last socket error, if any. */
  lastError: Error | null = null;

  private readonly links = new Map<number, Vxlan>();
  private closed = false;

  private constructor(private readonly sock: Socket) {
    const a = sock.address();
    this.address = a.address;
    this.port = a.port;
    sock.on('message', (msg: Buffer, _rinfo: RemoteInfo) => this.input(msg));
    sock.on('error', (e: Error) => {
      this.lastError = e;
      this.vxs_oerrors++;
    });
  }

  /** Bind a socket (127.0.0.1 and a free port by default). */
  static open(opts: VxlanSocketOptions = {}): Promise<VxlanSocket> {
    const address = opts.address ?? '127.0.0.1';
    const type = address.includes(':') ? 'udp6' : 'udp4';
    return new Promise((resolve, reject) => {
      const family = type === 'udp6' ? 6 : 4;
      // Remote addresses are literals: answer dgram's lookup at once
      // instead of dns.lookup's deferred callback on every send.
      const lookup = (host: string, _o: unknown, cb: (e: Error | null, a: string, f: number) => void): void => cb(null, host, family);
      const sock = createSocket({
        type,
        recvBufferSize: 8 << 20,
        sendBufferSize: 8 << 20,
        lookup: lookup as unknown as SocketOptions['lookup'],
      });
      const fail = (e: Error): void => reject(e);
      sock.once('error', fail);
      sock.bind(opts.port ?? 0, address, () => {
        sock.off('error', fail);
        resolve(new VxlanSocket(sock));
      });
    });
  }

  /** The link of a VNI, if any. */
  link(vni: number): Vxlan | undefined {
    return this.links.get(vni);
  }

  /** Links on this socket now. */
  get linkCount(): number {
    return this.links.size;
  }

  /** @internal Vxlan's constructor registers itself. */
  register(vni: number, v: Vxlan): void {
    if (this.closed) throw new Error('vxlan: socket is closed');
    if (this.links.has(vni)) throw new Error(`vxlan: vnetid ${vni} is already attached to this socket`);
    this.links.set(vni, v);
  }

  /** @internal */
  unregister(vni: number, v: Vxlan): void {
    if (this.links.get(vni) === v) this.links.delete(vni);
  }

  /**
   * Send one frame to (address, port) with the VNI's header.  The bytes are
   * copied into one buffer from Node's pool: the send completes after the
   * caller has reused its mbuf.
   */
  output(vni: number, address: string, port: number, buf: Uint8Array, off: number, len: number): number {
    if (this.closed) return 9; // EBADF
    const d = Buffer.allocUnsafe(VXLAN_HDR_LEN + len);
    d[0] = VXLAN_F_I;
    d[1] = d[2] = d[3] = 0;
    d[4] = (vni >>> 16) & 0xff;
    d[5] = (vni >>> 8) & 0xff;
    d[6] = vni & 0xff;
    d[7] = 0;
    d.set(buf.subarray(off, off + len), VXLAN_HDR_LEN);
    this.sock.send(d, port, address);
    this.vxs_opackets++;
    return 0;
  }

  private input(msg: Buffer): void {
    this.vxs_ipackets++;
    if (msg.length < VXLAN_HDR_LEN) {
      this.vxs_short++;
      return;
    }
    if ((msg[0]! & VXLAN_F_I) === 0) {
      this.vxs_badflags++;
      return;
    }
    const vni = (msg[4]! << 16) | (msg[5]! << 8) | msg[6]!;
    const v = this.links.get(vni);
    if (v === undefined) {
      this.vxs_novni++;
      return;
    }
    v.input(msg, VXLAN_HDR_LEN, msg.length - VXLAN_HDR_LEN);
  }

  /** Close the socket; links still on it are detached first. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    for (const v of [...this.links.values()]) v.detach();
    this.closed = true;
    return new Promise((resolve) => this.sock.close(() => resolve()));
  }
}

export interface VxlanOptions extends HostLinkOptions {
  socket: VxlanSocket;
  /** VXLAN network identifier, 0 .. 2^24-1 (ifconfig vnetid). */
  vni: number;
  /** Where this link's frames go: the Linux device's dstport (address: an IP literal, default 127.0.0.1). */
  remotePort: number;
  remoteAddress?: string;
}

class VxlanWire implements HostWire {
  constructor(
    readonly v: Vxlan,
    readonly socket: VxlanSocket,
    readonly vni: number,
    readonly address: string,
    readonly port: number,
  ) {}
  transmit(buf: Uint8Array, off: number, len: number): number {
    return this.socket.output(this.vni, this.address, this.port, buf, off, len);
  }
  close(): void {
    this.socket.unregister(this.vni, this.v);
  }
}

export class Vxlan extends HostLink {
  readonly socket: VxlanSocket;
  readonly vni: number;
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(k: Kernel, opts: VxlanOptions) {
    const vni = opts.vni;
    if (!Number.isInteger(vni) || vni < 0 || vni > 0xffffff) throw new RangeError(`vxlan: vnetid ${vni} out of range`);
    if (!Number.isInteger(opts.remotePort) || opts.remotePort < 1 || opts.remotePort > 65535) {
      throw new RangeError(`vxlan: remote port ${opts.remotePort} out of range`);
    }
    const remoteAddress = opts.remoteAddress ?? '127.0.0.1';
    if (isIP(remoteAddress) === 0) throw new Error(`vxlan: remote address ${remoteAddress} is not an IP address`);
    super(k, 'vxlan', opts, (name, mac) =>
      `${name}: vnetid ${vni} udp ${opts.socket.address}:${opts.socket.port} -> ${remoteAddress}:${opts.remotePort}, address ${mac}`,
      false);
    this.socket = opts.socket;
    this.vni = vni;
    this.remoteAddress = remoteAddress;
    this.remotePort = opts.remotePort;
    this.hostName = `${remoteAddress} vnetid ${vni}`;
    opts.socket.register(vni, this);
    this.plug(new VxlanWire(this, opts.socket, vni, remoteAddress, opts.remotePort));
  }
}

/** Attach a vxlan interface to a kernel (its world becomes realtime). */
export function vxlan_attach(k: Kernel, opts: VxlanOptions): Vxlan {
  return new Vxlan(k, opts);
}
