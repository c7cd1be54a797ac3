/* SPDX-License-Identifier: MIT */
/* overlay: the sandbox's writable root, after Linux's overlayfs.
 *
 * Layers. The lower layer is a read-only vnode tree: the view the gofer
 * serves (the default view's synthesized root with its gofer mounts, or a
 * --rootfs), built with MNT_DETACHED mounts that only the overlay reaches;
 * its lookups go through vfs_lookup_one(), so they cross those mounts and
 * use the dentry cache like any other gofer lookup. The upper layer is a
 * tmpfs of its own (in memory: it vanishes with the sandbox and never
 * reaches the host). A name is looked up in the upper directory first,
 * then, unless the upper directory is opaque, in the lower one.
 *
 * Vnodes. Directories are always overlay vnodes (struct ovl_node in
 * vn->priv: the upper and lower directories, either may be NULL); an
 * upper directory points back at its overlay vnode (tmpfs_shadow), so
 * there is one overlay vnode per directory however it is reached. A
 * non-directory that exists only in the lower layer is an overlay vnode
 * too; a non-directory in the upper layer is the upper tmpfs vnode itself,
 * which then carries the overlay's identity (its mount is the overlay's,
 * its inode number the overlay's): upper files cost nothing over tmpfs,
 * hard links share one vnode, and the host-inode map (fstat of guest fds)
 * finds the same vnode a path does.
 *
 * Copy-up. Opening a lower file for writing (O_WRONLY, O_RDWR, O_TRUNC),
 * truncate, chmod, chown, utimes and hard links copy it up first: its
 * parent directories are copied up (metadata only) from the top down, then
 * the object is made in the upper layer with the lower one's mode, owner
 * and times, and a regular file's data is copied by the sentry with
 * sendfile() from the lower file's host fd into the upper memfd (never
 * through guest memory; O_TRUNC and truncate to 0 copy none). A large file
 * is copied with the sentry lock dropped, into the work directory beside
 * the upper root (overlayfs's workdir), and renamed into place. A device
 * node cannot be copied up (EPERM). Extended attributes are not stored by
 * any of the sentry's filesystems yet, so there are none to copy. Reading
 * never copies up.
 *
 * Whiteouts and opaque directories. Removing a name that the lower layer
 * has leaves a whiteout in the upper directory (a 0/0 character device,
 * which guests cannot make); rmdir of a directory with a lower part
 * replaces its upper directory by a whiteout. Every directory made by
 * mkdir (and every upper-only directory moved by rename) is opaque: it
 * never merges with a lower directory of the same name, which is what
 * overlayfs does when a directory is removed and made again. Replacing
 * a whiteout is atomic: the new object is made under a temporary name and
 * renamed over it (tmpfs never drops the sentry lock, so nobody sees the
 * temporary name).
 *
 * Rename. A non-directory is copied up and renamed in the upper layer,
 * leaving a whiteout where the lower layer has the old name. A directory
 * with a lower part cannot be renamed (-EXDEV, as overlayfs without
 * redirect_dir); `mv` then copies and deletes. Upper-only directories
 * move freely.
 *
 * Readdir. The lower listing first, in the lower layer's order, without
 * whited-out names and with a copied-up entry shown at its lower position,
 * then the upper-only names in the order they were made. The order is
 * deterministic, so offsets (indexes into the placeholder's snapshot, see
 * sentry/vfs/ofd.h) stay valid: a copy-up never moves an entry, a removal
 * drops one, a new name goes at the end; and an open directory stream
 * keeps its snapshot until it is rewound.
 *
 * Inode numbers (what overlayfs's xino option does). st_dev is the
 * overlay mount's for every object. A lower object's number is its lower
 * number with the index of its lower mount in the top byte (each mount of
 * the lower tree gets one, 0 for the first seen), bit 63 clear; an upper
 * object made in the overlay has its tmpfs number with bit 63 set. A copy
 * keeps the lower number, so st_ino is the same before and after copy-up,
 * also after a rename (the number lives in the upper vnode). A lower number
 * already using bit 63 or the top byte could collide; host filesystems do
 * not hand those out in practice. Merged directories report st_nlink 1
 * (unknown), as overlayfs does.
 *
 * Host permissions. The overlay mount carries no MNT_HOSTPERM; instead a
 * vnode with a lower part on such a mount has host_getattr (vfs.h):
 * reading and searching need the lower file's "other" bits, whatever the
 * guest has done to the upper copy. A copy of a file the host does not let
 * "other" read cannot be made: the sentry reads the lower file as the
 * sandbox's unprivileged host uid. Masked paths of the view are absent in
 * the lower layer itself (the gofer fs refuses them), so creating or
 * renaming over one only ever shows the guest's own files.
 *
 * Locking and order. Everything runs under the sentry lock (vfs.h). The
 * upper layer (tmpfs) never drops it; lower operations may (gofer round
 * trips), and each function that can wait says so. Operations do
 * everything that may wait first (copying up, looking names up in the
 * lower layer, listing a lower directory) and then commit with upper
 * operations only, re-checking the upper layer (a name another guest
 * thread made or removed meanwhile is seen there; the lower layer never
 * changes). Copy-up goes from the root down (parent before child) and
 * is idempotent: a copy another thread made meanwhile is adopted. The
 * caller holds a reference on every vnode it passes, which keeps parents
 * alive across a wait (a vnode holds its parent). */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* Inode numbers: the lower mount's index in the top byte; bit 63 for
 * upper-only objects. */
#define OVL_FSID_SHIFT 56
#define OVL_MAX_FSID 127
#define OVL_UPPER_BIT (1ULL << 63)
/* Upper-layer inodes: whiteouts cost one each and no host fd, so more than
 * a plain tmpfs's default (regular files are still bounded by the
 * sentry's fd limit, which gives -ENOSPC). */
#define OVL_UPPER_INODES (1u << 18)
/* Data copied per sendfile() call during copy-up. */
#define OVL_COPY_CHUNK (1 << 30)
/* Files at least this large are copied with the sentry lock dropped, into
 * the work directory, and renamed into place afterwards. */
#define OVL_COPY_UNLOCKED (1 << 20)

struct ovl_sb {
	struct vnode *lower_root;          /* reference */
	struct vnode *upper_fs;            /* the upper tmpfs's root (reference) */
	struct vnode *work;                /* its work directory (borrowed) */
	struct mount *fsid[OVL_MAX_FSID];  /* lower mounts by index */
	unsigned nfsid;
	unsigned tmp_seq;                  /* temporary names */
	size_t refs;                       /* one per overlay vnode */
};

struct ovl_node {
	struct ovl_sb *sb;
	struct vnode *upper; /* reference, or NULL (not copied up) */
	struct vnode *lower; /* reference, or NULL (upper only) */
};

