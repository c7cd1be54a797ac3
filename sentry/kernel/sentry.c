/* SPDX-License-Identifier: MIT */
/* The sentry's threads.
 *
 * Workers block in SECCOMP_IOCTL_NOTIF_RECV on the one listener (the kernel
 * hands each notification to one of them), or on the ptrace platform's queue
 * its tracer thread fills (platform/ptrace_tracer.c), and run the handler
 * under the sentry lock. A handler that must wait drops the lock (sentry_unlock); if
 * that leaves no worker waiting for notifications, another is started, so one
 * waiting guest call never stalls the others.
 *
 * The control thread (the caller of sentry_run) watches what is not a
 * notification: the sandbox's pid 1 and the gofer (pidfds), task exits
 * (per-thread pidfds), placeholders the guest closed (inotify; read
 * in batches, see DIRCLOSE_DELAY_MS), and signals to forward. If the gofer dies or a worker meets an impossible
 * state, the whole sandbox is killed: nothing is ever half-allowed. */
#include "sentry/kernel/sentry.h"

#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sentry/kernel/audit.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "common/pidfd.h"
#include "sentry/vfs/ofd.h"
#include "platform/kfeatures.h"
#include "platform/platform.h"
#include "syscalls/dispatch.h"
#include "sentry/kernel/procwatch.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/wait.h"
#include "sentry/vfs/vfs.h"

struct sentry_state sentry = { .audit_fd = -1, .net_fp = -1, .listener = -1, .timeout_fd = -1, .stop_fd = -1,
			       .mem_current_fd = -1 };

static pthread_mutex_t big_lock = PTHREAD_MUTEX_INITIALIZER;
static int epfd = -1;
static atomic_int idle_workers, nworkers;
#define SPARE_WORKERS 3
static _Thread_local bool is_worker;
/* Workers between a sentry_unlock (a wait) and their next sentry_lock. */
static atomic_int waiting_workers;
static _Thread_local bool waiting;
/* Each guest thread can hold one worker in a blocking wait (a FIFO open, a
 * lock); waits end on the thread's signals (wait.c), and guest threads are
 * bounded by the sandbox's pids limit. */
#define MAX_WORKERS 1024

enum { EV_TASK = 1, EV_DIRCLOSE = 2, EV_CTL = 3, EV_PROC = 4, EV_SOURCE = 5 };
enum { CTL_INIT = 1, CTL_GOFER = 2, CTL_STATUS = 4, CTL_WAIT = 5, CTL_TIMEOUT = 6, CTL_STOP = 7,
       CTL_DIRCLOSE = 8 };
#define EV(kind, val) (((uint64_t)(val) << 3) | (kind))

static void start_worker(void);

void sentry_lock(void)
{
	pthread_mutex_lock(&big_lock);
	if (waiting) {
		waiting = false;
		atomic_fetch_sub(&waiting_workers, 1);
	}
}

void sentry_unlock_done(void) { pthread_mutex_unlock(&big_lock); }

/* Only the tracer thread tries (it is no worker: `waiting` stays false). */
bool sentry_trylock(void) { return pthread_mutex_trylock(&big_lock) == 0; }

static _Thread_local bool inline_mode, inline_deferred;

void sentry_inline_begin(void)
{
	inline_mode = true;
	inline_deferred = false;
}

bool sentry_inline_end(void)
{
	inline_mode = false;
	return inline_deferred;
}

bool sentry_may_wait(void)
{
	if (!inline_mode)
		return true;
	inline_deferred = true;
	return false;
}

/* Every worker waits for a guest thread and none is left to receive: the
 * guest waits too until one of those waits ends (docs/security.md,
 * "pending notifications"). Said once: a record and a line. */
static void workers_at_cap(void)
{
	static atomic_bool said;
	if (atomic_exchange(&said, true))
		return;
	log_warnx("the sandbox's threads hold all %d sentry workers in waits: new calls wait for one to end",
		  MAX_WORKERS);
	struct json_object *f = audit_fields("limit", "workers", NULL);
	json_object_object_add(f, "max", json_object_new_int(MAX_WORKERS));
	audit_event("limit", f);
}

