/**
 * The lab shell: `router# netstat -ss`.  One line is parsed like a small
 * sh: words with '...' and "..." quoting, `;` between commands, `|` into
 * the built-in filters (grep, head, tail, wc), `>`/`>>`/`2>` into the
 * current machine's files (an in-memory file system per machine, so
 * `netstat -ss >before` ... `diff -up before after` works as on the
 * Netstat Diff slide), `<file` (and `</dev/zero`) as a program's standard
 * input, and a trailing `&` for background jobs: a live tcpdump that keeps
 * printing while later commands run, or a program (`nc -l 12345 &`,
 * `tcpbench -s &`) with job control (`jobs`, `kill %1`, `kill -STOP %1`).
 *
 * `on HOST [CMD]` or `HOST: [CMD]` runs CMD on HOST, or switches to it.
 *
 * Time: every waiting command waits for the lab one way (lib/wait.ts).
 * In scripts (and piped input) the lab runs in virtual time: a command
 * runs the world as far as it needs (ping waits for its replies), `sleep N`
 * advances it N seconds, letting background programs run; the same input
 * gives the same transcript.  The interactive front end (main.ts) makes
 * the world realtime, so lab time follows the wall clock and a command's
 * output appears as it happens (`ping` prints a reply a second), and
 * Ctrl-C is the foreground command's SIGINT (interrupt()): ping prints its
 * statistics, tcpdump what bpf received, a program dies.
 */
import type { InputStream, Io, Output } from '../lib/io.js';
import { StringOutput, binaryString } from '../lib/io.js';
import { getopt } from '../lib/getopt.js';
import { internalError } from '../lib/exit.js';
import type { Lab, Machine } from './lab.js';
import { BACKGROUND_TOOLS, KERNEL_TOOLS, PROGRAMS, machineCommands, counterSnapshot, type CommandContext, type CommandEntry } from './commands.js';
import { LabTracer, journeyData, renderJourneys, renderPaths } from './journey.js';
import { diffCommand } from './diff.js';
import { pktgen } from './pktgen.js';
import { tcpdumpLive, type LiveCapture } from './tcpdump-live.js';
import { tcpdump } from '../usr.sbin/tcpdump/tcpdump.js';
import { exportCommand, importCommand, machineTcpdumpFiles } from './files.js';
import { explainCommand } from './explain.js';
import { cableCommand, cableLine, softnetCommand } from './settings.js';
import { ProgramJob } from './jobs.js';
import { parseDoas } from './doas.js';
import { grep, type TextFiles } from '../usr.bin/grep/grep.js';
import { wc } from '../usr.bin/wc/wc.js';
import { sort } from '../usr.bin/sort/sort.js';
import { waitFor, worldSleep } from '../lib/wait.js';

export interface Stage {
  argv: string[];
  /** > file, >> file (append), 2> file */
  out?: { file: string; append: boolean };
  err?: { file: string; append: boolean };
  /** < file */
  in?: string;
}

/** A command's standard input: a file's text, bytes (/dev/zero), a terminal, or none. */
export type Stdin = string | Uint8Array | InputStream | null;

export interface Pipeline {
  stages: Stage[];
  background: boolean;
  /** Run only if the pipeline before succeeded (`&&`) or failed (`||`). */
  after?: '&&' | '||';
}

export class ParseError extends Error {}

