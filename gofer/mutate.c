/* SPDX-License-Identifier: MIT */
/* Mutations of read-write exports (docs/gofer-protocol.md, "Mutations").
 *
 * Each request names a directory by an id the gofer issued and one
 * component in it (or "" for the directory itself). Everything here is a
 * single-component *at() call relative to the fd the gofer holds, and none
 * of them follows a symlink: mkdirat, mknodat, symlinkat, unlinkat,
 * renameat2 and linkat without AT_SYMLINK_FOLLOW never follow the last
 * component, and opens go through openat2 with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS and O_NOFOLLOW. So whatever a
 * guest does to the names meanwhile (rename races, symlinks to anywhere),
 * no host path outside the export is ever touched.
 *
 * Ownership: new objects are made with the gofer's fsuid and fsgid set to
 * the export's owner (never 0), so they are born with that owner (a setgid
 * directory's group still wins, as on Linux), and nothing is ever owned by
 * root, not even for a moment. SECBIT_NO_SETUID_FIXUP (setup.c) keeps the
 * gofer's DAC capabilities while its fsuid is not 0. A chown may only give
 * a file to the export's owner. Set-user-id and set-group-id bits are never
 * set on non-directories: the host would run such a file as its owner.
 *
 * These run synchronously in the gofer's thread: they are rare next to
 * lookups, and io_uring has no mknodat, fchownat or fchmodat2. */
#include "gofer/server.h"

#include <sys/fsuid.h>
#include <sys/xattr.h>

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

static const uint64_t resolve_flags = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

/* Become the export's owner for the next call; 0 or -EPERM. Each setfs*id
 * is made twice: the second returns what the first set, which is the only
 * way to see that it worked. */
static int fs_become(const struct srv_export *ex)
{
	setfsgid(ex->gid);
	setfsuid(ex->uid);
	if ((gid_t)setfsgid(ex->gid) != ex->gid || (uid_t)setfsuid(ex->uid) != ex->uid)
		return -EPERM;
	return 0;
}

static void fs_restore(void)
{
	setfsuid(0);
	setfsgid(0);
	if (setfsuid(0) != 0 || setfsgid(0) != 0)
		srv_die("cannot restore the gofer's fsuid");
}

struct mut_ctx {
	const struct gofer_mut *m;
	const struct srv_export *ex;
	int dirfd, dir2fd;
	char name[GOFER_NAME_MAX + 1];
	char name2[GOFER_TARGET_MAX + 1];
};

/* fstatat of a name we just made, for the reply. */
static int stat_name(int dirfd, const char *name, struct stat *st)
{
	return fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0 ? neg_errno() : 0;
}

/* The target of SETATTR and the xattr ops: the directory itself, or the
 * named object opened with `oflags` (O_PATH for attributes). Its inode must
 * be the one the sentry decided on (ino, 0: any), else -ENOENT: the name
 * was changed under us, and the object the guest named is gone from it. */
static int open_target(const struct mut_ctx *c, int oflags, int *ret_fd, struct stat *ret_st)
{
	int fd;
	if (!c->name[0]) {
		fd = fcntl(c->dirfd, F_DUPFD_CLOEXEC, 0);
	} else {
		struct open_how how = {
			/* openat2 refuses O_PATH with any flag it ignores */
			.flags = (uint64_t)(oflags | O_NOFOLLOW | O_CLOEXEC |
					    ((oflags & O_PATH) ? 0 : O_NOCTTY)),
			.resolve = resolve_flags,
		};
		fd = (int)syscall(SYS_openat2, c->dirfd, c->name, &how, sizeof(how));
	}
	if (fd < 0)
		return neg_errno();
	struct stat st;
	int r = fstat(fd, &st) < 0 ? neg_errno() : 0;
	if (r == 0 && c->m->ino && st.st_ino != c->m->ino)
		r = -ENOENT;
	if (r < 0) {
		safe_close(fd);
		return r;
	}
	*ret_fd = fd;
	*ret_st = st;
	return 0;
}

/* A new file's or node's permission bits: never set-id (see the top). */
static mode_t safe_perm(mode_t mode)
{
	return mode & 01777 & ~(mode_t)S_ISGID;
}

