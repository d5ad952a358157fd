/**
 * TCP control block and per-kernel TCP state (sys/netinet/tcp_var.h,
 * tcp_timer.h): struct tcpcb with OpenBSD's field names, the timer
 * macros (TCP_TIMER_ARM/DISARM/ISARMED on five timeouts per connection),
 * the SACK hole and reassembly queue entries (recycled through per-kernel
 * free lists, so a connection's steady state allocates nothing), the SYN
 * cache structures, and struct TcpState: what OpenBSD keeps in globals of
 * tcp_*.c (sysctl knobs, tcp_iss, the SYN cache sets, RST/ACK rate limits,
 * scratch space of the packet path), gathered per kernel.
 *
 * Time: tcp_now() is milliseconds (TCP_TIME(s) = s * 1000) from the
 * world's clock plus a random per-kernel start offset, as OpenBSD's
 * getnsecuptime() + tcp_starttime.
 */
import type { Kernel } from '../kern/kernel.js';
import type { SysctlNode } from '../kern/kern_sysctl.js';
import type { Mbuf } from '../kern/uipc_mbuf.js';
import { Timeout } from '../kern/kern_timeout.js';
import { IcmpState } from './ip_icmp.js';
import { Route } from './ip_output.js';
import type { Inpcb } from './in_pcb.js';
import type { TcpInputCtx } from './tcp_input.js';
import { TCPS_CLOSED } from './tcp_fsm.js';

// tcp.h
export const TCP_MSS = 512;
export const TCP_MAXWIN = 65535;
export const TCP_MAX_WINSHIFT = 14;
export const MAX_SACK_BLKS = 6;
export const TCP_MAX_SACK = 3;
export const TCP_SACKHOLE_LIMIT = 128;
export const TCPOLEN_TSTAMP_APPA = 12;
export const TCPOPT_TSTAMP_HDR = 0x0101080a;
export const TCPOPT_SACK_PERMIT_HDR = 0x01010402;
export const TCPOPT_SACK_HDR = 0x01010500;
export const TCP_NODELAY = 0x01;
export const TCP_MAXSEG = 0x02;
export const TCP_NOPUSH = 0x10;
export const TCP_SACK_ENABLE = 0x08;

// t_flags
export const TF_ACKNOW = 0x0001;
export const TF_NODELAY = 0x0004;
export const TF_NOOPT = 0x0008;
export const TF_SENTFIN = 0x0010;
export const TF_REQ_SCALE = 0x0020;
export const TF_RCVD_SCALE = 0x0040;
export const TF_REQ_TSTMP = 0x0080;
export const TF_RCVD_TSTMP = 0x0100;
export const TF_SACK_PERMIT = 0x0200;
export const TF_SIGNATURE = 0x0400;
export const TF_LASTIDLE = 0x00100000;
export const TF_PMTUD_PEND = 0x00400000;
export const TF_NEEDOUTPUT = 0x00800000;
export const TF_BLOCKOUTPUT = 0x01000000;
export const TF_NOPUSH = 0x02000000;
export const TF_TMR_REXMT = 0x04000000;
export const TF_TMR_PERSIST = 0x08000000;
export const TF_TMR_KEEP = 0x10000000;
export const TF_TMR_2MSL = 0x20000000;
export const TF_TMR_DELACK = 0x40000000;
export const TF_TIMER = TF_TMR_REXMT;

// tcp_timer.h
export const TCPT_REXMT = 0;
export const TCPT_PERSIST = 1;
export const TCPT_KEEP = 2;
export const TCPT_2MSL = 3;
export const TCPT_DELACK = 4;
export const TCPT_NTIMERS = 5;
export const tcptimers: readonly string[] = ['REXMT', 'PERSIST', 'KEEP', '2MSL', 'DELACK'];

