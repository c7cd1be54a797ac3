/* SPDX-License-Identifier: MIT */
/* Frames from the guest (packet.h). What slirp itself would not handle is
 * dropped here rather than judged: IPv4 options (source routes), IPv6
 * extension headers (routing headers name another final destination) and
 * IPv6 fragments (slirp 4.7 reassembles none). IPv4 fragments pass, judged
 * by address alone (policy.h, proto 0). */
#include "net/packet.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t s)
{
	for (; len > 1; p += 2, len -= 2)
		s += get16(p);
	if (len)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The L4 checksum over the pseudo header of a packet at l3. */
static uint16_t l4_csum(int family, const uint8_t *l3, const uint8_t *l4, size_t l4len, int proto)
{
	uint32_t s = 0;
	if (family == AF_INET)
		s = sum16(l3 + 12, 8, 0);
	else
		s = sum16(l3 + 8, 32, 0);
	s += (uint32_t)proto + (uint32_t)(l4len & 0xffff) + (uint32_t)(l4len >> 16);
	return fold(sum16(l4, l4len, s));
}

static void ip4_csum(uint8_t *l3)
{
	put16(l3 + 10, 0);
	put16(l3 + 10, fold(sum16(l3, 20, 0)));
}

static enum pkt_kind parse_l4(struct pkt *p)
{
	const uint8_t *l4 = p->frame + p->l4;
	p->has_ports = false;
	switch (p->proto) {
	case IPPROTO_TCP:
		if (p->l4len < 20)
			return PKT_DROP;
		p->sport = get16(l4), p->dport = get16(l4 + 2);
		p->tcp_flags = l4[13];
		p->has_ports = true;
		return PKT_IP;
	case IPPROTO_UDP:
		if (p->l4len < 8)
			return PKT_DROP;
		p->sport = get16(l4), p->dport = get16(l4 + 2);
		p->has_ports = true;
		return PKT_IP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (p->l4len < 8)
			return PKT_DROP;
		p->icmp_type = l4[0];
		return PKT_IP;
	}
	return PKT_DROP;
}

enum pkt_kind pkt_parse(uint8_t *frame, size_t len, struct pkt *ret)
{
	struct pkt p = { .frame = frame, .len = len, .l3 = ETH_HLEN_ };
	if (len < ETH_HLEN_)
		return PKT_DROP;
	uint16_t type = get16(frame + 12);
	const uint8_t *ip = frame + ETH_HLEN_;
	size_t iplen = len - ETH_HLEN_;
	if (type == 0x0806)
		return PKT_PASS;
	if (type == 0x0800) {
		if (iplen < 20 || ip[0] != 0x45) /* version 4, no options */
			return PKT_DROP;
		size_t tot = get16(ip + 2);
		if (tot < 20 || tot > iplen)
			return PKT_DROP;
		uint16_t frag = get16(ip + 6);
		p.family = AF_INET;
		p.proto = ip[9];
		memcpy(p.src.a, ip + 12, 4), p.src.family = AF_INET;
		memcpy(p.dst.a, ip + 16, 4), p.dst.family = AF_INET;
		p.l4 = p.l3 + 20;
		p.l4len = tot - 20;
		p.fragment = (frag & 0x3fff) != 0; /* MF or an offset */
		if (frag & 0x1fff) {
			/* A later fragment: no L4 header to read. */
			if (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP && p.proto != IPPROTO_ICMP)
				return PKT_DROP;
			*ret = p;
			return PKT_IP;
		}
	} else if (type == 0x86dd) {
		if (iplen < 40 || (ip[0] >> 4) != 6)
			return PKT_DROP;
		size_t pl = get16(ip + 4);
		if (pl + 40 > iplen)
			return PKT_DROP;
		p.family = AF_INET6;
		p.proto = ip[6];
		memcpy(p.src.a, ip + 8, 16), p.src.family = AF_INET6;
		memcpy(p.dst.a, ip + 24, 16), p.dst.family = AF_INET6;
		p.l4 = p.l3 + 40;
		p.l4len = pl;
		if (p.proto == IPPROTO_ICMP)
			return PKT_DROP;
	} else {
		return PKT_DROP;
	}
	enum pkt_kind k = parse_l4(&p);
	if (k == PKT_IP)
		*ret = p;
	return k;
}

/* Ethernet and IP headers of a reply to p: addresses swapped. Returns
 * the offset of the reply's L4 header. */
static size_t reply_headers(const struct pkt *p, uint8_t *out, int proto, size_t l4len)
{
	memcpy(out, p->frame + 6, 6);
	memcpy(out + 6, p->frame, 6);
	put16(out + 12, p->family == AF_INET ? 0x0800 : 0x86dd);
	uint8_t *ip = out + ETH_HLEN_;
	if (p->family == AF_INET) {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + l4len));
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = (uint8_t)proto;
		memcpy(ip + 12, p->dst.a, 4);
		memcpy(ip + 16, p->src.a, 4);
		ip4_csum(ip);
		return ETH_HLEN_ + 20;
	}
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)l4len);
	ip[6] = (uint8_t)proto;
	ip[7] = 64;
	memcpy(ip + 8, p->dst.a, 16);
	memcpy(ip + 24, p->src.a, 16);
	return ETH_HLEN_ + 40;
}

