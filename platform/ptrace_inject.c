/* SPDX-License-Identifier: MIT */
/* Running syscalls in a stopped tracee (ptrace_inject.h). The registers are
 * set to the call at the syscall instruction the tracee stopped after
 * (rip - 2: it stopped in or right after a syscall), so no code of ours is
 * ever placed in the guest. */
#include "platform/ptrace_inject.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "common/util.h"

int tracee_next_stop(struct tracee *tr, int resume_req, enum stop_kind kind)
{
	for (;;) {
		int st;
		/* This worker thread traces exactly one task and has no children
		 * (__WNOTHREAD), so any event is our tracee's. Waiting by tid would
		 * hang on an exec from a non-leader thread, which takes over the
		 * leader's tid in the middle of the exec. */
		pid_t p = tr->wait ? tr->wait(tr, &st) : waitpid(-1, &st, __WALL | __WNOTHREAD);
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
		int sig = WSTOPSIG(st), event = (unsigned)st >> 16;
		if (event == PTRACE_EVENT_EXEC)
			return st;
		if (event == PTRACE_EVENT_STOP && kind == STOP_INTERRUPT)
			return st;
		/* The trap that ends a single step over a syscall: the signal
		 * is dropped when the tracee is resumed. Any other SIGTRAP is
		 * blocked meanwhile. */
		if (!event && sig == SIGTRAP && kind == STOP_STEP)
			return st;
		/* A group-stop (run on: detaching puts the thread back into it),
		 * or a signal-delivery-stop. With every blockable signal blocked
		 * that is SIGSTOP or a synchronous signal: deliver it. */
		if (event == PTRACE_EVENT_STOP &&
		    (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU))
			tr->group_stopped = true;
		if (event)
			sig = 0;
		if (ptrace(resume_req, tr->tid, 0, sig) < 0)
			return -ESRCH;
	}
}

int tracee_gone(struct tracee *tr)
{
	while (tracee_next_stop(tr, PTRACE_CONT, STOP_EXIT) >= 0)
		;
	return -ESRCH;
}

void tracee_release(pid_t tid, int sig)
{
	while (ptrace(PTRACE_DETACH, tid, 0, (void *)(long)sig) < 0 && errno == ESRCH) {
		int st;
		pid_t p = waitpid(tid, &st, __WALL | __WNOTHREAD);
		if (p < 0 && errno == EINTR)
			continue;
		if (p != tid || !WIFSTOPPED(st))
			return; /* gone (or never ours) */
		/* A stop after all: detach from it, with its signal if it is a
		 * signal-delivery-stop. */
		sig = (st >> 16) ? 0 : WSTOPSIG(st);
	}
}

void tracee_kill(struct tracee *tr)
{
	(void)kill(tr->tgid, SIGKILL);
	if (tr->tid != tr->tgid)
		(void)kill(tr->tid, SIGKILL);
	(void)tracee_gone(tr);
}

/* A single step over the syscall instruction costs one stop (PTRACE_SYSCALL
 * would cost two). */
int tracee_inject(struct tracee *tr, const struct user_regs_struct *saved,
		  struct user_regs_struct *regs)
{
	regs->rip = saved->rip - 2;
	regs->orig_rax = regs->rax;
	if (ptrace(PTRACE_SETREGS, tr->tid, 0, regs) < 0 || ptrace(PTRACE_SINGLESTEP, tr->tid, 0, 0) < 0)
		return tracee_gone(tr);
	return tracee_next_stop(tr, PTRACE_SINGLESTEP, STOP_STEP);
}

int tracee_result(struct tracee *tr, long *ret)
{
	errno = 0;
	long v = ptrace(PTRACE_PEEKUSER, tr->tid, offsetof(struct user_regs_struct, rax), 0);
	if (errno)
		return tracee_gone(tr);
	*ret = v;
	return 0;
}

int tracee_inject_call(struct tracee *tr, const struct user_regs_struct *saved, long nr,
		       uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		       long *ret)
{
	struct user_regs_struct regs = *saved;
	regs.rax = (uint64_t)nr;
	regs.rdi = a0, regs.rsi = a1, regs.rdx = a2, regs.r10 = a3, regs.r8 = a4, regs.r9 = 0;
	int st = tracee_inject(tr, saved, &regs);
	if (st < 0)
		return st;
	if ((st >> 16) == PTRACE_EVENT_EXEC) /* cannot be: fail closed */
		return tracee_kill(tr), -ESRCH;
	return tracee_result(tr, ret);
}

