/* SPDX-License-Identifier: MIT */
/* The syscall table and the guest filter generated from it.
 *
 * Three layers, libseccomp-tests style (syscall + arguments -> expected
 * action):
 * 1. Table sanity: every entry named, noted, consistent.
 * 2. The exported BPF program, run in a small classic-BPF interpreter for
 *    every syscall number and every argument rule, against what the table
 *    says (the table is the oracle, not libseccomp).
 * 3. The real kernel: a forked child installs the filter with
 *    sys_filter_install() and makes one call; the test process holds the
 *    listener and answers every notification with -EHOSTDOWN, so "notified"
 *    and "refused by the filter" tell apart. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "common/cleanup.h"
#include "syscalls/dispatch.h"
#include "syscalls/handlers.h"
#include "syscalls/table.h"
#include "tests/tap.h"

#define X32_SYSCALL_BIT 0x40000000
#define NOTIFY_ERR EHOSTDOWN /* what the test's "sentry" answers */

/* ---------------------------------------------------------------- table */

TEST(table_entries_complete)
{
	unsigned n = 0;
	for (int nr = 0; nr < SYS_TABLE_SIZE; nr++) {
		const struct sys_entry *e = sys_lookup(nr);
		if (!e)
			continue;
		n++;
		if (!e->note || !e->note[0] || !e->name[0]) {
			printf("# %d: missing name or note\n", nr);
			tap_failed_in_child = 1;
		}
		EXPECT_TRUE(e->disp > SYS_UNKNOWN && e->disp <= SYS_KILL);
		if (e->disp == SYS_EMULATE || e->disp == SYS_EXEC)
			EXPECT_TRUE(e->handler != NULL);
		if (e->disp == SYS_EXEC)
			EXPECT_TRUE(e->handler == sys_execve);
		if (e->disp == SYS_DENY) {
			EXPECT_TRUE(e->err > 0 && e->err < 4096);
			EXPECT_EQ(e->nrules, 0);
		}
		/* Audited refusals are answered by sys_deny, which writes
		 * the record. */
		if (e->flags & SYSF_AUDIT)
			EXPECT_TRUE(e->handler == sys_deny);
		if (e->disp == SYS_DENY && !(e->flags & SYSF_AUDIT))
			EXPECT_TRUE(e->handler == NULL);
		EXPECT_TRUE(e->nrules <= SYS_MAX_RULES);
		if (e->flags & SYSF_ELSE_PASS) {
			/* "notify these, pass the rest": every rule notifies. */
			EXPECT_EQ(e->disp, SYS_PASS);
			EXPECT_EQ(e->err, 0);
			EXPECT_TRUE(e->nrules > 0 && e->handler != NULL);
			for (unsigned i = 0; i < e->nrules; i++)
				EXPECT_TRUE(e->rules[i].notify);
		} else if (e->flags & SYSF_ELSE_NOTIFY) {
			/* "pass these, notify the rest": no rule notifies. */
			EXPECT_EQ(e->disp, SYS_PASS);
			EXPECT_EQ(e->err, 0);
			EXPECT_TRUE(e->nrules > 0 && e->handler != NULL);
			for (unsigned i = 0; i < e->nrules; i++)
				EXPECT_TRUE(!e->rules[i].notify);
		} else if (e->nrules) {
			EXPECT_TRUE(e->err > 0 && e->err < 4096);
		}
		for (unsigned i = 0; i < e->nrules; i++) {
			EXPECT_EQ(e->rules[i].argno, e->rules[0].argno);
			EXPECT_TRUE(e->rules[i].argno < 6);
			if (e->rules[i].mask)
				EXPECT_EQ(e->rules[i].value & ~e->rules[i].mask, 0);
		}
		if (tap_failed_in_child) {
			printf("# at %d (%s)\n", nr, e->name);
			return;
		}
	}
	printf("# %u entries\n", n);
	EXPECT_TRUE(n > 300);
}

TEST(table_names_unique_and_right)
{
	for (int a = 0; a < SYS_TABLE_SIZE; a++) {
		const struct sys_entry *ea = sys_lookup(a);
		if (!ea)
			continue;
		for (int b = a + 1; b < SYS_TABLE_SIZE; b++) {
			const struct sys_entry *eb = sys_lookup(b);
			if (eb && !strcmp(ea->name, eb->name)) {
				printf("# duplicate name %s at %d and %d\n", ea->name, a, b);
				tap_failed_in_child = 1;
			}
		}
		/* A second opinion on number -> name: libseccomp's own table. */
		_cleanup_free_ char *ln = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, a);
		if (ln && strcmp(ln, ea->name)) {
			printf("# %d: table says %s, libseccomp says %s\n", a, ea->name, ln);
			tap_failed_in_child = 1;
		}
	}
}

/* Every number the headers know has an entry: 0..334 and 424 up to the
 * newest (335..423 are unused on x86-64, kept in step with other arches). */
TEST(table_covers_headers)
{
	for (int nr = 0; nr <= __NR_set_mempolicy_home_node; nr++) {
		if (nr > __NR_rseq && nr < __NR_pidfd_send_signal)
			continue;
		if (!sys_lookup(nr)) {
			printf("# no entry for %d\n", nr);
			tap_failed_in_child = 1;
		}
	}
}

TEST(table_lookup_bounds)
{
	EXPECT_TRUE(sys_lookup(-1) == NULL);
	EXPECT_TRUE(sys_lookup(SYS_TABLE_SIZE) == NULL);
	EXPECT_TRUE(sys_lookup(1000) == NULL);
	EXPECT_TRUE(sys_lookup(__NR_getpid | X32_SYSCALL_BIT) == NULL);
	EXPECT_STREQ(sys_name(-1), "unknown");
	EXPECT_STREQ(sys_name(1000), "unknown");
	EXPECT_STREQ(sys_name(__NR_openat), "openat");
	EXPECT_STREQ(sys_disp_name(SYS_PASS), "PASS");
	EXPECT_STREQ(sys_disp_name(SYS_DENY), "DENY");
	EXPECT_STREQ(sys_disp_name((enum sys_disp)99), "UNKNOWN");
}

/* Every notification has an answer: the entry's handler or the table's
 * default denial; and the guest sees only whitelisted errnos. */
