/* SPDX-License-Identifier: MIT */
/* The gofer's seccomp allowlist (filter.h). A rule names the fd or id it
 * allows symbolically; install fills in this gofer's. */
#include "gofer/filter.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

#define C(a, o, m, d) .kind = GA_CONST, .arg = (a), .op = (o), .mask = (m), .datum = (d)

const struct gofer_rule gofer_host_rules[] = {
	/* serving */
	{ "openat2", "walks and opens, always RESOLVE_BENEATH and NO_MAGICLINKS, below an export" },
	{ "statx", "attributes (io_uring's STATX, or direct)" },
	{ "newfstatat", "attributes" },
	{ "fstat", "attributes of held fds" },
	{ "close", "fds it opened for the sentry, once sent" },
	{ "recvmsg", "requests, only on its socket to the sentry", GW_ALWAYS, GA_SOCK, 0 },
	{ "sendmsg", "replies and donated fds, only on that socket", GW_ALWAYS, GA_SOCK, 0 },
	{ "write", "its error messages, only to stderr", GW_ALWAYS, C(0, SCMP_CMP_EQ, 0, STDERR_FILENO) },
	{ "io_uring_enter", "submitting and reaping, only its own ring", GW_RING, GA_RING, 0 },
	/* memory, never executable */
	{ "mmap", "never PROT_EXEC", GW_ALWAYS, C(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) },
	{ "mprotect", "never PROT_EXEC", GW_ALWAYS, C(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) },
	{ "brk", "malloc" },
	{ "munmap", "malloc" },
	{ "mremap", "malloc" },
	{ "madvise", "malloc" },
	/* the rest of a process's life */
	{ "futex", "libc's locks (single-threaded, but malloc takes them)" },
	{ "clock_gettime", "log times where the vDSO falls back" },
	{ "rt_sigreturn", "the return from a signal handler (it installs none; libc may)" },
	{ "restart_syscall", "a timed wait resumed after a stop (SIGSTOP/SIGCONT)" },
	{ "exit", "its one thread ends" },
	{ "exit_group", "it ends when the sentry closes its socket" },
#if defined(__SANITIZE_ADDRESS__)
	{ "sigaltstack", "AddressSanitizer's runtime (test builds only)" },
#endif
	/* mutations (mutate.c), only when an export is read-write */
	{ "mkdirat", "rw exports: mkdir", GW_RW },
	{ "mknodat", "rw exports: FIFOs, sockets and 0/0 whiteouts: dev must be 0 (the request refuses devices)",
	  GW_RW, C(3, SCMP_CMP_EQ, 0, 0) },
	{ "symlinkat", "rw exports: symlink", GW_RW },
	{ "linkat", "rw exports: link (from an O_PATH fd checked by inode)", GW_RW },
	{ "unlinkat", "rw exports: unlink, rmdir", GW_RW },
	{ "renameat2", "rw exports: rename (NOREPLACE, EXCHANGE)", GW_RW },
	{ "fchownat", "rw exports: chown to the owner", GW_RW },
	{ "fchmodat2", "rw exports: chmod without following a symlink", GW_RW },
	{ "utimensat", "rw exports: times", GW_RW },
	{ "ftruncate", "rw exports: truncate", GW_RW },
	{ "fsetxattr", "rw exports: user.* xattrs", GW_RW },
	{ "fremovexattr", "rw exports: user.* xattrs", GW_RW },
	{ "fcntl", "rw exports: F_GETFL", GW_RW, C(1, SCMP_CMP_EQ, 0, F_GETFL) },
	{ "fcntl", "rw exports: F_SETFL", GW_RW, C(1, SCMP_CMP_EQ, 0, F_SETFL) },
	{ "fcntl", "rw exports: F_DUPFD_CLOEXEC", GW_RW, C(1, SCMP_CMP_EQ, 0, F_DUPFD_CLOEXEC) },
	{ "setfsuid", "rw exports: create as the owner, then back to 0", GW_RW, GA_OWNER_UID, 0 },
	{ "setfsgid", "rw exports: the same for the group", GW_RW, GA_OWNER_GID, 0 },
	{ NULL },
};

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

