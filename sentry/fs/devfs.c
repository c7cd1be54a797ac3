/* SPDX-License-Identifier: MIT */
/* devfs: the sandbox's /dev, a fixed tree described by one table.
 *
 * Devices are the harmless ones (null, zero, full, random, urandom) plus
 * tty and the pseudo-terminals; opening one opens the host device of the
 * same name with the guest's access mode, so reads and writes run
 * natively. tty is the caller's controlling terminal, as in the kernel:
 * the guest task's own (found through /proc/<tid>), never the sentry's;
 * -ENXIO without one. ptmx and pts/N are the sandbox's own devpts instance
 * (sentry/sandbox/console.c), which the sentry reaches through a detached
 * mount: its numbering is the sandbox's, and pts/N is shown only while the
 * instance has it. The sentry opens every terminal O_NOCTTY, so opening
 * one never makes it a controlling terminal (TIOCSCTTY does, as login_tty
 * and forkpty use). The symlinks point into /proc/self/fd; shm is an empty
 * directory (the setup code mounts a tmpfs on it). Everything is
 * read-only: no operation changes the tree, and the mutation operations
 * are NULL (-EROFS).
 *
 * The root holds a reference on each child and each child's vn->parent one
 * on the root, so an instance lives as long as the sandbox. */
#include "sentry/fs/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "sentry/kernel/task.h"

#define DEVFS_ST_VALID 0x0020 /* the kernel's ST_VALID */
#define DEVFS_BLOCK 4096
#define TTY_GID 5             /* "tty", as Linux shows /dev/tty */

enum devfs_kind { DEV_HOST, DEV_TTY, DEV_LINK, DEV_DIR, DEV_PTMX, DEV_PTS, DEV_PTY, DEV_SPOT };

/* pts/N nodes devfs keeps (the devpts instance's own max is lower). */
#define DEVFS_MAX_PTYS 256
#define PTY_MAJOR 136

struct devfs_ent {
	const char *name;
	enum devfs_kind kind;
	mode_t mode;
	unsigned major, minor;
	gid_t gid;
	const char *target; /* DEV_LINK */
};

static const struct devfs_ent devfs_ents[] = {
	{ "null", DEV_HOST, S_IFCHR | 0666, 1, 3 },
	{ "zero", DEV_HOST, S_IFCHR | 0666, 1, 5 },
	{ "full", DEV_HOST, S_IFCHR | 0666, 1, 7 },
	{ "random", DEV_HOST, S_IFCHR | 0666, 1, 8 },
	{ "urandom", DEV_HOST, S_IFCHR | 0666, 1, 9 },
	{ "tty", DEV_TTY, S_IFCHR | 0666, 5, 0, TTY_GID },
	{ "ptmx", DEV_PTMX, S_IFCHR | 0666, 5, 2, TTY_GID },
	{ "fd", DEV_LINK, S_IFLNK | 0777, .target = "/proc/self/fd" },
	{ "stdin", DEV_LINK, S_IFLNK | 0777, .target = "/proc/self/fd/0" },
	{ "stdout", DEV_LINK, S_IFLNK | 0777, .target = "/proc/self/fd/1" },
	{ "stderr", DEV_LINK, S_IFLNK | 0777, .target = "/proc/self/fd/2" },
	{ "shm", DEV_DIR, S_IFDIR | 01777 },
	{ "pts", DEV_PTS, S_IFDIR | 0755 },
};

/* Every pts/N node: a terminal's slave, mode 0620 and group tty as devpts
 * shows them with the usual gid=5,mode=620 options. */
static const struct devfs_ent devfs_pty_ent = { "pty", DEV_PTY, S_IFCHR | 0620, PTY_MAJOR, 0, TTY_GID };

static int devpts_mnt = -1;
static uid_t pty_owner[DEVFS_MAX_PTYS];

void devfs_set_devpts(int mnt) { devpts_mnt = mnt; }

void devfs_pty_set_owner(unsigned index, uid_t uid)
{
	if (index < DEVFS_MAX_PTYS)
		pty_owner[index] = uid;
}
#define DEVFS_NENTS ARRAY_SIZE(devfs_ents)

static const struct devfs_ent devfs_root_ent = { "/", DEV_DIR, S_IFDIR | 0755 };

