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
import { fencedBlocks, inOrder, type Want } from './helpers/transcript.js';

const PROMPT = /^([a-z][a-z0-9-]*)# (.*)$/;
const docs = join(repoRoot(), 'docs');

interface Transcript {
  where: string;
  lines: string[];
}

/** The shell transcripts of a markdown file: unlabelled fenced blocks with prompts (not `$ ` command lines). */
function transcripts(name: string): Transcript[] {
  return fencedBlocks(readFileSync(join(docs, name), 'utf8'))
    .filter((b) => b.info === '' && b.lines.some((l) => PROMPT.test(l)) && !b.lines.some((l) => l.startsWith('$ ')))
    .map((b) => ({ where: `docs/${name}:${b.at}`, lines: b.lines }));
}

/** A shown line (unnumbered) as a pattern: `...` inside it any text. */
function pattern(l: string): RegExp {
  const parts = l.split('...').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
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
      const missing = inOrder(r.out.split('\n'), want, (g, w) => pattern(w).test(g));
      assert.equal(missing, null, `${t.where}: line not in the output (or out of order): ${missing}\n--- output:\n${r.out}`);
    });
  }
}
