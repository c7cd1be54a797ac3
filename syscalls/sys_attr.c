/* SPDX-License-Identifier: MIT */
/* Attributes: chmod, chown, the utime family, truncate, umask and the xattr
 * family. All changes go through the vnode's setattr, with the kernel's
 * rules (fs/attr.c, fs/open.c, fs/utimes.c) for who may change what: the
 * guest's root is modelled as holding CAP_CHOWN/CAP_FOWNER while its fsuid
 * is 0. A read-only mount or a filesystem without setattr is -EROFS, checked
 * first as the kernel's mnt_want_write() does. ftruncate passes through to
 * the host; nothing else here touches host state directly. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "sentry/fs/notify.h"
#include "syscalls/handlers.h"
#include "syscalls/setid.h"
#include "syscalls/sys_fs.h"

/* fchmodat2 (Linux 6.6) is newer than the build's headers may be. */
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

#define MOAT_XATTR_NAME_MAX 255
#define MOAT_XATTR_SIZE_MAX 65536

/* ---- finding the target ------------------------------------------------- */

/* The vnode behind guest fd `fd`. *ret is a new reference, or NULL when
 * the fd is not a sentry object (pipe, socket, the guest's own memfd).
 * path_style: the fd stands for a path (AT_EMPTY_PATH, a NULL utimensat
 * path): AT_FDCWD then means the cwd and O_PATH fds are fine; otherwise
 * (fchmod, fchown, f*xattr) they are -EBADF, as in the kernel. */
static int fd_target(struct task *t, int fd, bool path_style, struct vnode **ret)
{
	struct vnode *vn = NULL;
	if (fd == AT_FDCWD && path_style) {
		vn = t->fs->cwd;
	} else {
		int err = fd_vnode(t, fd, path_style, &vn, NULL);
		if (err < 0)
			return err;
	}
	*ret = vn ? vn_ref(vn) : NULL;
	return 0;
}

/* The vnode a path call acts on: reads the path (once; req_path then
 * checks the caller is still there), resolves. *ret as for fd_target. */
static int target_at(struct sysreq *r, int dirfd, uint64_t upath, bool follow, bool empty_ok,
		     struct vnode **ret)
{
	struct task *t = r->task;
	char path[PATH_MAX];
	int err = req_path(r, upath, path, empty_ok);
	if (err < 0)
		return err;
	if (!path[0])
		return fd_target(t, dirfd, true, ret);
	struct nameidata nd;
	err = namei(t, dirfd, path, follow ? LOOKUP_FOLLOW : 0, &nd);
	if (err < 0)
		return err;
	*ret = nd.vn ? vn_ref(nd.vn) : NULL;
	nd_release(&nd);
	return 0;
}

static int vn_setattr(struct vnode *vn, const struct setattr *sa)
{
	if (vn_rdonly(vn) || !vn->ops->setattr)
		return -EROFS;
	int err = vn->ops->setattr(vn, sa);
	if (err == 0)
		vnotify_attrib(vn, sa->valid);
	return err;
}

/* Attributes of vn for a change: -EROFS first, as the kernel's
 * mnt_want_write() comes before any permission check. */
static int attr_prepare(struct vnode *vn, struct stat *st)
{
	if (vn_rdonly(vn) || !vn->ops->setattr)
		return -EROFS;
	return vfs_getattr(vn, st);
}

static bool owner_or_root(const struct cred *c, const struct stat *st)
{
	return cred_is_root(c) || c->fsuid == st->st_uid;
}

/* ---- chmod -------------------------------------------------------------- */