TEST(dispatch_defaults)
{
	EXPECT_TRUE(sys_entry_handler(NULL) == sys_deny);
	EXPECT_TRUE(sys_entry_handler(sys_lookup(__NR_openat)) == sys_open);
	for (long nr = 0; nr < SYS_TABLE_SIZE; nr++)
		EXPECT_TRUE(sys_entry_handler(sys_lookup(nr)) != NULL);
	EXPECT_EQ(sys_errno_filter(5), 5);
	EXPECT_EQ(sys_errno_filter(-ENOENT), -ENOENT);
	EXPECT_EQ(sys_errno_filter(-EHWPOISON), -EIO);
	EXPECT_EQ(sys_errno_filter(-512 /* ERESTARTSYS */), -EIO);
}

/* A few policy decisions that must not drift silently. */
TEST(table_policy)
{
	EXPECT_EQ(sys_lookup(__NR_getcwd)->disp, SYS_EMULATE);
	EXPECT_EQ(sys_lookup(__NR_execve)->disp, SYS_EXEC);
	EXPECT_EQ(sys_lookup(__NR_execveat)->disp, SYS_EXEC);
	EXPECT_EQ(sys_lookup(__NR_clone)->disp, SYS_EMULATE);
	EXPECT_EQ(sys_lookup(__NR_clone3)->disp, SYS_DENY);
	EXPECT_EQ(sys_lookup(__NR_clone3)->err, ENOSYS);
	EXPECT_EQ(sys_lookup(__NR_clone3)->flags & SYSF_AUDIT, 0);
	EXPECT_EQ(sys_lookup(__NR_capset)->err, EPERM);
	EXPECT_TRUE(sys_lookup(__NR_capset)->flags & SYSF_AUDIT);
	EXPECT_TRUE(sys_lookup(__NR_mount)->flags & SYSF_AUDIT);
	EXPECT_EQ(sys_lookup(__NR_mount)->disp, SYS_DENY);
	EXPECT_EQ(sys_lookup(__NR_inotify_add_watch)->disp, SYS_EMULATE);
	/* Locks never reach a host inode: flock is emulated, fcntl's lock
	 * commands are notified and the rest of fcntl passes. */
	EXPECT_EQ(sys_lookup(__NR_flock)->disp, SYS_EMULATE);
	EXPECT_TRUE(sys_lookup(__NR_fcntl)->flags & SYSF_ELSE_PASS);
	/* Nothing that takes a path may pass. */
	for (int nr = 0; nr < SYS_TABLE_SIZE; nr++) {
		const struct sys_entry *e = sys_lookup(nr);
		if (e && (e->flags & SYSF_PATH) && e->disp == SYS_PASS) {
			printf("# %s passes a path\n", e->name);
			tap_failed_in_child = 1;
		}
	}
}

/* ------------------------------------------------------ BPF interpreter */

#define T_BPF_BAD 0xffffffffu

/* Classic BPF as seccomp accepts it (the subset libseccomp emits and a bit
 * more). Returns the filter's action, or T_BPF_BAD for a malformed program. */
static uint32_t t_bpf_run(const struct sock_filter *p, unsigned n,
			  const struct seccomp_data *d)
{
	uint32_t A = 0, X = 0, M[BPF_MEMWORDS] = { 0 };
	for (unsigned pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &p[pc];
		uint32_t k = f->k;
		uint32_t src = BPF_SRC(f->code) == BPF_X ? X : k;
		switch (BPF_CLASS(f->code)) {
		case BPF_LD:
			if (f->code == (BPF_LD | BPF_W | BPF_ABS)) {
				if (k % 4 || k + 4 > sizeof(*d))
					return T_BPF_BAD;
				memcpy(&A, (const char *)d + k, 4);
			} else if (f->code == (BPF_LD | BPF_IMM)) {
				A = k;
			} else if (f->code == (BPF_LD | BPF_MEM) && k < BPF_MEMWORDS) {
				A = M[k];
			} else if (f->code == (BPF_LD | BPF_W | BPF_LEN)) {
				A = sizeof(*d);
			} else {
				return T_BPF_BAD;
			}
			break;
		case BPF_LDX:
			if (f->code == (BPF_LDX | BPF_IMM))
				X = k;
			else if (f->code == (BPF_LDX | BPF_MEM) && k < BPF_MEMWORDS)
				X = M[k];
			else
				return T_BPF_BAD;
			break;
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				return T_BPF_BAD;
			M[k] = BPF_CLASS(f->code) == BPF_ST ? A : X;
			break;
		case BPF_ALU:
			switch (BPF_OP(f->code)) {
			case BPF_ADD: A += src; break;
			case BPF_SUB: A -= src; break;
			case BPF_MUL: A *= src; break;
			case BPF_DIV: if (!src) return T_BPF_BAD; A /= src; break;
			case BPF_MOD: if (!src) return T_BPF_BAD; A %= src; break;
			case BPF_AND: A &= src; break;
			case BPF_OR: A |= src; break;
			case BPF_XOR: A ^= src; break;
			case BPF_LSH: A = src < 32 ? A << src : 0; break;
			case BPF_RSH: A = src < 32 ? A >> src : 0; break;
			case BPF_NEG: A = -A; break;
			default: return T_BPF_BAD;
			}
			break;
		case BPF_JMP: {
			bool t;
			switch (BPF_OP(f->code)) {
			case BPF_JA:
				if (k >= n - pc - 1)
					return T_BPF_BAD;
				pc += k;
				continue;
			case BPF_JEQ: t = A == src; break;
			case BPF_JGT: t = A > src; break;
			case BPF_JGE: t = A >= src; break;
			case BPF_JSET: t = (A & src) != 0; break;
			default: return T_BPF_BAD;
			}
			unsigned off = t ? f->jt : f->jf;
			if (off >= n - pc - 1)
				return T_BPF_BAD;
			pc += off;
			break;
		}
		case BPF_RET:
			if (BPF_RVAL(f->code) == BPF_K)
				return k;
			if (BPF_RVAL(f->code) == BPF_A)
				return A;
			return T_BPF_BAD;
		case BPF_MISC:
			if (BPF_MISCOP(f->code) == BPF_TAX)
				X = A;
			else
				A = X;
			break;
		default:
			return T_BPF_BAD;
		}
	}
	return T_BPF_BAD; /* fell off the end */
}

