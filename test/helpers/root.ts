/**
 * The project's root folder, found by walking up from this file to the
 * nearest package.json: tests run both from test/ (tsx) and from dist/test/.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the tests');
    dir = up;
  }
  return dir;
}

export const ROOT = findRoot();
/** The shared/ folder beside the project (OpenBSD's reference data); may be absent. */
export const SHARED = join(ROOT, '..', 'shared');