void sentry_unlock(void)
{
	pthread_mutex_unlock(&big_lock);
	if (!is_worker || waiting)
		return;
	/* About to wait: keep someone listening for notifications. Workers
	 * that are not waiting count, even if they are not in RECV this very
	 * moment: one still sending its answer is back in a microsecond. Only
	 * counting those in RECV started a thread for nearly every gofer
	 * round trip of a single-threaded guest (thousands per second). */
	waiting = true;
	int w = atomic_fetch_add(&waiting_workers, 1) + 1;
	int n = atomic_load(&nworkers);
	if (n - w >= 1)
		return;
	if (n < MAX_WORKERS)
		start_worker();
	else
		workers_at_cap();
}

/* Filesystems wait (gofer round trips, FIFO opens) through the VFS's
 * block-begin/end pair: the sentry lock is dropped, and the wait is
 * registered as one a signal to the guest thread may end (wait.c).
 * Installed before main() so that no filesystem can run without it. */
static _Thread_local struct waiter block_waiter;
static _Thread_local unsigned block_depth;

static void sentry_block_begin(void)
{
	if (block_depth++ == 0 && current)
		wait_begin(&block_waiter, current->tid);
	sentry_unlock();
}

static void sentry_block_end(void)
{
	sentry_lock();
	if (--block_depth == 0 && block_waiter.tid) {
		(void)wait_end(&block_waiter);
		block_waiter.tid = 0;
	}
}

__attribute__((constructor)) static void sentry_install_vfs_block(void)
{
	vfs_set_block_ops(sentry_block_begin, sentry_block_end);
	vfs_set_wait_check(sentry_may_wait);
}

static atomic_bool sandbox_killed;

bool sentry_dead(void) { return atomic_load_explicit(&sandbox_killed, memory_order_relaxed); }

static void sandbox_kill(const char *why)
{
	atomic_store(&sandbox_killed, true);
	log_warnx("sandbox killed: %s", why);
	audit_event("kill", audit_fields("reason", why, NULL));
	if (sentry.init_pid > 0)
		kill(sentry.init_pid, SIGKILL);
}

void sentry_fatal(const char *why) { sandbox_kill(why); }

/* Before Linux 6.9 only whole processes can be watched (procwatch.h). */
static int watch_proc(struct proc *p)
{
	int fd = procwatch_open(p);
	if (fd == -EALREADY)
		return 0;
	if (fd < 0)
		return fd;
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV(EV_PROC, fd) };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = neg_errno();
		p->pidfd = safe_close(fd);
		return r;
	}
	return 0;
}

static int sentry_watch_task(struct task *t)
{
	if (!kfeature_has(KF_PIDFD_THREAD))
		return watch_proc(t->proc);
	int fd = (int)syscall(SYS_pidfd_open, t->tid, PIDFD_THREAD);
	if (fd < 0)
		return neg_errno();
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)(uintptr_t)t | EV_TASK };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = neg_errno();
		close(fd);
		return r;
	}
	t->pidfd = fd;
	return 0;
}

static void *worker_main(void *arg)
{
	is_worker = true;
	for (;;) {
		struct sysreq r;
		atomic_fetch_add(&idle_workers, 1);
		int rc = platform->receive(&r);
		atomic_fetch_sub(&idle_workers, 1);
		if (rc == -EINTR || rc == -ENOENT)
			continue;
		if (rc < 0) {
			/* The listener is gone: every guest task has exited. */
			break;
		}
		sys_dispatch(&r);
		if (platform->done)
			platform->done(&r);
		/* Workers are started whenever a handler is about to wait with
		 * none listening, which a worker still sending its answer makes
		 * look so: without this, a single-threaded guest's opens grew
		 * the pool to dozens of threads, and fork+exec got twice as
		 * slow among them. Spares beyond a few leave. */
		if (atomic_load(&idle_workers) >= SPARE_WORKERS)
			break;
	}
	if (waiting) {
		waiting = false;
		atomic_fetch_sub(&waiting_workers, 1);
	}
	atomic_fetch_sub(&nworkers, 1);
	return NULL;
}

