/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the file-system handlers (sys_stat.c, sys_dir.c,
 * sys_attr.c). Header-only so unit tests can use the pure ones without a
 * running sentry; the rest are thin wrappers over the VFS. */
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "common/cleanup.h"
#include "platform/platform.h"
#include "sentry/vfs/namei.h"
#include "sentry/vfs/ofd.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/vfs.h"

/* Cleanup attribute for a vnode reference (NULL allowed). */
static inline void sys_vn_unrefp(struct vnode **p)
{
	if (*p)
		vn_unref(*p);
}

/* The capability model: the guest's "root" holds every capability, and,
 * like the kernel, capabilities follow the ids: euid 0 for the
 * non-filesystem ones (CAP_SETUID, CAP_SYS_CHROOT, CAP_SYS_ADMIN, ...),
 * fsuid 0 (cred_is_root) for the filesystem ones (CAP_CHOWN, CAP_FOWNER,
 * CAP_DAC_OVERRIDE, CAP_MKNOD, ...), which setfsuid() drops. */
static inline bool cred_privileged(const struct cred *c) { return c->euid == 0; }

/* Is gid the caller's filesystem gid or one of its supplementary groups? */
static inline bool cred_in_group(const struct cred *c, gid_t gid)
{
	if (c->fsgid == gid)
		return true;
	for (int i = 0; i < c->ngroups && i < (int)(sizeof(c->groups) / sizeof(c->groups[0])); i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

/* Permission bits of a host stat for cred c (the same rules as
 * vfs_permission, for fds that are not sentry vnodes: pipes, sockets, the
 * guest's own memfds). mask is R_OK|W_OK|X_OK. 0 or -EACCES. */
static inline int stat_permission(const struct stat *st, const struct cred *c, int mask)
{
	mask &= 7;
	if (cred_is_root(c)) {
		/* CAP_DAC_OVERRIDE: everything but executing a file nobody may execute. */
		if (!(mask & 1) || S_ISDIR(st->st_mode) || (st->st_mode & 0111))
			return 0;
		return -EACCES;
	}
	unsigned perm;
	if (st->st_uid == c->fsuid)
		perm = (st->st_mode >> 6) & 7;
	else if (cred_in_group(c, st->st_gid))
		perm = (st->st_mode >> 3) & 7;
	else
		perm = st->st_mode & 7;
	return (mask & ~perm) ? -EACCES : 0;
}

/* Is vn on a read-only mount? Mutations then fail with -EROFS. */
static inline bool vn_rdonly(const struct vnode *vn)
{
	return vn->mnt && (vn->mnt->flags & MNT_RDONLY);
}

/* Same file? The dentry cache may hold more than one vnode for a file over
 * time, so compare identities, not only pointers. */
static inline bool vn_same(const struct vnode *a, const struct vnode *b)
{
	return a == b || (a && b && a->mnt == b->mnt && a->ino == b->ino && a->ops == b->ops);
}

/* One step towards the global root: the parent, or for the root of a mount
 * the vnode it covers (so the caller sees the mountpoint next). NULL above
 * the global root. */
static inline struct vnode *vn_up(const struct vnode *v)
{
	if (v->mnt && vn_same(v, v->mnt->root))
		return v->mnt->mountpoint; /* NULL for the root mount */
	return v->parent;
}

/* Is v at or below dir (crossing mounts)? */
static inline bool vn_is_under(const struct vnode *v, const struct vnode *dir)
{
	for (unsigned depth = 0; v && depth < 4096; depth++) {
		if (vn_same(v, dir))
			return true;
		v = vn_up(v);
	}
	return false;
}

/* What guest fd `fd` names, as a vnode (borrowed): 0 with *ret_vn NULL
 * when it is not a sentry object (pipe, socket, the guest's own memfd).
 * O_PATH placeholders give -EBADF unless allow_opath, as the kernel does
 * for calls that need a real open file. -EBADF for no such fd. */
static inline int fd_vnode(struct task *t, int fd, bool allow_opath, struct vnode **ret_vn,
			   struct stat *ret_st)
{
	struct ofd *ofd = NULL;
	struct vnode *vn = NULL;
	int err = ofd_from_guest(t, fd, &ofd, &vn, ret_st);
	if (err < 0)
		return err;
	if (ofd && (ofd->flags & O_PATH) && !allow_opath)
		return -EBADF;
	*ret_vn = vn;
	return 0;
}

/* Forget what the dentry cache knows about dir/name after a mutation, for
 * filesystems that cache lookups (a negative entry after a create, a
 * positive one after an unlink or rename). */
static inline void dcache_forget(struct vnode *dir, const char *name)
{
	if (dir->ops && dir->ops->cache_lookups)
		dcache_remove(dir, name);
}

/* Copy a result out to the guest: all of it or -EFAULT. */
static inline int sys_put(struct sysreq *r, uint64_t addr, const void *buf, size_t len)
{
	ssize_t n = req_write(r, addr, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}

/* Copy an argument struct in from the guest (once): all of it or -EFAULT. */
static inline int sys_get(struct sysreq *r, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = req_read(r, addr, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}
