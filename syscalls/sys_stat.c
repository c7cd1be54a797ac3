/* SPDX-License-Identifier: MIT */
/* stat, lstat, newfstatat, fstat, statx, access/faccessat/faccessat2,
 * readlink/readlinkat, statfs/fstatfs.
 *
 * Answers come from the sentry's VFS, never from the host: a host stat would
 * show host inode numbers, devices and the guest's unprivileged host uid.
 * The only host answers used are those of fds the guest made itself (pipes,
 * sockets, its own memfds), and their owner and device are translated. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sentry/kernel/sentry.h"
#include "sentry/fs/fs.h"
#include "syscalls/handlers.h"
#include "syscalls/sys_fs.h"

_Static_assert(sizeof(struct stat) == 144, "glibc's struct stat is the kernel's on x86-64");
_Static_assert(sizeof(struct statx) == 256, "struct statx is 256 bytes");
_Static_assert(sizeof(struct statfs) == 120, "glibc's struct statfs is the kernel's on x86-64");

/* st_dev shown for fds that are not sentry files: one made-up anonymous
 * device, so nothing of the host's device numbering shows. */
#define HOSTFD_DEV makedev(0, 0x3f)
/* Owner shown for host objects not owned by the guest's host uid, as a user
 * namespace shows unmapped ids. */
#define OVERFLOW_ID 65534

/* f_flags bit meaning "f_flags is valid" (the kernel's ST_VALID; glibc's
 * statvfs checks it). */
#define MOAT_ST_VALID 0x0020

/* A host stat of a guest-made fd, as the guest must see it. */
static void host_stat_translate(const struct task *t, struct stat *st)
{
	st->st_uid = st->st_uid == sentry.host_uid ? t->cred->euid : OVERFLOW_ID;
	st->st_gid = st->st_gid == sentry.host_gid ? t->cred->egid : OVERFLOW_ID;
	st->st_dev = HOSTFD_DEV;
}

/* vfs_getattr with a reference held: the filesystem may drop the sentry
 * lock (a gofer round trip), and a borrowed vnode could go meanwhile. */
static int getattr_held(struct vnode *vn, struct stat *ret)
{
	vn_ref(vn);
	int err = vfs_getattr(vn, ret);
	vn_unref(vn);
	return err;
}

/* stat of guest fd `fd` (AT_FDCWD: the cwd). */
static int stat_fd(struct task *t, int fd, struct stat *ret)
{
	if (fd == AT_FDCWD)
		return getattr_held(t->fs->cwd, ret);
	struct vnode *vn = NULL;
	struct stat hst;
	int err = fd_vnode(t, fd, true, &vn, &hst);
	if (err < 0)
		return err;
	if (vn) {
		/* The guest's own open file is the freshest word on a host
		 * file's size and times (it may have no name left to look at). */
		if (vn->type == VREG)
			gofer_fs_fresh_attrs(vn, &hst);
		return getattr_held(vn, ret);
	}
	host_stat_translate(t, &hst);
	*ret = hst;
	return 0;
}

/* What namei found: a vnode, or (a /proc/self/fd magic link to a pipe) a
 * host fd. */
static int stat_nd(struct task *t, const struct nameidata *nd, struct stat *ret)
{
	if (nd->vn)
		return vfs_getattr(nd->vn, ret);
	if (nd->hostfd < 0)
		return -ENOENT;
	struct stat st;
	if (fstat(nd->hostfd, &st) < 0)
		return -EIO;
	host_stat_translate(t, &st);
	*ret = st;
	return 0;
}

static unsigned at_lookup_flags(int atflags)
{
	return (atflags & AT_SYMLINK_NOFOLLOW) ? 0 : LOOKUP_FOLLOW;
}

/* Read the path argument of an *at() call. Since Linux 6.11 a NULL path
 * with AT_EMPTY_PATH means the fd itself, like "". */
