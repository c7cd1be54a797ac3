/* SPDX-License-Identifier: MIT */
/* inotify_add_watch. The guest's inotify instance is a host one
 * (inotify_init1 and inotify_rm_watch pass), but a path names a file of the
 * sentry's VFS, never of the guest's empty host root: the path is resolved
 * here, with the guest's credentials, and the watch is added on the
 * sentry's pidfd_getfd copy of the guest's instance, on the host object
 * that stands for the file (sentry/fs/notify.c), named by a magic link
 * the kernel follows to its inode. The wd is the kernel's. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/fs/notify.h"
#include "sentry/kernel/procwatch.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/namei.h"
#include "syscalls/handlers.h"

#ifndef IN_MASK_CREATE
#define IN_MASK_CREATE 0x10000000
#endif
/* The kernel's ALL_INOTIFY_BITS: a mask with none of these is EINVAL. */
#define INOTIFY_ALL_BITS                                                                     \
	(IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR | IN_DONT_FOLLOW | \
	 IN_EXCL_UNLINK | IN_MASK_ADD | IN_MASK_CREATE | IN_ISDIR | IN_ONESHOT)

/* Is f an inotify instance? (The kernel: f_op == &inotify_fops.) */
static bool is_inotify(int f)
{
	char path[32], link[32];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", f);
	ssize_t n = readlinkat(AT_FDCWD, path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = 0;
	return strcmp(link, "anon_inode:inotify") == 0;
}

long sys_inotify_add_watch(struct sysreq *r)
{
	struct task *t = r->task;
	uint32_t mask = (uint32_t)r->args[2];
	/* In the kernel's order: the mask, the fd, the flags, the path. */
	if (!(mask & INOTIFY_ALL_BITS))
		return -EINVAL;
	if ((int)r->args[0] < 0)
		return -EBADF;
	if (!t)
		return -ESRCH;
	_cleanup_close_ int ino = task_file_dup(t, (int)r->args[0]);
	if (ino < 0)
		return ino;
	if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE))
		return -EINVAL;
	if (!is_inotify(ino))
		return -EINVAL;
	char path[PATH_MAX];
	int err = req_path(r, r->args[1], path, false);
	if (err < 0)
		return err;
	unsigned lflags = ((mask & IN_DONT_FOLLOW) ? 0 : LOOKUP_FOLLOW) |
			  ((mask & IN_ONLYDIR) ? LOOKUP_DIRECTORY : 0);
	struct nameidata nd;
	if ((err = namei(t, AT_FDCWD, path, lflags, &nd)) < 0)
		return err;
	_cleanup_close_ int obj = -1;
	if (nd.vn) {
		/* The kernel asks for read permission on what is watched. */
		struct vnode *vn = vn_ref(nd.vn);
		err = vfs_permission(vn, t->cred, R_OK);
		if (err == 0)
			obj = vnotify_watch_fd(vn);
		vn_unref(vn);
	} else {
		/* A magic link to a pipe or socket of the guest's: its inode. */
		obj = fcntl(nd.hostfd, F_DUPFD_CLOEXEC, 3);
		if (obj < 0)
			obj = neg_errno();
	}
	nd_release(&nd);
	if (err < 0)
		return err;
	if (obj < 0)
		return obj;
	/* The sentry's path follows its magic link: the flags about the
	 * guest's path were applied above. */
	char host[32];
	snprintf(host, sizeof(host), "/proc/self/fd/%d", obj);
	int wd = inotify_add_watch(ino, host, mask & ~(uint32_t)(IN_DONT_FOLLOW | IN_ONLYDIR));
	return wd < 0 ? neg_errno() : wd;
}
