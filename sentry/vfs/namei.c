/* SPDX-License-Identifier: MIT */
/* Path walk. All state lives in struct nameidata (as in the kernel's
 * fs/namei.c). One component at a time through vfs_lookup_one(), symlinks
 * expanded into a private buffer, ".." clamped at the task's root, and a
 * final check that the result is still under that root. */
#include "sentry/vfs/namei.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "sentry/vfs/ofd.h"
#include "sentry/kernel/task.h"

int vfs_permission(struct vnode *vn, const struct cred *c, int mask)
{
	if (!c || !mask)
		return 0;
	struct stat st;
	int r;
	if (vn->ops->host_getattr) {
		/* Host files under a layer of the sandbox's own (the overlay):
		 * reading and searching what the host file allows "other". */
		if ((r = vn->ops->host_getattr(vn, &st)) < 0)
			return r;
		if (r == 0 && ((unsigned)mask & (R_OK | X_OK) & ~(unsigned)(st.st_mode & 7)))
			return -EACCES;
	} else if (vn->mnt && (vn->mnt->flags & MNT_HOSTPERM)) {
		/* Host system files: what an unprivileged host user may do,
		 * whoever the guest is (see MNT_HOSTPERM). */
		if ((r = vfs_getattr(vn, &st)) < 0)
			return r;
		if ((unsigned)(mask & 7) & ~(unsigned)(st.st_mode & 7))
			return -EACCES;
	}
	if (cred_is_root(c) && (vn->type == VDIR || !(mask & X_OK)))
		return 0;
	if ((r = vfs_getattr(vn, &st)) < 0)
		return r;
	if (cred_is_root(c))
		return (st.st_mode & 0111) ? 0 : -EACCES;
	mode_t bits;
	if (st.st_uid == c->fsuid) {
		bits = (st.st_mode >> 6) & 7;
	} else {
		bool in_group = st.st_gid == c->fsgid;
		for (int i = 0; !in_group && i < c->ngroups; i++)
			in_group = st.st_gid == c->groups[i];
		bits = in_group ? (st.st_mode >> 3) & 7 : st.st_mode & 7;
	}
	return ((unsigned)mask & ~bits) ? -EACCES : 0;
}

void nd_release(struct nameidata *nd)
{
	vn_unref(nd->root);
	vn_unref(nd->vn);
	vn_unref(nd->dir);
	safe_close(nd->hostfd);
	nd->root = nd->vn = nd->dir = NULL;
	nd->hostfd = -1;
}

/* Replace the unwalked rest of the path (rest) with target + "/" + rest. */
static int splice_link(char *buf, size_t bufsz, const char *target, const char *rest)
{
	size_t tl = strlen(target), rl = strlen(rest);
	if (tl + 1 + rl + 1 > bufsz)
		return -ENAMETOOLONG;
	memmove(buf + tl + 1, rest, rl + 1);
	memcpy(buf, target, tl);
	buf[tl] = rl ? '/' : 0;
	return 0;
}

/* Is vn at or below top? Defence in depth after the walk. */
bool vfs_is_beneath(struct vnode *vn, struct vnode *top)
{
	for (struct vnode *cur = vn; cur;) {
		if (cur == top)
			return true;
		if (cur->mnt && cur == cur->mnt->root)
			cur = cur->mnt->mountpoint;
		else
			cur = vfs_path_parent(cur);
	}
	return false;
}

static int follow(struct nameidata *nd, struct vnode *link, char *buf, size_t bufsz,
		  const char *rest, struct vnode **cur, unsigned flags, bool is_last)
{
	if (flags & LOOKUP_NO_SYMLINKS)
		return -ELOOP;
	if (++nd->nlinks > MOAT_MAX_SYMLINKS)
		return -ELOOP;
	if (link->ops->get_link) {
		struct vlink vl = { .hostfd = -1 };
		int r = link->ops->get_link(link, &vl);
		if (r < 0)
			return r;
		if (vl.kind != VLINK_PATH && (flags & LOOKUP_NO_MAGICLINKS)) {
			vn_unref(vl.vnode);
			safe_close(vl.hostfd);
			return -ELOOP;
		}
		/* A magic link jumps anywhere: a scoped walk (BENEATH,
		 * IN_ROOT) refuses it, as Linux's nd_jump_link does. */
		if (vl.kind != VLINK_PATH && (flags & (LOOKUP_BENEATH | LOOKUP_IN_ROOT))) {
			vn_unref(vl.vnode);
			safe_close(vl.hostfd);
			return -EXDEV;
		}
		if (vl.kind == VLINK_VNODE) {
			if ((flags & LOOKUP_NO_XDEV) && vl.vnode->mnt != (*cur)->mnt) {
				vn_unref(vl.vnode);
				return -EXDEV;
			}
			vn_unref(*cur);
			*cur = vl.vnode;
			return splice_link(buf, bufsz, "", rest) < 0 ? -ENAMETOOLONG : 1;
		}
		if (vl.kind == VLINK_HOSTFD) {
			if (!is_last || (flags & LOOKUP_PARENT)) {
				safe_close(vl.hostfd);
				return -ENOTDIR;
			}
			nd->hostfd = vl.hostfd;
			return 2;
		}
		_cleanup_free_ char *target = vl.path;
		if (!target || !target[0])
			return -ENOENT;
		int sr = splice_link(buf, bufsz, target, rest);
		if (sr < 0)
			return sr;
	} else {
		char target[PATH_MAX];
		ssize_t n = link->ops->readlink ? link->ops->readlink(link, target, sizeof(target) - 1)
						: -EINVAL;
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -ENOENT;
		target[n] = 0;
		int sr = splice_link(buf, bufsz, target, rest);
		if (sr < 0)
			return sr;
	}
	if (buf[0] == '/') {
		/* RESOLVE_NO_XDEV: a jump to the root is a crossing when the
		 * root is on another mount (an absolute path given is not). */
		if ((flags & LOOKUP_BENEATH) || ((flags & LOOKUP_NO_XDEV) && nd->root->mnt != (*cur)->mnt))
			return -EXDEV;
		vn_unref(*cur);
		*cur = vn_ref(nd->root);
	}
	return 1;
}

