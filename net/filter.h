/* SPDX-License-Identifier: MIT */
/* The network helper's seccomp allowlist (filter.c): one table, installed
 * by net/helper.c and listed by `moat syscalls --host`. */
#pragma once
#include <seccomp.h>
#include <stdint.h>

struct net_rule_sc {
	const char *name;
	const char *why;
	unsigned nargs;          /* 0 or 1 */
	unsigned arg;
	enum scmp_compare op;
	uint64_t a, b;           /* datum (EQ), or mask and value (MASKED_EQ) */
};

/* Ended by an entry with a NULL name. */
extern const struct net_rule_sc net_host_rules[];

/* Install it (anything else kills the helper). 0 or -errno. With
 * MOAT_TEST_NETFILTER=log in the environment, calls outside it are only
 * logged (to find what a new libslirp needs: dmesg | grep type=1326). */
int net_filter_install(void);
