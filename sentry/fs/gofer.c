/* SPDX-License-Identifier: MIT */
/* The gofer-backed filesystem, "directfs" style.
 *
 * A gofer round trip costs about as much as the rest of an emulated open, so
 * the gofer is asked only for what the sentry cannot do itself: the fd of a
 * directory (WALK, once per directory: the dentry cache keeps the vnode) and
 * mutations of rw exports. Everything else is done by the sentry relative to
 * a directory fd the gofer donated: getdents64 on it for listings (names
 * and types), single-component fstatat(AT_SYMLINK_NOFOLLOW) for lookups, openat2 with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS and O_NOFOLLOW
 * for opens, readlinkat for link text. Donated fds live in the gofer's mount
 * namespace, which holds only the exports (read-only, nosuid, nodev unless
 * the export is rw), so whatever the sentry does with them stays inside.
 *
 * Nodes. vn->priv is a struct gnode: the parent directory (a reference of
 * our own, beside vn->parent's) and the name in it, the lstat taken when the
 * vnode was made, and for a directory its donated fd and gofer id plus its
 * path from the export root (masks are matched against it). A lookup
 * walks a directory at once, so a directory vnode has its fd from the
 * start; it loses it only when the directory is removed (rmdir).
 *
 * Masks (paths relative to the export root) are refused here with -ENOENT
 * and left out of listings; the gofer also covers them with empty read-only
 * mounts and refuses to walk them, so a bug on either side is not enough.
 *
 * Attributes are the cached lstat (the VFS fills st_dev and st_ino); an
 * open refreshes them from the new fd. On a writable export, getattr
 * re-stats, since the guest writes through its own fds. Inode numbers are the
 * host's; a node on a submount inside the export gets its device folded in,
 * so numbers stay unique under the one st_dev the mount shows.
 *
 * Locking: called with the sentry lock held (vfs.h). It is dropped
 * (vfs_block_begin/end) around gofer round trips and blocking FIFO opens
 * only, and each function that does so says so; afterwards, state another
 * thread may have filled in meanwhile (a directory fd, a dentry) is looked
 * at again before ours is used. */
#include "sentry/fs/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "common/util.h"
#include "gofer/gofer.h"

/* getdents64 buffer: a typical directory in one call */
#define GOFS_DENTS_BUF 32768

struct gofs {
	struct gofer_client *gc;
	uint32_t idx;
	char **masks; /* normalized: "a/b", no empty, "." or ".." components */
	size_t nmasks;
	const char *const *allow; /* names shown at the export root; NULL: all */
	bool rdonly;  /* the gofer serves this export read-only */
	/* rw binds: the host owner of what the guest creates, shown inside
	 * as the sandbox's root (see gofs_map_ids) */
	bool owned;
	uid_t owner_uid;
	gid_t owner_gid;
	dev_t root_dev;
	size_t refs;  /* one per vnode */
	uint64_t mutations; /* gofer mutations so far (see gnode_st_fresh) */
	/* An overlay's upper layer (--upper; see "an overlay's upper layer" below). */
	bool upper;
	struct {
		uint64_t *key, *val; /* open addressing; key 0: free */
		size_t n, cap;
	} inos;
};

struct gnode {
	struct gofs *fs;
	struct vnode *dir; /* parent (our own reference); NULL for the root */
	char *name;        /* in dir; NULL for the root */
	char *relpath;     /* directories: from the export root, "" for the root */
	char *link;        /* symlinks: target, once read */
	struct stat st;    /* host lstat */
	/* the guest call (vfs_call_id) during which st was read from the
	 * host, and fs->mutations then */
	uint64_t st_call, st_muts;
	int fd;            /* directories: donated or own fd; -1 once removed */
	uint64_t id;       /* directories of writable exports: gofer id */
	/* directories: the listing, kept after the first read. Exports are
	 * read-only, so like the cached attributes it changes only when the
	 * host changes underneath (not seen, as for attributes). */
	struct dirent_list listing;
	bool listed;
	bool fd_read; /* getdents64 moved fd's position (it starts at 0) */
	/* upper layers: the overlay vnode wrapping this directory (weak; the
	 * overlay clears it when that vnode goes), and whether the host
	 * directory is opaque (user.overlay.opaque, read when walked) */
	struct vnode *shadow;
	bool opaque;
};

static const struct fs_ops gofer_ops;

/* ---- helpers -------------------------------------------------------------- */

/* Errnos the host may give a single-component *at() call that make sense to
 * a guest; anything else is -EIO. */
static int gofs_errno(int err)
{
	switch (-err) {
	case ENOENT: case EACCES: case ENOTDIR: case ELOOP: case ENAMETOOLONG:
	case EPERM: case EROFS: case ENOMEM: case EIO: case EISDIR: case ETXTBSY:
	case ENXIO: case ENODEV: case EOVERFLOW: case EFBIG: case EINTR: case EAGAIN:
		return err;
	case EMFILE: case ENFILE:
		return -ENFILE; /* the sentry's table, not the guest's */
	}
	return -EIO;
}

static uint64_t gofs_host_ino(const struct gofs *fs, const struct stat *st)
{
	if (st->st_dev == fs->root_dev)
		return st->st_ino;
	uint64_t dev = st->st_dev;
	uint64_t ino = st->st_ino ^ (XXH3_64bits(&dev, sizeof(dev)) & ~(uint64_t)UINT32_MAX);
	return ino ? ino : 1;
}

static size_t inos_slot(const struct gofs *fs, uint64_t key)
{
	size_t i = XXH3_64bits(&key, sizeof(key)) & (fs->inos.cap - 1);
	while (fs->inos.key[i] && fs->inos.key[i] != key)
		i = (i + 1) & (fs->inos.cap - 1);
	return i;
}

/* The sandbox's number of a host object: the host's, except in an upper
 * layer, where the overlay chose it (gofer_fs_set_ino: a copy-up keeps its
 * lower number) or, for what the overlay made, the host's with
 * FS_OVL_UPPER_BIT. Kept by host number, so a vnode evicted and made again
 * gets the same one. */
static uint64_t gofs_ino(const struct gofs *fs, const struct stat *st)
{
	uint64_t ino = gofs_host_ino(fs, st);
	if (!fs->upper)
		return ino;
	if (fs->inos.n) {
		size_t i = inos_slot(fs, ino);
		if (fs->inos.key[i])
			return fs->inos.val[i];
	}
	return ino | FS_OVL_UPPER_BIT;
}

/* The identity mapping of an rw bind, as a user namespace with one id
 * mapped: the bind's owner on the host is the sandbox's root (uid and gid
 * 0) inside, every other host id shows as the overflow id, and a chown
 * can give a file only to 0 (the owner). So what the guest's root creates
 * is its own inside and the chosen owner's on the host. */
#define GOFS_OVERFLOW_ID 65534