export function TCP_TIME(sec: number): number {
  return sec * 1000;
}
export const TCPTV_MSL = TCP_TIME(30);
export const TCPTV_SRTTBASE = 0;
export const TCPTV_SRTTDFLT = TCP_TIME(3);
export const TCPTV_PERSMIN = TCP_TIME(5);
export const TCPTV_PERSMAX = TCP_TIME(60);
export const TCPTV_KEEPINIT = TCP_TIME(75);
export const TCPTV_KEEPIDLE = TCP_TIME(120 * 60);
export const TCPTV_KEEPINTVL = TCP_TIME(75);
export const TCPTV_KEEPCNT = 8;
export const TCPTV_MIN = TCP_TIME(1);
export const TCPTV_REXMTMAX = TCP_TIME(64);
export const TCP_LINGERTIME = 120;
export const TCP_MAXRXTSHIFT = 12;
export const TCP_DELACK_MSECS = 200;
export const tcp_backoff: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 64, 64, 64, 64, 64, 64];
export const tcp_totbackoff = 511;
export const tcprexmtthresh = 3;
export const TCP_PAWS_IDLE = TCP_TIME(24 * 24 * 60 * 60);

// RTT estimator fixed point (tcp_var.h)
export const TCP_RTT_SHIFT = 3;
export const TCP_RTTVAR_SHIFT = 2;
export const TCP_RTT_BASE_SHIFT = 2;
export const TCP_RTT_MAX = 1 << 18;

export const TCP_SENDSPACE = 1024 * 16;
export const TCP_RECVSPACE = 1024 * 16;
/** sb_max (SB_MAX): the largest socket buffer. */
export const SB_MAX = 2 * 1024 * 1024;
export const TCP_AUTORCVBUF_INC = 16 * 1024;
export const TCP_ISSINCR2 = 1 * 1024 * 1024;
export const TCP_ISS_CONN_INC = 4096;

// SYN cache
export const TCP_SYN_HASH_SIZE = 293;
export const TCP_SYN_BUCKET_SIZE = 35;
export const SCF_UNREACH = 0x0001;
export const SCF_TIMESTAMP = 0x0010;
export const SCF_SACK_PERMIT = 0x0020;
export const SCF_ECN_PERMIT = 0x0040;
export const SCF_SIGNATURE = 0x0080;

/** TCPT_RANGESET */
export function TCPT_RANGESET(value: number, tvmin: number, tvmax: number): number {
  return value < tvmin ? tvmin : value > tvmax ? tvmax : value;
}

/** struct sackhole, linked through next. */
export class SackHole {
  start = 0;
  end = 0;
  dups = 0;
  rxmit = 0;
  next: SackHole | null = null;
}

/**
 * struct tcpqent: a segment waiting in the reassembly queue.  The data is
 * m's bytes [m.off, m.off + len); seq and flags are the segment's
 * (th_seq, th_reseqlen and th_flags of the C header it points into).
 */
export class TcpQent {
  m: Mbuf | null = null;
  seq = 0;
  len = 0;
  flags = 0;
  next: TcpQent | null = null;
}

/** struct tcp_opt_info */
export class TcpOptInfo {
  ts_present = 0;
  ts_val = 0;
  ts_ecr = 0;
  maxseg = 0;
}

export class Tcpcb {
  /** t_segq: the reassembly queue, sorted by seq. */
  t_segq: TcpQent | null = null;
  readonly t_timer: Timeout<Tcpcb>[];
  t_state = TCPS_CLOSED;
  t_rxtshift = 0;
  t_rxtcur = 0;
  t_dupacks = 0;
  t_maxseg = 0;
  t_force = 0;
  t_flags = 0;
  /** The IP+TCP header template (tcp_template): 40 bytes for IPv4, 60 for IPv6. */
  readonly t_template = new Uint8Array(60);
  /** Its first 40 bytes (the IPv4 template), a view made once: copied with set(), no view per segment. */
  readonly t_template4 = this.t_template.subarray(0, 40);
  t_inpcb: Inpcb;

  snd_una = 0;
  snd_nxt = 0;
  snd_up = 0;
  snd_wl1 = 0;
  snd_wl2 = 0;
  iss = 0;
  snd_wnd = 0;
  sack_enable = 0;
  snd_numholes = 0;
  snd_holes: SackHole | null = null;
  snd_last = 0;

  rcv_wnd = 0;
  rcv_nxt = 0;
  rcv_up = 0;
  irs = 0;
  rcv_lastsack = 0;
  rcv_numsacks = 0;
  readonly sackblks_start = new Array<number>(MAX_SACK_BLKS).fill(0);
  readonly sackblks_end = new Array<number>(MAX_SACK_BLKS).fill(0);