static const struct fs_ops ovl_ops;

static inline struct ovl_node *O(const struct vnode *vn) { return vn->priv; }
static inline bool is_ovl(const struct vnode *vn) { return vn && vn->ops == &ovl_ops; }

/* ---- identity ------------------------------------------------------------ */

static uint64_t ovl_ino_in(struct ovl_sb *sb, const struct mount *mnt, uint64_t lower_ino)
{
	unsigned id;
	for (id = 0; id < sb->nfsid && sb->fsid[id] != mnt; id++)
		;
	if (id == sb->nfsid) {
		if (sb->nfsid < OVL_MAX_FSID)
			sb->fsid[sb->nfsid++] = (struct mount *)mnt;
		else
			id = OVL_MAX_FSID - 1; /* shared from here on: numbers may collide */
	}
	uint64_t ino = (lower_ino ^ ((uint64_t)id << OVL_FSID_SHIFT)) & ~OVL_UPPER_BIT;
	return ino ? ino : 1;
}

static uint64_t ovl_lower_ino(struct ovl_sb *sb, const struct vnode *lower)
{
	return ovl_ino_in(sb, lower->mnt, lower->ino);
}

static uint64_t ovl_upper_ino(uint64_t tmpfs_ino) { return tmpfs_ino | OVL_UPPER_BIT; }

static void sb_unref(struct ovl_sb *sb)
{
	if (--sb->refs > 0)
		return;
	vn_unref(sb->lower_root);
	vn_unref(sb->upper_fs);
	free(sb);
}

/* An overlay vnode for (upper, lower) named name in dir; takes over both
 * references (also on failure). */
static int ovl_vnode_new(struct ovl_sb *sb, struct vnode *dir, const char *name, struct vnode *upper,
			 struct vnode *lower, struct vnode **ret)
{
	struct vnode *real = upper ? upper : lower;
	struct ovl_node *n = calloc(1, sizeof(*n));
	struct vnode *vn = n ? vn_alloc(&ovl_ops, dir ? dir->mnt : NULL, real->type,
					upper ? upper->ino : ovl_lower_ino(sb, lower), dir, name)
			     : NULL;
	if (!vn) {
		free(n);
		vn_unref(upper);
		vn_unref(lower);
		return -ENOMEM;
	}
	*n = (struct ovl_node){ .sb = sb, .upper = upper, .lower = lower };
	sb->refs++;
	vn->priv = n;
	if (upper && upper->type == VDIR)
		tmpfs_set_shadow(upper, vn);
	*ret = vn;
	return 0;
}

/* The upper directory of dir wrapper d, once it has one; its mount is the
 * overlay's (the upper root learns it here, the rest inherit it). */
static struct vnode *upper_of(struct vnode *dir)
{
	struct vnode *u = O(dir)->upper;
	if (u && !u->mnt)
		u->mnt = dir->mnt;
	return u;
}

/* Does dir's upper directory hide the lower one? */
static bool dir_opaque(const struct vnode *dir)
{
	const struct ovl_node *d = O(dir);
	return !d->lower || (d->upper && tmpfs_is_opaque(d->upper));
}

/* An upper vnode the overlay hands out as itself: its mount is ours. */
static struct vnode *upper_adopt(struct vnode *dir, struct vnode *u)
{
	if (!u->mnt || u->mnt != dir->mnt)
		u->mnt = dir->mnt;
	return u;
}

/* A wrapper that another overlay vnode of the same object copied up (two
 * vnodes of one object exist only briefly, e.g. after a failed dentry
 * insert): take the copy. One upper hash lookup, and only when the parent
 * has an upper directory. */
static void ovl_sync(struct vnode *vn)
{
	struct ovl_node *n = O(vn);
	if (n->upper || vn->unlinked || !is_ovl(vn->parent))
		return;
	struct vnode *pu = O(vn->parent)->upper, *u = NULL;
	if (!pu || pu->ops->lookup(pu, vn->name, &u) < 0)
		return;
	if (u->ino == vn->ino && u->type == vn->type && !tmpfs_is_whiteout(u)) {
		n->upper = u;
		if (u->type == VDIR && !tmpfs_shadow(u))
			tmpfs_set_shadow(u, vn);
		return;
	}
	vn_unref(u);
}

/* ---- lookup ---------------------------------------------------------------- */

/**
 * ovl_lookup() - fs_ops.lookup.
 *
 * Drops the sentry lock while the lower layer waits for the gofer; the
 * caller holds a reference on @dir. After a lower lookup the upper layer
 * is looked at again (another thread may have made or removed the name)
 * and a vnode another thread put in the dentry cache meanwhile wins.
 */
static int ovl_lookup(struct vnode *dir, const char *name, struct vnode **ret)
{
	if (dir->type != VDIR)
		return -ENOTDIR;
	if (!is_single_component(name))
		return -ENOENT;
	struct ovl_node *d = O(dir);
	struct vnode *lower = NULL;
	bool looked = false;
	ovl_sync(dir);
	for (;;) {
		struct vnode *u = NULL;
		struct vnode *pu = upper_of(dir);
		if (pu) {
			int r = pu->ops->lookup(pu, name, &u);
			if (r < 0 && r != -ENOENT) {
				vn_unref(lower);
				return r;
			}
		}
		if (u && (tmpfs_is_whiteout(u) || u->type != VDIR)) {
			vn_unref(lower);
			if (tmpfs_is_whiteout(u)) {
				vn_unref(u);
				return -ENOENT;
			}
			*ret = upper_adopt(dir, u);
			return 0;
		}
		bool want_lower = !dir_opaque(dir) && !(u && tmpfs_is_opaque(u));
		if (!want_lower || looked) {
			if (!want_lower) {
				vn_unref(lower);
				lower = NULL;
			}
			if (u) {
				if (lower && lower->type != VDIR) {
					vn_unref(lower);
					lower = NULL;
				}
				struct vnode *w = tmpfs_shadow(u);
				if (w) {
					vn_unref(u);
					vn_unref(lower);
					*ret = vn_ref(w);
					return 0;
				}
				return ovl_vnode_new(d->sb, dir, name, u, lower, ret);
			}
			if (!lower)
				return -ENOENT;
			return ovl_vnode_new(d->sb, dir, name, NULL, lower, ret);
		}
		vn_unref(u);
		int r = vfs_lookup_one(d->sb->lower_root, d->lower, name, &lower);
		if (r == -ENOENT)
			lower = NULL;
		else if (r < 0)
			return r;
		looked = true;
		bool neg;
		struct vnode *cached = dcache_lookup(dir, name, &neg);
		if (cached) {
			vn_unref(lower);
			*ret = cached;
			return 0;
		}
	}
}

