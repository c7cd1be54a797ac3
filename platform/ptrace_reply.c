/* SPDX-License-Identifier: MIT */
/* The ptrace platform's answers (platform.h's req_* calls). Each runs on
 * the tracer thread (ptrace_call) while the task waits in its seccomp stop:
 *  - a value: orig_rax = -1 (the kernel skips the call) and rax = the value,
 *    in one PTRACE_SETREGS at the seccomp stop; x86-64 leaves rax alone for
 *    a skipped call, so no syscall-exit stop is needed (Linux 4.8+, where
 *    seccomp runs after the ptrace entry report);
 *  - CONTINUE: resume unchanged; the kernel runs the filter again, and a
 *    TRACE verdict on that re-check means ALLOW, so the call runs. It re-reads
 *    guest memory like the notify platform's CONTINUE: the same rule applies
 *    (registers-only decisions);
 *  - an fd: the call is replaced by a recvmsg on the process's receiving
 *    socket (ptrace_fd.c); where the number the fd will get is known
 *    (one thread, a table nobody shares) the payload's length is that
 *    number and the call's result, and the task just runs on (one stop);
 *    else a single step after it and its number made the result (two);
 *  - a cancelled wait: -ERESTARTSYS set at the call's exit stop with the
 *    call's number back in orig_rax, plus PTRACE_INTERRUPT so that the thread
 *    passes through the kernel's signal path: Linux's EINTR or restart;
 *  - clone: resumed with PTRACE_SYSCALL, so the tracer sees the fork event
 *    (the new task held at its first stop, the creator at its event until
 *    the handler registered it) or the call's end (nothing made);
 *  - exec: the binary's fd installed, "" and argv written below the stack's
 *    red zone, and execveat injected as a fresh call; checked at the exec
 *    event as on the notify platform (ptrace_exec.c, exec_matches). */
#include "platform/ptrace_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "common/log.h"
#include "common/util.h"
#include "platform/exec_arena.h"

#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTART_RESTARTBLOCK 516

/* After injected calls during which the group stopped: an interrupt, whose
 * stop reports the group-stop again if it still holds (the main loop then
 * leaves the thread in it with PTRACE_LISTEN), else SIGTRAP (resumed). */
static void restop(const struct tracee *tr)
{
	if (tr->group_stopped)
		(void)ptrace(PTRACE_INTERRUPT, tr->tid, 0, 0);
}

static int resume_with(struct ptracee *t, struct user_regs_struct *regs, long val)
{
	regs->orig_rax = (uint64_t)-1;
	regs->rax = (uint64_t)val;
	t->id = 0;
	if (ptrace(PTRACE_SETREGS, t->tid, 0, regs) < 0 || ptrace(PTRACE_CONT, t->tid, 0, 0) < 0)
		return -ENOENT;
	return 0;
}

static int do_reply(struct ptracee *t, void *arg)
{
	struct user_regs_struct regs = t->regs;
	return resume_with(t, &regs, *(long *)arg);
}

/* Posted: the worker goes back to its queue while the tracer resumes the
 * task (the dispatcher never looks at the outcome). */
int ptrace_op_reply(struct sysreq *r, long val)
{
	r->replied = true;
	return ptrace_post(r, do_reply, val);
}

static int do_continue(struct ptracee *t, void *arg)
{
	(void)arg;
	t->id = 0;
	return ptrace(PTRACE_CONT, t->tid, 0, 0) < 0 ? -ENOENT : 0;
}

int ptrace_op_continue(struct sysreq *r)
{
	r->replied = true;
	return ptrace_post(r, do_continue, 0);
}

static struct tracee tracee_of(struct ptracee *t)
{
	return (struct tracee){ .tid = t->tid, .tgid = ptracee_tgid(t), .wait = ptrace_wait_for };
}

struct fd_arg {
	int fd;
	bool cloexec;
};

