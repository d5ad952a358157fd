/**
 * The host facts pfctl consults while parsing: interfaces and their
 * addresses (getifaddrs), interface groups, host names (/etc/hosts, DNS),
 * services, protocols, users and groups.  A lab machine provides its own;
 * the default reproduces the machine OpenBSD's pfctl regress suite runs on
 * (lo0 with ::1, fe80::1 and 127.0.0.1, the cloned lo1000000, tun1000000 and
 * tun1000001, enc0) and OpenBSD's stock /etc files.
 */
import { parseIp4, parseIp6 } from '../../wire/addr.js';
import { AF_INET, AF_INET6, type PfAddr } from './pf_ruleset.js';

export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;

export interface PfIfAddr {
  af: number;
  addr: PfAddr;
  mask: PfAddr;
  bcast: PfAddr | null;
  peer: PfAddr | null;
  /** scope id (the interface index) of an IPv6 link-local address, else 0 */
  scope: number;
}

export interface PfIface {
  name: string;
  index: number;
  flags: number;
  groups: string[];
  addrs: PfIfAddr[];
}

export interface PfctlEnv {
  interfaces: PfIface[];
  /** host name to addresses, in resolver order */
  hosts: Map<string, string[]>;
  /** service name to port, per protocol */
  services: { tcp: Map<string, number>; udp: Map<string, number> };
  /** protocol names (first is canonical) by number */
  protocols: Map<number, string[]>;
  users: Map<string, number>;
  groups: Map<string, number>;
}

function a4(s: string): PfAddr {
  const b = new Uint8Array(16);
  const v = parseIp4(s);
  b[0] = v >>> 24;
  b[1] = (v >>> 16) & 255;
  b[2] = (v >>> 8) & 255;
  b[3] = v & 255;
  return b;
}

function a6(s: string): PfAddr {
  return parseIp6(s) ?? new Uint8Array(16);
}

function mask6(bits: number): PfAddr {
  const b = new Uint8Array(16);
  for (let i = 0; i < bits; i++) b[i >> 3]! |= 0x80 >> (i & 7);
  return b;
}

function table(lines: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of lines.trim().split('\n')) {
    const [port, ...names] = line.trim().split(/\s+/);
    for (const n of names) if (!m.has(n)) m.set(n, Number(port));
  }
  return m;
}

/* OpenBSD /etc/services, the entries rulesets commonly name */
const TCP_SERVICES = `
1 tcpmux
7 echo
9 discard sink null
11 systat users
13 daytime
15 netstat
17 qotd quote
19 chargen ttytst source
20 ftp-data
21 ftp
22 ssh
23 telnet
25 smtp mail
37 time timserver
42 name
43 whois nicname
53 domain
70 gopher
79 finger
80 www http
88 kerberos krb5
95 supdup
101 hostnames hostname
102 iso-tsap tsap
105 csnet-ns
107 rtelnet
109 pop2 postoffice
110 pop3 pop-3
111 sunrpc rpcbind
113 auth ident tap
115 sftp
117 uucp-path
119 nntp readnews untp
123 ntp
139 netbios-ssn
143 imap imap2
163 cmip-man
164 cmip-agent
174 mailq
177 xdmcp
178 nextstep NeXTStep NextStep
179 bgp
191 prospero
194 irc
199 smux
201 at-rtmp
202 at-nbp
204 at-echo
206 at-zis
209 qmtp
210 z3950 wais
213 ipx
220 imap3
345 pawserv
346 zserv
347 fatserv
369 rpc2portmap
370 codaauth2
371 clearcase Clearcase
372 ulistserv
389 ldap
406 imsp
427 svrloc
443 https
444 snpp
445 microsoft-ds
464 kpasswd
465 smtps
487 saft
500 isakmp
512 exec
513 login
514 shell cmd
515 printer spooler
526 tempo newdate
530 courier rpc
531 conference chat
532 netnews
540 uucp uucpd
543 klogin
544 kshell krcmd
548 afpovertcp
554 rtsp
556 remotefs rfs_server rfs
587 submission
631 ipp
636 ldaps
706 silc
749 kerberos-adm
873 rsync
989 ftps-data
990 ftps
992 telnets
993 imaps
994 ircs
995 pop3s
1080 socks
1194 openvpn
1241 nessus
1433 ms-sql-s
1512 wins
1723 pptp
1812 radius
1813 radacct
2049 nfsd nfs
2401 cvspserver
2628 dict
3306 mysql
3389 ms-wbt-server
3690 svn
4500 ipsec-nat-t
5432 postgresql
5900 vnc
6000 x11 x11-0
6667 ircd
8080 http-alt webcache
`;

