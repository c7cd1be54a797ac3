/* SPDX-License-Identifier: MIT */
/* Interruptible waits. A handler that blocks on behalf of a guest thread (a
 * FIFO open with no peer, a lock held by another process, a slow gofer
 * reply) does so between vfs_block_begin() and vfs_block_end(), which
 * register it here. Linux would end such a wait when the thread gets a
 * signal (EINTR, or a restart with SA_RESTART) or dies; so must we, or 64
 * stuck opens would hold every worker and the guest could never interrupt
 * its own calls.
 *
 * The guest thread waits killably inside its notification, so a signal sent
 * to it stays pending. The control thread looks, every WAIT_TICK_MS while
 * anyone waits (and at once after a kick), at each waiting thread's pending
 * signals in /proc/<tid>/status; when one is deliverable (pending, not
 * blocked, not ignored) or the thread is gone, it marks the wait cancelled
 * and sends the worker WAIT_SIGNAL, whose empty handler (no SA_RESTART)
 * makes the blocking host call return EINTR. It keeps sending on each tick
 * until the worker has left the wait, so a signal that arrives just before
 * the worker enters the host call is not lost. The handler then returns,
 * and the dispatcher answers -ERESTARTSYS through the platform
 * (req_reply_restart), which lets the kernel apply Linux's own rule: EINTR,
 * or restart the call if the handler has SA_RESTART.
 *
 * Lock order: the sentry lock, then wait_lock. wait_tick() takes only
 * wait_lock; no waiter is freed while listed (a waiter lives on its worker's
 * stack between wait_begin and wait_end). */
#include "sentry/kernel/wait.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

#define WAIT_TICK_MS 20

static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static struct waiter *waiters;
static unsigned nwaiters;
static int timer_fd = -1;
static _Thread_local struct waiter *cur;
static _Thread_local bool cur_cancelled;

static void wake_handler(int sig)
{
	(void)sig; /* only to interrupt a blocking host call with EINTR */
}

int wait_init(void)
{
	struct sigaction sa = { .sa_handler = wake_handler };
	sigemptyset(&sa.sa_mask);
	if (sigaction(WAIT_SIGNAL, &sa, NULL) < 0)
		return neg_errno();
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, WAIT_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	return timer_fd < 0 ? neg_errno() : timer_fd;
}

static void timer_arm(long ms)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 },
		.it_interval = { .tv_sec = 0, .tv_nsec = WAIT_TICK_MS * 1000000L },
	};
	if (ms == 0)
		its = (struct itimerspec){ 0 };
	(void)timerfd_settime(timer_fd, 0, &its, NULL);
}

void wait_begin(struct waiter *w, pid_t tid)
{
	*w = (struct waiter){ .thread = pthread_self(), .tid = tid };
	pthread_mutex_lock(&wait_lock);
	w->next = waiters;
	if (waiters)
		waiters->prev = w;
	waiters = w;
	if (nwaiters++ == 0 && timer_fd >= 0)
		timer_arm(WAIT_TICK_MS);
	pthread_mutex_unlock(&wait_lock);
	cur = w;
}

bool wait_end(struct waiter *w)
{
	pthread_mutex_lock(&wait_lock);
	if (w->prev)
		w->prev->next = w->next;
	else
		waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	if (--nwaiters == 0 && timer_fd >= 0)
		timer_arm(0);
	bool cancelled = atomic_load(&w->cancelled);
	pthread_mutex_unlock(&wait_lock);
	cur = NULL;
	if (cancelled)
		cur_cancelled = true;
	return cancelled;
}

bool wait_is_cancelled(void)
{
	return cur && atomic_load(&cur->cancelled);
}

bool wait_take_cancelled(void)
{
	bool c = cur_cancelled;
	cur_cancelled = false;
	return c;
}

void wait_kick(void)
{
	pthread_mutex_lock(&wait_lock);
	if (nwaiters && timer_fd >= 0)
		timer_arm(1);
	pthread_mutex_unlock(&wait_lock);
}

static uint64_t hex_field(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}

/* Must tid's wait end: a deliverable signal pending, or the thread gone? */
static bool should_cancel(pid_t tid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	_cleanup_free_ char *st = NULL;
	if (read_file_at(AT_FDCWD, path, &st, 1 << 16) < 0)
		return true; /* gone */
	const char *state = strstr(st, "\nState:\t");
	if (state && (state[8] == 'Z' || state[8] == 'X'))
		return true;
	uint64_t pending = hex_field(st, "\nSigPnd:\t") | hex_field(st, "\nShdPnd:\t");
	uint64_t blocked = hex_field(st, "\nSigBlk:\t"), ignored = hex_field(st, "\nSigIgn:\t");
	/* SIGKILL and SIGSTOP cannot be blocked or ignored. */
	uint64_t always = (1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1));
	return (pending & (~(blocked | ignored) | always)) != 0;
}

void wait_cancel_tid(pid_t tid)
{
	pthread_mutex_lock(&wait_lock);
	for (struct waiter *w = waiters; w; w = w->next)
		if (w->tid == tid && !atomic_exchange(&w->cancelled, true))
			(void)pthread_kill(w->thread, WAIT_SIGNAL);
	pthread_mutex_unlock(&wait_lock);
}

void wait_tick(void)
{
	uint64_t expirations;
	(void)!read(timer_fd, &expirations, sizeof(expirations));
	pthread_mutex_lock(&wait_lock);
	for (struct waiter *w = waiters; w; w = w->next) {
		if (!atomic_load(&w->cancelled) && should_cancel(w->tid))
			atomic_store(&w->cancelled, true);
		/* Again on every tick until it leaves: the first may have come
		 * before the worker entered its host call. */
		if (atomic_load(&w->cancelled))
			(void)pthread_kill(w->thread, WAIT_SIGNAL);
	}
	if (nwaiters)
		timer_arm(WAIT_TICK_MS);
	pthread_mutex_unlock(&wait_lock);
}
