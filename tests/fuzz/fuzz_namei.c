/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the sentry's path walk (sentry/vfs/namei.c) over an
 * in-memory tree of the filesystems the guest's root is made of: tmpfs, a
 * second tmpfs mounted on it, and an overlay over a read-only lower tmpfs
 * (as the default root is, without the gofer). The guest chooses paths and
 * symlink targets, so the input gives both:
 *
 *   byte 0      LOOKUP_* flags (bit i: flag_bits[i])
 *   byte 1      the start directory (starts[])
 *   the rest    NUL-separated strings: the path, then up to FZ_LINKS
 *               symlink targets, made as /fz/l0, /fz/l1, ... for this walk
 *               (so "/fz/l0" with "l1" and "/fz/l0" makes a loop)
 *
 * A NUL in a guest path ends it (the sentry copies C strings), hence the
 * splitting. Besides what AddressSanitizer, UBSan and LeakSanitizer catch
 * and libFuzzer's -timeout (a walk that does not end), every walk must:
 *  - end at or under its root (the start with LOOKUP_IN_ROOT), and under
 *    the start with LOOKUP_BENEATH;
 *  - follow no symlink with LOOKUP_NO_SYMLINKS, and end on the start's
 *    mount with LOOKUP_NO_XDEV;
 *  - give a result whose path (vfs_path) resolves to the same file again;
 *  - leave every reference count of the tree as it found it.
 * Run by tests/fuzz/harness.sh. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/fs/fs.h"
#include "sentry/vfs/namei.h"
#include "sentry/vfs/vfs.h"

#define FZ_LINKS 4

static const unsigned flag_bits[8] = { LOOKUP_FOLLOW,   LOOKUP_DIRECTORY,   LOOKUP_PARENT,
				       LOOKUP_EMPTY,    LOOKUP_NO_SYMLINKS, LOOKUP_BENEATH,
				       LOOKUP_IN_ROOT,  LOOKUP_NO_XDEV };

/* The tree's tmpfs vnodes, to check their counts. (Not the overlay's or
 * its lower tree's: the dentry cache keeps what a walk looked up there.) */
static struct vnode *kept[64];
static size_t nkept, nkept_counted;
static uint32_t kept_ref[64];
static struct vnode *root, *fz;
static struct vnode *starts[8];
static size_t nstarts;

static void die(const char *what, int r)
{
	fprintf(stderr, "fuzz_namei: %s: %d\n", what, r);
	abort();
}

static struct vnode *keep(struct vnode *vn)
{
	if (nkept == sizeof(kept) / sizeof(kept[0]))
		die("keep", 0);
	kept[nkept++] = vn;
	return vn;
}

static struct vnode *dir(struct vnode *parent, const char *name)
{
	struct vnode *d;
	int r = tmpfs_add_dir(parent, name, 0755, &d);
	if (r < 0)
		die(name, r);
	return keep(d); /* the reference is the harness's for good */
}

static void link_(struct vnode *parent, const char *name, const char *target)
{
	int r = tmpfs_add_symlink(parent, name, target);
	if (r < 0)
		die(name, r);
}

static void file(struct vnode *parent, const char *name)
{
	struct vnode *f;
	int r = parent->ops->create(parent, name, S_IFREG | 0644, NULL, &f);
	if (r < 0)
		die(name, r);
	keep(f);
}

static struct vnode *lookup(const char *path)
{
	struct nameidata nd;
	int r = namei_at(root, root, path, LOOKUP_FOLLOW, &nd);
	if (r < 0)
		die(path, r);
	struct vnode *vn = vn_ref(nd.vn);
	nd_release(&nd);
	return vn;
}

/* Tree:
 *   /a/b/c, /a/up -> .., /a/abs -> /a/b, /a/b/c/esc -> ../../../../../..
 *   /loop -> loop, /dangling -> nowhere, /esc -> ../../../../a, /file
 *   /fz: the input's symlinks
 *   /mnt: a tmpfs with /x, /x/back -> ../.., /x/root -> /
 *   /ov: an overlay; lower /d/e, /d/up -> ../../.., /d/f, /l -> d */
static void setup(void)
{
	struct vnode *a, *b, *c, *mp, *sub, *x, *ovmp, *lower, *d, *ov;
	int r;
	if ((r = tmpfs_new(0755, 0, 0, &root)) < 0 ||
	    (r = vfs_mount(vn_ref(root), NULL, 0, "t", "tmpfs", NULL)) < 0)
		die("root", r);
	keep(root);
	a = dir(root, "a");
	b = dir(a, "b");
	c = dir(b, "c");
	link_(a, "up", "..");
	link_(a, "abs", "/a/b");
	link_(c, "esc", "../../../../../..");
	link_(root, "loop", "loop");
	link_(root, "dangling", "nowhere");
	link_(root, "esc", "../../../../a");
	file(root, "file");
	fz = dir(root, "fz");

	mp = dir(root, "mnt");
	if ((r = tmpfs_new(0755, 0, 0, &sub)) < 0 ||
	    (r = vfs_mount(vn_ref(sub), mp, 0, "s", "tmpfs", NULL)) < 0)
		die("mnt", r);
	keep(sub);
	x = dir(sub, "x");
	link_(x, "back", "../..");
	link_(x, "root", "/");

	ovmp = dir(root, "ov");
	nkept_counted = nkept;
	if ((r = tmpfs_new(0755, 0, 0, &lower)) < 0 ||
	    (r = vfs_mount(vn_ref(lower), NULL, MNT_RDONLY | MNT_DETACHED, "lower", "tmpfs", NULL)) < 0)
		die("lower", r);
	keep(lower);
	d = dir(lower, "d");
	dir(d, "e");
	link_(d, "up", "../../..");
	file(d, "f");
	link_(lower, "l", "d");
	if ((r = overlay_new(lower, &ov)) < 0 ||
	    (r = vfs_mount(vn_ref(ov), ovmp, 0, "overlay", "overlay", NULL)) < 0)
		die("overlay", r);
	keep(ov);

	starts[nstarts++] = root;
	starts[nstarts++] = a;
	starts[nstarts++] = c;
	starts[nstarts++] = x;
	starts[nstarts++] = fz;
	starts[nstarts++] = sub;
	starts[nstarts++] = lookup("/ov/d");
	starts[nstarts++] = lookup("/ov/d/e");
}

