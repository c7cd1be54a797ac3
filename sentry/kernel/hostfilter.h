/* SPDX-License-Identifier: MIT */
/* The sentry's own seccomp allowlist (hostfilter.c). */
#pragma once
#include <seccomp.h>

struct host_rule {
	const char *name;  /* syscall */
	const char *why;   /* one line for `moat syscalls --host`; NULL: as above */
	unsigned nargs;
	struct scmp_arg_cmp args[3]; /* all must match */
};

/* Ended by an entry with a NULL name. */
extern const struct host_rule sentry_host_rules[];

/* Install the allowlist on every thread of the sentry (call after its
 * privileges are dropped and before serving). 0 or -errno. */
int sentry_hostfilter_install(void);
/* The allowlist as a BPF program (for syscalls/filter_gen). */
struct sock_filter;
int sentry_hostfilter_build(struct sock_filter **ret_prog, unsigned short *ret_len);
