/* SPDX-License-Identifier: MIT */
/* inotify stand-ins (notify.h; docs/architecture.md, "inotify").
 *
 * The guest's inotify instance is a real host one, so events, read(),
 * FIONREAD, poll and IN_Q_OVERFLOW are the kernel's. inotify_add_watch is
 * the sentry's (syscalls/sys_inotify.c): the path is resolved here, and the
 * watch is added on the sentry's copy of the guest's instance, on the host
 * object that stands for the vnode:
 *
 * - A vnode with a host object of its own (fs_ops.notify_host: a tmpfs
 *   file's store file, a tmpfs FIFO, an rw bind's file or directory): that
 *   object. The guest reads and writes it through its own fds, so the
 *   kernel reports IN_ACCESS, IN_MODIFY, IN_OPEN and IN_CLOSE_* itself.
 * - Anything else gets a *stand-in*: a directory (for directories) or an
 *   empty file in the store's "notify" directory (tmpstore.c), named
 *   "s<N>". What the sentry does to the vnode is done again to the stand-in:
 *   rmdir removes it (IN_DELETE_SELF, IN_IGNORED), rename renames it
 *   (IN_MOVE_SELF), chmod and friends chmod it to its own mode (IN_ATTRIB).
 *   A directory's stand-in also mirrors the directory's names: it is filled
 *   with a placeholder per entry when made (the listing is read twice: the
 *   first read may wait, the second is served from caches, and nothing
 *   waits from it to the stand-in going live), and from then on every
 *   create, mkdir, mknod, symlink, link, unlink, rmdir and rename of the
 *   directory is done to the placeholders, so the kernel emits IN_CREATE,
 *   IN_DELETE and IN_MOVED_FROM/IN_MOVED_TO with the names, in order, with
 *   its own cookies. A placeholder for a directory is an empty directory;
 *   for a tmpfs file (or an overlay's upper copy) it is the store file
 *   itself, linked there; for anything else an empty file. The guest's
 *   later opens of a file with a placeholder go through that name
 *   (vnotify_reopen), so the kernel reports its reads, writes and closes to
 *   the directory's watches with the file's name.
 *
 * Read-only host files (the default view's system directories, read-only
 * binds, the overlay's lower layer), devfs and procfs get stand-ins that
 * never fire: a watch on the host's own inode would report the host's own
 * activity.
 *
 * Anchors. A store file linked anywhere here gets a hidden name beside the
 * stand-ins ("a<N>") first, removed when its tmpfs node loses its last
 * name. So its host link count reaches 0 (IN_DELETE_SELF, IN_IGNORED)
 * exactly when the sandbox's file goes, never while a hard link is left,
 * and it stays linkable (an O_TMPFILE that reached 0 links once cannot be
 * linked again).
 *
 * Lifetime. A stand-in holds a reference on its vnode (an overlay or gofer
 * vnode must not be evicted and made anew: a watch would lose its events)
 * until the vnode goes (its last name removed); so stand-ins cost nothing
 * until something is watched, and then live as long as the watched object.
 * At most NOTIFY_MAX_STANDINS: -ENOSPC beyond, as inotify's own limit.
 *
 * Without a store (memfd files), stand-ins live in a directory of the
 * sentry's private /tmp, placeholders are empty files, and a directory's
 * watch sees its files' names come and go but not their data.
 *
 * Everything here runs under the sentry lock. Host calls that fail are
 * ignored: the operation they mirror has been done, and the guest loses an
 * event at most. */
#include "sentry/fs/notify.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "sentry/fs/fs.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define NOTIFY_MAX_STANDINS 8192

struct vnotify {
	int area;        /* borrowed: the notify directory of vn's store */
	int standin;     /* O_PATH fd of the stand-in; -1: none */
	char sname[24];  /* the stand-in's name in area */
	char aname[24];  /* a tmpfs file's anchor in area; "" none */
	bool pinned;     /* the stand-in holds a reference on the vnode */
	bool watched;    /* a watch was added on it (its own events matter) */
};

static unsigned nstandins;
static uint64_t name_seq;
static int fallback_area = -1;

