/**
 * Name tables the filter compiler consults instead of the resolver: IP
 * protocol names (getprotobyname), TCP/UDP service names (getservbyname)
 * as OpenBSD's /etc/protocols and /etc/services list them, and libpcap's
 * static Ethernet type names.  Numbers are IANA assignments.
 */

/** "name number alias..." per line, in /etc/protocols order. */
const PROTOCOLS = `
ip 0 IP HOPOPT
icmp 1 ICMP
igmp 2 IGMP
ggp 3 GGP
ipencap 4 IP-ENCAP
st2 5 ST ST2
tcp 6 TCP
cbt 7 UCL CBT
egp 8 EGP
igp 9 IGP
bbn-rcc 10 BBN-RCC-MON
nvp 11 NVP-II
pup 12 PUP
argus 13 ARGUS
emcon 14 EMCON
xnet 15 XNET
chaos 16 CHAOS
udp 17 UDP
mux 18 MUX
dcn 19 DCN-MEAS
hmp 20 HMP
prm 21 PRM
xns-idp 22 XNS-IDP
trunk-1 23 TRUNK-1
trunk-2 24 TRUNK-2
leaf-1 25 LEAF-1
leaf-2 26 LEAF-2
rdp 27 RDP
irtp 28 IRTP
iso-tp4 29 ISO-TP4
netblt 30 NETBLT
mfe-nsp 31 MFE-NSP
merit-inp 32 MERIT-INP
dccp 33 SEP DCCP
3pc 34 3PC
idpr 35 IDPR
xtp 36 XTP
ddp 37 DDP
idpr-cmtp 38 IDPR-CMTP
tp++ 39 TP++
il 40 IL
ipv6 41 IPv6
sdrp 42 SDRP
ipv6-route 43 IPV6-ROUTE
ipv6-frag 44 IPV6-FRAG
idrp 45 IDRP
rsvp 46 RSVP
gre 47 GRE
dsr 48 DSR
bna 49 BNA
esp 50 IPSEC-ESP ESP
ah 51 IPSEC-AH AH
i-nlsp 52 I-NLSP
swipe 53 SWIPE
narp 54 NHRP NARP
mobile 55 MOBILEIP MOBILE
skip 57 SKIP
ipv6-icmp 58 IPV6-ICMP icmp6
ipv6-nonxt 59 IPV6-NONXT
ipv6-opts 60 IPV6-OPTS
any 61 any
cftp 62 CFTP
any 63 any
sat-expak 64 SAT-EXPAK
kryptolan 65 KRYPTOLAN
rvd 66 RVD
ippc 67 IPPC
any 68 any
sat-mon 69 SAT-MON
visa 70 VISA
ipcv 71 IPCV
cpnx 72 CPNX
cphb 73 CPHB
wsn 74 WSN
pvp 75 PVP
br-sat-mon 76 BR-SAT-MON
sun-nd 77 SUN-ND
wb-mon 78 WB-MON
wb-expak 79 WB-EXPAK
iso-ip 80 ISO-IP
vmtp 81 VMTP
secure-vmtp 82 SECURE-VMTP
vines 83 VINES
ttp 84 TTP
nsfnet-igp 85 NSFNET-IGP
dgp 86 DGP
tcf 87 TCF
igrp 88 IGRP EIGRP
ospf 89 OSPFIGP
sprite-rpc 90 Sprite-RPC
larp 91 LARP
mtp 92 MTP
ax.25 93 AX.25
ipip 94 IPIP
micp 95 MICP
scc-sp 96 SCC-SP
etherip 97 ETHERIP
encap 98 ENCAP
any 99 any
gmtp 100 GMTP
ifmp 101 IFMP
pnni 102 PNNI
pim 103 PIM
aris 104 ARIS
scps 105 SCPS
qnx 106 QNX
a/n 107 A/N
ipcomp 108 IPComp
snp 109 SNP
compaq-peer 110 Compaq-Peer
ipx-in-ip 111 IPX-in-IP
carp 112 CARP vrrp
pgm 113 PGM
l2tp 115 L2TP
ddx 116 DDX
iatp 117 IATP
stp 118 STP
srp 119 SRP
uti 120 UTI
smp 121 SMP
sm 122 SM
ptp 123 PTP
isis 124 ISIS
fire 125 FIRE
crtp 126 CRTP
crudp 127 CRUDP
sscopmce 128 SSCOPMCE
iplt 129 IPLT
sps 130 SPS
pipe 131 PIPE
sctp 132 SCTP
fc 133 FC
rsvp-e2e-ignore 134 RSVP-E2E-IGNORE
mobility-header 135 Mobility-Header
udplite 136 UDPLite
mpls-in-ip 137 MPLS-IN-IP
manet 138 MANET
hip 139 HIP
shim6 140 SHIM6
wesp 141 WESP
rohc 142 ROHC
pfsync 240 PFSYNC
reserved 255 Reserved
divert 258 DIVERT
`;

