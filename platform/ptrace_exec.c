/* SPDX-License-Identifier: MIT */
/* See ptrace_exec.h. Pitfalls this code handles (all seen on this kernel):
 *  - the thread waits killably in its notification (WAIT_KILLABLE_RECV), so
 *    PTRACE_INTERRUPT stops it only once ADDFD|SEND has completed the call;
 *  - a rewritten call must be a fresh syscall (rip -= 2) so seccomp checks
 *    it again; the sentry answers that notification with CONTINUE only for
 *    exactly the fd and "" it armed;
 *  - a failed exec must restore every register and close the fd it got;
 *  - signals that arrive meanwhile are re-sent after detaching;
 *  - exec from a non-leader thread completes on the leader's tid. */
#include "ptrace_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "platform.h"

#define RED_ZONE 128

struct tracee {
	pid_t tid, tgid;
	int pending[8];
	int npending;
};

/* Wait for the next stop of interest, parking any signal that is not ours.
 * resume_req says how to let the tracee go on after a parked signal.
 * Returns the wait status or -errno (-ESRCH: it died). */
static int next_stop(struct tracee *tr, int resume_req)
{
	for (;;) {
		int st;
		/* This worker thread traces exactly one task and has no children
		 * (__WNOTHREAD), so any event is our tracee's. Waiting by tid would
		 * hang on an exec from a non-leader thread, which takes over the
		 * leader's tid in the middle of the exec. */
		pid_t p = waitpid(-1, &st, __WALL | __WNOTHREAD);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD ? -ESRCH : neg_errno();
		}
		tr->tid = p;
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return -ESRCH;
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st), event = st >> 16;
		if (sig == (SIGTRAP | 0x80) || event)
			return st;
		/* A signal-delivery-stop: keep the signal for after the exec. */
		if (tr->npending < (int)ARRAY_SIZE(tr->pending))
			tr->pending[tr->npending++] = sig;
		if (ptrace(resume_req, tr->tid, 0, 0) < 0)
			return -ESRCH;
	}
}

static void detach(struct tracee *tr)
{
	(void)ptrace(PTRACE_DETACH, tr->tid, 0, 0);
	for (int i = 0; i < tr->npending; i++)
		(void)syscall(SYS_tgkill, tr->tgid, tr->tid, tr->pending[i]);
}

/* Let go of a tracee that is not in a stop: PTRACE_DETACH cannot, so wait
 * for its next stop and detach there, or for its exit. A tracee that died
 * (a fatal signal ends the killable wait of its notification) must be
 * waited for by its tracer: a traced zombie is reported to its parent only
 * then, and without it the parent's wait (a shell's `wait`) hangs. */
static void release(struct tracee *tr)
{
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, __WALL | __WNOTHREAD);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0 || WIFEXITED(st) || WIFSIGNALED(st))
			return;
		if (!WIFSTOPPED(st))
			continue;
		tr->tid = p;
		int sig = WSTOPSIG(st);
		if (sig != (SIGTRAP | 0x80) && !(st >> 16) && tr->npending < (int)ARRAY_SIZE(tr->pending))
			tr->pending[tr->npending++] = sig;
		detach(tr);
		return;
	}
}

/* Lay out "" and, for a rewrite, the new argv below the red zone. */
static int write_scratch(struct sysreq *r, struct ptrace_exec *pe, uint64_t rsp,
			 uint64_t *ret_empty, uint64_t *ret_argv)
{
	char buf[8192];
	size_t off = 0;
	buf[off++] = 0; /* the "" path */
	size_t str_off[8];
	for (int i = 0; i < pe->nprefix; i++) {
		size_t l = strlen(pe->prefix[i]) + 1;
		if (off + l > sizeof(buf) / 2)
			return -E2BIG;
		str_off[i] = off;
		memcpy(buf + off, pe->prefix[i], l);
		off += l;
	}
	off = (off + 7) & ~7UL;
	size_t nptr = pe->nprefix ? pe->nprefix + pe->ntail + 1 : 0;
	size_t total = off + nptr * 8;
	/* Pointers for the tail may be many: write them separately. */
	uint64_t base = (rsp - RED_ZONE - total) & ~15UL;
	if (pe->nprefix) {
		uint64_t ptrs[8];
		for (int i = 0; i < pe->nprefix; i++)
			ptrs[i] = base + str_off[i];
		memcpy(buf + off, ptrs, pe->nprefix * 8);
		ssize_t w = req_write(r, base, buf, off + pe->nprefix * 8);
		if (w < 0)
			return (int)w;
		uint64_t tail_at = base + off + pe->nprefix * 8;
		if (pe->ntail && (w = req_write(r, tail_at, pe->tail, pe->ntail * 8)) < 0)
			return (int)w;
		uint64_t nul = 0;
		if ((w = req_write(r, tail_at + pe->ntail * 8, &nul, 8)) < 0)
			return (int)w;
		*ret_argv = base + off;
	} else {
		ssize_t w = req_write(r, base, buf, 1);
		if (w < 0)
			return (int)w;
		*ret_argv = pe->argv;
	}
	*ret_empty = base;
	return 0;
}

