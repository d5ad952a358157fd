/**
 * The JSON Schema of lab topology files.  docs/lab.schema.json is this
 * object written out (a test keeps the two equal), so editors that speak
 * JSON Schema (VS Code's YAML extension, for one) check lab files as they
 * are typed: put `# yaml-language-server: $schema=docs/lab.schema.json` on
 * the first line.
 *
 * The schema checks shapes; topology.ts checks what a schema cannot (that
 * a cable's end names an interface that exists, that a route's gateway is
 * an address) and reports both kinds of error with the file, line and key.
 */

const IPV4 = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}';

/** IPv6 text: hex groups and colons (with ::); topology.ts checks it parses. */
const IPV6 = '[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}';
const PLEN6 = '(12[0-8]|1[01][0-9]|[1-9]?[0-9])';

export const IPV4_PATTERN = `^${IPV4}$`;
export const CIDR_PATTERN = `^${IPV4}/([0-9]|[12][0-9]|3[0-2])$`;
export const IPV6_PATTERN = `^${IPV6}$`;
export const CIDR6_PATTERN = `^${IPV6}/${PLEN6}$`;
export const GATEWAY_PATTERN = `^(${IPV4}|${IPV6})$`;
export const MAC_PATTERN = '^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$';
export const NIC_PATTERN = '^(em|ix|tap|vxlan)[0-9]+$';
/** "127.0.0.1:4790" or "[::1]:4790" (dev/attach.ts parseHostPort checks it). */
export const HOSTPORT_PATTERN = '^([0-9.]+|\\[[0-9a-fA-F:.]+\\]):[0-9]{1,5}$';
/** A Linux interface name (IFNAMSIZ 16 with the NUL), %d for the kernel's next unit. */
export const LINUX_IFNAME_PATTERN = '^[a-zA-Z0-9_.%-]{1,15}$';
export const HOST_PATTERN = '^[a-zA-Z][a-zA-Z0-9-]{0,31}$';
/** A number with an optional unit: "1G", "100Mbit", "10M" (rates), "500ns", "2ms", "1.5us" (delays). */
const QUANTITY = '^[0-9]+(\\.[0-9]+)?\\s*[a-zA-Z/]*$';

