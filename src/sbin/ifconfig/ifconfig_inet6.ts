/**
 * ifconfig(8)'s inet6 part (sbin/ifconfig/ifconfig.c in6_status(),
 * setia6*): the `inet6 ADDR%IF prefixlen N ... scopeid 0xN` lines, and
 * `ifconfig IF inet6 ADDR[/LEN] [prefixlen N] [alias|-alias|delete]
 * [anycast] [vltime N] [pltime N]`, `inet6 eui64`, `inet6 autoconf`,
 * `-autoconf`, `-inet6`.
 */
import type { Io } from '../../lib/io.js';
import type { Kernel } from '../../sys/kern/kernel.js';
import type { Ifnet } from '../../sys/net/if.js';
import { IFXF_AUTOCONF6 } from '../../sys/net/if.js';
import { strerror, EINVAL } from '../../sys/sys/errno.js';
import { formatIp6, parseIp6 } from '../../wire/addr.js';
import {
  IN6_IFF_ANYCAST, IN6_IFF_AUTOCONF, IN6_IFF_DEPRECATED, IN6_IFF_DETACHED, IN6_IFF_DUPLICATED, IN6_IFF_TEMPORARY,
  IN6_IFF_TENTATIVE, in6_getscope, type In6Ifaddr,
} from '../../sys/netinet6/in6_var.js';
import { in6_ifattach, in6_ifdetach, in6_purgeaddr, in6_update_ifa } from '../../sys/netinet6/in6.js';

/** One `inet6 ...` status line. */
export function in6_status_line(k: Kernel, ia: In6Ifaddr): string {
  const scope = in6_getscope(ia.addr, 0);
  const a = ia.addr.slice();
  let s = '\tinet6 ';
  if (scope !== 0) {
    a[2] = 0;
    a[3] = 0;
    s += `${formatIp6(a, 0)}%${k.ifnets[scope]?.if_xname ?? String(scope)}`;
  } else s += formatIp6(a, 0);
  s += ` prefixlen ${ia.prefixlen}`;
  const f = ia.ia6_flags;
  if (f & IN6_IFF_ANYCAST) s += ' anycast';
  if (f & IN6_IFF_TENTATIVE) s += ' tentative';
  if (f & IN6_IFF_DUPLICATED) s += ' duplicated';
  if (f & IN6_IFF_DETACHED) s += ' detached';
  if (f & IN6_IFF_DEPRECATED) s += ' deprecated';
  if (f & IN6_IFF_AUTOCONF) s += ' autoconf';
  if (f & IN6_IFF_TEMPORARY) s += ' temporary';
  if (scope !== 0) s += ` scopeid 0x${scope.toString(16)}`;
  return s + '\n';
}

/** The inet6 lines of an interface, in configuration order. */
export function in6_status(ifp: Ifnet): string {
  const k = ifp.kernel;
  const l = k.inet6.ifaddrs[ifp.if_index];
  if (l === undefined) return '';
  let s = '';
  for (const ia of l) s += in6_status_line(k, ia);
  return s;
}

/**
 * `ifconfig IF inet6 ...` (args after "inet6"); returns the exit status.
 * `ifconfig IF -inet6` comes with args ['-inet6'].
 */
export function ifconfig_inet6(k: Kernel, ifp: Ifnet | undefined, ifname: string, args: readonly string[], io: Io): number {
  const err = (msg: string): number => {
    io.stderr.write(`ifconfig: ${msg}\n`);
    return 1;
  };
  if (ifp === undefined) return err(`${ifname}: SIOCGIFFLAGS: Device not configured`);
  let addr: Uint8Array | null = null;
  let plen = 64;
  let del = false;
  let anycast = false;
  let vltime: number | undefined;
  let pltime: number | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = (): string | null => (i + 1 < args.length ? args[++i]! : null);
    switch (a) {
      case '-inet6':
        in6_ifdetach(k, ifp);
        return 0;
      case 'eui64':
        in6_ifattach(k, ifp);
        break;
      case 'autoconf':
        ifp.if_xflags |= IFXF_AUTOCONF6;
        in6_ifattach(k, ifp);
        break;
      case '-autoconf':
        ifp.if_xflags &= ~IFXF_AUTOCONF6;
        break;
      case 'alias':
        break;
      case '-alias':
      case 'delete':
        del = true;
        break;
      case 'anycast':
        anycast = true;
        break;
      case 'prefixlen': {
        const v = next();
        if (v === null || !/^\d+$/.test(v) || Number(v) > 128) return err(`prefixlen ${v ?? ''}: invalid`);
        plen = Number(v);
        break;
      }
      case 'vltime':
      case 'pltime': {
        const v = next();
        if (v === null || !/^\d+$/.test(v)) return err(`${a} ${v ?? ''}: invalid`);
        if (a === 'vltime') vltime = Number(v);
        else pltime = Number(v);
        break;
      }
      default: {
        if (addr !== null) return err(`${a}: bad value`);
        const slash = a.indexOf('/');
        const txt = slash >= 0 ? a.slice(0, slash) : a;
        if (slash >= 0) {
          const p = a.slice(slash + 1);
          if (!/^\d+$/.test(p) || Number(p) > 128) return err(`prefix ${p}: invalid`);
          plen = Number(p);
        }
        addr = parseIp6(txt);
        if (addr === null) return err(`${txt}: bad value`);
      }
    }
  }
  if (addr === null) return 0;
  if (del) {
    const e = in6_purgeaddr(k, ifp, addr);
    return e === 0 ? 0 : err(`SIOCDIFADDR_IN6: ${strerror(e)}`);
  }
  const r = in6_update_ifa(k, ifp, addr, plen, { flags: anycast ? IN6_IFF_ANYCAST : 0, vltime, pltime });
  if (typeof r === 'number') return err(`SIOCAIFADDR_IN6: ${strerror(r || EINVAL)}`);
  return 0;
}