static void fresh_name(char buf[24], char kind)
{
	snprintf(buf, 24, "%c%llu", kind, (unsigned long long)++name_seq);
}

/* Where the stand-ins of store s live (NULL: no store, the private /tmp). */
static int area_of_store(struct tmpfs_store *s)
{
	if (s)
		return tmpfs_store_notify_dir(s);
	if (fallback_area >= 0)
		return fallback_area;
	char dir[] = "/tmp/moat-notify.XXXXXX";
	int r = mkdtemp_at(AT_FDCWD, dir);
	if (r < 0)
		return r;
	int fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	return fallback_area = fd;
}

/* The tmpfs vnode holding vn's data: vn itself or an overlay's upper copy. */
static struct vnode *real_tmpfs(struct vnode *vn)
{
	struct vnode *u = tmpfs_is(vn) ? vn : overlay_upper(vn);
	return u && tmpfs_is(u) ? u : NULL;
}

/* The store file of a regular file, if it has one (borrowed). */
static int store_file(struct vnode *vn)
{
	struct vnode *t = real_tmpfs(vn);
	return t && t->type == VREG ? tmpfs_host_fd(t) : -1;
}

static struct vnotify *state(struct vnode *vn)
{
	if (vn->notify)
		return vn->notify;
	struct vnode *t = real_tmpfs(vn);
	int area = area_of_store(t ? tmpfs_store_of(t) : tmpfs_default_store());
	if (area < 0)
		return NULL;
	struct vnotify *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->area = area;
	n->standin = -1;
	vn->notify = n;
	return n;
}

/* The stand-in directory whose names mirror dir's, or -1. */
static int dir_standin(const struct vnode *dir)
{
	return dir && dir->type == VDIR && dir->notify ? dir->notify->standin : -1;
}

/* The directory whose watches hear of vn by name: its parent, or for an
 * overlay's upper file (whose parent is the upper tmpfs directory) the
 * overlay directory wrapping that. */
static struct vnode *notify_parent(const struct vnode *vn)
{
	struct vnode *p = vn->parent;
	if (p && tmpfs_is(p) && tmpfs_shadow(p))
		p = tmpfs_shadow(p);
	return p;
}

static int proc_fd_path(char buf[32], int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return 0;
}

