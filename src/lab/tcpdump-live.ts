/**
 * tcpdump -i IF on a lab machine: a bpf listener on the interface (the
 * taps of ifiq_input and the driver's start routine, or lo0's), the
 * tcpdump filter compiler and printer of usr.sbin/tcpdump.  Timestamps
 * are the lab's virtual time since boot, printed in UTC, so 00:00:01.000000
 * is one second after the lab booted.
 *
 * In the foreground it waits for the lab (lib/wait.ts) until -c packets
 * were printed, or until Ctrl-C (interactively; then, as tcpdump.c's
 * cleanup() does on SIGINT, it says on stderr how many packets bpf received
 * for it and dropped), or, in virtual time, until nothing is left to
 * happen.  With `&` it keeps printing while later commands run.
 *
 * -w FILE writes a libpcap file into the machine's files instead of
 * printing (lab/files.ts), with the interface's link type (dlt.ts), as
 * tcpdump -r FILE in the shell and `export FILE HOSTPATH` then use it.
 */
import type { Io } from '../lib/io.js';
import { getopt } from '../lib/getopt.js';
import { bpf_listen, bpf_detachd, BPF_DIRECTION_IN, BPF_DIRECTION_OUT, type BpfDesc } from '../sys/net/bpf.js';
import { compileFilter, isFilterError } from '../usr.sbin/tcpdump/filter.js';
import { OutBuf, outputSink } from '../usr.sbin/tcpdump/outbuf.js';
import { PrintState, printPacket } from '../usr.sbin/tcpdump/print.js';
import type { CommandContext } from './commands.js';
import { Completion, waitFor } from '../lib/wait.js';
import { dltToLinktype } from '../usr.sbin/tcpdump/dlt.js';
import type { PcapWriter } from '../usr.sbin/tcpdump/pcap.js';
import { machinePcapWriter } from './files.js';

const USAGE = 'usage: tcpdump [-enqStvXx] [-c count] [-D in|out] [-s snaplen] [-w file] -i interface [expression ...]\n';

const DLT_PFLOG = 117;
/** tcpdump's DEFAULT_SNAPLEN (interface.h) */
const DEFAULT_SNAPLEN = 116;
/** the least snap length pcap_live() gives a DLT_PFLOG capture */
const PFLOG_SNAPSHOT = 160;

export interface LiveCapture {
  host: string;
  ifname: string;
  count: number;
  /** The capture has ended (its -c count reached, or stopped): a background job reads Done. */
  done: boolean;
  stop(): void;
  /** Capture until -c, Ctrl-C (ctx.signal) or, in virtual time, the end of events. */
  runForeground(): Promise<number>;
}

