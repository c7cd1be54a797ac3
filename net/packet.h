/* SPDX-License-Identifier: MIT */
/* Ethernet frames between the tap and slirp: parsing what the policy needs,
 * the replies the helper makes itself (TCP RST, ICMP unreachable) and the
 * address rewriting of forwarded DNS. Every length is checked against the
 * frame: the frames come from the guest. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/policy.h"

#define ETH_HLEN_ 14
#define PKT_MAX (65536 + ETH_HLEN_)

enum pkt_kind {
	PKT_DROP,  /* malformed, or nothing slirp would handle safely */
	PKT_PASS,  /* ARP: to slirp as it is */
	PKT_IP,    /* IPv4 or IPv6, parsed below */
};

struct pkt {
	uint8_t *frame;
	size_t len;
	int family;       /* AF_INET, AF_INET6 */
	size_t l3, l4;    /* offsets in frame */
	size_t l4len;     /* bytes of the L4 header and payload in the frame */
	int proto;        /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	struct net_addr src, dst;
	bool has_ports;   /* false for non-first fragments */
	bool fragment;
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint8_t icmp_type;
};

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

enum pkt_kind pkt_parse(uint8_t *frame, size_t len, struct pkt *ret);

/* Replies to p, written in out (PKT_MAX bytes); return their length. */
size_t pkt_tcp_rst(const struct pkt *p, uint8_t *out);
/* ICMP destination unreachable (IPv4: type 3) or ICMPv6 (type 1) with
 * code, quoting p. */
size_t pkt_unreach(const struct pkt *p, uint8_t code, uint8_t *out);

/* Rewrite p's destination (or source) address, same family, and fix the
 * IPv4 and TCP/UDP checksums. */
void pkt_set_dst(struct pkt *p, const struct net_addr *a);
void pkt_set_src(struct pkt *p, const struct net_addr *a);
