/* SPDX-License-Identifier: MIT */
/* The sentry's VFS: vnodes, mounts, the dentry cache and the filesystem
 * operations every filesystem (gofer, tmpfs, devfs, procfs) implements.
 *
 * Locking: the whole VFS is protected by the sentry lock (sentry.h); every
 * function here is called with it held. A filesystem that must wait (a gofer
 * round trip, a FIFO open) brackets the wait with vfs_block_begin() and
 * vfs_block_end(), which drop and retake that lock; it must hold references
 * on whatever it uses across the wait, re-check any state it looked at
 * before, and say at the top of the function that it drops the lock.
 *
 * Lifetime: a vnode is reference counted (vn_ref/vn_unref). The dentry cache
 * holds one reference on each cached child; a filesystem's tree (tmpfs) holds
 * its own. A vnode's parent pointer holds a reference on the parent, so the
 * name chain used by getcwd and /proc paths stays valid. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct vnode;
struct mount;
struct dentry;
struct task;
struct cred;
struct statfs;
struct vnotify;

enum vtype { VNON = 0, VREG, VDIR, VLNK, VCHR, VBLK, VFIFO, VSOCK };

static inline enum vtype vtype_from_mode(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return VREG;
	case S_IFDIR: return VDIR;
	case S_IFLNK: return VLNK;
	case S_IFCHR: return VCHR;
	case S_IFBLK: return VBLK;
	case S_IFIFO: return VFIFO;
	case S_IFSOCK: return VSOCK;
	}
	return VNON;
}
unsigned char vtype_to_dt(enum vtype t); /* DT_* for getdents */

/* A directory listing snapshot; getdents serves from it.
 *
 * Positions. The guest's directory position (d_off, telldir) after an
 * entry is its `off`: a filesystem that can keep positions stable while
 * names come and go (tmpfs, the overlay) gives each entry a cookie that
 * never changes while the entry exists, strictly increasing along the
 * listing and above 2 ("." and ".." are 1 and 2); a reader continues with
 * the first entry whose cookie is above its position, so seekdir to a
 * telldir value, or a read after a rewind took a fresh snapshot, lands
 * where it left off whatever was added or removed. off 0 (filesystems
 * that do not say): the entry's index + 1 in the snapshot. */
struct vdirent {
	uint64_t ino;
	uint64_t off;       /* position after this entry; 0: index + 1 */
	unsigned char type; /* DT_* */
	char *name;
};
struct dirent_list {
	struct vdirent *ents;
	size_t n, cap;
};
int dirent_list_add(struct dirent_list *l, uint64_t ino, unsigned char type, const char *name);
/* The same with a position cookie (see struct vdirent). */
int dirent_list_add_at(struct dirent_list *l, uint64_t off, uint64_t ino, unsigned char type,
		       const char *name);
/* Append all of src to dst. */
int dirent_list_copy(struct dirent_list *dst, const struct dirent_list *src);
void dirent_list_free(struct dirent_list *l);

/* What following a link yields (see fs_ops.get_link). */
struct vlink {
	enum { VLINK_PATH, VLINK_VNODE, VLINK_HOSTFD } kind;
	char *path;          /* VLINK_PATH: malloc'd target text */
	struct vnode *vnode; /* VLINK_VNODE: a new reference (magic link) */
	int hostfd;          /* VLINK_HOSTFD: an fd owned by the caller now;
				opening the link re-opens this (pipes, ttys) */
};

struct setattr {
	unsigned valid; /* SA_* */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	off_t size;
	struct timespec atime, mtime;
};
#define SA_MODE 0x1
#define SA_UID 0x2
#define SA_GID 0x4
#define SA_SIZE 0x8
#define SA_ATIME 0x10
#define SA_MTIME 0x20

/* Filesystem operations. All return 0 (or a length) or -errno. A NULL
 * mutation operation means the filesystem is read-only there: -EROFS.
 * "name" is always a single component, never "", "." or "..", never
 * containing '/'; the VFS has already checked that.
 * lookup, getattr, readlink, open and readdir may wait with the lock dropped
 * (vfs_block_begin): callers hold references on the vnodes they pass and
 * must not rely on other VFS state staying as it was across the call. */