/** "name port proto alias..." per line, TCP and UDP entries in /etc/services order. */
const SERVICES = `
tcpmux 1 tcp
echo 7 tcp
echo 7 udp
discard 9 tcp sink null
discard 9 udp sink null
systat 11 tcp users
daytime 13 tcp
daytime 13 udp
netstat 15 tcp
qotd 17 tcp quote
msp 18 tcp
msp 18 udp
chargen 19 tcp ttytst source
chargen 19 udp ttytst source
ftp-data 20 tcp
ftp 21 tcp
ssh 22 tcp
ssh 22 udp
telnet 23 tcp
smtp 25 tcp mail
time 37 tcp timserver
time 37 udp timserver
rlp 39 udp resource
nameserver 42 tcp name
whois 43 tcp nicname
tacacs 49 tcp tacas+
tacacs 49 udp tacas+
domain 53 tcp
domain 53 udp
mtp 57 tcp
bootps 67 tcp
bootps 67 udp
bootpc 68 tcp
bootpc 68 udp
tftp 69 udp
gopher 70 tcp
gopher 70 udp
rje 77 tcp netrjs
finger 79 tcp
www 80 tcp http
www 80 udp
link 87 tcp ttylink
kerberos 88 udp kerberos-sec
kerberos 88 tcp kerberos-sec
supdup 95 tcp
hostnames 101 tcp hostname
iso-tsap 102 tcp tsap
x400 103 tcp
x400-snd 104 tcp
csnet-ns 105 tcp cso-ns
csnet-ns 105 udp cso-ns
rtelnet 107 tcp
rtelnet 107 udp
pop3 110 tcp
sunrpc 111 tcp portmap rpcbind
sunrpc 111 udp portmap rpcbind
auth 113 tcp authentication tap ident
sftp 115 tcp
uucp-path 117 tcp
nntp 119 tcp readnews untp
ntp 123 tcp
ntp 123 udp
pwdgen 129 tcp
pwdgen 129 udp
epmap 135 tcp
epmap 135 udp
netbios-ns 137 tcp
netbios-ns 137 udp
netbios-dgm 138 tcp
netbios-dgm 138 udp
netbios-ssn 139 tcp
netbios-ssn 139 udp
imap 143 tcp imap2
bftp 152 tcp
snmp 161 udp
snmp-trap 162 udp snmptrap
cmip-man 163 tcp
cmip-man 163 udp
cmip-agent 164 tcp
cmip-agent 164 udp
xdmcp 177 tcp
xdmcp 177 udp
nextstep 178 tcp NeXTStep NextStep
nextstep 178 udp NeXTStep NextStep
bgp 179 tcp
prospero 191 tcp
prospero 191 udp
irc 194 tcp
smux 199 tcp
smux 199 udp
at-rtmp 201 tcp
at-rtmp 201 udp
at-nbp 202 tcp
at-nbp 202 udp
at-echo 204 tcp
at-echo 204 udp
at-zis 206 tcp
at-zis 206 udp
z3950 210 tcp wais
z3950 210 udp wais
ipx 213 tcp
ipx 213 udp
rpki-rtr 323 tcp
ulistserv 372 tcp
ulistserv 372 udp
ldap 389 tcp
ldap 389 udp
svrloc 427 tcp
svrloc 427 udp
nnsp 433 tcp usenet
https 443 tcp
https 443 udp
snpp 444 tcp
microsoft-ds 445 tcp
microsoft-ds 445 udp
kpasswd 464 tcp
kpasswd 464 udp
submissions 465 tcp smtps
photuris 468 tcp
photuris 468 udp
isakmp 500 udp
exec 512 tcp
biff 512 udp comsat
login 513 tcp
who 513 udp whod
shell 514 tcp cmd
syslog 514 udp
printer 515 tcp spooler
talk 517 udp
ntalk 518 udp
route 520 udp router routed
efs 521 tcp
timed 525 udp timeserver
tempo 526 tcp newdate
courier 530 tcp rpc
conference 531 tcp chat
netnews 532 tcp readnews
netwall 533 udp
uucp 540 tcp uucpd
klogin 543 tcp
kshell 544 tcp krcmd
ekshell 545 tcp
dhcpv6-client 546 udp
dhcpv6-server 547 udp
remotefs 556 tcp rfs_server rfs
afpovertcp 548 tcp
rtsp 554 tcp
rtsp 554 udp
submission 587 tcp msa
asf-rmcp 623 udp
ipp 631 tcp
ipp 631 udp
ldaps 636 tcp
ldaps 636 udp
ldp 646 tcp
ldp 646 udp
agentx 705 tcp
silc 706 tcp
kerberos-adm 749 tcp
kerberos-adm 749 udp
domain-s 853 tcp
domain-s 853 udp
rsync 873 tcp
imaps 993 tcp
pop3s 995 tcp spop3
socks 1080 tcp
kpop 1109 tcp
openvpn 1194 tcp
openvpn 1194 udp
ms-sql-s 1433 tcp Microsoft-SQL-Server
ms-sql-s 1433 udp Microsoft-SQL-Server
ms-sql-m 1434 tcp Microsoft-SQL-Monitor
ms-sql-m 1434 udp Microsoft-SQL-Monitor
ingreslock 1524 tcp
ingreslock 1524 udp
prospero-np 1525 tcp
prospero-np 1525 udp
sa-msg-port 1646 udp
l2tp 1701 udp
pptp 1723 tcp
pptp 1723 udp
radius 1812 udp
radacct 1813 udp radius-acct
mqtt 1883 tcp
ssdp 1900 tcp
ssdp 1900 udp
nfsd 2049 udp nfs
nfsd 2049 tcp nfs
eklogin 2105 tcp
rkinit 2108 tcp
kf 2110 tcp
kx 2111 tcp
kip 2112 tcp
kauth 2120 tcp
iprop 2121 tcp
cvspserver 2401 tcp
cvspserver 2401 udp
zebrasrv 2600 tcp
zebra 2601 tcp
ripd 2602 tcp
ripng 2603 tcp
ospfd 2604 tcp
bgpd 2605 tcp
ospf6d 2606 tcp
ospfapi 2607 tcp
isisd 2608 tcp
netplan 2983 tcp
eppc 3031 tcp
eppc 3031 udp
iscsi 3260 tcp
mysql 3306 tcp
rdp 3389 tcp
iapp 3517 tcp 802-11-iapp
iapp 3517 udp 802-11-iapp
daap 3689 tcp
daap 3689 udp
svn 3690 tcp
bfd-control 3784 udp
bfd-echo 3785 udp
sieve 4190 tcp
krb524 4444 tcp
krb524 4444 udp
ipsec-nat-t 4500 tcp ipsec-msft
ipsec-nat-t 4500 udp ipsec-msft
hylafax 4559 tcp
gre-in-udp 4754 udp
gre-udp-dtls 4755 udp
vxlan 4789 udp
rfe 5002 tcp
rfe 5002 udp
sip 5060 tcp
sip 5060 udp
xmpp-client 5222 tcp
xmpp-server 5269 tcp
xmpp-bosh 5280 tcp
presence 5298 tcp
presence 5298 udp
mdns 5353 tcp
mdns 5353 udp
mdnsresponder 5354 tcp
mdnsresponder 5354 udp
postgresql 5432 tcp
postgresql 5432 udp
matter 5540 tcp
matter 5540 udp
rfb 5900 tcp vnc
dtspc 6112 tcp
syslog-tls 6514 tcp
afs3-fileserver 7000 tcp
afs3-fileserver 7000 udp
afs3-callback 7001 tcp
afs3-callback 7001 udp
afs3-prserver 7002 tcp
afs3-prserver 7002 udp
afs3-vlserver 7003 tcp
afs3-vlserver 7003 udp
afs3-kaserver 7004 tcp
afs3-kaserver 7004 udp
afs3-volser 7005 tcp
afs3-volser 7005 udp
afs3-errors 7006 tcp
afs3-errors 7006 udp
afs3-bos 7007 tcp
afs3-bos 7007 udp
afs3-update 7008 tcp
afs3-update 7008 udp
afs3-rmtsys 7009 tcp
afs3-rmtsys 7009 udp
puppet 8140 tcp
matrix-fed 8448 tcp
secure-mqtt 8883 tcp
ub-dns-control 8953 tcp
git 9418 tcp
git 9418 udp
zabbix-agent 10050 tcp
zabbix-agent 10050 udp
zabbix-trapper 10051 tcp
zabbix-trapper 10051 udp
amt-soap-http 16992 tcp
amt-soap-http 16992 udp
amt-soap-https 16993 tcp
amt-soap-https 16993 udp
amt-redir-tcp 16994 tcp
amt-redir-tcp 16994 udp
amt-redir-tls 16995 tcp
amt-redir-tls 16995 udp
openwebnet 20005 tcp xcept
openwebnet 20005 udp xcept
pop3pw 106 tcp poppassd
kerberos-iv 750 udp kdc
kerberos-iv 750 tcp kdc
kerberos_master 751 udp
kerberos_master 751 tcp
krb_prop 754 tcp hprop
krbupdate 760 tcp kreg
datametrics 1645 udp
ekshell2 2106 tcp
webster 2627 tcp
conserver 3109 tcp
canna 5680 tcp
sane-port 6566 tcp
icb 7326 tcp
spamd 8025 tcp
spamd-sync 8025 udp
spamd-cfg 8026 tcp
dhcpd-sync 8067 udp
jetdirect 9100 tcp
hunt 26740 udp
`;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** libpcap's PROTO_UNDEF: a service known for both TCP and UDP. */
export const PROTO_UNDEF = -1;