const UDP_SERVICES = `
7 echo
9 discard sink null
13 daytime
19 chargen ttytst source
37 time timserver
42 name
53 domain
67 bootps
68 bootpc
69 tftp
88 kerberos krb5
111 sunrpc rpcbind
123 ntp
137 netbios-ns
138 netbios-dgm
161 snmp
162 snmp-trap
177 xdmcp
213 ipx
443 https
500 isakmp
512 biff comsat
513 who whod
514 syslog
517 talk
518 ntalk
520 route router routed
623 asf-rmcp
1194 openvpn
1701 l2tp
1812 radius
1813 radacct
1900 ssdp
2049 nfsd nfs
3478 stun
4500 ipsec-nat-t
4789 vxlan
5353 mdns
`;

/* OpenBSD /etc/protocols */
const PROTOCOLS = `
0 ip IP
1 icmp ICMP
2 igmp IGMP
3 ggp GGP
4 ipencap IP-ENCAP
5 st2 ST2
6 tcp TCP
7 cbt CBT
8 egp EGP
9 igp IGP
10 bbn-rcc BBN-RCC-MON
11 nvp NVP-II
12 pup PUP
13 argus ARGUS
14 emcon EMCON
15 xnet XNET
16 chaos CHAOS
17 udp UDP
18 mux MUX
19 dcn DCN-MEAS
20 hmp HMP
21 prm PRM
22 xns-idp XNS-IDP
23 trunk-1 TRUNK-1
24 trunk-2 TRUNK-2
25 leaf-1 LEAF-1
26 leaf-2 LEAF-2
27 rdp RDP
28 irtp IRTP
29 iso-tp4 ISO-TP4
30 netblt NETBLT
31 mfe-nsp MFE-NSP
32 merit-inp MERIT-INP
33 dccp DCCP
34 3pc 3PC
35 idpr IDPR
36 xtp XTP
37 ddp DDP
38 idpr-cmtp IDPR-CMTP
39 tp++ TP++
40 il IL
41 ipv6 IPV6
42 sdrp SDRP
43 ipv6-route IPV6-ROUTE
44 ipv6-frag IPV6-FRAG
45 idrp IDRP
46 rsvp RSVP
47 gre GRE
48 dsr DSR
49 bna BNA
50 esp ESP
51 ah AH
52 i-nlsp I-NLSP
53 swipe SWIPE
54 narp NARP
55 mobile MOBILE
56 tlsp TLSP
57 skip SKIP
58 ipv6-icmp IPV6-ICMP icmp6
59 ipv6-nonxt IPV6-NONXT
60 ipv6-opts IPV6-OPTS
62 cftp CFTP
64 sat-expak SAT-EXPAK
65 kryptolan KRYPTOLAN
66 rvd RVD
67 ippc IPPC
69 sat-mon SAT-MON
70 visa VISA
71 ipcv IPCV
72 cpnx CPNX
73 cphb CPHB
74 wsn WSN
75 pvp PVP
76 br-sat-mon BR-SAT-MON
77 sun-nd SUN-ND
78 wb-mon WB-MON
79 wb-expak WB-EXPAK
80 iso-ip ISO-IP
81 vmtp VMTP
82 secure-vmtp SECURE-VMTP
83 vines VINES
84 ttp TTP
85 nsfnet-igp NSFNET-IGP
86 dgp DGP
87 tcf TCF
88 eigrp EIGRP
89 ospf OSPFIGP
90 sprite-rpc Sprite-RPC
91 larp LARP
92 mtp MTP
93 ax.25 AX.25
94 ipip IPIP
95 micp MICP
96 scc-sp SCC-SP
97 etherip ETHERIP
98 encap ENCAP
100 gmtp GMTP
101 ifmp IFMP
102 pnni PNNI
103 pim PIM
104 aris ARIS
105 scps SCPS
106 qnx QNX
107 a/n A/N
108 ipcomp IPCOMP
109 snp SNP
110 compaq-peer Compaq-Peer
111 ipx-in-ip IPX-in-IP
112 carp CARP vrrp
113 pgm PGM
115 l2tp L2TP
116 ddx DDX
117 iatp IATP
118 stp STP
119 srp SRP
120 uti UTI
121 smp SMP
122 sm SM
123 ptp PTP
124 isis ISIS
125 fire FIRE
126 crtp CRTP
127 crudp CRUDP
128 sscopmce SSCOPMCE
129 iplt IPLT
130 sps SPS
131 pipe PIPE
132 sctp SCTP
133 fc FC
134 rsvp-e2e-ignore RSVP-E2E-IGNORE
135 mobility-header Mobility-Header
136 udplite UDPLite
137 mpls-in-ip MPLS-IN-IP
138 manet MANET
139 hip HIP
140 shim6 Shim6
141 wesp WESP
142 rohc ROHC
240 pfsync PFSYNC
`;