struct fs_ops {
	const char *name;
	/* Children of a directory; *ret is a new reference. -ENOENT if absent. */
	int (*lookup)(struct vnode *dir, const char *name, struct vnode **ret);
	/* Attributes. st_dev is overwritten by the VFS with the mount's. */
	int (*getattr)(struct vnode *vn, struct stat *st);
	/* Text of a symlink (also what readlink on a magic link shows). */
	ssize_t (*readlink)(struct vnode *vn, char *buf, size_t len);
	/* What a path walk finds when it follows the link. NULL: use readlink's
	 * text as a path. */
	int (*get_link)(struct vnode *vn, struct vlink *ret);
	/* A host fd for the guest, for anything but directories (the VFS gives
	 * directories placeholders). flags are the guest's open flags, already
	 * checked against the mount and permissions. */
	int (*open)(struct vnode *vn, int flags, int *ret_fd);
	/* The entries of a directory, without "." and ".." (the VFS adds them). */
	int (*readdir)(struct vnode *dir, struct dirent_list *out);
	int (*create)(struct vnode *dir, const char *name, mode_t mode, const struct cred *c,
		      struct vnode **ret);
	/* Create and open in one step (Linux's atomic_open), for filesystems
	 * whose creates are round trips that hand back an fd anyway (rw gofer
	 * binds). flags are the guest's open flags (O_CREAT|O_EXCL implied).
	 * NULL: create, then open. */
	int (*create_open)(struct vnode *dir, const char *name, mode_t mode, int flags,
			   const struct cred *c, struct vnode **ret, int *ret_fd);
	int (*mkdir)(struct vnode *dir, const char *name, mode_t mode, const struct cred *c);
	int (*mknod)(struct vnode *dir, const char *name, mode_t mode, dev_t dev, const struct cred *c);
	int (*symlink)(struct vnode *dir, const char *name, const char *target, const struct cred *c);
	int (*link)(struct vnode *dir, const char *name, struct vnode *target);
	int (*unlink)(struct vnode *dir, const char *name);
	int (*rmdir)(struct vnode *dir, const char *name);
	int (*rename)(struct vnode *odir, const char *oname, struct vnode *ndir, const char *nname,
		      unsigned flags /* RENAME_NOREPLACE | RENAME_EXCHANGE */);
	int (*setattr)(struct vnode *vn, const struct setattr *sa);
	/* statfs for the mount this vnode is in; NULL: the VFS makes one up. */
	int (*statfs)(struct vnode *vn, struct statfs *st);
	/* The host file's attributes that MNT_HOSTPERM is checked against when
	 * they are not getattr's: an overlay shows its upper copy, but what
	 * the guest may read of the host is decided by the lower (host) file.
	 * 0 with *st filled; 1 when the vnode stands for no host file (nothing
	 * to check); -errno. Writes never reach a host file through such a
	 * filesystem, so only R_OK and X_OK are checked against it. NULL: the
	 * mount's MNT_HOSTPERM applies to getattr's attributes. */
	int (*host_getattr)(struct vnode *vn, struct stat *st);
	/* Extended attributes (NULL: none stored; set/remove give -EOPNOTSUPP).
	 * get/list: with len 0 the size needed, else the bytes written or
	 * -ERANGE; list gives NUL-terminated names. The VFS checked the name
	 * (1..255 bytes) and the caller's access. */
	ssize_t (*getxattr)(struct vnode *vn, const char *name, void *buf, size_t len);
	ssize_t (*listxattr)(struct vnode *vn, char *buf, size_t len);
	int (*setxattr)(struct vnode *vn, const char *name, const void *val, size_t len, int flags);
	int (*removexattr)(struct vnode *vn, const char *name);
	/* Is the dentry cache's answer for dir/name still the host's? vn is the
	 * cached vnode, or NULL for a negative entry. 1: keep it; 0: stale (the
	 * VFS drops it and looks up again); -errno. NULL: always kept. Called
	 * on every cache hit, so it must be cheap (rw gofer binds: one
	 * fstatat in the sentry, no gofer round trip). */
	int (*revalidate)(struct vnode *dir, const char *name, struct vnode *vn);
	/* inotify (sentry/fs/notify.c): a new O_PATH fd of the host object
	 * whose own inotify events are this vnode's (a tmpfs file's store
	 * file, a tmpfs FIFO, a file or directory of an rw bind), or
	 * -EOPNOTSUPP when there is none: the vnode then gets a stand-in.
	 * May drop the sentry lock (a gofer walk). NULL: none. */
	int (*notify_host)(struct vnode *vn);
	/* For a directory of an overlay's upper layer: the overlay's vnode for
	 * it (weak; NULL if none now). The overlay hands its upper files out
	 * as themselves, so their parent is such a directory: a path shows
	 * the overlay's instead (vfs_path_parent). NULL: never one. */
	struct vnode *(*shadow)(const struct vnode *dir);
	/* Last reference dropped: free fs-private state. */
	void (*release)(struct vnode *vn);
	/* Do lookups go through the dentry cache? (false for procfs, whose
	 * answers depend on the caller, and tmpfs, whose tree is the truth.) */
	bool cache_lookups;
};

