/* SPDX-License-Identifier: MIT */
/* One host uid per sandbox. Sandboxes that shared one host uid (and with it
 * the host's own `nobody` daemons) shared everything the kernel decides by
 * uid for calls that pass through: who may signal, renice or prlimit whom,
 * and the per-user limits (processes, pending signals, inotify instances,
 * pipe buffers). So each sandbox's pid 1 drops to a uid of its own, taken
 * from a range reserved for moat.
 *
 * Reservations live in HOSTUID_DIR (on tmpfs, so a reboot clears them):
 *   .lock  flock'd by a moat while it picks a uid (a few syscalls);
 *   .next-<start>-<count>  the next uid to try in that range, so uids
 *          rotate through it and a uid just released is not reused at once;
 *   <uid>  one file per uid in use, flock'd by the sandbox's sentry and
 *          inherited by its pid 1, so it stays locked while either lives;
 *          it records pid 1's host pid and start time.
 * A uid is taken only if its file is unlocked and the recorded pid 1 is
 * gone or a zombie: the kernel makes a pid namespace's init a zombie only
 * after every other process of the namespace has gone, and every process
 * of the uid is in that namespace. That costs one read of /proc/<pid>/stat,
 * not a scan of /proc.
 * Picking is serialized by .lock, so a file may be unlinked under it when
 * its uid is free: an allocator clears the file of the uid GC_LAG places
 * behind the one it took, and every GC_SWEEP-th one sweeps the directory
 * for files further behind that this missed (their sandbox still ran when
 * the allocator passed): the directory keeps about GC_LAG files plus the
 * sandboxes still running, however long the host has run sandboxes. */
#include "sentry/sandbox/hostuid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"

#define GC_LAG 256u
#define GC_SWEEP 64u

int hostuid_parse_range(const char *s, struct hostuid_range *ret)
{
	char *end;
	errno = 0;
	unsigned long long start = strtoull(s, &end, 10);
	if (errno || end == s || *end != ':' || s[0] == '-')
		return -EINVAL;
	const char *c = end + 1;
	unsigned long long count = strtoull(c, &end, 10);
	if (errno || end == c || *end || c[0] == '-')
		return -EINVAL;
	/* Neither root nor (uid_t)-1, which setresuid() reads as "unchanged". */
	if (start == 0 || count == 0 || start + count - 1 > 0xfffffffeULL)
		return -EINVAL;
	*ret = (struct hostuid_range){ (uint32_t)start, (uint32_t)count };
	return 0;
}

/* State and start time (field 22, clock ticks since boot) of a host
 * process. -ESRCH if it is gone; -EIO if /proc says something unexpected. */
static int proc_state(pid_t pid, char *ret_state, unsigned long long *ret_start)
{
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	_cleanup_free_ char *buf = NULL;
	if (read_file_at(AT_FDCWD, path, &buf, 4096) <= 0)
		return -ESRCH;
	const char *p = strrchr(buf, ')');
	char state;
	unsigned long long start;
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &state, &start) != 2)
		return -EIO;
	*ret_state = state;
	*ret_start = start;
	return 0;
}

/* Does the pid 1 recorded in a reservation still run? Unsure counts as
 * yes: a uid is never handed out on a doubt. */
static bool holder_running(int fd)
{
	char buf[64];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n == 0)
		return false; /* nothing recorded: its pid 1 never ran (or was cleared) */
	if (n < 0)
		return true;
	buf[n] = 0;
	long pid;
	unsigned long long start, now;
	char state;
	if (sscanf(buf, "%ld %llu", &pid, &start) != 2 || pid <= 0 || pid > INT32_MAX)
		return true;
	int r = proc_state((pid_t)pid, &state, &now);
	if (r == -ESRCH)
		return false;
	if (r < 0)
		return true;
	return now == start && state != 'Z' && state != 'X';
}

