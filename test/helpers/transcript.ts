/**
 * The transcript checks of readme.test.ts and docs.test.ts: the fenced
 * blocks of a markdown text, and whether the lines a transcript shows come
 * out of a run in order.
 */

/** The fenced blocks of a markdown text: their info string, lines and the line the block starts at. */
export function fencedBlocks(text: string): Array<{ info: string; lines: string[]; at: number }> {
  const out: Array<{ info: string; lines: string[]; at: number }> = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text))
    out.push({ info: m[1]!, lines: m[2]!.replace(/\n$/, '').split('\n'), at: text.slice(0, m.index).split('\n').length });
  return out;
}

/** Source line numbers move with every edit: `file.ts:216` is compared as `file.ts:N`. */
export function unnumbered(l: string): string {
  return l.replace(/\.ts:\d+/g, '.ts:N');
}

/** A shown line, and whether lines may be left out before it (it follows a `...` line, or starts the transcript). */
export interface Want {
  line: string;
  gap: boolean;
}

/**
 * The first shown line missing from `got`, or null: in that order, each
 * right after the one before unless a `...` line stands between them.
 * `matches(gotLine, shownLine)` compares two lines (both unnumbered).
 */
export function inOrder(got: string[], want: Want[], matches: (g: string, w: string) => boolean): string | null {
  let i = 0;
  for (const w of want) {
    const shown = unnumbered(w.line);
    const at = (j: number): boolean => matches(unnumbered(got[j]!), shown);
    if (w.gap) {
      while (i < got.length && !at(i)) i++;
    }
    if (i >= got.length || !at(i)) return w.line;
    i++;
  }
  return null;
}
