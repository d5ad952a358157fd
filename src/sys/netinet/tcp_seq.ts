/**
 * TCP sequence number arithmetic (sys/netinet/tcp_seq.h): sequence numbers
 * are u_int32_t compared modulo 2^32 through a signed 32-bit difference,
 * and timestamps the same way (RFC 7323 PAWS).  Values here are plain
 * numbers in [0, 2^32); results of additions go through seq_add() so they
 * stay in that range.
 */

/** a - b as a signed 32-bit number. */
export function seq_diff(a: number, b: number): number {
  return (a - b) | 0;
}

export function SEQ_LT(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
export function SEQ_LEQ(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}
export function SEQ_GT(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}
export function SEQ_GEQ(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
export function SEQ_MIN(a: number, b: number): number {
  return SEQ_LT(a, b) ? a : b;
}
export function SEQ_MAX(a: number, b: number): number {
  return SEQ_GT(a, b) ? a : b;
}

/** a + n modulo 2^32 (n may be negative). */
export function seq_add(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** Timestamps compare like sequence numbers (TSTMP_LT/TSTMP_GEQ). */
export function TSTMP_LT(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}
export function TSTMP_GEQ(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
