/**
 * packetflow as a library: build lab machines (Kernel, World) and run
 * programs on them with the BSD-like socket API (Proc) or the
 * node:net/node:dgram-like API (netOf), in virtual time (runWorld).
 */
export { World, type WorldOptions } from './sys/kern/kern_clock.js';
export { Kernel, type KernelOptions } from './sys/kern/kernel.js';
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
