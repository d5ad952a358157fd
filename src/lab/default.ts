/**
 * The embedded default lab, `talk`: the setups of Alexander Bluhm's talk
 * "A Packet's Journey Through the OpenBSD Network Stack", with the
 * addresses of its slides where they fit.  `packetflow` with no arguments
 * boots it; docs/labs.md draws it.
 *
 *                                        ┌─ ix0 10.0.2.1 ══ 10G ══ peer 10.0.2.2
 *   client 10.0.1.2 ── em0 10.0.1.1 router ├─ ix1 10.0.3.1 ── 1G ─── far 10.0.3.2
 *                                          ├─ em1 10.10.12.3 ─ 10M ── sink 10.10.12.4
 *                                          ├─ em2 10.10.11.2 ── 1G ── reader 10.10.11.1
 *                                          └─ em3 203.0.113.1 ─ 1G ── em0 203.0.113.48 fw
 *                                                 em1 192.168.0.1 ── server 192.168.0.31
 *
 * IPv6: 2001:db8:N::/64 beside 10.0.N.0/24 (client, peer, far), and
 * 2001:db8:11::/64 beside 10.10.11.0/24 (reader); the router forwards.
 * sink and em1 stay IPv4-only, as the OACTIVE slide's ifconfig shows em1.
 *
 * - Measurement slides (netstat -ss, netstat -an): client on 10.0.1.0/24
 *   and the router.  (The slide's third host, 10.0.1.37, needs a switch:
 *   it joins when bridge/veb exist.)
 * - Socket buffer slide (netstat -n -p tcp): the router's 10.10.11.2 and
 *   10.10.12.3 talk to reader (a stopped reader: Recv-Q) and sink (behind
 *   a 10 Mbit/s cable: Send-Q); examples/sockbuf.pfs.
 * - OACTIVE slide (ifconfig em1): em1 is 0c:c4:7a:78:f3:55, "Intel I210",
 *   10.10.12.3, and its 10 Mbit/s cable fills the transmit ring.
 * - Multi-queue slides (dmesg, kstat txq): ix0/ix1 are the two ports of an
 *   "Intel X550T" at pci1, ix1 a0:36:9f:e0:52:55 with 4 queues.
 * - pf Rules slide: the router's /etc/pf.conf, loaded and enabled at boot.
 * - pf State slide: fw redirects (rdr-to) and translates (nat-to) for the
 *   server behind it, with if-bound states; examples/pfstate.pfs.  The
 *   slide's public addresses become documentation ones (203.0.113.0/24).
 * - IPv6 slide: trace ping6 -c 1 2001:db8:2::2 from client.
 */
export const TALK_LAB_YAML = `# packetflow default lab "talk" (see docs/labs.md)
name: talk
description: the setups of the talk "A Packet's Journey Through the OpenBSD Network Stack"
seed: 1
machines:
  router:
    kind: router
    description: the machine of the slides
    nics:
      ix0: { lladdr: "a0:36:9f:e0:52:54", inet: 10.0.2.1/24, inet6: 2001:db8:2::1/64, pci: [1, 0, 0] }
      ix1: { lladdr: "a0:36:9f:e0:52:55", inet: 10.0.3.1/24, inet6: 2001:db8:3::1/64, pci: [1, 0, 1] }
      em0: { lladdr: "0c:c4:7a:78:f3:54", inet: 10.0.1.1/24, inet6: 2001:db8:1::1/64, description: Intel I210, pci: [2, 0, 0] }
      em1: { lladdr: "0c:c4:7a:78:f3:55", inet: 10.10.12.3/24, description: Intel I210, pci: [3, 0, 0] }
      em2: { lladdr: "0c:c4:7a:78:f3:56", inet: 10.10.11.2/24, inet6: 2001:db8:11::2/64, description: Intel I210, pci: [4, 0, 0] }
      em3: { lladdr: "0c:c4:7a:78:f3:57", inet: 203.0.113.1/24, description: Intel I210, pci: [5, 0, 0] }
    files:
      /etc/pf.conf: |
        # the pf Rules slide
        block return all
        pass all flags S/SA
        block return in on ! lo0 proto tcp from any to any port 6000:6010
        block return out log proto tcp all user = 55
        block return out log proto udp all user = 55
  client:
    nics:
      em0: { lladdr: "0c:c4:7a:01:00:02", inet: 10.0.1.2/24, inet6: 2001:db8:1::2/64 }
    routes:
      - { dest: default, gateway: 10.0.1.1 }
      - { dest: default, gateway: "2001:db8:1::1" }
  peer:
    nics:
      ix0: { lladdr: "a0:36:9f:02:00:02", inet: 10.0.2.2/24, inet6: 2001:db8:2::2/64 }
    routes:
      - { dest: default, gateway: 10.0.2.1 }
      - { dest: default, gateway: "2001:db8:2::1" }
  far:
    nics:
      em0: { lladdr: "0c:c4:7a:03:00:02", inet: 10.0.3.2/24, inet6: 2001:db8:3::2/64 }
    routes:
      - { dest: default, gateway: 10.0.3.1 }
      - { dest: default, gateway: "2001:db8:3::1" }
  reader:
    description: 10.10.11.1, the slow reader of the socket buffer slide
    nics:
      em0: { lladdr: "0c:c4:7a:0b:00:01", inet: 10.10.11.1/24, inet6: 2001:db8:11::1/64 }
    routes:
      - { dest: default, gateway: 10.10.11.2 }
      - { dest: default, gateway: "2001:db8:11::2" }
  sink:
    description: 10.10.12.4, behind a slow link
    nics:
      em0: { lladdr: "0c:c4:7a:0c:00:04", inet: 10.10.12.4/24 }
    routes:
      - { dest: default, gateway: 10.10.12.3 }
  fw:
    kind: router
    description: the firewall of the pf State slide (rdr-to and nat-to)
    nics:
      em0: { lladdr: "0c:c4:7a:0d:00:30", inet: 203.0.113.48/24, description: Intel I210 }
      em1: { lladdr: "0c:c4:7a:0d:00:31", inet: 192.168.0.1/24, description: Intel I210 }
    routes:
      - { dest: default, gateway: 203.0.113.1 }
    files:
      /etc/pf.conf: |
        # the pf State slide: ssh to the firewall itself, ssh on port 10031
        # and https redirected to the server behind em1, the server's own
        # connections translated to the firewall's address
        ext_if = "em0"
        int_if = "em1"
        server = "192.168.0.31"
        set state-policy if-bound
        pass
        pass in log on $ext_if proto tcp to ($ext_if) port 10031 rdr-to $server port 22
        pass in on $ext_if proto tcp to ($ext_if) port 443 rdr-to $server
        pass out on $ext_if from $int_if:network nat-to ($ext_if)
  server:
    description: 192.168.0.31, the server behind the firewall
    nics:
      em0: { lladdr: "0c:c4:7a:0e:00:31", inet: 192.168.0.31/24 }
    routes:
      - { dest: default, gateway: 192.168.0.1 }
cables:
  - { ends: [client:em0, router:em0], rate: 1G, delay: 500ns }
  - { ends: [peer:ix0, router:ix0], rate: 10G, delay: 500ns }
  - { ends: [far:em0, router:ix1], rate: 1G, delay: 500ns }
  - { ends: [reader:em0, router:em2], rate: 1G, delay: 500ns }
  - { ends: [sink:em0, router:em1], rate: 10M, delay: 2ms }
  - { ends: [fw:em0, router:em3], rate: 1G, delay: 500ns }
  - { ends: [server:em0, fw:em1], rate: 1G, delay: 500ns }
`;
