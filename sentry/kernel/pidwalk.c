/* SPDX-License-Identifier: MIT */
/* Walking the sandbox's process tree. The host's /proc lists every process
 * on the machine; scanning it on a guest's syscall would cost O(host
 * processes) under the sentry lock. Every sandbox process descends from the
 * sandbox's pid 1, which adopts orphans, so the tree under it, read through
 * /proc/<pid>/task/<tid>/children, holds them all: O(the sandbox's own
 * threads), bounded by PIDWALK_MAX. The kernel may miss a child forked or
 * reparented during the walk; callers say what that leaves. The visitor
 * checks each process (pid namespace, NSpid) before trusting it: a host pid
 * reused by a process outside must be skipped, not descended into. */
#include "sentry/kernel/pidwalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "sentry/kernel/sentry.h"

/* Processes a walk visits at most: more than the sandbox may have (its pids
 * limit), and a bound on the work if the tree changes under us. */
#define PIDWALK_MAX 65536
#define CHILDREN_MAX (1 << 16)

struct queue {
	pid_t *v;
	size_t head, n, cap;
};

static void queue_done(struct queue *q) { free(q->v); }

static int queue_push(struct queue *q, long h)
{
	if (h <= 0 || h > INT_MAX || q->n >= PIDWALK_MAX)
		return 0; /* bounded: the rest is not visited */
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		pid_t *nv = realloc(q->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		q->v = nv;
		q->cap = cap;
	}
	q->v[q->n++] = (pid_t)h;
	return 0;
}

/* Queue the children of every thread of host process h. */
static int queue_children(struct queue *q, pid_t h)
{
	char dir[48];
	snprintf(dir, sizeof(dir), "/proc/%d/task", h);
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* gone */
	_cleanup_(closedirp) DIR *d = fdopendir(fd);
	if (!d)
		return neg_errno();
	int dfd = TAKE_FD(fd), r = 0;
	for (struct dirent *de; r == 0 && (de = readdir(d));) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		char path[64];
		snprintf(path, sizeof(path), "%.20s/children", de->d_name);
		_cleanup_free_ char *text = NULL;
		if (read_file_at(dfd, path, &text, CHILDREN_MAX) < 0)
			continue;
		for (char *p = text, *end; r == 0 && *p; p = end) {
			long c = strtol(p, &end, 10);
			if (end == p)
				break;
			r = queue_push(q, c);
		}
	}
	return r;
}

int pidwalk(int (*visit)(pid_t hpid, void *ctx), void *ctx)
{
	return pidwalk_from(sentry.init_pid, visit, ctx);
}

int pidwalk_from(pid_t root, int (*visit)(pid_t hpid, void *ctx), void *ctx)
{
	_cleanup_(queue_done) struct queue q = { 0 };
	int r = root > 0 ? queue_push(&q, root) : -ESRCH;
	for (; r == 0 && q.head < q.n; q.head++) {
		pid_t h = q.v[q.head];
		int v = visit(h, ctx);
		if (v < 0 || v == PIDWALK_STOP)
			return v;
		if (v == PIDWALK_DESCEND)
			r = queue_children(&q, h);
	}
	return r;
}
