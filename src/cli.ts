/**
 * The `packetflow` command: dispatches to the tools.  Each tool is also
 * reachable from the lab shell; here they run against files and the host.
 */
import { BufferedFdOutput, type Io, type Tool } from './lib/io.js';
import { writeSync } from 'node:fs';
import { internalError } from './lib/exit.js';
import { tuneJit } from './lib/jit.js';

interface Command {
  summary: string;
  load: () => Promise<Tool>;
  /**
   * It runs a lab's packet path for long: V8's inlining budget is raised
   * first (src/lib/jit.ts).  The file tools run for a second or so, and
   * the larger budget's longer compiles cost them more than its code
   * gains (tcpdump -nr of a million packets: 0.68 s with V8's defaults,
   * 0.93 s raised).
   */
  jit?: boolean;
}

/**
 * The commands, one entry each: add a line to extend.  Lab commands boot a
 * lab (the embedded default `talk`, or --lab FILE); tcpdump and pfctl also
 * work on plain files outside any lab.
 */
const COMMANDS: Record<string, Command> = {
  shell: {
    jit: true,
    summary: 'a lab and its shell (the default with no command): packetflow shell [--lab file]',
    load: async () => {
      const m = await import('./lab/main.js');
      return (argv, io) => m.shellCommand(argv, io, () => flushAll(io));
    },
  },
  run: {
    jit: true,
    summary: 'run a scenario script, printing a transcript: packetflow run script [--lab file]',
    load: async () => (await import('./lab/main.js')).runCommand,
  },
  exec: {
    jit: true,
    summary: 'one command on one lab machine: packetflow exec [--lab file] host -- command ...',
    load: async () => (await import('./lab/main.js')).execCommand,
  },
  lab: {
    summary: 'check a topology file and list its machines and cables: packetflow lab [--lab file]',
    load: async () => (await import('./lab/main.js')).labCommand,
  },
  explain: {
    summary: "where a counter is incremented and why: packetflow explain ips_cantforward | 'packets not forwardable'",
    load: async () => (await import('./lab/explain.js')).explainCommand,
  },
  pfctl: {
    summary: 'check and print pf.conf rulesets as OpenBSD pfctl -nv does',
    load: async () => (await import('./sbin/pfctl/pfctl.js')).pfctl,
  },
  tcpdump: {
    summary: 'read, filter and print packet captures as OpenBSD tcpdump does',
    load: async () => (await import('./usr.sbin/tcpdump/tcpdump.js')).tcpdump,
  },
};

function flushAll(io: Io): void {
  (io.stdout as BufferedFdOutput).flush();
  (io.stderr as BufferedFdOutput).flush();
}

function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `    ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`);
  return `usage: packetflow command [arguments ...]\n\ncommands:\n${lines.join('\n')}\n`;
}

function writeAll(fd: number, b: Uint8Array, length: number): void {
  let off = 0;
  while (off < length) {
    try {
      off += writeSync(fd, b, off, length - off);
    } catch (e) {
      // A pipe that is full (EAGAIN) is retried; a closed reader ends output quietly.
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EPIPE') return;
      throw e;
    }
  }
}

function fdOutput(fd: number, limit: number, before?: BufferedFdOutput): BufferedFdOutput {
  return new BufferedFdOutput(
    (s) => {
      const b = Buffer.from(s);
      writeAll(fd, b, b.length);
    },
    limit,
    (b, length) => writeAll(fd, b, length),
    before,
  );
}

export async function main(argv: string[]): Promise<number> {
  // stdout is buffered; stderr is not, and flushes stdout before each
  // message, so both in one pipe read in the order they were written.
  const stdout = fdOutput(1, 1 << 16);
  const stderr = fdOutput(2, 0, stdout);
  const io: Io = { stdout, stderr };
  try {
    const [name0, ...rest0] = argv;
    // No command (or only --lab FILE): the lab shell.
    const shell = name0 === undefined || name0 === '--lab' || name0.startsWith('--lab=');
    const name = shell ? 'shell' : name0;
    const rest = shell ? argv : rest0;
    if (name === '--help' || name === '-h' || name === 'help') {
      stdout.write(usage());
      return 0;
    }
    const cmd = COMMANDS[name];
    if (!cmd) {
      stderr.write(`packetflow: unknown command: ${name}\n`);
      stderr.write(usage());
      return 1;
    }
    if (cmd.jit === true) tuneJit();
    const tool = await cmd.load();
    return await tool(rest, io);
  } catch (e) {
    // A bug: one line, not a JavaScript stack (PACKETFLOW_DEBUG=1 shows it).
    stderr.write(internalError('packetflow', e));
    return 70;
  } finally {
    stdout.flush();
    stderr.flush();
  }
}