static int read_at_path(struct sysreq *r, uint64_t upath, int atflags, char *path)
{
	if (upath == 0 && (atflags & AT_EMPTY_PATH)) {
		path[0] = 0;
		return 0;
	}
	return req_path(r, upath, path, atflags & AT_EMPTY_PATH);
}

/* The stat of what (dirfd, path, atflags) names. */
static int stat_at(struct sysreq *r, int dirfd, uint64_t upath, int atflags, struct stat *ret)
{
	struct task *t = r->task;
	char path[PATH_MAX];
	int err = read_at_path(r, upath, atflags, path);
	if (err < 0)
		return err;
	if (!path[0])
		return stat_fd(t, dirfd, ret);
	struct nameidata nd;
	err = namei(t, dirfd, path, at_lookup_flags(atflags), &nd);
	if (err < 0)
		return err;
	err = stat_nd(t, &nd, ret);
	nd_release(&nd);
	return err;
}

static long stat_out(struct sysreq *r, int err, const struct stat *st, uint64_t ubuf)
{
	if (err < 0)
		return err;
	return sys_put(r, ubuf, st, sizeof *st);
}

long sys_stat(struct sysreq *r)
{
	struct stat st;
	int err;
	switch (r->nr) {
	case __NR_stat:
		err = stat_at(r, AT_FDCWD, r->args[0], 0, &st);
		return stat_out(r, err, &st, r->args[1]);
	case __NR_lstat:
		err = stat_at(r, AT_FDCWD, r->args[0], AT_SYMLINK_NOFOLLOW, &st);
		return stat_out(r, err, &st, r->args[1]);
	case __NR_newfstatat: {
		int flags = (int)r->args[3];
		if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
			return -EINVAL;
		err = stat_at(r, (int)r->args[0], r->args[1], flags, &st);
		return stat_out(r, err, &st, r->args[2]);
	}
	case __NR_fstat:
		/* A real fd: AT_FDCWD means nothing here. */
		if ((int)r->args[0] < 0)
			return -EBADF;
		err = stat_fd(r->task, (int)r->args[0], &st);
		return stat_out(r, err, &st, r->args[1]);
	}
	return -ENOSYS;
}

/* struct statx from a stat: the basic fields, which every filesystem here
 * has; no birth time, no mount id (the bits stay clear, so the guest knows). */
static void stat_to_statx(const struct stat *st, struct statx *sx)
{
	memset(sx, 0, sizeof *sx);
	sx->stx_mask = STATX_BASIC_STATS;
	sx->stx_blksize = st->st_blksize;
	sx->stx_nlink = st->st_nlink;
	sx->stx_uid = st->st_uid;
	sx->stx_gid = st->st_gid;
	sx->stx_mode = st->st_mode;
	sx->stx_ino = st->st_ino;
	sx->stx_size = st->st_size;
	sx->stx_blocks = st->st_blocks;
	sx->stx_atime = (struct statx_timestamp){ st->st_atim.tv_sec, st->st_atim.tv_nsec };
	sx->stx_mtime = (struct statx_timestamp){ st->st_mtim.tv_sec, st->st_mtim.tv_nsec };
	sx->stx_ctime = (struct statx_timestamp){ st->st_ctim.tv_sec, st->st_ctim.tv_nsec };
	sx->stx_rdev_major = major(st->st_rdev);
	sx->stx_rdev_minor = minor(st->st_rdev);
	sx->stx_dev_major = major(st->st_dev);
	sx->stx_dev_minor = minor(st->st_dev);
}

long sys_statx(struct sysreq *r)
{
	int dirfd = (int)r->args[0];
	int flags = (int)r->args[2];
	unsigned mask = (unsigned)r->args[3];
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
		return -EINVAL;
	if (mask & STATX__RESERVED)
		return -EINVAL;
	struct stat st;
	int err = stat_at(r, dirfd, r->args[1], flags, &st);
	if (err < 0)
		return err;
	struct statx sx;
	stat_to_statx(&st, &sx);
	return sys_put(r, r->args[4], &sx, sizeof sx);
}

