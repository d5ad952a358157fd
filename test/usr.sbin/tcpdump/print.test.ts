/**
 * Golden output of the packet printer.  Every expected line below was read
 * against OpenBSD's print-*.c (the order of the parts, spacing, what is
 * printed on truncation), and the checksum values against Debian's tcpdump.
 * Known divergences from OpenBSD, by design of this port: port-based
 * application decoders (DNS on 53 prints "udp 12" here) are not written.
 */
process.env.TZ = 'UTC';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printFile } from './print-build.js';

const SCAPY_DEFAULT = [
  "22:13:20.000000 arp who-has 192.0.2.254 tell 192.0.2.1",
  "22:13:20.001000 arp reply 192.0.2.254 is-at 02:00:00:00:00:02",
  "22:13:20.002000 192.0.2.1.40000 > 198.51.100.2.80: S 1000:1000(0) win 64240 <mss 1460,sackOK,timestamp 123456 0,nop,wscale 7>",
  "22:13:20.003000 198.51.100.2.80 > 192.0.2.1.40000: S 5000:5000(0) ack 1001 win 65160 <mss 1400,nop,nop,sackOK,nop,wscale 9>",
  "22:13:20.004000 192.0.2.1.40000 > 198.51.100.2.80: . ack 1 win 502 (DF)",
  "22:13:20.005000 192.0.2.1.40000 > 198.51.100.2.80: P 1:19(18) ack 1 win 502 (DF)",
  "22:13:20.006000 198.51.100.2.80 > 192.0.2.1.40000: . ack 19 win 500 <nop,nop,sack 2 {18446744073709551516:0} {100:200} >",
  "22:13:20.007000 198.51.100.2.80 > 192.0.2.1.40000: F 1:1(0) ack 19 win 500",
  "22:13:20.008000 192.0.2.1.40000 > 198.51.100.2.80: R 1019:1019(0) win 0",
  "22:13:20.009000 192.0.2.1.40001 > 198.51.100.2.443: SWE 7:7(0) win 1024 <mss 536,opt-254:0102,eol>",
  "22:13:20.010000 192.0.2.1.40002 > 198.51.100.2.22: . 99:102(3) ack 1 win 10 urg 3",
  "22:13:20.011000 192.0.2.1.5353 > 198.51.100.2.53: udp 12",
  "22:13:20.012000 192.0.2.1.40000 > 198.51.100.2.9: udp 7",
  "22:13:20.013000 192.0.2.1 > 198.51.100.2: icmp: echo request",
  "22:13:20.014000 198.51.100.2 > 192.0.2.1: icmp: echo reply",
  "22:13:20.015000 192.0.2.254 > 192.0.2.1: icmp: 198.51.100.2 udp port 9 unreachable",
  "22:13:20.016000 192.0.2.254 > 192.0.2.1: icmp: host 198.51.100.2 unreachable",
  "22:13:20.017000 192.0.2.254 > 192.0.2.1: icmp: 198.51.100.2 unreachable - need to frag (mtu 1400)",
  "22:13:20.018000 192.0.2.254 > 192.0.2.1: icmp: time exceeded in-transit",
  "22:13:20.019000 192.0.2.254 > 192.0.2.1: icmp: redirect 198.51.100.2 to host 192.0.2.253",
  "22:13:20.020000 192.0.2.254 > 192.0.2.1: icmp: parameter problem - octet 20",
  "22:13:20.021000 192.0.2.254 > 192.0.2.1: icmp: source quench",
  "22:13:20.022000 192.0.2.1 > 198.51.100.2: icmp: time stamp request",
  "22:13:20.023000 198.51.100.2 > 192.0.2.1: icmp: time stamp reply",
  "22:13:20.024000 192.0.2.1 > 198.51.100.2: icmp: echo request [tos 0x10] [ttl 1]",
  "22:13:20.025000 192.0.2.1 > 224.0.0.22: igmp-2 [v2] [ttl 1]",
  "22:13:20.026000 802.1Q vid 42 pri 3 192.0.2.1 > 198.51.100.2: icmp: echo request",
  "22:13:20.027000 QinQ svid 100 pri 1 802.1Q vid 42 pri 1 192.0.2.1.1000 > 198.51.100.2.2000: udp 1",
  "22:13:20.028000 192.0.2.1 > 198.51.100.2: esp spi 0x10000861 seq 1 len 40",
  "22:13:20.029000 192.0.2.1 > 198.51.100.2: ip-proto-253 12",
  "22:13:20.030000 2001:db8::1.40010 > 2001:db8:1::2.22: S 1:1(0) win 65535 <mss 1440>",
  "22:13:20.031000 2001:db8::1.40011 > 2001:db8:1::2.53: udp 12",
  "22:13:20.032000 2001:db8::1 > 2001:db8:1::2: icmp6: echo request",
  "22:13:20.033000 2001:db8:1::2 > 2001:db8::1: icmp6: echo reply",
  "22:13:20.034000 2001:db8:1::2 > 2001:db8::1: icmp6: 2001:db8:1::2 udp port 2 unreachable",
  "22:13:20.035000 2001:db8:1::2 > 2001:db8::1: icmp6: too big 1280",
  "22:13:20.036000 2001:db8:1::2 > 2001:db8::1: icmp6: time exceeded in-transit for 2001:db8:1::2",
  "22:13:20.037000 2001:db8:1::2 > 2001:db8::1: icmp6: parameter problem next header - octet 40",
  "22:13:20.038000 2001:db8::1 > ff02::1:ff00:2: icmp6: neighbor sol: who has 2001:db8:1::2",
  "22:13:20.039000 2001:db8:1::2 > 2001:db8::1: icmp6: neighbor adv: tgt is 2001:db8:1::2",
  "22:13:20.040000 fe80::1 > ff02::2: icmp6: router solicitation ",
  "22:13:20.041000 fe80::2 > ff02::1: icmp6: router advertisement",
  "22:13:20.042000 fe80::2 > 2001:db8::1: icmp6: redirect 2001:db8:1::2 to fe80::3",
  "22:13:20.043000 fe80::1 > ff02::16: HBH icmp6: multicast listener report max resp delay: 0 addr: ff02::1:ff00:1 [hlim 1]",
  "22:13:20.044000 2001:db8::1 > 2001:db8:1::2: srcrt (len=2, type=0, segleft=1, [0]2001:db8:2::1)2001:db8::1.3 > 2001:db8:1::2.4: udp 0",
  "22:13:20.045000 2001:db8::1 > 2001:db8:1::2: DSTOPT 5 > 6: S 0:0(0) win 8192",
  "22:13:20.046000 2001:db8::1 > 2001:db8:1::2: esp spi 0x10000862 seq 7 len 32",
  "22:13:20.047000 192.0.2.1 > 198.51.100.2: icmp: echo request (frag 16962:1000@0+)",
  "22:13:20.048000 192.0.2.1 > 198.51.100.2: (frag 16962:1000@1000+)",
  "22:13:20.049000 192.0.2.1 > 198.51.100.2: (frag 16962:8@2000)",
  "22:13:20.050000 2001:db8::1 > 2001:db8:1::2: frag (0x0000abcd:1008@0+) 2001:db8::1.7 > 2001:db8:1::2.7:  truncated-udp - 500 bytes missing!udp 1000",
  "22:13:20.051000 2001:db8::1 > 2001:db8:1::2: frag (0x0000abcd:500@1008)",
  "22:13:20.052000 192.0.2.1 > 198.51.100.2: icmp: echo request",
  "22:13:20.053000 192.0.2.1.1 > 198.51.100.2.2: S 0:0(0) win 8192",
  "22:13:20.054000 192.0.2.1.1 > 198.51.100.2.2: SFRP 0:0(0) ack 0 win 0 urg 0",
  "22:13:20.055000 truncated-tcp 10",
  "22:13:20.056000 bad-hlen 12",
  "22:13:20.057000 192.0.2.1.1 > 198.51.100.2.2: S 0:0(0) win 8192 <[bad opt]>",
];

