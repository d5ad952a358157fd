/**
 * diff(1) for the lab's files: the Netstat Diff slide's `diff -up before
 * after`.  Normal output without options (3c3, < a, ---, > b), unified
 * output with -u or -U n; -p (unified here) names the section a hunk is in
 * (the last line starting with a letter, as `ip:` or `tcp:` in netstat -s
 * output, like diff's C-function heuristic).  File headers carry no dates:
 * lab files have none worth printing, and transcripts stay reproducible.
 */
import type { Io } from '../lib/io.js';
import { getopt } from '../lib/getopt.js';
import type { Machine } from './lab.js';
import type { Shell } from './shell.js';

type Op = [' ' | '-' | '+', string];

/** The edit script between a and b (longest common subsequence). */
export function diffLines(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // Trim the common head and tail: counters move in few lines.
  let pre = 0;
  while (pre < n && pre < m && a[pre] === b[pre]) pre++;
  let post = 0;
  while (post < n - pre && post < m - pre && a[n - 1 - post] === b[m - 1 - post]) post++;
  const A = a.slice(pre, n - post);
  const B = b.slice(pre, m - post);
  const w = B.length + 1;
  const L = new Uint32Array((A.length + 1) * w);
  for (let i = A.length - 1; i >= 0; i--) {
    for (let j = B.length - 1; j >= 0; j--) {
      L[i * w + j] = A[i] === B[j] ? L[(i + 1) * w + j + 1]! + 1 : Math.max(L[(i + 1) * w + j]!, L[i * w + j + 1]!);
    }
  }
  const ops: Op[] = a.slice(0, pre).map((l) => [' ', l] as Op);
  let i = 0;
  let j = 0;
  while (i < A.length && j < B.length) {
    if (A[i] === B[j]) {
      ops.push([' ', A[i]!]);
      i++;
      j++;
    } else if (L[(i + 1) * w + j]! >= L[i * w + j + 1]!) ops.push(['-', A[i++]!]);
    else ops.push(['+', B[j++]!]);
  }
  while (i < A.length) ops.push(['-', A[i++]!]);
  while (j < B.length) ops.push(['+', B[j++]!]);
  for (const l of a.slice(n - post)) ops.push([' ', l]);
  return ops;
}

function lines(t: string): string[] {
  const l = t.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

/** Unified diff text, or '' when equal. */
export function unifiedDiff(aName: string, a: string, bName: string, b: string, context = 3, showFn = false): string {
  const ops = diffLines(lines(a), lines(b));
  if (!ops.some((o) => o[0] !== ' ')) return '';
  const out = [`--- ${aName}`, `+++ ${bName}`];
  // Positions in a and b of each op.
  const ai: number[] = [];
  const bi: number[] = [];
  let x = 0;
  let y = 0;
  for (const o of ops) {
    ai.push(x);
    bi.push(y);
    if (o[0] !== '+') x++;
    if (o[0] !== '-') y++;
  }
  let k = 0;
  while (k < ops.length) {
    if (ops[k]![0] === ' ') {
      k++;
      continue;
    }
    const start = Math.max(0, k - context);
    let end = k;
    // Extend while changes are within 2*context of each other.
    for (;;) {
      let e = end;
      while (e < ops.length && ops[e]![0] !== ' ') e++;
      let f = e;
      while (f < ops.length && ops[f]![0] === ' ' && f - e < 2 * context) f++;
      if (f < ops.length && ops[f]![0] !== ' ' && f - e <= 2 * context) {
        end = f;
        continue;
      }
      end = Math.min(ops.length, e + context);
      break;
    }
    const hunk = ops.slice(start, end);
    const aLen = hunk.filter((o) => o[0] !== '+').length;
    const bLen = hunk.filter((o) => o[0] !== '-').length;
    const aStart = aLen === 0 ? ai[start]! : ai[start]! + 1;
    const bStart = bLen === 0 ? bi[start]! : bi[start]! + 1;
    let fn = '';
    if (showFn) {
      const before = lines(a).slice(0, ai[start]!);
      for (let q = before.length - 1; q >= 0; q--) {
        if (/^[A-Za-z_$]/.test(before[q]!)) {
          fn = ' ' + before[q]!.slice(0, 40);
          break;
        }
      }
    }
    out.push(`@@ -${aStart}${aLen === 1 ? '' : `,${aLen}`} +${bStart}${bLen === 1 ? '' : `,${bLen}`} @@${fn}`);
    for (const o of hunk) out.push(o[0] + o[1]);
    k = end;
  }
  return out.join('\n') + '\n';
}

/**
 * diff's normal output (no -u): each change as `NaM,M`, `N,NdM` or
 * `N,NcM,M`, the old lines with "< ", the new with "> ", a "---" between
 * them in a change; '' when equal.
 */
export function normalDiff(a: string, b: string): string {
  const ops = diffLines(lines(a), lines(b));
  const out: string[] = [];
  const range = (from: number, n: number): string => (n <= 1 ? `${from + (n === 0 ? 0 : 1)}` : `${from + 1},${from + n}`);
  let x = 0;
  let y = 0;
  for (let k = 0; k < ops.length;) {
    if (ops[k]![0] === ' ') {
      x++;
      y++;
      k++;
      continue;
    }
    const del: string[] = [];
    const add: string[] = [];
    for (; k < ops.length && ops[k]![0] !== ' '; k++) (ops[k]![0] === '-' ? del : add).push(ops[k]![1]);
    const cmd = del.length === 0 ? 'a' : add.length === 0 ? 'd' : 'c';
    // An append names the old line it follows, a delete the new line it would have followed.
    out.push(`${cmd === 'a' ? `${x}` : range(x, del.length)}${cmd}${cmd === 'd' ? `${y}` : range(y, add.length)}`);
    for (const l of del) out.push(`< ${l}`);
    if (cmd === 'c') out.push('---');
    for (const l of add) out.push(`> ${l}`);
    x += del.length;
    y += add.length;
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}

export function diffCommand(sh: Shell, m: Machine, argv: readonly string[], io: Io): number {
  const g = getopt(argv, 'upU:');
  if (g.error !== undefined || g.rest.length !== 2) {
    io.stderr.write(`${g.error !== undefined ? `diff: ${g.error}\n` : ''}usage: diff [-up] [-U lines] file1 file2\n`);
    return 2;
  }
  let context = 3;
  let p = false;
  let unified = false;
  for (const [c, v] of g.opts) {
    if (c === 'p') p = unified = true;
    if (c === 'u') unified = true;
    if (c === 'U') {
      context = Number(v);
      unified = true;
    }
  }
  const [an, bn] = g.rest as [string, string];
  const a = sh.readFile(m, an);
  const b = sh.readFile(m, bn);
  for (const [n, t] of [[an, a], [bn, b]] as const) {
    if (t === undefined) {
      io.stderr.write(`diff: ${n}: No such file or directory\n`);
      return 2;
    }
  }
  const d = unified ? unifiedDiff(an, a!, bn, b!, context, p) : normalDiff(a!, b!);
  io.stdout.write(d);
  return d === '' ? 0 : 1;
}
