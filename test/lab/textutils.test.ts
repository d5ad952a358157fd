/**
 * The shell's text tools as OpenBSD prints them: grep (basic and extended
 * patterns, -c, context with util.c's "--"), wc, sort, diff's normal
 * format, "\"" in double quotes, /dev/null, and completion after options
 * that take an interface or a pfctl -s modifier.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sh, talk } from './helpers.js';
import { bre, ere } from '../../src/usr.bin/grep/grep.js';
import { Shell, parseLine } from '../../src/lab/shell.js';


async function withFiles(files: Record<string, string>, lines: string): Promise<Awaited<ReturnType<typeof sh>>> {
  const lab = talk();
  for (const [n, t] of Object.entries(files)) lab.machine('router')!.files.set(n, t);
  return sh(lines, lab);
}

test('grep: -E, -c, -n, -v, -i, context after and before with "--" as util.c prints it, file names with several files', async () => {
  const t = 'a1\nb2\nc3\nd4\ne5\nf6\n';
  const r = await withFiles({ t, u: 'c3\nzz\n' }, [
    "grep -A 1 -E '[ae]' t",
    'echo ==',
    "grep -A 1 -B 1 -E 'c|e' t",
    'echo ==',
    'grep -B 1 d t',
    'echo ==',
    "grep -c '[0-9]' t",
    "grep -n -v -i 'A' t",
    'grep c t u',
    'grep -c c t u',
    "cat t | grep -E 'b2|e5'",
    "grep -1 '[[:alpha:]]4' t",
  ].join('\n'));
  assert.equal(r.err, '');
  assert.equal(r.out, [
    'a1', 'b2', '--', 'e5', 'f6', '==',
    // After-context ran out on d4, so e5 starts a new group: "--" even though it is the next line.
    'b2', 'c3', 'd4', '--', 'e5', 'f6', '==',
    'c3', 'd4', '==',
    '6',
    '2:b2', '3:c3', '4:d4', '5:e5', '6:f6',
    't:c3', 'u:c3',
    't:1', 'u:1',
    'b2', 'e5',
    'c3', 'd4', 'e5',
    '',
  ].join('\n'));
  // Statuses: 0 found, 1 none, 2 trouble.
  assert.equal((await withFiles({ t }, 'grep zz t')).status, 1);
  const missing = await withFiles({ t }, 'grep a nosuch');
  assert.equal(missing.status, 2);
  assert.equal(missing.err, 'grep: nosuch: No such file or directory\n');
});

test('grep patterns: basic ones take ( ) | + ? { } as themselves and \\( \\) \\{ \\} as operators; -E the other way round', async () => {
  assert.equal(bre('bytes (x)+'), 'bytes \\(x\\)\\+');
  assert.equal(bre('\\(ab\\)\\{2\\}'), '(ab){2}');
  assert.equal(bre('*a[]x]'), '\\*a[\\]x]');
  assert.equal(ere('(ab){2}|c+[[:space:]]'), '(ab){2}|c+[ \\t\\n\\r\\f\\v]');
  const r = await sh([
    "netstat -s -p tcp | grep -c 'packets (0 bytes)'",
    "netstat -s -p tcp | grep -E -c 'packets \\(0 bytes\\)'",
    "netstat -s -p tcp | grep -c -E 'acks|duplicate'",
  ].join('\n'));
  assert.equal(r.err, '');
  const [a, b, c] = r.out.split('\n').map(Number);
  assert.ok(a! > 3, r.out);
  assert.equal(a, b);
  assert.ok(c! > 3, r.out);
});

test('wc and sort as OpenBSD prints them', async () => {
  const r = await withFiles({ t: 'a1\nb2\nc3\nd4\ne5\nf6\n', n: '10\n9\n100\n-1\nb\na\n' }, [
    'wc t',
    'cat t | wc -l',
    'wc -l t n',
    'sort n',
    'sort -n n',
    'cat n | sort -r -n',
    'sort -r n',
  ].join('\n'));
  assert.equal(r.err, '');
  assert.equal(r.out, [
    '       6       6      18 t',
    '       6',
    '       6 t',
    '       6 n',
    '      12 total',
    '-1', '10', '100', '9', 'a', 'b',
    '-1', 'a', 'b', '9', '10', '100',
    '100', '10', '9', 'b', 'a', '-1',
    'b', 'a', '9', '100', '10', '-1',
    '',
  ].join('\n'));
});

test('sort takes a file of 200000 lines (no argument spread onto the stack)', async () => {
  const big = Array.from({ length: 200000 }, (_, i) => String(199999 - i)).join('\n') + '\n';
  const r = await withFiles({ big }, 'sort -n big | wc -l\nsort -n big | grep -x -n 199999');
  assert.equal(r.err, '');
  assert.equal(r.out, '  200000\n200000:199999\n');
});

test('diff without -u prints the normal format; diff -u stays unified', async () => {
  const r = await withFiles({ x: '1\n2\na\n4\n', y: '1\n2\nb\n4\n5\n' }, 'diff x y\necho $?\ndiff -u x y');
  assert.equal(r.out, [
    '3c3', '< a', '---', '> b', '4a5', '> 5',
    '$?',
    '--- x', '+++ y', '@@ -1,4 +1,5 @@', ' 1', ' 2', '-a', '+b', ' 4', '+5',
    '',
  ].join('\n'));
  assert.equal(r.status, 1);
});

test('"\\"" inside double quotes is a quote, as in sh; other backslashes stay', async () => {
  assert.deepEqual(parseLine('echo "say \\"hi\\" \\\\ \\$x \\n"')[0]!.stages[0]!.argv, ['echo', 'say "hi" \\ $x \\n']);
  const r = await sh('echo "a \\"quoted\\" word"');
  assert.equal(r.out, 'a "quoted" word\n');
});

test('pfctl -f /dev/null loads an empty ruleset; /dev/null reads empty', async () => {
  const r = await sh('pfctl -f /dev/null\npfctl -sr | wc -l\ncat /dev/null\nwc -c /dev/null');
  assert.equal(r.err, '');
  assert.equal(r.out, '       0\n       0 /dev/null\n');
});

test('completion: interfaces only after tcpdump -ni, every -s modifier after pfctl -s', () => {
  const shell = new Shell(talk());
  assert.deepEqual(shell.complete('tcpdump -ni ')[0], ['em0', 'em1', 'em2', 'em3', 'ix0', 'ix1', 'lo0', 'pflog0']);
  assert.deepEqual(shell.complete('client: tcpdump -n -i e')[0], ['em0']);
  assert.deepEqual(shell.complete('netstat -I ')[0], ['em0', 'em1', 'em2', 'em3', 'ix0', 'ix1', 'lo0', 'pflog0']);
  assert.deepEqual(shell.complete('pfctl -s')[0], ['-sA', '-sI', '-sS', '-sT', '-sa', '-si', '-sl', '-sm', '-so', '-sq', '-sr', '-ss', '-st']);
});