struct devfs_node {
	const struct devfs_ent *ent;
	struct timespec time;  /* all times: when the instance was made */
	bool host_registered;  /* host (dev, ino) told to vfs_hostino_add */
	struct vnode *children[DEVFS_NENTS]; /* the root only */
	unsigned index;        /* pts/N: N */
	struct vnode **ptys;   /* pts: its nodes by index, made on first lookup */
	/* The root only: empty files made at setup for a file to be mounted
	 * on (a container's /dev/termination-log), as runc makes them in its
	 * /dev tmpfs. */
	struct devfs_ent **spots; /* each its own allocation: nodes point at them */
	struct vnode **spot_vn;
	size_t nspots;
};

static const struct fs_ops devfs_ops;

static inline struct devfs_node *D(struct vnode *vn) { return vn->priv; }
static inline bool is_root(struct vnode *vn) { return D(vn)->ent == &devfs_root_ent; }

static struct vnode *devfs_node_new(const struct devfs_ent *e, struct vnode *parent,
				    struct timespec ts);

/* "N" of pts/N, canonical decimal only (no sign, no leading zero). */
static bool pty_index(const char *name, unsigned *ret)
{
	if (!name[0] || strlen(name) > 3 || strspn(name, "0123456789") != strlen(name) ||
	    (name[0] == '0' && name[1]))
		return false;
	unsigned v = (unsigned)atoi(name);
	if (v >= DEVFS_MAX_PTYS)
		return false;
	*ret = v;
	return true;
}