/* Lock the reservation of uid if it is free: the fd, or -EAGAIN. */
static int claim(int dfd, uint32_t uid)
{
	char name[16];
	snprintf(name, sizeof(name), "%u", uid);
	_cleanup_close_ int fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return neg_errno();
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : neg_errno();
	if (holder_running(fd))
		return -EAGAIN;
	/* The old record stays until hostuid_record() overwrites it: it names
	 * a pid 1 that is gone, which is what an empty one would say. */
	return TAKE_FD(fd);
}

/* Remove the file of a uid that is free (see the top). */
static void collect(int dfd, uint32_t uid)
{
	char name[16];
	snprintf(name, sizeof(name), "%u", uid);
	_cleanup_close_ int fd = openat(dfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && !holder_running(fd))
		(void)unlinkat(dfd, name, 0);
}

/* Collect the files of range's uids more than GC_LAG places behind idx.
 * Costs a readdir of about GC_LAG names, once every GC_SWEEP picks. */
static void sweep(int dfd, uint64_t start, uint64_t count, uint64_t idx)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		errno = 0;
		unsigned long long uid = strtoull(de->d_name, &end, 10);
		if (errno || end == de->d_name || *end || uid < start || uid - start >= count)
			continue;
		uint64_t behind = (idx + count - (uid - start)) % count;
		if (behind > GC_LAG)
			collect(dfd, (uint32_t)uid);
	}
	closedir(d);
}

/* The reservation directory, created root-only if missing; refused if
 * anyone but its owner, root, could write into it. */
static int open_dir(const char *dir)
{
	char path[256];
	if (dir[0] != '/' || strlen(dir) >= sizeof(path))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(path, c ? 0755 : 0700) < 0 && errno != EEXIST)
			return neg_errno();
		*p = c;
		if (!c)
			break;
	}
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return neg_errno();
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	return TAKE_FD(fd);
}

static uint32_t read_next(int fd)
{
	char buf[16];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return (uint32_t)strtoul(buf, NULL, 10);
}

int hostuid_acquire(const char *dir, const struct hostuid_range *range, uid_t *ret_uid,
		    int *ret_lock)
{
	_cleanup_close_ int dfd = open_dir(dir);
	if (dfd < 0)
		return dfd;
	_cleanup_close_ int lfd = openat(dfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (lfd < 0)
		return neg_errno();
	while (flock(lfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return neg_errno();
	uint64_t start = range->start, count = range->count;
	/* Where to go on is kept per range, so that a run with another range
	 * does not send this one back to its start. */
	char state[48];
	snprintf(state, sizeof(state), ".next-%u-%u", range->start, range->count);
	_cleanup_close_ int nfd = openat(dfd, state, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (nfd < 0)
		return neg_errno();
	uint64_t next = read_next(nfd);
	uint64_t first = next >= start && next - start < count ? next - start : 0;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t idx = (first + i) % count;
		int fd = claim(dfd, (uint32_t)(start + idx));
		if (fd == -EAGAIN)
			continue;
		if (fd < 0)
			return fd;
		/* Fixed width, so it overwrites without a truncate (which costs
		 * milliseconds on some filesystems). */
		char buf[16];
		int n = snprintf(buf, sizeof(buf), "%10u\n", (uint32_t)(start + (idx + 1) % count));
		if (pwrite(nfd, buf, (size_t)n, 0) != n) {
			int r = neg_errno();
			close(fd);
			return r;
		}
		if (count > 2 * GC_LAG) {
			collect(dfd, (uint32_t)(start + (idx + count - GC_LAG) % count));
			if (idx % GC_SWEEP == 0)
				sweep(dfd, start, count, idx);
		}
		*ret_uid = (uid_t)(start + idx);
		*ret_lock = fd;
		return 0;
	}
	return -EAGAIN;
}

int hostuid_record(int lock, pid_t init_pid)
{
	char state;
	unsigned long long start;
	int r = proc_state(init_pid, &state, &start);
	if (r < 0)
		return r;
	char buf[48];
	int n = snprintf(buf, sizeof(buf), "%10d %20llu\n", init_pid, start); /* fixed width */
	if (pwrite(lock, buf, (size_t)n, 0) != n)
		return -EIO;
	return 0;
}