const SCAPY_VV_E = [
  "22:13:20.000000 02:00:00:00:00:01 ff:ff:ff:ff:ff:ff 0806 42: arp who-has 192.0.2.254 tell 192.0.2.1",
  "22:13:20.001000 02:00:00:00:00:02 02:00:00:00:00:01 0806 42: arp reply 192.0.2.254 is-at 02:00:00:00:00:02",
  "22:13:20.002000 02:00:00:00:00:01 02:00:00:00:00:02 0800 74: 192.0.2.1.40000 > 198.51.100.2.80: S [tcp sum ok] 1000:1000(0) win 64240 <mss 1460,sackOK,timestamp 123456 0,nop,wscale 7> (ttl 64, id 1, len 60)",
  "22:13:20.003000 02:00:00:00:00:01 02:00:00:00:00:02 0800 66: 198.51.100.2.80 > 192.0.2.1.40000: S [tcp sum ok] 5000:5000(0) ack 1001 win 65160 <mss 1400,nop,nop,sackOK,nop,wscale 9> (ttl 63, id 2, len 52)",
  "22:13:20.004000 02:00:00:00:00:01 02:00:00:00:00:02 0800 54: 192.0.2.1.40000 > 198.51.100.2.80: . [tcp sum ok] 1:1(0) ack 1 win 502 (DF) (ttl 64, id 3, len 40)",
  "22:13:20.005000 02:00:00:00:00:01 02:00:00:00:00:02 0800 72: 192.0.2.1.40000 > 198.51.100.2.80: P [tcp sum ok] 1:19(18) ack 1 win 502 (DF) (ttl 64, id 4, len 58)",
  "22:13:20.006000 02:00:00:00:00:01 02:00:00:00:00:02 0800 74: 198.51.100.2.80 > 192.0.2.1.40000: . [tcp sum ok] 1:1(0) ack 19 win 500 <nop,nop,sack 2 {18446744073709551516:0} {100:200} > (ttl 64, id 5, len 60)",
  "22:13:20.007000 02:00:00:00:00:01 02:00:00:00:00:02 0800 54: 198.51.100.2.80 > 192.0.2.1.40000: F [tcp sum ok] 1:1(0) ack 19 win 500 (ttl 64, id 6, len 40)",
  "22:13:20.008000 02:00:00:00:00:01 02:00:00:00:00:02 0800 54: 192.0.2.1.40000 > 198.51.100.2.80: R [tcp sum ok] 1019:1019(0) win 0 (ttl 64, id 7, len 40)",
  "22:13:20.009000 02:00:00:00:00:01 02:00:00:00:00:02 0800 66: 192.0.2.1.40001 > 198.51.100.2.443: SWE [tcp sum ok] 7:7(0) win 1024 <mss 536,opt-254:0102,eol> (ttl 64, id 8, len 52)",
  "22:13:20.010000 02:00:00:00:00:01 02:00:00:00:00:02 0800 57: 192.0.2.1.40002 > 198.51.100.2.22: . [tcp sum ok] 99:102(3) ack 1 win 10 urg 3 (ttl 64, id 9, len 43)",
  "22:13:20.011000 02:00:00:00:00:01 02:00:00:00:00:02 0800 54: 192.0.2.1.5353 > 198.51.100.2.53: [udp sum ok] udp 12 (ttl 64, id 10, len 40)",
  "22:13:20.012000 02:00:00:00:00:01 02:00:00:00:00:02 0800 49: 192.0.2.1.40000 > 198.51.100.2.9: [no udp cksum] udp 7 (ttl 64, id 11, len 35)",
  "22:13:20.013000 02:00:00:00:00:01 02:00:00:00:00:02 0800 98: 192.0.2.1 > 198.51.100.2: icmp: echo request (id:c52b seq:0) [icmp cksum ok] (ttl 64, id 12, len 84)",
  "22:13:20.014000 02:00:00:00:00:01 02:00:00:00:00:02 0800 98: 198.51.100.2 > 192.0.2.1: icmp: echo reply (id:c52b seq:0) [icmp cksum ok] (ttl 64, id 13, len 84)",
  "22:13:20.015000 02:00:00:00:00:01 02:00:00:00:00:02 0800 70: 192.0.2.254 > 192.0.2.1: icmp: 198.51.100.2 udp port 9 unreachable [icmp cksum ok] for 192.0.2.1.40000 > 198.51.100.2.9: [udp sum ok] udp 0 (ttl 64, id 11, len 28) (ttl 64, id 14, len 56)",
  "22:13:20.016000 02:00:00:00:00:01 02:00:00:00:00:02 0800 70: 192.0.2.254 > 192.0.2.1: icmp: host 198.51.100.2 unreachable [icmp cksum ok] for 192.0.2.1 > 198.51.100.2: icmp: echo request (id:0001 seq:1) [icmp cksum ok] (ttl 64, id 12, len 28) (ttl 64, id 15, len 56)",
  "22:13:20.017000 02:00:00:00:00:01 02:00:00:00:00:02 0800 82: 192.0.2.254 > 192.0.2.1: icmp: 198.51.100.2 unreachable - need to frag (mtu 1400) [icmp cksum ok] for 192.0.2.1.40000 > 198.51.100.2.80: S [tcp sum ok] 0:0(0) win 8192 (DF) (ttl 64, id 13, len 40) (ttl 64, id 16, len 68)",
  "22:13:20.018000 02:00:00:00:00:01 02:00:00:00:00:02 0800 70: 192.0.2.254 > 192.0.2.1: icmp: time exceeded in-transit [icmp cksum ok] for 192.0.2.1.40000 > 198.51.100.2.33434: [udp sum ok] udp 0 [ttl 1] (id 14, len 28) (ttl 64, id 17, len 56)",
  "22:13:20.019000 02:00:00:00:00:01 02:00:00:00:00:02 0800 70: 192.0.2.254 > 192.0.2.1: icmp: redirect 198.51.100.2 to host 192.0.2.253 [icmp cksum ok] for 192.0.2.1 > 198.51.100.2: icmp: echo request (id:0000 seq:0) [icmp cksum ok] (ttl 64, id 15, len 28) (ttl 64, id 18, len 56)",
  "22:13:20.020000 02:00:00:00:00:01 02:00:00:00:00:02 0800 70: 192.0.2.254 > 192.0.2.1: icmp: parameter problem - octet 20 [icmp cksum ok] for 192.0.2.1.1 > 198.51.100.2.2: [udp sum ok] udp 0 (ttl 64, id 16, len 28) (ttl 64, id 19, len 56)",
  "22:13:20.021000 02:00:00:00:00:01 02:00:00:00:00:02 0800 70: 192.0.2.254 > 192.0.2.1: icmp: source quench [icmp cksum ok] for 192.0.2.1.1 > 198.51.100.2.2: [udp sum ok] udp 0 (ttl 64, id 17, len 28) (ttl 64, id 20, len 56)",
  "22:13:20.022000 02:00:00:00:00:01 02:00:00:00:00:02 0800 54: 192.0.2.1 > 198.51.100.2: icmp: time stamp request [icmp cksum ok] (ttl 64, id 21, len 40)",
  "22:13:20.023000 02:00:00:00:00:01 02:00:00:00:00:02 0800 54: 198.51.100.2 > 192.0.2.1: icmp: time stamp reply [icmp cksum ok] (ttl 64, id 22, len 40)",
  "22:13:20.024000 02:00:00:00:00:01 02:00:00:00:00:02 0800 54: 192.0.2.1 > 198.51.100.2: icmp: echo request (id:0000 seq:0) [icmp cksum ok] [tos 0x10] [ttl 1] (id 23, len 40, optlen=12 NOP RR{11}= RR{#0.0.0.0 0.0.0.0})",
  "22:13:20.025000 02:00:00:00:00:01 02:00:00:00:00:02 0800 46: 192.0.2.1 > 224.0.0.22: igmp-2 [v2] bad igmp cksum fa01! [ttl 1] (id 24, len 32, optlen=4 IPOPT-148{4})",
  "22:13:20.026000 02:00:00:00:00:01 02:00:00:00:00:02 8100 46: 802.1Q vid 42 pri 3 192.0.2.1 > 198.51.100.2: icmp: echo request (id:0002 seq:3) [icmp cksum ok] (ttl 64, id 25, len 28)",
  "22:13:20.027000 02:00:00:00:00:01 02:00:00:00:00:02 88a8 51: QinQ svid 100 pri 1 802.1Q vid 42 pri 1 192.0.2.1.1000 > 198.51.100.2.2000: [udp sum ok] udp 1 (ttl 64, id 26, len 29)",
  "22:13:20.028000 02:00:00:00:00:01 02:00:00:00:00:02 0800 74: 192.0.2.1 > 198.51.100.2: esp spi 0x10000861 seq 1 len 40 (ttl 64, id 27, len 60)",
  "22:13:20.029000 02:00:00:00:00:01 02:00:00:00:00:02 0800 46: 192.0.2.1 > 198.51.100.2: ip-proto-253 12 (ttl 64, id 28, len 32)",
  "22:13:20.030000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 78: 2001:db8::1.40010 > 2001:db8:1::2.22: S [tcp sum ok] 1:1(0) win 65535 <mss 1440> (len 24, hlim 64)",
  "22:13:20.031000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 74: 2001:db8::1.40011 > 2001:db8:1::2.53: [udp sum ok] udp 12 (len 20, hlim 64)",
  "22:13:20.032000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 66: 2001:db8::1 > 2001:db8:1::2: icmp6: echo request (id:1234 seq:1) [icmp6 cksum ok] (len 12, hlim 64)",
  "22:13:20.033000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 66: 2001:db8:1::2 > 2001:db8::1: icmp6: echo reply (id:1234 seq:1) [icmp6 cksum ok] (len 12, hlim 64)",
  "22:13:20.034000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 110: 2001:db8:1::2 > 2001:db8::1: icmp6: 2001:db8:1::2 udp port 2 unreachable [icmp6 cksum ok] (len 56, hlim 64)",
  "22:13:20.035000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 122: 2001:db8:1::2 > 2001:db8::1: icmp6: too big 1280 [icmp6 cksum ok] (len 68, hlim 64)",
  "22:13:20.036000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 110: 2001:db8:1::2 > 2001:db8::1: icmp6: time exceeded in-transit for 2001:db8:1::2 [icmp6 cksum ok] (len 56, hlim 64)",
  "22:13:20.037000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 102: 2001:db8:1::2 > 2001:db8::1: icmp6: parameter problem next header - octet 40 [icmp6 cksum ok] (len 48, hlim 64)",
  "22:13:20.038000 02:00:00:00:00:01 33:33:ff:00:00:02 86dd 86: 2001:db8::1 > ff02::1:ff00:2: icmp6: neighbor sol: who has 2001:db8:1::2(src lladdr: 02:00:00:00:00:01) [icmp6 cksum ok] (len 32, hlim 255)",
  "22:13:20.039000 02:00:00:00:00:02 02:00:00:00:00:01 86dd 86: 2001:db8:1::2 > 2001:db8::1: icmp6: neighbor adv: tgt is 2001:db8:1::2(SO)(tgt lladdr: 02:00:00:00:00:02) [icmp6 cksum ok] (len 32, hlim 255)",
  "22:13:20.040000 02:00:00:00:00:01 33:33:00:00:00:02 86dd 70: fe80::1 > ff02::2: icmp6: router solicitation (src lladdr: 02:00:00:00:00:01) [icmp6 cksum ok] (len 16, hlim 255)",
  "22:13:20.041000 02:00:00:00:00:02 33:33:00:00:00:01 86dd 118: fe80::2 > ff02::1: icmp6: router advertisement(chlim=64, pref=high, router_ltime=1800, reachable_time=0, retrans_time=0)(src lladdr: 02:00:00:00:00:02)(mtu: mtu=1500)(prefix info: LA valid_ltime=infinity, preferred_ltime=infinity, prefix=2001:db8::/64) [icmp6 cksum ok] (len 64, hlim 255)",
  "22:13:20.042000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 94: fe80::2 > 2001:db8::1: icmp6: redirect 2001:db8:1::2 to fe80::3 [icmp6 cksum ok] (len 40, hlim 255)",
  "22:13:20.043000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 86: fe80::1 > ff02::16: HBH (rtalert: 0x0000) icmp6: multicast listener report max resp delay: 0 addr: ff02::1:ff00:1 [icmp6 cksum ok] [hlim 1] (len 32)",
  "22:13:20.044000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 86: 2001:db8::1 > 2001:db8:1::2: srcrt (len=2, type=0, segleft=1, rsv=0x0, [0]2001:db8:2::1)2001:db8::1.3 > 2001:db8:1::2.4: [udp sum ok] udp 0 (len 32, hlim 64)",
  "22:13:20.045000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 82: 2001:db8::1 > 2001:db8:1::2: DSTOPT 5 > 6: S [tcp sum ok] 0:0(0) win 8192 (len 28, hlim 64)",
  "22:13:20.046000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 86: 2001:db8::1 > 2001:db8:1::2: esp spi 0x10000862 seq 7 len 32 (len 32, hlim 64)",
  "22:13:20.047000 02:00:00:00:00:01 02:00:00:00:00:02 0800 1034: 192.0.2.1 > 198.51.100.2: icmp: echo request (id:0009 seq:9) [bad icmp cksum 756b! -> cfc5] (frag 16962:1000@0+) (ttl 64, len 1020)",
  "22:13:20.048000 02:00:00:00:00:01 02:00:00:00:00:02 0800 1034: 192.0.2.1 > 198.51.100.2: (frag 16962:1000@1000+) (ttl 64, len 1020)",
  "22:13:20.049000 02:00:00:00:00:01 02:00:00:00:00:02 0800 42: 192.0.2.1 > 198.51.100.2: (frag 16962:8@2000) (ttl 64, len 28)",
  "22:13:20.050000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 1070: 2001:db8::1 > 2001:db8:1::2: frag (0x0000abcd:1008@0+) 2001:db8::1.7 > 2001:db8:1::2.7:  truncated-udp - 500 bytes missing![invalid udp cksum 0] udp 1000 (len 1016, hlim 64)",
  "22:13:20.051000 02:00:00:00:00:01 02:00:00:00:00:02 86dd 562: 2001:db8::1 > 2001:db8:1::2: frag (0x0000abcd:500@1008) (len 508, hlim 64)",
  "22:13:20.052000 02:00:00:00:00:01 02:00:00:00:00:02 0800 42: 192.0.2.1 > 198.51.100.2: icmp: echo request (id:0000 seq:0) [icmp cksum ok] (ttl 64, id 40, len 28, bad ip cksum 1234! -> 8e82)",
  "22:13:20.053000 02:00:00:00:00:01 02:00:00:00:00:02 0800 54: 192.0.2.1.1 > 198.51.100.2.2: S [bad tcp cksum beef! -> a3a8] 0:0(0) win 8192 (ttl 64, id 41, len 40)",
  "22:13:20.054000 02:00:00:00:00:01 02:00:00:00:00:02 0800 54: 192.0.2.1.1 > 198.51.100.2.2: SFRP [tcp sum ok] 0:0(0) ack 0 win 0 urg 0 (ttl 64, id 44, len 40)",
  "22:13:20.055000 02:00:00:00:00:01 02:00:00:00:00:02 0800 44: truncated-tcp 10 (ttl 64, id 42, len 30)",
  "22:13:20.056000 02:00:00:00:00:01 02:00:00:00:00:02 0800 42: bad-hlen 12",
  "22:13:20.057000 02:00:00:00:00:01 02:00:00:00:00:02 0800 58: 192.0.2.1.1 > 198.51.100.2.2: S [tcp sum ok] 0:0(0) win 8192 <[bad opt]> (ttl 64, id 45, len 44)",
];