/** Split a line into pipelines: words, quotes, `;`, `&&`, `||`, `|`, `>`, `>>`, `2>`, `&`, `#` comments. */
export function parseLine(line: string): Pipeline[] {
  const pipelines: Pipeline[] = [];
  let stages: Stage[] = [];
  let argv: string[] = [];
  let stage: Stage = { argv };
  let word: string | null = null;
  let redir: { kind: 'out' | 'err' | 'in'; append: boolean } | null = null;
  const endWord = (): void => {
    if (word === null) return;
    if (redir !== null) {
      if (redir.kind === 'in') stage.in = word;
      else stage[redir.kind] = { file: word, append: redir.append };
      redir = null;
    } else argv.push(word);
    word = null;
  };
  const endStage = (): void => {
    endWord();
    if (redir !== null) throw new ParseError('syntax error: redirection without a file name');
    if (argv.length === 0 && (stage.out || stage.err || stage.in !== undefined)) throw new ParseError('syntax error: redirection without a command');
    if (argv.length > 0) stages.push(stage);
    argv = [];
    stage = { argv };
  };
  // The && or || that joins the next pipeline to the one before.
  let andOr: '&&' | '||' | null = null;
  const endPipeline = (background: boolean): void => {
    const n = stages.length;
    endStage();
    if (stages.length === n && n > 0 && !background) throw new ParseError('syntax error: | without a command after it');
    if (andOr !== null && stages.length === 0) throw new ParseError(`syntax error: ${andOr} without a command after it`);
    // sh would run the whole list in the background: jobs here are single programs.
    if (andOr !== null && background) throw new ParseError(`syntax error: & after a list with ${andOr} (only a single command runs in the background)`);
    if (stages.length > 0) pipelines.push(andOr === null ? { stages, background } : { stages, background, after: andOr });
    stages = [];
    andOr = null;
  };
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === "'") {
      const j = line.indexOf(c, i + 1);
      if (j < 0) throw new ParseError(`syntax error: unterminated ${c}`);
      word = (word ?? '') + line.slice(i + 1, j);
      i = j + 1;
    } else if (c === '"') {
      // Inside "...", a backslash quotes only \ " $ and ` (as sh does); others stay.
      let j = i + 1;
      let w = '';
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < line.length && '\\"$`'.includes(line[j + 1]!)) j++;
        w += line[j];
      }
      if (j >= line.length) throw new ParseError(`syntax error: unterminated ${c}`);
      word = (word ?? '') + w;
      i = j + 1;
    } else if (c === '\\' && i + 1 < line.length) {
      word = (word ?? '') + line[i + 1];
      i += 2;
    } else if (c === ' ' || c === '\t') {
      endWord();
      i++;
    } else if (c === '#' && word === null) {
      break;
    } else if (c === ';') {
      endWord();
      if (line[i + 1] === ';') throw new ParseError('syntax error: ;; unexpected');
      if (andOr === null && stages.length === 0 && argv.length === 0) throw new ParseError('syntax error: ; without a command before it');
      endPipeline(false);
      i++;
    } else if ((c === '&' || c === '|') && line[i + 1] === c) {
      const op = c === '&' ? '&&' : '||';
      endWord();
      if (stages.length === 0 && argv.length === 0) throw new ParseError(`syntax error: ${op} without a command before it`);
      endPipeline(false);
      andOr = op;
      i += 2;
    } else if (c === '&') {
      endPipeline(true);
      i++;
    } else if (c === '|') {
      if (argv.length === 0 && word === null) throw new ParseError('syntax error: | without a command before it');
      endStage();
      i++;
    } else if (c === '<') {
      endWord();
      redir = { kind: 'in', append: false };
      i++;
    } else if (c === '>' || (c === '2' && word === null && line[i + 1] === '>')) {
      endWord();
      const kind = c === '2' ? 'err' : 'out';
      i += c === '2' ? 2 : 1;
      let append = false;
      if (line[i] === '>') {
        append = true;
        i++;
      }
      redir = { kind, append };
    } else {
      word = (word ?? '') + c;
      i++;
    }
  }
  endPipeline(false);
  return pipelines;
}

export interface ShellOptions {
  /** Print `host# command` before each command's output (scripts, piped input). */
  echo?: boolean;
  /**
   * Commands can be interrupted (the interactive front end calls
   * interrupt() on Ctrl-C): they get a signal, and tools that run until
   * SIGINT on OpenBSD (ping without -c, tcpdump, tcpbench) do so.
   */
  interactive?: boolean;
}

type Builtin = (sh: Shell, ctx: CommandContext, argv: readonly string[], io: Io, stdin: string | null) => number | Promise<number>;

export class Shell {
  current: Machine;
  readonly history: string[] = [];
  readonly marks = new Map<string, Map<string, Float64Array>>();
  readonly jobs: Array<LiveCapture | ProgramJob | null> = [];
  /** Process ids of programs (so_cpid of their sockets). */
  private pid = 100;
  readonly commands: Record<string, CommandEntry>;
  /** Where background jobs write (the shell's own stdout). */
  jobOutput: Output | null = null;
  /**
   * The terminal as a foreground program's standard input (interactive
   * front end): called when one starts without `<file`; null elsewhere
   * (scripts, piped input: its standard input is empty).
   */
  terminalInput: (() => InputStream) | null = null;
  exitRequested = false;
  /** The status of the last command run ($? of sh): what `exit` without a number and the shell itself exit with. */
  status = 0;
  /** SIGINT of the line being run (interactive shells). */
  private fg: AbortController | null = null;
  readonly builtins: Record<string, { summary: string; run: Builtin }>;

  constructor(
    readonly lab: Lab,
    readonly opts: ShellOptions = {},
  ) {
    const first = lab.machines.values().next().value;
    if (first === undefined) throw new Error('lab has no machines');
    this.current = first;
    this.commands = machineCommands();
    this.builtins = BUILTINS;
  }

  nextPid(): number {
    return ++this.pid;
  }

  prompt(): string {
    return `${this.current.hostname}# `;
  }

  /** Command names, for help and completion. */
  commandNames(): string[] {
    return [...Object.keys(this.commands), ...Object.keys(this.builtins)].sort();
  }