/* What the table says a call with these arguments should get. */
static uint32_t t_expect(int nr, const uint64_t args[6])
{
	const struct sys_entry *e = sys_lookup(nr);
	if (!e)
		return SECCOMP_RET_ERRNO | ENOSYS;
	uint32_t refuse = (e->flags & SYSF_AUDIT)
		? SECCOMP_RET_USER_NOTIF
		: SECCOMP_RET_ERRNO | ((uint32_t)e->err & SECCOMP_RET_DATA);
	if (e->flags & SYSF_ELSE_PASS)
		refuse = SECCOMP_RET_ALLOW; /* what no rule matches runs */
	if (e->flags & SYSF_ELSE_NOTIFY)
		refuse = SECCOMP_RET_USER_NOTIF; /* what no rule matches is trapped */
	uint32_t match;
	switch (e->disp) {
	case SYS_PASS: match = SECCOMP_RET_ALLOW; break;
	case SYS_EMULATE:
	case SYS_EXEC: match = SECCOMP_RET_USER_NOTIF; break;
	case SYS_DENY: return refuse;
	case SYS_KILL: return SECCOMP_RET_KILL_PROCESS;
	default: return SECCOMP_RET_ERRNO | ENOSYS;
	}
	if (e->nrules == 0)
		return match;
	for (unsigned i = 0; i < e->nrules; i++) {
		const struct sys_argrule *r = &e->rules[i];
		uint64_t v = args[r->argno];
		if (r->mask ? (v & r->mask) == r->value : v == r->value)
			return r->notify ? SECCOMP_RET_USER_NOTIF : match;
	}
	return refuse;
}

static struct sock_filter *t_prog;
static unsigned short t_prog_len;

static void t_build(void)
{
	if (t_prog)
		return;
	int r = sys_filter_build(&t_prog, &t_prog_len);
	if (r < 0)
		printf("# sys_filter_build: %s\n", strerror(-r));
	ASSERT_EQ(r, 0);
	ASSERT_TRUE(t_prog_len > 0 && t_prog_len <= BPF_MAXINSNS);
}

static uint32_t t_sim(uint32_t arch, int nr, const uint64_t args[6])
{
	struct seccomp_data d = { .nr = nr, .arch = arch, .instruction_pointer = 0x401000 };
	memcpy(d.args, args, sizeof(d.args));
	return t_bpf_run(t_prog, t_prog_len, &d);
}

static bool t_sim_check(int nr, const uint64_t args[6])
{
	uint32_t got = t_sim(AUDIT_ARCH_X86_64, nr, args);
	uint32_t want = t_expect(nr, args);
	if (got == want)
		return true;
	printf("# %s (%d) args %#llx %#llx %#llx: filter %#x, table %#x\n", sys_name(nr),
	       nr, (unsigned long long)args[0], (unsigned long long)args[1],
	       (unsigned long long)args[2], got, want);
	tap_failed_in_child = 1;
	return false;
}

TEST(filter_builds)
{
	t_build();
	printf("# %u instructions\n", t_prog_len);
	/* Deterministic: building twice gives the same program. */
	struct sock_filter *again = NULL;
	unsigned short len = 0;
	ASSERT_EQ(sys_filter_build(&again, &len), 0);
	EXPECT_EQ(len, t_prog_len);
	EXPECT_TRUE(len == t_prog_len && !memcmp(again, t_prog, len * sizeof(*again)));
	free(again);
}

/* Every number, with plain and hostile arguments, against the table. */
TEST(filter_matches_table)
{
	t_build();
	static const uint64_t fill[] = {
		0, 1, 0xffffffffULL, 0xffffffffffffffffULL, 0x100000000ULL,
		0xdeadbeefcafef00dULL,
	};
	for (int nr = 0; nr < SYS_TABLE_SIZE + 64; nr++) {
		for (size_t i = 0; i < ARRAY_SIZE(fill); i++) {
			uint64_t args[6] = { fill[i], fill[i], fill[i], fill[i], fill[i], fill[i] };
			if (!t_sim_check(nr, args))
				return;
		}
		const struct sys_entry *e = sys_lookup(nr);
		for (unsigned i = 0; e && i < e->nrules; i++) {
			const struct sys_argrule *r = &e->rules[i];
			const uint64_t v[] = {
				r->value,
				r->value | 0xffffffff00000000ULL, /* junk above an int */
				r->value ^ 1,
				r->value + 1,
				r->value - 1,
				r->value | ~r->mask,
				~r->value,
			};
			for (size_t j = 0; j < ARRAY_SIZE(v); j++) {
				uint64_t args[6] = { 0 };
				args[r->argno] = v[j];
				if (!t_sim_check(nr, args))
					return;
			}
		}
	}
}

/* moat trace (docs/tracing.md): the traced filter notifies exactly what
 * the table's filter allows or refuses with an errno, keeps its kills, and
 * the sentry's evaluator gives the table filter's verdict for every call:
 * the CONTINUEs it sends are the table's ALLOWs. */
TEST(trace_filter_notifies_and_eval_agrees)
{
	t_build();
	/* As trace.c makes it: the table's own exemption, then the tag. */
	const uint64_t tag[3] = { SYS_SENDMSG_UNTRAPPED, 0x99aabbccddeeff00ULL, 42 };
	struct sock_filter *tr = NULL;
	unsigned short trlen = 0;
	ASSERT_EQ(sys_filter_notify_all(t_prog, t_prog_len, tag, &tr, &trlen), 0);
	static const uint64_t fill[] = { 0, 1, 0xffffffffULL, 0xdeadbeefcafef00dULL };
	static const uint32_t arches[] = { AUDIT_ARCH_X86_64, AUDIT_ARCH_I386 };
	for (size_t a = 0; a < ARRAY_SIZE(arches); a++)
		for (int nr = 0; nr < SYS_TABLE_SIZE + 64; nr++)
			for (size_t i = 0; i < ARRAY_SIZE(fill); i++) {
				struct seccomp_data d = { .nr = nr, .arch = arches[a] };
				for (int k = 0; k < 6; k++)
					d.args[k] = fill[i];
				uint32_t normal = t_bpf_run(t_prog, t_prog_len, &d);
				uint32_t traced = t_bpf_run(tr, trlen, &d);
				uint32_t act = normal & SECCOMP_RET_ACTION_FULL;
				uint32_t want = (act == SECCOMP_RET_ALLOW || act == SECCOMP_RET_ERRNO)
					? SECCOMP_RET_USER_NOTIF : normal;
				if (traced != want || sys_filter_eval(t_prog, t_prog_len, &d) != normal) {
					printf("# nr %d arch %#x: normal %#x traced %#x\n", nr, arches[a],
					       normal, traced);
					tap_failed_in_child = 1;
					free(tr);
					return;
				}
			}
	/* pid 1's report passes only with the whole tag. */
	struct seccomp_data d = { .nr = __NR_sendmsg, .arch = AUDIT_ARCH_X86_64 };
	memcpy(&d.args[3], tag, sizeof(tag));
	EXPECT_EQ(t_bpf_run(tr, trlen, &d), SECCOMP_RET_ALLOW);
	d.args[5] ^= 1ULL << 40;
	EXPECT_EQ(t_bpf_run(tr, trlen, &d), SECCOMP_RET_USER_NOTIF);
	d.args[5] = tag[2];
	d.nr = __NR_write;
	EXPECT_EQ(t_bpf_run(tr, trlen, &d), SECCOMP_RET_USER_NOTIF);
	free(tr);
}

