/**
 * packetflow as a library: build lab machines (World, Kernel, em/ix NICs,
 * cables, attachments to the host's Linux interfaces) in code or from a
 * topology file (Lab), and run programs on them with the BSD-like socket
 * API (Proc) or the node:net/node:dgram-like API (netOf), in virtual time
 * (runWorld) or in real time while attached to the host.
 */
export { World, type WorldOptions, type ClockMode } from './sys/kern/kern_clock.js';
export { Kernel, type KernelOptions } from './sys/kern/kernel.js';

// Machines built in code: NICs, cables, addresses, routes.
export { Em } from './sys/dev/em.js';
export { Ix } from './sys/dev/ix.js';
export type { EtherNic, NicOptions } from './sys/dev/nic.js';
export { Cable, type CableOptions } from './sys/dev/cable.js';
export { loopattach } from './sys/net/if_loop.js';
export { if_addr_add, if_setflags_up, type Ifnet } from './sys/net/if.js';
export { rt_route_add } from './sys/net/rtsock.js';
export { in6_ifattach, in6_update_ifa } from './sys/netinet6/in6.js';
export { parseIp4, formatIp4, parseIp6, formatIp6, parseMac, formatMac, maskFromLen4 } from './wire/addr.js';

// Attachments to the host: an interface whose other end is a Linux interface (docs/attach.md).
export { VxlanSocket, Vxlan, vxlan_attach, VXLAN_PORT, type VxlanOptions, type VxlanSocketOptions } from './sys/dev/vxlan.js';
export { Tap, tap_attach, tap_available, type TapOptions } from './sys/dev/tap.js';
export { HostLink, hostlink_count, type HostLinkOptions } from './sys/dev/hostlink.js';
export { HostAttachments, parseHostPort, type AttachSpec, type TapSpec, type VxlanSpec } from './sys/dev/attach.js';

// Labs from topology files (docs/labs.md), their shell, and the tools.
export { Lab, Machine, type LabOptions } from './lab/lab.js';
export { parseTopology, TopologyError, TopologyErrors, type LabSpec } from './lab/topology.js';
export { loadLab, runScript } from './lab/main.js';
export { Shell } from './lab/shell.js';
export { ping, pingAsync } from './sbin/ping/ping.js';
export { StringOutput, type Io } from './lib/io.js';

export {
  Proc, SocketError, runWorld, sleep, toSockaddr, fromSockaddr, type SockAddr, type ProcOptions,
  AF_INET, AF_INET6, SOCK_STREAM, SOCK_DGRAM, SOCK_NONBLOCK, SOL_SOCKET, IPPROTO_TCP, IPPROTO_UDP, TCP_NODELAY,
  SO_REUSEADDR, SO_REUSEPORT, SO_RCVBUF, SO_SNDBUF, SO_BROADCAST, SO_KEEPALIVE, SO_LINGER, SO_ERROR,
  SHUT_RD, SHUT_WR, SHUT_RDWR, MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, POLLIN, POLLOUT, POLLHUP,
} from './lib/socket.js';
export {
  netOf, NetSocket, NetServer, DgramSocket, type NetApi, type ConnectOptions, type AddressInfo, type RemoteInfo,
} from './lib/net.js';
export { nc, ncTool, type NcOptions } from './usr.bin/nc/netcat.js';
