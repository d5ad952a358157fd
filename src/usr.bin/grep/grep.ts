/**
 * grep(1) (usr.bin/grep) for the lab shell's text: standard input (a
 * pipe: `netstat -ss | grep -c forward`) or a machine's files.  Patterns
 * are POSIX basic regular expressions, extended ones with -E, fixed
 * strings with -F, turned into JavaScript's (bre()/ere()); -c counts,
 * -A/-B/-C print context with util.c's `--` between groups, -n numbers,
 * -v inverts, -i ignores case, -w/-x match words or whole lines, -q is
 * quiet, -h/-H hide or show file names (shown with more than one file).
 */
import type { Io } from '../../lib/io.js';
import { getopt } from '../../lib/getopt.js';

/** Where a text tool reads: standard input, or files by name. */
export interface TextFiles {
  stdin: string | null;
  read(name: string): string | undefined;
}

const USAGE =
  'usage: grep [-abcEFGHhIiLlnoqRsUVvwxZ] [-A num] [-B num] [-C[num]] [-e pattern]\n' +
  '\t[-f file] [-m num] [--binary-files=value] [--context[=num]]\n' +
  '\t[--label=name] [--line-buffered] [--null] [pattern] [file ...]\n';

/** POSIX bracket classes as JavaScript ranges. */
const CLASSES: Record<string, string> = {
  alpha: 'A-Za-z', digit: '0-9', alnum: 'A-Za-z0-9', upper: 'A-Z', lower: 'a-z', space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', cntrl: '\\x00-\\x1f\\x7f', print: ' -~', graph: '!-~',
};

/** A bracket expression from s[i] ('['), as JavaScript; and where it ends. */
function bracket(s: string, i: number): [string, number] {
  let j = i + 1;
  let out = '[';
  if (s[j] === '^') {
    out += '^';
    j++;
  }
  // A ']' first is a member.
  if (s[j] === ']') {
    out += '\\]';
    j++;
  }
  for (; j < s.length && s[j] !== ']'; j++) {
    const c = s[j]!;
    if (c === '[' && s[j + 1] === ':') {
      const e = s.indexOf(':]', j + 2);
      const cls = e < 0 ? undefined : CLASSES[s.slice(j + 2, e)];
      if (cls === undefined) throw new Error('invalid character class');
      out += cls;
      j = e + 1;
    } else if (c === '\\' || c === '[') out += '\\' + c;
    else out += c;
  }
  if (j >= s.length) throw new Error('brackets ([ ]) not balanced');
  return [out + ']', j + 1];
}