/* The host's pts/N of the sandbox's instance, if it exists. */
static int pty_host_stat(unsigned index, struct stat *ret)
{
	char name[16];
	snprintf(name, sizeof(name), "%u", index);
	if (devpts_mnt < 0 || fstatat(devpts_mnt, name, ret, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISCHR(ret->st_mode))
		return -ENOENT;
	return 0;
}

/* pts's node for index, made and tied to its host inode the first time
 * (the instance numbers inodes by index, so one node serves every pty that
 * takes the index later): fstat and /proc/self/fd of any fd on it, however
 * the guest got it (TIOCGPTPEER included), find this node. */
static int pty_node(struct vnode *pts, unsigned index, struct vnode **ret)
{
	struct stat st;
	int r = pty_host_stat(index, &st);
	if (r < 0)
		return r;
	struct devfs_node *d = D(pts);
	if (!d->ptys && !(d->ptys = calloc(DEVFS_MAX_PTYS, sizeof(*d->ptys))))
		return -ENOMEM;
	struct vnode *vn = d->ptys[index];
	if (!vn) {
		vn = devfs_node_new(&devfs_pty_ent, pts, D(pts)->time);
		if (!vn)
			return -ENOMEM;
		char name[16];
		snprintf(name, sizeof(name), "%u", index);
		free(vn->name);
		vn->name = strdup(name);
		if (!vn->name) {
			vn_unref(vn);
			return -ENOMEM;
		}
		D(vn)->index = index;
		d->ptys[index] = vn;
	}
	if (!vn->mnt) /* made before the mount existed */
		vn->mnt = pts->mnt;
	if (!D(vn)->host_registered) {
		vfs_hostino_add(st.st_dev, st.st_ino, vn);
		D(vn)->host_registered = true;
	}
	*ret = vn;
	return 0;
}

static int devfs_lookup(struct vnode *dir, const char *name, struct vnode **ret)
{
	if (dir->type != VDIR)
		return -ENOTDIR;
	if (D(dir)->ent->kind == DEV_PTS) {
		unsigned index;
		struct vnode *vn;
		if (!pty_index(name, &index) || pty_node(dir, index, &vn) < 0)
			return -ENOENT;
		*ret = vn_ref(vn);
		return 0;
	}
	if (!is_root(dir))
		return -ENOENT; /* shm is empty */
	struct vnode *vn = NULL;
	for (size_t i = 0; i < DEVFS_NENTS && !vn; i++)
		if (!strcmp(devfs_ents[i].name, name))
			vn = D(dir)->children[i];
	for (size_t i = 0; i < D(dir)->nspots && !vn; i++)
		if (!strcmp(D(dir)->spots[i]->name, name))
			vn = D(dir)->spot_vn[i];
	if (!vn)
		return -ENOENT;
	if (!vn->mnt) /* made before the mount existed */
		vn->mnt = dir->mnt;
	*ret = vn_ref(vn);
	return 0;
}

static int devfs_readdir(struct vnode *dir, struct dirent_list *out)
{
	if (dir->type != VDIR)
		return -ENOTDIR;
	if (D(dir)->ent->kind == DEV_PTS) {
		for (unsigned i = 0; i < DEVFS_MAX_PTYS && devpts_mnt >= 0; i++) {
			struct vnode *vn;
			if (pty_node(dir, i, &vn) < 0)
				continue;
			int r = dirent_list_add(out, vn->ino, DT_CHR, vn->name);
			if (r < 0)
				return r;
		}
		return 0;
	}
	if (!is_root(dir))
		return 0;
	for (size_t i = 0; i < DEVFS_NENTS; i++) {
		struct vnode *vn = D(dir)->children[i];
		int r = dirent_list_add(out, vn->ino, vtype_to_dt(vn->type), devfs_ents[i].name);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < D(dir)->nspots; i++) {
		int r = dirent_list_add(out, D(dir)->spot_vn[i]->ino, DT_REG, D(dir)->spots[i]->name);
		if (r < 0)
			return r;
	}
	return 0;
}

static int devfs_getattr(struct vnode *vn, struct stat *st)
{
	/* A node made before its mount existed (the ptys there at setup),
	 * reached through fstat before any lookup: its mount is its
	 * ancestors'. */
	for (struct vnode *p = vn->parent; !vn->mnt && p; p = p->parent)
		vn->mnt = p->mnt;
	const struct devfs_node *n = D(vn);
	const struct devfs_ent *e = n->ent;
	*st = (struct stat){
		.st_ino = vn->ino,
		.st_mode = e->mode,
		.st_nlink = 1,
		.st_gid = e->gid,
		.st_blksize = DEVFS_BLOCK,
		.st_atim = n->time,
		.st_mtim = n->time,
		.st_ctim = n->time,
	};
	switch (e->kind) {
	case DEV_HOST:
	case DEV_TTY:
	case DEV_PTMX:
		st->st_rdev = makedev(e->major, e->minor);
		break;
	case DEV_PTY: {
		/* The kernel's node: its number (a sandbox's own), and its
		 * times, which show the terminal's last use (idle in `w`). */
		struct stat h;
		if (pty_host_stat(n->index, &h) < 0)
			return -ENOENT;
		st->st_rdev = h.st_rdev;
		st->st_uid = pty_owner[n->index];
		st->st_atim = h.st_atim;
		st->st_mtim = h.st_mtim;
		st->st_ctim = h.st_ctim;
		break;
	}
	case DEV_PTS:
		st->st_nlink = 2;
		break;
	case DEV_LINK:
		st->st_size = (off_t)strlen(e->target);
		break;
	case DEV_SPOT:
		break;
	case DEV_DIR: {
		size_t subdirs = 0, nents = 0;
		if (is_root(vn)) {
			nents = DEVFS_NENTS;
			for (size_t i = 0; i < DEVFS_NENTS; i++)
				subdirs += devfs_ents[i].kind == DEV_DIR || devfs_ents[i].kind == DEV_PTS;
		}
		st->st_nlink = 2 + subdirs;
		st->st_size = (off_t)(nents + 2) * 20; /* as tmpfs shows a directory */
		break;
	}
	}
	return 0;
}

static ssize_t devfs_readlink(struct vnode *vn, char *buf, size_t len)
{
	const struct devfs_ent *e = D(vn)->ent;
	if (e->kind != DEV_LINK)
		return -EINVAL;
	size_t n = strlen(e->target);
	if (n > len)
		n = len;
	memcpy(buf, e->target, n);
	return (ssize_t)n;
}

/* tty_nr (field 7) of /proc/<tid>/stat: the task's controlling terminal,
 * 0 if none. */
static int task_ctty(pid_t tid, dev_t *ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	_cleanup_free_ char *buf = NULL;
	ssize_t n = read_file_at(AT_FDCWD, path, &buf, 4096);
	if (n < 0)
		return (int)n;
	/* comm may hold anything, ')' included: start after the last one. */
	const char *p = strrchr(buf, ')');
	int ppid, pgrp, session, tty_nr;
	char state;
	if (!p || sscanf(p + 1, " %c %d %d %d %d", &state, &ppid, &pgrp, &session, &tty_nr) != 5)
		return -EIO;
	*ret = (dev_t)(unsigned)tty_nr;
	return 0;
}

static bool same_dev(dev_t a, dev_t b) { return major(a) == major(b) && minor(a) == minor(b); }

/* Reopen what O_PATH fd pfd names with oflags, if it is the terminal tty. */
static int tty_reopen_checked(int pfd, dev_t tty, int oflags)
{
	struct stat st;
	if (fstat(pfd, &st) < 0 || !S_ISCHR(st.st_mode) || !same_dev(st.st_rdev, tty))
		return -ENOENT;
	char path[48];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pfd);
	int fd = open(path, oflags);
	if (fd < 0)
		return errno == EIO ? -EIO : -ENXIO;
	return fd;
}

