/**
 * The transcripts in docs/*.md are run as a reader would run them, so the
 * documentation stays true: each block of `host# command` lines and their
 * output is piped into a fresh default lab, and every line shown must
 * come out, in that order and each right after the one before: a line
 * `...` stands for lines left out (the first shown line may come after
 * any), `...` inside a line for part of it; source line numbers
 * (`file.ts:216`) are compared as `file.ts:N`, since they move with
 * every edit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './lab/helpers.js';
import { packetflow } from './helpers/cli.js';

const PROMPT = /^([a-z][a-z0-9-]*)# (.*)$/;
const docs = join(repoRoot(), 'docs');

interface Transcript {
  where: string;
  lines: string[];
}

/** The shell transcripts of a markdown file: unlabelled fenced blocks with prompts (not `$ ` command lines). */
function transcripts(name: string): Transcript[] {
  const text = readFileSync(join(docs, name), 'utf8');
  const out: Transcript[] = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const lines = m[2]!.replace(/\n$/, '').split('\n');
    if (m[1] !== '' || !lines.some((l) => PROMPT.test(l)) || lines.some((l) => l.startsWith('$ '))) continue;
    out.push({ where: `docs/${name}:${text.slice(0, m.index).split('\n').length}`, lines });
  }
  return out;
}

/** A shown line as a pattern: line numbers masked, `...` inside it any text. */
function pattern(l: string): RegExp {
  const parts = l.replace(/\.ts:\d+/g, '.ts:N').split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/** A shown line, and whether lines may be left out before it (it follows a `...` line, or starts the transcript). */
interface Want {
  line: string;
  gap: boolean;
}

/**
 * The first shown line missing from `got`, or null: in that order, and
 * each right after the one before unless a `...` line stands between them.
 */
function inOrder(got: string[], want: Want[]): string | null {
  let i = 0;
  for (const w of want) {
    const p = pattern(w.line);
    const at = (j: number): boolean => p.test(got[j]!.replace(/\.ts:\d+/g, '.ts:N'));
    if (w.gap) {
      while (i < got.length && !at(i)) i++;
    }
    if (i >= got.length || !at(i)) return w.line;
    i++;
  }
  return null;
}

for (const f of readdirSync(docs).filter((x) => x.endsWith('.md')).sort()) {
  for (const t of transcripts(f)) {
    test(`docs/${f}: the transcript at line ${t.where.split(':').pop()} comes out of the default lab as shown`, { skip: import.meta.url.includes('/dist/') ? false : 'runs the compiled command (npm test)' }, () => {
      const commands: string[] = [];
      const want: Want[] = [];
      let gap = true;
      for (const l of t.lines) {
        const p = PROMPT.exec(l);
        // Each command on the host its prompt names (`on HOST` is not echoed).
        if (p !== null) commands.push(`on ${p[1]}`, p[2]!);
        if (l.trim() === '...') gap = true;
        else {
          want.push({ line: l, gap });
          gap = false;
        }
      }
      const r = packetflow([], commands.join('\n') + '\n');
      const missing = inOrder(r.out.split('\n'), want);
      assert.equal(missing, null, `${t.where}: line not in the output (or out of order): ${missing}\n--- output:\n${r.out}`);
    });
  }
}
