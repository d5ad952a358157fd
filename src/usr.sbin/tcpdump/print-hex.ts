/**
 * Raw packet dumps: default_print() of OpenBSD's tcpdump.c.  Used by -x
 * (old style: " %04x" words, eight to a line, each line starting with
 * "\n\t\t\t"), -X (emacs-hexl: "  0000: 4500 0054 ...  E..T" lines) and -A
 * (the bytes as text), and for payloads no printer understands.
 */

import type { PrintState } from './print.js';

const HEXD = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

function isprint(c: number): boolean {
  return c >= 0x20 && c < 0x7f;
}

/** Dump `length` bytes at `off`, clipped to what was captured. */
export function default_print(st: PrintState, off: number, length: number): void {
  if (st.snapend - off < length) length = st.snapend - off;
  if (length <= 0) {
    // Each style still starts its own line, as the C code does for an empty dump.
    if (st.Xflag || st.Aflag) st.out.nl();
    return;
  }
  if (st.Xflag) default_print_hexl(st, off, length);
  else if (st.Aflag) default_print_ascii(st, off, length);
  else {
    const out = st.out;
    const b = st.buf;
    let nshorts = length >>> 1;
    let i = 0;
    let p = off;
    while (--nshorts >= 0) {
      if (i++ % 8 === 0) out.str('\n\t\t\t');
      out.ch(32);
      out.hex((b[p] << 8) | b[p + 1], 4);
      p += 2;
    }
    if (length & 1) {
      if (i % 8 === 0) out.str('\n\t\t\t');
      out.ch(32);
      out.hex(b[p], 2);
    }
  }
}

function default_print_hexl(st: PrintState, off: number, length: number): void {
  const out = st.out;
  const b = st.buf;
  out.nl();
  for (let i = 0; i < length; i += 16) {
    out.str('  ');
    out.hex(i, 4);
    out.str(': ');
    const jm = length - i > 16 ? 16 : length - i;
    let j = 0;
    for (; j < jm; j++) {
      const v = b[off + i + j];
      out.ch(HEXD[v >>> 4]!);
      out.ch(HEXD[v & 15]!);
      if (j % 2 === 1) out.ch(32);
    }
    for (; j < 16; j++) out.str(j % 2 === 1 ? '   ' : '  ');
    out.ch(32);
    for (j = 0; j < jm; j++) {
      const c = b[off + i + j];
      out.ch(isprint(c) ? c : 46);
    }
    out.nl();
  }
}

function default_print_ascii(st: PrintState, off: number, length: number): void {
  const out = st.out;
  const b = st.buf;
  out.nl();
  for (let i = 0; i < length; i++) {
    const c = b[off + i];
    out.ch(isprint(c) || c === 9 || c === 10 || c === 13 ? c : 46);
  }
}