/* Open the controlling terminal of guest task tid: reopen whichever of its
 * fds is that terminal (a terminal the guest cannot reach through an fd of
 * its own is one it has no business opening). Each candidate is pinned with
 * O_PATH and checked before it is opened: the guest may swap its fds
 * meanwhile, and must not get another of its files reopened with more
 * access than it has. */
static int guest_tty_open(pid_t tid, int oflags, int *ret_fd)
{
	dev_t tty;
	int r = task_ctty(tid, &tty);
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	if (tty == 0)
		return -ENXIO;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)tid);
	_cleanup_(closedirp) DIR *d = opendir(path);
	if (!d)
		return -ENXIO;
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_close_ int pfd = openat(dirfd(d), de->d_name, O_PATH | O_CLOEXEC);
		if (pfd < 0)
			continue;
		int fd = tty_reopen_checked(pfd, tty, oflags);
		if (fd == -ENOENT)
			continue;
		if (fd < 0)
			return fd;
		*ret_fd = fd;
		return 0;
	}
	return -ENXIO;
}

static int tty_open(int oflags, int *ret_fd)
{
	if (current)
		return guest_tty_open(current->tid, oflags, ret_fd);
	/* No guest task (setup, tests): the sentry's own terminal. */
	int fd = open("/dev/tty", oflags);
	if (fd < 0)
		return -ENXIO;
	*ret_fd = fd;
	return 0;
}

static void register_host(struct vnode *vn, int fd)
{
	struct stat st;
	if (D(vn)->host_registered || fstat(fd, &st) < 0)
		return;
	/* fstat of the guest's fd must show this node, not host inodes. */
	vfs_hostino_add(st.st_dev, st.st_ino, vn);
	D(vn)->host_registered = true;
}

/* A new pty: the master, for the guest (docs/terminals.md). Its slave is
 * the opener's, as devpts makes it (a guest's ptys belong to its user). */
static int ptmx_open(struct vnode *vn, int oflags, int *ret_fd)
{
	if (devpts_mnt < 0)
		return -ENOENT;
	int fd = openat(devpts_mnt, "ptmx", oflags);
	if (fd < 0)
		return errno == ENOSPC ? -ENOSPC : errno == EMFILE ? -ENFILE : neg_errno();
	register_host(vn, fd);
	unsigned index;
	struct vnode *pty;
	if (ioctl(fd, TIOCGPTN, &index) == 0 && index < DEVFS_MAX_PTYS) {
		pty_owner[index] = current ? current->cred->euid : 0;
		/* Its node, so that a TIOCGPTPEER fd the guest never opened
		 * by path still has a name. */
		struct vnode *root = vn->parent;
		for (size_t i = 0; root && i < DEVFS_NENTS; i++)
			if (devfs_ents[i].kind == DEV_PTS)
				(void)pty_node(D(root)->children[i], index, &pty);
	}
	*ret_fd = fd;
	return 0;
}

static int devfs_open(struct vnode *vn, int flags, int *ret_fd)
{
	const struct devfs_ent *e = D(vn)->ent;
	/* O_NOCTTY always: the sentry must never acquire a terminal. */
	int oflags = (flags & (O_ACCMODE | O_NONBLOCK | O_APPEND)) | O_CLOEXEC | O_NOCTTY;
	switch (e->kind) {
	case DEV_PTMX:
		return ptmx_open(vn, oflags, ret_fd);
	case DEV_PTY: {
		char name[16];
		snprintf(name, sizeof(name), "%u", D(vn)->index);
		int fd = devpts_mnt < 0 ? -1 : openat(devpts_mnt, name, oflags);
		if (fd < 0)
			return errno == EMFILE ? -ENFILE : errno == EIO ? -EIO : -ENXIO;
		*ret_fd = fd;
		return 0;
	}
	case DEV_DIR:
	case DEV_PTS:
		return -EISDIR;
	case DEV_LINK:
		return -ELOOP;
	case DEV_SPOT:
		return -ENXIO; /* always under what is mounted on it */
	case DEV_TTY:
		return tty_open(oflags, ret_fd);
	case DEV_HOST:
		break;
	}
	char path[32];
	snprintf(path, sizeof(path), "/dev/%s", e->name);
	int fd = open(path, oflags);
	if (fd < 0)
		return errno == EMFILE ? -ENFILE : neg_errno(); /* the sentry's limit, not the guest's */
	register_host(vn, fd);
	*ret_fd = fd;
	return 0;
}

