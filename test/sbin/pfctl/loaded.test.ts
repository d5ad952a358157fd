/**
 * OpenBSD's pfloadNN regress targets: load pfNN.in into anchor "regress"
 * of a kernel, then `pfctl -o none -a 'regress/*' -gvvsr` must print
 * pfNN.loaded (skip steps, queue and counter lines).  Cases not yet exact
 * are marked todo (pf35.loaded is stale upstream).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { World } from '../../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../../src/sys/kern/kernel.js';
import { pfctlKernel } from '../../../src/sbin/pfctl/pfctl.js';
import { defaultPfctlEnv } from '../../../src/sbin/pfctl/pfctl_env.js';
import { StringOutput } from '../../../src/lib/io.js';

const D = fileURLToPath(new URL('../../../../shared/reference-data/pfctl-regress/', import.meta.url));
const TODO = new Set(['pf17', 'pf18', 'pf25', 'pf26', 'pf27', 'pf35', 'pf36', 'pf46', 'pf47']);

function loadedFiles(): string[] {
  try {
    return readdirSync(D).filter((x) => /^pf\d+\.loaded$/.test(x));
  } catch {
    return [];
  }
}
const files = loadedFiles();

for (const f of files) {
  const n = f.replace('.loaded', '');
  let inp: string;
  try {
    inp = readFileSync(D + n + '.in', 'latin1');
  } catch {
    continue;
  }
  test(`pfload ${n}`, { todo: TODO.has(n) }, () => {
    const k = new Kernel(new World({ seed: 1 }), { hostname: 'regress' });
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
    run(['-o', 'none', '-a', 'regress', '-f', '-']);
    const got = run(['-o', 'none', '-a', 'regress/*', '-gvvsr']).replace(/__automatic_[0-9a-f]*_/g, '__automatic_');
    assert.equal(got, readFileSync(D + f, 'latin1'));
  });
}
