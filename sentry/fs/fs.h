/* SPDX-License-Identifier: MIT */
/* Constructors of the sentry's filesystems. Each returns the root vnode of a
 * new instance (a new reference) to be mounted with vfs_mount(). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "sentry/vfs/vfs.h"

struct gofer_client;

/* Gofer-backed host directory: export idx of the gofer. Lookups of names in
 * `masks` (paths relative to the export root) give -ENOENT and are left out
 * of listings. */
int gofer_fs_new(struct gofer_client *gc, uint32_t idx, const char *const *masks, size_t nmasks,
		 struct vnode **ret_root);
/* Show only these names (a static, NULL-terminated list) at the root of a
 * gofer fs; the rest are absent, as masked paths are. Before any lookup. */
int gofer_fs_set_allow(struct vnode *root, const char *const *names);
/* A single-file bind's export (gofer/setup.c): its root is the gofer's
 * read-only directory holding the file, writable if rw. */
int gofer_fs_set_file_bind(struct vnode *root, bool rw);
/* An rw bind: the gofer creates as uid:gid on the host, which the guest
 * sees as its root (gofer.c, gofs_map_ids). Before any lookup. */
int gofer_fs_set_owner(struct vnode *root, uid_t uid, gid_t gid);
/* st: the host's attributes of vn's file as the guest's open fd on it just
 * showed them. For a file of a writable export, kept as its attributes
 * (its size and times change through the guest's fds, and an unlinked
 * one has no name to look again by). No-op for anything else. */
void gofer_fs_fresh_attrs(struct vnode *vn, const struct stat *st);
/* The sentry is confining itself: keep the host's system-wide /proc files
 * procfs needs open, and from now on find processes in pid_only_proc (an
 * O_PATH fd of a procfs mounted with subset=pid, taken over). */
int procfs_confine(int pid_only_proc);

/* tmpfs stores (tmpstore.c): a detached host tmpfs of `bytes` whose root
 * belongs to uid:gid, holding the data of the sandbox's in-memory files,
 * so the host kernel enforces the size on every write (ENOSPC). *ret is
 * NULL, with 0, where no store can be made (files are then memfds). */
struct tmpfs_store;
int tmpfs_store_new(uint64_t bytes, uid_t uid, gid_t gid, struct tmpfs_store **ret);
struct tmpfs_store *tmpfs_store_ref(struct tmpfs_store *s);
void tmpfs_store_unref(struct tmpfs_store *s);
/* A new, nameless file in the store, open read-write. */
int tmpfs_store_file(struct tmpfs_store *s);
int tmpfs_store_usage(struct tmpfs_store *s, uint64_t *ret_total, uint64_t *ret_free);
/* The store's directory of inotify stand-ins (notify.c), made on first
 * use: an O_PATH fd the store keeps. */
int tmpfs_store_notify_dir(struct tmpfs_store *s);
/* The store of tmpfs vnode vn's instance, and the default one (borrowed;
 * NULL: memfds). */
struct tmpfs_store *tmpfs_store_of(const struct vnode *vn);
struct tmpfs_store *tmpfs_default_store(void);
/* The host fd of a tmpfs regular file (its store file, O_RDONLY) or FIFO
 * (O_PATH); -1 for anything else or once the file is gone. Borrowed. */
int tmpfs_host_fd(const struct vnode *vn);
/* The store tmpfs instances made from now on keep their files in (a
 * reference is taken; NULL: memfds). The sandbox's disk (--disk). */
void tmpfs_set_default_store(struct tmpfs_store *s);
/* fn is called before an unlink, a rename over a file or a truncate in a
 * tmpfs with a store: a disk the guest filled is seen full before the call
 * frees it (sentry/sandbox/diskwatch.c). Lock held. */
void tmpfs_set_free_hook(void (*fn)(struct tmpfs_store *s));

/* tmpfs: files live in the instance's store, or are memfds. */
int tmpfs_new(mode_t root_mode, uid_t uid, gid_t gid, struct vnode **ret_root);
/* Build-time helpers for synthesized trees (the sandbox root, /dev):
 * they bypass the mount's read-only flag. */
/* tmpfs_add_dir gives back an existing directory of that name (ret may be NULL). */
int tmpfs_add_dir(struct vnode *dir, const char *name, mode_t mode, struct vnode **ret);
int tmpfs_add_symlink(struct vnode *dir, const char *name, const char *target);
/* Limits of the instance whose root is `root`: bytes (0: half of RAM, as the
 * kernel's default) and inodes (0: the default, 65536). Creation beyond
 * max_inodes and truncate growth beyond max_bytes give -ENOSPC; data written
 * through the guest's own fds is bounded only by the memory cgroup. */
int tmpfs_set_limits(struct vnode *root, uint64_t max_bytes, uint64_t max_inodes);
/* Keep the files of the instance whose root is `root` in store s instead
 * (a --tmpfs with its own size), before any file is made. */
int tmpfs_set_store(struct vnode *root, struct tmpfs_store *s);

/* The overlay's upper layer (overlay.c) is a tmpfs holding, as Linux's
 * overlayfs does in its upper filesystem, whiteouts (character devices 0/0,
 * which guests cannot make) and opaque directories, plus a weak pointer
 * from a directory to the overlay vnode wrapping it. */
