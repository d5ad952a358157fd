/**
 * OpenBSD's pfctl regress suite (regress/sbin/pfctl) against our pfctl:
 * pfNN.in through `pfctl -o none -nv -f -` must print pfNN.ok, feeding
 * pfNN.ok back must print it again (selfpf), pfailNN.in must print the
 * diagnostics of pfailNN.ok (stderr, then the buffered stdout, as the
 * suite's `2>&1` capture shows them), and pfoptN adds its .opts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StringOutput } from '../../src/lib/io.js';
import { makePfctl } from '../../src/sbin/pfctl/pfctl.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The project root holds test/; the shared data sits beside the project. */
function findData(): string | null {
  for (let d = here; d !== dirname(d); d = dirname(d)) {
    const c = join(d, '..', 'shared', 'reference-data', 'pfctl-regress');
    if (existsSync(join(d, 'package.json')) && existsSync(c)) return c;
  }
  return null;
}
const DATA = findData();

function run(dir: string, argv: string[], stdin: string): { out: string; err: string; status: number } {
  const out = new StringOutput();
  const err = new StringOutput();
  const tool = makePfctl({
    readStdin: () => stdin,
    readFile: (name) => {
      for (const p of [join(dir, name), name]) {
        try {
          return readFileSync(p, 'latin1');
        } catch {
          /* next */
        }
      }
      return null;
    },
  });
  const status = tool(argv, { stdout: out, stderr: err }) as number;
  return { out: out.text(), err: err.text(), status };
}

function numbered(prefix: string, files: string[]): number[] {
  const re = new RegExp(`^${prefix}(\\d+)\\.in$`);
  return files
    .map((f) => re.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

if (DATA === null) {
  test('pfctl regress', { skip: 'shared/reference-data/pfctl-regress not found' }, () => {});
} else {
  const dir = DATA;
  const files = readdirSync(dir);
  const results = { pf: [0, 0], selfpf: [0, 0], pfail: [0, 0], pfopt: [0, 0] };
  const FLAGS = ['-o', 'none', '-nv', '-f', '-'];

  for (const n of numbered('pf', files)) {
    if (!files.includes(`pf${n}.ok`)) continue;
    const input = readFileSync(join(dir, `pf${n}.in`), 'latin1');
    const ok = readFileSync(join(dir, `pf${n}.ok`), 'latin1');
    test(`pf${n}`, () => {
      results.pf[1]!++;
      const r = run(dir, FLAGS, input);
      assert.equal(r.out, ok, r.err);
      results.pf[0]!++;
    });
    test(`selfpf${n}`, () => {
      results.selfpf[1]!++;
      const r = run(dir, FLAGS, ok);
      assert.equal(r.out, ok, r.err);
      results.selfpf[0]!++;
    });
  }
  for (const n of numbered('pfail', files)) {
    const input = readFileSync(join(dir, `pfail${n}.in`), 'latin1');
    const ok = readFileSync(join(dir, `pfail${n}.ok`), 'latin1');
    test(`pfail${n}`, () => {
      results.pfail[1]!++;
      const r = run(dir, FLAGS, input);
      assert.equal(r.err + r.out, ok);
      results.pfail[0]!++;
    });
  }
  for (const n of numbered('pfopt', files)) {
    const input = readFileSync(join(dir, `pfopt${n}.in`), 'latin1');
    const ok = readFileSync(join(dir, `pfopt${n}.ok`), 'latin1');
    const extra = readFileSync(join(dir, `pfopt${n}.opts`), 'latin1').trim().split(/\s+/).filter((s) => s);
    test(`pfopt${n}`, () => {
      results.pfopt[1]!++;
      const r = run(dir, ['-o', 'none', '-nv', '-f', '-', ...extra], input);
      assert.equal(r.out, ok, r.err);
      results.pfopt[0]!++;
    });
  }
  test('pfcmdfail1: no DNS with -N', () => {
    const r = run(dir, ['-nN', '-f', '-'], readFileSync(join(dir, 'pfcmdfail1.in'), 'latin1'));
    assert.equal(r.err + r.out, readFileSync(join(dir, 'pfcmdfail1.ok'), 'latin1'));
    assert.equal(r.status, 1);
  });
  for (const n of [1, 2]) {
    test(`pfsimple${n}: parses`, () => {
      const r = run(dir, ['-o', 'none', '-nf', '-'], readFileSync(join(dir, `pfsimple${n}.in`), 'latin1'));
      assert.equal(r.status, 0, r.err);
    });
  }
  test('pfctl regress summary', () => {
    const line = Object.entries(results)
      .map(([k, [p, t]]) => `${k} ${p}/${t}`)
      .join(', ');
    console.log(`pfctl regress: ${line}`);
  });
}
