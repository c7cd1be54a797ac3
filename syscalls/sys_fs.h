/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the file-system handlers (sys_stat.c, sys_dir.c,
 * sys_attr.c, sys_id.c): the credential checks (pure, so unit tests use them
 * without a running sentry) and thin wrappers over the VFS (sys_fs.c). */
#pragma once
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "common/cleanup.h"
#include "platform/platform.h"
#include "sentry/vfs/namei.h"
#include "sentry/vfs/ofd.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/vfs.h"

/* Cleanup attribute for a vnode reference (NULL allowed). */
void sys_vn_unrefp(struct vnode **p);

/* The capability model: the guest's "root" holds every capability, and,
 * like the kernel, capabilities follow the ids: euid 0 for the
 * non-filesystem ones (CAP_SETUID, CAP_SYS_CHROOT, CAP_SYS_ADMIN, ...),
 * fsuid 0 (cred_is_root) for the filesystem ones (CAP_CHOWN, CAP_FOWNER,
 * CAP_DAC_OVERRIDE, CAP_MKNOD, ...), which setfsuid() drops. */
bool cred_privileged(const struct cred *c);

/* Is gid the caller's filesystem gid or one of its supplementary groups? */
bool cred_in_group(const struct cred *c, gid_t gid);

/* Permission bits of a host stat for cred c (the same rules as
 * vfs_permission, for fds that are not sentry vnodes: pipes, sockets, the
 * guest's own memfds). mask is R_OK|W_OK|X_OK. 0 or -EACCES. */
int stat_permission(const struct stat *st, const struct cred *c, int mask);

/* Is vn on a read-only mount? Mutations then fail with -EROFS. */
bool vn_rdonly(const struct vnode *vn);

/* Same file? The dentry cache may hold more than one vnode for a file over
 * time, so compare identities, not only pointers. */
bool vn_same(const struct vnode *a, const struct vnode *b);

/* One step towards the global root: the parent, or for the root of a mount
 * the vnode it covers (so the caller sees the mountpoint next). NULL above
 * the global root. */
struct vnode *vn_up(const struct vnode *v);

/* Is v at or below dir (crossing mounts)? */
bool vn_is_under(const struct vnode *v, const struct vnode *dir);

/* What guest fd `fd` names, as a vnode (borrowed): 0 with *ret_vn NULL
 * when it is not a sentry object (pipe, socket, the guest's own memfd).
 * O_PATH placeholders give -EBADF unless allow_opath, as the kernel does
 * for calls that need a real open file. -EBADF for no such fd. */
int fd_vnode(struct task *t, int fd, bool allow_opath, struct vnode **ret_vn, struct stat *ret_st);

/* Forget what the dentry cache knows about dir/name after a mutation, for
 * filesystems that cache lookups (a negative entry after a create, a
 * positive one after an unlink or rename). */
void dcache_forget(struct vnode *dir, const char *name);

/* Copy a result out to the guest: all of it or -EFAULT. */
int sys_put(struct sysreq *r, uint64_t addr, const void *buf, size_t len);

/* Copy an argument struct in from the guest (once): all of it or -EFAULT. */
int sys_get(struct sysreq *r, uint64_t addr, void *buf, size_t len);

/* mknod and unlink of nd->last in nd->dir with the checks and errnos of the
 * syscalls (sys_dir.c), for bind of a path AF_UNIX socket (sys_unix.c). */
int sys_mknod_at(struct task *t, struct nameidata *nd, mode_t mode);
int sys_unlink_at(struct task *t, struct nameidata *nd);
