/* SPDX-License-Identifier: MIT */
/* chdir, fchdir, getcwd, chroot: the task's fs state (cwd and root). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscalls/handlers.h"
#include "syscalls/sys_fs.h"

/* ---- cwd and root ------------------------------------------------------- */

/* May t use vn as its cwd or root? A directory it can search. The caller
 * holds a reference: the permission check may drop the sentry lock. */
static int may_enter(struct task *t, struct vnode *vn)
{
	if (!vn || vn->type != VDIR)
		return -ENOTDIR;
	return vfs_permission(vn, t->cred, X_OK);
}

/* Resolve a directory path argument (chdir, chroot). */
static int dir_path(struct sysreq *r, uint64_t upath, struct nameidata *nd)
{
	char path[PATH_MAX];
	/* req_path also checks the caller is still there after the read. */
	int err = req_path(r, upath, path, false);
	if (err < 0)
		return err;
	return namei(r->task, AT_FDCWD, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, nd);
}

long sys_chdir(struct sysreq *r)
{
	struct task *t = r->task;
	struct vnode *vn = NULL;
	int err;
	if (r->nr == __NR_fchdir) {
		/* fchdir accepts O_PATH directory fds, like the kernel. */
		err = fd_vnode(t, (int)r->args[0], true, &vn, NULL);
		if (err < 0)
			return err;
		_cleanup_(sys_vn_unrefp) struct vnode *held = vn_ref(vn);
		err = may_enter(t, held);
		if (err == 0)
			fs_state_set_cwd(t->fs, held);
		return err;
	}
	struct nameidata nd;
	err = dir_path(r, r->args[0], &nd);
	if (err < 0)
		return err;
	err = may_enter(t, nd.vn);
	if (err == 0)
		fs_state_set_cwd(t->fs, nd.vn);
	nd_release(&nd);
	return err;
}

/* The cwd's path as getcwd(2) gives it. A removed cwd is -ENOENT; a cwd
 * outside the task's root (left there by chroot) is named from the real
 * root with the kernel's "(unreachable)" prefix. */
static ssize_t cwd_path(struct task *t, char *buf, size_t len)
{
	static const char unreachable[] = "(unreachable)";
	const size_t plen = sizeof unreachable - 1;
	struct vnode *cwd = t->fs->cwd, *root = t->fs->root;
	if (cwd->unlinked)
		return -ENOENT;
	if (vn_is_under(cwd, root))
		return vfs_path(root, cwd, buf, len, false);
	if (len <= plen)
		return -ENAMETOOLONG;
	memcpy(buf, unreachable, plen);
	ssize_t n = vfs_path(vfs_root_mount()->root, cwd, buf + plen, len - plen, false);
	return n < 0 ? n : n + (ssize_t)plen;
}

long sys_getcwd(struct sysreq *r)
{
	char path[PATH_MAX + 32];
	ssize_t n = cwd_path(r->task, path, sizeof path);
	if (n < 0)
		return n;
	/* The syscall returns the length including the NUL. */
	size_t len = (size_t)n + 1;
	if (len > r->args[1])
		return -ERANGE;
	path[n] = 0;
	int err = sys_put(r, r->args[0], path, len);
	return err < 0 ? err : (long)len;
}

long sys_chroot(struct sysreq *r)
{
	struct task *t = r->task;
	struct nameidata nd;
	int err = dir_path(r, r->args[0], &nd);
	if (err < 0)
		return err;
	err = may_enter(t, nd.vn);
	/* CAP_SYS_CHROOT. Safe to grant: the new root was resolved inside the
	 * old one, so chroot only narrows what the guest can name. */
	if (err == 0 && !cred_privileged(t->cred))
		err = -EPERM;
	if (err == 0) {
		struct vnode *old = t->fs->root;
		t->fs->root = vn_ref(nd.vn);
		vn_unref(old);
	}
	nd_release(&nd);
	return err;
}
