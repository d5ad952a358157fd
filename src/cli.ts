/**
 * The `packetflow` command: dispatches to the tools.  Each tool is also
 * reachable from the lab shell; here they run against files and the host.
 */
import { BufferedFdOutput, type Io, type Tool } from './lib/io.js';
import { writeSync } from 'node:fs';

interface Command {
  summary: string;
  load: () => Promise<Tool>;
}

const COMMANDS: Record<string, Command> = {
  tcpdump: {
    summary: 'read, filter and print packet captures as OpenBSD tcpdump does',
    load: async () => (await import('./usr.sbin/tcpdump/tcpdump.js')).tcpdump,
  },
};

function usage(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => `    ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`);
  return `usage: packetflow command [arguments ...]\n\ncommands:\n${lines.join('\n')}\n`;
}

function fdOutput(fd: number): BufferedFdOutput {
  return new BufferedFdOutput((s) => {
    const b = Buffer.from(s);
    let off = 0;
    while (off < b.length) {
      try {
        off += writeSync(fd, b, off);
      } catch (e) {
        // A pipe that is full (EAGAIN) is retried; a closed reader ends output quietly.
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue;
        if (code === 'EPIPE') return;
        throw e;
      }
    }
  });
}

export async function main(argv: string[]): Promise<number> {
  const stdout = fdOutput(1);
  const stderr = fdOutput(2);
  const io: Io = { stdout, stderr };
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      stdout.write(usage());
      return 0;
    }
    const cmd = COMMANDS[name];
    if (!cmd) {
      stderr.write(`packetflow: unknown command: ${name}\n`);
      stderr.write(usage());
      return 1;
    }
    const tool = await cmd.load();
    return await tool(rest, io);
  } finally {
    stdout.flush();
    stderr.flush();
  }
}
