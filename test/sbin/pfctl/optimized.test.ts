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
import { readFileSync } from 'node:fs';
import { PFCTL_REGRESS as D, automaticTables, regressFiles, regressPfctl } from '../../helpers/pfregress.js';

const files = regressFiles(/^pf\d+\.optimized$/);
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
    const run = regressPfctl(inp);
    run(['-obasic', '-a', 'regress', '-f', '-']);
    const got = automaticTables(run(['-o', 'none', '-a', 'regress', '-gvvsr']));
    assert.equal(got, readFileSync(D + f, 'latin1'));
  });
}
