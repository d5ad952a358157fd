/**
 * wc(1) (usr.bin/wc) for the lab shell's text: lines, words and bytes of
 * standard input or of a machine's files, each count as wc.c's
 * print_counts() prints it (" %7lld"), the name after, a total line for
 * more than one file.  -l, -w, -c (bytes) and -m (characters) choose.
 */
import { textBytes, type Io } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';
import type { TextFiles } from '../grep/grep.js';

export function wc(argv: readonly string[], io: Io, files: TextFiles): number {
  const g = getopt(argv, 'chlmw');
  if (g.error !== undefined) {
    io.stderr.write(`wc: ${g.error}\nusage: wc [-c | -m] [-hlw] [file ...]\n`);
    return 1;
  }
  let l = false;
  let w = false;
  let c = false;
  let m = false;
  for (const [o] of g.opts) {
    if (o === 'l') l = true;
    else if (o === 'w') w = true;
    else if (o === 'c') {
      c = true;
      m = false;
    } else if (o === 'm') {
      m = true;
      c = false;
    }
  }
  if (!l && !w && !c && !m) l = w = c = true;
  const print = (lines: number, words: number, chars: number, name: string | null): void => {
    let s = '';
    if (l) s += ` ${String(lines).padStart(7)}`;
    if (w) s += ` ${String(words).padStart(7)}`;
    if (c || m) s += ` ${String(chars).padStart(7)}`;
    io.stdout.write(name === null ? `${s}\n` : `${s} ${name}\n`);
  };
  let status = 0;
  const total = [0, 0, 0];
  const names = g.rest.length === 0 ? [null] : g.rest;
  for (const name of names) {
    const text = name === null ? files.stdin ?? '' : files.read(name);
    if (text === undefined) {
      io.stderr.write(`wc: ${name}: No such file or directory\n`);
      status = 1;
      continue;
    }
    let lines = 0;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines++;
    const words = text.split(/[ \t\n\v\f\r]+/).filter((x) => x !== '').length;
    const chars = m ? [...text].length : textBytes(text).length;
    print(lines, words, chars, name);
    total[0] += lines;
    total[1] += words;
    total[2] += chars;
  }
  if (names.length > 1) print(total[0]!, total[1]!, total[2]!, 'total');
  return status;
}
