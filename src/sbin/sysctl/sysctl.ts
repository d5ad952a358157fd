/**
 * sysctl(8) (sbin/sysctl/sysctl.c) over a kernel's sysctl tree: print
 * `name=value`, set with `name=value` (printing `name: old -> new`), list a
 * subtree or everything (-a, or no argument), -n for values only, -q to
 * set quietly.  Errors are OpenBSD's texts; the exit status is 0 as there.
 */
import type { Io } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import { strerror, EINVAL, EPERM, ENOENT } from '../../sys/sys/errno.js';

const USAGE = 'usage: sysctl [-Aanq] [-f file] [name[=value] ...]\n';
const LEVELS = ['top', 'second', 'third', 'fourth', 'fifth', 'sixth'];

function strtonum(s: string, min: number, max: number): number | string {
  if (!/^[ \t]*[+-]?\d+$/.test(s)) return 'invalid';
  const n = Number(s);
  if (n < min) return 'too small';
  if (n > max) return 'too large';
  return n;
}

export function sysctl(k: Kernel, argv: readonly string[], io: Io): number {
  let nflag = false;
  let qflag = false;
  let all = false;
  const g = getopt(argv, 'Aaf:nqw');
  for (const [ch] of g.opts) {
    switch (ch) {
      case 'A': case 'a':
        all = true;
        break;
      case 'n':
        nflag = true;
        break;
      case 'q':
        qflag = true;
        break;
      case 'w': case 'f':
        break;
      default:
        io.stderr.write(USAGE);
        return 1;
    }
  }
  if (g.error !== undefined) {
    io.stderr.write(`sysctl: ${g.error}\n${USAGE}`);
    return 1;
  }
  const warnx = (s: string): void => io.stderr.write(`sysctl: ${s}\n`);
  const show = (name: string, value: number): void => io.stdout.write(nflag ? `${value}\n` : `${name}=${value}\n`);
  if (g.rest.length === 0 || all) {
    for (const n of k.sysctl.list()) show(n.name, n.value);
    return 0;
  }
  for (const arg of g.rest) {
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    const newval = eq >= 0 ? arg.slice(eq + 1).replace(/^\s+/, '') : undefined;
    const node = k.sysctl.get(name);
    if (node === undefined) {
      const sub = k.sysctl.list(name);
      if (sub.length > 0) {
        if (newval !== undefined) warnx(`${name}: specification is incomplete`);
        else for (const n of sub) show(n.name, n.value);
        continue;
      }
      // Which level is unknown: the first part no node name continues with.
      const parts = name.split('.');
      let lvl = 0;
      let prefix = '';
      for (; lvl < parts.length; lvl++) {
        const p = prefix === '' ? parts[lvl]! : `${prefix}.${parts[lvl]}`;
        if (k.sysctl.list(p).length === 0) break;
        prefix = p;
      }
      if (parts[lvl] === '' || lvl >= parts.length) warnx(`${name}: incomplete specification`);
      else warnx(`${LEVELS[lvl] ?? 'sub'} level name ${parts[lvl]} in ${name} is invalid`);
      continue;
    }
    if (newval === undefined || newval === '') {
      show(node.name, node.value);
      continue;
    }
    const v = strtonum(newval, -0x80000000, 0x7fffffff);
    if (typeof v === 'string') {
      warnx(`${name}: value is ${v}: ${newval}`);
      continue;
    }
    const old = node.value;
    const e = k.sysctl.set(name, v);
    if (e !== null) {
      const errno = e === 'EINVAL' ? EINVAL : e === 'EPERM' ? EPERM : ENOENT;
      warnx(`${name}: ${strerror(errno)}`);
      continue;
    }
    if (!qflag) io.stdout.write(nflag ? `${v}\n` : `${name}: ${old} -> ${v}\n`);
  }
  return 0;
}

export function sysctlTool(k: Kernel): (argv: readonly string[], io: Io) => number {
  return (argv, io) => sysctl(k, argv, io);
}