static int do_reply_fd(struct ptracee *t, void *arg)
{
	struct fd_arg *a = arg;
	struct tracee tr = tracee_of(t);
	int fast = ptrace_install_fd_fast(t, &tr, a->fd, a->cloexec);
	if (fast >= 0)
		return fast;
	if (fast == -ESRCH)
		return -ENOENT;
	if (fast == -EMFILE) {
		struct user_regs_struct regs = t->regs;
		return resume_with(t, &regs, -EMFILE) < 0 ? -ENOENT : -EMFILE;
	}
	uint64_t mask;
	int n = ptrace_install_fd_at_entry(t, &tr, &mask, a->fd, a->cloexec);
	if (n == -ESRCH)
		return -ENOENT;
	struct user_regs_struct regs = t->regs;
	if (ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(mask), &mask) < 0)
		return -ENOENT;
	int rc = resume_with(t, &regs, n);
	restop(&tr);
	return rc < 0 ? rc : n;
}

int ptrace_op_reply_fd(struct sysreq *r, int fd, bool cloexec)
{
	struct fd_arg a = { fd, cloexec };
	int n = ptrace_call(r, do_reply_fd, &a);
	/* Answered either way (an error too), unless the task is gone. */
	if (n != -ENOENT)
		r->replied = true;
	return n;
}

struct fd_at_arg {
	int fd, target;
	bool cloexec;
	long val;
};

/* ptrace cannot place an fd at a number: the fd arrives at the lowest free
 * one (ptrace_fd.c), an injected dup3 moves it to the target (closing what
 * was there, as SETFD does) and a close drops the first number. A sibling
 * thread meddling meanwhile changes only which of the guest's own numbers
 * hold the socket. */
static int do_reply_fd_at(struct ptracee *t, void *arg)
{
	struct fd_at_arg *a = arg;
	struct tracee tr = tracee_of(t);
	uint64_t mask;
	int n = ptrace_install_fd_at_entry(t, &tr, &mask, a->fd, a->cloexec);
	if (n == -ESRCH)
		return -ENOENT;
	long val = a->val, ret = 0;
	if (n >= 0 && n != a->target) {
		int rc = tracee_inject_call(&tr, &t->regs, SYS_dup3, (uint64_t)n, (uint64_t)a->target,
					    a->cloexec ? O_CLOEXEC : 0, 0, 0, &ret);
		if (rc == 0)
			rc = tracee_inject_call(&tr, &t->regs, SYS_close, (uint64_t)n, 0, 0, 0, 0, &(long){ 0 });
		if (rc == -ESRCH)
			return -ENOENT;
		if (ret < 0)
			val = ret;
	} else if (n < 0) {
		val = n;
	}
	struct user_regs_struct regs = t->regs;
	if (ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(mask), &mask) < 0)
		return -ENOENT;
	int rc = resume_with(t, &regs, val);
	restop(&tr);
	return rc < 0 ? rc : 0;
}

int ptrace_op_reply_fd_at(struct sysreq *r, int fd, int target, bool cloexec, long val)
{
	struct fd_at_arg a = { fd, target, cloexec, val };
	int n = ptrace_call(r, do_reply_fd_at, &a);
	if (n != -ENOENT)
		r->replied = true;
	return n;
}

static int do_restart(struct ptracee *t, void *arg)
{
	(void)arg;
	struct tracee tr = tracee_of(t);
	struct user_regs_struct regs = t->regs;
	regs.orig_rax = (uint64_t)-1;
	regs.rax = (uint64_t)-EINTR;
	t->id = 0;
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0 || ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0)
		return -ENOENT;
	for (;;) {
		int st;
		pid_t p = ptrace_wait_for(&tr, &st);
		if (p < 0 || !WIFSTOPPED(st))
			return -ENOENT;
		if (WSTOPSIG(st) == (SIGTRAP | 0x80))
			break; /* the skipped call's exit */
		/* Nothing else comes first; resume whatever it is. */
		int sig = (st >> 16) ? 0 : WSTOPSIG(st);
		if (ptrace(PTRACE_SYSCALL, t->tid, 0, sig) < 0)
			return -ENOENT;
	}
	regs = t->regs;
	regs.rax = (uint64_t)-ERESTARTSYS; /* orig_rax: the call's number again */
	if (ptrace(PTRACE_SETREGS, t->tid, 0, &regs) < 0)
		return -ENOENT;
	/* Without TIF_SIGPENDING the kernel would not look at rax: the
	 * interrupt's stop (in get_signal) guarantees it does. */
	(void)ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
	return ptrace(PTRACE_CONT, t->tid, 0, 0) < 0 ? -ENOENT : 0;
}

