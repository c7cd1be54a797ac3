/* SPDX-License-Identifier: MIT */
/* getdents, getdents64: directory listings from the VFS, positioned by the
 * placeholder's own file offset (see sentry/vfs/ofd.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "syscalls/dirent_pack.h"
#include "syscalls/handlers.h"
#include "syscalls/sys_fs.h"

/* Largest getdents reply built at once; the guest calls again for more. */
#define DENTS_BUF_MAX (256 * 1024)

/* ---- getdents ----------------------------------------------------------- */

/* Inode number of ".." as seen from dir: the parent, or for the root of a
 * mount the parent of its mountpoint; the task's root is its own parent. */
static uint64_t dotdot_ino(const struct vnode *root, const struct vnode *dir)
{
	const struct vnode *v = dir;
	for (unsigned depth = 0; depth < 64; depth++) {
		if (vn_same(v, root))
			return v->ino;
		if (!(v->mnt && vn_same(v, v->mnt->root) && v->mnt->mountpoint))
			break;
		v = v->mnt->mountpoint;
	}
	if (vn_same(v, root) || !v->parent)
		return v->ino;
	return v->parent->ino;
}

/* Build the listing of dir: ".", "..", then what the filesystem says. A
 * removed directory lists nothing at all, as on Linux. */
static int dents_build(const struct vnode *root, struct vnode *dir, struct dirent_list *l)
{
	if (dir->unlinked)
		return 0;
	int err = dirent_list_add_at(l, 1, dir->ino, DT_DIR, ".");
	if (err == 0)
		err = dirent_list_add_at(l, 2, dotdot_ino(root, dir), DT_DIR, "..");
	if (err == 0 && dir->ops->readdir)
		err = dir->ops->readdir(dir, l);
	return err;
}

/* The ofd with key (dev, ino), with a snapshot of the directory as it is now.
 * A read at position 0 (the first one, or after rewinddir) takes a fresh
 * snapshot, as the kernel re-reads a rewound directory. The filesystem may
 * drop the sentry lock while listing, so the ofd is found again afterwards:
 * the guest may have closed it meanwhile. */
static int dents_snapshot(struct task *t, dev_t dev, ino_t ino, uint64_t pos, struct ofd **ret)
{
	struct ofd *ofd = ofd_find(dev, ino);
	if (!ofd)
		return -EBADF;
	if (pos == 0 || !ofd->dents_valid) {
		_cleanup_(sys_vn_unrefp) struct vnode *dir = vn_ref(ofd->vn);
		struct dirent_list l = { 0 };
		int err = dents_build(t->fs->root, dir, &l);
		if (err < 0) {
			dirent_list_free(&l);
			return err;
		}
		ofd = ofd_find(dev, ino);
		if (!ofd) {
			dirent_list_free(&l);
			return -EBADF;
		}
		dirent_list_free(&ofd->dents);
		ofd->dents = l;
		ofd->dents_valid = true;
	}
	*ret = ofd;
	return 0;
}

/* The position after entry i of l (struct vdirent). */
static uint64_t dent_off(const struct dirent_list *l, size_t i)
{
	return l->ents[i].off ? l->ents[i].off : i + 1;
}

/* The first entry to serve from position pos: the first whose position
 * is above it (positions increase along the listing). */
static size_t dents_first(const struct dirent_list *l, uint64_t pos)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (dent_off(l, mid) > pos)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Pack entries from *pos into the guest's buffer. -EINVAL when not even
 * the next entry fits; 0 at the end. */
static long dents_serve(struct sysreq *r, struct ofd *ofd, uint64_t *pos_io, uint64_t ubuf,
			unsigned count, bool is64)
{
	size_t cap = count < DENTS_BUF_MAX ? count : DENTS_BUF_MAX;
	const struct dirent_list *l = &ofd->dents;
	size_t i = dents_first(l, *pos_io);
	if (i >= l->n)
		return 0;
	_cleanup_free_ unsigned char *buf = malloc(cap ? cap : 1);
	if (!buf)
		return -ENOMEM;
	size_t used = 0;
	uint64_t pos = *pos_io;
	for (; i < l->n; i++) {
		const struct vdirent *e = &l->ents[i];
		/* d_off is where the next read starts: after this entry. */
		int64_t off = (int64_t)dent_off(l, i);
		size_t rl = is64 ? dirent64_pack(buf + used, cap - used, e->ino, off, e->type, e->name)
				 : dirent_old_pack(buf + used, cap - used, e->ino, off, e->type, e->name);
		if (!rl)
			break;
		used += rl;
		pos = (uint64_t)off;
	}
	if (used == 0)
		return -EINVAL;
	int err = sys_put(r, ubuf, buf, used);
	if (err < 0)
		return err; /* position unchanged: nothing was delivered */
	*pos_io = pos;
	return (long)used;
}

/* The directory position is the placeholder's own file position, so lseek,
 * rewinddir, telldir and seekdir work natively (ofd.h). */
long sys_getdents(struct sysreq *r)
{
	struct task *t = r->task;
	struct ofd *ofd = NULL;
	struct vnode *vn = NULL;
	int fd = (int)r->args[0];
	_cleanup_close_ int file = -1;
	int err = ofd_guest_file(t, fd, &ofd, &vn, NULL, &file);
	if (err < 0)
		return err;
	if (!ofd || !ofd->vn || ofd->vn->type != VDIR)
		return -ENOTDIR;
	if (ofd->flags & O_PATH)
		return -EBADF;
	off_t cur = lseek(file, 0, SEEK_CUR);
	if (cur < 0)
		return neg_errno();
	uint64_t pos = (uint64_t)cur;
	err = dents_snapshot(t, ofd->dev, ofd->ino, pos, &ofd);
	if (err < 0)
		return err;
	long n = dents_serve(r, ofd, &pos, r->args[1], (unsigned)r->args[2], r->nr == __NR_getdents64);
	if (n > 0 && lseek(file, (off_t)pos, SEEK_SET) < 0)
		return neg_errno();
	return n;
}
