/* SPDX-License-Identifier: MIT */
/* inotify for changes made inside the sandbox (notify.c, and
 * docs/architecture.md "inotify"). The guest's inotify instance is a host
 * one; a watch is added on the host object that stands for the vnode, and
 * what the sentry does to vnodes that have no host object of their own is
 * done again to their stand-ins, so the host kernel reports it.
 *
 * The hooks are called by the syscall handlers after an operation
 * succeeded, with the sentry lock held; they cost a pointer test unless
 * something involved has a stand-in, and never fail (an event that cannot
 * be produced is lost, as under IN_Q_OVERFLOW's pressure). */
#pragma once
#include <stdbool.h>
#include "sentry/vfs/vfs.h"

/* A new O_PATH fd (the caller's) of the host object a watch on vn goes on:
 * its own host object (notify_host) or its stand-in, made on first use.
 * -ENOSPC beyond the stand-in limit. May drop the sentry lock (a gofer walk,
 * a directory listing); the caller holds a reference on vn. */
int vnotify_watch_fd(struct vnode *vn);

void vnotify__created(struct vnode *dir, const char *name);
void vnotify__removed(struct vnode *dir, const char *name, struct vnode *victim);
void vnotify__renamed(struct vnode *odir, const char *oname, struct vnode *ndir, const char *nname,
		      unsigned flags, struct vnode *src, struct vnode *dst);
void vnotify_attrib(struct vnode *vn, unsigned sa_valid);

/* name was made in dir (create, mkdir, mknod, symlink, link, bind). */
static inline void vnotify_created(struct vnode *dir, const char *name)
{
	if (dir->notify)
		vnotify__created(dir, name);
}

/* name, which was victim, was removed from dir (unlink, rmdir). */
static inline void vnotify_removed(struct vnode *dir, const char *name, struct vnode *victim)
{
	if (dir->notify || victim->notify)
		vnotify__removed(dir, name, victim);
}

/* odir/oname (src) was renamed to ndir/nname (replacing dst, or exchanged
 * with it under RENAME_EXCHANGE). */
static inline void vnotify_renamed(struct vnode *odir, const char *oname, struct vnode *ndir,
				   const char *nname, unsigned flags, struct vnode *src,
				   struct vnode *dst)
{
	if (odir->notify || ndir->notify || src->notify || (dst && dst->notify))
		vnotify__renamed(odir, oname, ndir, nname, flags, src, dst);
}

/* A new fd of tmpfs file vn (whose host fd is hostfd) opened through its
 * name in its directory's stand-in, so that the kernel reports what is done
 * through it to the directory's watches; -ENOENT where there is none. */
int vnotify_reopen(struct vnode *vn, int hostfd, int flags);

/* vn is being released (vfs.c). */
void vnotify_free(struct vnode *vn);