static int chmod_vnode(struct task *t, struct vnode *vn, mode_t mode)
{
	const struct cred *c = t->cred;
	struct stat st;
	int err = attr_prepare(vn, &st);
	if (err < 0)
		return err;
	if (!owner_or_root(c, &st))
		return -EPERM;
	mode &= 07777;
	/* Only members of the file's group (or root) may set its set-gid bit;
	 * for anyone else the kernel drops it silently. */
	if (!cred_is_root(c) && !cred_in_group(c, st.st_gid))
		mode &= ~S_ISGID;
	struct setattr sa = { .valid = SA_MODE, .mode = (st.st_mode & S_IFMT) | mode };
	return vn_setattr(vn, &sa);
}

/* The objects a guest made itself (pipes, sockets) have no sentry vnode;
 * changing their attributes is refused rather than done on the host. */
static int attr_on(struct task *t, struct vnode *vn, int (*fn)(struct task *, struct vnode *, const void *),
		   const void *arg)
{
	return vn ? fn(t, vn, arg) : -EPERM;
}

static int chmod_fn(struct task *t, struct vnode *vn, const void *arg)
{
	return chmod_vnode(t, vn, *(const mode_t *)arg);
}

/* fchmodat2's AT_SYMLINK_NOFOLLOW: Linux has no symlink modes. */
static int chmod_nofollow_fn(struct task *t, struct vnode *vn, const void *arg)
{
	return vn->type == VLNK ? -EOPNOTSUPP : chmod_fn(t, vn, arg);
}

long sys_chmod(struct sysreq *r)
{
	struct task *t = r->task;
	_cleanup_(sys_vn_unrefp) struct vnode *vn = NULL;
	mode_t mode;
	int err, flags = 0;
	switch (r->nr) {
	case __NR_chmod:
		mode = (mode_t)r->args[1];
		err = target_at(r, AT_FDCWD, r->args[0], true, false, &vn);
		break;
	case __NR_fchmod:
		mode = (mode_t)r->args[1];
		err = fd_target(t, (int)r->args[0], false, &vn);
		break;
	case __NR_fchmodat:
		mode = (mode_t)r->args[2];
		err = target_at(r, (int)r->args[0], r->args[1], true, false, &vn);
		break;
	case __NR_fchmodat2:
		mode = (mode_t)r->args[2];
		flags = (int)r->args[3];
		if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
			return -EINVAL;
		err = target_at(r, (int)r->args[0], r->args[1], !(flags & AT_SYMLINK_NOFOLLOW),
				flags & AT_EMPTY_PATH, &vn);
		break;
	default:
		return -ENOSYS;
	}
	if (err < 0)
		return err;
	return attr_on(t, vn, (flags & AT_SYMLINK_NOFOLLOW) ? chmod_nofollow_fn : chmod_fn, &mode);
}

/* ---- chown -------------------------------------------------------------- */

struct owner {
	uid_t uid; /* ID_KEEP: unchanged */
	gid_t gid;
};

/* chown of a non-directory clears set-uid, and set-gid where it marks an
 * executable or the caller is not in the group: root included, as on Linux
 * since 2.2.13. */
static mode_t chown_killed_mode(const struct cred *c, const struct stat *st)
{
	mode_t m = st->st_mode;
	if (S_ISDIR(m))
		return m;
	m &= ~S_ISUID;
	if ((m & S_ISGID) && ((m & S_IXGRP) || (!cred_is_root(c) && !cred_in_group(c, st->st_gid))))
		m &= ~S_ISGID;
	return m;
}

/* The kernel's chown_ok/chgrp_ok: root may give files away; an owner may
 * only "change" the uid to itself and the gid to one of its groups. */
static int chown_allowed(const struct cred *c, const struct stat *st, const struct owner *o)
{
	if (cred_is_root(c))
		return 0;
	bool owner = c->fsuid == st->st_uid;
	if (o->uid != ID_KEEP && !(owner && o->uid == st->st_uid))
		return -EPERM;
	if (o->gid != ID_KEEP && !(owner && (o->gid == st->st_gid || cred_in_group(c, o->gid))))
		return -EPERM;
	return 0;
}

