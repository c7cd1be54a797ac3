/* SPDX-License-Identifier: MIT */
/* open, openat, openat2, creat: resolved in the sentry's VFS, performed by
 * the filesystem, and the resulting host fd installed in the guest with
 * ADDFD|SEND. Directories become placeholders (ofd.h): the guest never holds
 * a host directory fd. Also the helpers every handler shares. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/fs/notify.h"
#include "sentry/vfs/namei.h"
#include "sentry/vfs/ofd.h"
#include "sentry/kernel/sentry.h"
#include "sentry/kernel/task.h"
#include "syscalls/handlers.h"
#include "syscalls/table.h"

#ifndef OPEN_HOW_SIZE_VER0
#define OPEN_HOW_SIZE_VER0 24 /* the first published struct open_how */
#endif

int req_path(struct sysreq *r, uint64_t addr, char *buf, bool allow_empty)
{
	ssize_t n = req_read_str(r, addr, buf, PATH_MAX);
	if (n < 0)
		return (int)n;
	if (n == 0 && !allow_empty)
		return -ENOENT;
	/* The copy is what we decide on; is the caller still waiting? */
	return req_id_valid(r);
}

static unsigned resolve_to_lookup(uint64_t resolve)
{
	unsigned f = 0;
	if (resolve & RESOLVE_NO_XDEV)
		f |= LOOKUP_NO_XDEV;
	if (resolve & RESOLVE_NO_MAGICLINKS)
		f |= LOOKUP_NO_MAGICLINKS;
	if (resolve & RESOLVE_NO_SYMLINKS)
		f |= LOOKUP_NO_SYMLINKS;
	if (resolve & RESOLVE_BENEATH)
		f |= LOOKUP_BENEATH;
	if (resolve & RESOLVE_IN_ROOT)
		f |= LOOKUP_IN_ROOT;
	return f;
}

/* Access checks the kernel does at open, against the sentry's creds. */
static int may_open(struct task *t, struct vnode *vn, int flags)
{
	int acc = flags & O_ACCMODE;
	bool write = acc == O_WRONLY || acc == O_RDWR || (flags & O_TRUNC);
	if (flags & O_PATH)
		return 0;
	if (vn->type == VLNK)
		return -ELOOP;
	if (vn->type == VDIR && (write || (flags & O_CREAT)))
		return -EISDIR;
	if (acc == 3)
		return -EINVAL;
	if (write && (vn->mnt->flags & MNT_RDONLY) && (vn->type == VREG || vn->type == VDIR))
		return -EROFS;
	if ((vn->type == VCHR || vn->type == VBLK) && (vn->mnt->flags & MNT_NODEV))
		return -EACCES;
	int mask = (acc == O_RDONLY || acc == O_RDWR ? R_OK : 0) | (write ? W_OK : 0);
	return vfs_permission(vn, t->cred, mask);
}

/* O_CREAT: find or make the final component. *ret is a new reference.
 * A filesystem that creates and opens in one step (create_open) hands back
 * the guest's fd in *ret_fd; otherwise *ret_fd stays -1. */
static int open_create(struct task *t, int dirfd, const char *path, int flags, mode_t mode,
		       unsigned lflags, struct nameidata *nd, bool *ret_created, int *ret_fd)
{
	int r = namei(t, dirfd, path, lflags | LOOKUP_PARENT, nd);
	if (r < 0)
		return r;
	if (!nd->last[0] || nd->last_dot || nd->trailing_slash)
		return -EISDIR;
	struct vnode *vn = NULL;
	r = vfs_lookup_one(nd->root, nd->dir, nd->last, &vn);
	if (r == 0) {
		if (flags & O_EXCL) {
			vn_unref(vn);
			return -EEXIST;
		}
		if (vn->type == VLNK) {
			/* Follow it as a plain open would (dangling: ENOENT). */
			vn_unref(vn);
			nd_release(nd);
			return namei(t, dirfd, path, lflags | ((flags & O_NOFOLLOW) ? 0 : LOOKUP_FOLLOW), nd);
		}
		nd->vn = vn;
		return 0;
	}
	if (r != -ENOENT)
		return r;
	struct vnode *dir = nd->dir;
	if (dir->mnt->flags & MNT_RDONLY)
		return -EROFS;
	if ((r = vfs_permission(dir, t->cred, W_OK | X_OK)) < 0)
		return r;
	if (!dir->ops->create && !dir->ops->create_open)
		return -EROFS;
	mode_t m = (mode & 07777 & ~t->fs->umask) | S_IFREG;
	if (dir->ops->create_open) {
		r = dir->ops->create_open(dir, nd->last, m, flags, t->cred, &vn, ret_fd);
		/* Made meanwhile by someone else (the host): open it as it is. */
		if (r == -EEXIST && !(flags & O_EXCL)) {
			nd_release(nd);
			return namei(t, dirfd, path, lflags | ((flags & O_NOFOLLOW) ? 0 : LOOKUP_FOLLOW), nd);
		}
	} else {
		r = dir->ops->create(dir, nd->last, m, t->cred, &vn);
		if (r == 0)
			vnotify_created(dir, nd->last);
	}
	if (r < 0)
		return r;
	nd->vn = vn;
	*ret_created = true;
	return 0;
}

/* The heart of every open: resolve, check, and produce a host fd for the
 * guest (a placeholder for directories). */
