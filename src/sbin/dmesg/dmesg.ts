/**
 * dmesg(8): the kernel message buffer (driver attach lines, link changes).
 * `-s` (the console message buffer) is accepted and prints the same.
 */
import type { Io } from '../../lib/io.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import { getopt } from '../../lib/getopt.js';

export function dmesg(k: Kernel, argv: readonly string[], io: Io): number {
  const g = getopt(argv, 'M:N:s');
  if (g.error !== undefined || g.rest.length > 0) {
    if (g.error !== undefined) io.stderr.write(`dmesg: ${g.error}\n`);
    io.stderr.write('usage: dmesg [-s] [-M core] [-N system]\n');
    return 1;
  }
  let s = '';
  for (const line of k.msgbuf) s += line + '\n';
  io.stdout.write(s);
  return 0;
}