static int resolve(const char *name)
{
	if (!strcmp(name, "fchmodat2"))
		return __NR_fchmodat2; /* newer than libseccomp 2.5.4 */
	return seccomp_syscall_resolve_name(name);
}

static int add(scmp_filter_ctx ctx, int nr, unsigned arg, enum scmp_compare op, uint64_t a,
	       uint64_t b)
{
	struct scmp_arg_cmp c = { .arg = arg, .op = op, .datum_a = a, .datum_b = b };
	int r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &c);
	return r == -EEXIST ? 0 : r; /* the same owner twice */
}

static int add_rule(scmp_filter_ctx ctx, const struct gofer_rule *g, const struct gofer_filter_env *e)
{
	int nr = resolve(g->name);
	if (nr == __NR_SCMP_ERROR)
		return -EINVAL;
	/* Ids are compared as 32-bit values (the kernel's uid_t). */
	switch (g->kind) {
	case GA_ANY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	case GA_CONST:
		return add(ctx, nr, g->arg, g->op, g->op == SCMP_CMP_MASKED_EQ ? g->mask : g->datum,
			   g->datum);
	case GA_SOCK:
		return add(ctx, nr, g->arg, SCMP_CMP_EQ, (uint64_t)e->sock, 0);
	case GA_RING:
		return add(ctx, nr, g->arg, SCMP_CMP_EQ, (uint64_t)e->ring_fd, 0);
	case GA_OWNER_UID:
	case GA_OWNER_GID: {
		int r = add(ctx, nr, g->arg, SCMP_CMP_MASKED_EQ, 0xffffffffu, 0);
		for (size_t i = 0; i < e->nowners && r == 0; i++)
			r = add(ctx, nr, g->arg, SCMP_CMP_MASKED_EQ, 0xffffffffu,
				g->kind == GA_OWNER_UID ? e->uids[i] : e->gids[i]);
		return r;
	}
	}
	return -EINVAL;
}

int gofer_filter_install(const struct gofer_filter_env *e)
{
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (const struct gofer_rule *g = gofer_host_rules; g->name && r == 0; g++) {
		if ((g->when == GW_RING && !e->use_ring) || (g->when == GW_RW && !e->any_rw))
			continue;
		r = add_rule(ctx, g, e);
	}
	if (r == 0)
		r = seccomp_load(ctx);
	/* Tests only, as the sentry's MOAT_TEST_HOSTFILTER=selftest: one call
	 * outside the list right after it is on, which must kill the gofer
	 * (and so end the sandbox, failing closed). */
	const char *t = getenv("MOAT_TEST_GOFERFILTER");
	if (r == 0 && t && !strcmp(t, "selftest"))
		(void)socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); /* must not return */
	return r;
}

void gofer_rule_args(const struct gofer_rule *g, char *buf, size_t len)
{
	switch (g->kind) {
	case GA_ANY:
		snprintf(buf, len, "any");
		break;
	case GA_CONST:
		if (g->op == SCMP_CMP_MASKED_EQ)
			snprintf(buf, len, "(arg%u & %#llx) == %#llx", g->arg, (unsigned long long)g->mask,
				 (unsigned long long)g->datum);
		else
			snprintf(buf, len, "arg%u == %#llx", g->arg, (unsigned long long)g->datum);
		break;
	case GA_SOCK:
		snprintf(buf, len, "arg%u == its socket", g->arg);
		break;
	case GA_RING:
		snprintf(buf, len, "arg%u == its ring", g->arg);
		break;
	case GA_OWNER_UID:
	case GA_OWNER_GID:
		snprintf(buf, len, "arg%u == 0 or an rw owner", g->arg);
		break;
	}
}
