/**
 * Address text: IPv4 as 32-bit numbers, IPv6 as 16 bytes in place, MAC
 * addresses as 6 bytes in place.  Formatting follows BSD's inet_ntop and
 * ether_ntoa (two hex digits per octet), which tcpdump and netstat print.
 */

export function formatIp4(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/** Dotted quad to a 32-bit number, or -1 when the text is not one. */
export function parseIp4(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return -1;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const n = Number(m[i]);
    if (n > 255) return -1;
    v = v * 256 + n;
  }
  return v;
}

/** A prefix length to a 32-bit netmask. */
export function maskFromLen4(len: number): number {
  return len <= 0 ? 0 : len >= 32 ? 0xffffffff : (0xffffffff << (32 - len)) >>> 0;
}

export function formatMac(b: Uint8Array, o: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    const v = b[o + i];
    s += (i ? ':' : '') + (v < 16 ? '0' : '') + v.toString(16);
  }
  return s;
}

/** "aa:bb:cc:dd:ee:ff" (one or two hex digits per octet) to 6 bytes, or null. */
export function parseMac(s: string): Uint8Array | null {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6) return null;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    if (!/^[0-9a-fA-F]{1,2}$/.test(parts[i]!)) return null;
    out[i] = parseInt(parts[i]!, 16);
  }
  return out;
}

/**
 * IPv6 text as BSD inet_ntop prints it: the longest run (first if tied) of
 * two or more zero words becomes "::", hex words without leading zeros, and
 * an embedded IPv4 address for IPv4-compatible (::a.b.c.d) and IPv4-mapped
 * (::ffff:a.b.c.d) forms.
 */
export function formatIp6(b: Uint8Array, o: number): string {
  const w = new Array<number>(8);
  for (let i = 0; i < 8; i++) w[i] = (b[o + 2 * i] << 8) | b[o + 2 * i + 1];
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

  let s = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      s += `${b[o + 12]}.${b[o + 13]}.${b[o + 14]}.${b[o + 15]}`;
      break;
    }
    s += w[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) s += ':';
  return s;
}

/** IPv6 text (with "::" and an optional trailing dotted quad) to 16 bytes, or null. */
export function parseIp6(text: string): Uint8Array | null {
  let s = text;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const out = new Uint8Array(16);
  const words: number[] = [];
  let tail4: number[] | null = null;
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::') && dbl >= 0) return null;
  const parseGroups = (part: string, allowV4: boolean): number[] | null => {
    if (part === '') return [];
    const g = part.split(':');
    const res: number[] = [];
    for (let i = 0; i < g.length; i++) {
      const x = g[i]!;
      if (allowV4 && i === g.length - 1 && x.includes('.')) {
        const v4 = parseIp4(x);
        if (v4 < 0) return null;
        tail4 = [v4 >>> 16, v4 & 0xffff];
        res.push(...tail4);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(x)) return null;
      res.push(parseInt(x, 16));
    }
    return res;
  };
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl), false);
    const tail = parseGroups(s.slice(dbl + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return null;
    words.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else {
    const all = parseGroups(s, true);
    if (!all || all.length !== 8) return null;
    words.push(...all);
  }
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >>> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}
