/**
 * doas(1) in the lab: run a command as another user, so that its sockets
 * carry that user's credentials (so_euid) and pf's `user` and `group`
 * rules see them, as the pf Rules slide's
 *
 *   block return out log proto tcp all user = 55
 *
 * does for `doas -u 55 nc 10.0.2.2 22`.  The user is a name from the
 * machine's /etc/passwd (one of its files), else from OpenBSD's base
 * accounts, or a number, as doas's parseuid() takes either.  There is no
 * doas.conf: whoever types in the lab shell is root, and root may.
 */
import type { Io } from '../lib/io.js';
import { getopt } from '../lib/getopt.js';
import type { Machine } from './lab.js';

export const DOAS_USAGE = 'usage: doas [-Lns] [-a style] [-C config] [-u user] command [arg ...]\n';

/** A few accounts of OpenBSD's /etc/master.passwd, for machines without an /etc/passwd. */
const BASE_PASSWD = [
  'root:*:0:0:Charlie &:/root:/bin/ksh',
  'daemon:*:1:1:The devil himself:/root:/sbin/nologin',
  'operator:*:2:5:System &:/operator:/sbin/nologin',
  'bin:*:3:7:Binaries Commands and Source:/:/sbin/nologin',
  'build:*:21:21:base and xenocara build:/var/empty:/bin/ksh',
  'sshd:*:27:27:sshd privsep:/var/empty:/sbin/nologin',
  'www:*:67:67:HTTP Server:/var/www:/sbin/nologin',
  'nobody:*:32767:32767:Unprivileged user:/nonexistent:/sbin/nologin',
].join('\n');

/** The credentials a user name or number stands for on m (getpwnam, else a number); null: unknown. */
export function lookupUser(m: Machine, user: string): { uid: number; gid: number } | null {
  const passwd = m.files.get('/etc/passwd') ?? BASE_PASSWD;
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && f[0] === user && /^\d+$/.test(f[2]!) && /^\d+$/.test(f[3]!)) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  // strtonum(s, 0, UID_MAX): the group is the uid's own when no entry names it.
  if (/^\d+$/.test(user) && Number(user) <= 0xfffffffe) {
    for (const line of passwd.split('\n')) {
      const f = line.split(':');
      if (f.length >= 4 && f[2] === user && /^\d+$/.test(f[3]!)) return { uid: Number(user), gid: Number(f[3]) };
    }
    return { uid: Number(user), gid: Number(user) };
  }
  return null;
}

export interface DoasCommand {
  uid: number;
  gid: number;
  argv: string[];
}

/** doas's arguments: the user and the command; null after printing why not (status 1). */
export function parseDoas(m: Machine, argv: readonly string[], io: Io): DoasCommand | null {
  const g = getopt(argv, 'a:C:Lnsu:');
  if (g.error !== undefined) {
    io.stderr.write(`doas: ${g.error}\n${DOAS_USAGE}`);
    return null;
  }
  let user = 'root';
  for (const [c, arg] of g.opts) {
    if (c === 'u') user = arg!;
    else if (c === 's' || c === 'C' || c === 'a' || c === 'L') {
      io.stderr.write(`doas: -${c} is not supported in a lab\n`);
      return null;
    }
  }
  if (g.rest.length === 0) {
    io.stderr.write(DOAS_USAGE);
    return null;
  }
  const cred = lookupUser(m, user);
  if (cred === null) {
    io.stderr.write('doas: unknown user\n');
    return null;
  }
  return { ...cred, argv: g.rest };
}