TEST(filter_kills_other_arches)
{
	t_build();
	uint64_t args[6] = { 0 };
	/* i386 (int $0x80, sysenter) and anything else: kill the process. */
	static const uint32_t arches[] = { AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0 };
	for (size_t a = 0; a < ARRAY_SIZE(arches); a++)
		for (int nr = 0; nr < 512; nr++)
			EXPECT_EQ(t_sim(arches[a], nr, args), SECCOMP_RET_KILL_PROCESS);
	/* x32: x86-64 arch, number with bit 30. */
	for (int nr = 0; nr < 600; nr++)
		EXPECT_EQ(t_sim(AUDIT_ARCH_X86_64, nr | X32_SYSCALL_BIT, args),
			  SECCOMP_RET_KILL_PROCESS);
	EXPECT_EQ(t_sim(AUDIT_ARCH_X86_64, 0x7fffffff, args), SECCOMP_RET_KILL_PROCESS);
	/* -1 is what ptrace uses to skip a call: plain ENOSYS, as libseccomp
	 * deliberately lets it through the x32 check. */
	EXPECT_EQ(t_sim(AUDIT_ARCH_X86_64, -1, args), SECCOMP_RET_ERRNO | ENOSYS);
}

/* The kernel's vsyscall emulation: its three calls, from the page's
 * address, kill the process; the same calls from user space pass. */
TEST(filter_kills_vsyscall)
{
	t_build();
	static const int nrs[] = { __NR_gettimeofday, __NR_time, __NR_getcpu };
	for (size_t i = 0; i < ARRAY_SIZE(nrs); i++)
		for (uint64_t off = 0; off <= 0x800; off += 0x400) {
			struct seccomp_data d = { .nr = nrs[i], .arch = AUDIT_ARCH_X86_64,
						  .instruction_pointer = 0xffffffffff600000ULL + off };
			EXPECT_EQ(t_bpf_run(t_prog, t_prog_len, &d), SECCOMP_RET_KILL_PROCESS);
			d.instruction_pointer = 0x7f0000001000ULL;
			EXPECT_EQ(t_bpf_run(t_prog, t_prog_len, &d), SECCOMP_RET_ALLOW);
		}
}

/* ---------------------------------------------------------- real kernel */

enum t_kind { T_RESULT, T_LISTENER, T_SKIP, T_SETUP_FAILED };

struct t_msg {
	enum t_kind kind;
	long ret;
	int err;
	int cloexec;
	long aux; /* case-specific extra result */
};

struct t_ctx {
	int fd[2];
	long aux;
};

struct t_case {
	const char *name;
	int (*setup)(struct t_ctx *c); /* before the filter; <0 -> skip */
	long (*call)(struct t_ctx *c);
};

struct t_result {
	bool exited;
	int sig;
	long ret;
	int err;
	long aux;
	int notified;      /* notifications received */
	int notified_nr;   /* the last one's syscall number */
	bool cloexec;      /* the listener came with FD_CLOEXEC */
};

static void t_send(int sock, const struct t_msg *m, int fd)
{
	struct iovec iov = { .iov_base = (void *)m, .iov_len = sizeof(*m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	/* After the filter, before anyone listens: the sendmsg the filter
	 * passes (as pid 1's report, sentry/sandbox/guest.c). */
	(void)syscall(SYS_sendmsg, sock, &mh, MSG_NOSIGNAL, SYS_SENDMSG_UNTRAPPED, 0, 0);
}

static ssize_t t_recv(int sock, struct t_msg *m, int *ret_fd)
{
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	if (n > 0 && ret_fd) {
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (cm && cm->cmsg_type == SCM_RIGHTS)
			memcpy(ret_fd, CMSG_DATA(cm), sizeof(int));
	}
	return n;
}

/* The guest side: runs in the forked child. Only PASS calls between the
 * filter and the case's call (fcntl, sendmsg, close). */
static _Noreturn void t_child(const struct t_case *tc, int sock)
{
	struct t_ctx ctx = { .fd = { -1, -1 } };
	struct t_msg m = { .kind = T_SETUP_FAILED };

	/* The kill cases must not leave core files behind. */
	struct rlimit nocore = { 0, 0 };
	(void)setrlimit(RLIMIT_CORE, &nocore);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		m.err = errno;
		t_send(sock, &m, -1);
		_exit(0);
	}
	if (tc->setup && tc->setup(&ctx) < 0) {
		m.kind = T_SKIP;
		t_send(sock, &m, -1);
		_exit(0);
	}
	int listener = sys_filter_install(t_prog, t_prog_len);
	if (listener < 0) {
		m.err = -listener;
		t_send(sock, &m, -1);
		_exit(0);
	}
	int fl = fcntl(listener, F_GETFD);
	m = (struct t_msg){ .kind = T_LISTENER, .cloexec = fl >= 0 && (fl & FD_CLOEXEC) };
	t_send(sock, &m, listener);
	close(listener);

	errno = 0;
	long ret = tc->call(&ctx);
	m = (struct t_msg){ .kind = T_RESULT, .ret = ret, .err = ret < 0 ? errno : 0,
			    .aux = ctx.aux };
	t_send(sock, &m, -1);
	_exit(0);
}

/* Answer one notification with -NOTIFY_ERR. */
static void t_answer(int listener, struct t_result *res, const struct seccomp_notif_sizes *sz)
{
	_cleanup_free_ struct seccomp_notif *req = calloc(1, sz->seccomp_notif);
	_cleanup_free_ struct seccomp_notif_resp *resp = calloc(1, sz->seccomp_notif_resp);
	ASSERT_TRUE(req && resp);
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) < 0)
		return; /* ENOENT: the caller went away */
	res->notified++;
	res->notified_nr = req->data.nr;
	resp->id = req->id;
	resp->error = -NOTIFY_ERR;
	(void)ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
}