static void gofs_map_ids(const struct gofs *fs, struct stat *st)
{
	if (!fs->owned)
		return;
	st->st_uid = st->st_uid == fs->owner_uid ? 0 : GOFS_OVERFLOW_ID;
	st->st_gid = st->st_gid == fs->owner_gid ? 0 : GOFS_OVERFLOW_ID;
}

/* st is what the host says of g now. */
static void gnode_set_st(struct gnode *g, const struct stat *st)
{
	g->st = *st;
	g->st_call = vfs_call_id();
	g->st_muts = g->fs->mutations;
}

/* Was g->st read from the host during the current guest call, with no
 * mutation since? Then a writable export's getattr need not read it
 * again: a path walk revalidates every name it meets (gofs_revalidate),
 * and the stat that follows would only repeat the last one. */
static bool gnode_st_fresh(const struct gnode *g)
{
	return g->st_call && g->st_call == vfs_call_id() && g->st_muts == g->fs->mutations;
}

/* "a//b/./c/" -> "a/b/c"; NULL (with *ret_err) for ".." or an empty path. */
static char *mask_normalize(const char *m, int *ret_err)
{
	size_t len = strlen(m);
	_cleanup_free_ char *out = malloc(len + 1);
	if (!out) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	size_t o = 0;
	for (const char *p = m; *p;) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			*ret_err = -EINVAL;
			return NULL;
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n + (p[n] == '/');
	}
	if (!o) {
		*ret_err = -EINVAL;
		return NULL;
	}
	out[o] = '\0';
	return TAKE_PTR(out);
}

static bool gofs_allowed(const struct gofs *fs, const struct gnode *dir, const char *name)
{
	if (!fs->allow || dir->relpath[0])
		return true;
	for (const char *const *a = fs->allow; *a; a++)
		if (!strcmp(*a, name))
			return true;
	return false;
}