static int devfs_statfs(struct vnode *vn, struct statfs *st)
{
	unsigned mflags = vn->mnt ? vn->mnt->flags : 0;
	/* Numbers of a small tmpfs, which is what a container's /dev is. */
	*st = (struct statfs){
		.f_type = TMPFS_MAGIC,
		.f_bsize = DEVFS_BLOCK,
		.f_frsize = DEVFS_BLOCK,
		.f_blocks = 16384,
		.f_bfree = 16384,
		.f_bavail = 16384,
		.f_files = 1024,
		.f_ffree = 1024 - (DEVFS_NENTS + 1),
		.f_namelen = 255,
		.f_flags = DEVFS_ST_VALID | ST_NOSUID | ((mflags & MNT_RDONLY) ? ST_RDONLY : 0) |
			   ((mflags & MNT_NOEXEC) ? ST_NOEXEC : 0),
	};
	return 0;
}

static void devfs_release(struct vnode *vn)
{
	struct devfs_node *n = D(vn);
	if (!n)
		return;
	/* Only reached for the root when building it failed (see vfs.h: a
	 * child pins the root through vn->parent). */
	for (size_t i = 0; i < DEVFS_NENTS; i++)
		vn_unref(n->children[i]);
	free(n->ptys);
	free(n);
}

static const struct fs_ops devfs_ops = {
	.name = "devfs",
	.lookup = devfs_lookup,
	.getattr = devfs_getattr,
	.readlink = devfs_readlink,
	.open = devfs_open,
	.readdir = devfs_readdir,
	.statfs = devfs_statfs,
	.release = devfs_release,
	.cache_lookups = false,
};

static struct vnode *devfs_node_new(const struct devfs_ent *e, struct vnode *parent,
				    struct timespec ts)
{
	struct devfs_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	struct vnode *vn = vn_alloc(&devfs_ops, NULL, vtype_from_mode(e->mode), 0, parent, e->name);
	if (!vn) {
		free(n);
		return NULL;
	}
	*n = (struct devfs_node){ .ent = e, .time = ts };
	vn->priv = n;
	return vn;
}

int devfs_new(struct vnode **ret_root)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct vnode *root = devfs_node_new(&devfs_root_ent, NULL, ts);
	if (!root)
		return -ENOMEM;
	for (size_t i = 0; i < DEVFS_NENTS; i++) {
		struct vnode *vn = devfs_node_new(&devfs_ents[i], root, ts);
		if (!vn) {
			/* Each child made so far goes, and with it its
			 * reference on the root; then the root. */
			for (size_t j = 0; j < i; j++)
				vn_unref(TAKE_PTR(D(root)->children[j]));
			vn_unref(root);
			return -ENOMEM;
		}
		D(root)->children[i] = vn;
		/* The ptys there already (the command's, for -t): an fd on
		 * one must fstat as its node before anyone looks it up by
		 * name (glibc's ttyname compares both). */
		struct vnode *pty;
		for (unsigned k = 0; devfs_ents[i].kind == DEV_PTS && k < DEVFS_MAX_PTYS; k++)
			(void)pty_node(vn, k, &pty);
	}
	*ret_root = root;
	return 0;
}

bool devfs_is_root(const struct vnode *vn)
{
	return vn->ops == &devfs_ops && D((struct vnode *)vn)->ent == &devfs_root_ent;
}

int devfs_add_spot(struct vnode *root, const char *name, struct vnode **ret)
{
	if (!devfs_is_root(root))
		return -EINVAL;
	struct devfs_node *d = D(root);
	struct vnode *have;
	if (devfs_lookup(root, name, &have) == 0) {
		vn_unref(have);
		return -EEXIST;
	}
	/* Setup only, a handful at most: each keeps its own entry. */
	struct devfs_ent **ents = realloc(d->spots, (d->nspots + 1) * sizeof(*ents));
	if (!ents)
		return -ENOMEM;
	d->spots = ents;
	struct vnode **vns = realloc(d->spot_vn, (d->nspots + 1) * sizeof(*vns));
	if (!vns)
		return -ENOMEM;
	d->spot_vn = vns;
	struct devfs_ent *e = calloc(1, sizeof(*e));
	char *copy = strdup(name);
	struct vnode *vn = NULL;
	if (e && copy) {
		*e = (struct devfs_ent){ .name = copy, .kind = DEV_SPOT, .mode = S_IFREG | 0644 };
		vn = devfs_node_new(e, root, d->time);
	}
	if (!vn) {
		free(copy);
		free(e);
		return -ENOMEM;
	}
	vn->mnt = root->mnt;
	ents[d->nspots] = e;
	vns[d->nspots++] = vn;
	*ret = vn_ref(vn);
	return 0;
}