int ptrace_op_restart(struct sysreq *r)
{
	r->replied = true;
	return ptrace_call(r, do_restart, NULL);
}

/* --- clone -------------------------------------------------------------- */

static int do_follow_start(struct ptracee *t, void *arg)
{
	t->follow = arg;
	if (ptrace(PTRACE_SYSCALL, t->tid, 0, 0) < 0) {
		t->follow = NULL;
		return -ENOENT;
	}
	return 0;
}

struct release_arg {
	uint64_t id;
	pid_t child;
	bool kill;
};

static int do_follow_release(struct ptracee *t, void *arg)
{
	struct release_arg *a = arg;
	struct ptracee *c = ptracee_find(a->child);
	if (a->kill)
		(void)kill(a->child, SIGKILL); /* fail closed */
	if (c)
		ptracee_release(c);
	if (t && t->id == a->id) {
		t->id = 0;
		(void)ptrace(PTRACE_CONT, t->tid, 0, 0);
	}
	return 0;
}

int ptrace_op_follow_clone(struct sysreq *r, const struct clone_follow *f)
{
	struct ptrace_follow pf = { 0 };
	if (ptrace_call(r, do_follow_start, &pf) < 0)
		return -ESRCH;
	r->replied = true;
	ptrace_follow_wait(&pf);
	if (pf.result < 0)
		return pf.result;
	if (!pf.child)
		return 0; /* the call failed: nothing was made */
	int rc = f->on_child(f->ctx, pf.child);
	struct release_arg a = { .id = r->id, .child = pf.child, .kill = rc < 0 };
	(void)ptrace_call_tid(r->tid, 0, do_follow_release, &a);
	return rc;
}

/* --- exec --------------------------------------------------------------- */

struct exec_arg {
	struct exec_image *img;
	int mem;        /* a sealed memfd with the image for want, or -1 */
	uint64_t want;
	size_t len;
	uint64_t mask;
	pid_t tid;      /* where the task is now (the leader's after an exec) */
	int result;
	bool group_stopped;
};

/* Kill the task before it runs another instruction and wait for its end. */
static int exec_kill(struct tracee *tr, struct exec_arg *a)
{
	tracee_kill(tr);
	a->result = REQ_EXEC_KILLED;
	return 0;
}

