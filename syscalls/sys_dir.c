/* SPDX-License-Identifier: MIT */
/* The calls that create or remove names: mkdir, mknod, unlink/rmdir,
 * rename, symlink, link.
 *
 * Errors follow the kernel's order (fs/namei.c): the shape of the final
 * name ("/", ".", ".."), then whether it exists, then the mount's
 * read-only flag, then permission, then the filesystem's own answer, so a
 * guest sees the errno Linux would give. Every path argument is read once,
 * before anything is decided, and the notification is checked to be still
 * valid before a mutation. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sentry/fs/notify.h"
#include "sentry/kernel/unixaddr.h"
#include "syscalls/handlers.h"
#include "syscalls/sys_fs.h"

/* ---- creating and removing names ---------------------------------------- */

/* nd->last in nd->dir: 0 with *ret (a new reference), -ENOENT, or -errno. */
static int lookup_last(struct nameidata *nd, struct vnode **ret)
{
	return vfs_lookup_one(nd->root, nd->dir, nd->last, ret);
}

/* Is nd->last free for a new entry? "/", "." and ".." and existing names
 * are -EEXIST; a trailing slash promises a directory, so on other calls a
 * missing name is -ENOENT; a removed parent takes no new entries. */
static int new_name_check(struct nameidata *nd, bool want_dir)
{
	if (!nd->last[0] || nd->last_dot)
		return -EEXIST;
	struct vnode *child = NULL;
	int err = lookup_last(nd, &child);
	if (err == 0) {
		vn_unref(child);
		return -EEXIST;
	}
	if (err != -ENOENT)
		return err;
	if ((nd->trailing_slash && !want_dir) || nd->dir->unlinked)
		return -ENOENT;
	return 0;
}

static int may_create(struct task *t, struct nameidata *nd, bool want_dir)
{
	int err = new_name_check(nd, want_dir);
	if (err < 0)
		return err;
	if (vn_rdonly(nd->dir))
		return -EROFS;
	return vfs_permission(nd->dir, t->cred, W_OK | X_OK);
}

/* The sticky bit: in such a directory only the owner of an entry, the
 * owner of the directory or root may remove or rename it. */
static int check_sticky(const struct cred *c, struct vnode *dir, struct vnode *victim)
{
	if (cred_is_root(c))
		return 0;
	struct stat ds, vs;
	int err = vfs_getattr(dir, &ds);
	if (err < 0)
		return err;
	if (!(ds.st_mode & S_ISVTX) || ds.st_uid == c->fsuid)
		return 0;
	err = vfs_getattr(victim, &vs);
	if (err < 0)
		return err;
	return vs.st_uid == c->fsuid ? 0 : -EPERM;
}

/* The kernel's may_delete(): may t remove victim from dir, expecting a
 * directory (isdir) or not? A mountpoint is busy. */
static int may_delete(struct task *t, struct vnode *dir, struct vnode *victim, bool isdir)
{
	int err = vfs_permission(dir, t->cred, W_OK | X_OK);
	if (err == 0)
		err = check_sticky(t->cred, dir, victim);
	if (err < 0)
		return err;
	if (isdir && victim->type != VDIR)
		return -ENOTDIR;
	if (!isdir && victim->type == VDIR)
		return -EISDIR;
	if (victim->mnt != dir->mnt)
		return -EBUSY;
	return 0;
}

typedef int (*parent_fn)(struct task *t, struct nameidata *nd, const void *arg);

/* Read the path, resolve its parent, and run fn on it. */
static long with_parent(struct sysreq *r, int dirfd, uint64_t upath, parent_fn fn, const void *arg)
{
	char path[PATH_MAX];
	int err = req_path(r, upath, path, false);
	if (err < 0)
		return err;
	struct nameidata nd;
	err = namei(r->task, dirfd, path, LOOKUP_PARENT, &nd);
	if (err < 0)
		return err;
	err = fn(r->task, &nd, arg);
	nd_release(&nd);
	return err;
}

static int mkdir_in(struct task *t, struct nameidata *nd, const void *arg)
{
	mode_t mode = *(const mode_t *)arg;
	int err = may_create(t, nd, true);
	if (err < 0)
		return err;
	struct vnode *dir = nd->dir;
	if (!dir->ops->mkdir)
		return -EROFS;
	/* The kernel keeps the permission and sticky bits, less the umask. */
	err = dir->ops->mkdir(dir, nd->last, (mode & 01777) & ~t->fs->umask, t->cred);
	if (err == 0) {
		dcache_forget(dir, nd->last);
		vnotify_created(dir, nd->last);
	}
	return err;
}

