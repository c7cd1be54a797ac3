/* SPDX-License-Identifier: MIT */
/* Helpers shared by the file-system handlers (see sys_fs.h). */
#include "syscalls/sys_fs.h"

#include <sys/stat.h>

void sys_vn_unrefp(struct vnode **p)
{
	if (*p)
		vn_unref(*p);
}

bool cred_privileged(const struct cred *c) { return c->euid == 0; }

bool cred_in_group(const struct cred *c, gid_t gid)
{
	if (c->fsgid == gid)
		return true;
	for (int i = 0; i < c->ngroups && i < (int)(sizeof(c->groups) / sizeof(c->groups[0])); i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

int stat_permission(const struct stat *st, const struct cred *c, int mask)
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

bool vn_rdonly(const struct vnode *vn)
{
	return vn->mnt && (vn->mnt->flags & MNT_RDONLY);
}

bool vn_same(const struct vnode *a, const struct vnode *b)
{
	return a == b || (a && b && a->mnt == b->mnt && a->ino == b->ino && a->ops == b->ops);
}

struct vnode *vn_up(const struct vnode *v)
{
	if (v->mnt && vn_same(v, v->mnt->root))
		return v->mnt->mountpoint; /* NULL for the root mount */
	return v->parent;
}

bool vn_is_under(const struct vnode *v, const struct vnode *dir)
{
	for (unsigned depth = 0; v && depth < 4096; depth++) {
		if (vn_same(v, dir))
			return true;
		v = vn_up(v);
	}
	return false;
}

int fd_vnode(struct task *t, int fd, bool allow_opath, struct vnode **ret_vn,
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

void dcache_forget(struct vnode *dir, const char *name)
{
	if (dir->ops && dir->ops->cache_lookups)
		dcache_remove(dir, name);
}

int sys_put(struct sysreq *r, uint64_t addr, const void *buf, size_t len)
{
	ssize_t n = req_write(r, addr, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}

int sys_get(struct sysreq *r, uint64_t addr, void *buf, size_t len)
{
	ssize_t n = req_read(r, addr, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}