let protoByName: Map<string, number> | null = null;

/** getprotobyname(3): the protocol number of a name or alias, or PROTO_UNDEF. */
export function nameToProto(name: string): number {
  if (!protoByName) {
    protoByName = new Map();
    for (const line of PROTOCOLS.split('\n')) {
      const f = line.split(' ');
      if (f.length < 2) continue;
      const n = Number(f[1]);
      for (let i = 0; i < f.length; i++) if (i !== 1 && !protoByName.has(f[i]!)) protoByName.set(f[i]!, n);
    }
  }
  return protoByName.get(name) ?? PROTO_UNDEF;
}

interface Service {
  port: number;
  proto: 'tcp' | 'udp';
}

let services: Map<string, Service[]> | null = null;

function serviceEntries(name: string): Service[] {
  if (!services) {
    services = new Map();
    for (const line of SERVICES.split('\n')) {
      const f = line.split(' ');
      if (f.length < 3) continue;
      const s: Service = { port: Number(f[1]), proto: f[2] as 'tcp' | 'udp' };
      for (let i = 0; i < f.length; i++) {
        if (i === 1 || i === 2) continue;
        const list = services.get(f[i]!) ?? [];
        list.push(s);
        services.set(f[i]!, list);
      }
    }
  }
  return services.get(name) ?? [];
}

