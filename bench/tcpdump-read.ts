/**
 * bench/tcpdump-read: decode and print a capture of a million mixed packets
 * to /dev/null with `packetflow tcpdump -nr`, against Debian's `tcpdump -nr`
 * on the same file in the same run.  Prints both times and the ratio
 * (tcpdump's time / packetflow's: above 1.0 means packetflow is faster).
 *
 *   node dist/bench/tcpdump-read.js [PACKETS] [RUNS]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapReader, PcapWriter } from '../src/usr.sbin/tcpdump/pcap.js';
import { findRoot } from './root.js';

// (packetflow's tcpdump -r runs with V8's defaults: src/cli.ts)
const ROOT = findRoot();
const PACKETS = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 3);
const TCPDUMP = '/usr/bin/tcpdump';
const SOURCES = ['scapy-mixed.pcap', 'linux-netns.pcap'].map((n) => join(ROOT, 'test/fixtures/captures', n));

/** Repeats the fixture packets (ARP, TCP, UDP, ICMP, ICMPv6/ND, ESP, VLAN, fragments, broken ones) up to `count`. */
function makeCapture(path: string, count: number): void {
  const frames: Uint8Array[] = [];
  for (const src of SOURCES) {
    const r = PcapReader.open(src);
    while (r.next()) frames.push(r.buf.slice(r.off, r.off + r.caplen));
    r.close();
  }
  const w = PcapWriter.open(path, { linktype: 1, snaplen: 65535 });
  let sec = 1_700_000_000;
  let usec = 0;
  for (let i = 0; i < count; i++) {
    const f = frames[i % frames.length]!;
    w.writePacket(f, 0, f.length, sec, usec, f.length);
    usec += 7;
    if (usec >= 1_000_000) {
      usec -= 1_000_000;
      sec++;
    }
  }
  w.close();
  if (w.error !== null) throw new Error(w.error);
}

/** Best wall time of RUNS runs of a command with stdout to /dev/null, in seconds. */
function best(cmd: string, args: string[]): number {
  let min = Infinity;
  for (let i = 0; i < RUNS; i++) {
    const devnull = openSync('/dev/null', 'w');
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', devnull, 'ignore'], env: { ...process.env, TZ: 'UTC' } });
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    closeSync(devnull);
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
    min = Math.min(min, dt);
  }
  return min;
}

const dir = mkdtempSync(join(tmpdir(), 'pf-bench-'));
try {
  const file = join(dir, 'mixed.pcap');
  makeCapture(file, PACKETS);
  const ours = best(process.execPath, [join(ROOT, 'bin/packetflow.js'), 'tcpdump', '-nr', file]);
  console.log(`bench/tcpdump-read: ${PACKETS} packets, best of ${RUNS}`);
  console.log(`  packetflow tcpdump -nr: ${ours.toFixed(3)} s (${(PACKETS / ours / 1e6).toFixed(2)} Mpps)`);
  if (existsSync(TCPDUMP)) {
    const theirs = best(TCPDUMP, ['-nr', file]);
    console.log(`  Debian tcpdump -nr:     ${theirs.toFixed(3)} s (${(PACKETS / theirs / 1e6).toFixed(2)} Mpps)`);
    console.log(`  ratio (tcpdump / packetflow): ${(theirs / ours).toFixed(2)}  (target >= 1.0)`);
  } else {
    console.log('  Debian tcpdump not installed (apt-get install tcpdump): no baseline, no ratio');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