static void t_run(const struct t_case *tc, struct t_result *res)
{
	t_build();
	memset(res, 0, sizeof(*res));
	res->notified_nr = -1;

	struct seccomp_notif_sizes sz;
	ASSERT_EQ(syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz), 0);

	int sv[2];
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	fflush(stdout);
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		t_child(tc, sv[1]);
	}
	close(sv[1]);
	_cleanup_close_ int sock = sv[0];
	_cleanup_close_ int listener = -1;

	struct t_msg m;
	ssize_t n = t_recv(sock, &m, &listener);
	if (n == (ssize_t)sizeof(m) && m.kind == T_SKIP) {
		waitpid(pid, NULL, 0);
		SKIP("%s: setup found no suitable object", tc->name);
	}
	if (n == (ssize_t)sizeof(m) && m.kind == T_SETUP_FAILED) {
		waitpid(pid, NULL, 0);
		if (m.err == EINVAL)
			SKIP("kernel lacks SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");
		printf("# %s: child setup failed: %s\n", tc->name, strerror(m.err));
		ASSERT_TRUE(false);
	}
	ASSERT_EQ(n, (ssize_t)sizeof(m));
	ASSERT_EQ(m.kind, T_LISTENER);
	ASSERT_TRUE(listener >= 0);
	res->cloexec = m.cloexec;

	/* Serve notifications until the child reports or dies. */
	bool done = false;
	while (!done) {
		struct pollfd p[2] = { { listener, POLLIN, 0 }, { sock, POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			ASSERT_EQ(errno, EINTR);
			continue;
		}
		if (p[0].revents & POLLIN) {
			t_answer(listener, res, &sz);
			continue;
		}
		if (p[1].revents) {
			n = t_recv(sock, &m, NULL);
			if (n == (ssize_t)sizeof(m) && m.kind == T_RESULT) {
				res->ret = m.ret;
				res->err = m.err;
				res->aux = m.aux;
			}
			done = true;
		} else if (p[0].revents & (POLLHUP | POLLERR)) {
			done = true; /* no task left under the filter */
		}
	}
	int st = 0;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	res->exited = WIFEXITED(st);
	res->sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static const char *t_errname(int err)
{
	const char *s = strerrorname_np(err);
	return s ? s : "0";
}

/* Outcomes */
static void t_expect_ret(const struct t_case *tc, long want_min)
{
	struct t_result r;
	t_run(tc, &r);
	if (r.ret < want_min || r.notified || !r.exited)
		printf("# %s: ret %ld (%s), notified %d, signal %d\n", tc->name, r.ret,
		       strerror(r.err), r.notified, r.sig);
	EXPECT_TRUE(r.exited);
	EXPECT_TRUE(r.ret >= want_min);
	EXPECT_EQ(r.notified, 0);
}

static void t_expect_errno(const struct t_case *tc, int err)
{
	struct t_result r;
	t_run(tc, &r);
	if (r.ret != -1 || r.err != err || r.notified)
		printf("# %s: ret %ld errno %s, notified %d\n", tc->name, r.ret,
		       t_errname(r.err), r.notified);
	EXPECT_TRUE(r.exited);
	EXPECT_EQ(r.ret, -1);
	EXPECT_EQ(r.err, err);
	EXPECT_EQ(r.notified, 0);
}

static void t_expect_notified(const struct t_case *tc, int nr)
{
	struct t_result r;
	t_run(tc, &r);
	if (r.notified != 1 || r.notified_nr != nr)
		printf("# %s: notified %d (nr %d), ret %ld errno %s\n", tc->name, r.notified,
		       r.notified_nr, r.ret, t_errname(r.err));
	EXPECT_TRUE(r.exited);
	EXPECT_EQ(r.notified, 1);
	EXPECT_EQ(r.notified_nr, nr);
	EXPECT_EQ(r.ret, -1);
	EXPECT_EQ(r.err, NOTIFY_ERR);
}

static void t_expect_killed(const struct t_case *tc)
{
	struct t_result r;
	t_run(tc, &r);
	if (r.sig != SIGSYS)
		printf("# %s: exited %d signal %d ret %ld\n", tc->name, r.exited, r.sig, r.ret);
	EXPECT_EQ(r.sig, SIGSYS);
	EXPECT_EQ(r.notified, 0);
}

#define CASE(name_, setup_, body_)                                    \
	static long t_call_##name_(struct t_ctx *c)                   \
	{                                                             \
		(void)c;                                              \
		body_;                                                \
	}                                                             \
	static const struct t_case tc_##name_ = { #name_, setup_, t_call_##name_ }

/* A call that must not have run: if it did, as a forked child, leave. */
static long t_clone(unsigned long flags)
{
	long r = syscall(SYS_clone, flags, 0, 0, 0, 0);
	if (r == 0)
		_exit(0);
	return r;
}

CASE(getpid, NULL, return syscall(SYS_getpid));
TEST(getpid_passes) { t_expect_ret(&tc_getpid, 1); }

/* Signals are sent with the guest's credentials, decided by the sentry. */
CASE(kill0, NULL, return syscall(SYS_kill, syscall(SYS_getpid), 0));
TEST(kill_notified) { t_expect_notified(&tc_kill0, __NR_kill); }

CASE(nr1000, NULL, return syscall(1000, 0, 0, 0));
TEST(unknown_1000_enosys) { t_expect_errno(&tc_nr1000, ENOSYS); }

/* The first number past the table: newer kernels know it, the table does
 * not, so the filter refuses it. */
static long t_first_unknown(void)
{
	int nr = SYS_TABLE_SIZE - 1;
	while (nr > 0 && !sys_lookup(nr))
		nr--;
	return nr + 1;
}
CASE(newer, NULL, return syscall(t_first_unknown(), 0, 0, 0));
TEST(newer_than_table_enosys) { t_expect_errno(&tc_newer, ENOSYS); }

CASE(openat, NULL, return syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY));
TEST(openat_notified) { t_expect_notified(&tc_openat, __NR_openat); }

