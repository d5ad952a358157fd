/**
 * V8's inlining budget for packetflow's packet path.
 *
 * A packet's journey is OpenBSD's call graph: dozens of small functions
 * deep (driver, ifiq, ether_input, ip_input, pf_test, ip_forward,
 * ip_output, arpresolve, ifq, driver again), each kept small so it reads
 * like its kernel counterpart.  V8's default budget (a callee of at most
 * 460 bytes of bytecode, 920 inlined into one function in all) stops
 * inlining halfway along that chain, so every packet pays calls and
 * spills the optimizer could have removed.  A larger budget, set before
 * the packet path is compiled, measured (CPU time, bench/forward and
 * bench/pf, alternating runs): forwarding +10 %, forwarding with a tracer
 * +20 %, pf state hits +15 %, at the cost of larger optimized code.  Once
 * the build emitted module constants as numbers (scripts/build.mjs) the
 * functions got smaller and more of the chain fit: a cumulative budget of
 * 20000 instead of 10000 measured forwarding +6-10 %, with a tracer +10 %,
 * pf state hits +3-5 % (30000 no better; TCP unchanged).
 *
 * The lab commands (`packetflow`, `run`, `exec`: src/cli.ts) and the
 * benchmarks call tuneJit() first, so what the benchmarks measure is what
 * a lab runs.  The file tools (tcpdump -r, pfctl -n) keep V8's defaults:
 * they run for a second or so, and longer compiles cost them more than
 * the larger budget gains.  PACKETFLOW_JIT=default leaves V8's defaults
 * (to compare).
 */
import { setFlagsFromString } from 'node:v8';

/** The flags tuneJit() sets. */
export const JIT_FLAGS = [
  '--max-inlined-bytecode-size=2000',
  '--max-inlined-bytecode-size-cumulative=20000',
  '--max-inlined-bytecode-size-absolute=20000',
];

/** Whether tuneJit() set JIT_FLAGS. */
export let jitTuned = false;

/** Raises V8's inlining budget (once; not with PACKETFLOW_JIT=default). */
export function tuneJit(): void {
  if (jitTuned || process.env.PACKETFLOW_JIT === 'default') return;
  for (const f of JIT_FLAGS) setFlagsFromString(f);
  jitTuned = true;
}

/** How the benchmarks name the JIT settings they ran with. */
export function jitSettings(): string {
  return jitTuned ? `V8 inlining budget raised (src/lib/jit.ts)` : `V8 defaults (PACKETFLOW_JIT=default)`;
}
