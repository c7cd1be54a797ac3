/* SPDX-License-Identifier: MIT */
/* tmpfs: an in-memory filesystem whose tree lives here (cache_lookups is
 * false: the tree is the truth, the dentry cache is never involved).
 *
 * Nodes. Every vnode of a tmpfs has a struct tmpfs_node in vn->priv; one
 * vnode per inode, so hard links share it. A directory holds its entries in
 * a hash table (XXH3, seeded per instance so a guest cannot pick colliding
 * names offline) and in a list in creation order, which readdir follows.
 * Each entry holds one reference on its child; the child's vn->parent holds
 * one on the directory (vfs.h), so a directory lives while it has entries.
 * vn->parent/name name one of the node's entries ("aliases"): the one it was
 * created or last renamed as, or another alias once that one is unlinked.
 *
 * Regular files are memfds. The node keeps only an O_RDONLY reopen of its
 * memfd: a writable fd held by the sentry would make exec of the file fail
 * with ETXTBSY. The guest gets its own reopen with its access mode, and
 * writes through it straight to the host, so the memfd is the truth for
 * size, blocks, atime and mtime; the node is the truth for everything else.
 *
 * FIFOs are host FIFOs made in a private directory and unlinked at once;
 * the node keeps an O_PATH fd and every open reopens it, so the host kernel
 * gives the exact blocking semantics. Sockets are nodes without a host
 * object (opening one is -ENXIO).
 *
 * Unlinked files. A file whose last name goes may still be open in the guest
 * (and the VFS's host-inode map keeps a reference on its vnode for fstat
 * translation), so its memfd is kept until nothing but the sentry's own fd
 * holds it. That is decided with the kernel's own bookkeeping: a write
 * lease on the node's O_RDONLY fd is granted only when no other open file
 * description of the memfd exists (a guest fd in any process, a mapping, a
 * running exec); once granted (and dropped at once) the memfd is closed and
 * its inode no longer counts. Unlinked nodes are tried when they lose their
 * last name, then at most every 100 ms when the filesystem is used, and at
 * once by statfs and before refusing a creation with -ENOSPC. A FIFO's
 * O_PATH fd is closed as soon as the sentry itself holds no reference
 * (guest ends keep the pipe alive). What stays is the small node and its
 * vnode, pinned by the host-inode map, which has no removal yet.
 *
 * An overlay (overlay.c) keeps its upper layer in a tmpfs, with what
 * Linux's overlayfs keeps in its upper filesystem: whiteouts (character
 * devices 0/0, which nothing else can make here: mknod of devices is
 * refused), an "opaque" flag on directories (overlayfs's
 * trusted.overlay.opaque xattr) and a weak pointer to the overlay vnode
 * that wraps a directory, so the overlay has one vnode per directory.
 *
 * Limits: inodes are counted exactly. Data written through the guest's own
 * fds cannot be seen here, so files keep their data in a store (tmpstore.c):
 * a detached host tmpfs of the sandbox's --disk size (or a --tmpfs's own),
 * whose kernel refuses a write beyond it with ENOSPC. Without a store
 * (fsopen refused) files are memfds, which cannot be capped without
 * sealing them: the byte limit then only refuses truncate growth and is
 * reported by statfs, and the bound on data is the memory cgroup. Every regular file
 * and FIFO costs the sentry one host fd: creation fails with -ENOSPC when
 * the sentry's RLIMIT_NOFILE is reached.
 *
 * Locking: everything runs under the sentry lock (vfs.h); only a blocking
 * FIFO open drops it. */
#include "sentry/fs/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "platform/kfeatures.h"
#include "sentry/fs/notify.h"
#include "sentry/kernel/task.h"

/* Not in Debian 12's headers (Linux 6.3+). */
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#define TMPFS_ST_VALID 0x0020 /* the kernel's ST_VALID: f_flags is meaningful */

/* What shmem shows as a directory's size: 20 bytes per entry plus "." and "..". */
#define BOGO_DIRENT_SIZE 20
#define TMPFS_BLOCK 4096
/* Default inode limit per instance (each regular file also costs the sentry
 * a host fd, so this is deliberately below a raised RLIMIT_NOFILE). */
#define TMPFS_DEFAULT_INODES 65536
#define TMPFS_DIR_MIN_BUCKETS 8
#define TMPFS_REAP_INTERVAL_NS (100 * 1000 * 1000LL)

/* Open flags passed on to the reopen of a memfd. The rest (O_CREAT, O_EXCL,
 * O_TRUNC, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC) are the sentry's business. */
#define TMPFS_REG_OPEN_FLAGS \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_NOATIME | O_LARGEFILE)

struct tmpfs_sb {
	uint64_t seed;          /* name hash seed */
	uint64_t max_bytes;     /* 0: half of RAM */
	uint64_t max_inodes;
	uint64_t ninodes;       /* inodes counted against max_inodes */
	uint64_t nnodes;        /* node structs alive: the instance lives while any does */
	struct tmpfs_node *files;   /* regular files with a memfd, for the byte count */
	struct tmpfs_node *orphans; /* unlinked nodes still holding a host fd */
	int64_t last_reap;      /* CLOCK_MONOTONIC ns of the last sweep of orphans */
	struct tmpfs_store *store; /* where files keep their data; NULL: memfds */
};

/* The store new instances use (tmpfs_set_default_store). */
static struct tmpfs_store *default_store;
/* Told before a call that frees a store's space (tmpfs_set_free_hook). */
static void (*free_hook)(struct tmpfs_store *s);

void tmpfs_set_free_hook(void (*fn)(struct tmpfs_store *s)) { free_hook = fn; }


struct tmpfs_dirent {
	struct tmpfs_dirent *hnext;               /* hash chain */
	struct tmpfs_dirent *prev, *next;         /* creation order in the directory */
	struct tmpfs_dirent *alias_prev, *alias_next; /* other names of the same node */
	struct vnode *dir;                        /* containing directory (borrowed) */
	struct vnode *vn;                         /* the child (reference) */
	uint64_t hash;
	uint64_t seq;                             /* creation order: the readdir position */
	char name[];
};

struct tmpfs_dir {
	struct tmpfs_dirent **buckets;
	size_t nbuckets, n;
	uint64_t seq; /* last entry's seq */
	struct tmpfs_dirent *head, *tail;
};

struct tmpfs_node {
	struct tmpfs_sb *sb;
	struct vnode *vn; /* back pointer (borrowed) */
	mode_t mode;      /* with S_IFMT */
	uid_t uid;
	gid_t gid;
	nlink_t nlink;
	dev_t rdev;
	struct timespec atime, mtime, ctime; /* for regular files only ctime counts */
	struct tmpfs_dirent *aliases;
	bool counted;  /* counts in sb->ninodes */
	bool orphan;   /* on sb->orphans */
	bool opaque;   /* directories: an overlay's upper hides the lower here */
	struct vnode *shadow; /* the overlay vnode wrapping this one (weak) */
	struct tmpfs_node *orphan_prev, *orphan_next;
	union {
		struct {
			int fd; /* O_RDONLY reopen of the memfd */
			struct tmpfs_node *prev, *next; /* sb->files */
		} reg;
		struct tmpfs_dir dir;
		char *target; /* symlink */
		int fifo_fd;  /* O_PATH fd of the unlinked host FIFO */
	};
};

