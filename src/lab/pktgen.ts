/**
 * pktgen: offered load from a lab machine, so that queues fill on demand
 * (qdrops in kstat, OACTIVE in ifconfig, Send-Q style backlogs): UDP
 * datagrams to the discard port, sent through ip_output() either as one
 * burst (-c N) or at a rate (-r packets/s for -t seconds).  -f spreads them
 * over several flows (source ports), which a multi-queue NIC (ix) hashes
 * onto its rings.
 *
 *   pktgen -c 600 10.10.12.4           600 datagrams at once: em1's queue overflows
 *   pktgen -r 50000 -t 0.2 10.10.12.4  50000/s for 0.2 s of lab time
 *
 * At a rate it waits for the lab as every tool does (lib/wait.ts): in
 * virtual time it runs the world, in real time (an attached lab, the
 * interactive shell) the datagrams leave as the wall clock passes; Ctrl-C
 * ends it early, with its summary.
 */
import type { Io } from '../lib/io.js';
import { getopt } from '../lib/getopt.js';
import type { Kernel } from '../sys/kern/kernel.js';
import { ip_output } from '../sys/netinet/ip_output.js';
import { parseIp4, formatIp4 } from '../wire/addr.js';
import { put16 } from '../wire/bytes.js';
import { Ipv4Packet, IPPROTO_UDP } from '../wire/ip4.js';
import type { CommandContext } from './commands.js';
import { Completion, waitFor, worldSleep } from '../lib/wait.js';

const USAGE = 'usage: pktgen [-c count] [-r pps] [-t seconds] [-s size] [-f flows] [-p port] host\n';

export interface PktgenResult {
  offered: number;
  sent: number;
  refused: number;
  lastError: number;
}

export async function pktgen(ctx: CommandContext, argv: readonly string[], io: Io): Promise<number> {
  const g = getopt(argv, 'c:r:t:s:f:p:');
  const bad = (msg: string): number => {
    io.stderr.write(`pktgen: ${msg}\n${USAGE}`);
    return 1;
  };
  if (g.error !== undefined) return bad(g.error);
  if (g.rest.length !== 1) return bad('one destination host');
  let count = -1;
  let rate = 0;
  let secs = 1;
  let size = 1000;
  let flows = 1;
  let port = 9;
  for (const [c, v = ''] of g.opts) {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0 || v === '') return bad(`-${c} ${v}: not a number`);
    if (c === 'c') count = Math.floor(n);
    if (c === 'r') rate = n;
    if (c === 't') secs = n;
    if (c === 's') size = Math.floor(n);
    if (c === 'f') flows = Math.max(1, Math.floor(n));
    if (c === 'p') port = Math.floor(n);
  }
  if (size > 65507) return bad('-s: at most 65507 bytes');
  const dst = parseIp4(g.rest[0]!);
  if (dst < 0) return bad(`${g.rest[0]}: not an IPv4 address`);
  if (rate === 0 && count < 0) count = 1000;
  if (rate > 0 && count < 0) count = Math.max(1, Math.round(rate * secs));
  const k = ctx.machine.k;
  const w = ctx.lab.world;
  const r: PktgenResult = { offered: 0, sent: 0, refused: 0, lastError: 0 };
  const start = w.now;
  const send = (): void => {
    const e = sendOne(k, dst, size, 40000 + (r.offered % flows), port);
    r.offered++;
    if (e === 0) r.sent++;
    else {
      r.refused++;
      r.lastError = e;
    }
  };
  if (rate === 0) {
    for (let i = 0; i < count; i++) send();
  } else {
    const gap = 1e9 / rate;
    const t0 = w.now;
    const end = new Completion(w);
    const to = w.timeout<undefined>(() => {
      send();
      if (r.offered < count) to.at(t0 + Math.round(r.offered * gap));
      else end.finish();
    }, undefined);
    to.at(w.now);
    const unsub = end.abortOn(ctx.signal);
    try {
      await waitFor(w, end, { idleOk: true });
    } finally {
      unsub();
      to.del();
    }
  }
  const took = (w.now - start) / 1e9;
  // Let the queues drain a little, so counters show where packets went.
  await waitFor(w, worldSleep(w, 10_000_000));
  io.stdout.write(
    `pktgen: ${r.offered} datagrams of ${size + 28} bytes to ${formatIp4(dst)} in ${took.toFixed(6)} s: ` +
      `${r.sent} sent, ${r.refused} refused${r.refused ? ` (last error ${r.lastError === 55 ? 'ENOBUFS' : r.lastError})` : ''}\n`,
  );
  return 0;
}

const ipv = new Ipv4Packet();

/** One UDP datagram (checksum 0: none, as IPv4 allows) through ip_output(). */
export function sendOne(k: Kernel, dst: number, size: number, sport: number, dport: number): number {
  const len = 20 + 8 + size;
  const m = k.mbufs.get(len);
  if (m === null) return 55;
  m.append(len);
  const b = m.buf;
  const o = m.off;
  b.fill(0, o, o + 28);
  const ip = ipv.wrap(b, o, len);
  ip.version = 4;
  ip.ihl = 5;
  ip.totalLength = len;
  ip.ttl = k.inet.ipdefttl.value;
  ip.protocol = IPPROTO_UDP;
  ip.dst = dst;
  put16(b, o + 20, sport);
  put16(b, o + 22, dport);
  put16(b, o + 24, 8 + size);
  return ip_output(k, m, 0, null);
}