export function tcpdumpLive(ctx: CommandContext, argv: readonly string[], io: Io, background: boolean): LiveCapture | null {
  const g = getopt(argv, 'c:D:ei:nqs:StvXxw:');
  const fail = (msg: string): null => {
    io.stderr.write(`tcpdump: ${msg}\n`);
    return null;
  };
  if (g.error !== undefined) {
    io.stderr.write(`tcpdump: ${g.error}\n${USAGE}`);
    return null;
  }
  const ps = new PrintState({ thiszone: 0 });
  let ifname: string | undefined;
  let max = 0;
  let snaplen = 0;
  let dirfilt = 0;
  let tflag = 1;
  let wfile: string | undefined;
  for (const [c, v = ''] of g.opts) {
    switch (c) {
      case 'c':
        max = Number(v);
        if (!Number.isInteger(max) || max < 1) return fail(`invalid packet count ${v}`);
        break;
      case 'D':
        if (v === 'in') dirfilt = BPF_DIRECTION_OUT;
        else if (v === 'out') dirfilt = BPF_DIRECTION_IN;
        else return fail(`unknown direction \`${v}'`);
        break;
      case 'e': ps.eflag = true; break;
      case 'i': ifname = v; break;
      case 'n': ps.nflag = true; break;
      case 'q': ps.qflag = true; break;
      case 's': snaplen = Number(v) || DEFAULT_SNAPLEN; break;
      case 'S': ps.Sflag = true; break;
      case 't': tflag--; break;
      case 'v': ps.vflag++; break;
      case 'X': ps.Xflag = true; ps.xflag = true; break;
      case 'x': ps.xflag = true; break;
      case 'w': wfile = v; break;
    }
  }
  ps.tflag = tflag;
  const k = ctx.machine.k;
  if (ifname === undefined) {
    const first = ctx.machine.interfaces().find((n) => n !== 'lo0');
    if (first === undefined) return fail('no suitable device found');
    ifname = first;
  }
  const ifp = k.ifunit(ifname);
  if (ifp === undefined) return fail(`${ifname}: No such device`);
  const dlt = ifp.if_bpf_dlt;
  // The snap length counts from the start of what bpf_mtap_hdr() hands the filter: on pflog0, the
  // 100-byte pfloghdr and the packet as one.  pcap_live() raises it to 160 there (privsep_pcap.c's
  // "XXX hack"), and tcpdump says so.
  if (snaplen === 0) snaplen = DEFAULT_SNAPLEN;
  const asked = snaplen;
  if (dlt === DLT_PFLOG && snaplen < PFLOG_SNAPSHOT) snaplen = PFLOG_SNAPSHOT;
  const f = compileFilter(g.rest.join(' '), dlt, { optimize: true });
  if (isFilterError(f)) return fail(f.message);
  // pcap_dump_open(): the file is created (with its header) before the first packet.
  const writer: PcapWriter | null = wfile === undefined ? null : machinePcapWriter(ctx.machine, wfile, { linktype: dltToLinktype(dlt), snaplen });
  const stdout = io.stdout;
  const out = new OutBuf(stdout.writeBytes !== undefined ? (b, n) => stdout.writeBytes!(b, n) : outputSink(stdout));
  let d: BpfDesc | null = null;
  const w = ctx.lab.world;
  const end = new Completion(w);
  const cap: LiveCapture = {
    host: ctx.machine.hostname,
    ifname,
    count: 0,
    done: false,
    stop: () => {
      if (cap.done) return;
      cap.done = true;
      if (d !== null) bpf_detachd(d);
      d = null;
      out.flush();
      writer?.close();
      end.finish();
    },
    runForeground: async (): Promise<number> => {
      const desc = d!;
      const unsub = end.abortOn(ctx.signal);
      try {
        await waitFor(w, end, { idleOk: true });
      } finally {
        unsub();
        cap.stop();
      }
      if (ctx.signal?.aborted) io.stderr.write(`\n${desc.bd_rcount} packets received by filter\n${desc.bd_dcount} packets dropped by kernel\n`);
      return 0;
    },
  };
  d = bpf_listen(
    ifp,
    (buf, off, caplen, wirelen, tsNs) => {
      if (writer !== null) writer.writePacket(buf, off, caplen, Math.floor(tsNs / 1e9), Math.floor((tsNs % 1e9) / 1000), wirelen);
      else printPacket(out, ps, dlt, Math.floor(tsNs / 1e9), tsNs % 1e9, buf, off, caplen, wirelen);
      out.flush();
      cap.count++;
      if (max > 0 && cap.count >= max) cap.stop();
    },
    f.match,
    snaplen,
  );
  d.dirfilt = dirfilt;
  if (!background && asked < snaplen) io.stderr.write(`tcpdump: WARNING: snaplen raised from ${asked} to ${snaplen}\n`);
  if (!background) io.stderr.write(`tcpdump: listening on ${ifname}, link-type ${dlt === 1 ? 'EN10MB' : dlt === 12 ? 'LOOP' : dlt === DLT_PFLOG ? 'PFLOG' : String(dlt)}\n`);
  void BPF_DIRECTION_IN;
  return cap;
}
