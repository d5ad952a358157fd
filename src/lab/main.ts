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
import { QueueInput, type Io, type Output } from '../lib/io.js';
import { Lab } from './lab.js';
import { TALK_LAB_YAML } from './default.js';
import { Shell } from './shell.js';
import { internalError } from '../lib/exit.js';
import { TopologyErrors } from './topology.js';

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

/** Take `--lab FILE` out of argv; `--lab` without a file is an error (not the default lab). */
function labOption(argv: readonly string[]): { lab: string | undefined; rest: string[] } | { error: string } {
  const rest: string[] = [];
  let lab: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--lab' || a === '--lab=') {
      const f = a === '--lab' ? argv[i + 1] : undefined;
      if (f === undefined || f === '' || f === '--') return { error: 'option --lab requires an argument: a topology file' };
      lab = f;
      i++;
    } else if (a.startsWith('--lab=')) lab = a.slice(6);
    else rest.push(a);
  }
  return { lab, rest };
}

/** labOption, or null after the error and the command's usage. */
function labArgs(argv: readonly string[], usage: string, io: Io): { lab: string | undefined; rest: string[] } | null {
  const o = labOption(argv);
  if ('error' in o) {
    io.stderr.write(`packetflow: ${o.error}\n${usage}`);
    return null;
  }
  return o;
}

/**
 * Run a script's text: every line echoed as `host# cmd`, then its output.
 * The status is sh's: the last command's, or exit's; a failing command
 * earlier does not stop the script (`cmd || exit 1` does, as in sh).
 */
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
    // Each command's output as it ends: a long script shows its progress.
    io.stdout.flush?.();
    io.stderr.flush?.();
    if (sh.exitRequested) break;
  }
  sh.stopJobs();
  return status;
}

export async function runCommand(argv: readonly string[], io: Io): Promise<number> {
  const RUN_USAGE = 'usage: packetflow run script [--lab file]\n';
  const o = labArgs(argv, RUN_USAGE, io);
  if (o === null) return 1;
  const { lab: file, rest } = o;
  const script = rest[0];
  if (script === undefined) {
    io.stderr.write(RUN_USAGE);
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
  const EXEC_USAGE = 'usage: packetflow exec [--lab file] host -- command [argument ...]\n';
  const o = labArgs(argv, EXEC_USAGE, io);
  if (o === null) return 1;
  const { lab: file, rest } = o;
  const dd = rest.indexOf('--');
  const host = rest[0];
  const cmd = dd >= 0 ? rest.slice(dd + 1) : rest.slice(1);
  if (host === undefined || host === '--' || cmd.length === 0) {
    io.stderr.write(EXEC_USAGE);
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
  const o = labArgs(argv, 'usage: packetflow lab [--lab file]\n', io);
  if (o === null) return 1;
  const { lab: file } = o;
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
  const o = labArgs(argv, 'usage: packetflow [shell] [--lab file]\n', io);
  if (o === null) return 1;
  const { lab: file } = o;
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
  const sh = new Shell(lab, { interactive: true });
  const w = lab.world;
  // The lab runs in real time while a person types: lab time follows the
  // wall clock, tools wait by awaiting the world's events (lib/wait.ts), so
  // output appears as it happens and background jobs run by themselves.
  const ownClock = w.mode !== 'realtime';
  if (ownClock) w.setMode('realtime');
  if (!w.isRunning) w.start();
  // An event that throws stops the world; say so and let the lab go on (the shell lives).
  const onerror = w.onerror;
  w.onerror ??= (e: unknown): void => {
    process.stderr.write(internalError('packetflow', e, 'lab event failed'));
    if (w.mode === 'realtime') w.start();
  };
  // What the terminal shows last: a prompt goes on a line of its own.
  let atLineStart: boolean;
  const term = (fd: NodeJS.WriteStream): Output => ({
    write: (s: string) => {
      if (s === '') return;
      fd.write(s);
      atLineStart = s.endsWith('\n');
    },
    // What a program received (nc): its bytes, so UTF-8 text shows as text.
    writeBytes: (b: Uint8Array, length: number) => {
      if (length === 0) return;
      fd.write(Buffer.from(b.subarray(0, length)));
      atLineStart = b[length - 1] === 10;
    },
  });
  const tout = term(process.stdout);
  const terr = term(process.stderr);
  sh.jobOutput = tout;
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
    // The terminal echoes ^C; the command's own output (ping's "\n--- ...") follows.
    if (busy) {
      tout.write('^C');
      sh.interrupt();
    } else {
      process.stdout.write('^C\n');
      rl.setPrompt(sh.prompt());
      rl.prompt();
    }
  });
  // Lines typed: shell commands, or a foreground program's standard input
  // while one reads the terminal (nc HOST PORT), Ctrl-D its end there.
  const queue: string[] = [];
  let closed = false;
  let more: (() => void) | null = null;
  let fgInput: QueueInput | null = null;
  sh.terminalInput = (): QueueInput => {
    fgInput = new QueueInput();
    rl.setPrompt('');
    return fgInput;
  };
  rl.on('line', (line: string) => {
    if (fgInput !== null) fgInput.push(new Uint8Array(Buffer.from(line + '\n', 'utf8')));
    else {
      queue.push(line);
      more?.();
    }
  });
  rl.on('close', () => {
    closed = true;
    more?.();
  });
  // readline ends itself on Ctrl-D at an empty line: for a program reading
  // the terminal that is the end of its input, and the shell goes on.
  const close = rl.close.bind(rl);
  rl.close = (): void => {
    if (fgInput !== null && !process.stdin.readableEnded) fgInput.end();
    else close();
  };
  rl.prompt();
  try {
    for (;;) {
      while (queue.length === 0 && !closed) await new Promise<void>((r) => (more = r));
      more = null;
      const line = queue.shift();
      if (line === undefined) break;
      busy = true;
      atLineStart = true;
      await sh.run(line, { stdout: tout, stderr: terr });
      busy = false;
      if (fgInput !== null) {
        (fgInput as QueueInput).end();
        fgInput = null;
      }
      if (sh.exitRequested) break;
      if (!atLineStart) tout.write('\n');
      rl.setPrompt(sh.prompt());
      rl.prompt();
    }
  } finally {
    sh.stopJobs();
    sh.terminalInput = null;
    close();
    w.onerror = onerror;
    if (ownClock) w.setMode('simulated');
  }
  // As sh: the last command's status, or exit's.
  return sh.status;
}