static bool same_inode(int dfd, const char *name, int fd)
{
	struct stat a, b;
	return fstatat(dfd, name, &a, AT_SYMLINK_NOFOLLOW) == 0 && fstat(fd, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Give tmpfs file t's store file its anchor (see the top). */
static int anchor(struct vnode *t)
{
	struct vnotify *n = state(t);
	int fd = tmpfs_host_fd(t);
	if (!n || fd < 0)
		return -ENOENT;
	if (n->aname[0])
		return 0;
	char path[32], name[24];
	proc_fd_path(path, fd);
	fresh_name(name, 'a');
	if (linkat(AT_FDCWD, path, n->area, name, AT_SYMLINK_FOLLOW) < 0)
		return neg_errno();
	memcpy(n->aname, name, sizeof(name));
	return 0;
}

/* The placeholder of child (NULL: known only by its dirent type) named
 * name in directory dfd. */
static void placeholder_make(int dfd, const char *name, struct vnode *child, unsigned char dtype)
{
	enum vtype type = child ? child->type : dtype == DT_DIR ? VDIR : VREG;
	if (type == VDIR) {
		(void)mkdirat(dfd, name, 0700);
		return;
	}
	int fd = child ? store_file(child) : -1;
	if (fd >= 0 && anchor(real_tmpfs(child)) == 0) {
		char path[32];
		proc_fd_path(path, fd);
		if (linkat(AT_FDCWD, path, dfd, name, AT_SYMLINK_FOLLOW) == 0)
			return;
	}
	(void)mknodat(dfd, name, S_IFREG | 0600, 0);
}

/* Remove name from directory dfd, whatever it is. */
static int remove_name(int dfd, const char *name)
{
	if (unlinkat(dfd, name, 0) == 0)
		return 0;
	if (errno == EISDIR && unlinkat(dfd, name, AT_REMOVEDIR) == 0)
		return 0;
	return neg_errno();
}

/* Empty a stand-in directory that should be empty but is not (it lost
 * track of a name): its entries are placeholders, directories among them
 * empty ones. */
static void standin_clear(int area, const char *sname)
{
	int fd = openat(area, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			(void)remove_name(dirfd(d), e->d_name);
	closedir(d);
}

/* Fill new stand-in directory dfd with a placeholder per entry of dir.
 * Never waits: the caller read the listing once already. */
static void standin_fill(struct vnode *dir, int dfd)
{
	struct dirent_list l = { 0 };
	if (dir->ops->readdir(dir, &l) < 0) {
		dirent_list_free(&l);
		return;
	}
	/* Regular files are found in the tmpfs directory that holds them. */
	struct vnode *u = tmpfs_is(dir) ? dir : overlay_upper(dir);
	for (size_t i = 0; i < l.n; i++) {
		struct vnode *c = NULL;
		if (l.ents[i].type == DT_REG && u && tmpfs_is(u) &&
		    u->ops->lookup(u, l.ents[i].name, &c) < 0)
			c = NULL;
		placeholder_make(dfd, l.ents[i].name, c, l.ents[i].type);
		vn_unref(c);
	}
	dirent_list_free(&l);
}

/* Does the guest change this directory's names through us? (tmpfs and the
 * overlay; an rw bind's are watched natively, the rest never change.) */
static bool mirrors_names(struct vnode *dir)
{
	return dir->type == VDIR && (tmpfs_is(dir) || overlay_is(dir)) &&
	       !(dir->mnt && (dir->mnt->flags & MNT_RDONLY));
}

/**
 * standin_make() - give vn its stand-in.
 *
 * Drops the sentry lock while a directory is listed the first time (a
 * lower listing of the overlay); the caller holds a reference on @vn.
 */
static int standin_make(struct vnode *vn)
{
	bool fill = mirrors_names(vn);
	if (fill) {
		struct dirent_list l = { 0 };
		int r = vn->ops->readdir(vn, &l); /* may wait; warms the caches */
		dirent_list_free(&l);
		if (r < 0)
			return r;
		if (vn->unlinked)
			return -ENOENT;
	}
	struct vnotify *n = state(vn);
	if (!n)
		return -ENOMEM;
	if (n->standin >= 0)
		return 0; /* made by another thread meanwhile */
	if (nstandins >= NOTIFY_MAX_STANDINS)
		return -ENOSPC;
	char name[24];
	fresh_name(name, 's');
	bool dir = vn->type == VDIR;
	if ((dir ? mkdirat(n->area, name, 0700) : mknodat(n->area, name, S_IFREG | 0600, 0)) < 0)
		return neg_errno();
	int fd = openat(n->area, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int r = neg_errno();
		(void)remove_name(n->area, name);
		return r;
	}
	if (fill)
		standin_fill(vn, fd);
	n->standin = fd;
	memcpy(n->sname, name, sizeof(name));
	n->pinned = true;
	vn_ref(vn);
	nstandins++;
	return 0;
}

int vnotify_watch_fd(struct vnode *vn)
{
	int fd = vn->ops->notify_host ? vn->ops->notify_host(vn) : -EOPNOTSUPP;
	if (fd >= 0) {
		struct vnode *t = real_tmpfs(vn);
		if (t && t->type == VREG) {
			(void)anchor(t);
			if (t->notify)
				t->notify->watched = true;
		}
		return fd;
	}
	if (fd != -EOPNOTSUPP)
		return fd;
	int r = standin_make(vn);
	if (r < 0)
		return r;
	vn->notify->watched = true;
	fd = fcntl(vn->notify->standin, F_DUPFD_CLOEXEC, 3);
	return fd < 0 ? neg_errno() : fd;
}

/* vn lost its last name: its stand-in and anchor go, and with the last
 * host link the kernel reports IN_DELETE_SELF and IN_IGNORED. The caller
 * holds a reference on vn. */
static void gone(struct vnode *vn)
{
	struct vnotify *n = vn->notify;
	struct vnode *t = real_tmpfs(vn);
	if (t && t != vn && t->notify && t->notify->aname[0]) {
		(void)unlinkat(t->notify->area, t->notify->aname, 0);
		t->notify->aname[0] = 0;
	}
	if (!n)
		return;
	if (n->aname[0]) {
		(void)unlinkat(n->area, n->aname, 0);
		n->aname[0] = 0;
	}
	if (n->standin >= 0) {
		/* Closed first: the kernel reports the removal of an inode when
		 * the last reference to its name goes. */
		n->standin = safe_close(n->standin);
		if (vn->type == VDIR && unlinkat(n->area, n->sname, AT_REMOVEDIR) < 0) {
			standin_clear(n->area, n->sname);
			(void)unlinkat(n->area, n->sname, AT_REMOVEDIR);
		} else if (vn->type != VDIR) {
			(void)unlinkat(n->area, n->sname, 0);
		}
		nstandins--;
	}
	if (n->pinned) {
		n->pinned = false;
		vn_unref(vn);
	}
}

/* An IN_ATTRIB on name in dfd: chmod to the mode it has. */
static void touch(int dfd, const char *name)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		(void)fchmodat(dfd, name, st.st_mode & 07777, 0);
}

static void touch_fd(int fd)
{
	char path[32];
	struct stat st;
	proc_fd_path(path, fd);
	if (fstat(fd, &st) == 0)
		(void)fchmodat(AT_FDCWD, path, st.st_mode & 07777, 0);
}

void vnotify__created(struct vnode *dir, const char *name)
{
	if (dir_standin(dir) < 0)
		return;
	/* The name was just made: the upper layer or tmpfs answers without
	 * waiting. Should a lookup wait all the same, the stand-in is looked
	 * at again after it: it may have gone (and its fd number with it). */
	struct vnode *c = NULL;
	if (dir->ops->lookup(dir, name, &c) < 0)
		c = NULL;
	int dfd = dir_standin(dir);
	if (dfd >= 0)
		placeholder_make(dfd, name, c, DT_REG);
	vn_unref(c);
}

/* Linux reports a change of a file's link count as IN_ATTRIB on it. */
static void link_count_changed(struct vnode *vn)
{
	struct vnotify *n = vn->notify;
	struct vnode *t = real_tmpfs(vn);
	if (t && t->notify && t->notify->watched && store_file(t) >= 0)
		touch_fd(store_file(t));
	else if (n && n->watched && n->standin >= 0)
		touch(n->area, n->sname);
}

void vnotify__removed(struct vnode *dir, const char *name, struct vnode *victim)
{
	int dfd = dir_standin(dir);
	/* In the kernel's order: the victim's own events, then the
	 * directory's IN_DELETE. */
	if (victim->unlinked)
		gone(victim);
	else if (dfd < 0 || !same_inode(dfd, name, store_file(victim)))
		link_count_changed(victim);
	if (dfd >= 0)
		(void)remove_name(dfd, name);
}

/* src (or dst, exchanged) moved: IN_MOVE_SELF, unless the kernel reported
 * it already because the placeholder that moved is the file itself. */
static void moved_self(struct vnode *vn, bool placeholder_moved)
{
	struct vnotify *n = vn->notify;
	if (n && n->standin >= 0) {
		char name[24];
		fresh_name(name, 's');
		if (syscall(SYS_renameat2, n->area, n->sname, n->area, name, 0) == 0)
			memcpy(n->sname, name, sizeof(name));
		return;
	}
	struct vnode *t = real_tmpfs(vn);
	if (placeholder_moved || !t || !t->notify || !t->notify->watched || !t->notify->aname[0])
		return;
	char name[24];
	fresh_name(name, 'a');
	if (syscall(SYS_renameat2, t->notify->area, t->notify->aname, t->notify->area, name, 0) == 0)
		memcpy(t->notify->aname, name, sizeof(name));
}

static int area_of_dirs(struct vnode *a, struct vnode *b)
{
	return a->notify ? a->notify->area : b->notify ? b->notify->area : -1;
}

void vnotify__renamed(struct vnode *odir, const char *oname, struct vnode *ndir, const char *nname,
		      unsigned flags, struct vnode *src, struct vnode *dst)
{
	bool exchange = flags & RENAME_EXCHANGE;
	int os = dir_standin(odir), ns = dir_standin(ndir);
	if (dst && !exchange && dst->unlinked)
		gone(dst);
	/* Did the file itself (its store file) move, as a placeholder? */
	int sfd = store_file(src), dfd = dst && exchange ? store_file(dst) : -1;
	bool src_moved = false, dst_moved = false;
	if (os >= 0 && ns >= 0) {
		src_moved = sfd >= 0 && same_inode(os, oname, sfd);
		dst_moved = dfd >= 0 && same_inode(ns, nname, dfd);
		(void)syscall(SYS_renameat2, os, oname, ns, nname, exchange ? RENAME_EXCHANGE : 0);
	} else if (os >= 0 || ns >= 0) {
		/* One side is watched: the placeholder goes to (or comes from)
		 * the stand-ins' directory, which nobody watches, so the watched
		 * side sees IN_MOVED_FROM or IN_MOVED_TO alone, as in Linux. */
		int area = area_of_dirs(odir, ndir);
		char tmp[24];
		fresh_name(tmp, 't');
		if (area < 0)
			return;
		if (os >= 0) {
			src_moved = sfd >= 0 && same_inode(os, oname, sfd);
			if (exchange)
				placeholder_make(area, tmp, dst, DT_REG);
			(void)syscall(SYS_renameat2, os, oname, area, tmp, exchange ? RENAME_EXCHANGE : 0);
		} else {
			placeholder_make(area, tmp, src, DT_REG);
			src_moved = sfd >= 0 && same_inode(area, tmp, sfd);
			dst_moved = dfd >= 0 && same_inode(ns, nname, dfd);
			(void)syscall(SYS_renameat2, area, tmp, ns, nname, exchange ? RENAME_EXCHANGE : 0);
		}
		(void)remove_name(area, tmp);
	}
	moved_self(src, src_moved);
	if (exchange && dst)
		moved_self(dst, dst_moved);
}

void vnotify_attrib(struct vnode *vn, unsigned sa_valid)
{
	/* A size change is IN_MODIFY, which the store file's truncate
	 * reported already. */
	if (!(sa_valid & ~SA_SIZE))
		return;
	struct vnode *p = notify_parent(vn);
	int pfd = dir_standin(p);
	int sfd = store_file(vn);
	bool reached_self = false;
	if (pfd >= 0) {
		touch(pfd, vn->name);
		reached_self = sfd >= 0 && same_inode(pfd, vn->name, sfd);
	}
	struct vnotify *n = vn->notify;
	struct vnode *t = real_tmpfs(vn);
	if (n && n->standin >= 0) {
		touch(n->area, n->sname);
	} else if (!reached_self && sfd >= 0 && t->notify && t->notify->watched) {
		/* New times were set on the store file: the kernel said so. */
		if (sa_valid & ~(SA_SIZE | SA_ATIME | SA_MTIME))
			touch_fd(sfd);
	}
}

int vnotify_reopen(struct vnode *vn, int hostfd, int flags)
{
	if (vn->unlinked)
		return -ENOENT;
	struct vnode *p = notify_parent(vn);
	int pfd = dir_standin(p);
	if (pfd < 0)
		return -ENOENT;
	/* Looked at before it is opened: opening a placeholder that is not
	 * the file (a lower file's, before its copy-up) would be reported. */
	_cleanup_close_ int path = openat(pfd, vn->name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (path < 0)
		return neg_errno();
	struct stat a, b;
	if (fstat(path, &a) < 0 || fstat(hostfd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return -ENOENT;
	char proc[32];
	proc_fd_path(proc, path);
	int fd = open(proc, flags | O_CLOEXEC | O_NOCTTY);
	return fd < 0 ? neg_errno() : fd;
}

void vnotify_free(struct vnode *vn)
{
	struct vnotify *n = vn->notify;
	/* A pinned vnode is released only after gone(): what is left here
	 * is an anchor of a file released some other way. */
	if (n->aname[0])
		(void)unlinkat(n->area, n->aname, 0);
	if (n->standin >= 0) {
		safe_close(n->standin);
		(void)remove_name(n->area, n->sname);
		nstandins--;
	}
	free(n);
	vn->notify = NULL;
}