  rcv_adv = 0;
  snd_max = 0;
  snd_cwnd = 0;
  snd_ssthresh = 0;

  rfbuf_ts = 0;
  rfbuf_cnt = 0;

  t_maxopd = 0;
  t_peermss = 0;

  t_rcvtime = 0;
  t_rcvacktime = 0;
  t_sndtime = 0;
  t_sndacktime = 0;
  t_rtttime = 0;
  t_rtseq = 0;
  t_srtt = 0;
  t_rttvar = 0;
  t_rttmin = 0;
  max_sndwnd = 0;

  t_oobflags = 0;
  t_iobc = 0;
  t_softerror = 0;

  snd_scale = 0;
  rcv_scale = 0;
  request_r_scale = 0;
  requested_s_scale = 0;
  ts_recent = 0;
  ts_modulate = 0;
  ts_recent_age = 0;
  last_ack_sent = 0;

  /** t_sc: SYN cache entries made by this listener. */
  readonly t_sc = new Set<SynCache>();

  t_pmtud_mss_acked = 0;
  t_pmtud_mtu_sent = 0;
  t_pmtud_th_seq = 0;
  t_pmtud_nextmtu = 0;
  t_pmtud_ip_len = 0;
  t_pmtud_ip_hl = 0;
  /**
   * The path MTU learned from ICMP need-frag (0: none).  OpenBSD clones a
   * host route carrying it (icmp_mtudisc); until route cloning for PMTU
   * exists here, the connection keeps it and tcp_mss() applies it.
   */
  t_pmtu = 0;

  pf = 2;

  t_rcvoopack = 0;
  t_sndrexmitpack = 0;
  t_sndzerowin = 0;

  /** Bytes of the send buffer freed since the last sowwakeup check (sb_notify). */
  constructor(
    readonly kernel: Kernel,
    inp: Inpcb,
    fns: readonly ((tp: Tcpcb) => void)[],
  ) {
    this.t_inpcb = inp;
    const w = kernel.world;
    this.t_timer = [
      new Timeout<Tcpcb>(w, fns[0]!, this),
      new Timeout<Tcpcb>(w, fns[1]!, this),
      new Timeout<Tcpcb>(w, fns[2]!, this),
      new Timeout<Tcpcb>(w, fns[3]!, this),
      new Timeout<Tcpcb>(w, fns[4]!, this),
    ];
  }
}

/** TCP_REXMTVAL() */
export function TCP_REXMTVAL(tp: Tcpcb): number {
  return ((tp.t_srtt >> TCP_RTT_SHIFT) + tp.t_rttvar) >> TCP_RTT_BASE_SHIFT;
}

/** TCP_TIMER_ARM(): msecs from now. */
export function TCP_TIMER_ARM(tp: Tcpcb, timer: number, msecs: number): void {
  tp.t_flags |= TF_TIMER << timer;
  tp.t_timer[timer]!.addMsec(msecs);
}

export function TCP_TIMER_DISARM(tp: Tcpcb, timer: number): void {
  tp.t_flags &= ~(TF_TIMER << timer);
  tp.t_timer[timer]!.del();
}

export function TCP_TIMER_ISARMED(tp: Tcpcb, timer: number): boolean {
  return (tp.t_flags & (TF_TIMER << timer)) !== 0;
}

/** tcp_rcvseqinit() */
export function tcp_rcvseqinit(tp: Tcpcb): void {
  tp.rcv_adv = tp.rcv_nxt = (tp.irs + 1) >>> 0;
}

/** tcp_sendseqinit() */
export function tcp_sendseqinit(tp: Tcpcb): void {
  tp.snd_una = tp.snd_nxt = tp.snd_max = tp.snd_up = tp.iss;
}

