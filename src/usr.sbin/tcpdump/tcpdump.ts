/**
 * tcpdump(8) for capture files: `tcpdump -r FILE [-AadeflNnOpqStvXx]
 * [-c count] [-F file] [-s snaplen] [-w file] [expression]`, with OpenBSD's
 * option letters, usage text and error texts (usr.sbin/tcpdump/tcpdump.c).
 *
 * The loop reads, filters and prints without allocating per packet: the
 * reader reuses one buffer, the filter is compiled once per link type,
 * and the printer writes ASCII into a reusable byte buffer.
 */
import { readFileSync } from 'node:fs';
import type { Io, Output } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';
import { PcapReader, PcapWriter, FdSink, type PcapWriterOptions } from './pcap.js';
import { dltToLinktype } from './dlt.js';
import { compileFilter, isFilterError, type Filter } from './filter.js';
import { OutBuf, outputSink, type Sink } from './outbuf.js';
import { PrintState, isSupportedLinktype, printPacket } from './print.js';

const OPTSTRING = 'AaB:c:D:deE:fF:i:IlLnNOopqr:s:StT:vw:xXy:';

/** OpenBSD's DEFAULT_SNAPLEN (tcpdump's interface.h). */
const DEFAULT_SNAPLEN = 116;
const INT_MAX = 0x7fffffff;

const USAGE =
  'Usage: tcpdump [-AadefILlNnOopqStvXx] [-B fildrop] [-c count] [-D direction]\n' +
  '\t       [-E [espalg:]espkey] [-F file] [-i interface] [-r file]\n' +
  '\t       [-s snaplen] [-T type] [-w file] [-y datalinktype] [expression ...]\n';

/** Options that need a live interface, which a capture file does not have. */
const LIVE_ONLY: Record<string, string> = {
  i: 'live capture (-i) needs a lab machine: run tcpdump -i in the packetflow shell',
  B: 'the BPF fildrop option (-B) applies to live capture only',
  D: 'the traffic direction filter (-D) applies to live capture only',
  I: 'monitor mode (-I) applies to live capture only',
  L: 'listing data link types (-L) applies to live capture only',
  y: 'choosing a data link type (-y) applies to live capture only',
};

/** strtonum(3)'s error words. */
function strtonum(s: string, min: number, max: number): number | string {
  if (!/^\s*[-+]?\d+$/.test(s)) return 'invalid';
  const n = Number(s);
  if (n < min) return 'too small';
  if (n > max) return 'too large';
  return n;
}

interface Options {
  count: number;
  snaplen: number;
  readFile: string | undefined;
  writeFile: string | undefined;
  filterFile: string | undefined;
  print: PrintState;
  aflag: boolean;
  dflag: number;
  /** -O: do not run the optimizer's check that rejects impossible expressions. */
  Oflag: boolean;
}

/**
 * Where -r, -w and -F files live: the host's file system by default; the
 * lab shell passes the machine's in-memory files.
 */
export interface TcpdumpFiles {
  openReader(path: string): PcapReader;
  openWriter(path: string, opts: PcapWriterOptions): PcapWriter;
  /** The text of a -F file, or an error text ("f: No such file or directory"). */
  readText(path: string): { text: string } | { error: string };
  /** Print times with this UTC offset (the lab: 0, its clock starts at boot); default the local zone. */
  thiszone?: number;
}

