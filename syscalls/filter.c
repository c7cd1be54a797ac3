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
 * test runs the exported program over every rule to catch that.
 *
 * SYSF_ELSE_PASS entries ("notify these values, pass the rest": fcntl's
 * lock commands) invert that: the catch-all is ALLOW, so the same
 * misordering would let the notified values run natively, open rather
 * than closed. Such entries therefore also get checked here, after
 * export: filter_verify() runs the program over each notified value of
 * each such entry and refuses to build a filter that does not notify it
 * (the filter is built at compile time by filter_gen, so a libseccomp that
 * orders differently breaks the build rather than the sandbox).
 *
 * SYSF_ELSE_NOTIFY entries ("pass these values, notify the rest": sendto
 * without an address) keep the catch-all closed: misordered, every call
 * would be notified, and the handler answers any call correctly. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
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
		if ((e->flags & SYSF_ELSE_PASS) && !r->notify)
			return -EINVAL; /* a plain rule would mean "pass" twice */
		if ((e->flags & SYSF_ELSE_NOTIFY) && r->notify)
			return -EINVAL; /* a notify rule would mean "notify" twice */
	}
	if (e->flags & (SYSF_ELSE_PASS | SYSF_ELSE_NOTIFY)) {
		/* Only "notify these, pass the rest" or "pass these, notify
		 * the rest": an audit flag or an errno would promise a refusal
		 * that never happens. */
		if (e->disp != SYS_PASS || !e->nrules || e->err || (e->flags & SYSF_AUDIT) ||
		    (e->flags & SYSF_ELSE_PASS && e->flags & SYSF_ELSE_NOTIFY))
			return -EINVAL;
		if ((e->flags & SYSF_ELSE_NOTIFY) && !e->handler)
			return -EINVAL; /* nobody would answer the rest */
		return 0;
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

	uint32_t mismatch = (e->flags & SYSF_ELSE_PASS)	 ? SCMP_ACT_ALLOW
			    : (e->flags & SYSF_ELSE_NOTIFY) ? SCMP_ACT_NOTIFY
							     : refuse_action(e);
	if (mismatch == match && !(e->flags & SYSF_ELSE_PASS))
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

/* A classic-BPF evaluator for the subset libseccomp emits (loads of
 * seccomp_data words, ALU with constants, conditional jumps, returns);
 * anything else, or a jump out of the program, is "not verified" (0,
 * which is SECCOMP_RET_KILL_THREAD, never a match of what is checked). */
static uint32_t bpf_eval(const struct sock_filter *p, unsigned n, const struct seccomp_data *d)
{
	uint32_t A = 0;
	for (unsigned pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &p[pc];
		uint32_t k = f->k;
		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (k % 4 || k + 4 > sizeof(*d))
				return 0;
			memcpy(&A, (const char *)d + k, 4);
			continue;
		case BPF_ALU | BPF_AND | BPF_K:
			A &= k;
			continue;
		case BPF_JMP | BPF_JA:
			if (k >= n - pc - 1)
				return 0;
			pc += k;
			continue;
		case BPF_RET | BPF_K:
			return k;
		}
		bool t;
		switch (f->code) {
		case BPF_JMP | BPF_JEQ | BPF_K: t = A == k; break;
		case BPF_JMP | BPF_JGT | BPF_K: t = A > k; break;
		case BPF_JMP | BPF_JGE | BPF_K: t = A >= k; break;
		case BPF_JMP | BPF_JSET | BPF_K: t = (A & k) != 0; break;
		default: return 0;
		}
		unsigned off = t ? f->jt : f->jf;
		if (off >= n - pc - 1)
			return 0;
		pc += off;
	}
	return 0;
}

uint32_t sys_filter_eval(const struct sock_filter *prog, unsigned short len,
			 const struct seccomp_data *d)
{
	return bpf_eval(prog, len, d);
}

/* Is every instruction one bpf_eval() runs? Then its verdict on any
 * seccomp_data is the kernel's. */
static bool bpf_evaluable(const struct sock_filter *p, unsigned n)
{
	for (unsigned pc = 0; pc < n; pc++) {
		switch (p[pc].code) {
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_ALU | BPF_AND | BPF_K:
		case BPF_JMP | BPF_JA:
		case BPF_RET | BPF_K:
		case BPF_JMP | BPF_JEQ | BPF_K:
		case BPF_JMP | BPF_JGT | BPF_K:
		case BPF_JMP | BPF_JGE | BPF_K:
		case BPF_JMP | BPF_JSET | BPF_K:
			continue;
		}
		return false;
	}
	return true;
}