struct vnode {
	uint32_t refcnt;
	enum vtype type;
	uint64_t ino;                 /* sandbox inode number */
	const struct fs_ops *ops;
	struct mount *mnt;            /* the mount this vnode belongs to */
	struct vnode *parent;         /* reference held; NULL for a fs root */
	char *name;                   /* name in parent (malloc'd), "/" for a root */
	struct mount *mounted;        /* a mount on top of this vnode, or NULL */
	void *priv;                   /* filesystem private */
	bool unlinked;                /* removed from its parent (getcwd shows " (deleted)") */
	struct dentry *dentries;      /* dentry cache entries under this directory */
	struct vnotify *notify;       /* inotify stand-ins (sentry/fs/notify.c), usually NULL */
};

#define MNT_RDONLY 0x1
#define MNT_NOEXEC 0x2
#define MNT_NOSUID 0x4
#define MNT_NODEV 0x8
/* Host system files (the default view, --rootfs /): besides the guest's own
 * credentials, access needs the file's "other" permission bits, as for an
 * unprivileged host user. The guest's root is root of the sandbox, not of
 * the host: a root-only host file (a key, a password, a hard link to one)
 * stays unreadable inside unless the user binds it. */
#define MNT_HOSTPERM 0x10
/* Not part of the sandbox's mount table: the mounts of an overlay's lower
 * tree, reached only through the overlay. Never listed in /proc/mounts,
 * never the root mount. */
#define MNT_DETACHED 0x20

struct mount {
	struct vnode *root;       /* root of the mounted fs */
	struct vnode *mountpoint; /* vnode covered, in parent; NULL for "/" */
	struct mount *parent;     /* NULL for the root mount */
	unsigned flags;           /* MNT_* */
	dev_t dev;                /* st_dev shown for this mount */
	char *source;             /* for /proc/mounts */
	const char *fstype;       /* for /proc/mounts */
	struct mount *next;       /* all mounts, in mount order */
};

/* Waiting inside a filesystem: vfs_block_begin() drops the lock the VFS is
 * called with, vfs_block_end() takes it back. The kernel core installs the
 * pair (vfs_set_block_ops), so the VFS and filesystems need not know what
 * the lock is; with none installed (unit tests without the sentry) both do
 * nothing. */
void vfs_set_block_ops(void (*begin)(void), void (*end)(void));
void vfs_block_begin(void);
void vfs_block_end(void);
/* Before a wait that only another guest task can end (a FIFO open waiting
 * for its other end): may this thread wait so? false on the ptrace
 * platform's tracer thread, which must keep serving the other tasks: the
 * caller then fails at once, without side effects, and the request is
 * handed to a worker to run again from the start (sentry_may_wait). */
void vfs_set_wait_check(bool (*may_wait)(void));
bool vfs_may_wait(void);

