import { EMPTY } from './bytes.js';
import { WireCode } from './error.js';

/**
 * What the option walkers share (IPv4 options, IPv6 hop-by-hop and
 * destination options, TCP options, ND options): the bytes, the option the
 * last next() found (its kind, where it starts, its whole length) and the
 * cursor.  A walker allocates nothing; reset() points it at other bytes.
 */
export abstract class TlvWalk {
  buf: Uint8Array = EMPTY;
  kind = 0;
  offset = 0;
  length = 0;
  protected pos = 0;
  protected end = 0;

  /** Start over on `len` option bytes at `off`. */
  protected begin(buf: Uint8Array, off: number, len: number): void {
    this.buf = buf;
    this.pos = off;
    this.end = off + (len > 0 ? len : 0);
    this.kind = this.offset = this.length = 0;
  }

  /** Offset of the option's data, after its kind and length bytes. */
  get dataOffset(): number {
    return this.offset + 2;
  }

  /** Length of the option's data (0 for one-byte options). */
  get dataLength(): number {
    return this.length < 2 ? 0 : this.length - 2;
  }

  /** Moves to the next option; false at the end or at a malformed one. */
  abstract next(): boolean;
}

/**
 * A walker of IP options: it stops at the first malformed option with
 * `code` Malformed and `errorOffset` at the byte at fault (the ICMP
 * parameter problem pointer); Ok and -1 otherwise.
 */
export abstract class IpOptionWalk extends TlvWalk {
  code: WireCode = WireCode.Ok;
  errorOffset = -1;

  /** Walk `len` bytes of options at `off`. */
  reset(buf: Uint8Array, off: number, len: number): this {
    this.begin(buf, off, len);
    this.code = WireCode.Ok;
    this.errorOffset = -1;
    return this;
  }

  protected fail(at: number): false {
    this.code = WireCode.Malformed;
    this.errorOffset = at;
    this.pos = this.end;
    return false;
  }
}

/**
 * A walker of TCP or ND options: `badLength` marks an option whose length
 * is wrong for its kind (the stack skips it), `error` is set when the walk
 * had to stop (Truncated or Malformed).
 */
export abstract class CheckedOptionWalk extends TlvWalk {
  badLength = false;
  error: WireCode = WireCode.Ok;

  /** Walk `len` option bytes at `off`. */
  reset(buf: Uint8Array, off: number, len: number): this {
    this.begin(buf, off, len);
    this.badLength = false;
    this.error = WireCode.Ok;
    return this;
  }
}
