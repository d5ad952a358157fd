#!/usr/bin/python3
"""Create or delete the Linux side of a packetflow VXLAN link over rtnetlink.

The kernel's VXLAN device must have local bypass off (IFLA_VXLAN_LOCALBYPASS,
kernel >= 6.3), or it never sends UDP to an address of its own such as
127.0.0.1; iproute2 before 6.3 cannot set that, so this speaks rtnetlink
itself (standard library only).  Learning is off too: with learning on,
replies to packetflow's MAC would be sent to the source port the kernel saw,
which is packetflow's socket only by luck.  Instead an all-zeros default FDB
entry sends every frame to packetflow's UDP port.

The device is created from the calling namespace (its UDP socket lives on
this namespace's loopback) and placed in --netns when given.

usage:
  vxlan.py add NAME --vni N --port KERNELPORT --remote-port NODEPORT
               [--netns NS] [--local 127.0.0.1] [--lladdr MAC] [--mtu N]
  vxlan.py del NAME [--netns NS]
"""
import argparse
import os
import socket
import struct
import subprocess
import sys

NETLINK_ROUTE = 0
RTM_NEWLINK = 16
RTM_DELLINK = 17
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLMSG_ERROR = 2

IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_LINKINFO = 18
IFLA_NET_NS_FD = 28
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFLA_VXLAN_ID = 1
IFLA_VXLAN_LOCAL = 4
IFLA_VXLAN_LEARNING = 7
IFLA_VXLAN_PORT = 15
IFLA_VXLAN_LOCALBYPASS = 31
NLA_F_NESTED = 0x8000


def nla(kind, payload):
    n = 4 + len(payload)
    return struct.pack('=HH', n, kind) + payload + b'\0' * ((4 - n % 4) % 4)


def request(msgtype, flags, body):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    try:
        s.bind((0, 0))
        hdr = struct.pack('=IHHII', 16 + len(body), msgtype, flags | NLM_F_REQUEST | NLM_F_ACK, 1, 0)
        s.send(hdr + body)
        while True:
            data = s.recv(65536)
            off = 0
            while off + 16 <= len(data):
                length, t, _f, _seq, _pid = struct.unpack_from('=IHHII', data, off)
                if t == NLMSG_ERROR:
                    (err,) = struct.unpack_from('=i', data, off + 16)
                    return -err
                off += (length + 3) & ~3
    finally:
        s.close()


def netns_fd(ns):
    return os.open('/var/run/netns/' + ns, os.O_RDONLY)


def add(a):
    info = (nla(IFLA_VXLAN_ID, struct.pack('=I', a.vni))
            + nla(IFLA_VXLAN_LOCAL, socket.inet_aton(a.local))
            + nla(IFLA_VXLAN_LEARNING, b'\0')
            + nla(IFLA_VXLAN_PORT, struct.pack('!H', a.port))
            + nla(IFLA_VXLAN_LOCALBYPASS, b'\0'))
    linkinfo = nla(IFLA_INFO_KIND, b'vxlan') + nla(IFLA_INFO_DATA | NLA_F_NESTED, info)
    attrs = nla(IFLA_IFNAME, a.name.encode() + b'\0') + nla(IFLA_LINKINFO | NLA_F_NESTED, linkinfo)
    if a.lladdr:
        attrs += nla(IFLA_ADDRESS, bytes(int(x, 16) for x in a.lladdr.split(':')))
    if a.mtu:
        attrs += nla(IFLA_MTU, struct.pack('=I', a.mtu))
    fd = -1
    if a.netns:
        fd = netns_fd(a.netns)
        attrs += nla(IFLA_NET_NS_FD, struct.pack('=I', fd))
    try:
        ifinfo = struct.pack('=BBHiII', socket.AF_UNSPEC, 0, 0, 0, 0, 0)
        err = request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, ifinfo + attrs)
    finally:
        if fd >= 0:
            os.close(fd)
    if err == 95 or err == 22:
        # EOPNOTSUPP / EINVAL on IFLA_VXLAN_LOCALBYPASS: kernel before 6.3.
        sys.exit('vxlan.py: RTM_NEWLINK: %s (the kernel may not know IFLA_VXLAN_LOCALBYPASS: Linux >= 6.3 is needed)'
                 % os.strerror(err))
    if err != 0:
        sys.exit('vxlan.py: RTM_NEWLINK %s: %s' % (a.name, os.strerror(err)))
    # Every frame to packetflow: the all-zeros default entry.
    cmd = ['bridge'] + (['-n', a.netns] if a.netns else []) + [
        'fdb', 'append', '00:00:00:00:00:00', 'dev', a.name, 'dst', a.local, 'port', str(a.remote_port)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('vxlan.py: %s: %s' % (' '.join(cmd), r.stderr.strip()))
    up = ['ip'] + (['-n', a.netns] if a.netns else []) + ['link', 'set', a.name, 'up']
    r = subprocess.run(up, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('vxlan.py: %s: %s' % (' '.join(up), r.stderr.strip()))


def delete(a):
    cmd = ['ip'] + (['-n', a.netns] if a.netns else []) + ['link', 'del', a.name]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit('vxlan.py: %s: %s' % (' '.join(cmd), r.stderr.strip()))


def main():
    p = argparse.ArgumentParser(prog='vxlan.py', description='Linux side of a packetflow VXLAN link')
    sub = p.add_subparsers(dest='cmd', required=True)
    pa = sub.add_parser('add')
    pa.add_argument('name')
    pa.add_argument('--vni', type=int, required=True)
    pa.add_argument('--port', type=int, required=True, help="the kernel's UDP port (packetflow sends here)")
    pa.add_argument('--remote-port', type=int, required=True, help="packetflow's UDP port")
    pa.add_argument('--local', default='127.0.0.1')
    pa.add_argument('--netns')
    pa.add_argument('--lladdr')
    pa.add_argument('--mtu', type=int)
    pd = sub.add_parser('del')
    pd.add_argument('name')
    pd.add_argument('--netns')
    a = p.parse_args()
    if a.cmd == 'add':
        add(a)
    else:
        delete(a)


if __name__ == '__main__':
    main()
