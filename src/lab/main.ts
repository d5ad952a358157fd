/**
 * The lab front ends of the `packetflow` command:
 *
 *   packetflow                       the default lab and a shell (stdin: a terminal or commands)
 *   packetflow shell [--lab FILE]    the same with a lab of your own
 *   packetflow run SCRIPT [--lab FILE]   a scenario: a transcript of each command and its output
 *   packetflow exec [--lab FILE] HOST -- CMD ARGS   one command on one machine
 *   packetflow lab [--lab FILE]      check a topology file and list its machines
 */
import { readFileSync } from 'node:fs';
import * as readline from 'node:readline';
import { performance } from 'node:perf_hooks';
import type { Io } from '../lib/io.js';
import { Lab } from './lab.js';
import { TALK_LAB_YAML } from './default.js';
import { Shell, TimedOutput } from './shell.js';
import { TopologyErrors } from './topology.js';
import { runWorld, sleep } from '../lib/socket.js';

/**
 * The lab of `--lab FILE`, or the embedded talk lab; errors (file:line:
 * what) go to io.stderr and give null.  A lab with tap/vxlan interfaces is
 * attached to the host and runs in real time: close() it when done.
 */
export async function loadLab(file: string | undefined, io: Io): Promise<Lab | null> {
  try {
    if (file === undefined) return Lab.fromYaml(TALK_LAB_YAML, 'talk.yaml');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      io.stderr.write(`packetflow: ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}\n`);
      return null;
    }
    return await Lab.load(text, file);
  } catch (e) {
    if (e instanceof TopologyErrors) {
      io.stderr.write(e.message + '\n');
      return null;
    }
    throw e;
  }
}

/** Take `--lab FILE` out of argv. */
function labOption(argv: readonly string[]): { lab: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let lab: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--lab' && i + 1 < argv.length) lab = argv[++i];
    else if (argv[i]!.startsWith('--lab=')) lab = argv[i]!.slice(6);
    else rest.push(argv[i]!);
  }
  return { lab, rest };
}

/** Run a script's text: every line echoed as `host# cmd`, then its output. */
export async function runScript(sh: Shell, text: string, io: Io): Promise<number> {
  sh.jobOutput = io.stdout;
  let status = 0;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) {
      // Comments are part of the transcript: they explain what follows.
      if (t.startsWith('#')) io.stdout.write(t + '\n');
      continue;
    }
    status = await sh.run(t, io);
    if (sh.exitRequested) break;
  }
  sh.stopJobs();
  return status;
}

export async function runCommand(argv: readonly string[], io: Io): Promise<number> {
  const { lab: file, rest } = labOption(argv);
  const script = rest[0];
  if (script === undefined) {
    io.stderr.write('usage: packetflow run script [--lab file]\n');
    return 1;
  }
  let text: string;
  try {
    text = script === '-' ? readFileSync(0, 'utf8') : readFileSync(script, 'utf8');
  } catch {
    io.stderr.write(`packetflow: ${script}: No such file or directory\n`);
    return 1;
  }
  // A script may name its lab on a first-line comment: `#!lab path/to/lab.yaml`.
  const m = /^#!lab\s+(\S+)/.exec(text);
  const lab = await loadLab(file ?? (m ? new URL(m[1]!, `file://${process.cwd()}/${script}`).pathname : undefined), io);
  if (lab === null) return 1;
  const sh = new Shell(lab, { echo: true });
  try {
    return await runScript(sh, text, io);
  } finally {
    await lab.close();
  }
}

export async function execCommand(argv: readonly string[], io: Io): Promise<number> {
  const { lab: file, rest } = labOption(argv);
  const dd = rest.indexOf('--');
  const host = rest[0];
  const cmd = dd >= 0 ? rest.slice(dd + 1) : rest.slice(1);
  if (host === undefined || host === '--' || cmd.length === 0) {
    io.stderr.write('usage: packetflow exec [--lab file] host -- command [argument ...]\n');
    return 1;
  }
  const lab = await loadLab(file, io);
  if (lab === null) return 1;
  try {
    const m = lab.machine(host);
    if (m === undefined) {
      io.stderr.write(`packetflow: ${host}: no such machine (machines: ${[...lab.machines.keys()].join(', ')})\n`);
      return 1;
    }
    const sh = new Shell(lab);
    return await sh.runCommand(m, cmd, io);
  } finally {
    await lab.close();
  }
}

