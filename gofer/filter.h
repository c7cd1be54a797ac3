/* SPDX-License-Identifier: MIT */
/* The gofer's own seccomp allowlist (filter.c): one table, from which
 * setup.c builds the filter with this gofer's fds and owners and `moat
 * syscalls --host` prints the list (docs/host-syscalls.md). */
#pragma once
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What a rule's one argument is compared with. */
enum gofer_arg {
	GA_ANY,       /* no argument rule */
	GA_CONST,     /* op with datum (and mask for MASKED_EQ) */
	GA_SOCK,      /* == the socket to the sentry */
	GA_RING,      /* == the io_uring fd */
	GA_OWNER_UID, /* == 0 or an rw export's owner uid */
	GA_OWNER_GID, /* == 0 or an rw export's owner gid */
};

/* When a rule is in the filter at all. */
enum gofer_when {
	GW_ALWAYS,
	GW_RING, /* the gofer serves through io_uring */
	GW_RW,   /* some export is read-write (mutate.c) */
};

struct gofer_rule {
	const char *name;  /* syscall */
	const char *why;   /* one line; NULL: as above */
	enum gofer_when when;
	enum gofer_arg kind;
	unsigned arg;      /* which argument */
	enum scmp_compare op;
	uint64_t mask, datum; /* GA_CONST: MASKED_EQ uses both, EQ the datum */
};

/* Ended by an entry with a NULL name. */
extern const struct gofer_rule gofer_host_rules[];

/* The values a gofer's rules take. */
struct gofer_filter_env {
	int sock, ring_fd;
	bool use_ring, any_rw;
	const uid_t *uids; /* rw exports' owners */
	const gid_t *gids;
	size_t nowners;
};

/* Install the allowlist (anything else kills the process). 0 or -errno. */
int gofer_filter_install(const struct gofer_filter_env *env);
/* One-line description of a rule's argument, for the listing. */
void gofer_rule_args(const struct gofer_rule *r, char *buf, size_t len);
