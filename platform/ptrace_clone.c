/* SPDX-License-Identifier: MIT */
/* Following a clone, fork or vfork to the task it creates (platform.h,
 * req_follow_clone). The new task's first notification cannot tell which
 * thread made it (PPid names a process, and CLONE_PARENT names another), so
 * the sentry watches the call itself. Seen on this kernel:
 *  - the creating thread waits killably in its notification; it is seized
 *    with the fork/vfork/clone events and interrupted, and its call answered
 *    with -ERESTARTNOINTR: nothing is copied, and the pending interrupt
 *    stops it on its way out with the restart still to be done;
 *  - from that stop it is single-stepped: the kernel restarts the call,
 *    which passes the filter again, and its notification is answered with
 *    CONTINUE because the handler armed it (the registers are the ones
 *    already checked: the thread ran no user code since). Now it stops at
 *    the event (a new task) or at the step's trap right after the call (an
 *    error, nothing was created); a step costs one stop where
 *    PTRACE_SYSCALL costs two;
 *  - at the event, PTRACE_GETEVENTMSG gives the new tid. The new task is
 *    auto-attached and stops before its first instruction: it is registered
 *    first (no notification of it can come before, and its stop is awaited
 *    after, so the two overlap), let go from that stop, and then its
 *    creator. Detaching the creator at its event stop leaves nothing
 *    pending (the step included), and a vfork parent then waits for its
 *    child untraced;
 *  - a signal meanwhile: the thread is let go with it, unarmed; the call's
 *    restart then comes as a fresh notification and starts over.
 * A worker thread traces one task at a time and waits by tid with
 * __WNOTHREAD, so it never sees another worker's tracees. */
#include "platform.h"

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "platform/exec_arena.h"
#include "platform/ptrace_inject.h"

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
	tracee_release(tid, sig);
}

/* At a signal-delivery-stop of the restarted call: if the signal cut its
 * notification wait short (the filter answers -ERESTARTSYS until the sentry
 * has received it), restart it whatever the signal's SA_RESTART says, like
 * the kernel's own fork, so the guest never sees EINTR from fork. */
static int restart_noint(pid_t tid)
{
	errno = 0;
	long rax = ptrace(PTRACE_PEEKUSER, tid, offsetof(struct user_regs_struct, rax), 0);
	if (errno)
		return -ESRCH;
	if (rax > -ERESTARTSYS || rax < -ERESTART_RESTARTBLOCK)
		return 0; /* not interrupted in its notification */
	return ptrace(PTRACE_POKEUSER, tid, offsetof(struct user_regs_struct, rax),
		      (void *)(long)-ERESTARTNOINTR) < 0 ? -ESRCH : 0;
}

static int on_event(pid_t tid, int st, const struct clone_follow *f)
{
	unsigned long msg = 0;
	if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg) < 0)
		return -ESRCH;
	pid_t child = (pid_t)msg;
	/* Registered before the creator learns its pid and before it runs
	 * (it stops before its first instruction); its stop is awaited
	 * after, so that the two overlap. */
	int rc = f->on_child(f->ctx, child);
	if (rc < 0)
		(void)kill(child, SIGKILL); /* fail closed */
	int cst = wait_tracee(child);
	if (cst >= 0)
		let_go(child, cst);
	/* The creator last: let go first, it forked again while its last
	 * child was still starting, and that child's exit then met the next
	 * fork's notification wait (EINTR) twice as often. */
	let_go(tid, st);
	return rc;
}

/* The trap that ends the single step over the restarted call (not a
 * SIGTRAP somebody sent). */
static bool is_step_trap(pid_t tid, int st)
{
	if ((st >> 16) || WSTOPSIG(st) != SIGTRAP)
		return false;
	siginfo_t si;
	return ptrace(PTRACE_GETSIGINFO, tid, 0, &si) == 0 && si.si_code > 0;
}

/* At the interrupt stop: map the arena whose memfd the creator got as gfd,
 * then close gfd, with every blockable signal blocked meanwhile and every
 * register given back after. 0, or -ESRCH (the task is gone). */
