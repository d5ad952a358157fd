/**
 * TCP's view of the socket and PCB layers (uipc_socket*.ts, in_pcb.ts):
 * the calls tcp_*.c makes with OpenBSD's names, bound to this kernel's
 * TCP table, plus the few PCB helpers OpenBSD has that the PCB layer here
 * does not (in_pcbset_addr, in_pcbrtentry).
 */
import type { Kernel } from '../kern/kernel.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import type { Sockbuf } from '../kern/uipc_socket2.js';
import type { Rtentry } from '../net/route.js';
import { EADDRINUSE } from '../sys/errno.js';
import {
  in_pcblookup as pcblookup, in_pcblookup_listen as pcblookup_listen, in_pcbrehash, type Inpcb,
} from './in_pcb.js';
import { route_mpath } from './ip_output.js';
import type { Tcpcb } from './tcp_var.js';

export {
  SO_ACCEPTCONN, SO_KEEPALIVE, SO_LINGER, SO_DEBUG, SS_CANTRCVMORE, SS_CANTSENDMORE, SS_ISCONNECTED,
  SS_NOFDREF, Socket, sonewconn, soisconnected, soisconnecting, soisdisconnected, soisdisconnecting,
  socantrcvmore, socantsendmore, sorwakeup, sowwakeup, sofree, soreserve,
} from '../kern/uipc_socket.js';
export type { Sockbuf } from '../kern/uipc_socket2.js';
export type { Inpcb } from './in_pcb.js';

/** intotcpcb() */
export function tcp_intotcpcb(inp: Inpcb): Tcpcb | null {
  return inp.inp_ppcb as Tcpcb | null;
}

/** in_pcblookup() on the TCP table. */
export function in_pcblookup(k: Kernel, faddr: number, fport: number, laddr: number, lport: number, rtable: number): Inpcb | null {
  return pcblookup(k.inet.tcbtable, faddr, fport, laddr, lport, rtable);
}

/** in_pcblookup_listen() on the TCP table. */
export function in_pcblookup_listen(k: Kernel, laddr: number, lport: number, m: Mbuf | null, rtable: number): Inpcb | null {
  return pcblookup_listen(k.inet.tcbtable, laddr, lport, m, rtable);
}

/** in_pcbrtentry(): the cached route to the foreign address. */
export function in_pcbrtentry(inp: Inpcb): Rtentry | null {
  if (inp.inp_faddr === 0) return null;
  return route_mpath(inp.inp_table.kernel, inp.inp_route, inp.inp_faddr);
}

/** in_pcbset_addr(): give an accepted connection its 4-tuple. */
export function in_pcbset_addr(inp: Inpcb, laddr: number, lport: number, faddr: number, fport: number, rtableid: number): number {
  if (pcblookup(inp.inp_table, faddr, fport, laddr, lport, rtableid) !== null) return EADDRINUSE;
  inp.inp_laddr = laddr;
  inp.inp_lport = lport;
  inp.inp_faddr = faddr;
  inp.inp_fport = fport;
  inp.inp_rtableid = rtableid;
  in_pcbrehash(inp);
  return 0;
}

export function sbspace(sb: Sockbuf): number {
  return sb.sbspace();
}

export function sbdrop(sb: Sockbuf, n: number): void {
  sb.sbdrop(n);
}

export function sbreserve(sb: Sockbuf, n: number): boolean {
  return sb.sbreserve(n);
}

/** sbappendstream(): the data of m (all of it) to sb; m belongs to sb afterwards (kept or copied and freed). */
export function sbappendstream(sb: Sockbuf, m: Mbuf): void {
  sb.sbappendstream_m(m);
}

/** m_copydata(so_snd.sb_mb, off, len, dst): bytes still queued for (re)transmission. */
export function sb_copydata(sb: Sockbuf, off: number, len: number, dst: Uint8Array, dstOff: number): void {
  sb.copyout(off, dst, dstOff, len);
}

/** soissending(): a sosend() is still handing over data (none is, between events). */
export function soissending(_so: unknown): boolean {
  return false;
}