CASE(getuid, NULL, return syscall(SYS_getuid));
TEST(getuid_notified) { t_expect_notified(&tc_getuid, __NR_getuid); }

/* All NULL: if the filter let it through, the kernel would fail it with
 * EFAULT or EINVAL, never mount anything. */
CASE(mount, NULL, return syscall(SYS_mount, NULL, NULL, NULL, 0, NULL));
TEST(mount_notified_for_audit) { t_expect_notified(&tc_mount, __NR_mount); }

CASE(unshare, NULL, return syscall(SYS_unshare, 0));
TEST(unshare_notified_for_audit) { t_expect_notified(&tc_unshare, __NR_unshare); }

CASE(execve, NULL, return syscall(SYS_execve, "/bin/true", NULL, NULL));
TEST(execve_notified) { t_expect_notified(&tc_execve, __NR_execve); }

CASE(clone_plain, NULL, return t_clone(SIGCHLD));
TEST(clone_plain_notified) { t_expect_notified(&tc_clone_plain, __NR_clone); }

/* The kernel reads clone's flags as 32 bits: junk above them is no
 * namespace flag. */
CASE(clone_hi, NULL, return t_clone(SIGCHLD | (0xffffffffUL << 32)));
TEST(clone_high_bits_notified) { t_expect_notified(&tc_clone_hi, __NR_clone); }

CASE(clone_newuser, NULL, return t_clone(CLONE_NEWUSER | SIGCHLD));
TEST(clone_newuser_eperm) { t_expect_errno(&tc_clone_newuser, EPERM); }

static long t_clone_ns_each(struct t_ctx *c)
{
	static const unsigned long ns[] = { CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS,
					    CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
					    CLONE_NEWNET };
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		long r = t_clone(ns[i] | CLONE_VM | SIGCHLD);
		if (r != -1 || errno != EPERM) {
			c->aux = (long)ns[i];
			return r;
		}
	}
	errno = EPERM;
	return -1;
}
static const struct t_case tc_clone_ns = { "clone_ns", NULL, t_clone_ns_each };
TEST(clone_every_namespace_flag_eperm) { t_expect_errno(&tc_clone_ns, EPERM); }

CASE(clone3, NULL, return syscall(SYS_clone3, NULL, 0));
TEST(clone3_enosys) { t_expect_errno(&tc_clone3, ENOSYS); }

/* fd -1: had TIOCSTI passed, the kernel would say EBADF, and no terminal
 * is ever touched. */
CASE(tiocsti, NULL, char ch = 'x'; return syscall(SYS_ioctl, -1, TIOCSTI, &ch));
TEST(ioctl_tiocsti_enotty) { t_expect_errno(&tc_tiocsti, ENOTTY); }

CASE(tiocsti_hi, NULL, char ch = 'x';
     return syscall(SYS_ioctl, -1, (1UL << 32) | TIOCSTI, &ch));
TEST(ioctl_tiocsti_high_bits_enotty) { t_expect_errno(&tc_tiocsti_hi, ENOTTY); }

CASE(tioclinux, NULL, char ch = 0; return syscall(SYS_ioctl, -1, TIOCLINUX, &ch));
TEST(ioctl_tioclinux_enotty) { t_expect_errno(&tc_tioclinux, ENOTTY); }

/* TCGETS on a pty master succeeds in the kernel; ENOTTY would have been
 * the filter. (On /dev/null the kernel itself says ENOTTY.) */
static int t_setup_pty(struct t_ctx *c)
{
	c->fd[0] = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	return c->fd[0] < 0 ? -1 : 0;
}
CASE(tcgets, t_setup_pty, char buf[64]; return syscall(SYS_ioctl, c->fd[0], TCGETS, buf));
TEST(ioctl_tcgets_passes) { t_expect_ret(&tc_tcgets, 0); }

CASE(tcgets_hi, t_setup_pty, char buf[64];
     return syscall(SYS_ioctl, c->fd[0], (0xabcdUL << 32) | TCGETS, buf));
TEST(ioctl_tcgets_high_bits_passes) { t_expect_ret(&tc_tcgets_hi, 0); }

static int t_setup_pipe(struct t_ctx *c)
{
	if (pipe2(c->fd, O_CLOEXEC) < 0)
		return -1;
	return write(c->fd[1], "abc", 3) == 3 ? 0 : -1;
}
static long t_fionread(struct t_ctx *c)
{
	int n = 0;
	long r = syscall(SYS_ioctl, c->fd[0], FIONREAD, &n);
	c->aux = n;
	return r;
}
static const struct t_case tc_fionread = { "fionread", t_setup_pipe, t_fionread };
TEST(ioctl_fionread_passes)
{
	struct t_result r;
	t_run(&tc_fionread, &r);
	EXPECT_EQ(r.ret, 0);
	EXPECT_EQ(r.aux, 3);
	EXPECT_EQ(r.notified, 0);
}

CASE(af_packet, NULL, return syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0));
/* Refused by sys_socket with EPERM, as for an unprivileged process. */
TEST(socket_af_packet_notified) { t_expect_notified(&tc_af_packet, __NR_socket); }
CASE(af_appletalk, NULL, return syscall(SYS_socket, AF_APPLETALK, SOCK_DGRAM, 0));
TEST(socket_af_appletalk_eafnosupport) { t_expect_errno(&tc_af_appletalk, EAFNOSUPPORT); }
CASE(inet_raw, NULL, return syscall(SYS_socket, AF_INET, SOCK_RAW, 1));
TEST(socket_inet_raw_notified) { t_expect_notified(&tc_inet_raw, __NR_socket); }

/* sendmsg and sendmmsg: notified whatever their registers (a path in
 * msg_name is in memory), passed only with the untrapped value. */