static bool gofs_masked(const struct gofs *fs, const struct gnode *dir, const char *name)
{
	if (!gofs_allowed(fs, dir, name))
		return true;
	if (!fs->nmasks)
		return false;
	char path[PATH_MAX];
	int n = dir->relpath[0] ? snprintf(path, sizeof(path), "%s/%s", dir->relpath, name)
				: snprintf(path, sizeof(path), "%s", name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false; /* longer than any mask can be */
	for (size_t i = 0; i < fs->nmasks; i++)
		if (!strcmp(fs->masks[i], path))
			return true;
	return false;
}

static void gofs_unref(struct gofs *fs)
{
	if (--fs->refs > 0)
		return;
	for (size_t i = 0; i < fs->nmasks; i++)
		free(fs->masks[i]);
	free(fs->masks);
	free(fs->inos.key);
	free(fs->inos.val);
	free(fs);
}

/* Give back what a WALK handed us and we will not keep. */
static void node_drop(struct gofer_client *gc, struct gofer_node *n)
{
	n->fd = safe_close(n->fd);
	if (n->id != 0)
		(void)gofer_release(gc, n->id);
	n->id = 0;
}

/* ---- vnodes --------------------------------------------------------------- */

static char *path_join(const char *dir, const char *name)
{
	char *p;
	if (!dir[0])
		return strdup(name);
	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

/* overlayfs's mark of an opaque directory, its unprivileged (userxattr)
 * form: "y". */
#define OVL_XATTR_OPAQUE "user.overlay.opaque"

static bool dir_is_opaque(int fd)
{
	char v[2];
	return fgetxattr(fd, OVL_XATTR_OPAQUE, v, sizeof(v)) == 1 && v[0] == 'y';
}

/* A vnode for `name` in dir. A directory comes with its fd (and, on a
 * writable export, its gofer id); both are owned by the vnode on success. */
static int gnode_new(struct vnode *dir, const char *name, const struct stat *st, int fd, uint64_t id,
		     struct vnode **ret)
{
	struct gnode *d = dir->priv;
	struct gofs *fs = d->fs;
	_cleanup_free_ char *gname = strdup(name);
	_cleanup_free_ char *relpath = S_ISDIR(st->st_mode) ? path_join(d->relpath, name) : NULL;
	_cleanup_free_ struct gnode *g = calloc(1, sizeof(*g));
	if (!gname || !g || (S_ISDIR(st->st_mode) && !relpath))
		return -ENOMEM;
	struct vnode *vn =
		vn_alloc(&gofer_ops, dir->mnt, vtype_from_mode(st->st_mode), gofs_ino(fs, st), dir, name);
	if (!vn)
		return -ENOMEM;
	*g = (struct gnode){
		.fs = fs,
		.dir = vn_ref(dir),
		.name = TAKE_PTR(gname),
		.relpath = TAKE_PTR(relpath),
		.st = *st,
		.st_call = vfs_call_id(),
		.st_muts = fs->mutations,
		.fd = fd,
		.id = id,
	};
	fs->refs++;
	if (fs->upper && fd >= 0)
		g->opaque = dir_is_opaque(fd);
	vn->priv = TAKE_PTR(g);
	*ret = vn;
	return 0;
}

/* A directory of a read-only export, opened by the sentry itself inside
 * its parent's fd, exactly as it opens files there: the gofer's WALK (a
 * round trip, 20-40 us) buys an id, which only mutations need, and a
 * read-only export has none. What bounds the open is the same as for the
 * gofer's: the parent fd's mount (the gofer's namespace, masks mounted
 * over), RESOLVE_BENEATH and no symlinks. */
static int gofs_open_dir(const struct gnode *d, const char *name, int *ret_fd, struct stat *st)
{
	static const struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, d->fd, name, &how, sizeof(how));
	if (fd < 0)
		return gofs_errno(neg_errno());
	if (fstat(fd, st) < 0)
		return gofs_errno(neg_errno());
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/**
 * gnode_dirfd() - directory @vn's donated fd, checked to be there. Every
 * directory vnode gets its fd from the lookup or attach that made it
 * (listings make no vnodes), so only a removed directory, whose fd went
 * with its rmdir, has none.
 */
static int gnode_dirfd(struct vnode *vn)
{
	struct gnode *g = vn->priv;
	if (g->fd >= 0)
		return 0;
	return vn->unlinked ? -ENOENT : -EIO;
}

/* ---- operations ----------------------------------------------------------- */

/**
 * gofs_lookup() - fs_ops.lookup.
 *
 * Drops the sentry lock while waiting for the gofer (a writable export's
 * directory WALK); the caller must hold a reference on @dir. A dentry
 * another thread added meanwhile wins over ours.
 */
static int gofs_lookup(struct vnode *dir, const char *name, struct vnode **ret)
{
	struct gnode *d = dir->priv;
	struct gofs *fs = d->fs;
	/* The VFS checked already; a name that is not one component must never
	 * reach a syscall. */
	if (!is_single_component(name))
		return -ENOENT;
	if (gofs_masked(fs, d, name))
		return -ENOENT;
	int r = gnode_dirfd(dir);
	if (r < 0)
		return r;
	struct stat st;
	if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0)
		return gofs_errno(neg_errno());
	if (!S_ISDIR(st.st_mode))
		return gnode_new(dir, name, &st, -1, 0, ret);
	if (fs->rdonly) {
		_cleanup_close_ int fd = -1;
		struct stat dst;
		r = gofs_open_dir(d, name, &fd, &dst);
		if (r == -ENOTDIR || r == -ELOOP) /* no longer a directory */
			return gofs_lookup(dir, name, ret);
		if (r < 0)
			return r;
		if ((r = gnode_new(dir, name, &dst, fd, 0, ret)) == 0)
			fd = -1;
		return r;
	}

	/* A directory of a writable export: its fd comes from the gofer,
	 * with the id its mutations name it by. */
	struct gofer_node n = { .fd = -1 };
	uint64_t id = d->id;
	vfs_block_begin();
	r = gofer_walk(fs->gc, id, name, &n);
	vfs_block_end();
	bool neg;
	struct vnode *cached = dcache_lookup(dir, name, &neg);
	if (cached) {
		if (r == 0)
			node_drop(fs->gc, &n);
		*ret = cached;
		return 0;
	}
	if (r < 0)
		return r;
	/* n.st, not st: if the name changed kind in between, the gofer's
	 * answer is the one that matches the fd (or the lack of one). */
	r = gnode_new(dir, name, &n.st, n.fd, n.id, ret);
	if (r < 0)
		node_drop(fs->gc, &n);
	return r;
}

/**
 * gofs_getattr() - fs_ops.getattr.
 *
 * The caller must hold a reference on @vn.
 */
static int gofs_getattr(struct vnode *vn, struct stat *st)
{
	struct gnode *g = vn->priv;
	if (!g->fs->rdonly && !gnode_st_fresh(g)) {
		/* Writable export: the guest changes sizes and times through its
		 * own fds, so the cache would go stale. */
		struct stat fresh;
		int r = -1;
		if (vn->type == VDIR && g->fd >= 0)
			r = fstat(g->fd, &fresh);
		else if (g->dir && gnode_dirfd(g->dir) == 0)
			r = fstatat(((struct gnode *)g->dir->priv)->fd, g->name, &fresh,
				    AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT);
		if (r == 0 && fresh.st_ino == g->st.st_ino && fresh.st_dev == g->st.st_dev)
			gnode_set_st(g, &fresh);
	}
	*st = g->st;
	gofs_map_ids(g->fs, st);
	return 0;
}

void gofer_fs_fresh_attrs(struct vnode *vn, const struct stat *st)
{
	if (vn->ops != &gofer_ops)
		return;
	struct gnode *g = vn->priv;
	if (!g->fs->rdonly && st->st_ino == g->st.st_ino && st->st_dev == g->st.st_dev)
		gnode_set_st(g, st);
}

/**
 * gofs_readlink() - fs_ops.readlink.
 *
 * The caller must hold a reference on @vn.
 */
static ssize_t gofs_readlink(struct vnode *vn, char *buf, size_t len)
{
	struct gnode *g = vn->priv;
	if (vn->type != VLNK)
		return -EINVAL;
	if (!g->link) {
		int r = gnode_dirfd(g->dir);
		if (r < 0)
			return r;
		char target[PATH_MAX];
		ssize_t n = readlinkat(((struct gnode *)g->dir->priv)->fd, g->name, target, sizeof(target));
		if (n < 0)
			return gofs_errno(neg_errno());
		if ((size_t)n >= sizeof(target))
			return -ENAMETOOLONG;
		/* Link text cannot change in place; a replaced link is a new
		 * inode, which an open or lookup notices. */
		g->link = strndup(target, (size_t)n);
		if (!g->link)
			return -ENOMEM;
	}
	size_t n = strlen(g->link);
	if (n > len)
		n = len;
	memcpy(buf, g->link, n);
	return (ssize_t)n;
}

/* Open flags the sentry passes on to the host; O_CREAT/O_EXCL never come
 * here (the VFS creates), directory-ish and path-ish flags do not apply. */
#define GOFS_OPEN_PASS \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_LARGEFILE | O_TRUNC)

/* ---- rw binds: mutations are the gofer's ---------------------------------- */

/* One mutation round trip, with the sentry lock dropped. */
static int gofs_mutate(struct gofs *fs, uint16_t op, const struct gofer_mut *m, int *ret_fd,
		       struct stat *ret_st)
{
	fs->mutations++;
	vfs_block_begin();
	int r = gofer_mutate(fs->gc, op, m, ret_fd, ret_st);
	vfs_block_end();
	return r;
}

/* The gofer id of directory @dir; the caller holds a reference. */
static int gofs_dir_id(struct vnode *dir, uint64_t *ret)
{
	if (dir->ops != &gofer_ops || dir->type != VDIR)
		return -EXDEV;
	int r = gnode_dirfd(dir);
	if (r < 0)
		return r;
	*ret = ((struct gnode *)dir->priv)->id;
	/* Read-only exports' directories have none (gofs_open_dir). */
	return *ret ? 0 : -EROFS;
}

static int gofs_writable(const struct vnode *dir)
{
	const struct gnode *d = dir->priv;
	return d->fs->rdonly || !d->fs->owned ? -EROFS : 0;
}

/* Names a mutation request carries: a component and its length. */
#define MUT_NAME(field, str) .field = (str), .field##_len = (uint32_t)strlen(str)

/* Drops the sentry lock while waiting for the gofer. */
static int gofs_open_rw(struct vnode *vn, int flags, int *ret_fd)
{
	struct gnode *g = vn->priv;
	uint64_t dir_id;
	int r = gofs_dir_id(g->dir, &dir_id);
	if (r < 0)
		return r;
	struct gofer_mut m = {
		.dir_id = dir_id,
		.flags = (uint32_t)(flags & GOFS_OPEN_PASS),
		MUT_NAME(name, g->name),
	};
	int fd = -1;
	struct stat st;
	r = gofs_mutate(g->fs, GOFER_OP_OPEN, &m, &fd, &st);
	if (r < 0)
		return r;
	if (st.st_ino == g->st.st_ino && st.st_dev == g->st.st_dev)
		gnode_set_st(g, &st);
	vfs_hostino_cache(st.st_dev, st.st_ino, vn);
	*ret_fd = fd;
	return 0;
}

/**
 * gofs_create_open() - fs_ops.create_open: O_CREAT|O_EXCL by the gofer, as
 * the bind's owner; the guest gets the gofer's fd.
 *
 * Drops the sentry lock while waiting for the gofer; the caller holds a
 * reference on @dir.
 */
static int gofs_create_open(struct vnode *dir, const char *name, mode_t mode, int flags,
			    const struct cred *c, struct vnode **ret, int *ret_fd)
{
	(void)c;
	struct gnode *d = dir->priv;
	uint64_t dir_id;
	int r = gofs_writable(dir);
	if (r == 0)
		r = gofs_dir_id(dir, &dir_id);
	if (r < 0)
		return r;
	struct gofer_mut m = {
		.dir_id = dir_id,
		.flags = (uint32_t)((flags & GOFS_OPEN_PASS & ~O_TRUNC) | O_CREAT | O_EXCL),
		.mode = mode & 07777,
		MUT_NAME(name, name),
	};
	_cleanup_close_ int fd = -1;
	struct stat st;
	r = gofs_mutate(d->fs, GOFER_OP_OPEN, &m, &fd, &st);
	if (r < 0)
		return r;
	struct vnode *vn;
	r = gnode_new(dir, name, &st, -1, 0, &vn);
	if (r < 0)
		return r;
	(void)dcache_insert(dir, name, vn);
	vfs_hostino_cache(st.st_dev, st.st_ino, vn);
	*ret = vn;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* Drops the sentry lock while waiting for the gofer (each of these). */
static int gofs_create(struct vnode *dir, const char *name, mode_t mode, const struct cred *c,
		       struct vnode **ret)
{
	int fd = -1;
	int r = gofs_create_open(dir, name, mode, O_WRONLY, c, ret, &fd);
	safe_close(fd);
	return r;
}

static int gofs_make(struct vnode *dir, uint16_t op, const char *name, mode_t mode, const char *target)
{
	struct gnode *d = dir->priv;
	uint64_t dir_id;
	int r = gofs_writable(dir);
	if (r == 0)
		r = gofs_dir_id(dir, &dir_id);
	if (r < 0)
		return r;
	struct gofer_mut m = { .dir_id = dir_id, .mode = mode, MUT_NAME(name, name) };
	if (target) {
		m.name2 = target;
		m.name2_len = (uint32_t)strlen(target);
		if (m.name2_len > GOFER_TARGET_MAX)
			return -ENAMETOOLONG;
	}
	if (strlen(name) > GOFER_NAME_MAX)
		return -ENAMETOOLONG;
	return gofs_mutate(d->fs, op, &m, NULL, NULL);
}

static int gofs_mkdir(struct vnode *dir, const char *name, mode_t mode, const struct cred *c)
{
	(void)c;
	return gofs_make(dir, GOFER_OP_MKDIR, name, mode & 07777, NULL);
}

static int gofs_mknod(struct vnode *dir, const char *name, mode_t mode, dev_t dev, const struct cred *c)
{
	(void)dev;
	switch (mode & S_IFMT) {
	case S_IFREG: {
		struct vnode *vn;
		int r = gofs_create(dir, name, mode & 07777, c, &vn);
		if (r == 0)
			vn_unref(vn);
		return r;
	}
	case S_IFIFO:
	case S_IFSOCK:
		return gofs_make(dir, GOFER_OP_MKNOD, name, mode & (S_IFMT | 07777), NULL);
	}
	return -EPERM; /* devices are never the guest's to make */
}

static int gofs_symlink(struct vnode *dir, const char *name, const char *target, const struct cred *c)
{
	(void)c;
	return gofs_make(dir, GOFER_OP_SYMLINK, name, 0, target);
}

static int gofs_link(struct vnode *dir, const char *name, struct vnode *target)
{
	struct gnode *t = target->priv;
	uint64_t dir_id, src_dir;
	int r = gofs_writable(dir);
	if (r == 0 && (target->ops != &gofer_ops || !t->dir))
		r = -EXDEV;
	if (r == 0)
		r = gofs_dir_id(t->dir, &src_dir);
	if (r == 0)
		r = gofs_dir_id(dir, &dir_id);
	if (r < 0)
		return r;
	if (strlen(name) > GOFER_NAME_MAX)
		return -ENAMETOOLONG;
	/* The inode the guest named, never whatever has its name by now. */
	struct gofer_mut m = {
		.dir_id = src_dir,
		.ino = t->st.st_ino,
		MUT_NAME(name, t->name),
		.dir2_id = dir_id,
		MUT_NAME(name2, name),
	};
	return gofs_mutate(t->fs, GOFER_OP_LINK, &m, NULL, NULL);
}

static void vn_unrefp(struct vnode **p)
{
	vn_unref(*p);
}

/* The cached vnode of dir/name, if any (a new reference). */
static struct vnode *cached_child(struct vnode *dir, const char *name)
{
	bool neg;
	return dcache_lookup(dir, name, &neg);
}

static int gofs_remove(struct vnode *dir, const char *name, int flags)
{
	struct gnode *d = dir->priv;
	uint64_t dir_id;
	int r = gofs_writable(dir);
	if (r == 0)
		r = gofs_dir_id(dir, &dir_id);
	if (r < 0)
		return r;
	struct gofer_mut m = { .dir_id = dir_id, .flags = (uint32_t)flags, MUT_NAME(name, name) };
	r = gofs_mutate(d->fs, GOFER_OP_UNLINK, &m, NULL, NULL);
	if (r == 0) {
		struct vnode *victim = cached_child(dir, name);
		/* An upper layer's names are changed by the overlay, not by
		 * the VFS, which would drop the entry itself. */
		if (d->fs->upper)
			dcache_remove(dir, name);
		if (victim)
			victim->unlinked = true;
		/* A removed directory is empty and stays so: its fds go now, not
		 * when the last vnode below it is evicted, so the host inode
		 * goes too (an inotify watch on it then reports IN_DELETE_SELF,
		 * as when the guest's rmdir returns on Linux). */
		if (victim && victim->type == VDIR && (flags & AT_REMOVEDIR)) {
			struct gnode *vg = victim->priv;
			vg->fd = safe_close(vg->fd);
			if (vg->id != 0)
				(void)gofer_release(vg->fs->gc, vg->id);
			vg->id = 0;
		}
		vn_unref(victim);
	}
	return r;
}

static int gofs_unlink(struct vnode *dir, const char *name) { return gofs_remove(dir, name, 0); }
static int gofs_rmdir(struct vnode *dir, const char *name) { return gofs_remove(dir, name, AT_REMOVEDIR); }

/* vn now lives at dir/name: for the names the sentry uses to reach it
 * (gnode), and for the paths it shows (vnode). */
static int gofs_renamed(struct vnode *vn, struct vnode *dir, const char *name)
{
	struct gnode *g = vn->priv;
	struct gnode *d = dir->priv;
	char *gname = strdup(name), *vname = strdup(name);
	char *relpath = vn->type == VDIR ? path_join(d->relpath, name) : NULL;
	if (!gname || !vname || (vn->type == VDIR && !relpath)) {
		free(gname);
		free(vname);
		free(relpath);
		return -ENOMEM;
	}
	free(g->name);
	g->name = gname;
	if (relpath) {
		free(g->relpath);
		g->relpath = relpath;
	}
	if (g->dir != dir) {
		struct vnode *old = g->dir;
		g->dir = vn_ref(dir);
		vn_unref(old);
	}
	free(vn->name);
	vn->name = vname;
	if (vn->parent != dir) {
		struct vnode *old = vn->parent;
		vn->parent = vn_ref(dir);
		vn_unref(old);
	}
	return 0;
}

static int gofs_rename(struct vnode *odir, const char *oname, struct vnode *ndir, const char *nname,
		       unsigned flags)
{
	struct gnode *d = odir->priv;
	uint64_t oid, nid;
	int r = gofs_writable(odir);
	if (r == 0)
		r = gofs_dir_id(odir, &oid);
	if (r == 0)
		r = gofs_dir_id(ndir, &nid);
	if (r < 0)
		return r;
	if (strlen(nname) > GOFER_NAME_MAX)
		return -ENAMETOOLONG;
	struct gofer_mut m = {
		.dir_id = oid,
		MUT_NAME(name, oname),
		.dir2_id = nid,
		MUT_NAME(name2, nname),
		.flags = flags,
	};
	/* Held across the round trip: what the names meant when asked. */
	_cleanup_(vn_unrefp) struct vnode *src = cached_child(odir, oname);
	_cleanup_(vn_unrefp) struct vnode *dst = cached_child(ndir, nname);
	r = gofs_mutate(d->fs, GOFER_OP_RENAME, &m, NULL, NULL);
	if (r < 0)
		return r;
	/* A vnode that keeps a stale name is not wrong, only slower: the
	 * lookups that use it revalidate (its inode no longer matches). */
	if (src && src->ops == &gofer_ops)
		(void)gofs_renamed(src, ndir, nname);
	if (dst && dst->ops == &gofer_ops) {
		if (flags & RENAME_EXCHANGE)
			(void)gofs_renamed(dst, odir, oname);
		else
			dst->unlinked = true;
	}
	if (d->fs->upper) {
		/* The overlay keeps one vnode per upper directory (its shadow
		 * pointer): the cache follows the vnodes to their new names. */
		dcache_remove(odir, oname);
		dcache_remove(ndir, nname);
		if (src)
			(void)dcache_insert(ndir, nname, src);
		if (dst && (flags & RENAME_EXCHANGE))
			(void)dcache_insert(odir, oname, dst);
	}
	return 0;
}

/* Drops the sentry lock while waiting for the gofer. */
static int gofs_setattr(struct vnode *vn, const struct setattr *sa)
{
	struct gnode *g = vn->priv;
	struct gofs *fs = g->fs;
	if (fs->rdonly || !fs->owned)
		return -EROFS;
	struct gofer_mut m = { 0 };
	/* Only the mapped ids exist (gofs_map_ids): 0 is the owner. */
	if (sa->valid & SA_UID) {
		if (sa->uid != 0)
			return -EINVAL;
		m.flags |= GOFER_SA_UID;
		m.uid = fs->owner_uid;
	}
	if (sa->valid & SA_GID) {
		if (sa->gid != 0)
			return -EINVAL;
		m.flags |= GOFER_SA_GID;
		m.gid = fs->owner_gid;
	}
	if (sa->valid & SA_MODE) {
		m.flags |= GOFER_SA_MODE;
		m.mode = sa->mode & 07777;
	}
	if (sa->valid & SA_SIZE) {
		m.flags |= GOFER_SA_SIZE;
		m.size = sa->size;
	}
	if (sa->valid & SA_ATIME) {
		m.flags |= GOFER_SA_ATIME;
		m.atime = sa->atime;
	}
	if (sa->valid & SA_MTIME) {
		m.flags |= GOFER_SA_MTIME;
		m.mtime = sa->mtime;
	}
	if (!m.flags)
		return 0;
	int r;
	/* A directory is named by its own id; anything else by its parent's
	 * id, its name and its inode (the gofer checks it is still that). */
	if (vn->type == VDIR) {
		r = gofs_dir_id(vn, &m.dir_id);
		m.ino = 0;
	} else {
		r = g->dir ? gofs_dir_id(g->dir, &m.dir_id) : -EIO;
		m.ino = g->st.st_ino;
		m.name = g->name;
		m.name_len = (uint32_t)strlen(g->name);
	}
	if (r < 0)
		return r;
	struct stat st;
	r = gofs_mutate(fs, GOFER_OP_SETATTR, &m, NULL, &st);
	if (r == 0 && st.st_ino == g->st.st_ino && st.st_dev == g->st.st_dev)
		gnode_set_st(g, &st);
	return r;
}

/* ---- extended attributes (rw binds: user.* only) ---------------------------- */

/* A read-only fd of vn for the *xattr calls: a directory's own fd (a copy),
 * else an open by the sentry beside it. */
static int gofs_attr_fd(struct vnode *vn)
{
	struct gnode *g = vn->priv;
	int r;
	if (vn->type == VDIR) {
		if ((r = gnode_dirfd(vn)) < 0)
			return r;
		r = fcntl(g->fd, F_DUPFD_CLOEXEC, 0);
		return r < 0 ? gofs_errno(neg_errno()) : r;
	}
	if (vn->type != VREG || !g->dir)
		return -EPERM;
	if ((r = gnode_dirfd(g->dir)) < 0)
		return r;
	struct open_how how = {
		.flags = O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, ((struct gnode *)g->dir->priv)->fd, g->name, &how, sizeof(how));
	return fd < 0 ? gofs_errno(neg_errno()) : fd;
}

static int xattr_errno(int err)
{
	switch (-err) {
	case ENODATA: case ERANGE: case E2BIG: case ENOSPC: case EDQUOT: case EEXIST:
	case EOPNOTSUPP:
		return err;
	}
	return gofs_errno(err);
}

/* An upper layer's own marks (user.overlay.*) are the overlay's, as in
 * overlayfs with userxattr: hidden from the guest, not its to set. */
static bool ovl_xattr(const struct vnode *vn, const char *name)
{
	return ((const struct gnode *)vn->priv)->fs->upper && !strncmp(name, "user.overlay.", 13);
}

static ssize_t gofs_getxattr(struct vnode *vn, const char *name, void *buf, size_t len)
{
	if (ovl_xattr(vn, name))
		return -ENODATA;
	_cleanup_close_ int fd = gofs_attr_fd(vn);
	if (fd < 0)
		return fd == -EPERM ? -ENODATA : fd;
	ssize_t n = fgetxattr(fd, name, buf, len);
	return n < 0 ? xattr_errno(neg_errno()) : n;
}

/* Only the user.* names: the rest are the host's business. */
static ssize_t gofs_listxattr(struct vnode *vn, char *buf, size_t len)
{
	_cleanup_close_ int fd = gofs_attr_fd(vn);
	if (fd < 0)
		return fd == -EPERM ? 0 : fd;
	_cleanup_free_ char *all = malloc(GOFER_XATTR_SIZE_MAX);
	if (!all)
		return -ENOMEM;
	ssize_t n = flistxattr(fd, all, GOFER_XATTR_SIZE_MAX);
	if (n < 0)
		return xattr_errno(neg_errno());
	size_t out = 0;
	for (ssize_t i = 0; i < n;) {
		size_t l = strnlen(all + i, (size_t)(n - i)) + 1;
		if (!strncmp(all + i, "user.", 5) && !ovl_xattr(vn, all + i)) {
			if (len && out + l > len)
				return -ERANGE;
			if (len)
				memcpy(buf + out, all + i, l);
			out += l;
		}
		i += (ssize_t)l;
	}
	return (ssize_t)out;
}

/* Set and remove: the gofer's. Drops the sentry lock. */
static int gofs_xattr_mut(struct vnode *vn, uint16_t op, const char *name, const void *val, size_t len,
			  int flags)
{
	struct gnode *g = vn->priv;
	if (g->fs->rdonly || !g->fs->owned)
		return -EROFS;
	if (len > GOFER_XATTR_SIZE_MAX)
		return -E2BIG;
	if (strlen(name) > GOFER_XATTR_NAME_MAX || strlen(name) <= 5)
		return strlen(name) <= 5 ? -EINVAL : -ERANGE;
	if (flags & ~3)
		return -EINVAL;
	struct gofer_mut m = {
		.flags = (uint32_t)flags,
		MUT_NAME(name2, name),
		.data = val,
		.data_len = (uint32_t)len,
	};
	int r;
	if (vn->type == VDIR) {
		r = gofs_dir_id(vn, &m.dir_id);
	} else {
		r = g->dir ? gofs_dir_id(g->dir, &m.dir_id) : -EIO;
		m.ino = g->st.st_ino;
		m.name = g->name;
		m.name_len = (uint32_t)strlen(g->name);
	}
	if (r < 0)
		return r;
	return gofs_mutate(g->fs, op, &m, NULL, NULL);
}

static int gofs_setxattr(struct vnode *vn, const char *name, const void *val, size_t len, int flags)
{
	if (ovl_xattr(vn, name))
		return -EPERM;
	return gofs_xattr_mut(vn, GOFER_OP_SETXATTR, name, val, len, flags);
}

static int gofs_removexattr(struct vnode *vn, const char *name)
{
	if (ovl_xattr(vn, name))
		return -EPERM;
	return gofs_xattr_mut(vn, GOFER_OP_REMOVEXATTR, name, NULL, 0, 0);
}

/**
 * gofs_revalidate() - fs_ops.revalidate: on an rw bind, is the cached
 * answer for dir/name still the host's? One fstatat on the directory's
 * donated fd, no gofer round trip: the host may create, remove or replace
 * names at any time. A read-only export is taken as unchanging.
 */
static int gofs_revalidate(struct vnode *dir, const char *name, struct vnode *vn)
{
	struct gnode *d = dir->priv;
	if (d->fs->rdonly)
		return 1;
	if (d->fd < 0)
		return 0; /* removed: a real lookup will say so */
	struct stat st;
	if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0)
		return errno == ENOENT ? (vn ? 0 : 1) : 1;
	if (!vn || vn->ops != &gofer_ops)
		return 0;
	struct gnode *g = vn->priv;
	if (st.st_ino != g->st.st_ino || st.st_dev != g->st.st_dev ||
	    (st.st_mode & S_IFMT) != (g->st.st_mode & S_IFMT))
		return 0;
	gnode_set_st(g, &st);
	return 1;
}

/**
 * gofs_open() - fs_ops.open.
 *
 * Drops the sentry lock while a blocking FIFO open waits for its other
 * end; the caller must hold a
 * reference on @vn (which keeps the parent and its fd).
 */
static int gofs_open(struct vnode *vn, int flags, int *ret_fd)
{
	struct gnode *g = vn->priv;
	if (vn->type == VDIR)
		return -EISDIR;
	if (vn->type == VLNK)
		return -ELOOP;
	bool writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
	if (writes && g->fs->rdonly)
		return -EROFS;
	int r = gnode_dirfd(g->dir);
	if (r < 0)
		return r;
	/* A write open of a host file is the gofer's (a FIFO or socket
	 * changes nothing on the host by being opened: those stay here). */
	if (writes && vn->type == VREG)
		return gofs_open_rw(vn, flags, ret_fd);
	int dirfd = ((struct gnode *)g->dir->priv)->fd;
	struct open_how how = {
		.flags = (uint64_t)((flags & GOFS_OPEN_PASS) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	/* A FIFO open waits for the other end: not with the lock held. The
	 * parent vnode (and so dirfd) stays: vn holds it. */
	bool blocks = vn->type == VFIFO && !(flags & O_NONBLOCK);
	if (blocks && !vfs_may_wait())
		return -EAGAIN; /* run again where waiting is allowed */
	if (blocks)
		vfs_block_begin();
	_cleanup_close_ int fd = (int)syscall(SYS_openat2, dirfd, g->name, &how, sizeof(how));
	int err = fd < 0 ? neg_errno() : 0;
	if (blocks)
		vfs_block_end();
	if (fd < 0)
		return gofs_errno(err);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return gofs_errno(neg_errno());
	/* Same inode as looked up: refresh what we show. A replaced file
	 * keeps its vnode's identity here; the host map learns the new one. */
	if (st.st_ino == g->st.st_ino && st.st_dev == g->st.st_dev)
		gnode_set_st(g, &st);
	vfs_hostino_cache(st.st_dev, st.st_ino, vn);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* The number to list @name with: a cached child's, unless the host
 * replaced it since (an rw bind), else the host's d_ino folded as stat
 * would fold it. d_ino is the inode on the directory's own filesystem, so
 * a submount shows its mount point's number, as in Linux's own getdents. */
static uint64_t listed_ino(struct vnode *dir, const char *name, uint64_t d_ino)
{
	struct gnode *d = dir->priv;
	bool neg;
	struct vnode *c = dcache_lookup(dir, name, &neg);
	if (c && c->ops == &gofer_ops && !c->mounted && ((struct gnode *)c->priv)->st.st_ino != d_ino) {
		vn_unref(c);
		c = NULL;
		dcache_remove(dir, name);
	}
	if (c) {
		uint64_t ino = c->ino;
		vn_unref(c);
		return ino;
	}
	struct stat st = { .st_dev = d->st.st_dev, .st_ino = d_ino };
	return gofs_ino(d->fs, &st);
}

/* d_type, or (on a filesystem that gives DT_UNKNOWN) the type from an
 * lstat; DT_UNKNOWN again if the entry went away meanwhile. */
static unsigned char listed_type(int dirfd, const struct dirent64 *e)
{
	struct stat st;
	if (e->d_type != DT_UNKNOWN)
		return e->d_type;
	if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0)
		return DT_UNKNOWN;
	return vtype_to_dt(vtype_from_mode(st.st_mode));
}

/**
 * gofs_readdir() - fs_ops.readdir: getdents64 on the donated fd.
 *
 * Names and types only, as getdents gives them: an lstat of every entry
 * (the gofer's batched READDIR until December 2026) cost more than the
 * listing itself, mostly the host's dentry lookups, and find or a shell
 * glob never needs it; a later lookup stats just the entry it wants.
 * The sentry lock is held throughout: the host reads a directory whose
 * dentries it just had (the walk that donated the fd) without waiting for
 * the gofer. The caller holds a reference on @dir.
 */
static int gofs_readdir(struct vnode *dir, struct dirent_list *out)
{
	struct gnode *d = dir->priv;
	struct gofs *fs = d->fs;
	int r = gnode_dirfd(dir);
	if (r < 0)
		return r;
	/* An rw bind's listing is the host's each time (revalidation policy:
	 * docs/architecture.md); a read-only export's is kept. */
	if (d->listed && fs->rdonly)
		return dirent_list_copy(out, &d->listing);
	/* The fd's position is the sentry's alone: the guest's directory is a
	 * placeholder (ofd.c), never this fd. A new fd is at 0 already. */
	if (d->fd_read && lseek(d->fd, 0, SEEK_SET) < 0)
		return gofs_errno(neg_errno());
	d->fd_read = true;
	/* One buffer under the sentry lock: a malloc'ed one this size made
	 * the heap's top grow and shrink by megabytes between listings. */
	static char buf[GOFS_DENTS_BUF] __attribute__((aligned(8)));
	for (;;) {
		long got = syscall(SYS_getdents64, d->fd, buf, GOFS_DENTS_BUF);
		if (got < 0)
			return gofs_errno(neg_errno());
		if (got == 0)
			break;
		for (long pos = 0; pos < got;) {
			const struct dirent64 *e = (const struct dirent64 *)(buf + pos);
			pos += e->d_reclen;
			if (!is_single_component(e->d_name) || gofs_masked(fs, d, e->d_name))
				continue;
			unsigned char type = listed_type(d->fd, e);
			if (type == DT_UNKNOWN)
				continue; /* gone since getdents */
			r = dirent_list_add(out, listed_ino(dir, e->d_name, e->d_ino), type, e->d_name);
			if (r < 0)
				return r;
		}
	}
	if (fs->rdonly && !d->listed && dirent_list_copy(&d->listing, out) == 0)
		d->listed = true;
	return 0;
}

static void gofs_release(struct vnode *vn)
{
	struct gnode *g = vn->priv;
	if (!g)
		return;
	/* Negative dentries keyed on this vnode must not outlive it (a later
	 * vnode at the same address would inherit them). Positive ones cannot
	 * exist: each child holds a reference on us. */
	if (vn->type == VDIR)
		dcache_remove_children(vn);
	safe_close(g->fd);
	dirent_list_free(&g->listing);
	/* One-way: never waits for the gofer. Roots are not released. */
	if (g->id != 0 && g->dir)
		(void)gofer_release(g->fs->gc, g->id);
	vn_unref(g->dir);
	struct gofs *fs = g->fs;
	free(g->name);
	free(g->relpath);
	free(g->link);
	free(g);
	vn->priv = NULL;
	gofs_unref(fs);
}

/**
 * gofs_notify_host() - fs_ops.notify_host: on an rw bind, the host file or
 * directory itself (its changes from the host are the bind's to show);
 * read-only exports have none (a watch there would show the host's own
 * activity on its system files), nor do symlinks.
 *
 * The caller holds a reference on @vn.
 */
static int gofs_notify_host(struct vnode *vn)
{
	struct gnode *g = vn->priv;
	if (g->fs->rdonly || vn->type == VLNK)
		return -EOPNOTSUPP;
	int r;
	if (vn->type == VDIR) {
		if ((r = gnode_dirfd(vn)) < 0)
			return r;
		r = fcntl(g->fd, F_DUPFD_CLOEXEC, 3);
		return r < 0 ? gofs_errno(neg_errno()) : r;
	}
	if (!g->dir)
		return -EOPNOTSUPP;
	if ((r = gnode_dirfd(g->dir)) < 0)
		return r;
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, ((struct gnode *)g->dir->priv)->fd, g->name, &how, sizeof(how));
	return fd < 0 ? gofs_errno(neg_errno()) : fd;
}

static const struct fs_ops gofer_ops = {
	.name = "gofer",
	.lookup = gofs_lookup,
	.getattr = gofs_getattr,
	.readlink = gofs_readlink,
	.open = gofs_open,
	.readdir = gofs_readdir,
	/* Mutations: the gofer's, on rw binds only (-EROFS elsewhere; the
	 * mount's MNT_RDONLY says so first). statfs: the VFS makes one up
	 * rather than show the host's disk. */
	.create = gofs_create,
	.create_open = gofs_create_open,
	.mkdir = gofs_mkdir,
	.mknod = gofs_mknod,
	.symlink = gofs_symlink,
	.link = gofs_link,
	.unlink = gofs_unlink,
	.rmdir = gofs_rmdir,
	.rename = gofs_rename,
	.setattr = gofs_setattr,
	.revalidate = gofs_revalidate,
	.getxattr = gofs_getxattr,
	.listxattr = gofs_listxattr,
	.setxattr = gofs_setxattr,
	.removexattr = gofs_removexattr,
	.notify_host = gofs_notify_host,
	.shadow = gofer_fs_shadow,
	.release = gofs_release,
	.cache_lookups = true,
};

/* ---- constructor ---------------------------------------------------------- */

static int gofs_new(struct gofer_client *gc, uint32_t idx, const char *const *masks, size_t nmasks,
		    struct gofs **ret)
{
	_cleanup_free_ struct gofs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->gc = gc;
	fs->idx = idx;
	fs->masks = calloc(nmasks ? nmasks : 1, sizeof(char *));
	if (!fs->masks)
		return -ENOMEM;
	for (size_t i = 0; i < nmasks; i++) {
		int err = 0;
		char *m = mask_normalize(masks[i], &err);
		if (!m) {
			for (size_t k = 0; k < fs->nmasks; k++)
				free(fs->masks[k]);
			free(fs->masks);
			return err;
		}
		fs->masks[fs->nmasks++] = m;
	}
	*ret = TAKE_PTR(fs);
	return 0;
}

/* Drops the sentry lock while waiting for the gofer's ATTACH. */
int gofer_fs_new(struct gofer_client *gc, uint32_t idx, const char *const *masks, size_t nmasks,
		 struct vnode **ret_root)
{
	struct gofs *fs;
	int r = gofs_new(gc, idx, masks, nmasks, &fs);
	if (r < 0)
		return r;
	fs->refs = 1; /* the root's, from here on */
	struct gofer_node n = { .fd = -1 };
	vfs_block_begin();
	r = gofer_attach(gc, idx, &n);
	vfs_block_end();
	struct statvfs sv;
	if (r == 0 && fstatvfs(n.fd, &sv) < 0)
		r = neg_errno();
	_cleanup_free_ struct gnode *g = r == 0 ? calloc(1, sizeof(*g)) : NULL;
	_cleanup_free_ char *relpath = g ? strdup("") : NULL;
	struct vnode *vn = NULL;
	if (relpath) {
		fs->root_dev = n.st.st_dev;
		vn = vn_alloc(&gofer_ops, NULL, VDIR, gofs_ino(fs, &n.st), NULL, "/");
	}
	if (!vn) {
		safe_close(n.fd);
		gofs_unref(fs);
		return r < 0 ? r : -ENOMEM;
	}
	fs->rdonly = sv.f_flag & ST_RDONLY;
	*g = (struct gnode){ .fs = fs, .relpath = TAKE_PTR(relpath), .st = n.st, .fd = n.fd, .id = n.id };
	vn->priv = TAKE_PTR(g);
	*ret_root = vn;
	return 0;
}

int gofer_fs_set_allow(struct vnode *root, const char *const *names)
{
	if (root->ops != &gofer_ops)
		return -EINVAL;
	struct gnode *g = root->priv;
	g->fs->allow = names;
	return 0;
}

int gofer_fs_set_file_bind(struct vnode *root, bool rw)
{
	if (root->ops != &gofer_ops)
		return -EINVAL;
	struct gnode *g = root->priv;
	/* The root is the gofer's own directory, on its read-only root: the
	 * file it serves there is what says whether writes reach the host. */
	g->fs->rdonly = !rw;
	return 0;
}

int gofer_fs_set_owner(struct vnode *root, uid_t uid, gid_t gid)
{
	if (root->ops != &gofer_ops)
		return -EINVAL;
	struct gnode *g = root->priv;
	if (g->fs->rdonly)
		return -EROFS;
	g->fs->owned = true;
	g->fs->owner_uid = uid;
	g->fs->owner_gid = gid;
	return 0;
}

/* ---- an overlay's upper layer (--upper) ------------------------------------ */

/* The overlay (overlay.c) keeps its upper layer in an rw export, in
 * overlayfs's own unprivileged format: whiteouts are character devices
 * 0/0 (GOFER_OP_MKNOD with mode S_IFCHR), opaque directories carry
 * user.overlay.opaque=y. It changes names with fs_ops directly, not
 * through the VFS, so this filesystem keeps the dentry cache right itself
 * (gofs_remove, gofs_rename) and the overlay looks names up with
 * gofer_fs_upper_lookup, which goes through the cache: one vnode per
 * host object while it is cached, which is what the overlay's shadow
 * pointers and inode numbers rely on. */

int gofer_fs_set_upper(struct vnode *root)
{
	if (root->ops != &gofer_ops)
		return -EINVAL;
	struct gnode *g = root->priv;
	if (!g->fs->owned)
		return -EROFS;
	g->fs->upper = true;
	g->opaque = dir_is_opaque(g->fd);
	root->ino = gofs_ino(g->fs, &g->st);
	return 0;
}

bool gofer_fs_is_upper(const struct vnode *vn)
{
	return vn && vn->ops == &gofer_ops && ((struct gnode *)vn->priv)->fs->upper;
}

/* May drop the sentry lock (gofs_lookup); the caller holds @dir. */
int gofer_fs_upper_lookup(struct vnode *dir, const char *name, struct vnode **ret)
{
	bool neg;
	struct vnode *c = dcache_lookup(dir, name, &neg);
	if (c) {
		*ret = c;
		return 0;
	}
	int r = gofs_lookup(dir, name, &c);
	if (r < 0)
		return r;
	/* Another thread's vnode, cached while we waited, wins. */
	struct vnode *other = dcache_lookup(dir, name, &neg);
	if (other) {
		vn_unref(c);
		*ret = other;
		return 0;
	}
	(void)dcache_insert(dir, name, c);
	*ret = c;
	return 0;
}

/* Drops the sentry lock while waiting for the gofer. */
int gofer_fs_mkwhiteout(struct vnode *dir, const char *name)
{
	return gofs_make(dir, GOFER_OP_MKNOD, name, S_IFCHR, NULL);
}

bool gofer_fs_is_whiteout(const struct vnode *vn)
{
	return vn->ops == &gofer_ops && vn->type == VCHR && ((struct gnode *)vn->priv)->st.st_rdev == 0;
}

/* Drops the sentry lock while waiting for the gofer. */
int gofer_fs_set_opaque(struct vnode *dir, bool opaque)
{
	struct gnode *g = dir->priv;
	if (g->opaque == opaque)
		return 0;
	int r = opaque ? gofs_xattr_mut(dir, GOFER_OP_SETXATTR, OVL_XATTR_OPAQUE, "y", 1, 0)
		       : gofs_xattr_mut(dir, GOFER_OP_REMOVEXATTR, OVL_XATTR_OPAQUE, NULL, 0, 0);
	if (r == -ENODATA)
		r = 0;
	if (r == 0)
		g->opaque = opaque;
	return r;
}

bool gofer_fs_is_opaque(const struct vnode *dir)
{
	return ((const struct gnode *)dir->priv)->opaque;
}

struct vnode *gofer_fs_shadow(const struct vnode *vn)
{
	return ((const struct gnode *)vn->priv)->shadow;
}

void gofer_fs_set_shadow(struct vnode *vn, struct vnode *shadow)
{
	((struct gnode *)vn->priv)->shadow = shadow;
}

/* Remember vn's number by its host number, for the vnodes made for it
 * later. The table grows with the copy-ups of one sandbox. */
int gofer_fs_set_ino(struct vnode *vn, uint64_t ino)
{
	struct gnode *g = vn->priv;
	struct gofs *fs = g->fs;
	uint64_t key = gofs_host_ino(fs, &g->st);
	if (2 * (fs->inos.n + 1) > fs->inos.cap) {
		size_t cap = fs->inos.cap ? 2 * fs->inos.cap : 64;
		uint64_t *k = calloc(cap, sizeof(*k)), *v = calloc(cap, sizeof(*v));
		if (!k || !v) {
			free(k);
			free(v);
			return -ENOMEM;
		}
		uint64_t *ok = fs->inos.key, *ov = fs->inos.val;
		size_t ocap = fs->inos.cap;
		fs->inos.key = k;
		fs->inos.val = v;
		fs->inos.cap = cap;
		for (size_t i = 0; i < ocap; i++)
			if (ok[i]) {
				size_t j = inos_slot(fs, ok[i]);
				k[j] = ok[i];
				v[j] = ov[i];
			}
		free(ok);
		free(ov);
	}
	size_t i = inos_slot(fs, key);
	if (!fs->inos.key[i])
		fs->inos.n++;
	fs->inos.key[i] = key;
	fs->inos.val[i] = ino;
	vn->ino = ino;
	return 0;
}

/* Drops the sentry lock while waiting for the gofer. */
int gofer_fs_rmdir(struct vnode *dir, const char *name)
{
	return gofs_rmdir(dir, name);
}
