/** Lab test helpers: the talk lab, a shell on it, and running lines or scripts as text. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StringOutput } from '../../src/lib/io.js';
import { Lab } from '../../src/lab/lab.js';
import { TALK_LAB_YAML } from '../../src/lab/default.js';
import { Shell } from '../../src/lab/shell.js';
import { runScript } from '../../src/lab/main.js';

export function talk(): Lab {
  return Lab.fromYaml(TALK_LAB_YAML, 'talk.yaml');
}

export async function sh(lines: string, lab = talk(), echo = false): Promise<{ out: string; err: string; status: number; shell: Shell }> {
  const shell = new Shell(lab, { echo });
  const out = new StringOutput();
  const err = new StringOutput();
  let status = 0;
  for (const l of lines.split('\n')) status = await shell.run(l, { stdout: out, stderr: err });
  return { out: out.text(), err: err.text(), status, shell };
}

export async function script(text: string, lab = talk()): Promise<string> {
  const shell = new Shell(lab, { echo: true });
  const out = new StringOutput();
  await runScript(shell, text, { stdout: out, stderr: out });
  return out.text();
}

/** The checkout: the nearest directory above this file with a package.json. */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
}
