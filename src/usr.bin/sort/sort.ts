/**
 * sort(1) (usr.bin/sort) for the lab shell's text: lines of standard
 * input or of a machine's files, in byte order, or by their leading
 * number with -n (blanks, a sign, digits, a fraction; no number is 0),
 * with equal keys in byte order of the whole line as the last resort;
 * -r reverses, -u keeps one of equal lines, -f folds case.
 */
import type { Io } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';
import type { TextFiles } from '../grep/grep.js';

function numKey(line: string): number {
  const m = /^[ \t]*(-?(?:\d+\.?\d*|\.\d+))/.exec(line);
  return m === null ? 0 : Number(m[1]);
}

function bytewise(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sort(argv: readonly string[], io: Io, files: TextFiles): number {
  const g = getopt(argv, 'fnru');
  if (g.error !== undefined) {
    io.stderr.write(`sort: ${g.error}\nusage: sort [-fnru] [file ...]\n`);
    return 2;
  }
  const has = (c: string): boolean => g.opts.some(([o]) => o === c);
  const [f, n, r, u] = [has('f'), has('n'), has('r'), has('u')];
  const lines: string[] = [];
  for (const name of g.rest.length === 0 ? [null] : g.rest) {
    const text = name === null ? files.stdin ?? '' : files.read(name);
    if (text === undefined) {
      io.stderr.write(`sort: ${name}: No such file or directory\n`);
      return 2;
    }
    const l = text.split('\n');
    if (l[l.length - 1] === '') l.pop();
    for (const x of l) lines.push(x);
  }
  const key = (a: string, b: string): number => (n ? numKey(a) - numKey(b) : f ? bytewise(a.toUpperCase(), b.toUpperCase()) : bytewise(a, b));
  const cmp = (a: string, b: string): number => {
    const k = key(a, b);
    return (r ? -1 : 1) * (k !== 0 || u ? k : bytewise(a, b));
  };
  lines.sort(cmp);
  let prev: string | null = null;
  for (const l of lines) {
    // -u: one of each run of lines with equal keys.
    if (u && prev !== null && key(prev, l) === 0) continue;
    io.stdout.write(l + '\n');
    prev = l;
  }
  return 0;
}