/** struct syn_cache: a half-open connection of a listener. */
export class SynCache {
  readonly sc_timer: Timeout<SynCache>;
  readonly sc_route = new Route();
  sc_win = 0;
  sc_bucket: SynCacheHead | null = null;
  sc_set: SynCacheSet | null = null;
  sc_timestamp = 0;
  sc_hash = 0;
  sc_modulate = 0;
  /** The peer (the SYN's source) and us (its destination). */
  sc_src = 0;
  sc_sport = 0;
  sc_dst = 0;
  sc_dport = 0;
  /** An IPv6 entry: the addresses are sc_src6/sc_dst6 (sc_src/sc_dst their digests). */
  sc_af6 = false;
  readonly sc_src6 = new Uint8Array(16);
  readonly sc_dst6 = new Uint8Array(16);
  sc_irs = 0;
  sc_iss = 0;
  sc_rtableid = 0;
  sc_rxtcur = 0;
  sc_rxttot = 0;
  sc_rxtshift = 0;
  sc_dynflags = 0;
  sc_fixflags = 0;
  sc_peermaxseg = 0;
  sc_ourmaxseg = 0;
  sc_request_r_scale = 0;
  sc_requested_s_scale = 0;
  sc_inplisten: Inpcb | null = null;
  sc_tp: Tcpcb | null = null;

  constructor(
    readonly kernel: Kernel,
    fn: (sc: SynCache) => void,
  ) {
    this.sc_timer = new Timeout<SynCache>(kernel.world, fn, this);
  }
}

/** struct syn_cache_head: one hash bucket, oldest entry first. */
export class SynCacheHead {
  readonly sch_bucket: SynCache[] = [];
}

/** struct syn_cache_set */
export class SynCacheSet {
  scs_buckethead: SynCacheHead[] = [];
  scs_use = 0;
  scs_size = 0;
  scs_count = 0;
  readonly scs_random = new Uint32Array(5);
}

/** The TCP state of one kernel (OpenBSD's globals of tcp_*.c). */
export class TcpState {
  readonly do_rfc1323: SysctlNode;
  readonly keepinittime: SysctlNode;
  readonly keepidle: SysctlNode;
  readonly keepintvl: SysctlNode;
  readonly always_keepalive: SysctlNode;
  readonly sack: SysctlNode;
  readonly mssdflt: SysctlNode;
  readonly rstppslimit: SysctlNode;
  readonly ackonpush: SysctlNode;
  readonly ecn: SysctlNode;
  readonly syncachelimit: SysctlNode;
  readonly synbucketlimit: SysctlNode;
  readonly rfc3390: SysctlNode;
  readonly reasslimit: SysctlNode;
  readonly sackholelimit: SysctlNode;
  readonly synuselimit: SysctlNode;
  readonly synhashsize: SysctlNode;
  readonly tso: SysctlNode;
  readonly sendspace: SysctlNode;
  readonly recvspace: SysctlNode;
  /** tcp_delack_msecs */
  tcp_delack_msecs = TCP_DELACK_MSECS;
  /** tcp_maxpersistidle */
  tcp_maxpersistidle = TCPTV_KEEPIDLE;

  /** tcp_iss, advanced per connection (TCP_ISS_CONN_INC) and with time (tcp_slowtimo). */
  tcp_iss = 1;
  /** Random secret words for the ISN hash (tcp_secret). */
  readonly tcp_secret = new Uint32Array(4);
  /** tcp_starttime, ms: random offset of tcp_now(). */
  tcp_starttime = 0;

  readonly tcp_syn_cache = [new SynCacheSet(), new SynCacheSet()];
  tcp_syn_cache_active = 0;
  readonly rst_ppslim = new IcmpState();
  readonly ackdrop_ppslim = new IcmpState();

  // Free lists: sackhl_pool and tcpqe_pool.
  readonly sackFree: SackHole[] = [];
  readonly qeFree: TcpQent[] = [];
  /** Reassembly entries in use (pool_sethardlimit tcp_reass_limit). */
  qeInUse = 0;
  /** SACK holes in use (pool_sethardlimit tcp_sackhole_limit). */
  sackInUse = 0;

  // Scratch of the packet path.
  readonly opti = new TcpOptInfo();
  /** tcp_input()'s parsed segment and locals (set by tcp_init). */
  ctx!: TcpInputCtx;
  /** syn_cache_add()'s struct tcpcb tb, for tcp_dooptions() (set by tcp_init). */
  tb!: Tcpcb;
  /** tcp_output()'s option buffer. */
  readonly optbuf = new Uint8Array(40);
  readonly sackTemp = new Array<number>(MAX_SACK_BLKS * 2).fill(0);