int sys_filter_notify_all(const struct sock_filter *prog, unsigned short len,
			  const uint64_t tag[3], struct sock_filter **ret_prog,
			  unsigned short *ret_len)
{
	if (!prog || !len || !bpf_evaluable(prog, len))
		return -EOPNOTSUPP;
	/* The exemption below must give exactly the table's verdict. */
	struct seccomp_data d = { .nr = __NR_sendmsg, .arch = AUDIT_ARCH_X86_64 };
	memcpy(&d.args[3], tag, 3 * sizeof(tag[0]));
	if (bpf_eval(prog, len, &d) != SECCOMP_RET_ALLOW)
		return -EOPNOTSUPP;

	/* pid 1 hands the listener to the sentry with a sendmsg made before
	 * anyone listens: that call, and only with the three tag words in the
	 * argument registers sendmsg ignores, keeps the table's verdict
	 * (ALLOW). A guest that guessed 128 random bits (the first word is
	 * SYS_SENDMSG_UNTRAPPED, public) could hide its own
	 * sendmsg calls from the trace, and gain nothing else. */
	enum { PREFIX = 4 + 3 * 4 + 1 };
	if (len + PREFIX > BPF_MAXINSNS)
		return -E2BIG;
	_cleanup_free_ struct sock_filter *out = malloc((len + PREFIX) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	unsigned n = 0;
#define SKIP ((uint8_t)(PREFIX - n - 1)) /* from instruction n to the table's program */
	out[n] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	n++;
	out[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, SKIP);
	n++;
	out[n] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	n++;
	out[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_sendmsg, 0, SKIP);
	n++;
	for (unsigned a = 0; a < 3; a++)
		for (unsigned half = 0; half < 2; half++) {
			/* x86-64 is little-endian: the low word comes first. */
			uint32_t off = (uint32_t)(offsetof(struct seccomp_data, args) + 8 * (3 + a) + 4 * half);
			uint32_t want = (uint32_t)(tag[a] >> (32 * half));
			out[n] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off);
			n++;
			out[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, want, 0, SKIP);
			n++;
		}
	out[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef SKIP
	memcpy(out + n, prog, len * sizeof(*out));
	for (unsigned pc = n; pc < n + len; pc++) {
		if (out[pc].code != (BPF_RET | BPF_K))
			continue;
		uint32_t action = out[pc].k & SECCOMP_RET_ACTION_FULL;
		/* Only the outcomes the sentry can reproduce exactly from the
		 * registers; kills stay in the kernel. */
		if (action == SECCOMP_RET_ALLOW || action == SECCOMP_RET_ERRNO)
			out[pc].k = SECCOMP_RET_USER_NOTIF;
	}
	*ret_len = (unsigned short)(n + len);
	*ret_prog = TAKE_PTR(out);
	return 0;
}

/* The filter as built at compile time (syscalls/filter_gen.c), linked into
 * the moat binary; absent in the unit tests, which build it at run time. */
extern const struct sock_filter sys_filter_prebuilt[] __attribute__((weak));
extern const unsigned short sys_filter_prebuilt_len __attribute__((weak));

int sys_filter_default(const struct sock_filter **ret_prog, unsigned short *ret_len)
{
	static struct sock_filter *built;
	static unsigned short built_len;
	if (sys_filter_prebuilt) {
		*ret_prog = sys_filter_prebuilt;
		*ret_len = sys_filter_prebuilt_len;
		return 0;
	}
	if (!built) {
		int r = sys_filter_build(&built, &built_len);
		if (r < 0)
			return r;
	}
	*ret_prog = built;
	*ret_len = built_len;
	return 0;
}

/* See the top of this file: every value a SYSF_ELSE_PASS entry notifies
 * must be notified by the exported program, whatever the register holds
 * above an int. */
static int filter_verify(const struct sock_filter *prog, unsigned short len)
{
	for (int nr = 0; nr < SYS_TABLE_SIZE; nr++) {
		const struct sys_entry *e = sys_lookup(nr);
		if (!e || !(e->flags & SYSF_ELSE_PASS))
			continue;
		for (unsigned i = 0; i < e->nrules; i++) {
			const struct sys_argrule *ar = &e->rules[i];
			uint64_t hi = ar->mask ? ~ar->mask : 0;
			const uint64_t vals[] = { ar->value, ar->value | hi };
			for (size_t j = 0; j < ARRAY_SIZE(vals); j++) {
				struct seccomp_data d = { .nr = nr, .arch = AUDIT_ARCH_X86_64 };
				d.args[ar->argno] = vals[j];
				if (bpf_eval(prog, len, &d) != SECCOMP_RET_USER_NOTIF) {
					log_debug("filter does not notify %s with %#llx", e->name,
						  (unsigned long long)vals[j]);
					return -ENOTRECOVERABLE;
				}
			}
		}
	}
	return 0;
}

/* libseccomp 2.5.4 exports only to an fd: go through a memfd. */
int sys_filter_export(scmp_filter_ctx ctx, struct sock_filter **ret_prog,
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

/* The vsyscall page: where the kernel emulates it (vsyscall=xonly or
 * emulate), a call to its gettimeofday, time or getcpu reaches the filter
 * as that syscall with the page's address (0xffffffffff600000 + 0, 0x400,
 * 0x800) as instruction pointer. No syscall instruction of a task can have
 * an address in the kernel's half, so the high word 0xffffffff is that
 * page and nothing else: kill the process, as for the 32-bit entry points.
 * A fixed-address legacy entry that no current libc uses is one less way
 * around the table (issue 9: "vsyscall unusable"). */
static int filter_prefix_vsyscall(struct sock_filter **prog, unsigned short *len)
{
	static const struct sock_filter pre[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, instruction_pointer) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffffu, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	if (*len + ARRAY_SIZE(pre) > BPF_MAXINSNS)
		return -E2BIG;
	struct sock_filter *out = malloc((*len + ARRAY_SIZE(pre)) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	memcpy(out, pre, sizeof(pre));
	memcpy(out + ARRAY_SIZE(pre), *prog, *len * sizeof(*out));
	free(*prog);
	*prog = out;
	*len = (unsigned short)(*len + ARRAY_SIZE(pre));
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

	_cleanup_free_ struct sock_filter *prog = NULL;
	unsigned short len = 0;
	int r = sys_filter_export(ctx, &prog, &len);
	if (r < 0)
		return r;
	r = filter_verify(prog, len);
	if (r < 0)
		return r;
	r = filter_prefix_vsyscall(&prog, &len);
	if (r < 0)
		return r;
	*ret_len = len;
	*ret_prog = TAKE_PTR(prog);
	return 0;
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

int sys_filter_trace_variant(const struct sock_filter *prog, unsigned short len,
			     struct sock_filter **ret_prog, unsigned short *ret_len)
{
	if (!prog || !len)
		return -EINVAL;
	_cleanup_free_ struct sock_filter *out = malloc(len * sizeof(*out));
	if (!out)
		return -ENOMEM;
	memcpy(out, prog, len * sizeof(*out));
	/* Only the return statements' constants: a jump's k is an offset or a
	 * compared value, never a verdict. */
	for (unsigned pc = 0; pc < len; pc++)
		if (out[pc].code == (BPF_RET | BPF_K) &&
		    (out[pc].k & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF)
			out[pc].k = SECCOMP_RET_TRACE;
	*ret_len = len;
	*ret_prog = TAKE_PTR(out);
	return 0;
}

int sys_filter_install_traced(const struct sock_filter *prog, unsigned short len)
{
	if (!prog || len == 0 || len > BPF_MAXINSNS)
		return -EINVAL;
	struct sock_fprog fprog = { .len = len, .filter = (struct sock_filter *)prog };
	/* No listener: a TRACE verdict stops the task for its tracer, and
	 * without one the call fails with ENOSYS (fail closed). */
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
		return neg_errno();
	return 0;
}

int sys_filter_profile_for_ptrace(const struct sock_filter *prog, unsigned short len,
				  struct sock_filter **ret_prog, unsigned short *ret_len)
{
	/* Allowed ahead of the profile's own program, which follows
	 * unchanged (its jumps are relative): what ptrace_fd.c injects to
	 * install an fd, with exactly its arguments (the fd-table calls with
	 * their flags). Anything else, and any other architecture, falls
	 * through to the profile. */
	/* Jump offsets count from the next instruction: 24 is the ALLOW,
	 * 25 the profile's first instruction. */
	const struct sock_filter pre[] = {
		/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 23),
		/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 1, 0),
		/* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socketpair, 0, 4),
		/* 5 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		/* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 0, 18),
		/* 7 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		/* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_DGRAM | SOCK_CLOEXEC, 15, 16),
		/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_recvmsg, 0, 3),
		/* 10 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MSG_DONTWAIT, 12, 0),
		/* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, 11, 12),
		/* 13 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fcntl, 0, 2),
		/* 14 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		/* 15 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_DUPFD_CLOEXEC, 8, 9),
		/* 16 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_dup3, 0, 3),
		/* 17 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		/* 18 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0),
		/* 19 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, O_CLOEXEC, 4, 5),
		/* 20 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close, 3, 0),
		/* 21 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_close_range, 0, 3),
		/* 22 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		/* 23 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		/* 24 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	_Static_assert(ARRAY_SIZE(pre) == 25, "the offsets above count 25 instructions");
	if (!prog || !len || len + ARRAY_SIZE(pre) > BPF_MAXINSNS)
		return -EINVAL;
	size_t n = ARRAY_SIZE(pre) + len;
	struct sock_filter *out = malloc(n * sizeof(*out));
	if (!out)
		return -ENOMEM;
	memcpy(out, pre, sizeof(pre));
	memcpy(out + ARRAY_SIZE(pre), prog, len * sizeof(*out));
	*ret_prog = out;
	*ret_len = (unsigned short)n;
	return 0;
}