/**
 * pcap_nametoport(): the port of a service name and IPPROTO_TCP, IPPROTO_UDP
 * or PROTO_UNDEF when the name exists for both; null when unknown.
 */
export function nameToPort(name: string): { port: number; proto: number } | null {
  const list = serviceEntries(name);
  if (list.length === 0) return null;
  const first = list[0]!;
  const other = first.proto === 'tcp' ? 'udp' : 'tcp';
  const proto = list.some((s) => s.proto === other) ? PROTO_UNDEF : first.proto === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP;
  return { port: first.port, proto };
}

/** libpcap's static table of Ethernet type names (pcap_nametoeproto). */
const ETHER_PROTOS: Readonly<Record<string, number>> = {
  pup: 0x0200,
  xns: 0x0600,
  ip: 0x0800,
  ip6: 0x86dd,
  arp: 0x0806,
  rarp: 0x8035,
  lldp: 0x88cc,
  slow: 0x8809,
  sprite: 0x0500,
  mopdl: 0x6001,
  moprc: 0x6002,
  decnet: 0x6003,
  lat: 0x6004,
  sca: 0x6007,
  lanbridge: 0x8038,
  vexp: 0x805b,
  vprod: 0x805c,
  atalk: 0x809b,
  atalkarp: 0x80f3,
  loopback: 0x9000,
  decdts: 0x803e,
  decdns: 0x803c,
};

/** pcap_nametoeproto() then pcap_nametollc(); PROTO_UNDEF when unknown. */
export function nameToEtherProto(name: string): number {
  if (Object.prototype.hasOwnProperty.call(ETHER_PROTOS, name)) return ETHER_PROTOS[name]!;
  if (name === 'stp') return 0x42; // LLCSAP_8021D
  return PROTO_UNDEF;
}