long sys_mkdir(struct sysreq *r)
{
	switch (r->nr) {
	case __NR_mkdir: {
		mode_t mode = (mode_t)r->args[1];
		return with_parent(r, AT_FDCWD, r->args[0], mkdir_in, &mode);
	}
	case __NR_mkdirat: {
		mode_t mode = (mode_t)r->args[2];
		return with_parent(r, (int)r->args[0], r->args[1], mkdir_in, &mode);
	}
	}
	return -ENOSYS;
}

static int mknod_in(struct task *t, struct nameidata *nd, const void *arg)
{
	mode_t mode = *(const mode_t *)arg;
	int err = may_create(t, nd, false);
	if (err < 0)
		return err;
	/* Device nodes are not the guest's to make, root or not: it could
	 * name host devices through them. */
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return -EPERM;
	struct vnode *dir = nd->dir;
	mode = (mode & S_IFMT) | (mode & 07777 & ~t->fs->umask);
	if (dir->ops->mknod) {
		err = dir->ops->mknod(dir, nd->last, mode, 0, t->cred);
	} else if (S_ISREG(mode) && dir->ops->create) {
		struct vnode *vn = NULL;
		err = dir->ops->create(dir, nd->last, mode, t->cred, &vn);
		if (err == 0)
			vn_unref(vn);
	} else {
		return -EROFS;
	}
	if (err == 0) {
		dcache_forget(dir, nd->last);
		vnotify_created(dir, nd->last);
	}
	return err;
}

int sys_mknod_at(struct task *t, struct nameidata *nd, mode_t mode)
{
	return mknod_in(t, nd, &mode);
}

static long do_mknodat(struct sysreq *r, int dirfd, uint64_t upath, mode_t mode)
{
	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		break;
	case S_IFREG: case S_IFIFO: case S_IFSOCK: case S_IFCHR: case S_IFBLK:
		break;
	case S_IFDIR:
		return -EPERM;
	default:
		return -EINVAL;
	}
	return with_parent(r, dirfd, upath, mknod_in, &mode);
}

long sys_mknod(struct sysreq *r)
{
	switch (r->nr) {
	case __NR_mknod:
		return do_mknodat(r, AT_FDCWD, r->args[0], (mode_t)r->args[1]);
	case __NR_mknodat:
		return do_mknodat(r, (int)r->args[0], r->args[1], (mode_t)r->args[2]);
	}
	return -ENOSYS;
}

static int unlink_in(struct task *t, struct nameidata *nd, const void *arg)
{
	if (!nd->last[0] || nd->last_dot)
		return -EISDIR;
	if (vn_rdonly(nd->dir))
		return -EROFS;
	_cleanup_(sys_vn_unrefp) struct vnode *victim = NULL;
	int err = lookup_last(nd, &victim);
	if (err < 0)
		return err;
	/* "name/" asks for a directory, which unlink never removes. */
	if (nd->trailing_slash)
		return victim->type == VDIR ? -EISDIR : -ENOTDIR;
	err = may_delete(t, nd->dir, victim, false);
	if (err < 0)
		return err;
	struct vnode *dir = nd->dir;
	if (!dir->ops->unlink)
		return -EROFS;
	struct stat st;
	bool sock = victim->type == VSOCK && vfs_getattr(victim, &st) == 0;
	err = dir->ops->unlink(dir, nd->last);
	if (err == 0) {
		dcache_forget(dir, nd->last);
		vnotify_removed(dir, nd->last, victim);
	}
	/* The last name of a bound socket file: its abstract name goes. */
	if (err == 0 && sock) {
		struct stat now;
		if (vfs_getattr(victim, &now) < 0 || now.st_nlink == 0)
			unixaddr_forget(st.st_dev, st.st_ino);
	}
	return err;
}

int sys_unlink_at(struct task *t, struct nameidata *nd)
{
	return unlink_in(t, nd, NULL);
}

