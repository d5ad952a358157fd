/**
 * bench/interop: packetflow attached to the real Linux kernel, against the
 * kernel talking to itself over veth in the same run.
 *
 *   node dist/bench/interop.js [--quick]        (as root)
 *
 * Figures, each for VXLAN over loopback, TAP, and veth (the baseline):
 * - ping flood: echoes per second the kernel gets back (bounded: count and time);
 * - UDP frames per second the receiver takes in (small datagrams from a
 *   Python sender in the kernel's namespace; packetflow counts them in
 *   udps_ipackets, Linux in the interface's rx packets);
 * - kernel TCP through packetflow as a router (namespace A -> packetflow ->
 *   namespace B, nc), against A -> B over veth;
 * - kernel TCP into a packetflow receiver (nc -> packetflow socket): this
 *   needs packetflow's TCP and socket API and says so while they are missing.
 * Ratios are packetflow / veth.
 */
import { performance } from 'node:perf_hooks';
import { InteropLab, Netns, interopSkip, tapSkip, run, must, type KernelLink, type LinkKind } from '../test/interop/harness.js';

const QUICK = process.argv.includes('--quick');
const PINGS = QUICK ? 5000 : 20000;
const UDP_FRAMES = QUICK ? 100000 : 400000;
const TCP_BYTES = (QUICK ? 20 : 100) * 1024 * 1024;

const SENDER = `
import socket, sys, time
dst, n, lim = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b = b'x' * 18
t = time.time(); i = 0
while i < n and time.time() - t < lim:
    for _ in range(500):
        try:
            s.sendto(b, (dst, 9))
        except OSError:
            pass
    i += 500
print(i, time.time() - t)
`;

interface Figures {
  pingRate?: number;
  udpRate?: number;
  routedGbps?: number;
  tcpInGbps?: number;
  notes: string[];
}

async function pingFlood(ns: Netns, dst: string): Promise<number> {
  const r = await ns.run('ping', ['-f', '-q', '-c', String(PINGS), '-w', '20', dst], { timeoutMs: 30000 });
  const m = /(\d+) packets transmitted, (\d+) received.*time (\d+)ms/.exec(r.stdout);
  if (m === null) throw new Error(`ping -f: ${r.stdout}${r.stderr}`);
  return Number(m[2]) / (Number(m[3]) / 1000);
}

/** UDP frames per second taken in: sender in ns, `received()` read before and after. */
async function udpRate(ns: Netns, dst: string, received: () => Promise<number>): Promise<{ rate: number; sent: number; got: number }> {
  const r0 = await received();
  const t0 = performance.now();
  const out = await ns.must('/usr/bin/python3', ['-c', SENDER, dst, String(UDP_FRAMES), '10'], { timeoutMs: 20000 });
  await new Promise((r) => setTimeout(r, 200));
  const got = (await received()) - r0;
  const [sent, secs] = out.trim().split(' ').map(Number) as [number, number];
  void t0;
  return { rate: got / secs, sent, got };
}

