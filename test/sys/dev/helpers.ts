/**
 * Two machines joined by a cable, and raw Ethernet frames as traffic:
 * enough to drive NICs and queues without the netinet half.
 */
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import type { Mbuf } from '../../../src/sys/kern/uipc_mbuf.js';
import { M_FLOWID } from '../../../src/sys/kern/uipc_mbuf.js';
import { Cable, type CableOptions } from '../../../src/sys/dev/cable.js';
import { Em } from '../../../src/sys/dev/em.js';
import { Ix } from '../../../src/sys/dev/ix.js';
import type { EtherNic } from '../../../src/sys/dev/nic.js';
import { if_setflags_up, type Ifnet } from '../../../src/sys/net/if.js';

export interface Pair {
  world: World;
  a: Kernel;
  b: Kernel;
  na: EtherNic;
  nb: EtherNic;
  cable: Cable;
  /** Frames b's if_input got. */
  received: number[];
}

export function pair(driver: 'em' | 'ix' = 'em', cable: CableOptions = {}, seed = 1): Pair {
  const world = new World({ seed });
  const a = new Kernel(world, { hostname: 'a' });
  const b = new Kernel(world, { hostname: 'b' });
  const Nic = driver === 'em' ? Em : Ix;
  const na = new Nic(a, { lladdr: '02:00:00:00:00:0a' });
  const nb = new Nic(b, { lladdr: '02:00:00:00:00:0b' });
  const c = new Cable(world, { rate: driver === 'em' ? 1e9 : 10e9, ...cable }).connect(na, nb);
  if_setflags_up(na.ifp, true);
  if_setflags_up(nb.ifp, true);
  const received: number[] = [];
  countingInput(nb.ifp, received);
  countingInput(na.ifp, []);
  return { world, a, b, na, nb, cable: c, received };
}

/** A test if_input: records the length of each frame and frees it. */
export function countingInput(ifp: Ifnet, out: number[]): void {
  ifp.if_input = (_ifp, m) => {
    out.push(m.len);
    m.free();
  };
}

/**
 * A raw IPv4/UDP-looking Ethernet frame of `len` bytes from a to b; `flow`
 * varies the UDP source port (and, when given, the flow id).
 */
export function frame(k: Kernel, len: number, flow = 0, setFlowid = false): Mbuf {
  const m = k.mbufs.get(len)!;
  m.append(len);
  const b = m.buf;
  const o = m.off;
  b.fill(0, o, o + len);
  b.set([0x02, 0, 0, 0, 0, 0x0b, 0x02, 0, 0, 0, 0, 0x0a, 0x08, 0x00], o);
  // IPv4 header: 198.51.100.1 -> 203.0.113.1, UDP
  b.set([0x45, 0, (len - 14) >> 8, (len - 14) & 0xff, 0, 0, 0, 0, 64, 17, 0, 0, 198, 51, 100, 1, 203, 0, 113, 1], o + 14);
  b[o + 34] = 0x10 + (flow >> 8);
  b[o + 35] = flow & 0xff;
  b[o + 36] = 0x00;
  b[o + 37] = 53;
  if (setFlowid) {
    m.ph_flowid = flow;
    m.csum_flags |= M_FLOWID;
  }
  return m;
}