export const LAB_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://packetflow.invalid/lab.schema.json',
  title: 'packetflow lab topology',
  description: 'Machines with em(4)/ix(4) NICs and tap/vxlan attachments to the host, the cables between them, routes, sysctls and files. See docs/labs.md and docs/attach.md.',
  type: 'object',
  additionalProperties: false,
  required: ['machines'],
  properties: {
    name: { type: 'string', description: 'Name of the lab.' },
    description: { type: 'string' },
    seed: { type: 'integer', minimum: 0, description: 'Seed of the world\'s random source (cable loss, IP ids, ports).' },
    machines: {
      type: 'object',
      minProperties: 1,
      propertyNames: { pattern: HOST_PATTERN },
      additionalProperties: { $ref: '#/definitions/machine' },
      description: 'Machines by name; the name is the hostname unless `hostname` says otherwise.',
    },
    cables: { type: 'array', items: { $ref: '#/definitions/cable' } },
  },
  definitions: {
    machine: {
      type: 'object',
      additionalProperties: false,
      properties: {
        kind: { enum: ['host', 'router'], description: 'A router forwards (net.inet.ip.forwarding=1, and net.inet6.ip6.forwarding=1 when it has IPv6 addresses).' },
        hostname: { type: 'string', pattern: HOST_PATTERN },
        description: { type: 'string' },
        nics: {
          type: 'object',
          propertyNames: { pattern: NIC_PATTERN },
          patternProperties: {
            '^(em|ix)[0-9]+$': { $ref: '#/definitions/nic' },
            '^tap[0-9]+$': { $ref: '#/definitions/tap' },
            '^vxlan[0-9]+$': { $ref: '#/definitions/vxlan' },
          },
          description: 'NICs by interface name: em0, em1 (Intel I210), ix0 (Intel X550T, 4 queues); tap0 and vxlan0 are attached to the host (docs/attach.md).',
        },
        routes: { type: 'array', items: { $ref: '#/definitions/route' } },
        sysctl: {
          type: 'object',
          propertyNames: { pattern: '^[a-z0-9_.-]+$' },
          additionalProperties: { type: 'integer' },
        },
        softnet: {
          type: 'object',
          additionalProperties: false,
          properties: {
            latency: {
              oneOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: QUANTITY }],
              description: 'How late the softnet thread runs after packets arrive (500us, 10ms; default 0): a busy CPU. Input queues then fill, and past 10240 packets drop (kstat rxq: qdrops). The shell\'s `softnet` command sets it at run time.',
            },
          },
          description: 'The machine\'s softnet thread, which takes packets off the interface input queues (a packetflow model setting, not an OpenBSD sysctl).',
        },
        files: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description: 'Files of the machine, e.g. /etc/pf.conf (loaded into pf at boot, pf enabled), /etc/ipsec.conf.',
        },
      },
    },
    nic: {
      type: 'object',
      additionalProperties: false,
      properties: {
        lladdr: { type: 'string', pattern: MAC_PATTERN, description: 'Default: a locally administered address (02:...) made from the machine\'s and the interface\'s names, the same in every run.' },
        inet: {
          oneOf: [
            { type: 'string', pattern: CIDR_PATTERN },
            { type: 'array', items: { type: 'string', pattern: CIDR_PATTERN } },
          ],
          description: 'IPv4 address(es) with prefix length, e.g. 10.0.1.1/24.',
        },
        inet6: {
          oneOf: [
            { type: 'string', pattern: CIDR6_PATTERN },
            { type: 'array', items: { type: 'string', pattern: CIDR6_PATTERN } },
          ],
          description: 'IPv6 address(es) with prefix length, e.g. 2001:db8:1::1/64; the interface also gets its fe80:: link-local address.',
        },
        description: { type: 'string' },
        queues: { type: 'integer', minimum: 1, maximum: 16 },
        up: { type: 'boolean' },
        pci: {
          type: 'array',
          items: { type: 'integer', minimum: 0 },
          minItems: 3,
          maxItems: 3,
          description: 'PCI bus, device and function for the attach line in dmesg.',
        },
        txslots: { type: 'integer', minimum: 8 },
        rxslots: { type: 'integer', minimum: 8 },
      },
    },
    tap: {
      type: 'object',
      additionalProperties: false,
      description: 'An interface whose other end is a Linux TAP device packetflow creates (root, and the addon native/tap). The lab runs in real time.',
      properties: {
        driver: { enum: ['tap'], description: 'Optional: the name says it already.' },
        device: { type: 'string', pattern: LINUX_IFNAME_PATTERN, description: 'The Linux interface (default pf%d: pf0, pf1...).' },
        lladdr: { type: 'string', pattern: MAC_PATTERN, description: 'Default: a locally administered address from the lab\'s seed.' },
        inet: {
          oneOf: [
            { type: 'string', pattern: CIDR_PATTERN },
            { type: 'array', items: { type: 'string', pattern: CIDR_PATTERN } },
          ],
        },
        inet6: {
          oneOf: [
            { type: 'string', pattern: CIDR6_PATTERN },
            { type: 'array', items: { type: 'string', pattern: CIDR6_PATTERN } },
          ],
        },
        description: { type: 'string' },
        up: { type: 'boolean' },
        mtu: { type: 'integer', minimum: 576, maximum: 65000 },
      },
    },
    vxlan: {
      type: 'object',
      additionalProperties: false,
      required: ['vni', 'remote'],
      description: 'An interface carried as VXLAN over a UDP socket of this process: its other end is a Linux vxlan device or another packetflow lab. The lab runs in real time.',
      properties: {
        driver: { enum: ['vxlan'], description: 'Optional: the name says it already.' },
        vni: { type: 'integer', minimum: 0, maximum: 16777215, description: 'VXLAN network identifier.' },
        remote: { type: 'string', pattern: HOSTPORT_PATTERN, description: 'address:port the frames go to (a Linux vxlan device\'s dstport).' },
        local: { type: 'string', pattern: HOSTPORT_PATTERN, description: 'address:port to bind (default 127.0.0.1 and a free port, shared by the lab\'s vxlan interfaces without `local`).' },
        lladdr: { type: 'string', pattern: MAC_PATTERN, description: 'Default: a locally administered address from the lab\'s seed.' },
        inet: {
          oneOf: [
            { type: 'string', pattern: CIDR_PATTERN },
            { type: 'array', items: { type: 'string', pattern: CIDR_PATTERN } },
          ],
        },
        inet6: {
          oneOf: [
            { type: 'string', pattern: CIDR6_PATTERN },
            { type: 'array', items: { type: 'string', pattern: CIDR6_PATTERN } },
          ],
        },
        description: { type: 'string' },
        up: { type: 'boolean' },
        mtu: { type: 'integer', minimum: 576, maximum: 65000 },
      },
    },
    route: {
      type: 'object',
      additionalProperties: false,
      required: ['dest', 'gateway'],
      properties: {
        dest: {
          type: 'string',
          pattern: `^(default|${IPV4}(/([0-9]|[12][0-9]|3[0-2]))?|${IPV6}(/${PLEN6})?)$`,
          description: '"default", a network (10.0.2.0/24, 2001:db8:2::/64) or a host; the gateway\'s family says whether "default" is IPv4\'s or IPv6\'s.',
        },
        gateway: { type: 'string', pattern: GATEWAY_PATTERN, description: 'An IPv4 or IPv6 address on one of the machine\'s networks.' },
      },
    },
    cable: {
      type: 'object',
      additionalProperties: false,
      required: ['ends'],
      properties: {
        ends: {
          type: 'array',
          items: { type: 'string', pattern: '^[a-zA-Z][a-zA-Z0-9-]*:(em|ix)[0-9]+$' },
          minItems: 2,
          maxItems: 2,
          description: 'Two interfaces, as machine:interface.',
        },
        rate: { oneOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'string', pattern: QUANTITY }], description: 'bits/s: 1G, 100M, 10Mbit' },
        delay: { oneOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: QUANTITY }], description: 'one-way propagation delay: 500ns, 2ms' },
        loss: { type: 'number', minimum: 0, maximum: 1 },
        duplicate: { type: 'number', minimum: 0, maximum: 1 },
        reorder: { type: 'number', minimum: 0, maximum: 1, description: 'probability a frame is held back behind the next ones' },
        name: { type: 'string' },
      },
    },
  },
} as const;
