/* SPDX-License-Identifier: MIT */
/* The egress policy (net/policy.c), the frames the helper answers with
 * (net/packet.c) and DNS learning (net/dns.c), without a sandbox. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "net/dns.h"
#include "net/net.h"
#include "net/packet.h"
#include "net/policy.h"
#include "syscalls/sys_inet.h"
#include "tests/tap.h"

static struct net_addr A(const char *s)
{
	struct net_addr a;
	if (net_addr_parse(s, &a) < 0)
		abort();
	return a;
}

static bool allowed(struct net_policy *p, const char *addr, int proto, int port)
{
	struct net_addr a = A(addr);
	return net_policy_check(p, &a, proto, (uint16_t)port).allow;
}

static const char *why(struct net_policy *p, const char *addr, int proto, int port)
{
	struct net_addr a = A(addr);
	return net_policy_check(p, &a, proto, (uint16_t)port).reason;
}

static void add(struct net_policy *p, bool deny, const char *spec)
{
	struct net_rule r;
	if (net_rule_parse(spec, &r) < 0)
		abort();
	net_policy_add_rule(p, deny, &r);
}

TEST(parse_rules)
{
	struct net_rule r;
	ASSERT_EQ(net_rule_parse("10.1.2.3/8", &r), 0);
	EXPECT_EQ(r.plen, 8);
	EXPECT_EQ(r.addr.a[1], 0); /* host bits cleared */
	ASSERT_EQ(net_rule_parse("192.0.2.7:80,443,8000-8100", &r), 0);
	EXPECT_EQ(r.plen, 32);
	EXPECT_EQ(r.ports.n, 3);
	ASSERT_EQ(net_rule_parse("[2001:db8::/32]:443", &r), 0);
	EXPECT_EQ(r.addr.family, AF_INET6);
	EXPECT_EQ(r.plen, 32);
	EXPECT_EQ(r.ports.n, 1);
	ASSERT_EQ(net_rule_parse("[2001:db8::1]/64:22", &r), 0);
	EXPECT_EQ(r.plen, 64);
	ASSERT_EQ(net_rule_parse("fd00::1", &r), 0);
	EXPECT_EQ(r.plen, 128);
	static const char *const bad[] = { "", "10.0.0.0/33", "10.0.0.0/", "300.1.1.1", "10.0.0.1:0",
					   "10.0.0.1:65536", "10.0.0.1:80-70", "10.0.0.1:", "example.com",
					   "[fd00::/8", "10.0.0.1:80,", "fd00::/129", "10.0.0.0/8x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(net_rule_parse(bad[i], &r), -EINVAL);
}

TEST(parse_hosts_and_publish)
{
	struct net_host h;
	ASSERT_EQ(net_host_parse("Deb.Debian.org.:80", &h), 0);
	EXPECT_TRUE(!strcmp(h.name, "deb.debian.org"));
	EXPECT_EQ(h.ports.n, 1);
	EXPECT_EQ(net_host_parse("*.example.com", &h), 0);
	EXPECT_EQ(net_host_parse("bad name", &h), -EINVAL);
	EXPECT_EQ(net_host_parse("a..b", &h), -EINVAL);
	EXPECT_EQ(net_host_parse("x:99999", &h), -EINVAL);
	struct net_publish p;
	ASSERT_EQ(net_publish_parse("8080:80", &p), 0);
	EXPECT_EQ(p.host_port, 8080);
	EXPECT_EQ(p.guest_port, 80);
	EXPECT_EQ(p.host.a[0], 127);
	EXPECT_TRUE(!p.udp);
	ASSERT_EQ(net_publish_parse("0.0.0.0:53:5353/udp", &p), 0);
	EXPECT_TRUE(p.udp);
	EXPECT_EQ(p.host.a[0], 0);
	ASSERT_EQ(net_publish_parse("[::1]:8080:80/tcp", &p), 0);
	EXPECT_EQ(p.host.family, AF_INET6);
	EXPECT_EQ(net_publish_parse("80", &p), -EINVAL);
	EXPECT_EQ(net_publish_parse("1:2:3:4", &p), -EINVAL);
	EXPECT_EQ(net_publish_parse("8080:80/sctp", &p), -EINVAL);
	EXPECT_EQ(net_publish_parse("0:80", &p), -EINVAL);
	enum net_mode m;
	EXPECT_EQ(net_mode_parse("sandbox", &m), 0);
	EXPECT_EQ(m, NET_SANDBOX);
	EXPECT_EQ(net_mode_parse("bridge", &m), -EINVAL);
}