CASE(sendmsg, NULL, return syscall(SYS_sendmsg, -1, 0, 0));
TEST(sendmsg_notified) { t_expect_notified(&tc_sendmsg, __NR_sendmsg); }
CASE(sendmsg_untrapped, NULL, return syscall(SYS_sendmsg, -1, 0, 0, SYS_SENDMSG_UNTRAPPED));
TEST(sendmsg_untrapped_passes) { t_expect_errno(&tc_sendmsg_untrapped, EBADF); }
CASE(sendmmsg, NULL, return syscall(SYS_sendmmsg, -1, 0, 1, 0));
TEST(sendmmsg_notified) { t_expect_notified(&tc_sendmmsg, __NR_sendmmsg); }
CASE(sendmmsg_untrapped, NULL, return syscall(SYS_sendmmsg, -1, 0, 1, 0, SYS_SENDMSG_UNTRAPPED));
TEST(sendmmsg_untrapped_passes) { t_expect_errno(&tc_sendmmsg_untrapped, EBADF); }

CASE(af_unix, NULL, return syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
TEST(socket_af_unix_passes) { t_expect_ret(&tc_af_unix, 0); }

CASE(af_unix_hi, NULL,
     return syscall(SYS_socket, (1UL << 32) | AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
TEST(socket_af_unix_high_bits_passes) { t_expect_ret(&tc_af_unix_hi, 0); }

CASE(socketpair_inet, NULL, int sv[2];
     return syscall(SYS_socketpair, AF_INET, SOCK_STREAM, 0, sv));
TEST(socketpair_inet_eafnosupport) { t_expect_errno(&tc_socketpair_inet, EAFNOSUPPORT); }

/* fcntl: the lock commands are notified (with junk above the int too),
 * every other command runs natively. */
CASE(fcntl_getfd, NULL, return syscall(SYS_fcntl, 0, F_GETFD));
TEST(fcntl_getfd_passes) { t_expect_ret(&tc_fcntl_getfd, 0); }
CASE(fcntl_dupfd, NULL, return syscall(SYS_fcntl, 0, F_DUPFD_CLOEXEC, 10));
TEST(fcntl_dupfd_passes) { t_expect_ret(&tc_fcntl_dupfd, 10); }
CASE(fcntl_setlk, NULL, struct flock l = { .l_type = F_RDLCK };
     return syscall(SYS_fcntl, 0, F_SETLK, &l));
TEST(fcntl_setlk_notified) { t_expect_notified(&tc_fcntl_setlk, __NR_fcntl); }
CASE(fcntl_ofd_setlkw_hi, NULL, struct flock l = { .l_type = F_RDLCK };
     return syscall(SYS_fcntl, 0, (1UL << 32) | F_OFD_SETLKW, &l));
TEST(fcntl_ofd_setlkw_high_bits_notified)
{
	t_expect_notified(&tc_fcntl_ofd_setlkw_hi, __NR_fcntl);
}
CASE(fcntl_getlk, NULL, struct flock l = { .l_type = F_RDLCK };
     return syscall(SYS_fcntl, 0, F_GETLK, &l));
TEST(fcntl_getlk_notified) { t_expect_notified(&tc_fcntl_getlk, __NR_fcntl); }
CASE(flock_ex, NULL, return syscall(SYS_flock, 0, LOCK_EX | LOCK_NB));
TEST(flock_notified) { t_expect_notified(&tc_flock_ex, __NR_flock); }

/* PR_SET_MM with an invalid sub-option is EINVAL from the kernel too, so
 * also try an option the kernel would answer: PR_GET_KEEPCAPS. */
CASE(pr_set_mm, NULL, return syscall(SYS_prctl, PR_SET_MM, 0xffff, 0, 0, 0));
TEST(prctl_set_mm_einval) { t_expect_errno(&tc_pr_set_mm, EINVAL); }

CASE(pr_keepcaps, NULL, return syscall(SYS_prctl, PR_GET_KEEPCAPS, 0, 0, 0, 0));
TEST(prctl_unlisted_option_einval) { t_expect_errno(&tc_pr_keepcaps, EINVAL); }

/* The dumpable flag is the sentry's (sys_prctl_dumpable): notified, whatever
 * the option register's high bits (the kernel reads an int). */
CASE(pr_dumpable_hi, NULL,
     return syscall(SYS_prctl, (1UL << 32) | PR_GET_DUMPABLE, 0, 0, 0, 0));
TEST(prctl_get_dumpable_high_bits_notified) { t_expect_notified(&tc_pr_dumpable_hi, __NR_prctl); }
CASE(pr_set_dumpable, NULL, return syscall(SYS_prctl, PR_SET_DUMPABLE, 0, 0, 0, 0));
TEST(prctl_set_dumpable_notified) { t_expect_notified(&tc_pr_set_dumpable, __NR_prctl); }

CASE(pr_set_name, NULL, return syscall(SYS_prctl, PR_SET_NAME, "guest", 0, 0, 0));
TEST(prctl_set_name_passes) { t_expect_ret(&tc_pr_set_name, 0); }

CASE(pers_query, NULL, return syscall(SYS_personality, 0xffffffffUL));
TEST(personality_query_passes) { t_expect_ret(&tc_pers_query, 0); }

CASE(pers_norand, NULL, return syscall(SYS_personality, ADDR_NO_RANDOMIZE));
TEST(personality_change_notified) { t_expect_notified(&tc_pers_norand, __NR_personality); }

/* A nested filter with its own listener would win ties against ours (the
 * newest filter's USER_NOTIF is the one that is delivered) and could
 * CONTINUE emulated calls: audited and refused. */
static long t_seccomp_listener(struct t_ctx *c)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog p = { .len = 1, .filter = &allow };
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		       SECCOMP_FILTER_FLAG_NEW_LISTENER, &p);
}
static const struct t_case tc_seccomp_listener = { "seccomp_listener", NULL,
						    t_seccomp_listener };
TEST(seccomp_new_listener_notified)
{
	t_expect_notified(&tc_seccomp_listener, __NR_seccomp);
}

static long t_seccomp_nested(struct t_ctx *c)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog p = { .len = 1, .filter = &allow };
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p);
}
static const struct t_case tc_seccomp_nested = { "seccomp_nested", NULL, t_seccomp_nested };
TEST(seccomp_nested_filter_passes) { t_expect_ret(&tc_seccomp_nested, 0); }

