/**
 * getopt(3) as OpenBSD's libc does it: options end at the first non-option
 * or at "--", flags may be bundled ("-nr file", "-c5"), and errors are the
 * libc texts ("unknown option -- z", "option requires an argument -- c")
 * for the tool to print before its usage line.
 */

export interface GetoptResult {
  /** Options in command-line order, as [letter, argument-or-undefined]. */
  opts: Array<[string, string | undefined]>;
  /** Operands left after the options. */
  rest: string[];
  /** libc's diagnostic for the first bad option, without the program prefix. */
  error?: string;
}

export function getopt(argv: readonly string[], optstring: string): GetoptResult {
  const opts: Array<[string, string | undefined]> = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a.length < 2 || a[0] !== '-') break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const k = optstring.indexOf(c);
      if (c === ':' || k < 0) {
        return { opts, rest: argv.slice(i + 1), error: `unknown option -- ${c}` };
      }
      if (optstring[k + 1] === ':') {
        let arg: string | undefined;
        if (j + 1 < a.length) arg = a.slice(j + 1);
        else if (i + 1 < argv.length) arg = argv[++i];
        else return { opts, rest: [], error: `option requires an argument -- ${c}` };
        opts.push([c, arg]);
        break;
      }
      opts.push([c, undefined]);
    }
  }
  return { opts, rest: argv.slice(i) };
}