  constructor(k: Kernel) {
    const s = k.sysctl;
    const I = 0x7fffffff;
    this.do_rfc1323 = s.int('net.inet.tcp.rfc1323', 1, 'RFC 1323 timestamps and window scaling', 0, 1);
    this.keepinittime = s.int('net.inet.tcp.keepinittime', TCPTV_KEEPINIT / 1000, 'seconds to establish a connection', 1, 3 * 24 * 60 * 60);
    this.keepidle = s.int('net.inet.tcp.keepidle', TCPTV_KEEPIDLE / 1000, 'seconds idle before keepalive probes', 1, 5 * 24 * 60 * 60);
    this.keepintvl = s.int('net.inet.tcp.keepintvl', TCPTV_KEEPINTVL / 1000, 'seconds between keepalive probes', 1, 3 * 24 * 60 * 60);
    this.always_keepalive = s.int('net.inet.tcp.always_keepalive', 0, 'keepalive on every connection', 0, 1);
    this.sack = s.int('net.inet.tcp.sack', 1, 'selective acknowledgements (RFC 2018)', 0, 1);
    this.mssdflt = s.int('net.inet.tcp.mssdflt', TCP_MSS, 'default maximum segment size', TCP_MSS, 65535);
    this.rstppslimit = s.int('net.inet.tcp.rstppslimit', 100, 'RSTs per second', 1, 1000 * 1000);
    this.ackonpush = s.int('net.inet.tcp.ackonpush', 0, 'ACK immediately on PUSH', 0, 1);
    this.ecn = s.int('net.inet.tcp.ecn', 0, 'explicit congestion notification', 0, 1);
    this.syncachelimit = s.int('net.inet.tcp.syncachelimit', TCP_SYN_HASH_SIZE * TCP_SYN_BUCKET_SIZE, 'most SYN cache entries', 1, 1000 * 1000);
    this.synbucketlimit = s.int('net.inet.tcp.synbucketlimit', 3 * TCP_SYN_BUCKET_SIZE, 'most SYN cache entries per bucket', 1, I);
    this.rfc3390 = s.int('net.inet.tcp.rfc3390', 2, 'initial window (1: RFC 3390, 2: 10 segments)', 0, 2);
    this.reasslimit = s.int('net.inet.tcp.reasslimit', 32768 / 8, 'most segments in reassembly queues', 0, I);
    this.sackholelimit = s.int('net.inet.tcp.sackholelimit', 32 * 1024, 'most SACK holes', 0, I);
    this.synuselimit = s.int('net.inet.tcp.synuselimit', 100000, 'SYN cache uses before reseeding', 0, 1000 * 1000);
    this.synhashsize = s.int('net.inet.tcp.synhashsize', TCP_SYN_HASH_SIZE, 'SYN cache hash buckets', 1, 100000);
    this.tso = s.int('net.inet.tcp.tso', 1, 'TCP segmentation offload', 0, 1);
    this.sendspace = s.int('net.inet.tcp.sendspace', TCP_SENDSPACE, 'send buffer of new sockets', 0, SB_MAX);
    this.recvspace = s.int('net.inet.tcp.recvspace', TCP_RECVSPACE, 'receive buffer of new sockets', 0, SB_MAX);
  }

  /** pool_get(&sackhl_pool) */
  sackhole_get(): SackHole | null {
    if (this.sackInUse >= this.sackholelimit.value) return null;
    this.sackInUse++;
    const h = this.sackFree.pop();
    if (h !== undefined) return h;
    return new SackHole();
  }

  /** pool_put(&sackhl_pool) */
  sackhole_put(h: SackHole): void {
    h.next = null;
    this.sackInUse--;
    this.sackFree.push(h);
  }

  /** pool_get(&tcpqe_pool) */
  tcpqe_get(): TcpQent | null {
    if (this.qeInUse >= this.reasslimit.value) return null;
    this.qeInUse++;
    const q = this.qeFree.pop();
    if (q !== undefined) return q;
    return new TcpQent();
  }

  /** pool_put(&tcpqe_pool) */
  tcpqe_put(q: TcpQent): void {
    q.m = null;
    q.next = null;
    this.qeInUse--;
    this.qeFree.push(q);
  }
}

/** tcp_now(): milliseconds. */
export function tcp_now(k: Kernel, ts: TcpState): number {
  return Math.floor(k.world.now / 1e6) + ts.tcp_starttime;
}
