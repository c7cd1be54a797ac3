/* SPDX-License-Identifier: MIT */
/* The egress policy (policy.h). Rules are few (the options and about
 * twenty defaults), so a decision is a linear scan; the addresses learned
 * for --allow-host may be many (a CDN answers new ones all the time) and
 * live in an open-addressing table without removal, bounded by
 * NET_LEARNED_SLOTS. */
#include "net/policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

const char *net_addr_str(const struct net_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

int net_addr_parse(const char *s, struct net_addr *ret)
{
	struct net_addr a = { 0 };
	if (inet_pton(AF_INET, s, a.a) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.a) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	*ret = a;
	return 0;
}

bool net_addr_in(const struct net_addr *a, const struct net_addr *net, unsigned plen)
{
	if (a->family != net->family)
		return false;
	unsigned full = plen / 8, rest = plen % 8;
	if (memcmp(a->a, net->a, full))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->a[full] & mask) == (net->a[full] & mask);
}

static int parse_port(const char *s, char **end, uint16_t *ret)
{
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, end, 10);
	if (errno || v < 1 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int net_ports_parse(const char *spec, struct net_ports *ret)
{
	struct net_ports p = { 0 };
	const char *s = spec;
	for (;;) {
		char *end;
		uint16_t lo, hi;
		if (p.n == NET_MAX_PORT_RANGES || parse_port(s, &end, &lo) < 0)
			return -EINVAL;
		hi = lo;
		if (*end == '-' && (parse_port(end + 1, &end, &hi) < 0 || hi < lo))
			return -EINVAL;
		p.lo[p.n] = lo, p.hi[p.n++] = hi;
		if (!*end)
			break;
		if (*end != ',')
			return -EINVAL;
		s = end + 1;
	}
	*ret = p;
	return 0;
}

/* proto 0: a fragment whose port is not known. A rule with ports then
 * matches only when it refuses (deny), so no port rule is sidestepped by
 * fragmenting. */
static bool ports_match(const struct net_ports *p, int proto, uint16_t port, bool deny)
{
	if (!p->n)
		return true;
	if (proto == 0)
		return deny;
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return false; /* ICMP has no port: only port-less rules cover it */
	for (unsigned i = 0; i < p->n; i++)
		if (port >= p->lo[i] && port <= p->hi[i])
			return true;
	return false;
}

static int cidr_parse(char *s, struct net_rule *r)
{
	char *slash = strchr(s, '/');
	if (slash)
		*slash = 0;
	if (net_addr_parse(s, &r->addr) < 0)
		return -EINVAL;
	unsigned max = r->addr.family == AF_INET ? 32 : 128;
	r->plen = max;
	if (slash) {
		char *end;
		if (!isdigit((unsigned char)slash[1]))
			return -EINVAL;
		errno = 0;
		unsigned long l = strtoul(slash + 1, &end, 10);
		if (errno || *end || l > max)
			return -EINVAL;
		r->plen = (unsigned)l;
	}
	/* 10.1.2.3/8 is taken as 10.0.0.0/8, as ip(8) does. */
	for (unsigned b = r->plen; b < max; b++)
		r->addr.a[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
	return 0;
}

int net_rule_parse(const char *spec, struct net_rule *ret)
{
	struct net_rule r = { 0 };
	_cleanup_free_ char *s = strdup(spec);
	if (!s)
		return -ENOMEM;
	char *addr = s, *ports = NULL;
	if (s[0] == '[') {
		/* [fd00::/8]:443 or [fd00::1]/128:443 */
		char *close = strchr(s, ']');
		if (!close)
			return -EINVAL;
		addr = s + 1;
		*close = 0;
		char *after = close + 1;
		if (*after == '/') {
			char *colon = strchr(after, ':');
			if (colon)
				*colon = 0, ports = colon + 1;
			size_t al = strlen(addr);
			memmove(addr + al, after, strlen(after) + 1);
		} else if (*after == ':') {
			ports = after + 1;
		} else if (*after) {
			return -EINVAL;
		}
	} else {
		char *colon = strchr(s, ':');
		/* One colon: IPv4 with ports. More: a bare IPv6 address. */
		if (colon && !strchr(colon + 1, ':'))
			*colon = 0, ports = colon + 1;
	}
	if (cidr_parse(addr, &r) < 0)
		return -EINVAL;
	if (ports && net_ports_parse(ports, &r.ports) < 0)
		return -EINVAL;
	*ret = r;
	return 0;
}

static bool name_valid(const char *n)
{
	size_t len = strlen(n);
	if (!len || len > 253)
		return false;
	if (!strncmp(n, "*.", 2))
		n += 2;
	size_t label = 0;
	for (const char *c = n; *c; c++) {
		if (*c == '.') {
			if (!label)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*c) || *c == '-' || *c == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

int net_host_parse(const char *spec, struct net_host *ret)
{
	struct net_host h = { 0 };
	_cleanup_free_ char *s = strdup(spec);
	if (!s)
		return -ENOMEM;
	char *colon = strchr(s, ':');
	if (colon) {
		*colon = 0;
		if (net_ports_parse(colon + 1, &h.ports) < 0)
			return -EINVAL;
	}
	size_t l = strlen(s);
	if (l && s[l - 1] == '.')
		s[--l] = 0;
	for (char *c = s; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (!name_valid(s))
		return -EINVAL;
	h.name = TAKE_PTR(s);
	*ret = h;
	return 0;
}

static int push_rule(struct net_rule **v, size_t *n, const struct net_rule *r)
{
	struct net_rule *nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = *r;
	*v = nv;
	return 0;
}

int net_policy_add_rule(struct net_policy *p, bool deny, const struct net_rule *r)
{
	return deny ? push_rule(&p->deny, &p->ndeny, r) : push_rule(&p->allow, &p->nallow, r);
}

int net_policy_add_host(struct net_policy *p, const struct net_host *h)
{
	if (p->nhosts == NET_MAX_HOSTS)
		return -E2BIG;
	p->hosts[p->nhosts++] = *h;
	return 0;
}

int net_policy_add_defaults(struct net_policy *p)
{
	/* Most specific first, so a refusal names the closest reason. */
	static const struct {
		const char *cidr, *reason;
	} defaults[] = {
		{ "169.254.169.254/32", "metadata" },
		{ "fd00:ec2::254/128", "metadata" },
		{ "127.0.0.0/8", "loopback" },
		{ "::1/128", "loopback" },
		{ "0.0.0.0/8", "this-network" },
		{ "::/128", "unspecified" },
		{ "10.0.0.0/8", "private" },
		{ "172.16.0.0/12", "private" },
		{ "192.168.0.0/16", "private" },
		{ "fc00::/7", "private" },
		{ "100.64.0.0/10", "cgnat" },
		{ "169.254.0.0/16", "link-local" },
		{ "fe80::/10", "link-local" },
		{ "fec0::/10", "site-local" },
		{ "224.0.0.0/4", "multicast" },
		{ "ff00::/8", "multicast" },
		{ "240.0.0.0/4", "reserved" }, /* with 255.255.255.255 */
		{ "::/96", "reserved" },       /* IPv4-compatible, deprecated */
		{ "100::/64", "reserved" },    /* discard-only */
	};
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
		struct net_rule r;
		if (net_rule_parse(defaults[i].cidr, &r) < 0)
			return -EINVAL;
		r.reason = defaults[i].reason;
		int e = push_rule(&p->defaults, &p->ndefaults, &r);
		if (e < 0)
			return e;
	}
	return 0;
}

int net_policy_add_host_address(struct net_policy *p, const struct net_addr *a)
{
	struct net_rule r = { .addr = *a, .plen = a->family == AF_INET ? 32 : 128, .reason = "host" };
	return push_rule(&p->defaults, &p->ndefaults, &r);
}

static bool host_matches(const char *pattern, const char *name)
{
	if (!strncmp(pattern, "*.", 2)) {
		size_t pl = strlen(pattern + 1), nl = strlen(name); /* ".example.com" */
		return nl > pl && !strcasecmp(name + nl - pl, pattern + 1);
	}
	return !strcasecmp(pattern, name);
}

bool net_policy_host_matches(const struct net_policy *p, const char *name)
{
	for (size_t i = 0; i < p->nhosts; i++)
		if (host_matches(p->hosts[i].name, name))
			return true;
	return false;
}

static uint32_t addr_hash(const struct net_addr *a)
{
	/* FNV-1a: the table's keys come from answers the guest may choose,
	 * but a collision costs a probe, never a wrong verdict. */
	uint32_t h = 2166136261u ^ (uint32_t)a->family;
	for (int i = 0; i < (a->family == AF_INET ? 4 : 16); i++)
		h = (h ^ a->a[i]) * 16777619u;
	return h;
}

static struct net_learned *learned_slot(const struct net_policy *p, const struct net_addr *a)
{
	if (!p->learned)
		return NULL;
	size_t len = a->family == AF_INET ? 4 : 16;
	for (uint32_t i = addr_hash(a), n = 0; n < NET_LEARNED_SLOTS; i++, n++) {
		struct net_learned *s = &p->learned[i % NET_LEARNED_SLOTS];
		if (!s->addr.family || (s->addr.family == a->family && !memcmp(s->addr.a, a->a, len)))
			return s;
	}
	return NULL;
}

int net_policy_learn(struct net_policy *p, const char *name, const struct net_addr *a)
{
	uint64_t bits = 0;
	for (size_t i = 0; i < p->nhosts; i++)
		if (host_matches(p->hosts[i].name, name))
			bits |= 1ULL << i;
	if (!bits)
		return 0;
	if (!p->learned && !(p->learned = calloc(NET_LEARNED_SLOTS, sizeof(*p->learned))))
		return -ENOMEM;
	struct net_learned *s = learned_slot(p, a);
	if (!s)
		return -ENOSPC;
	if (!s->addr.family) {
		/* Keep a quarter free so probes stay short. */
		if (p->nlearned >= NET_LEARNED_SLOTS * 3 / 4)
			return -ENOSPC;
		s->addr = *a;
		p->nlearned++;
	}
	s->hosts |= bits;
	return 1;
}

static const struct net_rule *rules_match(const struct net_rule *v, size_t n, const struct net_addr *a,
					  int proto, uint16_t port, bool deny)
{
	for (size_t i = 0; i < n; i++)
		if (net_addr_in(a, &v[i].addr, v[i].plen) && ports_match(&v[i].ports, proto, port, deny))
			return &v[i];
	return NULL;
}

/* ::ffff:a.b.c.d and 64:ff9b::a.b.c.d reach a.b.c.d. */
static void unmap(const struct net_addr *in, struct net_addr *out)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	*out = *in;
	if (in->family == AF_INET6 && (!memcmp(in->a, mapped, 12) || !memcmp(in->a, nat64, 12))) {
		out->family = AF_INET;
		memset(out->a, 0, sizeof(out->a));
		memcpy(out->a, in->a + 12, 4);
	}
}

struct net_verdict net_policy_check(const struct net_policy *p, const struct net_addr *addr,
				    int proto, uint16_t port)
{
	struct net_addr a;
	unmap(addr, &a);
	if (rules_match(p->deny, p->ndeny, &a, proto, port, true))
		return (struct net_verdict){ false, "deny-net" };
	if (rules_match(p->allow, p->nallow, &a, proto, port, false))
		return (struct net_verdict){ true, "allow-net" };
	const struct net_rule *d = rules_match(p->defaults, p->ndefaults, &a, proto, port, true);
	if (d && !p->allow_all)
		return (struct net_verdict){ false, d->reason };
	if (p->allow_all)
		return (struct net_verdict){ true, "allow-all-egress" };
	if (!p->nallow && !p->nhosts)
		return (struct net_verdict){ true, "public" };
	const struct net_learned *s = learned_slot(p, &a);
	if (s && s->addr.family)
		for (size_t i = 0; i < p->nhosts; i++)
			if ((s->hosts & (1ULL << i)) && ports_match(&p->hosts[i].ports, proto, port, false))
				return (struct net_verdict){ true, "allow-host" };
	return (struct net_verdict){ false, "not-allowed" };
}

void net_policy_free(struct net_policy *p)
{
	free(p->deny);
	free(p->allow);
	free(p->defaults);
	for (size_t i = 0; i < p->nhosts; i++)
		free(p->hosts[i].name);
	free(p->learned);
	*p = (struct net_policy){ 0 };
}