int tmpfs_mkwhiteout(struct vnode *dir, const char *name);
bool tmpfs_is_whiteout(const struct vnode *vn);
void tmpfs_set_opaque(struct vnode *dir, bool opaque);
bool tmpfs_is_opaque(const struct vnode *dir);
struct vnode *tmpfs_shadow(const struct vnode *vn);
void tmpfs_set_shadow(struct vnode *vn, struct vnode *shadow);
bool tmpfs_is(const struct vnode *vn);

/* Inode numbers of objects an overlay made in its upper layer (overlay.c). */
#define FS_OVL_UPPER_BIT (1ULL << 63)

/* A gofer fs as an overlay's upper layer (--upper; gofer.c, "an overlay's
 * upper layer"): an rw export with its owner set. Whiteouts are character
 * devices 0/0, opaque directories carry user.overlay.opaque=y (overlayfs's
 * unprivileged format). The overlay looks names up with
 * gofer_fs_upper_lookup (through the dentry cache: one vnode per object
 * while cached); numbers are kept by host inode (gofer_fs_set_ino). The
 * functions that talk to the gofer drop the sentry lock. */
int gofer_fs_set_upper(struct vnode *root);
bool gofer_fs_is_upper(const struct vnode *vn);
int gofer_fs_upper_lookup(struct vnode *dir, const char *name, struct vnode **ret);
int gofer_fs_mkwhiteout(struct vnode *dir, const char *name);
bool gofer_fs_is_whiteout(const struct vnode *vn);
int gofer_fs_set_opaque(struct vnode *dir, bool opaque);
bool gofer_fs_is_opaque(const struct vnode *dir);
struct vnode *gofer_fs_shadow(const struct vnode *vn);
void gofer_fs_set_shadow(struct vnode *vn, struct vnode *shadow);
int gofer_fs_set_ino(struct vnode *vn, uint64_t ino);
int gofer_fs_rmdir(struct vnode *dir, const char *name);

/* overlay: a writable root made of a read-only lower tree (any vnode tree:
 * the gofer-served view, with its own detached mounts) under an in-memory
 * upper tmpfs; see overlay.c. Takes a reference on lower_root. */
int overlay_new(struct vnode *lower_root, struct vnode **ret_root);
/* The same with the upper layer on the host (--upper): upper_root is a
 * gofer fs root made gofer_fs_set_upper, empty but for what an earlier
 * overlay_new_host left there; the work directory is made in it (hidden
 * from the guest). Takes over the reference on upper_root. May drop the
 * sentry lock. */
int overlay_new_host(struct vnode *lower_root, struct vnode *upper_root, struct vnode **ret_root);
/* At the sandbox's end: remove the host upper layer's work directory if it
 * is empty (it is, unless a copy was cut short). May drop the lock. */
void overlay_finish(struct vnode *root);
/* The name of that work directory at the top of the upper layer. */
#define OVL_WORK_NAME ".moat-work"
/* The upper (tmpfs) vnode of an overlay vnode, if it has one; NULL for
 * anything else. Borrowed. */
struct vnode *overlay_upper(const struct vnode *vn);
bool overlay_is(const struct vnode *vn);

/* devfs: null, zero, full, random, urandom, tty, ptmx; fd, stdin,
 * stdout, stderr symlinks; pts (the sandbox's devpts instance); an empty
 * shm directory (a tmpfs is mounted there by the setup code). */
int devfs_new(struct vnode **ret_root);
/* An empty file NAME at the root, for a file to be mounted on (setup
 * only); *ret a new reference. -EEXIST if the name is taken. */
int devfs_add_spot(struct vnode *root, const char *name, struct vnode **ret);
bool devfs_is_root(const struct vnode *vn);
/* The sandbox's devpts instance (sentry/sandbox/console.c), behind ptmx and
 * pts; -1: none (ptmx gives ENOENT, pts is empty). Set before any guest
 * task runs; not owned. */
void devfs_set_devpts(int mnt);
/* Who the guest sees owning pty `index` (the command's, for -t; ptys the
 * guest makes belong to the opener of ptmx). */
void devfs_pty_set_owner(unsigned index, uid_t uid);

/* procfs: the sandbox's own /proc (see fs_procfs.c for what it holds). */
int procfs_new(struct vnode **ret_root);
/* A minimal read-only /sys (the CPUs the sandbox may use) and the
 * sandbox's cgroup at /sys/fs/cgroup (its limits), nothing of the host's
 * devices (sentry/fs/procfs/sysfs.c). */
int sysfs_new(struct vnode **ret_root);
int cgroupfs_new(struct vnode **ret_root);

/* For a vnode of a /proc/<pid> directory (what a guest may pass to
 * pidfd_send_signal as Linux allows): a pidfd of that process, checked to
 * still be sandbox pid <pid> after it was opened. -EBADF for any other
 * vnode, -ESRCH once the process is gone. */
int procfs_vnode_pidfd(struct vnode *vn, int *ret_pidfd);

/* Host pids of the sandbox's live processes, found by walking its process
 * tree from pid 1 (never the host's process list). *ret is malloc'd. */
int procfs_sandbox_pids(pid_t **ret, size_t *ret_n);

/* For handlers: a memfd holding `len` bytes of `data`, sealed read-only. */
int memfd_from_buf(const char *name, const void *data, size_t len);
