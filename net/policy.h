/* SPDX-License-Identifier: MIT */
/* The egress policy of --net=sandbox (docs/networking.md): which
 * destinations a flow the guest starts may reach. Pure data and decisions;
 * the network helper (net/helper.c) applies it to each packet that leaves
 * the guest, the CLI (sentry/cmd/run.c) builds it from the options.
 *
 * Order of a decision, first match wins:
 *   1. --deny-net                          refuse
 *   2. --allow-net (address and port)      allow
 *   3. the default list (loopback, private, link-local, metadata, the
 *      host's own addresses...)            refuse, unless --allow-all-egress
 *   4. --allow-all-egress                  allow
 *   5. with any --allow-net/--allow-host given (an allowlist): an address
 *      --allow-host resolved or learned from DNS, with its ports: allow;
 *      anything else: refuse
 *   6. otherwise (no allow option)         allow (the public Internet)
 * An --allow-host address never beats the default list, so a name that
 * answers a private address (DNS rebinding) is still refused. IPv4-mapped
 * (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) IPv6 destinations are
 * judged as the IPv4 address they carry. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NET_MAX_PORT_RANGES 16
#define NET_MAX_HOSTS 64       /* --allow-host rules (a bit each in the learned table) */
#define NET_LEARNED_SLOTS 8192 /* addresses learned for --allow-host (open addressing) */

/* A set of ports; n == 0 means every port. */
struct net_ports {
	uint16_t lo[NET_MAX_PORT_RANGES], hi[NET_MAX_PORT_RANGES];
	unsigned n;
};

/* An address: family AF_INET (the first 4 bytes) or AF_INET6. */
struct net_addr {
	int family;
	uint8_t a[16];
};

struct net_rule {
	struct net_addr addr;
	unsigned plen;
	struct net_ports ports;
	const char *reason; /* the default list's reason ("private", ...); NULL for options */
};

struct net_host {
	char *name;         /* lower case, no trailing dot; "*.example.com" matches below it */
	struct net_ports ports;
};

struct net_learned {
	struct net_addr addr; /* family 0: empty slot */
	uint64_t hosts;       /* a bit per struct net_host index */
};

struct net_policy {
	struct net_rule *deny, *allow, *defaults;
	size_t ndeny, nallow, ndefaults;
	struct net_host hosts[NET_MAX_HOSTS];
	size_t nhosts;
	bool allow_all;
	struct net_learned *learned; /* NET_LEARNED_SLOTS, allocated on first use */
	size_t nlearned;
};

/* What a decision found. */
struct net_verdict {
	bool allow;
	const char *reason; /* "deny-net", "allow-net", "allow-host", "allow-all-egress",
			     * "public", "not-allowed", or the default list's reason */
};

/* "CIDR[:PORTS]": 10.1.2.0/24, 192.0.2.7:80,443, [fd00::/8]:1000-2000,
 * fd00::1 (an IPv6 address without brackets takes no ports). */
int net_rule_parse(const char *spec, struct net_rule *ret);
/* "80", "80,443", "8000-8100,22". */
int net_ports_parse(const char *spec, struct net_ports *ret);
/* "NAME[:PORTS]"; NAME a DNS name, optionally "*." before it. */
int net_host_parse(const char *spec, struct net_host *ret);

int net_policy_add_rule(struct net_policy *p, bool deny, const struct net_rule *r);
int net_policy_add_host(struct net_policy *p, const struct net_host *h);
/* The built-in default list (loopback, RFC 1918, ULA, CGNAT, link-local,
 * multicast, 0/8, reserved, the metadata endpoints). */
int net_policy_add_defaults(struct net_policy *p);
/* One of the host's own addresses, refused by default ("host"). */
int net_policy_add_host_address(struct net_policy *p, const struct net_addr *a);
/* An address DNS (or the start's resolution) gave for `name`: kept for
 * every --allow-host rule the name matches. Returns 1 if it matched one,
 * 0 if not, -ENOSPC when the table is full. */
int net_policy_learn(struct net_policy *p, const char *name, const struct net_addr *a);
/* Does `name` match an --allow-host rule? */
bool net_policy_host_matches(const struct net_policy *p, const char *name);

/* Judge a flow to addr: proto is IPPROTO_TCP, IPPROTO_UDP (with the
 * destination port) or IPPROTO_ICMP/ICMPV6 (port 0: only rules without
 * ports match it), or 0 for a fragment whose port is unknown (a --deny-net
 * with ports then refuses it; an allow rule must have no ports). */
struct net_verdict net_policy_check(const struct net_policy *p, const struct net_addr *addr,
				    int proto, uint16_t port);
void net_policy_free(struct net_policy *p);

/* "10.0.0.1", "fd00::1" (buf of INET6_ADDRSTRLEN). */
const char *net_addr_str(const struct net_addr *a, char *buf, size_t len);
int net_addr_parse(const char *s, struct net_addr *ret);
bool net_addr_in(const struct net_addr *a, const struct net_addr *net, unsigned plen);