static int do_open(struct srv *s, const struct gofer_request *rq, struct mut_ctx *c)
{
	const struct gofer_mut *m = c->m;
	/* O_NONBLOCK: a FIFO swapped in under the name must not block us. */
	struct open_how how = {
		.flags = (uint64_t)(m->flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK),
		.mode = (m->flags & O_CREAT) ? safe_perm(m->mode) : 0,
		.resolve = resolve_flags,
	};
	int r = fs_become(c->ex);
	int fd = -1;
	if (r == 0) {
		fd = (int)syscall(SYS_openat2, c->dirfd, c->name, &how, sizeof(how));
		r = fd < 0 ? neg_errno() : 0;
	}
	fs_restore();
	if (r < 0)
		return r;
	_cleanup_close_ int f = fd;
	struct stat st;
	if (fstat(f, &st) < 0)
		return neg_errno();
	if (!S_ISREG(st.st_mode))
		return -ENXIO; /* the sentry opens only regular files through us */
	if (!(m->flags & O_NONBLOCK)) {
		int fl = fcntl(f, F_GETFL);
		if (fl < 0 || fcntl(f, F_SETFL, fl & ~O_NONBLOCK) < 0)
			return neg_errno();
	}
	srv_send(s, gofer_reply_node(s->txbuf, sizeof(s->txbuf), rq->hdr.op, rq->hdr.tag, GOFER_ID_NONE,
				     &st, true),
		 f);
	return 0;
}

static int do_make(const struct mut_ctx *c, uint16_t op, struct stat *st)
{
	const struct gofer_mut *m = c->m;
	int r = fs_become(c->ex);
	if (r == 0) {
		switch (op) {
		case GOFER_OP_MKDIR:
			/* Directories keep set-gid: it only passes a group on. */
			r = mkdirat(c->dirfd, c->name, m->mode & 07777 & ~(mode_t)S_ISUID);
			break;
		case GOFER_OP_MKNOD:
			/* rdev is always 0: S_IFCHR is a whiteout (proto.c). */
			r = mknodat(c->dirfd, c->name, (m->mode & S_IFMT) | safe_perm(m->mode), 0);
			break;
		default:
			r = symlinkat(c->name2, c->dirfd, c->name);
			break;
		}
		r = r < 0 ? neg_errno() : 0;
	}
	fs_restore();
	return r < 0 ? r : stat_name(c->dirfd, c->name, st);
}

/* A new name for the very inode the sentry decided on: linkat of an O_PATH
 * fd (AT_EMPTY_PATH, which needs CAP_DAC_READ_SEARCH), never of a name that
 * may have changed since. */
static int do_link(const struct mut_ctx *c, struct stat *st)
{
	int fd;
	struct stat cur;
	int r = open_target(c, O_PATH, &fd, &cur);
	if (r < 0)
		return r;
	if (S_ISDIR(cur.st_mode)) {
		safe_close(fd);
		return -EPERM;
	}
	r = fs_become(c->ex);
	if (r == 0)
		r = linkat(fd, "", c->dir2fd, c->name2, AT_EMPTY_PATH) < 0 ? neg_errno() : 0;
	fs_restore();
	safe_close(fd);
	return r < 0 ? r : stat_name(c->dir2fd, c->name2, st);
}

