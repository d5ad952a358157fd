/**
 * Background programs of the lab shell: `nc -l 12345 &`, `tcpbench -s &`.
 * A program is an async process on a machine's kernel (nc(), tcpbench's
 * process) that nobody awaits: it runs whenever the world runs with
 * programs in mind (sleep, foreground programs, the interactive clock).
 *
 * Job control as sh(1) has it: `kill %N` ends a job (its sockets are
 * closed, as exit(3) would), `kill -STOP %N` stops it and `kill -CONT %N`
 * lets it go on.  A stopped process makes no system calls, so its sockets
 * keep what arrives: a reader that does not read, whose Recv-Q fills
 * (the Socket Buffer slide).  Stopping works on the wakeups: the job's
 * sockets (so_cpid is the job's pid) keep their wakeups back until CONT.
 * `kill -INT %N` is the job's SIGINT: a program that catches it (ping,
 * tcpbench) winds up and prints its summary; others die as of SIGTERM.
 */
import type { Kernel } from '../sys/kern/kernel.js';
import { soclose, type Socket } from '../sys/kern/uipc_socket.js';

export type JobState = 'Running' | 'Stopped' | 'Done' | 'Terminated';

/**
 * A job's own signal handling: `sigint` is the program's SIGINT (an
 * AbortSignal it watches); `silence` mutes its output, for a program that
 * has no sockets to close (ping) and dies of SIGTERM without a word.
 */
export interface JobSignals {
  readonly sigint: AbortController;
  readonly catchesSigint: boolean;
  readonly silence: () => void;
}

export class ProgramJob {
  state: JobState = 'Running';
  status: number | null = null;
  /** Sockets held while stopped, with the wakeups they were given meanwhile. */
  private held = new Map<Socket, { upcall: Socket['so_upcall']; pending: number }>();

  constructor(
    readonly host: string,
    readonly k: Kernel,
    readonly text: string,
    /** so_cpid of the job's sockets; 0: the program does not say (no job control). */
    readonly pid: number,
    run: Promise<number>,
    private readonly signals: JobSignals | null = null,
  ) {
    run.then(
      (st) => {
        if (this.state !== 'Terminated') this.state = 'Done';
        this.status = st;
      },
      () => {
        // A process whose sockets were closed under it by kill ends here.
        if (this.state !== 'Terminated') this.state = 'Done';
        this.status = 1;
      },
    );
  }

  get done(): boolean {
    return this.state === 'Done' || this.state === 'Terminated';
  }

  /** The job's sockets: every PCB of the kernel whose socket carries the job's pid. */
  sockets(): Socket[] {
    if (this.pid === 0) return [];
    const out: Socket[] = [];
    const inet = this.k.inet;
    for (const t of [inet.tcbtable, inet.tcb6table, inet.udbtable, inet.udb6table]) {
      for (let p = t.inpt_head; p !== null; p = p.qnext) if (p.inp_socket.so_cpid === this.pid) out.push(p.inp_socket);
    }
    return out;
  }

  /** SIGSTOP: wakeups of its sockets are kept back. */
  stop(): string | null {
    if (this.done) return 'no such job';
    if (this.pid === 0) return 'this program cannot be stopped in a lab';
    if (this.state === 'Stopped') return null;
    this.state = 'Stopped';
    for (const so of this.sockets()) {
      if (this.held.has(so)) continue;
      const h = { upcall: so.so_upcall, pending: 0 };
      this.held.set(so, h);
      so.so_upcall = (_s, what) => {
        h.pending |= what;
      };
    }
    return null;
  }

  /** SIGCONT: the wakeups kept back are delivered. */
  cont(): string | null {
    if (this.done) return 'no such job';
    if (this.state !== 'Stopped') return null;
    this.state = 'Running';
    const held = [...this.held];
    this.held.clear();
    for (const [so, h] of held) {
      so.so_upcall = h.upcall;
      if (h.pending !== 0 && h.upcall !== null) h.upcall(so, h.pending);
    }
    return null;
  }

  /** SIGINT: a program that catches it winds up (ping's statistics); others die. */
  interrupt(): string | null {
    if (this.done) return 'no such job';
    const sg = this.signals;
    if (sg === null || !sg.catchesSigint) return this.kill();
    if (this.state === 'Stopped') this.cont();
    sg.sigint.abort();
    return null;
  }

  /** SIGTERM: the process exits and the kernel closes its sockets. */
  kill(): string | null {
    if (this.done) return 'no such job';
    const sg = this.signals;
    if (this.pid === 0 && sg !== null) {
      // No sockets of its own: it stops where it is, silently.
      this.state = 'Terminated';
      sg.silence();
      sg.sigint.abort();
      return null;
    }
    if (this.pid === 0) return 'this program ends by itself (tcpbench -t secs)';
    for (const [so, h] of this.held) so.so_upcall = h.upcall;
    this.held.clear();
    this.state = 'Terminated';
    for (const so of this.sockets()) {
      so.so_upcall = null;
      soclose(so);
    }
    return null;
  }
}