static int rmdir_in(struct task *t, struct nameidata *nd, const void *arg)
{
	if (!nd->last[0])
		return -EBUSY;
	if (nd->last_dot)
		return strcmp(nd->last, "..") == 0 ? -ENOTEMPTY : -EINVAL;
	if (vn_rdonly(nd->dir))
		return -EROFS;
	_cleanup_(sys_vn_unrefp) struct vnode *victim = NULL;
	int err = lookup_last(nd, &victim);
	if (err < 0)
		return err;
	err = may_delete(t, nd->dir, victim, true);
	if (err < 0)
		return err;
	struct vnode *dir = nd->dir;
	if (!dir->ops->rmdir)
		return -EROFS;
	err = dir->ops->rmdir(dir, nd->last);
	if (err == 0) {
		dcache_forget(dir, nd->last);
		vnotify_removed(dir, nd->last, victim);
		if (victim->ops->cache_lookups)
			dcache_remove_children(victim);
	}
	return err;
}

long sys_unlink(struct sysreq *r)
{
	switch (r->nr) {
	case __NR_unlink:
		return with_parent(r, AT_FDCWD, r->args[0], unlink_in, NULL);
	case __NR_rmdir:
		return with_parent(r, AT_FDCWD, r->args[0], rmdir_in, NULL);
	case __NR_unlinkat: {
		int flags = (int)r->args[2];
		if (flags & ~AT_REMOVEDIR)
			return -EINVAL;
		return with_parent(r, (int)r->args[0], r->args[1],
				   (flags & AT_REMOVEDIR) ? rmdir_in : unlink_in, NULL);
	}
	}
	return -ENOSYS;
}

/* ---- rename ------------------------------------------------------------- */

/* Is a at or above v, inside v's mount? */
static bool is_ancestor(const struct vnode *a, const struct vnode *v)
{
	for (unsigned depth = 0; v && depth < 4096; depth++) {
		if (vn_same(v, a))
			return true;
		if (v->mnt && vn_same(v, v->mnt->root))
			return false;
		v = v->parent;
	}
	return false;
}

struct rename_op {
	struct nameidata *o, *n;
	struct vnode *src, *dst; /* dst NULL: the new name is free */
	unsigned flags;
};