static void start_worker(void)
{
	pthread_attr_t attr;
	pthread_t th;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1 << 20);
	atomic_fetch_add(&nworkers, 1);
	if (pthread_create(&th, &attr, worker_main, NULL) != 0) {
		atomic_fetch_sub(&nworkers, 1);
		log_warnx("cannot start a sentry worker");
	}
	pthread_attr_destroy(&attr);
}

static int wait_timer = -1;
/* Placeholder closes (ofd.h): the control thread frees what the guest
 * closed at most this long after the first close it sees, so that a burst
 * of closes (a walk closes one directory per directory it opens) costs one
 * wake-up of this thread, not one each; the workers also read the closes
 * themselves when they need a placeholder inode. */
#define DIRCLOSE_DELAY_MS 20
static int dirclose_timer = -1;

int sentry_init_events(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return neg_errno();
	if ((wait_timer = wait_init()) < 0)
		return wait_timer;
	dirclose_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (dirclose_timer < 0)
		return neg_errno();
	task_set_watch_hook(sentry_watch_task);
	return 0;
}

int sentry_watch(struct sentry_source *src)
{
	_Static_assert(_Alignof(struct sentry_source) >= 8, "the event's low bits are its kind");
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)(uintptr_t)src | EV_SOURCE };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0 ? neg_errno() : 0;
}

void sentry_unwatch(struct sentry_source *src)
{
	(void)epoll_ctl(epfd, EPOLL_CTL_DEL, src->fd, NULL);
}

static int watch_ctl(int fd, int what)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV(EV_CTL, what) };
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? neg_errno() : 0;
}

/* A signal that asks moat to stop (a terminal's Ctrl-C or hangup, `kill`,
 * a service manager) has been forwarded to the command; a command that
 * ignores it must not keep the sandbox alive, so the first one starts the
 * grace period, after which the whole sandbox is killed. */
static void stop_requested(int sig)
{
	if (sig != SIGTERM && sig != SIGINT && sig != SIGHUP && sig != SIGQUIT)
		return;
	if (sentry.stop_fd < 0 || sentry.stop_signal)
		return;
	long ms = sentry.stop_grace_ms;
	struct itimerspec its = { .it_value = { .tv_sec = ms / 1000,
						.tv_nsec = (ms % 1000) * 1000000L } };
	if (timerfd_settime(sentry.stop_fd, 0, &its, NULL) < 0) {
		/* Without a timer the promise cannot be kept: stop now. */
		sentry.stop_killed = true;
		kill(sentry.init_pid, SIGKILL);
		return;
	}
	sentry.stop_signal = sig;
}

/* Forwarded signals that arrived (bit n: signal n), set by their handler,
 * which runs only on the control thread, inside its epoll_pwait. */
static atomic_uint fwd_pending;

static void fwd_handler(int sig) { atomic_fetch_or(&fwd_pending, 1u << sig); }

static void forward_pending(void)
{
	unsigned bits = atomic_exchange(&fwd_pending, 0);
	for (int sig = 1; bits && sig < 32; sig++) {
		if (!(bits & (1u << sig)))
			continue;
		bits &= ~(1u << sig);
		if (sentry.init_pid > 0) {
			kill(sentry.init_pid, sig);
			stop_requested(sig);
		}
	}
}

