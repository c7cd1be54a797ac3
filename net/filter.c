/* SPDX-License-Identifier: MIT */
/* The network helper's allowlist (filter.h): sockets of the Internet
 * families only (no AF_UNIX, netlink or packet sockets), no path, no
 * process creation, no executable memory. */
#include "net/filter.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "common/cleanup.h"

#define ARG(n, o, x, y) .nargs = 1, .arg = (n), .op = (o), .a = (x), .b = (y)

const struct net_rule_sc net_host_rules[] = {
	/* the tap and slirp's host sockets */
	{ "read", "frames from the tap" },
	{ "write", "frames to the tap, audit records, its error message" },
	{ "recvfrom", "slirp's sockets" },
	{ "sendto", "slirp's sockets" },
	{ "recvmsg", "the tap's fd from pid 1" },
	{ "sendmsg", "the TCP fast path's answer to the sentry, with the connected socket (net/fastpath.h)" },
	{ "poll", "its loop" },
	{ "socket", "outbound flows: IPv4 only", ARG(0, SCMP_CMP_EQ, AF_INET, 0) },
	{ "socket", "outbound flows: IPv6 only", ARG(0, SCMP_CMP_EQ, AF_INET6, 0) },
	{ "connect", "outbound TCP" },
	{ "accept", "--publish connections (listening since before the filter)" },
	{ "setsockopt", "slirp's socket options" },
	{ "getsockopt", "SO_ERROR of connects" },
	{ "getpeername", "--publish connections' peers" },
	{ "shutdown", "half-closed TCP" },
	{ "close", "slirp's sockets, closed flows" },
	{ "fcntl", "O_NONBLOCK" },
	{ "ioctl", "FIONREAD on slirp's sockets", ARG(1, SCMP_CMP_EQ, 0x541b, 0) },
	/* memory, never executable */
	{ "mmap", "never PROT_EXEC", ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) },
	{ "mprotect", "never PROT_EXEC", ARG(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0) },
	{ "munmap", "malloc" },
	{ "mremap", "malloc" },
	{ "brk", "malloc" },
	{ "madvise", "malloc" },
	/* the rest of a process's life */
	{ "futex", "glib's and libc's locks" },
	{ "clock_gettime", "slirp's clock, audit times (where the vDSO falls back)" },
	{ "rt_sigreturn", "the return from a signal handler (it installs none; glib may)" },
	{ "restart_syscall", "its poll resumed after a stop (SIGSTOP/SIGCONT, a tracer)" },
	{ "exit", "its one thread ends" },
	{ "exit_group", "it ends with the sandbox (PDEATHSIG) or on error" },
#if defined(__SANITIZE_ADDRESS__)
	{ "sigaltstack", "AddressSanitizer's runtime (test builds only)" },
#endif
	{ NULL },
};

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

int net_filter_install(void)
{
	const char *mode = getenv("MOAT_TEST_NETFILTER");
	uint32_t def = mode && !strcmp(mode, "log") ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return -ENOMEM;
	int r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (const struct net_rule_sc *n = net_host_rules; n->name && r == 0; n++) {
		int nr = seccomp_syscall_resolve_name(n->name);
		if (nr == __NR_SCMP_ERROR)
			return -EINVAL;
		if (!n->nargs) {
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
			continue;
		}
		struct scmp_arg_cmp c = { .arg = n->arg, .op = n->op, .datum_a = n->a, .datum_b = n->b };
		r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &c);
	}
	if (r == 0)
		r = seccomp_load(ctx);
	/* Tests only: "selftest" makes one call outside the list, which must
	 * kill the helper (the guest's network then dies with it). */
	if (r == 0 && mode && !strcmp(mode, "selftest"))
		(void)socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0); /* must not return */
	return r;
}