export async function labCommand(argv: readonly string[], io: Io): Promise<number> {
  const { lab: file } = labOption(argv);
  const lab = await loadLab(file, io);
  if (lab === null) return 1;
  try {
    return await new Shell(lab).run('machines', io);
  } finally {
    await lab.close();
  }
}

/**
 * The shell on standard input: a prompt, history and completion on a
 * terminal; otherwise every line is a command, echoed with its prompt.
 */
export async function shellCommand(argv: readonly string[], io: Io, flush: () => void): Promise<number> {
  const { lab: file } = labOption(argv);
  const lab = await loadLab(file, io);
  if (lab === null) return 1;
  try {
    if (!process.stdin.isTTY) {
      const text = readFileSync(0, 'utf8');
      const sh = new Shell(lab, { echo: true });
      return await runScript(sh, text, io);
    }
    return await interactive(lab, io, flush);
  } finally {
    await lab.close();
  }
}

async function interactive(lab: Lab, io: Io, flush: () => void): Promise<number> {
  let sigint = false;
  const sh = new Shell(lab, { interrupted: () => sigint });
  const w = lab.world;
  // Virtual time follows the wall clock between commands (see shell.ts).
  const wall0 = performance.now();
  const virt0 = w.now;
  const wallVirt = (): number => virt0 + Math.floor((performance.now() - wall0) * 1e6);
  // Background programs (nc -l &) run as their sockets wake them, so time advances through runWorld.
  let pumping = false;
  const catchUp = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      const t = wallVirt();
      if (t > w.now) await runWorld(w, sleep(w, t - w.now));
    } finally {
      pumping = false;
    }
  };
  const term = { write: (s: string) => process.stdout.write(s) };
  sh.jobOutput = term;
  const pump = setInterval(() => {
    if (!busy) void catchUp();
  }, 50);
  let busy = false;
  io.stdout.write(`packetflow: lab ${lab.spec.name} (${[...lab.machines.keys()].join(', ')}); type help, or: trace ping -c 1 10.0.2.2\n`);
  flush();
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    completer: (line: string) => sh.complete(line),
    historySize: 1000,
    prompt: sh.prompt(),
  });
  rl.on('SIGINT', () => {
    if (busy) sigint = true;
    else {
      process.stdout.write('^C\n');
      rl.setPrompt(sh.prompt());
      rl.prompt();
    }
  });
  rl.prompt();
  for await (const line of rl) {
    busy = true;
    sigint = false;
    while (pumping) await new Promise((r) => setImmediate(r));
    await catchUp();
    const out = new TimedOutput(() => w.now);
    const err = new TimedOutput(() => w.now);
    const start = w.now;
    const wallStart = performance.now();
    await sh.run(line, { stdout: out, stderr: err });
    // Replay the output at the pace of lab time (ping prints a line a second).
    const parts = [...out.parts.map((p) => ({ ...p, fd: 1 })), ...err.parts.map((p) => ({ ...p, fd: 2 }))].sort((a, b) => a.t - b.t);
    for (const p of parts) {
      const due = wallStart + (p.t - start) / 1e6;
      while (!sigint && performance.now() < due) await new Promise((r) => setTimeout(r, Math.min(50, due - performance.now())));
      if (sigint) {
        process.stdout.write('^C\n');
        break;
      }
      (p.fd === 1 ? process.stdout : process.stderr).write(p.s);
    }
    busy = false;
    if (sh.exitRequested) break;
    rl.setPrompt(sh.prompt());
    rl.prompt();
  }
  clearInterval(pump);
  sh.stopJobs();
  rl.close();
  return 0;
}