const NETNS_V = [
  "06:24:55.989483 :: > ff02::16: HBH (rtalert: 0x0000) multicast listener report v2, 2 group record(s) [gaddr ff02::1:ff00:1 to_ex, 0 source(s)] [gaddr ff02::1:ff00:a01 to_ex, 0 source(s)] [icmp6 cksum ok] [hlim 1] (len 56)",
  "06:24:56.181523 :: > ff02::16: HBH (rtalert: 0x0000) multicast listener report v2, 2 group record(s) [gaddr ff02::1:ff00:2 to_ex, 0 source(s)] [gaddr ff02::1:ff00:b01 to_ex, 0 source(s)] [icmp6 cksum ok] [hlim 1] (len 56)",
  "06:24:56.181551 :: > ff02::1:ff00:a01: icmp6: neighbor sol: who has fe80::ff:fe00:a01(unknown opt_type=14, opt_len=1) [icmp6 cksum ok] (len 32, hlim 255)",
  "06:24:56.405504 :: > ff02::1:ff00:b01: icmp6: neighbor sol: who has fe80::ff:fe00:b01(unknown opt_type=14, opt_len=1) [icmp6 cksum ok] (len 32, hlim 255)",
  "06:24:56.427695 arp who-has 192.0.2.2 tell 192.0.2.1",
  "06:24:56.427711 arp reply 192.0.2.2 is-at 02:00:00:00:0b:01",
  "06:24:56.427713 192.0.2.1 > 192.0.2.2: icmp: echo request (id:1ce2 seq:1) [icmp cksum ok] (DF) (ttl 64, id 9815, len 84)",
  "06:24:56.427837 192.0.2.2 > 192.0.2.1: icmp: echo reply (id:1ce2 seq:1) [icmp cksum ok] (ttl 64, id 40032, len 84)",
  "06:24:56.629478 192.0.2.1 > 192.0.2.2: icmp: echo request (id:1ce2 seq:2) [icmp cksum ok] (DF) (ttl 64, id 9843, len 84)",
  "06:24:56.629499 192.0.2.2 > 192.0.2.1: icmp: echo reply (id:1ce2 seq:2) [icmp cksum ok] (ttl 64, id 40062, len 84)",
  "06:24:56.633780 2001:db8::1 > ff02::1:ff00:2: icmp6: neighbor sol: who has 2001:db8::2(src lladdr: 02:00:00:00:0a:01) [icmp6 cksum ok] (len 32, hlim 255)",
  "06:24:56.633806 2001:db8::2 > 2001:db8::1: icmp6: neighbor adv: tgt is 2001:db8::2(SO)(tgt lladdr: 02:00:00:00:0b:01) [icmp6 cksum ok] (len 32, hlim 255)",
  "06:24:56.633811 2001:db8::1 > 2001:db8::2: icmp6: echo request (id:1cfa seq:1) [icmp6 cksum ok] [flowlabel 0x9a4ce] (len 64, hlim 64)",
  "06:24:56.633820 2001:db8::2 > 2001:db8::1: icmp6: echo reply (id:1cfa seq:1) [icmp6 cksum ok] [flowlabel 0xf6eb7] (len 64, hlim 64)",
  "06:24:56.837500 2001:db8::1 > 2001:db8::2: icmp6: echo request (id:1cfa seq:2) [icmp6 cksum ok] [flowlabel 0x9a4ce] (len 64, hlim 64)",
  "06:24:56.837520 2001:db8::2 > 2001:db8::1: icmp6: echo reply (id:1cfa seq:2) [icmp6 cksum ok] [flowlabel 0xf6eb7] (len 64, hlim 64)",
  "06:24:57.144285 192.0.2.1.40862 > 192.0.2.2.8080: S [bad tcp cksum 8432! -> b1ff] 2310853917:2310853917(0) win 64240 <mss 1460,sackOK,timestamp 1519689323 0,nop,wscale 10> (DF) (ttl 64, id 63859, len 60)",
  "06:24:57.144306 192.0.2.2.8080 > 192.0.2.1.40862: S [bad tcp cksum 8432! -> 81f5] 2251346583:2251346583(0) ack 2310853918 win 65160 <mss 1460,sackOK,timestamp 3354201003 1519689323,nop,wscale 10> (DF) (ttl 64, id 0, len 60)",
  "06:24:57.144317 192.0.2.1.40862 > 192.0.2.2.8080: . [bad tcp cksum 842a! -> af0e] ack 1 win 63 <nop,nop,timestamp 1519689323 3354201003> (DF) (ttl 64, id 63860, len 52)",
  "06:24:57.144375 192.0.2.1.40862 > 192.0.2.2.8080: P [bad tcp cksum a072! -> 8db8] 1:7241(7240) ack 1 win 63 <nop,nop,timestamp 1519689324 3354201003> (DF) (ttl 64, id 63861, len 7292)",
  "06:24:57.144381 192.0.2.2.8080 > 192.0.2.1.40862: . [bad tcp cksum 842a! -> 92b5] ack 7241 win 78 <nop,nop,timestamp 3354201004 1519689324> (DF) (ttl 64, id 48128, len 52)",
  "06:24:57.144385 192.0.2.1.40862 > 192.0.2.2.8080: P [bad tcp cksum a072! -> 7170] 7241:14481(7240) ack 1 win 63 <nop,nop,timestamp 1519689324 3354201003> (DF) (ttl 64, id 63866, len 7292)",
  "06:24:57.144396 192.0.2.2.8080 > 192.0.2.1.40862: . [bad tcp cksum 842a! -> 765f] ack 14481 win 92 <nop,nop,timestamp 3354201004 1519689324> (DF) (ttl 64, id 48129, len 52)",
  "06:24:57.144412 192.0.2.1.40862 > 192.0.2.2.8080: P [bad tcp cksum 8b9a! -> 4ce2] 14481:16385(1904) ack 1 win 63 <nop,nop,timestamp 1519689324 3354201004> (DF) (ttl 64, id 63871, len 1956)",
  "06:24:57.144424 192.0.2.2.8080 > 192.0.2.1.40862: . [bad tcp cksum 842a! -> 6eeb] ack 16385 win 96 <nop,nop,timestamp 3354201004 1519689324> (DF) (ttl 64, id 48130, len 52)",
  "06:24:57.144433 192.0.2.1.40862 > 192.0.2.2.8080: P [bad tcp cksum 924a! -> a124] 16385:20001(3616) ack 1 win 63 <nop,nop,timestamp 1519689324 3354201004> (DF) (ttl 64, id 63873, len 3668)",
  "06:24:57.144436 192.0.2.2.8080 > 192.0.2.1.40862: . [bad tcp cksum 842a! -> 60c4] ack 20001 win 103 <nop,nop,timestamp 3354201004 1519689324> (DF) (ttl 64, id 48131, len 52)",
  "06:24:57.144441 192.0.2.1.40862 > 192.0.2.2.8080: F [bad tcp cksum 842a! -> 60eb] 20001:20001(0) ack 1 win 63 <nop,nop,timestamp 1519689324 3354201004> (DF) (ttl 64, id 63876, len 52)",
  "06:24:57.144466 192.0.2.2.8080 > 192.0.2.1.40862: F [bad tcp cksum 842a! -> 60c2] 1:1(0) ack 20002 win 103 <nop,nop,timestamp 3354201004 1519689324> (DF) (ttl 64, id 48132, len 52)",
  "06:24:57.144502 192.0.2.1.40862 > 192.0.2.2.8080: . [bad tcp cksum 842a! -> 60ea] ack 2 win 63 <nop,nop,timestamp 1519689324 3354201004> (DF) (ttl 64, id 63877, len 52)",
  "06:24:57.205429 fe80::ff:fe00:a01 > ff02::16: HBH (rtalert: 0x0000) multicast listener report v2, 2 group record(s) [gaddr ff02::1:ff00:1 to_ex, 0 source(s)] [gaddr ff02::1:ff00:a01 to_ex, 0 source(s)] [icmp6 cksum ok] [hlim 1] (len 56)",
  "06:24:57.205449 fe80::ff:fe00:a01 > ff02::2: icmp6: router solicitation (src lladdr: 02:00:00:00:0a:01) [icmp6 cksum ok] (len 16, hlim 255)",
];

test('scapy-mixed.pcap, default options', () => {
  assert.deepEqual(printFile('scapy-mixed.pcap', {}), SCAPY_DEFAULT);
});

test('scapy-mixed.pcap, -vv -e', () => {
  assert.deepEqual(printFile('scapy-mixed.pcap', { vflag: 2, eflag: true }), SCAPY_VV_E);
});

test('linux-netns.pcap (the kernel\'s own traffic), -v', () => {
  assert.deepEqual(printFile('linux-netns.pcap', { vflag: 1 }), NETNS_V);
});

test('-S prints absolute sequence numbers', () => {
  const lines = printFile('linux-netns.pcap', { Sflag: true });
  assert.equal(
    lines[18],
    '06:24:57.144317 192.0.2.1.40862 > 192.0.2.2.8080: . ack 2251346584 win 63 <nop,nop,timestamp 1519689323 3354201003> (DF)',
  );
});

test('-q prints the short form', () => {
  const lines = printFile('scapy-mixed.pcap', { qflag: true });
  assert.equal(lines[2], '22:13:20.002000 192.0.2.1.40000 > 198.51.100.2.80: tcp 0');
  assert.equal(lines[13], '22:13:20.013000 192.0.2.1 > 198.51.100.2: icmp: 8 0');
});
