/**
 * The sysctl tree of one kernel: named integer knobs such as
 * net.inet.ip.forwarding.  Each subsystem registers the nodes it owns with
 * their bounds; sysctl(8) reads and writes them by name.
 */

export interface SysctlNode {
  readonly name: string;
  /** Short description, for `sysctl -d`-style help. */
  readonly descr: string;
  readonly min: number;
  readonly max: number;
  /** Read-only nodes (statistics, constants) refuse writes with EPERM. */
  readonly readonly: boolean;
  value: number;
}

export type SysctlError = 'ENOENT' | 'EINVAL' | 'EPERM';

export class Sysctl {
  private readonly nodes = new Map<string, SysctlNode>();

  /** Registers an integer node; returns it so the owner can read `value` directly on the hot path. */
  int(name: string, value: number, descr: string, min = -0x80000000, max = 0x7fffffff, readonly = false): SysctlNode {
    if (this.nodes.has(name)) throw new Error(`sysctl node ${name} registered twice`);
    const node: SysctlNode = { name, descr, min, max, readonly, value };
    this.nodes.set(name, node);
    return node;
  }

  get(name: string): SysctlNode | undefined {
    return this.nodes.get(name);
  }

  set(name: string, value: number): SysctlError | null {
    const n = this.nodes.get(name);
    if (n === undefined) return 'ENOENT';
    if (n.readonly) return 'EPERM';
    if (!Number.isInteger(value) || value < n.min || value > n.max) return 'EINVAL';
    n.value = value;
    return null;
  }

  /** Nodes whose name equals `prefix` or starts with `prefix.`, sorted by name. */
  list(prefix = ''): SysctlNode[] {
    const out: SysctlNode[] = [];
    for (const n of this.nodes.values()) {
      if (prefix === '' || n.name === prefix || n.name.startsWith(prefix + '.')) out.push(n);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
