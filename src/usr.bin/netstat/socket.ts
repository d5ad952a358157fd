/**
 * The socket list of netstat(1) (usr.bin/netstat/inet.c protopr() and
 * netdomainpr()): `netstat`, `-a`, `-l`, `-n`, `-A`, `-p tcp|udp`,
 * `-f inet|inet6`, `-T rtable`, as shared/reference/openbsd-formats.md §2.
 *
 * The rows come from the kernel's PCB tables (TCP's and UDP's, IPv4 and
 * IPv6), in table order (newest first), then sorted as kf_comp() sorts:
 * inet before inet6, protocol ascending, foreign port descending.  The
 * TCP state is the tcpcb's t_state (inp_ppcb).  Recv-Q / Send-Q are
 * so_rcv.sb_cc / so_snd.sb_cc.
 *
 * Without -n, ports print as service names from a small built-in
 * services table and addresses as numbers (the lab has no resolver).
 * PCB addresses under -A are stable fake kernel pointers (inp_id).
 */
import type { Kernel } from '../../sys/kern/kernel.js';
import { AF_INET, AF_INET6, IN6_IS_ADDR_UNSPECIFIED, type Inpcb } from '../../sys/netinet/in_pcb.js';
import { SOCK_RAW } from '../../sys/kern/uipc_socket.js';
import { formatIp4, formatIp6 } from '../../wire/addr.js';

const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const TCPS_LISTEN = 1;
const TCP_NSTATES = 11;
const TCPSTATES = [
  'CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RCVD', 'ESTABLISHED', 'CLOSE_WAIT', 'FIN_WAIT_1', 'CLOSING', 'LAST_ACK',
  'FIN_WAIT_2', 'TIME_WAIT',
];
/** PLEN on LP64. */
const PLEN = 18;

/** A few of /etc/services, for ports printed without -n. */
const SERVICES: Record<string, Record<number, string>> = {
  tcp: { 7: 'echo', 9: 'discard', 13: 'daytime', 21: 'ftp', 22: 'ssh', 23: 'telnet', 25: 'smtp', 53: 'domain', 80: 'www', 110: 'pop3', 143: 'imap', 443: 'https', 587: 'submission', 993: 'imaps' },
  udp: { 7: 'echo', 9: 'discard', 13: 'daytime', 53: 'domain', 67: 'bootps', 68: 'bootpc', 69: 'tftp', 123: 'ntp', 161: 'snmp', 162: 'snmp-trap', 500: 'isakmp', 514: 'syslog', 4500: 'ipsec-nat-t' },
};

export interface SockListOptions {
  aflag?: boolean;
  lflag?: boolean;
  nflag?: boolean;
  Aflag?: boolean;
  /** -v: IPv6 addresses are not truncated, the column widens to fit. */
  vflag?: boolean;
  /** 'tcp' or 'udp' (-p), undefined for all. */
  proto?: string;
  /** -f: 'inet', 'inet6', or undefined for both. */
  af?: 'inet' | 'inet6';
  /** -T */
  tableid?: number;
}

interface Row {
  inp: Inpcb;
  family: number;
  protocol: number;
  type: number;
}

/** Fake kernel pointer text of a PCB (so_pcb, or the tcpcb for TCP under -A). */
function fakePtr(inp: Inpcb, tcp: boolean): string {
  const base = tcp ? 0xfffffd8100000000n : 0xfffffd8000000000n;
  return '0x' + (base + BigInt(inp.inp_id) * 0x2a0n).toString(16);
}

function pad(s: string, w: number, left = true): string {
  if (s.length >= w) return s;
  return left ? s + ' '.repeat(w - s.length) : ' '.repeat(w - s.length) + s;
}

/** "%-w.ws" */
function col(s: string, w: number): string {
  return pad(s.slice(0, w), w);
}