function protocols(): Map<number, string[]> {
  const m = new Map<number, string[]>();
  for (const line of PROTOCOLS.trim().split('\n')) {
    const [num, ...names] = line.trim().split(/\s+/);
    m.set(Number(num), names);
  }
  return m;
}

/** The regress machine: what OpenBSD's pfctl regress expects to find. */
export function defaultPfctlEnv(): PfctlEnv {
  const lo0: PfIface = {
    name: 'lo0',
    index: 3,
    flags: IFF_LOOPBACK | 0x1 | 0x8000,
    groups: ['lo'],
    addrs: [
      { af: AF_INET6, addr: a6('::1'), mask: mask6(128), bcast: null, peer: null, scope: 0 },
      { af: AF_INET6, addr: a6('fe80::1'), mask: mask6(64), bcast: null, peer: null, scope: 3 },
      { af: AF_INET, addr: a4('127.0.0.1'), mask: a4('255.0.0.0'), bcast: null, peer: null, scope: 0 },
    ],
  };
  return {
    interfaces: [
      { name: 'enc0', index: 2, flags: 0, groups: ['enc'], addrs: [] },
      lo0,
      { name: 'pflog0', index: 4, flags: 0, groups: ['pflog'], addrs: [] },
      { name: 'lo1000000', index: 5, flags: IFF_LOOPBACK | 0x8000, groups: ['lo'], addrs: [] },
      { name: 'tun1000000', index: 6, flags: IFF_POINTOPOINT | 0x8000, groups: ['tun'], addrs: [] },
      { name: 'tun1000001', index: 7, flags: IFF_POINTOPOINT | 0x8000, groups: ['tun'], addrs: [] },
    ],
    hosts: new Map([['localhost', ['127.0.0.1', '::1']]]),
    services: { tcp: table(TCP_SERVICES), udp: table(UDP_SERVICES) },
    protocols: protocols(),
    users: new Map([
      ['root', 0],
      ['daemon', 1],
      ['operator', 2],
      ['bin', 3],
      ['build', 21],
      ['sshd', 27],
      ['www', 67],
      ['nobody', 32767],
    ]),
    groups: new Map([
      ['wheel', 0],
      ['daemon', 1],
      ['kmem', 2],
      ['sys', 3],
      ['tty', 4],
      ['operator', 5],
      ['bin', 7],
      ['wsrc', 9],
      ['users', 10],
      ['auth', 11],
      ['games', 13],
      ['staff', 20],
      ['wobj', 21],
      ['sshd', 27],
      ['guest', 31],
      ['utmp', 45],
      ['crontab', 66],
      ['www', 67],
      ['network', 69],
      ['authpf', 72],
      ['dialer', 117],
      ['nogroup', 32766],
      ['nobody', 32767],
    ]),
  };
}

export function protoByName(env: PfctlEnv, name: string): number | null {
  for (const [num, names] of env.protocols) if (names.includes(name)) return num;
  return null;
}

export function protoName(env: PfctlEnv, num: number): string | null {
  return env.protocols.get(num)?.[0] ?? null;
}
