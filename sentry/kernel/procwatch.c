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
#include "common/log.h"
#include "platform/platform.h"
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

/* The identity of the file the thread holds as fd. */
static int thread_file_stat(pid_t tid, int fd, struct stat *ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", tid, fd);
	return stat(path, ret) < 0 ? (errno == ENOENT ? -EBADF : neg_errno()) : 0;
}

int task_file_dup(struct task *t, int fd)
{
	/* The ptrace platform's receiving socket is moat's: fstat and the
	 * other emulated fd calls see no file there, as procfs shows none. */
	if (t->proc && ptrace_fd_is_moat(t->proc->tgid, t->tid, fd))
		return -EBADF;
	int pidfd = t->pidfd >= 0 ? t->pidfd : t->proc ? t->proc->pidfd : -1;
	if (pidfd < 0)
		return -ESRCH;
	_cleanup_close_ int copy = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	int err = copy < 0 ? (errno == EBADF ? -EBADF : neg_errno()) : 0;
	if (t->pidfd >= 0 || t->tid == t->proc->tgid)
		return err < 0 ? err : TAKE_FD(copy);
	/* Through the process's pidfd, which names its leader's file table:
	 * another thread shares it unless it was cloned without CLONE_FILES,
	 * and once the leader has exited while threads run it is gone. Hand
	 * out only the file the thread itself holds; if it holds one we
	 * cannot reach, that is EIO, not EBADF. */
	struct stat want, got;
	int r = thread_file_stat(t->tid, fd, &want);
	if (r < 0)
		return r;
	if (err < 0 || fstat(copy, &got) < 0 || got.st_dev != want.st_dev || got.st_ino != want.st_ino) {
		log_debug("fd %d of thread %d is out of reach without PIDFD_THREAD", fd, t->tid);
		return -EIO;
	}
	return TAKE_FD(copy);
}

bool procwatch_known(int fd)
{
	struct find_ctx c = { .fd = fd };
	proc_foreach(find_pidfd, &c);
	return c.found != NULL;
}