/* Is vn at or under top, by parents and mountpoints? (namei.c has its
 * own; this one is the harness's, so a shared mistake does not hide.) */
static bool under(const struct vnode *vn, const struct vnode *top)
{
	for (int depth = 0; vn && depth < 1000; depth++) {
		if (vn == top)
			return true;
		vn = vn->mnt && vn == vn->mnt->root ? vn->mnt->mountpoint : vn->parent;
	}
	return false;
}

static void check_result(const struct nameidata *nd, struct vnode *start, unsigned flags,
			 bool absolute)
{
	struct vnode *res = (flags & LOOKUP_PARENT) ? nd->dir : nd->vn;
	if (!res || nd->hostfd >= 0)
		die("no result", 0);
	if (!under(res, nd->root) || !under(res, root))
		die("outside the root", 0);
	if ((flags & LOOKUP_IN_ROOT) && nd->root != start)
		die("IN_ROOT root", 0);
	if ((flags & LOOKUP_BENEATH) && !under(res, start))
		die("outside the start with BENEATH", 0);
	if ((flags & LOOKUP_NO_SYMLINKS) && nd->nlinks)
		die("a symlink followed with NO_SYMLINKS", (int)nd->nlinks);
	if (nd->nlinks > MOAT_MAX_SYMLINKS)
		die("too many links", (int)nd->nlinks);
	/* RESOLVE_NO_XDEV: where the walk begins (the root for an absolute
	 * path, as the kernel allows) is where it ends. */
	if ((flags & LOOKUP_NO_XDEV) && res->mnt != (absolute ? nd->root : start)->mnt)
		die("another mount with NO_XDEV", 0);
	if (flags & LOOKUP_PARENT) {
		if (strlen(nd->last) > NAME_MAX || strchr(nd->last, '/'))
			die("PARENT name", 0);
		if (res->type != VDIR)
			die("PARENT not a directory", 0);
	}
	if (nd->trailing_slash && !(flags & LOOKUP_PARENT) && res->type != VDIR)
		die("trailing slash on a non-directory", 0);
	/* Its name, walked again from the same root, is the same file. */
	char path[PATH_MAX];
	ssize_t n = vfs_path(nd->root, res, path, sizeof(path), false);
	if (n < 0)
		die("vfs_path", (int)n);
	struct nameidata again;
	int r = namei_at(nd->root, nd->root, path, 0, &again);
	if (r < 0) {
		fprintf(stderr, "path %s\n", path);
		die("the result's path does not resolve", r);
	}
	if (again.vn->ino != res->ino || again.vn->mnt != res->mnt) {
		fprintf(stderr, "path %s\n", path);
		die("the result's path is another file", 0);
	}
	nd_release(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!root)
		setup();
	if (size < 2)
		return 0;
	unsigned flags = 0;
	for (int i = 0; i < 8; i++)
		if (data[0] & (1u << i))
			flags |= flag_bits[i];
	struct vnode *start = starts[data[1] % nstarts];
	/* The strings, each its own allocation so ASan sees overreads. */
	char *str[1 + FZ_LINKS] = { 0 };
	size_t nstr = 0;
	for (size_t off = 2; off <= size && nstr < 1 + FZ_LINKS;) {
		const uint8_t *end = memchr(data + off, 0, size - off);
		size_t len = end ? (size_t)(end - (data + off)) : size - off;
		str[nstr] = strndup((const char *)data + off, len);
		if (!str[nstr++])
			abort();
		off += len + 1;
	}
	char lname[8];
	for (size_t i = 1; i < nstr; i++) {
		snprintf(lname, sizeof(lname), "l%zu", i - 1);
		(void)tmpfs_add_symlink(fz, lname, str[i]); /* too long: not made */
	}
	for (size_t i = 0; i < nkept_counted; i++)
		kept_ref[i] = kept[i]->refcnt;

	struct nameidata nd;
	int r = namei_at(root, start, str[0], flags, &nd);
	if (r == 0) {
		check_result(&nd, start, flags, str[0][0] == '/');
		nd_release(&nd);
	} else if (r != -ENOENT && r != -ENOTDIR && r != -ELOOP && r != -EXDEV &&
		   r != -ENAMETOOLONG) {
		die("unexpected error", r);
	}

	for (size_t i = 0; i < nkept_counted; i++)
		if (kept[i]->refcnt != kept_ref[i])
			die("a reference count changed", (int)i);
	for (size_t i = 1; i < nstr; i++) {
		snprintf(lname, sizeof(lname), "l%zu", i - 1);
		(void)fz->ops->unlink(fz, lname);
	}
	for (size_t i = 0; i < nstr; i++)
		free(str[i]);
	return 0;
}
