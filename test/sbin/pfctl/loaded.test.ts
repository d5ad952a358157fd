/**
 * OpenBSD's pfloadNN regress targets: load pfNN.in into anchor "regress"
 * of a kernel, then `pfctl -o none -a 'regress/*' -gvvsr` must print
 * pfNN.loaded (skip steps, queue and counter lines).  The kernel has the
 * regress host's lo0 (127.0.0.1/8, ::1, fe80::1), whose address counts the
 * `(lo0:N)` of -vv print.
 *
 * pf35.loaded stays todo: it is stale upstream.  It is the -gvvsr output of
 * an older, ALTQ-era pf35.in (six rules with `queue` names, `keep state`
 * printed, unindented counter lines, skip steps without r= and p=), not of
 * today's pf35.in (two `tos` rules), so no pfctl of today prints it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PFCTL_REGRESS as D, automaticTables, regressFiles, regressPfctl } from '../../helpers/pfregress.js';

const TODO = new Map([['pf35', 'pf35.loaded is stale upstream (an ALTQ-era pf35.in)']]);
const files = regressFiles(/^pf\d+\.loaded$/);
if (files.length === 0) test('pfload', { skip: `no pfNN.loaded files in ${D}` }, () => {});

for (const f of files) {
  const n = f.replace('.loaded', '');
  let inp: string;
  try {
    inp = readFileSync(D + n + '.in', 'latin1');
  } catch {
    continue;
  }
  test(`pfload ${n}`, { todo: TODO.get(n) ?? false }, () => {
    const run = regressPfctl(inp);
    run(['-o', 'none', '-a', 'regress', '-f', '-']);
    const got = automaticTables(run(['-o', 'none', '-a', 'regress/*', '-gvvsr']));
    assert.equal(got, readFileSync(D + f, 'latin1'));
  });
}
