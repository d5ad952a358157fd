/**
 * The commands of a lab machine: one table, name -> how to run it.  A
 * kernel tool (`(k, argv, io) => status`, as src/sbin, src/usr.bin and
 * src/usr.sbin export them) is registered with kernelTool(); commands that
 * need the lab (trace, pktgen, diff, sleep) get the whole context.
 *
 * To add a tool: one line in KERNEL_TOOLS below.
 */
import type { Io } from '../lib/io.js';
import type { Kernel } from '../sys/kern/kernel.js';
import { CounterBlock } from '../sys/kern/counters.js';
import { netstat } from '../usr.bin/netstat/main.js';
import { ifconfig } from '../sbin/ifconfig/ifconfig.js';
import { kstat } from '../usr.bin/kstat/kstat.js';
import { dmesg } from '../sbin/dmesg/dmesg.js';
import { route } from '../sbin/route/route.js';
import { arp } from '../usr.sbin/arp/arp.js';
import { pingAsync } from '../sbin/ping/ping.js';
import { sysctl } from '../sbin/sysctl/sysctl.js';
import { pfctlKernel } from '../sbin/pfctl/pfctl.js';
import { ping6Async } from '../sbin/ping6/ping6.js';
import { ndp } from '../usr.sbin/ndp/ndp.js';
import { nc } from '../usr.bin/nc/netcat.js';
import { tcpbenchProc } from '../usr.bin/tcpbench/tcpbench.js';
import { Completion, waitFor } from '../lib/wait.js';
import { ProgramJob } from './jobs.js';
import type { Lab, Machine } from './lab.js';
import type { Shell, Stdin } from './shell.js';

/** What a command runs against: the lab, the current machine, the shell (for its state). */
export interface CommandContext {
  readonly lab: Lab;
  readonly machine: Machine;
  readonly shell: Shell;
  /**
   * SIGINT of the foreground command: aborted when Ctrl-C is typed.  Null
   * where nothing can interrupt (scripts, piped input): tools that run
   * until interrupted on OpenBSD (ping without -c) then stop by themselves.
   */
  readonly signal: AbortSignal | null;
  /** Ctrl-C was typed (signal aborted). */
  interrupted(): boolean;
  /** Standard input: `<file`, `<\/dev/zero`, the previous command of a pipe or the terminal (null: none). */
  readonly stdin: Stdin;
  /** Credentials the command runs with (root; doas -u USER another). */
  readonly uid: number;
  readonly gid: number;
}

/** What a kernel tool may take besides its arguments: SIGINT (ping, ping6). */
export interface ToolOptions {
  signal?: AbortSignal | null;
  /** Run as a background job: wait for the world, never run it. */
  detached?: boolean;
}

export type KernelTool = (k: Kernel, argv: readonly string[], io: Io, opts?: ToolOptions) => number | Promise<number>;
export type LabCommand = (ctx: CommandContext, argv: readonly string[], io: Io) => number | Promise<number>;

export interface CommandEntry {
  summary: string;
  run: LabCommand;
  /** Argument words tab completion offers besides machines and interfaces. */
  words?: readonly string[];
}

export function kernelTool(tool: KernelTool): LabCommand {
  return (ctx, argv, io) => tool(ctx.machine.k, argv, io, { signal: ctx.signal });
}

/** OpenBSD's tools against the machine's kernel. */
export const KERNEL_TOOLS: Record<string, { summary: string; tool: KernelTool; words?: readonly string[] }> = {
  arp: { summary: 'address resolution display and control', tool: arp, words: ['-a', '-an', '-d'] },
  dmesg: { summary: 'kernel messages', tool: dmesg },
  ifconfig: { summary: 'configure network interface parameters', tool: ifconfig, words: ['-a', '-C', 'up', 'down', 'inet', 'alias', 'delete', 'description', 'mtu'] },
  kstat: { summary: 'kernel statistics (interface queues: kstat txq, kstat rxq)', tool: kstat, words: ['txq', 'rxq'] },
  ndp: { summary: 'IPv6 neighbor cache display and control', tool: ndp, words: ['-a', '-an', '-d'] },
  ping: { summary: 'send ICMP echo requests', tool: pingAsync, words: ['-c', '-s', '-t', '-D', '-v', '-q'] },
  ping6: { summary: 'send ICMPv6 echo requests', tool: ping6Async, words: ['-c', '-s'] },
  route: { summary: 'manually manipulate the routing tables', tool: route, words: ['add', 'delete', 'get', 'show', 'flush', '-n'] },
  sysctl: { summary: 'get or set kernel state', tool: sysctl, words: ['net.inet.ip.forwarding', 'net.inet.ip.ttl', 'net.inet.ip.redirect'] },
};

