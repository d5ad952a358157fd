/**
 * The counters and the closing statistics of ping and ping6 (one
 * summary() in sbin/ping/ping.c since OpenBSD merged ping6 into it).
 */
export class PingStats {
  ntransmitted = 0;
  nreceived = 0;
  nrepeats = 0;
  /** Round trips in ms. */
  tmin = Infinity;
  tmax = 0;
  tsum = 0;
  tsumsq = 0;
  private readonly seen = new Set<number>();

  /** Counts the echo reply of sequence seq; true when it is a duplicate (counted in nrepeats instead). */
  reply(seq: number): boolean {
    if (this.seen.has(seq)) {
      ++this.nrepeats;
      return true;
    }
    this.seen.add(seq);
    ++this.nreceived;
    return false;
  }

  /** Adds a round trip of t ms. */
  rtt(t: number): void {
    this.tsum += t;
    this.tsumsq += t * t;
    if (t < this.tmin) this.tmin = t;
    if (t > this.tmax) this.tmax = t;
  }

  /** Seconds to wait after the last request: twice the longest round trip (at least 1), or maxwait when nothing came back. */
  lingerSecs(maxwait: number): number {
    return this.nreceived ? Math.max(1, Math.floor((2 * this.tmax) / 1000)) : maxwait;
  }

  /** The statistics ping prints when done; round trips only when the requests carried times. */
  summary(hostname: string, timing: boolean): string {
    const { ntransmitted, nreceived, nrepeats } = this;
    let s = `\n--- ${hostname} ping statistics ---\n`;
    s += `${ntransmitted} packets transmitted, ${nreceived} packets received, `;
    if (nrepeats) s += `${nrepeats} duplicates, `;
    if (ntransmitted) {
      if (nreceived > ntransmitted) s += "-- somebody's duplicating packets!";
      else s += `${(((ntransmitted - nreceived) * 100) / ntransmitted).toFixed(1)}% packet loss`;
    }
    s += '\n';
    if (timing && nreceived + nrepeats > 0) {
      const num = nreceived + nrepeats;
      const avg = this.tsum / num;
      const dev = Math.sqrt(Math.max(0, this.tsumsq / num - avg * avg));
      s += `round-trip min/avg/max/std-dev = ${this.tmin.toFixed(3)}/${avg.toFixed(3)}/${this.tmax.toFixed(3)}/${dev.toFixed(3)} ms\n`;
    }
    return s;
  }
}
