/* SPDX-License-Identifier: MIT */
/* The sentry's lock table (sentry/kernel/flock.c), without a sandbox: the
 * POSIX owners are forked children of the test (which hold the file open,
 * as a guest process would), the "guest's file" passed in is the test's
 * own fd. Waits are not exercised here (tests/integration/locks.sh does). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/kernel/flock.h"
#include "sentry/kernel/task.h"
#include "tests/tap.h"

#define MAXOFF FLOCK_OFFSET_MAX

struct holder {
	pid_t pid;
	struct proc proc;
	struct task task;
};

/* A child that opens each path and waits to be killed: a POSIX owner that
 * still has an fd on its files. */
static void holder_start(struct holder *h, pid_t vpid, const char *a, const char *b)
{
	int p[2];
	ASSERT_EQ(pipe(p), 0);
	pid_t pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		/* Gone with the test, even if it crashes. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		(void)!open(a, O_RDWR | O_CLOEXEC);
		if (b)
			(void)!open(b, O_RDWR | O_CLOEXEC);
		(void)!write(p[1], "x", 1);
		for (;;)
			pause();
	}
	char c;
	ASSERT_EQ(read(p[0], &c, 1), 1);
	close(p[0]);
	close(p[1]);
	*h = (struct holder){ .pid = pid };
	h->proc.tgid = pid;
	h->proc.vpid = vpid;
	h->task.tid = pid;
	h->task.vtid = vpid;
	h->task.proc = &h->proc;
}

static void holder_kill(struct holder *h)
{
	kill(h->pid, SIGKILL);
	waitpid(h->pid, NULL, 0);
}

static char *t_file(void)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/moat-flock-test.%d", getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_TRUE(fd >= 0);
	close(fd);
	return path;
}

static size_t t_locks(void)
{
	size_t f, l, d;
	flock_stats(&f, &l, &d);
	return l;
}

TEST(posix_conflicts_split_and_exit)
{
	const char *path = t_file();
	struct holder a, b;
	holder_start(&a, 11, path, NULL);
	holder_start(&b, 12, path, NULL);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);

	EXPECT_EQ(flock_setlk(NULL, &a.task, fd, false, F_WRLCK, 0, 99, false), 0);
	EXPECT_EQ(flock_setlk(NULL, &b.task, fd, false, F_RDLCK, 50, 50, false), -EAGAIN);
	struct flock_info info;
	EXPECT_EQ(flock_getlk(&b.task, fd, false, F_RDLCK, 50, 60, &info), 0);
	EXPECT_EQ(info.type, F_WRLCK);
	EXPECT_EQ(info.start, 0);
	EXPECT_EQ(info.end, 99);
	EXPECT_EQ(info.vpid, 11);
	/* The owner's own request never conflicts with itself. */
	EXPECT_EQ(flock_getlk(&a.task, fd, false, F_WRLCK, 0, 10, &info), 0);
	EXPECT_EQ(info.type, F_UNLCK);

	/* A hole in the middle: two locks. */
	EXPECT_EQ(flock_setlk(NULL, &a.task, fd, false, F_UNLCK, 40, 59, false), 0);
	EXPECT_EQ(t_locks(), 2);
	EXPECT_EQ(flock_setlk(NULL, &b.task, fd, false, F_WRLCK, 50, 50, false), 0);
	EXPECT_EQ(flock_setlk(NULL, &b.task, fd, false, F_WRLCK, 39, 39, false), -EAGAIN);
	/* Adjacent same-type locks merge. */
	EXPECT_EQ(flock_setlk(NULL, &b.task, fd, false, F_WRLCK, 51, 59, false), 0);
	EXPECT_EQ(flock_setlk(NULL, &b.task, fd, false, F_WRLCK, 40, 49, false), 0);
	EXPECT_EQ(t_locks(), 3);
	EXPECT_EQ(flock_getlk(&a.task, fd, false, F_RDLCK, 45, 45, &info), 0);
	EXPECT_EQ(info.start, 40);
	EXPECT_EQ(info.end, 59);
	/* Downgrading part of it splits it. */
	EXPECT_EQ(flock_setlk(NULL, &b.task, fd, false, F_RDLCK, 45, 46, false), 0);
	EXPECT_EQ(t_locks(), 5);
	EXPECT_EQ(flock_getlk(&a.task, fd, false, F_RDLCK, 45, 46, &info), 0);
	EXPECT_EQ(info.type, F_UNLCK);

	/* b's process exits: its locks go with it. */
	holder_kill(&b);
	flock_task_exit(b.pid);
	EXPECT_EQ(t_locks(), 2);
	EXPECT_EQ(flock_setlk(NULL, &a.task, fd, false, F_WRLCK, 40, 59, false), 0);
	EXPECT_EQ(t_locks(), 1); /* merged back into one 0..99 */
	holder_kill(&a);
	flock_task_exit(a.pid);
	EXPECT_EQ(t_locks(), 0);
	unlink(path);
}