/**
 * Programs: processes on a machine that wait on sockets (nc, tcpbench).
 * In the foreground the command waits for the world until the program is
 * done (foreground()); with `&` it is a background job (jobs.ts) that runs
 * as the world does.  `pid` is the process id its sockets carry, for job
 * control.  `sigint`: the program handles SIGINT itself (ctx.signal, as
 * tcpbench prints its summary); others die of it, their sockets closed.
 */
export type Program = (ctx: CommandContext, argv: readonly string[], io: Io, pid: number) => Promise<number>;

export const PROGRAMS: Record<string, { summary: string; run: Program; words?: readonly string[]; pid: boolean; sigint?: boolean }> = {
  nc: {
    summary: 'arbitrary TCP and UDP connections and listens (nc -l 12345 &, nc HOST PORT <file)',
    run: (ctx, argv, io, pid) => nc(ctx.machine.k, argv, io, { pid, uid: ctx.uid, gid: ctx.gid, ...(ctx.stdin !== null ? { stdin: ctx.stdin } : {}) }),
    words: ['-l', '-u', '-v', '-z', '-N', '-n', '-k', '/dev/zero'],
    pid: true,
  },
  tcpbench: {
    summary: 'TCP benchmark: tcpbench -s (server), tcpbench [-t secs] HOST (client)',
    run: (ctx, argv, io) => tcpbenchProc(ctx.machine.k, argv, io, { signal: ctx.signal, uid: ctx.uid }),
    words: ['-s', '-t', '-n', '-r', '-B', '-S'],
    pid: false,
    sigint: true,
  },
};

/** Kernel tools that also run as background jobs (`ping -i 1 10.0.2.2 &`): they wait on timers, not on the shell. */
export const BACKGROUND_TOOLS: readonly string[] = ['ping', 'ping6'];

/** Exit status of a process SIGINT ended (128 + SIGINT), as sh(1) reports it. */
export const STATUS_SIGINT = 130;

/**
 * A program in the foreground: wait for the world (lib/wait.ts) until it
 * is done.  Ctrl-C ends it: a program that handles SIGINT winds up by
 * itself; another dies, and the kernel closes its sockets (ProgramJob.kill).
 */
async function foreground(ctx: CommandContext, name: string, p: (typeof PROGRAMS)[string], argv: readonly string[], io: Io): Promise<number> {
  const w = ctx.lab.world;
  const pid = ctx.shell.nextPid();
  let status = 0;
  let ended = false;
  let failure: { e: unknown } | null = null;
  const c = new Completion(w);
  const run = p.run(ctx, argv, io, pid);
  run.then(
    (st) => {
      ended = true;
      status = st;
      c.finish();
    },
    (e: unknown) => {
      ended = true;
      failure = { e };
      c.finish();
    },
  );
  const unsub = p.sigint ? () => undefined : c.abortOn(ctx.signal);
  let waited: boolean;
  try {
    waited = await waitFor(w, c, { idleOk: true });
  } finally {
    unsub();
  }
  if (!waited && !ended) {
    // A simulated lab where what it waits for never comes (a server in the
    // foreground of a script): it is killed, and the script goes on.
    new ProgramJob(ctx.machine.hostname, ctx.machine.k, name, pid, run).kill();
    io.stderr.write(`${name}: killed: ${w.idle ? 'nothing is left to happen in the lab' : 'still waiting after an hour of lab time'} (servers run in the background: ${name} ... &)\n`);
    return 1;
  }
  if (!ended) {
    // Died of SIGINT: what it held is closed, whatever it was waiting for.
    new ProgramJob(ctx.machine.hostname, ctx.machine.k, name, pid, run).kill();
    return STATUS_SIGINT;
  }
  if (failure !== null) throw (failure as { e: unknown }).e;
  return status;
}