/** A POSIX basic regular expression as JavaScript: \( \) \{ \} group and count; ( ) { } | + ? are themselves. */
export function bre(s: string): string {
  let out = '';
  for (let i = 0; i < s.length;) {
    const c = s[i]!;
    if (c === '[') {
      const [b, j] = bracket(s, i);
      out += b;
      i = j;
    } else if (c === '\\' && i + 1 < s.length) {
      const d = s[i + 1]!;
      if ('(){}'.includes(d)) out += d;
      else if (d === '<' || d === '>') out += '\\b';
      else out += '\\' + d; // back-references and escaped characters read the same
      i += 2;
    } else if ('(){}|+?'.includes(c)) {
      out += '\\' + c;
      i++;
    } else if (c === '*' && (out === '' || out === '^' || out.endsWith('('))) {
      // A leading * is an ordinary character.
      out += '\\*';
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** A POSIX extended regular expression as JavaScript: bracket classes and \< \> translated. */
export function ere(s: string): string {
  let out = '';
  for (let i = 0; i < s.length;) {
    const c = s[i]!;
    if (c === '[') {
      const [b, j] = bracket(s, i);
      out += b;
      i = j;
    } else if (c === '\\' && i + 1 < s.length) {
      const d = s[i + 1]!;
      out += d === '<' || d === '>' ? '\\b' : '\\' + d;
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

export function grep(argv: readonly string[], io: Io, files: TextFiles): number {
  // -C is two lines of context, -NUM that many (grep.c's optstring has C without an argument).
  const g = getopt(argv, '0123456789cCEFGHhilnqsvwxA:B:e:');
  if (g.error !== undefined) {
    io.stderr.write(`grep: ${g.error}\n${USAGE}`);
    return 2;
  }
  let mode: 'G' | 'E' | 'F' = 'G';
  let cflag = false;
  let iflag = false;
  let nflag = false;
  let qflag = false;
  let sflag = false;
  let vflag = false;
  let wflag = false;
  let xflag = false;
  let Hflag = false;
  let hflag = false;
  let lflag = false;
  let Aflag = 0;
  let Bflag = 0;
  const patterns: string[] = [];
  let digits = false;
  for (const [c, arg] of g.opts) {
    const wasDigits = digits;
    digits = false;
    switch (c) {
      case 'E': case 'F': case 'G': mode = c; break;
      case 'c': cflag = true; break;
      case 'i': iflag = true; break;
      case 'l': lflag = true; break;
      case 'n': nflag = true; break;
      case 'q': qflag = true; break;
      case 's': sflag = true; break;
      case 'v': vflag = true; break;
      case 'w': wflag = true; break;
      case 'x': xflag = true; break;
      case 'H': Hflag = true; hflag = false; break;
      case 'h': hflag = true; Hflag = false; break;
      case 'e': patterns.push(arg!); break;
      case 'C': Aflag = Bflag = 2; break;
      case 'A': case 'B': {
        // strtonum(optarg, 1, INT_MAX)
        const n = /^\d+$/.test(arg!) ? Number(arg) : NaN;
        if (!(n >= 1 && n <= 0x7fffffff)) {
          io.stderr.write(`grep: context ${Number.isNaN(n) ? 'invalid' : n < 1 ? 'too small' : 'too large'}\n`);
          return 2;
        }
        if (c === 'A') Aflag = n;
        else Bflag = n;
        break;
      }
      default:
        if (c >= '0' && c <= '9') {
          // -3 is three lines of context; digits in one word make one number.
          Aflag = Bflag = (wasDigits ? Aflag * 10 : 0) + Number(c);
          digits = true;
          continue;
        }
    }
  }
  let rest = g.rest;
  if (patterns.length === 0) {
    if (rest.length === 0) {
      io.stderr.write(USAGE);
      return 2;
    }
    patterns.push(rest[0]!);
    rest = rest.slice(1);
  }
  let re: RegExp;
  try {
    // Each pattern (and each line of one) is an alternative.
    const alts = patterns.flatMap((p) => p.split('\n')).map((p) => (mode === 'F' ? p.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&') : mode === 'E' ? ere(p) : bre(p)));
    let src = alts.map((a) => `(?:${a})`).join('|');
    if (xflag) src = `^(?:${src})$`;
    else if (wflag) src = `(?<![A-Za-z0-9_])(?:${src})(?![A-Za-z0-9_])`;
    re = new RegExp(src, iflag ? 'i' : '');
  } catch (e) {
    io.stderr.write(`grep: ${e instanceof Error && !e.message.startsWith('Invalid') ? e.message : 'invalid regular expression'}\n`);
    return 2;
  }
  // One file (or standard input): no names, unless -H.
  const names = rest.length === 0 ? [null] : rest;
  const showName = Hflag || (!hflag && names.length > 1);
  let matched = false;
  let fileErr = false;
  let first = false;
  for (const name of names) {
    const text = name === null ? files.stdin ?? '' : files.read(name);
    if (text === undefined) {
      if (!sflag) io.stderr.write(`grep: ${name}: No such file or directory\n`);
      fileErr = true;
      continue;
    }
    const label = name ?? '(standard input)';
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    let count = 0;
    let tail = 0;
    let linesqueued = 0;
    const queue: number[] = [];
    const print = (i: number, sep: string): void => {
      io.stdout.write(`${showName ? label + sep : ''}${nflag ? `${i + 1}${sep}` : ''}${lines[i]}\n`);
    };
    for (let i = 0; i < lines.length; i++) {
      const hit = re.test(lines[i]!) !== vflag;
      if (hit) count++;
      if (qflag || cflag || lflag) {
        if ((qflag || lflag) && count > 0) break;
        continue;
      }
      // util.c's procfile/procline: a queue of -B lines, -A lines after, `--` between groups.
      if (hit) {
        if (first && tail === 0 && (Aflag > 0 || (Bflag > 0 && Bflag < linesqueued))) io.stdout.write('--\n');
        first = true;
        tail = Aflag;
        for (const q of queue) print(q, '-');
        queue.length = 0;
        linesqueued = 0;
        print(i, ':');
      } else if (tail > 0) {
        print(i, '-');
        tail--;
      } else if (Bflag > 0) {
        queue.push(i);
        if (queue.length > Bflag) queue.shift();
        linesqueued++;
      }
    }
    if (count > 0) matched = true;
    if (cflag) io.stdout.write(`${showName ? label + ':' : ''}${count}\n`);
    if (lflag && count > 0) io.stdout.write(`${label}\n`);
    if (qflag && matched) return 0;
  }
  return matched ? (fileErr && !qflag ? 2 : 0) : fileErr ? 2 : 1;
}