static int rename_names(const struct rename_op *op)
{
	if (!op->o->last[0] || op->o->last_dot)
		return -EBUSY;
	if (!op->n->last[0] || op->n->last_dot)
		return (op->flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
	return 0;
}

/* Trailing slashes name directories. */
static int rename_slashes(const struct rename_op *op)
{
	bool exchange = op->flags & RENAME_EXCHANGE;
	if (op->src->type != VDIR &&
	    (op->o->trailing_slash || (!exchange && op->n->trailing_slash)))
		return -ENOTDIR;
	if (exchange && op->dst->type != VDIR && op->n->trailing_slash)
		return -ENOTDIR;
	return 0;
}

/* A directory cannot move below itself, nor replace one of its ancestors. */
static int rename_loops(const struct rename_op *op)
{
	if (op->src->type == VDIR && is_ancestor(op->src, op->n->dir))
		return -EINVAL;
	if (op->dst && op->dst->type == VDIR && is_ancestor(op->dst, op->o->dir))
		return (op->flags & RENAME_EXCHANGE) ? -EINVAL : -ENOTEMPTY;
	return 0;
}

static int rename_perms(struct task *t, const struct rename_op *op)
{
	bool exchange = op->flags & RENAME_EXCHANGE;
	bool sdir = op->src->type == VDIR;
	int err = may_delete(t, op->o->dir, op->src, sdir);
	if (err < 0)
		return err;
	if (op->dst)
		err = may_delete(t, op->n->dir, op->dst, exchange ? op->dst->type == VDIR : sdir);
	else if (op->n->dir->unlinked)
		err = -ENOENT;
	else
		err = vfs_permission(op->n->dir, t->cred, W_OK | X_OK);
	if (err < 0 || vn_same(op->o->dir, op->n->dir))
		return err;
	/* A directory changing parents rewrites its "..": it must be writable. */
	if (sdir)
		err = vfs_permission(op->src, t->cred, W_OK);
	if (err == 0 && exchange && op->dst->type == VDIR)
		err = vfs_permission(op->dst, t->cred, W_OK);
	return err;
}

static int rename_do(struct rename_op *op)
{
	struct vnode *odir = op->o->dir, *ndir = op->n->dir;
	if (!odir->ops->rename)
		return -EROFS;
	int err = odir->ops->rename(odir, op->o->last, ndir, op->n->last,
				    op->flags & (RENAME_NOREPLACE | RENAME_EXCHANGE));
	if (err == 0) {
		dcache_forget(odir, op->o->last);
		dcache_forget(ndir, op->n->last);
		vnotify_renamed(odir, op->o->last, ndir, op->n->last, op->flags, op->src, op->dst);
	}
	return err;
}

static int rename_in(struct task *t, struct nameidata *o, struct nameidata *n, unsigned flags)
{
	struct rename_op op = { .o = o, .n = n, .flags = flags };
	if (o->dir->mnt != n->dir->mnt)
		return -EXDEV;
	int err = rename_names(&op);
	if (err < 0)
		return err;
	if (vn_rdonly(o->dir))
		return -EROFS;
	_cleanup_(sys_vn_unrefp) struct vnode *src = NULL;
	_cleanup_(sys_vn_unrefp) struct vnode *dst = NULL;
	err = lookup_last(o, &src);
	if (err < 0)
		return err;
	err = lookup_last(n, &dst);
	if (err < 0 && err != -ENOENT)
		return err;
	op.src = src;
	op.dst = dst;
	if (!dst && (flags & RENAME_EXCHANGE))
		return -ENOENT;
	if (dst && (flags & RENAME_NOREPLACE))
		return -EEXIST;
	err = rename_slashes(&op);
	if (err < 0)
		return err;
	/* Two names of one file: POSIX says do nothing and succeed. */
	if (dst && vn_same(src, dst))
		return 0;
	err = rename_loops(&op);
	if (err == 0)
		err = rename_perms(t, &op);
	if (err == 0)
		err = rename_do(&op);
	return err;
}

static long do_renameat2(struct sysreq *r, int odfd, uint64_t uold, int ndfd, uint64_t unew,
			 unsigned flags)
{
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & RENAME_EXCHANGE) && (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))
		return -EINVAL;
	/* Whiteouts are an overlayfs device node: none of our filesystems
	 * takes them from the guest. */
	if (flags & RENAME_WHITEOUT)
		return -EINVAL;
	char opath[PATH_MAX], npath[PATH_MAX];
	/* Both read before either is resolved; req_path checks after each
	 * read that the caller is still there. */
	int err = req_path(r, uold, opath, false);
	if (err == 0)
		err = req_path(r, unew, npath, false);
	if (err < 0)
		return err;
	struct nameidata ond, nnd;
	err = namei(r->task, odfd, opath, LOOKUP_PARENT, &ond);
	if (err < 0)
		return err;
	err = namei(r->task, ndfd, npath, LOOKUP_PARENT, &nnd);
	if (err == 0) {
		err = rename_in(r->task, &ond, &nnd, flags);
		nd_release(&nnd);
	}
	nd_release(&ond);
	return err;
}

long sys_rename(struct sysreq *r)
{
	switch (r->nr) {
	case __NR_rename:
		return do_renameat2(r, AT_FDCWD, r->args[0], AT_FDCWD, r->args[1], 0);
	case __NR_renameat:
		return do_renameat2(r, (int)r->args[0], r->args[1], (int)r->args[2], r->args[3], 0);
	case __NR_renameat2:
		return do_renameat2(r, (int)r->args[0], r->args[1], (int)r->args[2], r->args[3],
				    (unsigned)r->args[4]);
	}
	return -ENOSYS;
}

/* ---- symlink and link --------------------------------------------------- */

static int symlink_in(struct task *t, struct nameidata *nd, const void *arg)
{
	const char *target = arg;
	int err = may_create(t, nd, false);
	if (err < 0)
		return err;
	struct vnode *dir = nd->dir;
	if (!dir->ops->symlink)
		return -EROFS;
	err = dir->ops->symlink(dir, nd->last, target, t->cred);
	if (err == 0) {
		dcache_forget(dir, nd->last);
		vnotify_created(dir, nd->last);
	}
	return err;
}

static long do_symlinkat(struct sysreq *r, uint64_t utarget, int dirfd, uint64_t upath)
{
	char target[PATH_MAX];
	/* An empty target is -ENOENT, as the kernel's getname() says. */
	int err = req_path(r, utarget, target, false);
	if (err < 0)
		return err;
	return with_parent(r, dirfd, upath, symlink_in, target);
}