/* dir's child name as the overlay has it (never crossing a mount on top):
 * from the dentry cache, else looked up and cached. May drop the sentry
 * lock (ovl_lookup). */
static int ovl_child(struct vnode *dir, const char *name, struct vnode **ret)
{
	bool neg;
	struct vnode *c = dcache_lookup(dir, name, &neg);
	if (c) {
		*ret = c;
		return 0;
	}
	if (neg)
		return -ENOENT;
	int r = ovl_lookup(dir, name, &c);
	if (r == -ENOENT)
		(void)dcache_insert(dir, name, NULL);
	if (r < 0)
		return r;
	(void)dcache_insert(dir, name, c);
	*ret = c;
	return 0;
}

/* Does the lower layer show name in dir (so removing it needs a
 * whiteout)? 1, 0 or -errno. May drop the sentry lock. */
static int lower_has(struct vnode *dir, const char *name)
{
	if (dir_opaque(dir))
		return 0;
	struct vnode *l;
	int r = vfs_lookup_one(O(dir)->sb->lower_root, O(dir)->lower, name, &l);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	vn_unref(l);
	return 1;
}

/* ---- attributes ---------------------------------------------------------- */

static struct vnode *real_of(struct vnode *vn)
{
	return O(vn)->upper ? O(vn)->upper : O(vn)->lower;
}

/* May drop the sentry lock (a lower getattr); the caller holds @vn. */
static int ovl_getattr(struct vnode *vn, struct stat *st)
{
	ovl_sync(vn);
	struct vnode *real = real_of(vn);
	int r = real->ops->getattr(real, st);
	if (r < 0)
		return r;
	/* A merged directory's link count is not known (overlayfs says 1). */
	if (vn->type == VDIR && O(vn)->upper && O(vn)->lower)
		st->st_nlink = 1;
	return 0;
}

static int ovl_host_getattr(struct vnode *vn, struct stat *st)
{
	struct vnode *l = O(vn)->lower;
	if (!l || !l->mnt || !(l->mnt->flags & MNT_HOSTPERM))
		return 1;
	int r = l->ops->getattr(l, st);
	return r < 0 ? r : 0;
}

/* May drop the sentry lock (a lower readlink); the caller holds @vn. */
static ssize_t ovl_readlink(struct vnode *vn, char *buf, size_t len)
{
	ovl_sync(vn);
	struct vnode *real = real_of(vn);
	if (!real->ops->readlink)
		return -EINVAL;
	return real->ops->readlink(real, buf, len);
}

/* What statfs shows of the lower layer: as much as the VFS makes up for a
 * filesystem that does not say (the host's real sizes are none of the
 * guest's business), counted as used. */
#define OVL_LOWER_BLOCKS 131072 /* 512 MiB of 4 KiB */
#define OVL_LOWER_FILES 32768

static int ovl_statfs(struct vnode *vn, struct statfs *st)
{
	/* The free space is the upper layer's: that is where writes go. */
	struct vnode *root = vn;
	while (is_ovl(root->parent))
		root = root->parent;
	struct vnode *u = upper_of(root);
	if (!u || !u->ops->statfs)
		return -ENOSYS;
	int r = u->ops->statfs(u, st);
	if (r < 0)
		return r;
	st->f_type = OVERLAYFS_SUPER_MAGIC;
	st->f_blocks += OVL_LOWER_BLOCKS;
	st->f_files += OVL_LOWER_FILES;
	return 0;
}

/* ---- copy-up ----------------------------------------------------------- */

/* Copy a regular file's data from in to out in the kernel (sendfile), or
 * through a buffer of the sentry's where sendfile does not apply. */
static int copy_data(int in, int out)
{
	for (;;) {
		ssize_t k = sendfile(out, in, NULL, OVL_COPY_CHUNK);
		if (k > 0)
			continue;
		if (k == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EINVAL && errno != ENOSYS)
			return neg_errno();
		break;
	}
	char buf[65536];
	for (;;) {
		ssize_t k = read(in, buf, sizeof(buf));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return neg_errno();
		if (k == 0)
			return 0;
		int r = write_all(out, buf, (size_t)k);
		if (r < 0)
			return r;
	}
}

static int tmp_name(struct ovl_sb *sb, struct vnode *pu, char buf[32]);

/* The work directory, beside the upper root in the upper tmpfs (as
 * overlayfs's workdir): where a large copy is made while the lock is
 * dropped, out of the guest's sight, to be renamed into place. */
static struct vnode *work_of(struct vnode *vn)
{
	struct vnode *w = O(vn)->sb->work;
	if (!w->mnt)
		w->mnt = vn->mnt;
	return w;
}

/**
 * copy_reg_unlocked() - copy a large regular file's data without the lock.
 *
 * The copy is made in the work directory, filled with the sentry lock
 * dropped (vfs_block_begin), then renamed to vn's name in pu unless the
 * world moved meanwhile: 1 when another thread made the copy first,
 * -ENOENT when the name was removed. The caller holds @vn, which holds
 * its parent and with it @pu.
 */
static int copy_reg_unlocked(struct vnode *vn, struct vnode *pu, const struct stat *st, int lfd,
			     const struct setattr *sa, struct vnode **ret)
{
	struct vnode *w = work_of(vn), *u = NULL;
	char tmp[32];
	int r = tmp_name(O(vn)->sb, w, tmp);
	if (r == 0)
		r = w->ops->create(w, tmp, S_IFREG | (st->st_mode & 07777), NULL, &u);
	if (r < 0)
		return r;
	int wfd = -1;
	r = u->ops->open(u, O_WRONLY, &wfd);
	if (r == 0) {
		vfs_block_begin();
		r = copy_data(lfd, wfd);
		vfs_block_end();
		close(wfd);
	}
	if (r == 0)
		r = u->ops->setattr(u, sa);
	ovl_sync(vn);
	if (r == 0 && O(vn)->upper)
		r = 1;
	else if (r == 0 && vn->unlinked)
		r = -ENOENT;
	if (r == 0)
		r = w->ops->rename(w, tmp, pu, vn->name, RENAME_NOREPLACE);
	if (r != 0) {
		vn_unref(u);
		(void)w->ops->unlink(w, tmp);
		return r;
	}
	*ret = u;
	return 0;
}

/* Open the lower file of overlay vnode vn. The lower filesystem tells the
 * host-inode map about the fd; fstat of the guest's fds must find vn, so
 * it is told again. May drop the sentry lock; the caller holds @vn. */
