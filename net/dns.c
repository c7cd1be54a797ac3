/* SPDX-License-Identifier: MIT */
/* DNS answers the helper forwards to the guest (dns.h): the A and AAAA
 * records reached from the question's name, directly or through CNAMEs,
 * are learned for the --allow-host rules that name matches, so an allowed
 * name works behind a CDN whose addresses change. The message is the
 * resolver's, but its question is the guest's: only answers to a name the
 * user allowed count, and the policy's default list still applies to what
 * they say (a rebinding answer of 10.0.0.1 stays refused). */
#include "net/dns.h"

#include <ctype.h>
#include <string.h>
#include <sys/socket.h>

#define DNS_MAX_CHAIN 16

/* Read a (possibly compressed) name at *off into out (lower case, dotted,
 * no trailing dot); advance *off past it in the message. */
static int read_name(const uint8_t *m, size_t len, size_t *off, char *out, size_t outlen)
{
	size_t o = *off, n = 0, end = 0;
	int jumps = 0;
	for (;;) {
		if (o >= len)
			return -1;
		uint8_t l = m[o];
		if ((l & 0xc0) == 0xc0) {
			if (o + 1 >= len || ++jumps > 16)
				return -1;
			if (!end)
				end = o + 2;
			o = (size_t)(l & 0x3f) << 8 | m[o + 1];
			continue;
		}
		if (l & 0xc0)
			return -1;
		if (!l) {
			if (!end)
				end = o + 1;
			break;
		}
		if (o + 1 + l > len || n + l + 2 > outlen)
			return -1;
		if (n)
			out[n++] = '.';
		for (size_t i = 0; i < l; i++)
			out[n++] = (char)tolower(m[o + 1 + i]);
		o += 1 + (size_t)l;
	}
	out[n] = 0;
	*off = end;
	return 0;
}

static bool in_chain(char chain[][256], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(chain[i], name))
			return true;
	return false;
}

int dns_learn(struct net_policy *p, const uint8_t *m, size_t len)
{
	if (len < 12 || !(m[2] & 0x80)) /* a response */
		return 0;
	unsigned qd = (unsigned)(m[4] << 8 | m[5]), an = (unsigned)(m[6] << 8 | m[7]);
	if (qd != 1 || !an)
		return 0;
	size_t off = 12;
	char qname[256];
	if (read_name(m, len, &off, qname, sizeof(qname)) < 0 || off + 4 > len)
		return 0;
	if (!net_policy_host_matches(p, qname))
		return 0;
	off += 4;
	size_t first = off;
	char chain[DNS_MAX_CHAIN][256];
	int nchain = 1, learned = 0;
	memcpy(chain[0], qname, sizeof(qname));
	/* Two passes: CNAMEs may follow the records they lead to. */
	for (int pass = 0; pass < 2; pass++) {
		off = first;
		for (unsigned i = 0; i < an; i++) {
			char owner[256];
			if (read_name(m, len, &off, owner, sizeof(owner)) < 0 || off + 10 > len)
				return learned;
			uint16_t type = (uint16_t)(m[off] << 8 | m[off + 1]);
			uint16_t class = (uint16_t)(m[off + 2] << 8 | m[off + 3]);
			size_t rdlen = (size_t)(m[off + 8] << 8 | m[off + 9]);
			off += 10;
			if (off + rdlen > len)
				return learned;
			if (class == 1 && in_chain(chain, nchain, owner)) {
				if (type == 5 && nchain < DNS_MAX_CHAIN) { /* CNAME */
					size_t t = off;
					char target[256];
					if (read_name(m, len, &t, target, sizeof(target)) == 0 &&
					    !in_chain(chain, nchain, target))
						memcpy(chain[nchain++], target, sizeof(target));
				} else if (pass == 1 && ((type == 1 && rdlen == 4) || (type == 28 && rdlen == 16))) {
					struct net_addr a = { .family = type == 1 ? AF_INET : AF_INET6 };
					memcpy(a.a, m + off, rdlen);
					if (net_policy_learn(p, qname, &a) > 0)
						learned++;
				}
			}
			off += rdlen;
		}
	}
	return learned;
}
