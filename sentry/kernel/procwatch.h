/* SPDX-License-Identifier: MIT */
/* Task exits on kernels without PIDFD_THREAD (before Linux 6.9), where
 * pidfd_open accepts only a thread-group leader and its pidfd turns
 * readable only when the whole thread group is gone.
 *
 * There each process (struct proc) is watched through its leader's pidfd
 * (proc->pidfd) instead of each thread through its own; when it fires,
 * every task of the process ends. A thread that exits while its process
 * lives is therefore ended only at the process's exit (or replaced when its
 * tid is reused). Tasks then have no pidfd of their own (task->pidfd is -1):
 * task_file_dup() reaches their files through the process's pidfd.
 * All under the sentry lock. */
#pragma once
#include <stdbool.h>

struct proc;
struct task;

/* Open p's pidfd if it has none yet. Returns the new fd (the caller adds it
 * to the event loop), -EALREADY if p is watched already, or another -errno
 * (p is gone). */
int procwatch_open(struct proc *p);
/* The process whose pidfd is fd, if its whole thread group has exited;
 * NULL for a stale event (that fd belongs to no process any more, or its
 * process still runs). */
/* Does a process of the task table hold pidfd fd? A process that lost its
 * last task is unlinked from the table but may live on (a handler holds a
 * reference) with its pidfd open: its exit is of no interest any more, and
 * its readable pidfd must leave the event set, or the control thread would
 * wake for it again and again. */
bool procwatch_known(int fd);
struct proc *procwatch_exited(int fd);
/* A copy (pidfd_getfd) of the file t has as fd: the same open file
 * description. Returns the fd or -errno (-EBADF: t has no such fd; -EIO
 * without PIDFD_THREAD: t holds one its process's pidfd cannot reach). */
int task_file_dup(struct task *t, int fd);