static const struct fs_ops tmpfs_ops;

static inline struct tmpfs_node *N(struct vnode *vn) { return vn->priv; }
static inline bool is_tmpfs(const struct vnode *vn) { return vn && vn->ops == &tmpfs_ops; }

static struct timespec now_real(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

static bool ts_after(struct timespec a, struct timespec b)
{
	return a.tv_sec != b.tv_sec ? a.tv_sec > b.tv_sec : a.tv_nsec > b.tv_nsec;
}

/* A new fd for the file behind fd, with its own access mode. */
static int fd_reopen(int fd, int flags)
{
	char path[48];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int r = open(path, flags | O_CLOEXEC | O_NOCTTY);
	return r < 0 ? neg_errno() : r;
}

/* The sentry running out of its own fds is no business of the guest's: its
 * fd table is not full. For a new inode the filesystem is; for an open the
 * system is (ENFILE). */
static int create_errno(int r)
{
	return r == -EMFILE || r == -ENFILE ? -ENOSPC : r;
}

static int open_errno(int r)
{
	return r == -EMFILE ? -ENFILE : r;
}

/* memfd_create, stating exec-ability where the kernel knows the flags
 * (6.3+ warns without them); older kernels reject them with EINVAL. */
static int memfd_new(const char *name, unsigned flags, unsigned exec_flag)
{
	if (!kfeature_has(KF_MEMFD_NOEXEC_SEAL))
		exec_flag = 0;
	int fd = memfd_create(name, flags | exec_flag);
	if (fd < 0 && errno == EINVAL && exec_flag)
		fd = memfd_create(name, flags);
	return fd < 0 ? neg_errno() : fd;
}

int memfd_from_buf(const char *name, const void *data, size_t len)
{
	/* memfd names are limited to 249 bytes; they are only a debugging aid. */
	char nm[64];
	snprintf(nm, sizeof(nm), "%s", name ? name : "moat");
	_cleanup_close_ int fd = memfd_new(nm, MFD_CLOEXEC | MFD_ALLOW_SEALING, MFD_NOEXEC_SEAL);
	if (fd < 0)
		return fd;
	int r = write_all(fd, data, len);
	if (r < 0)
		return r;
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		return neg_errno();
	/* O_RDONLY, so the guest sees the access mode of a read-only file
	 * (write gives EBADF, F_GETFL says O_RDONLY), not just a sealed one. */
	return fd_reopen(fd, O_RDONLY);
}

/* ---- instance ---------------------------------------------------------- */

static uint64_t default_max_bytes(void)
{
	struct sysinfo si;
	if (sysinfo(&si) < 0)
		return 1ULL << 30;
	return (uint64_t)si.totalram * si.mem_unit / 2;
}

static uint64_t sb_max_bytes(const struct tmpfs_sb *sb)
{
	return sb->max_bytes ? sb->max_bytes : default_max_bytes();
}

void tmpfs_set_default_store(struct tmpfs_store *s)
{
	tmpfs_store_unref(default_store);
	default_store = tmpfs_store_ref(s);
}

static uint64_t name_hash(const struct tmpfs_sb *sb, const char *name)
{
	return XXH3_64bits_withSeed(name, strlen(name), sb->seed);
}

/* Bytes the instance's files hold (allocated blocks, as df counts). */
static uint64_t sb_bytes_used(const struct tmpfs_sb *sb)
{
	uint64_t used = 0;
	for (const struct tmpfs_node *n = sb->files; n; n = n->reg.next) {
		struct stat st;
		if (n->reg.fd >= 0 && fstat(n->reg.fd, &st) == 0)
			used += (uint64_t)st.st_blocks * 512;
	}
	return used;
}

/* ---- directory table --------------------------------------------------- */

static struct tmpfs_dirent *dir_find(struct tmpfs_node *d, const char *name)
{
	if (!d->dir.nbuckets)
		return NULL;
	uint64_t h = name_hash(d->sb, name);
	for (struct tmpfs_dirent *e = d->dir.buckets[h & (d->dir.nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && !strcmp(e->name, name))
			return e;
	return NULL;
}

/* Double the table. Failing is harmless: chains just get longer. */
static void dir_grow(struct tmpfs_dir *t)
{
	size_t nb = t->nbuckets ? t->nbuckets * 2 : TMPFS_DIR_MIN_BUCKETS;
	struct tmpfs_dirent **nt = calloc(nb, sizeof(*nt));
	if (!nt)
		return;
	for (struct tmpfs_dirent *e = t->head; e; e = e->next) {
		e->hnext = nt[e->hash & (nb - 1)];
		nt[e->hash & (nb - 1)] = e;
	}
	free(t->buckets);
	t->buckets = nt;
	t->nbuckets = nb;
}

/* Reserve room for one more entry: the only step of an insert that can fail. */
static int dir_reserve(struct tmpfs_dir *t)
{
	if (t->nbuckets)
		return 0;
	dir_grow(t);
	return t->nbuckets ? 0 : -ENOMEM;
}

static void dir_insert(struct tmpfs_dir *t, struct tmpfs_dirent *e)
{
	if (t->n >= t->nbuckets)
		dir_grow(t);
	size_t b = e->hash & (t->nbuckets - 1);
	e->seq = ++t->seq;
	e->hnext = t->buckets[b];
	t->buckets[b] = e;
	e->prev = t->tail;
	e->next = NULL;
	if (t->tail)
		t->tail->next = e;
	else
		t->head = e;
	t->tail = e;
	t->n++;
}

static void dir_remove(struct tmpfs_dir *t, struct tmpfs_dirent *e)
{
	struct tmpfs_dirent **pp = &t->buckets[e->hash & (t->nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		t->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		t->tail = e->prev;
	t->n--;
}

static struct tmpfs_dirent *dirent_new(struct vnode *dir, const char *name)
{
	size_t len = strlen(name);
	struct tmpfs_dirent *e = calloc(1, sizeof(*e) + len + 1);
	if (!e)
		return NULL;
	memcpy(e->name, name, len + 1);
	e->dir = dir;
	e->hash = name_hash(N(dir)->sb, name);
	return e;
}

static void alias_add(struct tmpfs_node *n, struct tmpfs_dirent *e)
{
	e->alias_prev = NULL;
	e->alias_next = n->aliases;
	if (n->aliases)
		n->aliases->alias_prev = e;
	n->aliases = e;
}

static void alias_remove(struct tmpfs_node *n, struct tmpfs_dirent *e)
{
	if (e->alias_prev)
		e->alias_prev->alias_next = e->alias_next;
	else
		n->aliases = e->alias_next;
	if (e->alias_next)
		e->alias_next->alias_prev = e->alias_prev;
	e->alias_prev = e->alias_next = NULL;
}

static bool vn_named_by(const struct vnode *vn, const struct tmpfs_dirent *e)
{
	return vn->parent == e->dir && !strcmp(vn->name, e->name);
}

/* When the entry vn is named by goes away, the name to switch to (another
 * alias, malloc'd), or NULL when there is none or no switch is needed.
 * Allocated before an operation commits so the commit cannot fail. */
static int alias_next_name(struct vnode *vn, const struct tmpfs_dirent *going, char **ret)
{
	*ret = NULL;
	if (!vn_named_by(vn, going))
		return 0;
	for (struct tmpfs_dirent *a = N(vn)->aliases; a; a = a->alias_next)
		if (a != going) {
			*ret = strdup(a->name);
			return *ret ? 0 : -ENOMEM;
		}
	return 0;
}

static void alias_apply_name(struct vnode *vn, char *name)
{
	if (!name)
		return;
	/* The first alias left is the one alias_next_name chose. */
	vn_set_name(vn, N(vn)->aliases->dir, name);
}

/* ---- nodes ------------------------------------------------------------- */

static bool cred_in_group(const struct cred *c, gid_t gid)
{
	if (c->fsgid == gid)
		return true;
	for (int i = 0; i < c->ngroups && i < (int)ARRAY_SIZE(c->groups); i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

static void node_uncount(struct tmpfs_node *n)
{
	if (n->counted)
		n->sb->ninodes--;
	n->counted = false;
}

static void node_free(struct tmpfs_node *n)
{
	struct tmpfs_sb *sb = n->sb;
	node_uncount(n);
	free(n);
	if (--sb->nnodes == 0) {
		tmpfs_store_unref(sb->store);
		free(sb);
	}
}

static void tmpfs_reap(struct tmpfs_sb *sb, bool force);

/* A node with the owner and mode a new inode in dir gets from creator c
 * (NULL: the directory's owner, for build-time helpers). Applies the
 * setgid-directory rules of the kernel's inode_init_owner. */
static int node_new(struct tmpfs_sb *sb, struct vnode *dir, mode_t mode, const struct cred *c,
		    struct tmpfs_node **ret)
{
	if (sb->ninodes >= sb->max_inodes)
		tmpfs_reap(sb, true); /* unlinked files the guest has closed may go */
	if (sb->ninodes >= sb->max_inodes)
		return -ENOSPC;
	struct tmpfs_node *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	struct tmpfs_node *d = dir ? N(dir) : NULL;
	n->sb = sb;
	n->uid = c ? c->fsuid : d ? d->uid : 0;
	n->gid = c ? c->fsgid : d ? d->gid : 0;
	if (d && (d->mode & S_ISGID)) {
		/* Inherit the directory's group; a directory passes the bit on,
		 * a file keeps an effective set-group-ID only if its creator
		 * could have made it (mode_strip_sgid). */
		n->gid = d->gid;
		if (S_ISDIR(mode))
			mode |= S_ISGID;
		else if (c && (mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) &&
			 !cred_in_group(c, d->gid) && !cred_is_root(c))
			mode &= ~S_ISGID;
	}
	n->mode = mode;
	n->nlink = S_ISDIR(mode) ? 2 : 1;
	n->atime = n->mtime = n->ctime = now_real();
	/* The union's fd members; other types start zeroed. */
	if (S_ISREG(mode))
		n->reg.fd = -1;
	else if (S_ISFIFO(mode))
		n->fifo_fd = -1;
	sb->ninodes++;
	sb->nnodes++;
	n->counted = true;
	*ret = n;
	return 0;
}

/* Type-specific state; on failure the caller frees the node. */
static int node_init_reg(struct tmpfs_node *n)
{
	_cleanup_close_ int rw = n->sb->store ? tmpfs_store_file(n->sb->store)
					      : memfd_new("moat-tmpfs", MFD_CLOEXEC, MFD_EXEC);
	if (rw < 0)
		return create_errno(rw);
	int ro = fd_reopen(rw, O_RDONLY);
	if (ro < 0)
		return create_errno(ro);
	n->reg.fd = ro; /* rw closes here: nobody holds the file writable */
	return 0;
}

/* A host FIFO nobody else can reach: made in a fresh 0700 directory under
 * /tmp (the sentry's private one, see sentry/sandbox/confine.c), opened O_PATH and unlinked at once with its directory, so nothing is
 * left behind even if the sentry dies. */
static int node_init_fifo(struct tmpfs_node *n)
{
	char dir[] = "/tmp/moat-fifo.XXXXXX";
	int r = mkdtemp_at(AT_FDCWD, dir);
	if (r < 0)
		return r;
	_cleanup_close_ int dfd = open(dir, O_DIRECTORY | O_PATH | O_CLOEXEC);
	r = dfd < 0 ? neg_errno() : 0;
	if (r == 0 && mknodat(dfd, "fifo", S_IFIFO | 0600, 0) < 0)
		r = neg_errno();
	if (r == 0) {
		int fd = openat(dfd, "fifo", O_PATH | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			r = neg_errno();
		else
			n->fifo_fd = fd;
		(void)unlinkat(dfd, "fifo", 0);
	}
	(void)unlinkat(AT_FDCWD, dir, AT_REMOVEDIR);
	return create_errno(r);
}

static int node_init(struct tmpfs_node *n, const char *target)
{
	switch (n->mode & S_IFMT) {
	case S_IFREG:
		return node_init_reg(n);
	case S_IFIFO:
		return node_init_fifo(n);
	case S_IFLNK:
		n->target = strdup(target);
		return n->target ? 0 : -ENOMEM;
	case S_IFDIR:
		return dir_reserve(&n->dir);
	}
	return 0;
}

static int node_host_fd(const struct tmpfs_node *n)
{
	return S_ISREG(n->mode) ? n->reg.fd : S_ISFIFO(n->mode) ? n->fifo_fd : -1;
}

static void node_fini(struct tmpfs_node *n)
{
	switch (n->mode & S_IFMT) {
	case S_IFREG:
		safe_close(n->reg.fd);
		break;
	case S_IFIFO:
		safe_close(n->fifo_fd);
		break;
	case S_IFLNK:
		free(n->target);
		break;
	case S_IFDIR:
		free(n->dir.buckets);
		break;
	}
}

/* The host object of a node, so fstat (and /proc/self/maps) of the guest's
 * fds translate back to it. */
static void node_register_host(struct tmpfs_node *n, struct vnode *vn)
{
	int fd = node_host_fd(n);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0)
		vfs_hostino_add(st.st_dev, st.st_ino, vn);
}

static void files_link(struct tmpfs_node *n)
{
	struct tmpfs_sb *sb = n->sb;
	n->reg.prev = NULL;
	n->reg.next = sb->files;
	if (sb->files)
		sb->files->reg.prev = n;
	sb->files = n;
}

static void files_unlink(struct tmpfs_node *n)
{
	if (n->reg.prev)
		n->reg.prev->reg.next = n->reg.next;
	else
		n->sb->files = n->reg.next;
	if (n->reg.next)
		n->reg.next->reg.prev = n->reg.prev;
}

static void orphan_add(struct tmpfs_node *n)
{
	struct tmpfs_sb *sb = n->sb;
	n->orphan = true;
	n->orphan_prev = NULL;
	n->orphan_next = sb->orphans;
	if (sb->orphans)
		sb->orphans->orphan_prev = n;
	sb->orphans = n;
}

static void orphan_del(struct tmpfs_node *n)
{
	if (!n->orphan)
		return;
	if (n->orphan_prev)
		n->orphan_prev->orphan_next = n->orphan_next;
	else
		n->sb->orphans = n->orphan_next;
	if (n->orphan_next)
		n->orphan_next->orphan_prev = n->orphan_prev;
	n->orphan = false;
}

/* Is anything but the sentry's own fd (and the references the caller knows
 * of, plus the host-inode map's) still using unlinked node n? */
static bool orphan_busy(struct tmpfs_node *n, int fd, uint32_t extra_refs)
{
	struct stat st;
	uint32_t held = extra_refs;
	if (fstat(fd, &st) == 0 && vfs_hostino_lookup(st.st_dev, st.st_ino) == n->vn)
		held++;
	/* A reference elsewhere in the sentry (an O_PATH placeholder, a
	 * task's exe, a FIFO open waiting without the lock) may open it. */
	if (n->vn->refcnt > held)
		return true;
	if (!S_ISREG(n->mode))
		return false;
	/* Granted only when ours is the memfd's one open description. */
	if (fcntl(fd, F_SETLEASE, F_WRLCK) < 0)
		return true;
	(void)fcntl(fd, F_SETLEASE, F_UNLCK);
	return false;
}

/* Give back the host fd (and with it the memfd's memory) of an unlinked
 * node nobody can reach any more. The node itself stays until its vnode is
 * released; it answers getattr from what it has and open with -ENOENT. */
static void orphan_try_free(struct tmpfs_node *n, uint32_t extra_refs)
{
	int fd = node_host_fd(n);
	if (fd < 0 || orphan_busy(n, fd, extra_refs))
		return;
	orphan_del(n);
	if (S_ISREG(n->mode)) {
		files_unlink(n);
		n->reg.fd = safe_close(n->reg.fd);
	} else {
		n->fifo_fd = safe_close(n->fifo_fd);
	}
	node_uncount(n);
}

/* Sweep the orphans: when forced, or at most every TMPFS_REAP_INTERVAL_NS. */
static void tmpfs_reap(struct tmpfs_sb *sb, bool force)
{
	if (!sb->orphans)
		return;
	int64_t t = now_ns();
	if (!force && t - sb->last_reap < TMPFS_REAP_INTERVAL_NS)
		return;
	sb->last_reap = t;
	for (struct tmpfs_node *n = sb->orphans, *next; n; n = next) {
		next = n->orphan_next;
		orphan_try_free(n, 0);
	}
}

/* vn (whose tree reference the caller still holds) lost its last name. */
static void node_orphaned(struct vnode *vn)
{
	struct tmpfs_node *n = N(vn);
	vn->unlinked = true;
	if (node_host_fd(n) < 0)
		return;
	orphan_add(n);
	orphan_try_free(n, 1);
}

static void tmpfs_release(struct vnode *vn)
{
	struct tmpfs_node *n = N(vn);
	if (!n)
		return;
	if (S_ISDIR(n->mode)) {
		/* Normally empty (entries pin their parent); entries that are
		 * hard links whose vn->parent is elsewhere may remain. */
		while (n->dir.head) {
			struct tmpfs_dirent *e = n->dir.head;
			dir_remove(&n->dir, e);
			alias_remove(N(e->vn), e);
			vn_unref(e->vn);
			free(e);
		}
	}
	if (S_ISREG(n->mode) && n->reg.fd >= 0)
		files_unlink(n);
	orphan_del(n);
	node_fini(n);
	vn->priv = NULL;
	node_free(n);
}

/* ---- creation ---------------------------------------------------------- */

static int check_new_name(struct vnode *dir, const char *name)
{
	if (!is_tmpfs(dir) || dir->type != VDIR)
		return -ENOTDIR;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	/* Creating in a removed directory (still someone's cwd) fails. */
	if (N(dir)->nlink == 0)
		return -ENOENT;
	if (dir_find(N(dir), name))
		return -EEXIST;
	return 0;
}

static void dir_touch(struct tmpfs_node *d, struct timespec ts)
{
	d->mtime = d->ctime = ts;
}

/* Make a node of `mode` (with S_IFMT) named name in dir. *ret (if non-NULL)
 * gets a new reference. */
static void before_free(const struct tmpfs_node *n)
{
	if (free_hook && n->sb->store)
		free_hook(n->sb->store);
}

static int tmpfs_make(struct vnode *dir, const char *name, mode_t mode, dev_t rdev,
		      const char *target, const struct cred *c, struct vnode **ret)
{
	int r = check_new_name(dir, name);
	if (r < 0)
		return r;
	struct tmpfs_node *d = N(dir), *n;
	tmpfs_reap(d->sb, false);
	if ((r = dir_reserve(&d->dir)) < 0)
		return r;
	if ((r = node_new(d->sb, dir, mode, c, &n)) < 0)
		return r;
	n->rdev = rdev;
	struct tmpfs_dirent *e = NULL;
	struct vnode *vn = NULL;
	if ((r = node_init(n, target)) < 0 ||
	    !(vn = vn_alloc(&tmpfs_ops, dir->mnt, vtype_from_mode(mode), 0, dir, name)) ||
	    !(e = dirent_new(dir, name))) {
		node_fini(n);
		node_free(n);
		vn_unref(vn); /* priv is not set yet: release does nothing */
		return r < 0 ? r : -ENOMEM;
	}
	/* Commit: nothing below can fail. */
	vn->priv = n;
	n->vn = vn;
	e->vn = vn; /* the tree's reference: vn_alloc's */
	alias_add(n, e);
	dir_insert(&d->dir, e);
	if (S_ISDIR(mode))
		d->nlink++;
	if (S_ISREG(mode))
		files_link(n);
	dir_touch(d, n->ctime);
	node_register_host(n, vn);
	if (ret)
		*ret = vn_ref(vn);
	return 0;
}

static int tmpfs_create(struct vnode *dir, const char *name, mode_t mode, const struct cred *c,
			struct vnode **ret)
{
	return tmpfs_make(dir, name, S_IFREG | (mode & 07777), 0, NULL, c, ret);
}

static int tmpfs_mkdir(struct vnode *dir, const char *name, mode_t mode, const struct cred *c)
{
	return tmpfs_make(dir, name, S_IFDIR | (mode & 07777), 0, NULL, c, NULL);
}

static int tmpfs_mknod(struct vnode *dir, const char *name, mode_t mode, dev_t dev,
		       const struct cred *c)
{
	mode_t perm = mode & 07777;
	switch (mode & S_IFMT) {
	case 0:
	case S_IFREG:
		return tmpfs_make(dir, name, S_IFREG | perm, 0, NULL, c, NULL);
	case S_IFIFO:
	case S_IFSOCK:
		return tmpfs_make(dir, name, (mode & S_IFMT) | perm, 0, NULL, c, NULL);
	case S_IFCHR:
	case S_IFBLK:
	case S_IFDIR:
		/* No device nodes in the sandbox: they would need host devices. */
		return -EPERM;
	}
	return -EINVAL;
}

static int tmpfs_symlink(struct vnode *dir, const char *name, const char *target,
			 const struct cred *c)
{
	if (!target[0])
		return -ENOENT;
	if (strlen(target) >= PATH_MAX)
		return -ENAMETOOLONG;
	return tmpfs_make(dir, name, S_IFLNK | 0777, 0, target, c, NULL);
}

static int tmpfs_link(struct vnode *dir, const char *name, struct vnode *target)
{
	if (!is_tmpfs(target) || !is_tmpfs(dir) || N(target)->sb != N(dir)->sb)
		return -EXDEV;
	if (target->type == VDIR)
		return -EPERM;
	int r = check_new_name(dir, name);
	if (r < 0)
		return r;
	struct tmpfs_node *d = N(dir), *n = N(target);
	tmpfs_reap(d->sb, false);
	/* A file whose last name is gone cannot get a new one (no O_TMPFILE here). */
	if (n->nlink == 0)
		return -ENOENT;
	if ((r = dir_reserve(&d->dir)) < 0)
		return r;
	struct tmpfs_dirent *e = dirent_new(dir, name);
	if (!e)
		return -ENOMEM;
	e->vn = vn_ref(target);
	alias_add(n, e);
	dir_insert(&d->dir, e);
	n->nlink++;
	n->ctime = now_real();
	dir_touch(d, n->ctime);
	return 0;
}

/* ---- removal ----------------------------------------------------------- */

/* Take entry e out of its directory, drop one link of its node, and drop
 * the tree's reference. */
static void entry_drop(struct tmpfs_dirent *e, char *new_name, struct timespec ts)
{
	struct vnode *vn = e->vn;
	struct tmpfs_node *n = N(vn), *d = N(e->dir);
	dir_remove(&d->dir, e);
	alias_remove(n, e);
	if (S_ISDIR(n->mode)) {
		n->nlink = 0;
		d->nlink--;
	} else {
		n->nlink--;
	}
	n->ctime = ts;
	dir_touch(d, ts);
	alias_apply_name(vn, new_name);
	free(e);
	if (n->nlink == 0)
		node_orphaned(vn);
	vn_unref(vn);
}

static int tmpfs_unlink(struct vnode *dir, const char *name)
{
	if (!is_tmpfs(dir) || dir->type != VDIR)
		return -ENOTDIR;
	struct tmpfs_dirent *e = dir_find(N(dir), name);
	if (!e)
		return -ENOENT;
	if (e->vn->type == VDIR)
		return -EISDIR;
	if (e->vn->mounted)
		return -EBUSY;
	char *new_name;
	int r = alias_next_name(e->vn, e, &new_name);
	if (r < 0)
		return r;
	before_free(N(dir));
	entry_drop(e, new_name, now_real());
	return 0;
}

static int tmpfs_rmdir(struct vnode *dir, const char *name)
{
	if (!is_tmpfs(dir) || dir->type != VDIR)
		return -ENOTDIR;
	struct tmpfs_dirent *e = dir_find(N(dir), name);
	if (!e)
		return -ENOENT;
	if (e->vn->type != VDIR)
		return -ENOTDIR;
	if (N(e->vn)->dir.n)
		return -ENOTEMPTY;
	if (e->vn->mounted)
		return -EBUSY;
	entry_drop(e, NULL, now_real());
	return 0;
}

/* ---- rename ------------------------------------------------------------ */

/* Is a the directory d or one of its ancestors? */
static bool is_ancestor(const struct vnode *a, const struct vnode *d)
{
	if (a->type != VDIR)
		return false;
	for (; d; d = d->parent)
		if (d == a)
			return true;
	return false;
}

/* The kernel's checks, in its order (do_renameat2, vfs_rename, may_delete,
 * shmem_rename2), so each case gives the errno Linux gives. */
static int rename_check(struct vnode *odir, struct tmpfs_dirent *oe, struct vnode *ndir,
			struct tmpfs_dirent *ne, unsigned flags)
{
	struct vnode *src = oe->vn, *dst = ne ? ne->vn : NULL;
	if ((flags & RENAME_NOREPLACE) && dst)
		return -EEXIST;
	if ((flags & RENAME_EXCHANGE) && !dst)
		return -ENOENT;
	/* The source must not be an ancestor of its new parent... */
	if (is_ancestor(src, ndir))
		return -EINVAL;
	/* ...nor the target an ancestor of the old one. */
	if (dst && is_ancestor(dst, odir))
		return (flags & RENAME_EXCHANGE) ? -EINVAL : -ENOTEMPTY;
	if (src == dst)
		return 1; /* two names of one inode: nothing to do */
	if (src->mounted || (dst && dst->mounted))
		return -EBUSY;
	if (dst && !(flags & RENAME_EXCHANGE)) {
		if (src->type == VDIR && dst->type != VDIR)
			return -ENOTDIR;
		if (src->type != VDIR && dst->type == VDIR)
			return -EISDIR;
		if (dst->type == VDIR && N(dst)->dir.n)
			return -ENOTEMPTY;
	}
	if (!dst && N(ndir)->nlink == 0)
		return -ENOENT;
	return 0;
}

/* A directory moving from odir to ndir takes its ".." link along. */
static void move_dotdot(struct vnode *vn, struct vnode *odir, struct vnode *ndir)
{
	if (vn->type == VDIR && odir != ndir) {
		N(odir)->nlink--;
		N(ndir)->nlink++;
	}
}

static int rename_exchange(struct vnode *odir, struct tmpfs_dirent *oe, struct vnode *ndir,
			   struct tmpfs_dirent *ne)
{
	struct vnode *src = oe->vn, *dst = ne->vn;
	_cleanup_free_ char *sname = strdup(ne->name), *dname = strdup(oe->name);
	if (!sname || !dname)
		return -ENOMEM;
	alias_remove(N(src), oe);
	alias_remove(N(dst), ne);
	oe->vn = dst;
	ne->vn = src;
	alias_add(N(dst), oe);
	alias_add(N(src), ne);
	move_dotdot(src, odir, ndir);
	move_dotdot(dst, ndir, odir);
	vn_set_name(src, ndir, TAKE_PTR(sname));
	vn_set_name(dst, odir, TAKE_PTR(dname));
	struct timespec ts = now_real();
	N(src)->ctime = N(dst)->ctime = ts;
	dir_touch(N(odir), ts);
	dir_touch(N(ndir), ts);
	return 0;
}

static int rename_move(struct vnode *odir, struct tmpfs_dirent *oe, struct vnode *ndir,
		       struct tmpfs_dirent *ne, const char *nname)
{
	struct vnode *src = oe->vn, *dst = ne ? ne->vn : NULL;
	_cleanup_free_ struct tmpfs_dirent *fresh = NULL;
	_cleanup_free_ char *sname = strdup(nname), *dst_name = NULL;
	if (!sname)
		return -ENOMEM;
	int r;
	if (dst) {
		if ((r = alias_next_name(dst, ne, &dst_name)) < 0)
			return r;
	} else {
		if ((r = dir_reserve(&N(ndir)->dir)) < 0)
			return r;
		if (!(fresh = dirent_new(ndir, nname)))
			return -ENOMEM;
	}
	/* Commit. */
	struct timespec ts = now_real();
	if (dst) {
		/* The replaced node loses the name; ne is reused for src. */
		struct tmpfs_node *dn = N(dst);
		alias_remove(dn, ne);
		if (S_ISDIR(dn->mode)) {
			dn->nlink = 0;
			N(ndir)->nlink--;
		} else {
			dn->nlink--;
		}
		dn->ctime = ts;
		alias_apply_name(dst, TAKE_PTR(dst_name));
		if (dn->nlink == 0)
			node_orphaned(dst);
	} else {
		ne = TAKE_PTR(fresh);
		dir_insert(&N(ndir)->dir, ne);
	}
	dir_remove(&N(odir)->dir, oe);
	alias_remove(N(src), oe);
	free(oe);
	ne->vn = src; /* the reference oe held moves with it */
	alias_add(N(src), ne);
	move_dotdot(src, odir, ndir);
	vn_set_name(src, ndir, TAKE_PTR(sname));
	N(src)->ctime = ts;
	dir_touch(N(odir), ts);
	dir_touch(N(ndir), ts);
	vn_unref(dst); /* the tree's reference on the replaced node */
	return 0;
}

static int tmpfs_rename(struct vnode *odir, const char *oname, struct vnode *ndir,
			const char *nname, unsigned flags)
{
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	if (!is_tmpfs(odir) || !is_tmpfs(ndir) || N(odir)->sb != N(ndir)->sb)
		return -EXDEV;
	if (odir->type != VDIR || ndir->type != VDIR)
		return -ENOTDIR;
	if (strlen(nname) > NAME_MAX)
		return -ENAMETOOLONG;
	struct tmpfs_dirent *oe = dir_find(N(odir), oname);
	if (!oe)
		return -ENOENT;
	struct tmpfs_dirent *ne = dir_find(N(ndir), nname);
	int r = rename_check(odir, oe, ndir, ne, flags);
	if (r != 0)
		return r < 0 ? r : 0;
	if (flags & RENAME_EXCHANGE)
		return rename_exchange(odir, oe, ndir, ne);
	if (ne)
		before_free(N(ndir));
	return rename_move(odir, oe, ndir, ne, nname);
}

/* ---- reading ----------------------------------------------------------- */

static int tmpfs_lookup(struct vnode *dir, const char *name, struct vnode **ret)
{
	if (dir->type != VDIR)
		return -ENOTDIR;
	if (strlen(name) > NAME_MAX)
		return -ENAMETOOLONG;
	struct tmpfs_dirent *e = dir_find(N(dir), name);
	if (!e)
		return -ENOENT;
	/* Nodes made before the instance was mounted (build-time helpers)
	 * learn their mount here. */
	if (!e->vn->mnt)
		e->vn->mnt = dir->mnt;
	*ret = vn_ref(e->vn);
	return 0;
}

static int tmpfs_readdir(struct vnode *dir, struct dirent_list *out)
{
	if (dir->type != VDIR)
		return -ENOTDIR;
	/* Positions are creation order: an entry keeps its place (also when
	 * renamed over) while others come and go (see struct vdirent). */
	for (struct tmpfs_dirent *e = N(dir)->dir.head; e; e = e->next) {
		int r = dirent_list_add_at(out, 2 + e->seq, e->vn->ino, vtype_to_dt(e->vn->type), e->name);
		if (r < 0)
			return r;
	}
	return 0;
}

static int tmpfs_getattr(struct vnode *vn, struct stat *st)
{
	struct tmpfs_node *n = N(vn);
	*st = (struct stat){
		.st_ino = vn->ino,
		.st_mode = n->mode,
		.st_nlink = n->nlink,
		.st_uid = n->uid,
		.st_gid = n->gid,
		.st_rdev = n->rdev,
		.st_blksize = TMPFS_BLOCK,
		.st_atim = n->atime,
		.st_mtim = n->mtime,
		.st_ctim = n->ctime,
	};
	struct stat hs;
	switch (vn->type) {
	case VREG:
		/* Data and its times live in the memfd; ctime is the later of
		 * the node's (chmod, link...) and the data's. */
		if (n->reg.fd < 0)
			break; /* an unlinked file nobody has open any more */
		if (fstat(n->reg.fd, &hs) < 0)
			return neg_errno();
		st->st_size = hs.st_size;
		st->st_blocks = hs.st_blocks;
		st->st_atim = hs.st_atim;
		st->st_mtim = hs.st_mtim;
		if (ts_after(hs.st_ctim, st->st_ctim))
			st->st_ctim = hs.st_ctim;
		break;
	case VDIR:
		st->st_size = (off_t)(n->dir.n + 2) * BOGO_DIRENT_SIZE;
		break;
	case VLNK:
		st->st_size = (off_t)strlen(n->target);
		break;
	default:
		break;
	}
	return 0;
}

static ssize_t tmpfs_readlink(struct vnode *vn, char *buf, size_t len)
{
	if (vn->type != VLNK)
		return -EINVAL;
	size_t n = strlen(N(vn)->target);
	if (n > len)
		n = len;
	memcpy(buf, N(vn)->target, n);
	return (ssize_t)n;
}

/* ---- open -------------------------------------------------------------- */

/* A new fd of a regular file for the guest (or a truncate). Where the
 * file's directory is watched, through its name in the directory's
 * inotify stand-in (notify.c), so that the kernel reports what is done
 * through the fd to the directory's watches with the file's name. */
static int reg_reopen(struct tmpfs_node *n, int flags)
{
	int fd = vnotify_reopen(n->vn, n->reg.fd, flags);
	return fd >= 0 ? fd : fd_reopen(n->reg.fd, flags);
}

/* Set a regular file's size through a short-lived writable fd (or the
 * caller's, if it is writable). A running executable gives -ETXTBSY. */
static int reg_truncate(struct tmpfs_node *n, int wfd, off_t size)
{
	_cleanup_close_ int own = -1;
	if (wfd < 0) {
		own = reg_reopen(n, O_WRONLY);
		if (own < 0)
			return open_errno(own);
		wfd = own;
	}
	return ftruncate(wfd, size) < 0 ? neg_errno() : 0;
}

static int reg_open(struct tmpfs_node *n, int flags, int *ret_fd)
{
	_cleanup_close_ int fd = reg_reopen(n, flags & TMPFS_REG_OPEN_FLAGS);
	if (fd < 0)
		return open_errno(fd);
	if (flags & O_TRUNC) {
		int acc = flags & O_ACCMODE;
		int r = reg_truncate(n, acc == O_WRONLY || acc == O_RDWR ? fd : -1, 0);
		if (r < 0)
			return r;
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/**
 * fifo_open() - open a FIFO node.
 *
 * The host FIFO gives the kernel's semantics: a blocking open waits for the
 * other end, O_NONBLOCK read-only succeeds, O_NONBLOCK write-only without a
 * reader is -ENXIO. A signal to the waiting sentry thread ends the wait with
 * -EINTR.
 *
 * Drops the sentry lock (vfs_block_begin) while a blocking open waits; it
 * takes its own reference on @vn so the node and its fd outlive the wait.
 */
static int fifo_open(struct vnode *vn, int flags, int *ret_fd)
{
	int oflags = flags & (O_ACCMODE | O_NONBLOCK);
	bool may_block = !(flags & O_NONBLOCK) && (flags & O_ACCMODE) != O_RDWR;
	int fd;
	if (may_block && !vfs_may_wait())
		return -EAGAIN; /* run again where waiting is allowed */
	if (may_block) {
		vn_ref(vn);
		int pfd = N(vn)->fifo_fd;
		vfs_block_begin();
		fd = fd_reopen(pfd, oflags);
		vfs_block_end();
		vn_unref(vn);
	} else {
		fd = fd_reopen(N(vn)->fifo_fd, oflags);
	}
	if (fd < 0)
		return open_errno(fd);
	*ret_fd = fd;
	return 0;
}

static int tmpfs_open(struct vnode *vn, int flags, int *ret_fd)
{
	tmpfs_reap(N(vn)->sb, false);
	/* An unlinked node whose host object is gone (reached through a
	 * stale reference): as if it had been removed. */
	if ((vn->type == VREG || vn->type == VFIFO) && node_host_fd(N(vn)) < 0)
		return -ENOENT;
	switch (vn->type) {
	case VREG:
		return reg_open(N(vn), flags, ret_fd);
	case VFIFO:
		return fifo_open(vn, flags, ret_fd);
	case VDIR:
		return -EISDIR;
	case VLNK:
		return -ELOOP;
	default:
		/* Sockets (and anything else without a host object). */
		return -ENXIO;
	}
}

/* ---- attributes -------------------------------------------------------- */

static int setattr_size(struct tmpfs_node *n, off_t size)
{
	if (S_ISDIR(n->mode))
		return -EISDIR;
	if (!S_ISREG(n->mode) || size < 0)
		return -EINVAL;
	if (n->reg.fd < 0)
		return -ENOENT;
	struct stat st;
	if (fstat(n->reg.fd, &st) < 0)
		return neg_errno();
	/* Without a store, growth is counted as if it were allocated:
	 * conservative, as the byte limit cannot see writes anyway (see the
	 * top of the file). A store's kernel counts blocks, as Linux does. */
	if (size > st.st_size && !n->sb->store) {
		uint64_t used = sb_bytes_used(n->sb), max = sb_max_bytes(n->sb);
		if (used + (uint64_t)(size - st.st_size) > max)
			return -ENOSPC;
	}
	return reg_truncate(n, -1, size);
}

static struct timespec resolve_time(struct timespec t, struct timespec now)
{
	return t.tv_nsec == UTIME_NOW ? now : t;
}

static int setattr_times(struct tmpfs_node *n, const struct setattr *sa, struct timespec now)
{
	struct timespec at = { .tv_nsec = UTIME_OMIT }, mt = { .tv_nsec = UTIME_OMIT };
	if (sa->valid & SA_ATIME)
		at = resolve_time(sa->atime, now);
	if (sa->valid & SA_MTIME)
		mt = resolve_time(sa->mtime, now);
	if (S_ISREG(n->mode) && n->reg.fd >= 0) {
		/* Data times live in the memfd (an owner may set them on an
		 * O_RDONLY fd). */
		struct timespec ts[2] = { at, mt };
		return futimens(n->reg.fd, ts) < 0 ? neg_errno() : 0;
	}
	if (at.tv_nsec != UTIME_OMIT)
		n->atime = at;
	if (mt.tv_nsec != UTIME_OMIT)
		n->mtime = mt;
	return 0;
}

static int tmpfs_setattr(struct vnode *vn, const struct setattr *sa)
{
	struct tmpfs_node *n = N(vn);
	struct timespec now = now_real();
	int r;
	/* The step that can fail for the guest's reasons goes first, so a
	 * failure leaves nothing half done. */
	if (sa->valid & SA_SIZE)
		before_free(n);
	if ((sa->valid & SA_SIZE) && (r = setattr_size(n, sa->size)) < 0)
		return r;
	if ((sa->valid & (SA_ATIME | SA_MTIME)) && (r = setattr_times(n, sa, now)) < 0)
		return r;
	if (sa->valid & SA_MODE)
		n->mode = (n->mode & S_IFMT) | (sa->mode & 07777);
	if (sa->valid & SA_UID)
		n->uid = sa->uid;
	if (sa->valid & SA_GID)
		n->gid = sa->gid;
	/* chown of a non-directory drops set-user-ID, and set-group-ID when
	 * it is effective (group-executable), as the kernel does, unless the
	 * caller states the mode it wants. */
	if ((sa->valid & (SA_UID | SA_GID)) && !(sa->valid & SA_MODE) && !S_ISDIR(n->mode)) {
		n->mode &= ~S_ISUID;
		if (n->mode & S_IXGRP)
			n->mode &= ~S_ISGID;
	}
	n->ctime = now;
	return 0;
}

static int tmpfs_statfs(struct vnode *vn, struct statfs *st)
{
	struct tmpfs_sb *sb = N(vn)->sb;
	tmpfs_reap(sb, true); /* so df counts what the guest has let go */
	uint64_t blocks, free_blocks, total, avail;
	if (sb->store && tmpfs_store_usage(sb->store, &total, &avail) == 0) {
		/* Shared with the sandbox's other in-memory filesystems: the
		 * disk's numbers, as df shows for one disk's partitions. */
		blocks = total / TMPFS_BLOCK;
		free_blocks = avail / TMPFS_BLOCK;
	} else {
		blocks = sb_max_bytes(sb) / TMPFS_BLOCK;
		uint64_t used = (sb_bytes_used(sb) + TMPFS_BLOCK - 1) / TMPFS_BLOCK;
		free_blocks = blocks > used ? blocks - used : 0;
	}
	uint64_t free_files = sb->max_inodes > sb->ninodes ? sb->max_inodes - sb->ninodes : 0;
	unsigned mflags = vn->mnt ? vn->mnt->flags : 0;
	*st = (struct statfs){
		.f_type = TMPFS_MAGIC,
		.f_bsize = TMPFS_BLOCK,
		.f_frsize = TMPFS_BLOCK,
		.f_blocks = blocks,
		.f_bfree = free_blocks,
		.f_bavail = free_blocks,
		.f_files = sb->max_inodes,
		.f_ffree = free_files,
		.f_namelen = NAME_MAX,
		.f_flags = TMPFS_ST_VALID | ((mflags & MNT_RDONLY) ? ST_RDONLY : 0) |
			   ((mflags & MNT_NOSUID) ? ST_NOSUID : 0) |
			   ((mflags & MNT_NODEV) ? ST_NODEV : 0) |
			   ((mflags & MNT_NOEXEC) ? ST_NOEXEC : 0),
	};
	return 0;
}

/* Files whose data lives in a host object: the watch goes on it, and the
 * kernel reports the guest's reads and writes itself. */
static int tmpfs_notify_host(struct vnode *vn)
{
	int fd = tmpfs_host_fd(vn);
	if (fd < 0)
		return -EOPNOTSUPP;
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return r < 0 ? neg_errno() : r;
}

static const struct fs_ops tmpfs_ops = {
	.name = "tmpfs",
	.lookup = tmpfs_lookup,
	.getattr = tmpfs_getattr,
	.readlink = tmpfs_readlink,
	.open = tmpfs_open,
	.readdir = tmpfs_readdir,
	.create = tmpfs_create,
	.mkdir = tmpfs_mkdir,
	.mknod = tmpfs_mknod,
	.symlink = tmpfs_symlink,
	.link = tmpfs_link,
	.unlink = tmpfs_unlink,
	.rmdir = tmpfs_rmdir,
	.rename = tmpfs_rename,
	.setattr = tmpfs_setattr,
	.statfs = tmpfs_statfs,
	.shadow = tmpfs_shadow,
	.release = tmpfs_release,
	.notify_host = tmpfs_notify_host,
	.cache_lookups = false,
};

/* ---- constructors and build-time helpers ------------------------------- */

int tmpfs_new(mode_t root_mode, uid_t uid, gid_t gid, struct vnode **ret_root)
{
	_cleanup_free_ struct tmpfs_sb *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	if (getrandom(&sb->seed, sizeof(sb->seed), GRND_NONBLOCK) != sizeof(sb->seed))
		sb->seed = (uint64_t)now_ns() ^ (uint64_t)(uintptr_t)sb;
	sb->max_inodes = TMPFS_DEFAULT_INODES;
	sb->store = tmpfs_store_ref(default_store);
	struct tmpfs_node *n;
	int r = node_new(sb, NULL, S_IFDIR | (root_mode & 07777), NULL, &n);
	if (r < 0)
		return r;
	n->uid = uid;
	n->gid = gid;
	struct vnode *vn = NULL;
	if ((r = node_init(n, NULL)) < 0 || !(vn = vn_alloc(&tmpfs_ops, NULL, VDIR, 0, NULL, "/"))) {
		node_fini(n);
		free(n); /* not node_free: sb is still ours to free */
		tmpfs_store_unref(sb->store);
		return r < 0 ? r : -ENOMEM;
	}
	vn->priv = n;
	n->vn = vn;
	(void)TAKE_PTR(sb); /* owned by its nodes now */
	*ret_root = vn;
	return 0;
}

int tmpfs_set_limits(struct vnode *root, uint64_t max_bytes, uint64_t max_inodes)
{
	if (!is_tmpfs(root))
		return -EINVAL;
	struct tmpfs_sb *sb = N(root)->sb;
	sb->max_bytes = max_bytes;
	sb->max_inodes = max_inodes ? max_inodes : TMPFS_DEFAULT_INODES;
	return 0;
}

int tmpfs_set_store(struct vnode *root, struct tmpfs_store *s)
{
	if (!is_tmpfs(root))
		return -EINVAL;
	struct tmpfs_sb *sb = N(root)->sb;
	if (sb->files)
		return -EBUSY;
	tmpfs_store_unref(sb->store);
	sb->store = tmpfs_store_ref(s);
	return 0;
}

int tmpfs_add_dir(struct vnode *dir, const char *name, mode_t mode, struct vnode **ret)
{
	if (!is_tmpfs(dir) || dir->type != VDIR || !is_single_component(name))
		return -EINVAL;
	/* Idempotent, so trees can be built from overlapping path lists. */
	struct tmpfs_dirent *e = dir_find(N(dir), name);
	if (e) {
		if (e->vn->type != VDIR)
			return -EEXIST;
		if (ret)
			*ret = vn_ref(e->vn);
		return 0;
	}
	return tmpfs_make(dir, name, S_IFDIR | (mode & 07777), 0, NULL, NULL, ret);
}

int tmpfs_add_symlink(struct vnode *dir, const char *name, const char *target)
{
	if (!is_tmpfs(dir) || dir->type != VDIR || !is_single_component(name))
		return -EINVAL;
	return tmpfs_symlink(dir, name, target, NULL);
}

/* ---- for the overlay's upper layer -------------------------------------- */

int tmpfs_mkwhiteout(struct vnode *dir, const char *name)
{
	if (!is_tmpfs(dir) || dir->type != VDIR || !is_single_component(name))
		return -EINVAL;
	return tmpfs_make(dir, name, S_IFCHR, 0, NULL, NULL, NULL);
}

bool tmpfs_is_whiteout(const struct vnode *vn)
{
	const struct tmpfs_node *n = is_tmpfs(vn) ? vn->priv : NULL;
	return n && vn->type == VCHR && n->rdev == 0;
}

void tmpfs_set_opaque(struct vnode *dir, bool opaque)
{
	if (is_tmpfs(dir) && dir->type == VDIR)
		N(dir)->opaque = opaque;
}

bool tmpfs_is_opaque(const struct vnode *dir)
{
	return is_tmpfs(dir) && dir->type == VDIR && ((const struct tmpfs_node *)dir->priv)->opaque;
}

struct vnode *tmpfs_shadow(const struct vnode *vn)
{
	const struct tmpfs_node *n = is_tmpfs(vn) ? vn->priv : NULL;
	return n ? n->shadow : NULL;
}

void tmpfs_set_shadow(struct vnode *vn, struct vnode *shadow)
{
	if (is_tmpfs(vn) && N(vn))
		N(vn)->shadow = shadow;
}

bool tmpfs_is(const struct vnode *vn) { return is_tmpfs(vn); }

struct tmpfs_store *tmpfs_store_of(const struct vnode *vn)
{
	const struct tmpfs_node *n = is_tmpfs(vn) ? vn->priv : NULL;
	return n ? n->sb->store : NULL;
}

struct tmpfs_store *tmpfs_default_store(void) { return default_store; }

int tmpfs_host_fd(const struct vnode *vn)
{
	const struct tmpfs_node *n = is_tmpfs(vn) ? vn->priv : NULL;
	if (!n || (vn->type != VREG && vn->type != VFIFO))
		return -1;
	return node_host_fd(n);
}