  /** Tab completion: candidates for the last word of `line`. */
  complete(line: string): [string[], string] {
    const m = /(\S*)$/.exec(line)!;
    const last = m[1]!;
    const before = line.slice(0, line.length - last.length).trim();
    const words = before.split(/\s+/).filter((w) => w !== '');
    const machines = [...this.lab.machines.values()].map((x) => x.name);
    let cands: string[];
    if (words.length === 0 || (words.length === 1 && words[0]!.endsWith(':')) || (words.length === 2 && words[0] === 'on') || words[words.length - 1] === 'trace') {
      cands = [...this.commandNames(), ...machines.map((x) => `${x}:`)];
      if (words.length === 0) cands.push('on');
    } else if (words[0] === 'on' && words.length === 1) {
      cands = machines;
    } else {
      let host = this.current;
      if (words[0] === 'on' && words[1]) host = this.lab.machine(words[1]) ?? host;
      else if (words[0]!.endsWith(':')) host = this.lab.machine(words[0]!.slice(0, -1)) ?? host;
      const cmd = words.find((w) => this.commands[w] !== undefined || this.builtins[w] !== undefined);
      const prev = words[words.length - 1]!;
      // After an option that takes an interface (tcpdump -ni, netstat -I, pfctl -i): interfaces only.
      const ifopt = cmd === undefined ? undefined : IFACE_OPTIONS[cmd];
      if (ifopt !== undefined && /^-[A-Za-z]+$/.test(prev) && ifopt.includes(prev[prev.length - 1]!)) cands = host.interfaces();
      else cands = [...host.interfaces(), ...machines, ...(cmd ? this.commands[cmd]?.words ?? [] : []), ...host.files.keys()];
    }
    return [cands.filter((c) => c.startsWith(last)).sort(), last];
  }

  /** Run one input line; returns the status of the last command. */
  async run(line: string, io: Io): Promise<number> {
    const trimmed = line.trim();
    if (trimmed === '') return 0;
    this.history.push(trimmed);
    let pipelines: Pipeline[];
    try {
      pipelines = parseLine(trimmed);
    } catch (e) {
      io.stderr.write(`packetflow: ${(e as Error).message}\n`);
      this.status = 2;
      return 2;
    }
    // A realtime world's clock is brought up to the wall clock (date, counters).
    if (this.lab.world.isRunning) this.lab.world.syncNow();
    const fg = this.opts.interactive ? new AbortController() : null;
    this.fg = fg;
    let status = 0;
    try {
      for (const p of pipelines) {
        // a && b runs b when a succeeded, a || b when it failed; the status stays a's when b is skipped.
        if ((p.after === '&&' && status !== 0) || (p.after === '||' && status === 0)) continue;
        status = await this.runPipeline(p, io, fg?.signal ?? null);
        this.status = status;
        if (this.exitRequested) break;
        // Ctrl-C ends the whole line, as in sh.
        if (fg?.signal.aborted) break;
      }
    } finally {
      this.fg = null;
    }
    return status;
  }

  /** Ctrl-C: SIGINT to the command running now; false when none is. */
  interrupt(): boolean {
    if (this.fg === null) return false;
    this.fg.abort();
    return true;
  }

  private async runPipeline(p: Pipeline, io: Io, signal: AbortSignal | null): Promise<number> {
    let machine = this.current;
    const first = p.stages[0]!;
    let argv = first.argv;
    // on HOST [cmd] / HOST: [cmd]
    if (argv[0] === 'on' || argv[0]!.endsWith(':')) {
      const name = argv[0] === 'on' ? argv[1] : argv[0]!.slice(0, -1);
      const m = name === undefined ? undefined : this.lab.machine(name);
      if (m === undefined) {
        io.stderr.write(name === undefined ? 'usage: on host [command ...]\n' : `packetflow: ${name}: no such machine (machines: ${[...this.lab.machines.keys()].join(', ')})\n`);
        return 1;
      }
      argv = argv.slice(argv[0] === 'on' ? 2 : 1);
      if (argv.length === 0 && p.stages.length === 1) {
        this.current = m;
        return 0;
      }
      machine = m;
    }
    if (argv.length === 0) {
      io.stderr.write('packetflow: syntax error: no command\n');
      return 2;
    }
    const stages = [{ ...first, argv }, ...p.stages.slice(1)];
    if (this.opts.echo) io.stdout.write(`${machine.hostname}# ${stages.map(stageText).join(' | ')}${p.background ? ' &' : ''}\n`);
    // Redirections are opened before anything runs: one that cannot be is the pipeline's failure.
    for (const s of stages) {
      for (const r of [s.out, s.err]) {
        const why = r === undefined ? null : this.cannotCreate(machine, r.file);
        if (why !== null) {
          io.stderr.write(`packetflow: ${why}\n`);
          return 1;
        }
      }
    }
    if (p.background) return this.background(machine, stages, io);
    let input: Stdin = null;
    let status = 0;
    for (let i = 0; i < stages.length; i++) {
      const s = stages[i]!;
      const last = i === stages.length - 1;
      const out = last && s.out === undefined ? io.stdout : new StringOutput();
      const err = s.err !== undefined ? new StringOutput() : io.stderr;
      if (s.in !== undefined) {
        input = this.stdinOf(machine, s.in, io);
        if (input === null) return 1;
      } else if (i === 0 && this.terminalInput !== null && PROGRAMS[doasTarget(s.argv)] !== undefined) {
        // A program in the foreground reads the terminal: typed lines, Ctrl-D its end.
        input = this.terminalInput();
      }
      status = await this.runCommand(machine, s.argv, { stdout: out, stderr: err }, input, signal);
      if (s.out !== undefined) this.writeFile(machine, s.out.file, (out as StringOutput).text(), s.out.append);
      if (s.err !== undefined) this.writeFile(machine, s.err.file, (err as StringOutput).text(), s.err.append);
      input = !last && s.out === undefined ? (out as StringOutput).text() : '';
    }
    return status;
  }

