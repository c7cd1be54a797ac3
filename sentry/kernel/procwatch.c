/* SPDX-License-Identifier: MIT */
/* Task exits without PIDFD_THREAD (see procwatch.h). */
#include "sentry/kernel/procwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/kernel/task.h"

int procwatch_open(struct proc *p)
{
	if (p->pidfd >= 0)
		return -EALREADY;
	int fd = (int)syscall(SYS_pidfd_open, p->tgid, 0);
	if (fd < 0)
		return neg_errno();
	p->pidfd = fd;
	return fd;
}

struct find_ctx {
	int fd;
	struct proc *found;
};

static void find_pidfd(struct proc *p, void *ctx)
{
	struct find_ctx *c = ctx;
	if (p->pidfd == c->fd)
		c->found = p;
}

struct proc *procwatch_exited(int fd)
{
	/* The event may come from an fd closed (its process freed) and reused
	 * since: trust only the process that holds fd now, and only if its
	 * pidfd says so itself. Ignoring a live pidfd loses nothing: epoll
	 * reports a readable one again. */
	struct find_ctx c = { .fd = fd };
	proc_foreach(find_pidfd, &c);
	if (!c.found)
		return NULL;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & (POLLIN | POLLHUP)))
		return NULL;
	return c.found;
}

/* Does the file we got have the identity of the one the thread holds? */
static int same_file(pid_t tid, int fd, int copy)
{
	char path[64];
	struct stat a, b;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", tid, fd);
	if (stat(path, &a) < 0)
		return errno == ENOENT ? -EBADF : neg_errno();
	if (fstat(copy, &b) < 0)
		return neg_errno();
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino ? 0 : -EBADF;
}

int task_file_dup(struct task *t, int fd)
{
	int pidfd = t->pidfd >= 0 ? t->pidfd : t->proc ? t->proc->pidfd : -1;
	if (pidfd < 0)
		return -ESRCH;
	_cleanup_close_ int copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (copy < 0)
		return errno == EBADF ? -EBADF : neg_errno();
	/* The process's pidfd names its leader's file table, which another
	 * thread shares unless it was cloned without CLONE_FILES: hand out
	 * only the file the thread itself holds. (If the leader has exited
	 * while threads run, its table is gone: pidfd_getfd fails, EBADF.) */
	if (t->pidfd < 0 && t->tid != t->proc->tgid) {
		int r = same_file(t->tid, fd, copy);
		if (r < 0)
			return r;
	}
	return TAKE_FD(copy);
}