TEST(defaults)
{
	struct net_policy p = { 0 };
	ASSERT_EQ(net_policy_add_defaults(&p), 0);
	struct net_addr host = A("192.0.2.2");
	net_policy_add_host_address(&p, &host);
	EXPECT_TRUE(allowed(&p, "93.184.216.34", IPPROTO_TCP, 80)); /* public, no allowlist */
	static const char *const refused[] = { "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
					       "100.64.0.1", "169.254.169.254", "169.254.1.1", "224.0.0.1",
					       "0.0.0.0", "255.255.255.255", "::1", "fd00::1", "fe80::1",
					       "ff02::1", "fd00:ec2::254", "192.0.2.2", "::ffff:10.0.0.1",
					       "::ffff:127.0.0.1", "64:ff9b::a00:1", "::" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		EXPECT_TRUE(!allowed(&p, refused[i], IPPROTO_TCP, 80));
	EXPECT_TRUE(!strcmp(why(&p, "169.254.169.254", IPPROTO_TCP, 80), "metadata"));
	EXPECT_TRUE(!strcmp(why(&p, "fd00:ec2::254", IPPROTO_TCP, 80), "metadata"));
	EXPECT_TRUE(!strcmp(why(&p, "192.0.2.2", IPPROTO_TCP, 80), "host"));
	EXPECT_TRUE(!strcmp(why(&p, "::ffff:127.0.0.1", IPPROTO_TCP, 80), "loopback"));
	EXPECT_TRUE(allowed(&p, "::ffff:93.184.216.34", IPPROTO_TCP, 80));
	EXPECT_TRUE(allowed(&p, "2606:2800:220:1::1", IPPROTO_UDP, 53));
	net_policy_free(&p);
}

TEST(precedence)
{
	struct net_policy p = { 0 };
	net_policy_add_defaults(&p);
	add(&p, false, "192.0.2.0/24:8000-8100");
	add(&p, false, "10.9.0.0/16");
	add(&p, true, "10.9.9.0/24");
	add(&p, true, "192.0.2.99:8050");
	/* An allowlist now: what it names, nothing else. */
	EXPECT_TRUE(allowed(&p, "192.0.2.5", IPPROTO_TCP, 8000));
	EXPECT_TRUE(!allowed(&p, "192.0.2.5", IPPROTO_TCP, 80));
	EXPECT_TRUE(!strcmp(why(&p, "192.0.2.5", IPPROTO_TCP, 80), "not-allowed"));
	EXPECT_TRUE(!allowed(&p, "93.184.216.34", IPPROTO_TCP, 80));
	/* allow beats the defaults, deny beats allow */
	EXPECT_TRUE(allowed(&p, "10.9.1.1", IPPROTO_UDP, 53));
	EXPECT_TRUE(!allowed(&p, "10.9.9.1", IPPROTO_UDP, 53));
	EXPECT_TRUE(!strcmp(why(&p, "10.9.9.1", IPPROTO_UDP, 53), "deny-net"));
	EXPECT_TRUE(!allowed(&p, "192.0.2.99", IPPROTO_TCP, 8050));
	EXPECT_TRUE(allowed(&p, "192.0.2.99", IPPROTO_TCP, 8051));
	/* ICMP matches only rules without ports; a fragment (proto 0) is
	 * refused by a deny rule with ports, allowed only by one without. */
	EXPECT_TRUE(!allowed(&p, "192.0.2.5", IPPROTO_ICMP, 0));
	EXPECT_TRUE(allowed(&p, "10.9.1.1", IPPROTO_ICMP, 0));
	EXPECT_TRUE(!allowed(&p, "192.0.2.99", 0, 0));
	EXPECT_TRUE(!allowed(&p, "192.0.2.5", 0, 0));
	EXPECT_TRUE(allowed(&p, "10.9.1.1", 0, 0));
	p.allow_all = true;
	EXPECT_TRUE(allowed(&p, "127.0.0.1", IPPROTO_TCP, 22));
	EXPECT_TRUE(!allowed(&p, "10.9.9.1", IPPROTO_TCP, 22));
	net_policy_free(&p);
}

/* A DNS answer for name: a CNAME to "cdn.example.net", then A records. */
static size_t dns_answer(uint8_t *m, const char *name, const char *const *addrs, size_t n)
{
	size_t o = 12;
	memset(m, 0, 12);
	m[2] = 0x81, m[3] = 0x80;
	m[5] = 1;
	m[7] = (uint8_t)(1 + n);
	const char *s = name;
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		m[o++] = (uint8_t)l;
		memcpy(m + o, s, l);
		o += l;
		s += l + (dot ? 1 : 0);
	}
	m[o++] = 0;
	m[o++] = 0, m[o++] = 1, m[o++] = 0, m[o++] = 1;
	/* name CNAME cdn.example.net */
	m[o++] = 0xc0, m[o++] = 12;
	m[o++] = 0, m[o++] = 5, m[o++] = 0, m[o++] = 1;
	m[o++] = 0, m[o++] = 0, m[o++] = 0, m[o++] = 60;
	static const uint8_t cdn[] = "\3cdn\7example\3net";
	m[o++] = 0, m[o++] = sizeof(cdn);
	size_t cdn_at = o;
	memcpy(m + o, cdn, sizeof(cdn));
	o += sizeof(cdn);
	for (size_t i = 0; i < n; i++) {
		m[o++] = (uint8_t)(0xc0 | (cdn_at >> 8)), m[o++] = (uint8_t)cdn_at;
		m[o++] = 0, m[o++] = 1, m[o++] = 0, m[o++] = 1;
		m[o++] = 0, m[o++] = 0, m[o++] = 0, m[o++] = 60;
		m[o++] = 0, m[o++] = 4;
		inet_pton(AF_INET, addrs[i], m + o);
		o += 4;
	}
	return o;
}