  /**
   * Why `>file` cannot be opened on m, as sh says it (`cannot create /: Is
   * a directory`), or null: a directory is / or a path ending in /, . and
   * .., or a path other files are under (/etc of /etc/pf.conf).
   */
  cannotCreate(m: Machine, file: string): string | null {
    const name = normPath(file);
    if (name === '/dev/null') return null;
    if (name === '') return `cannot create ${file}: No such file or directory`;
    const dir = name === '/' || name.endsWith('/') || name === '.' || name === '..' || /\/\.\.?$/.test(name);
    if (dir || [...m.files.keys()].some((f) => f.startsWith(name + '/'))) return `cannot create ${file}: Is a directory`;
    return null;
  }

  writeFile(m: Machine, file: string, text: string, append: boolean): void {
    const name = normPath(file);
    if (name === '/dev/null') return;
    m.files.set(name, append ? (m.files.get(name) ?? '') + text : text);
  }

  readFile(m: Machine, file: string): string | undefined {
    const name = normPath(file);
    // /dev/null reads empty, as on any machine.
    return name === '/dev/null' ? '' : m.files.get(name);
  }

  /** A text tool's input (grep, wc, sort): standard input, or m's files. */
  textFiles(m: Machine, stdin: string | null): TextFiles {
    return { stdin, read: (f) => this.readFile(m, f) };
  }

  /** `<file`: a machine file, or /dev/zero (DEV_ZERO_BYTES of zeros); null after saying why not. */
  stdinOf(m: Machine, file: string, io: Io): string | Uint8Array | null {
    if (file === '/dev/zero') return devZero();
    if (file === '/dev/null') return '';
    const t = this.readFile(m, file);
    if (t === undefined) io.stderr.write(`packetflow: ${file}: No such file or directory\n`);
    return t ?? null;
  }

  /** What a command runs with; signal: its SIGINT (null: nothing can interrupt it); uid: its user (doas -u). */
  context(machine: Machine, stdin: Stdin = null, signal: AbortSignal | null = null, uid = 0, gid = 0): CommandContext {
    return { lab: this.lab, machine, shell: this, signal, interrupted: () => signal?.aborted ?? false, stdin, uid, gid };
  }

  async runCommand(machine: Machine, argv: readonly string[], io: Io, stdin: Stdin = null, signal: AbortSignal | null = null, uid = 0, gid = 0): Promise<number> {
    const name = argv[0]!;
    const ctx = this.context(machine, stdin, signal, uid, gid);
    const b = this.builtins[name];
    try {
      if (b !== undefined) return await b.run(this, ctx, argv.slice(1), io, typeof stdin === 'string' || stdin === null ? stdin : stdin instanceof Uint8Array ? binaryString(stdin) : null);
      const c = this.commands[name];
      if (c !== undefined) return await c.run(ctx, argv.slice(1), io);
    } catch (e) {
      io.stderr.write(internalError(name, e));
      return 70;
    }
    io.stderr.write(`packetflow: ${name}: command not found (type help)\n`);
    return 127;
  }