static int do_setattr(const struct mut_ctx *c, struct stat *ret_st)
{
	const struct gofer_mut *m = c->m;
	const struct srv_export *ex = c->ex;
	/* Ownership only ever goes to the export's owner. */
	if (((m->flags & GOFER_SA_UID) && m->uid != ex->uid) ||
	    ((m->flags & GOFER_SA_GID) && m->gid != ex->gid))
		return -EPERM;
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r = open_target(c, O_PATH, &fd, &st);
	if (r < 0)
		return r;
	if ((m->flags & GOFER_SA_MODE) &&
	    ((m->mode & S_ISUID) || (!S_ISDIR(st.st_mode) && (m->mode & S_ISGID))))
		return -EPERM;
	if ((m->flags & GOFER_SA_SIZE) && !S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	if ((r = fs_become(ex)) < 0) {
		fs_restore();
		return r;
	}
	if (m->flags & (GOFER_SA_UID | GOFER_SA_GID)) {
		uid_t u = (m->flags & GOFER_SA_UID) ? m->uid : (uid_t)-1;
		gid_t g = (m->flags & GOFER_SA_GID) ? m->gid : (gid_t)-1;
		if (fchownat(fd, "", u, g, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			r = neg_errno();
	}
	if (r == 0 && (m->flags & GOFER_SA_MODE) &&
	    syscall(__NR_fchmodat2, fd, "", (mode_t)m->mode, AT_EMPTY_PATH) < 0)
		r = neg_errno();
	if (r == 0 && (m->flags & GOFER_SA_SIZE)) {
		/* A writable open of the same inode: truncate needs one. */
		struct mut_ctx w = *c;
		int wfd;
		struct stat wst;
		struct gofer_mut wm = *m;
		wm.ino = st.st_ino;
		w.m = &wm;
		r = open_target(&w, O_WRONLY | O_NONBLOCK, &wfd, &wst);
		if (r == 0) {
			if (ftruncate(wfd, m->size) < 0)
				r = neg_errno();
			safe_close(wfd);
		}
	}
	if (r == 0 && (m->flags & (GOFER_SA_ATIME | GOFER_SA_MTIME))) {
		struct timespec ts[2] = { m->atime, m->mtime };
		if (!(m->flags & GOFER_SA_ATIME))
			ts[0].tv_nsec = UTIME_OMIT;
		if (!(m->flags & GOFER_SA_MTIME))
			ts[1].tv_nsec = UTIME_OMIT;
		if (syscall(SYS_utimensat, fd, "", ts, AT_EMPTY_PATH) < 0)
			r = neg_errno();
	}
	fs_restore();
	if (r < 0)
		return r;
	return fstat(fd, ret_st) < 0 ? neg_errno() : 0;
}

/* user.* attributes live only on regular files and directories (Linux
 * refuses them elsewhere with EPERM). */
static int do_xattr(const struct mut_ctx *c, uint16_t op)
{
	const struct gofer_mut *m = c->m;
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r = open_target(c, O_RDONLY | O_NONBLOCK, &fd, &st);
	if (r == -ELOOP)
		return -EPERM;
	if (r < 0)
		return r;
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return -EPERM;
	char aname[GOFER_XATTR_NAME_MAX + 1];
	memcpy(aname, m->name2, m->name2_len);
	aname[m->name2_len] = '\0';
	if ((r = fs_become(c->ex)) == 0) {
		if (op == GOFER_OP_SETXATTR)
			r = fsetxattr(fd, aname, m->data, m->data_len, (int)m->flags);
		else
			r = fremovexattr(fd, aname);
		r = r < 0 ? neg_errno() : 0;
	}
	fs_restore();
	return r;
}

/* The fd and export of a directory id; mutations only on rw exports, both
 * directories of a two-name op in the same export. */
static int mut_dirs(struct srv *s, const struct gofer_mut *m, struct mut_ctx *c)
{
	uint32_t i = srv_req_slot(s, m->dir_id);
	const struct srv_export *ex = &s->exports[s->slots[i].export];
	c->dirfd = s->slots[i].fd;
	c->dir2fd = -1;
	if (m->dir2_id) {
		uint32_t j = srv_req_slot(s, m->dir2_id);
		if (s->slots[j].export != s->slots[i].export)
			return -EXDEV;
		c->dir2fd = s->slots[j].fd;
	}
	if (!ex->rw)
		return -EROFS;
	c->ex = ex;
	return 0;
}

void srv_mutate(struct srv *s, const struct gofer_request *rq)
{
	const struct gofer_mut *m = &rq->mut;
	uint16_t op = rq->hdr.op;
	struct mut_ctx c = { .m = m };
	memcpy(c.name, m->name, m->name_len);
	c.name[m->name_len] = '\0';
	/* The xattr name is copied where it is used. */
	if (op != GOFER_OP_SETXATTR && op != GOFER_OP_REMOVEXATTR) {
		memcpy(c.name2, m->name2, m->name2_len);
		c.name2[m->name2_len] = '\0';
	}
	struct stat st;
	bool with_stat = false;
	int r = mut_dirs(s, m, &c);
	if (r == 0) {
		switch (op) {
		case GOFER_OP_OPEN:
			r = do_open(s, rq, &c);
			if (r == 0)
				return; /* replied, with the fd */
			break;
		case GOFER_OP_MKDIR:
		case GOFER_OP_MKNOD:
		case GOFER_OP_SYMLINK:
			r = do_make(&c, op, &st);
			with_stat = true;
			break;
		case GOFER_OP_LINK:
			r = do_link(&c, &st);
			with_stat = true;
			break;
		case GOFER_OP_UNLINK:
			r = fs_become(c.ex);
			if (r == 0 && unlinkat(c.dirfd, c.name, (int)m->flags) < 0)
				r = neg_errno();
			fs_restore();
			break;
		case GOFER_OP_RENAME:
			r = fs_become(c.ex);
			if (r == 0 && syscall(SYS_renameat2, c.dirfd, c.name, c.dir2fd, c.name2,
					      (unsigned)m->flags) < 0)
				r = neg_errno();
			fs_restore();
			break;
		case GOFER_OP_SETATTR:
			r = do_setattr(&c, &st);
			with_stat = true;
			break;
		default:
			r = do_xattr(&c, op);
			break;
		}
	}
	if (r < 0) {
		srv_send(s, gofer_reply_status(s->txbuf, sizeof(s->txbuf), op, rq->hdr.tag, srv_map_err(r)), -1);
		return;
	}
	if (with_stat)
		srv_send(s, gofer_reply_node(s->txbuf, sizeof(s->txbuf), op, rq->hdr.tag, GOFER_ID_NONE, &st,
					     false),
			 -1);
	else
		srv_send(s, gofer_reply_status(s->txbuf, sizeof(s->txbuf), op, rq->hdr.tag, 0), -1);
}