size_t pkt_tcp_rst(const struct pkt *p, uint8_t *out)
{
	const uint8_t *in = p->frame + p->l4;
	size_t off = reply_headers(p, out, IPPROTO_TCP, 20);
	uint8_t *t = out + off;
	memset(t, 0, 20);
	put16(t, p->dport);
	put16(t + 2, p->sport);
	/* RFC 793: a RST for a segment without ACK acknowledges it (its SYN
	 * and any data), with sequence number 0. */
	uint32_t seq = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
	size_t doff = (size_t)(in[12] >> 4) * 4;
	uint32_t ack = seq + (p->tcp_flags & TCPF_SYN ? 1 : 0) + (p->tcp_flags & TCPF_FIN ? 1 : 0) +
		       (uint32_t)(p->l4len > doff ? p->l4len - doff : 0);
	if (p->tcp_flags & TCPF_ACK) {
		/* RFC 793: a RST answering an ACK takes its sequence from it. */
		memcpy(t + 4, in + 8, 4);
		t[13] = TCPF_RST;
	} else {
		t[8] = (uint8_t)(ack >> 24), t[9] = (uint8_t)(ack >> 16);
		t[10] = (uint8_t)(ack >> 8), t[11] = (uint8_t)ack;
		t[13] = TCPF_RST | TCPF_ACK;
	}
	t[12] = 5 << 4;
	put16(t + 16, l4_csum(p->family, out + ETH_HLEN_, t, 20, IPPROTO_TCP));
	return off + 20;
}

size_t pkt_unreach(const struct pkt *p, uint8_t code, uint8_t *out)
{
	/* Quote the original IP header and the start of its payload: 8 bytes
	 * for IPv4 (RFC 792, all Linux needs to find the socket), as much as
	 * fits in 1280 bytes for IPv6 (RFC 4443). */
	size_t iphl = p->family == AF_INET ? 20 : 40;
	size_t avail = p->len - ETH_HLEN_;
	size_t quote = p->family == AF_INET ? iphl + 8 : 1280 - 40 - 8;
	if (quote > avail)
		quote = avail;
	int proto = p->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	size_t off = reply_headers(p, out, proto, 8 + quote);
	uint8_t *ic = out + off;
	memset(ic, 0, 8);
	ic[0] = p->family == AF_INET ? 3 : 1;
	ic[1] = code;
	memcpy(ic + 8, p->frame + ETH_HLEN_, quote);
	uint16_t c = p->family == AF_INET ? fold(sum16(ic, 8 + quote, 0))
					  : l4_csum(AF_INET6, out + ETH_HLEN_, ic, 8 + quote, IPPROTO_ICMPV6);
	put16(ic + 2, c);
	return off + 8 + quote;
}

static void fix_csums(struct pkt *p)
{
	uint8_t *l3 = p->frame + p->l3, *l4 = p->frame + p->l4;
	if (p->family == AF_INET)
		ip4_csum(l3);
	if (p->fragment || !p->has_ports)
		return; /* only whole TCP/UDP packets are rewritten (DNS) */
	size_t at = p->proto == IPPROTO_TCP ? 16 : 6;
	if (p->proto == IPPROTO_UDP && p->family == AF_INET && get16(l4 + 6) == 0)
		return; /* UDP over IPv4 without a checksum stays without */
	put16(l4 + at, 0);
	uint16_t c = l4_csum(p->family, l3, l4, p->l4len, p->proto);
	if (p->proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	put16(l4 + at, c);
}

void pkt_set_dst(struct pkt *p, const struct net_addr *a)
{
	memcpy(p->frame + p->l3 + (p->family == AF_INET ? 16 : 24), a->a, p->family == AF_INET ? 4 : 16);
	p->dst = *a;
	fix_csums(p);
}

void pkt_set_src(struct pkt *p, const struct net_addr *a)
{
	memcpy(p->frame + p->l3 + (p->family == AF_INET ? 12 : 8), a->a, p->family == AF_INET ? 4 : 16);
	p->src = *a;
	fix_csums(p);
}