static int chown_fn(struct task *t, struct vnode *vn, const void *arg)
{
	const struct owner *o = arg;
	const struct cred *c = t->cred;
	struct stat st;
	int err = attr_prepare(vn, &st);
	if (err == 0)
		err = chown_allowed(c, &st, o);
	if (err < 0)
		return err;
	struct setattr sa = { 0 };
	if (o->uid != ID_KEEP) {
		sa.valid |= SA_UID;
		sa.uid = o->uid;
	}
	if (o->gid != ID_KEEP) {
		sa.valid |= SA_GID;
		sa.gid = o->gid;
	}
	mode_t m = chown_killed_mode(c, &st);
	if (m != st.st_mode) {
		if (!owner_or_root(c, &st))
			return -EPERM;
		sa.valid |= SA_MODE;
		sa.mode = m;
	}
	return sa.valid ? vn_setattr(vn, &sa) : 0;
}

long sys_chown(struct sysreq *r)
{
	struct task *t = r->task;
	_cleanup_(sys_vn_unrefp) struct vnode *vn = NULL;
	struct owner o;
	int err;
	switch (r->nr) {
	case __NR_chown:
	case __NR_lchown:
		o = (struct owner){ (uid_t)r->args[1], (gid_t)r->args[2] };
		err = target_at(r, AT_FDCWD, r->args[0], r->nr == __NR_chown, false, &vn);
		break;
	case __NR_fchown:
		o = (struct owner){ (uid_t)r->args[1], (gid_t)r->args[2] };
		err = fd_target(t, (int)r->args[0], false, &vn);
		break;
	case __NR_fchownat: {
		int flags = (int)r->args[4];
		if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
			return -EINVAL;
		o = (struct owner){ (uid_t)r->args[2], (gid_t)r->args[3] };
		err = target_at(r, (int)r->args[0], r->args[1], !(flags & AT_SYMLINK_NOFOLLOW),
				flags & AT_EMPTY_PATH, &vn);
		break;
	}
	default:
		return -ENOSYS;
	}
	if (err < 0)
		return err;
	return attr_on(t, vn, chown_fn, &o);
}

/* ---- utime, utimes, futimesat, utimensat -------------------------------- */

static bool nsec_ok(long nsec)
{
	return (nsec >= 0 && nsec < 1000000000L) || nsec == UTIME_NOW || nsec == UTIME_OMIT;
}

/* times NULL means "both now". Setting both to now needs ownership or
 * write permission; anything else (even one UTIME_NOW with one
 * UTIME_OMIT: the kernel marks every explicit update ATTR_TIMES_SET)
 * needs ownership. */
