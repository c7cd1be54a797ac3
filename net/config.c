/* SPDX-License-Identifier: MIT */
/* The network options (net.h): parsing, and what is looked up on the host
 * before the sandbox starts, while moat still has the host's filesystem
 * and resolver. */
#include "net/net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "net/dns.h"

int net_mode_parse(const char *s, enum net_mode *ret)
{
	static const char *const names[] = { [NET_NONE] = "none", [NET_SANDBOX] = "sandbox",
					     [NET_HOST] = "host" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i])) {
			*ret = (enum net_mode)i;
			return 0;
		}
	return -EINVAL;
}

static int port_parse(const char *s, uint16_t *ret)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int net_publish_parse(const char *spec, struct net_publish *ret)
{
	struct net_publish p = { 0 };
	_cleanup_free_ char *s = strdup(spec);
	if (!s)
		return -ENOMEM;
	char *proto = strchr(s, '/');
	if (proto) {
		*proto++ = 0;
		if (!strcmp(proto, "udp"))
			p.udp = true;
		else if (strcmp(proto, "tcp"))
			return -EINVAL;
	}
	/* The ports are the last two fields; what is before them, the host
	 * address ([v6] in brackets). */
	char *gp = strrchr(s, ':');
	if (!gp)
		return -EINVAL;
	*gp++ = 0;
	char *hp = strrchr(s, ':'), *host = NULL;
	if (hp) {
		*hp++ = 0;
		host = s;
	} else {
		hp = s;
	}
	if (port_parse(hp, &p.host_port) < 0 || port_parse(gp, &p.guest_port) < 0)
		return -EINVAL;
	if (host) {
		size_t l = strlen(host);
		if (l >= 2 && host[0] == '[' && host[l - 1] == ']') {
			host[l - 1] = 0;
			host++;
			if (net_addr_parse(host, &p.host) < 0 || p.host.family != AF_INET6)
				return -EINVAL;
		} else if (net_addr_parse(host, &p.host) < 0 || p.host.family != AF_INET) {
			return -EINVAL;
		}
	} else {
		net_addr_parse("127.0.0.1", &p.host);
	}
	if (!(p.spec = strdup(spec)))
		return -ENOMEM;
	*ret = p;
	return 0;
}

/* The host's first IPv4 nameserver: the guest's DNS is forwarded there
 * (10.0.2.3 is rewritten to it, so it must be IPv4). */
static int host_nameserver(struct net_addr *ret)
{
	_cleanup_(fclosep) FILE *f = fopen("/etc/resolv.conf", "re");
	if (!f)
		return -errno;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		char ns[256];
		struct net_addr a;
		if (sscanf(line, " nameserver %255s", ns) == 1 && net_addr_parse(ns, &a) == 0 &&
		    a.family == AF_INET) {
			*ret = a;
			return 0;
		}
	}
	return -ENOENT;
}

static int host_addresses(struct net_policy *p)
{
	struct ifaddrs *ifa;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	int r = 0;
	for (struct ifaddrs *i = ifa; i && r == 0; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		struct net_addr a = { .family = i->ifa_addr->sa_family };
		if (a.family == AF_INET)
			memcpy(a.a, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		else if (a.family == AF_INET6)
			memcpy(a.a, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		else
			continue;
		r = net_policy_add_host_address(p, &a);
	}
	freeifaddrs(ifa);
	return r;
}

/* Ask the --dns server for name's A and AAAA records, as the guest would,
 * and learn from the answers. Returns how many addresses it learned. */
static int resolve_with(struct net_policy *p, const struct net_addr *dns, const char *name)
{
	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(53) };
	memcpy(&sin.sin_addr, dns->a, 4);
	struct timeval tv = { .tv_sec = 2 };
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	int learned = 0;
	static const uint16_t types[] = { 1, 28 };
	for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
		uint8_t q[512] = { 0x6d, (uint8_t)(0x6f + t), 1, 0, 0, 1 }; /* id, RD, one question */
		size_t o = 12;
		for (const char *l = name; *l;) {
			size_t n = strcspn(l, ".");
			if (n > 63 || o + n + 6 > sizeof(q))
				return -EINVAL;
			q[o++] = (uint8_t)n;
			memcpy(q + o, l, n);
			o += n;
			l += n + (l[n] == '.');
		}
		q[o++] = 0;
		q[o++] = 0, q[o++] = (uint8_t)types[t], q[o++] = 0, q[o++] = 1;
		uint8_t a[4096];
		if (send(s, q, o, 0) != (ssize_t)o)
			return -errno;
		for (;;) {
			ssize_t n = recv(s, a, sizeof(a), 0);
			if (n < 0)
				break; /* timeout: no answer of this type */
			if (n >= 2 && a[0] == q[0] && a[1] == q[1]) {
				learned += dns_learn(p, a, (size_t)n);
				break;
			}
		}
	}
	return learned;
}

/* dns: the --dns server, or NULL for the host's resolver (and /etc/hosts). */
static int resolve_host(struct net_policy *p, const struct net_host *h, const struct net_addr *dns,
			char *why, size_t len)
{
	if (!strncmp(h->name, "*.", 2))
		return 0; /* a wildcard is learned from DNS answers only */
	if (dns) {
		/* The resolver the guest will use, not the host's. */
		int r = resolve_with(p, dns, h->name);
		if (r > 0)
			return 0;
		char a[INET6_ADDRSTRLEN];
		snprintf(why, len, "--allow-host %s: %s gives no address for it", h->name,
			 net_addr_str(dns, a, sizeof(a)));
		return r < 0 ? r : -ENOENT;
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	int e = getaddrinfo(h->name, NULL, &hints, &res);
	if (e) {
		snprintf(why, len, "--allow-host %s: cannot resolve it: %s", h->name, gai_strerror(e));
		return -ENOENT;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		struct net_addr a = { .family = ai->ai_family };
		if (ai->ai_family == AF_INET)
			memcpy(a.a, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		else if (ai->ai_family == AF_INET6)
			memcpy(a.a, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		else
			continue;
		(void)net_policy_learn(p, h->name, &a);
	}
	freeaddrinfo(res);
	return 0;
}

int net_config_prepare(struct net_config *c, char *why, size_t len)
{
	if (c->mode != NET_SANDBOX)
		return 0;
	int r = net_policy_add_defaults(&c->policy);
	if (r == 0)
		r = host_addresses(&c->policy);
	if (r < 0) {
		snprintf(why, len, "--net=sandbox: the host's addresses: %s", strerror(-r));
		return r;
	}
	const struct net_addr *given = c->dns_set ? &c->dns : NULL;
	for (size_t i = 0; i < c->policy.nhosts; i++)
		if ((r = resolve_host(&c->policy, &c->policy.hosts[i], given, why, len)) < 0)
			return r;
	if (!c->dns_set && host_nameserver(&c->dns) == 0)
		c->dns_set = true;
	return 0;
}

void net_config_free(struct net_config *c)
{
	net_policy_free(&c->policy);
	for (size_t i = 0; i < c->npublish; i++)
		free(c->publish[i].spec);
	free(c->publish);
	*c = (struct net_config){ 0 };
}