  private background(machine: Machine, stages: Stage[], io: Io): number {
    const st = stages[0]!;
    let argv = st.argv;
    // doas -u USER PROGRAM &: the program runs in the background as USER.
    let cred = { uid: 0, gid: 0 };
    if (argv[0] === 'doas' && stages.length === 1) {
      const d = parseDoas(machine, argv.slice(1), io);
      if (d === null) return 1;
      cred = d;
      argv = d.argv;
    }
    const name = argv[0]!;
    const prog = PROGRAMS[name];
    const tool = BACKGROUND_TOOLS.includes(name) ? KERNEL_TOOLS[name] : undefined;
    if ((name !== 'tcpdump' && prog === undefined && tool === undefined) || stages.length > 1) {
      io.stderr.write(`packetflow: only tcpdump, ${BACKGROUND_TOOLS.join(', ')} and programs (${Object.keys(PROGRAMS).join(', ')}) run in the background\n`);
      return 1;
    }
    const out = this.jobOutput ?? io.stdout;
    if (prog !== undefined || tool !== undefined) {
      const stdin = st.in === undefined ? null : this.stdinOf(machine, st.in, io);
      if (st.in !== undefined && stdin === null) return 1;
      let muted = false;
      // A job writes into its files as it goes; ">/dev/null" drops its output.
      const fileOut = (r: { file: string; append: boolean } | undefined, dflt: Output): Output => {
        if (r === undefined) {
          return {
            write: (s: string) => {
              if (!muted) dflt.write(s);
            },
          };
        }
        if (!r.append) this.writeFile(machine, r.file, '', false);
        return {
          write: (s: string) => {
            if (!muted) this.writeFile(machine, r.file, s, true);
          },
        };
      };
      const jio = { stdout: fileOut(st.out, out), stderr: fileOut(st.err, out) };
      const pid = prog?.pid ? this.nextPid() : 0;
      const text = `${stageText(st)}`;
      const sigint = new AbortController();
      const ctx = this.context(machine, stdin, sigint.signal, cred.uid, cred.gid);
      const run = prog !== undefined
        ? prog.run(ctx, argv.slice(1), jio, pid)
        : Promise.resolve(tool!.tool(machine.k, argv.slice(1), jio, { signal: sigint.signal, detached: true }));
      const silence = (): void => {
        muted = true;
      };
      const signals = { sigint, catchesSigint: prog === undefined || prog.sigint === true, silence };
      const job = new ProgramJob(machine.hostname, machine.k, text, pid, run, signals);
      this.addJob(job);
      io.stdout.write(`[${this.jobs.length}] ${pid !== 0 ? `${pid} ` : ''}${text} on ${machine.hostname}\n`);
      return 0;
    }
    const job = tcpdumpLive(this.context(machine), argv.slice(1), { stdout: out, stderr: io.stderr }, true);
    if (job === null) return 1;
    this.addJob(job);
    io.stdout.write(`[${this.jobs.length}] tcpdump on ${machine.hostname}:${job.ifname}\n`);
    return 0;
  }

  /** A new job takes the number after the highest one still known, as sh(1) numbers them. */
  private addJob(job: LiveCapture | ProgramJob): void {
    while (this.jobs.length > 0 && this.jobs[this.jobs.length - 1] === null) this.jobs.pop();
    this.jobs.push(job);
  }

  /** Stop every background capture and forget every job (end of a script). */
  stopJobs(): void {
    for (let i = 0; i < this.jobs.length; i++) {
      const j = this.jobs[i];
      if (j !== null && j !== undefined && !(j instanceof ProgramJob)) j.stop();
      this.jobs[i] = null;
    }
  }

  /**
   * Let ns of lab time pass, running background programs as their sockets
   * wake them (in real time: ns of wall time); a signal ends it early.
   */
  async advance(ns: number, signal: AbortSignal | null = null): Promise<void> {
    const w = this.lab.world;
    const c = worldSleep(w, ns);
    const unsub = c.abortOn(signal);
    try {
      // The sleep is the limit: the world runs exactly as far as it asked.
      await waitFor(w, c, { limitNs: ns + 1 });
    } finally {
      unsub();
    }
  }

  help(): string {
    const rows: Array<[string, string]> = [];
    for (const n of this.commandNames()) rows.push([n, this.builtins[n]?.summary ?? this.commands[n]!.summary]);
    const w = Math.max(...rows.map((r) => r[0].length));
    const ms = [...this.lab.machines.values()].map((m) => `${m.name} (${m.spec.nics.map((n) => n.name).join(' ')})`);
    return [
      `lab ${this.lab.spec.name}: ${ms.join(', ')}`,
      '',
      ...rows.map(([n, s]) => `  ${n.padEnd(w)}  ${s}`),
      '',
      '  on HOST [CMD], HOST: [CMD]   run CMD on HOST, or switch to it',
      '  CMD >file, >>file, 2>file   write to the machine\'s files;  CMD | grep RE   filter',
      '  example: trace ping -c 1 10.0.2.2',
      '',
    ].join('\n');
  }
}

/** The options whose argument is an interface, per command (completion offers interfaces only after them). */
const IFACE_OPTIONS: Record<string, string> = { tcpdump: 'i', netstat: 'I', pfctl: 'i' };

/** What `</dev/zero` gives a program: zeros enough to keep any lab link busy for a while. */
export const DEV_ZERO_BYTES = 64 * 1024 * 1024;
let zeros: Uint8Array | null = null;
function devZero(): Uint8Array {
  zeros ??= new Uint8Array(DEV_ZERO_BYTES);
  return zeros;
}

/** The command `doas [options] CMD ...` runs (CMD), or argv's own. */
function doasTarget(argv: readonly string[]): string {
  if (argv[0] !== 'doas') return argv[0]!;
  let i = 1;
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--') i += /^-[A-Za-z]*[uaC]$/.test(argv[i]!) ? 2 : 1;
  if (argv[i] === '--') i++;
  return argv[i] ?? '';
}

