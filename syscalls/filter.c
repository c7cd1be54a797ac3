/* SPDX-License-Identifier: MIT */
/* The guest's seccomp filter, generated from the syscall table.
 *
 * libseccomp builds the program; moat installs it itself, because
 * libseccomp 2.5 cannot ask for SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV and
 * because building allocates (the guest's child must not, between fork and
 * exec). So sys_filter_build() runs in the sentry before the fork, and
 * sys_filter_install() is a single raw syscall in the child.
 *
 * Architectures: only native x86-64 is in the filter and the bad-arch action
 * is KILL_PROCESS, so `int $0x80` (AUDIT_ARCH_I386) kills the guest. x32
 * calls arrive with AUDIT_ARCH_X86_64 and __X32_SYSCALL_BIT (0x40000000) set
 * in the number; libseccomp 2.5 emits, for an x86-64 filter without x32,
 * "nr >= 0x40000000 && nr != -1 -> bad-arch action" right after the arch
 * check, so those are killed too (tests/unit/test_table.c checks both).
 *
 * Argument rules. The table says "the disposition applies when any rule
 * matches, else .err". libseccomp cannot say "else" directly: an
 * unconditional rule on a syscall replaces its conditional ones, and a rule
 * may not compare the same argument twice (so no "a0 != x && a0 != y").
 * What it can do is order the comparisons of one argument: within a level of
 * its decision tree, equality and masked-equality tests are emitted before
 * range tests (db.c, _db_chain_lt). So each rule becomes a MASKED_EQ/EQ
 * rule with the disposition's action, and one catch-all "arg >= 0" rule on
 * the same argument (always true for an unsigned compare) carries the
 * mismatch action; it is reached only when no equality test matched. If a
 * future libseccomp ordered them differently, the catch-all would win and
 * the rule-checked calls would all be refused: closed, not open. The unit
 * test runs the exported program over every rule to catch that. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "syscalls/table.h"

#define FILTER_DEFAULT SCMP_ACT_ERRNO(ENOSYS)

static void seccomp_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* libseccomp 2.5 returns -errno, but with SCMP_FLTATR_API_SYSRAWRC off it
 * may fold failures into -ECANCELED; keep whatever it says if it is an
 * errno, else say -EINVAL. */
static int scmp_rc(int rc)
{
	return rc < 0 && rc > -4096 ? rc : -EINVAL;
}

/* What a call that is refused gets: the errno from the filter, or a
 * notification so the sentry (sys_deny) can write the audit record first. */
static uint32_t refuse_action(const struct sys_entry *e)
{
	return (e->flags & SYSF_AUDIT) ? SCMP_ACT_NOTIFY : SCMP_ACT_ERRNO(e->err);
}

static int rule_add(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned ncmp,
		    const struct scmp_arg_cmp *cmp)
{
	/* libseccomp refuses a rule equal to the default action (-EACCES);
	 * leaving it out gives the same answer. */
	if (action == FILTER_DEFAULT)
		return 0;
	/* _exact: on x86-64 nothing needs rewriting; fail rather than let
	 * libseccomp adjust a rule behind our back. */
	int r = seccomp_rule_add_exact_array(ctx, action, nr, ncmp, cmp);
	if (r < 0) {
		log_debug("seccomp rule for %s (%d): %s", sys_name(nr), nr,
			  strerror(-scmp_rc(r)));
		return scmp_rc(r);
	}
	return 0;
}

/* The errno of a refusal must be a real, non-zero errno: ERRNO(0) would
 * make the call "succeed" without running. */
static bool err_valid(int err)
{
	return err > 0 && err < 4096;
}

/* Table invariants the filter depends on; a violation is a bug in table.c,
 * refused here rather than turned into a filter that means something else. */
