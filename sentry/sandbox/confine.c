/* SPDX-License-Identifier: MIT */
/* The sentry's own confinement, once the sandbox is set up (see
 * docs/architecture.md, "Confinement of moat itself").
 *
 * Mounts: the sentry moves into a mount namespace of its own whose root is
 * an empty, read-only tmpfs holding only what it still opens by path: a
 * /proc of processes only (guest tasks' status, fds and memory maps,
 * /proc/self/fd reopens; no system-wide files), the harmless device nodes its
 * devfs hands out, and a private /tmp for the host FIFOs behind its tmpfs. Everything else of the host's filesystem is gone from its
 * view: host files reach it only as the directory fds the gofer donated.
 * A memory bug in the sentry then cannot open /etc/shadow or a user's home
 * by path, whatever its credentials. */
#include "sentry/sandbox/confine.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

/* The device nodes devfs opens by path (sentry/fs/devfs.c, DEV_HOST). */
static const char *const sentry_devs[] = { "null", "zero", "full", "random", "urandom", NULL };

static int bind_node(const char *src, const char *dst, bool dir, unsigned long extra)
{
	if (dir) {
		if (mkdir(dst, 0555) < 0 && errno != EEXIST)
			return neg_errno();
	} else {
		int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
		if (fd < 0)
			return neg_errno();
		close(fd);
	}
	if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
		return neg_errno();
	/* A bind keeps the source's flags until remounted with its own. */
	if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | extra, NULL) < 0)
		return neg_errno();
	return 0;
}

int sentry_confine_mounts(void)
{
	/* Only the calling thread's view changes: call before any worker
	 * thread exists (they inherit it). */
	if (unshare(CLONE_NEWNS) < 0)
		return log_error_errno(neg_errno(), "sentry: new mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return log_error_errno(neg_errno(), "sentry: make / private");
	_cleanup_close_ int old = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (old < 0)
		return neg_errno();
	/* The new root is built on a tmpfs over /tmp of this namespace. */
	if (mount("moat-sentry", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=0555,size=16k,nr_inodes=32") < 0)
		return log_error_errno(neg_errno(), "sentry: mount its root");
	if (chdir("/tmp") < 0)
		return neg_errno();
	/* A procfs of the host's pid namespace showing processes only
	 * (subset=pid, Linux 5.8): no /proc/sys, sysrq-trigger, kcore or
	 * the like. procfs keeps the few system-wide files it reads open
	 * from before (procfs_confine). */
	if (mkdir("proc", 0555) < 0 ||
	    mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid") < 0)
		return log_error_errno(neg_errno(), "sentry: mount its /proc");
	int r;
	/* Scratch space for the host FIFOs behind tmpfs FIFOs (tmpfs.c makes
	 * each in a fresh directory and unlinks it at once): private to this
	 * namespace, so no other process can reach them even by racing. */
	if (mkdir("tmp", 0555) < 0 ||
	    mount("moat-sentry-tmp", "tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=01777,size=64k") < 0)
		return log_error_errno(neg_errno(), "sentry: mount its /tmp");
	if (mkdir("dev", 0555) < 0)
		return neg_errno();
	for (const char *const *d = sentry_devs; *d; d++) {
		char src[32], dst[32];
		snprintf(src, sizeof(src), "/dev/%s", *d);
		snprintf(dst, sizeof(dst), "dev/%s", *d);
		struct stat st;
		if (stat(src, &st) < 0 || !S_ISCHR(st.st_mode))
			continue; /* devfs then answers ENOENT/ENXIO for it */
		if ((r = bind_node(src, dst, false, MS_NOEXEC)) < 0)
			return log_error_errno(r, "sentry: bind %s", src);
	}
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return log_error_errno(neg_errno(), "sentry: pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return log_error_errno(neg_errno(), "sentry: detach the host's root");
	if (chdir("/") < 0)
		return neg_errno();
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return log_error_errno(neg_errno(), "sentry: remount its root read-only");
	return 0;
}
