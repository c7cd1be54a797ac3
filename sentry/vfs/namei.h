/* SPDX-License-Identifier: MIT */
/* Path resolution in the sentry's VFS (after the kernel's fs/namei.c: all
 * walk state in one struct). Never leaves the task's root: ".." at the root
 * stays there, and absolute symlinks restart at the root. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include "sentry/vfs/vfs.h"

struct task;

#define LOOKUP_FOLLOW 0x01      /* follow a trailing symlink */
#define LOOKUP_DIRECTORY 0x02   /* the result must be a directory (also: trailing '/') */
#define LOOKUP_PARENT 0x04      /* stop at the parent; nd->last is the final name */
#define LOOKUP_EMPTY 0x08       /* "" means the start directory itself (AT_EMPTY_PATH) */
#define LOOKUP_NO_SYMLINKS 0x10 /* openat2 RESOLVE_NO_SYMLINKS */
#define LOOKUP_BENEATH 0x20     /* openat2 RESOLVE_BENEATH */
#define LOOKUP_IN_ROOT 0x40     /* openat2 RESOLVE_IN_ROOT */
#define LOOKUP_NO_MAGICLINKS 0x80
#define LOOKUP_NO_XDEV 0x100

#define MOAT_MAX_SYMLINKS 40

struct nameidata {
	struct vnode *root;     /* reference: where ".." and "/" stop */
	struct vnode *vn;       /* result (reference), NULL with LOOKUP_PARENT or
				   when a magic link gave a host fd */
	struct vnode *dir;      /* LOOKUP_PARENT: the parent (reference) */
	char last[NAME_MAX + 1];/* LOOKUP_PARENT: final component ("" for "/") */
	bool last_dot;          /* the final component was "." or ".." */
	bool trailing_slash;
	int hostfd;             /* a magic link (/proc/self/fd/N of a pipe) resolved
				   to this host fd; owned by nd; else -1 */
	unsigned nlinks;
};

/* Resolve `path` for task t, relative to dirfd (AT_FDCWD or a guest fd).
 * On success fills nd (release with nd_release); on failure leaves it
 * empty (releasing it does nothing). Returns 0 or -errno. */
int namei(struct task *t, int dirfd, const char *path, unsigned flags, struct nameidata *nd);
/* Same with an explicit start vnode (tests, exec). */
int namei_at(struct vnode *root, struct vnode *start, const char *path, unsigned flags,
	     struct nameidata *nd);
void nd_release(struct nameidata *nd);

/* Permission check against a vnode's attributes for cred c: mask of
 * R_OK/W_OK/X_OK. 0 or -EACCES. Root bypasses r/w, and x if any x bit is set. */
struct cred;
int vfs_permission(struct vnode *vn, const struct cred *c, int mask);
