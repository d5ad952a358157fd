/**
 * The families of OpenBSD's pfctl regress suite that need a kernel
 * (regress/sbin/pfctl, see shared/reference-data/pfctl-regress/README.md),
 * against a packetflow kernel:
 *   pfchksumN: load pfchksumN.in (-o none -f -), then `pfctl -o none -vsi`
 *   must print the "Checksum:" line of pfchksumN.ok (pf_calc_chksum).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { World } from '../../src/sys/kern/kern_clock.js';
import { Kernel } from '../../src/sys/kern/kernel.js';
import { pfctlKernel } from '../../src/sbin/pfctl/pfctl.js';
import { defaultPfctlEnv } from '../../src/sbin/pfctl/pfctl_env.js';
import { StringOutput } from '../../src/lib/io.js';
import { SHARED } from '../helpers/root.js';

const DIR = join(SHARED, 'reference-data', 'pfctl-regress');

/** A kernel with pfctl bound to it; stdin is given per call. */
function regressKernel(): (argv: string[], stdin?: string) => { out: string; err: string; status: number } {
  const k = new Kernel(new World({ seed: 1 }), { hostname: 'regress' });
  return (argv, stdin = '') => {
    const o = new StringOutput();
    const e = new StringOutput();
    const status = pfctlKernel(k, argv, { stdout: o, stderr: e }, {
      env: defaultPfctlEnv(),
      readFile: (p) => {
        const f = p.startsWith('/') ? p : join(DIR, p);
        return existsSync(f) ? readFileSync(f, 'latin1') : null;
      },
      readStdin: () => stdin,
    }) as number;
    return { out: o.text(), err: e.text(), status };
  };
}

const files = existsSync(DIR) ? readdirSync(DIR) : [];
if (files.length === 0) test('pfctl kernel regress', { skip: `${DIR} not found` }, () => {});

for (const f of files.filter((x) => /^pfchksum\d+\.in$/.test(x)).sort()) {
  const n = f.replace('.in', '');
  test(`${n}: the ruleset checksum of pfctl -vsi`, () => {
    const pfctl = regressKernel();
    const load = pfctl(['-o', 'none', '-f', '-'], readFileSync(join(DIR, f), 'latin1'));
    assert.equal(load.status, 0, load.err);
    const line = pfctl(['-o', 'none', '-vsi']).out.split('\n').filter((l) => l.startsWith('Checksum:')).join('\n') + '\n';
    assert.equal(line, readFileSync(join(DIR, `${n}.ok`), 'latin1'));
  });
}

test('the checksum follows what decides matching: a changed port changes it, a comment does not', () => {
  const sum = (rules: string): string => {
    const pfctl = regressKernel();
    assert.equal(pfctl(['-f', '-'], rules).status, 0);
    return /Checksum: (0x[0-9a-f]{32})/.exec(pfctl(['-vsi']).out)![1]!;
  };
  const a = sum('pass in proto tcp to port 22\n');
  assert.equal(sum('# ssh\npass in proto tcp to port 22\n'), a);
  assert.notEqual(sum('pass in proto tcp to port 23\n'), a);
  // No rules: MD5 of nothing.
  assert.equal(sum('\n'), '0xd41d8cd98f00b204e9800998ecf8427e');
});
