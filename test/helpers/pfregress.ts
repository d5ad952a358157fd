/**
 * The host OpenBSD's pfctl regress targets run on, for the tests that
 * replay them against a packetflow kernel: lo0 with 127.0.0.1/8, ::1 and
 * fe80::1 (its `(lo0:N)` address counts), the regress data folder for
 * file names, and pfctl bound to that kernel with a given stdin.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { World } from '../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../src/sys/kern/kernel.js';
import { pfctlKernel } from '../../src/sbin/pfctl/pfctl.js';
import { defaultPfctlEnv } from '../../src/sbin/pfctl/pfctl_env.js';
import { StringOutput } from '../../src/lib/io.js';
import { loopattach } from '../../src/sys/net/if_loop.js';
import { if_addr_add } from '../../src/sys/net/if.js';
import { in6_ifattach } from '../../src/sys/netinet6/in6.js';
import { SHARED } from './root.js';

/** shared/reference-data/pfctl-regress, with a trailing slash. */
export const PFCTL_REGRESS = join(SHARED, 'reference-data', 'pfctl-regress') + '/';

/** The regress files whose names match re (none when the data is absent). */
export function regressFiles(re: RegExp): string[] {
  try {
    return readdirSync(PFCTL_REGRESS).filter((x) => re.test(x));
  } catch {
    return [];
  }
}

/** A regress kernel; the function runs pfctl on it with stdin and returns its stdout. */
export function regressPfctl(stdin: string): (argv: string[]) => string {
  const k = new Kernel(new World({ seed: 1 }), { hostname: 'regress' });
  const lo = loopattach(k);
  if_addr_add(lo, 0x7f000001, 0xff000000);
  in6_ifattach(k, lo);
  const host = {
    env: defaultPfctlEnv(),
    readFile: (p: string): string | null => {
      try {
        return readFileSync(p.startsWith('/') ? p : PFCTL_REGRESS + p, 'latin1');
      } catch {
        return null;
      }
    },
    readStdin: (): string => stdin,
  };
  return (argv) => {
    const o = new StringOutput();
    const e = new StringOutput();
    pfctlKernel(k, argv, { stdout: o, stderr: e }, host);
    return o.text();
  };
}

/** The Makefile's sed: the optimizer's table ids vary from load to load. */
export function automaticTables(s: string): string {
  return s.replace(/__automatic_[0-9a-f]*_/g, '__automatic_');
}