/* Re-issue a syscall from a stop after syscall exit and run it to its exit. */
static int run_injected(struct tracee *tr, struct user_regs_struct *regs)
{
	regs->rip -= 2;
	if (ptrace(PTRACE_SETREGS, tr->tid, 0, regs) < 0 || ptrace(PTRACE_SYSCALL, tr->tid, 0, 0) < 0)
		return -ESRCH;
	int st = next_stop(tr, PTRACE_SYSCALL); /* entry */
	if (st < 0)
		return st;
	if (ptrace(PTRACE_SYSCALL, tr->tid, 0, 0) < 0)
		return -ESRCH;
	return next_stop(tr, PTRACE_SYSCALL); /* exit, or an exec event */
}

static int exec_traced(struct sysreq *r, struct ptrace_exec *pe, struct tracee *tr);

int ptrace_exec_run(struct sysreq *r, struct ptrace_exec *pe)
{
	struct tracee tr = { .tid = r->tid, .tgid = pe->tgid };
	int rc = exec_traced(r, pe, &tr);
	/* -ESRCH: a ptrace request failed because the tracee left its stop
	 * (it was killed) or next_stop() saw it exit (then release() finds
	 * nothing to wait for). */
	if (rc == -ESRCH)
		release(&tr);
	return rc;
}

static int exec_traced(struct sysreq *r, struct ptrace_exec *pe, struct tracee *tr)
{
	if (ptrace(PTRACE_SEIZE, tr->tid, 0,
		   PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL) < 0)
		return errno == ESRCH ? -ESRCH : neg_errno();
	if (ptrace(PTRACE_INTERRUPT, tr->tid, 0, 0) < 0) {
		detach(tr);
		return -ESRCH;
	}
	int gfd = req_reply_fd(r, pe->hostfd, true);
	if (gfd < 0) {
		/* The tracee is still in its notification (it cannot stop for
		 * the interrupt before it is answered) or was killed in it. */
		if (gfd != -ENOENT && !r->replied)
			(void)req_reply(r, gfd);
		release(tr);
		return gfd;
	}
	int st = next_stop(tr, PTRACE_CONT);
	if (st < 0)
		return st;
	struct user_regs_struct saved, regs;
	if (ptrace(PTRACE_GETREGS, tr->tid, 0, &saved) < 0)
		return -ESRCH;
	if ((long)saved.rax != gfd) {
		/* Not stopped where we expect: give up on this exec cleanly. */
		log_warnx("exec: tracee %d stopped with rax %lld, expected %d", tr->tid,
			  (long long)saved.rax, gfd);
		detach(tr);
		return -EIO;
	}
	uint64_t empty = 0, argv = 0;
	int rc = write_scratch(r, pe, saved.rsp, &empty, &argv);
	regs = saved;
	if (rc == 0) {
		if (pe->arm)
			pe->arm(pe->ctx, gfd, empty);
		regs.rax = regs.orig_rax = SYS_execveat;
		regs.rdi = (uint64_t)gfd;
		regs.rsi = empty;
		regs.rdx = argv;
		regs.r10 = pe->envp;
		regs.r8 = AT_EMPTY_PATH;
		st = run_injected(tr, &regs);
		if (st < 0)
			return st;
		if ((st >> 16) == PTRACE_EVENT_EXEC) {
			detach(tr);
			return 0;
		}
		if (ptrace(PTRACE_GETREGS, tr->tid, 0, &regs) < 0)
			return -ESRCH;
		rc = (int)(long)regs.rax;
		if (rc >= 0)
			rc = -EIO;
	}
	/* The exec did not happen: close the fd we gave, then restore every
	 * register with the error as the execve's result. */
	regs = saved;
	regs.rax = regs.orig_rax = SYS_close;
	regs.rdi = (uint64_t)gfd;
	st = run_injected(tr, &regs);
	if (st < 0)
		return st;
	saved.rax = (uint64_t)(long)rc;
	if (ptrace(PTRACE_SETREGS, tr->tid, 0, &saved) < 0)
		return -ESRCH;
	detach(tr);
	return rc;
}
