/**
 * Errors of the wire layer.  Parsers never throw at their callers: a view's
 * `check()` returns a numeric code (no allocation, for the packet path), and
 * `parse*()` functions return either a representation or a `WireError`.
 */

/** Result codes of `check()` on packet views. 0 means the view is usable. */
export const WireCode = {
  Ok: 0,
  /** The buffer ends before the header (or a length it declares) does. */
  Truncated: 1,
  /** A field holds a value the protocol forbids (bad version, length below minimum, ...). */
  Malformed: 2,
  /** Well formed, but a kind this layer does not decode. */
  Unsupported: 3,
} as const;
export type WireCode = (typeof WireCode)[keyof typeof WireCode];

export type WireErrorKind = 'truncated' | 'malformed' | 'unsupported';

const KIND_BY_CODE: readonly WireErrorKind[] = ['truncated', 'truncated', 'malformed', 'unsupported'];

/** A typed parse error: which protocol, what kind of fault, and a short detail. */
export class WireError {
  constructor(
    readonly proto: string,
    readonly kind: WireErrorKind,
    readonly detail: string,
  ) {}

  static fromCode(proto: string, code: WireCode, detail: string): WireError {
    return new WireError(proto, KIND_BY_CODE[code] ?? 'malformed', detail);
  }

  toString(): string {
    return `${this.proto}: ${this.kind}: ${this.detail}`;
  }
}

export function isWireError(x: unknown): x is WireError {
  return x instanceof WireError;
}