/* access() on a vnode, in the kernel's order: noexec, read-only, bits. */
static int access_vnode(struct vnode *vn, const struct cred *c, int mode)
{
	if (mode == F_OK)
		return 0;
	if ((mode & X_OK) && vn->type == VREG && vn->mnt && (vn->mnt->flags & MNT_NOEXEC))
		return -EACCES;
	/* Writing is refused on a read-only mount for what lives in the
	 * filesystem; devices, FIFOs and sockets stay writable (the kernel's
	 * special_file() exception). */
	if ((mode & W_OK) && vn_rdonly(vn) &&
	    (vn->type == VREG || vn->type == VDIR || vn->type == VLNK))
		return -EROFS;
	return vfs_permission(vn, c, mode);
}

/* access_vnode with a reference held: the permission check may drop the
 * sentry lock, and a vnode borrowed from an fd or the cwd could go. */
static int access_held(struct vnode *vn, const struct cred *c, int mode)
{
	vn_ref(vn);
	int err = access_vnode(vn, c, mode);
	vn_unref(vn);
	return err;
}

static int access_fd(struct task *t, int fd, const struct cred *c, int mode)
{
	if (fd == AT_FDCWD)
		return access_held(t->fs->cwd, c, mode);
	struct vnode *vn = NULL;
	struct stat hst;
	int err = fd_vnode(t, fd, true, &vn, &hst);
	if (err < 0)
		return err;
	if (vn)
		return access_held(vn, c, mode);
	host_stat_translate(t, &hst);
	return mode == F_OK ? 0 : stat_permission(&hst, c, mode);
}

