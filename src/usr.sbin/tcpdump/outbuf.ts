/**
 * The printer's output: ASCII written straight into one reusable byte
 * buffer, handed to a sink when nearly full and on flush().  This replaces
 * stdio's printf/putchar of OpenBSD's tcpdump; nothing here allocates per
 * packet, so printing a million packets costs a few hundred sink calls.
 *
 * Numbers follow printf: dec() is %d/%u, hex(n, w) is %0<w>x.  Addresses
 * follow inet_ntoa, inet_ntop (the rules of src/wire/addr.ts) and OpenBSD's
 * ether_ntoa (two hex digits per octet).
 */

import type { Output } from '../../lib/io.js';

/** Receives `length` bytes of `bytes`; must consume or copy them before returning. */
export type Sink = (bytes: Uint8Array, length: number) => void;

const HEX = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];

/** Longest single primitive write (an IPv6 address is 45 bytes at most). */
const SLACK = 64;

export class OutBuf {
  readonly buf: Uint8Array;
  pos = 0;
  private readonly limit: number;
  /** Scratch for the eight words of an IPv6 address. */
  private readonly w6 = new Uint16Array(8);

  constructor(
    private readonly sink: Sink,
    size = 1 << 16,
  ) {
    this.buf = new Uint8Array(Math.max(size, 2 * SLACK));
    this.limit = this.buf.length - SLACK;
  }

  /** Hand what is buffered to the sink. */
  flush(): void {
    if (this.pos > 0) {
      this.sink(this.buf, this.pos);
      this.pos = 0;
    }
  }

  /** A constant ASCII string (or any string whose chars are below 256). */
  str(s: string): void {
    const n = s.length;
    if (this.pos + n > this.limit) {
      this.flush();
      if (n > this.limit) {
        for (let i = 0; i < n; i++) this.ch(s.charCodeAt(i));
        return;
      }
    }
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** One byte (a character code). */
  ch(c: number): void {
    if (this.pos >= this.limit) this.flush();
    this.buf[this.pos++] = c;
  }

  nl(): void {
    if (this.pos >= this.limit) this.flush();
    this.buf[this.pos++] = 10;
  }

  /** A decimal integer (%d / %u). */
  dec(n: number): void {
    if (this.pos >= this.limit) this.flush();
    const b = this.buf;
    if (n < 0) {
      b[this.pos++] = 45;
      n = -n;
    }
    if (n < 10) {
      b[this.pos++] = 48 + n;
      return;
    }
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      b[--p] = 48 + (n - q * 10);
      n = q;
    }
    b[p - 1] = 48 + n;
  }

  /** Decimal, zero-padded to `width` digits (%02d). */
  dec0(n: number, width: number): void {
    let digits = 1;
    for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
    for (; digits < width; digits++) this.ch(48);
    this.dec(n);
  }

  /** Lower-case hex of a non-negative integer up to 2^32-1, at least `width` digits (%0<width>x). */
  hex(n: number, width = 0): void {
    if (this.pos >= this.limit) this.flush();
    n = n >>> 0;
    let digits = 1;
    for (let t = n >>> 4; t !== 0; t >>>= 4) digits++;
    if (digits < width) digits = width;
    const b = this.buf;
    let p = this.pos + digits;
    this.pos = p;
    for (let i = 0; i < digits; i++) {
      b[--p] = HEX[n & 15]!;
      n >>>= 4;
    }
  }

  /** An IPv4 address given as a 32-bit number. */
  ip4(a: number): void {
    this.dec(a >>> 24);
    this.buf[this.pos++] = 46;
    this.dec((a >>> 16) & 0xff);
    this.buf[this.pos++] = 46;
    this.dec((a >>> 8) & 0xff);
    this.buf[this.pos++] = 46;
    this.dec(a & 0xff);
  }

  /** An IPv4 address read from four bytes in place. */
  ip4at(s: Uint8Array, o: number): void {
    this.ip4(((s[o] << 24) | (s[o + 1] << 16) | (s[o + 2] << 8) | s[o + 3]) >>> 0);
  }

  /** An IPv6 address read from 16 bytes in place, as BSD inet_ntop prints it. */
  ip6(s: Uint8Array, o: number): void {
    if (this.pos >= this.limit) this.flush();
    const w = this.w6;
    for (let i = 0; i < 8; i++) w[i] = (s[o + 2 * i] << 8) | s[o + 2 * i + 1];
    // Longest run (first if tied) of two or more zero words becomes "::".
    let bestBase = -1;
    let bestLen = 0;
    let curBase = -1;
    let curLen = 0;
    for (let i = 0; i < 8; i++) {
      if (w[i] === 0) {
        if (curBase === -1) {
          curBase = i;
          curLen = 1;
        } else curLen++;
      } else if (curBase !== -1) {
        if (bestBase === -1 || curLen > bestLen) {
          bestBase = curBase;
          bestLen = curLen;
        }
        curBase = -1;
      }
    }
    if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) {
      bestBase = curBase;
      bestLen = curLen;
    }
    if (bestBase !== -1 && bestLen < 2) bestBase = -1;
    const b = this.buf;
    for (let i = 0; i < 8; i++) {
      if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
        if (i === bestBase) b[this.pos++] = 58;
        continue;
      }
      if (i !== 0) b[this.pos++] = 58;
      if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
        this.ip4at(s, o + 12);
        return;
      }
      this.hex(w[i]!);
    }
    if (bestBase !== -1 && bestBase + bestLen === 8) b[this.pos++] = 58;
  }

  /** A MAC address from 6 bytes in place, "%02x:%02x:..." as OpenBSD's ether_ntoa. */
  mac(s: Uint8Array, o: number): void {
    if (this.pos >= this.limit) this.flush();
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < 6; i++) {
      if (i) b[p++] = 58;
      const v = s[o + i];
      b[p++] = HEX[v >>> 4]!;
      b[p++] = HEX[v & 15]!;
    }
    this.pos = p;
  }
}

/** A sink that keeps everything as text, for tests and the lab shell. */
export class StringSink {
  private parts: string[] = [];
  readonly sink: Sink = (bytes, length) => {
    this.parts.push(Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('latin1'));
  };
  text(): string {
    const t = this.parts.join('');
    this.parts = [t];
    return t;
  }
  clear(): void {
    this.parts = [];
  }
}

/** A sink that writes each chunk to a tool's Output as latin1 text. */
export function outputSink(o: Output): Sink {
  return (bytes, length) => o.write(Buffer.from(bytes.buffer, bytes.byteOffset, length).toString('latin1'));
}
