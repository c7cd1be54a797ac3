/* SPDX-License-Identifier: MIT */
/* Answering a call whose wait a signal cancelled (see sentry/kernel/wait.c)
 * with Linux's own semantics: the result is -ERESTARTSYS, and the kernel,
 * on the way back to user mode, either delivers the signal (EINTR, or a
 * restart after the handler if it has SA_RESTART) or, if no signal is
 * deliverable any more, restarts the call.
 *
 * That kernel path runs only when the thread has TIF_SIGPENDING. A signal
 * sent to the thread itself sets it, but one sent to its process may have
 * woken a sibling instead, and a bare -ERESTARTSYS would then reach the
 * guest as errno 512. So the reply is bracketed by a brief ptrace
 * attachment: PTRACE_INTERRUPT sets TIF_SIGPENDING, the thread stops in
 * get_signal() right after the reply (a PTRACE_EVENT_STOP), and once we
 * detach the kernel goes on to deliver or to restart. If the thread cannot
 * be traced, the answer is a plain -EINTR: never an errno Linux would not
 * give. */
#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "platform/platform.h"
#include "platform/ptrace_inject.h"

#ifndef ERESTARTSYS
#define ERESTARTSYS 512
#endif

int notify_reply_restart(struct sysreq *r)
{
	pid_t tid = r->tid;
	if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0)
		return notify_reply(r, -EINTR);
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
		tracee_release(tid, 0);
		return notify_reply(r, -EINTR);
	}
	int rc = notify_reply(r, -ERESTARTSYS);
	for (;;) {
		int st;
		/* __WNOTHREAD: this worker traces exactly this one thread. */
		pid_t p = waitpid(tid, &st, __WALL | __WNOTHREAD);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			return rc; /* gone */
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return rc;
		if (!WIFSTOPPED(st))
			continue;
		/* The interrupt's stop, or a signal-delivery-stop if a signal
		 * was dequeued first: detach with that signal so that it is
		 * delivered as if we had never been here. */
		int sig = (st >> 16) ? 0 : WSTOPSIG(st);
		tracee_release(tid, sig);
		return rc;
	}
}