/** Register a kernel tool another module exports (`(k, argv, io) => status`). */
export function registerKernelTool(name: string, summary: string, tool: KernelTool, words?: readonly string[]): void {
  KERNEL_TOOLS[name] = words === undefined ? { summary, tool } : { summary, tool, words };
}

/** netstat, with `--since MARK` (counters moved since `mark MARK`). */
function netstatCommand(ctx: CommandContext, argv: readonly string[], io: Io): number {
  const i = argv.indexOf('--since');
  if (i < 0) return netstat(ctx.machine.k, argv, io);
  const name = argv[i + 1];
  const snap = name === undefined ? undefined : ctx.shell.marks.get(`${ctx.machine.name}\0${name}`);
  if (snap === undefined) {
    io.stderr.write(`netstat: --since ${name ?? ''}: no such mark (set one with: mark NAME)\n`);
    return 1;
  }
  const rest = [...argv.slice(0, i), ...argv.slice(i + 2)];
  const k = ctx.machine.k;
  const delta = (b: { v: Float64Array } | undefined, key: string): { v: Float64Array } | undefined => {
    if (b === undefined) return undefined;
    const old = snap.get(key);
    const v = b.v.slice();
    if (old !== undefined) for (let j = 0; j < v.length; j++) v[j]! -= old[j] ?? 0;
    return { v };
  };
  return netstat(
    {
      counters: (p) => delta(k.stats.counters(p), p),
      ifIndexToName: (x) => k.ifnets[x]?.if_xname,
      extraCounters: (p) => {
        const b = p === 'ether' ? k.inet.etherstat : p === 'arp' ? k.inet.arp.stats : undefined;
        if (b === undefined) return undefined;
        const c = new CounterBlock(b.layout);
        c.v.set(delta(b, `x:${p}`)!.v);
        return c;
      },
    },
    rest,
    io,
  );
}

/** Snapshot of a machine's counters for `mark` / `netstat --since`. */
export function counterSnapshot(k: Kernel): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const b of k.stats.blocks()) m.set(b.proto, b.snapshot());
  m.set('x:ether', k.inet.etherstat.snapshot());
  m.set('x:arp', k.inet.arp.stats.snapshot());
  return m;
}

/** Commands that need more than a kernel; the shell adds its built-ins (trace, diff, sleep, ...). */
export function machineCommands(): Record<string, CommandEntry> {
  const t: Record<string, CommandEntry> = {};
  for (const [name, e] of Object.entries(KERNEL_TOOLS)) {
    t[name] = { summary: e.summary, run: kernelTool(e.tool), ...(e.words ? { words: e.words } : {}) };
  }
  for (const [name, p] of Object.entries(PROGRAMS)) {
    t[name] = {
      summary: p.summary,
      run: (ctx, argv, io) => foreground(ctx, name, p, argv, io),
      ...(p.words ? { words: p.words } : {}),
    };
  }
  t.netstat = { summary: 'show network status (-ss counters, -rn routes, -i interfaces; --since MARK)', run: netstatCommand, words: ['-s', '-ss', '-rn', '-i', '-I', '-p', '--since'] };
  t.pfctl = {
    summary: 'control pf: -sr rules, -ss states, -si counters, -f FILE loads, -e/-d, -nvf FILE checks',
    run: (ctx, argv, io) => pfctlKernel(ctx.machine.k, argv, io, { readFile: (n) => ctx.shell.readFile(ctx.machine, n) ?? null }),
    // Every -s modifier, as pfctl's show table has them (queue rules Anchors Sources states info Interfaces labels timeouts memory Tables osfp all).
    words: ['-nvf', '/etc/pf.conf', '-f', '-sq', '-sr', '-sA', '-sS', '-ss', '-si', '-sI', '-sl', '-st', '-sm', '-sT', '-so', '-sa', '-vsr', '-vss', '-e', '-d', '-F', '-k'],
  };
  return t;
}