export function tcpdump(argv: readonly string[], io: Io, files: TcpdumpFiles | null = null): number {
  const err = (msg: string): number => {
    io.stderr.write(`tcpdump: ${msg}\n`);
    return 1;
  };
  const g = getopt(argv, OPTSTRING);
  if (g.error !== undefined) {
    io.stderr.write(`tcpdump: ${g.error}\n${USAGE}`);
    return 1;
  }
  const o: Options = {
    count: 0,
    snaplen: 0,
    readFile: undefined,
    writeFile: undefined,
    filterFile: undefined,
    print: new PrintState(files?.thiszone !== undefined ? { thiszone: files.thiszone } : {}),
    aflag: false,
    dflag: 0,
    Oflag: false,
  };
  const p = o.print;
  let tflag = 1;
  for (const [c, arg] of g.opts) {
    const a = arg ?? '';
    switch (c) {
      case 'A':
        p.xflag = true;
        p.Aflag = true;
        break;
      case 'a':
        o.aflag = true;
        break;
      case 'c': {
        const n = strtonum(a, 1, INT_MAX);
        if (typeof n === 'string') return err(`invalid packet count ${a}: ${n}`);
        o.count = n;
        break;
      }
      case 'd':
        o.dflag++;
        break;
      case 'e':
        p.eflag = true;
        break;
      case 'E':
        return err(`bad esp specification \`${a}': ESP decryption is not supported by packetflow yet`);
      case 'F':
        o.filterFile = a;
        break;
      case 'n':
        p.nflag = true;
        break;
      case 'q':
        p.qflag = true;
        break;
      case 'r':
        o.readFile = a;
        break;
      case 's': {
        const n = strtonum(a, 1, INT_MAX);
        if (typeof n === 'string') return err(`invalid snaplen ${a}: ${n}`);
        o.snaplen = n;
        break;
      }
      case 'S':
        p.Sflag = true;
        break;
      case 't':
        tflag--;
        break;
      case 'T':
        if (!/^(vat|wb|rpc|rtp|rtcp|cnfp|vrrp|tcp|gre|vxlan|geneve|erspan|mpls|tftp|wg|sack)$/i.test(a)) {
          return err(`unknown packet type \`${a}'`);
        }
        // Packet types select printers for UDP payloads packetflow does not decode; accepted as OpenBSD does.
        break;
      case 'v':
        p.vflag++;
        break;
      case 'w':
        o.writeFile = a;
        break;
      case 'x':
        p.xflag = true;
        break;
      case 'X':
        p.Xflag = true;
        p.xflag = true;
        break;
      case 'O':
        o.Oflag = true;
        break;
      case 'f':
      case 'l':
      case 'N':
      case 'o':
      case 'p':
        // Name lookups, line buffering, optimizer, OS fingerprints, promiscuity: no effect on file output here.
        break;
      default:
        return err(LIVE_ONLY[c] ?? `-${c}: not supported`);
    }
  }
  p.tflag = tflag;
  if (o.aflag && p.nflag) return err('-a and -n options are incompatible');
  if (o.readFile === undefined) return err(LIVE_ONLY.i!);

  let expression = g.rest.join(' ');
  if (o.filterFile !== undefined && files !== null) {
    const r = files.readText(o.filterFile);
    if ('error' in r) return err(r.error);
    expression = r.text.replace(/#.*$/gm, ' ');
  } else if (o.filterFile !== undefined) {
    try {
      expression = readFileSync(o.filterFile, 'latin1').replace(/#.*$/gm, ' ');
    } catch (e) {
      return err(`${o.filterFile}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : String(e)}`);
    }
  }

  const reader = files !== null ? files.openReader(o.readFile) : o.readFile === '-' ? PcapReader.fromFd(0) : PcapReader.open(o.readFile);
  if (reader.format === '') {
    return err(reader.error ?? `${o.readFile}: unknown file format`);
  }
  if (o.snaplen === 0) o.snaplen = DEFAULT_SNAPLEN;
  if (o.snaplen < reader.snaplen) {
    io.stderr.write(`tcpdump: WARNING: snaplen raised from ${o.snaplen} to ${reader.snaplen}\n`);
    o.snaplen = reader.snaplen;
  }

  // One compiled filter per link type (a pcapng file may mix them).
  const filters = new Map<number, Filter>();
  const filterFor = (dlt: number): Filter | string => {
    let f = filters.get(dlt);
    if (f === undefined) {
      const r = compileFilter(expression, dlt, { optimize: !o.Oflag });
      if (isFilterError(r)) return r.message;
      f = r;
      filters.set(dlt, f);
    }
    return f;
  };
  const first = filterFor(reader.dlt);
  if (typeof first === 'string') return err(first);
  if (o.dflag > 0) {
    io.stdout.write(first.source + '\n');
    return 0;
  }

  if (o.writeFile !== undefined) return writeLoop(o, reader, filterFor, io, err, files);
  return printLoop(o, reader, filterFor, io.stdout, err);
}

function printLoop(
  o: Options,
  reader: PcapReader,
  filterFor: (dlt: number) => Filter | string,
  stdout: Output,
  err: (msg: string) => number,
): number {
  const sink: Sink = stdout.writeBytes !== undefined ? (b, n) => stdout.writeBytes!(b, n) : outputSink(stdout);
  const out = new OutBuf(sink);
  const st = o.print;
  let dlt = -1;
  let filter: Filter | undefined;
  let n = 0;
  try {
    while (reader.next()) {
      if (reader.dlt !== dlt) {
        const f = filterFor(reader.dlt);
        if (typeof f === 'string') return err(f);
        filter = f;
        dlt = reader.dlt;
      }
      if (!filter!.match(reader.buf, reader.off, reader.caplen, reader.len)) continue;
      if (isSupportedLinktype(dlt)) {
        printPacket(out, st, dlt, reader.tsSec, reader.tsNsec, reader.buf, reader.off, reader.caplen, reader.len);
      }
      if (o.count > 0 && ++n >= o.count) break;
    }
  } finally {
    out.flush();
    reader.close();
  }
  if (reader.error !== null) return err(`pcap_loop: ${reader.error}`);
  return 0;
}

function writeLoop(
  o: Options,
  reader: PcapReader,
  filterFor: (dlt: number) => Filter | string,
  io: Io,
  err: (msg: string) => number,
  files: TcpdumpFiles | null,
): number {
  const opts = { linktype: dltToLinktype(reader.dlt), snaplen: o.snaplen };
  const writer = files !== null ? files.openWriter(o.writeFile!, opts) : o.writeFile === '-' ? new PcapWriter(new FdSink(1), opts) : PcapWriter.open(o.writeFile!, opts);
  if (writer.error !== null) return err(writer.error);
  const dlt = reader.dlt;
  const filter = filterFor(dlt);
  let n = 0;
  while (reader.next()) {
    if (reader.dlt !== dlt) {
      // A libpcap file has one link type; OpenBSD's tcpdump writes what the first interface has.
      io.stderr.write(`tcpdump: WARNING: packet of link type ${reader.dlt} skipped: the output file is of link type ${dlt}\n`);
      continue;
    }
    if (typeof filter === 'string') return err(filter);
    if (!filter.match(reader.buf, reader.off, reader.caplen, reader.len)) continue;
    writer.writePacket(reader.buf, reader.off, reader.caplen, reader.tsSec, reader.tsUsec, reader.len);
    if (o.count > 0 && ++n >= o.count) break;
  }
  writer.close();
  reader.close();
  if (writer.error !== null) return err(writer.error);
  if (reader.error !== null) return err(`pcap_loop: ${reader.error}`);
  return 0;
}