static long do_access(struct sysreq *r, int dirfd, uint64_t upath, int mode, int flags)
{
	struct task *t = r->task;
	if (mode & ~(F_OK | R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	/* access() answers for the real ids unless AT_EACCESS; a stack copy
	 * of the cred, never published, so no copy-on-write needed. */
	struct cred c = *t->cred;
	if (!(flags & AT_EACCESS)) {
		c.fsuid = c.ruid;
		c.fsgid = c.rgid;
	}
	char path[PATH_MAX];
	int err = read_at_path(r, upath, flags, path);
	if (err < 0)
		return err;
	if (!path[0])
		return access_fd(t, dirfd, &c, mode);
	struct nameidata nd;
	err = namei(t, dirfd, path, at_lookup_flags(flags), &nd);
	if (err < 0)
		return err;
	if (nd.vn) {
		err = access_vnode(nd.vn, &c, mode);
	} else {
		struct stat st;
		err = stat_nd(t, &nd, &st);
		if (err == 0 && mode != F_OK)
			err = stat_permission(&st, &c, mode);
	}
	nd_release(&nd);
	return err;
}

long sys_access(struct sysreq *r)
{
	switch (r->nr) {
	case __NR_access:
		return do_access(r, AT_FDCWD, r->args[0], (int)r->args[1], 0);
	case __NR_faccessat:
		/* The old call has no flags argument. */
		return do_access(r, (int)r->args[0], r->args[1], (int)r->args[2], 0);
	case __NR_faccessat2:
		return do_access(r, (int)r->args[0], r->args[1], (int)r->args[2], (int)r->args[3]);
	}
	return -ENOSYS;
}

/* The text of a symlink vnode into buf; -EINVAL for anything else. */
static ssize_t readlink_vnode(struct vnode *vn, char *buf, size_t len)
{
	if (!vn || vn->type != VLNK || !vn->ops->readlink)
		return -EINVAL;
	vn_ref(vn); /* readlink may drop the sentry lock */
	ssize_t n = vn->ops->readlink(vn, buf, len);
	vn_unref(vn);
	if (n > (ssize_t)len)
		n = (ssize_t)len;
	return n;
}

/* readlinkat(fd, "") reads the link fd itself refers to (an O_PATH|
 * O_NOFOLLOW fd); anything else is -ENOENT, as in the kernel. */
static ssize_t readlink_fd(struct task *t, int fd, char *buf, size_t len)
{
	if (fd == AT_FDCWD)
		return -ENOENT;
	struct vnode *vn = NULL;
	int err = fd_vnode(t, fd, true, &vn, NULL);
	if (err < 0)
		return err;
	if (!vn || vn->type != VLNK)
		return -ENOENT;
	return readlink_vnode(vn, buf, len);
}

static long do_readlink(struct sysreq *r, int dirfd, uint64_t upath, uint64_t ubuf, int bufsiz)
{
	struct task *t = r->task;
	if (bufsiz <= 0)
		return -EINVAL;
	char path[PATH_MAX];
	int err = req_path(r, upath, path, true);
	if (err < 0)
		return err;
	char text[PATH_MAX];
	ssize_t n;
	if (!path[0]) {
		n = readlink_fd(t, dirfd, text, sizeof text);
	} else {
		struct nameidata nd;
		err = namei(t, dirfd, path, 0, &nd);
		if (err < 0)
			return err;
		n = readlink_vnode(nd.vn, text, sizeof text);
		nd_release(&nd);
	}
	if (n < 0)
		return n;
	/* The kernel's truncation: at most bufsiz bytes, no NUL added. */
	if (n > bufsiz)
		n = bufsiz;
	err = sys_put(r, ubuf, text, (size_t)n);
	return err < 0 ? err : n;
}

long sys_readlink(struct sysreq *r)
{
	switch (r->nr) {
	case __NR_readlink:
		return do_readlink(r, AT_FDCWD, r->args[0], r->args[1], (int)r->args[2]);
	case __NR_readlinkat:
		return do_readlink(r, (int)r->args[0], r->args[1], r->args[2], (int)r->args[3]);
	}
	return -ENOSYS;
}

/* f_type for a filesystem type name, as the kernel reports it. */
static long fstype_magic(const char *fstype)
{
	static const struct {
		const char *name;
		long magic;
	} map[] = {
		{ "tmpfs", TMPFS_MAGIC },     { "devtmpfs", TMPFS_MAGIC }, { "devfs", TMPFS_MAGIC },
		{ "proc", PROC_SUPER_MAGIC }, { "sysfs", SYSFS_MAGIC },    { "devpts", DEVPTS_SUPER_MAGIC },
		{ "overlay", OVERLAYFS_SUPER_MAGIC },                       { "cgroup2", CGROUP2_SUPER_MAGIC },
		{ "9p", V9FS_MAGIC },         { "gofer", V9FS_MAGIC },
	};
	for (size_t i = 0; fstype && i < ARRAY_SIZE(map); i++)
		if (strcmp(fstype, map[i].name) == 0)
			return map[i].magic;
	/* Host binds and anything new: a plain disk filesystem is what
	 * programs expect of a directory tree. */
	return EXT4_SUPER_MAGIC;
}

/* Plausible numbers for a filesystem that does not report its own: the
 * host's real sizes are none of the guest's business. */
static void statfs_made_up(long magic, dev_t dev, struct statfs *st)
{
	memset(st, 0, sizeof *st);
	st->f_type = magic;
	st->f_bsize = 4096;
	st->f_frsize = 4096;
	st->f_blocks = 262144; /* 1 GiB */
	st->f_bfree = 131072;
	st->f_bavail = 131072;
	st->f_files = 65536;
	st->f_ffree = 32768;
	st->f_namelen = NAME_MAX;
	memcpy(&st->f_fsid, &(int[2]){ (int)minor(dev), (int)major(dev) }, sizeof st->f_fsid);
}

static long mount_st_flags(const struct mount *m)
{
	long f = MOAT_ST_VALID;
	if (!m)
		return f;
	if (m->flags & MNT_RDONLY)
		f |= ST_RDONLY;
	if (m->flags & MNT_NOSUID)
		f |= ST_NOSUID;
	if (m->flags & MNT_NODEV)
		f |= ST_NODEV;
	if (m->flags & MNT_NOEXEC)
		f |= ST_NOEXEC;
	return f;
}

static int statfs_vnode(struct vnode *vn, struct statfs *st)
{
	const struct mount *m = vn->mnt;
	/* An overlay's upper files are tmpfs vnodes on the overlay's mount:
	 * what statfs shows is the mount's, whichever vnode names it. */
	if (m && m->root && m->fstype && !strcmp(m->fstype, "overlay"))
		vn = m->root;
	if (vn->ops->statfs) {
		memset(st, 0, sizeof *st);
		vn_ref(vn); /* statfs may drop the sentry lock */
		int err = vn->ops->statfs(vn, st);
		vn_unref(vn);
		if (err < 0)
			return err;
	} else {
		statfs_made_up(fstype_magic(m ? m->fstype : NULL), m ? m->dev : 0, st);
	}
	/* The mount flags are the VFS's, whatever the filesystem says; an
	 * fsid the filesystem left zero comes from the mount's device, so
	 * tools telling filesystems apart by it see different ones. */
	st->f_flags = mount_st_flags(m);
	int zero[2] = { 0, 0 };
	if (m && memcmp(&st->f_fsid, zero, sizeof zero) == 0)
		memcpy(&st->f_fsid, &(int[2]){ (int)minor(m->dev), (int)major(m->dev) }, sizeof st->f_fsid);
	return 0;
}

/* fstatfs of a guest-made fd: what the kernel's internal mounts say. */
static void statfs_host_fd(const struct stat *hst, struct statfs *st)
{
	long magic = TMPFS_MAGIC; /* memfds live on the internal shmem mount */
	if (S_ISFIFO(hst->st_mode))
		magic = PIPEFS_MAGIC;
	else if (S_ISSOCK(hst->st_mode))
		magic = SOCKFS_MAGIC;
	else if (S_ISCHR(hst->st_mode))
		magic = DEVPTS_SUPER_MAGIC;
	statfs_made_up(magic, HOSTFD_DEV, st);
	st->f_flags = MOAT_ST_VALID;
}

static int statfs_fd(struct task *t, int fd, struct statfs *st)
{
	struct vnode *vn = NULL;
	struct stat hst;
	int err = fd_vnode(t, fd, true, &vn, &hst);
	if (err < 0)
		return err;
	if (vn)
		return statfs_vnode(vn, st);
	statfs_host_fd(&hst, st);
	return 0;
}

static int statfs_path(struct sysreq *r, uint64_t upath, struct statfs *st)
{
	char path[PATH_MAX];
	int err = req_path(r, upath, path, false);
	if (err < 0)
		return err;
	struct nameidata nd;
	err = namei(r->task, AT_FDCWD, path, LOOKUP_FOLLOW, &nd);
	if (err < 0)
		return err;
	if (nd.vn) {
		err = statfs_vnode(nd.vn, st);
	} else {
		struct stat hst;
		err = fstat(nd.hostfd, &hst) < 0 ? -EIO : 0;
		if (err == 0)
			statfs_host_fd(&hst, st);
	}
	nd_release(&nd);
	return err;
}

long sys_statfs(struct sysreq *r)
{
	struct statfs st;
	int err;
	switch (r->nr) {
	case __NR_statfs:
		err = statfs_path(r, r->args[0], &st);
		break;
	case __NR_fstatfs:
		err = statfs_fd(r->task, (int)r->args[0], &st);
		break;
	default:
		return -ENOSYS;
	}
	if (err < 0)
		return err;
	return sys_put(r, r->args[1], &st, sizeof st);
}