/* A process with locks on several files exits: all go, once (its owner
 * record must outlive the walk over the files, whatever their order). */
TEST(posix_exit_with_locks_on_many_files)
{
	enum { N = 16 };
	char paths[N][80];
	int fds[N];
	const char *base = t_file();
	struct holder a, b;
	holder_start(&a, 21, "/dev/null", NULL);
	holder_start(&b, 22, "/dev/null", NULL);
	for (int i = 0; i < N; i++) {
		snprintf(paths[i], sizeof(paths[i]), "%s.%d", base, i);
		fds[i] = open(paths[i], O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		ASSERT_TRUE(fds[i] >= 0);
		/* Half a's, half b's, in whatever order the table walks them. */
		struct holder *h = i % 2 ? &b : &a;
		EXPECT_EQ(flock_setlk(NULL, &h->task, fds[i], false, F_WRLCK, 0, MAXOFF, false), 0);
		EXPECT_EQ(flock_setlk(NULL, &h->task, fds[i], false, F_RDLCK, 5, 5, false), 0);
	}
	EXPECT_EQ(t_locks(), 3 * N);
	holder_kill(&a);
	/* Found lazily, on a conflict, before any exit hook ran. */
	EXPECT_EQ(flock_setlk(NULL, &b.task, fds[0], false, F_WRLCK, 0, 0, false), 0);
	EXPECT_EQ(t_locks(), 3 * N / 2 + 1);
	flock_task_exit(a.pid);
	holder_kill(&b);
	flock_task_exit(b.pid);
	EXPECT_EQ(t_locks(), 0);
	for (int i = 0; i < N; i++)
		unlink(paths[i]);
	unlink(base);
}

/* A POSIX owner that closed its last fd on the file loses its locks there. */
TEST(posix_owner_without_fd_loses_locks)
{
	const char *path = t_file();
	struct holder a, b;
	holder_start(&a, 31, "/dev/null", NULL); /* no fd on path */
	holder_start(&b, 32, path, NULL);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_EQ(flock_setlk(NULL, &a.task, fd, false, F_WRLCK, 0, 9, false), 0);
	EXPECT_EQ(flock_setlk(NULL, &b.task, fd, false, F_WRLCK, 0, 9, false), 0);
	holder_kill(&a);
	holder_kill(&b);
	flock_task_exit(a.pid);
	flock_task_exit(b.pid);
	EXPECT_EQ(t_locks(), 0);
	unlink(path);
}

/* flock and OFD locks on a host file belong to the description. */
TEST(flock_and_ofd_by_description)
{
	const char *path = t_file();
	struct holder a;
	holder_start(&a, 41, path, NULL);
	int x = open(path, O_RDWR | O_CLOEXEC), y = open(path, O_RDWR | O_CLOEXEC);
	int x2 = dup(x);
	ASSERT_TRUE(x >= 0 && y >= 0 && x2 >= 0);
	EXPECT_EQ(flock_flock(NULL, &a.task, x, LOCK_EX | LOCK_NB), 0);
	EXPECT_EQ(flock_flock(NULL, &a.task, y, LOCK_SH | LOCK_NB), -EWOULDBLOCK);
	EXPECT_EQ(flock_flock(NULL, &a.task, x2, LOCK_SH | LOCK_NB), 0); /* converts */
	EXPECT_EQ(flock_flock(NULL, &a.task, y, LOCK_SH | LOCK_NB), 0);
	EXPECT_EQ(flock_flock(NULL, &a.task, y, LOCK_EX | LOCK_NB), -EWOULDBLOCK);
	EXPECT_EQ(flock_flock(NULL, &a.task, x, LOCK_UN), 0);
	EXPECT_EQ(flock_flock(NULL, &a.task, y, LOCK_EX | LOCK_NB), 0);
	EXPECT_EQ(flock_flock(NULL, &a.task, y, LOCK_UN), 0);
	EXPECT_EQ(t_locks(), 0);

	/* OFD: same space as POSIX, per description, pid -1. */
	EXPECT_EQ(flock_setlk(NULL, &a.task, x, true, F_WRLCK, 0, 9, false), 0);
	EXPECT_EQ(flock_setlk(NULL, &a.task, y, true, F_RDLCK, 5, 5, false), -EAGAIN);
	EXPECT_EQ(flock_setlk(NULL, &a.task, y, false, F_RDLCK, 5, 5, false), -EAGAIN);
	EXPECT_EQ(flock_setlk(NULL, &a.task, x2, true, F_WRLCK, 10, 19, false), 0);
	struct flock_info info;
	EXPECT_EQ(flock_getlk(&a.task, y, true, F_RDLCK, 15, 15, &info), 0);
	EXPECT_EQ(info.type, F_WRLCK);
	EXPECT_EQ(info.start, 0);
	EXPECT_EQ(info.end, 19);
	EXPECT_EQ(info.vpid, -1);
	EXPECT_EQ(flock_setlk(NULL, &a.task, x, true, F_UNLCK, 0, MAXOFF, false), 0);
	EXPECT_EQ(t_locks(), 0);
	size_t f, l, d;
	flock_stats(&f, &l, &d);
	EXPECT_EQ(d, 0); /* the copies of the descriptions are closed */
	holder_kill(&a);
	flock_task_exit(a.pid);
	unlink(path);
}

/* A memfd (what tmpfs files are) is locked natively on the description
 * itself: the kernel sees the conflict, the table holds nothing. */
TEST(flock_memfd_native)
{
	struct holder a;
	holder_start(&a, 51, "/dev/null", NULL);
	int m = memfd_create("t", MFD_CLOEXEC);
	ASSERT_TRUE(m >= 0);
	char self[64];
	snprintf(self, sizeof(self), "/proc/self/fd/%d", m);
	int other = open(self, O_RDWR | O_CLOEXEC);
	ASSERT_TRUE(other >= 0);
	EXPECT_EQ(flock_flock(NULL, &a.task, m, LOCK_EX | LOCK_NB), 0);
	EXPECT_EQ(t_locks(), 0);
	EXPECT_EQ(flock(other, LOCK_SH | LOCK_NB), -1);
	EXPECT_EQ(flock_flock(NULL, &a.task, other, LOCK_SH | LOCK_NB), -EWOULDBLOCK);
	EXPECT_EQ(flock_flock(NULL, &a.task, m, LOCK_UN), 0);
	EXPECT_EQ(flock(other, LOCK_SH | LOCK_NB), 0);
	holder_kill(&a);
}

/* A host file: the host's own lock state never changes. */
TEST(host_inode_untouched)
{
	const char *path = t_file();
	struct holder a;
	holder_start(&a, 61, path, NULL);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_EQ(flock_flock(NULL, &a.task, fd, LOCK_EX | LOCK_NB), 0);
	EXPECT_EQ(flock_setlk(NULL, &a.task, fd, false, F_WRLCK, 0, MAXOFF, false), 0);
	EXPECT_EQ(flock_setlk(NULL, &a.task, fd, true, F_WRLCK, 0, MAXOFF, false), -EAGAIN);
	/* From another description and process the kernel sees no lock. */
	pid_t pid = fork();
	if (pid == 0) {
		int o = open(path, O_RDWR | O_CLOEXEC);
		struct flock l = { .l_type = F_WRLCK };
		struct flock u = { .l_type = F_UNLCK };
		_exit(flock(o, LOCK_EX | LOCK_NB) == 0 && fcntl(o, F_SETLK, &l) == 0 &&
		      fcntl(o, F_SETLK, &u) == 0 &&
		      fcntl(o, F_OFD_SETLK, &(struct flock){ .l_type = F_WRLCK }) == 0 ? 0 : 1);
	}
	int st;
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	holder_kill(&a);
	flock_task_exit(a.pid);
	unlink(path);
}