TEST(allow_host_learning)
{
	struct net_policy p = { 0 };
	net_policy_add_defaults(&p);
	struct net_host h;
	ASSERT_EQ(net_host_parse("api.example.com:443", &h), 0);
	net_policy_add_host(&p, &h);
	uint8_t m[512];
	static const char *const addrs[] = { "203.0.113.7", "10.0.0.5" };
	EXPECT_TRUE(!allowed(&p, "203.0.113.7", IPPROTO_TCP, 443));
	size_t len = dns_answer(m, "other.example.com", addrs, 2);
	EXPECT_EQ(dns_learn(&p, m, len), 0); /* not an allowed name */
	len = dns_answer(m, "API.example.com", addrs, 2);
	EXPECT_EQ(dns_learn(&p, m, len), 2);
	EXPECT_TRUE(allowed(&p, "203.0.113.7", IPPROTO_TCP, 443));
	EXPECT_TRUE(!allowed(&p, "203.0.113.7", IPPROTO_TCP, 80)); /* its ports only */
	/* Rebinding: the name answered a private address; still refused. */
	EXPECT_TRUE(!allowed(&p, "10.0.0.5", IPPROTO_TCP, 443));
	EXPECT_TRUE(!strcmp(why(&p, "10.0.0.5", IPPROTO_TCP, 443), "private"));
	/* Truncated and looping messages teach nothing and do not crash. */
	for (size_t l = 0; l < len; l++)
		dns_learn(&p, m, l);
	uint8_t loop[] = { 0, 0, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1 };
	EXPECT_EQ(dns_learn(&p, loop, sizeof(loop)), 0);
	net_policy_free(&p);
}

