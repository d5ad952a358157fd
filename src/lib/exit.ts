/**
 * exit(3) and errx(3) for tools that run inside the process: the tool
 * throws an Exit wherever it would end, and its entry point turns it into
 * the status the shell sees.  Anything else thrown is a bug and goes on.
 */
export class Exit {
  constructor(readonly status: number) {}
}

/** Runs a tool's body; an Exit thrown anywhere inside becomes its status. */
export function exitStatus(body: () => number): number {
  try {
    return body();
  } catch (e) {
    if (e instanceof Exit) return e.status;
    throw e;
  }
}

/** exitStatus() for a tool that runs in lab time (a promise of its status). */
export async function exitStatusAsync(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof Exit) return e.status;
    throw e;
  }
}
