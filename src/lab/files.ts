/**
 * Binary files among a machine's files, and moving files between a machine
 * and the host.  Machine files are strings (text from redirections and
 * topologies); a capture file is kept as a "binary string", one char per
 * byte (latin1), so `ls`, `rm` and `cat` treat it like any other file.
 *
 * `export FILE HOSTPATH` writes a machine file to the host file system
 * (e.g. a capture for Wireshark); `import HOSTPATH FILE` reads one in.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { textBytes, type Io } from '../lib/io.js';
import type { Machine } from './lab.js';
import { PcapReader, PcapWriter, errnoText, type PcapSink, type PcapWriterOptions } from '../usr.sbin/tcpdump/pcap.js';
import type { TcpdumpFiles } from '../usr.sbin/tcpdump/tcpdump.js';

export function machinePath(f: string): string {
  return f.replace(/^\.\//, '');
}

/** The bytes of a machine file (latin1: one byte per char). */
export function fileBytes(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

function bytesText(b: Uint8Array, off: number, len: number): string {
  return Buffer.from(b.buffer, b.byteOffset + off, len).toString('latin1');
}


/** A pcap sink that appends to a machine file, created (truncated) when made. */
export class MachineFileSink implements PcapSink {
  constructor(
    readonly m: Machine,
    readonly name: string,
  ) {
    m.files.set(name, '');
  }

  write(buf: Uint8Array, off: number, len: number): void {
    this.m.files.set(this.name, (this.m.files.get(this.name) ?? '') + bytesText(buf, off, len));
  }
}

/** A capture writer into a machine file; the file exists from now on (with its header). */
export function machinePcapWriter(m: Machine, file: string, opts: PcapWriterOptions): PcapWriter {
  const w = new PcapWriter(new MachineFileSink(m, machinePath(file)), { bufferSize: 64 * 1024, ...opts });
  w.flush();
  return w;
}

/** tcpdump -r/-w/-F on a machine's files. */
export function machineTcpdumpFiles(m: Machine): TcpdumpFiles {
  return {
    thiszone: 0,
    openReader: (path) => {
      const t = m.files.get(machinePath(path));
      if (t === undefined) {
        // A reader that failed to open: its error names the file.
        const r = PcapReader.fromBytes(new Uint8Array(0));
        r.error = `${path}: No such file or directory`;
        r.format = '';
        return r;
      }
      return PcapReader.fromBytes(fileBytes(t));
    },
    openWriter: (path, opts) => machinePcapWriter(m, path, opts),
    readText: (path) => {
      const t = m.files.get(machinePath(path));
      return t === undefined ? { error: `${path}: No such file or directory` } : { text: t };
    },
  };
}

/** `export FILE HOSTPATH`: a machine file to the host, byte for byte. */
export function exportCommand(m: Machine, argv: readonly string[], io: Io): number {
  if (argv.length !== 2) {
    io.stderr.write('usage: export file hostpath\n');
    return 1;
  }
  const [file, hostPath] = argv as [string, string];
  const t = m.files.get(machinePath(file));
  if (t === undefined) {
    io.stderr.write(`export: ${file}: No such file or directory\n`);
    return 1;
  }
  try {
    // A binary string byte for byte; shell output with characters beyond latin1 is UTF-8 text.
    writeFileSync(hostPath, textBytes(t));
  } catch (e) {
    io.stderr.write(`export: ${hostPath}: ${errnoText(e)}\n`);
    return 1;
  }
  return 0;
}

/** `import HOSTPATH FILE`: a host file (a capture, a pf.conf) into the machine's files. */
export function importCommand(m: Machine, argv: readonly string[], io: Io): number {
  if (argv.length !== 2) {
    io.stderr.write('usage: import hostpath file\n');
    return 1;
  }
  const [hostPath, file] = argv as [string, string];
  let b: Buffer;
  try {
    b = readFileSync(hostPath);
  } catch (e) {
    io.stderr.write(`import: ${hostPath}: ${errnoText(e)}\n`);
    return 1;
  }
  m.files.set(machinePath(file), b.toString('latin1'));
  return 0;
}
