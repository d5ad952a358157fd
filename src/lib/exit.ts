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

/**
 * A failure inside packetflow, for a user: one line in the style of
 * err(3), `nc: internal error: what`, never a JavaScript stack (set
 * PACKETFLOW_DEBUG=1 in the environment to have it follow).
 */
export function internalError(name: string, e: unknown, label = 'internal error'): string {
  const what = e instanceof Error ? e.message : String(e);
  const stack = process.env['PACKETFLOW_DEBUG'] && e instanceof Error && e.stack !== undefined ? e.stack + '\n' : '';
  return `${name}: ${label}: ${what.split('\n')[0]}\n${stack}`;
}
