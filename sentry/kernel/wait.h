/* SPDX-License-Identifier: MIT */
/* Interruptible waits of handlers on behalf of guest threads (wait.c). */
#pragma once
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

/* Sent to a worker to end its blocking host call with EINTR. Above glibc's
 * own real-time signals (SIGCANCEL, SIGSETXID). */
#define WAIT_SIGNAL (SIGRTMIN + 4)

struct waiter {
	pthread_t thread;     /* the worker that waits */
	pid_t tid;            /* the guest thread it waits for */
	atomic_bool cancelled;
	struct waiter *prev, *next;
};

/* Install the worker signal and make the tick timer; returns the timerfd for
 * the control thread's event loop, or -errno. Before any worker exists. */
int wait_init(void);
/* Around a blocking host call of a handler (vfs_block_begin/end use them).
 * wait_end returns whether the wait was cancelled. */
void wait_begin(struct waiter *w, pid_t tid);
bool wait_end(struct waiter *w);
/* Inside a wait (between wait_begin and wait_end): has it been cancelled?
 * For waits on something other than a host call WAIT_SIGNAL interrupts
 * (the lock table's futex waits look after each EINTR and wake-up). */
bool wait_is_cancelled(void);
/* For the dispatcher, once per request: was this thread's last wait
 * cancelled? Clears the mark. */
bool wait_take_cancelled(void);
/* The control thread: the timerfd is readable. */
void wait_tick(void);
/* Look again soon (a signal was just sent inside the sandbox). */
void wait_kick(void);
/* tid exited: end its wait now. */
void wait_cancel_tid(pid_t tid);