async function tcpTransfer(from: Netns, to: Netns, toAddr: string, bytes: number): Promise<number> {
  const srv = to.spawn('sh', ['-c', `exec timeout 60 nc -l ${toAddr} 5201 > /dev/null`], 65000);
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  const r = await from.run('sh', ['-c', `head -c ${bytes} /dev/zero | timeout 60 nc -N ${toAddr} 5201`], { timeoutMs: 65000 });
  await srv.exited;
  const secs = (performance.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(`nc: ${r.stderr}`);
  return (bytes * 8) / secs / 1e9;
}

async function packetflowFigures(kind: LinkKind): Promise<Figures> {
  const f: Figures = { notes: [] };
  const lab = await InteropLab.create('bench');
  try {
    lab.k.sysctl.set('net.inet.ip.forwarding', 1);
    const a = await lab.addPeer({ kind, pfAddr: '192.0.2.1/24', nsAddr: '192.0.2.2/24', defaultRoute: true });
    const b = await lab.addPeer({ kind, pfAddr: '198.51.100.1/24', nsAddr: '198.51.100.2/24', defaultRoute: true });
    f.pingRate = await pingFlood(a.ns, a.pfAddr);
    const u = await udpRate(a.ns, a.pfAddr, () => Promise.resolve(lab.k.stats.udpstat.value('udps_ipackets')));
    f.udpRate = u.rate;
    if (u.got < u.sent) f.notes.push(`UDP: ${u.sent} sent, ${u.got} reached packetflow`);
    f.routedGbps = await tcpTransfer(a.ns, b.ns, b.nsAddr, TCP_BYTES);
    const tcp = await tcpInto(lab, a);
    if (typeof tcp === 'string') f.notes.push(tcp);
    else f.tcpInGbps = tcp;
  } finally {
    await lab.teardown();
  }
  return f;
}

/** Kernel nc -> a packetflow TCP receiver; a string says why it cannot run yet. */
async function tcpInto(lab: InteropLab, l: KernelLink): Promise<number | string> {
  const api = await loadSocketApi();
  if (typeof api === 'string') return api;
  const p = new api.Proc(lab.k);
  const s = p.socket(api.AF_INET, api.SOCK_STREAM);
  p.bind(s, { address: l.pfAddr, port: 5202 });
  p.listen(s, 8);
  const acc = p.accept(s);
  const sender = l.ns.run('sh', ['-c', `head -c ${TCP_BYTES} /dev/zero | timeout 60 nc -N ${l.pfAddr} 5202`], { timeoutMs: 65000 });
  const { fd } = await acc;
  const t0 = performance.now();
  let total = 0;
  for (;;) {
    const d = await p.recv(fd, 1 << 20);
    if (d.length === 0) break;
    total += d.length;
  }
  const secs = (performance.now() - t0) / 1000;
  p.close(fd);
  p.close(s);
  await sender;
  if (total !== TCP_BYTES) return `TCP into packetflow: received ${total} of ${TCP_BYTES} bytes`;
  return (total * 8) / secs / 1e9;
}

interface SocketApi {
  Proc: new (k: unknown) => {
    socket(d: number, t: number): number;
    bind(fd: number, a: { address: string; port: number }): void;
    listen(fd: number, backlog?: number): void;
    accept(fd: number): Promise<{ fd: number }>;
    recv(fd: number, len?: number): Promise<Uint8Array>;
    close(fd: number): void;
  };
  AF_INET: number;
  SOCK_STREAM: number;
}

async function loadSocketApi(): Promise<SocketApi | string> {
  const spec = '../src/lib/socket.js';
  try {
    const mod = (await import(spec)) as SocketApi;
    const tcp = await import('../src/sys/netinet/inet.js');
    void tcp;
    return mod;
  } catch (e) {
    return `TCP into packetflow: skipped, packetflow's socket API/TCP has not landed (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
  }
}

async function vethFigures(): Promise<Figures> {
  const f: Figures = { notes: [] };
  const a = await Netns.create();
  const b = await Netns.create();
  try {
    const va = `${a.name}v`.slice(-15);
    const vb = `${b.name}v`.slice(-15);
    await must('ip', ['link', 'add', va, 'netns', a.name, 'type', 'veth', 'peer', 'name', vb, 'netns', b.name]);
    await a.must('ip', ['addr', 'add', '203.0.113.1/24', 'dev', va]);
    await b.must('ip', ['addr', 'add', '203.0.113.2/24', 'dev', vb]);
    await a.must('ip', ['link', 'set', va, 'up']);
    await b.must('ip', ['link', 'set', vb, 'up']);
    await a.must('ping', ['-c', '1', '-W', '2', '203.0.113.2']);
    f.pingRate = await pingFlood(a, '203.0.113.2');
    const rx = async (): Promise<number> => {
      const out = await b.must('cat', [`/sys/class/net/${vb}/statistics/rx_packets`]);
      return Number(out.trim());
    };
    f.udpRate = (await udpRate(a, '203.0.113.2', rx)).rate;
    f.routedGbps = await tcpTransfer(a, b, '203.0.113.2', TCP_BYTES);
    f.tcpInGbps = f.routedGbps;
  } finally {
    await a.delete();
    await b.delete();
  }
  return f;
}

function fmt(v: number | undefined, unit: string, digits = 0): string {
  return v === undefined ? '-' : `${v.toFixed(digits)} ${unit}`;
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined ? '-' : (a / b).toFixed(3);
}

async function main(): Promise<void> {
  const why = interopSkip();
  if (why !== null) {
    console.log(`bench/interop: ${why}`);
    return;
  }
  const results: Array<[string, Figures]> = [];
  results.push(['vxlan', await packetflowFigures('vxlan')]);
  const tap = tapSkip();
  if (tap === null) results.push(['tap', await packetflowFigures('tap')]);
  else console.log(`bench/interop: ${tap}`);
  const veth = await vethFigures();
  console.log(`bench/interop: ping flood ${PINGS}, UDP ${UDP_FRAMES} frames of 18 bytes, TCP ${TCP_BYTES >> 20} MB (Linux ${(await run('uname', ['-r'])).stdout.trim()})`);
  console.log('                      ping flood      UDP in          TCP routed      TCP in');
  const row = (name: string, f: Figures): string =>
    `  ${name.padEnd(18)}  ${fmt(f.pingRate, 'echo/s').padEnd(14)}  ${fmt(f.udpRate, 'fr/s').padEnd(14)}  ${fmt(f.routedGbps, 'Gbit/s', 3).padEnd(14)}  ${fmt(f.tcpInGbps, 'Gbit/s', 3)}`;
  for (const [k, f] of results) console.log(row(`packetflow ${k}`, f));
  console.log(row('veth (kernel)', veth));
  for (const [k, f] of results) {
    console.log(`  ratio ${k}/veth       ${ratio(f.pingRate, veth.pingRate).padEnd(14)}  ${ratio(f.udpRate, veth.udpRate).padEnd(14)}  ${ratio(f.routedGbps, veth.routedGbps).padEnd(14)}  ${ratio(f.tcpInGbps, veth.tcpInGbps)}`);
  }
  for (const [k, f] of results) for (const n of f.notes) console.log(`  ${k}: ${n}`);
  console.log('  (TCP routed: kernel A -> packetflow router -> kernel B; for veth, A -> B directly)');
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