int sentry_run(int init_pidfd, int gofer_pidfd, const sigset_t *fwd, int status_fd, int nworkers_start)
{
	int r;
	sigset_t waitmask;
	pthread_sigmask(SIG_BLOCK, NULL, &waitmask);
	for (int sig = 1; sig < 32; sig++) {
		if (sigismember(fwd, sig) != 1)
			continue;
		struct sigaction sa = { .sa_handler = fwd_handler };
		sigfillset(&sa.sa_mask);
		if (sigaction(sig, &sa, NULL) < 0)
			return neg_errno();
		sigdelset(&waitmask, sig);
	}
	if ((r = watch_ctl(init_pidfd, CTL_INIT)) < 0 || (r = watch_ctl(status_fd, CTL_STATUS)) < 0)
		return r;
	if (gofer_pidfd >= 0 && (r = watch_ctl(gofer_pidfd, CTL_GOFER)) < 0)
		return r;
	if ((r = watch_ctl(wait_timer, CTL_WAIT)) < 0)
		return r;
	if (sentry.timeout_fd >= 0 && sentry.timeout_ms > 0) {
		/* Wall clock from here, the command's start. */
		struct itimerspec its = { .it_value = { .tv_sec = sentry.timeout_ms / 1000,
							.tv_nsec = (sentry.timeout_ms % 1000) * 1000000L } };
		if (timerfd_settime(sentry.timeout_fd, 0, &its, NULL) < 0)
			return neg_errno();
		if ((r = watch_ctl(sentry.timeout_fd, CTL_TIMEOUT)) < 0)
			return r;
	}
	if (sentry.stop_fd >= 0 && (r = watch_ctl(sentry.stop_fd, CTL_STOP)) < 0)
		return r;
	/* One shot: the first close arms the timer, which reads them all. */
	int inofd = ofd_notify_fd();
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.u64 = EV(EV_DIRCLOSE, 0) };
	if (inofd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, inofd, &ev) < 0)
		return inofd < 0 ? inofd : neg_errno();
	if ((r = watch_ctl(dirclose_timer, CTL_DIRCLOSE)) < 0)
		return r;
	for (int i = 0; i < nworkers_start; i++)
		start_worker();
	for (;;) {
		struct epoll_event evs[64];
		int n = epoll_pwait(epfd, evs, ARRAY_SIZE(evs), -1, &waitmask);
		forward_pending();
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return neg_errno();
		}
		for (int i = 0; i < n; i++) {
			uint64_t d = evs[i].data.u64;
			switch (d & 7) {
			case EV_TASK: {
				sentry_lock();
				struct task *t = (struct task *)(uintptr_t)(d & ~7ULL);
				(void)epoll_ctl(epfd, EPOLL_CTL_DEL, t->pidfd, NULL);
				wait_cancel_tid(t->tid);
				task_exit(t);
				sentry_unlock();
				break;
			}
			case EV_PROC: {
				sentry_lock();
				int pfd = (int)(d >> 3);
				struct proc *p = procwatch_exited(pfd);
				if (p) {
					(void)epoll_ctl(epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
					proc_exit_tasks(p);
				} else if (!procwatch_known(pfd)) {
					(void)epoll_ctl(epfd, EPOLL_CTL_DEL, pfd, NULL);
				}
				sentry_unlock();
				break;
			}
			case EV_SOURCE: {
				struct sentry_source *src = (struct sentry_source *)(uintptr_t)(d & ~7ULL);
				src->fn(src, evs[i].events);
				break;
			}
			case EV_DIRCLOSE: {
				struct itimerspec its = { .it_value = { .tv_nsec = DIRCLOSE_DELAY_MS * 1000000L } };
				if (timerfd_settime(dirclose_timer, 0, &its, NULL) < 0) {
					/* No delay then: read them now. */
					sentry_lock();
					ofd_events();
					sentry_unlock();
					(void)epoll_ctl(epfd, EPOLL_CTL_MOD, inofd, &ev);
				}
				break;
			}
			case EV_CTL:
				switch (d >> 3) {
				case CTL_DIRCLOSE: {
					uint64_t ticks;
					(void)read(dirclose_timer, &ticks, sizeof(ticks));
					sentry_lock();
					ofd_events();
					sentry_unlock();
					/* Closes still queued fire at once. */
					(void)epoll_ctl(epfd, EPOLL_CTL_MOD, inofd, &ev);
					break;
				}
				case CTL_STATUS: /* the command is done: pid 1 reported */
				case CTL_INIT:   /* pid 1 is gone */
					return 0;
				case CTL_GOFER:
					sandbox_kill("the gofer exited");
					return -EPIPE;
				case CTL_WAIT:
					wait_tick();
					break;
				case CTL_TIMEOUT:
					/* pid 1's end takes the whole pid namespace. */
					sentry.timed_out = true;
					kill(sentry.init_pid, SIGKILL);
					return 0;
				case CTL_STOP: {
					/* The command had its grace period. */
					uint64_t ticks;
					(void)read(sentry.stop_fd, &ticks, sizeof(ticks));
					sentry.stop_killed = true;
					kill(sentry.init_pid, SIGKILL);
					return 0;
				}
				}
				break;
			}
		}
	}
}