/** protopr(): the Internet part of the socket list. */
export function protopr(k: Kernel, o: SockListOptions): string {
  const inet = k.inet;
  const tables = [inet.tcbtable, inet.udbtable, inet.tcb6table, inet.udb6table];
  const rows: Row[] = [];
  for (const t of tables) {
    for (const inp of t.list()) {
      const so = inp.inp_socket;
      rows.push({ inp, family: t.inpt_af, protocol: so.so_proto.pr_protocol, type: so.so_type });
    }
  }
  rows.sort((a, b) => {
    if (a.family !== b.family) return a.family === AF_INET ? -1 : 1;
    if (a.protocol !== b.protocol) return a.protocol - b.protocol;
    if (a.type === SOCK_RAW) return 0;
    return b.inp.inp_fport - a.inp.inp_fport;
  });
  const tableid = o.tableid ?? 0;
  const aflag = o.aflag === true;
  const lflag = o.lflag === true;
  const Aflag = o.Aflag === true;
  let out = '';
  let af = 0;
  let type = 0;
  for (const r of rows) {
    const inp = r.inp;
    if (inp.inp_rtableid !== tableid) continue;
    if (o.af === 'inet' && r.family !== AF_INET) continue;
    if (o.af === 'inet6' && r.family !== AF_INET6) continue;
    const proto = o.proto === 'tcp' ? IPPROTO_TCP : o.proto === 'udp' ? IPPROTO_UDP : 0;
    if (proto !== 0 && r.protocol !== proto) continue;
    const isip6 = r.family === AF_INET6;
    const isany = isip6 ? IN6_IS_ADDR_UNSPECIFIED(inp.inp_faddr6) : inp.inp_faddr === 0;
    const istcp = r.protocol === IPPROTO_TCP;
    const isudp = r.protocol === IPPROTO_UDP;
    const tstate = istcp ? ((inp.inp_ppcb as { t_state?: number } | null)?.t_state ?? 0) : 0;
    if (!(aflag || lflag) && istcp && tstate <= TCPS_LISTEN) continue;
    else if (!(aflag || lflag) && isany) continue;
    if (!aflag && lflag && istcp && tstate !== TCPS_LISTEN) continue;
    if (!aflag && lflag && isudp && (inp.inp_lport === 0 || inp.inp_fport !== 0)) continue;
    const name = istcp ? 'tcp' : isudp ? 'udp' : 'ip';
    const addrlen = Aflag ? 18 : 22;
    if (af !== r.family || type !== r.type) {
      af = r.family;
      type = r.type;
      out += 'Active Internet connections';
      if (aflag) out += ' (including servers)';
      else if (lflag && (istcp || isudp)) out += ' (only servers)';
      out += '\n';
      if (Aflag) out += col('PCB', PLEN) + ' ';
      out += `${col('Proto', 7)} ${col('Recv-Q', 6)} ${col('Send-Q', 6)} `;
      out += ` ${col('Local Address', addrlen)} ${col('Foreign Address', addrlen)}${istcp ? ' TCP-State' : r.type === SOCK_RAW ? ' IP-Proto' : ''}\n`;
    }
    if (Aflag) out += pad(fakePtr(inp, istcp), PLEN, false) + ' ';
    const so = inp.inp_socket;
    out += `${col(isip6 ? name + '6' : name, 7)} ${pad(String(so.so_rcv.sb_cc), 6, false)} ${pad(String(so.so_snd.sb_cc), 6, false)} `;
    if (isip6) {
      out += inet6print(k, inp.inp_laddr6, inp.inp_lport, name, o);
      out += inet6print(k, inp.inp_faddr6, inp.inp_fport, name, o);
    } else {
      out += inetprint(inp.inp_laddr, inp.inp_lport, name, o);
      out += inetprint(inp.inp_faddr, inp.inp_fport, name, o);
    }
    if (istcp) out += tstate >= TCP_NSTATES ? ` ${tstate}` : ` ${TCPSTATES[tstate]}`;
    out += '\n';
  }
  return out;
}

function portText(port: number, proto: string, nflag: boolean): string {
  if (port === 0) return '*';
  if (!nflag) {
    const s = SERVICES[proto]?.[port];
    if (s !== undefined) return s.slice(0, 8);
  }
  return String(port);
}

/** inetprint(): " %-22.22s" of "host.port". */
function inetprint(addr: number, port: number, proto: string, o: SockListOptions): string {
  const nflag = o.nflag === true;
  const host = addr === 0 ? '*' : formatIp4(addr);
  const line = host.slice(0, o.Aflag && !nflag ? 12 : 16) + '.' + portText(port, proto, nflag);
  const width = o.Aflag ? 18 : 22;
  return ' ' + col(line, width);
}

/**
 * inet6print(): "%.16s." of the host (12 with -A; -v does not truncate),
 * then the port, in " %-22.22s" (18 with -A; -v widens to fit).
 */
function inet6print(k: Kernel, addr: Uint8Array, port: number, proto: string, o: SockListOptions): string {
  const nflag = o.nflag === true;
  const host = inet6name(k, addr);
  let width = o.Aflag ? 12 : 16;
  if (o.vflag && width < host.length) width = host.length;
  const line = host.slice(0, width) + '.' + portText(port, proto, nflag);
  width = o.Aflag ? 18 : 22;
  if (o.vflag && width < line.length) width = line.length;
  return ' ' + col(line, width);
}

/**
 * inet6name(): `*` for ::, else the numeric address; a link-local or
 * interface/link-local multicast address carries its scope as the kernel
 * embeds it (bytes 2-3), printed `fe80::1%lo0` (getnameinfo's form).
 */
function inet6name(k: Kernel, a: Uint8Array): string {
  if (IN6_IS_ADDR_UNSPECIFIED(a)) return '*';
  const scoped = (a[0] === 0xfe && (a[1]! & 0xc0) === 0x80) || (a[0] === 0xff && ((a[1]! & 0x0f) === 2 || (a[1]! & 0x0f) === 1));
  const scope = (a[2]! << 8) | a[3]!;
  if (!scoped || scope === 0) return formatIp6(a, 0);
  const t = a.slice();
  t[2] = 0;
  t[3] = 0;
  return `${formatIp6(t, 0)}%${k.ifnets[scope]?.if_xname ?? String(scope)}`;
}