static int map_arena(pid_t tid, const struct clone_follow *f, int gfd)
{
	struct tracee tr = { .tid = tid, .tgid = tid };
	struct user_regs_struct saved;
	uint64_t mask, all = ~0ULL;
	if (ptrace(PTRACE_GETREGS, tid, 0, &saved) < 0 ||
	    ptrace(PTRACE_GETSIGMASK, tid, sizeof(mask), &mask) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, tid, sizeof(all), &all) < 0)
		return -ESRCH;
	uint64_t want = exec_arena_guest(f->arena);
	long v, c;
	if (tracee_inject_call(&tr, &saved, SYS_mmap, want, EXEC_ARENA_SIZE, PROT_READ,
			       MAP_SHARED | MAP_FIXED_NOREPLACE, (uint64_t)gfd, &v) < 0 ||
	    tracee_inject_call(&tr, &saved, SYS_close, (uint64_t)gfd, 0, 0, 0, 0, &c) < 0)
		return -ESRCH;
	if ((uint64_t)v == want)
		f->arena_mapped(f->ctx);
	if (ptrace(PTRACE_SETREGS, tid, 0, &saved) < 0 ||
	    ptrace(PTRACE_SETSIGMASK, tid, sizeof(mask), &mask) < 0)
		return -ESRCH;
	return 0;
}

int notify_follow_clone(struct sysreq *r, const struct clone_follow *f)
{
	pid_t tid = r->tid;
	if (ptrace(PTRACE_SEIZE, tid, 0,
		   PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
			   PTRACE_O_EXITKILL) < 0)
		return errno == ESRCH ? -ESRCH : neg_errno();
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
		tracee_release(tid, 0);
		return -ESRCH;
	}
	/* The arena's memfd goes in with the answer (ADDFD works only while
	 * the call waits); the guest maps and closes it at the stop. */
	int afd = -1;
	if (f->arena) {
		afd = notify_addfd(r, exec_arena_fd(f->arena), true);
		exec_arena_drop_fd(f->arena);
	}
	int rc = notify_reply(r, -ERESTARTNOINTR);
	if (rc < 0) {
		/* The notification is gone: the thread is being killed. */
		tracee_release(tid, 0);
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
			/* The interrupt, with the restart pending (a signal
			 * that came meanwhile is delivered after it). */
			errno = 0;
			long rax = ptrace(PTRACE_PEEKUSER, tid, offsetof(struct user_regs_struct, rax), 0);
			if (errno)
				break;
			if (afd >= 0 && map_arena(tid, f, afd) < 0)
				break;
			afd = -1;
			if (rax != -ERESTARTNOINTR) {
				let_go(tid, st);
				return 0;
			}
			f->arm(f->ctx, true);
			armed = true;
			if (ptrace(PTRACE_SINGLESTEP, tid, 0, 0) < 0)
				break;
			continue;
		}
		/* The step's trap (the call failed: nothing was made), a signal
		 * or a group stop: let it go unarmed. A restart comes back as a
		 * fresh notification. */
		if (armed) {
			f->arm(f->ctx, false);
			if (is_step_trap(tid, st)) {
				/* Failed, or cut short in its notification wait
				 * by a signal still pending behind the trap:
				 * restarted then, like the kernel's fork. */
				if (restart_noint(tid) < 0)
					break;
				tracee_release(tid, 0);
				return 0;
			}
			if (!event && restart_noint(tid) < 0)
				break;
		}
		let_go(tid, st);
		return 0;
	}
	if (armed)
		f->arm(f->ctx, false);
	/* The creator died, maybe after making a task it could not report
	 * (a SIGKILL skips the event stop): that one is auto-attached to this
	 * thread, unregistered, and comes to its first stop. Kill it; with no
	 * tracee left, waitpid says ECHILD. */
	int st;
	pid_t p;
	while ((p = waitpid(-1, &st, __WALL | __WNOTHREAD)) > 0 || errno == EINTR)
		if (p > 0 && WIFSTOPPED(st)) {
			(void)kill(p, SIGKILL);
			tracee_release(p, 0);
		}
	return -ESRCH;
}
