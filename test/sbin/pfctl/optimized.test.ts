/**
 * OpenBSD's pfoptimizeNN regress targets: load pfNN.in into anchor
 * "regress" of a kernel with the ruleset optimizer on (`pfctl -obasic -a
 * regress -f -`), then `pfctl -o none -a regress -gvvsr` must print
 * pfNN.optimized once the Makefile's sed has turned `__automatic_<id>_` into
 * `__automatic_`: the rules the optimizer kept, in its order, with the skip
 * steps the kernel computed for that order.  The kernel has the regress
 * host's lo0 (127.0.0.1/8, ::1, fe80::1), as in the pfload test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { pfctlKernel } from '../../../src/sbin/pfctl/pfctl.js';
import { defaultPfctlEnv } from '../../../src/sbin/pfctl/pfctl_env.js';
import { StringOutput } from '../../../src/lib/io.js';
import { loopattach } from '../../../src/sys/net/if_loop.js';
import { if_addr_add } from '../../../src/sys/net/if.js';
import { in6_ifattach } from '../../../src/sys/netinet6/in6.js';
import { SHARED } from '../../helpers/root.js';

const D = join(SHARED, 'reference-data', 'pfctl-regress') + '/';

function optimizedFiles(): string[] {
  try {
    return readdirSync(D).filter((x) => /^pf\d+\.optimized$/.test(x));
  } catch {
    return [];
  }
}
const files = optimizedFiles();
if (files.length === 0) test('pfoptimize', { skip: `no pfNN.optimized files in ${D}` }, () => {});

for (const f of files) {
  const n = f.replace('.optimized', '');
  let inp: string;
  try {
    inp = readFileSync(D + n + '.in', 'latin1');
  } catch {
    continue;
  }
  test(`pfoptimize ${n}`, () => {
    const k = new Kernel(new World({ seed: 1 }), { hostname: 'regress' });
    const lo = loopattach(k);
    if_addr_add(lo, 0x7f000001, 0xff000000);
    in6_ifattach(k, lo);
    const host = {
      env: defaultPfctlEnv(),
      readFile: (p: string): string | null => {
        try {
          return readFileSync(p.startsWith('/') ? p : D + p, 'latin1');
        } catch {
          return null;
        }
      },
      readStdin: (): string => inp,
    };
    const run = (argv: string[]): string => {
      const o = new StringOutput();
      const e = new StringOutput();
      pfctlKernel(k, argv, { stdout: o, stderr: e }, host);
      return o.text();
    };
    run(['-obasic', '-a', 'regress', '-f', '-']);
    const got = run(['-o', 'none', '-a', 'regress', '-gvvsr']).replace(/__automatic_[0-9a-f]*_/g, '__automatic_');
    assert.equal(got, readFileSync(D + f, 'latin1'));
  });
}