static int utimes_fn(struct task *t, struct vnode *vn, const void *arg)
{
	const struct timespec *times = arg;
	const struct cred *c = t->cred;
	struct stat st;
	int err = attr_prepare(vn, &st);
	if (err < 0)
		return err;
	if (!owner_or_root(c, &st)) {
		if (times)
			return -EPERM;
		err = vfs_permission(vn, c, W_OK);
		if (err < 0)
			return err;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct setattr sa = { 0 };
	if (!times || times[0].tv_nsec != UTIME_OMIT) {
		sa.valid |= SA_ATIME;
		sa.atime = (!times || times[0].tv_nsec == UTIME_NOW) ? now : times[0];
	}
	if (!times || times[1].tv_nsec != UTIME_OMIT) {
		sa.valid |= SA_MTIME;
		sa.mtime = (!times || times[1].tv_nsec == UTIME_NOW) ? now : times[1];
	}
	return vn_setattr(vn, &sa);
}

/* The kernel's do_utimes(): a NULL path with a real fd acts on the fd (no
 * flags allowed then); otherwise a path. times NULL: now. */
static long do_utimes(struct sysreq *r, int dirfd, uint64_t upath, const struct timespec *times, int flags)
{
	struct task *t = r->task;
	if (times && (!nsec_ok(times[0].tv_nsec) || !nsec_ok(times[1].tv_nsec)))
		return -EINVAL;
	if (times && times[0].tv_nsec == UTIME_NOW && times[1].tv_nsec == UTIME_NOW)
		times = NULL;
	_cleanup_(sys_vn_unrefp) struct vnode *vn = NULL;
	int err;
	if (upath == 0 && dirfd != AT_FDCWD) {
		if (flags)
			return -EINVAL;
		err = req_id_valid(r);
		if (err == 0)
			err = fd_target(t, dirfd, false, &vn);
	} else {
		if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
			return -EINVAL;
		err = target_at(r, dirfd, upath, !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH, &vn);
	}
	if (err < 0)
		return err;
	return attr_on(t, vn, utimes_fn, times);
}

/* struct timeval[2] of utimes/futimesat; NULL pointer: now. */
static long do_utimes_tv(struct sysreq *r, int dirfd, uint64_t upath, uint64_t utv)
{
	if (!utv)
		return do_utimes(r, dirfd, upath, NULL, 0);
	struct timeval tv[2];
	int err = sys_get(r, utv, tv, sizeof tv);
	if (err < 0)
		return err;
	struct timespec ts[2];
	for (int i = 0; i < 2; i++) {
		if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
			return -EINVAL;
		ts[i] = (struct timespec){ tv[i].tv_sec, tv[i].tv_usec * 1000 };
	}
	return do_utimes(r, dirfd, upath, ts, 0);
}

static long do_utime(struct sysreq *r, uint64_t upath, uint64_t ubuf)
{
	if (!ubuf)
		return do_utimes(r, AT_FDCWD, upath, NULL, 0);
	struct utimbuf ub;
	int err = sys_get(r, ubuf, &ub, sizeof ub);
	if (err < 0)
		return err;
	struct timespec ts[2] = { { ub.actime, 0 }, { ub.modtime, 0 } };
	return do_utimes(r, AT_FDCWD, upath, ts, 0);
}

static long do_utimensat(struct sysreq *r)
{
	int dirfd = (int)r->args[0];
	uint64_t upath = r->args[1], uts = r->args[2];
	int flags = (int)r->args[3];
	if (!uts)
		return do_utimes(r, dirfd, upath, NULL, flags);
	struct timespec ts[2];
	int err = sys_get(r, uts, ts, sizeof ts);
	if (err < 0)
		return err;
	/* Nothing to do: the kernel does not even look at the path. */
	if (ts[0].tv_nsec == UTIME_OMIT && ts[1].tv_nsec == UTIME_OMIT)
		return 0;
	return do_utimes(r, dirfd, upath, ts, flags);
}

long sys_utimes(struct sysreq *r)
{
	switch (r->nr) {
	case __NR_utime:
		return do_utime(r, r->args[0], r->args[1]);
	case __NR_utimes:
		return do_utimes_tv(r, AT_FDCWD, r->args[0], r->args[1]);
	case __NR_futimesat:
		return do_utimes_tv(r, (int)r->args[0], r->args[1], r->args[2]);
	case __NR_utimensat:
		return do_utimensat(r);
	}
	return -ENOSYS;
}

/* ---- truncate, umask ---------------------------------------------------- */

static int truncate_fn(struct task *t, struct vnode *vn, const void *arg)
{
	if (vn->type == VDIR)
		return -EISDIR;
	if (vn->type != VREG)
		return -EINVAL;
	if (vn_rdonly(vn) || !vn->ops->setattr)
		return -EROFS;
	int err = vfs_permission(vn, t->cred, W_OK);
	if (err < 0)
		return err;
	struct setattr sa = { .valid = SA_SIZE, .size = *(const off_t *)arg };
	return vn_setattr(vn, &sa);
}

long sys_truncate(struct sysreq *r)
{
	if (r->nr != __NR_truncate)
		return -ENOSYS; /* ftruncate passes through to the host */
	off_t len = (off_t)r->args[1];
	if (len < 0)
		return -EINVAL;
	_cleanup_(sys_vn_unrefp) struct vnode *vn = NULL;
	int err = target_at(r, AT_FDCWD, r->args[0], true, false, &vn);
	if (err < 0)
		return err;
	/* A pipe reached through /proc/self/fd is not a regular file. */
	return vn ? truncate_fn(r->task, vn, &len) : -EINVAL;
}

long sys_umask(struct sysreq *r)
{
	struct fs_state *fs = r->task->fs;
	mode_t old = fs->umask;
	fs->umask = (mode_t)r->args[0] & 0777;
	return old;
}

/* ---- xattrs ------------------------------------------------------------- */

/* None of the sentry's filesystems stores extended attributes: there are
 * none to read or list, and setting one is refused as unsupported (or
 * -EROFS where the kernel would say that first). The arguments are still
 * checked as the kernel checks them, so errors come in its order. */
enum xattr_op { XA_SET, XA_GET, XA_LIST, XA_REMOVE };
enum xattr_how { XA_PATH, XA_LINK, XA_FD };

struct xattr_call {
	enum xattr_op op;
	enum xattr_how how;
};

static int xattr_classify(int nr, struct xattr_call *ret)
{
	static const struct {
		int nr;
		struct xattr_call call;
	} map[] = {
		{ __NR_setxattr, { XA_SET, XA_PATH } },	      { __NR_lsetxattr, { XA_SET, XA_LINK } },
		{ __NR_fsetxattr, { XA_SET, XA_FD } },	      { __NR_getxattr, { XA_GET, XA_PATH } },
		{ __NR_lgetxattr, { XA_GET, XA_LINK } },      { __NR_fgetxattr, { XA_GET, XA_FD } },
		{ __NR_listxattr, { XA_LIST, XA_PATH } },     { __NR_llistxattr, { XA_LIST, XA_LINK } },
		{ __NR_flistxattr, { XA_LIST, XA_FD } },      { __NR_removexattr, { XA_REMOVE, XA_PATH } },
		{ __NR_lremovexattr, { XA_REMOVE, XA_LINK } }, { __NR_fremovexattr, { XA_REMOVE, XA_FD } },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (map[i].nr == nr) {
			*ret = map[i].call;
			return 0;
		}
	}
	return -ENOSYS;
}

/* The attribute name: 1..255 bytes, else -ERANGE (the kernel's
 * import_xattr_name). */
static int xattr_name(struct sysreq *r, uint64_t uname, char name[MOAT_XATTR_NAME_MAX + 1])
{
	ssize_t n = req_read_str(r, uname, name, MOAT_XATTR_NAME_MAX + 1);
	if (n == -ENAMETOOLONG || n == 0)
		return -ERANGE;
	return n < 0 ? (int)n : 0;
}

static bool xattr_known_namespace(const char *name)
{
	static const char *const ns[] = { "user.", "trusted.", "security.", "system." };
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
		if (strncmp(name, ns[i], strlen(ns[i])) == 0)
			return true;
	return false;
}

/* Checks made before the target is looked up, in the kernel's order. */
static int xattr_args(struct sysreq *r, const struct xattr_call *c, char *name)
{
	if (c->op == XA_SET) {
		int flags = (int)r->args[4];
		if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
			return -EINVAL;
	}
	if (c->op != XA_LIST) {
		int err = xattr_name(r, r->args[1], name);
		if (err < 0)
			return err;
	}
	if (c->op == XA_SET && r->args[3] > MOAT_XATTR_SIZE_MAX)
		return -E2BIG;
	return 0;
}

static long xattr_answer(const struct xattr_call *c, struct vnode *vn, const char *name)
{
	switch (c->op) {
	case XA_LIST:
		return 0; /* an empty list */
	case XA_GET:
		return xattr_known_namespace(name) ? -ENODATA : -EOPNOTSUPP;
	case XA_SET:
	case XA_REMOVE:
		if (vn && vn_rdonly(vn))
			return -EROFS;
		return -EOPNOTSUPP;
	}
	return -EOPNOTSUPP;
}

/* user.* attributes, kept only on regular files and directories, need
 * the file's read (get, list) or write (set, remove) permission, as in the
 * kernel's xattr_permission(). */
static int xattr_user_access(struct task *t, struct vnode *vn, int mask)
{
	if (vn->type != VREG && vn->type != VDIR)
		return mask == W_OK ? -EPERM : -ENODATA;
	return vfs_permission(vn, t->cred, mask);
}

/* A filesystem that stores attributes (rw binds: gofer.c). */
static long xattr_fs(struct sysreq *r, const struct xattr_call *c, struct vnode *vn, const char *name)
{
	struct task *t = r->task;
	bool user = strncmp(name, "user.", 5) == 0;
	switch (c->op) {
	case XA_GET: {
		if (!user)
			return xattr_known_namespace(name) ? -ENODATA : -EOPNOTSUPP;
		int err = xattr_user_access(t, vn, R_OK);
		if (err < 0)
			return err;
		size_t want = r->args[3] > MOAT_XATTR_SIZE_MAX ? MOAT_XATTR_SIZE_MAX : r->args[3];
		_cleanup_free_ char *buf = want ? malloc(want) : NULL;
		if (want && !buf)
			return -ENOMEM;
		ssize_t n = vn->ops->getxattr(vn, name, buf, want);
		if (n > 0 && want && (err = sys_put(r, r->args[2], buf, (size_t)n)) < 0)
			return err;
		return n;
	}
	case XA_LIST: {
		size_t want = r->args[2] > MOAT_XATTR_SIZE_MAX ? MOAT_XATTR_SIZE_MAX : r->args[2];
		_cleanup_free_ char *buf = want ? malloc(want) : NULL;
		if (want && !buf)
			return -ENOMEM;
		if (vn->type != VREG && vn->type != VDIR)
			return 0;
		ssize_t n = vn->ops->listxattr(vn, buf, want);
		int err;
		if (n > 0 && want && (err = sys_put(r, r->args[1], buf, (size_t)n)) < 0)
			return err;
		return n;
	}
	case XA_SET:
	case XA_REMOVE: {
		if (vn_rdonly(vn))
			return -EROFS;
		if (!user)
			return -EOPNOTSUPP;
		int err = xattr_user_access(t, vn, W_OK);
		if (err < 0)
			return err;
		if (c->op == XA_REMOVE)
			return vn->ops->removexattr(vn, name);
		size_t len = r->args[3];
		_cleanup_free_ char *val = malloc(len ? len : 1);
		if (!val)
			return -ENOMEM;
		if (len && (err = sys_get(r, r->args[2], val, len)) < 0)
			return err;
		return vn->ops->setxattr(vn, name, val, len, (int)r->args[4]);
	}
	}
	return -EOPNOTSUPP;
}

long sys_xattr(struct sysreq *r)
{
	struct xattr_call c;
	if (xattr_classify(r->nr, &c) < 0)
		return -ENOSYS;
	char name[MOAT_XATTR_NAME_MAX + 1] = "";
	int err = xattr_args(r, &c, name);
	if (err < 0)
		return err;
	_cleanup_(sys_vn_unrefp) struct vnode *vn = NULL;
	if (c.how == XA_FD)
		err = fd_target(r->task, (int)r->args[0], false, &vn);
	else
		err = target_at(r, AT_FDCWD, r->args[0], c.how == XA_PATH, false, &vn);
	if (err < 0)
		return err;
	/* Host system files (MNT_HOSTPERM) keep showing none. */
	if (vn && vn->ops->getxattr && vn->mnt && !(vn->mnt->flags & MNT_HOSTPERM))
		return xattr_fs(r, &c, vn, name);
	return xattr_answer(&c, vn, name);
}