function stageText(s: Stage): string {
  let t = s.argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ');
  if (s.out) t += ` ${s.out.append ? '>>' : '>'}${s.out.file}`;
  if (s.err) t += ` 2${s.err.append ? '>>' : '>'}${s.err.file}`;
  if (s.in !== undefined) t += ` <${s.in}`;
  return t;
}

function normPath(f: string): string {
  return f.replace(/^\.\//, '');
}

/** exit [N]: leave with status N (0-255, as sh keeps its low byte), or with the last command's. */
function exitBuiltin(sh: Shell, argv: readonly string[], io: Io): number {
  if (argv.length > 1) {
    io.stderr.write('packetflow: exit: too many arguments\n');
    return 2;
  }
  if (argv.length === 1 && !/^[0-9]+$/.test(argv[0]!)) {
    io.stderr.write(`packetflow: exit: ${argv[0]}: bad number\n`);
    return 2;
  }
  sh.exitRequested = true;
  return argv.length === 1 ? Number(BigInt(argv[0]!) & 255n) : sh.status;
}

/**
 * The longest sleep: lab time is whole nanoseconds in a double, exact up
 * to 2^53 ns (104 days); a sleep must end where time is still exact.
 */
const SLEEP_MAX_NS = Number.MAX_SAFE_INTEGER;

/** Seconds as `sleep` takes them: 5, 0.5, 100ms, 2s. */
function parseSeconds(s: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/.exec(s);
  if (!m) return null;
  return Number(m[1]) * (m[2] === 'ms' ? 1e-3 : m[2] === 'm' ? 60 : 1);
}

const BUILTINS: Record<string, { summary: string; run: Builtin }> = {
  help: { summary: 'this list', run: (sh, _c, _a, io) => (io.stdout.write(sh.help()), 0) },
  machines: {
    summary: 'the lab\'s machines, their interfaces and addresses (IPv4, IPv6), and cables',
    run: (sh, _c, _a, io) => {
      for (const m of sh.lab.machines.values()) {
        const ifs = m.spec.nics.map((n) => `${n.name} ${[...n.inet, ...n.inet6].map((a) => a.text).join(',') || '-'}`);
        io.stdout.write(`${m.name.padEnd(8)} ${m.spec.kind.padEnd(6)} ${ifs.join('  ')}\n`);
      }
      for (const [i, c] of sh.lab.spec.cables.entries()) io.stdout.write(cableLine(c, sh.lab.cables[i]));
      return 0;
    },
  },
  softnet: {
    summary: 'how late the machine\'s softnet thread runs, a busy CPU (softnet 10ms: input queues fill, kstat rxq qdrops)',
    run: (_s, ctx, argv, io) => softnetCommand(ctx.machine, argv, io),
  },
  cable: {
    summary: 'a cable and its impairments (cable client:em0 loss 0.02; duplicate, reorder)',
    run: (sh, ctx, argv, io) => cableCommand(sh.lab, ctx.machine, argv, io),
  },
  history: {
    summary: 'commands typed so far',
    run: (sh, _c, _a, io) => {
      sh.history.forEach((h, i) => io.stdout.write(`${String(i + 1).padStart(5)}  ${h}\n`));
      return 0;
    },
  },
  exit: { summary: 'leave the shell (exit N: with status N)', run: (sh, _c, argv, io) => exitBuiltin(sh, argv, io) },
  quit: { summary: 'leave the shell', run: (sh, _c, argv, io) => exitBuiltin(sh, argv, io) },
  sleep: {
    summary: 'let N seconds of lab time pass (sleep 5, sleep 100ms)',
    run: async (sh, _c, argv, io) => {
      if (argv.length !== 1) {
        io.stderr.write('usage: sleep seconds\n');
        return 1;
      }
      const s = parseSeconds(argv[0]!);
      if (s === null) {
        io.stderr.write(`sleep: seconds is invalid: ${argv[0]}\n`);
        return 1;
      }
      const ns = Math.round(s * 1e9);
      if (sh.lab.world.now + ns > SLEEP_MAX_NS) {
        io.stderr.write(`sleep: seconds is too large: ${argv[0]} (lab time ends at 2^53 ns, about 104 days)\n`);
        return 1;
      }
      await sh.advance(ns, _c.signal);
      return 0;
    },
  },
  date: {
    summary: 'the lab\'s virtual time (seconds since boot)',
    run: (sh, _c, _a, io) => (io.stdout.write(`${(sh.lab.world.now / 1e9).toFixed(9)} s\n`), 0),
  },
  true: { summary: 'do nothing, successfully', run: () => 0 },
  false: { summary: 'do nothing, unsuccessfully', run: () => 1 },
  echo: { summary: 'print words', run: (_s, _c, argv, io) => (io.stdout.write(argv.join(' ') + '\n'), 0) },
  cat: {
    summary: 'print files of the machine (cat before, cat /etc/pf.conf)',
    run: (sh, ctx, argv, io, stdin) => {
      if (argv.length === 0 && stdin !== null) io.stdout.write(stdin);
      let st = 0;
      for (const f of argv) {
        const t = sh.readFile(ctx.machine, f);
        if (t === undefined) {
          io.stderr.write(`cat: ${f}: No such file or directory\n`);
          st = 1;
        } else io.stdout.write(t);
      }
      return st;
    },
  },
  ls: {
    summary: 'list the machine\'s files',
    run: (_s, ctx, _a, io) => {
      for (const f of [...ctx.machine.files.keys()].sort()) io.stdout.write(f + '\n');
      return 0;
    },
  },
  rm: {
    summary: 'remove files of the machine',
    run: (sh, ctx, argv, io) => {
      let st = 0;
      for (const f of argv) {
        if (!ctx.machine.files.delete(f.replace(/^\.\//, '')) && f !== '-f') {
          io.stderr.write(`rm: ${f}: No such file or directory\n`);
          st = 1;
        }
      }
      void sh;
      return st;
    },
  },
  export: { summary: 'save a file of the machine on the host (export cap.pcap /tmp/cap.pcap)', run: (_s, ctx, argv, io) => exportCommand(ctx.machine, argv, io) },
  import: { summary: 'copy a host file into the machine\'s files (import /tmp/cap.pcap cap.pcap)', run: (_s, ctx, argv, io) => importCommand(ctx.machine, argv, io) },
  diff: { summary: 'compare files (diff -u before after, diff -up)', run: (sh, ctx, argv, io) => diffCommand(sh, ctx.machine, argv, io) },
  grep: {
    summary: 'lines matching a regular expression (netstat -ss | grep -c forward); -E, -F, -v, -i, -c, -n, -A/-B/-C N',
    run: (sh, ctx, argv, io, stdin) => grep(argv, io, sh.textFiles(ctx.machine, stdin)),
  },
  wc: { summary: 'count lines, words and bytes (netstat -an | wc -l)', run: (sh, ctx, argv, io, stdin) => wc(argv, io, sh.textFiles(ctx.machine, stdin)) },
  sort: { summary: 'sort lines (sort -n, -r, -u)', run: (sh, ctx, argv, io, stdin) => sort(argv, io, sh.textFiles(ctx.machine, stdin)) },
  head: { summary: 'first lines (head -n N)', run: (_s, _c, argv, io, stdin) => headTail(argv, io, stdin, true) },
  tail: { summary: 'last lines (tail -n N)', run: (_s, _c, argv, io, stdin) => headTail(argv, io, stdin, false) },
  mark: {
    summary: 'remember the counters now, for netstat -s --since NAME',
    run: (sh, ctx, argv, io) => {
      if (argv.length !== 1) {
        io.stderr.write('usage: mark name\n');
        return 1;
      }
      sh.marks.set(`${ctx.machine.name}\0${argv[0]}`, counterSnapshot(ctx.machine.k));
      return 0;
    },
  },
  trace: { summary: 'run a command and show the journey of every packet it caused (trace [-s|--json] CMD)', run: traceCommand },
  pktgen: { summary: 'offer load: a burst or a rate of UDP datagrams (pktgen -r 20000 -t 1 10.10.12.4)', run: (_s, ctx, argv, io) => pktgen(ctx, argv, io) },
  tcpdump: {
    summary: 'print packets on an interface (tcpdump -ni em0 [-c N] [-w file] [expr], or with & in the background); tcpdump -r file',
    run: (_sh, ctx, argv, io) => {
      // -r: a capture among the machine's files (tcpdump -w wrote it, or import)
      if (argv.includes('-r') || argv.some((a) => /^-[A-Za-z]*r/.test(a) && !a.startsWith('--'))) return tcpdump(argv, io, machineTcpdumpFiles(ctx.machine));
      const job = tcpdumpLive(ctx, argv, io, false);
      if (job === null) return 1;
      return job.runForeground();
    },
  },
  jobs: {
    summary: 'background jobs: captures and programs (jobs -l: with process ids)',
    run: (sh, _c, argv, io) => {
      const l = argv[0] === '-l';
      sh.jobs.forEach((j, i) => {
        if (j === null) return;
        if (j instanceof ProgramJob) {
          const state = j.state === 'Done' && j.status !== 0 ? `Exit ${j.status}` : j.state;
          io.stdout.write(`[${i + 1}] ${l && j.pid !== 0 ? `${j.pid} ` : ''}${state.padEnd(10)} ${j.text} (on ${j.host})\n`);
        } else io.stdout.write(`[${i + 1}] ${(j.done ? 'Done' : 'Running').padEnd(10)} tcpdump on ${j.host}:${j.ifname}\n`);
      });
      // sh reports finished jobs once.
      sh.jobs.forEach((j, i) => {
        if (j !== null && j.done) sh.jobs[i] = null;
      });
      return 0;
    },
  },
  kill: {
    summary: 'end a background job (kill %1), interrupt it (kill -INT %1: ping prints its statistics), stop or continue a program (kill -STOP %1, kill -CONT %1)',
    run: (sh, _c, argv, io) => {
      let sig = 'TERM';
      let a = argv;
      if (a[0]?.startsWith('-')) {
        sig = a[0].slice(1).toUpperCase().replace(/^SIG/, '');
        a = a.slice(1);
      }
      if (!['TERM', 'KILL', 'INT', 'STOP', 'TSTP', 'CONT'].includes(sig) || a.length !== 1) {
        io.stderr.write('usage: kill [-INT | -STOP | -CONT | -TERM] %job\n');
        return 1;
      }
      const n = Number((a[0] ?? '').replace(/^%/, ''));
      const j = sh.jobs[n - 1];
      if (!Number.isInteger(n) || j === undefined || j === null) {
        io.stderr.write(`kill: ${a[0] ?? ''}: no such job\n`);
        return 1;
      }
      if (!(j instanceof ProgramJob)) {
        // ended (its -c count), not yet reported: as a program that has exited
        if (j.done) {
          io.stderr.write(`kill: ${a[0]}: no such job\n`);
          return 1;
        }
        if (sig === 'STOP' || sig === 'TSTP' || sig === 'CONT') {
          io.stderr.write(`kill: ${a[0]}: a capture is ended with kill ${a[0]}\n`);
          return 1;
        }
        j.stop();
        sh.jobs[n - 1] = null;
        return 0;
      }
      const e = sig === 'STOP' || sig === 'TSTP' ? j.stop() : sig === 'CONT' ? j.cont() : sig === 'INT' ? j.interrupt() : j.kill();
      if (e !== null) {
        io.stderr.write(`kill: ${a[0]}: ${e}\n`);
        return 1;
      }
      return 0;
    },
  },
  doas: {
    summary: 'run a command as another user, whom pf\'s user rules see (doas -u 55 nc 10.0.2.2 22)',
    run: (sh, ctx, argv, io) => {
      const d = parseDoas(ctx.machine, argv, io);
      if (d === null) return 1;
      if (sh.builtins[d.argv[0]!] === undefined && sh.commands[d.argv[0]!] === undefined) {
        io.stderr.write(`doas: ${d.argv[0]}: command not found\n`);
        return 127;
      }
      return sh.runCommand(ctx.machine, d.argv, io, ctx.stdin, ctx.signal, d.uid, d.gid);
    },
  },
  explain: { summary: 'where a counter is incremented and why (explain ips_cantforward, explain \'packets not forwardable\')', run: (_s, _c, argv, io) => explainCommand(argv, io) },
};

function headTail(argv: readonly string[], io: Io, stdin: string | null, head: boolean): number {
  // `head -4` is `head -n 4`, as head(1) still takes it.
  const g = getopt(argv.map((a) => (/^-\d+$/.test(a) ? `-n${a.slice(1)}` : a)), 'n:');
  const nopt = g.opts.find(([c]) => c === 'n');
  const n = nopt ? Number(nopt[1]) : 10;
  const text = stdin ?? '';
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const sel = head ? lines.slice(0, n) : lines.slice(Math.max(0, lines.length - n));
  for (const l of sel) io.stdout.write(l + '\n');
  return 0;
}

/** trace [-s] [--json] CMD ARGS: run CMD with a tracer on every machine and cable. */
async function traceCommand(sh: Shell, ctx: CommandContext, argv: readonly string[], io: Io): Promise<number> {
  let json = false;
  let short = false;
  let i = 0;
  for (; i < argv.length; i++) {
    if (argv[i] === '--json') json = true;
    else if (argv[i] === '-s') short = true;
    else break;
  }
  const cmd = argv.slice(i);
  if (cmd.length === 0) {
    io.stderr.write('usage: trace [-s] [--json] command [argument ...]\n');
    return 1;
  }
  const t = new LabTracer(cmd.join(' '));
  const lab = sh.lab;
  lab.setTracer(t);
  const out = json ? new StringOutput() : io.stdout;
  let status: number;
  try {
    status = await sh.runCommand(ctx.machine, cmd, { stdout: out, stderr: io.stderr }, ctx.stdin, ctx.signal);
    // Let what the command set in motion finish (replies on their way, ARP), briefly.
    await waitFor(lab.world, worldSleep(lab.world, 10_000_000));
  } finally {
    lab.setTracer(null);
  }
  const data = journeyData(t, cmd.join(' '), ctx.machine.hostname);
  if (json) {
    io.stdout.write(JSON.stringify({ ...data, status, output: (out as StringOutput).text() }, null, 2) + '\n');
  } else {
    io.stdout.write('\n');
    io.stdout.write(short ? renderPaths(data) : renderJourneys(data));
  }
  return status;
}