long sys_symlink(struct sysreq *r)
{
	switch (r->nr) {
	case __NR_symlink:
		return do_symlinkat(r, r->args[0], AT_FDCWD, r->args[1]);
	case __NR_symlinkat:
		return do_symlinkat(r, r->args[0], (int)r->args[1], r->args[2]);
	}
	return -ENOSYS;
}

/* fs.protected_hardlinks (on by default): linking someone else's file
 * needs a plain file, not set-id, that the caller could read and write. */
static int may_linkat(const struct cred *c, struct vnode *src)
{
	if (cred_is_root(c))
		return 0;
	struct stat st;
	int err = vfs_getattr(src, &st);
	if (err < 0)
		return err;
	if (st.st_uid == c->fsuid)
		return 0;
	if (S_ISREG(st.st_mode) && !(st.st_mode & S_ISUID) &&
	    (st.st_mode & (S_ISGID | S_IXGRP)) != (S_ISGID | S_IXGRP) &&
	    vfs_permission(src, c, R_OK | W_OK) == 0)
		return 0;
	return -EPERM;
}

static int link_in(struct task *t, struct nameidata *nd, const void *arg)
{
	struct vnode *src = (struct vnode *)arg;
	int err = new_name_check(nd, false);
	if (err < 0)
		return err;
	if (vn_rdonly(nd->dir))
		return -EROFS;
	if (src->mnt != nd->dir->mnt)
		return -EXDEV;
	err = may_linkat(t->cred, src);
	if (err == 0)
		err = vfs_permission(nd->dir, t->cred, W_OK | X_OK);
	if (err < 0)
		return err;
	if (src->type == VDIR)
		return -EPERM;
	if (src->unlinked)
		return -ENOENT; /* no new names for a removed file */
	struct vnode *dir = nd->dir;
	if (!dir->ops->link)
		return -EROFS;
	err = dir->ops->link(dir, nd->last, src);
	if (err == 0) {
		dcache_forget(dir, nd->last);
		vnotify_created(dir, nd->last);
	}
	return err;
}

/* The file linkat links: a path, or (AT_EMPTY_PATH with "") the fd. A
 * pipe or socket lives on no mount of ours: -EXDEV, as across mounts. */
static int link_source(struct task *t, int dirfd, const char *path, bool follow, struct vnode **ret)
{
	if (!path[0]) {
		struct vnode *vn = NULL;
		if (dirfd == AT_FDCWD) {
			vn = t->fs->cwd;
		} else {
			int err = fd_vnode(t, dirfd, true, &vn, NULL);
			if (err < 0)
				return err;
		}
		if (!vn)
			return -EXDEV;
		*ret = vn_ref(vn);
		return 0;
	}
	struct nameidata nd;
	int err = namei(t, dirfd, path, follow ? LOOKUP_FOLLOW : 0, &nd);
	if (err < 0)
		return err;
	if (nd.vn)
		*ret = vn_ref(nd.vn);
	else
		err = -EXDEV;
	nd_release(&nd);
	return err;
}

static long do_linkat(struct sysreq *r, int odfd, uint64_t uold, int ndfd, uint64_t unew, int flags)
{
	struct task *t = r->task;
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	char opath[PATH_MAX];
	int err = req_path(r, uold, opath, flags & AT_EMPTY_PATH);
	if (err < 0)
		return err;
	/* Linking an open file by fd needs CAP_DAC_READ_SEARCH. */
	if (!opath[0] && !cred_is_root(t->cred))
		return -ENOENT;
	_cleanup_(sys_vn_unrefp) struct vnode *src = NULL;
	/* Both paths are read before either is resolved. */
	char npath[PATH_MAX];
	err = req_path(r, unew, npath, false);
	if (err == 0)
		err = link_source(t, odfd, opath, flags & AT_SYMLINK_FOLLOW, &src);
	if (err < 0)
		return err;
	struct nameidata nd;
	err = namei(t, ndfd, npath, LOOKUP_PARENT, &nd);
	if (err < 0)
		return err;
	err = link_in(t, &nd, src);
	nd_release(&nd);
	return err;
}

long sys_link(struct sysreq *r)
{
	switch (r->nr) {
	case __NR_link:
		return do_linkat(r, AT_FDCWD, r->args[0], AT_FDCWD, r->args[1], 0);
	case __NR_linkat:
		return do_linkat(r, (int)r->args[0], r->args[1], (int)r->args[2], r->args[3],
				 (int)r->args[4]);
	}
	return -ENOSYS;
}