static bool leaves(const char *s)
{
	struct net_addr a = A(s);
	return inet_leaves_sandbox(a.family, a.a);
}

/* What the TCP fast path takes (syscalls/sys_inet.c): only what slirp
 * would carry out of the sandbox. */
TEST(fastpath_destinations)
{
	const char *out[] = { "198.51.100.7", "10.211.3.1", "169.254.169.254", "10.0.3.1", "10.0.1.255",
			      "11.0.2.15", "2001:db8::1", "fd6d:6f61:7401::1", "fd00:ec2::254", "fec0::1" };
	const char *in[] = { "127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3", "10.0.2.2", "10.0.2.3",
			     "10.0.2.15", "10.0.2.255", "::", "::1", "::ffff:198.51.100.7", "::198.51.100.7",
			     "64:ff9b::c633:6407", "fe80::1", "febf::1", "fd6d:6f61:7400::2", "fd6d:6f61:7400::15",
			     "fd6d:6f61:7400:0:ffff::1" };
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		TAP_CHECK(leaves(out[i]), 0, "(%s should take the fast path)", out[i]);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		TAP_CHECK(!leaves(in[i]), 0, "(%s must stay inside)", in[i]);
}

TEST(replies)
{
	/* A SYN from 10.0.2.15:40000 to 192.0.2.9:80. */
	uint8_t f[80] = { 0 }, out[PKT_MAX];
	f[12] = 0x08, f[13] = 0x00;
	uint8_t *ip = f + 14, *t = f + 34;
	ip[0] = 0x45, ip[3] = 40, ip[8] = 64, ip[9] = IPPROTO_TCP;
	inet_pton(AF_INET, "10.0.2.15", ip + 12);
	inet_pton(AF_INET, "192.0.2.9", ip + 16);
	t[0] = 40000 >> 8, t[1] = 40000 & 0xff, t[3] = 80;
	t[4] = 0, t[5] = 0, t[6] = 1, t[7] = 0; /* seq 256 */
	t[12] = 5 << 4, t[13] = TCPF_SYN;
	struct pkt p;
	ASSERT_EQ(pkt_parse(f, 54, &p), PKT_IP);
	EXPECT_EQ(p.dport, 80);
	EXPECT_EQ(p.tcp_flags, TCPF_SYN);
	size_t n = pkt_tcp_rst(&p, out);
	ASSERT_EQ(n, 54);
	struct pkt r;
	ASSERT_EQ(pkt_parse(out, n, &r), PKT_IP);
	EXPECT_EQ(r.sport, 80);
	EXPECT_EQ(r.dport, 40000);
	EXPECT_EQ(r.tcp_flags, TCPF_RST | TCPF_ACK);
	EXPECT_EQ(out[34 + 11], 1); /* ack = 257 */
	EXPECT_EQ(out[34 + 10], 1);
	/* The checksums verify: summing over a correct header gives 0xffff. */
	uint32_t s = 0;
	for (int i = 0; i < 20; i += 2)
		s += (uint32_t)(out[14 + i] << 8 | out[15 + i]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	EXPECT_EQ(s, 0xffff);
	n = pkt_unreach(&p, 3, out);
	ASSERT_EQ(n, 14 + 20 + 8 + 28);
	EXPECT_EQ(out[34], 3);
	EXPECT_EQ(out[35], 3);
	/* Options, a later fragment of something else, garbage: dropped. */
	ip[0] = 0x46;
	EXPECT_EQ(pkt_parse(f, 54, &p), PKT_DROP);
	ip[0] = 0x45;
	EXPECT_EQ(pkt_parse(f, 20, &p), PKT_DROP);
	ip[9] = 47; /* GRE */
	EXPECT_EQ(pkt_parse(f, 54, &p), PKT_DROP);
}