static int lower_open(struct vnode *vn, int flags, int *ret_fd)
{
	struct vnode *l = O(vn)->lower;
	if (!l->ops->open)
		return -ENXIO;
	int fd = -1;
	int r = l->ops->open(l, flags, &fd);
	if (r < 0)
		return r;
	struct stat st;
	if (fstat(fd, &st) == 0)
		vfs_hostino_cache(st.st_dev, st.st_ino, vn);
	*ret_fd = fd;
	return 0;
}

/* Make the copy of lower object vn (attributes st, data from lfd) in upper
 * directory pu; *ret is the new upper vnode. Waits (without the lock) only
 * to copy a large file's data: then 1 means another thread made the copy
 * meanwhile. */
static int copy_make(struct vnode *vn, struct vnode *pu, const struct stat *st, int lfd,
		     const char *link, struct vnode **ret)
{
	struct vnode *u = NULL;
	const char *name = vn->name;
	struct setattr sa = { .valid = SA_UID | SA_GID | SA_ATIME | SA_MTIME, .uid = st->st_uid,
			      .gid = st->st_gid, .atime = st->st_atim, .mtime = st->st_mtim };
	if (vn->type != VLNK) {
		sa.valid |= SA_MODE;
		sa.mode = st->st_mode;
	}
	int r;
	if (vn->type == VREG && lfd >= 0 && st->st_size >= OVL_COPY_UNLOCKED) {
		if ((r = copy_reg_unlocked(vn, pu, st, lfd, &sa, &u)) != 0)
			return r;
		u->ino = vn->ino;
		*ret = u;
		return 0;
	}
	switch (vn->type) {
	case VREG:
		r = pu->ops->create(pu, name, S_IFREG | (st->st_mode & 07777), NULL, &u);
		break;
	case VDIR:
		r = pu->ops->mkdir(pu, name, st->st_mode & 07777, NULL);
		break;
	case VLNK:
		r = pu->ops->symlink(pu, name, link, NULL);
		break;
	case VFIFO:
	case VSOCK:
		r = pu->ops->mknod(pu, name, st->st_mode & (S_IFMT | 07777), 0, NULL);
		break;
	default:
		return -EPERM; /* device nodes: none in the upper layer */
	}
	if (r == 0 && !u)
		r = pu->ops->lookup(pu, name, &u);
	if (r < 0)
		return r;
	if (lfd >= 0) {
		int wfd = -1;
		r = u->ops->open(u, O_WRONLY, &wfd);
		if (r == 0) {
			r = copy_data(lfd, wfd);
			close(wfd);
		}
	}
	if (r == 0)
		r = u->ops->setattr(u, &sa);
	if (r < 0) {
		vn_unref(u);
		(void)(vn->type == VDIR ? pu->ops->rmdir(pu, name) : pu->ops->unlink(pu, name));
		return r;
	}
	u->ino = vn->ino; /* the same object: the same number */
	*ret = u;
	return 0;
}

/**
 * ovl_copy_up() - give overlay vnode @vn an upper copy, its parents first.
 * @data: copy a regular file's data (false: it is about to be truncated).
 *
 * May drop the sentry lock (the lower layer: opening the file, reading a
 * link, and the same for each parent); the caller holds a reference on
 * @vn. A copy made meanwhile through another vnode is adopted.
 */
static int ovl_copy_up(struct vnode *vn, bool data)
{
	struct ovl_node *n = O(vn);
	if (n->upper)
		return 0;
	if (!is_ovl(vn->parent))
		return -EIO; /* the root always has its upper directory */
	struct vnode *parent = vn->parent;
	int r = ovl_copy_up(parent, true);
	if (r < 0)
		return r;
	struct vnode *lower = n->lower;
	struct stat st;
	if ((r = lower->ops->getattr(lower, &st)) < 0)
		return r;
	_cleanup_close_ int lfd = -1;
	char link[PATH_MAX];
	if (vn->type == VREG && data && st.st_size > 0) {
		if ((r = lower_open(vn, O_RDONLY, &lfd)) < 0)
			return r;
	} else if (vn->type == VLNK) {
		ssize_t k = lower->ops->readlink ? lower->ops->readlink(lower, link, sizeof(link) - 1) : -EINVAL;
		if (k < 0)
			return (int)k;
		link[k] = '\0';
	}
	/* The lock may have been dropped: look again before committing. */
	ovl_sync(vn);
	if (n->upper)
		return 0;
	if (vn->unlinked)
		return -ENOENT;
	struct vnode *pu = upper_of(parent), *u;
	if ((r = copy_make(vn, pu, &st, lfd, link, &u)) != 0)
		return r < 0 ? r : 0; /* 1: another thread's copy was adopted */
	n->upper = u;
	if (u->type == VDIR)
		tmpfs_set_shadow(u, vn);
	else
		(void)dcache_insert(parent, vn->name, u); /* later lookups give the copy itself */
	return 0;
}

/* The upper directory of dir, copied up if need be. May drop the lock. */
static int ovl_upper_dir(struct vnode *dir, struct vnode **ret)
{
	int r = ovl_copy_up(dir, true);
	if (r < 0)
		return r;
	*ret = upper_of(dir);
	return 0;
}

/* ---- open and setattr ----------------------------------------------------- */

/**
 * ovl_open() - fs_ops.open. A write open copies up first.
 *
 * May drop the sentry lock (copy-up; the lower open); the caller holds a
 * reference on @vn.
 */
static int ovl_open(struct vnode *vn, int flags, int *ret_fd)
{
	struct ovl_node *n = O(vn);
	if (vn->type == VDIR)
		return -EISDIR;
	ovl_sync(vn);
	bool writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
	if (writes && !n->upper && (vn->type == VREG || vn->type == VFIFO)) {
		int r = ovl_copy_up(vn, !(flags & O_TRUNC));
		if (r < 0)
			return r;
	}
	if (n->upper)
		return n->upper->ops->open(n->upper, flags, ret_fd);
	return lower_open(vn, flags, ret_fd);
}

/* May drop the sentry lock (copy-up); the caller holds a reference on @vn. */
static int ovl_setattr(struct vnode *vn, const struct setattr *sa)
{
	ovl_sync(vn);
	bool data = !((sa->valid & SA_SIZE) && sa->size == 0);
	int r = ovl_copy_up(vn, data);
	if (r < 0)
		return r;
	struct vnode *u = O(vn)->upper;
	return u->ops->setattr(u, sa);
}

/* ---- readdir --------------------------------------------------------------- */

/* A set of names (open addressing, XXH3), for merging listings. */
struct nameset {
	const char **names;
	uint32_t *idx;
	size_t cap;
};