/* It takes a path: the sentry resolves it (syscalls/sys_inotify.c). */
CASE(inotify_add, NULL, return syscall(SYS_inotify_add_watch, -1, "/", 0));
TEST(inotify_add_watch_notified) { t_expect_notified(&tc_inotify_add, __NR_inotify_add_watch); }

CASE(capset, NULL, return syscall(SYS_capset, NULL, NULL));
TEST(capset_notified_for_audit) { t_expect_notified(&tc_capset, __NR_capset); }

/* i386 getpid through int $0x80: AUDIT_ARCH_I386 -> bad arch -> kill. */
static long t_int80(struct t_ctx *c)
{
	long ret = 20; /* __NR_getpid on i386 */
	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	return ret;
}
static const struct t_case tc_int80 = { "int80", NULL, t_int80 };

/* Does int $0x80 reach the kernel at all here? It does not without
 * IA32_EMULATION, with ia32_emulation=0, or on some paravirtualized
 * hosts, where it faults before seccomp ever sees it. */
static bool t_int80_works(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit nocore = { 0, 0 };
		(void)setrlimit(RLIMIT_CORE, &nocore);
		_exit(t_int80(NULL) == syscall(SYS_getpid) ? 0 : 1);
	}
	int st = 0;
	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       WEXITSTATUS(st) == 0;
}

TEST(i386_int80_killed)
{
	if (!t_int80_works())
		SKIP("int $0x80 does not reach the syscall path on this kernel "
		     "(filter_kills_other_arches covers AUDIT_ARCH_I386)");
	t_expect_killed(&tc_int80);
}

/* x32 getpid: the x86-64 arch with bit 30 in the number. */
CASE(x32, NULL, return syscall(__NR_getpid | X32_SYSCALL_BIT));
TEST(x32_syscall_killed) { t_expect_killed(&tc_x32); }

TEST(listener_is_cloexec)
{
	struct t_result r;
	t_run(&tc_getpid, &r);
	EXPECT_TRUE(r.cloexec);
}

TEST(install_rejects_bad_program)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	EXPECT_EQ(sys_filter_install(NULL, 1), -EINVAL);
	EXPECT_EQ(sys_filter_install(&allow, 0), -EINVAL);
	EXPECT_EQ(sys_filter_build(NULL, NULL), -EINVAL);
}

/* The ptrace platform's filter: every notification a TRACE stop, every
 * other verdict the table's, for every number with plain arguments. */
TEST(trace_variant_turns_only_notifications_into_trace)
{
	t_build();
	struct sock_filter *tp = NULL;
	unsigned short tlen = 0;
	ASSERT_EQ(sys_filter_trace_variant(t_prog, t_prog_len, &tp, &tlen), 0);
	ASSERT_EQ(tlen, t_prog_len);
	int notified = 0;
	for (int nr = 0; nr < 460; nr++) {
		const uint64_t args[6] = { 0 };
		struct seccomp_data d = { .nr = nr, .arch = AUDIT_ARCH_X86_64 };
		memcpy(d.args, args, sizeof(d.args));
		uint32_t a = t_bpf_run(t_prog, t_prog_len, &d), b = t_bpf_run(tp, tlen, &d);
		if ((a & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_USER_NOTIF) {
			EXPECT_EQ(b, SECCOMP_RET_TRACE);
			notified++;
		} else {
			EXPECT_EQ(b, a);
		}
	}
	EXPECT_TRUE(notified > 50);
	free(tp);
}

/* A --seccomp-profile on the ptrace platform: exactly the installing calls
 * are allowed ahead of it, everything else is the profile's verdict. */
TEST(profile_prefix_allows_only_the_fd_install_calls)
{
	const struct sock_filter deny[] = {
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
	};
	struct sock_filter *p = NULL;
	unsigned short len = 0;
	ASSERT_EQ(sys_filter_profile_for_ptrace(deny, 1, &p, &len), 0);
	struct {
		uint32_t arch;
		int nr;
		uint64_t a0, a1, a2;
		bool allowed;
	} cases[] = {
		{ AUDIT_ARCH_X86_64, __NR_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, true },
		{ AUDIT_ARCH_X86_64, __NR_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, false },
		{ AUDIT_ARCH_X86_64, __NR_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0, false },
		{ AUDIT_ARCH_X86_64, __NR_recvmsg, 3, 0, MSG_DONTWAIT, true },
		{ AUDIT_ARCH_X86_64, __NR_recvmsg, 3, 0, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, true },
		{ AUDIT_ARCH_X86_64, __NR_recvmsg, 3, 0, 0, false },
		{ AUDIT_ARCH_X86_64, __NR_socketpair, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, true },
		{ AUDIT_ARCH_X86_64, __NR_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, false },
		{ AUDIT_ARCH_X86_64, __NR_socketpair, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0, false },
		{ AUDIT_ARCH_X86_64, __NR_fcntl, 5, F_DUPFD_CLOEXEC, 1000, true },
		{ AUDIT_ARCH_X86_64, __NR_fcntl, 5, F_SETFL, 0, false },
		{ AUDIT_ARCH_X86_64, __NR_dup3, 5, 1000, O_CLOEXEC, true },
		{ AUDIT_ARCH_X86_64, __NR_dup3, 5, 3, 0, true },
		{ AUDIT_ARCH_X86_64, __NR_dup3, 5, 3, 1, false },
		{ AUDIT_ARCH_X86_64, __NR_close, 5, 0, 0, true },
		{ AUDIT_ARCH_X86_64, __NR_close_range, 5, 6, 0, true },
		{ AUDIT_ARCH_X86_64, __NR_close_range, 5, 6, 4, false },
		{ AUDIT_ARCH_X86_64, __NR_dup2, 5, 6, 0, false },
		{ AUDIT_ARCH_X86_64, __NR_getpid, 0, 0, 0, false },
		{ AUDIT_ARCH_I386, __NR_socket, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct seccomp_data d = { .nr = cases[i].nr, .arch = cases[i].arch,
					  .args = { cases[i].a0, cases[i].a1, cases[i].a2 } };
		uint32_t got = t_bpf_run(p, len, &d);
		EXPECT_EQ(got, cases[i].allowed ? SECCOMP_RET_ALLOW : (SECCOMP_RET_ERRNO | EPERM));
	}
	free(p);
}