static int do_exec_run(struct ptracee *t, void *arg)
{
	struct exec_arg *a = arg;
	struct exec_image *img = a->img;
	struct tracee tr = { .tid = t->tid, .tgid = img->tgid, .wait = ptrace_wait_for };
	const struct user_regs_struct saved = t->regs;
	if (ptrace_skip_call(t, &tr, &a->mask) < 0)
		return -ESRCH;
	/* The image as on the notify platform (docs/architecture.md, "Exec"):
	 * a sealed memfd mapped read-only at a random address, or, for a
	 * process that shares its memory (vfork), below the stack. */
	int mfd = -EBADF;
	if (a->mem >= 0 && (mfd = ptrace_install_fd(&tr, &saved, a->mem, true)) == -ESRCH)
		return -ESRCH;
	int gfd = mfd < 0 && a->mem >= 0 ? mfd : ptrace_install_fd(&tr, &saved, img->hostfd, true);
	if (gfd == -ESRCH)
		return -ESRCH;
	int rc = gfd < 0 ? gfd : 0, st;
	long v;
	uint64_t base = 0, mapped = 0;
	if (rc == 0 && a->mem < 0)
		rc = exec_image_on_stack(&tr, &saved, img, &base);
	else if (rc == 0 && (rc = exec_image_map(&tr, &saved, img, mfd, a->want, a->len, &mapped)) == -ESRCH)
		return rc;
	if (mapped)
		base = mapped;
	if (rc == 0) {
		struct user_regs_struct regs = saved;
		regs.rax = SYS_execveat;
		regs.rdi = (uint64_t)gfd;
		regs.rsi = base;
		regs.rdx = base + 8;
		regs.r10 = img->envp;
		regs.r8 = AT_EMPTY_PATH;
		if ((st = tracee_inject(&tr, &saved, &regs)) < 0)
			return st;
		if ((st >> 16) == PTRACE_EVENT_EXEC) {
			if (tr.tid != t->tid)
				ptracee_rekey(t, tr.tid);
			a->tid = tr.tid;
			if (!exec_matches(&tr, img))
				return exec_kill(&tr, a);
			a->result = 0;
			a->group_stopped = tr.group_stopped;
			return 0; /* held at the event until the handler is done */
		}
		if ((st = tracee_result(&tr, &v)) < 0)
			return st;
		rc = v < 0 && v > -4096 ? (int)v : -EIO;
		/* Cut short before it ran (a stop signal): start over. */
		if (-rc >= ERESTARTSYS && -rc <= ERESTART_RESTARTBLOCK)
			rc = -ERESTARTNOINTR;
	}
	/* The exec did not happen: undo what the guest got, and give every
	 * register back with the error as the execve's result. */
	if (mapped && (st = tracee_inject_call(&tr, &saved, SYS_munmap, mapped, a->len, 0, 0, 0, &v)) < 0)
		return st;
	if (mfd >= 0 && (st = tracee_inject_call(&tr, &saved, SYS_close, (uint64_t)mfd, 0, 0, 0, 0, &v)) < 0)
		return st;
	if (gfd >= 0 && (st = tracee_inject_call(&tr, &saved, SYS_close, (uint64_t)gfd, 0, 0, 0, 0, &v)) < 0)
		return st;
	struct user_regs_struct regs = saved;
	regs.rax = (uint64_t)(long)rc; /* orig_rax: the execve, for a restart */
	if (ptrace(PTRACE_SETREGS, tr.tid, 0, &regs) < 0)
		return -ESRCH;
	a->tid = tr.tid;
	a->result = rc;
	a->group_stopped = tr.group_stopped;
	return 0;
}

static int do_exec_resume(struct ptracee *t, void *arg)
{
	struct exec_arg *a = arg;
	if (!t)
		return -ESRCH;
	t->id = 0;
	if (ptrace(PTRACE_SETSIGMASK, t->tid, sizeof(a->mask), &a->mask) < 0 ||
	    ptrace(PTRACE_CONT, t->tid, 0, 0) < 0)
		return -ESRCH;
	if (a->group_stopped)
		(void)ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
	return 0;
}

int ptrace_op_exec(struct sysreq *r, struct exec_image *img)
{
	struct exec_arg a = { .img = img, .mem = -1, .tid = r->tid };
	/* No exec arena on this platform (nothing maps one at a fork). */
	if (!img->mm_shared) {
		a.want = exec_image_address(exec_image_len(img));
		if ((a.mem = exec_image_memfd(img, a.want, &a.len)) < 0)
			return a.mem == -ESRCH ? -EIO : a.mem;
	}
	int rc = ptrace_call(r, do_exec_run, &a);
	safe_close(a.mem);
	if (rc == -ENOENT)
		return -ESRCH; /* gone before anything was done */
	r->replied = true;
	if (rc < 0)
		return -ESRCH;
	if (a.result == REQ_EXEC_KILLED) {
		if (img->finish)
			img->finish(img->ctx, REQ_EXEC_KILLED);
		return REQ_EXEC_KILLED;
	}
	if (img->finish)
		img->finish(img->ctx, a.result);
	if (ptrace_call_tid(a.tid, 0, do_exec_resume, &a) < 0)
		return -ESRCH;
	return a.result;
}

void ptrace_op_done(struct sysreq *r)
{
	/* A handler that answered nothing (its task went away meanwhile):
	 * never leave a live task stopped. */
	if (!r->replied)
		(void)ptrace_op_reply(r, -ESRCH);
}
