#!/usr/bin/python3
"""Inject malformed frames into a packetflow host (run inside the kernel's
namespace, with Debian's /usr/bin/python3 and python3-scapy).

usage: inject.py IFACE DSTMAC SRCIP DSTIP KIND=COUNT...
Prints one line of JSON: the frames sent per kind.
"""
import json
import sys

from scapy.all import Ether, Dot1Q, IP, ICMP, UDP, TCP, Raw, sendp, conf  # noqa: E402

conf.verb = 0


def frames(kind, n, src, dst, base_id):
    out = []
    for i in range(n):
        ident = base_id + i
        echo = ICMP(type=8, id=0x5151, seq=i) / Raw(b'x' * 16)
        if kind == 'ip_badsum':
            out.append(IP(src=src, dst=dst, id=ident, chksum=0x1234) / echo)
        elif kind == 'ip_badvers':
            out.append(IP(src=src, dst=dst, id=ident, version=5) / echo)
        elif kind == 'ip_badhlen':
            out.append(IP(src=src, dst=dst, id=ident, ihl=4) / echo)
        elif kind == 'ip_toosmall':
            out.append(Raw(b'\x45\x00\x00\x14' + bytes(6)))
        elif kind == 'ip_badlen':
            out.append(IP(src=src, dst=dst, id=ident, len=12) / echo)
        elif kind == 'ip_tooshort':
            out.append(IP(src=src, dst=dst, id=ident, len=1000) / echo)
        elif kind == 'icmp_badsum':
            out.append(IP(src=src, dst=dst, id=ident) / ICMP(type=8, id=0x5151, seq=i, chksum=0xdead) / Raw(b'x' * 16))
        elif kind == 'icmp_tooshort':
            out.append(IP(src=src, dst=dst, id=ident, proto=1) / Raw(b'\x08\x00\x00'))
        elif kind == 'frag_overlap':
            # A first fragment, then one wholly inside it: the second is dropped.
            out.append(IP(src=src, dst=dst, id=ident, proto=1, flags='MF', frag=0) / Raw(b'A' * 24))
            out.append(IP(src=src, dst=dst, id=ident, proto=1, flags='MF', frag=1) / Raw(b'B' * 8))
        elif kind == 'tcp_badflags':
            out.append(IP(src=src, dst=dst, id=ident) / TCP(sport=40000 + i, dport=9, flags='FSRPAU'))
        elif kind == 'udp_badsum':
            out.append(IP(src=src, dst=dst, id=ident) / UDP(sport=40000 + i, dport=9, chksum=0x1234) / Raw(b'y' * 8))
        elif kind == 'udp_badlen':
            out.append(IP(src=src, dst=dst, id=ident) / UDP(sport=40000 + i, dport=9, len=200) / Raw(b'y' * 8))
        elif kind == 'vlan':
            out.append(('vlan', IP(src=src, dst=dst, id=ident) / echo))
        else:
            sys.exit('inject.py: unknown kind ' + kind)
    return out


def main():
    iface, dstmac, src, dst = sys.argv[1:5]
    sent = {}
    base = 0x7000
    pkts = []
    for arg in sys.argv[5:]:
        kind, n = arg.split('=')
        n = int(n)
        for p in frames(kind, n, src, dst, base):
            if isinstance(p, tuple):
                pkts.append(Ether(dst=dstmac, type=0x8100) / Dot1Q(vlan=5) / p[1])
            else:
                pkts.append(Ether(dst=dstmac, type=0x0800) / p)
        base += 0x100
        sent[kind] = n
    sendp(pkts, iface=iface)
    print(json.dumps(sent))


if __name__ == '__main__':
    main()