static int do_open(struct task *t, int dirfd, const char *path, int flags, mode_t mode,
		   unsigned lflags, int *ret_fd)
{
	struct nameidata nd;
	bool created = false;
	int r;
	if (!(flags & O_NOFOLLOW))
		lflags |= LOOKUP_FOLLOW;
	if (flags & O_DIRECTORY)
		lflags |= LOOKUP_DIRECTORY;
	_cleanup_close_ int made_fd = -1;
	if ((flags & O_CREAT) && !(flags & O_DIRECTORY))
		r = open_create(t, dirfd, path, flags, mode, lflags & ~LOOKUP_FOLLOW, &nd, &created,
				&made_fd);
	else if ((flags & __O_TMPFILE) == __O_TMPFILE)
		return -EOPNOTSUPP;
	else
		r = namei(t, dirfd, path, lflags, &nd);
	if (r < 0)
		goto out;
	if (nd.hostfd >= 0) {
		/* A pipe's reopen waits for its other end. */
		if (!(flags & O_NONBLOCK) && !sentry_may_wait()) {
			r = -EAGAIN;
			goto out;
		}
		/* /proc/self/fd/N of a pipe or tty: reopen it as the kernel does,
		 * but never with more access than the guest's own fd has: the
		 * reopen runs with the sentry's privileges. */
		int have = fcntl(nd.hostfd, F_GETFL);
		int want = flags & O_ACCMODE;
		if (have < 0 || ((want == O_RDONLY || want == O_RDWR) && (have & O_ACCMODE) == O_WRONLY) ||
		    ((want == O_WRONLY || want == O_RDWR) && (have & O_ACCMODE) == O_RDONLY)) {
			r = -EACCES;
			goto out;
		}
		char p[64];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", nd.hostfd);
		int fd = open(p, (flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_TRUNC)) | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 && (errno == EACCES || errno == EPERM)) {
			/* The sentry, an unprivileged host uid, may not open what
			 * the caller handed the guest (a pipe or file of the user
			 * who ran moat). The guest holds it with at least this
			 * access already: give it that open file description
			 * itself (its offset and status flags are then shared). */
			fd = fcntl(nd.hostfd, F_DUPFD_CLOEXEC, 0);
			if (fd >= 0 && (flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY)
				(void)ftruncate(fd, 0);
		}
		r = fd < 0 ? (errno == ENXIO || errno == ENODEV ? -ENXIO : neg_errno()) : 0;
		if (fd >= 0)
			*ret_fd = fd;
		goto out;
	}
	struct vnode *vn = nd.vn;
	if (!created && (r = may_open(t, vn, flags)) < 0)
		goto out;
	if (vn->type == VDIR || (flags & O_PATH)) {
		struct ofd *o;
		r = ofd_new(vn, flags, &o, ret_fd);
		goto out;
	}
	if (made_fd >= 0) {
		*ret_fd = TAKE_FD(made_fd);
		goto out;
	}
	if (!vn->ops->open) {
		r = vn->type == VSOCK ? -ENXIO : -EOPNOTSUPP;
		goto out;
	}
	r = vn->ops->open(vn, flags & ~(O_CREAT | O_EXCL | (created ? O_TRUNC : 0)), ret_fd);
out:
	nd_release(&nd);
	return r;
}

long sys_open(struct sysreq *r)
{
	struct task *t = r->task;
	int dirfd = AT_FDCWD, flags;
	uint64_t pathp;
	mode_t mode = 0;
	unsigned lflags = 0;
	switch (r->nr) {
	case SYS_open:
		pathp = r->args[0], flags = (int)r->args[1], mode = (mode_t)r->args[2];
		break;
	case SYS_creat:
		pathp = r->args[0], flags = O_CREAT | O_WRONLY | O_TRUNC, mode = (mode_t)r->args[1];
		break;
	case SYS_openat:
		dirfd = (int)r->args[0], pathp = r->args[1], flags = (int)r->args[2];
		mode = (mode_t)r->args[3];
		break;
	case SYS_openat2: {
		struct open_how how = { 0 };
		size_t size = r->args[3];
		if (size < OPEN_HOW_SIZE_VER0 || size > 4096)
			return -EINVAL;
		char raw[4096] = { 0 };
		ssize_t n = req_read(r, r->args[2], raw, size);
		if (n < 0)
			return n;
		for (size_t i = sizeof(how); i < size; i++)
			if (raw[i])
				return -E2BIG;
		memcpy(&how, raw, size < sizeof(how) ? size : sizeof(how));
		if (how.flags >> 32 || how.resolve & ~(uint64_t)(RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS |
					RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED))
			return -EINVAL;
		if (how.mode && !(how.flags & (O_CREAT | __O_TMPFILE)))
			return -EINVAL;
		dirfd = (int)r->args[0], pathp = r->args[1], flags = (int)how.flags;
		mode = (mode_t)how.mode, lflags = resolve_to_lookup(how.resolve);
		break;
	}
	default:
		return -ENOSYS;
	}
	char path[PATH_MAX];
	int rc = req_path(r, pathp, path, false);
	if (rc < 0)
		return rc;
	_cleanup_close_ int fd = -1;
	rc = do_open(t, dirfd, path, flags, mode, lflags, &fd);
	if (rc < 0)
		return rc;
	r->reply_fd = TAKE_FD(fd);
	r->reply_cloexec = flags & O_CLOEXEC;
	return SYSRET_FD;
}
