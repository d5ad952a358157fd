/**
 * tap: a packetflow Ethernet interface whose wire is a Linux TAP device:
 * frames packetflow sends appear on the host interface (pf0, say) as
 * received, and frames the host sends there arrive here.  The natural way
 * to plug a lab into the host, and the fastest attachment.
 *
 * The TAP device is opened by a small N-API addon (native/tap/tap.c, built
 * by `node native/tap/build.mjs`): /dev/net/tun, IFF_TAP | IFF_NO_PI, a
 * non-blocking fd watched with uv_poll and drained until EAGAIN, frames
 * handed over in batches through one shared buffer.  Creating a TAP device
 * needs root (CAP_NET_ADMIN); tap_available() says why it cannot be used.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kernel } from '../kern/kernel.js';
import { HostLink, type HostLinkOptions, type HostWire } from './hostlink.js';

/** The addon's interface (native/tap/tap.c). */
interface TapAddon {
  open(name: string): { fd: number; name: string };
  start(fd: number, buf: Uint8Array, lens: Uint32Array, cb: (n: number) => void): object;
  stop(handle: object): void;
  write(fd: number, buf: Uint8Array, off: number, len: number): number;
  close(fd: number): void;
}

/** Receive batch: frames are read back to back into one buffer. */
const RXBUF = 1 << 20;
const RXFRAMES = 512;
const EAGAIN = 11;
const ENOBUFS = 55;

let addon: TapAddon | null = null;
let addonError: string | null = null;

/** Where the addon is: $PACKETFLOW_TAP_ADDON, or native/tap/build/tap.node in the project. */
function addonPath(): string | null {
  const env = process.env['PACKETFLOW_TAP_ADDON'];
  if (env) return env;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'native', 'tap', 'build', 'tap.node');
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

function loadAddon(): TapAddon | null {
  if (addon !== null || addonError !== null) return addon;
  if (process.platform !== 'linux') {
    addonError = 'TAP devices need Linux';
    return null;
  }
  const path = addonPath();
  if (path === null || !existsSync(path)) {
    addonError = `the TAP addon is not built (${path ?? 'native/tap/build/tap.node'}): run \`node native/tap/build.mjs\` (needs a C compiler and Node's headers)`;
    return null;
  }
  try {
    addon = createRequire(import.meta.url)(path) as TapAddon;
  } catch (e) {
    addonError = `the TAP addon did not load: ${e instanceof Error ? e.message : String(e)}`;
  }
  return addon;
}

/**
 * null when TAP attachments can be made here, else the reason they cannot
 * (no addon, not Linux, no /dev/net/tun, not root).
 */
export function tap_available(): string | null {
  if (loadAddon() === null) return addonError;
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun does not exist (no TUN/TAP support in this kernel)';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'creating a TAP device needs root (CAP_NET_ADMIN)';
  return null;
}

export interface TapOptions extends HostLinkOptions {
  /** Name of the Linux interface to create or attach to (default "pf%d": the kernel picks pf0, pf1...). */
  device?: string;
}

class TapWire implements HostWire {
  /** Frames the host refused because its queue was full. */
  full = 0;
  constructor(
    readonly lib: TapAddon,
    readonly fd: number,
    readonly handle: object,
  ) {}
  transmit(buf: Uint8Array, off: number, len: number): number {
    const r = this.lib.write(this.fd, buf, off, len);
    if (r >= 0) return 0;
    if (-r === EAGAIN) {
      this.full++;
      return ENOBUFS;
    }
    return -r;
  }
  close(): void {
    this.lib.stop(this.handle);
    this.lib.close(this.fd);
  }
}

export class Tap extends HostLink {
  /** The Linux interface's name (pf0). */
  readonly device: string;
  private readonly rxbuf = new Uint8Array(RXBUF);
  private readonly rxlens = new Uint32Array(RXFRAMES);

  constructor(k: Kernel, opts: TapOptions = {}) {
    const lib = loadAddon();
    if (lib === null) throw new Error(`tap: ${addonError}`);
    let dev: { fd: number; name: string };
    try {
      dev = lib.open(opts.device ?? 'pf%d');
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const hint = /not permitted|EPERM/i.test(msg) ? ' (creating a TAP device needs root or CAP_NET_ADMIN)' : '';
      throw new Error(`tap: ${msg}${hint}`, { cause: e });
    }
    super(k, 'tap', opts, (name, mac) => `${name}: host interface ${dev.name}, address ${mac}`);
    this.device = dev.name;
    this.hostName = dev.name;
    const buf = this.rxbuf;
    const lens = this.rxlens;
    const handle = lib.start(dev.fd, buf, lens, (n: number) => {
      let pos = 0;
      for (let i = 0; i < n; i++) {
        const len = lens[i]!;
        this.input(buf, pos, len);
        pos += len;
      }
    });
    this.plug(new TapWire(lib, dev.fd, handle));
  }
}

/** Attach a tap interface to a kernel (its world becomes realtime). */
export function tap_attach(k: Kernel, opts: TapOptions = {}): Tap {
  return new Tap(k, opts);
}
