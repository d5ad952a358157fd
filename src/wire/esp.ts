/**
 * ESP, the IPsec Encapsulating Security Payload (RFC 4303).  Only the SPI
 * and the sequence number travel in the clear; the payload, padding, next
 * header and ICV that follow are opaque without the SA's keys, so this view
 * stops at the payload offset.  Decryption belongs to netinet/ip_esp.
 */

import { EMPTY, get32, put32 } from './bytes.js';
import { WireCode, WireError } from './error.js';

/** SPI and sequence number. */
export const ESP_HDRLEN = 8;

/** SPI values 1-255 are reserved by IANA; 0 never appears on the wire. */
export const ESP_SPI_RESERVED_MAX = 255;

/** A reusable view of an ESP header at `off` of `buf`, `len` bytes long. */
export class EspPacket {
  constructor(
    public buf: Uint8Array = EMPTY,
    public off = 0,
    public len = buf.length - off,
  ) {}

  wrap(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    return this;
  }

  /** Ok when the 8-byte header fits.  SPI 0 is left to the SA lookup to reject and count. */
  check(): WireCode {
    return this.len < ESP_HDRLEN ? WireCode.Truncated : WireCode.Ok;
  }

  get spi(): number {
    return get32(this.buf, this.off);
  }
  set spi(v: number) {
    put32(this.buf, this.off, v);
  }

  get seq(): number {
    return get32(this.buf, this.off + 4);
  }
  set seq(v: number) {
    put32(this.buf, this.off + 4, v);
  }

  get headerLength(): number {
    return ESP_HDRLEN;
  }

  /** Start of the (encrypted) payload, which carries the IV first for most ciphers. */
  get payloadOffset(): number {
    return this.off + ESP_HDRLEN;
  }

  /** Everything after the header: payload, padding, trailer and ICV. */
  get payloadLength(): number {
    return this.len - ESP_HDRLEN;
  }
}

export interface EspRepr {
  spi: number;
  seq: number;
  /** The opaque rest of the packet; aliases the parsed buffer. */
  payload: Uint8Array;
}

export function parseEsp(buf: Uint8Array, off: number, len: number): EspRepr | WireError {
  const p = new EspPacket(buf, off, len);
  const code = p.check();
  if (code !== WireCode.Ok) return WireError.fromCode('esp', code, `${len} bytes, header needs ${ESP_HDRLEN}`);
  return { spi: p.spi, seq: p.seq, payload: buf.subarray(p.payloadOffset, off + len) };
}

export function espReprLength(repr: EspRepr): number {
  return ESP_HDRLEN + repr.payload.length;
}

/** Write the header and the opaque payload; returns the bytes written. */
export function emitEsp(repr: EspRepr, buf: Uint8Array, off: number): number {
  put32(buf, off, repr.spi);
  put32(buf, off + 4, repr.seq);
  buf.set(repr.payload, off + ESP_HDRLEN);
  return ESP_HDRLEN + repr.payload.length;
}