/* The guest call this thread serves: vfs_call_begin() gives it a new
 * number (the dispatcher, for each notification), vfs_call_id() tells it
 * (0 outside any). A filesystem that read an object's attributes from the
 * host during the current call need not read them again in the same call
 * (an rw bind's lookup revalidates each name, then stat asked again). */
void vfs_call_begin(void);
uint64_t vfs_call_id(void);

/* vnode allocation and references */
struct vnode *vn_alloc(const struct fs_ops *ops, struct mount *mnt, enum vtype type, uint64_t ino,
		       struct vnode *parent, const char *name);
struct vnode *vn_ref(struct vnode *vn);
void vn_unref(struct vnode *vn);
/* Point vn->parent/name at (dir, name) after a rename; takes ownership of
 * name (allocated first, so that callers can do it before they commit). */
void vn_set_name(struct vnode *vn, struct vnode *dir, char *name);
uint64_t vfs_next_ino(void); /* fresh sandbox inode numbers for synthesized files */

/* Dentry cache: (parent, name) -> child, hashed with xxHash. Holds a reference
 * on the child; negative entries (child NULL) remember -ENOENT. Bounded: an
 * insert may evict cold entries and so release vnodes nobody else holds
 * (dcache.c). A vnode's entries go when it is released. */
struct vnode *dcache_lookup(struct vnode *dir, const char *name, bool *ret_negative);
int dcache_insert(struct vnode *dir, const char *name, struct vnode *child /* NULL: negative */);
void dcache_remove(struct vnode *dir, const char *name);
void dcache_remove_children(struct vnode *dir);
void dcache_stats(size_t *ret_positive, size_t *ret_negative);

/* Mount table */
struct mount *vfs_root_mount(void);
/* Create a mount of root on top of mountpoint (NULL mountpoint: the root
 * mount, only once; with MNT_DETACHED, the root of a detached tree, any
 * number of times). Takes over the caller's reference to root. */
int vfs_mount(struct vnode *root, struct vnode *mountpoint, unsigned flags, const char *source,
	      const char *fstype, struct mount **ret);
struct mount *vfs_mounts(void); /* first of the list */
dev_t vfs_new_dev(void);

/* Lookup of one component with mount crossing, "." and "..". `root` is the
 * caller's root: ".." never leaves it. *ret is a new reference. */
int vfs_lookup_one(struct vnode *root, struct vnode *dir, const char *name, struct vnode **ret);

/* Attribute helper: getattr with st_dev from the mount. */
int vfs_getattr(struct vnode *vn, struct stat *st);

/* The path of vn as seen from root, into buf. Returns length or -errno
 * (-ENAMETOOLONG). Appends " (deleted)" for unlinked vnodes when asked. */
ssize_t vfs_path(struct vnode *root, struct vnode *vn, char *buf, size_t len, bool deleted_suffix);
/* The parent vn shows in a path: vn->parent, or for an upper file an
 * overlay hands out as itself (its parent an upper directory), the
 * overlay's directory (fs_ops.shadow). */
struct vnode *vfs_path_parent(const struct vnode *vn);
/* Is vn in the tree under top (through mounts, up to their mountpoints)?
 * (namei.c) */
bool vfs_is_beneath(struct vnode *vn, struct vnode *top);

/* Host (dev, ino) -> vnode, for translating host answers (fstat, maps,
 * /proc/self/fd) about fds moat handed out. The map holds a reference.
 * vfs_hostino_add: for filesystems whose objects are bounded by their own
 * limits (tmpfs, devfs); kept while the vnode lives. vfs_hostino_cache: for
 * the unbounded rest (host files of the gofer fs); kept up to
 * HOSTINO_CACHE_MAX, least recently used first out. Losing an entry only
 * makes fstat of a long-untouched guest fd show the host's device (never
 * more of the host than the guest's fd itself can reveal). */
void vfs_hostino_add(dev_t dev, ino_t ino, struct vnode *vn);
void vfs_hostino_cache(dev_t dev, ino_t ino, struct vnode *vn);
size_t vfs_hostino_count(void);
struct vnode *vfs_hostino_lookup(dev_t dev, ino_t ino); /* borrowed */