static int entry_check(const struct sys_entry *e)
{
	if (e->nrules > SYS_MAX_RULES)
		return -EINVAL;
	for (unsigned i = 0; i < e->nrules; i++) {
		const struct sys_argrule *r = &e->rules[i];
		if (r->argno >= 6 || r->argno != e->rules[0].argno)
			return -EINVAL;
		if (r->mask && (r->value & ~r->mask))
			return -EINVAL; /* could never match */
		if (r->notify && (e->disp != SYS_PASS || !e->handler))
			return -EINVAL; /* nobody would answer it */
	}
	switch (e->disp) {
	case SYS_PASS:
	case SYS_EMULATE:
	case SYS_EXEC:
		if (e->nrules && !err_valid(e->err))
			return -EINVAL;
		break;
	case SYS_DENY:
		if (e->nrules || !err_valid(e->err))
			return -EINVAL;
		break;
	case SYS_KILL:
		if (e->nrules)
			return -EINVAL;
		break;
	case SYS_UNKNOWN:
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int filter_add_entry(scmp_filter_ctx ctx, int nr, const struct sys_entry *e)
{
	uint32_t match;
	int r = entry_check(e);
	if (r < 0) {
		log_debug("syscall table entry %s (%d) is inconsistent", e->name, nr);
		return r;
	}

	switch (e->disp) {
	case SYS_PASS:
		match = SCMP_ACT_ALLOW;
		break;
	case SYS_EMULATE:
	case SYS_EXEC:
		match = SCMP_ACT_NOTIFY;
		break;
	case SYS_DENY:
		match = refuse_action(e);
		break;
	case SYS_KILL:
		match = SCMP_ACT_KILL_PROCESS;
		break;
	default:
		return 0; /* SYS_UNKNOWN: the default action */
	}

	if (e->nrules == 0)
		return rule_add(ctx, match, nr, 0, NULL);

	uint32_t mismatch = refuse_action(e);
	if (mismatch == match)
		return rule_add(ctx, match, nr, 0, NULL);

	for (unsigned i = 0; i < e->nrules; i++) {
		const struct sys_argrule *ar = &e->rules[i];
		struct scmp_arg_cmp cmp = ar->mask
			? SCMP_CMP(ar->argno, SCMP_CMP_MASKED_EQ, ar->mask, ar->value)
			: SCMP_CMP(ar->argno, SCMP_CMP_EQ, ar->value);
		r = rule_add(ctx, ar->notify ? SCMP_ACT_NOTIFY : match, nr, 1, &cmp);
		if (r < 0)
			return r;
	}
	/* The catch-all: a range test, so it sorts after the equality tests
	 * of the same argument (see the top of this file). */
	struct scmp_arg_cmp any = SCMP_CMP(e->rules[0].argno, SCMP_CMP_GE, 0);
	return rule_add(ctx, mismatch, nr, 1, &any);
}

/* libseccomp 2.5.4 exports only to an fd: go through a memfd. */
static int filter_export(scmp_filter_ctx ctx, struct sock_filter **ret_prog,
			 unsigned short *ret_len)
{
	_cleanup_close_ int fd = memfd_create("moat-filter", MFD_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return scmp_rc(r);

	struct stat st;
	if (fstat(fd, &st) < 0)
		return neg_errno();
	size_t size = (size_t)st.st_size;
	if (size == 0 || size % sizeof(struct sock_filter) ||
	    size / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return -E2BIG;

	_cleanup_free_ struct sock_filter *prog = malloc(size);
	if (!prog)
		return -ENOMEM;
	for (size_t done = 0; done < size;) {
		ssize_t n = pread(fd, (char *)prog + done, size - done, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return neg_errno();
		if (n == 0)
			return -EIO;
		done += (size_t)n;
	}
	*ret_len = (unsigned short)(size / sizeof(struct sock_filter));
	*ret_prog = TAKE_PTR(prog);
	return 0;
}

int sys_filter_build(struct sock_filter **ret_prog, unsigned short *ret_len)
{
	if (!ret_prog || !ret_len)
		return -EINVAL;
	/* The table is x86-64 only; so is the project (configure.ac). */
	if (seccomp_arch_native() != SCMP_ARCH_X86_64)
		return -EOPNOTSUPP;

	_cleanup_(seccomp_releasep) scmp_filter_ctx ctx = seccomp_init(FILTER_DEFAULT);
	if (!ctx)
		return -ENOMEM;

	static const struct {
		enum scmp_filter_attr attr;
		uint32_t value;
	} attrs[] = {
		/* Any other arch (i386 through int $0x80, and x32 by number)
		 * kills the whole guest process, not just the thread. */
		{ SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS },
		/* We never load through libseccomp; the caller sets NNP. */
		{ SCMP_FLTATR_CTL_NNP, 0 },
		/* A binary tree over ~350 syscalls instead of a linear scan. */
		{ SCMP_FLTATR_CTL_OPTIMIZE, 2 },
		/* Real errnos from libseccomp, not -ECANCELED. */
		{ SCMP_FLTATR_API_SYSRAWRC, 1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		int r = seccomp_attr_set(ctx, attrs[i].attr, attrs[i].value);
		if (r < 0)
			return scmp_rc(r);
	}

	for (int nr = 0; nr < SYS_TABLE_SIZE; nr++) {
		const struct sys_entry *e = sys_lookup(nr);
		if (!e)
			continue;
		int r = filter_add_entry(ctx, nr, e);
		if (r < 0)
			return r;
	}

	return filter_export(ctx, ret_prog, ret_len);
}

int sys_filter_install(const struct sock_filter *prog, unsigned short len)
{
	if (!prog || len == 0 || len > BPF_MAXINSNS)
		return -EINVAL;

	/* The kernel copies the program; the cast only drops const for the
	 * uapi struct. */
	struct sock_fprog fprog = {
		.len = len,
		.filter = (struct sock_filter *)prog,
	};
	/* NEW_LISTENER returns the listener fd, always O_CLOEXEC (the kernel
	 * allocates it with get_unused_fd_flags(O_CLOEXEC)), so it does not
	 * survive the guest's exec. WAIT_KILLABLE_RECV: once the sentry has
	 * received a notification, only a fatal signal interrupts the guest's
	 * wait, so an emulation is never abandoned half done. No allocation
	 * and no libc state here: this runs between fork and exec. */
	long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			  SECCOMP_FILTER_FLAG_NEW_LISTENER |
				  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
			  &fprog);
	if (fd < 0)
		return neg_errno();
	return (int)fd;
}