static int walk(struct vnode *root, struct vnode *start, const char *path, unsigned flags,
		const struct cred *cred, struct nameidata *nd)
{
	*nd = (struct nameidata){ .hostfd = -1 };
	if (!path[0] && !(flags & LOOKUP_EMPTY))
		return -ENOENT;
	size_t plen = strlen(path);
	if (plen >= PATH_MAX)
		return -ENAMETOOLONG;
	/* RESOLVE_IN_ROOT: the start directory acts as the root. */
	nd->root = vn_ref((flags & LOOKUP_IN_ROOT) ? start : root);
	char buf[PATH_MAX * 2];
	memcpy(buf, path, plen + 1);
	struct vnode *cur = vn_ref(path[0] == '/' ? nd->root : start);
	if (path[0] == '/' && (flags & LOOKUP_BENEATH)) {
		vn_unref(cur);
		nd_release(nd);
		return -EXDEV;
	}
	nd->trailing_slash = plen > 0 && path[plen - 1] == '/';
	char *p = buf;
	int r = 0;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		char *end = strchrnul(p, '/');
		size_t nlen = end - p;
		if (nlen > NAME_MAX) {
			r = -ENAMETOOLONG;
			goto out;
		}
		char name[NAME_MAX + 1];
		memcpy(name, p, nlen);
		name[nlen] = 0;
		char *rest = end;
		while (*rest == '/')
			rest++;
		bool is_last = !*rest;
		bool trailing = is_last && *end == '/';
		if (cur->type != VDIR) {
			r = -ENOTDIR;
			goto out;
		}
		if ((r = vfs_permission(cur, cred, X_OK)) < 0)
			goto out;
		if (is_last && (flags & LOOKUP_PARENT)) {
			memcpy(nd->last, name, nlen + 1);
			nd->last_dot = !strcmp(name, ".") || !strcmp(name, "..");
			nd->trailing_slash = trailing;
			nd->dir = cur;
			return 0;
		}
		if ((flags & LOOKUP_BENEATH) && !strcmp(name, "..") && cur == start) {
			r = -EXDEV;
			goto out;
		}
		struct vnode *next;
		if ((r = vfs_lookup_one(nd->root, cur, name, &next)) < 0)
			goto out;
		/* As the kernel: ".." out of a mount's root crosses it too. */
		if ((flags & LOOKUP_NO_XDEV) && next->mnt != cur->mnt) {
			vn_unref(next);
			r = -EXDEV;
			goto out;
		}
		if (next->type == VLNK && (!is_last || trailing || (flags & LOOKUP_FOLLOW))) {
			/* The link's target text replaces it: cur stays the dir. */
			char restcopy[PATH_MAX * 2];
			snprintf(restcopy, sizeof(restcopy), "%s%s", rest, trailing ? "/" : "");
			r = follow(nd, next, buf, sizeof(buf), restcopy, &cur, flags, is_last);
			vn_unref(next);
			if (r < 0)
				goto out;
			if (r == 2) { /* a host fd: the walk ends here */
				vn_unref(cur);
				return 0;
			}
			p = buf;
			continue;
		}
		vn_unref(cur);
		cur = next;
		p = rest;
	}
	if (flags & LOOKUP_PARENT) {
		/* "/" or "": no final component. */
		nd->last[0] = 0;
		nd->dir = cur;
		return 0;
	}
	if ((nd->trailing_slash || (flags & LOOKUP_DIRECTORY)) && cur->type != VDIR) {
		r = -ENOTDIR;
		goto out;
	}
	if (!vfs_is_beneath(cur, nd->root) && cur->mnt && cur->mnt->mountpoint) {
		r = -EXDEV;
		goto out;
	}
	nd->vn = cur;
	return 0;
out:
	vn_unref(cur);
	nd_release(nd);
	return r;
}

int namei_at(struct vnode *root, struct vnode *start, const char *path, unsigned flags,
	     struct nameidata *nd)
{
	return walk(root, start, path, flags, NULL, nd);
}

int namei(struct task *t, int dirfd, const char *path, unsigned flags, struct nameidata *nd)
{
	/* Empty before any way out: callers release nd whatever the result
	 * (do_open does), and a bad dirfd returns before walk() fills it. */
	*nd = (struct nameidata){ .hostfd = -1 };
	struct vnode *start = t->fs->cwd;
	struct vnode *vn = NULL;
	if (path[0] != '/' && dirfd != AT_FDCWD) {
		struct ofd *ofd = NULL;
		int r = ofd_from_guest(t, dirfd, &ofd, &vn, NULL);
		if (r < 0)
			return r;
		if (!vn)
			/* A pipe, socket or the guest's own memfd: nothing to walk from. */
			return path[0] ? -ENOTDIR : -EBADF;
		if (vn->type != VDIR && path[0])
			return -ENOTDIR;
		start = vn;
	}
	return walk(t->fs->root, start, path, flags, t->cred, nd);
}