static int nameset_init(struct nameset *s, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n + 1)
		cap *= 2;
	s->names = calloc(cap, sizeof(*s->names));
	s->idx = calloc(cap, sizeof(*s->idx));
	s->cap = cap;
	return s->names && s->idx ? 0 : -ENOMEM;
}

static void nameset_free(struct nameset *s)
{
	free(s->names);
	free(s->idx);
}

static size_t nameset_slot(const struct nameset *s, const char *name)
{
	size_t i = XXH3_64bits(name, strlen(name)) & (s->cap - 1);
	while (s->names[i] && strcmp(s->names[i], name))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static void nameset_add(struct nameset *s, const char *name, uint32_t idx)
{
	size_t i = nameset_slot(s, name);
	s->names[i] = name;
	s->idx[i] = idx;
}

/* Index of name, or -1. */
static long nameset_find(const struct nameset *s, const char *name)
{
	size_t i = nameset_slot(s, name);
	return s->names[i] ? (long)s->idx[i] : -1;
}

/* The lower listing of dir with the overlay's inode numbers. May drop the
 * sentry lock (a gofer listing). */
static int lower_list(struct vnode *dir, struct dirent_list *out)
{
	struct ovl_node *d = O(dir);
	struct vnode *l = d->lower;
	if (!l->ops->readdir)
		return 0;
	vn_ref(l);
	int r = l->ops->readdir(l, out);
	if (r == 0) {
		/* Listings of a filesystem that does not cache lookups (the
		 * synthesized root) are cheap to look up, and there a name may
		 * be a mountpoint whose number is the mounted root's. */
		bool cheap = !l->ops->cache_lookups;
		for (size_t i = 0; i < out->n; i++) {
			struct vnode *c;
			if (cheap && vfs_lookup_one(d->sb->lower_root, l, out->ents[i].name, &c) == 0) {
				out->ents[i].ino = ovl_lower_ino(d->sb, c);
				vn_unref(c);
			} else {
				out->ents[i].ino = ovl_ino_in(d->sb, l->mnt, out->ents[i].ino);
			}
		}
	}
	vn_unref(l);
	return r;
}

/* Merge the lower listing `low` (may be empty) with dir's upper directory
 * into out. Positions (struct vdirent): a lower entry's is 3 + its index in
 * the lower listing, which never changes; an upper-only entry's comes
 * after all of those, in the upper directory's creation order. So removing
 * or adding names moves nobody else, and a copy-up keeps its entry's
 * place. Never waits. */
static int merge_list(struct vnode *dir, struct dirent_list *low, struct dirent_list *out)
{
	struct vnode *u = upper_of(dir);
	struct dirent_list up = { 0 };
	uint64_t base = 2 + low->n; /* above every lower position */
	int r = 0;
	if (u && (r = u->ops->readdir(u, &up)) < 0)
		goto done;
	struct nameset set = { 0 };
	if ((r = nameset_init(&set, up.n)) < 0) {
		nameset_free(&set);
		goto done;
	}
	for (size_t i = 0; i < up.n; i++)
		nameset_add(&set, up.ents[i].name, (uint32_t)i);
	bool *shown = calloc(up.n ? up.n : 1, sizeof(*shown));
	if (!shown)
		r = -ENOMEM;
	for (size_t i = 0; i < low->n && r == 0; i++) {
		const struct vdirent *e = &low->ents[i];
		long k = up.n ? nameset_find(&set, e->name) : -1;
		if (k < 0) {
			r = dirent_list_add_at(out, 3 + i, e->ino, e->type, e->name);
			continue;
		}
		shown[k] = true;
		/* Whiteouts are the upper layer's only character devices. */
		if (up.ents[k].type != DT_CHR)
			r = dirent_list_add_at(out, 3 + i, up.ents[k].ino, up.ents[k].type, up.ents[k].name);
	}
	for (size_t i = 0; i < up.n && r == 0; i++) {
		const struct vdirent *e = &up.ents[i];
		/* tmpfs positions are 2 + its creation sequence (tmpfs.c). */
		uint64_t seq = e->off > 2 ? e->off - 2 : i + 1;
		if (!shown[i] && e->type != DT_CHR)
			r = dirent_list_add_at(out, base + seq, e->ino, e->type, e->name);
	}
	free(shown);
	nameset_free(&set);
done:
	dirent_list_free(&up);
	return r;
}

/* The merged listing of dir. May drop the sentry lock (lower_list). */
static int ovl_list(struct vnode *dir, struct dirent_list *out)
{
	struct dirent_list low = { 0 };
	int r = 0;
	ovl_sync(dir);
	if (!dir_opaque(dir))
		r = lower_list(dir, &low);
	if (r == 0)
		r = merge_list(dir, &low, out);
	dirent_list_free(&low);
	return r;
}

/* May drop the sentry lock; the caller holds a reference on @dir. */
static int ovl_readdir(struct vnode *dir, struct dirent_list *out)
{
	if (dir->type != VDIR)
		return -ENOTDIR;
	return ovl_list(dir, out);
}

/* Is dir empty as the guest sees it? 1, 0 or -errno. May drop the lock. */
static int ovl_empty(struct vnode *dir)
{
	struct dirent_list l = { 0 };
	int r = ovl_list(dir, &l);
	if (r == 0)
		r = l.n == 0;
	dirent_list_free(&l);
	return r;
}

/* ---- making names ------------------------------------------------------- */

/* A name free in upper directory pu, for a moment. */
static int tmp_name(struct ovl_sb *sb, struct vnode *pu, char buf[32])
{
	for (int i = 0; i < 64; i++) {
		snprintf(buf, 32, ".moat-ovl.%u", ++sb->tmp_seq);
		struct vnode *x;
		int r = pu->ops->lookup(pu, buf, &x);
		if (r == -ENOENT)
			return 0;
		if (r < 0)
			return r;
		vn_unref(x);
	}
	return -EEXIST;
}

struct make_args {
	enum { MK_CREATE, MK_MKDIR, MK_MKNOD, MK_SYMLINK, MK_LINK } kind;
	mode_t mode;
	const struct cred *cred;
	const char *target;
	struct vnode *link_to;
	struct vnode *made; /* MK_CREATE: the new vnode (reference) */
};

static int make_one(struct vnode *pu, const char *name, struct make_args *a)
{
	switch (a->kind) {
	case MK_CREATE:
		return pu->ops->create(pu, name, a->mode, a->cred, &a->made);
	case MK_MKDIR:
		return pu->ops->mkdir(pu, name, a->mode, a->cred);
	case MK_MKNOD:
		return pu->ops->mknod(pu, name, a->mode, 0, a->cred);
	case MK_SYMLINK:
		return pu->ops->symlink(pu, name, a->target, a->cred);
	case MK_LINK:
		return pu->ops->link(pu, name, a->link_to);
	}
	return -EINVAL;
}

/* Make an object named name in upper directory pu, replacing a whiteout
 * there atomically (made under a temporary name and renamed over it). The
 * overlay already said the name is free. Never waits. */
static int upper_make(struct ovl_sb *sb, struct vnode *pu, const char *name, struct make_args *a)
{
	struct vnode *e;
	int r = pu->ops->lookup(pu, name, &e);
	if (r == -ENOENT)
		return make_one(pu, name, a);
	if (r < 0)
		return r;
	bool wh = tmpfs_is_whiteout(e);
	vn_unref(e);
	if (!wh)
		return -EEXIST;
	char tmp[32];
	if ((r = tmp_name(sb, pu, tmp)) < 0 || (r = make_one(pu, tmp, a)) < 0)
		return r;
	bool dir = a->kind == MK_MKDIR;
	/* A directory cannot replace a non-directory: swap, then drop the
	 * whiteout from the temporary name. */
	r = pu->ops->rename(pu, tmp, pu, name, dir ? RENAME_EXCHANGE : 0);
	if (r < 0) {
		if (a->made) {
			vn_unref(a->made);
			a->made = NULL;
		}
		(void)(dir ? pu->ops->rmdir(pu, tmp) : pu->ops->unlink(pu, tmp));
		return r;
	}
	if (dir)
		(void)pu->ops->unlink(pu, tmp);
	return 0;
}

/* Remove every whiteout of upper directory u (a directory about to go). */
static int clear_whiteouts(struct vnode *u)
{
	struct dirent_list l = { 0 };
	int r = u->ops->readdir(u, &l);
	for (size_t i = 0; i < l.n && r == 0; i++)
		if (l.ents[i].type == DT_CHR)
			r = u->ops->unlink(u, l.ents[i].name);
	dirent_list_free(&l);
	return r;
}

/* Does upper directory u hold anything but whiteouts? */
static int upper_busy(struct vnode *u)
{
	struct dirent_list l = { 0 };
	int r = u->ops->readdir(u, &l);
	for (size_t i = 0; i < l.n && r == 0; i++)
		if (l.ents[i].type != DT_CHR)
			r = 1;
	dirent_list_free(&l);
	return r;
}

/* Put a whiteout at name in upper directory pu, replacing what is there
 * (a non-directory, or with `dir` a directory holding only whiteouts)
 * atomically. What the caller decided on may have changed while it
 * waited: an existing whiteout means the name is gone already (-ENOENT),
 * and an object of the other kind or a directory that is no longer empty
 * is refused. Never waits. */
static int upper_whiteout(struct ovl_sb *sb, struct vnode *pu, const char *name, bool want_dir)
{
	struct vnode *e;
	int r = pu->ops->lookup(pu, name, &e);
	if (r == -ENOENT)
		return tmpfs_mkwhiteout(pu, name);
	if (r < 0)
		return r;
	bool wh = tmpfs_is_whiteout(e), dir = e->type == VDIR;
	int busy = dir && !wh ? upper_busy(e) : 0;
	vn_unref(e);
	if (wh)
		return -ENOENT;
	if (dir != want_dir)
		return dir ? -EISDIR : -ENOTDIR;
	if (busy)
		return busy < 0 ? busy : -ENOTEMPTY;
	char tmp[32];
	if ((r = tmp_name(sb, pu, tmp)) < 0 || (r = tmpfs_mkwhiteout(pu, tmp)) < 0)
		return r;
	if (!dir) {
		r = pu->ops->rename(pu, tmp, pu, name, 0);
		if (r < 0)
			(void)pu->ops->unlink(pu, tmp);
		return r;
	}
	if ((r = pu->ops->rename(pu, tmp, pu, name, RENAME_EXCHANGE)) < 0) {
		(void)pu->ops->unlink(pu, tmp);
		return r;
	}
	/* The old directory is at tmp now, out of sight. */
	struct vnode *old;
	if (pu->ops->lookup(pu, tmp, &old) == 0) {
		(void)clear_whiteouts(old);
		vn_unref(old);
	}
	return pu->ops->rmdir(pu, tmp);
}

/* The new upper object name in pu gets its overlay number (and a directory
 * the opaque flag: whatever the lower layer has there stays hidden).
 * *ret (if non-NULL) gets a reference. */
static int upper_made(struct vnode *dir, struct vnode *pu, const char *name, struct vnode **ret)
{
	struct vnode *u;
	int r = pu->ops->lookup(pu, name, &u);
	if (r < 0)
		return r;
	u->ino = ovl_upper_ino(u->ino);
	if (u->type == VDIR)
		tmpfs_set_opaque(u, true);
	upper_adopt(dir, u);
	if (ret)
		*ret = u;
	else
		vn_unref(u);
	return 0;
}

/* The common path of create, mkdir, mknod, symlink and link. May drop the
 * sentry lock (copying dir up); the caller holds a reference on @dir. */
static int ovl_make(struct vnode *dir, const char *name, struct make_args *a, struct vnode **ret)
{
	if (dir->type != VDIR)
		return -ENOTDIR;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	struct vnode *pu;
	int r = ovl_upper_dir(dir, &pu);
	if (r < 0)
		return r;
	if ((r = upper_make(O(dir)->sb, pu, name, a)) < 0)
		return r;
	if (a->made) {
		vn_unref(a->made);
		a->made = NULL;
	}
	struct vnode *u = NULL;
	if (a->kind == MK_LINK) {
		dcache_remove(dir, name);
		return 0; /* a new name of an object that has its number */
	}
	if ((r = upper_made(dir, pu, name, &u)) < 0)
		return r;
	if (u->type == VDIR) {
		dcache_remove(dir, name); /* its overlay vnode is made by the next lookup */
	} else {
		(void)dcache_insert(dir, name, u);
	}
	if (ret)
		*ret = u;
	else
		vn_unref(u);
	return 0;
}

static int ovl_create(struct vnode *dir, const char *name, mode_t mode, const struct cred *c,
		      struct vnode **ret)
{
	struct make_args a = { .kind = MK_CREATE, .mode = mode, .cred = c };
	return ovl_make(dir, name, &a, ret);
}

static int ovl_mkdir(struct vnode *dir, const char *name, mode_t mode, const struct cred *c)
{
	struct make_args a = { .kind = MK_MKDIR, .mode = mode, .cred = c };
	return ovl_make(dir, name, &a, NULL);
}

static int ovl_mknod(struct vnode *dir, const char *name, mode_t mode, dev_t dev, const struct cred *c)
{
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return -EPERM;
	struct make_args a = { .kind = MK_MKNOD, .mode = mode, .cred = c };
	return ovl_make(dir, name, &a, NULL);
}

static int ovl_symlink(struct vnode *dir, const char *name, const char *target, const struct cred *c)
{
	struct make_args a = { .kind = MK_SYMLINK, .target = target, .cred = c };
	return ovl_make(dir, name, &a, NULL);
}

/* May drop the sentry lock (copy-up of the target and of dir). */
static int ovl_link(struct vnode *dir, const char *name, struct vnode *target)
{
	struct vnode *u;
	if (is_ovl(target)) {
		if (target->type == VDIR)
			return -EPERM;
		int r = ovl_copy_up(target, true);
		if (r < 0)
			return r;
		u = O(target)->upper;
	} else if (tmpfs_is(target) && target->mnt == dir->mnt) {
		u = target;
	} else {
		return -EXDEV;
	}
	vn_ref(u);
	struct make_args a = { .kind = MK_LINK, .link_to = u };
	int r = ovl_make(dir, name, &a, NULL);
	vn_unref(u);
	return r;
}

/* ---- removing names ---------------------------------------------------------- */

/* May drop the sentry lock (lower lookups, copy-up of dir). */
static int ovl_unlink(struct vnode *dir, const char *name)
{
	struct vnode *victim;
	int r = ovl_child(dir, name, &victim);
	if (r < 0)
		return r;
	int wh = 0;
	if (victim->type == VDIR)
		r = -EISDIR;
	else if (victim->mounted)
		r = -EBUSY;
	else if (is_ovl(victim) && O(victim)->lower)
		wh = 1;
	else
		r = wh = lower_has(dir, name);
	struct vnode *pu = NULL;
	if (r >= 0)
		r = ovl_upper_dir(dir, &pu);
	if (r >= 0)
		r = wh ? upper_whiteout(O(dir)->sb, pu, name, false) : pu->ops->unlink(pu, name);
	if (r >= 0) {
		if (is_ovl(victim))
			victim->unlinked = true;
		dcache_remove(dir, name);
	}
	vn_unref(victim);
	return r < 0 ? r : 0;
}

/* May drop the sentry lock (lower lookups and listings, copy-up of dir). */
static int ovl_rmdir(struct vnode *dir, const char *name)
{
	struct vnode *victim;
	int r = ovl_child(dir, name, &victim);
	if (r < 0)
		return r;
	int wh = 0;
	struct vnode *pu = NULL;
	if (victim->type != VDIR || !is_ovl(victim))
		r = -ENOTDIR;
	else if (victim->mounted)
		r = -EBUSY;
	else if (O(victim)->lower)
		wh = 1;
	else
		r = wh = lower_has(dir, name);
	if (r >= 0)
		r = ovl_upper_dir(dir, &pu);
	/* The lower listing may wait; the upper layer is read again right
	 * before the commit, by the second call (the lower part is cached by
	 * then, and never changes). */
	if (r >= 0 && (r = ovl_empty(victim)) > 0)
		r = ovl_empty(victim);
	if (r == 0)
		r = -ENOTEMPTY;
	if (r > 0) {
		struct vnode *vu = O(victim)->upper;
		if (wh)
			r = upper_whiteout(O(dir)->sb, pu, name, true);
		else if (!vu)
			r = -EIO; /* neither layer has it: cannot be */
		else if ((r = clear_whiteouts(vu)) == 0)
			r = pu->ops->rmdir(pu, name);
	}
	if (r >= 0) {
		victim->unlinked = true;
		dcache_remove(dir, name);
	}
	vn_unref(victim);
	return r < 0 ? r : 0;
}

/* ---- rename ------------------------------------------------------------------ */

/* A directory with a lower part: it cannot move (no redirect_dir). */
static bool has_lower_dir(const struct vnode *vn)
{
	return vn->type == VDIR && is_ovl(vn) && O(vn)->lower;
}

static struct vnode *upper_vnode(struct vnode *vn)
{
	return is_ovl(vn) ? O(vn)->upper : vn;
}

/**
 * ovl_rename() - fs_ops.rename.
 *
 * Non-directories are copied up and renamed in the upper layer, with a
 * whiteout left where the lower layer has the old name; directories with
 * a lower part give -EXDEV. May drop the sentry lock (copy-up, lower
 * lookups and listings) before it commits; the caller holds references
 * on @odir and @ndir.
 */
static int ovl_rename(struct vnode *odir, const char *oname, struct vnode *ndir, const char *nname,
		      unsigned flags)
{
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (!is_ovl(odir) || !is_ovl(ndir) || O(odir)->sb != O(ndir)->sb)
		return -EXDEV;
	struct ovl_sb *sb = O(odir)->sb;
	bool exchange = flags & RENAME_EXCHANGE;
	struct vnode *src = NULL, *dst = NULL, *pou = NULL, *pnu = NULL;
	_cleanup_free_ char *sname = NULL, *dname = NULL;
	char tmp[32];
	bool tmp_made = false;
	int wh = 0;
	int r = ovl_child(odir, oname, &src);
	if (r < 0)
		return r;
	r = ovl_child(ndir, nname, &dst);
	if (r == -ENOENT) {
		dst = NULL;
		r = 0;
	}
	if (r < 0)
		goto out;
	r = -EBUSY;
	if (src->mounted || (dst && dst->mounted))
		goto out;
	r = 0;
	if (!dst && exchange)
		r = -ENOENT;
	else if (dst && (flags & RENAME_NOREPLACE))
		r = -EEXIST;
	else if (dst && !exchange && src->type == VDIR && dst->type != VDIR)
		r = -ENOTDIR;
	else if (dst && !exchange && src->type != VDIR && dst->type == VDIR)
		r = -EISDIR;
	else if (has_lower_dir(src) || (exchange && has_lower_dir(dst)))
		r = -EXDEV;
	if (r < 0 || (dst && upper_vnode(src) && upper_vnode(src) == upper_vnode(dst)))
		goto out; /* also: two names of one file, nothing to do */
	/* Everything that may wait: copies, lower lookups and listings. */
	if (is_ovl(src) && (r = ovl_copy_up(src, true)) < 0)
		goto out;
	if (exchange && is_ovl(dst) && (r = ovl_copy_up(dst, true)) < 0)
		goto out;
	if ((r = ovl_upper_dir(odir, &pou)) < 0 || (r = ovl_upper_dir(ndir, &pnu)) < 0)
		goto out;
	if (!exchange) {
		wh = (is_ovl(src) && O(src)->lower) ? 1 : lower_has(odir, oname);
		if ((r = wh) < 0)
			goto out;
		/* A directory replaced must be empty; listed twice so the
		 * upper layer is read right before the commit. */
		if (dst && dst->type == VDIR) {
			if ((r = ovl_empty(dst)) > 0)
				r = ovl_empty(dst);
			if (r <= 0) {
				r = r < 0 ? r : -ENOTEMPTY;
				goto out;
			}
		}
	}
	r = -ENOMEM;
	if ((is_ovl(src) && !(sname = strdup(nname))) || (exchange && is_ovl(dst) && !(dname = strdup(oname))))
		goto out;
	/* Commit: upper operations only from here. */
	struct vnode *su = upper_vnode(src);
	if (exchange) {
		r = pou->ops->rename(pou, oname, pnu, nname, RENAME_EXCHANGE);
	} else {
		struct vnode *du = dst ? upper_vnode(dst) : NULL, *e = NULL;
		if (du && du->type == VDIR && (r = clear_whiteouts(du)) < 0)
			goto out;
		bool over_wh = !dst && pnu->ops->lookup(pnu, nname, &e) == 0 && tmpfs_is_whiteout(e);
		vn_unref(e);
		if (over_wh && su->type == VDIR) {
			/* A directory cannot replace the whiteout: swap them, and
			 * the whiteout lands on the old name, where it is needed
			 * or dropped. */
			r = pou->ops->rename(pou, oname, pnu, nname, RENAME_EXCHANGE);
			if (r == 0 && !wh)
				(void)pou->ops->unlink(pou, oname);
		} else {
			/* The whiteout for the old name is made first, so a
			 * failure leaves nothing half done. */
			if (wh) {
				if ((r = tmp_name(sb, pou, tmp)) < 0 || (r = tmpfs_mkwhiteout(pou, tmp)) < 0)
					goto out;
				tmp_made = true;
			}
			/* Over whatever the upper layer has there: the guest's
			 * object, a whiteout, or nothing (then the lower
			 * object is hidden by it). */
			r = pou->ops->rename(pou, oname, pnu, nname, 0);
			if (r == 0 && tmp_made) {
				r = pou->ops->rename(pou, tmp, pou, oname, 0);
				tmp_made = r < 0;
				r = 0; /* the rename itself is done */
			}
		}
	}
	if (r < 0)
		goto out;
	if (su->type == VDIR)
		tmpfs_set_opaque(su, true); /* upper-only: never merges where it lands */
	if (exchange && dst && upper_vnode(dst)->type == VDIR)
		tmpfs_set_opaque(upper_vnode(dst), true);
	if (is_ovl(src))
		vn_set_name(src, ndir, TAKE_PTR(sname));
	if (exchange && is_ovl(dst))
		vn_set_name(dst, odir, TAKE_PTR(dname));
	else if (dst && is_ovl(dst))
		dst->unlinked = true;
	dcache_remove(odir, oname);
	dcache_remove(ndir, nname);
out:
	if (tmp_made)
		(void)pou->ops->unlink(pou, tmp);
	vn_unref(src);
	vn_unref(dst);
	return r;
}

/* ---- lifetime and constructor ---------------------------------------------------- */

static void ovl_release(struct vnode *vn)
{
	struct ovl_node *n = O(vn);
	if (!n)
		return;
	if (n->upper && tmpfs_shadow(n->upper) == vn)
		tmpfs_set_shadow(n->upper, NULL);
	vn_unref(n->upper);
	vn_unref(n->lower);
	struct ovl_sb *sb = n->sb;
	free(n);
	vn->priv = NULL;
	sb_unref(sb);
}

/* A non-directory's watch is its upper copy's (a tmpfs file); a lower
 * file and a directory have none: they get stand-ins (notify.c). */
static int ovl_notify_host(struct vnode *vn)
{
	if (vn->type == VDIR)
		return -EOPNOTSUPP;
	ovl_sync(vn);
	struct vnode *u = O(vn)->upper;
	return u && u->ops->notify_host ? u->ops->notify_host(u) : -EOPNOTSUPP;
}

static const struct fs_ops ovl_ops = {
	.name = "overlay",
	.lookup = ovl_lookup,
	.getattr = ovl_getattr,
	.readlink = ovl_readlink,
	.open = ovl_open,
	.readdir = ovl_readdir,
	.create = ovl_create,
	.mkdir = ovl_mkdir,
	.mknod = ovl_mknod,
	.symlink = ovl_symlink,
	.link = ovl_link,
	.unlink = ovl_unlink,
	.rmdir = ovl_rmdir,
	.rename = ovl_rename,
	.setattr = ovl_setattr,
	.statfs = ovl_statfs,
	.host_getattr = ovl_host_getattr,
	.notify_host = ovl_notify_host,
	.release = ovl_release,
	/* Lookups are remembered (a lower lookup may cost a gofer round
	 * trip); every change of a name updates the cache here. */
	.cache_lookups = true,
};

int overlay_new(struct vnode *lower_root, struct vnode **ret_root)
{
	if (lower_root->type != VDIR || !lower_root->ops->getattr)
		return -ENOTDIR;
	struct stat st;
	int r = lower_root->ops->getattr(lower_root, &st);
	if (r < 0)
		return r;
	struct ovl_sb *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->lower_root = vn_ref(lower_root);
	sb->refs = 1; /* ours until the root holds one */
	/* The upper tmpfs holds the upper root and the work directory side
	 * by side, so a copy made in the latter can be renamed into the
	 * former (the layout of overlayfs's upperdir and workdir). */
	struct vnode *upper = NULL, *root = NULL;
	if ((r = tmpfs_new(0700, 0, 0, &sb->upper_fs)) == 0 &&
	    (r = tmpfs_set_limits(sb->upper_fs, 0, OVL_UPPER_INODES)) == 0 &&
	    (r = tmpfs_add_dir(sb->upper_fs, "work", 0700, &sb->work)) == 0 &&
	    (r = tmpfs_add_dir(sb->upper_fs, "upper", st.st_mode & 07777, &upper)) == 0) {
		vn_unref(sb->work); /* the tree keeps it */
		struct setattr sa = { .valid = SA_UID | SA_GID, .uid = st.st_uid, .gid = st.st_gid };
		if ((r = upper->ops->setattr(upper, &sa)) == 0)
			r = ovl_vnode_new(sb, NULL, "/", upper, vn_ref(lower_root), &root);
		else
			vn_unref(upper);
	}
	sb_unref(sb); /* the root's reference keeps it from here on */
	if (r < 0)
		return r;
	upper->ino = root->ino = ovl_lower_ino(sb, lower_root);
	*ret_root = root;
	return 0;
}

struct vnode *overlay_upper(const struct vnode *vn)
{
	return is_ovl(vn) ? O(vn)->upper : NULL;
}

bool overlay_is(const struct vnode *vn) { return is_ovl(vn); }
