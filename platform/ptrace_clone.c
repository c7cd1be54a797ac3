/* SPDX-License-Identifier: MIT */
/* Following a clone, fork or vfork to the task it creates (platform.h,
 * req_follow_clone). The new task's first notification cannot tell which
 * thread made it (PPid names a process, and CLONE_PARENT names another), so
 * the sentry watches the call itself. Seen on this kernel:
 *  - the creating thread waits killably in its notification; it is seized
 *    with the fork/vfork/clone events and interrupted, so that it stops
 *    whatever the call does. The pending interrupt makes copy_process()
 *    restart the call (-ERESTARTNOINTR) unless the kernel was already past
 *    its check, so the CONTINUE usually ends at the interrupt stop with a
 *    restart pending;
 *  - from that stop the thread is resumed with PTRACE_SYSCALL: the restarted
 *    call stops at its entry, then passes the filter again, and its
 *    notification is answered with CONTINUE because the handler armed it
 *    (the registers are the ones already checked: the thread ran no user
 *    code since). Now it stops at the event (a new task) or at its exit (an
 *    error, nothing was created);
 *  - at the event, PTRACE_GETEVENTMSG gives the new tid. The new task is
 *    auto-attached and stops before its first instruction: it is registered
 *    then, so no notification of it can come first, and let go. Detaching
 *    the creator at its event stop leaves nothing pending, and a vfork
 *    parent then waits for its child untraced;
 *  - a signal meanwhile: the thread is let go with it, unarmed; the call's
 *    restart then comes as a fresh notification and starts over.
 * A worker thread traces one task at a time and waits by tid with
 * __WNOTHREAD, so it never sees another worker's tracees. */
#include "platform.h"

#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

/* The kernel's restart codes (not in the uapi headers). */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTART_RESTARTBLOCK 516

/* Wait for a stop (or the end) of tracee tid. Returns the status or -ESRCH. */
static int wait_tracee(pid_t tid)
{
	for (;;) {
		int st;
		if (waitpid(tid, &st, __WALL | __WNOTHREAD) == tid)
			return WIFSTOPPED(st) ? st : -ESRCH;
		if (errno != EINTR)
			return -ESRCH;
	}
}

static bool is_syscall_stop(int st) { return WSTOPSIG(st) == (SIGTRAP | 0x80); }

/* Let a stopped tracee go, giving back a signal it stopped for. */
static void let_go(pid_t tid, int st)
{
	int sig = 0;
	if ((st >> 16) == 0 && !is_syscall_stop(st))
		sig = WSTOPSIG(st); /* a signal-delivery-stop */
	(void)ptrace(PTRACE_DETACH, tid, 0, (void *)(long)sig);
}

/* A signal interrupted the restarted call in its notification wait (the
 * filter answers -ERESTARTSYS until the sentry has received it): like the
 * kernel's own fork, restart it whatever the signal's SA_RESTART says, so
 * the guest never sees EINTR from fork. */
static int restart_noint(pid_t tid)
{
	struct user_regs_struct regs;
	if (ptrace(PTRACE_GETREGS, tid, 0, &regs) < 0)
		return -ESRCH;
	regs.rax = (uint64_t)-ERESTARTNOINTR;
	return ptrace(PTRACE_SETREGS, tid, 0, &regs) < 0 ? -ESRCH : 0;
}

static int on_event(pid_t tid, int st, const struct clone_follow *f)
{
	unsigned long msg = 0;
	if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) < 0)
		return -ESRCH;
	pid_t child = (pid_t)msg;
	/* The child's first stop comes before its first instruction. */
	int cst = wait_tracee(child), rc = 0;
	if (cst >= 0) {
		rc = f->on_child(f->ctx, child);
		if (rc < 0)
			(void)kill(child, SIGKILL); /* fail closed */
		let_go(child, cst);
	}
	let_go(tid, st);
	return rc;
}

int req_follow_clone(struct sysreq *r, const struct clone_follow *f)
{
	pid_t tid = r->tid;
	if (ptrace(PTRACE_SEIZE, tid, 0,
		   PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
			   PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
		return errno == ESRCH ? -ESRCH : neg_errno();
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
		(void)ptrace(PTRACE_DETACH, tid, 0, 0);
		return -ESRCH;
	}
	int rc = req_reply_continue(r);
	if (rc < 0) {
		/* The notification is gone: the thread is being killed. */
		(void)ptrace(PTRACE_DETACH, tid, 0, 0);
		return rc;
	}
	bool armed = false;
	for (;;) {
		int st = wait_tracee(tid);
		if (st < 0)
			break; /* killed meanwhile (with any task it made) */
		int event = st >> 16;
		if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK ||
		    event == PTRACE_EVENT_CLONE) {
			if (armed)
				f->arm(f->ctx, false);
			return on_event(tid, st, f);
		}
		if (event == PTRACE_EVENT_STOP && !armed) {
			/* The interrupt: is the call to be restarted? */
			struct user_regs_struct regs;
			if (ptrace(PTRACE_GETREGS, tid, 0, &regs) < 0)
				break;
			if ((long)regs.rax != -ERESTARTNOINTR) {
				let_go(tid, st); /* it failed: no new task */
				return 0;
			}
			f->arm(f->ctx, true);
			armed = true;
			if (ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0)
				break;
			continue;
		}
		if (armed && is_syscall_stop(st)) {
			struct __ptrace_syscall_info si;
			if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(si), &si) <= 0)
				break;
			if (si.op == PTRACE_SYSCALL_INFO_ENTRY &&
			    (long)si.entry.nr == (long)r->nr) {
				if (ptrace(PTRACE_SYSCALL, tid, 0, 0) < 0)
					break;
				continue;
			}
			/* Its exit (an error, or a restart again) or something else:
			 * no new task from this round. A restart comes back as a
			 * fresh notification. */
			if (si.op == PTRACE_SYSCALL_INFO_EXIT && si.exit.rval <= -ERESTARTSYS &&
			    si.exit.rval >= -ERESTART_RESTARTBLOCK && restart_noint(tid) < 0)
				break;
		}
		/* A signal, a group stop, or the above: let it go unarmed. */
		if (armed)
			f->arm(f->ctx, false);
		let_go(tid, st);
		return 0;
	}
	if (armed)
		f->arm(f->ctx, false);
	/* The creator died, maybe after making a task it could not report:
	 * that one is ours, stopped and unregistered. Kill it. */
	int st;
	pid_t p;
	while ((p = waitpid(-1, &st, __WALL | __WNOTHREAD | WNOHANG)) > 0)
		if (WIFSTOPPED(st)) {
			(void)kill(p, SIGKILL);
			(void)ptrace(PTRACE_DETACH, p, 0, 0);
		}
	return -ESRCH;
}
