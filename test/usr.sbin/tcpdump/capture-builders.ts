/**
 * Hand-built capture files for the reader tests, written straight from the
 * formats (libpcap: pcap(5)/draft-ietf-opsawg-pcap; pcapng:
 * draft-ietf-opsawg-pcapng), independent of the writer under test.
 */

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function u16(le: boolean, v: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setUint16(0, v, le);
  return b;
}

export function u32(le: boolean, v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, le);
  return b;
}

export function u64(le: boolean, v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), le);
  return b;
}

/** Deterministic packet bytes: n bytes derived from seed. */
export function pkt(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export interface Rec {
  sec: number;
  frac: number;
  data: Uint8Array;
  /** Wire length; default data.length. */
  len?: number;
}

export interface PcapHeader {
  le?: boolean;
  nsec?: boolean;
  snaplen?: number;
  linktype?: number;
  major?: number;
  minor?: number;
}

/** A libpcap file; record i starts at offsets()[i]. */
export function pcapFile(h: PcapHeader, recs: Rec[]): Uint8Array {
  const le = h.le ?? true;
  const parts = [
    u32(le, h.nsec ? 0xa1b23c4d : 0xa1b2c3d4),
    u16(le, h.major ?? 2),
    u16(le, h.minor ?? 4),
    u32(le, 0), // thiszone
    u32(le, 0), // sigfigs
    u32(le, h.snaplen ?? 65535),
    u32(le, h.linktype ?? 1),
  ];
  for (const r of recs) {
    parts.push(u32(le, r.sec), u32(le, r.frac), u32(le, r.data.length), u32(le, r.len ?? r.data.length), r.data);
  }
  return concat(...parts);
}

/** File offsets where each record ends (the first value is the header's end). */
export function pcapBoundaries(recs: Rec[]): number[] {
  const out = [24];
  for (const r of recs) out.push(out[out.length - 1] + 16 + r.data.length);
  return out;
}

// ---- pcapng ----

function pad4(b: Uint8Array): Uint8Array {
  const n = (b.length + 3) & ~3;
  if (n === b.length) return b;
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}

/** A block: type, total length, body padded to 32 bits, total length. */
export function ngBlock(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = pad4(body);
  const total = 12 + padded.length;
  return concat(u32(le, type), u32(le, total), padded, u32(le, total));
}

/** One option: code, length (unpadded), value padded to 32 bits. */
export function ngOpt(le: boolean, code: number, value: Uint8Array): Uint8Array {
  return concat(u16(le, code), u16(le, value.length), pad4(value));
}

/** An option list closed by opt_endofopt. */
export function ngOpts(le: boolean, ...opts: Uint8Array[]): Uint8Array {
  return concat(...opts, u16(le, 0), u16(le, 0));
}

export function shb(le: boolean, options: Uint8Array = new Uint8Array(0), major = 1, minor = 0): Uint8Array {
  return ngBlock(le, 0x0a0d0d0a, concat(u32(le, 0x1a2b3c4d), u16(le, major), u16(le, minor), u64(le, -1n), options));
}

export function idb(le: boolean, linktype: number, snaplen: number, options: Uint8Array = new Uint8Array(0)): Uint8Array {
  return ngBlock(le, 1, concat(u16(le, linktype), u16(le, 0), u32(le, snaplen), options));
}

export function epb(le: boolean, ifid: number, ts: bigint, data: Uint8Array, orig = data.length, options: Uint8Array = new Uint8Array(0)): Uint8Array {
  return ngBlock(
    le,
    6,
    concat(u32(le, ifid), u32(le, Number(ts >> 32n)), u32(le, Number(ts & 0xffffffffn)), u32(le, data.length), u32(le, orig), pad4(data), options),
  );
}

export function spb(le: boolean, data: Uint8Array, orig = data.length): Uint8Array {
  return ngBlock(le, 3, concat(u32(le, orig), data));
}

/** Obsolete Packet Block: 16-bit interface id and drops count. */
export function pb(le: boolean, ifid: number, ts: bigint, data: Uint8Array, orig = data.length): Uint8Array {
  return ngBlock(
    le,
    2,
    concat(u16(le, ifid), u16(le, 0xffff), u32(le, Number(ts >> 32n)), u32(le, Number(ts & 0xffffffffn)), u32(le, data.length), u32(le, orig), data),
  );
}
